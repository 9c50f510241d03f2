//! `pki guide` never prints code an attacker controls (issue 23, finding 1): devices with
//! hostile but valid ids (`x$(id)`, quotes, `*?!`), a CA directory whose path holds a newline,
//! `*/`, quotes, `\u000a`, `??/` and non-ASCII; every snippet for every SDK is checked by the
//! real tool that reads it (bash, python3's parser, node, javac's parser, a C compiler), and
//! each value is carried unchanged: the shell's words as the commands receive them, each
//! language's string literals as the language reads them. A property test: the fixed values
//! above are case 0, then arbitrary ids, hubs, gateways and directories from a seeded
//! generator (`PKI_GUIDE_SEED=N` reproduces a failure, `PKI_GUIDE_CASES=N` runs more cases;
//! every failure names its seed and case). Ids outside Azure's rule, and hubs and gateways
//! that are no host names, are refused in one line.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::support::programs;
use crate::support::{one_error_line, pki, refused_in_one_line, tmp};

/// The arguments every command of `script` is run with, run by bash with each command a
/// function that records its arguments (nothing of the script runs but these).
fn shell_words(dir: &Path, script: &str, what: &str) -> Vec<String> {
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
        "{what}:\n{script}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .split_terminator('\0')
        .map(str::to_owned)
        .collect()
}

/// `bash -n`: the script parses.
fn bash_parses(dir: &Path, file: &Path, what: &str) {
    let out = programs::command("bash")
        .current_dir(dir)
        .arg("-n")
        .arg(file)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{what}: {}: {}",
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
            // "Trust the root: `pki install-ca ... --os-store` (...)": the command ends at the
            // first backquote outside the shell's quotes (a quoted path may hold one).
            script += &format!("pki {}\n", up_to_unquoted_backquote(inner));
        }
    }
    script
}

/// `s` up to its first backquote that is outside shell quotes (`'...'`, `$'...'` with its
/// backslash escapes, `"..."`).
fn up_to_unquoted_backquote(s: &str) -> &str {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'`' => return &s[..i],
            b'\\' => i += 1,
            b'$' if b.get(i + 1) == Some(&b'\'') => {
                i += 2;
                while i < b.len() && b[i] != b'\'' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += if q == b'"' && b[i] == b'\\' { 2 } else { 1 };
                }
            }
            _ => {}
        }
        i += 1;
    }
    s
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

/// What the C snippet names from the Azure IoT C SDK's headers (iothub_device_client_ll.h,
/// iothubtransportmqtt.h), declared so that the snippet compiles without them, the PEM
/// strings it names, and `dump`, which prints a list of strings as one line of hex words.
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
    static const char *trusted_root = \"\", *x509_certificate = \"\", *x509_private_key = \"\";\n\
    static void dump(const char *const *l) {\n\
        fputs(\"ok\", stdout);\n\
        for (; *l; l++) {\n\
            putchar(' ');\n\
            for (const unsigned char *p = (const unsigned char *)*l; *p; p++) printf(\"%02x\", *p);\n\
        }\n\
        putchar('\\n');\n\
    }\n";

/// Reads Java snippets (statements) with javac's own parser (a method's body), one file an
/// argument, and prints a line a file: `ok` and the UTF-8 hex of each string literal's value,
/// or `error` and the hex of javac's diagnostics. The SDK's classes are not needed to parse.
const JAVA_PARSER: &str = r#"
import com.sun.source.tree.*;
import com.sun.source.util.*;
import javax.tools.*;
import java.io.*;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;

public class GuideLiterals {
  static String hex(String s) {
    StringBuilder b = new StringBuilder();
    for (byte x : s.getBytes(StandardCharsets.UTF_8)) b.append(String.format("%02x", x & 0xff));
    return b.toString();
  }

