//! Weight change against pairing frequency: the protocol where the triplet rule parts from the
//! pair rule (Pfister & Gerstner 2006, after Sjöström et al. 2001).
//!
//! A pairing run's rule and formats are driven through a protocol of their own, in process,
//! in both models: one neuron, two test inputs and four teachers. Each pairing is a teacher
//! volley at `t`; test input 0 fires `d` = 10 ms after it (`t_post - t_pre = -10` ms), test
//! input 1 fires `d` before it (`+10` ms); 60 pairings, every `1000 / f` ms, for `f` from 1 to
//! 50 Hz. The figure is each test synapse's weight change per pairing against `f`.
//!
//! Only the post spikes at the teacher volleys may matter, so the neuron is set up to fire
//! there and nowhere else, whatever the rule does to the weights: every teacher weight starts
//! at `w_max` and the threshold is `2.5 w_max`, so the test inputs (at most `w_max` each; at
//! 50 Hz they fire in the same step) never fire the neuron and the volley (`4 w_max`) does
//! until the teachers have lost 3/8 of their weight; `tau_m = dt` forgets a test input's
//! charge before the volley (`e^-10`). Homeostasis and
//! inhibition are off. Every frequency's run is checked: a post spike anywhere but at a volley,
//! a missed volley or a test weight at a bound drops that frequency's point, and says why.
//!
//! For the pair and triplet presets with additive weights the change per pairing follows from the
//! rule's equations alone, evaluated spike by spike in continuous time (traces decay exactly
//! between spikes, saturate at their formats' maxima and are read as `docs/semantics.md` §4.3
//! says): that is the curve, and the float model, which steps the same equations, must lie on
//! it.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend, RGBColor};
use synforge_sim::config::{Config, Pairing, WeightDependence};
use synforge_sim::model::{self, ModelKind};
use synforge_sim::stimulus::StimulusSpec;

use crate::figures::{self, Figure, Lines, Series};

/// Pairings per frequency.
pub const PAIRINGS: u32 = 60;
/// `|t_post - t_pre|` of the two test inputs, ms.
pub const OFFSET_MS: f64 = 10.0;
/// Frequencies asked for, Hz (each period rounds to whole steps).
const FREQUENCIES_HZ: [f64; 10] = [1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0];
/// The protocol's steps per model at most (all frequencies): about 5 s of both models.
const MAX_STEPS: u64 = 3_000_000;
/// Input numbers: the two test inputs, then the teachers.
const LATE: u32 = 0;
const EARLY: u32 = 1;
const TEACHERS: u32 = 4;

/// One frequency's measurement.
#[derive(Clone, Debug)]
pub struct Point {
    /// Pairing frequency as run: `1000 / (period_steps * dt_ms)`.
    pub hz: f64,
    /// Period in steps.
    pub period: u32,
    /// Weight change per pairing of the `+10` ms and the `-10` ms synapse: fixed, float.
    pub fixed: Option<(f64, f64)>,
    /// See `fixed`.
    pub float: Option<(f64, f64)>,
    /// The equations' `(+10, -10)`, for the rules they are written for here.
    pub theory: Option<(f64, f64)>,
}

/// The figure and its numbers.
pub struct Frequency {
    /// One entry per frequency, ascending.
    pub points: Vec<Point>,
    /// The equations on a fine grid of frequencies: `(+10 ms, -10 ms)` curves.
    pub curves: Option<[Vec<(f64, f64)>; 2]>,
    /// Why a point is missing, one line each.
    pub dropped: Vec<String>,
    /// The offset as run, ms (`OFFSET_MS` rounded to whole steps).
    pub offset_ms: f64,
    title: String,
}

