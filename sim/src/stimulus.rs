//! Input spike trains: read from CSV (`step,input`) or generated (Poisson with an optional
//! repeated embedded pattern, or an STDP pairing protocol). Always seeded.

use std::path::{Path, PathBuf};

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::{Error, Result};

/// Where a stimulus comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StimulusKind {
    /// Independent Poisson trains, optionally with an embedded repeated pattern.
    Poisson,
    /// Pairing protocol: the last input is a teacher that makes the neurons fire; every other
    /// input fires at a fixed offset from the teacher, spread over the STDP window.
    Pairing,
    /// A CSV file of `step,input` lines.
    File,
}

/// A frozen spike pattern replayed every `period_ms` over a subset of the inputs
/// (Masquelier et al. 2008 style), so that learning has something to find.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PatternSpec {
    /// Fraction of the inputs (the lowest-numbered ones) that take part in the pattern.
    pub fraction: f64,
    /// Length of the pattern.
    pub length_ms: f64,
    /// The pattern starts every `period_ms`.
    pub period_ms: f64,
}

impl PatternSpec {
    /// For `inputs` inputs at time step `dt_ms`: the inputs that take part (`0..n`), the
    /// pattern's length and its period, in steps.
    pub fn shape(&self, inputs: u32, dt_ms: f64) -> (u32, u32, u32) {
        let n = ((self.fraction * inputs as f64).round() as u32).clamp(1, inputs);
        let len = (self.length_ms / dt_ms).round().max(1.0) as u32;
        let period = (self.period_ms / dt_ms).round().max(len as f64) as u32;
        (n, len, period)
    }
}

impl Default for PatternSpec {
    fn default() -> Self {
        PatternSpec { fraction: 0.75, length_ms: 70.0, period_ms: 150.0 }
    }
}

/// Pairing protocol parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PairingSpec {
    /// Offset `t_post - t_pre` of input 0.
    pub offset_min_ms: f64,
    /// Offset of input `inputs - 2`; offsets in between are evenly spaced.
    pub offset_max_ms: f64,
    /// Time between pairings; make it much longer than every trace time constant.
    pub period_ms: f64,
}

impl Default for PairingSpec {
    fn default() -> Self {
        PairingSpec { offset_min_ms: -50.0, offset_max_ms: 50.0, period_ms: 500.0 }
    }
}

/// `[stimulus]` as written in the config.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StimulusSpec {
    /// Kind of stimulus.
    pub kind: StimulusKind,
    /// Number of timesteps (for `file`: 0 means up to the last spike).
    pub steps: u32,
    /// Seed of the generator.
    pub seed: u64,
    /// Rate of every input (Poisson).
    pub rate_hz: f64,
    /// Per-input rates; overrides `rate_hz` when given (one per input).
    pub rates_hz: Vec<f64>,
    /// Optional embedded pattern (Poisson); none unless `[stimulus.pattern]` is written (the
    /// built-in default network has one).
    pub pattern: Option<PatternSpec>,
    /// Pairing protocol parameters (kind = "pairing").
    pub pairing: Option<PairingSpec>,
    /// CSV file (kind = "file"), relative to the config file.
    pub file: Option<PathBuf>,
    /// The global modulator `r` of three-factor rules: a `step,value` CSV file, relative to
    /// the config file; absolute steps, each value holding until the next listed step (as the
    /// core's register does), `r = 0` before the first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modulator_file: Option<PathBuf>,
    /// A task that sets the modulator from the network's spikes (closed loop), instead of a
    /// file: `[stimulus.reward]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reward: Option<crate::task::RewardSpec>,
}

impl Default for StimulusSpec {
    fn default() -> Self {
        StimulusSpec {
            kind: StimulusKind::Poisson,
            steps: 20000,
            seed: 7,
            rate_hz: 22.0,
            rates_hz: Vec::new(),
            pattern: None,
            pairing: None,
            file: None,
            modulator_file: None,
            reward: None,
        }
    }
}

impl StimulusSpec {
    pub(crate) fn resolve_relative(&mut self, dir: &Path) {
        for f in [&mut self.file, &mut self.modulator_file].into_iter().flatten() {
            if f.is_relative() {
                *f = dir.join(&*f);
            }
        }
    }

