//! Hand-worked vectors, one group per rule of `docs/semantics.md`.
//!
//! Every expected number below is worked out by hand from the contract, with the arithmetic in
//! a comment beside it, so a reader can check it without running anything. The tiny networks
//! are built from a fully specified config ([`base`]), so the vectors do not move when the
//! built-in defaults change.
//!
//! Shorthand used in the comments: `a` is a U0.16 decay factor, `>>` an arithmetic shift,
//! `P` the inputs that spike in a step; weights are listed input-major (`w[i * neurons + j]`).

use synforge_sim::config::{
    Config, FormatSpec, Network, Pairing, Reset, RuleName, WeightDependence,
};
use synforge_sim::format::{decay_raw, round_shift, Decay, Format, Rounding};
use synforge_sim::lfsr::{lfsr_step, Lfsr};
use synforge_sim::model::{FixedModel, FloatModel, Model};
use synforge_sim::plasticity::homeostasis::HomeostasisFixed;
use synforge_sim::plasticity::homeostasis::HomeostasisFloat;
use synforge_sim::plasticity::lang::Trace;
use synforge_sim::plasticity::rule::RuleFixed;
use synforge_sim::stimulus::{Stimulus, StimulusKind};

/// `tau = dt / ln 2`: `exp(-dt/tau) = 1/2`, so `a = 32768` and every decay halves.
const TAU_HALF: f64 = std::f64::consts::LOG2_E;
/// A time constant so long that `a` saturates at 65535 (`exp(-1e-9) * 2^16 = 65535.99993`).
const TAU_HOLD: f64 = 1e9;

// ---------------------------------------------------------------------------------------------
// An independent LFSR, written from semantics §2.1 alone (not from `lfsr.rs`).

/// One single step: `s' = (s >> 1) ^ (s & 1 ? 0x80200003 : 0)`.
fn single_step(s: u32) -> u32 {
    (s >> 1) ^ if s & 1 == 1 { 0x8020_0003 } else { 0 }
}

/// A register that draws by stepping 32 times.
#[derive(Clone, Copy, Debug)]
struct RefLfsr(u32);

impl RefLfsr {
    fn seeded(seed: u32) -> Self {
        RefLfsr(if seed == 0 { 1 } else { seed })
    }
    fn neuron(seed: u32, j: u32) -> Self {
        Self::seeded(seed ^ (j + 1).wrapping_mul(0x9E37_79B9))
    }
    fn inputs(seed: u32) -> Self {
        Self::seeded(seed ^ 0x6A09_E667)
    }
    fn draw(&mut self) -> u32 {
        for _ in 0..32 {
            self.0 = single_step(self.0);
        }
        self.0
    }
    /// `stochastic` rounding of §2: one draw, add its top `s` bits, floor.
    fn round(&mut self, v: i64, s: u32) -> i64 {
        let d = self.draw() as i64;
        let r = if s == 0 { 0 } else { d >> (32 - s) };
        (v + r) >> s
    }
    /// §3 decay with stochastic rounding: `sign(q) * round(|q| * a, 16)`.
    fn decay(&mut self, q: i64, a: u16) -> i64 {
        let m = self.round(q.abs() * a as i64, 16);
        if q < 0 {
            -m
        } else {
            m
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tiny networks.

fn spec(width: u32, frac: u32, rounding: Rounding) -> FormatSpec {
    FormatSpec { width, frac, rounding, decay: Decay::Multiply }
}

/// A fully specified network of `inputs x neurons`: every field set here, none left to the
/// built-in defaults. Membrane sQ8.8, weight uQ0.8, threshold uQ8.8, traces uQ2.6, all
/// `floor`; every time constant `TAU_HALF` (a = 32768); threshold 0.5 (raw 128); reset to
/// zero, no refractory period, no inhibition, no plasticity, no homeostasis.
fn base(inputs: u32, neurons: u32) -> Config {
    let mut c = Config::builtin_default();
    let n = &mut c.network;
    n.name = "rules".into();
    n.inputs = inputs;
    n.neurons = neurons;
    n.dt_ms = 1.0;
    n.seed = 1;
    let ne = &mut c.neuron;
    ne.tau_m_ms = TAU_HALF;
    ne.threshold = 0.5;
    ne.reset = Reset::Zero;
    ne.refractory_ms = 0.0;
    ne.inhibition = 0.0;
    let tr = &mut c.traces;
    tr.pairing = Pairing::AllToAll;
    tr.tau_plus_ms = TAU_HALF;
    tr.tau_minus_ms = TAU_HALF;
    tr.tau_x_ms = TAU_HALF;
    tr.tau_y_ms = TAU_HALF;
    tr.increment = 1.0;
    let pl = &mut c.plasticity;
    pl.rule = RuleName::off();
    pl.weight_dependence = WeightDependence::Additive;
    pl.a_plus = 0.0;
    pl.a_minus = 0.0;
    pl.a3_plus = 0.0;
    pl.a3_minus = 0.0;
    pl.w_min = 0.0;
    pl.w_max = 255.0 / 256.0;
    pl.w_init = 0.5;
    pl.w_init_spread = 0.0;
    pl.amplitude_frac = None;
    let h = &mut c.homeostasis;
    h.adaptive_threshold = false;
    h.theta_step = 0.0;
    h.tau_theta_ms = TAU_HALF;
    h.scaling = false;
    h.scaling_period_steps = 1000;
    h.target_rate_hz = 10.0;
    h.scaling_gain = 0.1;
    let f = &mut c.formats;
    f.membrane = spec(16, 8, Rounding::Floor);
    f.weight = spec(8, 8, Rounding::Floor);
    f.threshold = spec(16, 8, Rounding::Floor);
    f.trace_x1 = spec(8, 6, Rounding::Floor);
    f.trace_x2 = spec(8, 6, Rounding::Floor);
    f.trace_y1 = spec(8, 6, Rounding::Floor);
    f.trace_y2 = spec(8, 6, Rounding::Floor);
    let s = &mut c.stimulus;
    s.kind = StimulusKind::Poisson;
    s.steps = 1;
    s.seed = 1;
    s.rate_hz = 0.0;
    s.rates_hz = Vec::new();
    s.pattern = None;
    s.pairing = None;
    s.file = None;
    c
}

/// The pair-STDP bench: input 0 is the synapse under test, input 1 a driver whose weight
/// alone fires the neuron. A2+ = 0.0625 and A2- = 0.03125 in an amplitude format with 12
/// fraction bits (raw 256 and 128), so `pot - dep` is shifted by `12 - 8 = 4` into the weight.
fn stdp_bench(rule: RuleName, dependence: WeightDependence) -> Config {
    let mut c = base(2, 1);
    c.plasticity.rule = rule;
    c.plasticity.weight_dependence = dependence;
    c.plasticity.a_plus = 0.0625;
    c.plasticity.a_minus = 0.03125;
    c.plasticity.amplitude_frac = Some(12);
    c
}

fn build(cfg: &Config) -> Network {
    match cfg.build() {
        Ok(n) => n,
        Err(e) => panic!("the test network must be valid: {e}"),
    }
}

fn fixed(cfg: &Config, w_raw: &[u16]) -> FixedModel {
    FixedModel::with_weights(&build(cfg), w_raw)
}

fn float(cfg: &Config, w_raw: &[u16]) -> FloatModel {
    let net = build(cfg);
    let w = w_raw.iter().map(|&r| net.fmt.w.to_real(r as i64)).collect();
    FloatModel::with_weights(&net, w)
}

/// Raw `[v_mem, theta, y1, y2]` of neuron `j`.
fn raw(m: &FixedModel, j: usize) -> [i64; 4] {
    m.probe(j).raw.expect("the fixed model reports raw words")
}

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-12 * want.abs().max(1.0)
}

fn assert_reals(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len());
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(close(*g, *w), "element {k}: got {g}, want {w} (all: {got:?})");
    }
}

// ---------------------------------------------------------------------------------------------
// §2 Rounding.

#[test]
fn floor_rounds_toward_minus_infinity_for_negatives_too() {
    let mut l = Lfsr::new(1);
    let before = l;
    // 7 / 4 = 1.75 -> 1; -7 / 4 = -1.75 -> -2; -8 / 4 = -2 exactly; -1 / 16 = -0.0625 -> -1.
    assert_eq!(round_shift(7, 2, Rounding::Floor, &mut l), 1);
    assert_eq!(round_shift(-7, 2, Rounding::Floor, &mut l), -2);
    assert_eq!(round_shift(-8, 2, Rounding::Floor, &mut l), -2);
    assert_eq!(round_shift(-1, 4, Rounding::Floor, &mut l), -1);
    assert_eq!(round_shift(5, 0, Rounding::Floor, &mut l), 5);
    assert_eq!(l, before, "floor never draws");
}

#[test]
fn nearest_rounds_half_up_for_negatives_too() {
    let mut l = Lfsr::new(1);
    let before = l;
    // (v + 2) >> 2:
    //   6 -> 8 >> 2 = 2 (1.5 -> 2)       5 -> 7 >> 2 = 1 (1.25 -> 1)   7 -> 9 >> 2 = 2
    //  -6 -> -4 >> 2 = -1 (-1.5 -> -1)  -7 -> -5 >> 2 = -2 (-1.75)    -5 -> -3 >> 2 = -1
    //  -2 -> 0 >> 2 = 0 (-0.5 -> 0: half up, not away from zero)
    for (v, want) in [(6, 2), (5, 1), (7, 2), (-6, -1), (-7, -2), (-5, -1), (-2, 0)] {
        assert_eq!(round_shift(v, 2, Rounding::Nearest, &mut l), want, "nearest({v} / 4)");
    }
    // s = 0: unchanged.
    assert_eq!(round_shift(-3, 0, Rounding::Nearest, &mut l), -3);
    assert_eq!(l, before, "nearest never draws");
}

#[test]
fn lfsr_single_steps_and_first_draws_from_seed_1() {
    // By hand, s' = (s >> 1) ^ (s & 1 ? 0x80200003 : 0):
    //   0x00000001: lsb 1 -> 0x00000000 ^ 0x80200003 = 0x80200003
    //   0x80200003: lsb 1 -> 0x40100001 ^ 0x80200003 = 0xC0300002
    //   0xC0300002: lsb 0 -> 0x60180001
    //   0x60180001: lsb 1 -> 0x300C0000 ^ 0x80200003 = 0xB02C0003
    let hand = [0x8020_0003u32, 0xC030_0002, 0x6018_0001, 0xB02C_0003];
    let mut s = 1u32;
    let mut r = 1u32;
    for want in hand {
        s = single_step(s);
        r = lfsr_step(r);
        assert_eq!(s, want, "the test's own single step");
        assert_eq!(r, want, "lfsr::lfsr_step");
    }
    // A draw is 32 single steps and returns the new state.
    let mut reference = RefLfsr::seeded(1);
    let mut l = Lfsr::new(1);
    for k in 0..64 {
        assert_eq!(l.draw(), reference.draw(), "draw {k} from seed 1");
    }
    // The first four draws from seed 1 (32 single steps each, by the function above):
    let mut l = Lfsr::new(1);
    for want in [0x8A0F_3DB5u32, 0x90BD_2FA6, 0x44C3_8D95, 0x9725_42A4] {
        assert_eq!(l.draw(), want);
    }
}