/// The protocol's network: the run's traces, rule, bounds and formats; the rest as the module
/// says.
fn protocol_config(run: &Config) -> Config {
    let mut cfg = run.clone();
    let pl = &mut cfg.plasticity;
    pl.w_init_file = None;
    pl.w_init_spread = 0.0;
    // Additive changes do not depend on the weight: start mid-way, as far from both bounds as
    // can be. Other rules start where the run's weights did (mid-way if that is a bound).
    let additive = pl.weight_dependence == WeightDependence::Additive;
    if additive || !(pl.w_init > pl.w_min && pl.w_init < pl.w_max) {
        pl.w_init = 0.5 * (pl.w_min + pl.w_max);
    }
    cfg.network.inputs = 2 + TEACHERS;
    cfg.network.neurons = 1;
    cfg.neuron.tau_m_ms = cfg.network.dt_ms;
    cfg.neuron.threshold = 2.5 * cfg.plasticity.w_max;
    cfg.neuron.refractory_ms = 0.0;
    cfg.neuron.inhibition = 0.0;
    cfg.homeostasis.adaptive_threshold = false;
    cfg.homeostasis.scaling = false;
    cfg.stimulus = StimulusSpec::default();
    cfg.stimulus.steps = 1;
    cfg.hardware = Default::default();
    cfg
}

/// Run the protocol at `period` steps with offset `d` steps in one model; the weight change
/// per pairing of the `+d` and the `-d` synapse, or why the run does not measure it.
fn measure(
    net: &synforge_sim::Network,
    kind: ModelKind,
    period: u32,
    d: u32,
) -> Result<(f64, f64), String> {
    let mut m = model::build(net, kind);
    let volley = |t: u32| t >= d && (t - d) % period == 0 && (t - d) / period < PAIRINGS;
    let end = d + (PAIRINGS - 1) * period + d + 1;
    let w0 = m.weights();
    let (mut extra, mut missed) = (0u32, 0u32);
    let mut pre = Vec::with_capacity(5);
    for t in 0..end {
        pre.clear();
        if t >= 2 * d && volley(t - d) {
            pre.push(LATE);
        }
        if volley(t + d) {
            pre.push(EARLY);
        }
        if volley(t) {
            pre.extend(2..2 + TEACHERS);
        }
        let fired = !m.step(&pre).is_empty();
        match (fired, volley(t)) {
            (true, false) => extra += 1,
            (false, true) => missed += 1,
            _ => {}
        }
    }
    if extra + missed > 0 {
        return Err(format!(
            "the neuron fired {extra} times between the teacher volleys and missed {missed} of \
             them"
        ));
    }
    let w = m.weights();
    let p = &net.cfg.plasticity;
    for i in [LATE, EARLY] {
        let x = w[i as usize];
        if x <= p.w_min || x >= p.w_max {
            return Err(format!("input {i}'s weight ended at a bound ({x})"));
        }
    }
    let per = |i: u32| (w[i as usize] - w0[i as usize]) / PAIRINGS as f64;
    Ok((per(EARLY), per(LATE)))
}

/// A trace in continuous time: its value at its last spike, decaying exactly in between.
struct Trace {
    v: f64,
    at: f64,
    tau: f64,
    max: f64,
}

impl Trace {
    fn new(tau: f64, max: f64) -> Trace {
        Trace { v: 0.0, at: 0.0, tau, max }
    }

    fn read(&self, t: f64) -> f64 {
        self.v * (-(t - self.at) / self.tau).exp()
    }

    /// The spike at `t`: `+ inc` saturating at the format's maximum (all-to-all), or `:= inc`.
    fn bump(&mut self, t: f64, inc: f64, nearest: bool) {
        self.v = if nearest { inc } else { (self.read(t) + inc).min(self.max) };
        self.at = t;
    }
}

