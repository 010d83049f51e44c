//! `record.npz`: the recorded state of a run, for figures and for NumPy. Every step, the
//! membrane and the effective threshold of chosen neurons; about a hundred times over the run,
//! the weight histogram. Arrays (`numpy.load("record.npz")`):
//!
//! | name | type | shape | what |
//! |---|---|---|---|
//! | `neurons` | uint32 | `[P]` | the recorded neurons |
//! | `step` | uint32 | `[T]` | the step each row is after |
//! | `v_mem` | float64 | `[T, P]` | membrane, real (the fixed model's words scaled) |
//! | `theta` | float64 | `[T, P]` | effective threshold `theta0 + theta_a`, real |
//! | `weight_step` | uint32 | `[K]` | steps done when the weights were counted (the first is the run's start) |
//! | `weight_edges` | float64 | `[B + 1]` | the histogram's bin edges, `w_min` to `w_max` |
//! | `weight_hist` | float64 | `[K, B]` | fraction of all synapses in each bin |

use std::path::Path;

use anyhow::{Context, Result};
use ndarray::{Array1, Array2};
use synforge_sim::model::Model;
use synforge_sim::run::Observer;
use synforge_sim::Network;

use crate::UsageError;

/// Bins of the weight histogram.
pub const BINS: usize = 40;
/// Weight histograms over a run (about).
const SNAPSHOTS: u32 = 100;
/// The most values (`steps x neurons`) a record holds: 400 MB of memory.
const MAX_VALUES: u64 = 25_000_000;

/// Records as the run goes; [`Recorder::write`] writes `record.npz`.
pub struct Recorder {
    neurons: Vec<usize>,
    steps: Vec<u32>,
    v: Vec<f64>,
    theta: Vec<f64>,
    every: u32,
    first: u32,
    edges: Vec<f64>,
    w_steps: Vec<u32>,
    hist: Vec<f64>,
}

/// A histogram of `w` over `edges` (fractions; values outside go to the end bins).
pub fn histogram(w: &[f64], edges: &[f64]) -> Vec<f64> {
    let bins = edges.len() - 1;
    let (lo, hi) = (edges[0], edges[bins]);
    let width = (hi - lo) / bins as f64;
    let mut c = vec![0.0; bins];
    for &v in w {
        let k = (((v - lo) / width).floor().max(0.0) as usize).min(bins - 1);
        c[k] += 1.0;
    }
    let total = w.len().max(1) as f64;
    c.iter_mut().for_each(|x| *x /= total);
    c
}

impl Recorder {
    /// For `neurons` over the steps `first..end`, the weights at the start being `start`.
    /// Refuses a record too large to hold.
    pub fn new(
        net: &Network,
        neurons: &[usize],
        first: u32,
        end: u32,
        start: &[f64],
    ) -> Result<Self> {
        let steps = end.saturating_sub(first);
        let values = steps as u64 * neurons.len() as u64;
        if values > MAX_VALUES {
            return Err(UsageError(format!(
                "--record: {} neurons x {steps} steps is {values} values, more than the {MAX_VALUES} \
                 a record holds; record fewer neurons or run fewer steps",
                neurons.len()
            ))
            .into());
        }
        let (lo, hi) = (net.cfg.plasticity.w_min, net.cfg.plasticity.w_max);
        let edges: Vec<f64> = (0..=BINS).map(|k| lo + (hi - lo) * k as f64 / BINS as f64).collect();
        let hist = histogram(start, &edges);
        Ok(Recorder {
            neurons: neurons.to_vec(),
            steps: Vec::with_capacity(steps as usize),
            v: Vec::with_capacity(values as usize),
            theta: Vec::with_capacity(values as usize),
            every: (steps / SNAPSHOTS).max(1),
            first,
            edges,
            w_steps: vec![first],
            hist,
        })
    }

