//! Integration tests of the `synforge` command line.
//!
//! Every test runs the real binary in its own temporary folder. Good input: the files each
//! subcommand promises, with the right headers and fields. Bad input: exit status 2, the exact
//! message (naming the field, file and line, and the fix), and no output folder or file left
//! behind.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod consolidation;
mod continual;
mod fuzz;
mod modulator;
mod plot;
mod reward;
mod synapse_vars;

fn synforge(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synforge"))
        .args(args)
        .current_dir(dir)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("the synforge binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Run and require success; returns stdout.
fn ok(dir: &Path, args: &[&str]) -> String {
    let out = synforge(dir, args);
    assert!(
        out.status.success(),
        "synforge {args:?} failed with {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create folder");
    }
    std::fs::write(&path, contents).expect("write test input");
    path
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&read(path))
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Every path under `dir`, relative, files and folders.
fn tree(dir: &Path) -> BTreeSet<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("list folder") {
            let path = entry.expect("folder entry").path();
            out.insert(path.strip_prefix(root).expect("under root").to_path_buf());
            if path.is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

/// Bad input: exit status 2, exactly `stderr`, nothing on stdout, and the folder exactly as
/// before (no output folder, no partial or temporary file).
fn refused(dir: &Path, args: &[&str], stderr: &str) {
    let before = tree(dir);
    let out = synforge(dir, args);
    assert_eq!(
        out.status.code(),
        Some(2),
        "synforge {args:?}: exit status\nstderr:\n{}",
        text(&out.stderr)
    );
    assert_eq!(text(&out.stderr), stderr, "synforge {args:?}: error text");
    assert_eq!(text(&out.stdout), "", "synforge {args:?}: nothing on stdout");
    assert_eq!(tree(dir), before, "synforge {args:?} left files behind");
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary folder")
}

/// A network whose every format is given, so error texts naming formats do not depend on the
/// built-in defaults.
const FORMATS: &str = "\
[formats.membrane]
width = 16
frac = 8
[formats.weight]
width = 8
frac = 8
[formats.threshold]
width = 16
frac = 8
";

/// `step,neuron` rows of a spikes.csv, checked for shape.
fn spike_rows(csv: &str, steps: u64, neurons: u64) -> Vec<(u64, u64)> {
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("step,neuron"));
    let rows: Vec<(u64, u64)> = lines
        .map(|l| {
            let (t, j) = l.split_once(',').unwrap_or_else(|| panic!("bad spikes.csv line `{l}`"));
            (t.parse().expect("step"), j.parse().expect("neuron"))
        })
        .collect();
    assert!(rows.windows(2).all(|w| w[0] < w[1]), "spikes in time order, one per neuron");
    assert!(rows.iter().all(|&(t, j)| t < steps && j < neurons), "spikes within the run");
    rows
}

// ---------------------------------------------------------------------------------------------
// sim

#[test]
fn sim_writes_spikes_weights_summary_and_vcd() {
    let dir = tmp();
    let stdout = ok(dir.path(), &["sim", "--steps", "500", "-o", "out", "--vcd", "0,1"]);
    let out = dir.path().join("out");

    let summary = json(&out.join("summary.json"));
    let s = &summary["summary"];
    assert_eq!(s["model"], "fixed");
    let name = s["network"].as_str().expect("network name");
    assert!(!name.is_empty());
    assert_eq!(s["steps"], 500);
    let inputs = s["inputs"].as_u64().expect("inputs");
    let neurons = s["neurons"].as_u64().expect("neurons");
    assert!(inputs >= 1 && neurons >= 2);
    assert!(s["input_spikes"].as_u64().expect("input_spikes") > 0);
    assert_eq!(s["dt_ms"].as_f64().map(|dt| dt * 500.0 / 1000.0), s["simulated_s"].as_f64());
    let counts: Vec<u64> = s["spike_counts"]
        .as_array()
        .expect("spike_counts")
        .iter()
        .map(|c| c.as_u64().expect("count"))
        .collect();
    assert_eq!(counts.len() as u64, neurons);
    assert_eq!(s["rates_hz"].as_array().map(Vec::len), Some(neurons as usize));
    assert!(s["weights"]["histogram"].is_array());
    assert!(s["events_per_s"].is_number());
    let q = summary["quantization"].as_array().expect("quantization report");
    let tau_m = q.iter().find(|e| e["field"] == "neuron.tau_m_ms").expect("tau_m entry");
    for key in ["requested", "realised", "raw", "rel_error", "format"] {
        assert!(!tau_m[key].is_null(), "quantization entry has {key}");
    }
    for key in ["v", "w", "theta", "x1", "x2", "y1", "y2", "amp"] {
        assert!(summary["formats"][key]["width"].is_u64(), "formats.{key}");
    }

    let rows = spike_rows(&read(&out.join("spikes.csv")), 500, neurons);
    assert_eq!(rows.len() as u64, s["output_spikes"].as_u64().expect("output_spikes"));
    let mut per_neuron = vec![0u64; neurons as usize];
    for (_, j) in &rows {
        per_neuron[*j as usize] += 1;
    }
    assert_eq!(per_neuron, counts);

    let weights = read(&out.join("weights.csv"));
    let mut lines = weights.lines();
    assert_eq!(lines.next(), Some("input,neuron,weight"));
    let mut n = 0;
    for (k, l) in lines.enumerate() {
        let f: Vec<&str> = l.split(',').collect();
        assert_eq!(f.len(), 3, "weights.csv line `{l}`");
        assert_eq!(f[0].parse::<u64>().expect("input"), k as u64 / neurons);
        assert_eq!(f[1].parse::<u64>().expect("neuron"), k as u64 % neurons);
        let w: f64 = f[2].parse().expect("weight");
        assert!(w.is_finite() && w >= 0.0, "weight {w}");
        n += 1;
    }
    assert_eq!(n, inputs * neurons);

    let vcd = read(&out.join("waves/fixed.vcd"));
    for needle in [
        "$scope module neuron_0 $end",
        "$scope module neuron_1 $end",
        "state_v_mem",
        "state_theta",
        "state_trace_y1",
        "state_refrac",
        "event_spike",
        "$enddefinitions $end",
    ] {
        assert!(vcd.contains(needle), "the VCD has `{needle}`");
    }
    assert!(!vcd.contains("neuron_2"), "only the neurons asked for");
    assert!(vcd.contains("#499000"), "one sample per step, 1 ms = 1000 us");

    for f in ["spikes.csv", "weights.csv", "summary.json", "waves/fixed.vcd"] {
        assert!(stdout.contains(&format!("wrote out/{f}")), "stdout names {f}:\n{stdout}");
    }
    // Nothing but the promised files (no leftover temporaries).
    let files: Vec<PathBuf> = tree(&out).into_iter().collect();
    let want: Vec<PathBuf> = [
        ".synforge-output",
        "config.toml",
        "spikes.csv",
        "spikes.npy",
        "summary.json",
        "waves",
        "waves/fixed.vcd",
        "weights.csv",
        "weights.npy",
        "weights_start.csv",
        "weights_start.npy",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    assert_eq!(files, want);
}

#[test]
fn sim_writes_to_build_sim_by_default() {
    let dir = tmp();
    ok(dir.path(), &["sim", "--steps", "200"]);
    write(dir.path(), "net.toml", "[network]\nname = \"mine\"\n");
    ok(dir.path(), &["sim", "-c", "net.toml", "--steps", "200", "--model", "float"]);
    for out in ["build/sim/mine/float", "build/sim/default/fixed"] {
        for f in ["spikes.csv", "weights.csv", "summary.json"] {
            assert!(dir.path().join(out).join(f).is_file(), "{f} in {out}");
        }
    }
}

#[test]
fn sim_runs_the_float_model() {
    let dir = tmp();
    ok(dir.path(), &["sim", "--model", "float", "--steps", "500", "-o", "f", "--vcd", "1"]);
    let summary = json(&dir.path().join("f/summary.json"));
    assert_eq!(summary["summary"]["model"], "float");
    assert_eq!(summary["summary"]["steps"], 500);
    let neurons = summary["summary"]["neurons"].as_u64().expect("neurons");
    spike_rows(&read(&dir.path().join("f/spikes.csv")), 500, neurons);
    let vcd = read(&dir.path().join("f/waves/float.vcd"));
    assert!(vcd.contains("$var real 64"), "the float model writes real variables");
    assert!(vcd.contains("neuron_1") && !vcd.contains("neuron_0"));
}

#[test]
fn sim_is_deterministic() {
    let dir = tmp();
    ok(dir.path(), &["sim", "--steps", "500", "-o", "a"]);
    ok(dir.path(), &["sim", "--steps", "500", "-o", "b"]);
    for f in ["spikes.csv", "weights.csv"] {
        assert_eq!(read(&dir.path().join("a").join(f)), read(&dir.path().join("b").join(f)));
    }
}

// ---------------------------------------------------------------------------------------------
// compare, params, demo

#[test]
fn compare_prints_the_metrics_and_writes_json() {
    let dir = tmp();
    let stdout = ok(dir.path(), &["compare", "--steps", "500", "--json", "cmp/d.json"]);
    for needle in [
        "float reference vs bit-accurate model, 500 steps",
        "output spikes",
        "rate error mean |max|",
        "spike-count error",
        "spike agreement (±2 st)",
        "final weight RMSE",
        "final weight correlation",
    ] {
        assert!(stdout.contains(needle), "compare prints `{needle}`:\n{stdout}");
    }
    let d = json(&dir.path().join("cmp/d.json"));
    assert_eq!(d["steps"], 500);
    assert_eq!(d["window_steps"], 2);
    let agreement = d["spike_agreement"].as_f64().expect("spike_agreement");
    assert!((0.0..=1.0).contains(&agreement));
    let corr = d["weight_correlation"].as_f64().expect("weight_correlation");
    assert!((-1.0..=1.0).contains(&corr));
    assert!(d["weight_rmse"].as_f64().expect("weight_rmse") >= 0.0);
    assert!(d["rate_error_hz"].is_array());

    // The same numbers as the two models run one by one.
    ok(dir.path(), &["sim", "--steps", "500", "-o", "fx"]);
    ok(dir.path(), &["sim", "--steps", "500", "-o", "fl", "--model", "float"]);
    let fixed = json(&dir.path().join("fx/summary.json"));
    let float = json(&dir.path().join("fl/summary.json"));
    assert_eq!(d["spikes_fixed"], fixed["summary"]["output_spikes"]);
    assert_eq!(d["spikes_float"], float["summary"]["output_spikes"]);
    let neurons = fixed["summary"]["neurons"].as_u64().expect("neurons") as usize;
    assert_eq!(d["rate_error_hz"].as_array().map(Vec::len), Some(neurons));
}

#[test]
fn params_prints_formats_and_constants() {
    let dir = tmp();
    let stdout = ok(dir.path(), &["params"]);
    assert!(stdout.starts_with("formats of `"), "{stdout}");
    for needle in [
        "  membrane   sQ",
        "  weight     uQ",
        "  amplitude  uQ",
        "parameters (requested -> realised):",
        "  neuron.tau_m_ms ",
        "  neuron.threshold ",
        "  plasticity.a_plus ",
        "U0.16 factor exp(-dt/tau)",
    ] {
        assert!(stdout.contains(needle), "params prints `{needle}`:\n{stdout}");
    }
    let j: Value = serde_json::from_str(&ok(dir.path(), &["params", "--json"])).expect("JSON");
    assert!(j["constants"]["decay_v"].is_u64());
    assert!(j["formats"]["v"]["signed"].as_bool().expect("signed membrane"));
    assert!(j["quantization"].as_array().is_some_and(|q| !q.is_empty()));
    // A given config is reported with its own values.
    write(
        dir.path(),
        "net.toml",
        &format!(
            "[network]\nname = \"mine\"\n{FORMATS}[plasticity]\nw_min = 0.0\nw_max = 0.5\n\
             w_init = 0.25\nw_init_spread = 0.0\na_plus = 0.01\na_minus = 0.01\n"
        ),
    );
    let stdout = ok(dir.path(), &["params", "-c", "net.toml"]);
    assert!(stdout.starts_with("formats of `mine`:\n"), "{stdout}");
    assert!(stdout.contains("  membrane   sQ8.8     16 bits"), "{stdout}");
}

#[test]
fn params_prints_a_presets_expansion_and_a_custom_rules_terms() {
    let dir = tmp();
    let stdout = ok(dir.path(), &["params"]);
    for needle in [
        "learning rule `pair`:\n  dw = \"a_plus * x1 * y0 - a_minus * y1 * x0\"\n",
        "term 1: + a_plus * x1 * y0  [on a neuron spike",
        "term 2: - a_minus * y1 * x0  [on an input spike",
        "one rounding (Stochastic) by 13 bits to the weight uQ0.10",
    ] {
        assert!(stdout.contains(needle), "params prints `{needle}`:\n{stdout}");
    }
    write(dir.path(), "tri.toml", "[plasticity]\nrule = \"triplet\"\nweight_dependence = \"multiplicative\"\na3_plus = 0.001\n");
    let stdout = ok(dir.path(), &["params", "-c", "tri.toml"]);
    assert!(
        stdout.contains(
            "dw = \"(a_plus + a3_plus * y2) * x1 * (w_max - w) * y0 - (a_minus + a3_minus * x2) * \
             y1 * (w - w_min) * x0\""
        ),
        "{stdout}"
    );
    write(dir.path(), "custom.toml", CUSTOM);
    let stdout = ok(dir.path(), &["params", "-c", "custom.toml"]);
    assert!(stdout.contains("learning rule `custom`:"), "{stdout}");
    assert!(stdout.contains("  plasticity.params.a_sym "), "{stdout}");
    let j: Value =
        serde_json::from_str(&ok(dir.path(), &["params", "--json", "-c", "custom.toml"]))
            .expect("JSON");
    assert_eq!(j["rule"]["name"], "custom");
    assert_eq!(j["rule"]["terms"].as_array().map(Vec::len), Some(3));
}

/// A custom rule of none of the presets' shapes.
const CUSTOM: &str = "[plasticity]\nrule = \"custom\"\n\
    dw = \"a_sym * x1 * (w_max - w) * y0 + a_sym * y1 * (w_max - w) * x0 - a_dec * w * x0\"\n\
    [plasticity.params]\na_sym = 0.02\na_dec = 0.01\n";

#[test]
fn a_custom_rule_runs_in_both_models() {
    let dir = tmp();
    write(dir.path(), "custom.toml", CUSTOM);
    ok(dir.path(), &["sim", "-c", "custom.toml", "--steps", "2000", "-o", "fixed"]);
    ok(
        dir.path(),
        &["sim", "-c", "custom.toml", "--steps", "2000", "--model", "float", "-o", "float"],
    );
    let stdout = ok(dir.path(), &["compare", "-c", "custom.toml", "--steps", "2000"]);
    assert!(stdout.contains("weight"), "{stdout}");
}

#[test]
fn rule_mistakes_are_refused_with_their_column_and_fix() {
    let dir = tmp();
    // (config, first line of the error, the rule and caret lines under it)
    let cases: &[(&str, &str, &str)] = &[
        (
            "dw = \"a_plus * a_pluss * x1 * y0\"\n[plasticity.params]\na_plus = 0.01\n",
            "error: config field `plasticity.dw`: column 10: unknown name `a_pluss` in this term: \
             the variables are x0, y0, u, x1, x2, y1, y2, r, w, w_min, w_max; declare a parameter \
             as `a_pluss = <value>` under [plasticity.params]\n",
            "    a_plus * a_pluss * x1 * y0\n             ^^^^^^^\n",
        ),
        (
            "dw = \"a * x1\"\n[plasticity.params]\na = 0.01\n",
            "error: config field `plasticity.dw`: column 1: this term has no event: multiply it by \
             x0 (the input spiked this step), y0 (the neuron spiked this step) or both, or by u \
             (the periodic sweep)\n",
            "    a * x1\n    ^^^^^^\n",
        ),
        (
            "dw = \"a * x3 * y0\"\n[plasticity.params]\na = 0.01\n",
            "error: config field `plasticity.dw`: column 5: `x3` is reserved for a slow pre rate \
             trace, which synforge does not build yet\n",
            "    a * x3 * y0\n        ^^\n",
        ),
        (
            "dw = \"a * (1 - r) * x1 * y0\"\n[plasticity.params]\na = 0.01\n",
            "error: config field `plasticity.dw`: column 10: the modulator `r` is signed and \
             multiplies a whole term, outside any bracket: write `(a + b * y2) * r` rather than \
             `(a + b * r)`\n",
            "    a * (1 - r) * x1 * y0\n             ^\n",
        ),
        (
            "dw = \"a * x1 * y0\"\n[plasticity.params]\na = 0.01\nb = 0.02\n",
            "error: config field `plasticity.params.b`: the rule does not use `b`; remove it or use \
             it in the rule\n",
            "",
        ),
        (
            "dw = \"a * x1 * y0\"\n[plasticity.params]\na = -0.01\n",
            "error: config field `plasticity.params.a`: must be zero or a positive number, got \
             -0.01; a term's sign is written in the rule (`- a * ...`)\n",
            "",
        ),
        (
            "dw = \"a * x1 * x1 * x2 * y1 * y2 * (w_max - w) * y0\"\n[plasticity.params]\na = 0.01\n\
             [formats]\nweight = { width = 16, frac = 16 }\nmembrane = { width = 32, frac = 16 }\n\
             trace_x1 = { width = 16, frac = 12 }\ntrace_x2 = { width = 16, frac = 12 }\n\
             trace_y1 = { width = 16, frac = 12 }\ntrace_y2 = { width = 16, frac = 12 }\n",
            "error: config field `plasticity.dw`: the term `a * x1 * x1 * x2 * y1 * y2 * (w_max - w) * y0` \
             needs a 52-bit intermediate (its product at the largest parameter, trace and weight \
             values), more than the 48 bits the datapath holds; use fewer trace factors, or narrower \
             traces or weights\n",
            "",
        ),
    ];
    for (k, (body, want, caret)) in cases.iter().enumerate() {
        let name = format!("rule{k}.toml");
        write(dir.path(), &name, &format!("[plasticity]\nrule = \"custom\"\n{body}"));
        refused(dir.path(), &["sim", "-c", &name, "-o", "out"], &format!("{want}{caret}"));
    }
    write(dir.path(), "nodw.toml", "[plasticity]\nrule = \"custom\"\n");
    refused(
        dir.path(),
        &["params", "-c", "nodw.toml"],
        "error: config field `plasticity.dw`: rule = \"custom\" needs the rule, e.g. dw = \"a_plus * \
         x1 * y0 - a_minus * y1 * x0\", with its parameters under [plasticity.params]\n",
    );
    write(dir.path(), "name.toml", "[plasticity]\nrule = \"quadruplet\"\n");
    refused(
        dir.path(),
        &["params", "-c", "name.toml"],
        "error: config field `plasticity.rule`: `quadruplet` is not a rule: use \"off\", \"custom\" \
         (with dw = \"...\"), or a preset: pair, triplet, reward-stdp, consolidation\n",
    );
    write(dir.path(), "both.toml", "[plasticity]\nrule = \"pair\"\ndw = \"a * x1 * y0\"\n");
    refused(
        dir.path(),
        &["params", "-c", "both.toml"],
        "error: config field `plasticity.dw`: is the custom rule's text; set rule = \"custom\" to \
         use it, or remove it to use the pair preset (`synforge params` prints its expansion)\n",
    );
    write(dir.path(), "a3.toml", "[plasticity]\nrule = \"pair\"\na3_plus = 0.01\n");
    refused(
        dir.path(),
        &["params", "-c", "a3.toml"],
        "error: config field `plasticity.a3_plus`: is not a parameter of the pair rule (dw = \
         \"a_plus * x1 * y0 - a_minus * y1 * x0\"); remove it, or choose a rule that uses it\n",
    );
}

#[test]
fn demo_writes_both_models_and_their_distance() {
    let dir = tmp();
    let stdout = ok(dir.path(), &["demo", "--steps", "300", "-o", "d"]);
    assert!(stdout.contains("outputs in d"), "{stdout}");
    let d = dir.path().join("d");
    for f in [
        "compare.json",
        "fixed/spikes.csv",
        "fixed/waves/fixed.vcd",
        "float/summary.json",
        "fixed/raster.png",
        "fixed/receptive_fields.svg",
        "float/receptive_fields.png",
        "float/weights.svg",
    ] {
        assert!(d.join(f).is_file(), "demo writes {f}");
    }
    assert!(stdout.contains("figures: 20 files"), "{stdout}");
    assert!(stdout.contains("10 of fixed beside float"), "{stdout}");
    for f in [
        "fixed/record.npz",
        "float/traces.png",
        "fixed/weights_over_time.svg",
        "fixed_float_raster.png",
        "fixed_float_receptive_fields.svg",
        "fixed_float_traces.png",
        "cosim/result.json",
        "icebreaker/report.txt",
    ] {
        assert!(d.join(f).is_file(), "demo writes {f}");
    }
    assert!(stdout.contains("report: d/index.html"), "{stdout}");
    // The page: self-contained (every figure inside it, nothing fetched), every section.
    let page = read(&d.join("index.html"));
    for id in ["figures", "distance", "quantization", "cosim", "synthesis"] {
        assert!(page.contains(&format!("<section id=\"{id}\">")), "index.html has #{id}");
    }
    for alt in ["raster (fixed model)", "raster (float model)", "receptive_fields (fixed model)"] {
        assert!(
            page.contains(&format!("<img alt=\"{alt}\" src=\"data:image/png;base64,iVBORw0KGgo")),
            "{alt}"
        );
    }
    assert!(!page.contains("http://") && !page.contains("https://") && !page.contains("<script"));
    assert!(page.contains("RTL == bit-accurate model: zero mismatches"));
    assert!(page.contains("logic cells (LUT4+FF)"), "the synthesis table");
    assert_eq!(json(&d.join("cosim/result.json"))["mismatch"], serde_json::Value::Null);
    assert_eq!(json(&d.join("compare.json"))["steps"], 300);
    assert!(stdout.contains("fixed model: ") && stdout.contains("learned the embedded pattern"));
    assert!(d.join("rtl/synforge_core.v").is_file() && d.join("rtl/manifest.json").is_file());
    assert!(
        stdout.contains("300 steps") && stdout.contains("zero mismatches in values and cycles"),
        "{stdout}"
    );
}

// ---------------------------------------------------------------------------------------------
// gen, cosim

#[test]
fn gen_writes_verilog_and_manifest_byte_identically() {
    let dir = tmp();
    let stdout = ok(dir.path(), &["gen", "--check", "-o", "a"]);
    assert!(stdout.contains("lint-only -Wall: clean") && stdout.contains("no latch"), "{stdout}");
    ok(dir.path(), &["gen", "-o", "b"]);
    let a = dir.path().join("a");
    let m = json(&a.join("manifest.json"));
    assert_eq!(m["top"], "synforge_core");
    assert_eq!(m["sizes"]["inputs"], 64);
    assert!(m["cycles"]["formula"].as_str().unwrap().contains("L(|P|)"));
    assert!(m["config_hash"].as_str().unwrap().len() == 64);
    let files: Vec<String> =
        m["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_string()).collect();
    assert!(files.contains(&"synforge_core.v".to_string()));
    for f in files.iter().chain(std::iter::once(&"manifest.json".to_string())) {
        let (x, y) = (read(&a.join(f)), read(&dir.path().join("b").join(f)));
        assert_eq!(x, y, "{f} differs between two runs");
        if f.ends_with(".v") {
            assert!(x.starts_with("// Generated by synforge") && x.contains("do not edit"), "{f}");
        }
    }
}

#[test]
fn gen_refuses_a_network_no_device_holds() {
    let dir = tmp();
    write(dir.path(), "big.toml", "[network]\ninputs = 2048\nneurons = 2048\n");
    refused(
        dir.path(),
        &["gen", "-c", "big.toml", "-o", "out"],
        "error: network.inputs: 2048 inputs x 2048 neurons of 16-bit synapse words need 4096 \
         block RAMs (DP16KD), more than the largest supported device has (208, ECP5-85F); use \
         fewer inputs or neurons\n",
    );
}

#[test]
fn a_synapse_word_narrower_than_its_weight_is_refused() {
    let dir = tmp();
    write(dir.path(), "narrow.toml", "[hardware]\nsynapse_bits = 8\n");
    refused(
        dir.path(),
        &["gen", "-c", "narrow.toml", "-o", "out"],
        "error: config field `hardware.synapse_bits`: a synapse word holds the 10-bit weight and \
         at most 16 bits in all, got 8; use 10 to 16\n",
    );
}

#[test]
fn cosim_reports_zero_mismatches_and_writes_a_vcd_named_like_the_model() {
    let dir = tmp();
    let stdout = ok(dir.path(), &["cosim", "--steps", "40", "-o", "c", "--vcd", "w.vcd"]);
    assert!(stdout.contains("40 steps") && stdout.contains("zero mismatches"), "{stdout}");
    let vcd = read(&dir.path().join("w.vcd"));
    for name in [
        "scope module neuron_0 ",
        "scope module neuron_15 ",
        " state_v_mem ",
        " state_theta ",
        " state_trace_y1 ",
        " event_spike ",
    ] {
        assert!(vcd.contains(name), "the VCD has {name}");
    }
}

#[test]
fn synth_refuses_an_unknown_board_naming_the_known_ones() {
    let dir = tmp();
    let out = synforge(dir.path(), &["synth", "-b", "nope", "-o", "s"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("unknown board `nope`")
            && err.contains("icebreaker")
            && err.contains("ulx3s-85f"),
        "{err}"
    );
    assert!(!dir.path().join("s").exists());
}

#[test]
fn run_drives_the_simulated_board_top_like_the_model() {
    let dir = tmp();
    let stdout = ok(dir.path(), &["run", "--sim", "--steps", "60", "-o", "r"]);
    assert!(stdout.contains("board == bit-accurate model"), "{stdout}");
    let steps = read(&dir.path().join("r/steps.csv"));
    assert_eq!(steps.lines().count(), 61);
    refused(
        dir.path(),
        &["run", "--steps", "5"],
        "error: give --board B and --port /dev/ttyX, or --sim\n",
    );
}

#[test]
fn cosim_refuses_a_vcd_path_that_is_a_folder() {
    let dir = tmp();
    std::fs::create_dir(dir.path().join("w")).unwrap();
    refused(
        dir.path(),
        &["cosim", "--steps", "5", "-o", "c", "--vcd", "w"],
        "error: --vcd: `w` is a folder; give a file name, e.g. w/cosim.vcd\n",
    );
}

// ---------------------------------------------------------------------------------------------
// stimulus

#[test]
fn stimulus_csv_replays_the_generated_stimulus() {
    let dir = tmp();
    let stdout = ok(dir.path(), &["stimulus", "--steps", "500", "--out", "f.csv"]);
    assert!(
        stdout.starts_with("wrote ") && stdout.contains(" over 500 steps to f.csv"),
        "{stdout}"
    );
    let csv = read(&dir.path().join("f.csv"));
    assert!(csv.starts_with("step,input\n"), "header");
    assert!(csv.lines().count() > 1, "some spikes");

    ok(dir.path(), &["sim", "--steps", "500", "-o", "gen"]);
    ok(dir.path(), &["sim", "--stimulus", "f.csv", "--steps", "500", "-o", "file"]);
    for f in ["spikes.csv", "weights.csv"] {
        assert_eq!(
            read(&dir.path().join("gen").join(f)),
            read(&dir.path().join("file").join(f)),
            "{f}: the file replays the generated stimulus"
        );
    }
    let g = json(&dir.path().join("gen/summary.json"));
    let f = json(&dir.path().join("file/summary.json"));
    assert_eq!(g["summary"]["input_spikes"], f["summary"]["input_spikes"]);
    assert_eq!(g["summary"]["output_spikes"], f["summary"]["output_spikes"]);
}

#[test]
fn config_stimulus_file_is_relative_to_the_config() {
    let dir = tmp();
    write(
        dir.path(),
        "cfg/net.toml",
        "[network]\ninputs = 4\nneurons = 2\n[stimulus]\nkind = \"file\"\nsteps = 50\n\
         file = \"spikes.csv\"\n",
    );
    write(dir.path(), "cfg/spikes.csv", "step,input\n0,1\n3,2\n# comment\n\n10,3\n");
    ok(dir.path(), &["sim", "-c", "cfg/net.toml", "-o", "out"]);
    let s = json(&dir.path().join("out/summary.json"));
    assert_eq!(s["summary"]["steps"], 50);
    assert_eq!(s["summary"]["input_spikes"], 3);
}

// ---------------------------------------------------------------------------------------------
// Bad input: status 2, the exact message, nothing written.

#[test]
fn unknown_config_field_is_refused() {
    let dir = tmp();
    write(dir.path(), "bad.toml", "[network]\nfoo = 3\n");
    refused(
        dir.path(),
        &["sim", "-c", "bad.toml", "-o", "out"],
        "error: bad.toml: TOML parse error at line 2, column 1\n  |\n2 | foo = 3\n  | ^^^\n\
         unknown field `foo`, expected one of `name`, `inputs`, `neurons`, `dt_ms`, `seed`\n\n",
    );
    write(dir.path(), "typo.toml", "[neuron]\nthreshhold = 1.0\n");
    refused(
        dir.path(),
        &["params", "-c", "typo.toml"],
        "error: typo.toml: TOML parse error at line 2, column 1\n  |\n2 | threshhold = 1.0\n  \
         | ^^^^^^^^^^\nunknown field `threshhold`, expected one of `tau_m_ms`, `threshold`, \
         `reset`, `refractory_ms`, `inhibition`\n\n",
    );
}

#[test]
fn wrongly_typed_or_incomplete_config_is_refused() {
    let dir = tmp();
    write(dir.path(), "neg.toml", "[network]\nneurons = -5\n");
    refused(
        dir.path(),
        &["sim", "-c", "neg.toml", "-o", "out"],
        "error: neg.toml: TOML parse error at line 2, column 11\n  |\n2 | neurons = -5\n  \
         |           ^^\ninvalid value: integer `-5`, expected u32\n\n",
    );
    write(dir.path(), "miss.toml", "[formats.trace_x1]\nwidth = 8\n");
    refused(
        dir.path(),
        &["sim", "-c", "miss.toml", "-o", "out"],
        "error: miss.toml: TOML parse error at line 1, column 1\n  |\n1 | [formats.trace_x1]\n  \
         | ^^^^^^^^^^^^^^^^^^\nmissing field `frac`\n\n",
    );
}

#[test]
fn out_of_range_values_are_refused_naming_the_field() {
    let dir = tmp();
    write(dir.path(), "n0.toml", "[network]\nneurons = 0\n");
    refused(
        dir.path(),
        &["sim", "-c", "n0.toml", "-o", "out"],
        "error: config field `network.neurons`: must be between 1 and 65536, got 0\n",
    );
    write(dir.path(), "dt.toml", "[network]\ndt_ms = nan\n");
    refused(
        dir.path(),
        &["sim", "-c", "dt.toml", "-o", "out"],
        "error: config field `network.dt_ms`: must be between 0.001 and 1000 ms, got NaN; spiking networks step at 0.1 to 1 ms\n",
    );
    write(dir.path(), "w.toml", "[formats.membrane]\nwidth = 0\nfrac = 0\n");
    refused(
        dir.path(),
        &["compare", "-c", "w.toml"],
        "error: config field `formats.membrane.width`: membrane width must be 4 to 32 bits, got 0\n",
    );
}

#[test]
fn threshold_that_does_not_fit_is_refused() {
    let dir = tmp();
    // Over the threshold format uQ8.8.
    write(dir.path(), "big.toml", &format!("{FORMATS}[neuron]\nthreshold = 300.0\n"));
    refused(
        dir.path(),
        &["sim", "-c", "big.toml", "-o", "out"],
        "error: config field `neuron.threshold`: 300 does not fit the threshold format uQ8.8 \
         (range 0 to 255.99609375); lower the value or widen formats.threshold\n",
    );
    // Fits uQ8.8 but not the membrane sQ8.8: the neuron could never fire.
    write(dir.path(), "mem.toml", &format!("{FORMATS}[neuron]\nthreshold = 200.0\n"));
    refused(
        dir.path(),
        &["sim", "-c", "mem.toml", "-o", "out"],
        "error: config field `neuron.threshold`: threshold 200 does not fit the membrane format \
         sQ8.8 (max 127.99609375); widen formats.membrane\n",
    );
    // Rounds to zero.
    write(dir.path(), "tiny.toml", &format!("{FORMATS}[neuron]\nthreshold = 0.001\n"));
    refused(
        dir.path(),
        &["params", "-c", "tiny.toml"],
        "error: config field `neuron.threshold`: threshold 0.001 rounds to zero in uQ8.8; add \
         fraction bits\n",
    );
}

#[test]
fn malformed_stimulus_line_is_refused_naming_file_and_line() {
    let dir = tmp();
    write(dir.path(), "small.toml", "[network]\ninputs = 8\nneurons = 4\n");
    write(dir.path(), "bad.csv", "step,input\n0,1\n1;2\n");
    refused(
        dir.path(),
        &["sim", "-c", "small.toml", "--stimulus", "bad.csv", "-o", "out"],
        "error: bad.csv:3: expected `step,input` (two integers), got `1;2`\n",
    );
    write(dir.path(), "neg.csv", "step,input\n-1,2\n");
    refused(
        dir.path(),
        &["sim", "-c", "small.toml", "--stimulus", "neg.csv", "-o", "out"],
        "error: neg.csv:2: step `-1` is not a non-negative integer\n",
    );
    // Through the config's own stimulus file, the path is the one the user would open.
    write(
        dir.path(),
        "cfg/net.toml",
        "[network]\ninputs = 8\nneurons = 4\n[stimulus]\nkind = \"file\"\nfile = \"spikes.csv\"\n",
    );
    write(dir.path(), "cfg/spikes.csv", "step,input\n0,1\n2,x\n");
    refused(
        dir.path(),
        &["sim", "-c", "cfg/net.toml", "-o", "out"],
        "error: cfg/spikes.csv:3: input `x` is not a non-negative integer\n",
    );
}

#[test]
fn stimulus_input_or_step_out_of_range_is_refused() {
    let dir = tmp();
    write(dir.path(), "small.toml", "[network]\ninputs = 8\nneurons = 4\n");
    write(dir.path(), "oor.csv", "step,input\n0,1\n3,8\n");
    refused(
        dir.path(),
        &["sim", "-c", "small.toml", "--stimulus", "oor.csv", "-o", "out"],
        "error: oor.csv:3: input 8 does not exist: the network has inputs 0..7\n",
    );
    write(dir.path(), "late.csv", "0,1\n600,2\n");
    refused(
        dir.path(),
        &["sim", "-c", "small.toml", "--stimulus", "late.csv", "--steps", "500", "-o", "out"],
        "error: late.csv:2: step 600 is beyond the run of 500 steps (0..499)\n",
    );
}

#[test]
fn an_empty_stimulus_needs_a_step_count() {
    let dir = tmp();
    write(dir.path(), "empty.csv", "step,input\n# nothing\n");
    refused(
        dir.path(),
        &["sim", "--stimulus", "empty.csv", "-o", "out"],
        "error: empty.csv: holds no spikes; give --steps N to run an empty stimulus\n",
    );
    ok(dir.path(), &["sim", "--stimulus", "empty.csv", "--steps", "20", "-o", "out"]);
    let s = json(&dir.path().join("out/summary.json"));
    assert_eq!(
        (s["summary"]["steps"].as_u64(), s["summary"]["input_spikes"].as_u64()),
        (Some(20), Some(0))
    );
}

#[test]
fn missing_files_are_refused() {
    let dir = tmp();
    refused(
        dir.path(),
        &["sim", "-c", "nope.toml", "-o", "out"],
        "error: cannot read nope.toml: No such file or directory (os error 2)\n",
    );
    refused(
        dir.path(),
        &["sim", "--stimulus", "nope.csv", "-o", "out"],
        "error: cannot read nope.csv: No such file or directory (os error 2)\n",
    );
    refused(
        dir.path(),
        &["stimulus", "-c", "nope.toml", "--out", "s.csv"],
        "error: cannot read nope.toml: No such file or directory (os error 2)\n",
    );
}

#[test]
fn bad_flag_values_are_refused() {
    let dir = tmp();
    write(dir.path(), "n16.toml", "[network]\nneurons = 16\n");
    refused(
        dir.path(),
        &["sim", "-c", "n16.toml", "--vcd", "99", "-o", "out"],
        "error: --vcd: neuron 99 does not exist; the network has neurons 0..15\n",
    );
    refused(
        dir.path(),
        &["sim", "-c", "n16.toml", "--vcd", "x", "-o", "out"],
        "error: --vcd: `x` in `x` is not a neuron number; give neurons like 0,1,5 or all\n",
    );
    refused(
        dir.path(),
        &["sim", "--steps", "0", "-o", "out"],
        "error: --steps must be at least 1\n",
    );
    refused(dir.path(), &["compare", "--steps", "0"], "error: --steps must be at least 1\n");
    refused(
        dir.path(),
        &["stimulus", "--steps", "0", "--out", "s.csv"],
        "error: --steps must be at least 1\n",
    );
    refused(
        dir.path(),
        &["sim", "--steps", "abc", "-o", "out"],
        "error: invalid value 'abc' for '--steps <STEPS>': invalid digit found in string\n\n\
         For more information, try '--help'.\n",
    );
    refused(
        dir.path(),
        &["sim", "--model", "bogus", "-o", "out"],
        "error: invalid value 'bogus' for '--model <MODEL>'\n  [possible values: fixed, float]\n\n\
         For more information, try '--help'.\n",
    );
    refused(
        dir.path(),
        &["sim", "--threads", "0", "-o", "out"],
        "error: invalid value '0' for '--threads <THREADS>': 0 is not in 1..=1024\n\n\
         For more information, try '--help'.\n",
    );
}

#[test]
fn unknown_subcommand_or_flag_is_refused() {
    let dir = tmp();
    refused(
        dir.path(),
        &["frobnicate"],
        "error: unrecognized subcommand 'frobnicate'\n\nUsage: synforge [OPTIONS] <COMMAND>\n\n\
         For more information, try '--help'.\n",
    );
    refused(
        dir.path(),
        &["sim", "--frob", "-o", "out"],
        "error: unexpected argument '--frob' found\n\nUsage: synforge sim [OPTIONS]\n\n\
         For more information, try '--help'.\n",
    );
    refused(
        dir.path(),
        &["stimulus"],
        "error: the following required arguments were not provided:\n  --out <OUT>\n\n\
         Usage: synforge stimulus --out <OUT>\n\nFor more information, try '--help'.\n",
    );
}

#[test]
fn an_output_path_that_is_a_file_is_refused_without_touching_it() {
    let dir = tmp();
    write(dir.path(), "taken", "keep me\n");
    let out = synforge(dir.path(), &["sim", "--steps", "10", "-o", "taken"]);
    assert_eq!(out.status.code(), Some(2), "a bad --out is bad input");
    assert_eq!(
        text(&out.stderr),
        "error: --out: `taken` exists and is not a folder; choose another output folder\n"
    );
    assert_eq!(read(&dir.path().join("taken")), "keep me\n");
}

#[test]
fn scaling_gain_zero_with_a_vanishing_target_does_not_panic() {
    let dir = tmp();
    write(
        dir.path(),
        "gain.toml",
        "[homeostasis]\nscaling = false\nscaling_gain = 0.0\ntarget_rate_hz = 1e-321\n\
         scaling_period_steps = 1\n",
    );
    let out = synforge(dir.path(), &["sim", "-c", "gain.toml", "--steps", "10", "-o", "out"]);
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(matches!(out.status.code(), Some(0) | Some(2)), "exit {:?}: {stderr}", out.status);
}

#[test]
fn initial_weights_from_a_file_set_the_listed_synapses_and_keep_the_rest() {
    let dir = tmp();
    // A first run's final weights, fed back as the next run's initial weights: a run of zero
    // further learning (rule off) must start from exactly them.
    ok(dir.path(), &["sim", "--steps", "300", "-o", "first"]);
    write(
        dir.path(),
        "again.toml",
        "[plasticity]\nrule = \"off\"\nw_init_file = \"first/weights.csv\"\n",
    );
    ok(dir.path(), &["sim", "-c", "again.toml", "--steps", "1", "-o", "second"]);
    assert_eq!(
        read(&dir.path().join("first/weights.csv")),
        read(&dir.path().join("second/weights.csv"))
    );

    // Only one synapse listed: it takes the listed value, the others their usual draw.
    write(dir.path(), "one.csv", "input,neuron,weight\n# the teacher, at w_max\n3,2,0.125\n");
    write(dir.path(), "one.toml", "[plasticity]\nrule = \"off\"\nw_init_file = \"one.csv\"\n");
    write(dir.path(), "none.toml", "[plasticity]\nrule = \"off\"\n");
    ok(dir.path(), &["sim", "-c", "one.toml", "--steps", "1", "-o", "one"]);
    ok(dir.path(), &["sim", "-c", "none.toml", "--steps", "1", "-o", "none"]);
    let (one, none) =
        (read(&dir.path().join("one/weights.csv")), read(&dir.path().join("none/weights.csv")));
    let differ: Vec<(&str, &str)> = one.lines().zip(none.lines()).filter(|(a, b)| a != b).collect();
    assert_eq!(differ.len(), 1, "{differ:?}");
    assert!(differ[0].0 == "3,2,0.125", "{differ:?}");
}

#[test]
fn bad_initial_weight_files_name_the_line() {
    let dir = tmp();
    let cases = [
        ("a.csv", "0,0\n", "a.csv:1: expected `input,neuron,weight`, got `0,0`"),
        ("b.csv", "0,99,0.1\n", "b.csv:1: neuron 99 does not exist: the network has 16"),
        ("c.csv", "\n0,0,0.9\n", "c.csv:2: weight 0.9 is outside [w_min, w_max] = [0, 0.125]"),
        ("d.csv", "0,0,0.1\n0,0,0.1\n", "d.csv:2: synapse (0, 0) is given twice"),
        ("e.csv", "0,0,x\n", "e.csv:1: weight `x` is not a number"),
    ];
    for (name, body, message) in cases {
        write(dir.path(), name, body);
        let toml = format!("[plasticity]\nw_init_file = \"{name}\"\n");
        write(dir.path(), "w.toml", &toml);
        let expected = format!("error: {message}\n");
        refused(dir.path(), &["sim", "-c", "w.toml", "--steps", "5", "-o", "out"], &expected);
    }
}

#[test]
fn bench_prints_events_per_second_and_bandwidth() {
    let dir = tmp();
    let out = ok(
        dir.path(),
        &[
            "bench",
            "--inputs",
            "50",
            "--neurons",
            "8",
            "--warmup-steps",
            "50",
            "--min-secs",
            "0.5",
            "--rules",
            "pair,triplet-soft,custom",
        ],
    );
    assert!(out.contains("memory read bandwidth"), "{out}");
    assert!(out.contains("events/s"), "{out}");
    for rule in ["pair", "triplet-soft", "custom"] {
        assert!(
            out.lines()
                .any(|l| l.starts_with(rule) && l[12..].trim_start().starts_with("50       8")),
            "a row of {rule}:\n{out}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Regressions of issue 12: each class of bad input that once panicked, grew without bound,
// answered wrongly, left partial output or blamed the wrong thing.

/// A process's resident memory, KiB (Linux).
fn rss_kib(pid: u32) -> u64 {
    let status = read(Path::new(&format!("/proc/{pid}/status")));
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS in /proc status");
    line.split_whitespace().nth(1).and_then(|k| k.parse().ok()).expect("a number of KiB")
}

/// Start a long run, check after a few seconds that it runs in flat memory, interrupt it and
/// require exit status 130 with nothing written.
fn long_run_is_flat_and_interruptible(dir: &Path, args: &[&str]) {
    let before = tree(dir);
    let child = Command::new(env!("CARGO_BIN_EXE_synforge"))
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start synforge");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let early = rss_kib(child.id());
    std::thread::sleep(std::time::Duration::from_millis(3000));
    let late = rss_kib(child.id());
    assert!(late < 200 * 1024, "synforge {args:?} holds {late} KiB after 4.5 s");
    assert!(late < early + 16 * 1024, "synforge {args:?} grows: {early} KiB, then {late} KiB");
    // SAFETY: sending SIGINT to our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let out = child.wait_with_output().expect("synforge ends");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "synforge {args:?} on SIGINT:\n{stderr}");
    assert!(stderr.contains("interrupted: unfinished outputs removed"), "{stderr}");
    assert!(stderr.contains("steps/s"), "a long run reports its progress:\n{stderr}");
    assert_eq!(tree(dir), before, "synforge {args:?} left files behind when interrupted");
}

#[test]
fn a_run_of_4294967295_steps_streams_in_flat_memory_and_an_interrupt_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    long_run_is_flat_and_interruptible(
        dir.path(),
        &["sim", "--steps", "4294967295", "--vcd", "all", "-o", "out"],
    );
    write(dir.path(), "s.toml", "[stimulus]\nsteps = 4294967295\n");
    long_run_is_flat_and_interruptible(dir.path(), &["sim", "-c", "s.toml", "--model", "float"]);
}

#[test]
fn a_stimulus_file_with_one_spike_at_step_999999999_runs_in_flat_memory() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.csv", "999999999,3\n");
    long_run_is_flat_and_interruptible(dir.path(), &["sim", "-s", "s.csv", "-o", "out"]);
}

#[test]
fn a_spike_at_step_4294967295_is_refused_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.csv", "0,1\n4294967295,2\n");
    refused(
        dir.path(),
        &["sim", "-s", "s.csv", "-o", "out"],
        "error: s.csv:2: step 4294967295 is beyond the longest run (4294967295 steps, 0..4294967294); use an earlier step\n",
    );
}

#[test]
fn stimulus_csv_with_a_byte_order_mark_is_read_and_utf16_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bom.csv"), b"\xef\xbb\xbfstep,input\n0,1\n3,2\n").unwrap();
    ok(dir.path(), &["sim", "-s", "bom.csv", "-o", "out"]);
    assert!(read(&dir.path().join("out/summary.json")).contains("\"input_spikes\": 2"));
    std::fs::write(dir.path().join("u16.csv"), b"\xff\xfe0\x00,\x001\x00\n\x00").unwrap();
    refused(
        dir.path(),
        &["sim", "-s", "u16.csv", "-o", "o2"],
        "error: u16.csv: is UTF-16 text; save it as UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8`)\n",
    );
}

#[test]
fn pairing_with_huge_or_infinite_period_or_offsets_is_refused_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    for (field, value) in [
        ("period_ms", "inf"),
        ("period_ms", "1e300"),
        ("offset_max_ms", "1e300"),
        ("offset_min_ms", "-inf"),
    ] {
        write(
            dir.path(),
            "p.toml",
            &format!(
                "[network]\ninputs = 4\n[stimulus]\nkind = \"pairing\"\nsteps = 200\n[stimulus.pairing]\n{field} = {value}\n"
            ),
        );
        let want = format!(
            "error: config field `stimulus.pairing.{field}`: {} ms is not a duration a run can hold (at most 4294967295 steps of 1 ms); give a finite, shorter time\n",
            value.parse::<f64>().unwrap()
        );
        refused(dir.path(), &["sim", "-c", "p.toml", "-o", "out"], &want);
    }
}

#[test]
fn a_pattern_of_1e9_ms_in_a_200_step_run_takes_no_memory() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "p.toml", "[stimulus.pattern]\nlength_ms = 1e9\nperiod_ms = 1e9\n");
    ok(dir.path(), &["sim", "-c", "p.toml", "--steps", "200", "-o", "out"]);
    ok(dir.path(), &["compare", "-c", "p.toml", "--steps", "200"]);
}

