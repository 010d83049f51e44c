//! Pair and triplet STDP with additive (hard-bound) or multiplicative (soft-bound) weight
//! dependence (docs/semantics.md §4.3). Twin of `rtl-gen/src/plasticity/stdp.rs`.
//!
//! Potentiation of synapse (i, j) when neuron j spikes:
//!   `pot = x1_i * min(A2+ + ((A3+ * y2_j) >> y2_frac), 0xFFFF) >> x1_frac`
//! Depression when input i spikes:
//!   `dep = y1_j * min(A2- + ((A3- * x2_i) >> x2_frac), 0xFFFF) >> y1_frac`
//! both floor, both in the amplitude format (16 bits, `amp_frac` fraction bits).

use crate::config::{Network, Rule, WeightDependence};
use crate::format::{clamp_branchless, round_shift, Rounding};
use crate::lfsr::Lfsr;

/// Fixed-point STDP constants.
#[derive(Clone, Copy, Debug)]
pub struct StdpFixed {
    /// Additive or multiplicative.
    pub dependence: WeightDependence,
    /// A2+, A2-, A3+, A3- in the amplitude format.
    pub a2_plus: i64,
    /// A2-.
    pub a2_minus: i64,
    /// A3+ (0 for the pair rule).
    pub a3_plus: i64,
    /// A3- (0 for the pair rule).
    pub a3_minus: i64,
    /// Amplitude fraction bits.
    pub amp_frac: u32,
    /// Trace fraction bits.
    pub x1_frac: u32,
    /// x2 frac.
    pub x2_frac: u32,
    /// y1 frac.
    pub y1_frac: u32,
    /// y2 frac.
    pub y2_frac: u32,
    /// Weight fraction bits.
    pub w_frac: u32,
    /// Bounds, weight raw.
    pub w_min: i64,
    /// Upper bound.
    pub w_max: i64,
    /// Weight rounding.
    pub rounding: Rounding,
}

#[inline(always)]
fn inner(a2: i64, a3: i64, trace: u16, frac: u32) -> i64 {
    (a2 + ((a3 * trace as i64) >> frac)).min(0xFFFF)
}

impl StdpFixed {
    /// Derive from a validated network; `None` when plasticity is off.
    pub fn new(net: &Network) -> Option<Self> {
        if net.cfg.plasticity.rule == Rule::Off {
            return None;
        }
        let k = &net.k;
        Some(StdpFixed {
            dependence: net.cfg.plasticity.weight_dependence,
            a2_plus: k.a2_plus,
            a2_minus: k.a2_minus,
            a3_plus: k.a3_plus,
            a3_minus: k.a3_minus,
            amp_frac: net.fmt.amp.frac,
            x1_frac: net.fmt.x1.frac,
            x2_frac: net.fmt.x2.frac,
            y1_frac: net.fmt.y1.frac,
            y2_frac: net.fmt.y2.frac,
            w_frac: net.fmt.w.frac,
            w_min: k.w_min,
            w_max: k.w_max,
            rounding: net.rnd.w,
        })
    }

    /// Potentiation term, amplitude format. `x1` already includes this step's pre spike;
    /// `y2` is the post trace before this step's post spike.
    #[inline(always)]
    pub fn pot(&self, x1: u16, y2: u16) -> i64 {
        (x1 as i64 * inner(self.a2_plus, self.a3_plus, y2, self.y2_frac)) >> self.x1_frac
    }

    /// Depression term, amplitude format. `y1` is the post trace before this step's post
    /// spike; `x2` the pre trace before this step's pre spike.
    #[inline(always)]
    pub fn dep(&self, y1: u16, x2: u16) -> i64 {
        (y1 as i64 * inner(self.a2_minus, self.a3_minus, x2, self.x2_frac)) >> self.y1_frac
    }

    /// New weight from the old one and this step's terms: one rounding, then the bounds.
    #[inline(always)]
    pub fn apply(&self, w: u16, pot: i64, dep: i64, lfsr: &mut Lfsr) -> u16 {
        let w = w as i64;
        let dw = match self.dependence {
            WeightDependence::Additive => {
                round_shift(pot - dep, self.amp_frac - self.w_frac, self.rounding, lfsr)
            }
            WeightDependence::Multiplicative => round_shift(
                pot * (self.w_max - w) - dep * (w - self.w_min),
                self.amp_frac,
                self.rounding,
                lfsr,
            ),
        };
        clamp_branchless(w + dw, self.w_min, self.w_max) as u16
    }
}

/// f64 STDP constants: the same rule without quantisation.
#[derive(Clone, Copy, Debug)]
pub struct StdpFloat {
    /// Additive or multiplicative.
    pub dependence: WeightDependence,
    /// A2+.
    pub a2_plus: f64,
    /// A2-.
    pub a2_minus: f64,
    /// A3+.
    pub a3_plus: f64,
    /// A3-.
    pub a3_minus: f64,
    /// Saturation of the bracket `A2 + A3 * trace` (the amplitude format's maximum).
    pub inner_max: f64,
    /// Bounds.
    pub w_min: f64,
    /// Upper bound.
    pub w_max: f64,
}

impl StdpFloat {
    /// Derive from a validated network; `None` when plasticity is off.
    pub fn new(net: &Network) -> Option<Self> {
        let p = &net.cfg.plasticity;
        if p.rule == Rule::Off {
            return None;
        }
        Some(StdpFloat {
            dependence: p.weight_dependence,
            a2_plus: p.a_plus,
            a2_minus: p.a_minus,
            a3_plus: p.a3_plus,
            a3_minus: p.a3_minus,
            inner_max: net.fmt.amp.max_real(),
            w_min: p.w_min,
            w_max: p.w_max,
        })
    }

    /// As [`StdpFixed::pot`].
    #[inline(always)]
    pub fn pot(&self, x1: f64, y2: f64) -> f64 {
        x1 * (self.a2_plus + self.a3_plus * y2).min(self.inner_max)
    }

    /// As [`StdpFixed::dep`].
    #[inline(always)]
    pub fn dep(&self, y1: f64, x2: f64) -> f64 {
        y1 * (self.a2_minus + self.a3_minus * x2).min(self.inner_max)
    }

    /// As [`StdpFixed::apply`].
    #[inline(always)]
    pub fn apply(&self, w: f64, pot: f64, dep: f64) -> f64 {
        let dw = match self.dependence {
            WeightDependence::Additive => pot - dep,
            WeightDependence::Multiplicative => pot * (self.w_max - w) - dep * (w - self.w_min),
        };
        (w + dw).clamp(self.w_min, self.w_max)
    }
}
