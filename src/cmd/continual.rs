//! `synforge bench --continual`: forgetting measured on a continual-learning benchmark.
//!
//! The UCI 8 x 8 handwritten digits (`data/optdigits`, compiled in) in five tasks of two
//! classes, `{0, 1}`, `{2, 3}`, ... `{8, 9}`, learned one after another by a winner-take-all STDP
//! layer (as Diehl & Cook 2015: Poisson-rate coded pixels, adaptive threshold, lateral
//! inhibition), with no task boundary given to the network. Within each class, in file order,
//! every fourth sample is held out for testing; the others train.
//!
//! Training shows each of a task's training samples once, in a seeded order: `present` steps of
//! Poisson spikes (pixel `p` of 0..16 at `p / 16 * max_rate_hz`), then `rest` silent steps.
//!
//! After each task `i`, every task `j` is measured on the network as it is then, frozen: each
//! sample is shown to its own copy of that state with plasticity off (the adaptive threshold
//! still acts within the sample, never beyond it), so no measured sample changes the network or
//! another measurement. The neurons are labelled by their mean response to task `j`'s training
//! samples (each takes the class of the two it answers most; silent ones take none); a held-out
//! sample is classified as the class whose labelled neurons answer it most on average, and
//! wrong when no labelled neuron answers. `R[i][j]` is that accuracy. As Lopez-Paz & Ranzato
//! (2017): `ACC = mean_j R[T-1][j]`, `BWT = mean_{j < T-1} (R[T-1][j] - R[j][j])`, negative
//! when learning later tasks erased earlier ones.
//!
//! Baselines: the untrained network (the initial weights, measured the same way) and the rule
//! as configured. Fixed and float models run side by side on the same spikes.

use std::io::Read;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;
use synforge_sim::config::{Config, RuleName};
use synforge_sim::model::{self, Model, ModelKind};
use synforge_sim::state::Quantity;
use synforge_sim::Network;

use crate::{usage, UsageError};

/// The data, as scikit-learn ships it (see `data/optdigits/README.md`).
const DIGITS_GZ: &[u8] = include_bytes!("../../data/optdigits/digits.csv.gz");
/// The benchmark's network.
pub const CONFIG: &str = include_str!("../../examples/continual.toml");
/// It with metaplastic consolidation.
pub const CONFIG_CONSOLIDATION: &str = include_str!("../../examples/consolidation.toml");
/// Its plain-STDP baseline.
pub const CONFIG_PAIR: &str = include_str!("../../examples/continual-pair.toml");
/// Pixels of a sample.
const PIXELS: usize = 64;
/// Tasks, two classes each.
const TASKS: usize = 5;

/// The digits: 8 x 8 pixels (0..16) and the class.
pub struct Digits {
    /// One row of 64 pixels per sample.
    pub pixels: Vec<[u8; PIXELS]>,
    /// Its digit.
    pub labels: Vec<u8>,
}

/// Read the compiled-in data.
pub fn digits() -> Result<Digits> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(DIGITS_GZ)
        .read_to_string(&mut text)
        .context("data/optdigits/digits.csv.gz")?;
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    for (k, line) in text.lines().enumerate() {
        let v: Vec<u8> = line
            .split(',')
            .map(|x| x.trim().parse::<u8>())
            .collect::<Result<_, _>>()
            .with_context(|| format!("digits.csv line {}", k + 1))?;
        if v.len() != PIXELS + 1 || v[..PIXELS].iter().any(|&p| p > 16) || v[PIXELS] > 9 {
            bail!("digits.csv line {}: not 64 pixels of 0..16 and a digit", k + 1);
        }
        pixels.push(v[..PIXELS].try_into().expect("64"));
        labels.push(v[PIXELS]);
    }
    Ok(Digits { pixels, labels })
}

/// A task: two classes, the indices of its training and held-out samples.
#[derive(Clone, Debug)]
pub struct Task {
    /// Its digits.
    pub classes: [u8; 2],
    /// Training samples (indices into [`Digits`]).
    pub train: Vec<usize>,
    /// Held-out samples.
    pub test: Vec<usize>,
}

