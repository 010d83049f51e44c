//! The bit-accurate model: integers only, in the order of docs/semantics.md §4.
//!
//! Layout: neurons are cut into tiles of [`tile_width`] columns (the last one may be narrower).
//! A tile owns its neurons' state and its slice of the weight matrix, stored input-major
//! (`w[i * n + jj]`), so an input spike reads one contiguous row per tile and tiles step in
//! parallel (rayon) with no sharing.
//!
//! Order of draws: every neuron has its own LFSR, and the contract fixes the order of that
//! neuron's draws only (semantics §2.1): within a step, its neuron phase, then its synapses in
//! ascending input (its whole column if it spiked, the rows of this step's input spikes if it
//! did not), then synaptic scaling in ascending input. The loops below walk several neurons
//! together, row by row, so that their independent LFSR chains overlap in the CPU; each
//! neuron still sees its own synapses in ascending input, so its draws are the contract's.

use std::sync::{Mutex, OnceLock};

use rayon::prelude::*;

use super::{initial_weights, Model, Probe};
use crate::config::Network;
use crate::format::Rounding;
use crate::lfsr::Lfsr;
use crate::neuron::lif::LifFixed;
use crate::plasticity::homeostasis::HomeostasisFixed;
use crate::plasticity::lang::Trace;
use crate::plasticity::rule::{RuleFixed, Slot, VarVals};
use crate::state::{self, Per, Quantity, Values};

use super::plan::{shape, ColPart, Plans, RowPart, BOTH, POST, PRE};
use super::template::Stdp;
use crate::trace::TracesFixed;

/// Neurons per tile of a wide network. A tile is the unit of parallel work: 64 columns keep a
/// step's rayon overhead small beside the work and leave threads enough tiles to balance.
const TILE: usize = 64;

/// Narrowest tile a small network is cut into so that two threads can share it.
const MIN_TILE: usize = 32;

/// Columns per tile for `nn` neurons: [`TILE`], or half the network when that is smaller, but
/// not below [`MIN_TILE`]. The layout never changes a result, only the speed.
fn tile_width(nn: usize) -> usize {
    nn.div_ceil(2).clamp(MIN_TILE, TILE)
}

/// Columns of spiking neurons updated side by side.
const COLUMNS: usize = 4;
const _: () = assert!(COLUMNS == 4, "post_groups matches remainders of 1 to 3 columns");

/// Rows of u16 weights that may be summed in u32 lanes: `2^16 * (2^16 - 1) < 2^32`.
const ROWS_PER_U32_SUM: usize = 1 << 16;

#[derive(Clone)]
struct Blocks {
    lif: LifFixed,
    tr: TracesFixed,
    rule: Option<(RuleFixed, Plans)>,
    /// The per-synapse variables' updates, in name order.
    syn_rules: Vec<RuleFixed>,
    /// The rule's constants when it has the pair and triplet rules' shape (`template.rs`).
    stdp: Option<Stdp>,
    homeo: HomeostasisFixed,
    /// The traces x2 and y2 exist (the rule reads them).
    x2: bool,
    /// y2.
    y2: bool,
}

/// A neuron that spiked this step, with the state its column update reads.
#[derive(Clone, Copy)]
struct Fired {
    jj: usize,
    y1: u16,
    y2: u16,
    lfsr: Lfsr,
}

#[derive(Clone)]
struct Tile {
    j0: usize,
    n: usize,
    w: Vec<u16>,
    /// The per-synapse variables, raw, input-major like `w` (empty when undeclared).
    syn: [Vec<i32>; 2],
    v: Vec<i32>,
    theta_a: Vec<u32>,
    theta: Vec<i64>,
    y1: Vec<u16>,
    y2: Vec<u16>,
    refr: Vec<u16>,
    count: Vec<u16>,
    lfsr: Vec<Lfsr>,
    spiked: Vec<bool>,
    prev_spiked: Vec<bool>,
    /// Scratch: this step's spiking neurons, ascending.
    fired: Vec<Fired>,
    /// Scratch: weight sums of this step's input spikes.
    acc: Vec<u64>,
    /// Scratch: one block of the weight sums, in u32 lanes.
    acc32: Vec<u32>,
    /// Scratch: the neuron-side parts of the rule's three gate classes, this step.
    col: [Vec<ColPart>; 3],
    /// Scratch: the input-spike terms of one row (the pair and triplet shape).
    dep: Vec<i64>,
    /// Scratch: scaling factors.
    factor: Vec<i64>,
}

/// What every tile reads during a step.
struct Shared<'a> {
    b: &'a Blocks,
    t: u32,
    inputs: usize,
    pre: &'a [u32],
    pre_mask: &'a [bool],
    /// Pre traces after this step's decay, before its pre bumps: what a term at an input
    /// spike reads (§4.3).
    x1: &'a [u16],
    /// x2, likewise.
    x2: &'a [u16],
    /// Pre traces after this step's pre bumps: what a term at a neuron spike reads.
    x1_post: &'a [u16],
    /// x2, likewise.
    x2_post: &'a [u16],
    /// The neuron-spike class's part of every input row, made by the first tile that has a
    /// spiking neuron, for all of them ([`Shared::post_rows`]).
    post_rows: OnceLock<Vec<RowPart>>,
    /// Last step's vector for `post_rows`, reused.
    spare: &'a Mutex<Vec<RowPart>>,
    prev_total: u32,
    /// This step's modulator `r`, raw (0 when the rule does not read it).
    r: i64,
}

/// A scratch vector kept between steps; a clone starts empty.
#[derive(Default)]
struct Spare(Mutex<Vec<RowPart>>);

impl Clone for Spare {
    fn clone(&self) -> Self {
        Spare::default()
    }
}

impl Shared<'_> {
    /// The pre traces of input `i`, in the order of the rule's slots.
    #[inline(always)]
    fn x(&self, i: usize) -> [i64; 4] {
        [self.x1[i] as i64, self.x2[i] as i64, self.x1_post[i] as i64, self.x2_post[i] as i64]
    }

    /// The neuron-spike terms' part of every input row: the same for every spiking neuron
    /// of every tile, so worked out once per step, by the first tile that needs it.
    fn post_rows(&self, plans: &Plans) -> &[RowPart] {
        self.post_rows.get_or_init(|| {
            let mut v = std::mem::take(&mut *self.spare.lock().unwrap_or_else(|e| e.into_inner()));
            v.clear();
            v.extend((0..self.inputs).map(|i| plans.row(POST, &self.x(i))));
            v
        })
    }
}

impl Tile {
    fn new(net: &Network, w0: &[u16], j0: usize, n: usize) -> Self {
        let (ni, nn) = (net.inputs(), net.neurons());
        let mut w = vec![0u16; ni * n];
        for i in 0..ni {
            w[i * n..(i + 1) * n].copy_from_slice(&w0[i * nn + j0..i * nn + j0 + n]);
        }
        let syn =
            [0, 1].map(|k| net.syn.get(k).map_or(Vec::new(), |v| vec![v.init as i32; ni * n]));
        Tile {
            j0,
            n,
            w,
            syn,
            v: vec![0; n],
            theta_a: vec![0; n],
            theta: vec![net.k.theta0; n],
            y1: vec![0; n],
            y2: vec![0; n],
            refr: vec![0; n],
            count: vec![0; n],
            lfsr: (0..n).map(|jj| Lfsr::for_neuron(net.k.seed, (j0 + jj) as u32)).collect(),
            spiked: vec![false; n],
            prev_spiked: vec![false; n],
            fired: Vec::with_capacity(n),
            acc: vec![0; n],
            acc32: vec![0; n],
            col: Default::default(),
            dep: vec![0; n],
            factor: vec![0; n],
        }
    }

    fn row(&self, i: usize) -> &[u16] {
        &self.w[i * self.n..(i + 1) * self.n]
    }