    /// Check the spec against the network it will drive.
    pub fn validate(&self, cfg: &Config) -> Result<()> {
        let dt = cfg.network.dt_ms;
        let inputs = cfg.network.inputs as usize;
        let rate_ok = |r: f64, field: &str| -> Result<()> {
            if !(r.is_finite() && r >= 0.0 && r * dt / 1000.0 <= 1.0) {
                return Err(Error::field(
                    field,
                    format!("rate {r} Hz must be between 0 and 1/dt = {} Hz", 1000.0 / dt),
                ));
            }
            Ok(())
        };
        // A duration in steps that a run can hold (the step counter is 32 bits).
        let steps_of = |ms: f64, field: &str| -> Result<f64> {
            let steps = (ms / dt).round().abs();
            if !(ms.is_finite() && steps <= MAX_STEPS as f64) {
                return Err(Error::field(
                    field,
                    format!(
                        "{ms} ms is not a duration a run can hold (at most {MAX_STEPS} steps of {dt} ms); give a finite, shorter time"
                    ),
                ));
            }
            Ok(steps)
        };
        match self.kind {
            StimulusKind::Poisson => {
                rate_ok(self.rate_hz, "stimulus.rate_hz")?;
                if !self.rates_hz.is_empty() && self.rates_hz.len() != inputs {
                    return Err(Error::field(
                        "stimulus.rates_hz",
                        format!(
                            "has {} rates but the network has {inputs} inputs; give one per input or none",
                            self.rates_hz.len()
                        ),
                    ));
                }
                for r in &self.rates_hz {
                    rate_ok(*r, "stimulus.rates_hz")?;
                }
                if let Some(p) = &self.pattern {
                    if !(p.fraction > 0.0 && p.fraction <= 1.0) {
                        return Err(Error::field(
                            "stimulus.pattern.fraction",
                            format!("must be in (0, 1], got {}", p.fraction),
                        ));
                    }
                    steps_of(p.length_ms, "stimulus.pattern.length_ms")?;
                    steps_of(p.period_ms, "stimulus.pattern.period_ms")?;
                    if !(p.length_ms >= dt && p.period_ms >= p.length_ms) {
                        return Err(Error::field(
                            "stimulus.pattern.length_ms",
                            format!(
                                "need dt ({dt}) <= length_ms ({}) <= period_ms ({})",
                                p.length_ms, p.period_ms
                            ),
                        ));
                    }
                }
            }
            StimulusKind::Pairing => {
                let p = self.pairing.clone().unwrap_or_default();
                if inputs < 2 {
                    return Err(Error::field(
                        "network.inputs",
                        "a pairing stimulus needs at least 2 inputs (tests and a teacher)",
                    ));
                }
                steps_of(p.offset_min_ms, "stimulus.pairing.offset_min_ms")?;
                steps_of(p.offset_max_ms, "stimulus.pairing.offset_max_ms")?;
                steps_of(p.period_ms, "stimulus.pairing.period_ms")?;
                if p.offset_min_ms > p.offset_max_ms {
                    return Err(Error::field(
                        "stimulus.pairing.offset_min_ms",
                        "must not exceed offset_max_ms",
                    ));
                }
                let span = p.offset_min_ms.abs().max(p.offset_max_ms.abs());
                if p.period_ms <= 2.0 * span + 2.0 * dt {
                    return Err(Error::field(
                        "stimulus.pairing.period_ms",
                        format!("must exceed twice the largest offset ({span} ms) plus 2 dt"),
                    ));
                }
            }
            StimulusKind::File => {
                if self.file.is_none() {
                    return Err(Error::field(
                        "stimulus.file",
                        "kind = \"file\" needs file = \"spikes.csv\"",
                    ));
                }
            }
        }
        if self.kind != StimulusKind::File && self.steps == 0 {
            return Err(Error::field("stimulus.steps", "must be at least 1"));
        }
        if self.modulator_file.is_some() && cfg.formats.modulator.is_none() {
            return Err(Error::field(
                "stimulus.modulator_file",
                "a modulator needs its format: add [formats.modulator] with width = 8, frac = 6 \
                 (signed), and a rule that reads `r`",
            ));
        }
        Ok(())
    }

    /// The expected number of input spikes per step (for a file: none known, 0).
    pub fn expected_spikes_per_step(&self, cfg: &Config) -> f64 {
        let dt = cfg.network.dt_ms;
        match self.kind {
            StimulusKind::File => 0.0,
            StimulusKind::Poisson => (0..cfg.network.inputs as usize)
                .map(|i| self.rates_hz.get(i).copied().unwrap_or(self.rate_hz) * dt / 1000.0)
                .sum(),
            StimulusKind::Pairing => {
                let p = self.pairing.clone().unwrap_or_default();
                cfg.network.inputs as f64 / (p.period_ms / dt).round().max(1.0)
            }
        }
    }

    /// Produce the spike trains for `cfg`'s network, stored (memory grows with the spikes).
    pub fn generate(&self, cfg: &Config) -> Result<Stimulus> {
        Ok(Stimulus::collect(self.stream(cfg)?.as_mut()))
    }

    /// The spike trains for `cfg`'s network as a stream, one step at a time: a generated
    /// stimulus takes memory independent of its length; a file's is read whole (it is sparse).
    pub fn stream(&self, cfg: &Config) -> Result<Box<dyn SpikeSource>> {
        self.validate(cfg)?;
        let inputs = cfg.network.inputs;
        let dt = cfg.network.dt_ms;
        Ok(match self.kind {
            StimulusKind::File => {
                let path = self.file.as_deref().expect("validated");
                Box::new(Cursor::new(Stimulus::read_csv(path, inputs, self.steps)?))
            }
            StimulusKind::Poisson => Box::new(Poisson::new(self, inputs, dt)),
            StimulusKind::Pairing => Box::new(Pairing::new(
                &self.pairing.clone().unwrap_or_default(),
                inputs,
                dt,
                self.steps,
            )),
        })
    }
}

/// The longest run: the step counter is 32 bits and step `MAX_STEPS` would be the 2^32nd.
pub const MAX_STEPS: u32 = u32::MAX;

