//! `pki guide` never prints code an attacker controls (issue 23, finding 1): devices with
//! hostile but valid ids (`x$(id)`, quotes, `*?!`), a CA directory whose path holds a newline,
//! `*/`, quotes, `\u000a`, `??/` and non-ASCII; every snippet for every SDK is checked by the
//! real tool that reads it (bash, python3's parser, node, javac's parser, a C compiler), and
//! each value is carried unchanged: the shell's words as the commands receive them, each
//! language's string literals as the language reads them. Ids outside Azure's rule, and hubs
//! and gateways that are no host names, are refused in one line.

use std::collections::BTreeSet;
use std::path::Path;

use crate::support::programs;
use crate::support::{pki, refused_in_one_line, tmp};

/// The CA directory: a newline ends a `//` or `#` comment, `*/` a C comment, `\u000a` is a
/// line break to Java's lexer, `??/` a C trigraph, and quotes end literals.
const DIR: &str = "ca\n*/\"'$(id)\\u000a??/é";

/// Ids Azure allows that mean something to a shell or a language.
const IDS: &[&str] = &["x$(id)", "a'b", "q'(x),:=@", "w*?!%_-.$'"];

/// The CA directory with a gateway and a device for each id.
fn setup() -> tempfile::TempDir {
    let dir = tmp();
    let d = dir.path();
    pki(d, &["--dir", DIR, "create-owner-ca"]).expect(0);
    pki(d, &["--dir", DIR, "issue", "server", "gw.test"]).expect(0);
    for id in IDS {
        let r = pki(d, &["--dir", DIR, "issue", "device", id]).expect(0);
        // The command it points at, pasted into bash, passes the id unchanged.
        let line = r
            .stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix("SDK snippets: "))
            .unwrap_or_else(|| panic!("no SDK snippets line:\n{}", r.stdout));
        let command = line.split(" --sdk ").next().unwrap_or_default();
        assert_eq!(shell_words(d, command), vec!["pki", "guide", id], "{line}");
    }
    dir
}

/// The arguments every command of `script` is run with, run by bash with each command a
/// function that records its arguments (nothing of the script runs but these).
fn shell_words(dir: &Path, script: &str) -> Vec<String> {
    let record = "rec() { printf '%s\\0' \"$@\"; }\n\
                  pki() { rec pki \"$@\"; }\n\
                  sudo() { \"$@\"; }\n\
                  install() { rec install \"$@\"; }\n\
                  tedge() { rec tedge \"$@\"; }\n\
                  mosquitto_pub() { rec mosquitto_pub \"$@\"; }\n";
    let out = programs::command("bash")
        .current_dir(dir)
        .env("C8Y_USER", "user")
        .env("IOTHUB_SAS_TOKEN", "token")
        .arg("-c")
        .arg(format!("{record}{script}"))
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{script}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .split_terminator('\0')
        .map(str::to_owned)
        .collect()
}