    fn step(&mut self, s: &Shared) {
        let b = s.b;
        self.sum_inputs(s.pre);
        // §4.1 Neuron phase: membrane, threshold decay, post-trace decay, fire.
        self.fired.clear();
        for jj in 0..self.n {
            let lfsr = &mut self.lfsr[jj];
            let others = s.prev_total - self.prev_spiked[jj] as u32;
            let live =
                b.lif.integrate(&mut self.v[jj], &mut self.refr[jj], self.acc[jj], others, lfsr);
            let theta = b.homeo.decay(&mut self.theta_a[jj], lfsr);
            self.theta[jj] = theta;
            self.y1[jj] = b.tr.y1.decay(self.y1[jj], lfsr);
            if b.y2 {
                self.y2[jj] = b.tr.y2.decay(self.y2[jj], lfsr);
            }
            let spike = live && b.lif.fire(&mut self.v[jj], &mut self.refr[jj], theta);
            if spike {
                b.homeo.bump(&mut self.theta_a[jj]);
                self.count[jj] = self.count[jj].saturating_add(1);
                self.fired.push(Fired { jj, y1: self.y1[jj], y2: self.y2[jj], lfsr: *lfsr });
            }
            self.spiked[jj] = spike;
        }
        // §4.3 Plasticity, reading the traces as the contract says.
        match (&b.stdp, &b.rule) {
            (Some(stdp), _) => self.stdp_plasticity(stdp, s),
            (None, Some((rule, _))) if rule.reads_mod => self.plasticity_general(rule, s),
            (None, Some((rule, plans))) => self.plasticity(rule, plans, s),
            (None, None) => {}
        }
        // §4.4 Post-trace increments.
        for f in &self.fired {
            self.y1[f.jj] = b.tr.y1.bump(self.y1[f.jj]);
            if b.y2 {
                self.y2[f.jj] = b.tr.y2.bump(self.y2[f.jj]);
            }
        }
        // §4.6 Synaptic scaling at the end of a period.
        if b.homeo.scales_at(s.t) {
            self.scale(&b.homeo, s.inputs);
        }
        self.prev_spiked.copy_from_slice(&self.spiked);
    }

    /// §4.1's synaptic input: `acc[jj]` = the sum of the weights of this step's input spikes.
    fn sum_inputs(&mut self, pre: &[u32]) {
        let n = self.n;
        self.acc.fill(0);
        // Distinct inputs (the `Model::step` contract) are at most 2^16, so one block.
        for block in pre.chunks(ROWS_PER_U32_SUM) {
            self.acc32.fill(0);
            for &i in block {
                let row = &self.w[i as usize * n..(i as usize + 1) * n];
                for (a, &w) in self.acc32.iter_mut().zip(row) {
                    *a += w as u32;
                }
            }
            for (a, &a32) in self.acc.iter_mut().zip(&self.acc32) {
                *a += a32 as u64;
            }
        }
    }

    /// §4.3 for a rule of the pair and triplet shape, with the soft bounds and rounding made
    /// compile-time constants: `apply`'s `match`es on them then drop out of the inner loops.
    fn stdp_plasticity(&mut self, stdp: &Stdp, s: &Shared) {
        use Rounding::*;
        match (stdp.soft, stdp.rounding) {
            (false, Floor) => self.stdp_plasticity_as::<false, 0>(stdp, s),
            (false, Nearest) => self.stdp_plasticity_as::<false, 1>(stdp, s),
            (false, Stochastic) => self.stdp_plasticity_as::<false, 2>(stdp, s),
            (true, Floor) => self.stdp_plasticity_as::<true, 0>(stdp, s),
            (true, Nearest) => self.stdp_plasticity_as::<true, 1>(stdp, s),
            (true, Stochastic) => self.stdp_plasticity_as::<true, 2>(stdp, s),
        }
    }

    /// [`Tile::stdp_plasticity`] on a copy of `stdp` whose bounds and rounding are the
    /// constants `SOFT` and `ROUNDING` (0 floor, 1 nearest, 2 stochastic).
    fn stdp_plasticity_as<const SOFT: bool, const ROUNDING: u8>(
        &mut self,
        stdp: &Stdp,
        s: &Shared,
    ) {
        let mut k = *stdp;
        k.soft = SOFT;
        k.rounding = match ROUNDING {
            0 => Rounding::Floor,
            1 => Rounding::Nearest,
            _ => Rounding::Stochastic,
        };
        // Without the bracket over y2, the neuron-spike term is the same for every column.
        let (w, n) = (&mut self.w[..], self.n);
        if k.a3_plus == 0 {
            stdp_groups::<true>(w, n, s, &k, &mut self.fired);
        } else {
            stdp_groups::<false>(w, n, s, &k, &mut self.fired);
        }
        for f in &self.fired {
            self.lfsr[f.jj] = f.lfsr;
        }
        self.stdp_depress(&k, s);
    }

    /// Neurons that did not spike: depression on the rows of this step's input spikes. Every
    /// neuron of the row is computed; a neuron that spiked keeps its weight and its LFSR.
    #[inline(always)]
    fn stdp_depress(&mut self, stdp: &Stdp, s: &Shared) {
        let n = self.n;
        // `dep(y1, x2)` of every neuron, for the `x2` of the row before; without the bracket
        // over x2 (the pair rule) it is computed once.
        let mut dep_x2 = None;
        for &i in s.pre {
            let i = i as usize;
            let x2 = if stdp.a3_minus == 0 { 0 } else { s.x2[i] };
            if dep_x2 != Some(x2) {
                for (d, &y1) in self.dep.iter_mut().zip(&self.y1) {
                    *d = stdp.dep(y1, x2);
                }
                dep_x2 = Some(x2);
            }
            let row = &mut self.w[i * n..(i + 1) * n];
            let state = self.dep.iter().zip(&self.spiked).zip(self.lfsr.iter_mut());
            for (w, ((&dep, &spiked), lfsr)) in row.iter_mut().zip(state) {
                let mut next = *lfsr;
                let updated = stdp.apply(*w, 0, dep, &mut next);
                if !spiked {
                    *w = updated;
                    *lfsr = next;
                }
            }
        }
    }

    /// §4.3 as the contract states it, synapse by synapse ([`RuleFixed::update`]): for rules
    /// that read the modulator, whose terms change sign with it. Each neuron updates, in
    /// ascending input, every synapse when it spiked, else those of this step's input spikes.
    fn plasticity_general(&mut self, rule: &RuleFixed, s: &Shared) {
        let n = self.n;
        for jj in 0..self.n {
            let post = self.spiked[jj];
            let lfsr = &mut self.lfsr[jj];
            let (y1, y2) = (self.y1[jj] as i64, self.y2[jj] as i64);
            let (w, syn) = (&mut self.w, &mut self.syn);
            let syn_rules = &s.b.syn_rules;
            // Every target from the synapse's values before this update; draws in the order
            // weight, then the variables by name.
            let mut one = |i: usize| {
                let a = i * n + jj;
                let [x1, x2, x1p, x2p] = s.x(i);
                let v = [x1, x2, x1p, x2p, y1, y2];
                let old = [0, 1].map(|k| syn[k].get(a).map_or(0, |&x| x as i64));
                let vars = VarVals { r: s.r, syn: old };
                let w0 = w[a];
                let pre = s.pre_mask[i];
                // A target with no event terms (only sweep terms) is not updated here.
                if rule.events {
                    w[a] = rule.update_target(w0 as i64, w0, pre, post, &v, &vars, lfsr) as u16;
                }
                for (k, sr) in syn_rules.iter().enumerate().filter(|(_, sr)| sr.events) {
                    syn[k][a] = sr.update_target(old[k], w0, pre, post, &v, &vars, lfsr) as i32;
                }
            };
            if post {
                for i in 0..s.inputs {
                    one(i);
                }
            } else {
                for &i in s.pre {
                    one(i as usize);
                }
            }
        }
    }

    /// §4.7 The sweep: every synapse into each of the tile's neurons, ascending input, every
    /// target with sweep terms from the synapse's values before it, the traces as §4.4 left
    /// them (`x1`, `x2` per input), no event; draws on the neuron's LFSR, the weight's first.
    fn sweep(&mut self, rule: &RuleFixed, syn_rules: &[RuleFixed], x: (&[u16], &[u16]), r: i64) {
        let n = self.n;
        let inputs = x.0.len();
        for jj in 0..n {
            let lfsr = &mut self.lfsr[jj];
            let (y1, y2) = (self.y1[jj] as i64, self.y2[jj] as i64);
            for i in 0..inputs {
                let a = i * n + jj;
                let (x1, x2) = (x.0[i] as i64, x.1[i] as i64);
                let v = [x1, x2, x1, x2, y1, y2];
                let old = [0, 1].map(|k| self.syn[k].get(a).map_or(0, |&x| x as i64));
                let vars = VarVals { r, syn: old };
                let w0 = self.w[a];
                if rule.sweeps {
                    self.w[a] =
                        rule.update_target(w0 as i64, w0, false, false, &v, &vars, lfsr) as u16;
                }
                for (k, sr) in syn_rules.iter().enumerate().filter(|(_, sr)| sr.sweeps) {
                    self.syn[k][a] =
                        sr.update_target(old[k], w0, false, false, &v, &vars, lfsr) as i32;
                }
            }
        }
    }