#[test]
fn compare_with_a_window_of_4294967295_steps_matches_every_pair() {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["compare", "--steps", "3000", "--window", "4294967295", "--json", "c.json"]);
    ok(dir.path(), &["sim", "--steps", "3000", "-o", "fixed"]);
    ok(dir.path(), &["sim", "--steps", "3000", "--model", "float", "-o", "float"]);
    let counts = |m: &str| -> Vec<f64> {
        json(&dir.path().join(m).join("summary.json"))["summary"]["spike_counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_f64().unwrap())
            .collect()
    };
    let (a, b) = (counts("fixed"), counts("float"));
    let matched: f64 = a.iter().zip(&b).map(|(x, y)| x.min(*y)).sum();
    let want = 2.0 * matched / (a.iter().sum::<f64>() + b.iter().sum::<f64>());
    let got = json(&dir.path().join("c.json"))["spike_agreement"].as_f64().unwrap();
    assert!((got - want).abs() < 1e-12, "agreement {got}, every pair matched gives {want}");
    assert!(got > 0.5, "{got}");
}

#[test]
fn a_network_name_is_a_name_not_a_path() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "n.toml", "[network]\nname = \"../../x\"\n");
    refused(
        dir.path(),
        &["sim", "-c", "n.toml", "--steps", "10"],
        "error: config field `network.name`: \"../../x\" is not a name: use 1 to 64 characters without / \\ : * ? \" < > |, not starting with `.` (it names output folders; choose where they go with --out)\n",
    );
}

