//! Learning: the examples and the built-in default network learn what they are meant to, in
//! both models, and the gap between the float reference and the bit-accurate model stays within
//! the bounds stated here (quoted in the README).
//!
//! - `examples/default.toml` is the built-in default network, and its neurons become detectors
//!   of the pattern hidden in its input; without the pattern, none does.
//! - `examples/song.toml` (Song, Miller & Abbott 2000) ends with bimodal weights.
//! - `examples/pairing.toml` traces the pair-STDP window.
//! - The triplet rule (Pfister & Gerstner 2006) potentiates more per pairing the faster the
//!   pairings repeat; the pair rule does not.
//!
//! Every bound is a named constant whose comment gives what was measured (for the Poisson
//! networks over many stimulus seeds); the bound leaves a margin. Every seed used is named in
//! the failure message.

use std::path::PathBuf;

use synforge_sim::compare::{compare, Distance};
use synforge_sim::config::{
    Config, FormatSpec, Network, Pairing, Reset, RuleName, WeightDependence,
};
use synforge_sim::format::{Decay, Rounding};
use synforge_sim::model::{FixedModel, FloatModel, Model};
use synforge_sim::pattern::{responses, Replay, Response};
use synforge_sim::run::{run, NoObserver, Record, WeightStats};
use synforge_sim::stimulus::{offset_of, Builder, Stimulus};

// ---------------------------------------------------------------------------------------------
// Bounds of the Poisson networks. "Seen" is what was measured over many stimulus seeds.

/// Spike-time coincidence window of every comparison, steps either side.
const WINDOW_STEPS: u32 = 2;

/// Built-in default network, `compare` over stimulus seeds [`DEFAULT_SEEDS`]: largest
/// `rate_error_rel` (sum of per-neuron spike-count differences over the float model's spikes).
/// Seen over stimulus seeds 1 to 256: mean 0.069, largest 0.189 (with the Poisson trains of
/// before issue 15, drawn per step: mean 0.064, largest 0.148).
const DEFAULT_MAX_RATE_ERROR_REL: f64 = 0.25;
/// Default network: largest per-neuron rate error, Hz (the mean rate is about 6 Hz). Seen:
/// mean 1.2 Hz, at most 2.85 Hz (before issue 15: at most 3.15 Hz).
const DEFAULT_MAX_RATE_ERROR_HZ: f64 = 4.0;
/// Default network: smallest correlation of the final weights. Seen: mean 0.73, smallest 0.35
/// (seed 250; every other seed of the 256 above 0.43, [`DEFAULT_SEEDS`] 0.58 to 0.90); before
/// issue 15: mean 0.75, smallest 0.51.
const DEFAULT_MIN_WEIGHT_CORRELATION: f64 = 0.4;
/// Default network: smallest spike agreement (the fraction of spikes with a partner within
/// [`WINDOW_STEPS`] in the other model). Seen: mean 0.54, smallest 0.30 (before issue 15: mean
/// 0.56, smallest 0.31).
const DEFAULT_MIN_SPIKE_AGREEMENT: f64 = 0.25;

/// Song network, `compare`: largest `rate_error_rel`. Seen over 16 seeds: largest 0.05.
const SONG_MAX_RATE_ERROR_REL: f64 = 0.1;
/// Song network: smallest correlation of the final weights. Seen: smallest 0.86.
const SONG_MIN_WEIGHT_CORRELATION: f64 = 0.75;
/// Song network: largest final-weight RMSE over `w_max - w_min`. Seen: largest 0.20.
const SONG_MAX_WEIGHT_RMSE_REL: f64 = 0.3;
/// Song network: each outer tenth of `[w_min, w_max]` holds at least this fraction of the
/// weights at the end, in both models. Seen: lowest tenth 0.50 to 0.54, highest 0.14 to 0.17.
const SONG_MIN_TAIL: f64 = 0.1;
/// Song network: both outer tenths together hold at least this fraction. Seen: 0.65 to 0.70.
const SONG_MIN_TAILS: f64 = 0.55;