/// Input spikes one step at a time, in order from step 0.
pub trait SpikeSource: Send {
    /// Number of timesteps.
    fn steps(&self) -> u32;
    /// Number of inputs.
    fn inputs(&self) -> u32;
    /// Sorted, duplicate-free inputs that spike at the next step; `None` after the last.
    fn next_step(&mut self) -> Option<&[u32]>;
    /// Go to step `t`: the next step given is step `t` (the run continues a saved state there).
    /// Every step's spikes are a function of its number alone, so this costs no draws.
    fn seek(&mut self, t: u32);
}

/// Steps per block of the background trains (docs/semantics.md §5.1): a block's spikes are
/// drawn from a ChaCha8 stream of its own, so a block is made as a whole and any step can be
/// reached without the draws of the blocks before it. Each input costs one draw a block
/// beyond its spikes (the gap that leaves the block), and a block holds at most 256 spikes an
/// input: 256 steps keeps both small.
const BLOCK_STEPS: u32 = 256;

/// How one input's background train is drawn.
#[derive(Clone, Debug)]
enum Train {
    /// `p = 0`: no spike.
    Silent,
    /// `p >= 1`: a spike every step.
    Always,
    /// `0 < p < 1`: geometric gaps. `pow[m]` is `(1 - p)^(2^m)` as a fraction of `2^64`:
    /// `pow[0] = 2^64 - ceil(p * 2^64)`, `pow[m + 1] = floor(pow[m]^2 / 2^64)`.
    Gaps { pow: Box<[u64; 32]> },
}

impl Train {
    fn new(p: f64) -> Self {
        if p.is_nan() || p <= 0.0 {
            return Train::Silent;
        }
        if p >= 1.0 {
            return Train::Always;
        }
        // p * 2^64 is exact in f64 (a power-of-two scale); its ceiling is at most 2^64.
        let one = 1u128 << 64;
        let first = (one - (p * one as f64).ceil() as u128) as u64;
        let mut pow = [first; 32];
        for m in 1..32 {
            pow[m] = ((pow[m - 1] as u128 * pow[m - 1] as u128) >> 64) as u64;
        }
        Train::Gaps { pow: Box::new(pow) }
    }
}

/// The gap `g >= 1` (steps from one spike to the next) that the 64-bit draw `x` gives:
/// `g = 1 + k` with `k` the largest count (below `2^32`) for which `x < (1 - p)^k`, found bit by
/// bit from the top: `acc = 2^64`, then for `m = 31 .. 0`, `c = floor(acc * pow[m] / 2^64)`,
/// and `x < c` sets bit `m` of `k` and `acc = c`. With `x` uniform the gaps are geometric,
/// `P(g) = (1 - p)^(g - 1) p`: the gaps of independent draws of probability `p` per step.
/// (The trains use [`gap_within_512`], the same wherever a gap lands inside a block.)
#[cfg(test)]
fn gap(pow: &[u64; 32], x: u64) -> u64 {
    gap_from(pow, x, 31)
}

/// `gap(pow, x)` when it is at most `2^9 = 512`, else `None`, with fewer products: `pow[m]`
/// falls as `m` grows, so `gap` sets a bit `m >= 9` exactly when `x < pow[9]`; when it sets
/// none, its `acc` is still `2^64` at bit 8 and the rest is the same. A block's gaps matter
/// only up to its 256 steps.
#[inline]
fn gap_within_512(pow: &[u64; 32], x: u64) -> Option<u64> {
    (x >= pow[9]).then(|| gap_from(pow, x, 8))
}

/// [`gap`]'s search from bit `top` down.
#[inline]
fn gap_from(pow: &[u64; 32], x: u64, top: usize) -> u64 {
    let mut acc = 1u128 << 64;
    let mut k = 0u64;
    for m in (0..=top).rev() {
        let c = (acc * pow[m] as u128) >> 64;
        if (x as u128) < c {
            acc = c;
            k |= 1 << m;
        }
    }
    k + 1
}

/// Independent Poisson trains with an optional frozen pattern, drawn as they are needed.
///
/// The background is made a block of [`BLOCK_STEPS`] steps at a time from ChaCha8 (seeded
/// with `seed`) stream `b` for block `b`: for each input in turn, the gaps between its spikes
/// from one step before the block until one leaves it. So the draws are one per spike (and
/// one per input and block), not one per input per step, and a block, hence any step, is a
/// function of its number alone. The frozen pattern is a second stream (seed `seed ^ 0x5A5A..`): phase `k` of it is
/// words `2 * n * k ..`, one draw per pattern input per replayed step, read again at every
/// replay instead of being kept, so a long pattern costs no memory.
struct Poisson {
    steps: u32,
    t: u32,
    trains: Vec<Train>,
    /// The background generator as seeded, never drawn from: each block's stream starts from
    /// a copy (a fresh copy has no buffered words, so choosing the stream costs no block).
    seeded: ChaCha8Rng,
    /// The block held in `at` and `spikes`, if any.
    block: Option<u32>,
    /// The held block's spikes by step: step `block * BLOCK_STEPS + s` has inputs
    /// `spikes[at[s] .. at[s + 1]]`, ascending.
    at: Vec<u32>,
    spikes: Vec<u32>,
    /// Scratch of the block being made: `(step in the block, input)` in input order.
    made: Vec<(u32, u32)>,
    pattern: Option<Replayed>,
    buf: Vec<u32>,
}

