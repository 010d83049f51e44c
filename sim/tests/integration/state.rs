//! Saved state: the examples continue exactly from a state file with their own stimuli (which
//! resume at the saved step), and a state that does not fit, is damaged or holds values out of
//! range is refused, naming what, and changes nothing.

use std::path::Path;

use synforge_sim::config::Config;
use synforge_sim::model::{self, Model, ModelKind};
use synforge_sim::run::{run_source, Observer};
use synforge_sim::state::{State, Values};
use synforge_sim::Network;

/// Keeps `(step, neuron)` of every output spike.
struct Spikes(Vec<(u32, u32)>);

impl Observer for Spikes {
    fn after_step(&mut self, t: u32, _: &dyn Model, spikes: &[u32]) {
        self.0.extend(spikes.iter().map(|&j| (t, j)));
    }
}

fn example(name: &str) -> Network {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples").join(name);
    Config::load(&path).and_then(|c| c.build()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Run `m` from its step for `steps` steps of the network's own stimulus.
fn run(net: &Network, m: &mut dyn Model, steps: u32) -> Vec<(u32, u32)> {
    let mut spec = net.cfg.stimulus.clone();
    spec.steps = m.time() + steps;
    let mut src = spec.stream(&net.cfg).expect("stimulus");
    src.seek(m.time());
    let mut obs = Spikes(vec![]);
    let rec = run_source(m, src.as_mut(), &mut obs, false);
    assert_eq!(rec.steps, steps);
    obs.0
}

fn save(net: &Network, m: &dyn Model, kind: ModelKind) -> Vec<u8> {
    let init = model::build(net, kind).state().into_iter().find(|q| q.name == "weight").unwrap();
    State::of(net, m, kind, init.values).to_bytes().unwrap()
}

fn load(net: &Network, bytes: &[u8], kind: ModelKind) -> Box<dyn Model> {
    let s = State::from_bytes(bytes).unwrap();
    s.check_fits(net, kind).unwrap();
    let mut m = model::build(net, kind);
    m.set_state(s.step, &s.quantities).unwrap();
    m
}

#[test]
fn examples_continue_exactly_from_a_state_file() {
    for name in ["default.toml", "custom-rule.toml", "pairing.toml", "song.toml"] {
        let net = example(name);
        let total = net.cfg.stimulus.steps.min(3000);
        let cut = total * 2 / 5;
        for kind in [ModelKind::Fixed, ModelKind::Float] {
            let mut whole = model::build(&net, kind);
            let want = run(&net, whole.as_mut(), total);
            assert!(!want.is_empty(), "{name}: no output spikes, the test would show little");
            let mut first = model::build(&net, kind);
            let mut got = run(&net, first.as_mut(), cut);
            let mut second = load(&net, &save(&net, first.as_ref(), kind), kind);
            got.extend(run(&net, second.as_mut(), total - cut));
            assert_eq!(got, want, "{name}, {kind:?} model: spikes");
            assert_eq!(second.state(), whole.state(), "{name}, {kind:?} model: state");
        }
    }
}

#[test]
fn a_state_of_another_structure_or_model_is_refused_naming_what_differs() {
    let net = example("default.toml");
    let mut m = model::build(&net, ModelKind::Fixed);
    run(&net, m.as_mut(), 100);
    let s = State::from_bytes(&save(&net, m.as_ref(), ModelKind::Fixed)).unwrap();
    let other = |edit: &dyn Fn(&mut Config)| {
        let mut c = net.cfg.clone();
        edit(&mut c);
        s.check_fits(&c.build().unwrap(), ModelKind::Fixed).unwrap_err()
    };
    let e = other(&|c| c.network.inputs = 65);
    assert!(e.contains("`network.inputs` is 65 in this network but was 64"), "{e}");
    let e = other(&|c| c.network.neurons = 8);
    assert!(e.contains("`network.neurons` is 8"), "{e}");
    let e = other(&|c| c.formats.weight.frac -= 1);
    assert!(e.contains("`formats.weight`"), "{e}");
    let e = other(&|c| c.plasticity.rule = "triplet".into());
    assert!(e.contains("`plasticity.rule`"), "{e}");
    let e = other(&|c| c.homeostasis.adaptive_threshold = !c.homeostasis.adaptive_threshold);
    assert!(e.contains("`homeostasis.adaptive_threshold`"), "{e}");
    // Parameters are not structure: another time constant loads.
    let mut c = net.cfg.clone();
    c.neuron.tau_m_ms *= 2.0;
    s.check_fits(&c.build().unwrap(), ModelKind::Fixed).unwrap();
    let e = s.check_fits(&net, ModelKind::Float).unwrap_err();
    assert!(e.contains("fixed model's state; load it with `--model fixed`"), "{e}");
}

#[test]
fn a_truncated_or_corrupted_state_is_refused() {
    let net = example("default.toml");
    let mut m = model::build(&net, ModelKind::Fixed);
    run(&net, m.as_mut(), 200);
    let bytes = save(&net, m.as_ref(), ModelKind::Fixed);
    State::from_bytes(&bytes).unwrap();
    for cut in [0, 1, 100, bytes.len() / 2, bytes.len() - 1] {
        let e = State::from_bytes(&bytes[..cut]).unwrap_err();
        assert!(e.contains("truncated or corrupted"), "cut at {cut}: {e}");
    }
    // Every byte flipped in turn (a stride of them): never accepted as another state.
    let mut refused = 0;
    for k in (0..bytes.len()).step_by(7) {
        let mut bad = bytes.clone();
        bad[k] ^= 0x5A;
        match State::from_bytes(&bad) {
            Err(_) => refused += 1,
            // Bytes no reader looks at (zip's timestamps, its comment field).
            Ok(s) => {
                assert_eq!(s, State::from_bytes(&bytes).unwrap(), "byte {k} changed the state")
            }
        }
    }
    assert!(refused > bytes.len() / 7 * 9 / 10, "only {refused} corruptions were refused");
}

#[test]
fn a_state_with_a_value_out_of_range_is_refused_and_changes_nothing() {
    let net = example("default.toml");
    let mut m = model::build(&net, ModelKind::Fixed);
    run(&net, m.as_mut(), 300);
    let before = m.state();
    let mut q = before.clone();
    // The last quantity checked made wrong, so everything before it has passed.
    let w = q.iter_mut().find(|x| x.name == "weight").unwrap();
    if let Values::U16(v) = &mut w.values {
        v[5] = net.k.w_max as u16 + 1;
    }
    let mut fresh = model::build(&net, ModelKind::Fixed);
    let e = fresh.set_state(300, &q).unwrap_err();
    assert!(e.contains("`weight`[5]") && e.contains("w_min..w_max"), "{e}");
    let mut q = before.clone();
    let l = q.iter_mut().find(|x| x.name == "lfsr_inputs").unwrap();
    l.values = Values::U32(vec![0]);
    let e = m.set_state(300, &q).unwrap_err();
    assert!(e.contains("`lfsr_inputs`[0] = 0"), "{e}");
    assert_eq!(m.state(), before, "a refused state changed the model");
    assert_eq!(m.time(), 300);
    q.retain(|x| x.name != "trace_x1");
    let e = m.set_state(300, &q).unwrap_err();
    assert!(e.contains("has no `trace_x1`"), "{e}");
}

#[test]
fn a_state_converts_between_the_models() {
    let net = example("default.toml");
    let mut m = model::build(&net, ModelKind::Fixed);
    run(&net, m.as_mut(), 500);
    let fresh = model::build(&net, ModelKind::Fixed).state();
    let s = State::from_bytes(&save(&net, m.as_ref(), ModelKind::Fixed)).unwrap();
    // Fixed to float: the reals the raw words stand for, no LFSRs.
    let q = s.converted(&net, ModelKind::Float, &fresh);
    let mut float = model::build(&net, ModelKind::Float);
    float.set_state(s.step, &q).unwrap();
    assert_eq!(float.weights(), m.weights());
    assert!(q.iter().all(|x| x.name != "lfsr" && x.name != "lfsr_inputs"));
    // And back: the same raw words (reals of the format round to themselves), fresh LFSRs.
    let back = State::from_quantities(
        &net,
        ModelKind::Float,
        s.step,
        float.state(),
        Values::F64(vec![0.0; 1024]),
    );
    let q = back.converted(&net, ModelKind::Fixed, &fresh);
    let mut fixed = model::build(&net, ModelKind::Fixed);
    fixed.set_state(s.step, &q).unwrap();
    let same = |name: &str| {
        let a = fixed.state().into_iter().find(|x| x.name == name).unwrap();
        let b = m.state().into_iter().find(|x| x.name == name).unwrap();
        a == b
    };
    for name in ["weight", "v_mem", "theta_a", "trace_y1", "trace_x1", "refrac", "count", "spiked"]
    {
        assert!(same(name), "{name} after fixed -> float -> fixed");
    }
    let lfsr = fixed.state().into_iter().find(|x| x.name == "lfsr").unwrap();
    assert_eq!(Some(&lfsr), fresh.iter().find(|x| x.name == "lfsr"));
    // Reals outside a format clamp into it; weights into their bounds.
    let mut q = float.state();
    for x in &mut q {
        if let Values::F64(v) = &mut x.values {
            v[0] = 1e9;
            v[1] = -1e9;
        }
    }
    let odd = State::from_quantities(&net, ModelKind::Float, 3, q, Values::F64(vec![0.0; 1024]));
    let q = odd.converted(&net, ModelKind::Fixed, &fresh);
    let w = q.iter().find(|x| x.name == "weight").unwrap();
    assert!(
        matches!(&w.values, Values::U16(v) if v[0] as i64 == net.k.w_max && v[1] as i64 == net.k.w_min)
    );
    model::build(&net, ModelKind::Fixed).set_state(3, &q).unwrap();
}
