//! Rules of the pair and triplet rules' shape, on hand-tuned kernels: a neuron-spike term
//! `A+ * x1 * y0` or `(A2+ + A3+ * y2) * x1 * y0` and an input-spike term `- A- * y1 * x0` or
//! `- (A2- + A3- * x2) * y1 * x0`, both without a weight factor or with `(w_max - w)` and
//! `(w - w_min)`. Any rule of that shape (every preset, whatever its amplitudes) runs here;
//! any other on the general kernels of `plan.rs`. Both are held to `RuleFixed::update` on
//! random rules (`fixed.rs`'s tests).

use crate::format::{clamp_branchless, round_shift, Rounding};
use crate::lfsr::Lfsr;
use crate::plasticity::lang::{Gate, WeightFactor};
use crate::plasticity::rule::{FactorIr, Rule, Slot};

/// The shape's constants: `pot = x1' * min(A2+ + ((A3+ * y2) >> y2.frac), 0xFFFF) >> x1.frac`,
/// `dep = y1 * min(A2- + ((A3- * x2) >> x2.frac), 0xFFFF) >> y1.frac` (A3 = 0 without a
/// bracket), update `round(pot - dep)` (additive) or `round(pot * (w_max - w) - dep * (w -
/// w_min))` (soft bounds), then the clamp.
#[derive(Clone, Copy, Debug)]
pub struct Stdp {
    /// Soft bounds: the terms carry `(w_max - w)` and `(w - w_min)`.
    pub soft: bool,
    /// A2+ (amplitude format).
    pub a2_plus: i64,
    /// A3+ (0 without a bracket).
    pub a3_plus: i64,
    /// A2-.
    pub a2_minus: i64,
    /// A3-.
    pub a3_minus: i64,
    /// Fraction bits of x1, x2, y1, y2.
    pub x1_frac: u32,
    /// x2.
    pub x2_frac: u32,
    /// y1.
    pub y1_frac: u32,
    /// y2.
    pub y2_frac: u32,
    /// The update's rounding shift.
    pub shift: u32,
    /// The weight's rounding.
    pub rounding: Rounding,
    /// Bounds, raw.
    pub w_min: i64,
    /// Upper bound.
    pub w_max: i64,
}

#[inline(always)]
fn inner(a2: i64, a3: i64, trace: u16, frac: u32) -> i64 {
    (a2 + ((a3 * trace as i64) >> frac)).min(0xFFFF)
}

/// `(A2, A3)` of an amplitude factor: a constant, or a `+` bracket of a constant times the
/// trace in `slot`.
fn amplitude(r: &Rule, f: &FactorIr, slot: Slot) -> Option<(i64, i64)> {
    match f {
        FactorIr::Const(c) => Some((r.const_raw(c), 0)),
        FactorIr::Bracket { c0, minus: false, product } => match &product[..] {
            [FactorIr::Const(c1), FactorIr::Trace(s)] if *s == slot => {
                Some((r.const_raw(c0), r.const_raw(c1)))
            }
            _ => None,
        },
        _ => None,
    }
}

impl Stdp {
    /// The shape's constants if `r` has it, with weight bounds `w_min`, `w_max` (raw).
    pub fn of(r: &Rule, w_min: i64, w_max: i64) -> Option<Stdp> {
        if r.reads_mod() {
            return None;
        }
        let [p, d] = match &r.terms[..] {
            [a, b] if a.gate == Gate::Post => [a, b],
            [a, b] => [b, a],
            _ => return None,
        };
        if p.gate != Gate::Post || d.gate != Gate::Pre || p.negative || !d.negative {
            return None;
        }
        let soft = match (p.weight, d.weight) {
            (None, None) => false,
            (Some(WeightFactor::ToMax), Some(WeightFactor::FromMin)) => true,
            _ => return None,
        };
        let (pa, da) = match (&p.product[..], &d.product[..]) {
            ([pa, FactorIr::Trace(Slot::X1Post)], [da, FactorIr::Trace(Slot::Y1)]) => (pa, da),
            _ => return None,
        };
        let (a2_plus, a3_plus) = amplitude(r, pa, Slot::Y2)?;
        let (a2_minus, a3_minus) = amplitude(r, da, Slot::X2)?;
        let frac = |s| r.trace_format(s).frac;
        Some(Stdp {
            soft,
            a2_plus,
            a3_plus,
            a2_minus,
            a3_minus,
            x1_frac: frac(Slot::X1),
            x2_frac: frac(Slot::X2),
            y1_frac: frac(Slot::Y1),
            y2_frac: frac(Slot::Y2),
            shift: r.shift,
            rounding: r.rounding,
            w_min,
            w_max,
        })
    }

    /// The neuron-spike term (amplitude format). `x1` includes this step's pre spike; `y2` is
    /// before this step's post spike.
    #[inline(always)]
    pub fn pot(&self, x1: u16, y2: u16) -> i64 {
        (x1 as i64 * inner(self.a2_plus, self.a3_plus, y2, self.y2_frac)) >> self.x1_frac
    }

    /// The input-spike term's magnitude (amplitude format). `y1` is before this step's post
    /// spike; `x2` before this step's pre spike.
    #[inline(always)]
    pub fn dep(&self, y1: u16, x2: u16) -> i64 {
        (y1 as i64 * inner(self.a2_minus, self.a3_minus, x2, self.x2_frac)) >> self.y1_frac
    }

    /// The new weight: one rounding, then the bounds.
    #[inline(always)]
    pub fn apply(&self, w: u16, pot: i64, dep: i64, lfsr: &mut Lfsr) -> u16 {
        let w = w as i64;
        let sum =
            if self.soft { pot * (self.w_max - w) - dep * (w - self.w_min) } else { pot - dep };
        let dw = round_shift(sum, self.shift, self.rounding, lfsr);
        clamp_branchless(w + dw, self.w_min, self.w_max) as u16
    }
}
