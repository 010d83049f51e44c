//! Properties over random valid networks and random stimuli. proptest seeds every case; a
//! failing case is shrunk, printed, and its seed saved for replay.
//!
//! - the bit-accurate model never panics and every state stays inside its format (saturation,
//!   never wrap-around);
//! - it is deterministic: same seed, same run; a clone taken midway continues exactly; a wide
//!   network (several tiles, stepped in parallel) equals its neurons run one by one;
//! - the float reference never panics and stays inside the same real-valued bounds;
//! - config validation never panics on random TOML and names a field when it refuses.
//!
//! Runtime: well under a minute in release (`cargo test --release -p synforge-sim --test
//! integration props`).

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use synforge_sim::config::{
    Config, FormatSpec, Network, Pairing, Reset, RuleName, WeightDependence,
};
use synforge_sim::format::{Decay, Format, Rounding};
use synforge_sim::lfsr::NEURON_SEED_STRIDE;
use synforge_sim::model::{self, FixedModel, FloatModel, Model, ModelKind};
use synforge_sim::plasticity::lang::Trace;
use synforge_sim::state::State;
use synforge_sim::stimulus::{Builder, Stimulus, StimulusKind};
use synforge_sim::Error;

// ---------------------------------------------------------------------------------------------
// Random valid networks.

/// One quantity's format as drawn: `frac_u` in [0, 1) picks the fraction bits within what the
/// contract allows given the other formats.
#[derive(Clone, Debug)]
struct SpecGen {
    width: u32,
    frac_u: f64,
    rounding: Rounding,
    decay: Decay,
}

#[derive(Clone, Debug)]
struct Knobs {
    inputs: u32,
    neurons: u32,
    dt_ms: f64,
    seed: u32,
    v: SpecGen,
    w: SpecGen,
    theta: SpecGen,
    traces: [SpecGen; 4],
    tau_m_ms: f64,
    threshold_u: f64,
    reset: Reset,
    refractory_ms: f64,
    inhibition_u: f64,
    pairing: Pairing,
    taus: [f64; 4],
    increment: f64,
    rule: RuleName,
    dependence: WeightDependence,
    amps_u: [f64; 4],
    bounds_u: [f64; 4],
    amplitude_frac_u: Option<f64>,
    adaptive: bool,
    theta_step_u: f64,
    tau_theta_ms: f64,
    scaling: bool,
    period: u32,
    count_u: f64,
    gain_u: f64,
}

fn rounding() -> impl Strategy<Value = Rounding> {
    prop_oneof![Just(Rounding::Floor), Just(Rounding::Nearest), Just(Rounding::Stochastic)]
}

fn spec_gen(min_width: u32, max_width: u32) -> impl Strategy<Value = SpecGen> {
    (
        min_width..=max_width,
        0.0f64..1.0,
        rounding(),
        prop_oneof![Just(Decay::Multiply), Just(Decay::Shift)],
    )
        .prop_map(|(width, frac_u, rounding, decay)| SpecGen {
            width,
            frac_u,
            rounding,
            decay,
        })
}

/// Log-uniform time constant, 0.14 ms to 3 s.
fn tau() -> impl Strategy<Value = f64> {
    (-2.0f64..8.0).prop_map(f64::exp)
}

fn unit() -> impl Strategy<Value = f64> {
    0.0f64..=1.0
}

fn knobs(
    inputs: std::ops::RangeInclusive<u32>,
    neurons: std::ops::RangeInclusive<u32>,
) -> impl Strategy<Value = Knobs> {
    let size = (inputs, neurons, 0.1f64..2.0, any::<u32>());
    let formats = (
        spec_gen(4, 32),
        spec_gen(2, 16),
        spec_gen(2, 32),
        [spec_gen(2, 16), spec_gen(2, 16), spec_gen(2, 16), spec_gen(2, 16)],
    );
    let neuron = (
        tau(),
        unit(),
        prop_oneof![Just(Reset::Zero), Just(Reset::Subtract)],
        prop_oneof![Just(0.0), 0.0f64..5.0],
        unit(),
    );
    let traces = (
        prop_oneof![Just(Pairing::AllToAll), Just(Pairing::Nearest)],
        [tau(), tau(), tau(), tau()],
        0.01f64..=1.0,
    );
    let plasticity = (
        prop_oneof![
            Just(RuleName::off()),
            Just(RuleName::from("pair")),
            Just(RuleName::from("triplet"))
        ],
        prop_oneof![Just(WeightDependence::Additive), Just(WeightDependence::Multiplicative)],
        [unit(), unit(), unit(), unit()],
        [unit(), unit(), unit(), unit()],
        prop::option::weighted(0.3, unit()),
    );
    let homeostasis = (any::<bool>(), unit(), tau(), any::<bool>(), 1u32..=50, unit(), unit());
    (size, formats, neuron, traces, plasticity, homeostasis).prop_map(
        |((inputs, neurons, dt_ms, seed), (v, w, theta, traces), n, t, p, h)| Knobs {
            inputs,
            neurons,
            dt_ms,
            seed,
            v,
            w,
            theta,
            traces,
            tau_m_ms: n.0,
            threshold_u: n.1,
            reset: n.2,
            refractory_ms: n.3,
            inhibition_u: n.4,
            pairing: t.0,
            taus: t.1,
            increment: t.2,
            rule: p.0,
            dependence: p.1,
            amps_u: p.2,
            bounds_u: p.3,
            amplitude_frac_u: p.4,
            adaptive: h.0,
            theta_step_u: h.1,
            tau_theta_ms: h.2,
            scaling: h.3,
            period: h.4,
            count_u: h.5,
            gain_u: h.6,
        },
    )
}

