//! Golden hashes of the bit-accurate model: every output bit of `FixedModel`, pinned.
//!
//! `FixedModel` is what the RTL is checked against, so a speed-up of it must not change a single
//! bit. Each case runs a fixed config over a fixed stimulus and hashes, with FNV-1a 64:
//! - `spikes`: every output spike `(step, neuron)`;
//! - `weights`: the final raw weights (`weights_raw()`, input-major);
//! - `state`: every neuron's raw probe `[v_mem, theta, y1, y2]` and refractory count, every
//!   [`PROBE_EVERY`] steps and after the last one, then the raw pre traces `(x1, x2)`.
//!
//! The configs are written out field by field instead of starting from
//! `Config::builtin_default()`, and the stimulus comes from a generator in this file: the hashes
//! pin the model, so a change of the defaults or of the stimulus generator must not move them.
//! `pinned_default()` equals `Config::builtin_default()` as of the commit that added this test.
//!
//! When the semantics change on purpose (docs/semantics.md), the failure message prints the new
//! table of hashes to paste into [`GOLDEN`].

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::ThreadPoolBuilder;
use synforge_sim::config::{
    Config, FormatSpec, FormatsSection, HomeostasisSection, NetworkSection, NeuronSection, Pairing,
    PlasticitySection, Reset, RuleName, TraceSection, WeightDependence,
};
use synforge_sim::format::{Decay, Rounding};
use synforge_sim::model::{FixedModel, Model};
use synforge_sim::stimulus::{PatternSpec, StimulusKind, StimulusSpec};

/// Steps between two state snapshots folded into the `state` hash.
const PROBE_EVERY: u32 = 97;

/// 64-bit FNV-1a: small, stable, and the same on every platform.
struct Fnv1a(u64);

impl Fnv1a {
    fn new() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= x as u64;
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn u16(&mut self, x: u16) {
        self.bytes(&x.to_le_bytes());
    }

    fn u32(&mut self, x: u32) {
        self.bytes(&x.to_le_bytes());
    }

    fn i64(&mut self, x: i64) {
        self.bytes(&x.to_le_bytes());
    }
}

/// Input spikes of one case: Bernoulli background at `per_mille` spikes per input per step,
/// and a frozen pattern (the lower half of the inputs, 50 steps long) replayed every 200 steps,
/// so that STDP has something to learn and weights move in both directions.
fn stimulus(inputs: u32, steps: u32, per_mille: u64, seed: u64) -> Vec<Vec<u32>> {
    let thr = u64::MAX / 1000 * per_mille;
    let mut frozen_rng = ChaCha8Rng::seed_from_u64(seed ^ 0xA5A5_A5A5_A5A5_A5A5);
    let half = inputs / 2;
    let frozen: Vec<Vec<u32>> =
        (0..50).map(|_| (0..half).filter(|_| frozen_rng.next_u64() < thr).collect()).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..steps)
        .map(|t| {
            let phase = (t % 200) as usize;
            let in_pattern = phase < frozen.len();
            let mut pre: Vec<u32> = if in_pattern { frozen[phase].clone() } else { Vec::new() };
            for i in 0..inputs {
                let fire = rng.next_u64() < thr;
                if fire && (!in_pattern || i >= half) {
                    pre.push(i);
                }
            }
            pre
        })
        .collect()
}

fn spec(width: u32, frac: u32, rounding: Rounding) -> FormatSpec {
    FormatSpec { width, frac, rounding, decay: Decay::Multiply }
}