  public static void main(String[] args) throws Exception {
    PrintStream ps = new PrintStream(new FileOutputStream(FileDescriptor.out), false, "US-ASCII");
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    for (String name : args) {
      String src = "class Snippet { void run() throws Exception {\n"
          + Files.readString(Path.of(name)) + "\n} }\n";
      JavaFileObject file = new SimpleJavaFileObject(URI.create("string:///Snippet.java"),
          JavaFileObject.Kind.SOURCE) {
        @Override public CharSequence getCharContent(boolean ignore) { return src; }
      };
      DiagnosticCollector<JavaFileObject> diags = new DiagnosticCollector<>();
      JavacTask task = (JavacTask) javac.getTask(null, null, diags, List.of("-proc:none"), null,
          List.of(file));
      Iterable<? extends CompilationUnitTree> units = task.parse();
      StringBuilder errors = new StringBuilder();
      for (Diagnostic<? extends JavaFileObject> d : diags.getDiagnostics()) {
        if (d.getKind() == Diagnostic.Kind.ERROR) errors.append(d).append('\n');
      }
      if (errors.length() > 0) {
        ps.println("error " + hex(errors.toString()));
        continue;
      }
      StringBuilder out = new StringBuilder("ok");
      new TreeScanner<Void, Void>() {
        @Override public Void visitLiteral(LiteralTree t, Void v) {
          if (t.getValue() instanceof String) out.append(' ').append(hex((String) t.getValue()));
          return null;
        }
      }.scan(units, null);
      ps.println(out);
    }
    ps.flush();
  }
}
"#;

/// Python's compiler on each file (`compile`, then its parser for the values of the string
/// constants): a JSON list with an object a file, `{"values": [...]}` or `{"error": "..."}`.
const PYTHON_READER: &str = "import ast, json, sys\n\
    out = []\n\
    for name in sys.argv[1:]:\n\
    \x20   src = open(name, encoding='utf-8').read()\n\
    \x20   try:\n\
    \x20       compile(src, name, 'exec')\n\
    \x20       tree = ast.parse(src)\n\
    \x20   except SyntaxError as e:\n\
    \x20       out.append({'error': repr(e)})\n\
    \x20       continue\n\
    \x20   out.append({'values': [n.value for n in ast.walk(tree)\n\
    \x20       if isinstance(n, ast.Constant) and isinstance(n.value, str)]})\n\
    print(json.dumps(out))\n";

/// Node on a list of jobs (a JSON file: `[{"file": PATH or null, "lits": [...]}]`): each file
/// compiled as `node --check` compiles a CommonJS file (wrapped in the module function, not
/// run), and the literals evaluated; a JSON list with an object a job, `{"values": [...]}`
/// or `{"error": "..."}`. One node for all the snippets instead of one a snippet.
const NODE_READER: &str = "const fs = require('fs'), vm = require('vm'), M = require('module');\n\
    const jobs = JSON.parse(fs.readFileSync(process.argv[1], 'utf8'));\n\
    process.stdout.write(JSON.stringify(jobs.map((j) => {\n\
    \x20 try {\n\
    \x20   if (j.file) new vm.Script(M.wrap(fs.readFileSync(j.file, 'utf8')), { filename: j.file });\n\
    \x20   return { values: vm.runInNewContext('[' + j.lits.join(',') + ']') };\n\
    \x20 } catch (e) { return { error: String(e) }; }\n\
    })));\n";

/// The values a reader found in one snippet, or why it could not read it.
type Read = Result<Vec<String>, String>;

/// A UTF-8 string from hex.
fn unhex(h: &str) -> String {
    let bytes: Vec<u8> = (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).expect("hex"))
        .collect();
    String::from_utf8(bytes).expect("utf-8")
}