#[test]
fn stochastic_adds_the_top_bits_of_exactly_one_draw() {
    // Seed 1 draws 0x8A0F3DB5, 0x90BD2FA6, 0x44C38D95, 0x972542A4 (test above).
    let mut l = Lfsr::new(1);
    // top 3 bits of 0x8A0F3DB5 = 0b100 = 4: (5 + 4) >> 3 = 1
    assert_eq!(round_shift(5, 3, Rounding::Stochastic, &mut l), 1);
    // top 3 bits of 0x90BD2FA6 = 0b100 = 4: (3 + 4) >> 3 = 0
    assert_eq!(round_shift(3, 3, Rounding::Stochastic, &mut l), 0);
    // top 3 bits of 0x44C38D95 = 0b010 = 2: (-3 + 2) >> 3 = -1 >> 3 = -1
    assert_eq!(round_shift(-3, 3, Rounding::Stochastic, &mut l), -1);
    // shift 0 adds nothing but still draws (the fourth word).
    assert_eq!(round_shift(0, 0, Rounding::Stochastic, &mut l), 0);
    assert_eq!(l.state(), 0x9725_42A4, "one draw per rounding, also for v = 0 and s = 0");

    // top 16 bits of the first draw: 0x8A0F = 35343; (v + 35343) >> 16 carries from
    // v = 65536 - 35343 = 30193 up.
    assert_eq!(round_shift(30193, 16, Rounding::Stochastic, &mut Lfsr::new(1)), 1);
    assert_eq!(round_shift(30192, 16, Rounding::Stochastic, &mut Lfsr::new(1)), 0);
    // shift 32: r is the whole word: (0 + 0x8A0F3DB5) >> 32 = 0, (2^32 - 0x8A0F3DB5) carries.
    assert_eq!(round_shift(0, 32, Rounding::Stochastic, &mut Lfsr::new(1)), 0);
    let v = (1i64 << 32) - 0x8A0F_3DB5;
    assert_eq!(round_shift(v, 32, Rounding::Stochastic, &mut Lfsr::new(1)), 1);
}

#[test]
fn stochastic_rounding_is_unbiased() {
    // E[round(1, 2)] = 1/4 and E[round(-3, 2)] = -3/4 over 2^16 draws.
    let mut l = Lfsr::new(0xC0FF_EE00);
    let n = 1 << 16;
    let up: i64 = (0..n).map(|_| round_shift(1, 2, Rounding::Stochastic, &mut l)).sum();
    let down: i64 = (0..n).map(|_| round_shift(-3, 2, Rounding::Stochastic, &mut l)).sum();
    let (up, down) = (up as f64 / n as f64, down as f64 / n as f64);
    assert!((up - 0.25).abs() < 0.01, "mean {up}");
    assert!((down + 0.75).abs() < 0.01, "mean {down}");
}

#[test]
fn lfsr_seeds_per_neuron_and_for_the_inputs() {
    // S = 1:
    //   neuron 0: 1 ^ (1 * 0x9E3779B9)               = 0x9E3779B8
    //   neuron 1: 2 * 0x9E3779B9 = 0x1_3C6EF372 -> 0x3C6EF372; ^ 1 = 0x3C6EF373
    //   neuron 2: 3 * 0x9E3779B9 = 0x1_DAA66D2B -> 0xDAA66D2B; ^ 1 = 0xDAA66D2A
    //   inputs:   1 ^ 0x6A09E667                     = 0x6A09E666
    assert_eq!(Lfsr::for_neuron(1, 0).state(), 0x9E37_79B8);
    assert_eq!(Lfsr::for_neuron(1, 1).state(), 0x3C6E_F373);
    assert_eq!(Lfsr::for_neuron(1, 2).state(), 0xDAA6_6D2A);
    assert_eq!(Lfsr::for_inputs(1).state(), 0x6A09_E666);
    // A seed that would give zero is replaced by 1.
    assert_eq!(Lfsr::for_neuron(0x9E37_79B9, 0).state(), 1);
    assert_eq!(Lfsr::for_neuron(0x3C6E_F372, 1).state(), 1);
    assert_eq!(Lfsr::for_inputs(0x6A09_E667).state(), 1);
    assert_eq!(Lfsr::new(0).state(), 1);
}

// ---------------------------------------------------------------------------------------------
// §3 Decay.

#[test]
fn decay_keeps_the_sign_and_rounds_the_magnitude() {
    let mut l = Lfsr::new(1);
    let half = 32768;
    // floor: |q| * a >> 16, sign restored.
    //   1000 * 32768 >> 16 = 500; -3 -> -(98304 >> 16) = -1 (flooring -1.5 would give -2);
    //   -1 -> -(32768 >> 16) = 0: a negative membrane reaches zero, it does not stall at -1.
    assert_eq!(decay_raw(1000, half, Rounding::Floor, &mut l), 500);
    assert_eq!(decay_raw(-1000, half, Rounding::Floor, &mut l), -500);
    assert_eq!(decay_raw(-3, half, Rounding::Floor, &mut l), -1);
    assert_eq!(decay_raw(-1, half, Rounding::Floor, &mut l), 0);
    // a = 62340: 1000 * 62340 = 62_340_000 = 951 * 65536 + 15264 -> 951.
    assert_eq!(decay_raw(1000, 62340, Rounding::Floor, &mut l), 951);
    assert_eq!(decay_raw(-1000, 62340, Rounding::Floor, &mut l), -951);
    // nearest: (|q| * a + 32768) >> 16: 3 -> (98304 + 32768) >> 16 = 2 (1.5 -> 2), -3 -> -2;
    //   1 -> (32768 + 32768) >> 16 = 1: with nearest, 1 LSB halved stays 1 LSB (§2's trap).
    assert_eq!(decay_raw(3, half, Rounding::Nearest, &mut l), 2);
    assert_eq!(decay_raw(-3, half, Rounding::Nearest, &mut l), -2);
    assert_eq!(decay_raw(1, half, Rounding::Nearest, &mut l), 1);
    assert_eq!(decay_raw(-1, half, Rounding::Nearest, &mut l), -1);
    // stochastic, seed 1, first draw 0x8A0F3DB5, r = 0x8A0F = 35343:
    //   3: (98304 + 35343) >> 16 = 133647 >> 16 = 2; -3 -> -2 (same draw on a fresh register).
    assert_eq!(decay_raw(3, half, Rounding::Stochastic, &mut Lfsr::new(1)), 2);
    assert_eq!(decay_raw(-3, half, Rounding::Stochastic, &mut Lfsr::new(1)), -2);
    // 0 still draws: 0 * a + r < 2^16 -> 0.
    let mut l = Lfsr::new(1);
    assert_eq!(decay_raw(0, half, Rounding::Stochastic, &mut l), 0);
    assert_eq!(l.state(), 0x8A0F_3DB5);
}

/// The decay factors a network derives for `tau` at `dt = 1 ms`.
fn decay_factor(tau: f64, decay: Decay) -> u16 {
    let mut c = base(1, 1);
    c.neuron.tau_m_ms = tau;
    c.formats.membrane.decay = decay;
    build(&c).k.decay_v
}

#[test]
fn multiply_decay_factor_is_the_rounded_exponential() {
    // a = round(exp(-dt/tau) * 2^16), at most 65535:
    //   tau = 20:    exp(-0.05)  * 65536 = 0.951229 * 65536 = 62339.77 -> 62340
    //   tau = 3:     exp(-1/3)   * 65536 = 0.716531 * 65536 = 46958.60 -> 46959
    //   tau = 1/ln2: exp(-ln 2)  * 65536 = 32768
    //   tau = 1e9:   65535.99993 -> 65536 does not fit U0.16 -> 65535
    //   tau = 0.01:  exp(-100) * 65536 = 2.4e-39 -> 0
    assert_eq!(decay_factor(20.0, Decay::Multiply), 62340);
    assert_eq!(decay_factor(3.0, Decay::Multiply), 46959);
    assert_eq!(decay_factor(TAU_HALF, Decay::Multiply), 32768);
    assert_eq!(decay_factor(TAU_HOLD, Decay::Multiply), 65535);
    assert_eq!(decay_factor(0.01, Decay::Multiply), 0);
}

#[test]
fn shift_decay_factor_is_one_minus_a_power_of_two() {
    // a = 2^16 - 2^(16-k), k = clamp(round(log2(tau/dt)), 1, 16):
    //   tau = 20:   log2 20 = 4.32 -> k = 4  -> 65536 - 4096  = 61440
    //   tau = 3:    log2 3  = 1.58 -> k = 2  -> 65536 - 16384 = 49152
    //   tau = 1024: log2    = 10   -> k = 10 -> 65536 - 64    = 65472
    //   tau = 1:    log2    = 0    -> k = 1  -> 65536 - 32768 = 32768
    //   tau = 0.25: log2    = -2   -> k = 1  -> 32768
    //   tau = 1e6:  log2    = 19.9 -> k = 16 -> 65536 - 1     = 65535
    for (tau, want) in
        [(20.0, 61440), (3.0, 49152), (1024.0, 65472), (1.0, 32768), (0.25, 32768), (1e6, 65535)]
    {
        assert_eq!(decay_factor(tau, Decay::Shift), want, "tau = {tau}");
    }
    // k depends on tau / dt: dt = 0.5, tau = 8 -> log2 16 = 4 -> 61440.
    let mut c = base(1, 1);
    c.network.dt_ms = 0.5;
    c.neuron.tau_m_ms = 8.0;
    c.formats.membrane.decay = Decay::Shift;
    assert_eq!(build(&c).k.decay_v, 61440);
}

#[test]
fn shift_decay_applies_each_trace_and_threshold_own_mode() {
    // Each quantity picks its own `decay =`: only x1 and theta use shift here.
    let mut c = base(1, 1);
    for t in [&mut c.traces.tau_plus_ms, &mut c.traces.tau_minus_ms] {
        *t = 20.0;
    }
    c.homeostasis.tau_theta_ms = 20.0;
    c.formats.trace_x1.decay = Decay::Shift;
    c.formats.threshold.decay = Decay::Shift;
    let k = build(&c).k;
    assert_eq!(k.decay_x1, 61440, "x1: shift, k = 4");
    assert_eq!(k.decay_y1, 62340, "y1: multiply");
    assert_eq!(k.decay_theta, 61440, "theta: shift");
}

// ---------------------------------------------------------------------------------------------
// §5 Quantisation report.

#[test]
fn quantization_report_gives_realised_values() {
    let mut c = base(1, 1);
    c.neuron.tau_m_ms = 20.0;
    c.traces.tau_plus_ms = 20.0;
    c.formats.trace_x1.decay = Decay::Shift;
    c.neuron.threshold = 0.3;
    c.neuron.refractory_ms = 2.4;
    let net = build(&c);
    let entry = |field: &str| {
        net.quantization
            .iter()
            .find(|q| q.field == field)
            .unwrap_or_else(|| panic!("no quantization entry for {field}"))
    };
    // tau_m = 20, multiply: a = 62340, realised tau = -1 / ln(62340 / 65536) = 20.0014659.
    let q = entry("neuron.tau_m_ms");
    assert_eq!(q.raw, 62340);
    assert_eq!(q.requested, 20.0);
    assert!(close(q.realised, -1.0 / (62340.0f64 / 65536.0).ln()));
    assert!((q.realised - 20.001_465_852).abs() < 1e-8, "{}", q.realised);
    assert!(close(q.rel_error, (q.realised - 20.0) / 20.0));
    // tau_plus = 20, shift: a = 61440 = 65536 * 15/16, realised -1 / ln(0.9375) = 15.4946.
    let q = entry("traces.tau_plus_ms");
    assert_eq!(q.raw, 61440);
    assert!((q.realised - 15.494_622_163).abs() < 1e-8, "{}", q.realised);
    assert!((q.rel_error - (15.494_622_163 - 20.0) / 20.0).abs() < 1e-9);
    // threshold 0.3 in uQ8.8: 0.3 * 256 = 76.8 -> 77 -> 0.30078125, error +0.26 %.
    let q = entry("neuron.threshold");
    assert_eq!(q.raw, 77);
    assert_eq!(q.realised, 0.300_781_25);
    assert!(close(q.rel_error, 0.000_781_25 / 0.3));
    assert_eq!(q.format, "uQ8.8");
    // refractory 2.4 ms at dt = 1 ms: round(2.4) = 2 steps, realised 2 ms.
    let q = entry("neuron.refractory_ms");
    assert_eq!(q.raw, 2);
    assert_eq!(q.realised, 2.0);
    assert_eq!(net.k.refractory_steps, 2);
}