/// The five tasks. `per_class` keeps the first that many training samples of each class (and
/// a third as many held-out ones, at least one), for a shortened run.
pub fn tasks(d: &Digits, per_class: Option<usize>) -> Vec<Task> {
    (0..TASKS)
        .map(|t| {
            let classes = [2 * t as u8, 2 * t as u8 + 1];
            let (mut train, mut test) = (Vec::new(), Vec::new());
            for c in classes {
                let of: Vec<usize> = (0..d.labels.len()).filter(|&k| d.labels[k] == c).collect();
                let (mut tr, mut te): (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
                for (n, &k) in of.iter().enumerate() {
                    if n % 4 == 3 {
                        te.push(k);
                    } else {
                        tr.push(k);
                    }
                }
                if let Some(n) = per_class {
                    tr.truncate(n);
                    te.truncate(n.div_ceil(3).max(1));
                }
                train.extend(tr);
                test.extend(te);
            }
            Task { classes, train, test }
        })
        .collect()
}

/// How samples are shown.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Protocol {
    /// Steps of input spikes per sample.
    pub present: u32,
    /// Silent steps after each training sample.
    pub rest: u32,
    /// Rate of a pixel at 16, Hz.
    pub max_rate_hz: f64,
    /// Seed of the spike trains and the training order.
    pub seed: u64,
}

/// A stream seeded by the sample's place in the protocol, so both models see the same spikes.
fn rng(p: &Protocol, what: u64, a: u64, b: u64) -> ChaCha8Rng {
    let mix = |x: u64| x.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29);
    ChaCha8Rng::seed_from_u64(p.seed ^ mix(what) ^ mix(a).rotate_left(7) ^ mix(b).rotate_left(17))
}

/// The input spikes of `px` shown for `steps`, one call of `each` per step.
fn inputs(
    px: &[u8; PIXELS],
    steps: u32,
    prob: f64,
    r: &mut ChaCha8Rng,
    each: &mut dyn FnMut(&[u32]),
) {
    let mut pre = Vec::with_capacity(PIXELS);
    for _ in 0..steps {
        pre.clear();
        for (i, &p) in px.iter().enumerate() {
            // Draw for every pixel, dark ones too, so the stream does not depend on the image.
            let u: f64 = r.random();
            if u < prob * p as f64 / 16.0 {
                pre.push(i as u32);
            }
        }
        each(&pre);
    }
}

/// Show `px` for `steps`: spikes per neuron.
fn show(
    m: &mut dyn Model,
    px: &[u8; PIXELS],
    steps: u32,
    prob: f64,
    r: &mut ChaCha8Rng,
) -> Vec<u32> {
    let mut counts = vec![0u32; m.neurons()];
    inputs(px, steps, prob, r, &mut |pre| {
        for &j in m.step(pre) {
            counts[j as usize] += 1;
        }
    });
    counts
}

/// Task `i`'s training, step by step: each of its training samples once in a seeded order,
/// shown `present` steps then `rest` silent ones; `each(pre, shown)` gets every step.
fn train_task(
    d: &Digits,
    task: &Task,
    i: usize,
    p: &Protocol,
    prob: f64,
    each: &mut dyn FnMut(&[u32], bool),
) {
    let mut order = task.train.clone();
    let mut shuffle = rng(p, 1, i as u64, 0);
    for a in (1..order.len()).rev() {
        order.swap(a, shuffle.random_range(0..=a));
    }
    for (n, &k) in order.iter().enumerate() {
        let mut r = rng(p, 4, i as u64, n as u64);
        inputs(&d.pixels[k], p.present, prob, &mut r, &mut |pre| each(pre, true));
        inputs(&[0; PIXELS], p.rest, 0.0, &mut r, &mut |pre| each(pre, false));
    }
}

/// The training spikes of all the tasks, one after another, as `(step, input)`: what the
/// models learn from, for `sim -s` or `cosim -s`. Also the number of steps.
pub fn training_stimulus(
    cfg: &Config,
    per_class: Option<usize>,
    p: &Protocol,
) -> Result<(Vec<(u32, u32)>, u32)> {
    let d = digits()?;
    let prob = p.max_rate_hz * cfg.network.dt_ms / 1000.0;
    let (mut out, mut t) = (Vec::new(), 0u32);
    for (i, task) in tasks(&d, per_class).iter().enumerate() {
        train_task(&d, task, i, p, prob, &mut |pre, _| {
            out.extend(pre.iter().map(|&x| (t, x)));
            t += 1;
        });
    }
    Ok((out, t))
}

