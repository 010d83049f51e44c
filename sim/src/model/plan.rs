//! The rule's terms sorted by what they read, so that the bit-accurate model's kernels work
//! out each part where it changes least: once per input row, once per neuron and step, or
//! per synapse. Only where exact integer operations happen changes; every product is still
//! the contract's (`RuleFixed::update` is the reference the kernels are tested against).
//!
//! The common shapes (a constant times a trace; a bracket over one side's trace times the
//! other side's trace: every term of the pair and triplet rules) are held inline, one of each
//! per gate class, so that the inner loops are straight-line code; any other term is
//! evaluated factor by factor.

use crate::plasticity::lang::{Gate, WeightFactor};
use crate::plasticity::rule::{product_fixed, FactorFixed, RuleFixed, Slot, Vals};

/// Gate classes, in the kernels' order: `y0` alone, `x0` alone, `x0 * y0`.
pub const POST: usize = 0;
/// `x0` alone.
pub const PRE: usize = 1;
/// `x0 * y0`.
pub const BOTH: usize = 2;

fn class_of(g: Gate) -> usize {
    match g {
        Gate::Post => POST,
        Gate::Pre => PRE,
        Gate::Both => BOTH,
        Gate::Sweep => unreachable!("sweep terms are filtered out"),
    }
}

/// A term's product `e` adds `e * a` to `A` and `e * b` to `B`, factor by factor.
#[derive(Clone, Debug)]
pub struct Whole {
    factors: Box<[FactorFixed]>,
    a: i64,
    b: i64,
}

/// `e = (c * x[slot]) >> frac`: a constant times a pre trace.
#[derive(Clone, Copy, Debug)]
pub struct ConstTrace {
    c: i64,
    slot: usize,
    frac: u32,
    a: i64,
    b: i64,
}

/// `e = (bracket * v[slot]) >> frac`: a bracket over one side's traces (worked out per
/// neuron or per row) times a trace of the other side.
#[derive(Clone, Debug)]
pub struct Split {
    bracket: FactorFixed,
    slot: usize,
    frac: u32,
    a: i64,
    b: i64,
}

/// One gate class's terms by what they read.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// The first term that is a constant times a pre trace: per row, inline.
    row_fast: Option<ConstTrace>,
    /// The other terms that read no post trace: per row.
    row: Vec<Whole>,
    /// Terms that read no pre trace: per neuron and step.
    col: Vec<Whole>,
    /// The first bracket over post traces times a pre trace: the bracket per neuron.
    col_split: Option<Split>,
    /// The first bracket over pre traces times a post trace: the bracket per row.
    row_split: Option<Split>,
    /// Anything else: per synapse, factor by factor.
    synapse: Vec<Whole>,
}

impl Plan {
    /// Whether anything is worked out per neuron (the row bracket's post trace too).
    pub fn has_col(&self) -> bool {
        !self.col.is_empty() || self.col_split.is_some() || self.row_split.is_some()
    }

    /// What its terms need per synapse ([`shape`]).
    pub fn shape(&self) -> u8 {
        match (self.col_split.is_some(), self.row_split.is_some(), self.synapse.is_empty()) {
            (false, false, true) if self.col.is_empty() => shape::ROW,
            (false, false, true) => shape::PARTS,
            (true, false, true) => shape::COL_SPLIT,
            (false, true, true) => shape::ROW_SPLIT,
            _ => shape::GENERAL,
        }
    }

    /// Its split terms' constants.
    pub fn split_consts(&self) -> SplitConsts {
        let k = |s: &Option<Split>| s.as_ref().map_or((0, 0, 0), |s| (s.frac, s.a, s.b));
        SplitConsts { col: k(&self.col_split), row: k(&self.row_split) }
    }
}

/// A row's part of one class: `(A, B)` of its row terms, its row bracket, and the pre trace
/// the neuron bracket multiplies.
#[derive(Clone, Copy, Debug, Default)]
pub struct RowPart {
    ab: (i64, i64),
    bracket: i64,
    split_x: i64,
}