/// `Config::builtin_default()` as of this test's commit, written out.
fn pinned_default() -> Config {
    let trace = spec(8, 6, Rounding::Stochastic);
    Config {
        network: NetworkSection {
            name: "default".into(),
            inputs: 64,
            neurons: 16,
            dt_ms: 1.0,
            seed: 1,
        },
        neuron: NeuronSection {
            tau_m_ms: 20.0,
            threshold: 1.0,
            reset: Reset::Zero,
            refractory_ms: 2.0,
            inhibition: 0.25,
        },
        traces: TraceSection {
            pairing: Pairing::AllToAll,
            tau_plus_ms: 16.8,
            tau_minus_ms: 33.7,
            tau_x_ms: 101.0,
            tau_y_ms: 125.0,
            increment: 1.0,
        },
        plasticity: PlasticitySection {
            rule: RuleName::from("pair"),
            weight_dependence: WeightDependence::Additive,
            dw: None,
            params: Default::default(),
            a_plus: 0.02,
            a_minus: 0.021,
            a3_plus: 0.0,
            a3_minus: 0.0,
            w_min: 0.0,
            w_max: 0.5,
            w_init: 0.15,
            w_init_spread: 0.1,
            amplitude_frac: None,
            w_init_file: None,
            synapse: Default::default(),
            sweep_period_steps: None,
        },
        homeostasis: HomeostasisSection {
            adaptive_threshold: true,
            theta_step: 0.05,
            tau_theta_ms: 1000.0,
            scaling: false,
            scaling_period_steps: 1000,
            target_rate_hz: 10.0,
            scaling_gain: 0.1,
        },
        formats: FormatsSection {
            membrane: spec(16, 10, Rounding::Nearest),
            weight: spec(10, 10, Rounding::Stochastic),
            threshold: spec(16, 10, Rounding::Nearest),
            trace_x1: trace,
            trace_x2: trace,
            trace_y1: trace,
            trace_y2: trace,
            modulator: None,
        },
        stimulus: StimulusSpec {
            kind: StimulusKind::Poisson,
            steps: 5000,
            seed: 7,
            rate_hz: 20.0,
            rates_hz: Vec::new(),
            pattern: Some(PatternSpec { fraction: 0.5, length_ms: 50.0, period_ms: 200.0 }),
            pairing: None,
            file: None,
            modulator_file: None,
            reward: None,
        },
        hardware: Default::default(),
    }
}

fn set_all_roundings(cfg: &mut Config, r: Rounding) {
    let f = &mut cfg.formats;
    for s in [
        &mut f.membrane,
        &mut f.weight,
        &mut f.threshold,
        &mut f.trace_x1,
        &mut f.trace_x2,
        &mut f.trace_y1,
        &mut f.trace_y2,
    ] {
        s.rounding = r;
    }
}

/// One pinned case: a name, its config, its stimulus rate and seed, and how many steps.
struct Case {
    name: &'static str,
    cfg: Config,
    per_mille: u64,
    seed: u64,
    steps: u32,
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    let case = |name, cfg, per_mille, seed, steps| Case { name, cfg, per_mille, seed, steps };

    out.push(case("default", pinned_default(), 20, 0x1001, 4000));

    let mut c = pinned_default();
    c.plasticity.rule = RuleName::from("triplet");
    c.plasticity.weight_dependence = WeightDependence::Multiplicative;
    c.plasticity.a3_plus = 0.012;
    c.plasticity.a3_minus = 0.004;
    out.push(case("triplet-multiplicative", c, 20, 0x1002, 4000));

    let mut c = pinned_default();
    c.homeostasis.scaling = true;
    c.homeostasis.scaling_period_steps = 200;
    c.neuron.reset = Reset::Subtract;
    c.traces.pairing = Pairing::Nearest;
    out.push(case("scaling-subtract-nearest-pairing", c, 20, 0x1003, 4000));

    let mut c = pinned_default();
    set_all_roundings(&mut c, Rounding::Floor);
    out.push(case("all-floor", c, 20, 0x1004, 4000));

    // Several tiles, the last one partial.
    let mut c = pinned_default();
    c.network.inputs = 50;
    c.network.neurons = 150;
    out.push(case("50x150-tiles", c, 25, 0x1005, 3000));