/// Default network: each model has at least this many responding neurons (of 16), for all but
/// [`MAX_SEEDS_WITH_FEW`] seeds of [`DEFAULT_SEEDS`]. Seen over stimulus seeds 1 to 256, both
/// models: mean 8.9 (the fewer of the two), at least 3 for 244 seeds, 2 for 7, and 5 patterns
/// (seeds 2, 17, 45, 85, 222) leave one model with 0 or 1. With the Poisson trains of before
/// issue 15, on the same code: mean 9.1, 246, 4 and 6. So about one pattern in 50 is one that
/// few neurons pick up.
const MIN_PATTERN_NEURONS: usize = 2;
/// How many of the [`DEFAULT_SEEDS`] may fall short of [`MIN_PATTERN_NEURONS`]: at one pattern
/// in 50, all 8 seeds pass about 85 % of the time and all but one about 99 %. (Seed 2 falls
/// short since issue 15's trains.)
const MAX_SEEDS_WITH_FEW: usize = 1;
/// Responding neurons: mean weight, over `w_max`, of the pattern inputs that fire in the
/// [`CAUSAL_MS`] before the neuron's median response phase. Seen: at least 0.62 (0.59 before
/// issue 15).
const MIN_CAUSAL_WEIGHT: f64 = 0.55;
/// Responding neurons: mean weight, over `w_max`, of the inputs outside the pattern (they
/// started at 0.6). Seen: at most 0.54 (0.51 before issue 15).
const MAX_NON_PATTERN_WEIGHT: f64 = 0.55;
/// Responding neurons: causal minus non-pattern weight, over `w_max`. Seen: at least 0.26 (0.22
/// before issue 15).
const MIN_CAUSAL_MARGIN: f64 = 0.15;
/// How far back from its response a pattern input counts as causal, ms.
const CAUSAL_MS: f64 = 15.0;

/// Stimulus seeds the default network is checked with: the built-in one (7) and others.
const DEFAULT_SEEDS: [u64; 8] = [7, 1, 2, 3, 4, 5, 6, 8];

// ---------------------------------------------------------------------------------------------
// Helpers.

fn example(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples")).join(name)
}