#[test]
fn empty_or_repeated_vcd_neuron_lists_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (spec, msg) in [
        ("", "error: --vcd: `` has an empty entry; give neurons like 0,1,5 or all\n"),
        (",", "error: --vcd: `,` has an empty entry; give neurons like 0,1,5 or all\n"),
        ("0,0,1", "error: --vcd: neuron 0 is listed twice in `0,0,1`\n"),
    ] {
        refused(dir.path(), &["sim", "--steps", "10", "--vcd", spec, "-o", "out"], msg);
    }
}

#[test]
fn dt_ms_out_of_range_is_blamed_on_dt_ms() {
    let dir = tempfile::tempdir().unwrap();
    for dt in ["1e308", "1e-300"] {
        write(dir.path(), "dt.toml", &format!("[network]\ndt_ms = {dt}\n"));
        refused(
            dir.path(),
            &["sim", "-c", "dt.toml", "-o", "out"],
            &format!(
                "error: config field `network.dt_ms`: must be between 0.001 and 1000 ms, got {}; spiking networks step at 0.1 to 1 ms\n",
                dt.parse::<f64>().unwrap()
            ),
        );
    }
}

#[test]
fn output_places_the_user_got_wrong_are_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "f", "a file\n");
    std::fs::create_dir(dir.path().join("folder")).unwrap();
    refused(
        dir.path(),
        &["sim", "--steps", "10", "-o", "f/out"],
        "error: --out: `f` is a file, so `f/out` cannot be made inside it; choose another output path\n",
    );
    refused(
        dir.path(),
        &["compare", "--steps", "10", "--json", "folder"],
        "error: --json: `folder` is a folder; give a file name, e.g. folder/compare.json\n",
    );
    refused(
        dir.path(),
        &["stimulus", "--steps", "10", "-o", "folder"],
        "error: --out: `folder` is a folder; give a file name, e.g. folder/stimulus.csv\n",
    );
    // Root may write anywhere on a normal file system; sysfs refuses even root.
    let out = synforge(dir.path(), &["sim", "--steps", "10", "-o", "/sys/synforge-out"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).starts_with("error: --out: cannot write `/sys`"),
        "{}",
        text(&out.stderr)
    );
    // A folder of the user's own is never replaced or mixed into.
    write(dir.path(), "mine/notes.txt", "keep\n");
    refused(
        dir.path(),
        &["sim", "--steps", "10", "-o", "mine"],
        "error: --out: `mine` holds files synforge did not write; choose a new or empty folder\n",
    );
}