/// A neuron's part of one class: `(A, B)` of its neuron terms, its neuron bracket, and the
/// post trace the row bracket multiplies.
#[derive(Clone, Copy, Debug, Default)]
pub struct ColPart {
    ab: (i64, i64),
    bracket: i64,
    split_y: i64,
}

/// What a class's terms need per synapse: nothing but the row and neuron parts (the pair
/// rule), also the neuron bracket times a pre trace (the triplet rule's potentiation), also
/// the row bracket times a post trace (its depression), or anything.
pub mod shape {
    /// The row part only (the pair rule's potentiation).
    pub const ROW: u8 = 4;
    /// Row and neuron parts only.
    pub const PARTS: u8 = 0;
    /// Also the neuron bracket.
    pub const COL_SPLIT: u8 = 1;
    /// Also the row bracket.
    pub const ROW_SPLIT: u8 = 2;
    /// Any terms.
    pub const GENERAL: u8 = 3;
}

/// The split terms' constants of one class, read once outside the inner loops.
#[derive(Clone, Copy, Debug, Default)]
pub struct SplitConsts {
    col: (u32, i64, i64),
    row: (u32, i64, i64),
}

/// The three classes' plans.
#[derive(Clone, Debug)]
pub struct Plans {
    /// By class ([`POST`], [`PRE`], [`BOTH`]).
    pub class: [Plan; 3],
    amp_frac: u32,
}

fn reads(fs: &[FactorFixed], pre: &mut bool, post: &mut bool) {
    for f in fs {
        match f {
            FactorFixed::Trace(s, _) => {
                if matches!(s, Slot::Y1 | Slot::Y2) {
                    *post = true
                } else {
                    *pre = true
                }
            }
            FactorFixed::Bracket { product, .. } => reads(product, pre, post),
            FactorFixed::Const(_) | FactorFixed::Mod(_) | FactorFixed::Syn(..) => {}
        }
    }
}

fn side(fs: &[FactorFixed]) -> (bool, bool) {
    let (mut pre, mut post) = (false, false);
    reads(fs, &mut pre, &mut post);
    (pre, post)
}

impl Plans {
    /// Sort `rule`'s terms.
    pub fn new(rule: &RuleFixed) -> Self {
        let mut class: [Plan; 3] = Default::default();
        // Sweep terms (`u`) never reach these kernels: a rule with them runs the general one.
        for t in rule.reference.iter().filter(|t| t.gate != Gate::Sweep) {
            let sign = if t.negative { -1 } else { 1 };
            let (a, b) = match t.weight {
                None => (1i64 << rule.align, 0),
                Some(WeightFactor::W) => (0, 1),
                Some(WeightFactor::ToMax) => (rule.w_max, -1),
                Some(WeightFactor::FromMin) => (-rule.w_min, 1),
            };
            let (a, b) = (sign * a, sign * b);
            let whole = Whole { factors: t.factors.clone(), a, b };
            let plan = &mut class[class_of(t.gate)];
            let post_slot = |s: &Slot| matches!(s, Slot::Y1 | Slot::Y2);
            match (side(&t.factors), &t.factors[..]) {
                ((_, false), [FactorFixed::Const(c), FactorFixed::Trace(s, frac)])
                    if plan.row_fast.is_none() =>
                {
                    plan.row_fast = Some(ConstTrace { c: *c, slot: *s as usize, frac: *frac, a, b })
                }
                ((_, false), _) => plan.row.push(whole),
                ((false, true), _) => plan.col.push(whole),
                (_, [br @ FactorFixed::Bracket { product, .. }, FactorFixed::Trace(s, frac)]) => {
                    let split = Split { bracket: br.clone(), slot: *s as usize, frac: *frac, a, b };
                    match (side(product), post_slot(s)) {
                        ((false, _), false) if plan.col_split.is_none() => {
                            plan.col_split = Some(split)
                        }
                        ((_, false), true) if plan.row_split.is_none() => {
                            plan.row_split = Some(split)
                        }
                        _ => plan.synapse.push(whole),
                    }
                }
                _ => plan.synapse.push(whole),
            }
        }
        Plans { class, amp_frac: rule.amp_frac }
    }