    /// §4.3 with the rounding, and whether the update reads the weight, made compile-time
    /// constants: `apply`'s `match` and multiply then drop out of the inner loops.
    fn plasticity(&mut self, rule: &RuleFixed, plans: &Plans, s: &Shared) {
        match (rule.rounding, rule.weighted()) {
            (Rounding::Floor, false) => self.plasticity_as::<0>(rule, plans, s),
            (Rounding::Nearest, false) => self.plasticity_as::<1>(rule, plans, s),
            (Rounding::Stochastic, false) => self.plasticity_as::<2>(rule, plans, s),
            (Rounding::Floor, true) => self.plasticity_as::<3>(rule, plans, s),
            (Rounding::Nearest, true) => self.plasticity_as::<4>(rule, plans, s),
            (Rounding::Stochastic, true) => self.plasticity_as::<5>(rule, plans, s),
        }
    }

    /// §4.3 with the mode `R` a constant: rounding `R % 3` (0 floor, 1 nearest, 2
    /// stochastic), and `R >= 3` when some term has a weight factor.
    fn plasticity_as<const R: u8>(&mut self, rule: &RuleFixed, plans: &Plans, s: &Shared) {
        // The neuron-side parts of the classes that act this step, once per neuron: the post
        // traces do not change before §4.4.
        let (post, pre) = (!self.fired.is_empty(), !s.pre.is_empty());
        for (c, active) in [(POST, post), (PRE, pre), (BOTH, post && pre)] {
            self.col[c].resize(self.n, ColPart::default());
            if active && plans.class[c].has_col() {
                for (jj, part) in self.col[c].iter_mut().enumerate() {
                    *part = plans.col(c, [self.y1[jj], self.y2[jj]]);
                }
            }
        }
        let (w, n, col, fired) = (&mut self.w[..], self.n, &self.col, &mut self.fired);
        match plans.class[POST].shape() {
            shape::ROW => post_groups::<R, { shape::ROW }>(w, n, s, rule, plans, col, fired),
            shape::PARTS => post_groups::<R, { shape::PARTS }>(w, n, s, rule, plans, col, fired),
            shape::COL_SPLIT => {
                post_groups::<R, { shape::COL_SPLIT }>(w, n, s, rule, plans, col, fired)
            }
            shape::ROW_SPLIT => {
                post_groups::<R, { shape::ROW_SPLIT }>(w, n, s, rule, plans, col, fired)
            }
            _ => post_groups::<R, { shape::GENERAL }>(w, n, s, rule, plans, col, fired),
        }
        for f in &self.fired {
            self.lfsr[f.jj] = f.lfsr;
        }
        match plans.class[PRE].shape() {
            shape::ROW => self.pre_rows::<R, { shape::ROW }>(rule, plans, s),
            shape::PARTS => self.pre_rows::<R, { shape::PARTS }>(rule, plans, s),
            shape::COL_SPLIT => self.pre_rows::<R, { shape::COL_SPLIT }>(rule, plans, s),
            shape::ROW_SPLIT => self.pre_rows::<R, { shape::ROW_SPLIT }>(rule, plans, s),
            _ => self.pre_rows::<R, { shape::GENERAL }>(rule, plans, s),
        }
    }

    /// Neurons that did not spike: the input-spike terms on the rows of this step's input
    /// spikes. Every neuron of the row is computed; a neuron that spiked keeps its weight and
    /// its LFSR.
    #[inline(always)]
    fn pre_rows<const R: u8, const SH: u8>(&mut self, rule: &RuleFixed, plans: &Plans, s: &Shared) {
        let n = self.n;
        let col = &self.col[PRE];
        let kp = plans.class[PRE].split_consts();
        for &i in s.pre {
            let i = i as usize;
            let x = s.x(i);
            let rp = plans.row(PRE, &x);
            let row = &mut self.w[i * n..(i + 1) * n];
            let state = self.spiked.iter().zip(self.lfsr.iter_mut());
            let traces = col.iter().zip(self.y1.iter().zip(&self.y2));
            for ((w, (&spiked, lfsr)), (&cp, (&y1, &y2))) in row.iter_mut().zip(state).zip(traces) {
                let ab = plans.synapse_as::<SH>(PRE, kp, rp, cp, &x, [y1, y2]);
                let mut next = *lfsr;
                let updated = apply::<R>(rule, *w, ab, &mut next);
                if !spiked {
                    *w = updated;
                    *lfsr = next;
                }
            }
        }
    }

    /// §4.6: scale every weight of every neuron by its factor, row by row; each neuron's
    /// draws stay in ascending input.
    fn scale(&mut self, homeo: &HomeostasisFixed, inputs: usize) {
        let n = self.n;
        for (f, c) in self.factor.iter_mut().zip(self.count.iter_mut()) {
            *f = homeo.factor(*c);
            *c = 0;
        }
        for i in 0..inputs {
            let row = &mut self.w[i * n..(i + 1) * n];
            for ((w, &f), lfsr) in row.iter_mut().zip(&self.factor).zip(self.lfsr.iter_mut()) {
                *w = homeo.scale(*w, f, lfsr);
            }
        }
    }
}

/// [`RuleFixed::apply`] in the mode `R` (see `Tile::plasticity_as`), so that its `match`
/// and, for rules that never read the weight, its multiply drop out of the inner loops.
#[inline(always)]
fn apply<const R: u8>(rule: &RuleFixed, w: u16, (a, b): (i64, i64), lfsr: &mut Lfsr) -> u16 {
    let mode = match R % 3 {
        0 => Rounding::Floor,
        1 => Rounding::Nearest,
        _ => Rounding::Stochastic,
    };
    debug_assert!(R >= 3 || b == 0, "a rule without weight factors has B = 0");
    rule.apply_as(w, (a, if R >= 3 { b } else { 0 }), mode, lfsr)
}

/// The columns of `fired`, [`COLUMNS`] at a time, for a rule of the pair and triplet shape.
#[inline(always)]
fn stdp_groups<const PAIR: bool>(
    w: &mut [u16],
    n: usize,
    s: &Shared,
    stdp: &Stdp,
    fired: &mut [Fired],
) {
    let mut groups = fired.chunks_exact_mut(COLUMNS);
    for g in &mut groups {
        stdp_columns::<COLUMNS, PAIR>(w, n, s, stdp, g.try_into().expect("a full group"));
    }
    let rest = groups.into_remainder();
    match rest.len() {
        1 => stdp_columns::<1, PAIR>(w, n, s, stdp, rest.try_into().expect("1 column")),
        2 => stdp_columns::<2, PAIR>(w, n, s, stdp, rest.try_into().expect("2 columns")),
        3 => stdp_columns::<3, PAIR>(w, n, s, stdp, rest.try_into().expect("3 columns")),
        _ => {}
    }
}

