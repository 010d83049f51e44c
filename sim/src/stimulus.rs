//! Input spike trains: read from CSV (`step,input`) or generated (Poisson with an optional
//! repeated embedded pattern, or an STDP pairing protocol). Always seeded.

use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
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
        }
    }
}

impl StimulusSpec {
    pub(crate) fn resolve_relative(&mut self, dir: &Path) {
        if let Some(f) = &self.file {
            if f.is_relative() {
                self.file = Some(dir.join(f));
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
                let ordered = p.offset_min_ms <= p.offset_max_ms; // false for NaN too
                if !ordered {
                    return Err(Error::field(
                        "stimulus.pairing.offset_min_ms",
                        "must not exceed offset_max_ms",
                    ));
                }
                let span = p.offset_min_ms.abs().max(p.offset_max_ms.abs());
                let long_enough = p.period_ms > 2.0 * span + 2.0 * dt; // false for NaN too
                if !long_enough {
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
        Ok(())
    }

    /// Produce the spike trains for `cfg`'s network.
    pub fn generate(&self, cfg: &Config) -> Result<Stimulus> {
        self.validate(cfg)?;
        let inputs = cfg.network.inputs;
        let dt = cfg.network.dt_ms;
        match self.kind {
            StimulusKind::File => {
                let path = self.file.as_deref().expect("validated");
                Stimulus::read_csv(path, inputs, self.steps)
            }
            StimulusKind::Poisson => Ok(self.poisson(inputs, dt)),
            StimulusKind::Pairing => Ok(self.pairing(inputs, dt)),
        }
    }

    fn poisson(&self, inputs: u32, dt_ms: f64) -> Stimulus {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let p: Vec<f64> = (0..inputs as usize)
            .map(|i| self.rates_hz.get(i).copied().unwrap_or(self.rate_hz) * dt_ms / 1000.0)
            .collect();
        // The frozen pattern: drawn once, from its own stream so that changing its size does
        // not shift the background.
        let pattern = self.pattern.as_ref().map(|pat| {
            let n = ((pat.fraction * inputs as f64).round() as u32).max(1);
            let len = (pat.length_ms / dt_ms).round().max(1.0) as u32;
            let period = (pat.period_ms / dt_ms).round().max(len as f64) as u32;
            let mut prng = ChaCha8Rng::seed_from_u64(self.seed ^ 0x5A5A_5A5A_5A5A_5A5A);
            let frozen: Vec<Vec<u32>> = (0..len)
                .map(|_| (0..n).filter(|&i| prng.random::<f64>() < p[i as usize]).collect())
                .collect();
            (n, period, frozen)
        });
        let mut b = Builder::new(inputs, self.steps);
        for t in 0..self.steps {
            let mut skip_below = 0;
            if let Some((n, period, frozen)) = &pattern {
                let phase = (t % period) as usize;
                if phase < frozen.len() {
                    for &i in &frozen[phase] {
                        b.push(t, i);
                    }
                    skip_below = *n;
                }
            }
            for (i, &pi) in p.iter().enumerate() {
                // Draw for every input every step, so the background stream does not depend
                // on where the pattern sits.
                let fire = rng.random::<f64>() < pi;
                if fire && i as u32 >= skip_below {
                    b.push(t, i as u32);
                }
            }
        }
        b.finish()
    }

    fn pairing(&self, inputs: u32, dt_ms: f64) -> Stimulus {
        let p = self.pairing.clone().unwrap_or_default();
        let tests = inputs - 1;
        let teacher = inputs - 1;
        let period = (p.period_ms / dt_ms).round() as i64;
        let lead = (p.offset_min_ms.abs().max(p.offset_max_ms.abs()) / dt_ms).ceil() as i64 + 1;
        let mut b = Builder::new(inputs, self.steps);
        let mut k = 0i64;
        loop {
            let t_post = k * period + lead;
            if t_post >= self.steps as i64 {
                break;
            }
            b.push(t_post as u32, teacher);
            for i in 0..tests {
                let off = offset_of(&p, i, tests);
                let t_pre = t_post - (off / dt_ms).round() as i64;
                if t_pre >= 0 && t_pre < self.steps as i64 {
                    b.push(t_pre as u32, i);
                }
            }
            k += 1;
        }
        b.finish()
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

/// Spike trains of every input, stored per step (compressed rows, sorted, no duplicates).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stimulus {
    inputs: u32,
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
        let mut starts = Vec::with_capacity(self.steps as usize + 1);
        let mut spikes = Vec::with_capacity(self.events.len());
        let mut e = 0;
        for t in 0..self.steps {
            starts.push(spikes.len() as u32);
            while e < self.events.len() && self.events[e].0 == t {
                spikes.push(self.events[e].1);
                e += 1;
            }
        }
        starts.push(spikes.len() as u32);
        Stimulus { inputs: self.inputs, starts, spikes }
    }
}

impl Stimulus {
    /// Number of timesteps.
    pub fn steps(&self) -> u32 {
        (self.starts.len() - 1) as u32
    }

    /// Number of inputs.
    pub fn inputs(&self) -> u32 {
        self.inputs
    }

    /// Sorted inputs that spike at step `t`.
    pub fn at(&self, t: u32) -> &[u32] {
        &self.spikes[self.starts[t as usize] as usize..self.starts[t as usize + 1] as usize]
    }

    /// Total number of input spikes.
    pub fn total_spikes(&self) -> usize {
        self.spikes.len()
    }

    /// Parse CSV text of `step,input` lines. An optional `step,input` header, blank lines and
    /// `#` comments are allowed. `steps == 0` means "up to the last spike".
    pub fn parse_csv(text: &str, origin: &str, inputs: u32, steps: u32) -> Result<Self> {
        let err = |line: usize, message: String| Error::Stimulus {
            path: origin.to_string(),
            line,
            message,
        };
        let mut events = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let line = n + 1;
            let l = raw.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            if l.replace(' ', "").eq_ignore_ascii_case("step,input") {
                continue;
            }
            let fields: Vec<&str> = l.split(',').map(str::trim).collect();
            if fields.len() != 2 {
                return Err(err(line, format!("expected `step,input` (two integers), got `{l}`")));
            }
            let step: u32 = fields[0].parse().map_err(|_| {
                err(line, format!("step `{}` is not a non-negative integer", fields[0]))
            })?;
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
        let text = std::fs::read_to_string(path)
            .map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
        Self::parse_csv(&text, &path.display().to_string(), inputs, steps)
    }

    /// Write as CSV with a header.
    pub fn to_csv(&self) -> String {
        let mut s = String::with_capacity(self.spikes.len() * 10 + 16);
        s.push_str("step,input\n");
        for t in 0..self.steps() {
            for i in self.at(t) {
                s.push_str(&format!("{t},{i}\n"));
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn csv_errors_name_the_line() {
        let e = Stimulus::parse_csv("0,1\n1;2\n", "s.csv", 4, 0).unwrap_err();
        assert_eq!(e.to_string(), "s.csv:2: expected `step,input` (two integers), got `1;2`");
        let e = Stimulus::parse_csv("0,9\n", "s.csv", 4, 0).unwrap_err();
        assert_eq!(e.to_string(), "s.csv:1: input 9 does not exist: the network has inputs 0..3");
        let e = Stimulus::parse_csv("x,1\n", "s.csv", 4, 0).unwrap_err();
        assert_eq!(e.to_string(), "s.csv:1: step `x` is not a non-negative integer");
    }
}
