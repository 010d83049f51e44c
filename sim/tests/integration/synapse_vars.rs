//! Per-synapse variables (issue 11, item 1, first part): declared in the config, read by the
//! rules, each the target of its own update; in both models.

use synforge_sim::config::Config;
use synforge_sim::model::{FixedModel, FloatModel, Model};

/// A tag `e` that follows the pair window, and a weight that moves by `r * e` at every input
/// spike: Izhikevich's eligibility trace without its decay (that needs the sweep).
fn tagged() -> Config {
    Config::from_toml_str(
        r#"
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
width = 12
frac = 9
signed = true
update = "p * x1 * y0 - m * y1 * x0"
[plasticity.params]
a = 0.02
p = 0.1
m = 0.08
[formats]
membrane = { width = 32, frac = 24, rounding = "nearest" }
weight = { width = 16, frac = 16, rounding = "nearest" }
trace_x1 = { width = 16, frac = 14, rounding = "nearest" }
trace_y1 = { width = 16, frac = 14, rounding = "nearest" }
modulator = { width = 8, frac = 6 }
[homeostasis]
adaptive_threshold = false
scaling = false
[stimulus]
rate_hz = 60.0
"#,
        "tagged",
    )
    .unwrap()
}

#[test]
fn a_tag_follows_the_window_and_gates_the_weight_in_both_models() {
    let net = tagged().build().unwrap();
    assert_eq!(net.syn.len(), 1);
    let mut spec = net.cfg.stimulus.clone();
    spec.steps = 3000;
    let stim = spec.generate(&net.cfg).unwrap();
    let mut fixed = FixedModel::new(&net);
    let mut float = FloatModel::with_weights(&net, fixed.weights());
    let w0 = fixed.weights();
    let (mut spikes, mut moved) = (0, false);
    // The models may part on a spike near threshold; they are compared as they were just
    // before it (or at the end), and each runs on to the end for the bound. Over stimulus
    // seeds 1 to 24, 7 parted (at steps 515 to 2112); the largest tag gap so compared was 10
    // LSB, the largest weight gap 0.001; one seed (5) left no tag at the bound.
    let mut compared = None;
    for t in 0..stim.steps() {
        // Reward in bursts: +1 for 50 steps of every 500, -0.5 for 50 others.
        let r = match t % 500 {
            100..150 => 1.0,
            300..350 => -0.5,
            _ => 0.0,
        };
        fixed.set_modulator(r);
        float.set_modulator(r);
        let before = compared.is_none().then(|| both(&fixed, &float));
        let a = fixed.step(stim.at(t)).to_vec();
        let b = float.step(stim.at(t)).to_vec();
        if a != b && compared.is_none() {
            eprintln!("the models part at step {t}: {a:?} {b:?}");
            compared = before;
        }
        spikes += a.len();
        moved |= fixed.weights() != w0;
    }
    assert!(spikes > 20, "the network fires: {spikes}");
    assert!(moved, "r * e moved some weight");
    let (ef, eq) = (fixed.syn(0).unwrap(), float.syn(0).unwrap());
    // Without a decay (the sweep's) the unbalanced window drives tags to the format's
    // bound, -4 (sQ3.9), where both models clamp them.
    assert!(ef.contains(&-4.0) && eq.contains(&-4.0), "a tag at its bound: {:?}", &ef[..12]);
    assert!(ef.iter().any(|&e| e != -4.0 && e != 0.0), "tags inside the range too");
    let ((ef, wf), (eq, wq)) = compared.unwrap_or_else(|| both(&fixed, &float));
    let lsb = (-9f64).exp2();
    for (k, (x, y)) in ef.iter().zip(&eq).enumerate() {
        assert!((x - y).abs() < 40.0 * lsb, "tag {k}: fixed {x} float {y}");
    }
    for (k, (x, y)) in wf.iter().zip(&wq).enumerate() {
        assert!((x - y).abs() < 0.01, "weight {k}: fixed {x} float {y}");
    }
}

/// Tags and weights of both models.
type TagsAndWeights = (Vec<f64>, Vec<f64>);

fn both(fixed: &FixedModel, float: &FloatModel) -> (TagsAndWeights, TagsAndWeights) {
    (
        (fixed.syn(0).unwrap().to_vec(), fixed.weights()),
        (float.syn(0).unwrap().to_vec(), float.weights()),
    )
}

#[test]
fn per_synapse_variable_mistakes_are_refused_naming_the_field() {
    let with = |extra: &str| {
        let text = format!(
            "[plasticity]\nrule = \"custom\"\ndw = \"a * e * x0\"\n[plasticity.params]\na = 0.01\n{extra}"
        );
        Config::from_toml_str(&text, "c").unwrap().build().map(|_| ()).unwrap_err().to_string()
    };
    let e = with("[plasticity.synapse.e]\nwidth = 8\nfrac = 6\nrounding = \"stochastic\"\nupdate = \"x1 * y0\"\n");
    assert!(e.contains("plasticity.synapse.e.rounding") && e.contains("nearest"), "{e}");
    let e = with("[plasticity.synapse.e]\nwidth = 17\nfrac = 6\nupdate = \"x1 * y0\"\n");
    assert!(e.contains("plasticity.synapse.e.width"), "{e}");
    let e = with("[plasticity.synapse.e]\nwidth = 8\nfrac = 6\nupdate = \"a * x1 * y0\"\n");
    assert!(e.contains("plasticity.params.a") && e.contains("its own parameter"), "{e}");
    let e = with("[plasticity.synapse.e]\nwidth = 8\nfrac = 6\nupdate = \"(1 - e) * y0\"\n");
    assert!(e.contains("outside any bracket"), "{e}");
    let e = with("[plasticity.synapse.x1]\nwidth = 8\nfrac = 6\nupdate = \"y0\"\n");
    assert!(e.contains("plasticity.synapse.x1"), "{e}");
    let e = with(
        "[plasticity.synapse.e]\nwidth = 8\nfrac = 6\nupdate = \"y0\"\n\
         [plasticity.synapse.f]\nwidth = 8\nfrac = 6\nupdate = \"y0\"\n\
         [plasticity.synapse.g]\nwidth = 8\nfrac = 6\nupdate = \"y0\"\n",
    );
    assert!(e.contains("at most 2"), "{e}");
}