/// Update the whole columns of `K` neurons that spiked, row by row, each column in
/// ascending input, for a rule of the pair and triplet shape. `K` columns side by side let
/// the CPU overlap their LFSR chains. `PAIR`: no bracket over y2, so that `pot` is the same
/// for every column.
#[inline(always)]
fn stdp_columns<const K: usize, const PAIR: bool>(
    w: &mut [u16],
    n: usize,
    s: &Shared,
    stdp: &Stdp,
    f: &mut [Fired; K],
) {
    let mut l: [Lfsr; K] = std::array::from_fn(|k| f[k].lfsr);
    let jj: [usize; K] = std::array::from_fn(|k| f[k].jj);
    let y1: [u16; K] = std::array::from_fn(|k| f[k].y1);
    let y2: [u16; K] = std::array::from_fn(|k| if PAIR { 0 } else { f[k].y2 });
    // Checked once here, so that the compiler can drop the checks of `row[jj[k]]` below.
    assert!(jj.iter().all(|&j| j < n));
    let rows = w.chunks_exact_mut(n).zip(s.x1_post.iter().zip(s.x2).zip(s.pre_mask));
    for (row, ((&x1, &x2), &pre)) in rows {
        let row = &mut row[..n];
        let pot_pair = stdp.pot(x1, 0);
        let pot = |k: usize| if PAIR { pot_pair } else { stdp.pot(x1, y2[k]) };
        if pre {
            for k in 0..K {
                row[jj[k]] = stdp.apply(row[jj[k]], pot(k), stdp.dep(y1[k], x2), &mut l[k]);
            }
        } else {
            for k in 0..K {
                row[jj[k]] = stdp.apply(row[jj[k]], pot(k), 0, &mut l[k]);
            }
        }
    }
    for k in 0..K {
        f[k].lfsr = l[k];
    }
}

/// The columns of `fired`, [`COLUMNS`] at a time.
#[inline(always)]
fn post_groups<const R: u8, const SH: u8>(
    w: &mut [u16],
    n: usize,
    s: &Shared,
    rule: &RuleFixed,
    plans: &Plans,
    col: &[Vec<ColPart>; 3],
    fired: &mut [Fired],
) {
    let mut groups = fired.chunks_exact_mut(COLUMNS);
    for g in &mut groups {
        columns::<COLUMNS, R, SH>(w, n, s, rule, plans, col, g.try_into().expect("a full group"));
    }
    let rest = groups.into_remainder();
    match rest.len() {
        1 => columns::<1, R, SH>(w, n, s, rule, plans, col, rest.try_into().expect("1 column")),
        2 => columns::<2, R, SH>(w, n, s, rule, plans, col, rest.try_into().expect("2 columns")),
        3 => columns::<3, R, SH>(w, n, s, rule, plans, col, rest.try_into().expect("3 columns")),
        _ => {}
    }
}

/// Update the whole columns of `K` neurons that spiked, row by row, each column in
/// ascending input. `K` columns side by side let the CPU overlap their LFSR chains.
#[inline(always)]
fn columns<const K: usize, const R: u8, const SH: u8>(
    w: &mut [u16],
    n: usize,
    s: &Shared,
    rule: &RuleFixed,
    plans: &Plans,
    col: &[Vec<ColPart>; 3],
    f: &mut [Fired; K],
) {
    let mut l: [Lfsr; K] = std::array::from_fn(|k| f[k].lfsr);
    let jj: [usize; K] = std::array::from_fn(|k| f[k].jj);
    let y: [[u16; 2]; K] = std::array::from_fn(|k| [f[k].y1, f[k].y2]);
    // Checked once here, so that the compiler can drop the checks of `row[jj[k]]` below.
    assert!(jj.iter().all(|&j| j < n));
    // Each column's neuron parts, for the three classes.
    let cp: [[ColPart; K]; 3] = std::array::from_fn(|c| std::array::from_fn(|k| col[c][jj[k]]));
    let kp = plans.class[POST].split_consts();
    let post_rows = s.post_rows(plans);
    let rows = w.chunks_exact_mut(n).zip(s.pre_mask).zip(post_rows).enumerate();
    for (i, ((row, &pre), &rp)) in rows {
        let row = &mut row[..n];
        if pre {
            let x = s.x(i);
            let (rd, rb) = (plans.row(PRE, &x), plans.row(BOTH, &x));
            for k in 0..K {
                let p = plans.synapse_as::<SH>(POST, kp, rp, cp[POST][k], &x, y[k]);
                let d = plans.synapse(PRE, rd, cp[PRE][k], &x, y[k]);
                let b = plans.synapse(BOTH, rb, cp[BOTH][k], &x, y[k]);
                let ab = (p.0 + d.0 + b.0, p.1 + d.1 + b.1);
                row[jj[k]] = apply::<R>(rule, row[jj[k]], ab, &mut l[k]);
            }
        } else {
            // Only a general term reads the traces themselves here.
            let x = if SH == shape::GENERAL { s.x(i) } else { [0; 4] };
            for k in 0..K {
                let p = plans.synapse_as::<SH>(POST, kp, rp, cp[POST][k], &x, y[k]);
                row[jj[k]] = apply::<R>(rule, row[jj[k]], p, &mut l[k]);
            }
        }
    }
    for k in 0..K {
        f[k].lfsr = l[k];
    }
}

/// A neuron's stored state, raw (the fields of the hardware's neuron word).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NeuronRaw {
    /// Membrane, two's complement.
    pub v_mem: i64,
    /// Adaptive part of the threshold.
    pub theta_a: u64,
    /// Post trace y1.
    pub trace_y1: u64,
    /// Post trace y2.
    pub trace_y2: u64,
    /// Refractory steps left.
    pub refrac: u64,
    /// Spikes in this scaling period.
    pub count: u64,
    /// Spiked in the last step (1) or not (0).
    pub spiked: u64,
    /// LFSR state.
    pub lfsr: u64,
}

/// The bit-accurate model.
#[derive(Clone)]
pub struct FixedModel {
    net: Network,
    b: Blocks,
    t: u32,
    tiles: Vec<Tile>,
    /// Columns of every tile but the last.
    width: usize,
    x1: Vec<u16>,
    x2: Vec<u16>,
    /// Scratch: x1 after this step's pre spikes.
    x1_after: Vec<u16>,
    /// Scratch: x2 after this step's pre spikes (when the rule reads it there).
    x2_after: Vec<u16>,
    /// Scratch: the neuron-spike class's row parts ([`Shared::post_rows`]).
    post_rows: Spare,

    in_lfsr: Lfsr,
    /// Scratch: the input LFSR's draws of this step's trace decays, drawn ahead.
    in_draws: Vec<u32>,
    pre_mask: Vec<bool>,
    prev_total: u32,
    out: Vec<u32>,
    /// [`Model::set_modulator`]'s value for the next step.
    r_next: Option<f64>,
    /// The task that sets `r` from the spikes (`stimulus.reward`).
    task: Option<crate::task::RewardTask>,
}

impl FixedModel {
    /// `r` of the next step unless a host sets it: the reward task's, else the stimulus's.
    fn scheduled_modulator(&self) -> f64 {
        match &self.task {
            Some(task) => task.r(self.t),
            None => self.net.modulator_at(self.t),
        }
    }

    /// A fresh model with the config's initial weights.
    pub fn new(net: &Network) -> Self {
        let w0: Vec<u16> = initial_weights(net)
            .iter()
            .map(|&w| {
                net.fmt.w.quantize(w).unwrap_or(net.k.w_max).clamp(net.k.w_min, net.k.w_max) as u16
            })
            .collect();
        Self::with_weights(net, &w0)
    }

    /// The model with the general kernels only, also for rules of the pair and triplet
    /// shape: the tests hold both kernels to the contract on the same rules.
    #[cfg(test)]
    fn general(net: &Network) -> Self {
        let mut m = Self::new(net);
        m.b.stdp = None;
        m
    }

    /// A fresh model with the given raw weights, input-major.
    pub fn with_weights(net: &Network, w0: &[u16]) -> Self {
        let (ni, nn) = (net.inputs(), net.neurons());
        assert_eq!(w0.len(), ni * nn, "weight matrix must be inputs x neurons");
        assert!(
            w0.iter().all(|&w| (net.k.w_min..=net.k.w_max).contains(&(w as i64))),
            "initial weights must lie within [w_min, w_max]"
        );
        let width = tile_width(nn);
        let tiles = (0..nn).step_by(width).map(|j0| Tile::new(net, w0, j0, width.min(nn - j0)));
        FixedModel {
            net: net.clone(),
            b: Blocks {
                lif: LifFixed::new(net),
                tr: TracesFixed::new(net),
                rule: net.rule.as_ref().map(|r| {
                    let rule = RuleFixed::new(r, net.k.w_min, net.k.w_max);
                    let plans = Plans::new(&rule);
                    (rule, plans)
                }),
                syn_rules: net
                    .syn
                    .iter()
                    .map(|v| RuleFixed::new(&v.update, net.k.w_min, net.k.w_max))
                    .collect(),
                stdp: net
                    .rule
                    .as_ref()
                    .filter(|_| net.syn.is_empty())
                    .and_then(|r| Stdp::of(r, net.k.w_min, net.k.w_max)),
                homeo: HomeostasisFixed::new(net),
                x2: net.has_trace(Trace::X2),
                y2: net.has_trace(Trace::Y2),
            },
            t: 0,
            tiles: tiles.collect(),
            width,
            x1: vec![0; ni],
            x2: vec![0; ni],
            x1_after: vec![0; ni],
            in_draws: Vec::new(),
            x2_after: vec![0; ni],
            post_rows: Spare::default(),

            in_lfsr: Lfsr::for_inputs(net.k.seed),
            pre_mask: vec![false; ni],
            prev_total: 0,
            out: Vec::new(),
            r_next: None,
            task: crate::task::RewardTask::of(net),
        }
    }

