//! `synforge plot DIR`: figures of a run's folder, as SVG and PNG, written into it.
//!
//! A run's folder is what `sim` writes (`demo` and a model folder of it too): `config.toml`
//! (the config as the run used it), `summary.json` (its steps), `spikes.csv`,
//! `weights_start.csv` and `weights.csv`. The input spikes are not stored: they are drawn again
//! from the config's stimulus, which is a function of the step alone.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend, RGBColor};
use synforge_sim::config::{Config, WeightDependence};
use synforge_sim::stimulus::{offset_of, StimulusKind};

use super::frequency::Frequency;
use super::record::{histogram, Recorded, BINS};
use crate::figures::{self, Bars, Figure, Heat, Image, Lines, Scatter};
use crate::UsageError;

/// Arguments of `synforge plot`.
#[derive(Args)]
pub struct PlotArgs {
    /// A run's folder (what `sim` wrote; `demo`'s `fixed` and `float` folders). A folder
    /// holding such folders is plotted folder by folder.
    dir: PathBuf,
    /// Steps the raster shows, FROM:TO (TO not included) [default: the run's last 1000].
    #[arg(long)]
    window: Option<String>,
}

/// What a run's folder holds.
pub struct Run {
    /// The folder.
    pub dir: PathBuf,
    /// The config as the run used it.
    pub cfg: Config,
    /// `fixed` or `float`.
    pub model: String,
    /// The run's steps: `first..end`.
    pub steps: Range<u32>,
    /// `(step, neuron)` of every output spike.
    pub spikes: Vec<(u32, u32)>,
    /// Weights at the start and the end, input-major (`[i * neurons + j]`).
    pub w_start: Vec<f64>,
    /// See `w_start`.
    pub w_end: Vec<f64>,
    /// `record.npz`, when the run recorded (`sim --record`).
    pub recorded: Option<Recorded>,
}

fn missing(dir: &Path, name: &str) -> anyhow::Error {
    UsageError(format!(
        "{}: no {name}; `synforge plot` reads a folder that `synforge sim` (or `demo`) wrote; run \
         it again into that folder",
        dir.display()
    ))
    .into()
}

fn read_csv(dir: &Path, name: &str) -> Result<Vec<Vec<f64>>> {
    let path = dir.join(name);
    if !path.is_file() {
        return Err(missing(dir, name));
    }
    let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    let mut rows = Vec::new();
    for (k, line) in text.lines().enumerate().skip(1) {
        let row: Result<Vec<f64>, _> = line.split(',').map(|x| x.trim().parse::<f64>()).collect();
        rows.push(row.map_err(|_| {
            UsageError(format!("{} line {}: not numbers: {line:?}", path.display(), k + 1))
        })?);
    }
    Ok(rows)
}

impl Run {
    /// Read the folder `dir`.
    pub fn read(dir: &Path) -> Result<Run> {
        let cfg_path = dir.join("config.toml");
        if !cfg_path.is_file() {
            return Err(missing(dir, "config.toml"));
        }
        let text = std::fs::read_to_string(&cfg_path)?;
        let cfg = Config::from_toml_str(&text, &cfg_path.display().to_string())
            .map_err(|e| UsageError(e.to_string()))?;
        let sum_path = dir.join("summary.json");
        if !sum_path.is_file() {
            return Err(missing(dir, "summary.json"));
        }
        let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&sum_path)?)
            .map_err(|e| UsageError(format!("{}: {e}", sum_path.display())))?;
        let step = |k: &str| json["run"][k].as_u64().map(|v| v as u32);
        let (Some(first), Some(end)) = (step("first_step"), step("end_step")) else {
            return Err(missing(dir, "run steps in summary.json"));
        };
        let model = json["summary"]["model"].as_str().unwrap_or("fixed").to_string();
        let spikes = read_csv(dir, "spikes.csv")?
            .into_iter()
            .filter(|r| r.len() == 2)
            .map(|r| (r[0] as u32, r[1] as u32))
            .collect();
        let weights = |name| -> Result<Vec<f64>> {
            Ok(read_csv(dir, name)?.into_iter().filter(|r| r.len() == 3).map(|r| r[2]).collect())
        };
        let (w_start, w_end) = (weights("weights_start.csv")?, weights("weights.csv")?);
        let size = (cfg.network.inputs as usize) * (cfg.network.neurons as usize);
        if w_start.len() != size || w_end.len() != size {
            return Err(UsageError(format!(
                "{}: the weight files do not hold {} x {} weights; run sim again into it",
                dir.display(),
                cfg.network.inputs,
                cfg.network.neurons
            ))
            .into());
        }
        let recorded = Recorded::read(dir)?;
        Ok(Run {
            dir: dir.to_path_buf(),
            cfg,
            model,
            steps: first..end,
            spikes,
            w_start,
            w_end,
            recorded,
        })
    }

    /// Input spikes `(step, input)` of steps `window`, drawn again from the config's stimulus.
    pub fn inputs(&self, window: Range<u32>) -> Result<Vec<(u32, u32)>> {
        let mut spec = self.cfg.stimulus.clone();
        spec.steps = self.steps.end;
        let mut src = spec.stream(&self.cfg).map_err(|e| UsageError(e.to_string()))?;
        src.seek(window.start);
        let mut out = Vec::new();
        for t in window {
            match src.next_step() {
                Some(s) => out.extend(s.iter().map(|&i| (t, i))),
                None => break,
            }
        }
        Ok(out)
    }
}