#[test]
fn target_count_is_rounded_to_eight_fraction_bits() {
    let mut c = base(1, 1);
    c.homeostasis.scaling = true;
    // 10 Hz x 1000 steps x 1 ms = 10 spikes -> T = 10 * 256 = 2560, exact.
    c.homeostasis.target_rate_hz = 10.0;
    c.homeostasis.scaling_period_steps = 1000;
    c.homeostasis.scaling_gain = 0.5;
    let net = build(&c);
    assert_eq!(net.k.scale_target, 2560);
    // g = round(0.5 / 10 * 65536) = round(3276.8) = 3277.
    assert_eq!(net.k.scale_gain, 3277);
    // 3 Hz x 7 steps x 1 ms = 0.021 spikes -> T = round(0.021 * 256) = round(5.376) = 5,
    // realised 5 / 256 / 0.007 s = 2.7901786 Hz.
    c.homeostasis.target_rate_hz = 3.0;
    c.homeostasis.scaling_period_steps = 7;
    c.homeostasis.scaling_gain = 0.01;
    let net = build(&c);
    assert_eq!(net.k.scale_target, 5);
    let q = net.quantization.iter().find(|q| q.field == "homeostasis.target_rate_hz");
    let q = q.expect("target rate is reported");
    assert!((q.realised - 2.790_178_571_4).abs() < 1e-9, "{}", q.realised);
}

#[test]
fn scaling_gain_uses_the_quantised_target() {
    // §5: g = round(gain / (T / 2^8) * 2^16) with the rounded T. For 3 Hz x 7 steps:
    // T = 5 (see above), gain 0.01: 0.01 / (5 / 256) * 65536 = 0.512 * 65536 = 33554.43 -> 33554.
    // (From the unrounded count 0.021 it would be 0.01 / 0.021 * 65536 = 31207.6 -> 31208.)
    let mut c = base(1, 1);
    c.homeostasis.scaling = true;
    c.homeostasis.target_rate_hz = 3.0;
    c.homeostasis.scaling_period_steps = 7;
    c.homeostasis.scaling_gain = 0.01;
    let net = build(&c);
    assert_eq!(net.k.scale_target, 5);
    assert_eq!(net.k.scale_gain, 33554);
}

// ---------------------------------------------------------------------------------------------
// §5 Amplitude format.

fn amp(a_plus: f64, a_minus: f64, w: (u32, u32), dep: WeightDependence) -> Result<Network, String> {
    let mut c = base(1, 1);
    c.plasticity.rule = RuleName::from("pair");
    c.plasticity.weight_dependence = dep;
    c.plasticity.a_plus = a_plus;
    c.plasticity.a_minus = a_minus;
    c.formats.weight = spec(w.0, w.1, Rounding::Floor);
    c.formats.membrane = spec(32, 16, Rounding::Floor);
    c.plasticity.w_max = Format::unsigned(w.0, w.1).max_real();
    c.plasticity.w_init = 0.0;
    c.build().map_err(|e| e.to_string())
}

#[test]
fn amplitude_frac_is_the_most_that_still_holds_the_largest_amplitude() {
    use WeightDependence::{Additive, Multiplicative};
    // max(0.02, 0.021) = 0.021: 0.021 * 2^21 = 44040.2 <= 65535, 0.021 * 2^22 = 88080.4 > 65535
    // -> 21 fraction bits; A2+ = round(0.02 * 2^21) = round(41943.04) = 41943, A2- = 44040.
    let net = amp(0.02, 0.021, (8, 8), Additive).unwrap();
    assert_eq!(net.fmt.amp, Format::unsigned(16, 21));
    assert_eq!(
        (net.param_raw("a_plus").unwrap(), net.param_raw("a_minus").unwrap()),
        (41943, 44040)
    );
    // 0.9: 0.9 * 2^16 = 58982.4 fits, 0.9 * 2^17 = 117964.8 does not -> 16; raw 58982.
    let net = amp(0.9, 0.1, (8, 8), Additive).unwrap();
    assert_eq!((net.fmt.amp.frac, net.param_raw("a_plus").unwrap()), (16, 58982));
    // "Still fits" is after rounding: 65535.4 / 2^20 rounds to 65535 at 20 bits and fits;
    // 65535.5 / 2^20 rounds to 65536 at 20 bits, so 19 bits: 32767.75 -> 32768.
    let net = amp(65535.4 / 1048576.0, 0.0, (8, 8), Additive).unwrap();
    assert_eq!((net.fmt.amp.frac, net.param_raw("a_plus").unwrap()), (20, 65535));
    let net = amp(65535.5 / 1048576.0, 0.0, (8, 8), Additive).unwrap();
    assert_eq!((net.fmt.amp.frac, net.param_raw("a_plus").unwrap()), (19, 32768));
    // All amplitudes zero: at most 32 bits.
    let net = amp(0.0, 0.0, (8, 8), Additive).unwrap();
    assert_eq!(net.fmt.amp.frac, 32);
    // At least w.frac: uQ0.16 weights, multiplicative, 0.999995 * 2^16 = 65535.67 -> 65536:
    // no count of fraction bits >= 16 holds it, so it is refused, naming field and format.
    let e = amp(0.999_995, 0.0, (16, 16), Multiplicative).unwrap_err();
    assert!(
        e.starts_with(
            "config field `plasticity.a_plus`: 0.999995 does not fit the amplitude format \
             uQ0.16 (range 0 to 0.9999847412109375)"
        ),
        "{e}"
    );
}

#[test]
fn amplitude_frac_when_given_is_checked_against_the_weight_format() {
    let mut c = base(1, 1);
    c.plasticity.rule = RuleName::from("pair");
    c.plasticity.a_plus = 0.01;
    c.plasticity.amplitude_frac = Some(12);
    let net = build(&c);
    // 0.01 * 2^12 = 40.96 -> 41.
    assert_eq!((net.fmt.amp.frac, net.param_raw("a_plus").unwrap()), (12, 41));
    c.plasticity.amplitude_frac = Some(7);
    let e = c.build().unwrap_err().to_string();
    assert_eq!(
        e,
        "config field `plasticity.amplitude_frac`: must be between the weight frac (8) and 32, got 7"
    );
    c.plasticity.amplitude_frac = Some(33);
    let e = c.build().unwrap_err().to_string();
    assert_eq!(
        e,
        "config field `plasticity.amplitude_frac`: must be between the weight frac (8) and 32, got 33"
    );
}

// ---------------------------------------------------------------------------------------------
// §4.1 Membrane.

#[test]
fn membrane_adds_the_aligned_weight_sum_then_decays() {
    // Weights uQ2.6, membrane sQ8.8: the weight sum is shifted left by 8 - 6 = 2.
    let mut c = base(2, 1);
    c.formats.weight = spec(8, 6, Rounding::Floor);
    c.plasticity.w_max = 255.0 / 64.0;
    c.neuron.threshold = 100.0; // never reached
    let mut m = fixed(&c, &[40, 13]); // 0.625 and 0.203125
    let mut v = vec![];
    for pre in [&[0u32, 1][..], &[0], &[], &[]] {
        m.step(pre);
        v.push(raw(&m, 0)[0]);
    }
    // t0: 0 + (40 + 13) << 2 = 212 (0.828125 = 0.625 + 0.203125)
    // t1: 212 * 32768 >> 16 = 106; + 40 << 2 = 160 -> 266
    // t2: 266 / 2 = 133
    // t3: 133 / 2 = 66.5 -> floor 66
    assert_eq!(v, [212, 266, 133, 66]);

    // The same with nearest membrane rounding: t3 = (133 * 32768 + 32768) >> 16 = 67.
    c.formats.membrane.rounding = Rounding::Nearest;
    let mut m = fixed(&c, &[40, 13]);
    for pre in [&[0u32, 1][..], &[0], &[], &[]] {
        m.step(pre);
    }
    assert_eq!(raw(&m, 0)[0], 67);

    // Float: 0.828125, then 0.4140625 + 0.625, halved twice.
    let mut f = float(&c, &[40, 13]);
    let mut got = vec![];
    for pre in [&[0u32, 1][..], &[0], &[], &[]] {
        f.step(pre);
        got.push(f.probe(0).v_mem);
    }
    assert_reals(&got, &[0.828125, 1.0390625, 0.51953125, 0.259765625]);
}

#[test]
fn membrane_saturates_at_the_top_instead_of_wrapping() {
    // Membrane sQ4.4 (raw -128..127), weights uQ4.4 (raw 0..255), threshold 100/16 = 6.25
    // (raw 100), reset by subtraction.
    let mut c = base(2, 1);
    c.formats.membrane = spec(8, 4, Rounding::Floor);
    c.formats.weight = spec(8, 4, Rounding::Floor);
    c.formats.threshold = spec(8, 4, Rounding::Floor);
    c.plasticity.w_max = 255.0 / 16.0;
    c.neuron.threshold = 6.25;
    c.neuron.reset = Reset::Subtract;
    let mut m = fixed(&c, &[255, 255]);
    // t0: 0 + 255 + 255 = 510 -> saturates to 127 -> 127 >= 100 spikes -> 127 - 100 = 27.
    // (Wrapping would give 510 - 512 = -2 and no spike.)
    assert_eq!(m.step(&[0, 1]), &[0]);
    assert_eq!(raw(&m, 0)[0], 27);
    let mut f = float(&c, &[255, 255]);
    assert_eq!(f.step(&[0, 1]), &[0]);
    assert_reals(&[f.probe(0).v_mem], &[(127.0 - 100.0) / 16.0]);
}

#[test]
fn membrane_sum_is_saturated_before_the_inhibition_is_subtracted() {
    // Membrane sQ4.4, weights uQ4.4, threshold 127/16 (raw 127, the membrane's maximum),
    // inhibition 1.0 (raw 16). Input 0 fires neuron 1 at t0; input 1 drives neuron 0 at t1.
    let mut c = base(2, 2);
    c.formats.membrane = spec(8, 4, Rounding::Floor);
    c.formats.weight = spec(8, 4, Rounding::Floor);
    c.formats.threshold = spec(8, 4, Rounding::Floor);
    c.plasticity.w_max = 255.0 / 16.0;
    c.neuron.threshold = 127.0 / 16.0;
    c.neuron.inhibition = 1.0;
    // w[i * 2 + j]: input 0 -> (n0 0, n1 255), input 1 -> (n0 255, n1 0).
    let w = [0, 255, 255, 0];
    let mut m = fixed(&c, &w);
    // t0: n1 = sat(255) = 127 >= 127 spikes; n0 = 0.
    assert_eq!(m.step(&[0]), &[1]);
    // t1: n0 = sat(0 + 255) = 127, then sat(127 - 16 * (1 - 0)) = 111 < 127: no spike.
    //     (Saturating once after the inhibition would give sat(255 - 16) = 127 and a spike.)
    //     n1 = 0 + 0 - 16 * (1 - 1) = 0: its own spike does not inhibit it.
    assert_eq!(m.step(&[1]), &[] as &[u32]);
    assert_eq!(raw(&m, 0)[0], 111);
    assert_eq!(raw(&m, 1)[0], 0);
    let mut f = float(&c, &w);
    f.step(&[0]);
    f.step(&[1]);
    assert_reals(&[f.probe(0).v_mem, f.probe(1).v_mem], &[111.0 / 16.0, 0.0]);
}