/// Lines of `ok HEX HEX...` / `error HEX`, one a snippet.
fn hex_lines(out: &[u8], n: usize) -> Vec<Read> {
    let text = String::from_utf8_lossy(out);
    let reads: Vec<Read> = text
        .lines()
        .map(|l| match l.strip_prefix("error ") {
            Some(e) => Err(unhex(e)),
            None => Ok(l.split(' ').skip(1).map(unhex).collect()),
        })
        .collect();
    assert_eq!(reads.len(), n, "one line a snippet:\n{text}");
    reads
}

/// `{"values": [...]}` / `{"error": "..."}` objects, one a snippet.
fn json_reads(out: &std::process::Output, n: usize) -> Vec<Read> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("a JSON list");
    assert_eq!(list.len(), n);
    list.iter()
        .map(|r| match r["values"].as_array() {
            Some(v) => Ok(v
                .iter()
                .map(|s| s.as_str().expect("a string").to_owned())
                .collect()),
            None => Err(r["error"].to_string()),
        })
        .collect()
}

/// What one snippet must carry: the values a reader finds in it.
struct Expect {
    what: String,
    values: Vec<String>,
}

/// The snippets of every case, read by one run of each tool.
#[derive(Default)]
struct Batch {
    python: Vec<(PathBuf, Expect)>,
    /// The file to check (none: literals only, C#'s) and its literals.
    node: Vec<(Option<PathBuf>, Vec<String>, Expect)>,
    c: Vec<(String, Expect)>,
    java: Vec<(PathBuf, Expect)>,
}

impl Batch {
    fn run(self, dir: &Path) {
        let files: Vec<&PathBuf> = self.python.iter().map(|(f, _)| f).collect();
        let out = programs::command("python3")
            .current_dir(dir)
            .arg("-c")
            .arg(PYTHON_READER)
            .args(&files)
            .output()
            .expect("python3 runs");
        let reads = json_reads(&out, files.len());
        check_reads("python3 compile", reads, self.python.iter().map(|(_, e)| e));

        let jobs: Vec<serde_json::Value> = self
            .node
            .iter()
            .map(|(f, lits, _)| serde_json::json!({"file": f, "lits": lits}))
            .collect();
        let jobs_file = dir.join("node-jobs.json");
        std::fs::write(&jobs_file, serde_json::to_vec(&jobs).unwrap()).unwrap();
        let out = programs::command("node")
            .current_dir(dir)
            .arg("-e")
            .arg(NODE_READER)
            .arg(&jobs_file)
            .output()
            .expect("node runs");
        let reads = json_reads(&out, jobs.len());
        check_reads("node", reads, self.node.iter().map(|(_, _, e)| e));

        let reads = c_values(dir, &self.c);
        check_reads("cc", reads, self.c.iter().map(|(_, e)| e));

        let reads = java_values(dir, &self.java);
        check_reads("javac's parser", reads, self.java.iter().map(|(_, e)| e));
    }
}

#[track_caller]
fn check_reads<'a>(tool: &str, reads: Vec<Read>, expects: impl Iterator<Item = &'a Expect>) {
    for (read, e) in reads.into_iter().zip(expects) {
        match read {
            Ok(v) => carries(&v, &e.values, &e.what),
            Err(err) => panic!("{}: {tool} cannot read the snippet: {err}", e.what),
        }
    }
}