    /// The tile of neuron `j` and `j`'s column in it.
    fn tile_of(&self, j: usize) -> (&Tile, usize) {
        let tile = &self.tiles[j / self.width];
        (tile, j - tile.j0)
    }

    /// Per-synapse variable `k` of every synapse, raw, input-major (`v[i * neurons + j]`).
    pub fn syn_raw(&self, k: usize) -> Vec<i64> {
        let (ni, nn) = (self.net.inputs(), self.net.neurons());
        let mut out = vec![0i64; ni * nn];
        for tile in &self.tiles {
            if let Some(v) = tile.syn.get(k).filter(|v| !v.is_empty()) {
                for i in 0..ni {
                    for jj in 0..tile.n {
                        out[i * nn + tile.j0 + jj] = v[i * tile.n + jj] as i64;
                    }
                }
            }
        }
        out
    }

    /// Raw weight of synapse (input `i`, neuron `j`).
    pub fn weight_raw(&self, i: usize, j: usize) -> u16 {
        let (tile, jj) = self.tile_of(j);
        tile.row(i)[jj]
    }

    /// All raw weights, input-major.
    pub fn weights_raw(&self) -> Vec<u16> {
        let (ni, nn) = (self.net.inputs(), self.net.neurons());
        let mut w = vec![0u16; ni * nn];
        for tile in &self.tiles {
            for i in 0..ni {
                w[i * nn + tile.j0..i * nn + tile.j0 + tile.n].copy_from_slice(tile.row(i));
            }
        }
        w
    }

    /// Every stored state quantity of neuron `j`, raw, as the hardware's neuron word holds it.
    pub fn neuron_raw(&self, j: usize) -> NeuronRaw {
        let (tile, jj) = self.tile_of(j);
        NeuronRaw {
            v_mem: tile.v[jj] as i64,
            theta_a: tile.theta_a[jj] as u64,
            trace_y1: tile.y1[jj] as u64,
            trace_y2: tile.y2[jj] as u64,
            refrac: tile.refr[jj] as u64,
            count: tile.count[jj] as u64,
            spiked: tile.spiked[jj] as u64,
            lfsr: tile.lfsr[jj].state() as u64,
        }
    }

    /// The input side's LFSR state.
    pub fn input_lfsr(&self) -> u32 {
        self.in_lfsr.state()
    }

    /// Raw pre traces `(x1, x2)`.
    pub fn pre_traces_raw(&self) -> (&[u16], &[u16]) {
        (&self.x1, &self.x2)
    }

    /// The network it runs.
    pub fn network(&self) -> &Network {
        &self.net
    }
}

impl Model for FixedModel {
    fn step(&mut self, pre: &[u32]) -> &[u32] {
        debug_assert!(pre.windows(2).all(|p| p[0] < p[1]), "input spikes must be sorted, distinct");
        let b = &self.b;
        // §4.2 Pre-trace decay, ascending input, on the input LFSR: x1 then x2 of each input.
        // Every stochastic decay draws, whatever the trace's value, so the step's draws are
        // known ahead: drawn in one go (`Lfsr::fill`, four chains side by side), then each
        // trace decays in one pass over its own words (interleaved when both draw).
        let x1_draws = (b.tr.x1.rounding == Rounding::Stochastic) as usize;
        let x2_draws = (b.x2 && b.tr.x2.rounding == Rounding::Stochastic) as usize;
        let per_input = x1_draws + x2_draws;
        self.in_draws.resize(per_input * self.x1.len(), 0);
        self.in_lfsr.fill(&mut self.in_draws);
        b.tr.x1.decay_all(&mut self.x1, &self.in_draws, per_input);
        if b.x2 {
            b.tr.x2.decay_all(
                &mut self.x2,
                &self.in_draws[x1_draws.min(self.in_draws.len())..],
                per_input,
            );
        }
        for &i in pre {
            self.pre_mask[i as usize] = true;
        }
        // What a term at a neuron spike reads: the pre traces with this step's pre spikes, as
        // §4.4 will leave them.
        if let Some((rule, _)) = &b.rule {
            self.x1_after.copy_from_slice(&self.x1);
            for &i in pre {
                self.x1_after[i as usize] = b.tr.x1.bump(self.x1[i as usize]);
            }
            if rule.post_reads[Slot::X2Post as usize]
                || b.syn_rules.iter().any(|s| s.post_reads[Slot::X2Post as usize])
            {
                self.x2_after.copy_from_slice(&self.x2);
                for &i in pre {
                    self.x2_after[i as usize] = b.tr.x2.bump(self.x2[i as usize]);
                }
            }
        }
        let r = self.r_next.take().unwrap_or_else(|| self.scheduled_modulator());
        let shared = Shared {
            r: self.net.modulator_raw(r),
            b,
            t: self.t,
            inputs: self.x1.len(),
            pre,
            pre_mask: &self.pre_mask,
            x1: &self.x1,
            x2: &self.x2,
            x1_post: &self.x1_after,
            x2_post: &self.x2_after,
            post_rows: OnceLock::new(),
            spare: &self.post_rows.0,
            prev_total: self.prev_total,
        };
        if self.tiles.len() == 1 {
            self.tiles[0].step(&shared);
        } else {
            self.tiles.par_iter_mut().for_each(|tile| tile.step(&shared));
        }
        if let Some(v) = shared.post_rows.into_inner() {
            *self.post_rows.0.get_mut().unwrap_or_else(|e| e.into_inner()) = v;
        }
        // §4.4 Pre-trace increments.
        for &i in pre {
            let i = i as usize;
            self.x1[i] = b.tr.x1.bump(self.x1[i]);
            if b.x2 {
                self.x2[i] = b.tr.x2.bump(self.x2[i]);
            }
            self.pre_mask[i] = false;
        }
        // §4.7 The sweep, after §4.6 (each tile scaled in its step).
        if self.net.sweeps_at(self.t) {
            if let Some((rule, _)) = &b.rule {
                let (syn_rules, x) = (&b.syn_rules[..], (&self.x1[..], &self.x2[..]));
                let r = self.net.modulator_raw(r);
                if self.tiles.len() == 1 {
                    self.tiles[0].sweep(rule, syn_rules, x, r);
                } else {
                    self.tiles.par_iter_mut().for_each(|t| t.sweep(rule, syn_rules, x, r));
                }
            }
        }
        self.out.clear();
        for tile in &self.tiles {
            self.out.extend(tile.fired.iter().map(|f| (tile.j0 + f.jj) as u32));
        }
        if let Some(task) = &mut self.task {
            task.observe(self.t, pre, &self.out);
        }
        self.prev_total = self.out.len() as u32;
        self.t += 1;
        &self.out
    }

    fn syn(&self, k: usize) -> Option<Vec<f64>> {
        let f = self.net.syn.get(k)?.fmt;
        Some(self.syn_raw(k).into_iter().map(|x| f.to_real(x)).collect())
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
        self.net.neurons()
    }

    fn weights(&self) -> Vec<f64> {
        self.weights_raw().into_iter().map(|w| self.net.fmt.w.to_real(w as i64)).collect()
    }