/// `bash -n`: the script parses.
fn bash_parses(dir: &Path, file: &Path) {
    let out = programs::command("bash")
        .current_dir(dir)
        .arg("-n")
        .arg(file)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The lines of a snippet's comments that are `pki`, `sudo` or `tedge` commands (what the
/// reader is told to run), without the comment marker.
fn commands_in_comments(snippet: &str, marker: &str) -> String {
    let mut script = String::new();
    for line in snippet.lines() {
        let Some(rest) = line.strip_prefix(marker) else {
            continue;
        };
        let rest = rest.trim_start();
        if ["pki ", "sudo "].iter().any(|p| rest.starts_with(p)) {
            script += rest;
            script.push('\n');
        } else if let Some((_, inner)) = rest.split_once("`pki ") {
            // "Trust the root: `pki install-ca ... --os-store` (...)".
            let inner = inner.split('`').next().unwrap_or_default();
            script += &format!("pki {inner}\n");
        }
    }
    script
}

/// The double-quoted literals of a C-like snippet as they are written (escapes kept), in
/// order: `//` comments skipped; single-quoted strings skipped when `single` (JavaScript).
fn literals(src: &str, single: bool) -> Vec<String> {
    let b = src.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            q @ (b'"' | b'\'') if q == b'"' || single => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != q {
                    assert_ne!(b[i], b'\n', "a line break in a literal:\n{src}");
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                if q == b'"' {
                    found.push(src[start..=i].to_owned());
                }
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// The values of JavaScript (or C#, whose escapes pki writes are JavaScript's) literals, as
/// node reads them.
fn node_values(dir: &Path, lits: &[String]) -> Vec<String> {
    let out = programs::command("node")
        .current_dir(dir)
        .arg("-e")
        .arg(format!(
            "process.stdout.write(JSON.stringify([{}]))",
            lits.join(",")
        ))
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON list")
}

/// `node --check`: the program parses.
fn node_parses(dir: &Path, file: &Path) {
    let out = programs::command("node")
        .current_dir(dir)
        .arg("--check")
        .arg(file)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Python's parser on the file: it parses, and the values of its string constants.
fn python_values(dir: &Path, file: &Path) -> Vec<String> {
    let out = programs::command("python3")
        .current_dir(dir)
        .arg("-c")
        .arg(
            "import ast, json, sys\n\
             tree = ast.parse(open(sys.argv[1], encoding='utf-8').read())\n\
             print(json.dumps([n.value for n in ast.walk(tree) \
             if isinstance(n, ast.Constant) and isinstance(n.value, str)]))",
        )
        .arg(file)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON list")
}

/// What the C snippet names from the Azure IoT C SDK's headers (iothub_device_client_ll.h,
/// iothubtransportmqtt.h), declared so that the snippet compiles without them, and the PEM
/// strings it names.
const C_PRELUDE: &str = "#include <stdio.h>\n\
    typedef void *IOTHUB_DEVICE_CLIENT_LL_HANDLE;\n\
    typedef int (*IOTHUB_CLIENT_TRANSPORT_PROVIDER)(void);\n\
    static int MQTT_Protocol(void) { return 0; }\n\
    static IOTHUB_DEVICE_CLIENT_LL_HANDLE IoTHubDeviceClient_LL_CreateFromConnectionString(\n\
        const char *cs, IOTHUB_CLIENT_TRANSPORT_PROVIDER p) { (void)cs; (void)p; return 0; }\n\
    static int IoTHubDeviceClient_LL_SetOption(IOTHUB_DEVICE_CLIENT_LL_HANDLE c, const char *o,\n\
        const void *v) { (void)c; (void)o; (void)v; return 0; }\n\
    #define OPTION_TRUSTED_CERT \"TrustedCerts\"\n\
    #define OPTION_X509_CERT \"x509certificate\"\n\
    #define OPTION_X509_PRIVATE_KEY \"x509privatekey\"\n\
    static const char *trusted_root = \"\", *x509_certificate = \"\", *x509_private_key = \"\";\n";

/// The C snippet compiled (trigraphs read, every warning an error) in a program that prints
/// its literals, the ones in its comments too: their values as the compiler reads them.
fn c_values(dir: &Path, snippet: &str, n: usize) -> Vec<String> {
    let lits = literals(snippet, false);
    let src = format!(
        "{C_PRELUDE}int main(void) {{\n{snippet}\n\
         static const char *lits[] = {{ {} }};\n\
         (void)client; (void)trusted_root; (void)x509_certificate; (void)x509_private_key;\n\
         for (unsigned i = 0; i < sizeof lits / sizeof *lits; i++) {{ fputs(lits[i], stdout); putchar(0); }}\n\
         return 0;\n}}\n",
        lits.join(", ")
    );
    let file = dir.join(format!("snippet{n}.c"));
    let exe = dir.join(format!("snippet{n}"));
    std::fs::write(&file, &src).unwrap();
    let out = programs::command("cc")
        .current_dir(dir)
        .args([
            "-std=c11",
            "-trigraphs",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-o",
        ])
        .arg(&exe)
        .arg(&file)
        .output()
        .expect("cc runs");
    assert!(
        out.status.success(),
        "{src}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    #[allow(clippy::disallowed_methods)] // the program this test just compiled
    let out = std::process::Command::new(&exe).output().expect("it runs");
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .split_terminator('\0')
        .map(str::to_owned)
        .collect()
}

/// Reads a Java snippet (statements) with javac's own parser (a method's body), and prints
/// the value of every string literal: the SDK's classes are not needed to parse.
const JAVA_PARSER: &str = r#"
import com.sun.source.tree.*;
import com.sun.source.util.*;
import javax.tools.*;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.*;
import java.util.*;

public class GuideLiterals {
  public static void main(String[] args) throws Exception {
    String src = "class Snippet { void run() throws Exception {\n"
        + Files.readString(Path.of(args[0])) + "\n} }\n";
    JavaFileObject file = new SimpleJavaFileObject(URI.create("string:///Snippet.java"),
        JavaFileObject.Kind.SOURCE) {
      @Override public CharSequence getCharContent(boolean ignore) { return src; }
    };
    DiagnosticCollector<JavaFileObject> diags = new DiagnosticCollector<>();
    JavacTask task = (JavacTask) ToolProvider.getSystemJavaCompiler()
        .getTask(null, null, diags, List.of("-proc:none"), null, List.of(file));
    Iterable<? extends CompilationUnitTree> units = task.parse();
    boolean bad = false;
    for (Diagnostic<? extends JavaFileObject> d : diags.getDiagnostics()) {
      System.err.println(d);
      bad |= d.getKind() == Diagnostic.Kind.ERROR;
    }
    if (bad) System.exit(1);
    StringBuilder out = new StringBuilder();
    new TreeScanner<Void, Void>() {
      @Override public Void visitLiteral(LiteralTree t, Void v) {
        if (t.getValue() instanceof String) out.append((String) t.getValue()).append('\0');
        return null;
      }
    }.scan(units, null);
    PrintStream ps = new PrintStream(System.out, true, "UTF-8");
    ps.print(out);
    ps.flush();
  }
}
"#;

/// Java's parser on the file: it parses, and the values of its string literals.
fn java_values(dir: &Path, file: &Path) -> Vec<String> {
    let parser = dir.join("GuideLiterals.java");
    if !parser.exists() {
        std::fs::write(&parser, JAVA_PARSER).unwrap();
    }
    let out = programs::command("java")
        .current_dir(dir)
        .arg(&parser)
        .arg(file)
        .output()
        .expect("java runs");
    assert!(
        out.status.success(),
        "{}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .split_terminator('\0')
        .map(str::to_owned)
        .collect()
}

#[track_caller]
fn carries(values: &[String], expected: &[&str], what: &str) {
    let have: BTreeSet<&str> = values.iter().map(String::as_str).collect();
    for e in expected {
        assert!(have.contains(e), "{what}: {e:?} not among {values:#?}");
    }
    assert!(
        values.iter().all(|v| !v.contains("uid=")),
        "{what}: a command ran: {values:#?}"
    );
}

#[test]
fn every_snippet_parses_and_carries_every_value_unchanged() {
    let dir = setup();
    let d = dir.path();
    let scratch = tmp();
    let s = scratch.path();
    let hub = "YOUR-HUB.azure-devices.net";
    let gw = "gw.test";
    let mut n = 0;
    for id in IDS {
        for auth in ["x509", "sas"] {
            for (sdk, extra) in [
                ("python", None),
                ("node", None),
                ("c", None),
                ("dotnet", None),
                ("java", None),
                ("mosquitto", None),
                ("tedge", Some("azure")),
                ("tedge", Some("c8y")),
            ] {
                n += 1;
                let mut args = vec!["--dir", DIR, "guide", id, "--sdk", sdk, "--auth", auth];
                if let Some(cloud) = extra {
                    args.extend(["--cloud", cloud]);
                }
                let what = format!("{args:?}");
                let text = pki(d, &args).expect(0).stdout;
                assert!(
                    text.bytes()
                        .all(|b| b == b'\n' || (0x20..0x7f).contains(&b)),
                    "{what}: not printable ASCII:\n{text}"
                );
                let mut json_args = vec!["--json"];
                json_args.extend(&args);
                let report = pki(d, &json_args).expect(0).json();
                assert_eq!(report["snippet"].as_str(), Some(text.as_str()), "{what}");
                let file = |k: &str| report["files"][k].as_str().unwrap_or_default().to_owned();
                let (root, chain, key) = (file("root"), file("chain"), file("key"));
                if sdk != "tedge" || extra == Some("azure") {
                    assert!(root.contains(DIR), "{what}: {root}");
                }
                let hello = format!("hello from {id}");
                let x509 = auth == "x509";
                match sdk {
                    "python" => {
                        let f = s.join(format!("s{n}.py"));
                        std::fs::write(&f, &text).unwrap();
                        let v = python_values(s, &f);
                        if x509 {
                            carries(&v, &[&root, &chain, &key, hub, id, gw], &what);
                        } else {
                            carries(&v, &[&root, id], &what);
                        }
                    }
                    "node" => {
                        let f = s.join(format!("s{n}.js"));
                        std::fs::write(&f, &text).unwrap();
                        node_parses(s, &f);
                        let v = node_values(s, &literals(&text, true));
                        if x509 {
                            carries(&v, &[&root, &chain, &key, hub, id, gw], &what);
                        } else {
                            carries(&v, &[&root, id], &what);
                        }
                    }
                    "c" => {
                        let v = c_values(s, &text, n);
                        if x509 {
                            let cs = format!(
                                "HostName={hub};DeviceId={id};x509=true;GatewayHostName={gw}"
                            );
                            carries(&v, &[&cs, &root, &chain, &key], &what);
                        } else {
                            carries(&v, &[&root], &what);
                        }
                    }
                    "dotnet" => {
                        let v = node_values(s, &literals(&text, false));
                        let words = shell_words(s, &commands_in_comments(&text, "//"));
                        let pfx = format!("{id}.pfx");
                        if x509 {
                            carries(&v, &[&pfx, id, hub, gw, &hello], &what);
                            carries(&words, &[&chain, &pfx, &root], &what);
                        } else {
                            carries(&v, &[&hello], &what);
                            carries(&words, &[&root], &what);
                        }
                    }
                    "java" => {
                        let f = s.join(format!("s{n}.java.txt"));
                        std::fs::write(&f, &text).unwrap();
                        let v = java_values(s, &f);
                        let words = shell_words(s, &commands_in_comments(&text, "//"));
                        let p12 = format!("{id}.p12");
                        if x509 {
                            let cs = format!(
                                "HostName={hub};DeviceId={id};x509=true;GatewayHostName={gw}"
                            );
                            carries(&v, &[&p12, &cs, &hello], &what);
                            carries(&words, &[&chain, &p12, &root], &what);
                        } else {
                            carries(&v, &[&hello], &what);
                            carries(&words, &[&root], &what);
                        }
                    }
                    _ => {
                        // mosquitto and tedge: shell.
                        let f = s.join(format!("s{n}.sh"));
                        std::fs::write(&f, &text).unwrap();
                        bash_parses(s, &f);
                        let mut words = shell_words(s, &text);
                        words.extend(shell_words(s, &commands_in_comments(&text, "#")));
                        let expected: Vec<&str> = match (sdk, x509, extra) {
                            ("mosquitto", true, _) => vec![&root, &chain, &key, id, gw, &hello],
                            ("mosquitto", false, _) => vec![&root, id, gw, &hello],
                            (_, true, Some("azure")) => vec![&root, &chain, &key, gw],
                            (_, true, _) => vec![&chain, &key],
                            (_, false, _) => vec![id],
                        };
                        carries(&words, &expected, &what);
                    }
                }
            }
        }
    }
}

#[test]
fn ids_outside_azures_rule_are_refused_saying_the_rule() {
    let dir = tmp();
    let d = dir.path();
    pki(d, &["create-owner-ca"]).expect(0);
    for bad in [
        "q\"(x)", "a\\b", "a b", "a;b", "a`b", ".hidden", "..", "a/b",
    ] {
        for args in [
            vec!["issue", "device", "--", bad],
            vec!["self-signed", "--", bad],
        ] {
            let r = pki(d, &args);
            refused_in_one_line(&r, &args, "is not a valid device id");
            assert!(r.stderr.contains("Azure IoT Hub's rule"), "{}", r.stderr);
        }
    }
}

#[test]
fn hubs_and_gateways_that_are_no_host_names_are_refused() {
    let dir = tmp();
    let d = dir.path();
    pki(d, &["create-owner-ca"]).expect(0);
    pki(d, &["issue", "device", "dev-1"]).expect(0);
    for bad in [
        "h\");system(\"id\");//",
        "a b",
        "x'y",
        "*.wild.test",
        "h\nx",
    ] {
        for flag in ["--hub", "--gateway"] {
            let mut args = vec!["guide", "dev-1", "--sdk", "c", flag, bad];
            if flag == "--hub" {
                args.extend(["--gateway", "gw.test"]);
            }
            let r = pki(d, &args);
            refused_in_one_line(&r, &args, &format!("{flag} "));
            assert!(r.stdout.is_empty(), "{}", r.stdout);
        }
    }
    // An IP address is a gateway.
    let r = pki(
        d,
        &["guide", "dev-1", "--sdk", "c", "--gateway", "10.1.2.3"],
    )
    .expect(0);
    assert!(
        r.stdout.contains("GatewayHostName=10.1.2.3"),
        "{}",
        r.stdout
    );
}