/// The C snippets compiled (trigraphs read, every warning an error) in one program, a function
/// each that prints its literals, the ones in its comments too: their values as the compiler
/// reads them. A snippet that does not compile is named by its `#line` file name.
fn c_values(dir: &Path, snippets: &[(String, Expect)]) -> Vec<Read> {
    let mut src = C_PRELUDE.to_owned();
    for (i, (snippet, _)) in snippets.iter().enumerate() {
        let mut lits = literals(snippet, false);
        lits.push("0".into());
        src += &format!(
            "static void snippet_{i}(void) {{\n#line 1 \"snippet-{i}.c\"\n{snippet}\n\
             static const char *const lits[] = {{ {} }};\n\
             (void)client; (void)trusted_root; (void)x509_certificate; (void)x509_private_key;\n\
             dump(lits);\n}}\n",
            lits.join(", ")
        );
    }
    src += "int main(void) {\n";
    for i in 0..snippets.len() {
        src += &format!("snippet_{i}();\n");
    }
    src += "return 0;\n}\n";
    let file = dir.join("snippets.c");
    let exe = dir.join("snippets");
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
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let at = |(i, (snippet, e)): (usize, &(String, Expect))| {
            err.contains(&format!("snippet-{i}.c:"))
                .then(|| format!("{}:\n{snippet}", e.what))
        };
        let bad: Vec<String> = snippets.iter().enumerate().filter_map(at).collect();
        panic!("cc cannot compile {}\n{err}", bad.join("\n\n"));
    }
    #[allow(clippy::disallowed_methods)] // the program this test just compiled
    let out = std::process::Command::new(&exe).output().expect("it runs");
    assert!(out.status.success());
    hex_lines(&out.stdout, snippets.len())
}

/// Java's parser on each file: it parses, and the values of its string literals.
fn java_values(dir: &Path, files: &[(PathBuf, Expect)]) -> Vec<Read> {
    let parser = dir.join("GuideLiterals.java");
    std::fs::write(&parser, JAVA_PARSER).unwrap();
    let classes = dir.join("classes");
    let out = programs::command("javac")
        .current_dir(dir)
        .arg("-d")
        .arg(&classes)
        .arg(&parser)
        .output()
        .expect("javac runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = programs::command("java")
        .current_dir(dir)
        .arg("-cp")
        .arg(&classes)
        .arg("GuideLiterals")
        .args(files.iter().map(|(f, _)| f))
        .output()
        .expect("java runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    hex_lines(&out.stdout, files.len())
}

#[track_caller]
fn carries(values: &[String], expected: &[impl AsRef<str>], what: &str) {
    let have: BTreeSet<&str> = values.iter().map(String::as_str).collect();
    for e in expected {
        let e = e.as_ref();
        assert!(have.contains(e), "{what}: {e:?} not among {values:#?}");
    }
    assert!(
        values.iter().all(|v| !v.contains("uid=")),
        "{what}: a command ran: {values:#?}"
    );
}

/// splitmix64: a small deterministic generator, so that a failing case is reproduced from its
/// seed alone.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// 0..n.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// lo..=hi.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    fn percent(&mut self, p: usize) -> bool {
        self.below(100) < p
    }

    fn pick<'a, T: ?Sized>(&mut self, xs: &[&'a T]) -> &'a T {
        xs[self.below(xs.len())]
    }

    fn pick_char(&mut self, chars: &str) -> char {
        let chars: Vec<char> = chars.chars().collect();
        chars[self.below(chars.len())]
    }
}

/// The seed of the cases: `PKI_GUIDE_SEED` (decimal or 0x-hex) to reproduce a failure, else a
/// fixed one.
fn guide_seed() -> u64 {
    match std::env::var("PKI_GUIDE_SEED") {
        Ok(s) => {
            let s = s.trim();
            let n = match s.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(h, 16),
                None => s.parse(),
            };
            n.unwrap_or_else(|_| panic!("PKI_GUIDE_SEED={s:?} is no number"))
        }
        Err(_) => 0x23_6e1d_e5af,
    }
}

/// How many cases (the fixed one included): `PKI_GUIDE_CASES`, else [`CASES`].
fn guide_cases() -> usize {
    std::env::var("PKI_GUIDE_CASES")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(CASES)
}

/// About 0.8 s a case on a busy two-core machine: some 40 s.
const CASES: usize = 48;

/// The characters of an id (Azure IoT Hub's rule, `validate_device_id`).
const ID_CHARS: &str =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.%_*?!(),:=@$'";