    fn probe(&self, j: usize) -> Probe {
        let (tile, jj) = self.tile_of(j);
        let f = &self.net.fmt;
        let raw = [tile.v[jj] as i64, tile.theta[jj], tile.y1[jj] as i64, tile.y2[jj] as i64];
        Probe {
            v_mem: f.v.to_real(raw[0]),
            theta: f.theta.to_real(raw[1]),
            trace_y1: f.y1.to_real(raw[2]),
            trace_y2: f.y2.to_real(raw[3]),
            refrac: tile.refr[jj] as u32,
            spike: tile.spiked[jj],
            raw: Some(raw),
        }
    }

    fn pre_traces(&self) -> Vec<f64> {
        self.x1.iter().map(|&x| self.net.fmt.x1.to_real(x as i64)).collect()
    }
    fn state(&self) -> Vec<Quantity> {
        let (f, nn) = (&self.net.fmt, self.net.neurons());
        let per_neuron = |get: &dyn Fn(&Tile, usize) -> u64| -> Vec<u64> {
            (0..nn)
                .map(|j| {
                    let (tile, jj) = self.tile_of(j);
                    get(tile, jj)
                })
                .collect()
        };
        let q = |name: &'static str, per, values, format| Quantity {
            name,
            per,
            values,
            format,
            what: state::what(name),
        };
        let u16s = |v: Vec<u64>| Values::U16(v.into_iter().map(|x| x as u16).collect());
        let mut out = vec![
            q("weight", Per::Synapse, Values::U16(self.weights_raw()), Some(f.w)),
            q(
                "v_mem",
                Per::Neuron,
                Values::I32(
                    per_neuron(&|t, jj| t.v[jj] as i64 as u64)
                        .into_iter()
                        .map(|x| x as i64 as i32)
                        .collect(),
                ),
                Some(f.v),
            ),
        ];
        if self.net.cfg.homeostasis.adaptive_threshold {
            let v = per_neuron(&|t, jj| t.theta_a[jj] as u64);
            out.push(q(
                "theta_a",
                Per::Neuron,
                Values::U32(v.into_iter().map(|x| x as u32).collect()),
                Some(f.theta),
            ));
        }
        out.push(q(
            "trace_y1",
            Per::Neuron,
            u16s(per_neuron(&|t, jj| t.y1[jj] as u64)),
            Some(f.y1),
        ));
        if self.b.y2 {
            out.push(q(
                "trace_y2",
                Per::Neuron,
                u16s(per_neuron(&|t, jj| t.y2[jj] as u64)),
                Some(f.y2),
            ));
        }
        out.push(q("refrac", Per::Neuron, u16s(per_neuron(&|t, jj| t.refr[jj] as u64)), None));
        out.push(q("count", Per::Neuron, u16s(per_neuron(&|t, jj| t.count[jj] as u64)), None));
        let spiked = per_neuron(&|t, jj| t.spiked[jj] as u64);
        out.push(q(
            "spiked",
            Per::Neuron,
            Values::Bool(spiked.into_iter().map(|x| x != 0).collect()),
            None,
        ));
        let lfsr = per_neuron(&|t, jj| t.lfsr[jj].state() as u64);
        out.push(q(
            "lfsr",
            Per::Neuron,
            Values::U32(lfsr.into_iter().map(|x| x as u32).collect()),
            None,
        ));
        out.push(q("trace_x1", Per::Input, Values::U16(self.x1.clone()), Some(f.x1)));
        if self.b.x2 {
            out.push(q("trace_x2", Per::Input, Values::U16(self.x2.clone()), Some(f.x2)));
        }
        out.push(q("lfsr_inputs", Per::Network, Values::U32(vec![self.in_lfsr.state()]), None));
        for (k, v) in self.net.syn.iter().enumerate() {
            let raw = self.syn_raw(k).into_iter().map(|x| x as i32).collect();
            out.push(q(state::SYN_NAMES[k], Per::Synapse, Values::I32(raw), Some(v.fmt)));
        }
        if let Some(t) = &self.task {
            out.extend(t.quantities());
        }
        out
    }

    fn set_state(&mut self, step: u32, q: &[Quantity]) -> Result<(), String> {
        let (net, f, k) = (&self.net, &self.net.fmt, &self.net.k);
        let (ni, nn) = (net.inputs(), net.neurons());
        let u16_max = |fmt: &crate::format::Format| fmt.max_raw();
        // Check everything first.
        let w = state::u16s(q, "weight", ni * nn)?;
        state::in_range("weight", w, k.w_min, k.w_max, "the weight bounds w_min..w_max")?;
        let v = state::i32s(q, "v_mem", nn)?;
        state::in_range("v_mem", v, f.v.min_raw(), f.v.max_raw(), "the membrane format")?;
        let theta_a = if net.cfg.homeostasis.adaptive_threshold {
            let t = state::u32s(q, "theta_a", nn)?;
            state::in_range("theta_a", t, 0, f.theta.max_raw(), "the threshold format")?;
            Some(t)
        } else {
            None
        };
        let y1 = state::u16s(q, "trace_y1", nn)?;
        state::in_range("trace_y1", y1, 0, u16_max(&f.y1), "the trace_y1 format")?;
        let y2 = if self.b.y2 {
            let y = state::u16s(q, "trace_y2", nn)?;
            state::in_range("trace_y2", y, 0, u16_max(&f.y2), "the trace_y2 format")?;
            Some(y)
        } else {
            None
        };
        let refr = state::u16s(q, "refrac", nn)?;
        let count = state::u16s(q, "count", nn)?;
        let spiked = state::bools(q, "spiked", nn)?;
        let lfsr = state::u32s(q, "lfsr", nn)?;
        state::in_range(
            "lfsr",
            lfsr,
            1,
            u32::MAX as i64,
            "the LFSR's states (0 is its dead state)",
        )?;
        let x1 = state::u16s(q, "trace_x1", ni)?;
        state::in_range("trace_x1", x1, 0, u16_max(&f.x1), "the trace_x1 format")?;
        let x2 = if self.b.x2 {
            let x = state::u16s(q, "trace_x2", ni)?;
            state::in_range("trace_x2", x, 0, u16_max(&f.x2), "the trace_x2 format")?;
            Some(x)
        } else {
            None
        };
        let in_lfsr = state::u32s(q, "lfsr_inputs", 1)?;
        state::in_range(
            "lfsr_inputs",
            in_lfsr,
            1,
            u32::MAX as i64,
            "the LFSR's states (0 is its dead state)",
        )?;
        let task = self.task.as_ref().map(|t| t.restored(q, step)).transpose()?;
        let mut syn = Vec::new();
        for (k, var) in net.syn.iter().enumerate() {
            let name = state::SYN_NAMES[k];
            let s = state::i32s(q, name, ni * nn)?;
            state::in_range(name, s, var.fmt.min_raw(), var.fmt.max_raw(), "its format")?;
            syn.push(s);
        }
        // Then set it.
        let mut m = FixedModel::with_weights(net, w);
        m.b = self.b.clone();
        for (k, s) in syn.iter().enumerate() {
            for tile in &mut m.tiles {
                for i in 0..ni {
                    for jj in 0..tile.n {
                        tile.syn[k][i * tile.n + jj] = s[i * nn + tile.j0 + jj];
                    }
                }
            }
        }
        for tile in &mut m.tiles {
            for jj in 0..tile.n {
                let j = tile.j0 + jj;
                tile.v[jj] = v[j];
                if let Some(t) = theta_a {
                    tile.theta_a[jj] = t[j];
                }
                tile.y1[jj] = y1[j];
                if let Some(y) = y2 {
                    tile.y2[jj] = y[j];
                }
                tile.refr[jj] = refr[j];
                tile.count[jj] = count[j];
                tile.spiked[jj] = spiked[j];
                tile.prev_spiked[jj] = spiked[j];
                tile.lfsr[jj] = Lfsr::new(lfsr[j]);
            }
        }
        m.x1.copy_from_slice(x1);
        if let Some(x) = x2 {
            m.x2.copy_from_slice(x);
        }
        m.in_lfsr = Lfsr::new(in_lfsr[0]);
        m.prev_total = spiked.iter().filter(|&&s| s).count() as u32;
        m.t = step;
        m.task = task;
        *self = m;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! The optimised model against a naive one: the same blocks in the plain order of
    //! semantics §4, one neuron and one synapse at a time, no tiles, no reordering.

    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::config::{Config, FormatSpec, ModulatorSpec, Pairing, Reset, WeightDependence};
    use crate::format::Decay;

    struct Naive {
        b: Blocks,
        ni: usize,
        nn: usize,
        t: u32,
        w: Vec<u16>,
        v: Vec<i32>,
        theta_a: Vec<u32>,
        theta: Vec<i64>,
        y1: Vec<u16>,
        y2: Vec<u16>,
        refr: Vec<u16>,
        count: Vec<u16>,
        lfsr: Vec<Lfsr>,
        spiked: Vec<bool>,
        x1: Vec<u16>,
        x2: Vec<u16>,
        in_lfsr: Lfsr,
        prev_total: u32,
        /// This step's modulator, raw.
        r: i64,
        /// The per-synapse variables, input-major.
        syn: [Vec<i32>; 2],
        /// The sweep's period.
        sweep: Option<u32>,
    }

    impl Naive {
        fn new(m: &FixedModel) -> Self {
            let (ni, nn) = (m.net.inputs(), m.net.neurons());
            let seed = m.net.k.seed;
            Naive {
                b: m.b.clone(),
                ni,
                nn,
                t: 0,
                w: m.weights_raw(),
                v: vec![0; nn],
                theta_a: vec![0; nn],
                theta: vec![m.net.k.theta0; nn],
                y1: vec![0; nn],
                y2: vec![0; nn],
                refr: vec![0; nn],
                count: vec![0; nn],
                lfsr: (0..nn).map(|j| Lfsr::for_neuron(seed, j as u32)).collect(),
                spiked: vec![false; nn],
                x1: vec![0; ni],
                x2: vec![0; ni],
                in_lfsr: Lfsr::for_inputs(seed),
                prev_total: 0,
                r: 0,
                syn: [0, 1]
                    .map(|k| m.net.syn.get(k).map_or(Vec::new(), |v| vec![v.init as i32; ni * nn])),
                sweep: m.net.cfg.plasticity.sweep_period_steps,
            }
        }

        // Indices on purpose: this reads as semantics §4 does, neuron j and input i.
        #[allow(clippy::needless_range_loop)]
        fn step(&mut self, pre: &[u32]) -> Vec<u32> {
            let (b, ni, nn) = (self.b.clone(), self.ni, self.nn);
            let mut pre_mask = vec![false; ni];
            for &i in pre {
                pre_mask[i as usize] = true;
            }
            for i in 0..ni {
                self.x1[i] = b.tr.x1.decay(self.x1[i], &mut self.in_lfsr);
                if b.x2 {
                    self.x2[i] = b.tr.x2.decay(self.x2[i], &mut self.in_lfsr);
                }
            }
            let prev_spiked = self.spiked.clone();
            for j in 0..nn {
                let syn_in: u64 = pre.iter().map(|&i| self.w[i as usize * nn + j] as u64).sum();
                let lfsr = &mut self.lfsr[j];
                let others = self.prev_total - prev_spiked[j] as u32;
                let live = b.lif.integrate(&mut self.v[j], &mut self.refr[j], syn_in, others, lfsr);
                self.theta[j] = b.homeo.decay(&mut self.theta_a[j], lfsr);
                self.y1[j] = b.tr.y1.decay(self.y1[j], lfsr);
                if b.y2 {
                    self.y2[j] = b.tr.y2.decay(self.y2[j], lfsr);
                }
                let spike = live && b.lif.fire(&mut self.v[j], &mut self.refr[j], self.theta[j]);
                if spike {
                    b.homeo.bump(&mut self.theta_a[j]);
                    self.count[j] = self.count[j].saturating_add(1);
                }
                self.spiked[j] = spike;
            }
            if let Some((rule, _)) = &b.rule {
                for j in 0..nn {
                    let lfsr = &mut self.lfsr[j];
                    for i in 0..ni {
                        let (pre, post) = (pre_mask[i], self.spiked[j]);
                        if !(pre || post) {
                            continue;
                        }
                        let bumped =
                            |x, t: &crate::trace::TraceFixed| if pre { t.bump(x) } else { x };
                        let v = [
                            self.x1[i] as i64,
                            self.x2[i] as i64,
                            bumped(self.x1[i], &b.tr.x1) as i64,
                            bumped(self.x2[i], &b.tr.x2) as i64,
                            self.y1[j] as i64,
                            self.y2[j] as i64,
                        ];
                        let a = i * nn + j;
                        let old = [0, 1].map(|k| self.syn[k].get(a).map_or(0, |&x| x as i64));
                        let vars = crate::plasticity::rule::VarVals { r: self.r, syn: old };
                        let w0 = self.w[a];
                        if rule.events {
                            self.w[a] = rule
                                .update_target(w0 as i64, w0, pre, post, &v, &vars, lfsr)
                                as u16;
                        }
                        for (k, sr) in b.syn_rules.iter().enumerate() {
                            if sr.events {
                                self.syn[k][a] =
                                    sr.update_target(old[k], w0, pre, post, &v, &vars, lfsr) as i32;
                            }
                        }
                    }
                }
            }
            for j in 0..nn {
                if self.spiked[j] {
                    self.y1[j] = b.tr.y1.bump(self.y1[j]);
                    if b.y2 {
                        self.y2[j] = b.tr.y2.bump(self.y2[j]);
                    }
                }
            }
            if b.homeo.scales_at(self.t) {
                for j in 0..nn {
                    let f = b.homeo.factor(self.count[j]);
                    for i in 0..ni {
                        let w = &mut self.w[i * nn + j];
                        *w = b.homeo.scale(*w, f, &mut self.lfsr[j]);
                    }
                    self.count[j] = 0;
                }
            }
            for &i in pre {
                let i = i as usize;
                self.x1[i] = b.tr.x1.bump(self.x1[i]);
                if b.x2 {
                    self.x2[i] = b.tr.x2.bump(self.x2[i]);
                }
            }
            // §4.7 The sweep: neuron by neuron, ascending input, no event.
            if let (Some(k), Some((rule, _))) = (self.sweep, &b.rule) {
                if (self.t + 1) % k == 0 {
                    for j in 0..nn {
                        let lfsr = &mut self.lfsr[j];
                        for i in 0..ni {
                            let (x1, x2) = (self.x1[i] as i64, self.x2[i] as i64);
                            let v = [x1, x2, x1, x2, self.y1[j] as i64, self.y2[j] as i64];
                            let a = i * nn + j;
                            let old = [0, 1].map(|k| self.syn[k].get(a).map_or(0, |&x| x as i64));
                            let vars = crate::plasticity::rule::VarVals { r: self.r, syn: old };
                            let w0 = self.w[a];
                            if rule.sweeps {
                                self.w[a] = rule
                                    .update_target(w0 as i64, w0, false, false, &v, &vars, lfsr)
                                    as u16;
                            }
                            for (k, sr) in b.syn_rules.iter().enumerate() {
                                if sr.sweeps {
                                    self.syn[k][a] = sr
                                        .update_target(old[k], w0, false, false, &v, &vars, lfsr)
                                        as i32;
                                }
                            }
                        }
                    }
                }
            }
            let out: Vec<u32> = (0..nn as u32).filter(|&j| self.spiked[j as usize]).collect();
            self.prev_total = out.len() as u32;
            self.t += 1;
            out
        }
    }

    /// A random valid network: sizes that cross tile boundaries, every rule, dependence,
    /// rounding, decay mode, pairing and reset, scaling with short periods. Every field that
    /// shapes the run is set here, so a change of the built-in defaults cannot make it invalid.
    fn random_config(rng: &mut ChaCha8Rng, modulated: bool, tagged: bool, swept: bool) -> Config {
        let mut c = Config::default();
        let n = &mut c.network;
        n.inputs = rng.random_range(1..=70);
        n.neurons = rng.random_range(1..=4 * TILE as u32 + 20);
        n.dt_ms = 1.0;
        n.seed = rng.random();
        let ne = &mut c.neuron;
        ne.tau_m_ms = rng.random_range(5.0..40.0);
        ne.threshold = rng.random_range(0.3..2.0);
        ne.reset = if rng.random() { Reset::Zero } else { Reset::Subtract };
        ne.refractory_ms = rng.random_range(0..4) as f64;
        ne.inhibition = if rng.random() { 0.0 } else { rng.random_range(0.0..0.3) };
        let tr = &mut c.traces;
        tr.pairing = if rng.random() { Pairing::AllToAll } else { Pairing::Nearest };
        tr.tau_plus_ms = rng.random_range(5.0..40.0);
        tr.tau_minus_ms = rng.random_range(5.0..40.0);
        tr.tau_x_ms = rng.random_range(20.0..150.0);
        tr.tau_y_ms = rng.random_range(20.0..150.0);
        tr.increment = rng.random_range(0.3..1.0);
        let p = &mut c.plasticity;
        let pick = ["off", "pair", "triplet", "custom", "custom"][rng.random_range(0..5)];
        p.rule = if modulated { "custom" } else { pick }.into();
        p.weight_dependence = if rng.random() {
            WeightDependence::Additive
        } else {
            WeightDependence::Multiplicative
        };
        p.a_plus = rng.random_range(0.001..0.1);
        p.a_minus = rng.random_range(0.001..0.1);
        let triplet = p.rule.as_str() == "triplet";
        p.a3_plus = if triplet { rng.random_range(0.0..0.05) } else { 0.0 };
        p.a3_minus = if triplet { rng.random_range(0.0..0.05) } else { 0.0 };
        if p.rule.is_custom() {
            let d = crate::config::PlasticitySection::default();
            (p.a_plus, p.a_minus, p.a3_plus, p.a3_minus) = (d.a_plus, d.a_minus, 0.0, 0.0);
            let r = crate::plasticity::random::random_rule_with(rng, 4, modulated);
            p.dw = Some(r.text);
            p.params = r.params;
        }
        p.w_min = 0.0;
        p.w_max = rng.random_range(0.2..0.9);
        p.w_init = rng.random_range(0.05..0.2);
        p.w_init_spread = rng.random_range(0.0..0.05);
        p.amplitude_frac = None;
        let h = &mut c.homeostasis;
        h.adaptive_threshold = rng.random();
        h.theta_step = rng.random_range(0.0..0.2);
        h.tau_theta_ms = rng.random_range(50.0..2000.0);
        h.scaling = rng.random();
        h.scaling_period_steps = rng.random_range(20..=60);
        h.target_rate_hz = 200.0;
        h.scaling_gain = 0.1;
        let f = &mut c.formats;
        f.membrane = spec(16, 10, rng);
        f.weight = spec(10, 10, rng);
        f.threshold = spec(16, 10, rng);
        f.trace_x1 = spec(8, 6, rng);
        f.trace_x2 = spec(8, 6, rng);
        f.trace_y1 = spec(8, 6, rng);
        f.trace_y2 = spec(8, 6, rng);
        if modulated {
            let width = rng.random_range(2..=12);
            f.modulator = Some(ModulatorSpec { width, frac: rng.random_range(0..width) });
        }
        if tagged {
            // A per-synapse variable `e` with a random update of its own (its parameters
            // renamed q0, q1, ...) and a term of dw that reads it.
            let signed = rng.random();
            let width = rng.random_range(2 + signed as u32..=12);
            let reads_r = rng.random();
            let u = crate::plasticity::random::random_rule_with(rng, 3, reads_r);
            let p = &mut c.plasticity;
            p.params.extend(u.params.iter().map(|(n, v)| (n.replace('p', "q"), *v)));
            p.params.insert("pe".into(), rng.random_range(0.001..0.05));
            p.dw = Some(format!(
                "{} + pe * e * {}",
                p.dw.clone().unwrap(),
                ["x0", "y0"][rng.random_range(0..2)]
            ));
            p.synapse.insert(
                "e".into(),
                crate::config::SynapseVarSpec {
                    width,
                    frac: rng.random_range(0..=width - signed as u32),
                    signed,
                    rounding: if rng.random() { Rounding::Floor } else { Rounding::Nearest },
                    init: 0.0,
                    update: Some(u.text.replace('p', "q")),
                },
            );
        }
        if swept {
            // Sweep terms (`u`): the tag decays, sometimes follows x1; the weight sometimes
            // takes r times the tag, sometimes decays; every few steps.
            let p = &mut c.plasticity;
            let e = p.synapse.get_mut("e").expect("swept cases are tagged");
            e.update.as_mut().expect("a custom variable").push_str(" - qd * e * u");
            p.params.insert("qd".into(), rng.random_range(0.05..0.5));
            if rng.random() {
                e.update.as_mut().expect("a custom variable").push_str(" + qs * x1 * u");
                p.params.insert("qs".into(), rng.random_range(0.001..0.05));
            }
            let dw = p.dw.as_mut().expect("a custom rule");
            if rng.random() {
                dw.push_str(" + pw * e * r * u");
                p.params.insert("pw".into(), rng.random_range(0.001..0.05));
                if c.formats.modulator.is_none() {
                    c.formats.modulator = Some(ModulatorSpec { width: 8, frac: 6 });
                }
            }
            if rng.random() {
                dw.push_str(" - pd * w * u");
                p.params.insert("pd".into(), rng.random_range(0.001..0.1));
            }
            p.sweep_period_steps = Some(rng.random_range(1..=6));
        }
        c
    }

    fn spec(width: u32, frac: u32, rng: &mut ChaCha8Rng) -> FormatSpec {
        let rounding =
            [Rounding::Floor, Rounding::Nearest, Rounding::Stochastic][rng.random_range(0..3)];
        let decay = if rng.random() { Decay::Multiply } else { Decay::Shift };
        FormatSpec { width, frac, rounding, decay }
    }

    #[test]
    fn optimised_model_equals_the_naive_one_on_random_networks() {
        // Cases 64 on: custom rules that read the modulator, which changes every step; 96 on,
        // with a per-synapse variable too; 128 on, with sweep terms as well.
        for case in 0..160u64 {
            let seed = 0x5EED_0000 + case;
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let (modulated, tagged, swept) = (case >= 64, case >= 96, case >= 128);
            let net = loop {
                // A random rule may need intermediates too wide for the random formats: draw again.
                match random_config(&mut rng, modulated, tagged, swept).build() {
                    Ok(net) => break net,
                    Err(e) if e.to_string().contains("bits the datapath holds") => continue,
                    Err(e) => panic!("seed {seed:#x}: {e}"),
                }
            };
            let mut fast = FixedModel::new(&net);
            let mut general = FixedModel::general(&net);
            let mut naive = Naive::new(&fast);
            let rate = rng.random_range(0.02..0.3);
            let r_max = net.fmt.r.map_or(0.0, |f| f.max_real() * 1.5);
            for t in 0..250 {
                let pre: Vec<u32> =
                    (0..net.inputs() as u32).filter(|_| rng.random::<f64>() < rate).collect();
                if modulated {
                    // Zero, the extremes (saturating), and anything between.
                    let r = match rng.random_range(0..6) {
                        0 => 0.0,
                        1 => -r_max,
                        2 => r_max,
                        _ => rng.random_range(-r_max..=r_max),
                    };
                    fast.set_modulator(r);
                    general.set_modulator(r);
                    naive.r = net.modulator_raw(r);
                }
                let want = naive.step(&pre);
                assert_eq!(fast.step(&pre), &want[..], "seed {seed:#x}: spikes of step {t}");
                assert_eq!(
                    general.step(&pre),
                    &want[..],
                    "seed {seed:#x}: general kernels, step {t}"
                );
            }
            assert_eq!(fast.weights_raw(), naive.w, "seed {seed:#x}: weights");
            for k in 0..net.syn.len() {
                let want: Vec<i64> = naive.syn[k].iter().map(|&x| x as i64).collect();
                assert_eq!(fast.syn_raw(k), want, "seed {seed:#x}: variable {k}");
            }
            assert_eq!(general.weights_raw(), naive.w, "seed {seed:#x}: weights, general kernels");
            assert_eq!(fast.pre_traces_raw(), (&naive.x1[..], &naive.x2[..]), "seed {seed:#x}");
            for j in 0..net.neurons() {
                let raw =
                    [naive.v[j] as i64, naive.theta[j], naive.y1[j] as i64, naive.y2[j] as i64];
                assert_eq!(fast.probe(j).raw, Some(raw), "seed {seed:#x}: neuron {j}");
                assert_eq!(fast.probe(j).refrac, naive.refr[j] as u32, "seed {seed:#x}");
            }
        }
    }
}
