//! The f64 reference: the contract's order of operations with exact exponentials and no
//! quantisation. It saturates where the contract saturates (format ranges, weight bounds),
//! so the gap to the bit-accurate model is quantisation and rounding alone.

use super::{initial_weights, Model, Probe};
use crate::config::Network;
use crate::neuron::lif::LifFloat;
use crate::plasticity::homeostasis::HomeostasisFloat;
use crate::plasticity::lang::Trace;
use crate::plasticity::rule::RuleFloat;
use crate::state::{self, Per, Quantity, Values};
use crate::trace::TracesFloat;

/// The float reference model.
#[derive(Clone)]
pub struct FloatModel {
    lif: LifFloat,
    tr: TracesFloat,
    rule: Option<RuleFloat>,
    homeo: HomeostasisFloat,
    /// The traces x2 and y2 exist (the rule reads them).
    has_x2: bool,
    has_y2: bool,
    /// The state has `theta_a` (`homeostasis.adaptive_threshold`).
    adaptive: bool,
    /// `(w_min, w_max)`.
    bounds: (f64, f64),
    inputs: usize,
    neurons: usize,
    t: u32,
    w: Vec<f64>,
    v: Vec<f64>,
    theta_a: Vec<f64>,
    theta: Vec<f64>,
    y1: Vec<f64>,
    y2: Vec<f64>,
    refr: Vec<u16>,
    count: Vec<u16>,
    spiked: Vec<bool>,
    prev_spiked: Vec<bool>,
    x1: Vec<f64>,
    x2: Vec<f64>,
    pre_mask: Vec<bool>,
    prev_total: u32,
    acc: Vec<f64>,
    out: Vec<u32>,
    /// The network's modulator of every step, and its format when the rule reads `r`.
    modulator: std::sync::Arc<crate::stimulus::Modulator>,
    r_format: Option<crate::format::Format>,
    /// [`Model::set_modulator`]'s value for the next step.
    r_next: Option<f64>,
    /// The task that sets `r` from the spikes (`stimulus.reward`).
    task: Option<crate::task::RewardTask>,
    /// The per-synapse variables, input-major like `w`, and their updates.
    syn: Vec<Vec<f64>>,
    syn_rules: Vec<RuleFloat>,
    /// The sweep's period (semantics §4.7), when some term has `u`.
    sweep_period: Option<u32>,
}

impl FloatModel {
    /// `r` of the next step unless a host sets it: the reward task's, else the stimulus's.
    fn scheduled_modulator(&self) -> f64 {
        match &self.task {
            Some(task) => task.r(self.t),
            None => self.modulator.at(self.t),
        }
    }

    /// A fresh model with the config's initial weights (unquantised).
    pub fn new(net: &Network) -> Self {
        Self::with_weights(net, initial_weights(net))
    }

    /// A fresh model with the given weights, input-major.
    pub fn with_weights(net: &Network, w: Vec<f64>) -> Self {
        let (ni, nn) = (net.inputs(), net.neurons());
        assert_eq!(w.len(), ni * nn, "weight matrix must be inputs x neurons");
        FloatModel {
            lif: LifFloat::new(net),
            tr: TracesFloat::new(net),
            rule: net
                .rule
                .as_ref()
                .map(|r| RuleFloat::new(r, net.cfg.plasticity.w_min, net.cfg.plasticity.w_max)),
            homeo: HomeostasisFloat::new(net),
            has_x2: net.has_trace(Trace::X2),
            has_y2: net.has_trace(Trace::Y2),
            adaptive: net.cfg.homeostasis.adaptive_threshold,
            bounds: (net.cfg.plasticity.w_min, net.cfg.plasticity.w_max),
            inputs: ni,
            neurons: nn,
            t: 0,
            w,
            v: vec![0.0; nn],
            theta_a: vec![0.0; nn],
            theta: vec![net.cfg.neuron.threshold; nn],
            y1: vec![0.0; nn],
            y2: vec![0.0; nn],
            refr: vec![0; nn],
            count: vec![0; nn],
            spiked: vec![false; nn],
            prev_spiked: vec![false; nn],
            x1: vec![0.0; ni],
            x2: vec![0.0; ni],
            pre_mask: vec![false; ni],
            prev_total: 0,
            acc: vec![0.0; nn],
            out: Vec::new(),
            modulator: net.modulator.clone(),
            r_format: net.modulator_format(),
            r_next: None,
            task: crate::task::RewardTask::of(net),
            syn: net
                .syn
                .iter()
                .map(|v| vec![net.cfg.plasticity.synapse[&v.name].init; ni * nn])
                .collect(),
            syn_rules: net
                .syn
                .iter()
                .map(|v| {
                    RuleFloat::new(&v.update, net.cfg.plasticity.w_min, net.cfg.plasticity.w_max)
                })
                .collect(),
            sweep_period: net.cfg.plasticity.sweep_period_steps,
        }
    }
}