#[test]
fn membrane_saturates_at_the_bottom_and_decays_back_to_zero() {
    // Membrane sQ4.4 (raw -128..127), inhibition 127/16 (raw 127). Neurons 1 and 2 fire at t0.
    let mut c = base(1, 3);
    c.formats.membrane = spec(8, 4, Rounding::Floor);
    c.formats.weight = spec(8, 4, Rounding::Floor);
    c.formats.threshold = spec(8, 4, Rounding::Floor);
    c.plasticity.w_max = 255.0 / 16.0;
    c.neuron.threshold = 127.0 / 16.0;
    c.neuron.inhibition = 127.0 / 16.0;
    let mut m = fixed(&c, &[0, 255, 255]);
    assert_eq!(m.step(&[0]), &[1, 2]);
    // t1: n0 = 0 - 127 * 2 = -254 -> saturates to -128 (wrapping would give +2);
    //     n1 = n2 = 0 - 127 * (2 - 1) = -127.
    m.step(&[]);
    assert_eq!([raw(&m, 0)[0], raw(&m, 1)[0], raw(&m, 2)[0]], [-128, -127, -127]);
    // t2..t9, no more spikes: n0 halves its magnitude with floor, sign kept:
    //   -64, -32, -16, -8, -4, -2, -1, 0.   n1: 127 / 2 = 63.5 -> -63, then -31, -15, ...
    let mut n0 = vec![];
    let mut n1 = vec![];
    for _ in 2..10 {
        m.step(&[]);
        n0.push(raw(&m, 0)[0]);
        n1.push(raw(&m, 1)[0]);
    }
    assert_eq!(n0, [-64, -32, -16, -8, -4, -2, -1, 0]);
    assert_eq!(n1, [-63, -31, -15, -7, -3, -1, 0, 0]);
    let mut f = float(&c, &[0, 255, 255]);
    f.step(&[0]);
    f.step(&[]);
    assert_reals(&[f.probe(0).v_mem, f.probe(1).v_mem], &[-8.0, -127.0 / 16.0]);
}

#[test]
fn inhibition_comes_from_other_neurons_of_the_previous_step() {
    // Inhibition 0.5 (raw 128 in sQ8.8). Input 0 fires neurons 0 and 1 (weight 0.75 >= 0.5),
    // not neuron 2 (weight 0).
    let mut c = base(1, 3);
    c.neuron.inhibition = 0.5;
    let w = [192, 192, 0];
    let mut m = fixed(&c, &w);
    assert_eq!(m.step(&[0]), &[0, 1]);
    // Same step: nobody is inhibited yet (n_prev was 0); spikers reset to 0.
    assert_eq!([raw(&m, 0)[0], raw(&m, 1)[0], raw(&m, 2)[0]], [0, 0, 0]);
    // t1: n_prev = 2. n0, n1: 0 - 128 * (2 - 1) = -128; n2: 0 - 128 * 2 = -256.
    m.step(&[]);
    assert_eq!([raw(&m, 0)[0], raw(&m, 1)[0], raw(&m, 2)[0]], [-128, -128, -256]);
    // t2: n_prev = 0, only decay: -64, -64, -128.
    m.step(&[]);
    assert_eq!([raw(&m, 0)[0], raw(&m, 1)[0], raw(&m, 2)[0]], [-64, -64, -128]);
    let mut f = float(&c, &w);
    f.step(&[0]);
    f.step(&[]);
    assert_reals(&[f.probe(0).v_mem, f.probe(2).v_mem], &[-0.5, -1.0]);
}

#[test]
fn reset_to_zero_or_by_subtracting_the_aligned_threshold() {
    // Weight 0.75 (raw 192), threshold 0.5. Threshold uQ4.4 here (raw 8), so the compare and
    // the subtraction shift it by 8 - 4 = 4: 8 << 4 = 128.
    let mut c = base(1, 1);
    c.formats.threshold = spec(8, 4, Rounding::Floor);
    // zero: t0 192 >= 128 spikes -> 0; t1: 0.
    let mut m = fixed(&c, &[192]);
    assert_eq!(m.step(&[0]), &[0]);
    assert_eq!(raw(&m, 0)[0], 0);
    // subtract: t0 192 - 128 = 64; t1 (no input) 64 / 2 = 32, below threshold.
    c.neuron.reset = Reset::Subtract;
    let mut m = fixed(&c, &[192]);
    assert_eq!(m.step(&[0]), &[0]);
    assert_eq!(raw(&m, 0)[0], 64);
    assert_eq!(m.step(&[]), &[] as &[u32]);
    assert_eq!(raw(&m, 0)[0], 32);
    let mut f = float(&c, &[192]);
    f.step(&[0]);
    assert_reals(&[f.probe(0).v_mem], &[0.25]);
}

#[test]
fn a_held_over_membrane_fires_without_input() {
    // Reset by subtraction, no leak to speak of (a = 65535), threshold 0.5 (raw 128),
    // weights 255 + 129 = 384 = 3 thresholds.
    let mut c = base(2, 1);
    c.neuron.reset = Reset::Subtract;
    c.neuron.tau_m_ms = TAU_HOLD;
    let mut m = fixed(&c, &[255, 129]);
    // t0: 384 spikes -> 256.
    // t1: 256 * 65535 >> 16 = 255.996 -> 255 >= 128 spikes -> 127.
    // t2: 127 * 65535 >> 16 = 126 < 128: silent.
    let spikes: Vec<Vec<u32>> =
        [&[0u32, 1][..], &[], &[]].iter().map(|p| m.step(p).to_vec()).collect();
    assert_eq!(spikes, [vec![0], vec![0], vec![]]);
    assert_eq!(raw(&m, 0)[0], 126);
}

#[test]
fn refractory_period_freezes_the_membrane_for_n_steps() {
    // refractory 3 ms at dt 1 ms = 3 steps; reset by subtraction; weight 255, threshold 128;
    // input 0 spikes on every step.
    let mut c = base(1, 1);
    c.neuron.refractory_ms = 3.0;
    c.neuron.reset = Reset::Subtract;
    let mut m = fixed(&c, &[255]);
    let mut spikes = vec![];
    let mut v = vec![];
    let mut refrac = vec![];
    let mut y1 = vec![];
    for t in 0..9u32 {
        if !m.step(&[0]).is_empty() {
            spikes.push(t);
        }
        let p = m.probe(0);
        v.push(raw(&m, 0)[0]);
        refrac.push(p.refrac);
        y1.push(raw(&m, 0)[2]);
    }
    // t0: 255 spikes -> 127, r = 3.
    // t1, t2, t3: r 3 -> 2 -> 1 -> 0; v held at 127: no decay, the input is lost, no spike.
    // t4: live: 127 / 2 = 63 (63.5 floor) + 255 = 318 spikes -> 190, r = 3.
    // t5..t7 held at 190; t8: 95 + 255 = 350 spikes -> 222.
    assert_eq!(spikes, [0, 4, 8]);
    assert_eq!(v, [127, 127, 127, 127, 190, 190, 190, 190, 222]);
    assert_eq!(refrac, [3, 2, 1, 0, 3, 2, 1, 0, 3]);
    // The post trace keeps decaying while refractory (§4.1 step 3 is unconditional):
    // 64, 32, 16, 8, then 4 + 64 = 68, 34, 17, 8 (8.5 floor), 4 + 64 = 68.
    assert_eq!(y1, [64, 32, 16, 8, 68, 34, 17, 8, 68]);
    // Float: the same spike train.
    let mut f = float(&c, &[255]);
    let fs: Vec<u32> = (0..9).filter(|_| !f.step(&[0]).is_empty()).collect();
    assert_eq!(fs, [0, 4, 8]);
}

#[test]
fn zero_length_refractory_allows_consecutive_spikes() {
    // refractory 0.4 ms at dt 1 ms: round(0.4) = 0 steps -> a spike on every driven step.
    let mut c = base(1, 1);
    c.neuron.refractory_ms = 0.4;
    assert_eq!(build(&c).k.refractory_steps, 0);
    let mut m = fixed(&c, &[255]);
    let n = (0..6).filter(|_| !m.step(&[0]).is_empty()).count();
    assert_eq!(n, 6);
    // 0.6 ms rounds to 1 step: every other step.
    c.neuron.refractory_ms = 0.6;
    let mut m = fixed(&c, &[255]);
    let s: Vec<u32> = (0..6).filter(|_| !m.step(&[0]).is_empty()).collect();
    assert_eq!(s, [0, 2, 4]);
}

// ---------------------------------------------------------------------------------------------
// §4.1 Adaptive threshold.

#[test]
fn adaptive_threshold_rises_per_spike_and_decays() {
    // theta0 0.5 (raw 128), step 0.25 (raw 64), a = 32768; inputs: 0 (weight 255) and
    // 1 (weight 150, above theta0 but below theta0 + the rise).
    let mut c = base(2, 1);
    c.homeostasis.adaptive_threshold = true;
    c.homeostasis.theta_step = 0.25;
    let mut m = fixed(&c, &[255, 150]);
    let mut theta = vec![];
    let mut spikes = vec![];
    for (t, pre) in [&[0u32][..], &[1], &[], &[], &[0], &[]].iter().enumerate() {
        if !m.step(pre).is_empty() {
            spikes.push(t);
        }
        theta.push(raw(&m, 0)[1]);
    }
    // t0: theta_a = 0 -> theta 128; 255 spikes; theta_a := 64.
    // t1: theta_a = 32 -> theta 160; v = 150 < 160: no spike (theta0 alone would fire).
    // t2: 16 -> 144. t3: 8 -> 136 (v: 75, 37).
    // t4: 4 -> 132; v = 18 + 255 = 273 spikes; theta_a := 4 + 64 = 68.
    // t5: 34 -> 162.
    assert_eq!(theta, [128, 160, 144, 136, 132, 162]);
    assert_eq!(spikes, [0, 4]);
    let mut f = float(&c, &[255, 150]);
    let mut ft = vec![];
    for pre in [&[0u32][..], &[1], &[], &[], &[0], &[]] {
        f.step(pre);
        ft.push(f.probe(0).theta);
    }
    assert_reals(&ft, &[0.5, 0.625, 0.5625, 0.53125, 0.515625, 0.6328125]);
}