#[test]
fn a_second_run_replaces_the_first_runs_files_whole() {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["sim", "--steps", "50", "--vcd", "0", "-o", "out"]);
    assert!(dir.path().join("out/waves/fixed.vcd").exists());
    ok(dir.path(), &["sim", "--steps", "60", "-o", "out"]);
    let files: Vec<PathBuf> = tree(&dir.path().join("out")).into_iter().collect();
    let want: Vec<PathBuf> = [
        ".synforge-output",
        "config.toml",
        "spikes.csv",
        "spikes.npy",
        "summary.json",
        "weights.csv",
        "weights.npy",
        "weights_start.csv",
        "weights_start.npy",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    assert_eq!(files, want, "no file of the first run is left beside the second's");
    assert!(read(&dir.path().join("out/summary.json")).contains("\"steps\": 60"));
    assert_eq!(
        tree(dir.path()).iter().filter(|p| p.to_string_lossy().contains(".synforge-")).count(),
        1
    );
}

#[test]
fn a_stage_left_by_a_killed_run_is_removed_by_the_next() {
    let dir = tempfile::tempdir().unwrap();
    // Stages are named after the machine (its name as gethostname gives it, other characters
    // than letters and digits as `_`) and the process; no process has pid 4194304 or more.
    let host: String = read(Path::new("/proc/sys/kernel/hostname"))
        .trim()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let mine = format!(".synforge-stage-{host}-4194305-1-0");
    let other = ".synforge-stage-otherhost-4194305-1-0";
    write(dir.path(), &format!("{mine}/spikes.csv"), "step,neuron\n");
    write(dir.path(), &format!("{other}/spikes.csv"), "step,neuron\n");
    ok(dir.path(), &["sim", "--steps", "10", "-o", "out"]);
    assert!(!dir.path().join(&mine).exists(), "this machine's dead run's stage is removed");
    assert!(dir.path().join(other).exists(), "another machine's is not");
}

