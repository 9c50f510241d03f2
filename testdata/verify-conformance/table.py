#!/usr/bin/env python3
"""Fills the README's case table with what the real `openssl verify` says of every case.

Standard library only. For each row of cases.tsv it runs `openssl verify` the way
pki-verify/tests/openssl_oracle.rs does (only the case's anchors, the sent certificates as
-untrusted, the case's options), then again at -auth_level 1 and 2, and with -x509_strict, and
writes every printed `error N at D depth lookup` as `N at D` (or OK). The table goes between the
README's `<!-- table -->` and `<!-- /table -->` lines; pki-verify/tests/conformance.rs reads the
`openssl verify` column back and fails when the installed OpenSSL says something else.

Usage: table.py            (rewrites README.md next to this script)
       table.py --check    (exits 1 when README.md's table is not what openssl says now)
"""

import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ERROR = re.compile(r"^error (\d+) at (\d+) depth lookup: ")


def options(case):
    """The case's case.txt as `openssl verify` arguments, and the options as a dict."""
    opts = dict(line.split("=", 1) for line in (HERE / case / "case.txt").read_text().splitlines() if "=" in line)
    args = ["-attime", opts["attime"]]
    for key, flag in [
        ("purpose", "-purpose"),
        ("hostname", "-verify_hostname"),
        ("ip", "-verify_ip"),
        ("auth_level", "-auth_level"),
    ]:
        if key in opts:
            args += [flag, opts[key]]
    return args, opts


def openssl_verify(case, args):
    """Every `error N at D` that `openssl verify` prints, as `N at D`, comma-separated; or OK."""
    d = HERE / case
    cmd = ["openssl", "verify", "-no-CApath", "-no-CAstore"]
    cmd += ["-CAfile", str(d / "ca.pem")] if (d / "ca.pem").stat().st_size else ["-no-CAfile"]
    if (d / "chain.pem").stat().st_size:
        cmd += ["-untrusted", str(d / "chain.pem")]
    out = subprocess.run(cmd + args + [str(d / "leaf.pem")], capture_output=True, text=True, check=False)
    errors = [f"{m[1]} at {m[2]}" for m in map(ERROR.match, (out.stdout + out.stderr).splitlines()) if m]
    if errors:
        return ", ".join(errors)
    if out.returncode == 0 and ": OK" in out.stdout:
        return "OK"
    sys.exit(f"{case}: openssl verify printed neither OK nor an error:\n{out.stdout}{out.stderr}")


def at_level(args, level):
    """The arguments with -auth_level replaced by `level`."""
    out = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a == "-auth_level":
            skip = True
            continue
        out.append(a)
    return out + ["-auth_level", str(level)]


def table():
    rows = [line.split("\t") for line in (HERE / "cases.tsv").read_text().splitlines()[1:]]
    lines = [
        "| case | what it is | options | `openssl verify` | `-auth_level 1` | `-auth_level 2` |",
        "|---|---|---|---|---|---|",
    ]
    strict = []
    current = None
    for case, cls, what in rows:
        if cls != current:
            lines.append(f"| **{cls}** | | | | | |")
            current = cls
        args, opts = options(case)
        shown = ", ".join(f"{k}={v}" for k, v in opts.items() if k != "attime")
        base = openssl_verify(case, args)
        l1 = openssl_verify(case, at_level(args, 1))
        l2 = openssl_verify(case, at_level(args, 2))
        lines.append(f"| `{case}` | {what} | {shown} | {base} | {l1} | {l2} |")
        with_strict = openssl_verify(case, args + ["-x509_strict"])
        if with_strict != base:
            strict.append(f"| `{case}` | {base} | {with_strict} |")
    lines += [
        "",
        "Where `-x509_strict` changes the answer (not a case option: pki has no strict mode):",
        "",
        "| case | `openssl verify` | with `-x509_strict` |",
        "|---|---|---|",
    ] + strict
    return "\n".join(lines) + "\n"


def main():
    readme = (HERE / "README.md").read_text()
    head, rest = readme.split("<!-- table -->\n", 1)
    _, tail = rest.split("<!-- /table -->\n", 1)
    new = head + "<!-- table -->\n" + table() + "<!-- /table -->\n" + tail
    if "--check" in sys.argv[1:]:
        if new != readme:
            sys.exit("README.md's table differs from what openssl says now: run table.py")
        return
    (HERE / "README.md").write_text(new)


if __name__ == "__main__":
    main()
