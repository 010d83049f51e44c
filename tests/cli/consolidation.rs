//! Metaplastic consolidation (issue 11, item 5): the `consolidation` preset, a level `c` per
//! synapse beside the weight that scales every change by `(1 - c)`, on the core; its
//! variable's mistakes refused. (The benchmark's consolidated network, examples/
//! consolidation.toml, is co-simulated in continual.rs.)

use super::{ok, refused, tmp, write};

/// Pair STDP with consolidation, a sweep every 50 steps: an 8-bit weight and an 8-bit level.
const PRESET: &str = r#"
[network]
inputs = 24
neurons = 3
seed = 5
[neuron]
threshold = 0.6
[plasticity]
rule = "consolidation"
a_plus = 0.01
a_minus = 0.006
w_max = 0.25
w_init = 0.12
w_init_spread = 0.04
sweep_period_steps = 50
[plasticity.synapse.c]
width = 8
frac = 8
[plasticity.params]
w_decay = 0.002
c_up = 0.05
c_decay = 0.001
[formats]
weight = { width = 8, frac = 8, rounding = "stochastic" }
[homeostasis]
adaptive_threshold = false
scaling = false
[stimulus]
rate_hz = 30.0
steps = 3000
"#;

#[test]
fn the_consolidation_preset_runs_on_the_core_step_by_step() {
    let dir = tmp();
    let d = dir.path();
    write(d, "c.toml", PRESET);
    let out = ok(d, &["params", "-c", "c.toml"]);
    assert!(
        out.contains("learning rule `consolidation`")
            && out.contains("- a_plus * x1 * c * y0")
            && out.contains("dc = \"c_up * x1 * y0 - c_up * x1 * c * y0 - c_decay * c * u\""),
        "{out}"
    );
    let out = ok(d, &["cosim", "-c", "c.toml", "-o", "cosim"]);
    assert!(out.contains("RTL == bit-accurate model: zero mismatches"), "{out}");
}

#[test]
fn a_preset_variable_without_its_format_is_refused_naming_the_table() {
    let dir = tmp();
    let d = dir.path();
    let bad = PRESET.replace("[plasticity.synapse.c]\nwidth = 8\nfrac = 8\n", "");
    write(d, "bad.toml", &bad);
    refused(
        d,
        &["sim", "-c", "bad.toml"],
        "error: config field `plasticity.synapse.c`: the consolidation preset keeps a \
         consolidation level `c` per synapse: declare its format, e.g. [plasticity.synapse.c] \
         width = 6, frac = 6\n",
    );
}

/// The diagnostics of a consolidating network (issue 11, item 7): the memory norm per neuron,
/// the fraction of stiff synapses and the effective decay rate, from the model's saved state and from the board's
/// read-back alike.
#[test]
fn synforge_state_reports_stiff_synapses_from_the_model_and_the_board() {
    let dir = tmp();
    let d = dir.path();
    write(d, "c.toml", PRESET);
    ok(d, &["sim", "-c", "c.toml", "--steps", "1500", "-o", "s", "--save-state", "model.npz"]);
    ok(
        d,
        &[
            "run",
            "--sim",
            "-c",
            "c.toml",
            "--steps",
            "1500",
            "-o",
            "b",
            "--save-state",
            "board.npz",
        ],
    );
    let report = |f: &str| {
        let out = ok(d, &["state", f, "--json"]);
        serde_json::from_str::<serde_json::Value>(&out).expect("JSON")
    };
    let (m, b) = (report("model.npz"), report("board.npz"));
    let v = &m["variables"][0];
    assert_eq!((v["name"].as_str(), v["array"].as_str()), (Some("c"), Some("syn0")), "{m}");
    let stiff = v["stiff"].as_f64().unwrap();
    assert!(stiff > 0.0 && stiff <= 1.0, "{v}");
    assert_eq!(v["stiff_per_neuron"].as_array().map(|a| a.len()), Some(3), "{v}");
    assert_eq!(m["weights"]["memory_norm_per_neuron"].as_array().map(|a| a.len()), Some(3));
    // The board learned what the model learned: the same diagnostics, read back.
    assert_eq!(m["variables"], b["variables"]);
    assert_eq!(m["weights"], b["weights"]);
    // The effective decay: w_decay * (1 - c) per sweep, slower where c has grown.
    let decay = &m["decay"];
    let per_sweep = decay["per_sweep"].as_f64().unwrap();
    let w_decay = 0.002;
    assert!(per_sweep > 0.0 && per_sweep < w_decay * 1.01, "{decay}");
    assert_eq!(decay["sweep_period_steps"].as_u64(), Some(50), "{decay}");
    assert_eq!(decay["per_neuron"].as_array().map(|a| a.len()), Some(3), "{decay}");
    assert_eq!(m["decay"], b["decay"]);
    // And the run's summary.json says the same.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("s/summary.json")).unwrap()).unwrap();
    let diag = &summary["summary"]["diagnostics"];
    assert_eq!(diag["decay_per_sweep"], decay["per_sweep"], "{diag}");
    assert_eq!(diag["decay_per_neuron"], decay["per_neuron"], "{diag}");
    assert_eq!(diag["stiff"], m["variables"][0]["stiff"], "{diag}");
    assert_eq!(diag["memory_norm"], m["weights"]["memory_norm"], "{diag}");
    let text = ok(d, &["state", "board.npz"]);
    assert!(text.contains("variable `c` (syn0)") && text.contains("stiff"), "{text}");
    assert!(text.contains("effective decay toward w_min"), "{text}");
}

/// The consolidation preset on the iCEBreaker (issue 11's last point): its products need more
/// multipliers than the UP5K's 8 DSPs, so `synforge synth` builds the cheapest of the rest from
/// logic cells, and the board takes `examples/consolidation-ice40.toml` at its clock.
#[test]
fn the_consolidation_preset_fits_the_icebreaker_with_multipliers_in_logic_cells() {
    let dir = tmp();
    let d = dir.path();
    let cfg =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/consolidation-ice40.toml");
    let cfg = cfg.to_str().unwrap();
    let out = ok(d, &["synth", "-c", cfg, "-b", "icebreaker", "-o", "s"]);
    assert!(out.contains("multipliers in logic cells") && out.contains("PASS"), "{out}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("s/report.json")).unwrap()).unwrap();
    assert_eq!(report["pass"], true, "{report}");
    assert!(report["dsp"]["used"].as_u64().unwrap() <= 8, "{report}");
    let soft = report["soft_multipliers"].as_array().unwrap();
    assert!(!soft.is_empty(), "{report}");
    assert!(d.join("s/top.bin").is_file());
}
