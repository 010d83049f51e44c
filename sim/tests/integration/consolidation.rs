//! The presets with per-synapse variables (issue 11, items 4 and 5): `reward-stdp` and
//! `consolidation` write their updates themselves; the config gives the variables' formats.

use synforge_sim::config::Config;
use synforge_sim::model::{FixedModel, FloatModel, Model};

/// Pair STDP with consolidation on a small Poisson-driven network; `c_up = 0` turns the
/// consolidation off and leaves the same rule.
fn consolidating(c_up: f64) -> Config {
    Config::from_toml_str(
        &format!(
            r#"
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
c_up = {c_up}
c_decay = 0.001
[formats]
weight = {{ width = 8, frac = 8, rounding = "stochastic" }}
[homeostasis]
adaptive_threshold = false
scaling = false
[stimulus]
rate_hz = 30.0
"#
        ),
        "consolidating",
    )
    .unwrap()
}

/// What the weights moved in the second half of `steps` (once the levels have risen): the
/// sum over steps and synapses of `|w(t + 1) - w(t)|`; and the mean level at the end; in both
/// models.
fn run(c: Config, steps: u32) -> [(f64, f64); 2] {
    let net = c.build().unwrap();
    let mut spec = net.cfg.stimulus.clone();
    spec.steps = steps;
    let stim = spec.generate(&net.cfg).unwrap();
    let mut fixed = FixedModel::new(&net);
    let mut float = FloatModel::with_weights(&net, fixed.weights());
    let mut moved = [0.0f64; 2];
    for t in 0..steps {
        let before = [fixed.weights(), float.weights()];
        fixed.step(stim.at(t));
        float.step(stim.at(t));
        if t >= steps / 2 {
            for (k, after) in [fixed.weights(), float.weights()].iter().enumerate() {
                moved[k] += after.iter().zip(&before[k]).map(|(a, b)| (a - b).abs()).sum::<f64>();
            }
        }
    }
    let models: [&dyn Model; 2] = [&fixed, &float];
    let mut k = 0;
    models.map(|m| {
        let c = m.syn(0).unwrap();
        k += 1;
        (moved[k - 1], c.iter().sum::<f64>() / c.len() as f64)
    })
}

#[test]
fn consolidated_synapses_learn_less_than_the_same_rule_without_it() {
    let plain = run(consolidating(0.0), 6000);
    let consolidated = run(consolidating(0.05), 6000);
    for (k, model) in ["fixed", "float"].iter().enumerate() {
        let ((m0, c0), (m1, c1)) = (plain[k], consolidated[k]);
        eprintln!("{model}: moved {m0:.3} without, {m1:.3} with; mean level {c0:.3}, {c1:.3}");
        assert_eq!(c0, 0.0, "{model}: c_up = 0 raises no level");
        assert!(c1 > 0.1, "{model}: potentiation raised the levels: {c1}");
        assert!(m1 < 0.8 * m0, "{model}: consolidation slowed learning: {m1} against {m0}");
    }
}

#[test]
fn a_preset_names_the_variable_it_needs_and_writes_its_update() {
    let err = |c: Config| c.build().map(|_| ()).unwrap_err().to_string();
    let mut c = consolidating(0.05);
    c.plasticity.synapse.clear();
    let e = err(c);
    assert!(
        e.contains("`plasticity.synapse.c`")
            && e.contains("the consolidation preset keeps a consolidation level `c`")
            && e.contains("[plasticity.synapse.c] width = 6, frac = 6"),
        "{e}"
    );
    let mut c = consolidating(0.05);
    c.plasticity.synapse.get_mut("c").unwrap().update = Some("c_up * x1 * y0".into());
    let e = err(c);
    assert!(e.contains("plasticity.synapse.c.update") && e.contains("remove update"), "{e}");
    let mut c = consolidating(0.05);
    let v = c.plasticity.synapse["c"].clone();
    c.plasticity.synapse.insert("e".into(), v);
    let e = err(c);
    assert!(e.contains("plasticity.synapse.e") && e.contains("has no variable `e`"), "{e}");
    let mut c = consolidating(0.05);
    c.plasticity.params.remove("c_decay");
    let e = err(c);
    assert!(e.contains("c_decay"), "{e}");
    // A custom rule's variable needs its update.
    let mut c = consolidating(0.05);
    c.plasticity.rule = "custom".into();
    c.plasticity.dw = Some("c_up * c * x1 * y0".into());
    c.plasticity.a_plus = Config::default().plasticity.a_plus;
    c.plasticity.a_minus = Config::default().plasticity.a_minus;
    let e = err(c);
    assert!(e.contains("plasticity.synapse.c.update") && e.contains("needs its update"), "{e}");
}

/// The effective decay rate (issue 11, item 7) of the consolidation preset: `w_decay * (1 - c)`
/// per sweep, whatever the weight; none at `w_min`, and none for a rule without a sweep.
#[test]
fn the_effective_decay_is_w_decay_times_one_minus_c() {
    use synforge_sim::plasticity::rule::RuleFloat;
    let net = consolidating(0.05).build().unwrap();
    let p = &net.cfg.plasticity;
    let f = RuleFloat::new(net.rule.as_ref().unwrap(), p.w_min, p.w_max);
    let w_decay = 0.002;
    for (w, c) in [(0.1, 0.0), (0.2, 0.5), (0.05, 0.75)] {
        let d = f.sweep_decay(w, &[c, 0.0]).unwrap();
        // w_decay is held in the amplitude format: within its quantisation.
        assert!((d - w_decay * (1.0 - c)).abs() < 1e-3 * w_decay, "w {w} c {c}: {d}");
    }
    assert_eq!(f.sweep_decay(p.w_min, &[0.0; 2]), None);
    let pair = Config::builtin_default().build().unwrap();
    let g = RuleFloat::new(pair.rule.as_ref().unwrap(), 0.0, 0.125);
    assert_eq!(g.sweep_decay(0.1, &[0.0; 2]), None);
}