/// The raster: output spikes over input spikes, the pattern's replays shaded.
struct Raster<'a> {
    run: &'a Run,
    window: Range<u32>,
    inputs: Vec<(u32, u32)>,
}

impl Figure for Raster<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let cfg = &self.run.cfg;
        let dt = cfg.network.dt_ms;
        let x = self.window.start as f64 * dt..self.window.end as f64 * dt;
        let mut bands = Vec::new();
        if let (StimulusKind::Poisson, Some(p)) = (cfg.stimulus.kind, &cfg.stimulus.pattern) {
            let (_, len, period) = p.shape(cfg.network.inputs, dt);
            let mut start = self.window.start / period * period;
            while start < self.window.end {
                bands.push(start as f64 * dt..(start + len) as f64 * dt);
                start += period;
            }
        }
        let outs: Vec<(f64, f64)> = self
            .run
            .spikes
            .iter()
            .filter(|(t, _)| self.window.contains(t))
            .map(|&(t, j)| (t as f64 * dt, j as f64))
            .collect();
        let ins: Vec<(f64, f64)> =
            self.inputs.iter().map(|&(t, i)| (t as f64 * dt, i as f64)).collect();
        let h = root.dim_in_pixel().1 as f64;
        let (top, bottom) = root.split_vertically((h * 0.36) as u32);
        let title = format!(
            "{} ({} model): output spikes, steps {}..{}",
            cfg.network.name, self.run.model, self.window.start, self.window.end
        );
        let pattern = if bands.is_empty() { "" } else { " (shaded: the pattern's replays)" };
        figures::scatter(
            &top,
            &Scatter {
                title: &title,
                x_label: "",
                y_label: "neuron",
                x: x.clone(),
                y: -0.5..cfg.network.neurons as f64 - 0.5,
                points: &outs,
                bands: &bands,
                color: RGBColor(200, 30, 30),
            },
        )?;
        figures::scatter(
            &bottom,
            &Scatter {
                title: &format!("input spikes{pattern}"),
                x_label: "time (ms)",
                y_label: "input",
                x,
                y: -0.5..cfg.network.inputs as f64 - 0.5,
                points: &ins,
                bands: &bands,
                color: RGBColor(30, 30, 30),
            },
        )
    }
}

/// Receptive fields: each neuron's incoming weights as a tile, at the start and at the end.
struct Fields<'a> {
    run: &'a Run,
}

/// Columns of a near-square grid of `n` cells.
fn grid_cols(n: usize) -> usize {
    (n as f64).sqrt().ceil().max(1.0) as usize
}

