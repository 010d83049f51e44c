//! How neurons respond to a stimulus's embedded pattern: which became detectors of it.
//!
//! Used by `synforge demo` to show that learning happened, and by the learning tests.

use crate::config::Config;
use crate::run::Record;
use crate::stimulus::{PatternSpec, Stimulus};

/// A neuron responds to the pattern when, over the second half of the run, it fires in at least
/// this fraction of the replays ...
pub const MIN_HIT_FRACTION: f64 = 0.5;
/// ... and its rate inside the replay windows is at least this many times its rate outside.
pub const MIN_RATE_RATIO: f64 = 5.0;

/// The frozen pattern of a Poisson stimulus, as replayed: which inputs take part and when.
pub struct Replay {
    /// Replay length, steps.
    pub len: u32,
    /// Steps from one replay's start to the next.
    pub period: u32,
    /// Inputs `0..pattern_inputs` follow the pattern during a replay.
    pub pattern_inputs: usize,
    /// `(phase, input)` of every spike of a replay.
    pub spikes: Vec<(u32, u32)>,
}

impl Replay {
    /// The replay of `spec` in `stim` (a stimulus generated with that pattern).
    pub fn of(spec: &PatternSpec, cfg: &Config, stim: &Stimulus) -> Self {
        let (n, len, period) = spec.shape(cfg.network.inputs, cfg.network.dt_ms);
        let pattern_inputs = n as usize;
        // A run shorter than the pattern holds only its first steps.
        let spikes = (0..len.min(stim.steps()))
            .flat_map(|t| stim.at(t).iter().map(move |&i| (t, i)))
            .filter(|&(_, i)| (i as usize) < pattern_inputs)
            .collect();
        Replay { len, period, pattern_inputs, spikes }
    }
}

/// How one neuron responds to the replays over the second half of a run.
#[derive(Debug)]
pub struct Response {
    /// Replays with at least one spike of the neuron in them, over all replays.
    pub hit_fraction: f64,
    /// Rate inside the replay windows over the rate outside them (infinite if none outside).
    pub rate_ratio: f64,
    /// Median phase of its spikes inside the windows, steps.
    pub median_phase: Option<u32>,
}

impl Response {
    /// Whether the neuron is selective: [`MIN_HIT_FRACTION`] and [`MIN_RATE_RATIO`] hold.
    pub fn responds(&self) -> bool {
        self.hit_fraction >= MIN_HIT_FRACTION && self.rate_ratio >= MIN_RATE_RATIO
    }
}

/// How each of `neurons` neurons responds to the replays over the second half of `record`.
pub fn responses(replay: &Replay, record: &Record, neurons: usize) -> Vec<Response> {
    let from = record.steps / 2;
    let mut phases = vec![Vec::new(); neurons];
    let mut hits = vec![std::collections::BTreeSet::new(); neurons];
    let mut outside = vec![0u64; neurons];
    for &(t, j) in record.spikes.iter().filter(|s| s.0 >= from) {
        let phase = t % replay.period;
        if phase < replay.len {
            phases[j as usize].push(phase);
            hits[j as usize].insert(t / replay.period);
        } else {
            outside[j as usize] += 1;
        }
    }
    let inside: Vec<u32> =
        (from..record.steps).filter(|t| t % replay.period < replay.len).collect();
    let steps_in = inside.len() as f64;
    let steps_out = (record.steps - from) as f64 - steps_in;
    let mut windows: Vec<u32> = inside.iter().map(|t| t / replay.period).collect();
    windows.dedup();
    let replays = windows.len() as f64;
    (0..neurons)
        .map(|j| {
            let rate_in = phases[j].len() as f64 / steps_in;
            let rate_out = outside[j] as f64 / steps_out;
            phases[j].sort_unstable();
            Response {
                hit_fraction: hits[j].len() as f64 / replays,
                rate_ratio: if rate_out > 0.0 { rate_in / rate_out } else { f64::INFINITY },
                median_phase: phases[j].get(phases[j].len() / 2).copied(),
            }
        })
        .collect()
}
