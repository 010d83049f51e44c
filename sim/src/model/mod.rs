//! The two models of the contract: [`FixedModel`] (bit-accurate) and [`FloatModel`] (f64).

mod fixed;
mod float;
mod plan;
pub mod template;

pub use fixed::{FixedModel, NeuronRaw};
pub use float::FloatModel;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::config::Network;

/// Which model to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// The bit-accurate fixed-point model.
    Fixed,
    /// The f64 reference.
    Float,
}

/// One neuron's state, for waveforms and checks.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Probe {
    /// Membrane, real.
    pub v_mem: f64,
    /// Effective threshold `theta0 + theta_a`, real.
    pub theta: f64,
    /// Post trace y1, real.
    pub trace_y1: f64,
    /// Post trace y2, real.
    pub trace_y2: f64,
    /// Refractory steps left.
    pub refrac: u32,
    /// Spiked this step.
    pub spike: bool,
    /// Raw words `[v_mem, theta, trace_y1, trace_y2]` of the fixed model.
    pub raw: Option<[i64; 4]>,
}

/// A model that can be stepped.
pub trait Model: Send {
    /// Advance one timestep with the sorted, duplicate-free input spikes `pre`; returns the
    /// neurons that spiked, ascending.
    fn step(&mut self, pre: &[u32]) -> &[u32];
    /// Steps taken so far.
    fn time(&self) -> u32;
    /// Number of neurons.
    fn neurons(&self) -> usize;
    /// Every weight as a real number, input-major (`w[i * neurons + j]`).
    fn weights(&self) -> Vec<f64>;
    /// State of neuron `j` after the last step.
    fn probe(&self, j: usize) -> Probe;
    /// Pre trace x1 of every input, real.
    fn pre_traces(&self) -> Vec<f64>;
    /// Every state quantity of the contract, as the model keeps it (raw words in the fixed
    /// model, reals in the float one), named as in `docs/state.md`; the step is [`Model::time`].
    fn state(&self) -> Vec<crate::state::Quantity>;
    /// Continue from a saved state: the step count and every quantity [`Model::state`] gives.
    /// Everything is checked before anything is set, so a refused state changes nothing.
    fn set_state(&mut self, step: u32, q: &[crate::state::Quantity]) -> Result<(), String>;
    /// The global modulator `r` of the next step only, in place of the network's stimulus
    /// (`stimulus.modulator_file`, 0 without one): for a host that computes `r` from the
    /// spikes as it goes (closed-loop reward).
    fn set_modulator(&mut self, r: f64);
    /// The global modulator `r` the next step will take (before its format rounds and
    /// saturates it): [`Model::set_modulator`]'s, else the reward task's
    /// (`stimulus.reward`, from the model's own spikes), else the stimulus's.
    fn next_modulator(&self) -> f64;
    /// Per-synapse variable `k` of every synapse as a real number, input-major; `None` when
    /// the network has no such variable.
    fn syn(&self, k: usize) -> Option<Vec<f64>>;
}

/// Build a model of the given kind.
pub fn build(net: &Network, kind: ModelKind) -> Box<dyn Model> {
    match kind {
        ModelKind::Fixed => Box::new(FixedModel::new(net)),
        ModelKind::Float => Box::new(FloatModel::new(net)),
    }
}

/// Initial weights, real, input-major: uniform in `w_init ± w_init_spread`, clamped to the
/// bounds, drawn from ChaCha8 seeded with `network.seed` (semantics §5.2), then the ones
/// `plasticity.w_init_file` sets. The fixed model rounds them to nearest.
pub fn initial_weights(net: &Network) -> Vec<f64> {
    let p = &net.cfg.plasticity;
    let n = net.inputs() * net.neurons();
    let mut rng = ChaCha8Rng::seed_from_u64(net.cfg.network.seed as u64 ^ 0x57E1_6475);
    let mut w: Vec<f64> = (0..n)
        .map(|_| {
            let u: f64 = rng.random();
            (p.w_init + p.w_init_spread * (2.0 * u - 1.0)).clamp(p.w_min, p.w_max)
        })
        .collect();
    // After every draw, so that a file setting some weights leaves the others as they were.
    for &(i, j, x) in &net.w_init_overrides {
        w[i as usize * net.neurons() + j as usize] = x;
    }
    w
}