/// Runs of id characters that mean something to a shell or a language.
const ID_RUNS: &[&str] = &[
    "$", "'", "(", ")", "*", "?", "!", "$(", "$(id)", "'$(id)'", "??", "??=", "??)", "??(", "??!",
    "''", "$'", "*?", "!!", "$$", "%s", "%n", "(,)", ":=", "@(", "=$(", "*.*", "'$'",
];

/// Within Azure's rule, as the brief words it (not pki's own check, which is under test).
fn in_id_rule(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id.chars().all(|c| ID_CHARS.contains(c))
        && !id.starts_with(['.', '-'])
}

/// An id within the rule, biased toward the characters that are dangerous in code.
fn arbitrary_id(rng: &mut Rng) -> String {
    let len = match rng.below(10) {
        0 => rng.range(100, 128),
        1 | 2 => rng.range(11, 40),
        _ => rng.range(1, 10),
    };
    let mut id = String::new();
    while id.len() < len {
        if rng.percent(50) {
            id += rng.pick(ID_RUNS);
        } else {
            id.push(rng.pick_char(ID_CHARS));
        }
    }
    if id.starts_with(['.', '-']) {
        id.replace_range(
            ..1,
            rng.pick(&["x", "$", "'", "(", "*", "?", "!", "%", "_"]),
        );
    }
    id.truncate(len);
    assert!(in_id_rule(&id), "{id:?}");
    id
}

/// An id outside the rule: one character no id may hold, a leading dot or dash, none at all,
/// or too many.
fn id_outside_rule(rng: &mut Rng) -> String {
    let mut id = arbitrary_id(rng);
    id.truncate(rng.range(1, 20));
    match rng.below(6) {
        0 => format!(".{id}"),
        1 => format!("-{id}"),
        2 => String::new(),
        3 => "a".repeat(rng.range(129, 300)),
        _ => {
            let bad = rng.pick(&[
                " ", "\"", "\\", ";", "`", "/", "\n", "\t", "\r", "é", "<", ">", "|", "&", "#",
                "~", "^", "[", "]", "{", "}", "+", "\u{1b}", "\u{7f}", "\u{2028}", "😀",
            ]);
            let at = rng.range(0, id.len());
            id.insert_str(at, bad);
            id
        }
    }
}

/// A host name (labels of letters, digits, `-` and `_`, not all digits at the end) or an IP
/// address, as `pki guide` takes for `--hub` and `--gateway`.
fn arbitrary_host(rng: &mut Rng) -> String {
    match rng.below(10) {
        0 | 1 => {
            let o: Vec<String> = (0..4).map(|_| rng.below(256).to_string()).collect();
            o.join(".")
        }
        2 => {
            let words: [u16; 8] = std::array::from_fn(|_| {
                if rng.percent(50) {
                    0
                } else {
                    rng.next() as u16
                }
            });
            let ip = std::net::Ipv6Addr::from(words);
            if rng.percent(30) {
                words.map(|w| format!("{w:x}")).join(":")
            } else {
                ip.to_string()
            }
        }
        3 => rng
            .pick(&["::1", "::", "::ffff:10.1.2.3", "fe80::1", "0.0.0.0"])
            .to_owned(),
        _ => {
            const LABEL: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
            let labels: Vec<String> = (0..rng.range(1, 4))
                .map(|_| {
                    let len = if rng.percent(5) { 63 } else { rng.range(1, 12) };
                    let mut l: String = (0..len).map(|_| rng.pick_char(LABEL)).collect();
                    for end in [0, l.len() - 1] {
                        if l.as_bytes()[end] == b'-' {
                            l.replace_range(end..=end, "x");
                        }
                    }
                    l
                })
                .collect();
            let mut host = labels.join(".");
            if host
                .rsplit('.')
                .next()
                .unwrap()
                .bytes()
                .all(|b| b.is_ascii_digit())
            {
                host.push('z');
            }
            host
        }
    }
}

