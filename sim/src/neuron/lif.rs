//! The leaky integrate-and-fire neuron update (docs/semantics.md §4.1).
//! Twin of `rtl-gen/src/generate/neuron/lif.rs`.

use crate::config::{Network, Reset};
use crate::format::{decay_raw, Format, Rounding};
use crate::lfsr::Lfsr;

/// Constants of the fixed-point LIF update, derived once from the network.
#[derive(Clone, Copy, Debug)]
pub struct LifFixed {
    /// Membrane format.
    pub v: Format,
    /// Membrane decay rounding.
    pub rounding: Rounding,
    /// U0.16 decay factor.
    pub decay: u16,
    /// Weight-sum to membrane alignment: `v_frac - w_frac`.
    pub w_to_v: u32,
    /// Threshold to membrane alignment: `v_frac - theta_frac`.
    pub theta_to_v: u32,
    /// Inhibition per other spike, membrane raw.
    pub inhibition: i64,
    /// Refractory steps.
    pub refractory: u16,
    /// Reset mode.
    pub reset: Reset,
}

impl LifFixed {
    /// Derive from a validated network.
    pub fn new(net: &Network) -> Self {
        LifFixed {
            v: net.fmt.v,
            rounding: net.rnd.v,
            decay: net.k.decay_v,
            w_to_v: net.fmt.v.frac - net.fmt.w.frac,
            theta_to_v: net.fmt.v.frac - net.fmt.theta.frac,
            inhibition: net.k.inhibition,
            refractory: net.k.refractory_steps as u16,
            reset: net.cfg.neuron.reset,
        }
    }

    /// Membrane phase of one neuron: if refractory, count down and hold `v`; otherwise decay,
    /// add this step's weight sum `syn_in` (weight raw) saturating, then subtract the lateral
    /// inhibition of `others` spikes of the previous step, saturating.
    /// Returns whether the neuron may spike this step (it was not refractory).
    #[inline(always)]
    pub fn integrate(
        &self,
        v: &mut i32,
        refr: &mut u16,
        syn_in: u64,
        others: u32,
        lfsr: &mut Lfsr,
    ) -> bool {
        if *refr > 0 {
            *refr -= 1;
            return false;
        }
        let x = decay_raw(*v as i64, self.decay, self.rounding, lfsr);
        // Exact: the weight sum aligned to the membrane's fraction bits, saturated once.
        let sum = ((syn_in as i128) << self.w_to_v) + x as i128;
        let x = sum.clamp(self.v.min_raw() as i128, self.v.max_raw() as i128) as i64;
        let x = self.v.sat(x - self.inhibition * others as i64);
        *v = x as i32;
        true
    }

    /// Threshold phase: compare with `theta` (threshold raw), reset and arm the refractory
    /// counter on a spike.
    #[inline(always)]
    pub fn fire(&self, v: &mut i32, refr: &mut u16, theta: i64) -> bool {
        // 128 bits: a wide threshold aligned to a fine membrane may pass 63 bits, and then
        // simply cannot be reached.
        let thr = (theta as i128) << self.theta_to_v;
        if (*v as i128) < thr {
            return false;
        }
        *v = match self.reset {
            Reset::Zero => 0,
            Reset::Subtract => (*v as i128 - thr) as i32,
        };
        *refr = self.refractory;
        true
    }
}

/// Constants of the f64 LIF update.
#[derive(Clone, Copy, Debug)]
pub struct LifFloat {
    /// Membrane range (saturation), real.
    pub v: Format,
    /// `exp(-dt/tau_m)`, exact.
    pub alpha: f64,
    /// Inhibition per other spike.
    pub inhibition: f64,
    /// Refractory steps.
    pub refractory: u16,
    /// Reset mode.
    pub reset: Reset,
}

impl LifFloat {
    /// Derive from a validated network.
    pub fn new(net: &Network) -> Self {
        let c = &net.cfg;
        LifFloat {
            v: net.fmt.v,
            alpha: (-c.network.dt_ms / c.neuron.tau_m_ms).exp(),
            inhibition: c.neuron.inhibition,
            refractory: net.k.refractory_steps as u16,
            reset: c.neuron.reset,
        }
    }

    /// As [`LifFixed::integrate`], in real numbers.
    #[inline(always)]
    pub fn integrate(&self, v: &mut f64, refr: &mut u16, syn_in: f64, others: u32) -> bool {
        if *refr > 0 {
            *refr -= 1;
            return false;
        }
        let x = self.v.sat_real(*v * self.alpha + syn_in);
        *v = self.v.sat_real(x - self.inhibition * others as f64);
        true
    }

    /// As [`LifFixed::fire`], in real numbers.
    #[inline(always)]
    pub fn fire(&self, v: &mut f64, refr: &mut u16, theta: f64) -> bool {
        if *v < theta {
            return false;
        }
        *v = match self.reset {
            Reset::Zero => 0.0,
            Reset::Subtract => *v - theta,
        };
        *refr = self.refractory;
        true
    }
}
