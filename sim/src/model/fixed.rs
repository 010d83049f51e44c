//! The bit-accurate model: integers only, in the order of docs/semantics.md §4.
//!
//! Layout: neurons are cut into tiles of [`TILE`] columns. A tile owns its neurons' state and
//! its slice of the weight matrix, stored input-major (`w[i * n + jj]`), so an input spike
//! reads one contiguous row per tile and tiles step in parallel (rayon) with no sharing.

use rayon::prelude::*;

use super::{initial_weights, Model, Probe};
use crate::config::{Network, Rule};
use crate::lfsr::Lfsr;
use crate::neuron::lif::LifFixed;
use crate::plasticity::homeostasis::HomeostasisFixed;
use crate::plasticity::stdp::StdpFixed;
use crate::trace::TracesFixed;

/// Neurons per tile.
pub const TILE: usize = 64;

#[derive(Clone, Copy)]
struct Blocks {
    lif: LifFixed,
    tr: TracesFixed,
    stdp: Option<StdpFixed>,
    homeo: HomeostasisFixed,
    triplet: bool,
}

#[derive(Clone)]
struct Tile {
    j0: usize,
    n: usize,
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
    prev_spiked: Vec<bool>,
    acc: Vec<u64>,
}

/// What every tile reads during a step.
struct Shared<'a> {
    b: &'a Blocks,
    t: u32,
    inputs: usize,
    pre: &'a [u32],
    pre_mask: &'a [bool],
    x1: &'a [u16],
    x2: &'a [u16],
    prev_total: u32,
}

impl Tile {
    fn step(&mut self, s: &Shared) {
        let b = s.b;
        let n = self.n;
        // 1. Synaptic input: the sum of the weights of this step's input spikes.
        self.acc.fill(0);
        for &i in s.pre {
            let row = &self.w[i as usize * n..(i as usize + 1) * n];
            for (a, &w) in self.acc.iter_mut().zip(row) {
                *a += w as u64;
            }
        }
        // 1-3. Neuron phase: membrane, threshold decay, post-trace decay, fire.
        for jj in 0..n {
            let lfsr = &mut self.lfsr[jj];
            let others = s.prev_total - self.prev_spiked[jj] as u32;
            let live =
                b.lif.integrate(&mut self.v[jj], &mut self.refr[jj], self.acc[jj], others, lfsr);
            let theta = b.homeo.decay(&mut self.theta_a[jj], lfsr);
            self.theta[jj] = theta;
            self.y1[jj] = b.tr.y1.decay(self.y1[jj], lfsr);
            if b.triplet {
                self.y2[jj] = b.tr.y2.decay(self.y2[jj], lfsr);
            }
            let spike = live && b.lif.fire(&mut self.v[jj], &mut self.refr[jj], theta);
            if spike {
                b.homeo.bump(&mut self.theta_a[jj]);
                self.count[jj] = self.count[jj].saturating_add(1);
            }
            self.spiked[jj] = spike;
        }
        // 4. Plasticity, reading the traces as §6 says.
        if let Some(stdp) = &b.stdp {
            let x1_after = |i: usize| {
                if s.pre_mask[i] {
                    b.tr.x1.bump(s.x1[i])
                } else {
                    s.x1[i]
                }
            };
            // Neurons that spiked: every synapse of the column, ascending input.
            for jj in 0..n {
                if !self.spiked[jj] {
                    continue;
                }
                let (y1, y2) = (self.y1[jj], self.y2[jj]);
                let lfsr = &mut self.lfsr[jj];
                for i in 0..s.inputs {
                    let pot = stdp.pot(x1_after(i), y2);
                    let dep = if s.pre_mask[i] { stdp.dep(y1, s.x2[i]) } else { 0 };
                    let w = &mut self.w[i * n + jj];
                    *w = stdp.apply(*w, pot, dep, lfsr);
                }
            }
            // Neurons that did not: depression on the rows of this step's input spikes.
            for &i in s.pre {
                let i = i as usize;
                let x2 = s.x2[i];
                let row = &mut self.w[i * n..(i + 1) * n];
                for jj in 0..n {
                    if self.spiked[jj] {
                        continue;
                    }
                    let dep = stdp.dep(self.y1[jj], x2);
                    row[jj] = stdp.apply(row[jj], 0, dep, &mut self.lfsr[jj]);
                }
            }
        }
        // 5. Post-trace increments.
        for jj in 0..n {
            if self.spiked[jj] {
                self.y1[jj] = b.tr.y1.bump(self.y1[jj]);
                if b.triplet {
                    self.y2[jj] = b.tr.y2.bump(self.y2[jj]);
                }
            }
        }
        // 6. Synaptic scaling at the end of a period.
        if b.homeo.scales_at(s.t) {
            for jj in 0..n {
                let f = b.homeo.factor(self.count[jj]);
                let lfsr = &mut self.lfsr[jj];
                for i in 0..s.inputs {
                    let w = &mut self.w[i * n + jj];
                    *w = b.homeo.scale(*w, f, lfsr);
                }
                self.count[jj] = 0;
            }
        }
        self.prev_spiked.copy_from_slice(&self.spiked);
    }
}