struct Replayed {
    n: u32,
    len: u32,
    period: u32,
    /// `ceil(p * 2^53)` of each pattern input, `p` its spike probability per step: a draw
    /// `x` fires when `x >> 11 < fire_below`, which is `rand`'s uniform f64
    /// (`(x >> 11) * 2^-53`) below `p`, without the conversion.
    fire_below: Vec<u64>,
    rng: ChaCha8Rng,
}

impl Poisson {
    fn new(spec: &StimulusSpec, inputs: u32, dt_ms: f64) -> Self {
        let p: Vec<f64> = (0..inputs as usize)
            .map(|i| spec.rates_hz.get(i).copied().unwrap_or(spec.rate_hz) * dt_ms / 1000.0)
            .collect();
        let pattern = spec.pattern.as_ref().map(|pat| {
            let (n, len, period) = pat.shape(inputs, dt_ms);
            let fire_below =
                p[..n as usize].iter().map(|&p| (p * (1u64 << 53) as f64).ceil() as u64).collect();
            let rng = ChaCha8Rng::seed_from_u64(spec.seed ^ 0x5A5A_5A5A_5A5A_5A5A);
            Replayed { n, len, period, fire_below, rng }
        });
        Poisson {
            steps: spec.steps,
            t: 0,
            trains: p.into_iter().map(Train::new).collect(),
            seeded: ChaCha8Rng::seed_from_u64(spec.seed),
            block: None,
            at: vec![0; BLOCK_STEPS as usize + 1],
            spikes: Vec::new(),
            made: Vec::new(),
            pattern,
            buf: Vec::new(),
        }
    }

    /// Draw block `b` of every input's train into `at` and `spikes`.
    fn make_block(&mut self, b: u32) {
        let start = b as u64 * BLOCK_STEPS as u64;
        let len = (self.steps as u64 - start).min(BLOCK_STEPS as u64);
        self.made.clear();
        let mut rng = self.seeded.clone();
        rng.set_stream(b as u64);
        for (i, train) in self.trains.iter().enumerate() {
            match train {
                Train::Silent => {}
                Train::Always => self.made.extend((0..len as u32).map(|s| (s, i as u32))),
                Train::Gaps { pow } => {
                    // One step before the block: the first gap may land on its first step.
                    // The gaps go on to the block's end, not the run's, so that the inputs
                    // after this one draw the same words whatever the run's length.
                    // `gap_within_512` is `gap` wherever a gap can land inside the block.
                    let mut s = 0u64.wrapping_sub(1);
                    while let Some(g) = gap_within_512(pow, rng.next_u64()) {
                        s = s.wrapping_add(g);
                        if s >= BLOCK_STEPS as u64 {
                            break;
                        }
                        if s < len {
                            self.made.push((s as u32, i as u32));
                        }
                    }
                }
            }
        }
        // A counting sort by step; `made` is in input order, so each step's inputs ascend.
        self.at.fill(0);
        for &(s, _) in &self.made {
            self.at[s as usize + 1] += 1;
        }
        for s in 0..BLOCK_STEPS as usize {
            self.at[s + 1] += self.at[s];
        }
        self.spikes.resize(self.made.len(), 0);
        let mut next = self.at.clone();
        for &(s, i) in &self.made {
            self.spikes[next[s as usize] as usize] = i;
            next[s as usize] += 1;
        }
        self.block = Some(b);
    }
}

impl SpikeSource for Poisson {
    fn steps(&self) -> u32 {
        self.steps
    }

    fn inputs(&self) -> u32 {
        self.trains.len() as u32
    }

    fn next_step(&mut self) -> Option<&[u32]> {
        if self.t >= self.steps {
            return None;
        }
        let t = self.t;
        self.t += 1;
        self.buf.clear();
        let mut skip_below = 0;
        if let Some(pat) = &mut self.pattern {
            let phase = t % pat.period;
            if phase < pat.len {
                pat.rng.set_word_pos(2 * pat.n as u128 * phase as u128);
                for (i, &below) in pat.fire_below.iter().enumerate() {
                    if pat.rng.next_u64() >> 11 < below {
                        self.buf.push(i as u32);
                    }
                }
                skip_below = pat.n;
            }
        }
        let b = t / BLOCK_STEPS;
        if self.block != Some(b) {
            self.make_block(b);
        }
        let s = (t % BLOCK_STEPS) as usize;
        let row = &self.spikes[self.at[s] as usize..self.at[s + 1] as usize];
        self.buf.extend(row.iter().copied().filter(|&i| i >= skip_below));
        Some(&self.buf)
    }

    fn seek(&mut self, t: u32) {
        // The block is made when a step of it is asked for.
        self.t = t;
    }
}

/// The pairing protocol, computed step by step: the teacher (last input) fires at
/// `lead + k * period` for every such step inside the run, test input `i` at that step minus
/// its offset in steps (when that is inside the run too).
struct Pairing {
    steps: u32,
    t: u32,
    inputs: u32,
    period: i64,
    lead: i64,
    /// `round(offset_i / dt)` of every test input.
    lag: Vec<i64>,
    buf: Vec<u32>,
}

impl Pairing {
    fn new(p: &PairingSpec, inputs: u32, dt_ms: f64, steps: u32) -> Self {
        let tests = inputs - 1;
        let lag = (0..tests).map(|i| (offset_of(p, i, tests) / dt_ms).round() as i64).collect();
        Pairing {
            steps,
            t: 0,
            inputs,
            period: ((p.period_ms / dt_ms).round() as i64).max(1),
            lead: (p.offset_min_ms.abs().max(p.offset_max_ms.abs()) / dt_ms).ceil() as i64 + 1,
            lag,
            buf: Vec::new(),
        }
    }