#[test]
fn outputs_follow_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 022 && '{}' sim --steps 10 -o out >/dev/null && '{}' compare --steps 10 --json c.json >/dev/null",
            env!("CARGO_BIN_EXE_synforge"),
            env!("CARGO_BIN_EXE_synforge")
        ))
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let mode =
        |p: &str| std::fs::metadata(dir.path().join(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("out"), 0o755);
    assert_eq!(mode("out/spikes.csv"), 0o644);
    assert_eq!(mode("out/summary.json"), 0o644);
    assert_eq!(mode("c.json"), 0o644);
}

#[test]
fn demo_of_a_network_no_device_holds_refuses_before_writing_anything() {
    let dir = tmp();
    write(dir.path(), "big.toml", "[network]\ninputs = 2048\nneurons = 2048\n");
    refused(
        dir.path(),
        &["demo", "-c", "big.toml", "--steps", "10", "-o", "d"],
        "error: network.inputs: 2048 inputs x 2048 neurons of 16-bit synapse words need 4096 \
         block RAMs (DP16KD), more than the largest supported device has (208, ECP5-85F); use \
         fewer inputs or neurons\n",
    );
}

#[test]
fn a_generated_stimulus_too_large_to_store_is_refused_by_the_commands_that_store_it() {
    let dir = tmp();
    refused(
        dir.path(),
        &["cosim", "--steps", "4294967295", "-o", "c"],
        "error: --steps: 4294967295 steps of this stimulus hold about 6.047e9 input spikes, more \
         than the 6.711e7 this command keeps in memory; run at most 47662545 steps here \
         (`synforge sim` streams runs of any length)\n",
    );
}

