//! Running a model over a stimulus and summarising what happened.

use std::time::Instant;

use serde::Serialize;

use crate::config::Network;
use crate::model::Model;
use crate::stimulus::{SpikeSource, Stimulus};

/// Sees the model after every step (waveform writers, checkers).
pub trait Observer {
    /// Called after step `t` with the neurons that spiked.
    fn after_step(&mut self, t: u32, model: &dyn Model, spikes: &[u32]);
}

/// An observer that does nothing.
pub struct NoObserver;

impl Observer for NoObserver {
    fn after_step(&mut self, _: u32, _: &dyn Model, _: &[u32]) {}
}

/// Two observers in turn.
impl<A: Observer, B: Observer> Observer for (A, B) {
    fn after_step(&mut self, t: u32, model: &dyn Model, spikes: &[u32]) {
        self.0.after_step(t, model, spikes);
        self.1.after_step(t, model, spikes);
    }
}

/// An observer that may be absent (a waveform or a recording only when asked for).
impl<O: Observer> Observer for Option<O> {
    fn after_step(&mut self, t: u32, model: &dyn Model, spikes: &[u32]) {
        if let Some(o) = self {
            o.after_step(t, model, spikes);
        }
    }
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct Record {
    /// Steps run.
    pub steps: u32,
    /// Output spikes `(step, neuron)`, in order, when the run kept them (see [`run_source`]). A
    /// run continued from a saved state numbers its steps on from the state's step.
    pub spikes: Vec<(u32, u32)>,
    /// Output spikes per neuron.
    pub spike_counts: Vec<u64>,
    /// Output spikes in all.
    pub output_spikes: u64,
    /// Input spikes delivered.
    pub input_spikes: u64,
    /// Synaptic events: input spikes x neurons (integration) plus post spikes x inputs (LTP).
    pub synaptic_events: u64,
    /// Wall time of the stepping loop, seconds.
    pub seconds: f64,
}

/// Run `model` over every step of `stim`, keeping the output spikes.
pub fn run(model: &mut dyn Model, stim: &Stimulus, obs: &mut dyn Observer) -> Record {
    run_source(model, &mut stim.cursor(), obs, true)
}

/// Run `model` over every step `src` gives. With `keep_spikes` false the run's memory does not
/// grow with its length: the observer sees every step's spikes, the record counts them.
pub fn run_source(
    model: &mut dyn Model,
    src: &mut dyn SpikeSource,
    obs: &mut dyn Observer,
    keep_spikes: bool,
) -> Record {
    let neurons = model.neurons();
    let inputs = src.inputs() as u64;
    let mut spikes = Vec::new();
    let mut spike_counts = vec![0u64; neurons];
    let mut input_spikes = 0u64;
    let mut post = 0u64;
    // The step's spikes are copied out so the observer can borrow the model.
    let mut out = Vec::with_capacity(neurons);
    let start = Instant::now();
    // A model continued from a saved state counts on from its step.
    let t0 = model.time();
    let mut t = t0;
    while let Some(pre) = src.next_step() {
        input_spikes += pre.len() as u64;
        out.clear();
        out.extend_from_slice(model.step(pre));
        post += out.len() as u64;
        obs.after_step(t, model, &out);
        for &j in &out {
            spike_counts[j as usize] += 1;
        }
        if keep_spikes {
            spikes.extend(out.iter().map(|&j| (t, j)));
        }
        t += 1;
    }
    let seconds = start.elapsed().as_secs_f64();
    Record {
        steps: t - t0,
        spikes,
        spike_counts,
        output_spikes: post,
        input_spikes,
        synaptic_events: input_spikes * neurons as u64 + post * inputs,
        seconds,
    }
}

/// Statistics of a weight matrix.
#[derive(Clone, Debug, Serialize)]
pub struct WeightStats {
    /// Mean.
    pub mean: f64,
    /// Standard deviation.
    pub std: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
    /// Fraction within the lowest tenth of `[w_min, w_max]`.
    pub frac_low: f64,
    /// Fraction within the highest tenth.
    pub frac_high: f64,
    /// Ten-bin histogram over `[w_min, w_max]`.
    pub histogram: Vec<u64>,
}

impl WeightStats {
    /// Statistics of `w` within bounds `[lo, hi]`.
    pub fn of(w: &[f64], lo: f64, hi: f64) -> Self {
        let n = w.len().max(1) as f64;
        let mean = w.iter().sum::<f64>() / n;
        let var = w.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
        let mut histogram = vec![0u64; 10];
        for &x in w {
            let b = (((x - lo) / (hi - lo)) * 10.0).floor().clamp(0.0, 9.0) as usize;
            histogram[b] += 1;
        }
        WeightStats {
            mean,
            std: var.sqrt(),
            min: w.iter().copied().fold(f64::INFINITY, f64::min),
            max: w.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            frac_low: histogram[0] as f64 / n,
            frac_high: histogram[9] as f64 / n,
            histogram,
        }
    }

