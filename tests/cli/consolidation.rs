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

/// The diagnostics of a consolidating network (issue 11, item 7): the memory norm per neuron
/// and the fraction of stiff synapses, from the model's saved state and from the board's
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
    let text = ok(d, &["state", "board.npz"]);
    assert!(text.contains("variable `c` (syn0)") && text.contains("stiff"), "{text}");
}
