//! `synforge state`: what a saved state holds; and the `--load-state` / `--save-state` of the
//! commands that run a model.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use serde::Serialize;
use synforge_sim::config::Config;
use synforge_sim::model::{Model, ModelKind};
use synforge_sim::run::Observer;
use synforge_sim::state::{State, Values, WEIGHT_INIT};
use synforge_sim::Network;

use crate::output::write_file;
use crate::UsageError;

/// Arguments of `synforge state`.
#[derive(Args)]
pub struct StateArgs {
    /// A state file (`--save-state` of `sim` wrote it).
    file: PathBuf,
    /// Print the summary as JSON instead.
    #[arg(long)]
    json: bool,
}

/// Where a run's state comes from and goes.
#[derive(Args, Clone, Default)]
pub struct Persist {
    /// Start from this saved state (a `--save-state` file) instead of the initial state: the
    /// run goes on at the state's step, its stimulus too.
    #[arg(long, value_name = "FILE")]
    pub load_state: Option<PathBuf>,
    /// Save the state at the end of the run to this file (NumPy .npz; `synforge state FILE`
    /// shows it, docs/state.md says what it holds).
    #[arg(long, value_name = "FILE")]
    pub save_state: Option<PathBuf>,
    /// Also save it every K steps during the run, replacing the file each time (a checkpoint).
    #[arg(long, value_name = "K", requires = "save_state", value_parser = clap::value_parser!(u32).range(1..))]
    pub save_state_every: Option<u32>,
}

/// Read `path` and check it fits `kind` on `net`; every refusal is a usage error naming the
/// file and what to do.
pub fn load(path: &Path, net: &Network, kind: ModelKind) -> Result<State> {
    let usage = |m: String| anyhow::Error::new(UsageError(format!("--load-state {m}")));
    let s = State::read(path).map_err(|e| usage(e.to_string()))?;
    s.check_fits(net, kind).map_err(|m| usage(format!("{}: {m}", path.display())))?;
    Ok(s)
}

/// Continue `m` from `s`, returning the weights learning started from.
pub fn resume(m: &mut dyn Model, s: &State, path: &Path) -> Result<Values> {
    m.set_state(s.step, &s.quantities)
        .map_err(|e| UsageError(format!("--load-state {}: {e}", path.display())))?;
    Ok(match s.get(WEIGHT_INIT) {
        Some(q) => q.values.clone(),
        None => weights_of(m),
    })
}

/// The model's weights as its state holds them.
pub fn weights_of(m: &dyn Model) -> Values {
    m.state().into_iter().find(|q| q.name == "weight").expect("every state has weights").values
}

/// Saves the state into a file atomically: at the end of a run, and every `every` steps.
pub struct Saver<'a> {
    net: &'a Network,
    kind: ModelKind,
    path: PathBuf,
    every: Option<u32>,
    init: Values,
    /// The first failure, reported after the run.
    pub error: Option<anyhow::Error>,
}

impl<'a> Saver<'a> {
    /// Save into `path`, with the weights learning started from.
    pub fn new(net: &'a Network, kind: ModelKind, p: &Persist, init: Values) -> Option<Self> {
        let path = p.save_state.clone()?;
        Some(Saver { net, kind, path, every: p.save_state_every, init, error: None })
    }

    /// Save `m`'s state now.
    pub fn save(&self, m: &dyn Model) -> Result<PathBuf> {
        let s = State::of(self.net, m, self.kind, self.init.clone());
        write_file("--save-state", &self.path, "state.npz", &s.to_bytes()?)
    }
}

impl Observer for Saver<'_> {
    fn after_step(&mut self, t: u32, m: &dyn Model, _: &[u32]) {
        if let Some(k) = self.every {
            if self.error.is_none() && (t as u64 + 1) % k as u64 == 0 {
                if let Err(e) = self.save(m) {
                    self.error = Some(e);
                }
            }
        }
    }
}

/// What `synforge state` reports.
#[derive(Serialize)]
struct Report {
    file: String,
    version: u32,
    generator: String,
    model: ModelKind,
    network: String,
    structure_hash: String,
    inputs: u32,
    neurons: u32,
    rule: String,
    step: u32,
    simulated_s: f64,
    weights: WeightReport,
    /// The per-synapse variables beside the weight.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    variables: Vec<VarReport>,
    /// How fast the weights forget when nothing happens (rules with a sweep).
    #[serde(skip_serializing_if = "Option::is_none")]
    decay: Option<DecayReport>,
    /// Per neuron: spikes since the counters were last reset, and the rate over those steps.
    neurons_since_reset: RateReport,
    arrays: Vec<ArrayReport>,
}

