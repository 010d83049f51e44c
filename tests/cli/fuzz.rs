//! Fuzzing the command line (issue 12: no panic, no hang, no partial output).
//!
//! Generated configs, stimulus CSVs, initial-weights CSVs and argument vectors, each run by the
//! real binary in a folder of its own, under a memory limit and a wall-time limit. Every case
//! must end with exit status 0 or 2 (never 1, a panic or a signal), without `panicked` on
//! stderr, within the time limit. Exit 2 needs a non-empty `error:` line and the case's folder
//! exactly as before (no output, no temporary file). Exit 0 needs the promised files, nothing
//! written outside them, and files with the permissions the umask allows.
//!
//! The run lasts about `SYNFORGE_FUZZ_SECONDS` (default 60) from seed `SYNFORGE_FUZZ_SEED`
//! (default: from the clock, printed). `SYNFORGE_FUZZ_CASE=N` reruns case N of that seed
//! alone, which is how a failure printed below reproduces.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rand::seq::IndexedRandom;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Wall time of one case before it is killed and counted as a hang.
const CASE_TIMEOUT: Duration = Duration::from_secs(20);
/// Time an interrupted case has to clean up and exit.
const INTERRUPT_GRACE: Duration = Duration::from_secs(5);
/// Address-space limit of the child: a few GB, so a run-away allocation fails fast.
const MEMORY_LIMIT_BYTES: u64 = 4 << 30;
/// The child's umask; outputs must then be 0644 and folders 0755.
const CHILD_UMASK: u32 = 0o022;
/// Default length of the run.
const DEFAULT_SECONDS: u64 = 60;
/// Folder depth of the case's working folder below the case root, so that a network name
/// with a few `..` still lands inside the root, where the check sees it.
const WORK_DIR: &str = "r1/r2/r3";
/// Replaced by the case root's absolute path when the case's files and argv are written.
const ROOT: &str = "@ROOT@";

// ---------------------------------------------------------------------------------------------
// Cases

/// What the input deserves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// Valid input: exit 0.
    Accept,
    /// Bad input by the README or issue 12: exit 2.
    Refuse,
    /// Either, as long as it is clean.
    Either,
}

/// The files an exit 0 promises.
#[derive(Clone, Debug)]
enum Promise {
    /// Nothing may be written (compare without --json, params).
    Nothing,
    /// `sim` into this folder (relative to the working folder): spikes, weights, summary,
    /// and `waves/<model>.vcd` with `vcd`.
    SimDir { dir: String, model: &'static str, vcd: bool, steps: Option<u64> },
    /// `sim` without -o: the same set somewhere under `build/`.
    SimDefault { model: &'static str, vcd: bool, steps: Option<u64> },
    /// One regular file: `compare --json` (JSON) or `stimulus -o` (CSV).
    File { path: String, kind: FileKind },
    /// `gen` into this folder (`None`: somewhere under `build/`).
    Gen { dir: Option<String> },
    /// Nothing is promised (a help text, an unusual argv).
    Unknown,
}

#[derive(Clone, Copy, Debug)]
enum FileKind {
    CompareJson,
    StimulusCsv,
}

/// One generated case: its files (relative to the working folder), folders made before the
/// run, argv, and what it deserves.
#[derive(Clone, Debug)]
struct Case {
    class: &'static str,
    files: Vec<(String, Vec<u8>)>,
    dirs: Vec<String>,
    argv: Vec<String>,
    expect: Expect,
    promise: Promise,
    /// Why the case expects what it expects (printed with a failure).
    note: String,
}

impl Case {
    fn new(class: &'static str) -> Self {
        Case {
            class,
            files: Vec::new(),
            dirs: Vec::new(),
            argv: Vec::new(),
            expect: Expect::Either,
            promise: Promise::Unknown,
            note: String::new(),
        }
    }

    fn file(&mut self, name: &str, bytes: impl Into<Vec<u8>>) {
        self.files.push((name.to_string(), bytes.into()));
    }

    fn args(&mut self, args: &[&str]) {
        self.argv.extend(args.iter().map(|s| s.to_string()));
    }

    fn refuse(&mut self, why: &str) {
        self.expect = Expect::Refuse;
        self.note.push_str(why);
        self.note.push_str("; ");
    }

    /// Total size, to keep the smallest reproducer of a failure class.
    fn size(&self) -> usize {
        self.files.iter().map(|(n, b)| n.len() + b.len()).sum::<usize>()
            + self.argv.iter().map(String::len).sum::<usize>()
    }

    /// The case as text: argv, expectation and every file (escaped where not printable).
    fn describe(&self) -> String {
        let mut s = String::new();
        let argv: Vec<String> = self.argv.iter().map(|a| shell_quote(a)).collect();
        let _ = writeln!(s, "  (cd {WORK_DIR}; synforge {})", argv.join(" "));
        let _ = writeln!(
            s,
            "  expect {:?}{}",
            self.expect,
            if self.note.is_empty() {
                String::new()
            } else {
                format!(" ({})", self.note.trim_end_matches("; "))
            }
        );
        for d in &self.dirs {
            let _ = writeln!(s, "  folder {d}/");
        }
        for (name, bytes) in &self.files {
            let shown: String = if bytes.len() > 1500 {
                format!("{} ... ({} bytes)", escape(&bytes[..1500]), bytes.len())
            } else {
                escape(bytes)
            };
            let _ = writeln!(s, "  file {name}:\n    {}", shown.replace('\n', "\n    "));
        }
        s
    }
}

fn shell_quote(a: &str) -> String {
    if !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./,=@+:".contains(c)) {
        a.to_string()
    } else {
        format!("'{}'", a.replace('\'', "'\\''"))
    }
}

fn escape(bytes: &[u8]) -> String {
    let mut s = String::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' => s.push('\n'),
                '\r' => s.push_str("\\r"),
                '\t' => s.push_str("\\t"),
                c if c.is_control() || c == '\u{feff}' => {
                    let _ = write!(s, "\\u{{{:x}}}", c as u32);
                }
                c => s.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(s, "\\x{b:02x}");
        }
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Values

/// Extreme, boundary, non-finite, huge and mistyped values for a field of `ty`.
fn nasty_value(rng: &mut ChaCha8Rng, ty: Ty) -> String {
    const FLOATS: &[&str] = &[
        "nan",
        "+nan",
        "-nan",
        "inf",
        "+inf",
        "-inf",
        "1e308",
        "-1e308",
        "1.7976931348623157e308",
        "1e-300",
        "5e-324",
        "-0.0",
        "0.0",
        "-1.0",
        "1.0",
        "0.5",
        "1e9",
        "-1e9",
        "1e15",
        "1e-9",
        "0.999999",
        "1.0000001",
        "65535.0",
        "65536.0",
        "4294967295.0",
        "2.5",
    ];
    const INTS: &[&str] = &[
        "0",
        "1",
        "2",
        "-1",
        "-2147483648",
        "2147483647",
        "4294967295",
        "4294967296",
        "9223372036854775807",
        "-9223372036854775808",
        "9223372036854775808",
        "18446744073709551615",
        "65535",
        "65536",
        "65537",
        "268435456",
        "999999999",
        "1_000",
        "0x7fffffff",
        "0o777",
        "0b1",
        "+5",
        "3",
        "4",
        "16",
        "17",
        "32",
        "33",
    ];
    const MISTYPED: &[&str] = &[
        "\"1.0\"",
        "\"\"",
        "\"nan\"",
        "'x'",
        "[]",
        "[1, 2]",
        "[[1]]",
        "{}",
        "{ a = 1 }",
        "true",
        "false",
        "1979-05-27T07:32:00Z",
        "1979-05-27",
        "07:32:00",
        "\"\"\"multi\nline\"\"\"",
        "[\"a\", 1]",
        "\"\\u0000\"",
    ];
    const STRINGS: &[&str] = &[
        "\"\"",
        "\" \"",
        "\"x\"",
        "\"../../x\"",
        "\"../../../../x\"",
        "\"..\"",
        "\".\"",
        "\"a/b\"",
        "\"a\\\\b\"",
        "\"\\u0000\"",
        "\"\\n\"",
        "\"\\u00e9\\u4e2d\"",
        "\".hidden\"",
        "\"-rf\"",
        "\"@ROOT@/abs\"",
        "\"build\"",
    ];
    let pick = |rng: &mut ChaCha8Rng, v: &[&str]| v.choose(rng).expect("values").to_string();
    let r = rng.random_range(0..10);
    match ty {
        Ty::F64 if r < 8 => pick(rng, FLOATS),
        Ty::F64 if r < 9 => pick(rng, INTS),
        Ty::Int if r < 8 => pick(rng, INTS),
        Ty::Int if r < 9 => pick(rng, FLOATS),
        Ty::Str | Ty::Path if r < 8 => pick(rng, STRINGS),
        Ty::Enum(names) if r < 5 => format!("\"{}\"", names.choose(rng).expect("names")),
        Ty::Enum(names) if r < 8 => {
            let n = names.choose(rng).expect("names");
            pick(rng, &[&format!("\"{}\"", n.to_uppercase()), "\"\"", "\"Off\"", "\"auto\"", "1"])
        }
        Ty::Bool if r < 6 => pick(rng, &["true", "false"]),
        Ty::FloatList if r < 8 => pick(
            rng,
            &[
                "[]",
                "[1.0]",
                "[nan]",
                "[inf, 1.0]",
                "[-1.0, 2.0]",
                "[1e308]",
                "[1, 2, 3, 4, 5, 6, 7, 8, 9]",
                "[\"a\"]",
                "[[1.0]]",
            ],
        ),
        _ => pick(rng, MISTYPED),
    }
}

/// Field types of the config schema.
#[derive(Clone, Copy, Debug)]
enum Ty {
    F64,
    Int,
    Bool,
    Str,
    Path,
    Enum(&'static [&'static str]),
    FloatList,
}