/// One model's run of the benchmark: `R[i][j]`, and the untrained network's row.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// `fixed` or `float`.
    pub model: String,
    /// Accuracy on each task before any training (the untrained baseline).
    pub untrained: Vec<f64>,
    /// `r[i][j]`: accuracy on task `j` after learning tasks `0..=i`.
    pub r: Vec<Vec<f64>>,
    /// Output spikes per training sample, mean, per task.
    pub train_spikes_per_sample: Vec<f64>,
    /// The memory norm after each task: `sum |w - w_init|` over every synapse (as the BDH
    /// document's `sigma_norm`, and `synforge state`).
    pub memory_norm: Vec<f64>,
    /// What each task rewrote: `sum |w_after - w_before|` over its training.
    pub rewritten: Vec<f64>,
    /// With a consolidation level (the network's first unsigned per-synapse variable): after
    /// each task, the fraction of "stiff" synapses, whose level is at least half its format's
    /// maximum, and the mean level. Empty without one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stiff: Vec<f64>,
    /// The mean level after each task, as `stiff`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub level_mean: Vec<f64>,
    /// With a sweep in the rule: after each task, the mean effective decay rate per sweep over
    /// the synapses above `w_min` (as `synforge state`; `run::Diagnostics`). Empty
    /// without a sweep.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub decay: Vec<f64>,
    /// Seconds.
    pub seconds: f64,
}

impl Outcome {
    /// Average accuracy after the last task.
    pub fn acc(&self) -> f64 {
        let last = self.r.last().expect("tasks");
        last.iter().sum::<f64>() / last.len() as f64
    }

    /// Backward transfer: negative when later tasks erased earlier ones.
    pub fn bwt(&self) -> f64 {
        let t = self.r.len();
        (0..t - 1).map(|j| self.r[t - 1][j] - self.r[j][j]).sum::<f64>() / (t - 1) as f64
    }

    /// Accuracy on each task right after learning it, averaged: whether the tasks are learned
    /// at all (a rule that learns nothing forgets nothing).
    pub fn learned(&self) -> f64 {
        (0..self.r.len()).map(|i| self.r[i][i]).sum::<f64>() / self.r.len() as f64
    }

    /// The untrained network's average accuracy.
    pub fn untrained_acc(&self) -> f64 {
        self.untrained.iter().sum::<f64>() / self.untrained.len() as f64
    }
}

/// The network frozen: plasticity off (the per-synapse variables, which only the rule reads,
/// and the sweep with it), everything else as trained.
fn frozen(net: &Network) -> Result<Network> {
    let mut cfg = net.cfg.clone();
    cfg.plasticity.rule = RuleName::off();
    cfg.plasticity.dw = None;
    cfg.plasticity.synapse.clear();
    cfg.plasticity.sweep_period_steps = None;
    cfg.homeostasis.scaling = false;
    cfg.build().map_err(usage)
}