    /// Whether the teacher fires at step `t_post` (any i64), inside this run or after it: a
    /// test input's spike does not depend on where the run ends, so a run can be continued.
    fn teacher_at(&self, t_post: i64) -> bool {
        t_post >= self.lead && (t_post - self.lead) % self.period == 0
    }
}

impl SpikeSource for Pairing {
    fn steps(&self) -> u32 {
        self.steps
    }

    fn inputs(&self) -> u32 {
        self.inputs
    }

    fn next_step(&mut self) -> Option<&[u32]> {
        if self.t >= self.steps {
            return None;
        }
        let t = self.t as i64;
        self.t += 1;
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        for (i, &lag) in self.lag.iter().enumerate() {
            if self.teacher_at(t + lag) {
                buf.push(i as u32);
            }
        }
        if self.teacher_at(t) {
            buf.push(self.inputs - 1);
        }
        self.buf = buf;
        Some(&self.buf)
    }

    fn seek(&mut self, t: u32) {
        self.t = t;
    }
}

/// Offset `t_post - t_pre` in ms of test input `i` of a pairing protocol with `tests` inputs.
pub fn offset_of(p: &PairingSpec, i: u32, tests: u32) -> f64 {
    if tests <= 1 {
        p.offset_min_ms
    } else {
        p.offset_min_ms + (p.offset_max_ms - p.offset_min_ms) * i as f64 / (tests - 1) as f64
    }
}

/// Spike trains of every input, stored sparsely: only the steps that have spikes take memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stimulus {
    inputs: u32,
    steps: u32,
    /// The steps with at least one spike, ascending.
    times: Vec<u32>,
    /// `spikes[starts[k]..starts[k + 1]]` spike at `times[k]` (sorted, no duplicates).
    starts: Vec<u32>,
    spikes: Vec<u32>,
}

/// Collects `(step, input)` events in any order.
pub struct Builder {
    inputs: u32,
    steps: u32,
    events: Vec<(u32, u32)>,
}

impl Builder {
    /// An empty stimulus of `steps` steps over `inputs` inputs.
    pub fn new(inputs: u32, steps: u32) -> Self {
        Builder { inputs, steps, events: Vec::new() }
    }

    /// Add a spike. Out-of-range events are a bug of the caller.
    pub fn push(&mut self, step: u32, input: u32) {
        assert!(step < self.steps && input < self.inputs, "event ({step}, {input}) out of range");
        self.events.push((step, input));
    }

    /// Sort, deduplicate and pack.
    pub fn finish(mut self) -> Stimulus {
        self.events.sort_unstable();
        self.events.dedup();
        let mut times = Vec::new();
        let mut starts = Vec::new();
        let mut spikes = Vec::with_capacity(self.events.len());
        for &(t, i) in &self.events {
            if times.last() != Some(&t) {
                times.push(t);
                starts.push(spikes.len() as u32);
            }
            spikes.push(i);
        }
        starts.push(spikes.len() as u32);
        Stimulus { inputs: self.inputs, steps: self.steps, times, starts, spikes }
    }
}

impl Stimulus {
    /// Number of timesteps.
    pub fn steps(&self) -> u32 {
        self.steps
    }

    /// Number of inputs.
    pub fn inputs(&self) -> u32 {
        self.inputs
    }

    /// Sorted inputs that spike at step `t`.
    pub fn at(&self, t: u32) -> &[u32] {
        match self.times.binary_search(&t) {
            Ok(k) => self.row(k),
            Err(_) => &[],
        }
    }

    fn row(&self, k: usize) -> &[u32] {
        &self.spikes[self.starts[k] as usize..self.starts[k + 1] as usize]
    }

    /// Total number of input spikes.
    pub fn total_spikes(&self) -> usize {
        self.spikes.len()
    }

    /// Store what `src` gives (each step is sorted and duplicate-free already): 4 bytes a
    /// spike and 8 a step that has spikes.
    pub fn collect(src: &mut dyn SpikeSource) -> Stimulus {
        Self::collect_from(src, 0)
    }

    /// Store what `src` gives from step `start` on (where it was sought to), at those steps;
    /// the steps before `start` hold no spikes.
    pub fn collect_from(src: &mut dyn SpikeSource, start: u32) -> Stimulus {
        let (inputs, steps) = (src.inputs(), src.steps());
        let (mut times, mut starts, mut spikes) = (Vec::new(), Vec::new(), Vec::new());
        let mut t = start;
        while let Some(pre) = src.next_step() {
            if !pre.is_empty() {
                times.push(t);
                starts.push(spikes.len() as u32);
                spikes.extend_from_slice(pre);
            }
            t += 1;
        }
        starts.push(spikes.len() as u32);
        Stimulus { inputs, steps, times, starts, spikes }
    }

    /// Step through the stimulus from step 0.
    pub fn cursor(&self) -> Cursor<&Stimulus> {
        Cursor::new(self)
    }