impl Figure for Fields<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let cfg = &self.run.cfg;
        let (m, n) = (cfg.network.inputs as usize, cfg.network.neurons as usize);
        let range = cfg.plasticity.w_min..cfg.plasticity.w_max;
        let root = root.titled(
            &format!(
                "{} ({} model): each neuron's incoming weights, {} inputs a tile (dark {:.3}, yellow {:.3})",
                cfg.network.name, self.run.model, m, range.start, range.end
            ),
            ("sans-serif", 15),
        )
        .map_err(figures::err)?;
        let halves = root.split_evenly((1, 2));
        for (half, (name, w)) in
            halves.iter().zip([("start", &self.run.w_start), ("end", &self.run.w_end)])
        {
            let half = half
                .titled(
                    &format!(
                        "{name} (step {})",
                        if name == "start" { self.run.steps.start } else { self.run.steps.end }
                    ),
                    ("sans-serif", 14),
                )
                .map_err(figures::err)?;
            let tc = grid_cols(n);
            let tiles = half.split_evenly((n.div_ceil(tc), tc));
            let cols = grid_cols(m);
            for (j, tile) in tiles.iter().enumerate().take(n) {
                let value = |r: usize, c: usize| {
                    let i = r * cols + c;
                    (i < m).then(|| w[i * n + j])
                };
                figures::image(
                    tile,
                    &Image {
                        title: &format!("{j}"),
                        rows: m.div_ceil(cols),
                        cols,
                        value: &value,
                        range: range.clone(),
                    },
                )?;
            }
        }
        Ok(())
    }
}

/// The weight histogram at the start and at the end.
struct Histogram<'a> {
    run: &'a Run,
}

impl Figure for Histogram<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let cfg = &self.run.cfg;
        let (lo, hi) = (cfg.plasticity.w_min, cfg.plasticity.w_max);
        let width = (hi - lo) / BINS as f64;
        let edges: Vec<f64> = (0..=BINS).map(|k| lo + width * k as f64).collect();
        let hist = |w: &[f64]| -> Vec<(f64, f64, f64)> {
            let h = histogram(w, &edges);
            (0..BINS).map(|k| (edges[k], width, h[k])).collect()
        };
        let (a, b) = (hist(&self.run.w_start), hist(&self.run.w_end));
        let top = a.iter().chain(&b).map(|x| x.2).fold(0.0, f64::max).max(1e-9) * 1.1;
        figures::bars(
            root,
            &Bars {
                title: &format!("{} ({} model): weights", cfg.network.name, self.run.model),
                x_label: "weight",
                y_label: "fraction of synapses",
                x: lo..hi,
                y: 0.0..top,
                series: vec![
                    (format!("step {}", self.run.steps.start), RGBColor(90, 90, 90), a),
                    (format!("step {}", self.run.steps.end), RGBColor(30, 90, 200), b),
                ],
            },
        )
    }
}

/// Membrane and threshold of the recorded neurons (four at most) over the raster's window.
struct Traces<'a> {
    run: &'a Run,
    rec: &'a Recorded,
    window: Range<u32>,
}

impl Figure for Traces<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let cfg = &self.run.cfg;
        let dt = cfg.network.dt_ms;
        let shown = self.rec.neurons.len().min(4);
        let panels = root.split_evenly((shown.max(1), 1));
        for (p, panel) in panels.iter().enumerate().take(shown) {
            let j = self.rec.neurons[p];
            let rows: Vec<usize> = (0..self.rec.step.len())
                .filter(|&r| self.window.contains(&self.rec.step[r]))
                .collect();
            let at = |r: usize| self.rec.step[r] as f64 * dt;
            let v: Vec<(f64, f64)> =
                rows.iter().map(|&r| (at(r), self.rec.v_mem[[r, p]])).collect();
            let th: Vec<(f64, f64)> =
                rows.iter().map(|&r| (at(r), self.rec.theta[[r, p]])).collect();
            let spikes: Vec<(f64, f64)> = self
                .run
                .spikes
                .iter()
                .filter(|&&(t, n)| n == j && self.window.contains(&t))
                .map(|&(t, _)| {
                    let r = rows.iter().find(|&&r| self.rec.step[r] == t);
                    (t as f64 * dt, r.map_or(0.0, |&r| self.rec.theta[[r, p]]))
                })
                .collect();
            let (lo, hi) =
                v.iter().chain(&th).fold((0.0f64, 0.0f64), |(a, b), q| (a.min(q.1), b.max(q.1)));
            let pad = (hi - lo).max(1e-9) * 0.08;
            figures::lines(
                panel,
                &Lines {
                    title: &format!(
                        "{} ({} model): neuron {j}, steps {}..{}",
                        cfg.network.name, self.run.model, self.window.start, self.window.end
                    ),
                    x_label: if p + 1 == shown { "time (ms)" } else { "" },
                    y_label: "state (real)",
                    x: self.window.start as f64 * dt..self.window.end as f64 * dt,
                    y: lo - pad..hi + pad,
                    lines: vec![
                        ("membrane v_mem".to_string(), RGBColor(30, 90, 200), v),
                        ("threshold theta".to_string(), RGBColor(230, 140, 20), th),
                    ],
                    points: vec![("spike".to_string(), RGBColor(200, 30, 30), spikes)],
                },
            )?;
        }
        Ok(())
    }
}