#[derive(Serialize)]
struct WeightReport {
    w_min: f64,
    w_max: f64,
    mean: f64,
    std: f64,
    min: f64,
    max: f64,
    frac_at_w_min: f64,
    frac_at_w_max: f64,
    /// Ten equal bins from `w_min` to `w_max`: the fraction of weights in each.
    histogram: Vec<f64>,
    /// `sum |w - w_init|` over every synapse (BDH's `sigma_norm`), in weight units.
    memory_norm: f64,
    /// The same over `(w_max - w_min) * synapses`: 0 unchanged, 1 every weight moved across
    /// the whole range.
    memory_norm_rel: f64,
    /// The memory norm of each neuron's synapses.
    memory_norm_per_neuron: Vec<f64>,
}

/// A per-synapse variable (`plasticity.synapse.<name>`), as a consolidation level or a tag.
#[derive(Serialize)]
struct VarReport {
    name: String,
    /// Its array in the state (`syn0`, `syn1`).
    array: String,
    mean: f64,
    min: f64,
    max: f64,
    /// An unsigned variable, read as a consolidation level: the fraction of synapses at least
    /// half its format's maximum ("stiff"), in all and per neuron.
    #[serde(skip_serializing_if = "Option::is_none")]
    stiff: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stiff_per_neuron: Option<Vec<f64>>,
}

/// The effective decay rate (BDH's `avg_decay`): the fraction of its distance above `w_min`
/// that a synapse's weight loses in one sweep with no activity (traces, events and `r` zero),
/// from its own weight and variables, in f64 with the rule's float form. Under consolidation
/// it is `w_decay * (1 - c)`: stiff synapses forget slower. Synapses at `w_min` are left out.
#[derive(Serialize)]
struct DecayReport {
    sweep_period_steps: u32,
    /// Mean over the synapses above `w_min`, per sweep.
    per_sweep: f64,
    /// The same per step (`per_sweep / sweep_period_steps`).
    per_step: f64,
    /// Per neuron, per sweep (NaN where every synapse is at `w_min`).
    per_neuron: Vec<f64>,
    /// Synapses above `w_min`, counted.
    synapses: usize,
}

/// See [`DecayReport`]; `None` for a rule without a sweep.
fn effective_decay(cfg: &Config, s: &State, w: &[f64]) -> Result<Option<DecayReport>> {
    let Some(period) = cfg.plasticity.sweep_period_steps.filter(|&k| k > 0) else {
        return Ok(None);
    };
    let net = cfg.build().map_err(|e| UsageError(format!("the state's config: {e}")))?;
    let vars: Vec<Vec<f64>> = (0..net.syn.len())
        .filter_map(|k| s.get(synforge_sim::state::SYN_NAMES[k]))
        .map(|q| q.values.reals(q.format.as_ref()))
        .collect();
    let d = synforge_sim::run::Diagnostics::of(&net, w, w, &vars);
    Ok(match (d.decay_per_sweep, d.decay_per_neuron, d.decay_synapses) {
        (Some(per_sweep), Some(per_neuron), Some(synapses)) => Some(DecayReport {
            sweep_period_steps: period,
            per_sweep,
            per_step: per_sweep / period as f64,
            per_neuron,
            synapses,
        }),
        _ => None,
    })
}

#[derive(Serialize)]
struct RateReport {
    steps: u32,
    counts: Vec<u16>,
    rates_hz: Vec<f64>,
    mean_rate_hz: f64,
    saturated: usize,
}

#[derive(Serialize)]
struct ArrayReport {
    name: String,
    per: String,
    shape: Vec<usize>,
    dtype: String,
    format: Option<String>,
}