#[test]
fn adaptive_threshold_saturates_at_its_format() {
    // Threshold uQ2.8 (raw 0..1023), theta0 1.0 (256), step 2.0 (512), no decay to speak of
    // (a = 65535). Weights uQ6.2, 63.75 (raw 255): v = 255 << 6 = 16320 fires every step.
    let mut c = base(1, 1);
    c.formats.threshold = spec(10, 8, Rounding::Floor);
    c.formats.weight = spec(8, 2, Rounding::Floor);
    c.plasticity.w_max = 63.75;
    c.neuron.threshold = 1.0;
    c.homeostasis.adaptive_threshold = true;
    c.homeostasis.theta_step = 2.0;
    c.homeostasis.tau_theta_ms = TAU_HOLD;
    let mut m = fixed(&c, &[255]);
    let mut theta = vec![];
    for _ in 0..4 {
        assert_eq!(m.step(&[0]), &[0]);
        theta.push(raw(&m, 0)[1]);
    }
    // t0: theta 256; theta_a := 512.
    // t1: 512 * 65535 >> 16 = 511 -> theta 767; theta_a := sat(511 + 512 = 1023) = 1023.
    // t2: 1023 * 65535 >> 16 = 1022 -> theta = sat(256 + 1022 = 1278) = 1023;
    //     theta_a := sat(1534) = 1023.
    // t3: as t2.
    assert_eq!(theta, [256, 767, 1023, 1023]);
    let mut f = float(&c, &[255]);
    for _ in 0..4 {
        f.step(&[0]);
    }
    assert_reals(&[f.probe(0).theta], &[1023.0 / 256.0]);
}

// ---------------------------------------------------------------------------------------------
// §4.2, §4.4 Traces.

#[test]
fn all_to_all_traces_add_and_saturate() {
    // Traces uQ2.6 (raw 0..255), increment 1.0 (raw 64), a = 65535. Input 0 spikes and the
    // neuron fires on every step, so x1 and y1 follow the same arithmetic.
    let mut c = base(1, 1);
    c.traces.tau_plus_ms = TAU_HOLD;
    c.traces.tau_minus_ms = TAU_HOLD;
    let mut m = fixed(&c, &[255]);
    let mut x1 = vec![];
    let mut y1 = vec![];
    for _ in 0..6 {
        assert_eq!(m.step(&[0]), &[0]);
        x1.push(m.pre_traces_raw().0[0]);
        y1.push(raw(&m, 0)[2]);
    }
    // 0 + 64 = 64; 63 + 64 = 127; 126 + 64 = 190; 189 + 64 = 253;
    // 252 + 64 = 316 -> 255; 254 + 64 -> 255.
    assert_eq!(x1, [64, 127, 190, 253, 255, 255]);
    assert_eq!(y1, [64, 127, 190, 253, 255, 255]);
    let mut f = float(&c, &[255]);
    for _ in 0..6 {
        f.step(&[0]);
    }
    assert_reals(&[f.pre_traces()[0], f.probe(0).trace_y1], &[255.0 / 64.0, 255.0 / 64.0]);
}

#[test]
fn nearest_traces_are_set_to_the_increment() {
    // Pairing nearest, a = 32768: a spike sets the trace to 64 whatever it held.
    let mut c = base(1, 1);
    c.traces.pairing = Pairing::Nearest;
    let mut m = fixed(&c, &[255]);
    let mut x1 = vec![];
    let mut y1 = vec![];
    for pre in [&[0u32][..], &[0], &[], &[0], &[], &[]] {
        m.step(pre);
        x1.push(m.pre_traces_raw().0[0]);
        y1.push(raw(&m, 0)[2]);
    }
    // t0 64; t1 32 -> set 64 (all-to-all would give 96); t2 32; t3 16 -> 64; t4 32; t5 16.
    assert_eq!(x1, [64, 64, 32, 64, 32, 16]);
    assert_eq!(y1, [64, 64, 32, 64, 32, 16]);
}

#[test]
fn traces_decay_with_their_own_factor() {
    // x1 with a = 32768 (floor); y1 with tau 20 -> a = 62340 (floor).
    let mut c = base(1, 1);
    c.traces.tau_minus_ms = 20.0;
    let mut m = fixed(&c, &[255]);
    m.step(&[0]);
    let mut x1 = vec![];
    let mut y1 = vec![];
    for _ in 0..3 {
        m.step(&[]);
        x1.push(m.pre_traces_raw().0[0]);
        y1.push(raw(&m, 0)[2]);
    }
    // x1: 64 -> 32 -> 16 -> 8.
    // y1: 64 * 62340 = 3_989_760 >> 16 = 60.88 -> 60; 60 * 62340 >> 16 = 57.07 -> 57;
    //     57 * 62340 >> 16 = 54.22 -> 54.
    assert_eq!(x1, [32, 16, 8]);
    assert_eq!(y1, [60, 57, 54]);
}

// ---------------------------------------------------------------------------------------------
// §4.3 Pair STDP.

#[test]
fn pair_pre_before_post_potentiates() {
    let c = stdp_bench(RuleName::from("pair"), WeightDependence::Additive);
    let w0 = [64, 192]; // 0.25 (test), 0.75 (driver)
    let mut m = fixed(&c, &w0);
    // t0: P = {0}: v = 64 < 128. Depression with y1 = 0: dep = 0, round(0 - 0, 4) = 0.
    assert_eq!(m.step(&[0]), &[] as &[u32]);
    assert_eq!(m.weights_raw(), [64, 192]);
    // t1: P = {1}: x1_0 = 64 / 2 = 32; v = 32 + 192 = 224 spikes.
    //   i = 0: x1' = 32: pot = 32 * 256 >> 6 = 128; dep = 0 (0 not in P);
    //          w = 64 + (128 >> 4) = 64 + 8 = 72          (real: 0.5 * 0.0625 = 8/256)
    //   i = 1: x1' = bump(0) = 64: pot = 64 * 256 >> 6 = 256; dep = y1 (0) ... = 0;
    //          w = 192 + 16 = 208
    assert_eq!(m.step(&[1]), &[0]);
    assert_eq!(m.weights_raw(), [72, 208]);
    let mut f = float(&c, &w0);
    f.step(&[0]);
    f.step(&[1]);
    assert_reals(&f.weights(), &[72.0 / 256.0, 208.0 / 256.0]);
}

#[test]
fn pair_post_before_pre_depresses() {
    let c = stdp_bench(RuleName::from("pair"), WeightDependence::Additive);
    let w0 = [64, 192];
    let mut m = fixed(&c, &w0);
    // t0: P = {1} fires the neuron: w1 = 192 + 16 = 208; w0: pot = 0 (x1_0 = 0) -> 64.
    //     y1 := 64.
    assert_eq!(m.step(&[1]), &[0]);
    assert_eq!(m.weights_raw(), [64, 208]);
    // t1: P = {0}: v = 0 + 64 < 128; y1 = 32; dep = 32 * 128 >> 6 = 64;
    //     w0 = 64 + floor(-64 / 16) = 60                  (real: 0.5 * 0.03125 = 4/256)
    assert_eq!(m.step(&[0]), &[] as &[u32]);
    assert_eq!(m.weights_raw(), [60, 208]);
    let mut f = float(&c, &w0);
    f.step(&[1]);
    f.step(&[0]);
    assert_reals(&f.weights(), &[60.0 / 256.0, 208.0 / 256.0]);
}

#[test]
fn pair_same_step_pre_and_post_is_pre_before_post() {
    let c = stdp_bench(RuleName::from("pair"), WeightDependence::Additive);
    let w0 = [64, 192];
    let mut m = fixed(&c, &w0);
    // t0: P = {0, 1}: v = 256 spikes.
    //   i = 0: x1' = bump(0) = 64: pot = 256; dep reads y1 before this post spike = 0.
    //          w0 = 64 + 16 = 80. (Counting the post spike first would add
    //          dep = 64 * 128 >> 6 = 128 and give 64 + (128 >> 4) = 72.)
    //   i = 1: the same: 192 + 16 = 208.
    assert_eq!(m.step(&[0, 1]), &[0]);
    assert_eq!(m.weights_raw(), [80, 208]);
    // t1: P = {0, 1} again. x1 = 32 -> x1' = 96; y1 = 64 / 2 = 32 (the t0 post spike, before
    //     the t1 one). v = 0 + 80 + 208 = 288 spikes.
    //   i = 0: pot = 96 * 256 >> 6 = 384; dep = 32 * 128 >> 6 = 64; w0 = 80 + (320 >> 4) = 100
    //   i = 1: same terms: 208 + 20 = 228
    assert_eq!(m.step(&[0, 1]), &[0]);
    assert_eq!(m.weights_raw(), [100, 228]);
    let mut f = float(&c, &w0);
    f.step(&[0, 1]);
    f.step(&[0, 1]);
    assert_reals(&f.weights(), &[100.0 / 256.0, 228.0 / 256.0]);
}

#[test]
fn additive_update_is_clamped_to_the_bounds() {
    // w_min 0.0625 (raw 16), w_max 0.875 (raw 224).
    let mut c = stdp_bench(RuleName::from("pair"), WeightDependence::Additive);
    c.plasticity.w_min = 0.0625;
    c.plasticity.w_max = 0.875;
    let w0 = [18, 220];
    let mut m = fixed(&c, &w0);
    // t0: P = {1} fires: w1 = 220 + 16 = 236 -> 224. w0: pot 0 -> 18. y1 := 64.
    m.step(&[1]);
    assert_eq!(m.weights_raw(), [18, 224]);
    // t1: P = {0}: v = 18, silent. y1 = 32: dep 64 -> 18 - 4 = 14 -> 16.
    m.step(&[0]);
    assert_eq!(m.weights_raw(), [16, 224]);
    // t2: P = {1}: v = 9 + 224 = 233 fires. x1_0 = 64 / 2 = 32 -> pot 128 -> 16 + 8 = 24.
    //     x1_1: 64 at t0, 32, 16 at t2 -> bump 80: pot = 80 * 256 >> 6 = 320; y1 = 16 is not
    //     read (1 in P: dep = 16 * 128 >> 6 = 32): (320 - 32) >> 4 = 18 -> 224 + 18 -> 224.
    m.step(&[1]);
    assert_eq!(m.weights_raw(), [24, 224]);
    let mut f = float(&c, &w0);
    for p in [&[1u32][..], &[0], &[1]] {
        f.step(p);
    }
    assert_reals(&f.weights(), &[24.0 / 256.0, 224.0 / 256.0]);
}

#[test]
fn multiplicative_update_vanishes_at_the_bounds() {
    // Soft bounds: pot * (w_max - w) - dep * (w - w_min), >> 12. w_min 16, w_max 224.
    let mut c = stdp_bench(RuleName::from("pair"), WeightDependence::Multiplicative);
    c.plasticity.w_min = 0.0625;
    c.plasticity.w_max = 0.875;
    // At the bounds: test synapse at w_min, driver at w_max.
    let mut m = fixed(&c, &[16, 224]);
    // t0: P = {1} fires: w1: 256 * (224 - 224) = 0 -> stays 224 (additive: +16, clamped).
    m.step(&[1]);
    // t1: P = {0}: dep = 64: -(64 * (16 - 16)) = 0 -> stays 16.
    m.step(&[0]);
    assert_eq!(m.weights_raw(), [16, 224]);
    // In between the update is proportional to the distance to the bound.
    let mut m = fixed(&c, &[120, 192]);
    // t0: P = {1} fires: w1: 256 * (224 - 192) = 8192 >> 12 = 2 -> 194.
    //     w0: pot 0 -> 0 * (224 - 120) = 0 -> 120.
    m.step(&[1]);
    assert_eq!(m.weights_raw(), [120, 194]);
    // t1: P = {0}: v = 120, silent; dep = 64: -(64 * (120 - 16)) = -6656 >> 12
    //     = floor(-1.625) = -2 -> 118.   (real: 0.5 * 0.03125 * (120 - 16) = 1.625 LSB)
    m.step(&[0]);
    assert_eq!(m.weights_raw(), [118, 194]);
    let mut f = float(&c, &[120, 192]);
    f.step(&[1]);
    f.step(&[0]);
    assert_reals(&f.weights(), &[(120.0 - 1.625) / 256.0, 194.0 / 256.0]);
    // Pre before post in between: t0 P = {0} (v = 120, silent; y1 = 0: no change);
    // t1 P = {1}: v = 60 + 192 fires; x1_0 = 32: pot = 128: 128 * (224 - 120) = 13312 >> 12
    // = 3.25 -> 3 -> 123.
    let mut m = fixed(&c, &[120, 192]);
    m.step(&[0]);
    m.step(&[1]);
    assert_eq!(m.weights_raw(), [123, 194]);
}