    /// Class `c`'s part of a row whose pre traces are `x`.
    #[inline(always)]
    pub fn row(&self, c: usize, x: &[i64; 4]) -> RowPart {
        let p = &self.class[c];
        let mut ab = (0, 0);
        if let Some(t) = &p.row_fast {
            let e = (t.c * x[t.slot]) >> t.frac;
            ab = (e * t.a, e * t.b);
        }
        let mut bracket = 0;
        let split_x = p.col_split.as_ref().map_or(0, |s| x[s.slot]);
        if !p.row.is_empty() || p.row_split.is_some() {
            let v = [x[0], x[1], x[2], x[3], 0, 0];
            let (a, b) = sum(&p.row, &v, self.amp_frac);
            ab = (ab.0 + a, ab.1 + b);
            if let Some(s) = &p.row_split {
                bracket = s.bracket.value(&v, self.amp_frac).0;
            }
        }
        RowPart { ab, bracket, split_x }
    }

    /// Class `c`'s part of a neuron whose post traces are `y`.
    pub fn col(&self, c: usize, y: [u16; 2]) -> ColPart {
        let p = &self.class[c];
        let v = [0, 0, 0, 0, y[0] as i64, y[1] as i64];
        let ab = sum(&p.col, &v, self.amp_frac);
        let bracket = p.col_split.as_ref().map_or(0, |s| s.bracket.value(&v, self.amp_frac).0);
        let split_y = p.row_split.as_ref().map_or(0, |s| v[s.slot]);
        ColPart { ab, bracket, split_y }
    }

    /// [`Plans::synapse`] for a class of shape `SH` with split constants `k`: straight-line
    /// code for the shapes below [`shape::GENERAL`].
    #[inline(always)]
    pub fn synapse_as<const SH: u8>(
        &self,
        c: usize,
        k: SplitConsts,
        row: RowPart,
        col: ColPart,
        x: &[i64; 4],
        y: [u16; 2],
    ) -> (i64, i64) {
        if SH == shape::ROW {
            return row.ab;
        }
        let (mut a, mut b) = (row.ab.0 + col.ab.0, row.ab.1 + col.ab.1);
        match SH {
            shape::PARTS => {}
            shape::COL_SPLIT => {
                let e = (col.bracket * row.split_x) >> k.col.0;
                a += e * k.col.1;
                b += e * k.col.2;
            }
            shape::ROW_SPLIT => {
                let e = (row.bracket * col.split_y) >> k.row.0;
                a += e * k.row.1;
                b += e * k.row.2;
            }
            _ => return self.synapse(c, row, col, x, y),
        }
        (a, b)
    }

    /// `(A, B)` of class `c` at one synapse, from its row part, its neuron part, and the
    /// synapse's trace values for the rest.
    #[inline(always)]
    pub fn synapse(
        &self,
        c: usize,
        row: RowPart,
        col: ColPart,
        x: &[i64; 4],
        y: [u16; 2],
    ) -> (i64, i64) {
        let p = &self.class[c];
        let (mut a, mut b) = (row.ab.0 + col.ab.0, row.ab.1 + col.ab.1);
        if let Some(s) = &p.col_split {
            let e = (col.bracket * x[s.slot]) >> s.frac;
            a += e * s.a;
            b += e * s.b;
        }
        if let Some(s) = &p.row_split {
            let e = (row.bracket * y[s.slot & 1] as i64) >> s.frac;
            a += e * s.a;
            b += e * s.b;
        }
        if !p.synapse.is_empty() {
            let v = [x[0], x[1], x[2], x[3], y[0] as i64, y[1] as i64];
            let (sa, sb) = sum(&p.synapse, &v, self.amp_frac);
            a += sa;
            b += sb;
        }
        (a, b)
    }
}

#[inline(always)]
fn sum(terms: &[Whole], v: &Vals, fa: u32) -> (i64, i64) {
    let (mut a, mut b) = (0, 0);
    for t in terms {
        let e = product_fixed(&t.factors, v, fa);
        a += e * t.a;
        b += e * t.b;
    }
    (a, b)
}