impl Model for FloatModel {
    fn step(&mut self, pre: &[u32]) -> &[u32] {
        debug_assert!(pre.windows(2).all(|p| p[0] < p[1]), "input spikes must be sorted, distinct");
        let (ni, nn) = (self.inputs, self.neurons);
        // §4.2 Pre-trace decay.
        for i in 0..ni {
            self.x1[i] = self.tr.x1.decay(self.x1[i]);
            if self.has_x2 {
                self.x2[i] = self.tr.x2.decay(self.x2[i]);
            }
        }
        for &i in pre {
            self.pre_mask[i as usize] = true;
        }
        // §4.1 Synaptic input.
        self.acc.fill(0.0);
        for &i in pre {
            let row = &self.w[i as usize * nn..(i as usize + 1) * nn];
            for (a, &w) in self.acc.iter_mut().zip(row) {
                *a += w;
            }
        }
        // §4.1 Neuron phase.
        for j in 0..nn {
            let others = self.prev_total - self.prev_spiked[j] as u32;
            let live = self.lif.integrate(&mut self.v[j], &mut self.refr[j], self.acc[j], others);
            let theta = self.homeo.decay(&mut self.theta_a[j]);
            self.theta[j] = theta;
            self.y1[j] = self.tr.y1.decay(self.y1[j]);
            if self.has_y2 {
                self.y2[j] = self.tr.y2.decay(self.y2[j]);
            }
            let spike = live && self.lif.fire(&mut self.v[j], &mut self.refr[j], theta);
            if spike {
                self.homeo.bump(&mut self.theta_a[j]);
                self.count[j] = self.count[j].saturating_add(1);
            }
            self.spiked[j] = spike;
        }
        // §4.3 Plasticity: every synapse whose input or neuron spiked, once. The modulator
        // saturates into its format's range and is not rounded.
        let r = self.r_next.take().unwrap_or_else(|| self.scheduled_modulator());
        let r = self.r_format.map_or(0.0, |f| if r.is_finite() { f.sat_real(r) } else { 0.0 });
        if let Some(rule) = &self.rule {
            for i in 0..ni {
                let pre = self.pre_mask[i];
                let (x1, x2) = (self.x1[i], self.x2[i]);
                let (x1p, x2p) =
                    if pre { (self.tr.x1.bump(x1), self.tr.x2.bump(x2)) } else { (x1, x2) };
                for j in 0..nn {
                    let post = self.spiked[j];
                    if pre || post {
                        let v = [x1, x2, x1p, x2p, self.y1[j], self.y2[j]];
                        let a = i * nn + j;
                        let w0 = self.w[a];
                        let old = [0, 1].map(|k| self.syn.get(k).map_or(0.0, |s| s[a]));
                        self.w[a] = rule.update_target(w0, w0, pre, post, &v, r, &old);
                        for (k, sr) in self.syn_rules.iter().enumerate() {
                            self.syn[k][a] = sr.update_target(old[k], w0, pre, post, &v, r, &old);
                        }
                    }
                }
            }
        }
        // §4.4 Trace increments.
        for j in 0..nn {
            if self.spiked[j] {
                self.y1[j] = self.tr.y1.bump(self.y1[j]);
                if self.has_y2 {
                    self.y2[j] = self.tr.y2.bump(self.y2[j]);
                }
            }
        }
        for &i in pre {
            let i = i as usize;
            self.x1[i] = self.tr.x1.bump(self.x1[i]);
            if self.has_x2 {
                self.x2[i] = self.tr.x2.bump(self.x2[i]);
            }
            self.pre_mask[i] = false;
        }
        // §4.6 Synaptic scaling.
        if self.homeo.scales_at(self.t) {
            for j in 0..nn {
                let s = self.homeo.factor(self.count[j]);
                for i in 0..ni {
                    let w = &mut self.w[i * nn + j];
                    *w = self.homeo.scale(*w, s);
                }
                self.count[j] = 0;
            }
        }
        // §4.7 The sweep: every synapse, the targets with sweep terms, the traces as §4.4
        // left them, no event.
        if self.sweep_period.is_some_and(|k| k > 0 && (self.t + 1) % k == 0) {
            if let Some(rule) = &self.rule {
                for i in 0..ni {
                    let (x1, x2) = (self.x1[i], self.x2[i]);
                    for j in 0..nn {
                        let v = [x1, x2, x1, x2, self.y1[j], self.y2[j]];
                        let a = i * nn + j;
                        let w0 = self.w[a];
                        let old = [0, 1].map(|k| self.syn.get(k).map_or(0.0, |s| s[a]));
                        if rule.sweeps {
                            self.w[a] = rule.update_target(w0, w0, false, false, &v, r, &old);
                        }
                        for (k, sr) in self.syn_rules.iter().enumerate() {
                            if sr.sweeps {
                                self.syn[k][a] =
                                    sr.update_target(old[k], w0, false, false, &v, r, &old);
                            }
                        }
                    }
                }
            }
        }
        self.prev_spiked.copy_from_slice(&self.spiked);
        self.out.clear();
        self.out.extend((0..nn).filter(|&j| self.spiked[j]).map(|j| j as u32));
        if let Some(task) = &mut self.task {
            task.observe(self.t, pre, &self.out);
        }
        self.prev_total = self.out.len() as u32;
        self.t += 1;
        &self.out
    }