/// `lo + floor(u * (hi - lo + 1))`, clamped to `hi`.
fn pick(u: f64, lo: u32, hi: u32) -> u32 {
    (lo + (u * (hi - lo + 1) as f64) as u32).min(hi)
}

/// Log-uniform raw value in `1..=max`.
fn log_raw(u: f64, max: i64) -> i64 {
    ((max as f64).powf(u).round() as i64).clamp(1, max)
}

fn spec(g: &SpecGen, frac: u32) -> FormatSpec {
    FormatSpec { width: g.width, frac, rounding: g.rounding, decay: g.decay }
}

/// A config that satisfies every constraint of semantics §1 and §5, built from the knobs.
fn config(k: &Knobs) -> Config {
    let mut c = Config::builtin_default();
    c.network.name = "prop".into();
    c.network.inputs = k.inputs;
    c.network.neurons = k.neurons;
    c.network.dt_ms = k.dt_ms;
    c.network.seed = k.seed;

    // Formats: membrane frac < width; weight frac <= min(width, v.frac); threshold frac
    // <= min(width, v.frac) and high enough that some threshold fits the membrane;
    // traces 1 to 4 integer bits.
    let vf = pick(k.v.frac_u, 0, k.v.width - 1);
    let wf = pick(k.w.frac_u, 0, k.w.width.min(vf));
    let tf = pick(k.theta.frac_u, (vf + 2).saturating_sub(k.v.width), k.theta.width.min(vf));
    let f = &mut c.formats;
    f.membrane = spec(&k.v, vf);
    f.weight = spec(&k.w, wf);
    f.threshold = spec(&k.theta, tf);
    let trace_spec = |g: &SpecGen| {
        let int = pick(g.frac_u, 1, g.width.min(4));
        spec(g, g.width - int)
    };
    f.trace_x1 = trace_spec(&k.traces[0]);
    f.trace_x2 = trace_spec(&k.traces[1]);
    f.trace_y1 = trace_spec(&k.traces[2]);
    f.trace_y2 = trace_spec(&k.traces[3]);
    let v = Format::signed(k.v.width, vf);
    let w = Format::unsigned(k.w.width, wf);
    let theta = Format::unsigned(k.theta.width, tf);

    let ne = &mut c.neuron;
    ne.tau_m_ms = k.tau_m_ms;
    let max_theta = theta.max_raw().min(v.max_raw() >> (vf - tf));
    ne.threshold = theta.to_real(log_raw(k.threshold_u, max_theta));
    ne.reset = k.reset;
    ne.refractory_ms = k.refractory_ms;
    ne.inhibition = v.to_real((k.inhibition_u.powi(4) * v.max_raw() as f64) as i64);

    let tr = &mut c.traces;
    tr.pairing = k.pairing;
    [tr.tau_plus_ms, tr.tau_minus_ms, tr.tau_x_ms, tr.tau_y_ms] = k.taus;
    tr.increment = k.increment;

    let pl = &mut c.plasticity;
    pl.rule = k.rule.clone();
    pl.weight_dependence = k.dependence;
    let range = match k.dependence {
        WeightDependence::Additive => w.max_real(),
        WeightDependence::Multiplicative => 1.0,
    };
    let a = k.amps_u.map(|u| u * u * 0.99 * range);
    pl.a_plus = a[0];
    pl.a_minus = a[1];
    let triplet = k.rule == RuleName::from("triplet");
    pl.a3_plus = if triplet { a[2] } else { 0.0 };
    pl.a3_minus = if triplet { a[3] } else { 0.0 };
    let w_top = w.max_raw();
    let w_min = (k.bounds_u[0] * k.bounds_u[0] * (w_top / 2) as f64) as i64;
    let w_max = w_min + 1 + (k.bounds_u[1] * (w_top - w_min - 1) as f64) as i64;
    pl.w_min = w.to_real(w_min);
    pl.w_max = w.to_real(w_max.min(w_top));
    pl.w_init = pl.w_min + k.bounds_u[2] * (pl.w_max - pl.w_min);
    pl.w_init_spread = k.bounds_u[3] * (w.max_real() - pl.w_init);
    let max_a = pl.a_plus.max(pl.a_minus).max(pl.a3_plus).max(pl.a3_minus);
    pl.amplitude_frac = k
        .amplitude_frac_u
        .map(|u| pick(u, wf, 32))
        .filter(|&fa| (max_a * (fa as f64).exp2()).round() <= 65535.0);

    let h = &mut c.homeostasis;
    h.adaptive_threshold = k.adaptive;
    h.theta_step = theta.to_real((k.theta_step_u * k.theta_step_u * theta.max_raw() as f64) as i64);
    h.tau_theta_ms = k.tau_theta_ms;
    h.scaling = k.scaling;
    h.scaling_period_steps = k.period;
    // Target count per period log-uniform in [0.01, 20]; gain below it.
    let count = (0.01f64.ln() + k.count_u * (20.0f64.ln() - 0.01f64.ln())).exp();
    h.target_rate_hz = count * 1000.0 / (k.period as f64 * k.dt_ms);
    // §5: the gain is relative to the rounded target count (8 fraction bits).
    let count_q = (count * 256.0).round() / 256.0;
    h.scaling_gain = k.gain_u * 0.95 * count_q;

    let s = &mut c.stimulus;
    s.kind = StimulusKind::Poisson;
    s.steps = 1;
    s.rate_hz = 0.0;
    s.rates_hz = Vec::new();
    s.pattern = None;
    s.pairing = None;
    s.file = None;
    c
}

