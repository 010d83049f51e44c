//! Random configs for the co-simulation property test: a structure (sizes, formats, rule
//! choices, the rule's text: what needs a new Verilator build) and parameter sets that keep that structure.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use synforge_sim::config::{
    Config, FormatSpec, ModulatorSpec, Pairing, Reset, WeightDependence, WeightMemory,
};
use synforge_sim::format::{Decay, Rounding};
use synforge_sim::plasticity::random::random_rule_with;
use synforge_sim::stimulus::{Modulator, StimulusKind};
use synforge_sim::Network;

fn rounding(rng: &mut ChaCha8Rng) -> Rounding {
    [Rounding::Floor, Rounding::Nearest, Rounding::Stochastic][rng.random_range(0..3)]
}

fn spec(width: u32, frac: u32, rng: &mut ChaCha8Rng) -> FormatSpec {
    let decay = if rng.random() { Decay::Multiply } else { Decay::Shift };
    FormatSpec { width, frac, rounding: rounding(rng), decay }
}

fn trace(rng: &mut ChaCha8Rng) -> FormatSpec {
    let width = rng.random_range(4..=16);
    let int = rng.random_range(1..=4.min(width));
    spec(width, width - int, rng)
}

/// A random structure: its config (a valid network) with fixed formats and amplitude format.
pub fn structure(seed: u64) -> Config {
    structure_with(seed, false, false, false)
}

/// A random structure whose rule is a custom one that reads the modulator `r`, in a random
/// modulator format.
pub fn modulated_structure(seed: u64) -> Config {
    structure_with(seed, true, false, false)
}

/// A random modulated structure whose rule also reads per-synapse variables: one or two
/// (`e`, `c`), signed or not, each with a random update of its own (which may read `r`, the
/// weight and, for `c`, `e`), in a synapse word that holds them beside the weight.
pub fn tagged_structure(seed: u64) -> Config {
    structure_with(seed, true, true, false)
}

/// A tagged structure with sweep terms (`u`): each variable decays in the sweep, the weight
/// sometimes takes `r` times a variable or decays there too, every few steps.
pub fn swept_structure(seed: u64) -> Config {
    structure_with(seed, true, true, true)
}

/// Sweep terms for a tagged config, from their own stream.
fn add_sweep(c: &mut Config, rng: &mut ChaCha8Rng) {
    let p = &mut c.plasticity;
    let names: Vec<String> = p.synapse.keys().cloned().collect();
    for name in &names {
        let v = p.synapse.get_mut(name).expect("declared");
        v.update
            .as_mut()
            .expect("a custom variable")
            .push_str(&format!(" - d_{name} * {name} * u"));
        p.params.insert(format!("d_{name}"), rng.random_range(0.05..0.5));
    }
    if rng.random() {
        // The traces as the step leaves them (after its bumps).
        let v = p.synapse.get_mut(&names[0]).expect("declared");
        v.update.as_mut().expect("a custom variable").push_str(" + t_x * x1 * y1 * u");
        p.params.insert("t_x".into(), rng.random_range(0.01..0.2));
    }
    let dw = p.dw.as_mut().expect("a custom rule");
    if rng.random() {
        dw.push_str(&format!(" + b_{0} * {0} * r * u", names[0]));
        p.params.insert(format!("b_{}", names[0]), rng.random_range(0.001..0.05));
    }
    if rng.random() {
        dw.push_str(" - b_w * w * u");
        p.params.insert("b_w".into(), rng.random_range(0.001..0.1));
    }
    p.sweep_period_steps = Some(rng.random_range(1..=8));
}

/// Per-synapse variables for `c` (a modulated custom rule with a weight of `ww` bits), from
/// their own stream: each declared, read by a new term of `dw`, with its own update.
fn add_variables(c: &mut Config, ww: u32, rng: &mut ChaCha8Rng) {
    let room = 16 - ww;
    let count = if room >= 6 && rng.random() { 2 } else { 1 };
    let mut left = room;
    for (v, (name, pre)) in [("e", "q"), ("c", "s")].into_iter().take(count).enumerate() {
        let signed: bool = rng.random();
        let lo = 2 + signed as u32;
        let hi = (left - if v + 1 < count { 3 } else { 0 }).min(10);
        let width = rng.random_range(lo..=hi);
        left -= width;
        // Mostly fraction bits: a value of a few units at most, so that updates move it.
        let top_frac = width - signed as u32;
        let frac = rng.random_range(top_frac.saturating_sub(2)..=top_frac);
        let reads_r = rng.random();
        let u = random_rule_with(rng, 3, reads_r);
        let mut text = u.text.replace('p', pre);
        let p = &mut c.plasticity;
        p.params.extend(u.params.iter().map(|(n, x)| (n.replace('p', pre), *x)));
        if v == 1 && rng.random() {
            text.push_str(" - s_e * e * x0");
            p.params.insert("s_e".into(), rng.random_range(0.001..0.05));
        }
        let gate = ["x0", "y0", "x0 * y0"][rng.random_range(0..3)];
        p.dw = Some(format!("{} + a_{name} * {name} * {gate}", p.dw.clone().unwrap_or_default()));
        p.params.insert(format!("a_{name}"), rng.random_range(0.001..0.05));
        let top = ((1u64 << (width - signed as u32)) - 1) as f64 * (-(frac as f64)).exp2();
        let init = if rng.random() { 0.0 } else { rng.random_range(0.0..0.5) * top };
        p.synapse.insert(
            name.into(),
            synforge_sim::config::SynapseVarSpec {
                width,
                frac,
                signed,
                rounding: if rng.random() { Rounding::Floor } else { Rounding::Nearest },
                init: if signed && rng.random() { -init } else { init },
                update: Some(text),
            },
        );
    }
}

