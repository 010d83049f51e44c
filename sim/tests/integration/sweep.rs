//! The periodic sweep (issue 11, item 2; semantics §4.7): terms gated by `u` act on every
//! synapse every `sweep_period_steps` steps, in both models.

use synforge_sim::config::Config;
use synforge_sim::model::{FixedModel, FloatModel, Model};

/// A tag `e` that follows the pair window on spikes and decays in the sweep every 10 steps by
/// `k = 1 - exp(-10 / 200)`: Izhikevich's eligibility trace, time constant 200 steps. The
/// weight moves by `a * e * r` in the sweep, when the reward `r` is set.
fn decaying(k_steps: u32) -> Config {
    let k = 1.0 - (-(k_steps as f64) / 200.0).exp();
    Config::from_toml_str(
        &format!(
            r#"
[network]
inputs = 16
neurons = 3
seed = 9
[plasticity]
rule = "custom"
dw = "a * e * r * u"
w_max = 0.5
w_init = 0.2
w_init_spread = 0.05
sweep_period_steps = {k_steps}
[plasticity.synapse.e]
width = 16
frac = 12
signed = true
update = "p * x1 * y0 - m * y1 * x0 - k * e * u"
[plasticity.params]
a = 0.01
p = 0.1
m = 0.08
k = {k}
[formats]
membrane = {{ width = 32, frac = 24, rounding = "nearest" }}
weight = {{ width = 16, frac = 16, rounding = "nearest" }}
trace_x1 = {{ width = 16, frac = 14, rounding = "nearest" }}
trace_y1 = {{ width = 16, frac = 14, rounding = "nearest" }}
modulator = {{ width = 8, frac = 6 }}
[homeostasis]
adaptive_threshold = false
scaling = false
[stimulus]
rate_hz = 60.0
"#
        ),
        "decaying",
    )
    .unwrap()
}

#[test]
fn a_tag_decays_in_the_sweep_with_its_time_constant_in_both_models() {
    let net = decaying(10).build().unwrap();
    let mut spec = net.cfg.stimulus.clone();
    spec.steps = 600;
    let stim = spec.generate(&net.cfg).unwrap();
    let mut fixed = FixedModel::new(&net);
    let mut float = FloatModel::with_weights(&net, fixed.weights());
    // 600 steps of input, r = 0: tags build up; weights do not move.
    for t in 0..600 {
        let (a, b) = (fixed.step(stim.at(t)).to_vec(), float.step(stim.at(t)).to_vec());
        assert_eq!(a, b, "step {t}: spikes");
    }
    let w0 = fixed.weights();
    let (e0q, e0f) = (fixed.syn(0).unwrap(), float.syn(0).unwrap());
    assert!(e0f.iter().filter(|e| e.abs() > 0.05).count() > 10, "tags built up: {e0f:?}");
    // 500 silent steps: 50 sweeps, e * (1 - k)^50 = e * exp(-2.5), in float exactly.
    for _ in 0..500 {
        assert!(fixed.step(&[]).is_empty() && float.step(&[]).is_empty(), "silent");
    }
    let (e1q, e1f) = (fixed.syn(0).unwrap(), float.syn(0).unwrap());
    let lsb = (-12f64).exp2();
    let factor = (-2.5f64).exp();
    let mut checked = 0;
    for s in 0..e0f.len() {
        assert!((e1f[s] - e0f[s] * factor).abs() < 1e-12, "float tag {s}: {} {}", e0f[s], e1f[s]);
        // Fixed: the same decay from its own start, each of the 50 steps rounded to nearest;
        // a tag stalls once k * |e| < 0.5 LSB, so within 1 / (2k) = 10.3 LSB of the float.
        assert!(
            (e1q[s] - e0q[s] * factor).abs() < 11.0 * lsb,
            "fixed tag {s}: {} {}",
            e0q[s],
            e1q[s]
        );
        checked += (e0f[s].abs() > 0.05) as usize;
    }
    assert!(checked > 10);
    assert_eq!(fixed.weights(), w0, "r = 0: the sweep moved no weight");
}

#[test]
fn a_reward_reaches_the_weights_only_on_sweep_steps() {
    let net = decaying(5).build().unwrap();
    let mut spec = net.cfg.stimulus.clone();
    spec.steps = 400;
    let stim = spec.generate(&net.cfg).unwrap();
    let mut fixed = FixedModel::new(&net);
    let mut float = FloatModel::with_weights(&net, fixed.weights());
    let (mut moved, mut sweeps) = (0, 0);
    for t in 0..stim.steps() {
        let r = if t >= 200 { 1.0 } else { 0.0 };
        fixed.set_modulator(r);
        float.set_modulator(r);
        let before = fixed.weights();
        let (a, b) = (fixed.step(stim.at(t)).to_vec(), float.step(stim.at(t)).to_vec());
        assert_eq!(a, b, "step {t}: spikes");
        let changed = fixed.weights() != before;
        if (t + 1) % 5 == 0 {
            sweeps += 1;
            moved += changed as u32;
        } else {
            assert!(!changed, "step {t}: no sweep, no weight change (dw has only `u` terms)");
        }
    }
    assert!(moved > 20, "the reward moved weights on {moved} of {sweeps} sweeps");
    for (k, (x, y)) in fixed.weights().iter().zip(float.weights()).enumerate() {
        assert!((x - y).abs() < 2e-3, "weight {k}: fixed {x} float {y}");
    }
}

#[test]
fn sweep_mistakes_are_refused_naming_the_field() {
    let err = |c: Config| c.build().map(|_| ()).unwrap_err().to_string();
    let mut c = decaying(10);
    c.plasticity.sweep_period_steps = None;
    let e = err(c);
    assert!(e.contains("plasticity.sweep_period_steps") && e.contains("`u`"), "{e}");
    let mut c = decaying(10);
    c.plasticity.sweep_period_steps = Some(0);
    assert!(err(c).contains("at least 1"));
    let mut c = decaying(10);
    c.plasticity.dw = Some("a * e * r * x0".into());
    c.plasticity.synapse.get_mut("e").unwrap().update = Some("p * x1 * y0 - m * y1 * x0".into());
    c.plasticity.params.remove("k");
    let e = err(c);
    assert!(e.contains("plasticity.sweep_period_steps") && e.contains("remove"), "{e}");
    let mut c = decaying(10);
    c.plasticity.dw = Some("a * e * r * u * x0".into());
    let e = err(c);
    assert!(e.contains("plasticity.dw") && e.contains("cannot go with an event"), "{e}");
    let mut c = decaying(10);
    c.plasticity.dw = Some("(a - a * u) * e * r * x0".into());
    let e = err(c);
    assert!(e.contains("is an event"), "{e}");
}