fn valid(k: &Knobs) -> Result<Network, TestCaseError> {
    let cfg = config(k);
    cfg.build().map_err(|e| {
        TestCaseError::fail(format!("a config valid by semantics §1/§5 was refused: {e}\n{cfg:#?}"))
    })
}

// ---------------------------------------------------------------------------------------------
// Random stimuli.

#[derive(Clone, Debug)]
struct StimGen {
    steps: u32,
    seed: u64,
    /// Probability of each input spiking in a step.
    density: f64,
    /// Probability of a step in which every input spikes (drives saturation).
    burst: f64,
}

fn stim_gen(steps: std::ops::RangeInclusive<u32>) -> impl Strategy<Value = StimGen> {
    (steps, any::<u64>(), 0.0f64..0.6, prop_oneof![Just(0.0), 0.0f64..0.3])
        .prop_map(|(steps, seed, density, burst)| StimGen { steps, seed, density, burst })
}

fn stimulus(g: &StimGen, inputs: u32) -> Stimulus {
    let mut rng = ChaCha8Rng::seed_from_u64(g.seed);
    let mut b = Builder::new(inputs, g.steps);
    for t in 0..g.steps {
        let all = rng.random::<f64>() < g.burst;
        for i in 0..inputs {
            if all || rng.random::<f64>() < g.density {
                b.push(t, i);
            }
        }
    }
    b.finish()
}

// ---------------------------------------------------------------------------------------------
// Invariants.

fn check_spike_list(out: &[u32], neurons: usize) -> Result<(), TestCaseError> {
    prop_assert!(out.windows(2).all(|p| p[0] < p[1]), "spikes not ascending: {out:?}");
    prop_assert!(out.iter().all(|&j| (j as usize) < neurons), "spike of no neuron: {out:?}");
    Ok(())
}

/// Every state of the fixed model inside its format after step `t`.
fn check_fixed(
    net: &Network,
    m: &FixedModel,
    out: &[u32],
    w0: &[u16],
    t: u32,
) -> Result<(), TestCaseError> {
    let f = &net.fmt;
    let k = &net.k;
    check_spike_list(out, net.neurons())?;
    for j in 0..net.neurons() {
        let p = m.probe(j);
        let [v, theta, y1, y2] = p.raw.expect("fixed model gives raw words");
        prop_assert!(f.v.min_raw() <= v && v <= f.v.max_raw(), "t{t} n{j}: v {v} outside {}", f.v);
        prop_assert!(
            k.theta0 <= theta && theta <= f.theta.max_raw(),
            "t{t} n{j}: theta {theta} outside [theta0 {}, {}]",
            k.theta0,
            f.theta.max_raw()
        );
        if !net.cfg.homeostasis.adaptive_threshold {
            prop_assert_eq!(theta, k.theta0, "t{} n{}: theta moved without adaptation", t, j);
        }
        prop_assert!(0 <= y1 && y1 <= f.y1.max_raw(), "t{t} n{j}: y1 {y1} outside {}", f.y1);
        prop_assert!(0 <= y2 && y2 <= f.y2.max_raw(), "t{t} n{j}: y2 {y2} outside {}", f.y2);
        if !net.has_trace(Trace::X2) {
            prop_assert_eq!(y2, 0, "t{} n{}: y2 exists only for the triplet rule", t, j);
        }
        prop_assert!(p.refrac <= k.refractory_steps, "t{t} n{j}: refractory {}", p.refrac);
        let spiked = out.contains(&(j as u32));
        prop_assert_eq!(p.spike, spiked, "t{} n{}: probe spike bit", t, j);
        if spiked {
            prop_assert_eq!(p.refrac, k.refractory_steps, "t{} n{}: refractory not armed", t, j);
            prop_assert!(v >= 0, "t{t} n{j}: negative membrane {v} right after a spike");
            if net.cfg.neuron.reset == Reset::Zero {
                prop_assert_eq!(v, 0, "t{} n{}: reset to zero", t, j);
            }
        }
        prop_assert_eq!(p.v_mem, f.v.to_real(v));
    }
    let w = m.weights_raw();
    for (s, &x) in w.iter().enumerate() {
        let x = x as i64;
        prop_assert!(
            k.w_min <= x && x <= k.w_max,
            "t{t} synapse {s}: w {x} outside [w_min, w_max]"
        );
    }
    if net.cfg.plasticity.rule == RuleName::off() && !net.cfg.homeostasis.scaling {
        prop_assert!(w == w0, "t{t}: weights changed without plasticity");
    }
    let (x1, x2) = m.pre_traces_raw();
    prop_assert!(x1.iter().all(|&x| (x as i64) <= f.x1.max_raw()), "t{t}: x1 outside {}", f.x1);
    prop_assert!(x2.iter().all(|&x| (x as i64) <= f.x2.max_raw()), "t{t}: x2 outside {}", f.x2);
    if !net.has_trace(Trace::X2) {
        prop_assert!(x2.iter().all(|&x| x == 0), "t{t}: x2 exists only for the triplet rule");
    }
    Ok(())
}