const ROUNDINGS: &[&str] = &["floor", "nearest", "stochastic"];
const DECAYS: &[&str] = &["multiply", "shift"];
const FORMATS: &[&str] =
    &["membrane", "weight", "threshold", "trace_x1", "trace_x2", "trace_y1", "trace_y2"];

/// Every field of every section (sim/src/config.rs, sim/src/stimulus.rs), with its type.
fn schema() -> Vec<(String, &'static str, Ty)> {
    let mut v: Vec<(String, &'static str, Ty)> = vec![
        ("network".into(), "name", Ty::Str),
        ("network".into(), "inputs", Ty::Int),
        ("network".into(), "neurons", Ty::Int),
        ("network".into(), "dt_ms", Ty::F64),
        ("network".into(), "seed", Ty::Int),
        ("neuron".into(), "tau_m_ms", Ty::F64),
        ("neuron".into(), "threshold", Ty::F64),
        ("neuron".into(), "reset", Ty::Enum(&["zero", "subtract"])),
        ("neuron".into(), "refractory_ms", Ty::F64),
        ("neuron".into(), "inhibition", Ty::F64),
        ("traces".into(), "pairing", Ty::Enum(&["all-to-all", "nearest"])),
        ("traces".into(), "tau_plus_ms", Ty::F64),
        ("traces".into(), "tau_minus_ms", Ty::F64),
        ("traces".into(), "tau_x_ms", Ty::F64),
        ("traces".into(), "tau_y_ms", Ty::F64),
        ("traces".into(), "increment", Ty::F64),
        (
            "plasticity".into(),
            "rule",
            Ty::Enum(&["off", "pair", "triplet", "custom", "reward-stdp", "consolidation"]),
        ),
        ("plasticity".into(), "sweep_period_steps", Ty::Int),
        ("plasticity.synapse.c".into(), "width", Ty::Int),
        ("plasticity.synapse.c".into(), "frac", Ty::Int),
        ("plasticity.synapse.c".into(), "signed", Ty::Bool),
        ("plasticity.synapse.c".into(), "init", Ty::F64),
        ("plasticity.synapse.c".into(), "rounding", Ty::Enum(ROUNDINGS)),
        ("plasticity.synapse.c".into(), "update", Ty::Str),
        ("plasticity".into(), "weight_dependence", Ty::Enum(&["additive", "multiplicative"])),
        ("plasticity".into(), "a_plus", Ty::F64),
        ("plasticity".into(), "a_minus", Ty::F64),
        ("plasticity".into(), "a3_plus", Ty::F64),
        ("plasticity".into(), "a3_minus", Ty::F64),
        ("plasticity".into(), "w_min", Ty::F64),
        ("plasticity".into(), "w_max", Ty::F64),
        ("plasticity".into(), "w_init", Ty::F64),
        ("plasticity".into(), "w_init_spread", Ty::F64),
        ("plasticity".into(), "amplitude_frac", Ty::Int),
        ("plasticity".into(), "w_init_file", Ty::Path),
        ("homeostasis".into(), "adaptive_threshold", Ty::Bool),
        ("homeostasis".into(), "theta_step", Ty::F64),
        ("homeostasis".into(), "tau_theta_ms", Ty::F64),
        ("homeostasis".into(), "scaling", Ty::Bool),
        ("homeostasis".into(), "scaling_period_steps", Ty::Int),
        ("homeostasis".into(), "target_rate_hz", Ty::F64),
        ("homeostasis".into(), "scaling_gain", Ty::F64),
        ("stimulus".into(), "kind", Ty::Enum(&["poisson", "pairing", "file"])),
        ("stimulus".into(), "steps", Ty::Int),
        ("stimulus".into(), "seed", Ty::Int),
        ("stimulus".into(), "rate_hz", Ty::F64),
        ("stimulus".into(), "rates_hz", Ty::FloatList),
        ("stimulus".into(), "file", Ty::Path),
        ("stimulus.pattern".into(), "fraction", Ty::F64),
        ("stimulus.pattern".into(), "length_ms", Ty::F64),
        ("stimulus.pattern".into(), "period_ms", Ty::F64),
        ("stimulus.pairing".into(), "offset_min_ms", Ty::F64),
        ("stimulus.pairing".into(), "offset_max_ms", Ty::F64),
        ("stimulus.pairing".into(), "period_ms", Ty::F64),
        ("stimulus.reward".into(), "input", Ty::Int),
        ("stimulus.reward".into(), "neuron", Ty::Int),
        ("stimulus.reward".into(), "window_ms", Ty::F64),
        ("stimulus.reward".into(), "delay_ms", Ty::FloatList),
        ("stimulus.reward".into(), "value", Ty::F64),
        ("stimulus.reward".into(), "duration_ms", Ty::F64),
        ("stimulus.reward".into(), "seed", Ty::Int),
        ("hardware".into(), "weight_memory", Ty::Enum(&["dual-port", "single-port"])),
        ("hardware".into(), "synapse_bits", Ty::Int),
    ];
    for f in FORMATS {
        let s = format!("formats.{f}");
        v.push((s.clone(), "width", Ty::Int));
        v.push((s.clone(), "frac", Ty::Int));
        v.push((s.clone(), "rounding", Ty::Enum(ROUNDINGS)));
        v.push((s, "decay", Ty::Enum(DECAYS)));
    }
    v
}

// ---------------------------------------------------------------------------------------------
// Configs

/// A config as sections of `key = value` lines, in order, so it can be mutated and rendered.
#[derive(Clone, Debug, Default)]
struct Toml {
    sections: Vec<(String, Vec<(String, String)>)>,
}

impl Toml {
    fn set(&mut self, section: &str, key: &str, value: impl Into<String>) {
        let value = value.into();
        let sec = match self.sections.iter().position(|(s, _)| s == section) {
            Some(i) => &mut self.sections[i].1,
            None => {
                self.sections.push((section.to_string(), Vec::new()));
                &mut self.sections.last_mut().expect("pushed").1
            }
        };
        match sec.iter_mut().find(|(k, _)| k == key) {
            Some(kv) => kv.1 = value,
            None => sec.push((key.to_string(), value)),
        }
    }

    fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.sections
            .iter()
            .find(|(s, _)| s == section)
            .and_then(|(_, kv)| kv.iter().find(|(k, _)| k == key))
            .map(|(_, v)| v.as_str())
    }

    fn render(&self) -> String {
        let mut s = String::new();
        for (name, kv) in &self.sections {
            let _ = writeln!(s, "[{name}]");
            for (k, v) in kv {
                let _ = writeln!(s, "{k} = {v}");
            }
            s.push('\n');
        }
        s
    }
}

/// What a generated valid network is, for the files and flags that go with it.
#[derive(Clone, Debug)]
struct Net {
    toml: Toml,
    inputs: u32,
    neurons: u32,
    steps: u32,
    w_min: f64,
    w_max: f64,
    /// Extra files the config refers to (stimulus or weights CSV).
    files: Vec<(String, Vec<u8>)>,
}

fn fmt_f(x: f64) -> String {
    let s = format!("{x}");
    if s.contains('.') || s.contains('e') || s.contains("inf") || s.contains("nan") {
        s
    } else {
        format!("{s}.0")
    }
}