    // Several tiles with every rounding nearest, triplet, scaling and no inhibition.
    let mut c = pinned_default();
    c.network.inputs = 40;
    c.network.neurons = 300;
    c.neuron.inhibition = 0.0;
    set_all_roundings(&mut c, Rounding::Nearest);
    c.plasticity.rule = RuleName::from("triplet");
    c.plasticity.a3_plus = 0.01;
    c.plasticity.a3_minus = 0.003;
    c.homeostasis.scaling = true;
    c.homeostasis.scaling_period_steps = 300;
    out.push(case("40x300-nearest-triplet-scaling", c, 30, 0x1006, 3000));

    // Wide rows, stochastic multiplicative pair rule, scaling, weights that start high.
    let mut c = pinned_default();
    c.network.inputs = 400;
    c.network.neurons = 200;
    c.plasticity.weight_dependence = WeightDependence::Multiplicative;
    c.plasticity.w_init = 0.05;
    c.plasticity.w_init_spread = 0.05;
    c.homeostasis.scaling = true;
    c.homeostasis.scaling_period_steps = 250;
    out.push(case("400x200-multiplicative-scaling", c, 15, 0x1007, 2000));

    // Plasticity off: only the neuron and trace paths.
    let mut c = pinned_default();
    c.network.inputs = 30;
    c.network.neurons = 70;
    c.plasticity.rule = RuleName::off();
    out.push(case("30x70-rule-off", c, 40, 0x1008, 3000));

    out
}

/// Hashes of one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Hashes {
    spikes: u64,
    weights: u64,
    state: u64,
}

/// What a run produced besides its hashes, to check that a case exercises something.
struct Activity {
    output_spikes: u64,
    weights_changed: usize,
}

fn hash_state(h: &mut Fnv1a, m: &FixedModel) {
    for j in 0..m.neurons() {
        let p = m.probe(j);
        for r in p.raw.expect("the fixed model reports raw words") {
            h.i64(r);
        }
        h.u32(p.refrac);
    }
}

fn run_case(c: &Case) -> (Hashes, Activity) {
    let net = c.cfg.build().unwrap_or_else(|e| panic!("case {}: {e}", c.name));
    let stim = stimulus(c.cfg.network.inputs, c.steps, c.per_mille, c.seed);
    let mut m = FixedModel::new(&net);
    let w0 = m.weights_raw();
    let (mut hs, mut hw, mut hp) = (Fnv1a::new(), Fnv1a::new(), Fnv1a::new());
    let mut output_spikes = 0;
    for (t, pre) in stim.iter().enumerate() {
        let t = t as u32;
        for &j in m.step(pre) {
            hs.u32(t);
            hs.u32(j);
            output_spikes += 1;
        }
        if t % PROBE_EVERY == 0 {
            hp.u32(t);
            hash_state(&mut hp, &m);
        }
    }
    hp.u32(c.steps);
    hash_state(&mut hp, &m);
    let (x1, x2) = m.pre_traces_raw();
    for &x in x1.iter().chain(x2) {
        hp.u16(x);
    }
    let w = m.weights_raw();
    for &x in &w {
        hw.u16(x);
    }
    let weights_changed = w.iter().zip(&w0).filter(|(a, b)| a != b).count();
    (
        Hashes { spikes: hs.0, weights: hw.0, state: hp.0 },
        Activity { output_spikes, weights_changed },
    )
}

/// `(case, spikes, weights, state)`, recorded from the model before it was optimised.
const GOLDEN: &[(&str, u64, u64, u64)] = &[
    ("default", 0x72b976287852fc6c, 0x7758cb9c43ef5ed1, 0x6ba755a370bd7e82),
    ("triplet-multiplicative", 0x39810f85b021e847, 0x35b3d70d568840b1, 0x75d0517d8f2a9e84),
    (
        "scaling-subtract-nearest-pairing",
        0x25ebda6578788d34,
        0x632eca46c1a3eb71,
        0x2654b99e225c04e8,
    ),
    ("all-floor", 0x4c96417dfdf06276, 0x5409b0259c503796, 0x3446790fe96b4c90),
    ("50x150-tiles", 0x9095a82bf006c8ac, 0x76ae7af81c6fe909, 0x1a023179d7330ad2),
    ("40x300-nearest-triplet-scaling", 0xc60ad8824da5d751, 0x8fed60f1e1889625, 0x269e49250148e91c),
    ("400x200-multiplicative-scaling", 0x277f94821e8e0cbe, 0x80067bb02ac8d70d, 0xb8f49919814ec4c7),
    ("30x70-rule-off", 0xf2ab9366b326cb10, 0x81753dfc4a6ae406, 0xdd738555c728f7c5),
];