/// Runs a path may hold that end a comment, a literal or a line, or escape in some language.
const DIR_RUNS: &[&str] = &[
    "\n",
    "\r",
    "\t",
    "*/",
    "/*",
    "??/",
    "??=",
    "??'",
    "\\",
    "\\u000a",
    "\\u0022",
    "\\n",
    "\\x",
    "\"",
    "'",
    "$(id)",
    "`id`",
    "${x}",
    "$'",
    "//",
    "#",
    "%s",
    "{}",
    "\u{1b}[31m",
    "\u{7f}",
    "\u{85}",
    "\u{2028}",
    "\u{2029}",
    "\u{202e}",
    "é",
    "😀",
    "\u{feff}",
    " ",
    "-",
    "~",
    "!",
    ";",
    "&",
    "|",
    "<",
    ">",
    "*",
    "?",
    "[",
    "]",
    "'\\''",
    "\"\"\"",
    "'''",
    "\u{1}",
    "\u{a0}",
];

/// A character a path may hold: printable ASCII, a control character or any Unicode scalar.
fn arbitrary_path_char(rng: &mut Rng) -> char {
    let c = match rng.below(10) {
        0..=3 => rng.range(0x20, 0x7e) as u32,
        4 | 5 => rng.range(1, 0x1f) as u32,
        6 => rng.range(0x80, 0x7ff) as u32,
        7 | 8 => rng.range(0x800, 0xffff) as u32,
        _ => rng.range(0x1_0000, 0x10_ffff) as u32,
    };
    char::from_u32(c)
        .filter(|&c| c != '/')
        .unwrap_or('\u{fffd}')
}

/// A relative CA directory (one to three names of arbitrary characters: anything but NUL and
/// `/`, and never `.` nor `..`), biased toward the runs that break code.
fn arbitrary_dir(rng: &mut Rng) -> String {
    let len = if rng.percent(10) {
        rng.range(60, 120)
    } else {
        rng.range(1, 24)
    };
    let mut dir = String::new();
    while dir.chars().count() < len {
        if rng.percent(45) {
            dir += rng.pick(DIR_RUNS);
        } else {
            dir.push(arbitrary_path_char(rng));
        }
    }
    let names: Vec<String> = dir
        .split('/')
        .filter(|n| !n.is_empty())
        .map(|n| match n {
            "." | ".." => format!("{n}x"),
            n => n.to_owned(),
        })
        .collect();
    if names.is_empty() {
        "d".to_owned()
    } else {
        names.join("/")
    }
}

/// One case of the property: a CA directory, its devices, and the hub and gateway the guide
/// is given (none: the default hub, the register's gateway).
#[derive(Debug)]
struct Case {
    dir: String,
    ids: Vec<String>,
    hub: Option<String>,
    gateway: Option<String>,
}

impl Case {
    /// The fixed values: a CA directory whose path holds a newline (it ends a `//` or `#`
    /// comment), `*/` (a C comment), `\u000a` (a line break to Java's lexer), `??/` (a C
    /// trigraph), quotes and non-ASCII; ids Azure allows that mean something to a shell or a
    /// language; the default hub and the register's gateway.
    fn fixed() -> Case {
        Case {
            dir: "ca\n*/\"'$(id)\\u000a??/é".to_owned(),
            ids: ["x$(id)", "a'b", "q'(x),:=@", "w*?!%_-.$'"]
                .map(str::to_owned)
                .to_vec(),
            hub: None,
            gateway: None,
        }
    }

    fn arbitrary(rng: &mut Rng) -> Case {
        let mut ids: Vec<String> = Vec::new();
        while ids.len() < rng.range(1, 3) {
            let id = arbitrary_id(rng);
            if !ids.iter().any(|i| i.eq_ignore_ascii_case(&id)) {
                ids.push(id);
            }
        }
        Case {
            dir: arbitrary_dir(rng),
            ids,
            hub: Some(arbitrary_host(rng)),
            gateway: Some(arbitrary_host(rng)),
        }
    }
}