/// Every state of the float model inside the real-valued bounds after step `t`.
fn check_float(net: &Network, m: &FloatModel, out: &[u32], t: u32) -> Result<(), TestCaseError> {
    let f = &net.fmt;
    let c = &net.cfg;
    check_spike_list(out, net.neurons())?;
    let within = |x: f64, lo: f64, hi: f64| x.is_finite() && lo <= x && x <= hi;
    for j in 0..net.neurons() {
        let p = m.probe(j);
        prop_assert!(within(p.v_mem, f.v.min_real(), f.v.max_real()), "t{t} n{j}: v {}", p.v_mem);
        let theta0 = c.neuron.threshold.min(f.theta.max_real());
        prop_assert!(within(p.theta, theta0, f.theta.max_real()), "t{t} n{j}: theta {}", p.theta);
        prop_assert!(within(p.trace_y1, 0.0, f.y1.max_real()), "t{t} n{j}: y1 {}", p.trace_y1);
        prop_assert!(within(p.trace_y2, 0.0, f.y2.max_real()), "t{t} n{j}: y2 {}", p.trace_y2);
        prop_assert!(p.refrac <= net.k.refractory_steps);
        prop_assert_eq!(p.spike, out.contains(&(j as u32)));
        prop_assert!(p.raw.is_none());
    }
    let (lo, hi) = (c.plasticity.w_min, c.plasticity.w_max);
    for (s, w) in m.weights().into_iter().enumerate() {
        prop_assert!(within(w, lo, hi), "t{t} synapse {s}: w {w} outside [{lo}, {hi}]");
    }
    for x in m.pre_traces() {
        prop_assert!(within(x, 0.0, f.x1.max_real()), "t{t}: x1 {x} outside {}", f.x1);
    }
    Ok(())
}

/// The observable state of a fixed model: weights, then `[v, theta, y1, y2, refrac]` of every
/// neuron, then the pre traces.
fn snapshot(m: &FixedModel) -> Vec<i64> {
    let mut s: Vec<i64> = m.weights_raw().into_iter().map(i64::from).collect();
    for j in 0..m.neurons() {
        let p = m.probe(j);
        s.extend(p.raw.expect("raw words"));
        s.push(p.refrac as i64);
    }
    let (x1, x2) = m.pre_traces_raw();
    s.extend(x1.iter().chain(x2).map(|&x| x as i64));
    s
}

fn run_spikes(m: &mut FixedModel, stim: &Stimulus, from: u32, to: u32) -> Vec<(u32, u32)> {
    let mut spikes = vec![];
    for t in from..to {
        spikes.extend(m.step(stim.at(t)).iter().map(|&j| (t, j)));
    }
    spikes
}

// ---------------------------------------------------------------------------------------------
// Random TOML for the validator.

#[derive(Clone, Copy, Debug)]
enum Kind {
    Float,
    Uint,
    Bool,
    Enum(&'static [&'static str]),
}

/// Every key of the schema that takes a number, a flag or a name.
const KEYS: &[(&str, &str, Kind)] = &[
    ("network", "inputs", Kind::Uint),
    ("network", "neurons", Kind::Uint),
    ("network", "dt_ms", Kind::Float),
    ("network", "seed", Kind::Uint),
    ("neuron", "tau_m_ms", Kind::Float),
    ("neuron", "threshold", Kind::Float),
    ("neuron", "reset", Kind::Enum(&["zero", "subtract"])),
    ("neuron", "refractory_ms", Kind::Float),
    ("neuron", "inhibition", Kind::Float),
    ("traces", "pairing", Kind::Enum(&["all-to-all", "nearest"])),
    ("traces", "tau_plus_ms", Kind::Float),
    ("traces", "tau_minus_ms", Kind::Float),
    ("traces", "tau_x_ms", Kind::Float),
    ("traces", "tau_y_ms", Kind::Float),
    ("traces", "increment", Kind::Float),
    ("plasticity", "rule", Kind::Enum(&["off", "pair", "triplet"])),
    ("plasticity", "weight_dependence", Kind::Enum(&["additive", "multiplicative"])),
    ("plasticity", "a_plus", Kind::Float),
    ("plasticity", "a_minus", Kind::Float),
    ("plasticity", "a3_plus", Kind::Float),
    ("plasticity", "a3_minus", Kind::Float),
    ("plasticity", "w_min", Kind::Float),
    ("plasticity", "w_max", Kind::Float),
    ("plasticity", "w_init", Kind::Float),
    ("plasticity", "w_init_spread", Kind::Float),
    ("plasticity", "amplitude_frac", Kind::Uint),
    ("homeostasis", "adaptive_threshold", Kind::Bool),
    ("homeostasis", "theta_step", Kind::Float),
    ("homeostasis", "tau_theta_ms", Kind::Float),
    ("homeostasis", "scaling", Kind::Bool),
    ("homeostasis", "scaling_period_steps", Kind::Uint),
    ("homeostasis", "target_rate_hz", Kind::Float),
    ("homeostasis", "scaling_gain", Kind::Float),
    ("stimulus", "kind", Kind::Enum(&["poisson", "pairing", "file"])),
    ("stimulus", "steps", Kind::Uint),
    ("stimulus", "rate_hz", Kind::Float),
];