#[test]
fn triplet_terms_read_the_other_trace_before_the_current_spike() {
    // A3+ = 0.125 (raw 512), A3- = 0.0625 (raw 256); traces halve every step.
    let mut c = stdp_bench(RuleName::from("triplet"), WeightDependence::Additive);
    c.plasticity.a3_plus = 0.125;
    c.plasticity.a3_minus = 0.0625;
    let w0 = [64, 192];
    let mut m = fixed(&c, &w0);
    // t0: P = {1} fires. i = 1: x1' = 64, y2 = 0 -> bracket 256 -> pot 256; y1 = 0 -> dep 0.
    //     w1 = 192 + 16 = 208. Then y1 = y2 = 64, x1_1 = x2_1 = 64.
    assert_eq!(m.step(&[1]), &[0]);
    assert_eq!(m.weights_raw(), [64, 208]);
    // t1: P = {1} fires again (0 + 208). Decayed: x1_1 = x2_1 = 32, y1 = y2 = 32.
    //   pot: x1' = bump(32) = 96; bracket = 256 + (512 * y2 = 32 >> 6 = 256) = 512;
    //        pot = 96 * 512 >> 6 = 768
    //   dep: y1 = 32; bracket = 128 + (256 * x2 = 32 >> 6 = 128) = 256; dep = 32 * 256 >> 6 = 128
    //   w1 = 208 + ((768 - 128) >> 4) = 208 + 40 = 248.
    //   (y2 after the current post spike, 96, would give pot 1536 and w1 = 255 (clamped);
    //    x2 after the current pre spike, 96, would give dep 256 and w1 = 240.)
    assert_eq!(m.step(&[1]), &[0]);
    assert_eq!(m.weights_raw(), [64, 248]);
    assert_eq!(raw(&m, 0)[3], 96, "y2 = 32 + 64 after the spike");
    assert_eq!(m.pre_traces_raw().1[1], 96, "x2 = 32 + 64 after the spike");
    // Float: pot = 1.5 * (0.0625 + 0.125 * 0.5) = 0.1875, dep = 0.5 * (0.03125 + 0.0625 * 0.5)
    // = 0.03125: dw = 0.15625 = 40/256.
    let mut f = float(&c, &w0);
    f.step(&[1]);
    f.step(&[1]);
    assert_reals(&f.weights(), &[64.0 / 256.0, 248.0 / 256.0]);
}

#[test]
fn stdp_bracket_saturates_at_16_bits() {
    // min(A2+ + ((A3+ * y2) >> y2.frac), 0xFFFF): 60000 + (60000 * 64 >> 6) = 120000 -> 65535;
    // pot = x1 (64) * 65535 >> 6 = 65535.
    let mut c = stdp_bench(RuleName::from("triplet"), WeightDependence::Additive);
    c.formats.weight = spec(8, 8, Rounding::Floor);
    let (a2, a3) = (60000.0 / 65536.0, 60000.0 / 65536.0);
    (c.plasticity.a_plus, c.plasticity.a_minus) = (a2, a2);
    (c.plasticity.a3_plus, c.plasticity.a3_minus) = (a3, a3);
    c.plasticity.amplitude_frac = Some(16);
    let net = build(&c);
    assert_eq!(net.param_raw("a_plus"), Some(60000));
    let s = RuleFixed::new(net.rule.as_ref().expect("plastic"), net.k.w_min, net.k.w_max);
    // Slots: x1, x2 before the pre bump; x1, x2 after it; y1; y2.
    let v = |x1p: i64, y2: i64, y1: i64, x2: i64| [0, x2, x1p, 0, y1, y2];
    assert_eq!(s.product(0, &v(64, 64, 0, 0)), 65535);
    assert_eq!(s.product(1, &v(0, 0, 64, 64)), 65535);
    // y2 = 0: the bracket is A2+ alone: 64 * 60000 >> 6 = 60000.
    assert_eq!(s.product(0, &v(64, 0, 0, 0)), 60000);
    // apply: w = 10 + ((65535 - 0) >> 8) = 10 + 255 = 265 -> clamped to 255.
    assert_eq!(s.apply(10, (65535, 0), &mut Lfsr::new(1)), 255);
    assert_eq!(s.apply(10, (-65535, 0), &mut Lfsr::new(1)), 0);
}

// ---------------------------------------------------------------------------------------------
// §4.6 Synaptic scaling.

#[test]
fn scaling_factor_below_at_and_above_target() {
    // 10 Hz x 1000 steps = 10 spikes: T = 2560; gain 0.5: g = round(0.05 * 65536) = 3277.
    let mut c = base(1, 1);
    c.homeostasis.scaling = true;
    c.homeostasis.target_rate_hz = 10.0;
    c.homeostasis.scaling_period_steps = 1000;
    c.homeostasis.scaling_gain = 0.5;
    c.plasticity.w_min = 0.0625;
    let net = build(&c);
    let h = HomeostasisFixed::new(&net);
    // s = clamp(16384 + ((3277 * (2560 - (c << 8))) >> 10), 0, 65535):
    //   c = 10: err 0 -> 16384 (1.0)
    //   c = 0:  3277 * 2560 = 8_389_120 >> 10 = 8192.5 -> 8192 -> 24576 (1.5)
    //   c = 5:  3277 * 1280 = 4_194_560 >> 10 = 4096.25 -> 4096 -> 20480 (1.25)
    //   c = 20: 3277 * -2560 >> 10 = floor(-8192.5) = -8193 -> 8191 (0.49994)
    //   c = 40: 3277 * -7680 >> 10 = floor(-24577.5) = -24578 -> -8194 -> clamp 0
    for (count, want) in [(10, 16384), (0, 24576), (5, 20480), (20, 8191), (40, 0)] {
        assert_eq!(h.factor(count), want, "factor({count})");
    }
    // w' = clamp(round(w * s, 14), w_min = 16, w_max = 255):
    //   100 * 24576 >> 14 = 150; 101 * 8191 = 827_291 >> 14 = 50.49 -> 50;
    //   200 * 24576 >> 14 = 300 -> 255; 100 * 0 -> 0 -> 16.
    let mut l = Lfsr::new(1);
    assert_eq!(h.scale(100, 24576, &mut l), 150);
    assert_eq!(h.scale(101, 8191, &mut l), 50);
    assert_eq!(h.scale(200, 24576, &mut l), 255);
    assert_eq!(h.scale(100, 0, &mut l), 16);
    // Upper clamp: gain 5 -> g = round(0.5 * 65536) = 32768;
    // c = 0: 32768 * 2560 >> 10 = 81920 -> 98304 -> 65535.
    c.homeostasis.scaling_gain = 5.0;
    let net = build(&c);
    assert_eq!(HomeostasisFixed::new(&net).factor(0), 65535);
    // Float: 1 + gain (T - c) / T, clamped to [0, 65535 / 16384].
    let hf = HomeostasisFloat::new(&net);
    assert_eq!(hf.factor(0), 65535.0 / 16384.0);
    assert_eq!(hf.factor(10), 1.0);
    assert_eq!(hf.factor(12), 0.0);
    c.homeostasis.scaling_gain = 0.5;
    let hf = HomeostasisFloat::new(&build(&c));
    assert_eq!((hf.factor(0), hf.factor(20), hf.factor(40)), (1.5, 0.5, 0.0));
}

#[test]
fn scaling_happens_at_the_end_of_each_period_and_resets_the_count() {
    // Period 4 steps; 250 Hz x 4 ms = 1 spike: T = 256; gain 0.5: g = 0.5 / 1 * 65536 = 32768.
    //   factor(0) = 16384 + (32768 * 256 >> 10 = 8192) = 24576 (x 1.5)
    //   factor(1) = 16384 (x 1)
    //   factor(2) = 16384 + (32768 * -256 >> 10 = -8192) = 8192 (x 0.5)
    let mut c = base(1, 1);
    c.homeostasis.scaling = true;
    c.homeostasis.scaling_period_steps = 4;
    c.homeostasis.target_rate_hz = 250.0;
    c.homeostasis.scaling_gain = 0.5;
    let net = build(&c);
    assert_eq!((net.k.scale_target, net.k.scale_gain), (256, 32768));
    let mut m = fixed(&c, &[200]);
    let stim: [&[u32]; 12] = [&[0], &[0], &[], &[], &[], &[], &[], &[], &[0], &[], &[], &[]];
    let mut w = vec![];
    for pre in stim {
        m.step(pre);
        w.push(m.weights_raw()[0]);
    }
    // t0, t1: 200 >= 128 fires twice; t3 ends the period: 200 * 8192 >> 14 = 100.
    // t4..t7: silent; t7: 100 * 24576 >> 14 = 150.
    // t8: 150 fires once; t11: x 1 -> 150.
    assert_eq!(w, [200, 200, 200, 100, 100, 100, 100, 150, 150, 150, 150, 150]);
    let mut f = float(&c, &[200]);
    let mut fw = vec![];
    for pre in stim {
        f.step(pre);
        fw.push(f.weights()[0] * 256.0);
    }
    assert_reals(&fw, &[200., 200., 200., 100., 100., 100., 100., 150., 150., 150., 150., 150.]);
}

#[test]
fn spike_count_saturates_at_65535() {
    // One period of 70000 steps, the neuron firing on every one: the count stops at 65535.
    // Weights uQ8.8 (w = raw 65535); target 1 Hz x 70 s = 70 spikes: T = 17920;
    // gain = 70 / 65536 so that g = round(gain / 70 * 65536) = 1.
    //   saturated, c = 65535: (17920 - 65535 * 256 = -16_759_040) >> 10 = floor(-16366.25)
    //     = -16367 -> s = 17 -> w = 65535 * 17 >> 14 = 67.99 -> 67
    //   wrapped, c = 70000 - 65536 = 4464: floor(-1098.5) = -1099 -> s = 15285 -> 61139
    //   not saturated, c = 70000: floor(-17482.5) -> s < 0 -> 0 -> w = 0
    let mut c = base(1, 1);
    c.formats.weight = spec(16, 8, Rounding::Floor);
    c.plasticity.w_max = 65535.0 / 256.0;
    c.homeostasis.scaling = true;
    c.homeostasis.scaling_period_steps = 70_000;
    c.homeostasis.target_rate_hz = 1.0;
    c.homeostasis.scaling_gain = 70.0 / 65536.0;
    let net = build(&c);
    assert_eq!((net.k.scale_target, net.k.scale_gain), (17920, 1));
    let mut m = FixedModel::with_weights(&net, &[65535]);
    for _ in 0..70_000 {
        m.step(&[0]);
    }
    assert_eq!(m.weights_raw(), [67]);
}

// ---------------------------------------------------------------------------------------------
// §2.1 Which LFSR each rounding draws from, in which order.