/// The weight change per pairing, `(+d, -d)`, from the rule's equations evaluated spike by
/// spike in continuous time (period `t` and offset `d` in ms), for the pair and triplet presets
/// with additive weights; `None` for other rules. Traces saturate at their formats' maxima, as
/// the contract says; nothing else is quantised.
fn equations(net: &synforge_sim::Network, t: f64, d: f64) -> Option<(f64, f64)> {
    let cfg = &net.cfg;
    let pl = &cfg.plasticity;
    let triplet = match pl.rule.0.as_str() {
        "pair" => false,
        "triplet" => true,
        _ => return None,
    };
    if pl.weight_dependence != WeightDependence::Additive {
        return None;
    }
    let tr = &cfg.traces;
    let (k, near) = (tr.increment, tr.pairing == Pairing::Nearest);
    let (a3p, a3m) = if triplet { (pl.a3_plus, pl.a3_minus) } else { (0.0, 0.0) };
    let f = &net.fmt;
    // One synapse, its pre spike `off` ms after each volley (n t): the sum of its changes.
    let synapse = |off: f64| {
        let (mut x1, mut x2) =
            (Trace::new(tr.tau_plus_ms, f.x1.max_real()), Trace::new(tr.tau_x_ms, f.x2.max_real()));
        let (mut y1, mut y2) = (
            Trace::new(tr.tau_minus_ms, f.y1.max_real()),
            Trace::new(tr.tau_y_ms, f.y2.max_real()),
        );
        let mut dw = 0.0;
        let pre = |s: f64, x1: &mut Trace, x2: &mut Trace, y1: &Trace, dw: &mut f64| {
            *dw -= y1.read(s) * (pl.a_minus + a3m * x2.read(s));
            x1.bump(s, k, near);
            x2.bump(s, k, near);
        };
        for n in 0..PAIRINGS {
            // Times from a start that keeps them positive.
            let v = t + n as f64 * t;
            if off < 0.0 {
                pre(v + off, &mut x1, &mut x2, &y1, &mut dw);
            }
            dw += x1.read(v) * (pl.a_plus + a3p * y2.read(v));
            y1.bump(v, k, near);
            y2.bump(v, k, near);
            if off > 0.0 {
                pre(v + off, &mut x1, &mut x2, &y1, &mut dw);
            }
        }
        dw / PAIRINGS as f64
    };
    Some((synapse(-d), synapse(d)))
}

impl Frequency {
    /// The protocol run on `cfg`'s rule, or `Err` with why it cannot run (plasticity off, or
    /// the protocol's network does not fit the config's formats).
    pub fn of(cfg: &Config) -> Result<Frequency, String> {
        if cfg.plasticity.rule.is_off() {
            return Err("plasticity is off".into());
        }
        let pc = protocol_config(cfg);
        let net = pc.build().map_err(|e| format!("the protocol's network: {e}"))?;
        let dt = pc.network.dt_ms;
        let d = (OFFSET_MS / dt).round().max(1.0) as u32;
        let offset_ms = d as f64 * dt;
        let mut net = net;
        net.w_init_overrides = (2..2 + TEACHERS).map(|i| (i, 0, pc.plasticity.w_max)).collect();
        let mut points = Vec::new();
        let mut dropped = Vec::new();
        let mut periods: Vec<u32> =
            FREQUENCIES_HZ.iter().map(|f| (1000.0 / (f * dt)).round() as u32).collect();
        periods.dedup();
        periods.retain(|&p| p > d);
        let steps: u64 = periods.iter().map(|&p| (2 * d + (PAIRINGS - 1) * p + 1) as u64).sum();
        if steps > MAX_STEPS {
            return Err(format!(
                "at network.dt_ms = {dt} the protocol takes {steps} steps per model, more than \
                 {MAX_STEPS}; it is drawn for dt_ms >= 0.05"
            ));
        }
        for period in periods {
            let hz = 1000.0 / (period as f64 * dt);
            let mut point = Point {
                hz,
                period,
                fixed: None,
                float: None,
                theory: equations(&net, period as f64 * dt, offset_ms),
            };
            for (kind, slot) in
                [(ModelKind::Fixed, &mut point.fixed), (ModelKind::Float, &mut point.float)]
            {
                match measure(&net, kind, period, d) {
                    Ok(v) => *slot = Some(v),
                    Err(why) => dropped.push(format!(
                        "{hz:.1} Hz, {} model: {why}",
                        if kind == ModelKind::Fixed { "fixed" } else { "float" }
                    )),
                }
            }
            points.push(point);
        }
        let curves = points.iter().any(|p| p.theory.is_some()).then(|| {
            let grid: Vec<f64> = (0..=120)
                .map(|s| 0.8 + (50.0 - 0.8) * s as f64 / 120.0)
                .filter(|f| 1000.0 / f > offset_ms)
                .collect();
            let at = |f: f64| equations(&net, 1000.0 / f, offset_ms).expect("the equations");
            [
                grid.iter().map(|&f| (f, at(f).0)).collect(),
                grid.iter().map(|&f| (f, at(f).1)).collect(),
            ]
        });
        let title = format!(
            "{}: weight change per pairing against frequency (rule {}, {PAIRINGS} pairings)",
            cfg.network.name, cfg.plasticity.rule
        );
        Ok(Frequency { points, curves, dropped, offset_ms, title })
    }