#[test]
fn synth_refuses_a_baud_the_uart_cannot_make_before_starting_yosys() {
    let dir = tmp();
    refused(
        dir.path(),
        &["synth", "-b", "icebreaker", "--baud", "0", "-o", "s"],
        "error: --baud 0 is not a baud rate; give --baud from 184 to 3000000 for the 12.000 MHz core clock (default 115200)\n",
    );
    refused(
        dir.path(),
        &["synth", "-b", "icebreaker", "--baud", "100000000", "-o", "s"],
        "error: --baud 100000000: the UART needs at least 4 core clocks per bit, and the 12.000 MHz core clock gives 0.12; give --baud from 184 to 3000000, or raise the core clock with --freq\n",
    );
}

#[test]
fn run_refuses_a_port_that_is_no_serial_device_as_bad_input() {
    let dir = tmp();
    for (port, start) in [
        ("/nonexistent", "error: --port /nonexistent: no such serial port"),
        (
            "/dev/null",
            "error: --port /dev/null: is a device but not a serial device (not a terminal)",
        ),
        ("/tmp", "error: --port /tmp: is a folder, not a serial device"),
    ] {
        let before = tree(dir.path());
        let out = synforge(
            dir.path(),
            &["run", "--board", "icebreaker", "--port", port, "--steps", "5", "-o", "r"],
        );
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{port}: {err}");
        assert!(err.starts_with(start), "{port}: {err}");
        assert_eq!(tree(dir.path()), before, "{port}: nothing written");
    }
}