    /// Bimodal: at least `min_each` of the weights in each outer tenth, and together at
    /// least `min_total`.
    pub fn is_bimodal(&self, min_each: f64, min_total: f64) -> bool {
        self.frac_low >= min_each
            && self.frac_high >= min_each
            && self.frac_low + self.frac_high >= min_total
    }
}

/// The learning diagnostics of the BDH background document (issue 11, item 7), per neuron:
/// how much memory the weights hold, how much of it is consolidated, how fast it fades.
#[derive(Clone, Debug, Serialize)]
pub struct Diagnostics {
    /// `sum |w - w0|` over every synapse (BDH's `sigma_norm`), `w0` the weights learning
    /// started from.
    pub memory_norm: f64,
    /// The same over each neuron's synapses.
    pub memory_norm_per_neuron: Vec<f64>,
    /// With an unsigned per-synapse variable (the first, read as a consolidation level): the
    /// fraction of "stiff" synapses, whose level is at least half its format's maximum.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stiff: Option<f64>,
    /// The same per neuron.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stiff_per_neuron: Option<Vec<f64>>,
    /// With a sweep in the rule: the effective decay rate per sweep
    /// ([`RuleFloat::sweep_decay`](crate::plasticity::rule::RuleFloat::sweep_decay)), the mean
    /// over the synapses above `w_min`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decay_per_sweep: Option<f64>,
    /// The same per neuron (NaN, `null` in JSON, where every synapse is at `w_min`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decay_per_neuron: Option<Vec<f64>>,
    /// The synapses above `w_min`, whose decay is counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decay_synapses: Option<usize>,
}

impl Diagnostics {
    /// Of weights `w` (input-major, real units) that started at `w0`, with the per-synapse
    /// variables' values `vars` (as [`Model::syn`]).
    pub fn of(net: &Network, w: &[f64], w0: &[f64], vars: &[Vec<f64>]) -> Self {
        let nn = net.neurons().max(1);
        let per_neuron = |f: &dyn Fn(usize) -> Option<f64>| {
            let (mut sum, mut count) = (vec![0.0; nn], vec![0usize; nn]);
            for i in 0..w.len() {
                if let Some(x) = f(i) {
                    sum[i % nn] += x;
                    count[i % nn] += 1;
                }
            }
            (sum, count)
        };
        let (norm, _) = per_neuron(&|i| Some((w[i] - w0[i]).abs()));
        let level = net.syn.iter().position(|v| !v.fmt.signed).filter(|&k| k < vars.len());
        let (stiff, stiff_per_neuron) = match level {
            Some(k) => {
                let spec = &net.cfg.plasticity.synapse[&net.syn[k].name];
                let (sum, count) = per_neuron(&|i| Some(spec.stiff(vars[k][i]) as u8 as f64));
                let all = sum.iter().sum::<f64>() / count.iter().sum::<usize>().max(1) as f64;
                let per = sum.iter().zip(&count).map(|(s, &c)| s / c.max(1) as f64).collect();
                (Some(all), Some(per))
            }
            None => (None, None),
        };
        let p = &net.cfg.plasticity;
        let rule = net.rule.as_ref().filter(|r| r.sweeps());
        let rule = rule.map(|r| crate::plasticity::rule::RuleFloat::new(r, p.w_min, p.w_max));
        let (decay_per_sweep, decay_per_neuron, decay_synapses) = match rule {
            Some(f) => {
                let (sum, count) = per_neuron(&|i| {
                    let mut syn = [0.0; 2];
                    for (k, v) in vars.iter().enumerate().take(2) {
                        syn[k] = v[i];
                    }
                    f.sweep_decay(w[i], &syn)
                });
                let n: usize = count.iter().sum();
                let per = sum
                    .iter()
                    .zip(&count)
                    .map(|(s, &c)| if c == 0 { f64::NAN } else { s / c as f64 })
                    .collect();
                (Some(sum.iter().sum::<f64>() / n.max(1) as f64), Some(per), Some(n))
            }
            None => (None, None, None),
        };
        Diagnostics {
            memory_norm: norm.iter().sum(),
            memory_norm_per_neuron: norm,
            stiff,
            stiff_per_neuron,
            decay_per_sweep,
            decay_per_neuron,
            decay_synapses,
        }
    }
}

/// The JSON summary of a run.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Network name.
    pub network: String,
    /// `fixed` or `float`.
    pub model: String,
    /// Inputs x neurons.
    pub inputs: u32,
    /// Neurons.
    pub neurons: u32,
    /// Steps run.
    pub steps: u32,
    /// Time step, ms.
    pub dt_ms: f64,
    /// Simulated time, s.
    pub simulated_s: f64,
    /// Input spikes delivered.
    pub input_spikes: u64,
    /// Output spikes.
    pub output_spikes: u64,
    /// Spikes per neuron.
    pub spike_counts: Vec<u64>,
    /// Rate per neuron, Hz.
    pub rates_hz: Vec<f64>,
    /// Mean rate over neurons, Hz.
    pub mean_rate_hz: f64,
    /// Final weights.
    pub weights: WeightStats,
    /// Memory norm, stiff synapses and effective decay, the memory norm since this run's
    /// first step.
    pub diagnostics: Diagnostics,
    /// Synaptic events processed.
    pub synaptic_events: u64,
    /// Wall time, s.
    pub wall_s: f64,
    /// Synaptic events per wall second.
    pub events_per_s: f64,
}

