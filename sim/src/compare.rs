//! The measured gap between the float reference and the bit-accurate model.

use serde::Serialize;

use crate::config::Network;
use crate::model::{FixedModel, FloatModel};
use crate::run::{run_source, NoObserver, Observer, Record};
use crate::stimulus::{SpikeSource, Stimulus};

/// Distance between two runs of the same network on the same stimulus.
#[derive(Clone, Debug, Serialize)]
pub struct Distance {
    /// Steps compared.
    pub steps: u32,
    /// Output spikes of the fixed model.
    pub spikes_fixed: u64,
    /// Output spikes of the float model.
    pub spikes_float: u64,
    /// Mean firing rate of the float model, Hz.
    pub mean_rate_float_hz: f64,
    /// Mean over neurons of |rate_fixed - rate_float|, Hz.
    pub rate_error_mean_hz: f64,
    /// Largest per-neuron |rate_fixed - rate_float|, Hz.
    pub rate_error_max_hz: f64,
    /// Sum of |count differences| over the float model's total spike count.
    pub rate_error_rel: f64,
    /// Coincidence window used for spike-time agreement, steps (either side).
    pub window_steps: u32,
    /// `2 * matched / (spikes_fixed + spikes_float)`: 1 when every spike has a partner within
    /// the window in the other model, one partner each.
    pub spike_agreement: f64,
    /// RMS difference of the final weights, weight units.
    pub weight_rmse: f64,
    /// `weight_rmse / (w_max - w_min)`.
    pub weight_rmse_rel: f64,
    /// Pearson correlation of the final weights (1 when both are constant and equal).
    pub weight_correlation: f64,
    /// Per-neuron rate error, Hz (fixed - float).
    pub rate_error_hz: Vec<f64>,
}

/// Greedy one-to-one matching of two sorted spike-time lists within `window`.
fn matched(a: &[u32], b: &[u32], window: u32) -> u64 {
    let (mut i, mut j, mut m) = (0, 0, 0u64);
    while i < a.len() && j < b.len() {
        // Saturating: a window as long as the run matches every pair (no wrap-around).
        if a[i].saturating_add(window) < b[j] {
            i += 1;
        } else if b[j].saturating_add(window) < a[i] {
            j += 1;
        } else {
            m += 1;
            i += 1;
            j += 1;
        }
    }
    m
}

fn per_neuron_times(spikes: &[(u32, u32)], neurons: usize) -> Vec<Vec<u32>> {
    let mut v = vec![Vec::new(); neurons];
    for &(t, j) in spikes {
        v[j as usize].push(t);
    }
    v
}

/// Pearson correlation; 1 when both sides are constant and equal, 0 when one only is constant.
pub fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let ma = a.iter().sum::<f64>() / n;
    let mb = b.iter().sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    if saa == 0.0 && sbb == 0.0 {
        if a == b {
            1.0
        } else {
            0.0
        }
    } else if saa == 0.0 || sbb == 0.0 {
        0.0
    } else {
        sab / (saa * sbb).sqrt()
    }
}

impl Distance {
    /// Distance between a fixed and a float run.
    pub fn between(
        net: &Network,
        fixed: &Record,
        w_fixed: &[f64],
        float: &Record,
        w_float: &[f64],
        window_steps: u32,
    ) -> Self {
        let nn = net.neurons();
        let secs = fixed.steps as f64 * net.cfg.network.dt_ms / 1000.0;
        let (cf, cr) = (&fixed.spike_counts, &float.spike_counts);
        let rate_error_hz: Vec<f64> =
            cf.iter().zip(cr).map(|(&a, &b)| (a as f64 - b as f64) / secs).collect();
        let tf = per_neuron_times(&fixed.spikes, nn);
        let tr = per_neuron_times(&float.spikes, nn);
        let m: u64 = tf.iter().zip(&tr).map(|(a, b)| matched(a, b, window_steps)).sum();
        let total = (fixed.spikes.len() + float.spikes.len()) as f64;
        let diff: u64 = cf.iter().zip(cr).map(|(&a, &b)| a.abs_diff(b)).sum();
        let mse = w_fixed.iter().zip(w_float).map(|(a, b)| (a - b) * (a - b)).sum::<f64>()
            / w_fixed.len() as f64;
        let p = &net.cfg.plasticity;
        Distance {
            steps: fixed.steps,
            spikes_fixed: fixed.spikes.len() as u64,
            spikes_float: float.spikes.len() as u64,
            mean_rate_float_hz: float.spikes.len() as f64 / nn as f64 / secs,
            rate_error_mean_hz: rate_error_hz.iter().map(|e| e.abs()).sum::<f64>() / nn as f64,
            rate_error_max_hz: rate_error_hz.iter().fold(0.0, |m, e| m.max(e.abs())),
            rate_error_rel: if float.spikes.is_empty() {
                if diff == 0 {
                    0.0
                } else {
                    f64::INFINITY
                }
            } else {
                diff as f64 / float.spikes.len() as f64
            },
            window_steps,
            spike_agreement: if total == 0.0 { 1.0 } else { 2.0 * m as f64 / total },
            weight_rmse: mse.sqrt(),
            weight_rmse_rel: mse.sqrt() / (p.w_max - p.w_min),
            weight_correlation: correlation(w_fixed, w_float),
            rate_error_hz,
        }
    }
}

/// Run both models, each on its own stream of the same stimulus, and measure their distance.
/// Memory grows with the output spikes only (they are kept for the spike-time agreement).
/// `obs` sees the fixed model's steps (progress).
pub fn compare_sources(
    net: &Network,
    fixed_src: &mut dyn SpikeSource,
    float_src: &mut dyn SpikeSource,
    window_steps: u32,
    obs: &mut (dyn Observer + Send),
) -> Distance {
    let mut fixed = FixedModel::new(net);
    let mut float = FloatModel::new(net);
    compare_models(net, &mut fixed, &mut float, fixed_src, float_src, window_steps, obs)
}

/// Like [`compare_sources`], from the given models (a loaded state, say), which are left as the
/// run leaves them. Each source starts at its model's step.
pub fn compare_models(
    net: &Network,
    fixed: &mut dyn crate::model::Model,
    float: &mut dyn crate::model::Model,
    fixed_src: &mut dyn SpikeSource,
    float_src: &mut dyn SpikeSource,
    window_steps: u32,
    obs: &mut (dyn Observer + Send),
) -> Distance {
    let (a, b) = rayon::join(
        || {
            let r = run_source(fixed, fixed_src, obs, true);
            (r, fixed.weights())
        },
        || {
            let r = run_source(float, float_src, &mut NoObserver, true);
            (r, float.weights())
        },
    );
    Distance::between(net, &a.0, &a.1, &b.0, &b.1, window_steps)
}

/// Run both models on `stim` and measure their distance.
pub fn compare(net: &Network, stim: &Stimulus, window_steps: u32) -> Distance {
    compare_sources(net, &mut stim.cursor(), &mut stim.cursor(), window_steps, &mut NoObserver)
}