/// Accuracy on `task` of the state `snap` (step, quantities), frozen.
fn measure(
    eval: &Network,
    kind: ModelKind,
    snap: &(u32, Vec<Quantity>),
    d: &Digits,
    task: &Task,
    p: &Protocol,
    stage: u64,
) -> Result<f64> {
    let prob = p.max_rate_hz * eval.cfg.network.dt_ms / 1000.0;
    let respond = |k: usize, what: u64| -> Result<Vec<u32>> {
        let mut m = model::build(eval, kind);
        m.set_state(snap.0, &snap.1).map_err(|e| anyhow::anyhow!("restoring the state: {e}"))?;
        Ok(show(m.as_mut(), &d.pixels[k], p.present, prob, &mut rng(p, what, stage, k as u64)))
    };
    let train: Vec<Vec<u32>> =
        task.train.par_iter().map(|&k| respond(k, 2)).collect::<Result<_>>()?;
    let n = eval.neurons();
    // Mean response of each neuron to each of the two classes.
    let mut mean = vec![[0.0f64; 2]; n];
    let mut seen = [0usize; 2];
    for (s, &k) in train.iter().zip(&task.train) {
        let c = (d.labels[k] == task.classes[1]) as usize;
        seen[c] += 1;
        for j in 0..n {
            mean[j][c] += s[j] as f64;
        }
    }
    let label: Vec<Option<usize>> = mean
        .iter()
        .map(|m| {
            let m = [m[0] / seen[0].max(1) as f64, m[1] / seen[1].max(1) as f64];
            (m[0] + m[1] > 0.0).then_some(if m[1] > m[0] { 1 } else { 0 })
        })
        .collect();
    let test: Vec<Vec<u32>> =
        task.test.par_iter().map(|&k| respond(k, 3)).collect::<Result<_>>()?;
    let mut right = 0usize;
    for (s, &k) in test.iter().zip(&task.test) {
        let mut score = [(0.0f64, 0usize); 2];
        for j in 0..n {
            if let Some(c) = label[j] {
                score[c].0 += s[j] as f64;
                score[c].1 += 1;
            }
        }
        let avg = |c: usize| score[c].0 / score[c].1.max(1) as f64;
        let guess = if avg(0) == 0.0 && avg(1) == 0.0 {
            None
        } else if avg(1) > avg(0) {
            Some(1)
        } else {
            Some(0)
        };
        if guess.map(|c| task.classes[c]) == Some(d.labels[k]) {
            right += 1;
        }
    }
    Ok(right as f64 / task.test.len().max(1) as f64)
}

/// One model through every task.
pub fn run_model(
    net: &Network,
    kind: ModelKind,
    d: &Digits,
    tasks: &[Task],
    p: &Protocol,
    log: &(dyn Fn(String) + Sync),
) -> Result<Outcome> {
    let began = Instant::now();
    let name = if kind == ModelKind::Fixed { "fixed" } else { "float" };
    let eval = frozen(net)?;
    let prob = p.max_rate_hz * net.cfg.network.dt_ms / 1000.0;
    let mut m = model::build(net, kind);
    let snap = |m: &dyn Model| (m.time(), m.state());
    let s0 = snap(m.as_ref());
    let untrained = tasks
        .iter()
        .enumerate()
        .map(|(j, t)| measure(&eval, kind, &s0, d, t, p, 1000 + j as u64))
        .collect::<Result<Vec<_>>>()?;
    let mut r = Vec::new();
    let mut train_spikes_per_sample = Vec::new();
    let mut memory_norm = Vec::new();
    let w0 = m.weights();
    let mut rewritten = Vec::new();
    let mut w_prev = w0.clone();
    let level = net.syn.iter().position(|v| !v.fmt.signed);
    let spec = |k: usize| &net.cfg.plasticity.synapse[&net.syn[k].name];
    let (mut stiff, mut level_mean) = (Vec::new(), Vec::new());
    let decay_rule = net.rule.as_ref().is_some_and(|r| r.sweeps());
    let mut decay = Vec::new();
    for (i, task) in tasks.iter().enumerate() {
        let mut spikes = 0u64;
        train_task(d, task, i, p, prob, &mut |pre, shown| {
            let fired = m.step(pre).len() as u64;
            if shown {
                spikes += fired;
            }
        });
        train_spikes_per_sample.push(spikes as f64 / task.train.len().max(1) as f64);
        let w = m.weights();
        let dist = |x: &[f64]| w.iter().zip(x).map(|(a, b)| (a - b).abs()).sum::<f64>();
        memory_norm.push(dist(&w0));
        rewritten.push(dist(&w_prev));
        if decay_rule {
            let vars: Vec<Vec<f64>> = (0..net.syn.len()).filter_map(|k| m.syn(k)).collect();
            let d = synforge_sim::run::Diagnostics::of(net, &w, &w0, &vars);
            decay.extend(d.decay_per_sweep);
        }
        w_prev = w;
        if let Some(k) = level {
            let c = m.syn(k).expect("the network's variable");
            stiff.push(c.iter().filter(|&&x| spec(k).stiff(x)).count() as f64 / c.len() as f64);
            level_mean.push(c.iter().sum::<f64>() / c.len() as f64);
        }
        let s = snap(m.as_ref());
        let row = tasks
            .iter()
            .enumerate()
            .map(|(j, t)| measure(&eval, kind, &s, d, t, p, (i * TASKS + j) as u64))
            .collect::<Result<Vec<_>>>()?;
        log(format!(
            "{name}: task {} of {} learned ({:.0} s so far, {:.1} output spikes per sample); \
             accuracy on each task {}",
            i + 1,
            tasks.len(),
            began.elapsed().as_secs_f64(),
            train_spikes_per_sample[i],
            row.iter().map(|a| format!("{:.2}", a)).collect::<Vec<_>>().join(" ")
        ));
        r.push(row);
    }
    Ok(Outcome {
        model: name.into(),
        untrained,
        r,
        train_spikes_per_sample,
        memory_norm,
        rewritten,
        stiff,
        level_mean,
        decay,
        seconds: began.elapsed().as_secs_f64(),
    })
}