    fn syn(&self, k: usize) -> Option<Vec<f64>> {
        self.syn.get(k).cloned()
    }

    fn set_modulator(&mut self, r: f64) {
        self.r_next = Some(r);
    }

    fn next_modulator(&self) -> f64 {
        self.r_next.unwrap_or_else(|| self.scheduled_modulator())
    }

    fn time(&self) -> u32 {
        self.t
    }

    fn neurons(&self) -> usize {
        self.neurons
    }

    fn weights(&self) -> Vec<f64> {
        self.w.clone()
    }

    fn probe(&self, j: usize) -> Probe {
        Probe {
            v_mem: self.v[j],
            theta: self.theta[j],
            trace_y1: self.y1[j],
            trace_y2: self.y2[j],
            refrac: self.refr[j] as u32,
            spike: self.spiked[j],
            raw: None,
        }
    }

    fn pre_traces(&self) -> Vec<f64> {
        self.x1.clone()
    }
    fn state(&self) -> Vec<Quantity> {
        let q = |name: &'static str, per, values| Quantity {
            name,
            per,
            values,
            format: None,
            what: state::what(name),
        };
        let mut out = vec![
            q("weight", Per::Synapse, Values::F64(self.w.clone())),
            q("v_mem", Per::Neuron, Values::F64(self.v.clone())),
        ];
        if self.adaptive {
            out.push(q("theta_a", Per::Neuron, Values::F64(self.theta_a.clone())));
        }
        out.push(q("trace_y1", Per::Neuron, Values::F64(self.y1.clone())));
        if self.has_y2 {
            out.push(q("trace_y2", Per::Neuron, Values::F64(self.y2.clone())));
        }
        out.push(q("refrac", Per::Neuron, Values::U16(self.refr.clone())));
        out.push(q("count", Per::Neuron, Values::U16(self.count.clone())));
        out.push(q("spiked", Per::Neuron, Values::Bool(self.spiked.clone())));
        out.push(q("trace_x1", Per::Input, Values::F64(self.x1.clone())));
        if self.has_x2 {
            out.push(q("trace_x2", Per::Input, Values::F64(self.x2.clone())));
        }
        for (k, s) in self.syn.iter().enumerate() {
            out.push(q(state::SYN_NAMES[k], Per::Synapse, Values::F64(s.clone())));
        }
        if let Some(t) = &self.task {
            out.extend(t.quantities());
        }
        out
    }

    fn set_state(&mut self, step: u32, q: &[Quantity]) -> Result<(), String> {
        let (ni, nn) = (self.inputs, self.neurons);
        let p = &self.bounds;
        // Check everything first.
        let w = state::f64s(q, "weight", ni * nn)?;
        state::in_range_f64("weight", w, p.0, p.1, "the weight bounds w_min..w_max")?;
        let v = state::f64s(q, "v_mem", nn)?;
        state::in_range_f64("v_mem", v, f64::MIN, f64::MAX, "the finite numbers")?;
        let theta_a = if self.adaptive {
            let t = state::f64s(q, "theta_a", nn)?;
            state::in_range_f64("theta_a", t, 0.0, f64::MAX, "the non-negative numbers")?;
            Some(t)
        } else {
            None
        };
        let trace = |name: &str, len: usize| -> Result<&[f64], String> {
            let t = state::f64s(q, name, len)?;
            state::in_range_f64(name, t, 0.0, f64::MAX, "the non-negative numbers")?;
            Ok(t)
        };
        let y1 = trace("trace_y1", nn)?;
        let y2 = if self.has_y2 { Some(trace("trace_y2", nn)?) } else { None };
        let refr = state::u16s(q, "refrac", nn)?;
        let count = state::u16s(q, "count", nn)?;
        let spiked = state::bools(q, "spiked", nn)?;
        let x1 = trace("trace_x1", ni)?;
        let x2 = if self.has_x2 { Some(trace("trace_x2", ni)?) } else { None };
        let task = self.task.as_ref().map(|t| t.restored(q, step)).transpose()?;
        let mut syn = Vec::new();
        for (k, r) in self.syn_rules.iter().enumerate() {
            let name = state::SYN_NAMES[k];
            let s = state::f64s(q, name, ni * nn)?;
            state::in_range_f64(name, s, r.lo, r.hi, "its format's range")?;
            syn.push(s);
        }
        // Then set it.
        for (k, s) in syn.into_iter().enumerate() {
            self.syn[k].copy_from_slice(s);
        }
        self.w.copy_from_slice(w);
        self.v.copy_from_slice(v);
        if let Some(t) = theta_a {
            self.theta_a.copy_from_slice(t);
        }
        self.y1.copy_from_slice(y1);
        if let Some(y) = y2 {
            self.y2.copy_from_slice(y);
        }
        self.refr.copy_from_slice(refr);
        self.count.copy_from_slice(count);
        self.spiked.copy_from_slice(spiked);
        self.prev_spiked.copy_from_slice(spiked);
        self.x1.copy_from_slice(x1);
        if let Some(x) = x2 {
            self.x2.copy_from_slice(x);
        }
        self.prev_total = spiked.iter().filter(|&&s| s).count() as u32;
        self.t = step;
        self.task = task;
        // A value set for "the next step" belonged to the run before the load.
        self.r_next = None;
        Ok(())
    }
}