    /// Parse CSV text of `step,input` lines. An optional `step,input` header, blank lines,
    /// `#` comments and a leading byte-order mark are allowed. `steps == 0` means "up to the
    /// last spike".
    pub fn parse_csv(text: &str, origin: &str, inputs: u32, steps: u32) -> Result<Self> {
        let err = |line: usize, message: String| Error::Stimulus {
            path: origin.to_string(),
            line,
            message,
        };
        let mut events = Vec::new();
        for (line, l, fields) in csv_rows(text, "step,input") {
            if fields.len() != 2 {
                return Err(err(line, format!("expected `step,input` (two integers), got `{l}`")));
            }
            let step = step_field(fields[0], line, &err)?;
            let input: u32 = fields[1].parse().map_err(|_| {
                err(line, format!("input `{}` is not a non-negative integer", fields[1]))
            })?;
            if input >= inputs {
                return Err(err(
                    line,
                    format!(
                        "input {input} does not exist: the network has inputs 0..{}",
                        inputs - 1
                    ),
                ));
            }
            within_longest_run(step, line, &err)?;
            if steps > 0 && step >= steps {
                return Err(err(
                    line,
                    format!("step {step} is beyond the run of {steps} steps (0..{})", steps - 1),
                ));
            }
            events.push((step, input));
        }
        let steps =
            if steps > 0 { steps } else { events.iter().map(|e| e.0 + 1).max().unwrap_or(0) };
        if steps == 0 {
            return Err(Error::StimulusFile {
                path: origin.to_string(),
                message: "holds no spikes; give --steps N to run an empty stimulus".into(),
            });
        }
        let mut b = Builder::new(inputs, steps);
        b.events = events;
        Ok(b.finish())
    }

    /// Read a CSV stimulus file.
    pub fn read_csv(path: &Path, inputs: u32, steps: u32) -> Result<Self> {
        let text = crate::error::read_text(path, crate::error::MAX_CSV_BYTES)?;
        Self::parse_csv(&text, &path.display().to_string(), inputs, steps)
    }

    /// Write as CSV with a header.
    pub fn to_csv(&self) -> String {
        let mut s = String::with_capacity(self.spikes.len() * 10 + 16);
        s.push_str("step,input\n");
        for (k, t) in self.times.iter().enumerate() {
            for i in self.row(k) {
                s.push_str(&format!("{t},{i}\n"));
            }
        }
        s
    }
}

/// The global modulator `r`, one value per step (semantics §4.3, §5.1): the steps a
/// `step,value` file lists, ascending; a value holds until the next listed step (as the
/// core's register holds what the host last wrote), and `r = 0` before the first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Modulator {
    steps: Vec<u32>,
    values: Vec<f64>,
}

impl Modulator {
    /// No modulator: `r = 0` on every step.
    pub fn none() -> Self {
        Self::default()
    }

    /// From `(step, value)` pairs in any order; the last value given for a step wins.
    pub fn from_pairs(mut pairs: Vec<(u32, f64)>) -> Self {
        pairs.sort_by_key(|p| p.0);
        let mut m = Modulator::default();
        for (t, v) in pairs {
            if m.steps.last() == Some(&t) {
                *m.values.last_mut().expect("a step has its value") = v;
            } else {
                m.steps.push(t);
                m.values.push(v);
            }
        }
        m
    }

    /// `r` at step `t`: the value of the last listed step at or before `t`, else 0.
    pub fn at(&self, t: u32) -> f64 {
        match self.steps.partition_point(|&s| s <= t) {
            0 => 0.0,
            k => self.values[k - 1],
        }
    }

    /// The listed `(step, value)` pairs, ascending.
    pub fn pairs(&self) -> impl Iterator<Item = (u32, f64)> + '_ {
        self.steps.iter().copied().zip(self.values.iter().copied())
    }

    /// Whether it lists no step.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Parse CSV text of `step,value` lines (an optional `step,value` header, blank lines, `#`
    /// comments and a leading byte-order mark are allowed). A step may be listed once.
    pub fn parse_csv(text: &str, origin: &str) -> Result<Self> {
        let err = |line: usize, message: String| Error::Stimulus {
            path: origin.to_string(),
            line,
            message,
        };
        let mut pairs: Vec<(u32, f64)> = Vec::new();
        let mut seen = std::collections::HashMap::new();
        for (line, l, fields) in csv_rows(text, "step,value") {
            if fields.len() != 2 {
                return Err(err(
                    line,
                    format!("expected `step,value` (a step and the modulator's value), got `{l}`"),
                ));
            }
            let step = step_field(fields[0], line, &err)?;
            within_longest_run(step, line, &err)?;
            let value: f64 =
                fields[1].parse().ok().filter(|v: &f64| v.is_finite()).ok_or_else(|| {
                    err(line, format!("value `{}` is not a finite number", fields[1]))
                })?;
            if let Some(first) = seen.insert(step, line) {
                return Err(err(
                    line,
                    format!("step {step} is already given on line {first}; give each step once"),
                ));
            }
            pairs.push((step, value));
        }
        Ok(Self::from_pairs(pairs))
    }

    /// Read a `step,value` CSV file.
    pub fn read_csv(path: &Path) -> Result<Self> {
        let text = crate::error::read_text(path, crate::error::MAX_CSV_BYTES)?;
        Self::parse_csv(&text, &path.display().to_string())
    }
}