/// The weight histogram over the run, a column per count (log colour scale).
struct WeightsOverTime<'a> {
    run: &'a Run,
    rec: &'a Recorded,
}

/// The colour scale's floor: fractions at or under 10^FLOOR are dark.
const FLOOR: f64 = -4.0;

impl Figure for WeightsOverTime<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let cfg = &self.run.cfg;
        let r = self.rec;
        let edges = &r.weight_edges;
        let steps = &r.weight_step;
        let gap = if steps.len() > 1 { (steps[1] - steps[0]) as f64 } else { 1.0 };
        let mut cells = Vec::new();
        for (k, &s) in steps.iter().enumerate() {
            let (x0, x1) = (s as f64 - gap / 2.0, s as f64 + gap / 2.0);
            for b in 0..edges.len() - 1 {
                let f = r.weight_hist[[k, b]];
                let v = if f > 0.0 { f.log10().max(FLOOR) } else { FLOOR };
                cells.push((x0, x1, edges[b], edges[b + 1], v));
            }
        }
        let (first, last) = (steps[0] as f64, *steps.last().unwrap_or(&steps[0]) as f64);
        figures::heat(
            root,
            &Heat {
                title: &format!(
                    "{} ({} model): weight histogram over the run (colour: log10 fraction of synapses, dark <= 1e-4, yellow all)",
                    cfg.network.name, self.run.model
                ),
                x_label: "step",
                y_label: "weight",
                x: first - gap / 2.0..last + gap / 2.0,
                y: edges[0]..edges[edges.len() - 1],
                cells,
                range: FLOOR..0.0,
            },
        )
    }
}

/// The STDP window a pairing run measured, beside the rule's curve.
pub struct Window {
    /// `(t_post - t_pre in ms, weight change per pairing)` of every test input.
    pub measured: Vec<(f64, f64)>,
    /// The pair rule's curve (none for other rules), both branches.
    pub theory: Option<[Vec<(f64, f64)>; 2]>,
    /// Pairings the change is divided by.
    pub pairings: usize,
    /// Title.
    pub title: String,
}

impl Window {
    /// The window of a pairing run, or `None` for another stimulus.
    pub fn of(run: &Run) -> Result<Option<Window>> {
        let cfg = &run.cfg;
        let Some(p) = (cfg.stimulus.kind == StimulusKind::Pairing)
            .then(|| cfg.stimulus.pairing.clone().unwrap_or_default())
        else {
            return Ok(None);
        };
        let (m, n) = (cfg.network.inputs as usize, cfg.network.neurons as usize);
        let tests = m as u32 - 1;
        // Each teacher spike makes one pairing with every test input.
        let teacher = run.inputs(run.steps.clone())?.iter().filter(|s| s.1 == tests).count();
        let pairings = teacher.max(1);
        let measured = (0..tests as usize)
            .map(|i| {
                let dw = (0..n).map(|j| run.w_end[i * n + j] - run.w_start[i * n + j]).sum::<f64>()
                    / n as f64;
                (offset_of(&p, i as u32, tests), dw / pairings as f64)
            })
            .collect();
        let pl = &cfg.plasticity;
        let tr = &cfg.traces;
        let theory = (pl.rule.as_str() == "pair").then(|| {
            let w0 = run.w_start.iter().sum::<f64>() / run.w_start.len().max(1) as f64;
            let (ltp, ltd) = match pl.weight_dependence {
                WeightDependence::Additive => (1.0, 1.0),
                WeightDependence::Multiplicative => (pl.w_max - w0, w0 - pl.w_min),
            };
            let k = tr.increment;
            let lo = p.offset_min_ms.min(0.0);
            let hi = p.offset_max_ms.max(0.0);
            let pts = |a: f64, b: f64, f: &dyn Fn(f64) -> f64| {
                (0..=200).map(|s| a + (b - a) * s as f64 / 200.0).map(|d| (d, f(d))).collect()
            };
            [
                pts(lo, 0.0, &|d| -pl.a_minus * k * ltd * (d / tr.tau_minus_ms).exp()),
                pts(0.0, hi, &|d| pl.a_plus * k * ltp * (-d / tr.tau_plus_ms).exp()),
            ]
        });
        let title = format!(
            "{}: weight change per pairing ({pairings} pairings, rule {})",
            cfg.network.name, pl.rule
        );
        Ok(Some(Window { measured, theory, pairings, title }))
    }

