//! Per-synapse variables on the core (issue 11, item 1): a tag `e` beside the weight in the
//! synapse word, co-simulated, on the simulated board, through a saved state and back; a word
//! too narrow for the variables refused.

use super::{ok, refused, tmp, write};

/// A weight that moves by `a * e * r` at every input spike, and a tag `e` that follows the
/// pair window: 8-bit weights and an 8-bit signed tag fill the 16-bit synapse word.
const TAGGED: &str = r#"
[network]
inputs = 12
neurons = 3
seed = 5
[plasticity]
rule = "custom"
dw = "a * e * r * x0"
w_max = 0.5
w_init = 0.2
w_init_spread = 0.05
[plasticity.synapse.e]
width = 8
frac = 5
signed = true
update = "p * x1 * y0 - m * y1 * x0"
[plasticity.params]
a = 0.02
p = 0.1
m = 0.08
[formats]
membrane = { width = 32, frac = 24, rounding = "nearest" }
weight = { width = 8, frac = 8, rounding = "stochastic" }
trace_x1 = { width = 16, frac = 14, rounding = "nearest" }
trace_y1 = { width = 16, frac = 14, rounding = "nearest" }
modulator = { width = 8, frac = 6 }
[homeostasis]
adaptive_threshold = false
scaling = false
[stimulus]
rate_hz = 60.0
steps = 1500
modulator_file = "r.csv"
"#;

/// Reward in bursts: 1 for 50 steps, 0 for 50, -0.5 for 50, 0 for 50.
fn reward() -> String {
    let mut s = String::from("step,value\n");
    for t in (0..1500).step_by(50) {
        s.push_str(&format!("{t},{}\n", [0.0, 1.0, 0.0, -0.5][(t / 50) % 4]));
    }
    s
}

#[test]
fn a_tag_runs_on_the_core_and_the_board_and_through_a_saved_state() {
    let dir = tmp();
    let d = dir.path();
    write(d, "tagged.toml", TAGGED);
    write(d, "r.csv", &reward());
    let out = ok(d, &["gen", "-c", "tagged.toml", "-o", "rtl"]);
    for part in ["prod", "round", "clamp"] {
        assert!(d.join(format!("rtl/sf_rule_syn0_{part}.v")).exists(), "{out}");
    }
    let out = ok(d, &["cosim", "-c", "tagged.toml", "-o", "cosim"]);
    assert!(out.contains("RTL == bit-accurate model: zero mismatches"), "{out}");
    // On the board: 900 steps, the state read back (weights and tags) equal to the model's.
    let run = ["run", "--sim", "-c", "tagged.toml", "-o", "board"];
    let out = ok(d, &[&run[..], &["--steps", "900", "--save-state", "s.npz"]].concat());
    assert!(out.contains("board == bit-accurate model"), "{out}");
    let shown = ok(d, &["state", "s.npz"]);
    assert!(shown.contains("syn0") && shown.contains("sQ3.5"), "{shown}");
    // From that state, the tags loaded with the weights: on the board and on the core.
    let out = ok(d, &[&run[..], &["--load-state", "s.npz", "--save-state", "t.npz"]].concat());
    assert!(out.contains("board == bit-accurate model"), "{out}");
    let out = ok(d, &["cosim", "-c", "tagged.toml", "-o", "cosim", "--load-state", "s.npz"]);
    assert!(out.contains("RTL == bit-accurate model: zero mismatches"), "{out}");
}

#[test]
fn a_synapse_word_too_narrow_for_the_variables_is_refused() {
    let dir = tmp();
    let d = dir.path();
    let wide = TAGGED.replace("weight = { width = 8, frac = 8", "weight = { width = 12, frac = 12");
    write(d, "wide.toml", &wide.replace("modulator_file = \"r.csv\"\n", ""));
    refused(
        d,
        &["gen", "-c", "wide.toml", "-o", "rtl"],
        "error: plasticity.synapse.e.width: the weight (12 bits) and the per-synapse variables \
         (`e` 8 bits) need 20 bits, more than a synapse word's 16; narrow the weight \
         (formats.weight.width) or the variables so that together they fit\n",
    );
    assert!(!d.join("rtl").exists(), "nothing written");
}

#[test]
fn a_sweep_runs_in_both_models_on_the_core_and_on_the_board() {
    let dir = tmp();
    let d = dir.path();
    // The tag decays in the sweep every 10 steps, and the reward reaches the weights there.
    let swept = TAGGED
        .replace("dw = \"a * e * r * x0\"", "dw = \"a * e * r * u\"\nsweep_period_steps = 10")
        .replace("- m * y1 * x0\"", "- m * y1 * x0 - k * e * u\"")
        .replace("m = 0.08\n", "m = 0.08\nk = 0.05\n");
    write(d, "swept.toml", &swept);
    write(d, "r.csv", &reward());
    for model in ["fixed", "float"] {
        let out = ok(d, &["sim", "-c", "swept.toml", "--model", model, "-o", model]);
        assert!(out.contains("spikes"), "{out}");
    }
    let out = ok(d, &["cosim", "-c", "swept.toml", "-o", "cosim"]);
    assert!(out.contains("RTL == bit-accurate model: zero mismatches"), "{out}");
    let run = ["run", "--sim", "-c", "swept.toml", "-o", "board"];
    let out = ok(d, &[&run[..], &["--steps", "905", "--save-state", "s.npz"]].concat());
    assert!(out.contains("board == bit-accurate model"), "{out}");
    // From step 905, mid-period: the sweep phase goes into the core with the state.
    let out = ok(d, &["cosim", "-c", "swept.toml", "-o", "cosim", "--load-state", "s.npz"]);
    assert!(out.contains("RTL == bit-accurate model: zero mismatches"), "{out}");
    let out = ok(d, &[&run[..], &["--load-state", "s.npz"]].concat());
    assert!(out.contains("board == bit-accurate model"), "{out}");
}