fn table(rows: &[(&str, Hashes)]) -> String {
    rows.iter()
        .map(|(name, h)| {
            format!(
                "    (\"{name}\", 0x{:016x}, 0x{:016x}, 0x{:016x}),\n",
                h.spikes, h.weights, h.state
            )
        })
        .collect()
}

#[test]
fn fixed_model_outputs_are_unchanged_by_optimisation() {
    let cases = cases();
    let mut got = Vec::new();
    for c in &cases {
        let (h, a) = run_case(c);
        // A case that never spikes or never learns would pin nothing.
        assert!(
            a.output_spikes >= 100,
            "case {} (stimulus seed {:#x}): only {} output spikes; the case tests too little",
            c.name,
            c.seed,
            a.output_spikes
        );
        if c.cfg.plasticity.rule != RuleName::off() {
            assert!(
                a.weights_changed * 4 >= c.cfg.network.inputs as usize,
                "case {} (stimulus seed {:#x}): only {} weights changed",
                c.name,
                c.seed,
                a.weights_changed
            );
        }
        got.push((c.name, h));
    }
    let expected: Vec<(&str, Hashes)> = GOLDEN
        .iter()
        .map(|&(name, spikes, weights, state)| (name, Hashes { spikes, weights, state }))
        .collect();
    let mismatches: Vec<String> = got
        .iter()
        .zip(cases.iter())
        .filter(|((name, h), _)| {
            expected.iter().find(|(n, _)| n == name).map(|(_, e)| e) != Some(h)
        })
        .map(|((name, h), c)| {
            let e = expected.iter().find(|(n, _)| n == name).map(|(_, e)| *e);
            format!("  {name} (stimulus seed {:#x}): expected {e:x?}, got {h:x?}", c.seed)
        })
        .collect();
    assert!(
        mismatches.is_empty() && expected.len() == got.len(),
        "the bit-accurate model's outputs changed:\n{}\nhashes of this build, for GOLDEN if the \
         change is deliberate and docs/semantics.md says so:\n{}",
        mismatches.join("\n"),
        table(&got)
    );
}

#[test]
fn fixed_model_is_identical_on_one_thread_and_two() {
    // Tiles step in parallel; the result must not depend on how many threads run them.
    let cases = cases();
    for name in ["50x150-tiles", "40x300-nearest-triplet-scaling"] {
        let c = cases.iter().find(|c| c.name == name).expect("case exists");
        let one = ThreadPoolBuilder::new().num_threads(1).build().expect("pool");
        let two = ThreadPoolBuilder::new().num_threads(2).build().expect("pool");
        let (h1, _) = one.install(|| run_case(c));
        let (h2, _) = two.install(|| run_case(c));
        assert_eq!(h1, h2, "case {name} (stimulus seed {:#x}): 1 vs 2 threads", c.seed);
    }
}