fn structure_with(seed: u64, modulated: bool, tagged: bool, swept: bool) -> Config {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    loop {
        let mut c = Config::default();
        c.network.inputs = rng.random_range(1..=48);
        c.network.neurons = rng.random_range(1..=24);
        c.neuron.reset = if rng.random() { Reset::Zero } else { Reset::Subtract };
        c.traces.pairing = if rng.random() { Pairing::AllToAll } else { Pairing::Nearest };
        let p = &mut c.plasticity;
        let pick = ["off", "pair", "triplet", "pair", "triplet", "custom", "custom", "custom"]
            [rng.random_range(0..8)];
        p.rule = if modulated { "custom" } else { pick }.into();
        if p.rule.as_str() == "custom" {
            // A random rule: random terms, gates, brackets and weight factors; its parameter
            // values are drawn with the others below.
            let r = random_rule_with(&mut rng, 4, modulated);
            p.dw = Some(r.text);
            p.params = r.params;
        }
        if modulated {
            let width = rng.random_range(2..=16);
            c.formats.modulator = Some(ModulatorSpec { width, frac: rng.random_range(0..width) });
        }
        p.weight_dependence = if rng.random() {
            WeightDependence::Additive
        } else {
            WeightDependence::Multiplicative
        };
        c.homeostasis.adaptive_threshold = rng.random();
        c.homeostasis.scaling = rng.random();
        c.hardware.weight_memory =
            if rng.random() { WeightMemory::SinglePort } else { WeightMemory::DualPort };
        let f = &mut c.formats;
        let ww: u32 = rng.random_range(4..=if tagged { 12 } else { 16 });
        let wf = rng.random_range(ww.saturating_sub(3).max(1)..=ww);
        f.weight = spec(ww, wf, &mut rng);
        let vw = rng.random_range(8..=32);
        let vf = rng.random_range(wf.min(vw - 2)..vw - 1);
        f.membrane = spec(vw, vf, &mut rng);
        let tw = rng.random_range(4..=32);
        let tf = rng.random_range(0..=vf.min(tw));
        f.threshold = spec(tw, tf, &mut rng);
        f.trace_x1 = trace(&mut rng);
        f.trace_x2 = trace(&mut rng);
        f.trace_y1 = trace(&mut rng);
        f.trace_y2 = trace(&mut rng);
        c.plasticity.amplitude_frac = Some(rng.random_range(wf.max(8)..=wf.max(8) + 10).min(32));
        if c.plasticity.rule.is_custom() {
            // Room for the numbers a random rule writes (up to 1).
            c.plasticity.amplitude_frac = Some(rng.random_range(wf.max(8)..=wf.max(15)));
        }
        c.hardware.synapse_bits = rng.random_range(ww..=16);
        if tagged {
            let mut v = ChaCha8Rng::seed_from_u64(rng.random());
            add_variables(&mut c, ww, &mut v);
            c.hardware.synapse_bits = 16;
            if swept {
                add_sweep(&mut c, &mut v);
            }
        }
        parameters(&mut c, &mut rng);
        if c.build().is_ok() {
            return c;
        }
    }
}