#[test]
fn a_saved_state_carries_the_variables_and_the_run_goes_on_bit_for_bit() {
    use synforge_sim::model::ModelKind;
    use synforge_sim::state::State;
    let net = tagged().build().unwrap();
    let mut spec = net.cfg.stimulus.clone();
    spec.steps = 1200;
    let stim = spec.generate(&net.cfg).unwrap();
    let r = |t: u32| if t % 300 < 40 { 1.0 } else { 0.0 };
    for kind in [ModelKind::Fixed, ModelKind::Float] {
        let fresh = || -> Box<dyn Model> {
            match kind {
                ModelKind::Fixed => Box::new(FixedModel::new(&net)),
                ModelKind::Float => Box::new(FloatModel::new(&net)),
            }
        };
        let (mut whole, mut first) = (fresh(), fresh());
        for t in 0..stim.steps() {
            whole.set_modulator(r(t));
            whole.step(stim.at(t));
        }
        for t in 0..500 {
            first.set_modulator(r(t));
            first.step(stim.at(t));
        }
        let init = first.state().into_iter().find(|q| q.name == "weight").unwrap();
        let bytes = State::of(&net, first.as_ref(), kind, init.values).to_bytes().unwrap();
        let back = State::from_bytes(&bytes).unwrap();
        assert!(back.quantities.iter().any(|q| q.name == "syn0"), "{kind:?}: the tags are saved");
        let mut loaded = fresh();
        loaded.set_state(back.step, &back.quantities).unwrap();
        for t in 500..stim.steps() {
            loaded.set_modulator(r(t));
            loaded.step(stim.at(t));
        }
        assert_eq!(loaded.syn(0), whole.syn(0), "{kind:?}: tags");
        assert_eq!(loaded.weights(), whole.weights(), "{kind:?}: weights");
        assert_ne!(whole.syn(0), fresh().syn(0), "{kind:?}: the tags moved");
    }
}

#[test]
fn a_variable_whose_update_alone_reads_r_gets_r() {
    let mut c = tagged();
    c.plasticity.dw = Some("a * e * x0".into());
    c.plasticity.synapse.get_mut("e").unwrap().update = Some("p * r * y0 - m * y1 * x0".into());
    let net = c.build().unwrap();
    assert_eq!(net.modulator_raw(1.0), 64, "r's format comes from the update");
    let mut spec = net.cfg.stimulus.clone();
    spec.steps = 400;
    let stim = spec.generate(&net.cfg).unwrap();
    let mut fixed = FixedModel::new(&net);
    for t in 0..stim.steps() {
        fixed.set_modulator(1.0);
        fixed.step(stim.at(t));
    }
    assert!(fixed.syn(0).unwrap().iter().any(|&e| e > 0.0), "r * y0 raised some tag");
}

#[test]
fn update_mistakes_name_the_update_and_parameters_belong_to_one_expression() {
    let with = |extra: &str| {
        let text = format!(
            "[plasticity]\nrule = \"custom\"\ndw = \"a * e * x0\"\n[plasticity.params]\na = 0.01\np = 0.1\n{extra}"
        );
        Config::from_toml_str(&text, "c").unwrap().build().map(|_| ()).unwrap_err().to_string()
    };
    let e = with("[plasticity.synapse.e]\nwidth = 8\nfrac = 6\nupdate = \"p * * y0\"\n");
    assert!(e.contains("plasticity.synapse.e.update") && e.contains("column"), "{e}");
    let e = with(
        "[plasticity.synapse.e]\nwidth = 8\nfrac = 6\nupdate = \"p * x1 * y0\"\n\
         [plasticity.synapse.f]\nwidth = 8\nfrac = 6\nupdate = \"p * y1 * x0\"\n",
    );
    assert!(e.contains("plasticity.params.p") && e.contains("`e` and `f`"), "{e}");
}

#[test]
fn a_state_converts_its_variables_between_the_models() {
    use synforge_sim::model::ModelKind;
    use synforge_sim::state::{State, Values};
    let net = tagged().build().unwrap();
    let mut spec = net.cfg.stimulus.clone();
    spec.steps = 600;
    let stim = spec.generate(&net.cfg).unwrap();
    let mut fixed = FixedModel::new(&net);
    for t in 0..stim.steps() {
        fixed.step(stim.at(t));
    }
    let init = fixed.state().into_iter().find(|q| q.name == "weight").unwrap();
    let state = State::of(&net, &fixed, ModelKind::Fixed, init.values);
    let fresh = FloatModel::new(&net).state();
    let q = state.converted(&net, ModelKind::Float, &fresh);
    let mut float = FloatModel::new(&net);
    float.set_state(state.step, &q).unwrap();
    assert_eq!(float.syn(0), fixed.syn(0), "the tags as reals");
    let back = State::of(&net, &float, ModelKind::Float, Values::F64(float.weights()));
    let q = back.converted(&net, ModelKind::Fixed, &FixedModel::new(&net).state());
    let mut again = FixedModel::new(&net);
    again.set_state(back.step, &q).unwrap();
    assert_eq!(again.syn_raw(0), fixed.syn_raw(0), "and back to raw");
}