#[test]
fn each_neuron_rounds_its_membrane_with_its_own_lfsr() {
    // Three neurons, membrane rounding stochastic, nothing else stochastic: one draw per
    // neuron per step, from the LFSR seeded S ^ ((j + 1) * 0x9E3779B9).
    let seed = 0x1234_5678;
    let mut c = base(1, 3);
    c.network.seed = seed;
    c.neuron.tau_m_ms = 20.0;
    c.neuron.threshold = 100.0;
    c.formats.membrane.rounding = Rounding::Stochastic;
    let net = build(&c);
    let a = net.k.decay_v;
    assert_eq!(a, 62340);
    let mut m = FixedModel::with_weights(&net, &[100, 100, 100]);
    // Expected: t0 decay(0) + 100 = 100 (the draw adds < 1 LSB to 0); then decays only.
    let expect = |lfsr: RefLfsr| {
        let mut l = lfsr;
        let mut v = l.decay(0, a) + 100;
        let mut out = vec![v];
        for _ in 1..16 {
            v = l.decay(v, a);
            out.push(v);
        }
        out
    };
    let want: Vec<Vec<i64>> = (0..3).map(|j| expect(RefLfsr::neuron(seed, j))).collect();
    let mut got = vec![vec![]; 3];
    for t in 0..16 {
        m.step(if t == 0 { &[0] } else { &[] });
        for (j, g) in got.iter_mut().enumerate() {
            g.push(raw(&m, j)[0]);
        }
    }
    assert_eq!(got, want);
    // The vectors tell the seeds apart (else this test could not catch a mix-up).
    assert_ne!(want[0], want[1]);
    assert_ne!(want[1], want[2]);
    assert_ne!(want[0], expect(RefLfsr::inputs(seed)));
}

#[test]
fn input_traces_round_with_the_input_lfsr_in_input_order() {
    // Triplet rule (x2 exists), x1 and x2 stochastic with different factors: per step the
    // input LFSR draws x1_0, x2_0, x1_1, x2_1, also while they are zero.
    let seed = 0xBEEF;
    let mut c = base(2, 1);
    c.network.seed = seed;
    c.plasticity.rule = RuleName::from("triplet");
    c.neuron.threshold = 100.0;
    c.traces.tau_plus_ms = 20.0;
    c.traces.tau_x_ms = 3.0;
    c.formats.trace_x1.rounding = Rounding::Stochastic;
    c.formats.trace_x2.rounding = Rounding::Stochastic;
    let net = build(&c);
    let (a1, a2) = (net.k.decay_x1, net.k.decay_x2);
    assert_eq!((a1, a2), (62340, 46959));
    let mut m = FixedModel::with_weights(&net, &[0, 0]);
    let mut l = RefLfsr::inputs(seed);
    let (mut x1, mut x2) = ([0i64; 2], [0i64; 2]);
    for t in 0..12u32 {
        let pre: &[u32] = match t {
            0 => &[0, 1],
            5 => &[1],
            _ => &[],
        };
        for i in 0..2 {
            x1[i] = l.decay(x1[i], a1);
            x2[i] = l.decay(x2[i], a2);
        }
        for &i in pre {
            x1[i as usize] = (x1[i as usize] + 64).min(255);
            x2[i as usize] = (x2[i as usize] + 64).min(255);
        }
        m.step(pre);
        let (g1, g2) = m.pre_traces_raw();
        let got = [g1[0] as i64, g1[1] as i64, g2[0] as i64, g2[1] as i64];
        assert_eq!(got, [x1[0], x1[1], x2[0], x2[1]], "step {t}: [x1_0, x1_1, x2_0, x2_1]");
    }
}

/// What the reference below gets wrong on purpose, to show the test can tell.
#[derive(Clone, Copy, PartialEq)]
enum Break {
    Nothing,
    /// Draw for the membrane while refractory.
    DrawWhenRefractory,
    /// Update a neuron's synapses in descending input order.
    DescendingInputs,
    /// Skip the draw of a weight update whose shift is zero.
    NoDrawAtShiftZero,
}

/// One step's observable state: spike, `[v, theta, y1, y2]`, the weights into the neuron.
type Observed = (bool, [i64; 4], Vec<i64>);

/// One neuron, several inputs, written from §4 with the neuron's roundings stochastic and the
/// input traces `floor`: membrane (draw 1, none while refractory), adaptive threshold (2), y1
/// (3), y2 (4, triplet), one draw per weight update in ascending input order (5), one per
/// synapse on a scaling step (6). No inhibition (one neuron).
fn reference_neuron(net: &Network, w0: &[i64], stim: &[Vec<bool>], bug: Break) -> Vec<Observed> {
    let (k, f, c) = (&net.k, &net.fmt, &net.cfg);
    let triplet = net.has_trace(Trace::X2);
    let a = |name: &str| net.param_raw(name).unwrap_or(0);
    let n = w0.len();
    let mut l = RefLfsr::neuron(k.seed, 0);
    let (mut v, mut theta_a, mut y1, mut y2) = (0i64, 0i64, 0i64, 0i64);
    let (mut r, mut count) = (0u32, 0i64);
    let (mut x1, mut x2, mut w) = (vec![0i64; n], vec![0i64; n], w0.to_vec());
    let order: Vec<usize> =
        if bug == Break::DescendingInputs { (0..n).rev().collect() } else { (0..n).collect() };
    let mut out = vec![];
    for (t, p) in stim.iter().enumerate() {
        // §4.2, floor: no draws.
        for i in 0..n {
            x1[i] = (x1[i] * k.decay_x1 as i64) >> 16;
            if triplet {
                x2[i] = (x2[i] * k.decay_x2 as i64) >> 16;
            }
        }
        // §4.1
        let live = r == 0;
        if r > 0 {
            r -= 1;
            if bug == Break::DrawWhenRefractory {
                l.draw();
            }
        } else {
            v = l.decay(v, k.decay_v);
            let sum: i64 = (0..n).filter(|&i| p[i]).map(|i| w[i]).sum();
            v = f.v.sat(v + (sum << (f.v.frac - f.w.frac)));
        }
        theta_a = l.decay(theta_a, k.decay_theta);
        let theta = f.theta.sat(k.theta0 + theta_a);
        y1 = l.decay(y1, k.decay_y1);
        if triplet {
            y2 = l.decay(y2, k.decay_y2);
        }
        let spike = live && v >= theta << (f.v.frac - f.theta.frac);
        if spike {
            v = 0;
            r = k.refractory_steps;
            theta_a = f.theta.sat(theta_a + k.theta_step);
            count += 1;
        }
        // §4.3
        for &i in &order {
            if !(spike || p[i]) {
                continue;
            }
            let x1p = if p[i] { f.x1.sat(x1[i] + k.inc_x1) } else { x1[i] };
            let bracket_p = (a("a_plus") + ((a("a3_plus") * y2) >> f.y2.frac)).min(0xFFFF);
            let bracket_d = (a("a_minus") + ((a("a3_minus") * x2[i]) >> f.x2.frac)).min(0xFFFF);
            let pot = if spike { (x1p * bracket_p) >> f.x1.frac } else { 0 };
            let dep = if p[i] { (y1 * bracket_d) >> f.y1.frac } else { 0 };
            let dw = match c.plasticity.weight_dependence {
                WeightDependence::Additive
                    if bug == Break::NoDrawAtShiftZero && f.amp.frac == f.w.frac =>
                {
                    pot - dep
                }
                WeightDependence::Additive => l.round(pot - dep, f.amp.frac - f.w.frac),
                WeightDependence::Multiplicative => {
                    l.round(pot * (k.w_max - w[i]) - dep * (w[i] - k.w_min), f.amp.frac)
                }
            };
            w[i] = (w[i] + dw).clamp(k.w_min, k.w_max);
        }
        // §4.4
        if spike {
            y1 = f.y1.sat(y1 + k.inc_y1);
            if triplet {
                y2 = f.y2.sat(y2 + k.inc_y2);
            }
        }
        for i in (0..n).filter(|&i| p[i]) {
            x1[i] = f.x1.sat(x1[i] + k.inc_x1);
            if triplet {
                x2[i] = f.x2.sat(x2[i] + k.inc_x2);
            }
        }
        // §4.6
        if (t + 1) % c.homeostasis.scaling_period_steps as usize == 0 {
            let err = k.scale_target - (count << 8);
            let s = (16384 + ((k.scale_gain * err) >> 10)).clamp(0, 65535);
            for &i in &order {
                w[i] = l.round(w[i] * s, 14).clamp(k.w_min, k.w_max);
            }
            count = 0;
        }
        out.push((spike, [v, theta, y1, y2], w.clone()));
    }
    out
}

/// Every neuron-side rounding stochastic, input traces floor, refractory 2 steps, adaptive
/// threshold, scaling every 20 steps, three inputs.
fn draw_order_bench(rule: RuleName, dependence: WeightDependence) -> Config {
    let mut c = base(3, 1);
    c.network.seed = 0xACE1;
    c.neuron.tau_m_ms = 20.0;
    c.neuron.refractory_ms = 2.0;
    c.homeostasis.adaptive_threshold = true;
    c.homeostasis.theta_step = 0.1;
    c.homeostasis.tau_theta_ms = 50.0;
    c.homeostasis.scaling = true;
    c.homeostasis.scaling_period_steps = 20;
    c.homeostasis.target_rate_hz = 150.0;
    c.homeostasis.scaling_gain = 0.2;
    c.traces.tau_minus_ms = 20.0;
    c.traces.tau_y_ms = 30.0;
    c.traces.tau_x_ms = 25.0;
    let triplet = rule.as_str() == "triplet";
    c.plasticity.rule = rule;
    c.plasticity.weight_dependence = dependence;
    c.plasticity.a_plus = 0.01;
    c.plasticity.a_minus = 0.004;
    if triplet {
        c.plasticity.a3_plus = 0.008;
        c.plasticity.a3_minus = 0.002;
    }
    c.formats.membrane.rounding = Rounding::Stochastic;
    c.formats.threshold.rounding = Rounding::Stochastic;
    c.formats.trace_y1.rounding = Rounding::Stochastic;
    c.formats.trace_y2.rounding = Rounding::Stochastic;
    c.formats.weight.rounding = Rounding::Stochastic;
    c
}

fn check_draw_order(c: Config, bugs: &[Break]) {
    let net = build(&c);
    let w0 = [70i64, 40, 90];
    let stim: Vec<Vec<bool>> = (0..80usize)
        .map(|t| (0..3).map(|i| (t * 7 + i * 3) % 5 < 2 || (t + i) % 11 == 0).collect())
        .collect();
    let want = reference_neuron(&net, &w0, &stim, Break::Nothing);
    let w_raw: Vec<u16> = w0.iter().map(|&w| w as u16).collect();
    let mut m = FixedModel::with_weights(&net, &w_raw);
    for (t, p) in stim.iter().enumerate() {
        let pre: Vec<u32> = (0..3).filter(|&i| p[i as usize]).collect();
        let spike = !m.step(&pre).is_empty();
        let w: Vec<i64> = m.weights_raw().into_iter().map(i64::from).collect();
        assert_eq!((spike, raw(&m, 0), w), want[t], "step {t}: (spike, [v, theta, y1, y2], w)");
    }
    // The scenario exercises what it checks: the neuron fires and goes refractory, the weights
    // move, and each deliberate mistake changes the trajectory.
    let spikes = want.iter().filter(|s| s.0).count();
    assert!(spikes >= 5, "only {spikes} spikes");
    assert!(want.iter().any(|s| s.2 != w0), "the weights never moved");
    for &bug in bugs {
        assert_ne!(want, reference_neuron(&net, &w0, &stim, bug));
    }
}

#[test]
fn a_neuron_draws_in_contract_order_pair_additive() {
    let bugs = [Break::DrawWhenRefractory, Break::DescendingInputs];
    check_draw_order(draw_order_bench(RuleName::from("pair"), WeightDependence::Additive), &bugs);
}