/// Randomise every parameter that lives in a register (and the stimulus), keeping `base`'s
/// structure. Tries until the network is valid.
pub fn parameters_of(base: &Config, seed: u64) -> Network {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let key = synforge_rtl::cosim::structure_key(&base.build().expect("a valid base"));
    for _ in 0..1000 {
        let mut c = base.clone();
        parameters(&mut c, &mut rng);
        if let Ok(mut net) = c.build() {
            if synforge_rtl::cosim::structure_key(&net) == key {
                if net.cfg.plasticity.sweep_period_steps.is_some() {
                    // The sweep's period is a register: any period, from its own stream.
                    let mut k = ChaCha8Rng::seed_from_u64(seed ^ 0x0053_5745_4550);
                    let mut c = net.cfg.clone();
                    c.plasticity.sweep_period_steps = Some(k.random_range(1..=8));
                    net = c.build().expect("only the period changed");
                }
                if let Some(f) = net.modulator_format() {
                    // A modulator that changes on about a third of the steps, from its own
                    // stream: zero, both extremes and past them (saturating), anything between.
                    let mut m = ChaCha8Rng::seed_from_u64(seed ^ 0x4d4f_4455_4c41_544f);
                    let top = f.max_real() * 1.25;
                    let mut pairs = Vec::new();
                    for t in 0..2000u32 {
                        if m.random_bool(0.3) {
                            let v = match m.random_range(0..6) {
                                0 => 0.0,
                                1 => -top,
                                2 => top,
                                _ => m.random_range(-top..=top),
                            };
                            pairs.push((t, v));
                        }
                    }
                    net.modulator = std::sync::Arc::new(Modulator::from_pairs(pairs));
                }
                return net;
            }
        }
    }
    panic!("no valid parameter set for the structure of seed {seed}");
}

fn parameters(c: &mut Config, rng: &mut ChaCha8Rng) {
    let lsb_w = (-(c.formats.weight.frac as f64)).exp2();
    let w_top = ((1u64 << c.formats.weight.width) - 1) as f64 * lsb_w;
    let lsb_v = (-(c.formats.membrane.frac as f64)).exp2();
    let v_top = ((1u64 << (c.formats.membrane.width - 1)) - 1) as f64 * lsb_v;
    c.network.seed = rng.random();
    c.network.dt_ms = 1.0;
    let ne = &mut c.neuron;
    ne.tau_m_ms = rng.random_range(2.0..60.0);
    ne.threshold = rng.random_range(0.05..1.0) * v_top.min(4.0);
    ne.refractory_ms = rng.random_range(0..4) as f64;
    ne.inhibition = if rng.random() { 0.0 } else { rng.random_range(0.0..0.3) * ne.threshold };
    let tr = &mut c.traces;
    tr.tau_plus_ms = rng.random_range(3.0..40.0);
    tr.tau_minus_ms = rng.random_range(3.0..40.0);
    tr.tau_x_ms = rng.random_range(20.0..150.0);
    tr.tau_y_ms = rng.random_range(20.0..150.0);
    tr.increment = rng.random_range(0.2..1.0);
    let p = &mut c.plasticity;
    let amp = (-(p.amplitude_frac.unwrap_or(16) as f64)).exp2() * 65535.0;
    p.w_min = if rng.random() { 0.0 } else { rng.random_range(0.0..0.3) * w_top };
    p.w_max = rng.random_range(0.5..1.0) * w_top;
    p.w_init = (p.w_min + p.w_max) / 2.0;
    p.w_init_spread = rng.random_range(0.0..0.5) * (p.w_max - p.w_min);
    let cap = if p.weight_dependence == WeightDependence::Additive {
        w_top.min(amp)
    } else {
        amp.min(1.0)
    };
    p.a_plus = rng.random_range(0.0..0.1) * cap;
    p.a_minus = rng.random_range(0.0..0.1) * cap;
    for v in p.params.values_mut() {
        *v = rng.random_range(0.0..0.1) * cap;
    }

    let triplet = p.rule.as_str() == "triplet";
    p.a3_plus = if triplet { rng.random_range(0.0..0.05) * cap } else { 0.0 };
    p.a3_minus = if triplet { rng.random_range(0.0..0.05) * cap } else { 0.0 };
    if p.rule.is_custom() {
        // The presets' fields stay at their defaults: a custom rule refuses them.
        let d = synforge_sim::config::PlasticitySection::default();
        (p.a_plus, p.a_minus) = (d.a_plus, d.a_minus);
    }
    let h = &mut c.homeostasis;
    h.theta_step = rng.random_range(0.0..0.3) * c.neuron.threshold;
    h.tau_theta_ms = rng.random_range(20.0..2000.0);
    h.scaling_period_steps = rng.random_range(5..=60);
    h.target_rate_hz = rng.random_range(20.0..300.0);
    h.scaling_gain = rng.random_range(0.0..0.5);
    let s = &mut c.stimulus;
    s.kind = StimulusKind::Poisson;
    s.seed = rng.random();
    s.rate_hz = rng.random_range(5.0..200.0);
    s.rates_hz = Vec::new();
    s.pattern = None;
}