impl Summary {
    /// Summarise a finished run: final `weights` and variables `vars`, from weights `w0`.
    pub fn new(
        net: &Network,
        model: &str,
        rec: &Record,
        weights: &[f64],
        w0: &[f64],
        vars: &[Vec<f64>],
    ) -> Self {
        let c = &net.cfg;
        let simulated_s = rec.steps as f64 * c.network.dt_ms / 1000.0;
        let spike_counts = rec.spike_counts.clone();
        let rates_hz: Vec<f64> =
            spike_counts.iter().map(|&n| n as f64 / simulated_s.max(1e-12)).collect();
        Summary {
            network: c.network.name.clone(),
            model: model.to_string(),
            inputs: c.network.inputs,
            neurons: c.network.neurons,
            steps: rec.steps,
            dt_ms: c.network.dt_ms,
            simulated_s,
            input_spikes: rec.input_spikes,
            output_spikes: rec.output_spikes,
            mean_rate_hz: rates_hz.iter().sum::<f64>() / rates_hz.len() as f64,
            spike_counts,
            rates_hz,
            weights: WeightStats::of(weights, c.plasticity.w_min, c.plasticity.w_max),
            diagnostics: Diagnostics::of(net, weights, w0, vars),
            synaptic_events: rec.synaptic_events,
            wall_s: rec.seconds,
            events_per_s: rec.synaptic_events as f64 / rec.seconds.max(1e-12),
        }
    }
}