/// The data lines of a CSV file of two columns: `(line number, the line, its fields)`,
/// without a leading byte-order mark, blank lines, `#` comments and the header `header`.
fn csv_rows<'a>(
    text: &'a str,
    header: &'a str,
) -> impl Iterator<Item = (usize, &'a str, Vec<&'a str>)> + 'a {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.lines().enumerate().filter_map(move |(n, raw)| {
        let l = raw.trim();
        let skip =
            l.is_empty() || l.starts_with('#') || l.replace(' ', "").eq_ignore_ascii_case(header);
        (!skip).then(|| (n + 1, l, l.split(',').map(str::trim).collect()))
    })
}

/// A CSV file's step field.
fn step_field(field: &str, line: usize, err: &impl Fn(usize, String) -> Error) -> Result<u32> {
    field.parse().map_err(|_| err(line, format!("step `{field}` is not a non-negative integer")))
}

/// A listed step must lie inside the longest run (the step counter is 32 bits).
fn within_longest_run(step: u32, line: usize, err: &impl Fn(usize, String) -> Error) -> Result<()> {
    if step == MAX_STEPS {
        return Err(err(
            line,
            format!(
                "step {step} is beyond the longest run ({MAX_STEPS} steps, 0..{}); use an earlier step",
                MAX_STEPS - 1
            ),
        ));
    }
    Ok(())
}

/// Steps through a stored stimulus (owned or borrowed) as a [`SpikeSource`].
pub struct Cursor<S> {
    stim: S,
    t: u32,
    k: usize,
}

impl<S: std::borrow::Borrow<Stimulus>> Cursor<S> {
    /// From step 0.
    pub fn new(stim: S) -> Self {
        Cursor { stim, t: 0, k: 0 }
    }
}

impl<S: std::borrow::Borrow<Stimulus> + Send> SpikeSource for Cursor<S> {
    fn steps(&self) -> u32 {
        self.stim.borrow().steps
    }

    fn inputs(&self) -> u32 {
        self.stim.borrow().inputs
    }

    fn next_step(&mut self) -> Option<&[u32]> {
        let s = self.stim.borrow();
        if self.t >= s.steps {
            return None;
        }
        let t = self.t;
        self.t += 1;
        if s.times.get(self.k) == Some(&t) {
            self.k += 1;
            Some(s.row(self.k - 1))
        } else {
            Some(&[])
        }
    }

    fn seek(&mut self, t: u32) {
        self.t = t;
        self.k = self.stim.borrow().times.partition_point(|&x| x < t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `gap` against `(1 - p)^k` in f64: `(1 - p)^g <= u < (1 - p)^(g - 1)` for the draw's
    /// fraction `u`, up to the fixed point's rounding, at rates from one spike in 10^6 steps
    /// to nearly every step.
    #[test]
    fn a_gap_sits_between_the_powers_of_one_minus_p_that_bracket_its_draw() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for p in [1e-6, 0.0015, 0.02, 0.3, 0.5, 0.9, 0.999] {
            let Train::Gaps { pow } = Train::new(p) else { panic!("{p} draws gaps") };
            for n in 0..20_000 {
                // Small draws too: they give the long gaps.
                let x = if n % 2 == 0 { rng.next_u64() } else { rng.next_u64() >> (n % 64) };
                let g = gap(&pow, x);
                let u = x as f64 / 2f64.powi(64);
                // (1 - p)^k as exp(k ln(1 - p)): accurate where powf of a rounded 1 - p is not.
                let pow_k = |k: u64| (k as f64 * (-p).ln_1p()).exp();
                // The fixed point's truncations move a boundary by a few units of 2^-64, which
                // is much of a tiny draw; an off-by-one gap is off by a factor 1 - p, at least
                // 10^-6 here.
                let near = |a: f64, b: f64| a <= b * (1.0 + 1e-9) + 64.0 / 2f64.powi(64);
                assert!(g >= 1 && near(pow_k(g), u), "p {p} x {x}: gap {g} too short");
                assert!(
                    near(u, pow_k(g - 1)) && u != pow_k(g - 1),
                    "p {p} x {x}: gap {g} too long"
                );
            }
        }
    }

    /// The short search is the whole one wherever the gap is at most 512, and says so.
    #[test]
    fn the_short_gap_search_is_the_whole_one_up_to_512() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for p in [1e-6, 0.0015, 0.01, 0.3, 0.999] {
            let Train::Gaps { pow } = Train::new(p) else { panic!("{p} draws gaps") };
            for n in 0..100_000 {
                let x = rng.next_u64() >> (n % 3);
                let g = gap(&pow, x);
                assert_eq!(gap_within_512(&pow, x), (g <= 512).then_some(g), "p {p} x {x}");
            }
        }
    }

    fn poisson(inputs: u32, rates: Vec<f64>, steps: u32, pattern: bool) -> Poisson {
        let spec = StimulusSpec {
            steps,
            seed: 42,
            rates_hz: rates,
            pattern: pattern.then_some(PatternSpec {
                fraction: 0.25,
                length_ms: 30.0,
                period_ms: 170.0,
            }),
            ..StimulusSpec::default()
        };
        Poisson::new(&spec, inputs, 1.0)
    }

    fn all_steps(src: &mut dyn SpikeSource) -> Vec<Vec<u32>> {
        std::iter::from_fn(|| src.next_step().map(<[u32]>::to_vec)).collect()
    }

