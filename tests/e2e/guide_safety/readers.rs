//! The real tools that read `pki guide`'s snippets, and what each must find in them: bash (the
//! words each command receives), python3's parser, node, a C compiler and javac's parser (each
//! language's string literals as it reads them), run once per tool over every case's snippets.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::support::programs;

/// The arguments every command of `script` is run with, run by bash with each command a
/// function that records its arguments (nothing of the script runs but these).
pub(super) fn shell_words(dir: &Path, script: &str, what: &str) -> Vec<String> {
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
pub(super) fn bash_parses(dir: &Path, file: &Path, what: &str) {
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
pub(super) fn commands_in_comments(snippet: &str, marker: &str) -> String {
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
pub(super) fn literals(src: &str, single: bool) -> Vec<String> {
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
pub(super) struct Expect {
    pub(super) what: String,
    pub(super) values: Vec<String>,
}

/// The snippets of every case, read by one run of each tool.
#[derive(Default)]
pub(super) struct Batch {
    pub(super) python: Vec<(PathBuf, Expect)>,
    /// The file to check (none: literals only, C#'s) and its literals.
    pub(super) node: Vec<(Option<PathBuf>, Vec<String>, Expect)>,
    pub(super) c: Vec<(String, Expect)>,
    pub(super) java: Vec<(PathBuf, Expect)>,
}

impl Batch {
    pub(super) fn run(self, dir: &Path) {
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
pub(super) fn carries(values: &[String], expected: &[impl AsRef<str>], what: &str) {
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