fn report(path: &Path, s: &State) -> Result<Report> {
    let cfg = Config::from_toml_str(&s.config, "the state's config")
        .map_err(|e| UsageError(format!("{}: its config does not parse: {e}", path.display())))?;
    let p = &cfg.plasticity;
    let wq = s.get("weight").expect("read checks it");
    let w = wq.values.reals(wq.format.as_ref());
    // The bounds as the model holds them: rounded into the weight format (fixed model).
    let (lo, hi, eps) = match &wq.format {
        Some(f) => {
            let lsb = (-(f.frac as f64)).exp2();
            ((p.w_min / lsb).round() * lsb, (p.w_max / lsb).round() * lsb, lsb / 2.0)
        }
        None => (p.w_min, p.w_max, 1e-12 * (p.w_max - p.w_min)),
    };
    let n = w.len().max(1) as f64;
    let mean = w.iter().sum::<f64>() / n;
    let std = (w.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    let mut histogram = vec![0.0; 10];
    for &x in &w {
        let b = (((x - lo) / (hi - lo)) * 10.0).floor().clamp(0.0, 9.0) as usize;
        histogram[b] += 1.0 / n;
    }
    let nn = s.structure.neurons as usize;
    let (memory_norm, memory_norm_per_neuron) = match s.get(WEIGHT_INIT) {
        Some(q) => {
            let w0 = q.values.reals(q.format.as_ref());
            let mut per = vec![0.0; nn];
            for (k, (a, b)) in w.iter().zip(&w0).enumerate() {
                per[k % nn] += (a - b).abs();
            }
            (per.iter().sum::<f64>(), per)
        }
        None => (f64::NAN, vec![f64::NAN; nn]),
    };
    let mut variables = Vec::new();
    for (k, (name, spec)) in cfg.plasticity.synapse.iter().enumerate() {
        let array = synforge_sim::state::SYN_NAMES[k];
        let Some(q) = s.get(array) else { continue };
        let v = q.values.reals(q.format.as_ref());
        let count = v.len().max(1) as f64;
        let (stiff, stiff_per_neuron) = if spec.signed {
            (None, None)
        } else {
            let mut per = vec![0.0; nn];
            for (i, &x) in v.iter().enumerate() {
                per[i % nn] += spec.stiff(x) as u8 as f64;
            }
            let all = per.iter().sum::<f64>() / count;
            let inputs = s.structure.inputs.max(1) as f64;
            (Some(all), Some(per.into_iter().map(|c| c / inputs).collect()))
        };
        variables.push(VarReport {
            name: name.clone(),
            array: array.to_string(),
            mean: v.iter().sum::<f64>() / count,
            min: v.iter().copied().fold(f64::INFINITY, f64::min),
            max: v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            stiff,
            stiff_per_neuron,
        });
    }
    let decay = effective_decay(&cfg, s, &w)?;
    // Counters reset at synaptic scaling: at the end of every step t with (t + 1) % K == 0.
    let h = &cfg.homeostasis;
    let steps = if h.scaling { s.step % h.scaling_period_steps.max(1) } else { s.step };
    let counts = match s.get("count").map(|q| &q.values) {
        Some(Values::U16(c)) => c.clone(),
        _ => vec![],
    };
    let dt_s = cfg.network.dt_ms / 1000.0;
    let rates_hz: Vec<f64> = counts
        .iter()
        .map(|&c| if steps == 0 { 0.0 } else { c as f64 / (steps as f64 * dt_s) })
        .collect();
    let mean_rate_hz = rates_hz.iter().sum::<f64>() / rates_hz.len().max(1) as f64;
    let arrays = s
        .quantities
        .iter()
        .map(|q| ArrayReport {
            name: q.name.to_string(),
            per: format!("{:?}", q.per).to_lowercase(),
            shape: match q.per {
                synforge_sim::state::Per::Synapse => {
                    vec![s.structure.inputs as usize, s.structure.neurons as usize]
                }
                synforge_sim::state::Per::Neuron => vec![s.structure.neurons as usize],
                synforge_sim::state::Per::Input => vec![s.structure.inputs as usize],
                synforge_sim::state::Per::Network => vec![],
                synforge_sim::state::Per::List => vec![q.values.len()],
            },
            dtype: q.values.dtype().to_string(),
            format: q.format.map(|f| f.q_name()),
        })
        .collect();
    Ok(Report {
        file: path.display().to_string(),
        version: s.version,
        generator: s.generator.clone(),
        model: s.model,
        network: s.network.clone(),
        structure_hash: s.structure.hash(),
        inputs: s.structure.inputs,
        neurons: s.structure.neurons,
        rule: s.structure.rule.clone(),
        decay,
        step: s.step,
        simulated_s: s.step as f64 * dt_s,
        weights: WeightReport {
            w_min: lo,
            w_max: hi,
            mean,
            std,
            min: w.iter().copied().fold(f64::INFINITY, f64::min),
            max: w.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            frac_at_w_min: w.iter().filter(|&&x| x <= lo + eps).count() as f64 / n,
            frac_at_w_max: w.iter().filter(|&&x| x >= hi - eps).count() as f64 / n,
            histogram,
            memory_norm,
            memory_norm_rel: memory_norm / ((hi - lo) * n),
            memory_norm_per_neuron,
        },
        variables,
        neurons_since_reset: RateReport {
            steps,
            saturated: counts.iter().filter(|&&c| c == u16::MAX).count(),
            counts,
            rates_hz,
            mean_rate_hz,
        },
        arrays,
    })
}

/// `synforge state`.
pub fn run(a: StateArgs) -> Result<ExitCode> {
    let s = State::read(&a.file).map_err(|e| UsageError(e.to_string()))?;
    let r = report(&a.file, &s)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(ExitCode::SUCCESS);
    }
    let model = match r.model {
        ModelKind::Fixed => "bit-accurate (fixed) model, raw words",
        ModelKind::Float => "float reference, reals",
    };
    println!(
        "{}: state of network `{}` after step {} ({:.3} s simulated)",
        r.file, r.network, r.step, r.simulated_s
    );
    println!(
        "  {model}; {} inputs x {} neurons, structure {}",
        r.inputs, r.neurons, r.structure_hash
    );
    println!("  rule: {}", r.rule);
    let w = &r.weights;
    println!(
        "  weights: mean {:.4}, std {:.4}, min {:.4}, max {:.4} (bounds {} to {})",
        w.mean, w.std, w.min, w.max, w.w_min, w.w_max
    );
    println!(
        "  at w_min {:.1} %, at w_max {:.1} %; memory norm sum|w - w_init| = {:.4} ({:.2} % of the range per synapse)",
        100.0 * w.frac_at_w_min,
        100.0 * w.frac_at_w_max,
        w.memory_norm,
        100.0 * w.memory_norm_rel
    );
    let per: Vec<String> = w.memory_norm_per_neuron.iter().map(|x| format!("{x:.3}")).collect();
    println!("  memory norm per neuron: {}", per.join(" "));
    for v in &r.variables {
        print!(
            "  variable `{}` ({}): mean {:.4}, min {:.4}, max {:.4}",
            v.name, v.array, v.mean, v.min, v.max
        );
        match (&v.stiff, &v.stiff_per_neuron) {
            (Some(all), Some(per)) => {
                let per: Vec<String> = per.iter().map(|x| format!("{:.0}", 100.0 * x)).collect();
                println!(
                    "; stiff (at least half its maximum) {:.1} %, per neuron (%): {}",
                    100.0 * all,
                    per.join(" ")
                );
            }
            _ => println!(),
        }
    }
    if let Some(d) = &r.decay {
        let per: Vec<String> = d.per_neuron.iter().map(|x| format!("{:.2e}", x)).collect();
        println!(
            "  effective decay toward w_min with no activity: {:.3e} per sweep of {} steps ({:.3e} per step), over the {} synapses above w_min; per neuron: {}",
            d.per_sweep, d.sweep_period_steps, d.per_step, d.synapses, per.join(" ")
        );
    }
    println!("  histogram, ten bins from w_min to w_max:");
    for (k, f) in w.histogram.iter().enumerate() {
        let a = w.w_min + (w.w_max - w.w_min) * k as f64 / 10.0;
        let b = w.w_min + (w.w_max - w.w_min) * (k + 1) as f64 / 10.0;
        println!(
            "    {a:>8.4} .. {b:<8.4} {:>5.1} % {}",
            100.0 * f,
            "#".repeat((f * 50.0).round() as usize)
        );
    }
    let n = &r.neurons_since_reset;
    println!(
        "  rates over the {} steps since the spike counters were last reset: mean {:.2} Hz{}",
        n.steps,
        n.mean_rate_hz,
        if n.saturated > 0 {
            format!(" ({} counters saturated at 65535)", n.saturated)
        } else {
            String::new()
        }
    );
    let rates: Vec<String> = n.rates_hz.iter().map(|r| format!("{r:.1}")).collect();
    println!("    per neuron (Hz): {}", rates.join(" "));
    println!("  arrays:");
    for a in &r.arrays {
        println!(
            "    {:<12} per {:<8} {:<12} {} {}",
            a.name,
            a.per,
            format!("{:?}", a.shape),
            a.dtype,
            a.format.as_deref().unwrap_or("")
        );
    }
    Ok(ExitCode::SUCCESS)
}