/// The benchmark's printed table of one model.
pub fn table(o: &Outcome, tasks: &[Task]) -> String {
    use std::fmt::Write as _;
    let row = |label: &str, v: &[f64]| {
        format!("    {label:<8}{}\n", v.iter().map(|a| format!("{a:>7.3}")).collect::<String>())
    };
    let mut s = format!(
        "  {} model: accuracy on task j (columns) after learning task i (rows)\n    {:<8}",
        o.model, "after"
    );
    for t in tasks {
        let _ = write!(s, "{:>7}", format!("{}{}", t.classes[0], t.classes[1]));
    }
    s.push('\n');
    s.push_str(&row("nothing", &o.untrained));
    for (i, r) in o.r.iter().enumerate() {
        s.push_str(&row(&format!("{}{}", tasks[i].classes[0], tasks[i].classes[1]), r));
    }
    let _ = writeln!(
        s,
        "    memory norm (sum |w - w_init|) after each task: {}; rewritten by each task (sum \
         |w_after - w_before|): {}",
        o.memory_norm.iter().map(|x| format!("{x:.1}")).collect::<Vec<_>>().join(" "),
        o.rewritten.iter().map(|x| format!("{x:.1}")).collect::<Vec<_>>().join(" ")
    );
    if !o.stiff.is_empty() {
        let _ = writeln!(
            s,
            "    stiff synapses (level at least half its maximum) after each task: {}; mean \
             level: {}",
            o.stiff.iter().map(|x| format!("{:.1} %", 100.0 * x)).collect::<Vec<_>>().join(" "),
            o.level_mean.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>().join(" ")
        );
    }
    if !o.decay.is_empty() {
        let _ = writeln!(
            s,
            "    effective decay per sweep, no activity (mean over synapses above w_min) after \
             each task: {}",
            o.decay.iter().map(|x| format!("{x:.2e}")).collect::<Vec<_>>().join(" ")
        );
    }
    let _ = writeln!(
        s,
        "    ACC {:.3}  BWT {:+.3}  just learned {:.3}  (untrained ACC {:.3}); {:.0} s",
        o.acc(),
        o.bwt(),
        o.learned(),
        o.untrained_acc(),
        o.seconds
    );
    s
}

/// The network of `cfg`, or why it cannot run the benchmark.
pub fn check(cfg: &Config) -> Result<Network> {
    if cfg.network.inputs as usize != PIXELS {
        return Err(UsageError(format!(
            "network.inputs: the continual benchmark feeds 8 x 8 digits, so it needs 64 inputs, \
             got {}; set inputs = 64",
            cfg.network.inputs
        ))
        .into());
    }
    cfg.build().map_err(usage)
}

/// The whole benchmark on `net`: both models side by side.
pub fn bench(net: &Network, d: &Digits, tasks: &[Task], p: &Protocol) -> Result<[Outcome; 2]> {
    let log = |s: String| eprintln!("{s}");
    let (a, b) = rayon::join(
        || run_model(net, ModelKind::Fixed, d, tasks, p, &log),
        || run_model(net, ModelKind::Float, d, tasks, p, &log),
    );
    Ok([a?, b?])
}

impl Outcome {
    /// As JSON: the fields and the measures derived from them.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).expect("plain data");
        v["acc"] = self.acc().into();
        v["bwt"] = self.bwt().into();
        v["learned"] = self.learned().into();
        v["untrained_acc"] = self.untrained_acc().into();
        v
    }
}