    /// The largest distance of a measured point from the curve, over the curve's peak.
    pub fn worst_relative_error(&self) -> Option<f64> {
        let [neg, pos] = self.theory.as_ref()?;
        let peak = neg.iter().chain(pos).map(|p| p.1.abs()).fold(0.0, f64::max);
        let at = |d: f64| {
            let branch = if d < 0.0 { neg } else { pos };
            let (a, b) = (branch[0], branch[branch.len() - 1]);
            let s = ((d - a.0) / (b.0 - a.0) * 200.0).round().clamp(0.0, 200.0) as usize;
            branch[s].1
        };
        Some(self.measured.iter().map(|&(d, w)| (w - at(d)).abs()).fold(0.0, f64::max) / peak)
    }
}

impl Figure for Window {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let all: Vec<f64> = self
            .measured
            .iter()
            .chain(self.theory.iter().flatten().flatten())
            .map(|p| p.1)
            .collect();
        let (lo, hi) = all.iter().fold((0.0f64, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
        let pad = (hi - lo).max(1e-12) * 0.08;
        let x0 = self.measured.iter().map(|p| p.0).fold(f64::INFINITY, f64::min).min(0.0);
        let x1 = self.measured.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max).max(0.0);
        let mut lines = Vec::new();
        if let Some([neg, pos]) = &self.theory {
            lines.push((
                "the rule: A- exp(dt / tau-)".to_string(),
                RGBColor(30, 90, 200),
                neg.clone(),
            ));
            lines.push((
                "the rule: A+ exp(-dt / tau+)".to_string(),
                RGBColor(30, 160, 60),
                pos.clone(),
            ));
        }
        figures::lines(
            root,
            &Lines {
                title: &self.title,
                x_label: "t_post - t_pre (ms)",
                y_label: "weight change per pairing",
                x: x0 - 2.0..x1 + 2.0,
                y: lo - pad..hi + pad,
                lines,
                points: vec![(
                    "measured (each input's change / pairings)".to_string(),
                    RGBColor(200, 30, 30),
                    self.measured.clone(),
                )],
            },
        )
    }
}

/// The weight change against pairing frequency, for a pairing run (`None` for another
/// stimulus; `Some(Err)` says why the protocol cannot run on this config).
pub fn frequency_of(run: &Run) -> Option<Result<Frequency, String>> {
    (run.cfg.stimulus.kind == StimulusKind::Pairing).then(|| Frequency::of(&run.cfg))
}

/// The last `n` steps of `r` (all of it when shorter).
fn last(r: &Range<u32>, n: u32) -> Range<u32> {
    r.end.saturating_sub(n).max(r.start)..r.end
}

/// What [`plot_run`] drew.
pub struct Plotted {
    /// The files written.
    pub files: Vec<PathBuf>,
    /// A pairing run's STDP window.
    pub window: Option<Window>,
    /// A pairing run's change against pairing frequency, or why it was not drawn.
    pub frequency: Option<Result<Frequency, String>>,
}

