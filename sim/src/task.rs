//! Tasks that set the global modulator `r` from the network's own spikes (closed loop): the
//! reward of Izhikevich's distal-reward experiment (2007). The models run the task themselves,
//! each on its own spikes, so `sim`, `compare` and the co-simulation need no host; `synforge
//! run` reads the model's next `r` and sends it with each step.

use serde::{Deserialize, Serialize};

use crate::lfsr::Lfsr;

/// `[stimulus.reward]`: reward the pairing of one synapse. Whenever input `input` spikes and
/// neuron `neuron` spikes within `window_ms` after it (the same step counts: pre before post),
/// a reward `r = value` is delivered for `duration_ms`, starting after a delay drawn uniformly
/// from `delay_ms` (the task's own LFSR, seeded by `seed`). `r = 0` otherwise.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewardSpec {
    /// The rewarded synapse's input.
    pub input: u32,
    /// Its neuron.
    pub neuron: u32,
    /// A pairing: the neuron spikes less than this after the input.
    #[serde(default = "window")]
    pub window_ms: f64,
    /// The delay from a pairing to its reward, drawn uniformly in `[lo, hi]`.
    pub delay_ms: [f64; 2],
    /// `r` during a reward.
    pub value: f64,
    /// How long a reward lasts.
    pub duration_ms: f64,
    /// Seed of the delays.
    #[serde(default)]
    pub seed: u32,
}

fn window() -> f64 {
    10.0
}

/// A [`RewardSpec`] in steps, with its state: the last spike of the input not yet paired and
/// the rewards scheduled.
#[derive(Clone, Debug)]
pub struct RewardTask {
    input: u32,
    neuron: u32,
    window: u32,
    delay: (u32, u32),
    value: f64,
    duration: u32,
    lfsr: Lfsr,
    last_pre: Option<u32>,
    /// Start steps of the rewards not yet over, ascending.
    pending: Vec<u32>,
    /// Pairings seen so far.
    pub pairings: u32,
}

impl RewardTask {
    /// The task of `spec` at `dt_ms` per step (validated by the config).
    pub fn new(spec: &RewardSpec, dt_ms: f64) -> Self {
        let steps = |ms: f64| (ms / dt_ms).round().max(0.0) as u32;
        RewardTask {
            input: spec.input,
            neuron: spec.neuron,
            window: steps(spec.window_ms).max(1),
            delay: (steps(spec.delay_ms[0]), steps(spec.delay_ms[1])),
            value: spec.value,
            duration: steps(spec.duration_ms).max(1),
            lfsr: Lfsr::new(if spec.seed == 0 { 0x5EED } else { spec.seed }),
            last_pre: None,
            pending: Vec::new(),
            pairings: 0,
        }
    }

    /// The task of `net`'s `[stimulus.reward]`, if it has one.
    pub fn of(net: &crate::config::Network) -> Option<Self> {
        net.cfg.stimulus.reward.as_ref().map(|s| Self::new(s, net.cfg.network.dt_ms))
    }

    /// Its state, as saved-state quantities ([`crate::state::REWARD_NAMES`]).
    pub fn quantities(&self) -> Vec<crate::state::Quantity> {
        use crate::state::{self, Per, Quantity, Values};
        let q = |name: &'static str, per, v: Vec<u32>| Quantity {
            name,
            per,
            values: Values::U32(v),
            format: None,
            what: state::what(name),
        };
        vec![
            q("reward_lfsr", Per::Network, vec![self.lfsr.state()]),
            q("reward_last_pre", Per::Network, vec![self.last_pre.unwrap_or(u32::MAX)]),
            q("reward_pairings", Per::Network, vec![self.pairings]),
            q("reward_pending", Per::List, self.pending.clone()),
        ]
    }

    /// This task going on from the quantities [`RewardTask::quantities`] gave, at step
    /// `step`, or why they cannot be.
    pub fn restored(&self, q: &[crate::state::Quantity], step: u32) -> Result<Self, String> {
        use crate::state;
        let lfsr = state::u32s(q, "reward_lfsr", 1)?;
        state::in_range("reward_lfsr", lfsr, 1, u32::MAX as i64, "the LFSR's states (0 is dead)")?;
        let last = state::u32s(q, "reward_last_pre", 1)?[0];
        if last != u32::MAX && last >= step {
            return Err(format!(
                "`reward_last_pre` = {last} is not a step before the state's step {step}"
            ));
        }
        let pairings = state::u32s(q, "reward_pairings", 1)?[0];
        let pending = state::u32s(q, "reward_pending", None)?;
        if !pending.windows(2).all(|w| w[0] <= w[1]) {
            return Err("`reward_pending` is not in ascending order".into());
        }
        if pending.len() > pairings as usize {
            return Err(format!(
                "`reward_pending` holds {} rewards, more than the {pairings} pairings",
                pending.len()
            ));
        }
        Ok(RewardTask {
            lfsr: Lfsr::new(lfsr[0]),
            last_pre: (last != u32::MAX).then_some(last),
            pairings,
            pending: pending.to_vec(),
            ..self.clone()
        })
    }

    /// `r` of step `t`.
    pub fn r(&self, t: u32) -> f64 {
        if self.pending.iter().any(|&s| s <= t && t < s.saturating_add(self.duration)) {
            self.value
        } else {
            0.0
        }
    }

    /// After step `t` with input spikes `pre` and output spikes `fired` (both ascending):
    /// a pairing schedules a reward.
    pub fn observe(&mut self, t: u32, pre: &[u32], fired: &[u32]) {
        if pre.binary_search(&self.input).is_ok() {
            self.last_pre = Some(t);
        }
        let paired = self.last_pre.is_some_and(|tp| t - tp < self.window);
        if paired && fired.binary_search(&self.neuron).is_ok() {
            self.last_pre = None;
            let (lo, hi) = self.delay;
            let d = lo + self.lfsr.draw() % (hi - lo + 1);
            self.pending.push(t + 1 + d);
            self.pending.sort_unstable();
            self.pairings += 1;
        }
        let duration = self.duration;
        self.pending.retain(|&s| s.saturating_add(duration) > t + 1);
    }
}