/// The bit-accurate model.
#[derive(Clone)]
pub struct FixedModel {
    net: Network,
    b: Blocks,
    t: u32,
    tiles: Vec<Tile>,
    x1: Vec<u16>,
    x2: Vec<u16>,
    in_lfsr: Lfsr,
    pre_mask: Vec<bool>,
    prev_total: u32,
    out: Vec<u32>,
}

impl FixedModel {
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

    /// A fresh model with the given raw weights, input-major.
    pub fn with_weights(net: &Network, w0: &[u16]) -> Self {
        let (ni, nn) = (net.inputs(), net.neurons());
        assert_eq!(w0.len(), ni * nn, "weight matrix must be inputs x neurons");
        let seed = net.k.seed;
        let tiles = (0..nn)
            .step_by(TILE)
            .map(|j0| {
                let n = TILE.min(nn - j0);
                let mut w = vec![0u16; ni * n];
                for i in 0..ni {
                    w[i * n..(i + 1) * n].copy_from_slice(&w0[i * nn + j0..i * nn + j0 + n]);
                }
                Tile {
                    j0,
                    n,
                    w,
                    v: vec![0; n],
                    theta_a: vec![0; n],
                    theta: vec![net.k.theta0; n],
                    y1: vec![0; n],
                    y2: vec![0; n],
                    refr: vec![0; n],
                    count: vec![0; n],
                    lfsr: (0..n).map(|jj| Lfsr::for_neuron(seed, (j0 + jj) as u32)).collect(),
                    spiked: vec![false; n],
                    prev_spiked: vec![false; n],
                    acc: vec![0; n],
                }
            })
            .collect();
        FixedModel {
            net: net.clone(),
            b: Blocks {
                lif: LifFixed::new(net),
                tr: TracesFixed::new(net),
                stdp: StdpFixed::new(net),
                homeo: HomeostasisFixed::new(net),
                triplet: net.cfg.plasticity.rule == Rule::Triplet,
            },
            t: 0,
            tiles,
            x1: vec![0; ni],
            x2: vec![0; ni],
            in_lfsr: Lfsr::for_inputs(seed),
            pre_mask: vec![false; ni],
            prev_total: 0,
            out: Vec::new(),
        }
    }

    /// Raw weight of synapse (input `i`, neuron `j`).
    pub fn weight_raw(&self, i: usize, j: usize) -> u16 {
        let tile = &self.tiles[j / TILE];
        tile.w[i * tile.n + (j - tile.j0)]
    }

    /// All raw weights, input-major.
    pub fn weights_raw(&self) -> Vec<u16> {
        let (ni, nn) = (self.net.inputs(), self.net.neurons());
        let mut w = vec![0u16; ni * nn];
        for tile in &self.tiles {
            for i in 0..ni {
                w[i * nn + tile.j0..i * nn + tile.j0 + tile.n]
                    .copy_from_slice(&tile.w[i * tile.n..(i + 1) * tile.n]);
            }
        }
        w
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
        let b = &self.b;
        // 2. Pre-trace decay, ascending input, on the input LFSR.
        for i in 0..self.x1.len() {
            self.x1[i] = b.tr.x1.decay(self.x1[i], &mut self.in_lfsr);
            if b.triplet {
                self.x2[i] = b.tr.x2.decay(self.x2[i], &mut self.in_lfsr);
            }
        }
        for &i in pre {
            self.pre_mask[i as usize] = true;
        }
        let shared = Shared {
            b,
            t: self.t,
            inputs: self.x1.len(),
            pre,
            pre_mask: &self.pre_mask,
            x1: &self.x1,
            x2: &self.x2,
            prev_total: self.prev_total,
        };
        if self.tiles.len() == 1 {
            self.tiles[0].step(&shared);
        } else {
            self.tiles.par_iter_mut().for_each(|tile| tile.step(&shared));
        }
        // 5. Pre-trace increments.
        for &i in pre {
            let i = i as usize;
            self.x1[i] = b.tr.x1.bump(self.x1[i]);
            if b.triplet {
                self.x2[i] = b.tr.x2.bump(self.x2[i]);
            }
            self.pre_mask[i] = false;
        }
        self.out.clear();
        for tile in &self.tiles {
            for jj in 0..tile.n {
                if tile.spiked[jj] {
                    self.out.push((tile.j0 + jj) as u32);
                }
            }
        }
        self.prev_total = self.out.len() as u32;
        self.t += 1;
        &self.out
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
        let tile = &self.tiles[j / TILE];
        let jj = j - tile.j0;
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
}