fn load(name: &str) -> Config {
    let path = example(name);
    Config::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn build(cfg: &Config) -> Network {
    cfg.build().unwrap_or_else(|e| panic!("config `{}` is invalid: {e}", cfg.network.name))
}

/// A finished run: its record and final weights (real, input-major).
struct Run {
    record: Record,
    weights: Vec<f64>,
}

fn finish(model: &mut dyn Model, stim: &Stimulus) -> Run {
    let record = run(model, stim, &mut NoObserver);
    Run { record, weights: model.weights() }
}

/// Both models over the same stimulus, side by side: `(fixed, float)`.
fn run_both(mut fixed: FixedModel, mut float: FloatModel, stim: &Stimulus) -> (Run, Run) {
    std::thread::scope(|s| {
        let f = s.spawn(|| finish(&mut fixed, stim));
        let g = finish(&mut float, stim);
        (f.join().expect("fixed model panicked"), g)
    })
}

fn run_config(cfg: &Config) -> (Network, Stimulus, Run, Run) {
    let net = build(cfg);
    let stim = cfg.stimulus.generate(cfg).expect("stimulus");
    let (fixed, float) = run_both(FixedModel::new(&net), FloatModel::new(&net), &stim);
    (net, stim, fixed, float)
}

// ---------------------------------------------------------------------------------------------
// The built-in default network.

#[test]
fn default_toml_is_the_builtin_default() {
    assert_eq!(load("default.toml"), Config::builtin_default());
}

/// For the responding neurons of a run: mean over them of (causal weight, non-pattern weight),
/// each over `w_max`.
fn pattern_weights(
    net: &Network,
    replay: &Replay,
    resp: &[Response],
    weights: &[f64],
) -> (f64, f64) {
    let (ni, nn) = (net.inputs(), net.neurons());
    let w_max = net.cfg.plasticity.w_max;
    let back = (CAUSAL_MS / net.cfg.network.dt_ms).round() as u32;
    let (mut causal, mut other, mut count) = (0.0, 0.0, 0.0);
    for (j, r) in resp.iter().enumerate().filter(|(_, r)| r.responds()) {
        let med = r.median_phase.expect("a responding neuron fires in the windows");
        let mut inputs: Vec<usize> = replay
            .spikes
            .iter()
            .filter(|&&(p, _)| p <= med && p + back >= med)
            .map(|&(_, i)| i as usize)
            .collect();
        inputs.sort_unstable();
        inputs.dedup();
        let mean = |it: &mut dyn Iterator<Item = usize>| {
            let v: Vec<f64> = it.map(|i| weights[i * nn + j] / w_max).collect();
            v.iter().sum::<f64>() / v.len().max(1) as f64
        };
        causal += mean(&mut inputs.iter().copied());
        other += mean(&mut (replay.pattern_inputs..ni));
        count += 1.0;
    }
    (causal / count, other / count)
}

#[test]
fn default_network_neurons_learn_the_pattern() {
    let mut few = Vec::new();
    for seed in DEFAULT_SEEDS {
        let mut cfg = Config::builtin_default();
        cfg.stimulus.seed = seed;
        let (net, stim, fixed, float) = run_config(&cfg);
        let spec = cfg.stimulus.pattern.clone().expect("the default network has a pattern");
        let replay = Replay::of(&spec, &cfg, &stim);
        for (model, run) in [("fixed", &fixed), ("float", &float)] {
            let resp = responses(&replay, &run.record, net.neurons());
            let n = resp.iter().filter(|r| r.responds()).count();
            let (causal, other) = pattern_weights(&net, &replay, &resp, &run.weights);
            eprintln!(
                "default, stimulus seed {seed}, {model}: {n} of {} neurons respond to the \
                 pattern; their causal inputs' weight {causal:.2} w_max, non-pattern {other:.2}",
                net.neurons()
            );
            if n < MIN_PATTERN_NEURONS {
                few.push((seed, format!("seed {seed}, {model} model: {n} respond: {resp:?}")));
                if n == 0 {
                    continue; // no responding neuron to weigh
                }
            }
            assert!(
                causal >= MIN_CAUSAL_WEIGHT
                    && other <= MAX_NON_PATTERN_WEIGHT
                    && causal - other >= MIN_CAUSAL_MARGIN,
                "stimulus seed {seed}, {model} model: responding neurons weigh their causal \
                 pattern inputs {causal:.3} w_max and the non-pattern inputs {other:.3} w_max"
            );
        }
    }
    let mut seeds: Vec<u64> = few.iter().map(|f| f.0).collect();
    seeds.dedup();
    assert!(
        seeds.len() <= MAX_SEEDS_WITH_FEW,
        "{} of the seeds have fewer than {MIN_PATTERN_NEURONS} neurons responding to the pattern \
         (at most {MAX_SEEDS_WITH_FEW} may): {:#?}",
        seeds.len(),
        few.iter().map(|f| &f.1).collect::<Vec<_>>()
    );
}

#[test]
fn default_network_without_the_pattern_has_no_pattern_neurons() {
    // The control: the same network and background, no pattern, judged on the same windows.
    for seed in DEFAULT_SEEDS {
        let mut with = Config::builtin_default();
        with.stimulus.seed = seed;
        let spec = with.stimulus.pattern.clone().expect("the default network has a pattern");
        let replay = Replay::of(&spec, &with, &with.stimulus.generate(&with).expect("stimulus"));
        let mut without = with.clone();
        without.stimulus.pattern = None;
        let (net, _, fixed, float) = run_config(&without);
        for (model, run) in [("fixed", &fixed), ("float", &float)] {
            let resp = responses(&replay, &run.record, net.neurons());
            let n = resp.iter().filter(|r| r.responds()).count();
            assert_eq!(
                n, 0,
                "stimulus seed {seed}, {model} model: without the pattern, {n} neurons still \
                 respond to its windows: {resp:?}"
            );
        }
    }
}

#[test]
fn default_network_gap_is_bounded() {
    for seed in DEFAULT_SEEDS {
        let mut cfg = Config::builtin_default();
        cfg.stimulus.seed = seed;
        let net = build(&cfg);
        let stim = cfg.stimulus.generate(&cfg).expect("stimulus");
        let d = compare(&net, &stim, WINDOW_STEPS);
        eprintln!("default, stimulus seed {seed}: {}", show(&d));
        assert!(
            d.rate_error_rel <= DEFAULT_MAX_RATE_ERROR_REL
                && d.rate_error_max_hz <= DEFAULT_MAX_RATE_ERROR_HZ
                && d.weight_correlation >= DEFAULT_MIN_WEIGHT_CORRELATION
                && d.spike_agreement >= DEFAULT_MIN_SPIKE_AGREEMENT,
            "stimulus seed {seed}: {d:?}"
        );
    }
}

fn show(d: &Distance) -> String {
    format!(
        "float {:.2} Hz, rate error {:.3} rel (max {:.2} Hz), agreement {:.3}, weight RMSE \
         {:.3} rel, correlation {:.3}",
        d.mean_rate_float_hz,
        d.rate_error_rel,
        d.rate_error_max_hz,
        d.spike_agreement,
        d.weight_rmse_rel,
        d.weight_correlation
    )
}

// ---------------------------------------------------------------------------------------------
// Song, Miller & Abbott (2000).

#[test]
fn song_weights_end_bimodal_in_both_models() {
    let cfg = load("song.toml");
    let (net, _, fixed, float) = run_config(&cfg);
    let p = &net.cfg.plasticity;
    let seconds = f64::from(net.cfg.stimulus.steps) * net.cfg.network.dt_ms / 1000.0;
    for (model, run) in [("fixed", &fixed), ("float", &float)] {
        let s = WeightStats::of(&run.weights, p.w_min, p.w_max);
        eprintln!(
            "song, {model}: {:.1} Hz, lowest tenth {:.3}, highest {:.3}, histogram {:?}",
            run.record.spikes.len() as f64 / seconds,
            s.frac_low,
            s.frac_high,
            s.histogram
        );
        assert!(
            s.is_bimodal(SONG_MIN_TAIL, SONG_MIN_TAILS),
            "{model} model: weights not bimodal: {s:?}"
        );
        // A U, not a slope: the top tenth holds more than any tenth in the middle.
        let middle = s.histogram[2..8].iter().copied().max().unwrap_or(0);
        assert!(s.histogram[9] > middle, "{model} model: no upper mode: {:?}", s.histogram);
    }
}

#[test]
fn song_gap_is_bounded() {
    let cfg = load("song.toml");
    let net = build(&cfg);
    let stim = cfg.stimulus.generate(&cfg).expect("stimulus");
    let d = compare(&net, &stim, WINDOW_STEPS);
    eprintln!("song: {}", show(&d));
    assert!(
        d.rate_error_rel <= SONG_MAX_RATE_ERROR_REL
            && d.weight_correlation >= SONG_MIN_WEIGHT_CORRELATION
            && d.weight_rmse_rel <= SONG_MAX_WEIGHT_RMSE_REL,
        "stimulus seed {}: {d:?}",
        cfg.stimulus.seed
    );
}

/// `examples/song-brian2.toml`, the network `synforge bench --brian2` times beside Brian2's STDP
/// example, is that network's size and time step, and its first 30 s fire and learn as
/// Brian2's do: a few tens of Hz, and weights leaving the middle for the bounds, the lowest
/// tenth first. Seen: 23.6 Hz, tenths of w_max from the lowest [171, 115, 92, 68, 82, 86, 94,
/// 94, 96, 102] of 1000; Brian2 2.9 (scripts/brian2-song.py --seconds 30): 32.9 Hz, [172, 96,
/// 77, 86, 87, 97, 64, 90, 89, 142]. Both start uniform, 100 a tenth.
#[test]
fn song_brian2_config_is_brian2s_network_and_starts_like_it() {
    let mut cfg = load("song-brian2.toml");
    let c = &cfg;
    assert_eq!(
        (
            c.network.inputs,
            c.network.neurons,
            c.network.dt_ms,
            c.stimulus.steps,
            c.stimulus.rate_hz
        ),
        (1000, 1, 0.1, 1_000_000, 15.0)
    );
    cfg.stimulus.steps = 300_000;
    let net = build(&cfg);
    let stim = cfg.stimulus.generate(&cfg).expect("stimulus");
    let r = finish(&mut FixedModel::new(&net), &stim);
    let hz = r.record.spikes.len() as f64 / 30.0;
    let s = WeightStats::of(&r.weights, net.cfg.plasticity.w_min, net.cfg.plasticity.w_max);
    eprintln!("song-brian2, fixed, first 30 s: {hz:.1} Hz, histogram {:?}", s.histogram);
    assert!((10.0..=80.0).contains(&hz), "{hz} Hz");
    assert!(s.frac_low > 0.14 && s.frac_low + s.frac_high > 0.25, "{s:?}");
}

// ---------------------------------------------------------------------------------------------
// The pair-STDP window, traced by examples/pairing.toml.

/// Pairing protocol: the fixed model's window may differ from the float one's by this fraction
/// of the float value ... Seen: at most 1.9 %.
const WINDOW_REL_TOL: f64 = 0.03;
/// ... plus this many weight LSBs per pairing (stochastic rounding noise). Seen: well within.
const WINDOW_LSB_TOL: f64 = 0.5;
/// Window time constants fitted to the measured window (log-linear least squares over offsets
/// 1..50 ms on each side) are within this fraction of the configured ones, in both models.
/// Seen: float 0.0 %, fixed 0.2 %.
const WINDOW_TAU_TOL: f64 = 0.03;
/// `dw(10 ms) / dw(30 ms)` on either side is within this fraction of `exp(20 ms / tau)`.
/// Seen: float 0.0 %, fixed 0.1 %.
const WINDOW_RATIO_TOL: f64 = 0.05;

/// Slope-fitted time constant of `|dw|` against `|offset|` (ms) on one side of the window.
fn fitted_tau(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let (mx, my) =
        points.iter().fold((0.0, 0.0), |(a, b), &(x, y)| (a + x / n, b + y.abs().ln() / n));
    let (sxy, sxx) = points.iter().fold((0.0, 0.0), |(a, b), &(x, y)| {
        (a + (x - mx) * (y.abs().ln() - my), b + (x - mx) * (x - mx))
    });
    -sxx / sxy
}

#[test]
fn pairing_traces_the_pair_window_in_both_models() {
    let cfg = load("pairing.toml");
    let net = build(&cfg);
    let stim = cfg.stimulus.generate(&cfg).expect("stimulus");
    let (fixed, float) = (FixedModel::new(&net), FloatModel::new(&net));
    let (w0_fixed, w0_float) = (fixed.weights(), float.weights());
    let (fixed, float) = run_both(fixed, float, &stim);

    let teacher = net.inputs() as u32 - 1;
    let posts: Vec<u32> = (0..stim.steps()).filter(|&t| stim.at(t).contains(&teacher)).collect();
    let pairings = posts.len() as f64;
    assert!(posts.len() >= 10, "only {} pairings", posts.len());
    let spec = cfg.stimulus.pairing.clone().expect("pairing.toml has [stimulus.pairing]");
    let pl = &cfg.plasticity;
    let tr = &cfg.traces;
    let lsb = net.fmt.w.lsb();
    let offsets: Vec<f64> = (0..teacher).map(|i| offset_of(&spec, i, teacher)).collect();
    assert!(offsets.iter().all(|o| o.fract() == 0.0), "offsets must be whole steps: {offsets:?}");
    let window = |run: &Run, w0: &[f64]| -> Vec<f64> {
        (0..teacher as usize).map(|i| (run.weights[i] - w0[i]) / pairings).collect()
    };
    let dw_fixed = window(&fixed, &w0_fixed);
    let dw_float = window(&float, &w0_float);

    for (model, run, dw) in [("fixed", &fixed, &dw_fixed), ("float", &float, &dw_float)] {
        let times: Vec<u32> = run.record.spikes.iter().map(|s| s.0).collect();
        assert_eq!(times, posts, "{model} model: the neuron must fire at the teacher's steps only");
        for (&o, &d) in offsets.iter().zip(dw.iter()) {
            assert!(
                if o >= 0.0 { d > 0.0 } else { d < 0.0 },
                "{model} model: dw {d:e} at offset {o} ms has the wrong sign"
            );
        }
        let side = |pos: bool| -> Vec<(f64, f64)> {
            let mut v: Vec<(f64, f64)> = offsets
                .iter()
                .zip(dw.iter())
                .filter(|(&o, _)| if pos { o > 0.0 } else { o < 0.0 })
                .map(|(&o, &d)| (o.abs(), d))
                .collect();
            v.sort_by(|a, b| a.0.total_cmp(&b.0));
            v
        };
        for (pos, tau, name) in
            [(true, tr.tau_plus_ms, "tau_plus"), (false, tr.tau_minus_ms, "tau_minus")]
        {
            let pts = side(pos);
            assert!(
                pts.windows(2).all(|p| p[1].1.abs() < p[0].1.abs()),
                "{model} model: |dw| does not decay with |offset| on the {name} side: {pts:?}"
            );
            let fit = fitted_tau(&pts);
            let at = |x: f64| pts.iter().find(|p| p.0 == x).expect("offset on the grid").1;
            let ratio = at(10.0) / at(30.0);
            eprintln!(
                "pairing, {model}: {name} {tau} ms, fitted {fit:.3} ms; dw(10)/dw(30) {ratio:.4}, \
                 exp(20/tau) {:.4}",
                (20.0 / tau).exp()
            );
            assert!(
                (fit / tau - 1.0).abs() <= WINDOW_TAU_TOL,
                "{model} model: fitted {name} {fit:.3} ms, configured {tau} ms"
            );
            assert!(
                (ratio / (20.0 / tau).exp() - 1.0).abs() <= WINDOW_RATIO_TOL,
                "{model} model: dw(10)/dw(30) on the {name} side is {ratio}, want exp(20/{tau})"
            );
        }
    }
    // The float model is the rule itself: A+ exp(-o/tau+) or -A- exp(o/tau-), up to what the
    // previous pairing left in the traces (exp(-450/33.7) ~ 2e-6 of A-).
    let worst = offsets
        .iter()
        .enumerate()
        .map(|(i, _)| ((dw_fixed[i] - dw_float[i]) / dw_float[i]).abs())
        .fold(0.0, f64::max);
    eprintln!(
        "pairing: dw at -50, -10, 0, +10, +50 ms: float {:?}, fixed {:?}; fixed deviates by at \
         most {:.2} %",
        [0, 40, 50, 60, 100].map(|i| format!("{:.3e}", dw_float[i])),
        [0, 40, 50, 60, 100].map(|i| format!("{:.3e}", dw_fixed[i])),
        100.0 * worst
    );
    for (i, &o) in offsets.iter().enumerate() {
        let want = if o >= 0.0 {
            pl.a_plus * (-o / tr.tau_plus_ms).exp()
        } else {
            -pl.a_minus * (o / tr.tau_minus_ms).exp()
        };
        assert!(
            (dw_float[i] - want).abs() <= 1e-8,
            "float model, offset {o} ms: dw {:e}, the rule says {want:e}",
            dw_float[i]
        );
        let tol = WINDOW_REL_TOL * want.abs() + WINDOW_LSB_TOL * lsb;
        assert!(
            (dw_fixed[i] - dw_float[i]).abs() <= tol,
            "offset {o} ms: fixed dw {:e}, float {:e} (tolerance {tol:e})",
            dw_fixed[i],
            dw_float[i]
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Triplet STDP: potentiation grows with the pairing frequency (Pfister & Gerstner 2006).

/// Pairing frequencies of the protocol (Sjöström et al. 2001), Hz.
const FREQUENCIES_HZ: [f64; 6] = [1.0, 5.0, 10.0, 20.0, 40.0, 50.0];
/// Pre-post pairings per frequency.
const PAIRINGS: u32 = 60;
/// The pre spike leads the post spike by this much, ms.
const PAIRING_LAG_MS: u32 = 10;
/// Triplet rule: change per pairing at 50 Hz minus that at 1 Hz, at least. Seen: 0.0123
/// (0.0149 once the traces reach their steady state) against 1e-6 at 1 Hz.
const TRIPLET_MIN_GAIN: f64 = 0.008;
/// Fixed against float model, per pairing: this fraction of the float value plus one weight
/// LSB over the pairings. Seen: at most 1.2 %, or 1e-6 where the change is near 0.
const PROTOCOL_REL_TOL: f64 = 0.03;

/// One neuron, two inputs: 0 is the synapse under test, 1 a teacher whose weight alone exceeds
/// the threshold. Every field is set here. Visual-cortex all-to-all parameters of Pfister &
/// Gerstner (2006), A2+ = 5e-10 taken as 0; the pair rule keeps A+ = A3+ and A- = A2-. The
/// threshold of 4 leaves room for the tested weight (starting at 1) to move by the 60 pairings'
/// worth of change without ever firing the neuron by itself.
fn protocol_config(rule: RuleName) -> Config {
    let spec = |width, frac, rounding| FormatSpec { width, frac, rounding, decay: Decay::Multiply };
    let mut c = Config::builtin_default();
    c.network.name = format!("{rule} protocol");
    c.network.inputs = 2;
    c.network.neurons = 1;
    c.network.dt_ms = 1.0;
    c.network.seed = 1;
    c.neuron.tau_m_ms = 10.0;
    c.neuron.threshold = 4.0;
    c.neuron.reset = Reset::Zero;
    c.neuron.refractory_ms = 2.0;
    c.neuron.inhibition = 0.0;
    c.traces.pairing = Pairing::AllToAll;
    c.traces.tau_plus_ms = 16.8;
    c.traces.tau_minus_ms = 33.7;
    c.traces.tau_x_ms = 101.0;
    c.traces.tau_y_ms = 125.0;
    c.traces.increment = 1.0;
    let triplet = rule.as_str() == "triplet";
    let pl = &mut c.plasticity;
    pl.rule = rule;
    pl.weight_dependence = WeightDependence::Additive;
    pl.a_plus = if triplet { 0.0 } else { 6.2e-3 };
    pl.a_minus = 7e-3;
    pl.a3_plus = if triplet { 6.2e-3 } else { 0.0 };
    pl.a3_minus = if triplet { 2.3e-4 } else { 0.0 };
    pl.w_min = 0.0;
    pl.w_max = 7.5;
    pl.w_init = 1.0;
    pl.w_init_spread = 0.0;
    // The bracket A2+ + A3+ y2 saturates at the amplitude format's maximum. Chosen
    // automatically, that format would just hold the largest amplitude (7e-3, 23 fraction
    // bits, max 0.0078) and cut A3+ y2 = 0.036 at 50 Hz down to it: 20 fraction bits leave room
    // for A3+ times the largest y2 (6.2e-3 x 8 = 0.05 < 0.0625).
    pl.amplitude_frac = Some(20);
    c.homeostasis.adaptive_threshold = false;
    c.homeostasis.theta_step = 0.0;
    c.homeostasis.scaling = false;
    // Traces reach 6.8 (y2 at 50 Hz): three integer bits.
    let f = &mut c.formats;
    f.membrane = spec(20, 13, Rounding::Nearest);
    f.weight = spec(16, 13, Rounding::Stochastic);
    f.threshold = spec(16, 12, Rounding::Nearest);
    for t in [&mut f.trace_x1, &mut f.trace_x2, &mut f.trace_y1, &mut f.trace_y2] {
        *t = spec(16, 13, Rounding::Stochastic);
    }
    c
}

/// Change per pairing of the tested weight, `(fixed, float)`, for pairings at `hz`.
fn per_pairing(cfg: &Config, hz: f64) -> (f64, f64) {
    let net = build(cfg);
    let period = (1000.0 / hz / cfg.network.dt_ms).round() as u32;
    let last_post = (PAIRINGS - 1) * period + PAIRING_LAG_MS + 1;
    let mut b = Builder::new(2, last_post + 1);
    for k in 0..PAIRINGS {
        b.push(1 + k * period, 0);
        b.push(1 + k * period + PAIRING_LAG_MS, 1);
    }
    let stim = b.finish();
    let (w_test, w_teacher) = (1.0, 6.0);
    let raw = |w: f64| net.fmt.w.quantize(w).expect("weight fits") as u16;
    let fixed = FixedModel::with_weights(&net, &[raw(w_test), raw(w_teacher)]);
    let float = FloatModel::with_weights(&net, vec![w_test, w_teacher]);
    let (f, g) = run_both(fixed, float, &stim);
    for (model, run) in [("fixed", &f), ("float", &g)] {
        assert_eq!(
            run.record.spikes.len() as u32,
            PAIRINGS,
            "{model} model at {hz} Hz: the teacher must make exactly one post spike per pairing"
        );
    }
    let n = PAIRINGS as f64;
    ((f.weights[0] - w_test) / n, (g.weights[0] - w_test) / n)
}

#[test]
fn triplet_potentiation_grows_with_pairing_frequency_and_pair_does_not() {
    for rule in [RuleName::from("triplet"), RuleName::from("pair")] {
        let cfg = protocol_config(rule.clone());
        let lsb = build(&cfg).fmt.w.lsb();
        let dw: Vec<(f64, f64)> = FREQUENCIES_HZ.iter().map(|&hz| per_pairing(&cfg, hz)).collect();
        eprintln!(
            "{rule} rule, +{PAIRING_LAG_MS} ms pairings at {FREQUENCIES_HZ:?} Hz, dw per \
             pairing: fixed {:?}, float {:?}",
            dw.iter().map(|d| format!("{:.2e}", d.0)).collect::<Vec<_>>(),
            dw.iter().map(|d| format!("{:.2e}", d.1)).collect::<Vec<_>>()
        );
        for (k, &(fixed, float)) in dw.iter().enumerate() {
            let tol = PROTOCOL_REL_TOL * float.abs() + lsb / PAIRINGS as f64;
            assert!(
                (fixed - float).abs() <= tol,
                "{rule} rule at {} Hz: fixed {fixed:e}, float {float:e} per pairing",
                FREQUENCIES_HZ[k]
            );
        }
        for (model, pick) in [("fixed", 0), ("float", 1)] {
            let d: Vec<f64> = dw.iter().map(|p| if pick == 0 { p.0 } else { p.1 }).collect();
            match rule.as_str() {
                "triplet" => {
                    assert!(
                        d.windows(2).all(|w| w[1] > w[0]),
                        "{model} model, triplet rule: dw per pairing does not grow with the \
                         frequency: {d:?}"
                    );
                    assert!(
                        d[d.len() - 1] - d[0] >= TRIPLET_MIN_GAIN,
                        "{model} model, triplet rule: 50 Hz gains too little over 1 Hz: {d:?}"
                    );
                }
                _ => assert!(
                    d.iter().all(|&x| x <= d[0]) && d[d.len() - 1] < 0.0,
                    "{model} model, pair rule: dw per pairing should fall with the frequency, \
                     to depression at 50 Hz: {d:?}"
                ),
            }
        }
    }
}