    /// The float model's largest distance from the equations, over the curves' peak.
    pub fn float_distance(&self) -> Option<f64> {
        let [a, b] = self.curves.as_ref()?;
        let peak = a.iter().chain(b).map(|p| p.1.abs()).fold(0.0, f64::max).max(1e-300);
        let worst = self
            .points
            .iter()
            .filter_map(|p| {
                let (f, t) = (p.float?, p.theory?);
                Some((f.0 - t.0).abs().max((f.1 - t.1).abs()))
            })
            .fold(0.0, f64::max);
        Some(worst / peak)
    }

    /// The fixed model's largest distance from the float model, over the float model's peak.
    pub fn fixed_distance(&self) -> f64 {
        let both: Vec<_> = self.points.iter().filter_map(|p| Some((p.fixed?, p.float?))).collect();
        let peak = both.iter().map(|(_, f)| f.0.abs().max(f.1.abs())).fold(0.0, f64::max);
        let worst =
            both.iter().map(|(x, f)| (x.0 - f.0).abs().max((x.1 - f.1).abs())).fold(0.0, f64::max);
        worst / peak.max(1e-300)
    }

    /// The numbers as CSV: one line per frequency.
    pub fn csv(&self) -> String {
        let mut s = String::from(
            "frequency_hz,period_steps,fixed_plus,fixed_minus,float_plus,float_minus,\
             theory_plus,theory_minus\n",
        );
        let f = |v: Option<(f64, f64)>, first: bool| {
            v.map(|v| format!("{:e}", if first { v.0 } else { v.1 })).unwrap_or_default()
        };
        for p in &self.points {
            s.push_str(&format!(
                "{},{},{},{},{},{},{},{}\n",
                p.hz,
                p.period,
                f(p.fixed, true),
                f(p.fixed, false),
                f(p.float, true),
                f(p.float, false),
                f(p.theory, true),
                f(p.theory, false)
            ));
        }
        s
    }
}

impl Figure for Frequency {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let o = self.offset_ms;
        let series = |name: &str, c: RGBColor, pick: &dyn Fn(&Point) -> Option<f64>| {
            let pts: Vec<(f64, f64)> =
                self.points.iter().filter_map(|p| Some((p.hz, pick(p)?))).collect();
            (name.to_string(), c, pts)
        };
        let (red, blue) = (RGBColor(200, 30, 30), RGBColor(30, 90, 200));
        let (orange, sky) = (RGBColor(240, 150, 40), RGBColor(90, 170, 230));
        let float_plus = series(&format!("float, +{o} ms"), orange, &|p| Some(p.float?.0));
        let float_minus = series(&format!("float, -{o} ms"), sky, &|p| Some(p.float?.1));
        let mut lines: Vec<Series<(f64, f64)>> = Vec::new();
        let mut points = Vec::new();
        match &self.curves {
            Some([a, b]) => {
                lines.push((
                    format!("the equations, +{o} ms (pre before post)"),
                    RGBColor(140, 20, 20),
                    a.clone(),
                ));
                lines.push((
                    format!("the equations, -{o} ms (post before pre)"),
                    RGBColor(20, 40, 120),
                    b.clone(),
                ));
                points.push(float_plus);
                points.push(float_minus);
            }
            None => {
                lines.push(float_plus);
                lines.push(float_minus);
            }
        }
        points.push(series(&format!("fixed, +{o} ms"), red, &|p| Some(p.fixed?.0)));
        points.push(series(&format!("fixed, -{o} ms"), blue, &|p| Some(p.fixed?.1)));
        let all: Vec<f64> =
            lines.iter().chain(&points).flat_map(|s| s.2.iter().map(|p| p.1)).collect();
        let (lo, hi) = all.iter().fold((0.0f64, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
        let pad = (hi - lo).max(1e-12) * 0.08;
        figures::lines(
            root,
            &Lines {
                title: &self.title,
                x_label: "pairing frequency (Hz)",
                y_label: "weight change per pairing",
                x: 0.0..52.0,
                // Headroom for the legend, above every curve.
                y: lo - pad..hi + pad + 0.45 * (hi - lo),
                lines,
                points,
            },
        )
    }
}