    /// Write `dir/record.npz`; the model is the one that ran (its final weights close the
    /// histogram if the last step was not counted).
    pub fn write(mut self, dir: &Path, model: &dyn Model) -> Result<()> {
        let end = self.steps.last().map_or(self.first, |t| t + 1);
        if self.w_steps.last() != Some(&end) {
            self.w_steps.push(end);
            self.hist.extend(histogram(&model.weights(), &self.edges));
        }
        let (t, p, k) = (self.steps.len(), self.neurons.len(), self.w_steps.len());
        let file = crate::output::create(dir, "record.npz")?;
        let mut npz = ndarray_npy::NpzWriter::new(std::io::BufWriter::new(file));
        let u32s = |v: &[usize]| Array1::from_iter(v.iter().map(|&x| x as u32));
        let go = || -> Result<()> {
            npz.add_array("neurons", &u32s(&self.neurons))?;
            npz.add_array("step", &Array1::from_vec(self.steps.clone()))?;
            npz.add_array("v_mem", &Array2::from_shape_vec((t, p), self.v.clone())?)?;
            npz.add_array("theta", &Array2::from_shape_vec((t, p), self.theta.clone())?)?;
            npz.add_array("weight_step", &Array1::from_vec(self.w_steps.clone()))?;
            npz.add_array("weight_edges", &Array1::from_vec(self.edges.clone()))?;
            npz.add_array("weight_hist", &Array2::from_shape_vec((k, BINS), self.hist.clone())?)?;
            npz.finish()?;
            Ok(())
        };
        go().context("cannot write record.npz")
    }
}

impl Observer for Recorder {
    fn after_step(&mut self, t: u32, model: &dyn Model, _: &[u32]) {
        self.steps.push(t);
        for &j in &self.neurons {
            let p = model.probe(j);
            self.v.push(p.v_mem);
            self.theta.push(p.theta);
        }
        if (t + 1 - self.first) % self.every == 0 {
            self.w_steps.push(t + 1);
            self.hist.extend(histogram(&model.weights(), &self.edges));
        }
    }
}

/// `record.npz` read back.
pub struct Recorded {
    /// The recorded neurons.
    pub neurons: Vec<u32>,
    /// The step of each row.
    pub step: Vec<u32>,
    /// Membrane `[T, P]`.
    pub v_mem: Array2<f64>,
    /// Threshold `[T, P]`.
    pub theta: Array2<f64>,
    /// Steps of the histograms.
    pub weight_step: Vec<u32>,
    /// Bin edges.
    pub weight_edges: Vec<f64>,
    /// Histograms `[K, B]`.
    pub weight_hist: Array2<f64>,
}

impl Recorded {
    /// Read `dir/record.npz`, `None` when there is none.
    pub fn read(dir: &Path) -> Result<Option<Recorded>> {
        let path = dir.join("record.npz");
        if !path.is_file() {
            return Ok(None);
        }
        let bad = |e: &dyn std::fmt::Display| {
            UsageError(format!(
                "{}: not a record synforge wrote ({e}); run sim --record again into the folder",
                path.display()
            ))
        };
        let file = std::fs::File::open(&path)?;
        let mut z = ndarray_npy::NpzReader::new(file).map_err(|e| bad(&e))?;
        let mut a1 = |n: &str| -> Result<Array1<u32>> {
            Ok(z.by_name::<ndarray::OwnedRepr<u32>, ndarray::Ix1>(&format!("{n}.npy"))
                .map_err(|e| bad(&e))?)
        };
        let (neurons, step, weight_step) = (a1("neurons")?, a1("step")?, a1("weight_step")?);
        let mut f = |n: &str| -> Result<ndarray::ArrayD<f64>> {
            Ok(z.by_name::<ndarray::OwnedRepr<f64>, ndarray::IxDyn>(&format!("{n}.npy"))
                .map_err(|e| bad(&e))?)
        };
        let two = |a: ndarray::ArrayD<f64>| -> Result<Array2<f64>> {
            Ok(a.into_dimensionality::<ndarray::Ix2>().map_err(|e| bad(&e))?)
        };
        let r = Recorded {
            v_mem: two(f("v_mem")?)?,
            theta: two(f("theta")?)?,
            weight_edges: f("weight_edges")?.iter().copied().collect(),
            weight_hist: two(f("weight_hist")?)?,
            neurons: neurons.to_vec(),
            step: step.to_vec(),
            weight_step: weight_step.to_vec(),
        };
        let ok = r.v_mem.dim() == (r.step.len(), r.neurons.len())
            && r.theta.dim() == r.v_mem.dim()
            && r.weight_edges.len() >= 2
            && r.weight_hist.dim() == (r.weight_step.len(), r.weight_edges.len() - 1);
        if !ok {
            return Err(bad(&"its arrays' shapes do not agree").into());
        }
        Ok(Some(r))
    }
}