#[test]
fn fixed_model_weight_accessors_agree_across_tiles() {
    // weight_raw, weights_raw, weights() and with_weights must see one matrix, whatever the
    // tile layout.
    let mut cfg = pinned_default();
    cfg.network.inputs = 37;
    cfg.network.neurons = 601;
    let net = cfg.build().expect("valid config");
    let (ni, nn) = (net.inputs(), net.neurons());
    let mut rng = ChaCha8Rng::seed_from_u64(0x2001);
    let w0: Vec<u16> = (0..ni * nn).map(|_| (rng.next_u64() % 513) as u16).collect();
    let mut m = FixedModel::with_weights(&net, &w0);
    assert_eq!(m.weights_raw(), w0, "with_weights then weights_raw (seed 0x2001)");
    let stim = stimulus(ni as u32, 300, 30, 0x2002);
    for pre in &stim {
        m.step(pre);
    }
    let w = m.weights_raw();
    let real = m.weights();
    let lsb = net.fmt.w.lsb();
    for i in 0..ni {
        for j in 0..nn {
            let raw = w[i * nn + j];
            assert_eq!(m.weight_raw(i, j), raw, "weight_raw({i}, {j}) (seed 0x2002)");
            assert_eq!(real[i * nn + j], raw as f64 * lsb, "weights()[{i}, {j}] (seed 0x2002)");
        }
    }
    let again = FixedModel::with_weights(&net, &w);
    assert_eq!(again.weights_raw(), w, "round trip of a learnt matrix");
}

/// The generated stimulus, as CSV, hashed. The pairing hashes were taken from `synforge
/// stimulus` of commit 459906a, which stored the whole stimulus, before the generator became a
/// stream that draws each step as it is needed (the pairing computed per step). The Poisson
/// hashes were re-pinned when the background trains became geometric gaps drawn a block at a
/// time (docs/semantics.md §5.1, issue 15: one draw per spike instead of one per input per
/// step); their pattern replays are drawn as before. Odd pattern sizes, a pattern longer than
/// the run, negative and odd-rounding pairing offsets, per-input rates, dt below 1 ms.
#[test]
fn the_generated_stimulus_is_the_pinned_one() {
    let cfg = |toml: &str| Config::from_toml_str(toml, "t").unwrap();
    let cases: [(&str, Config, u64); 5] = [
        (
            "odd pattern, rates, dt 0.5",
            cfg("[network]\ninputs = 37\ndt_ms = 0.5\n[stimulus]\nsteps = 5000\nseed = 12345\n\
                 rates_hz = [5,10,15,20,25,30,35,40,45,50,55,60,65,70,75,80,85,90,95,100,5,10,\
                 15,20,25,30,35,40,45,50,55,60,65,70,75,80,85]\n[stimulus.pattern]\n\
                 fraction = 0.3\nlength_ms = 13.3\nperiod_ms = 29.1\n"),
            0x3e32_6711_d202_f13e,
        ),
        (
            "pattern longer than the run",
            cfg("[stimulus]\nsteps = 300\nseed = 99\n[stimulus.pattern]\nfraction = 0.5\n\
                 length_ms = 1000\nperiod_ms = 2000\n"),
            0xe117_f619_5281_40c2,
        ),
        (
            "pairing, dt 0.7",
            cfg("[network]\ninputs = 9\ndt_ms = 0.7\n[stimulus]\nkind = \"pairing\"\n\
                 steps = 4000\n[stimulus.pairing]\noffset_min_ms = -17.3\noffset_max_ms = 23.7\n\
                 period_ms = 211.3\n"),
            0x1fa03af0abcb4905,
        ),
        (
            "pairing, negative offsets",
            cfg(
                "[network]\ninputs = 6\n[stimulus]\nkind = \"pairing\"\nsteps = 3000\n\
                 [stimulus.pairing]\noffset_min_ms = -40.5\noffset_max_ms = -3.5\nperiod_ms = 97\n",
            ),
            0xb6295a8ba8efce7e,
        ),
        ("the built-in default", Config::builtin_default(), 0xd1dc_f8a5_c153_8817),
    ];
    for (what, c, want) in cases {
        let csv = c.stimulus.generate(&c).unwrap().to_csv();
        let mut h = Fnv1a::new();
        h.bytes(csv.as_bytes());
        assert_eq!(h.0, want, "{what}: the stimulus is not the pinned one");
    }
}