const QUANTITIES: &[&str] =
    &["membrane", "weight", "threshold", "trace_x1", "trace_x2", "trace_y1", "trace_y2"];

/// Fields a validation error may name besides the keys above.
const OTHER_FIELDS: &[&str] = &[
    "stimulus.file",
    "stimulus.rates_hz",
    "stimulus.pattern.fraction",
    "stimulus.pattern.length_ms",
    "stimulus.pairing.offset_min_ms",
    "stimulus.pairing.period_ms",
];

fn toml_float(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{x:?}")
    }
}

/// A value for a key of `kind`: mostly of the right type (including negative, zero, NaN,
/// infinite, huge and tiny numbers), now and then of the wrong one.
fn value(kind: Kind) -> BoxedStrategy<String> {
    let wrong = prop_oneof![
        Just("\"x\"".to_string()),
        Just("[]".to_string()),
        Just("true".to_string()),
        Just("-1".to_string()),
        Just("4294967296".to_string()),
        Just("1.5".to_string()),
    ];
    match kind {
        Kind::Float => prop_oneof![
            10 => prop::sample::select(vec![
                f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.0, 1e-300, 1e-9, 0.01, 0.1,
                0.5, 1.0, 2.0, 16.0, 20.0, 100.0, 1e9, 1e300, f64::MAX, -1.0, -1e-9,
            ]).prop_map(toml_float),
            10 => (-1.0f64..3.0).prop_map(toml_float),
            5 => (0.0f64..200.0).prop_map(toml_float),
            2 => (-5i64..70_000).prop_map(|i| i.to_string()),
            1 => wrong,
        ]
        .boxed(),
        Kind::Uint => prop_oneof![
            10 => prop::sample::select(vec![
                0i64, 1, 2, 3, 4, 8, 15, 16, 17, 31, 32, 33, 64, 1000, 65_535, 65_536, 65_537,
                1 << 28, 4_294_967_295,
            ]).prop_map(|i| i.to_string()),
            10 => (0i64..40).prop_map(|i| i.to_string()),
            1 => wrong,
        ]
        .boxed(),
        Kind::Bool => {
            prop_oneof![20 => any::<bool>().prop_map(|b| b.to_string()), 1 => wrong].boxed()
        }
        Kind::Enum(names) => prop_oneof![
            20 => prop::sample::select(names.to_vec()).prop_map(|s| format!("\"{s}\"")),
            1 => Just("\"bogus\"".to_string()),
            1 => (0i64..3).prop_map(|i| i.to_string()),
        ]
        .boxed(),
    }
}

/// A TOML text with a random subset of the keys set to random values.
fn random_toml() -> impl Strategy<Value = String> {
    let keys: Vec<_> =
        KEYS.iter().map(|&(_, _, kind)| prop::option::weighted(0.2, value(kind))).collect();
    let formats: Vec<_> = QUANTITIES
        .iter()
        .map(|_| {
            prop::option::weighted(
                0.15,
                (
                    value(Kind::Uint),
                    value(Kind::Uint),
                    prop::option::of(value(Kind::Enum(&["floor", "nearest", "stochastic"]))),
                    prop::option::of(value(Kind::Enum(&["multiply", "shift"]))),
                ),
            )
        })
        .collect();
    (keys, formats).prop_map(|(keys, formats)| {
        let mut text = String::new();
        let mut section = "";
        for (&(sec, key, _), v) in KEYS.iter().zip(keys) {
            if let Some(v) = v {
                if sec != section {
                    text.push_str(&format!("[{sec}]\n"));
                    section = sec;
                }
                text.push_str(&format!("{key} = {v}\n"));
            }
        }
        for (q, f) in QUANTITIES.iter().zip(formats) {
            if let Some((width, frac, rounding, decay)) = f {
                text.push_str(&format!("[formats.{q}]\nwidth = {width}\nfrac = {frac}\n"));
                if let Some(r) = rounding {
                    text.push_str(&format!("rounding = {r}\n"));
                }
                if let Some(d) = decay {
                    text.push_str(&format!("decay = {d}\n"));
                }
            }
        }
        text
    })
}

fn known_field(field: &str) -> bool {
    KEYS.iter().any(|&(s, k, _)| field == format!("{s}.{k}"))
        || OTHER_FIELDS.contains(&field)
        || QUANTITIES
            .iter()
            .any(|q| field == format!("formats.{q}.width") || field == format!("formats.{q}.frac"))
}