/// Draw every figure of `run` into its folder.
pub fn plot_run(run: &Run, window: Option<Range<u32>>) -> Result<Plotted> {
    let window = window.unwrap_or(last(&run.steps, 1000));
    // Staged in a hidden folder beside them, then renamed into place: no half-drawn figure.
    let stage = tempfile::Builder::new().prefix(".synforge-plot-").tempdir_in(&run.dir)?;
    let mut files = Vec::new();
    let raster = Raster { run, inputs: run.inputs(window.clone())?, window: window.clone() };
    files.extend(figures::write(stage.path(), "raster", (1000, 700), &raster)?);
    files.extend(figures::write(stage.path(), "receptive_fields", (1200, 640), &Fields { run })?);
    files.extend(figures::write(stage.path(), "weights", (800, 500), &Histogram { run })?);
    if let Some(rec) = &run.recorded {
        let shown = rec.neurons.len().clamp(1, 4) as u32;
        let traces = Traces { run, rec, window: last(&window, 300) };
        files.extend(figures::write(stage.path(), "traces", (1000, 60 + 220 * shown), &traces)?);
        let wot = WeightsOverTime { run, rec };
        files.extend(figures::write(stage.path(), "weights_over_time", (1000, 500), &wot)?);
    }
    let stdp_window = Window::of(run)?;
    if let Some(w) = &stdp_window {
        files.extend(figures::write(stage.path(), "window", (900, 560), w)?);
    }
    let frequency = frequency_of(run);
    if let Some(Ok(f)) = &frequency {
        files.extend(figures::write(stage.path(), "frequency", (900, 560), f)?);
        let csv = stage.path().join("frequency.csv");
        std::fs::write(&csv, f.csv())?;
        files.push(csv);
    }
    Ok(Plotted { files: place(files, &run.dir)?, window: stdp_window, frequency })
}

/// Two figures in one: `a` above `b` (`vertical`) or beside it.
struct Beside<'a, F> {
    a: &'a F,
    b: &'a F,
    vertical: bool,
}

impl<F: Figure> Figure for Beside<'_, F> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let parts = root.split_evenly(if self.vertical { (2, 1) } else { (1, 2) });
        self.a.draw(&parts[0])?;
        self.b.draw(&parts[1])
    }
}

/// `a` and `b` in one figure, as `name` in `dir`.
fn beside<F: Figure>(
    dir: &Path,
    name: &str,
    size: (u32, u32),
    (a, b): (&F, &F),
    vertical: bool,
) -> Result<[PathBuf; 2]> {
    figures::write(dir, name, size, &Beside { a, b, vertical })
}

/// The fixed model's figures beside the float model's, as `fixed_float_<name>` in `dir` (the
/// folder holding both runs). Returns the files written.
pub fn plot_pair(
    fixed: &Run,
    float: &Run,
    dir: &Path,
    window: Option<Range<u32>>,
) -> Result<Vec<PathBuf>> {
    let window = window.unwrap_or(last(&fixed.steps, 1000));
    let stage = tempfile::Builder::new().prefix(".synforge-plot-").tempdir_in(dir)?;
    let p = stage.path();
    let mut files = Vec::new();
    let raster = |run| -> Result<Raster> {
        Ok(Raster { run, inputs: run.inputs(window.clone())?, window: window.clone() })
    };
    let (a, b) = (raster(fixed)?, raster(float)?);
    files.extend(beside(p, "fixed_float_raster", (1000, 1300), (&a, &b), true)?);
    let (a, b) = (Fields { run: fixed }, Fields { run: float });
    files.extend(beside(p, "fixed_float_receptive_fields", (1200, 1280), (&a, &b), true)?);
    let (a, b) = (Histogram { run: fixed }, Histogram { run: float });
    files.extend(beside(p, "fixed_float_weights", (1600, 500), (&a, &b), false)?);
    if let (Some(ra), Some(rb)) = (&fixed.recorded, &float.recorded) {
        let w = last(&window, 300);
        let shown = ra.neurons.len().clamp(1, 4) as u32;
        let (a, b) = (
            Traces { run: fixed, rec: ra, window: w.clone() },
            Traces { run: float, rec: rb, window: w },
        );
        files.extend(beside(p, "fixed_float_traces", (2000, 60 + 220 * shown), (&a, &b), false)?);
        let (a, b) =
            (WeightsOverTime { run: fixed, rec: ra }, WeightsOverTime { run: float, rec: rb });
        files.extend(beside(p, "fixed_float_weights_over_time", (1000, 1000), (&a, &b), true)?);
    }
    if let (Some(a), Some(b)) = (Window::of(fixed)?, Window::of(float)?) {
        files.extend(beside(p, "fixed_float_window", (1800, 560), (&a, &b), false)?);
    }
    place(files, dir)
}

