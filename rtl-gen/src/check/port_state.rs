//! A network's state through the core's memory-mapped port (`docs/rtl.md` §3): the writes that
//! load a saved state into a core, the reads that take it out, and the state those reads make.
//! The co-simulation writes and reads the port through its command file, `synforge run`
//! through the UART bridge in bursts; both use these lists, so the two cannot drift.

use synforge_sim::config::Network;
use synforge_sim::model::{FixedModel, Model};
use synforge_sim::state::{self, Per, Quantity, Values};

use crate::core::{
    INPUT_COMMIT, INPUT_FIELDS, NEURON_COMMIT, NEURON_FIELDS, REGION_INPUTS, REGION_NEURONS,
    REGION_WEIGHTS,
};
use crate::layout::{Layout, SYN_FIELDS};
use crate::verilog::ones;

/// Words per neuron in region 2 (fields 0-7, unused 8-14, commit 15).
pub const NEURON_STRIDE: u32 = 16;
/// Words per input in region 3 (fields 0-2, commit 3).
pub const INPUT_STRIDE: u32 = 4;
/// The status registers a state needs: step count (32) to the scaling period (37).
pub const STATUS_FIRST: u32 = 32;
/// How many status registers from [`STATUS_FIRST`] are read.
pub const STATUS_COUNT: u32 = 6;

/// The synapse word of weight `w` (raw) and the per-synapse variables' raw values `syn` (in
/// name order), each in its field, two's complement ([`Layout::synapse_word`]); the reserved
/// bits zero.
pub fn synapse_word(l: &Layout, w: u16, syn: &[i64]) -> u32 {
    let mut word = u32::from(w);
    for (k, &x) in syn.iter().enumerate() {
        let f = l.synapse_word.field(SYN_FIELDS[k]);
        word |= ((x as u64 & ones(f.width)) as u32) << f.lsb;
    }
    word
}

/// The raw synapse words of `model`'s weights and per-synapse variables, in the core's
/// address order (`j * inputs + i`).
pub fn weight_words(l: &Layout, model: &FixedModel) -> Vec<u32> {
    let (m, n) = (l.inputs as usize, l.neurons as usize);
    let w = model.weights_raw();
    let syn: Vec<Vec<i64>> = (0..l.syn_count()).map(|k| model.syn_raw(k)).collect();
    (0..n)
        .flat_map(|j| (0..m).map(move |i| (i, j)))
        .map(|(i, j)| {
            let vals: Vec<i64> = syn.iter().map(|v| v[i * n + j]).collect();
            synapse_word(l, w[i * n + j], &vals)
        })
        .collect()
}

/// The writes, in order, that load `model`'s state (other than its weights) into a core that
/// was initialised and given those weights: every neuron word as 16 consecutive words (its
/// fields, zeros where the word has none, then the commit), every input word as 4, then the
/// status registers. Runs of consecutive addresses, so a host can send them in bursts:
/// `(first address, words)`.
pub fn state_writes(l: &Layout, net: &Network, model: &FixedModel) -> Vec<(u32, Vec<u32>)> {
    let has = |w: &crate::layout::Word, f: &str| w.fields.iter().any(|x| x.name == f);
    let mut neurons = Vec::new();
    let mut n_prev = 0u32;
    for j in 0..l.neurons as usize {
        let r = model.neuron_raw(j);
        n_prev += r.spiked as u32;
        let vals = [
            r.v_mem as u64 & ((1u64 << l.v_bits) - 1),
            r.theta_a,
            r.trace_y1,
            r.trace_y2,
            r.refrac,
            r.count,
            r.spiked,
            r.lfsr,
        ];
        let mut word = vec![0u32; NEURON_STRIDE as usize];
        for (f, name) in NEURON_FIELDS.iter().enumerate() {
            if has(&l.neuron_word, name) {
                word[f] = vals[f] as u32;
            }
        }
        debug_assert_eq!(NEURON_COMMIT, NEURON_STRIDE - 1);
        neurons.extend(word);
    }
    let (x1, x2) = model.pre_traces_raw();
    let mut inputs = Vec::new();
    for i in 0..l.inputs as usize {
        let vals = [x1[i] as u32, x2[i] as u32, 0];
        let mut word = vec![0u32; INPUT_STRIDE as usize];
        for (f, name) in INPUT_FIELDS.iter().enumerate() {
            if has(&l.input_word, name) {
                word[f] = vals[f];
            }
        }
        debug_assert_eq!(INPUT_COMMIT, INPUT_STRIDE - 1);
        inputs.extend(word);
    }
    let t = model.time();
    let h = &net.cfg.homeostasis;
    let period = if h.scaling { t % h.scaling_period_steps } else { 0 };
    let mut writes = vec![
        (REGION_NEURONS << 28, neurons),
        (REGION_INPUTS << 28, inputs),
        (STATUS_FIRST, vec![t, n_prev, model.input_lfsr()]),
        (STATUS_FIRST + 5, vec![period]),
    ];
    // The steps into the sweep period (semantics 4.7), as the scaling period's.
    if let (true, Some(k)) = (l.sweep, net.cfg.plasticity.sweep_period_steps) {
        writes.push((crate::layout::SWEEP_PHASE_REG, vec![t % k]));
    }
    writes
}