/// The CA directory of a case with a device for each id (and, without a given gateway, a
/// gateway server certificate); the command `issue` points at carries the id.
fn setup(case: &Case, tag: &str) -> tempfile::TempDir {
    let dir = tmp();
    let d = dir.path();
    let at = format!("--dir={}", case.dir);
    pki(d, &[&at, "create-owner-ca"]).expect(0);
    if case.gateway.is_none() {
        pki(d, &[&at, "issue", "server", "gw.test"]).expect(0);
    }
    for id in &case.ids {
        let r = pki(d, &[&at, "issue", "device", id]);
        assert_eq!(r.code, 0, "{tag}: issue device {id:?}\n{}", r.stderr);
        // The command it points at, pasted into bash, passes the id unchanged.
        let line = r
            .stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix("SDK snippets: "))
            .unwrap_or_else(|| panic!("{tag}: no SDK snippets line:\n{}", r.stdout));
        let command = line.split(" --sdk ").next().unwrap_or_default();
        assert_eq!(
            shell_words(d, command, tag),
            vec!["pki", "guide", id],
            "{tag}: {line}"
        );
    }
    dir
}

/// Every snippet of a case: those the shell reads are checked at once, the others queued in
/// `batch` for one run of each tool.
fn check_case(case: &Case, tag: &str, s: &Path, batch: &mut Batch, n: &mut usize) {
    let dir = setup(case, tag);
    let d = dir.path();
    let at = format!("--dir={}", case.dir);
    let hub = case.hub.as_deref().unwrap_or("YOUR-HUB.azure-devices.net");
    let gw = case.gateway.as_deref().unwrap_or("gw.test");
    let strings = |xs: &[&str]| xs.iter().map(|x| (*x).to_owned()).collect::<Vec<String>>();
    for id in &case.ids {
        let id = id.as_str();
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
                *n += 1;
                let mut args = vec![at.as_str(), "guide", id, "--sdk", sdk, "--auth", auth];
                if let Some(h) = &case.hub {
                    args.extend(["--hub", h]);
                }
                if let Some(g) = &case.gateway {
                    args.extend(["--gateway", g]);
                }
                if let Some(cloud) = extra {
                    args.extend(["--cloud", cloud]);
                }
                let what = format!("{tag}: {args:?}");
                let r = pki(d, &args);
                assert_eq!(r.code, 0, "{what}\n{}", r.stderr);
                let text = r.stdout;
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
                    assert!(root.contains(&case.dir), "{what}: {root}");
                }
                let hello = format!("hello from {id}");
                let x509 = auth == "x509";
                let cs = format!("HostName={hub};DeviceId={id};x509=true;GatewayHostName={gw}");
                let expect = |values: &[&str]| Expect {
                    what: what.clone(),
                    values: strings(values),
                };
                match sdk {
                    "python" => {
                        let f = s.join(format!("s{n}.py"));
                        std::fs::write(&f, &text).unwrap();
                        let values = if x509 {
                            expect(&[&root, &chain, &key, hub, id, gw])
                        } else {
                            expect(&[&root, id])
                        };
                        batch.python.push((f, values));
                    }
                    "node" => {
                        let f = s.join(format!("s{n}.js"));
                        std::fs::write(&f, &text).unwrap();
                        let values = if x509 {
                            expect(&[&root, &chain, &key, hub, id, gw])
                        } else {
                            expect(&[&root, id])
                        };
                        batch.node.push((Some(f), literals(&text, true), values));
                    }
                    "c" => {
                        let values = if x509 {
                            expect(&[&cs, &root, &chain, &key])
                        } else {
                            expect(&[&root])
                        };
                        batch.c.push((text.clone(), values));
                    }
                    "dotnet" => {
                        // C#'s literals are written with the escapes JavaScript reads alike.
                        let words = shell_words(s, &commands_in_comments(&text, "//"), &what);
                        let pfx = format!("{id}.pfx");
                        let values = if x509 {
                            carries(&words, &[&chain, &pfx, &root], &what);
                            expect(&[&pfx, id, hub, gw, &hello])
                        } else {
                            carries(&words, &[&root], &what);
                            expect(&[&hello])
                        };
                        batch.node.push((None, literals(&text, false), values));
                    }
                    "java" => {
                        let f = s.join(format!("s{n}.java.txt"));
                        std::fs::write(&f, &text).unwrap();
                        let words = shell_words(s, &commands_in_comments(&text, "//"), &what);
                        let p12 = format!("{id}.p12");
                        let values = if x509 {
                            carries(&words, &[&chain, &p12, &root], &what);
                            expect(&[&p12, &cs, &hello])
                        } else {
                            carries(&words, &[&root], &what);
                            expect(&[&hello])
                        };
                        batch.java.push((f, values));
                    }
                    _ => {
                        // mosquitto and tedge: shell.
                        let f = s.join(format!("s{n}.sh"));
                        std::fs::write(&f, &text).unwrap();
                        bash_parses(s, &f, &what);
                        let mut words = shell_words(s, &text, &what);
                        words.extend(shell_words(s, &commands_in_comments(&text, "#"), &what));
                        let user = format!("{hub}/{id}/?api-version=2021-04-12");
                        let expected: Vec<&str> = match (sdk, x509, extra) {
                            ("mosquitto", true, _) => {
                                vec![&root, &chain, &key, id, gw, &hello, &user]
                            }
                            ("mosquitto", false, _) => vec![&root, id, gw, &hello, &user],
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

/// The property: for the fixed case (case 0) and [`CASES`]` - 1` arbitrary ones (ids, hub,
/// gateway, CA directory), every snippet of every SDK parses with the tool that reads it
/// (bash `-n`, python3's `compile`, node's check, javac's parser, cc `-fsyntax-only` and more:
/// it compiles with every warning an error) and carries each value unchanged. A failure names
/// its seed and case: `PKI_GUIDE_SEED=SEED` reproduces it.
#[test]
fn every_snippet_parses_and_carries_every_value_unchanged() {
    let seed = guide_seed();
    let mut rng = Rng(seed);
    let scratch = tmp();
    let s = scratch.path();
    let mut batch = Batch::default();
    let mut n = 0;
    for k in 0..guide_cases() {
        let case = if k == 0 {
            Case::fixed()
        } else {
            Case::arbitrary(&mut rng)
        };
        let tag = format!("PKI_GUIDE_SEED={seed:#x} case {k} {case:?}");
        check_case(&case, &tag, s, &mut batch, &mut n);
    }
    batch.run(s);
}

/// Arbitrary ids outside Azure's rule are refused, by every command that takes one, in one
/// line naming the rule.
#[test]
fn arbitrary_ids_outside_the_rule_are_refused_saying_the_rule() {
    let seed = guide_seed();
    let mut rng = Rng(seed ^ 0x0ff_1d5);
    let dir = tmp();
    let d = dir.path();
    pki(d, &["create-owner-ca"]).expect(0);
    for k in 0..12 {
        let bad = id_outside_rule(&mut rng);
        assert!(!in_id_rule(&bad), "{bad:?}");
        for args in [
            vec!["issue", "device", "--", &bad],
            vec!["guide", "--sdk", "python", "--", &bad],
        ] {
            let what = format!("PKI_GUIDE_SEED={seed:#x} id {k}: {args:?}");
            let r = pki(d, &args);
            assert_eq!(r.code, 2, "{what}\n{}", r.stderr);
            let line = one_error_line(&r);
            assert!(line.contains("is not a valid device id"), "{what}: {line}");
            assert!(line.contains("Azure IoT Hub's rule"), "{what}: {line}");
            assert!(r.stdout.is_empty(), "{what}: {}", r.stdout);
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