/// Move the staged `files` into `dir`, each under its name: no half-drawn figure is ever seen.
fn place(files: Vec<PathBuf>, dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for f in files {
        let to = dir.join(f.file_name().expect("a file"));
        std::fs::rename(&f, &to)?;
        out.push(to);
    }
    Ok(out)
}

fn parse_window(s: &str) -> Result<Range<u32>> {
    let bad = || {
        UsageError(format!("--window {s:?}: give FROM:TO in steps, FROM < TO, e.g. 19000:20000"))
    };
    let (a, b) = s.split_once(':').ok_or_else(bad)?;
    let (a, b): (u32, u32) =
        (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?);
    if a >= b {
        return Err(bad().into());
    }
    Ok(a..b)
}

/// `synforge plot`.
pub fn run(a: PlotArgs) -> Result<ExitCode> {
    let window = a.window.as_deref().map(parse_window).transpose()?;
    if !a.dir.is_dir() {
        return Err(UsageError(format!(
            "{}: not a folder; give the folder `synforge sim` wrote (-o)",
            a.dir.display()
        ))
        .into());
    }
    let mut dirs = vec![a.dir.clone()];
    if !a.dir.join("config.toml").is_file() {
        let mut subs: Vec<PathBuf> = std::fs::read_dir(&a.dir)?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join("config.toml").is_file())
            .collect();
        subs.sort();
        if !subs.is_empty() {
            dirs = subs;
        }
    }
    let mut runs = Vec::new();
    for dir in dirs {
        let run = Run::read(&dir)?;
        if let Some(w) = &window {
            if w.start < run.steps.start || w.end > run.steps.end {
                return Err(UsageError(format!(
                    "--window {}:{}: the run in {} has steps {}..{}",
                    w.start,
                    w.end,
                    dir.display(),
                    run.steps.start,
                    run.steps.end
                ))
                .into());
            }
        }
        let plotted = plot_run(&run, window.clone())?;
        for f in &plotted.files {
            println!("wrote {}", f.display());
        }
        if let Some((w, e)) =
            plotted.window.as_ref().and_then(|w| Some((w, w.worst_relative_error()?)))
        {
            println!(
                "  STDP window: {} inputs over {} pairings; largest distance from the rule's \
                 curve {:.1} % of its peak",
                w.measured.len(),
                w.pairings,
                100.0 * e
            );
        }
        match &plotted.frequency {
            Some(Ok(f)) => {
                let float = f
                    .float_distance()
                    .map(|e| format!("; float from the equations {:.2e} of the peak", e))
                    .unwrap_or_default();
                println!(
                    "  pairing frequency: {} frequencies, +/-{} ms, {} pairings each; fixed from \
                     float {:.1} % of the peak{float}",
                    f.points.len(),
                    f.offset_ms,
                    super::frequency::PAIRINGS,
                    100.0 * f.fixed_distance()
                );
                for why in &f.dropped {
                    println!("  pairing frequency: no point at {why}");
                }
            }
            Some(Err(why)) => println!("  pairing frequency: not drawn: {why}"),
            None => {}
        }
        runs.push(run);
    }
    // Where both models ran into one folder (as `demo` does): each figure fixed beside float.
    let fixed = runs.iter().find(|r| r.model == "fixed" && r.dir.parent() == Some(&a.dir));
    let float = runs.iter().find(|r| r.model == "float" && r.dir.parent() == Some(&a.dir));
    if let (Some(x), Some(y)) = (fixed, float) {
        if x.steps == y.steps && x.cfg.network.inputs == y.cfg.network.inputs {
            for f in plot_pair(x, y, &a.dir, window.clone())? {
                println!("wrote {}", f.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