// ---------------------------------------------------------------------------------------------
// The properties.

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// (a) The bit-accurate model never panics and never leaves a format.
    #[test]
    fn fixed_model_saturates_and_never_wraps(k in knobs(1..=20, 1..=20), s in stim_gen(50..=300)) {
        let net = valid(&k)?;
        let stim = stimulus(&s, k.inputs);
        let mut m = FixedModel::new(&net);
        let w0 = m.weights_raw();
        check_fixed(&net, &m, &[], &w0, 0)?;
        for t in 0..stim.steps() {
            let out = m.step(stim.at(t)).to_vec();
            check_fixed(&net, &m, &out, &w0, t)?;
        }
        prop_assert_eq!(m.time(), stim.steps());
    }

    /// (c) The float reference never panics and stays inside the same bounds.
    #[test]
    fn float_model_stays_within_bounds(k in knobs(1..=20, 1..=20), s in stim_gen(50..=300)) {
        let net = valid(&k)?;
        let stim = stimulus(&s, k.inputs);
        let mut m = FloatModel::new(&net);
        for t in 0..stim.steps() {
            let out = m.step(stim.at(t)).to_vec();
            check_float(&net, &m, &out, t)?;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// (b) Same seed, same run; a clone taken midway continues exactly as the original would.
    #[test]
    fn fixed_model_is_deterministic_and_resumable(
        k in knobs(1..=20, 1..=20),
        s in stim_gen(50..=300),
        cut in 0.0f64..1.0,
    ) {
        let net = valid(&k)?;
        let stim = stimulus(&s, k.inputs);
        let n = stim.steps();
        let mut whole = FixedModel::new(&net);
        let spikes = run_spikes(&mut whole, &stim, 0, n);
        let mut again = FixedModel::new(&net);
        prop_assert_eq!(&run_spikes(&mut again, &stim, 0, n), &spikes);
        prop_assert_eq!(snapshot(&again), snapshot(&whole));

        let half = (cut * n as f64) as u32;
        let mut first = FixedModel::new(&net);
        let mut split = run_spikes(&mut first, &stim, 0, half);
        let mut second = first.clone();
        split.extend(run_spikes(&mut second, &stim, half, n));
        prop_assert_eq!(&split, &spikes, "clone at step {}", half);
        prop_assert_eq!(snapshot(&second), snapshot(&whole));
        // The original, stepped on after the clone, is not disturbed by it.
        run_spikes(&mut first, &stim, half, n);
        prop_assert_eq!(snapshot(&first), snapshot(&whole));
    }
}

/// Run `m` from its step to `to`, keeping `(step, neuron)` spikes.
fn run_dyn(m: &mut dyn Model, stim: &Stimulus, to: u32) -> Vec<(u32, u32)> {
    let mut spikes = vec![];
    for t in m.time()..to {
        spikes.extend(m.step(stim.at(t)).iter().map(|&j| (t, j)));
    }
    spikes
}

/// Through the file: the state of `m`, written and read back, loaded into a fresh model.
fn through_file(
    net: &Network,
    m: &dyn Model,
    kind: ModelKind,
) -> Result<Box<dyn Model>, TestCaseError> {
    let init = m.state().into_iter().find(|q| q.name == "weight").expect("weights").values;
    let bytes = State::of(net, m, kind, init).to_bytes().expect("a state serialises");
    let back = State::from_bytes(&bytes).map_err(TestCaseError::fail)?;
    back.check_fits(net, kind).map_err(TestCaseError::fail)?;
    let mut fresh = model::build(net, kind);
    fresh.set_state(back.step, &back.quantities).map_err(TestCaseError::fail)?;
    Ok(fresh)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// (b) N + M steps equal N steps, the state saved to a file's bytes and read back into a
    /// fresh model, then M steps: the same spikes and the same state, bit for bit in the fixed
    /// model and exactly in the float one.
    #[test]
    fn a_saved_state_continues_exactly(
        k in knobs(1..=20, 1..=20),
        s in stim_gen(50..=300),
        cut in 0.0f64..1.0,
    ) {
        let net = valid(&k)?;
        let stim = stimulus(&s, k.inputs);
        let n = stim.steps();
        let half = (cut * n as f64) as u32;
        for kind in [ModelKind::Fixed, ModelKind::Float] {
            let mut whole = model::build(&net, kind);
            let spikes = run_dyn(whole.as_mut(), &stim, n);
            let mut first = model::build(&net, kind);
            let mut split = run_dyn(first.as_mut(), &stim, half);
            let mut second = through_file(&net, first.as_ref(), kind)?;
            prop_assert_eq!(second.time(), half);
            split.extend(run_dyn(second.as_mut(), &stim, n));
            prop_assert_eq!(&split, &spikes, "{:?} model, saved at step {}", kind, half);
            prop_assert_eq!(second.state(), whole.state(), "{:?} model, saved at step {}", kind, half);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// (b) A network wider than one tile (stepped in parallel) equals each of its neurons run
    /// alone: without inhibition, and with the input traces not drawing from the input LFSR,
    /// neuron `j` depends only on the inputs, its weights and its own LFSR. A lone neuron gets
    /// the same LFSR from seed `S ^ ((j + 1) * K) ^ K`.
    #[test]
    fn wide_network_equals_its_neurons_run_alone(
        k in knobs(1..=6, 65..=160),
        s in stim_gen(40..=150),
    ) {
        let mut k = k;
        k.inhibition_u = 0.0;
        for g in &mut k.traces[..2] {
            if g.rounding == Rounding::Stochastic {
                g.rounding = Rounding::Nearest;
            }
        }
        let net = valid(&k)?;
        let stim = stimulus(&s, k.inputs);
        let (ni, nn) = (net.inputs(), net.neurons());
        let mut wide = FixedModel::new(&net);
        let w0 = wide.weights_raw();
        let spikes = run_spikes(&mut wide, &stim, 0, stim.steps());
        let w_end = wide.weights_raw();
        for j in 0..nn {
            let mut cfg = net.cfg.clone();
            cfg.network.neurons = 1;
            cfg.network.seed = net.cfg.network.seed
                ^ (j as u32 + 1).wrapping_mul(NEURON_SEED_STRIDE)
                ^ NEURON_SEED_STRIDE;
            let lone_net = cfg.build().map_err(|e| TestCaseError::fail(e.to_string()))?;
            let column: Vec<u16> = (0..ni).map(|i| w0[i * nn + j]).collect();
            let mut lone = FixedModel::with_weights(&lone_net, &column);
            let lone_spikes: Vec<u32> =
                run_spikes(&mut lone, &stim, 0, stim.steps()).into_iter().map(|(t, _)| t).collect();
            let wide_spikes: Vec<u32> =
                spikes.iter().filter(|s| s.1 as usize == j).map(|s| s.0).collect();
            prop_assert_eq!(lone_spikes, wide_spikes, "neuron {} spike times", j);
            let column_end: Vec<u16> = (0..ni).map(|i| w_end[i * nn + j]).collect();
            prop_assert_eq!(lone.weights_raw(), column_end, "neuron {} weights", j);
            prop_assert_eq!(lone.probe(0), wide.probe(j), "neuron {} state", j);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    /// (d) Validation never panics on random TOML; a refusal names a real field (or, for a
    /// parse error, the line). A network it accepts also steps without panicking.
    #[test]
    fn validation_never_panics_and_names_the_field(text in random_toml()) {
        let cfg = match Config::from_toml_str(&text, "random.toml") {
            Ok(cfg) => cfg,
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(matches!(e, Error::Parse { .. }), "{msg}");
                prop_assert!(msg.starts_with("random.toml: TOML parse error at line "), "{msg}");
                return Ok(());
            }
        };
        match cfg.build() {
            Err(Error::Field { field, message }) => {
                prop_assert!(known_field(&field), "unknown field `{field}`: {message}\n{text}");
                prop_assert!(!message.is_empty());
            }
            Err(e) => return Err(TestCaseError::fail(format!("not a field error: {e}\n{text}"))),
            Ok(net) => {
                if net.inputs() * net.neurons() <= 4096 {
                    let all: Vec<u32> = (0..net.inputs() as u32).collect();
                    let mut fixed = FixedModel::new(&net);
                    let mut float = FloatModel::new(&net);
                    for t in 0..20 {
                        let pre: &[u32] = if t % 3 == 0 { &all } else { &[] };
                        fixed.step(pre);
                        float.step(pre);
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Regressions found by the properties.

/// Found by `validation_never_panics_and_names_the_field`: with scaling off and
/// `scaling_gain = 0`, a target count that underflows to 0.0 made the gain constant 0/0 = NaN,
/// and `U0F16::saturating_from_num(NaN)` panicked inside `Config::build`.
#[test]
fn scaling_gain_with_a_target_that_underflows_to_zero() {
    let text = "[homeostasis]\nscaling = false\nscaling_gain = 0.0\ntarget_rate_hz = 1e-321\n\
                scaling_period_steps = 1\n";
    let cfg = Config::from_toml_str(text, "gain.toml").unwrap();
    let result = std::panic::catch_unwind(|| cfg.build().map(|_| ()));
    assert!(result.is_ok(), "Config::build panicked instead of returning an error");
}

/// A stimulus written as CSV reads back as the same stimulus.
#[test]
fn stimulus_csv_round_trips() {
    proptest!(ProptestConfig { cases: 64, ..ProptestConfig::default() }, |(inputs in 1u32..40, s in stim_gen(1..=200))| {
        let stim = stimulus(&s, inputs);
        let back = Stimulus::parse_csv(&stim.to_csv(), "s.csv", inputs, stim.steps());
        prop_assert_eq!(back.map_err(|e| TestCaseError::fail(e.to_string()))?, stim);
    });
}

/// `demo --steps 5` once indexed the pattern's replay past the end of a 5-step stimulus.
#[test]
fn pattern_replay_of_a_run_shorter_than_the_pattern() {
    let net = synforge_sim::Config::builtin_default().build().unwrap();
    let mut spec = net.cfg.stimulus.clone();
    spec.steps = 5;
    let stim = spec.generate(&net.cfg).unwrap();
    let pattern = spec.pattern.clone().unwrap();
    let replay = synforge_sim::pattern::Replay::of(&pattern, &net.cfg, &stim);
    assert!(replay.spikes.iter().all(|&(t, _)| t < 5));
    assert_eq!(replay.len, 70);
}

/// The sparse stored stimulus (`at`, by binary search over the steps that have spikes) gives
/// what the stream gave, step by step, for the Poisson (with a pattern) and the pairing kinds.
#[test]
fn streamed_and_stored_stimuli_agree() {
    use synforge_sim::stimulus::StimulusKind;
    let mut cfgs = vec![synforge_sim::Config::builtin_default()];
    let mut pairing = synforge_sim::Config::builtin_default();
    pairing.stimulus.kind = StimulusKind::Pairing;
    pairing.stimulus.steps = 3000;
    cfgs.push(pairing);
    for cfg in cfgs {
        let stored = cfg.stimulus.generate(&cfg).unwrap();
        let mut stream = cfg.stimulus.stream(&cfg).unwrap();
        let mut t = 0;
        while let Some(pre) = stream.next_step() {
            assert_eq!(pre, stored.at(t), "step {t}");
            t += 1;
        }
        assert_eq!(t, stored.steps());
        assert!(stored.total_spikes() > 0);
    }
}

/// Random rules over random formats: the range analysis bounds every intermediate the
/// bit-accurate model can form, for any value a parameter register can hold (not only the
/// config's), the traces and the weight anywhere in their formats. The RTL sizes its wires
/// from the same bounds, so no rule wraps there either.
#[test]
fn no_rule_exceeds_its_range_analysis() {
    use synforge_sim::plasticity::random::random_rule;
    use synforge_sim::plasticity::rule::{bits, RuleFixed, MAX_INTERMEDIATE_BITS};
    let seed = 0x5EED_A11A_u64;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut rules, mut checked) = (0, 0u64);
    while rules < 300 {
        let r = random_rule(&mut rng, 4);
        let mut c = Config::builtin_default();
        c.plasticity.rule = RuleName::custom();
        c.plasticity.dw = Some(r.text.clone());
        c.plasticity.params = r.params;
        let f = &mut c.formats;
        let ww = rng.random_range(2..=16);
        f.weight = FormatSpec { width: ww, frac: rng.random_range(0..=ww), ..f.weight };
        c.formats.membrane = FormatSpec { width: 32, frac: 16, ..c.formats.membrane };
        c.plasticity.w_max = Format::unsigned(ww, c.formats.weight.frac).max_real();
        c.plasticity.w_init = 0.0;
        c.plasticity.w_init_spread = 0.0;
        for t in [
            &mut c.formats.trace_x1,
            &mut c.formats.trace_x2,
            &mut c.formats.trace_y1,
            &mut c.formats.trace_y2,
        ] {
            let w = rng.random_range(2..=16);
            *t = FormatSpec { width: w, frac: w - rng.random_range(1..=4.min(w)), ..*t };
        }
        let net = match c.build() {
            Ok(n) => n,
            Err(e) if e.to_string().contains("bits the datapath holds") => continue,
            Err(e) => panic!("seed {seed:#x}, rule `{}`: {e}", r.text),
        };
        rules += 1;
        let mut rule = net.rule.clone().expect("plastic");
        assert!(bits(rule.sum_max) < MAX_INTERMEDIATE_BITS + 6, "{}", rule.text);
        let w_top = net.fmt.w.max_raw();
        for _ in 0..200 {
            // Registers may hold any 16-bit value; traces and weights any raw value, often
            // their extremes.
            for p in &mut rule.params {
                p.raw = if rng.random_bool(0.3) { 0xFFFF } else { rng.random_range(0..=0xFFFF) };
            }
            let f = RuleFixed::new(&rule, 0, w_top);
            let mut v = [0i64; 6];
            for (k, x) in v.iter_mut().enumerate() {
                let fmt = rule.trace_format(synforge_sim::plasticity::rule::Slot::ALL[k]);
                *x = if rng.random_bool(0.3) {
                    fmt.max_raw()
                } else {
                    rng.random_range(0..=fmt.max_raw())
                };
            }
            let (mut sum, mut sum_max) = (0i128, 0i128);
            for (k, t) in rule.terms.iter().enumerate() {
                let e = f.product(k, &v);
                let max = *t.product_max.last().unwrap_or(&(1u128 << rule.amp.frac));
                assert!(
                    e >= 0 && e as u128 <= max,
                    "seed {seed:#x}, `{}`: term {k} product {e} > {max}",
                    rule.text
                );
                let value = match t.weight {
                    None => (e as i128) << if rule.weighted { rule.w.frac } else { 0 },
                    Some(_) => e as i128 * w_top as i128,
                };
                assert!(value as u128 <= t.term_max, "seed {seed:#x}, `{}`: term {k}", rule.text);
                sum += if t.negative { -value } else { value };
                sum_max += t.term_max as i128;
            }
            assert!(sum.abs() <= sum_max && sum_max as u128 == rule.sum_max);
            checked += 1;
        }
    }
    eprintln!("range analysis: {rules} random rules, {checked} evaluations at random and extreme values, seed {seed:#x}");
}