/// A small network that is valid by construction (few inputs and neurons, a short run).
fn valid_net(rng: &mut ChaCha8Rng) -> Net {
    let mut t = Toml::default();
    let kind = *["poisson", "poisson", "poisson", "pairing", "file"].choose(rng).expect("kinds");
    let inputs: u32 =
        if kind == "pairing" { rng.random_range(2..=8) } else { rng.random_range(1..=8) };
    let neurons: u32 = rng.random_range(1..=6);
    let steps: u32 = rng.random_range(20..=300);
    let dt: f64 = *[1.0, 1.0, 0.5, 2.0].choose(rng).expect("dt");
    let name: String = (0..rng.random_range(1..=8))
        .map(|_| *b"abcxyz019_-".choose(rng).expect("chars") as char)
        .collect();
    t.set("network", "name", format!("\"{name}\""));
    t.set("network", "inputs", inputs.to_string());
    t.set("network", "neurons", neurons.to_string());
    t.set("network", "dt_ms", fmt_f(dt));
    t.set("network", "seed", rng.random::<u32>().to_string());

    t.set("neuron", "tau_m_ms", fmt_f(*[5.0, 10.0, 20.0, 50.0].choose(rng).expect("tau")));
    t.set("neuron", "threshold", fmt_f(*[0.25, 0.5, 1.0, 2.0].choose(rng).expect("thr")));
    t.set("neuron", "reset", format!("\"{}\"", ["zero", "subtract"].choose(rng).expect("reset")));
    t.set("neuron", "refractory_ms", fmt_f(*[0.0, 1.0, 2.0, 5.0].choose(rng).expect("refr")));
    t.set("neuron", "inhibition", fmt_f(*[0.0, 0.1, 0.25].choose(rng).expect("inh")));

    t.set(
        "traces",
        "pairing",
        format!("\"{}\"", ["all-to-all", "nearest"].choose(rng).expect("p")),
    );
    for k in ["tau_plus_ms", "tau_minus_ms", "tau_x_ms", "tau_y_ms"] {
        t.set("traces", k, fmt_f(rng.random_range(2..=150) as f64));
    }
    t.set("traces", "increment", fmt_f(*[0.5, 1.0].choose(rng).expect("inc")));

    let rule = *["off", "pair", "pair", "triplet", "custom", "reward-stdp", "consolidation"]
        .choose(rng)
        .expect("rule");
    t.set("plasticity", "rule", format!("\"{rule}\""));
    let dep = if rule == "reward-stdp" {
        "additive"
    } else {
        *["additive", "multiplicative"].choose(rng).expect("dep")
    };
    t.set("plasticity", "weight_dependence", format!("\"{dep}\""));
    if rule == "custom" {
        // A random rule of the language (random terms, gates, brackets, weight factors), its
        // parameters small enough for the default amplitude format.
        let r = synforge_sim::plasticity::random::random_rule(rng, 3);
        t.set("plasticity", "dw", format!("\"{}\"", r.text));
        for name in r.params.keys() {
            t.set("plasticity.params", name, fmt_f(rng.random_range(1..=10) as f64 / 1000.0));
        }
    } else if rule != "reward-stdp" {
        t.set("plasticity", "a_plus", fmt_f(rng.random_range(1..=10) as f64 / 1000.0));
        t.set("plasticity", "a_minus", fmt_f(rng.random_range(1..=10) as f64 / 1000.0));
    }
    if rule == "triplet" {
        t.set("plasticity", "a3_plus", fmt_f(rng.random_range(0..=5) as f64 / 1000.0));
        t.set("plasticity", "a3_minus", fmt_f(rng.random_range(0..=5) as f64 / 1000.0));
    }
    let w_min = 0.0;
    let w_max: f64 = *[0.125, 0.25, 0.5].choose(rng).expect("w_max");
    t.set("plasticity", "w_min", fmt_f(w_min));
    t.set("plasticity", "w_max", fmt_f(w_max));
    t.set("plasticity", "w_init", fmt_f(w_max / 2.0));
    t.set("plasticity", "w_init_spread", fmt_f(w_max / 8.0));

    t.set("homeostasis", "adaptive_threshold", rng.random_bool(0.5).to_string());
    t.set("homeostasis", "theta_step", fmt_f(*[0.0, 0.05, 0.1].choose(rng).expect("theta")));
    t.set("homeostasis", "tau_theta_ms", fmt_f(*[100.0, 1000.0].choose(rng).expect("tau")));
    t.set("homeostasis", "scaling", rng.random_bool(0.3).to_string());
    t.set("homeostasis", "scaling_period_steps", rng.random_range(100..=1000).to_string());
    t.set("homeostasis", "target_rate_hz", fmt_f(rng.random_range(10..=20) as f64));
    t.set("homeostasis", "scaling_gain", fmt_f(*[0.01, 0.05, 0.1].choose(rng).expect("gain")));

    if rng.random_bool(0.3) {
        // The narrower formats of the CLI tests, every one given.
        t.set("formats", "membrane", "{ width = 16, frac = 8 }");
        t.set("formats", "weight", "{ width = 8, frac = 8 }");
        t.set("formats", "threshold", "{ width = 16, frac = 8 }");
    }
    if rng.random_bool(0.4) {
        for f in FORMATS {
            let (w, fr) = match *f {
                "membrane" => (16, 10),
                "weight" => (10, 10),
                "threshold" => (16, 10),
                _ => (8, 6),
            };
            t.set(
                "formats",
                f,
                format!(
                    "{{ width = {w}, frac = {fr}, rounding = \"{}\", decay = \"{}\" }}",
                    ROUNDINGS.choose(rng).expect("r"),
                    DECAYS.choose(rng).expect("d")
                ),
            );
        }
    }

    let mut files = Vec::new();
    t.set("stimulus", "kind", format!("\"{kind}\""));
    t.set("stimulus", "steps", steps.to_string());
    t.set("stimulus", "seed", rng.random::<u32>().to_string());
    let max_rate = 1000.0 / dt;
    t.set("stimulus", "rate_hz", fmt_f((rng.random_range(0..=100) as f64).min(max_rate)));
    match kind {
        "poisson" => {
            if rng.random_bool(0.3) {
                let rates: Vec<String> =
                    (0..inputs).map(|_| fmt_f(rng.random_range(0..=80) as f64)).collect();
                t.set("stimulus", "rates_hz", format!("[{}]", rates.join(", ")));
            }
            if rng.random_bool(0.5) {
                let len = dt * rng.random_range(1..=20) as f64;
                t.set("stimulus.pattern", "fraction", fmt_f(rng.random_range(1..=4) as f64 / 4.0));
                t.set("stimulus.pattern", "length_ms", fmt_f(len));
                t.set(
                    "stimulus.pattern",
                    "period_ms",
                    fmt_f(len + rng.random_range(0..=50) as f64),
                );
            }
        }
        "pairing" => {
            let a = rng.random_range(-20..=20) as f64;
            let b = a + rng.random_range(0..=20) as f64;
            let span = a.abs().max(b.abs());
            t.set("stimulus.pairing", "offset_min_ms", fmt_f(a));
            t.set("stimulus.pairing", "offset_max_ms", fmt_f(b));
            t.set("stimulus.pairing", "period_ms", fmt_f(2.0 * span + 2.0 * dt + 10.0));
        }
        _ => {
            t.set("stimulus", "file", "\"spikes.csv\"");
            files.push(("spikes.csv".to_string(), valid_csv(rng, inputs, steps).into_bytes()));
        }
    }
    // The weight's width, for the synapse word.
    let ww: u32 =
        if t.get("formats", "weight").is_some_and(|w| w.contains("width = 8")) { 8 } else { 10 };
    if rng.random_bool(0.5) {
        let wm = ["dual-port", "single-port"].choose(rng).expect("wm");
        t.set("hardware", "weight_memory", format!("\"{wm}\""));
        t.set("hardware", "synapse_bits", rng.random_range(ww..=16).to_string());
    }
    if rule == "reward-stdp" || rule == "consolidation" {
        // A preset with a variable beside the weight: its format fills the 16-bit word, the
        // sweep every few steps; the reward task sets r for reward-stdp (or r stays 0).
        t.set("hardware", "synapse_bits", "16");
        t.set("plasticity", "sweep_period_steps", rng.random_range(1..=20).to_string());
        let small = |rng: &mut ChaCha8Rng| fmt_f(rng.random_range(1..=50) as f64 / 1000.0);
        if rule == "reward-stdp" {
            t.set("plasticity.synapse.e", "width", (16 - ww).to_string());
            t.set("plasticity.synapse.e", "frac", (16 - ww - 3).to_string());
            t.set("plasticity.synapse.e", "signed", "true");
            for p in ["a_reward", "tag_plus", "tag_minus", "tag_decay"] {
                let v = small(rng);
                t.set("plasticity.params", p, v);
            }
            t.set("formats", "modulator", "{ width = 8, frac = 6 }");
            if rng.random_bool(0.7) {
                let lo = rng.random_range(0..=50) as f64;
                t.set("stimulus.reward", "input", rng.random_range(0..inputs).to_string());
                t.set("stimulus.reward", "neuron", rng.random_range(0..neurons).to_string());
                t.set("stimulus.reward", "window_ms", fmt_f(rng.random_range(1..=20) as f64));
                t.set(
                    "stimulus.reward",
                    "delay_ms",
                    format!("[{}, {}]", fmt_f(lo), fmt_f(lo + rng.random_range(0..=50) as f64)),
                );
                t.set("stimulus.reward", "value", fmt_f(*[1.0, -0.5].choose(rng).expect("v")));
                t.set("stimulus.reward", "duration_ms", fmt_f(rng.random_range(1..=20) as f64));
                t.set("stimulus.reward", "seed", rng.random::<u16>().to_string());
            }
        } else {
            t.set("plasticity.synapse.c", "width", (16 - ww).to_string());
            t.set("plasticity.synapse.c", "frac", (16 - ww).to_string());
            for p in ["w_decay", "c_up", "c_decay"] {
                let v = small(rng);
                t.set("plasticity.params", p, v);
            }
        }
    }
    if rng.random_bool(0.2) {
        t.set("plasticity", "w_init_file", "\"w.csv\"");
        let mut s = String::from("input,neuron,weight\n");
        let mut seen = BTreeSet::new();
        for _ in 0..rng.random_range(0..6) {
            let (i, j) = (rng.random_range(0..inputs), rng.random_range(0..neurons));
            if seen.insert((i, j)) {
                let _ = writeln!(s, "{i},{j},{}", w_max * rng.random_range(0..=8) as f64 / 8.0);
            }
        }
        files.push(("w.csv".to_string(), s.into_bytes()));
    }
    Net { toml: t, inputs, neurons, steps, w_min, w_max, files }
}

/// Valid `step,input` lines within `steps` and `inputs`, with the allowed extras.
fn valid_csv(rng: &mut ChaCha8Rng, inputs: u32, steps: u32) -> String {
    let mut s = String::new();
    if rng.random_bool(0.5) {
        s.push_str("step,input\n");
    }
    for _ in 0..rng.random_range(1..30) {
        match rng.random_range(0..12) {
            0 => s.push('\n'),
            1 => s.push_str("# a comment\n"),
            _ => {
                let _ =
                    writeln!(s, "{},{}", rng.random_range(0..steps), rng.random_range(0..inputs));
            }
        }
    }
    s
}