#[test]
fn a_neuron_draws_in_contract_order_triplet_multiplicative() {
    let bugs = [Break::DrawWhenRefractory, Break::DescendingInputs];
    check_draw_order(
        draw_order_bench(RuleName::from("triplet"), WeightDependence::Multiplicative),
        &bugs,
    );
}

#[test]
fn a_neuron_draws_for_a_weight_update_even_when_its_shift_is_zero() {
    // amplitude_frac = weight frac = 8: `round(pot - dep, 0)` adds nothing but still draws.
    let mut c = draw_order_bench(RuleName::from("pair"), WeightDependence::Additive);
    c.plasticity.amplitude_frac = Some(8);
    c.plasticity.a_plus = 0.05;
    c.plasticity.a_minus = 0.004;
    check_draw_order(c, &[Break::DrawWhenRefractory, Break::NoDrawAtShiftZero]);
}

// ---------------------------------------------------------------------------------------------
// §5.1, §5.2 Stimuli and initial weights.

#[test]
fn stimulus_file_duplicates_are_one_spike() {
    let text = "step,input\n# a comment\n\n0,1\n0,1\n 2 , 0 \n0,0\n";
    let s = Stimulus::parse_csv(text, "s.csv", 2, 0).unwrap();
    // Steps up to the last spike (2) -> 3 steps; each step a sorted set.
    assert_eq!(s.steps(), 3);
    assert_eq!(s.at(0), &[0, 1]);
    assert_eq!(s.at(1), &[] as &[u32]);
    assert_eq!(s.at(2), &[0]);
    assert_eq!(s.total_spikes(), 3);
}

#[test]
fn generated_pairing_stimulus_puts_each_input_at_its_offset_from_the_teacher() {
    // 3 inputs: 0 and 1 are tests with offsets -10 ms and +10 ms (evenly spaced from min to
    // max), 2 is the teacher; one pairing per 100 ms.
    let mut c = base(3, 1);
    c.stimulus.kind = StimulusKind::Pairing;
    c.stimulus.steps = 350;
    c.stimulus.pairing = Some(synforge_sim::stimulus::PairingSpec {
        offset_min_ms: -10.0,
        offset_max_ms: 10.0,
        period_ms: 100.0,
    });
    let net = build(&c);
    let s = net.cfg.stimulus.generate(&net.cfg).unwrap();
    assert_eq!(s.steps(), 350);
    let times = |i: u32| -> Vec<i64> {
        (0..350).filter(|&t| s.at(t).contains(&i)).map(i64::from).collect()
    };
    let teacher = times(2);
    assert!(teacher.len() >= 3, "{teacher:?}");
    assert!(teacher.windows(2).all(|w| w[1] - w[0] == 100), "one pairing per period: {teacher:?}");
    // t_pre = t_post - offset: input 0 (offset -10) fires 10 steps after the teacher, input 1
    // (offset +10) 10 steps before.
    for (i, offset) in [(0u32, -10i64), (1, 10)] {
        let want: Vec<i64> =
            teacher.iter().map(|&t| t - offset).filter(|&t| (0..350).contains(&t)).collect();
        assert_eq!(times(i), want, "input {i}");
    }
}

#[test]
fn generated_pattern_is_replayed_and_leaves_the_background_alone() {
    // 20 inputs at 50 Hz; a 50 ms pattern over the first half of the inputs every 200 ms.
    let mut c = base(20, 1);
    c.stimulus.steps = 1000;
    c.stimulus.seed = 3;
    c.stimulus.rate_hz = 50.0;
    let plain = build(&c);
    let plain = plain.cfg.stimulus.generate(&plain.cfg).unwrap();
    c.stimulus.pattern = Some(synforge_sim::stimulus::PatternSpec {
        fraction: 0.5,
        length_ms: 50.0,
        period_ms: 200.0,
    });
    let net = build(&c);
    let s = net.cfg.stimulus.generate(&net.cfg).unwrap();
    let part = |st: &Stimulus, t: u32, lo: u32, hi: u32| -> Vec<u32> {
        st.at(t).iter().copied().filter(|&i| lo <= i && i < hi).collect()
    };
    // Inputs 0..10 replay the same 50 steps at 0, 200, 400, 600, 800.
    for phase in 0..50 {
        let first = part(&s, phase, 0, 10);
        for k in 1..5 {
            assert_eq!(part(&s, phase + 200 * k, 0, 10), first, "phase {phase}, replay {k}");
        }
    }
    assert!((0..50).any(|t| !part(&s, t, 0, 10).is_empty()), "the pattern is not empty");
    // One draw per input per step: inputs 10..20 always, and inputs 0..10 outside the
    // replays, are the same Poisson trains with or without the pattern.
    for t in 0..1000 {
        assert_eq!(part(&s, t, 10, 20), part(&plain, t, 10, 20), "background, step {t}");
        if t % 200 >= 50 {
            assert_eq!(part(&s, t, 0, 10), part(&plain, t, 0, 10), "between replays, step {t}");
        }
    }
    // rate * dt per input per step: 50 Hz x 1 s x 20 inputs = 1000 expected (sd ~31).
    let n = plain.total_spikes();
    assert!((850..=1150).contains(&n), "{n} spikes");
}

#[test]
fn initial_weights_are_drawn_input_major_from_the_seed() {
    use rand::{Rng, SeedableRng};
    // §5.2: ChaCha8 seeded with seed ^ 0x57E16475, input-major, uniform in w_init ± spread,
    // clamped to [w_min, w_max]; the fixed model rounds them to nearest.
    let mut c = base(3, 4);
    c.network.seed = 77;
    c.plasticity.w_min = 0.1;
    c.plasticity.w_max = 0.5;
    c.plasticity.w_init = 0.3;
    c.plasticity.w_init_spread = 0.25;
    let net = build(&c);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(77 ^ 0x57E1_6475);
    let want: Vec<f64> =
        (0..12).map(|_| (0.3 + 0.25 * (2.0 * rng.random::<f64>() - 1.0)).clamp(0.1, 0.5)).collect();
    assert_reals(&FloatModel::new(&net).weights(), &want);
    assert!(want.contains(&0.1) && want.contains(&0.5), "the example reaches both bounds");
    let fixed = FixedModel::new(&net).weights_raw();
    let rounded: Vec<u16> = want.iter().map(|w| (w * 256.0).round() as u16).collect();
    assert_eq!(fixed, rounded);
}

// ---------------------------------------------------------------------------------------------
// §1 Format limits.

fn refusal(c: &Config) -> String {
    match c.build() {
        Ok(_) => panic!("expected the config to be refused"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn format_limits_are_enforced_with_the_documented_ranges() {
    let with = |edit: &dyn Fn(&mut Config)| {
        let mut c = base(1, 1);
        edit(&mut c);
        refusal(&c)
    };
    assert_eq!(
        with(&|c| c.formats.membrane = spec(3, 0, Rounding::Floor)),
        "config field `formats.membrane.width`: membrane width must be 4 to 32 bits, got 3"
    );
    assert_eq!(
        with(&|c| c.formats.membrane = spec(33, 8, Rounding::Floor)),
        "config field `formats.membrane.width`: membrane width must be 4 to 32 bits, got 33"
    );
    assert_eq!(
        with(&|c| c.formats.membrane = spec(16, 16, Rounding::Floor)),
        "config field `formats.membrane.frac`: the membrane is signed: frac must be below width"
    );
    assert_eq!(
        with(&|c| c.formats.weight = spec(17, 8, Rounding::Floor)),
        "config field `formats.weight.width`: weight width must be 2 to 16 bits, got 17"
    );
    assert_eq!(
        with(&|c| c.formats.weight = spec(8, 9, Rounding::Floor)),
        "config field `formats.weight.frac`: weight has 9 fraction bits but only 8 bits in all"
    );
    assert_eq!(
        with(&|c| c.formats.threshold = spec(1, 0, Rounding::Floor)),
        "config field `formats.threshold.width`: threshold width must be 2 to 32 bits, got 1"
    );
    assert_eq!(
        with(&|c| c.formats.trace_y2 = spec(17, 14, Rounding::Floor)),
        "config field `formats.trace_y2.width`: trace_y2 width must be 2 to 16 bits, got 17"
    );
    assert_eq!(
        with(&|c| c.formats.trace_x1 = spec(8, 3, Rounding::Floor)),
        "config field `formats.trace_x1.frac`: traces need 1 to 4 integer bits (width - frac), \
         got 5; use frac = width - 1 .. width - 4"
    );
    assert_eq!(
        with(&|c| c.formats.trace_y1 = spec(8, 8, Rounding::Floor)),
        "config field `formats.trace_y1.frac`: traces need 1 to 4 integer bits (width - frac), \
         got 0; use frac = width - 1 .. width - 4"
    );
    assert_eq!(
        with(&|c| c.formats.weight = spec(10, 10, Rounding::Floor)),
        "config field `formats.membrane.frac`: membrane frac (8) must be at least weight frac \
         (10) so weights add exactly"
    );
    assert_eq!(
        with(&|c| c.formats.threshold = spec(16, 9, Rounding::Floor)),
        "config field `formats.threshold.frac`: threshold frac (9) must not exceed membrane frac \
         (8) so the compare is exact"
    );
}

#[test]
fn the_narrowest_and_widest_formats_are_accepted_and_run() {
    // Narrowest: membrane sQ4.0, weight uQ2.0, threshold uQ2.0, traces uQ1.1.
    let mut narrow = base(2, 2);
    let f = &mut narrow.formats;
    f.membrane = spec(4, 0, Rounding::Nearest);
    f.weight = spec(2, 0, Rounding::Stochastic);
    f.threshold = spec(2, 0, Rounding::Floor);
    for t in [&mut f.trace_x1, &mut f.trace_x2, &mut f.trace_y1, &mut f.trace_y2] {
        *t = spec(2, 1, Rounding::Stochastic);
    }
    narrow.neuron.threshold = 1.0;
    narrow.plasticity.w_max = 3.0;
    narrow.plasticity.w_init = 1.0;
    narrow.plasticity.rule = RuleName::from("triplet");
    narrow.plasticity.a_plus = 0.5;
    narrow.plasticity.a3_minus = 0.25;
    // Widest: membrane sQ16.16, weight uQ0.16, threshold uQ16.16, traces uQ4.12.
    let mut wide = base(2, 2);
    let f = &mut wide.formats;
    f.membrane = spec(32, 16, Rounding::Stochastic);
    f.weight = spec(16, 16, Rounding::Nearest);
    f.threshold = spec(32, 16, Rounding::Stochastic);
    for t in [&mut f.trace_x1, &mut f.trace_x2, &mut f.trace_y1, &mut f.trace_y2] {
        *t = spec(16, 12, Rounding::Nearest);
    }
    wide.plasticity.w_max = 65535.0 / 65536.0;
    wide.plasticity.rule = RuleName::from("pair");
    wide.plasticity.a_plus = 0.01;
    wide.homeostasis.adaptive_threshold = true;
    wide.homeostasis.theta_step = 30000.0;
    for c in [narrow, wide] {
        let net = build(&c);
        let mut m = FixedModel::new(&net);
        let mut f = FloatModel::new(&net);
        for t in 0..200 {
            let pre: &[u32] = if t % 2 == 0 { &[0, 1] } else { &[] };
            m.step(pre);
            f.step(pre);
        }
        assert!(m.weights_raw().iter().all(|&w| (w as i64) <= net.k.w_max));
    }
}