    /// Each input spikes in about `p` of the steps (within 5 standard deviations), never at
    /// `p = 0`, every step at `p >= 1`; each step's inputs ascend without repeats; blocks
    /// end where they should (a run of 40.5 blocks).
    #[test]
    fn each_input_spikes_at_its_rate_over_several_blocks() {
        let rates = vec![0.0, 0.5, 5.0, 20.0, 100.0, 500.0, 999.0, 1000.0, 2000.0];
        let steps = BLOCK_STEPS * 40 + BLOCK_STEPS / 2;
        let trains = all_steps(&mut poisson(rates.len() as u32, rates.clone(), steps, false));
        assert_eq!(trains.len(), steps as usize);
        for row in &trains {
            assert!(row.windows(2).all(|w| w[0] < w[1]), "{row:?}");
        }
        for (i, r) in rates.iter().enumerate() {
            let n = trains.iter().filter(|row| row.contains(&(i as u32))).count() as f64;
            let p = (r / 1000.0).min(1.0);
            let (mean, sd) = (p * steps as f64, (p * (1.0 - p) * steps as f64).sqrt());
            assert!(
                (n - mean).abs() <= 5.0 * sd + 1e-9,
                "input {i} at {r} Hz: {n} spikes, {mean} expected"
            );
        }
    }

    /// The steps at a block's edges are like any other: 2,000 inputs at p = 0.5 spike
    /// 1,000 times (within 5 standard deviations, 112) in each of them.
    #[test]
    fn the_steps_at_the_blocks_edges_are_like_any_other() {
        let steps = 2 * BLOCK_STEPS + 10;
        let trains = all_steps(&mut poisson(2000, vec![500.0; 2000], steps, false));
        let b = BLOCK_STEPS as usize;
        for s in [0, 1, b - 1, b, b + 1, 2 * b - 1, 2 * b, steps as usize - 1] {
            let n = trains[s].len() as f64;
            assert!((n - 1000.0).abs() <= 5.0 * 500f64.sqrt(), "step {s}: {n} inputs spike");
        }
    }

    /// A source sought to step `t` gives the steps a run from step 0 gives there, across the
    /// blocks' edges and in and out of the pattern's replays.
    #[test]
    fn a_sought_source_gives_the_steps_of_a_run_from_zero() {
        let steps = BLOCK_STEPS * 2 + 777;
        let rates: Vec<f64> = (0..40).map(|i| 3.0 + 7.0 * i as f64).collect();
        let whole = all_steps(&mut poisson(40, rates.clone(), steps, true));
        for t in [0, 1, 29, 30, BLOCK_STEPS - 1, BLOCK_STEPS, BLOCK_STEPS + 1, 2 * BLOCK_STEPS + 5]
        {
            let mut src = poisson(40, rates.clone(), steps, true);
            src.seek(t);
            let rest = all_steps(&mut src);
            assert_eq!(rest[..], whole[t as usize..], "from step {t}");
        }
    }

    #[test]
    fn csv_round_trip() {
        let s = Stimulus::parse_csv("step,input\n0,1\n2,0\n0,1\n# c\n\n2,3\n", "t", 4, 0).unwrap();
        assert_eq!(s.steps(), 3);
        assert_eq!(s.at(0), &[1]);
        assert_eq!(s.at(1), &[] as &[u32]);
        assert_eq!(s.at(2), &[0, 3]);
        let again = Stimulus::parse_csv(&s.to_csv(), "t", 4, 0).unwrap();
        assert_eq!(s, again);
    }

    #[test]
    fn modulator_values_hold_until_the_next_listed_step() {
        let m = Modulator::parse_csv("step,value\n# reward\n5,0.5\n2,-1.25\n7,0\n", "m").unwrap();
        let r: Vec<f64> = (0..9).map(|t| m.at(t)).collect();
        assert_eq!(r, [0.0, 0.0, -1.25, -1.25, -1.25, 0.5, 0.5, 0.0, 0.0]);
        let e = Modulator::parse_csv("1,0.5\n1,2\n", "m.csv").unwrap_err();
        assert_eq!(
            e.to_string(),
            "m.csv:2: step 1 is already given on line 1; give each step once"
        );
        let e = Modulator::parse_csv("1,nan\n", "m.csv").unwrap_err();
        assert_eq!(e.to_string(), "m.csv:1: value `nan` is not a finite number");
        let e = Modulator::parse_csv("1;2\n", "m.csv").unwrap_err();
        assert!(e.to_string().contains("expected `step,value`"), "{e}");
    }

    #[test]
    fn csv_errors_name_the_line() {
        let e = Stimulus::parse_csv("0,1\n1;2\n", "s.csv", 4, 0).unwrap_err();
        assert_eq!(e.to_string(), "s.csv:2: expected `step,input` (two integers), got `1;2`");
        let e = Stimulus::parse_csv("0,9\n", "s.csv", 4, 0).unwrap_err();
        assert_eq!(e.to_string(), "s.csv:1: input 9 does not exist: the network has inputs 0..3");
        let e = Stimulus::parse_csv("x,1\n", "s.csv", 4, 0).unwrap_err();
        assert_eq!(e.to_string(), "s.csv:1: step `x` is not a non-negative integer");
    }
}