/// Byte-level damage to a text: BOM, UTF-16, truncation, random bytes, CRLF, emptiness.
/// Returns the bytes and what was done (`bom` and `crlf` keep a valid CSV valid).
fn damage(rng: &mut ChaCha8Rng, text: &str) -> (Vec<u8>, &'static str) {
    match rng.random_range(0..11) {
        0 => ([&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat(), "bom"),
        1 => {
            let mut b = vec![0xFF, 0xFE];
            b.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
            (b, "damaged")
        }
        2 => {
            let mut b = vec![0xFE, 0xFF];
            b.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
            (b, "damaged")
        }
        3 => {
            let cut = rng.random_range(0..=text.len());
            (text.as_bytes()[..cut].to_vec(), "damaged")
        }
        4 => {
            let mut b = text.as_bytes().to_vec();
            for _ in 0..rng.random_range(1..8) {
                let at = rng.random_range(0..=b.len());
                b.insert(at, rng.random());
            }
            (b, "damaged")
        }
        5 => ((0..rng.random_range(0..200)).map(|_| rng.random()).collect(), "damaged"),
        6 => (text.replace('\n', "\r\n").into_bytes(), "crlf"),
        7 => (Vec::new(), "damaged"),
        8 => (b"\n\n# only a comment\n   \n".to_vec(), "damaged"),
        9 => (text.replace('\n', "\r").into_bytes(), "damaged"),
        _ => {
            let mut b = text.as_bytes().to_vec();
            b.push(0);
            (b, "damaged")
        }
    }
}

/// A config case: a small valid network with one to three fields set to nasty values, unknown
/// fields, duplicated keys, missing or mistyped sections, or byte-level damage.
fn config_case(rng: &mut ChaCha8Rng, case: &mut Case) {
    let net = valid_net(rng);
    let mut t = net.toml.clone();
    let schema = schema();
    let mut extra = String::new();
    let mut steps_field = false;
    let mut touched_size = false;
    let mut duplicated: Vec<String> = Vec::new();
    if rng.random_bool(0.15) {
        // Only some sections.
        let keep: Vec<_> = t.sections.iter().filter(|_| rng.random_bool(0.5)).cloned().collect();
        t.sections = keep;
    }
    for _ in 0..rng.random_range(1..=3) {
        match rng.random_range(0..16) {
            0..=10 => {
                // Half the time a field of the stimulus or the time step, where a value turns
                // into a loop count or an allocation.
                let hot: Vec<_> = schema
                    .iter()
                    .filter(|(s, k, _)| s.starts_with("stimulus") || *k == "dt_ms")
                    .collect();
                let (sec, key, ty) = if rng.random_bool(0.5) {
                    (*hot.choose(rng).expect("hot fields")).clone()
                } else {
                    schema.choose(rng).expect("schema").clone()
                };
                match sec.as_str() {
                    "stimulus.pairing" if net.inputs >= 2 => {
                        t.set("stimulus", "kind", "\"pairing\"")
                    }
                    "stimulus.pattern" => t.set("stimulus", "kind", "\"poisson\""),
                    _ => {}
                }
                if key == "inputs" || key == "neurons" {
                    if touched_size {
                        continue;
                    }
                    touched_size = true;
                }
                steps_field |= sec == "stimulus" && key == "steps";
                if let Some(f) = sec.strip_prefix("formats.") {
                    // Format fields are written as inline tables; set the whole table.
                    let mut spec =
                        BTreeMap::from([("width", "8".to_string()), ("frac", "6".to_string())]);
                    if f == "membrane" || f == "threshold" {
                        spec.insert("width", "16".into());
                        spec.insert("frac", "10".into());
                    } else if f == "weight" {
                        spec.insert("width", "10".into());
                        spec.insert("frac", "10".into());
                    }
                    spec.insert(key, nasty_value(rng, ty));
                    let body: Vec<String> =
                        spec.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                    t.set("formats", f, format!("{{ {} }}", body.join(", ")));
                } else {
                    t.set(&sec, key, nasty_value(rng, ty));
                }
            }
            11 => {
                let (sec, _, _) = schema.choose(rng).expect("schema").clone();
                t.set(&sec, "no_such_field", "1");
                case.refuse("unknown field");
            }
            12 => {
                let (sec, key, _) = schema.choose(rng).expect("schema").clone();
                if sec.starts_with("formats") {
                    continue;
                }
                if rng.random_bool(0.5) {
                    let _ = write!(extra, "\n[{sec}]\n{key} = 1\n");
                    duplicated.push(sec);
                } else if let Some(i) = t
                    .sections
                    .iter()
                    .position(|(s, kv)| *s == sec && kv.iter().any(|(k, _)| k == key))
                {
                    // The same key twice in one table (only a key the table already has: a
                    // preset's field a valid network leaves out would be given once).
                    let v = nasty_value(rng, Ty::Int);
                    t.sections[i].1.push((key.to_string(), v));
                    case.refuse("a key given twice");
                }
            }
            13 => {
                let sec = ["network", "neuron", "stimulus", "formats", "hardware", "bogus"]
                    .choose(rng)
                    .expect("sections");
                extra.push_str(&format!("{sec} = {}\n", nasty_value(rng, Ty::Int)));
                case.refuse("a scalar for a table, or an unknown key");
            }
            14 => {
                let sec = ["network", "neuron", "stimulus", "plasticity"].choose(rng).expect("s");
                let _ = write!(extra, "\n[[{sec}]]\nseed = 1\n");
                case.refuse("an array of tables for a table");
            }
            _ => {
                let _ = write!(extra, "\n[no_such_section]\nx = 1\n");
                case.refuse("unknown section");
            }
        }
    }
    if duplicated.iter().any(|d| t.sections.iter().any(|(s, _)| s == d)) {
        case.refuse("a table given twice");
    }
    // Top-level keys must come first in TOML; sections may follow anywhere.
    let (top, tables): (String, String) =
        extra.lines().fold((String::new(), String::new()), |mut acc, l| {
            let in_table = !acc.1.is_empty() || l.starts_with('[');
            if in_table {
                acc.1.push_str(l);
                acc.1.push('\n');
            } else if !l.is_empty() {
                acc.0.push_str(l);
                acc.0.push('\n');
            }
            acc
        });
    let text = format!("{top}{}{tables}", t.render());
    let bytes = if rng.random_bool(0.2) {
        let (b, how) = damage(rng, &text);
        if how != "crlf" {
            case.expect = Expect::Either;
        }
        b
    } else {
        text.into_bytes()
    };
    case.file("net.toml", bytes);
    for (n, b) in net.files {
        case.file(&n, b);
    }
    let sub = *["sim", "sim", "compare", "params", "stimulus", "gen"].choose(rng).expect("cmd");
    case.args(&[sub, "-c", "net.toml"]);
    if sub != "params" && sub != "gen" && (!steps_field || rng.random_bool(0.5)) {
        case.args(&["--steps", &rng.random_range(1..=200).to_string()]);
    }
    finish_outputs(rng, case, sub, net.neurons, None);
}

/// A valid `--steps` for `net`: a file stimulus needs a run that holds its last spike.
fn steps_flag(rng: &mut ChaCha8Rng, net: &Net) -> u32 {
    if net.toml.get("stimulus", "kind") == Some("\"file\"") {
        rng.random_range(net.steps..=net.steps + 100)
    } else {
        rng.random_range(1..=net.steps)
    }
}

/// A config case from the valid-network generator alone: exit 0 expected.
fn valid_case(rng: &mut ChaCha8Rng, case: &mut Case) {
    let net = valid_net(rng);
    case.file("net.toml", net.toml.render());
    for (n, b) in &net.files {
        case.file(n, b.clone());
    }
    case.expect = Expect::Accept;
    case.note = "a valid network".into();
    let sub =
        *["sim", "sim", "sim", "compare", "params", "stimulus", "gen"].choose(rng).expect("c");
    case.args(&[sub, "-c", "net.toml"]);
    let mut steps = None;
    if sub != "params" && sub != "gen" && rng.random_bool(0.5) {
        let n = steps_flag(rng, &net);
        steps = Some(n as u64);
        case.args(&["--steps", &n.to_string()]);
    }
    let kind_file = net.toml.get("stimulus", "kind") == Some("\"file\"");
    let run_steps = if kind_file { steps } else { steps.or(Some(net.steps as u64)) };
    finish_outputs(rng, case, sub, net.neurons, run_steps);
}

/// Output flags for `sub`, fresh and valid, with the promise they make.
fn finish_outputs(
    rng: &mut ChaCha8Rng,
    case: &mut Case,
    sub: &str,
    neurons: u32,
    steps: Option<u64>,
) {
    match sub {
        "sim" => {
            let model = if rng.random_bool(0.5) { "fixed" } else { "float" };
            if model == "float" || rng.random_bool(0.3) {
                case.args(&["--model", model]);
            }
            let vcd = rng.random_bool(0.3);
            if vcd {
                let spec = if rng.random_bool(0.3) {
                    "all".to_string()
                } else {
                    let mut js: Vec<u32> = (0..neurons).filter(|_| rng.random_bool(0.5)).collect();
                    if js.is_empty() {
                        js.push(0);
                    }
                    js.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
                };
                case.args(&["--vcd", &spec]);
            }
            if rng.random_bool(0.7) {
                case.args(&["-o", "out"]);
                case.promise = Promise::SimDir { dir: "out".into(), model, vcd, steps };
            } else {
                case.promise = Promise::SimDefault { model, vcd, steps };
            }
        }
        "compare" => {
            if rng.random_bool(0.6) {
                case.args(&["--json", "d.json"]);
                case.promise = Promise::File { path: "d.json".into(), kind: FileKind::CompareJson };
            } else {
                case.promise = Promise::Nothing;
            }
        }
        "params" => {
            if rng.random_bool(0.5) {
                case.args(&["--json"]);
            }
            case.promise = Promise::Nothing;
        }
        "stimulus" => {
            case.args(&["-o", "stim.csv"]);
            case.promise = Promise::File { path: "stim.csv".into(), kind: FileKind::StimulusCsv };
        }
        "gen" => {
            if rng.random_bool(0.6) {
                case.args(&["-o", "rtl"]);
                case.promise = Promise::Gen { dir: Some("rtl".into()) };
            } else {
                case.promise = Promise::Gen { dir: None };
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Stimulus and weights CSVs

/// A stimulus CSV with damage of every kind the README's format allows or forbids.
fn stimulus_case(rng: &mut ChaCha8Rng, case: &mut Case) {
    let use_default = rng.random_bool(0.2);
    let net = valid_net(rng);
    let (inputs, neurons) = if use_default { (64, 16) } else { (net.inputs, net.neurons) };
    let run: u32 = rng.random_range(20..=300);
    let with_steps = rng.random_bool(0.5);
    let mut lines: Vec<String> = Vec::new();
    let mut max_step: Option<u64> = None;
    let mut bad = false;
    let mut either = false;
    if rng.random_bool(0.4) {
        lines.push(
            ["step,input", "STEP,INPUT", "step, input", "input,step"]
                .choose(rng)
                .expect("h")
                .to_string(),
        );
        if lines[0] == "input,step" {
            bad = true;
        }
    }
    for _ in 0..rng.random_range(0..25) {
        let (t, i) = (rng.random_range(0..run), rng.random_range(0..inputs));
        let line = match rng.random_range(0..30) {
            0 => "4294967295,0".to_string(),
            1 => "999999999,0".to_string(),
            2 => "4294967296,0".to_string(),
            3 => "-1,0".to_string(),
            4 => format!("{t},-1"),
            5 => format!("x,{i}"),
            6 => format!("{t},{i},7"),
            7 => format!("{t}"),
            8 => format!("{t},{inputs}"),
            9 => format!("{t},4294967295"),
            10 => format!("{t}.0,{i}"),
            11 => format!("1e3,{i}"),
            12 => format!("{t};{i}"),
            13 => format!("\t{t} , {i}  "),
            14 => String::new(),
            15 => "# comment, with, commas".to_string(),
            16 => format!("{t},{i} # trailing"),
            17 => format!("+{t},{i}"),
            18 => format!("{t},{i}\u{0}"),
            19 => format!("{t},\u{0663}"),
            20 => "18446744073709551616,0".to_string(),
            _ => format!("{t},{i}"),
        };
        // What each line deserves (README: `step,input`, blank lines, `#` comments).
        match line.as_str() {
            // Beyond any run --steps can ask for (u32): never acceptable as written.
            "4294967295,0" => bad = true,
            "999999999,0" => {
                if with_steps {
                    bad = true;
                } else {
                    either = true;
                    max_step = max_step.max(Some(999_999_999));
                }
            }
            l if l.is_empty() || l.starts_with('#') => {}
            l if l == format!("{t},{i}") || l == format!("\t{t} , {i}  ") => {
                max_step = max_step.max(Some(t as u64));
            }
            // A leading `+` may be refused; when accepted, it is step t like any other.
            l if l == format!("+{t},{i}") => {
                either = true;
                max_step = max_step.max(Some(t as u64));
            }
            _ => bad = true,
        }
        lines.push(line);
    }
    if rng.random_bool(0.15) {
        let l = lines.choose(rng).cloned().unwrap_or_default();
        lines.push(l);
    }
    let text = lines.join("\n") + if rng.random_bool(0.8) { "\n" } else { "" };
    let (bytes, how) = match rng.random_range(0..5) {
        0 => damage(rng, &text),
        _ => (text.into_bytes(), "kept"),
    };
    if !matches!(how, "kept" | "bom" | "crlf") {
        // The damage may have removed the bad lines, or made good ones bad.
        bad = false;
        either = true;
    }
    if !use_default {
        let mut t = net.toml.clone();
        t.set("stimulus", "kind", "\"poisson\"");
        t.sections.retain(|(s, _)| s != "stimulus.pairing");
        t.set("stimulus", "file", "\"unused.csv\"");
        case.file("net.toml", t.render());
        for (n, b) in &net.files {
            case.file(n, b.clone());
        }
    }
    case.file("stim.csv", bytes);
    let sub = *["sim", "sim", "compare", "stimulus"].choose(rng).expect("cmd");
    case.args(&[sub]);
    if !use_default {
        case.args(&["-c", "net.toml"]);
    }
    case.args(&["-s", "stim.csv"]);
    let mut steps = None;
    if with_steps {
        case.args(&["--steps", &run.to_string()]);
        steps = Some(run as u64);
    } else {
        steps = max_step.map(|m| m + 1).or(steps);
        if max_step.is_none() {
            either = true; // no spike: refused unless --steps says how long
        }
    }
    if bad {
        case.refuse("a malformed or out-of-range stimulus line");
    } else if !either {
        case.expect = Expect::Accept;
        case.note = "every stimulus line is valid".into();
    }
    finish_outputs(rng, case, sub, neurons, steps);
}

/// An initial-weights CSV (`plasticity.w_init_file`) with damage.
fn weights_case(rng: &mut ChaCha8Rng, case: &mut Case) {
    let net = valid_net(rng);
    let mut t = net.toml.clone();
    let mut s = String::new();
    let mut bad = false;
    let mut either = false;
    if rng.random_bool(0.5) {
        s.push_str(
            ["input,neuron,weight\n", "input, neuron, weight\n", "i,n,w\n"].choose(rng).expect("h"),
        );
        if s.starts_with("i,n") {
            bad = true;
        }
    }
    let mut seen = BTreeSet::new();
    for _ in 0..rng.random_range(0..12) {
        let (i, j) = (rng.random_range(0..net.inputs), rng.random_range(0..net.neurons));
        let w = net.w_min + (net.w_max - net.w_min) * rng.random_range(0..=4) as f64 / 4.0;
        let line = match rng.random_range(0..24) {
            0 => format!("{i},{j},nan"),
            1 => format!("{i},{j},inf"),
            2 => format!("{i},{j},-inf"),
            3 => format!("{i},{j},1e308"),
            4 => format!("{i},{j},-0.0"),
            5 => format!("{},{j},{w}", net.inputs),
            6 => format!("{i},{},{w}", net.neurons),
            7 => format!("4294967295,{j},{w}"),
            8 => format!("-1,{j},{w}"),
            9 => format!("{i},{j}"),
            10 => format!("{i},{j},{w},1"),
            11 => format!("{i},{j},{}", net.w_max * 2.0),
            12 => format!("{i},{j},x"),
            13 => String::new(),
            14 => "# comment".to_string(),
            15 => format!("{i},{j},1e-300"),
            _ => format!("{i},{j},{w}"),
        };
        let plain = line == format!("{i},{j},{w}");
        let dup = plain && !seen.insert((i, j));
        match line.as_str() {
            l if l.is_empty() || l.starts_with('#') => {}
            _ if plain && !dup => {}
            l if l == format!("{i},{j},-0.0") || l == format!("{i},{j},1e-300") => {
                if seen.insert((i, j)) {
                    either = true;
                } else {
                    bad = true;
                }
            }
            _ => bad = true,
        }
        s.push_str(&line);
        s.push('\n');
    }
    let (bytes, how) = match rng.random_range(0..5) {
        0 => damage(rng, &s),
        _ => (s.into_bytes(), "kept"),
    };
    if !matches!(how, "kept" | "bom" | "crlf") {
        // The damage may have removed the bad lines, or made good ones bad.
        bad = false;
        either = true;
    }
    let path = match rng.random_range(0..12) {
        0 => {
            bad = true;
            "missing.csv"
        }
        1 => {
            bad = true;
            case.dirs.push("wdir".into());
            "wdir"
        }
        2 => {
            bad = true;
            ""
        }
        3 => "./w.csv",
        _ => "w.csv",
    };
    t.set("plasticity", "w_init_file", format!("\"{path}\""));
    case.file("net.toml", t.render());
    for (n, b) in &net.files {
        if n != "w.csv" {
            case.file(n, b.clone());
        }
    }
    case.file("w.csv", bytes);
    let sub = *["sim", "compare", "params"].choose(rng).expect("cmd");
    case.args(&[sub, "-c", "net.toml"]);
    let steps = if sub != "params" {
        let n = steps_flag(rng, &net);
        case.args(&["--steps", &n.to_string()]);
        Some(n as u64)
    } else {
        None
    };
    if bad {
        case.refuse("a malformed or out-of-range weights line, or no weights file");
    } else if !either {
        case.expect = Expect::Accept;
        case.note = "every weights line is valid".into();
    }
    finish_outputs(rng, case, sub, net.neurons, steps);
}

// ---------------------------------------------------------------------------------------------
// Argument vectors

/// Random mixes of subcommands and flags. Subcommands that need Verilator or Yosys (demo,
/// cosim, synth, run, bench, gen --check) only get argv refused before a tool runs.
fn argv_case(rng: &mut ChaCha8Rng, case: &mut Case) {
    case.file("existing.txt", "not a folder\n");
    case.dirs.push("folder".into());
    case.file("full/kept.txt", "kept\n");
    let small = rng.random_bool(0.7);
    let net = valid_net(rng);
    let neurons = if small { net.neurons } else { 16 };
    let mut cfg_args: Vec<String> = Vec::new();
    if small {
        let mut t = net.toml.clone();
        if t.get("stimulus", "kind") == Some("\"file\"") {
            t.set("stimulus", "kind", "\"poisson\"");
        }
        case.file("net.toml", t.render());
        for (n, b) in &net.files {
            case.file(n, b.clone());
        }
        cfg_args = vec!["-c".into(), "net.toml".into()];
    }
    let subs = ["sim", "sim", "sim", "compare", "compare", "params", "stimulus", "gen", "tool"];
    let sub = *subs.choose(rng).expect("sub");
    if sub == "tool" {
        return tool_refusal(rng, case, cfg_args);
    }
    case.args(&[sub]);
    case.argv.extend(cfg_args);
    let mut steps: Option<u64> = if small { Some(net.steps as u64) } else { Some(20000) };
    if sub == "params" || sub == "gen" {
        steps = None;
    }
    let mut out_flag: Option<String> = None;
    let mut json_flag: Option<String> = None;
    let mut vcd = false;
    let mut model = "fixed";
    let mut unknown = false;
    let runs = sub == "sim" || sub == "compare" || sub == "stimulus";
    for _ in 0..rng.random_range(0..=4) {
        match rng.random_range(0..10) {
            0 | 1 if runs => {
                let (v, ok) = *[
                    ("0", false),
                    ("1", true),
                    ("2", true),
                    ("57", true),
                    ("300", true),
                    ("-1", false),
                    ("abc", false),
                    ("", false),
                    ("1e3", false),
                    (" 5", false),
                    ("4294967296", false),
                    ("18446744073709551616", false),
                    ("4294967295", true),
                ]
                .choose(rng)
                .expect("steps");
                if case.argv.iter().any(|a| a == "--steps") {
                    case.refuse("--steps given twice");
                }
                case.args(&["--steps", v]);
                if ok {
                    steps = v.parse().ok();
                    if v == "4294967295" {
                        case.note.push_str("a huge --steps must be refused or run in bounds; ");
                    }
                } else {
                    case.refuse("--steps not a positive integer below 2^32");
                }
            }
            2 if sub == "sim" => {
                let (v, ok) = *[
                    ("", false),
                    (",", false),
                    ("0,0,1", false),
                    ("all", true),
                    ("0", true),
                    ("-1", false),
                    ("x", false),
                    ("ALL", false),
                    ("99", false),
                    ("18446744073709551616", false),
                    ("0,,0", false),
                    (" 0 ", true),
                ]
                .choose(rng)
                .expect("vcd");
                if case.argv.iter().any(|a| a == "--vcd") {
                    case.refuse("--vcd given twice");
                }
                case.args(&["--vcd", v]);
                vcd = true;
                if !ok {
                    case.refuse("--vcd neither a list of distinct existing neurons nor `all`");
                }
            }
            2 if sub == "compare" => {
                let v = *["0", "1", "2", "100", "4294967295", "4294967296", "-1", "abc", ""]
                    .choose(rng)
                    .expect("window");
                if case.argv.iter().any(|a| a == "--window") {
                    case.refuse("--window given twice");
                }
                case.args(&["--window", v]);
                if v.parse::<u32>().is_err() {
                    case.refuse("--window not an integer below 2^32");
                }
            }
            3 if sub == "sim" => {
                let (v, ok) = *[
                    ("fixed", true),
                    ("float", true),
                    ("FIXED", false),
                    ("", false),
                    ("quantum", false),
                ]
                .choose(rng)
                .expect("model");
                if case.argv.iter().any(|a| a == "--model") {
                    case.refuse("--model given twice");
                }
                case.args(&["--model", v]);
                if ok {
                    model = if v == "float" { "float" } else { "fixed" };
                } else {
                    case.refuse("--model not fixed or float");
                }
            }
            4 | 5 if matches!(sub, "sim" | "stimulus" | "gen") => {
                let (v, ok) = *[
                    ("out", true),
                    ("a/b/c", true),
                    ("folder", true),
                    ("full", true),
                    ("existing.txt", false),
                    ("existing.txt/sub", false),
                    ("", false),
                    ("out/", true),
                ]
                .choose(rng)
                .expect("out");
                let flag = if rng.random_bool(0.5) { "-o" } else { "--out" };
                if out_flag.is_some() {
                    case.refuse("-o given twice");
                }
                case.args(&[flag, v]);
                out_flag = Some(v.to_string());
                let ok = match sub {
                    // A stimulus file: an existing file is overwritten, a folder is no file.
                    "stimulus" => {
                        !matches!(v, "folder" | "full" | "out/" | "existing.txt/sub" | "")
                    }
                    _ => ok,
                };
                if !ok {
                    case.refuse("-o names no usable output");
                }
            }
            4 | 5 if sub == "compare" => {
                let (v, ok) = *[
                    ("d.json", true),
                    ("sub/d.json", true),
                    ("folder", false),
                    ("existing.txt", true),
                    ("existing.txt/x.json", false),
                    ("", false),
                ]
                .choose(rng)
                .expect("json");
                if json_flag.is_some() {
                    case.refuse("--json given twice");
                }
                case.args(&["--json", v]);
                json_flag = Some(v.to_string());
                if !ok {
                    case.refuse("--json names no writable file");
                }
            }
            4 if sub == "params" => {
                if case.argv.iter().any(|a| a == "--json") {
                    case.refuse("--json given twice");
                }
                case.args(&["--json"]);
            }
            6 => {
                let (v, ok) = *[
                    ("0", false),
                    ("1", true),
                    ("2", true),
                    ("1024", true),
                    ("1025", false),
                    ("65536", false),
                    ("-1", false),
                    ("abc", false),
                ]
                .choose(rng)
                .expect("threads");
                if case.argv.iter().any(|a| a == "--threads") {
                    case.refuse("--threads given twice");
                }
                case.args(&["--threads", v]);
                if !ok {
                    case.refuse("--threads not 1 to 1024");
                }
            }
            7 => {
                let v = *["--frobnicate", "-x", "--steps=", "extra", "-c", "--config", "--no-such"]
                    .choose(rng)
                    .expect("unknown");
                case.args(&[v]);
                unknown = true;
                case.refuse("an unknown or incomplete flag or argument");
            }
            8 if sub != "params" && sub != "gen" => {
                let (v, exists) = *[
                    ("stim.csv", true),
                    ("missing.csv", false),
                    ("folder", false),
                    ("existing.txt", false),
                ]
                .choose(rng)
                .expect("stim");
                if case.argv.iter().any(|a| a == "-s") {
                    case.refuse("-s given twice");
                }
                if exists {
                    let ins = if small { net.inputs } else { 64 };
                    let csv = valid_csv(rng, ins, 50);
                    // Without --steps the run lasts to the last spike.
                    let last = csv
                        .lines()
                        .filter_map(|l| l.split_once(',').and_then(|(t, _)| t.parse::<u64>().ok()))
                        .max();
                    if !case.argv.iter().any(|a| a == "--steps") {
                        steps = last.map(|m| m + 1);
                    }
                    case.file("stim.csv", csv);
                }
                case.args(&["-s", v]);
                if !exists {
                    case.refuse("-s names no stimulus file");
                }
            }
            _ => {
                let v = *["-c", "--config"].choose(rng).expect("c");
                let (f, ok) =
                    *[("missing.toml", false), ("folder", false), ("existing.txt", false)]
                        .choose(rng)
                        .expect("cfg");
                if case.argv.iter().any(|a| a == "-c" || a == "--config") {
                    case.refuse("-c given twice");
                }
                case.args(&[v, f]);
                if !ok {
                    case.refuse("-c names no config");
                }
            }
        }
    }
    if case.argv.iter().any(|a| a == "--steps") && case.argv.iter().any(|a| a == "-s") {
        // The --steps given decides; keep the last parsed value from the loop.
        let i = case.argv.iter().rposition(|a| a == "--steps").expect("present");
        steps = case.argv.get(i + 1).and_then(|v| v.parse().ok());
    }
    if unknown || case.expect == Expect::Refuse {
        case.promise = Promise::Unknown;
        return;
    }
    case.promise = match sub {
        "sim" => match out_flag {
            Some(d) => Promise::SimDir { dir: d, model, vcd, steps },
            None => Promise::SimDefault { model, vcd, steps },
        },
        "compare" => match json_flag {
            Some(p) => Promise::File { path: p, kind: FileKind::CompareJson },
            None => Promise::Nothing,
        },
        "params" => Promise::Nothing,
        "stimulus" => match out_flag {
            Some(p) => Promise::File { path: p, kind: FileKind::StimulusCsv },
            None => {
                case.refuse("stimulus needs -o");
                Promise::Unknown
            }
        },
        "gen" => Promise::Gen { dir: out_flag },
        _ => Promise::Unknown,
    };
    let _ = neurons;
}

/// Subcommands that need the tools, with an argv that must be refused before any tool runs.
fn tool_refusal(rng: &mut ChaCha8Rng, case: &mut Case, cfg_args: Vec<String>) {
    case.file("bad.toml", "[network]\nno_such_field = 1\n");
    let sub = *["demo", "cosim", "synth", "run", "bench", "gen"].choose(rng).expect("tool sub");
    case.args(&[sub]);
    let bad_cfg = |rng: &mut ChaCha8Rng, case: &mut Case| match rng.random_range(0..4) {
        0 => case.args(&["-c", "bad.toml"]),
        1 => case.args(&["-c", "missing.toml"]),
        2 => case.args(&["-c", "folder"]),
        _ => case.args(&["--threads", "0"]),
    };
    match sub {
        "demo" | "cosim" => match rng.random_range(0..6) {
            0 => case.args(&["--steps", "0"]),
            1 => case.args(&["--steps", "abc"]),
            2 => case.args(&["-o", "existing.txt", "-c", "bad.toml"]),
            3 => case.args(&["-s", "missing.csv"]),
            4 if sub == "cosim" => case.args(&["--gates", "xilinx"]),
            _ => bad_cfg(rng, case),
        },
        "synth" => match rng.random_range(0..5) {
            0 => case.args(&["-b", "no-such-board"]),
            1 => {
                let f =
                    *["0", "nan", "inf", "-1", "1e9", "0.5", "401", "abc"].choose(rng).expect("f");
                case.args(&["-b", "icebreaker", "--freq", f]);
            }
            2 => case.args(&["--freq", "32"]),
            3 => case.args(&["-b", "icebreaker", "--baud", "-1"]),
            _ => {
                case.args(&["-b", "icebreaker"]);
                bad_cfg(rng, case);
            }
        },
        "run" => {
            case.argv.extend(cfg_args);
            match rng.random_range(0..5) {
                0 => {}
                1 => case.args(&["--sim", "--port", "/dev/null"]),
                2 => case.args(&["--board", "no-such-board", "--port", "/dev/null"]),
                3 => case.args(&["--board", "icebreaker"]),
                _ => bad_cfg(rng, case),
            }
        }
        "bench" => {
            let (flag, v) = *[
                ("--min-secs", "0.1"),
                ("--min-secs", "nan"),
                ("--min-secs", "inf"),
                ("--inputs", "abc"),
                ("--neurons", "x"),
                ("--rate-hz", "y"),
                ("--warmup-steps", "-1"),
            ]
            .choose(rng)
            .expect("bench");
            case.args(&[flag, v]);
        }
        _ => {
            case.args(&["--check"]);
            bad_cfg(rng, case);
        }
    }
    case.refuse("refused before any tool runs");
    case.promise = Promise::Unknown;
}

/// The case `index` of the run seeded `seed`.
fn generate(seed: u64, index: u64) -> Case {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index);
    let class = *["config", "config", "valid", "stimulus", "weights", "argv", "argv"]
        .choose(&mut rng)
        .expect("classes");
    let mut case = Case::new(class);
    match class {
        "config" => config_case(&mut rng, &mut case),
        "valid" => valid_case(&mut rng, &mut case),
        "stimulus" => stimulus_case(&mut rng, &mut case),
        "weights" => weights_case(&mut rng, &mut case),
        _ => argv_case(&mut rng, &mut case),
    }
    case
}

// ---------------------------------------------------------------------------------------------
// Running and judging

struct Run {
    code: Option<i32>,
    signal: Option<i32>,
    /// Still running at [`CASE_TIMEOUT`], so interrupted with SIGINT (a long run is fine if
    /// an interrupt ends it cleanly).
    interrupted: bool,
    /// Still running [`INTERRUPT_GRACE`] after the interrupt, so killed.
    timed_out: bool,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    wall: Duration,
}

/// Files and folders under `dir` with their kind, permission bits and a content hash.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (bool, u32, u64)> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, (bool, u32, u64)>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
            let rel = path.strip_prefix(root).expect("under root").to_path_buf();
            let mode = meta.permissions().mode() & 0o777;
            if meta.is_dir() {
                out.insert(rel, (true, mode, 0));
                walk(root, &path, out);
            } else {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                std::fs::read(&path).unwrap_or_default().hash(&mut h);
                out.insert(rel, (false, mode, h.finish()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn run_child(work: &Path, argv: &[String]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_synforge"));
    cmd.args(argv)
        .current_dir(work)
        .env("RUST_BACKTRACE", "0")
        // Never find, install or run the pinned tools from here.
        .env("SYNFORGE_TOOLS", "/nonexistent/synforge-fuzz-tools")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit and umask are async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit { rlim_cur: MEMORY_LIMIT_BYTES, rlim_max: MEMORY_LIMIT_BYTES };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::umask(CHILD_UMASK as libc::mode_t);
            Ok(())
        });
    }
    let t0 = Instant::now();
    let mut child = cmd.spawn().expect("the synforge binary starts");
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut keep = Vec::new();
            if let Some(mut r) = r {
                let mut buf = [0u8; 8192];
                while let Ok(n) = r.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if keep.len() < 1 << 20 {
                        keep.extend_from_slice(&buf[..n]);
                    }
                }
            }
            keep
        })
    };
    let out = drain(child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
    let err = drain(child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
    let (mut interrupted, mut timed_out) = (false, false);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for synforge") {
            break s;
        }
        if !interrupted && t0.elapsed() > CASE_TIMEOUT {
            interrupted = true;
            // SAFETY: signalling our own child.
            unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
        }
        if interrupted && t0.elapsed() > CASE_TIMEOUT + INTERRUPT_GRACE {
            timed_out = true;
            let _ = child.kill();
            break child.wait().expect("wait for the killed synforge");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let wall = t0.elapsed();
    Run {
        code: status.code(),
        signal: status.signal(),
        interrupted,
        timed_out,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        wall,
    }
}

/// Write the case's files under `root/WORK_DIR` and run it; returns the run and its problems.
fn run_case(case: &Case, root: &Path) -> (Run, Vec<String>) {
    let work = root.join(WORK_DIR);
    std::fs::create_dir_all(&work).expect("case folder");
    let root_s = root.display().to_string();
    for d in &case.dirs {
        std::fs::create_dir_all(work.join(d)).expect("case sub-folder");
    }
    for (name, bytes) in &case.files {
        let path = work.join(name);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).expect("case file folder");
        }
        let bytes = match std::str::from_utf8(bytes) {
            Ok(s) if s.contains(ROOT) => s.replace(ROOT, &root_s).into_bytes(),
            _ => bytes.clone(),
        };
        std::fs::write(&path, bytes).expect("case file");
    }
    let argv: Vec<String> = case.argv.iter().map(|a| a.replace(ROOT, &root_s)).collect();
    let before = snapshot(root);
    let run = run_child(&work, &argv);
    let after = snapshot(root);
    let problems = judge(case, &run, root, &before, &after);
    (run, problems)
}