/// The reads that take a core's whole state out: `(first address, words)`.
pub fn state_reads(l: &Layout) -> Vec<(u32, usize)> {
    let (m, n) = (l.inputs as usize, l.neurons as usize);
    vec![
        (REGION_WEIGHTS << 28, m * n),
        (REGION_NEURONS << 28, n * NEURON_STRIDE as usize),
        (REGION_INPUTS << 28, m * INPUT_STRIDE as usize),
        (STATUS_FIRST, STATUS_COUNT as usize),
    ]
}

/// The step and the state quantities (named and typed as [`Model::state`] gives them) that the
/// port's reads `rd` (address to data) hold.
pub fn state_from_reads(
    l: &Layout,
    net: &Network,
    rd: &dyn Fn(u32) -> u64,
) -> (u32, Vec<Quantity>) {
    let (m, n) = (l.inputs as usize, l.neurons as usize);
    let f = &net.fmt;
    let neuron = |name: &str| -> Vec<u64> {
        let k = NEURON_FIELDS.iter().position(|x| *x == name).expect("known field") as u32;
        (0..n as u32).map(|j| rd((REGION_NEURONS << 28) | (j * NEURON_STRIDE) | k)).collect()
    };
    let input = |k: u32| -> Vec<u16> {
        (0..m as u32).map(|i| rd((REGION_INPUTS << 28) | (i * INPUT_STRIDE) | k) as u16).collect()
    };
    let q = |name: &'static str, per, values, format| Quantity {
        name,
        per,
        values,
        format,
        what: state::what(name),
    };
    let u16s = |v: Vec<u64>| Values::U16(v.into_iter().map(|x| x as u16).collect());
    let mask = (1u64 << l.weight_bits) - 1;
    let mut w = vec![0u16; m * n];
    for j in 0..n {
        for i in 0..m {
            w[i * n + j] = (rd(REGION_WEIGHTS << 28 | (j * m + i) as u32) & mask) as u16;
        }
    }
    let sign = |x: u64, w: u32| (((x << (64 - w)) as i64) >> (64 - w)) as i32;
    let mut out = vec![
        q("weight", Per::Synapse, Values::U16(w), Some(f.w)),
        q(
            "v_mem",
            Per::Neuron,
            Values::I32(neuron("v_mem").into_iter().map(|x| sign(x, l.v_bits)).collect()),
            Some(f.v),
        ),
    ];
    if net.cfg.homeostasis.adaptive_threshold {
        let t = neuron("theta_a").into_iter().map(|x| x as u32).collect();
        out.push(q("theta_a", Per::Neuron, Values::U32(t), Some(f.theta)));
    }
    out.push(q("trace_y1", Per::Neuron, u16s(neuron("trace_y1")), Some(f.y1)));
    if l.y2 {
        out.push(q("trace_y2", Per::Neuron, u16s(neuron("trace_y2")), Some(f.y2)));
    }
    out.push(q("refrac", Per::Neuron, u16s(neuron("refrac")), None));
    out.push(q("count", Per::Neuron, u16s(neuron("count")), None));
    let spiked = neuron("spiked").into_iter().map(|x| x != 0).collect();
    out.push(q("spiked", Per::Neuron, Values::Bool(spiked), None));
    let lfsr = neuron("lfsr").into_iter().map(|x| x as u32).collect();
    out.push(q("lfsr", Per::Neuron, Values::U32(lfsr), None));
    out.push(q("trace_x1", Per::Input, Values::U16(input(0)), Some(f.x1)));
    if l.x2 {
        out.push(q("trace_x2", Per::Input, Values::U16(input(1)), Some(f.x2)));
    }
    out.push(q("lfsr_inputs", Per::Network, Values::U32(vec![rd(STATUS_FIRST + 2) as u32]), None));
    for (k, v) in net.syn.iter().enumerate() {
        let fd = l.synapse_word.field(SYN_FIELDS[k]);
        let mut vals = vec![0i32; m * n];
        for j in 0..n {
            for i in 0..m {
                let x = (rd(REGION_WEIGHTS << 28 | (j * m + i) as u32) >> fd.lsb) & ones(fd.width);
                vals[i * n + j] = if v.fmt.signed { sign(x, fd.width) } else { x as i32 };
            }
        }
        out.push(q(state::SYN_NAMES[k], Per::Synapse, Values::I32(vals), Some(v.fmt)));
    }
    (rd(STATUS_FIRST) as u32, out)
}