#[test]
fn an_interrupted_demo_puts_the_previous_set_back() {
    let dir = tmp();
    write(dir.path(), "d/.synforge-output", "written by synforge\n");
    write(dir.path(), "d/old.txt", "the previous run's\n");
    let before = tree(dir.path());
    let child = Command::new(env!("CARGO_BIN_EXE_synforge"))
        .args(["demo", "-o", "d"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start synforge");
    std::thread::sleep(std::time::Duration::from_millis(1200));
    // SAFETY: sending SIGINT to our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let out = child.wait_with_output().expect("synforge ends");
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    assert_eq!(tree(dir.path()), before, "the previous set, as it was, and nothing else");
    assert_eq!(read(&dir.path().join("d/old.txt")), "the previous run's\n");
}

#[test]
fn an_endless_file_is_refused_not_read_until_memory_runs_out() {
    let dir = tmp();
    refused(
        dir.path(),
        &["sim", "-c", "/dev/zero", "--steps", "5", "-o", "out"],
        "error: /dev/zero: is longer than the 16 MiB synforge reads from such a file; give a smaller one\n",
    );
}

#[test]
fn a_device_is_written_to_not_replaced_and_a_linked_folder_is_filled_not_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tmp();
    ok(dir.path(), &["compare", "--steps", "50", "--json", "/dev/null"]);
    assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
    std::fs::create_dir(dir.path().join("real")).unwrap();
    std::os::unix::fs::symlink("real", dir.path().join("link")).unwrap();
    ok(dir.path(), &["sim", "--steps", "20", "-o", "link"]);
    assert!(std::fs::symlink_metadata(dir.path().join("link")).unwrap().file_type().is_symlink());
    assert!(dir.path().join("real/spikes.csv").exists());
}

#[test]
fn a_board_top_whose_frames_would_not_fit_16_bit_lengths_is_refused() {
    let dir = tmp();
    write(dir.path(), "wide.toml", "[network]\ninputs = 40000\nneurons = 1\n");
    refused(
        dir.path(),
        &["synth", "-b", "ulx3s-85f", "-c", "wide.toml", "-o", "w"],
        "error: network.inputs: 40000 inputs x 1 neurons do not fit the UART bridge's frames \
         (16-bit lengths: at most 32767 inputs and 32765 neurons); use fewer, or drive the core \
         through its own ports (synforge gen)\n",
    );
}

#[test]
fn too_long_a_stored_run_from_the_config_names_the_config_field() {
    let dir = tmp();
    write(dir.path(), "st.toml", "[stimulus]\nsteps = 4294967295\n");
    refused(
        dir.path(),
        &["cosim", "-c", "st.toml", "-o", "c"],
        "error: config field `stimulus.steps`: 4294967295 steps of this stimulus hold about \
         6.047e9 input spikes, more than the 6.711e7 this command keeps in memory; run at most \
         47662545 steps here (`synforge sim` streams runs of any length)\n",
    );
    refused(
        dir.path(),
        &["bench", "--warmup-steps", "4294967295"],
        "error: invalid value '4294967295' for '--warmup-steps <WARMUP_STEPS>': 4294967295 is not in 0..=1000000\n\nFor more information, try '--help'.\n",
    );
}

// ---------------------------------------------------------------------------------------------
// state

/// The rows of a spikes.csv from step `from` on, as text.
fn spikes_from(csv: &str, from: u64) -> Vec<String> {
    csv.lines()
        .skip(1)
        .filter(|l| {
            l.split(',').next().and_then(|t| t.parse::<u64>().ok()).is_some_and(|t| t >= from)
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn sim_continues_from_a_saved_state_byte_for_byte() {
    let d = tmp();
    let p = d.path();
    for model in ["fixed", "float"] {
        let m = ["--model", model];
        ok(p, &[&["sim", "--steps", "20000", "-o", "whole"][..], &m].concat());
        let out = ok(
            p,
            &[&["sim", "--steps", "8000", "--save-state", "s.npz", "-o", "a"][..], &m].concat(),
        );
        assert!(out.contains("wrote s.npz (the state after step 8000)"), "{out}");
        ok(p, &[&["sim", "--load-state", "s.npz", "--steps", "12000", "-o", "b"][..], &m].concat());
        let whole = read(&p.join("whole/spikes.csv"));
        let b = read(&p.join("b/spikes.csv"));
        assert!(b.starts_with("step,neuron\n"), "{model}: header");
        let (w, c) = (spikes_from(&whole, 8000), spikes_from(&b, 0));
        assert!(
            w.len() > 500,
            "{model}: {} spikes after step 8000, the test would show little",
            w.len()
        );
        assert_eq!(c, w, "{model}: spikes from step 8000 on");
        assert_eq!(b.lines().count() - 1, w.len(), "{model}: nothing before step 8000");
        assert_eq!(
            read(&p.join("b/weights.csv")),
            read(&p.join("whole/weights.csv")),
            "{model}: weights"
        );
        // Checkpoints every 3000 steps, then the end: a run from the checkpoint of step 6000
        // goes on like the others.
        ok(
            p,
            &[
                &[
                    "sim",
                    "--steps",
                    "6000",
                    "--save-state",
                    "c.npz",
                    "--save-state-every",
                    "3000",
                    "-o",
                    "c",
                ][..],
                &m,
            ]
            .concat(),
        );
        ok(p, &[&["sim", "--load-state", "c.npz", "--steps", "14000", "-o", "d"][..], &m].concat());
        assert_eq!(
            read(&p.join("d/weights.csv")),
            read(&p.join("whole/weights.csv")),
            "{model}: from 6000"
        );
    }
}

#[test]
fn state_prints_what_a_state_holds() {
    let d = tmp();
    let p = d.path();
    ok(p, &["sim", "--steps", "3000", "--save-state", "s.npz", "-o", "a"]);
    let out = ok(p, &["state", "s.npz"]);
    for want in [
        "s.npz: state of network `default` after step 3000 (3.000 s simulated)",
        "bit-accurate (fixed) model, raw words; 64 inputs x 16 neurons, structure ",
        "rule: a_plus * x1 * y0 - a_minus * y1 * x0",
        "histogram, ten bins from w_min to w_max:",
        "memory norm sum|w - w_init| = ",
        "rates over the 3000 steps since the spike counters were last reset",
        "weight       per synapse  [64, 16]     <u2 uQ0.10",
        "lfsr_inputs  per network  []           <u4",
    ] {
        assert!(out.contains(want), "missing `{want}` in\n{out}");
    }
    let r: Value = serde_json::from_str(&ok(p, &["state", "s.npz", "--json"])).expect("JSON");
    assert_eq!(r["step"], 3000);
    let h: f64 =
        r["weights"]["histogram"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).sum();
    assert!((h - 1.0).abs() < 1e-9, "histogram sums to {h}");
    assert!(r["weights"]["memory_norm"].as_f64().unwrap() > 0.0, "learning moved the weights");
    // The rates are the counts over the steps: the summary's output spikes over 3000 steps.
    let summary = json(&p.join("a/summary.json"));
    let spikes = summary["summary"]["output_spikes"].as_f64().unwrap();
    let mean = r["neurons_since_reset"]["mean_rate_hz"].as_f64().unwrap();
    assert!((mean - spikes / 16.0 / 3.0).abs() < 1e-9, "mean rate {mean} vs {spikes} spikes");
    // The memory norm goes on from the first run's initial weights.
    ok(p, &["sim", "--load-state", "s.npz", "--steps", "10", "--save-state", "t.npz", "-o", "b"]);
    let t: Value = serde_json::from_str(&ok(p, &["state", "t.npz", "--json"])).expect("JSON");
    let (n0, n1) = (
        r["weights"]["memory_norm"].as_f64().unwrap(),
        t["weights"]["memory_norm"].as_f64().unwrap(),
    );
    assert!((n1 - n0).abs() < 0.1 * n0, "memory norm {n0} then {n1} 10 steps later");
}

#[test]
fn a_state_file_opens_in_python_as_the_docs_show() {
    let tools = synforge_rtl::tools::Tools::locate().expect("the pinned tools (scripts/tools)");
    let doc = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/state.md"));
    let block = doc
        .split("<!-- python:begin -->")
        .nth(1)
        .and_then(|s| s.split("<!-- python:end -->").next())
        .expect("docs/state.md has the Python block");
    let code = block.trim().trim_start_matches("```python").trim_end_matches("```");
    let d = tmp();
    let p = d.path();
    ok(p, &["sim", "--steps", "2000", "--save-state", "s.npz", "-o", "a"]);
    write(p, "open.py", code);
    let out =
        Command::new(&tools.python).arg("open.py").current_dir(p).output().expect("python runs");
    assert!(out.status.success(), "python failed:\n{}", text(&out.stderr));
    let r: Value = serde_json::from_str(&ok(p, &["state", "s.npz", "--json"])).expect("JSON");
    let mean = r["weights"]["mean"].as_f64().unwrap();
    assert_eq!(text(&out.stdout), format!("2000 (64, 16) {}\n", (mean * 1e6).round() / 1e6));
}

/// The NumPy copies of sim's outputs open in NumPy and hold what the CSVs hold.
#[test]
fn sim_outputs_open_in_numpy_as_the_csvs_say() {
    let tools = synforge_rtl::tools::Tools::locate().expect("the pinned tools (scripts/tools)");
    let d = tmp();
    let p = d.path();
    ok(p, &["sim", "--steps", "3000", "-o", "a"]);
    let code = "\
import csv, numpy as np
s = np.load('a/spikes.npy'); w = np.load('a/weights.npy'); w0 = np.load('a/weights_start.npy')
rows = [tuple(map(int, r)) for r in list(csv.reader(open('a/spikes.csv')))[1:]]
ws = {(int(i), int(j)): float(v) for i, j, v in list(csv.reader(open('a/weights.csv')))[1:]}
assert s.dtype == np.uint32 and s.shape == (len(rows), 2) and [tuple(x) for x in s.tolist()] == rows
assert w.dtype == np.float64 and w.shape == (64, 16) and w0.shape == (64, 16)
assert all(w[i, j] == v for (i, j), v in ws.items())
print(len(rows), abs(w - w0).sum() > 0)
";
    write(p, "check.py", code);
    let out =
        Command::new(&tools.python).arg("check.py").current_dir(p).output().expect("python runs");
    assert!(out.status.success(), "python failed:\n{}", text(&out.stderr));
    let spikes = json(&p.join("a/summary.json"))["summary"]["output_spikes"].as_u64().unwrap();
    assert_eq!(text(&out.stdout), format!("{spikes} True\n"));
}

#[test]
fn sim_records_chosen_neurons_and_the_weights_over_time_for_numpy() {
    let tools = synforge_rtl::tools::Tools::locate().expect("the pinned tools (scripts/tools)");
    let d = tmp();
    let p = d.path();
    let args =
        ["sim", "--model", "float", "--steps", "2000", "--record", "0,3", "--save-state", "s.npz"];
    ok(p, &[&args[..], &["-o", "a"]].concat());
    // The record's last row is the state the run ended in; every histogram counts all synapses.
    let code = "\
import numpy as np
r = np.load('a/record.npz'); s = np.load('s.npz')
assert r['neurons'].tolist() == [0, 3] and r['step'].tolist() == list(range(2000))
assert r['v_mem'].shape == (2000, 2) and r['theta'].shape == (2000, 2)
assert r['v_mem'][-1].tolist() == s['v_mem'][[0, 3]].tolist()
assert (r['theta'][-1] >= s['theta_a'][[0, 3]]).all()
h = r['weight_hist']
assert h.shape == (len(r['weight_step']), 40) and r['weight_edges'].shape == (41,)
assert r['weight_step'][0] == 0 and r['weight_step'][-1] == 2000 and len(r['weight_step']) == 101
assert np.allclose(h.sum(axis=1), 1.0)
w = np.load('a/weights.npy').ravel()
assert np.allclose(h[-1], np.histogram(np.clip(w, 0, 1 - 1e-12), bins=r['weight_edges'])[0] / w.size)
print('ok')
";
    write(p, "check.py", code);
    let out =
        Command::new(&tools.python).arg("check.py").current_dir(p).output().expect("python runs");
    assert!(out.status.success(), "python failed:\n{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "ok\n");
    refused(
        p,
        &["sim", "--steps", "10", "--record", "0,99", "-o", "b"],
        "error: --record: neuron 99 does not exist; the network has neurons 0..15\n",
    );
}

#[test]
fn a_state_that_does_not_fit_or_is_damaged_is_refused() {
    let d = tmp();
    let p = d.path();
    ok(p, &["sim", "--steps", "500", "--save-state", "s.npz", "-o", "a"]);
    write(p, "wide.toml", "[network]\ninputs = 128\n");
    refused(
        p,
        &["sim", "-c", "wide.toml", "--load-state", "s.npz", "-o", "x"],
        "error: --load-state s.npz: belongs to another network: `network.inputs` is 128 in this network \
         but was 64 where the state was saved; load it into a network of the same structure (sizes, \
         formats, rule), or start without --load-state\n",
    );
    write(p, "triplet.toml", "[plasticity]\nrule = \"triplet\"\n");
    let out = synforge(p, &["sim", "-c", "triplet.toml", "--load-state", "s.npz", "-o", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("`plasticity.rule`"), "{}", text(&out.stderr));
    refused(
        p,
        &["sim", "--model", "float", "--load-state", "s.npz", "-o", "x"],
        "error: --load-state s.npz: is the fixed model's state; load it with `--model fixed`\n",
    );
    let bytes = std::fs::read(p.join("s.npz")).unwrap();
    std::fs::write(p.join("cut.npz"), &bytes[..bytes.len() - 40]).unwrap();
    let mut bad = bytes.clone();
    let k = bad.len() / 2;
    bad[k] ^= 0x10;
    std::fs::write(p.join("bad.npz"), &bad).unwrap();
    for f in ["cut.npz", "bad.npz"] {
        let out = synforge(p, &["sim", "--load-state", f, "-o", "x"]);
        assert_eq!(out.status.code(), Some(2), "{f}");
        let e = text(&out.stderr);
        assert!(
            e.starts_with(&format!("error: --load-state {f}: is not a whole synforge state file")),
            "{e}"
        );
        assert!(e.contains("truncated or corrupted"), "{e}");
        assert!(!p.join("x").exists());
        let out = synforge(p, &["state", f]);
        assert_eq!(out.status.code(), Some(2), "state {f}");
    }
    let out = synforge(p, &["sim", "--load-state", "none.npz", "-o", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with("error: --load-state none.npz: cannot read it: "),
        "{}",
        text(&out.stderr)
    );
    std::fs::create_dir(p.join("dir")).unwrap();
    refused(
        p,
        &["sim", "--steps", "10", "--save-state", "dir", "-o", "x"],
        "error: --save-state: `dir` is a folder; give a file name, e.g. dir/state.npz\n",
    );
    refused(
        p,
        &["sim", "--load-state", "s.npz", "--steps", "4294967000", "-o", "x"],
        "error: --steps: the run starts at step 500 (the saved state's), and 4294967000 more steps pass \
         the longest run (4294967295 steps); run at most 4294966795 steps\n",
    );
    let out = synforge(p, &["sim", "--save-state-every", "5", "-o", "x"]);
    assert_eq!(out.status.code(), Some(2), "--save-state-every needs --save-state");
}

#[test]
fn a_continued_run_reads_a_stimulus_file_from_the_states_step() {
    let d = tmp();
    let p = d.path();
    ok(p, &["stimulus", "--steps", "6000", "-o", "all.csv"]);
    let all = read(&p.join("all.csv"));
    let first: String = all
        .lines()
        .filter(|l| {
            l.split(',').next().and_then(|t| t.parse::<u32>().ok()).is_none_or(|t| t < 3000)
        })
        .map(|l| format!("{l}\n"))
        .collect();
    write(p, "first.csv", &first);
    ok(p, &["sim", "-s", "all.csv", "--steps", "6000", "-o", "whole"]);
    ok(p, &["sim", "-s", "first.csv", "--steps", "3000", "--save-state", "s.npz", "-o", "a"]);
    ok(p, &["sim", "-s", "all.csv", "--load-state", "s.npz", "-o", "b"]);
    assert_eq!(
        spikes_from(&read(&p.join("b/spikes.csv")), 0),
        spikes_from(&read(&p.join("whole/spikes.csv")), 3000)
    );
    assert_eq!(read(&p.join("b/weights.csv")), read(&p.join("whole/weights.csv")));
    refused(
        p,
        &["sim", "-s", "first.csv", "--load-state", "s.npz", "-o", "x"],
        "error: --stimulus first.csv: its last spike is before step 3000, where the saved state goes \
         on; give --steps N to run on without input, or a stimulus that goes on\n",
    );
}

#[test]
fn cosim_loads_a_saved_state_into_the_core_and_reads_it_back() {
    let d = tmp();
    let p = d.path();
    // Model -> core: the model's state after 1500 steps, loaded through the port, continued
    // 1500 steps with zero mismatches; the core's read-back is the file the model writes.
    ok(p, &["sim", "--steps", "1500", "--save-state", "m1500.npz", "-o", "a"]);
    let out = ok(
        p,
        &[
            "cosim",
            "--load-state",
            "m1500.npz",
            "--steps",
            "1500",
            "--save-state",
            "hw3000.npz",
            "-o",
            "c",
        ],
    );
    assert!(out.contains("1500 steps, "), "{out}");
    assert!(out.contains("RTL == bit-accurate model: zero mismatches"), "{out}");
    assert!(
        out.contains("wrote hw3000.npz (the state the core read back after step 3000)"),
        "{out}"
    );
    ok(
        p,
        &[
            "sim",
            "--load-state",
            "m1500.npz",
            "--steps",
            "1500",
            "--save-state",
            "m3000.npz",
            "-o",
            "b",
        ],
    );
    assert_eq!(
        std::fs::read(p.join("hw3000.npz")).unwrap(),
        std::fs::read(p.join("m3000.npz")).unwrap()
    );
    // Core -> model: the core's state goes on in the model exactly as the model's own.
    ok(p, &["sim", "--load-state", "hw3000.npz", "--steps", "2000", "-o", "e"]);
    ok(p, &["sim", "--steps", "5000", "-o", "whole"]);
    assert_eq!(read(&p.join("e/weights.csv")), read(&p.join("whole/weights.csv")));
    assert_eq!(
        spikes_from(&read(&p.join("e/spikes.csv")), 0),
        spikes_from(&read(&p.join("whole/spikes.csv")), 3000)
    );
    ok(p, &["sim", "--model", "float", "--steps", "10", "--save-state", "f.npz", "-o", "f"]);
    refused(
        p,
        &["cosim", "--load-state", "f.npz", "-o", "c"],
        "error: --load-state f.npz: is the float model's state; the core holds the bit-accurate \
         model's words: save one with `synforge sim --model fixed --save-state FILE`\n",
    );
}

#[test]
fn run_carries_a_saved_state_to_the_simulated_board_and_back() {
    let d = tmp();
    let p = d.path();
    // Model -> board (UART, bursts) -> model.
    ok(p, &["sim", "--steps", "700", "--save-state", "m700.npz", "-o", "a"]);
    let out = ok(
        p,
        &[
            "run",
            "--sim",
            "--load-state",
            "m700.npz",
            "--steps",
            "500",
            "--save-state",
            "b1200.npz",
            "-o",
            "r",
        ],
    );
    assert!(out.contains("board == bit-accurate model"), "{out}");
    assert!(out.contains("wrote b1200.npz (after step 1200)"), "{out}");
    let steps = read(&p.join("r/steps.csv"));
    assert!(steps.lines().nth(1).is_some_and(|l| l.starts_with("700,")), "absolute steps: {steps}");
    ok(
        p,
        &[
            "sim",
            "--load-state",
            "m700.npz",
            "--steps",
            "500",
            "--save-state",
            "m1200.npz",
            "-o",
            "b",
        ],
    );
    assert_eq!(
        std::fs::read(p.join("b1200.npz")).unwrap(),
        std::fs::read(p.join("m1200.npz")).unwrap()
    );
    // Board -> model: the board's state goes on in the model like an unbroken run.
    ok(p, &["sim", "--load-state", "b1200.npz", "--steps", "800", "-o", "c"]);
    ok(p, &["sim", "--steps", "2000", "-o", "whole"]);
    assert_eq!(read(&p.join("c/weights.csv")), read(&p.join("whole/weights.csv")));
    assert_eq!(
        spikes_from(&read(&p.join("c/spikes.csv")), 0),
        spikes_from(&read(&p.join("whole/spikes.csv")), 1200)
    );
}

#[test]
fn compare_saves_and_continues_both_models() {
    let d = tmp();
    let p = d.path();
    let out = ok(p, &["compare", "--steps", "3000", "--save-state", "c.npz"]);
    assert!(
        out.contains("wrote c.npz (fixed) and c-float.npz (float), the states after step 3000"),
        "{out}"
    );
    let out =
        ok(p, &["compare", "--load-state", "c.npz", "--steps", "2000", "--save-state", "e.npz"]);
    assert!(
        out.starts_with(
            "from step 3000: the fixed model from c.npz, the float model from c-float.npz\n"
        ),
        "{out}"
    );
    ok(p, &["sim", "--steps", "5000", "--save-state", "f.npz", "-o", "a"]);
    ok(p, &["sim", "--model", "float", "--steps", "5000", "--save-state", "g.npz", "-o", "b"]);
    assert_eq!(std::fs::read(p.join("e.npz")).unwrap(), std::fs::read(p.join("f.npz")).unwrap());
    assert_eq!(
        std::fs::read(p.join("e-float.npz")).unwrap(),
        std::fs::read(p.join("g.npz")).unwrap()
    );
    // One model's state alone starts both: the other converted.
    let out = ok(p, &["compare", "--load-state", "f.npz", "--steps", "100"]);
    assert!(out.contains("the float model from f.npz (its raw words as reals)"), "{out}");
    let out = ok(p, &["compare", "--load-state", "g.npz", "--steps", "100"]);
    assert!(out.contains("the fixed model from g.npz (rounded into its formats)"), "{out}");
}