/// Everything wrong with how `run` ended.
fn judge(
    case: &Case,
    run: &Run,
    root: &Path,
    before: &BTreeMap<PathBuf, (bool, u32, u64)>,
    after: &BTreeMap<PathBuf, (bool, u32, u64)>,
) -> Vec<String> {
    let mut p = Vec::new();
    let stderr = String::from_utf8_lossy(&run.stderr);
    if run.timed_out {
        p.push(format!("hang: still running {} s after SIGINT, killed", INTERRUPT_GRACE.as_secs()));
    } else if run.interrupted {
        // A run longer than the case's time: the interrupt must end it, leaving nothing.
        if run.code != Some(130) || !stderr.contains("interrupted: unfinished outputs removed") {
            p.push(format!("SIGINT ended it with {:?} / {:?}", run.code, run.signal));
        }
    } else if let Some(sig) = run.signal {
        p.push(format!(
            "killed by signal {sig}{}",
            if sig == libc::SIGABRT { " (abort)" } else { "" }
        ));
    }
    if stderr.contains("panicked") {
        p.push("panicked".into());
    }
    if stderr.contains("memory allocation of") {
        p.push("allocation failure".into());
    }
    let code = run.code;
    match code {
        Some(0) | Some(2) => {}
        Some(130) if run.interrupted => {}
        Some(101) => p.push("exit 101 (panic)".into()),
        Some(c) => p.push(format!("exit {c}")),
        None => {}
    }
    let changed: Vec<&PathBuf> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|(k, _)| k)
        .chain(before.keys().filter(|k| !after.contains_key(*k)))
        .collect();
    let work_rel = PathBuf::from(WORK_DIR);
    if code == Some(130) && !changed.is_empty() {
        p.push(format!("an interrupted run left output behind: {}", list(&changed)));
    }
    let stages: Vec<&PathBuf> = after
        .keys()
        .filter(|k| {
            k.file_name().is_some_and(|n| n.to_string_lossy().starts_with(".synforge-stage-"))
        })
        .collect();
    if !stages.is_empty() {
        p.push(format!("staged output left behind: {}", list(&stages)));
    }
    if code == Some(2) {
        let has_error = stderr
            .lines()
            .any(|l| l.strip_prefix("error:").is_some_and(|rest| !rest.trim().is_empty()));
        if !has_error {
            p.push("exit 2 without a non-empty `error:` line".into());
        }
        if !changed.is_empty() {
            p.push(format!("exit 2 left output behind: {}", list(&changed)));
        }
        if case.expect == Expect::Accept {
            p.push("valid input refused".into());
        }
    }
    if code == Some(0) {
        if case.expect == Expect::Refuse {
            p.push("bad input accepted (exit 0)".into());
        }
        let hidden: Vec<&PathBuf> = changed
            .iter()
            .copied()
            .filter(|k| k.file_name().is_some_and(|n| n.to_string_lossy().starts_with(".tmp")))
            .collect();
        if !hidden.is_empty() {
            p.push(format!("temporary files left: {}", list(&hidden)));
        }
        let work = root.join(WORK_DIR);
        let inside = |k: &Path, allowed: &Path| {
            let a = work_rel.join(allowed);
            let a = normalize(&a);
            k.starts_with(&a) || a.starts_with(k)
        };
        let allowed: Vec<PathBuf> = match &case.promise {
            Promise::Nothing => Vec::new(),
            Promise::SimDir { dir, .. } => vec![PathBuf::from(dir)],
            Promise::SimDefault { .. } | Promise::Gen { dir: None } => vec![PathBuf::from("build")],
            Promise::Gen { dir: Some(d) } => vec![PathBuf::from(d)],
            Promise::File { path, .. } => vec![PathBuf::from(path)],
            Promise::Unknown => vec![PathBuf::new()],
        };
        let outside: Vec<&PathBuf> =
            changed.iter().copied().filter(|k| !allowed.iter().any(|a| inside(k, a))).collect();
        if !outside.is_empty() {
            p.push(format!("wrote outside the promised output: {}", list(&outside)));
        }
        p.extend(check_promise(case, &work, &run.stdout));
        // Last: every exit 0 has it while outputs are made 0600, and it must not hide the rest.
        for k in &changed {
            if let Some(&(dir, mode, _)) = after.get(*k) {
                let want = if dir { 0o777 & !CHILD_UMASK } else { 0o666 & !CHILD_UMASK };
                if mode != want && !before.contains_key(*k) {
                    p.push(format!(
                        "output mode {mode:04o} where the umask allows {want:04o}: {}",
                        k.display()
                    ));
                    break;
                }
            }
        }
    }
    p
}

fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

fn list(paths: &[&PathBuf]) -> String {
    let mut v: Vec<String> = paths.iter().take(6).map(|p| p.display().to_string()).collect();
    if paths.len() > 6 {
        v.push(format!("... ({} in all)", paths.len()));
    }
    v.join(", ")
}

/// The files exit 0 promised, and what they must hold.
fn check_promise(case: &Case, work: &Path, stdout: &[u8]) -> Vec<String> {
    let mut p = Vec::new();
    let sim_set = |dir: &Path, model: &str, vcd: bool, steps: Option<u64>, p: &mut Vec<String>| {
        let mut names = vec!["spikes.csv".to_string(), "weights.csv".into(), "summary.json".into()];
        if vcd {
            names.push(format!("waves/{model}.vcd"));
        }
        for n in &names {
            if !dir.join(n).is_file() {
                p.push(format!("exit 0 without a promised file: {}", dir.join(n).display()));
            }
        }
        if let Ok(text) = std::fs::read_to_string(dir.join("summary.json")) {
            match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(j) => {
                    if let (Some(want), Some(got)) = (steps, j["summary"]["steps"].as_u64()) {
                        if want != got {
                            p.push(format!(
                                "summary.json steps differ from the run's: {got}, not {want}"
                            ));
                        }
                    }
                }
                Err(e) => p.push(format!("summary.json is not JSON: {e}")),
            }
        }
    };
    match &case.promise {
        Promise::SimDir { dir, model, vcd, steps } => {
            let d = if dir.is_empty() { work.to_path_buf() } else { work.join(dir) };
            sim_set(&d, model, *vcd, *steps, &mut p);
        }
        Promise::SimDefault { model, vcd, steps } => {
            let found = find_file(&work.join("build/sim"), "summary.json");
            match found {
                Some(summary) => {
                    let d = summary.parent().expect("in a folder").to_path_buf();
                    sim_set(&d, model, *vcd, *steps, &mut p);
                }
                None => p.push("exit 0 but no summary.json under build/sim".into()),
            }
        }
        Promise::File { path, kind } => {
            let f = work.join(path);
            match std::fs::read(&f) {
                Err(e) => p.push(format!("exit 0 without a promised file: {} ({e})", f.display())),
                Ok(bytes) => match kind {
                    FileKind::CompareJson => {
                        match serde_json::from_slice::<serde_json::Value>(&bytes) {
                            Ok(j) => {
                                let a = j["spike_agreement"].as_f64();
                                if !a.is_some_and(|a| (0.0..=1.0).contains(&a)) {
                                    p.push(format!("spike_agreement {a:?} is not in [0, 1]"));
                                }
                            }
                            Err(e) => p.push(format!("{} is not JSON: {e}", f.display())),
                        }
                    }
                    FileKind::StimulusCsv => {
                        if !bytes.starts_with(b"step,input\n") {
                            p.push(format!("{} does not start with the header", f.display()));
                        }
                    }
                },
            }
        }
        Promise::Gen { dir } => {
            let d = match dir {
                Some(d) => Some(work.join(d)),
                None => find_file(&work.join("build/gen"), "manifest.json")
                    .map(|m| m.parent().expect("in a folder").to_path_buf()),
            };
            match d {
                Some(d) => {
                    for n in ["manifest.json", "layout.md", "synforge_core.core"] {
                        if !d.join(n).is_file() {
                            p.push(format!(
                                "exit 0 without a promised file: {}",
                                d.join(n).display()
                            ));
                        }
                    }
                }
                None => p.push("exit 0 but no manifest.json under build/gen".into()),
            }
        }
        Promise::Nothing => {
            if case.argv.iter().any(|a| a == "--json") && case.argv[0] == "params" {
                if let Err(e) = serde_json::from_slice::<serde_json::Value>(stdout) {
                    p.push(format!("params --json printed no JSON: {e}"));
                }
            }
        }
        Promise::Unknown => {}
    }
    p
}

fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(f) = find_file(&path, name) {
                return Some(f);
            }
        } else if path.file_name().is_some_and(|n| n == name) {
            return Some(path);
        }
    }
    None
}

/// A failure class: the first problem (numbers and paths blurred), the exit and the stderr's
/// first line (likewise), per subcommand.
fn signature(case: &Case, run: &Run, problems: &[String]) -> String {
    let blur = |s: &str| -> String {
        let mut out = String::new();
        let mut last_digit = false;
        for c in s.chars() {
            if c.is_ascii_digit() {
                if !last_digit {
                    out.push('N');
                }
                last_digit = true;
            } else {
                last_digit = false;
                out.push(c);
            }
        }
        out.chars().take(90).collect()
    };
    let first_err = String::from_utf8_lossy(&run.stderr)
        .lines()
        .find(|l| !l.trim().is_empty())
        .map(|l| {
            // The case folder's random name would make every failure a class of its own.
            let mut l = l.to_string();
            while let Some(i) = l.find("synforge-fuzz-") {
                let rest = &l[i + 14..];
                let n = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
                l.replace_range(i..i + 14 + n, "CASE");
            }
            l
        })
        .unwrap_or_default();
    let mut p0 =
        problems.first().map(|p| p.split(':').next().unwrap_or(p).to_string()).unwrap_or_default();
    if p0.starts_with("bad input accepted") || p0.starts_with("valid input refused") {
        p0 = format!("{p0}: {}", case.note);
    }
    format!(
        "{} | {} | exit {:?} sig {:?} | {}",
        case.argv.first().map(String::as_str).unwrap_or(""),
        blur(&p0),
        run.code,
        run.signal,
        blur(&first_err)
    )
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| {
        v.trim().parse().unwrap_or_else(|_| panic!("{name}={v:?} is not a non-negative integer"))
    })
}

#[test]
fn fuzz_cli_refuses_bad_input_cleanly() {
    let seed = env_u64("SYNFORGE_FUZZ_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            ^ rand::rng().next_u64()
    });
    let seconds = env_u64("SYNFORGE_FUZZ_SECONDS").unwrap_or(DEFAULT_SECONDS);
    let only = env_u64("SYNFORGE_FUZZ_CASE");
    let max_cases = env_u64("SYNFORGE_FUZZ_CASES").unwrap_or(u64::MAX);
    println!("fuzz: seed {seed} (SYNFORGE_FUZZ_SEED={seed}), {seconds} s (SYNFORGE_FUZZ_SECONDS)");
    let t0 = Instant::now();
    // class -> (exit 0, exit 2, failed)
    let mut tally: BTreeMap<&'static str, (u64, u64, u64, u64)> = BTreeMap::new();
    // signature -> (count, smallest case index, its text)
    let mut failures: BTreeMap<String, (u64, u64, usize, String)> = BTreeMap::new();
    let mut slowest = (Duration::ZERO, 0u64);
    let mut index = only.unwrap_or(0);
    let mut cases = 0u64;
    loop {
        if cases >= max_cases || (only.is_none() && t0.elapsed() > Duration::from_secs(seconds)) {
            break;
        }
        if only.is_some() && cases == 1 {
            break;
        }
        let case = generate(seed, index);
        let dir =
            tempfile::Builder::new().prefix("synforge-fuzz-").tempdir().expect("temporary folder");
        let (run, problems) = run_case(&case, dir.path());
        cases += 1;
        if run.wall > slowest.0 {
            slowest = (run.wall, index);
        }
        let t = tally.entry(case.class).or_default();
        if !problems.is_empty() {
            t.2 += 1;
            let sig = signature(&case, &run, &problems);
            let e = failures.entry(sig).or_insert((0, index, usize::MAX, String::new()));
            e.0 += 1;
            if case.size() < e.2 {
                let stderr = String::from_utf8_lossy(&run.stderr);
                let head: Vec<&str> = stderr.lines().take(4).collect();
                e.1 = index;
                e.2 = case.size();
                e.3 = format!(
                    "case {index} ({}), exit {:?}, signal {:?}, {:.2} s\n  problems: {}\n  stderr: {}\n{}",
                    case.class,
                    run.code,
                    run.signal,
                    run.wall.as_secs_f64(),
                    problems.join("; "),
                    head.join("\n          "),
                    case.describe()
                );
            }
        } else if run.code == Some(0) {
            t.0 += 1;
        } else if run.interrupted {
            t.3 += 1;
        } else {
            t.1 += 1;
        }
        index += 1;
    }
    println!(
        "fuzz: {cases} cases in {:.1} s (slowest: case {} in {:.2} s)",
        t0.elapsed().as_secs_f64(),
        slowest.1,
        slowest.0.as_secs_f64()
    );
    println!(
        "  {:<10} {:>8} {:>8} {:>12} {:>8}",
        "class", "exit 0", "exit 2", "interrupted", "failed"
    );
    for (class, (ok, refused, failed, interrupted)) in &tally {
        println!("  {class:<10} {ok:>8} {refused:>8} {interrupted:>12} {failed:>8}");
    }
    if failures.is_empty() {
        return;
    }
    let mut report = format!(
        "{} failure classes in {cases} cases; reproduce one with SYNFORGE_FUZZ_SEED={seed} SYNFORGE_FUZZ_CASE=<case>\n",
        failures.len()
    );
    for (sig, (count, _, _, text)) in &failures {
        let _ = write!(report, "\n== {sig}  [{count} cases]\n{text}");
    }
    panic!("{report}\nseed {seed}");
}
