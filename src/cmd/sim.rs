//! `synforge sim`: run one model, write its outputs.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use synforge_sim::model::{self, ModelKind};
use synforge_sim::run::{run_source, Observer, Record, Summary};
use synforge_sim::state::State;
use synforge_sim::stimulus::SpikeSource;
use synforge_sim::wave::VcdObserver;
use synforge_sim::Network;

use super::record::Recorder;
use super::state::{self, Persist, Saver};
use super::{network_of, neuron_list, source_from, Progress};
use crate::output::{create, OutDir};
use crate::Source;

/// Arguments of `synforge sim`.
#[derive(Args)]
pub struct SimArgs {
    #[command(flatten)]
    src: Source,
    /// Which model.
    #[arg(long, value_enum, default_value = "fixed")]
    model: Kind,
    /// Output folder [default: build/sim/<network>/<model>].
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Also write a VCD of these neurons (e.g. `0,1,2` or `all`) to <out>/waves/<model>.vcd.
    #[arg(long)]
    vcd: Option<String>,
    /// Also record these neurons' membrane and threshold every step, and the weight histogram
    /// about 100 times over the run, to <out>/record.npz (e.g. `0,1` or `all`); `synforge plot`
    /// draws them.
    #[arg(long)]
    record: Option<String>,
    #[command(flatten)]
    persist: Persist,
}

/// Model choice on the command line.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Kind {
    /// Bit-accurate fixed point.
    Fixed,
    /// f64 reference.
    Float,
}

impl From<Kind> for ModelKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Fixed => ModelKind::Fixed,
            Kind::Float => ModelKind::Float,
        }
    }
}

/// What `sim` produced.
pub struct SimResult {
    /// The run.
    pub record: Record,
    /// Its summary.
    pub summary: Summary,
    /// Final weights, input-major.
    pub weights: Vec<f64>,
}

/// Writes each step's output spikes as `step,neuron` lines as the run goes.
struct SpikeCsv<W: Write> {
    w: W,
    error: Option<std::io::Error>,
}

impl<W: Write> Observer for SpikeCsv<W> {
    fn after_step(&mut self, t: u32, _: &dyn synforge_sim::model::Model, spikes: &[u32]) {
        if self.error.is_none() {
            for j in spikes {
                if let Err(e) = writeln!(self.w, "{t},{j}") {
                    self.error = Some(e);
                    return;
                }
            }
        }
    }
}

/// Neurons whose state a run writes out.
#[derive(Default)]
pub struct Probes<'a> {
    /// Into `waves/<model>.vcd`.
    pub vcd: Option<&'a [usize]>,
    /// Into `record.npz`.
    pub record: Option<&'a [usize]>,
}

/// Run `kind` on the network over `src` and write every output into the folder `dir` (a stage
/// the caller commits): `spikes.csv` as the run goes, then `weights.csv`, `summary.json` and
/// what `probes` asks for (`waves/<model>.vcd`, `record.npz`). `keep_spikes` keeps the spikes in the record too (memory
/// then grows with the run). `resume` continues a loaded state (`src` starts at its step);
/// `persist` saves the state where it says.
#[allow(clippy::too_many_arguments)]
pub fn simulate(
    net: &Network,
    src: &mut dyn SpikeSource,
    kind: ModelKind,
    dir: &Path,
    probes: &Probes,
    keep_spikes: bool,
    resume: Option<(&State, &Path)>,
    persist: &Persist,
    run_cfg: &synforge_sim::Config,
) -> Result<SimResult> {
    let name = match kind {
        ModelKind::Fixed => "fixed",
        ModelKind::Float => "float",
    };
    let mut m = model::build(net, kind);
    let init = match resume {
        Some((s, path)) => state::resume(m.as_mut(), s, path)?,
        None => state::weights_of(m.as_ref()),
    };
    let saver = Saver::new(net, kind, persist, init);
    let first_step = resume.map_or(0, |(s, _)| s.step);
    let start_weights = m.weights();
    write_weights(dir, "weights_start.csv", net, &start_weights)?;
    std::fs::write(dir.join("config.toml"), toml::to_string(run_cfg)?)?;
    let mut csv = SpikeCsv { w: BufWriter::new(create(dir, "spikes.csv")?), error: None };
    writeln!(csv.w, "step,neuron")?;
    let progress = Progress::new(&format!("sim {name}"), src.steps());
    let vcd = match probes.vcd {
        Some(neurons) => {
            let file = create(dir, &format!("waves/{name}.vcd"))?;
            Some(VcdObserver::new(BufWriter::new(file), net, neurons, kind == ModelKind::Fixed)?)
        }
        None => None,
    };
    let recorder = match probes.record {
        Some(neurons) => {
            Some(Recorder::new(net, neurons, first_step, src.steps(), &start_weights)?)
        }
        None => None,
    };
    let mut obs = ((((csv, progress), vcd), recorder), saver);
    let record = run_source(m.as_mut(), src, &mut obs, keep_spikes);
    let ((((spikes_csv, _), vcd), recorder), saver) = obs;
    csv = spikes_csv;
    if let Some(v) = vcd {
        v.finish().context("cannot write the VCD")?;
    }
    if let Some(r) = recorder {
        r.write(dir, m.as_ref())?;
    }
    if let Some(e) = csv.error.take() {
        return Err(anyhow::Error::new(e).context("cannot write spikes.csv"));
    }
    if let Some(mut s) = saver {
        if let Some(e) = s.error.take() {
            return Err(e);
        }
        s.save(m.as_ref())?;
    }
    csv.w.flush().context("cannot write spikes.csv")?;
    let weights = m.weights();
    let vars: Vec<Vec<f64>> = (0..net.syn.len()).filter_map(|k| m.syn(k)).collect();
    let summary = Summary::new(net, name, &record, &weights, &start_weights, &vars);

    write_weights(dir, "weights.csv", net, &weights)?;
    write_npy_outputs(dir, net, &start_weights, &weights, summary.output_spikes)?;

    let json = serde_json::json!({
        "run": { "first_step": first_step, "end_step": first_step + summary.steps },
        "summary": summary,
        "quantization": net.quantization,
        "formats": net.fmt,
    });
    std::fs::write(dir.join("summary.json"), serde_json::to_string_pretty(&json)?)?;
    Ok(SimResult { record, summary, weights })
}

/// `input,neuron,weight` lines of `weights` (input-major) into `dir/name`.
fn write_weights(dir: &Path, name: &str, net: &Network, weights: &[f64]) -> Result<()> {
    let nn = net.neurons();
    let mut wtr = BufWriter::new(create(dir, name)?);
    writeln!(wtr, "input,neuron,weight")?;
    for (k, w) in weights.iter().enumerate() {
        writeln!(wtr, "{},{},{}", k / nn, k % nn, w)?;
    }
    wtr.flush()?;
    Ok(())
}

/// The NumPy copies of a run's outputs: `weights_start.npy` and `weights.npy` (`float64`,
/// `[inputs, neurons]`) and `spikes.npy` (`uint32`, `[spikes, 2]`: step, neuron), read back
/// from `spikes.csv` as it streams, so memory does not grow with the run.
fn write_npy_outputs(
    dir: &Path,
    net: &Network,
    start: &[f64],
    end: &[f64],
    spikes: u64,
) -> Result<()> {
    use std::io::BufRead;
    let shape = (net.inputs(), net.neurons());
    for (name, w) in [("weights_start.npy", start), ("weights.npy", end)] {
        let a = ndarray::Array2::from_shape_vec(shape, w.to_vec())?;
        ndarray_npy::write_npy(dir.join(name), &a)
            .with_context(|| format!("cannot write {name}"))?;
    }
    let file = create(dir, "spikes.npy")?;
    ndarray_npy::write_zeroed_npy::<u32, _>(&file, (spikes as usize, 2))
        .context("cannot write spikes.npy")?;
    // The header is written and the file is at the data: the rows follow, little-endian.
    let mut w = BufWriter::new(&file);
    let csv = std::io::BufReader::new(std::fs::File::open(dir.join("spikes.csv"))?);
    let mut rows = 0u64;
    for line in csv.lines().skip(1) {
        let line = line?;
        let (t, j) = line.split_once(',').context("spikes.csv as written")?;
        w.write_all(&t.parse::<u32>()?.to_le_bytes())?;
        w.write_all(&j.parse::<u32>()?.to_le_bytes())?;
        rows += 1;
    }
    w.flush().context("cannot write spikes.npy")?;
    anyhow::ensure!(rows == spikes, "spikes.csv holds {rows} spikes, the run counted {spikes}");
    Ok(())
}

/// Every file under `dir`, for the "wrote" lines.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if e.file_name() != crate::output::MARKER {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Print the short human summary of a run.
pub fn print_summary(s: &Summary) {
    println!(
        "{} model, network `{}`: {} inputs x {} neurons, {} steps ({:.1} s simulated)",
        s.model, s.network, s.inputs, s.neurons, s.steps, s.simulated_s
    );
    println!(
        "  input spikes {}, output spikes {}, mean rate {:.2} Hz",
        s.input_spikes, s.output_spikes, s.mean_rate_hz
    );
    println!(
        "  weights: mean {:.4}, std {:.4}, in lowest tenth {:.1} %, in highest tenth {:.1} %",
        s.weights.mean,
        s.weights.std,
        100.0 * s.weights.frac_low,
        100.0 * s.weights.frac_high
    );
    println!(
        "  {} synaptic events in {:.3} s: {:.3e} events/s",
        s.synaptic_events, s.wall_s, s.events_per_s
    );
}

/// `synforge sim`.
pub fn run(a: SimArgs) -> Result<ExitCode> {
    let net = network_of(&a.src)?;
    let kind: ModelKind = a.model.into();
    let loaded = match &a.persist.load_state {
        Some(p) => Some((state::load(p, &net, kind)?, p.clone())),
        None => None,
    };
    let mut src = source_from(&net, &a.src, loaded.as_ref().map_or(0, |s| s.0.step))?;
    let vcd = match &a.vcd {
        Some(spec) => Some(neuron_list(spec, net.neurons(), "--vcd")?),
        None => None,
    };
    let record = match &a.record {
        Some(spec) => Some(neuron_list(spec, net.neurons(), "--record")?),
        None => None,
    };
    let out = a.out.unwrap_or_else(|| {
        PathBuf::from("build/sim").join(&net.cfg.network.name).join(match kind {
            ModelKind::Fixed => "fixed",
            ModelKind::Float => "float",
        })
    });
    if let Some(p) = &a.persist.save_state {
        // Where it goes is checked before the run, not after it.
        drop(crate::output::OutFile::new("--save-state", p, "state.npz")?);
    }
    let stage = OutDir::new("--out", &out)?;
    let resume = loaded.as_ref().map(|(s, p)| (s, p.as_path()));
    let r = simulate(
        &net,
        src.as_mut(),
        kind,
        stage.path(),
        &Probes { vcd: vcd.as_deref(), record: record.as_deref() },
        false,
        resume,
        &a.persist,
        &super::run_config(&net, &a.src),
    )?;
    let files: Vec<PathBuf> = files_under(stage.path())
        .iter()
        .map(|f| out.join(f.strip_prefix(stage.path()).unwrap_or(f)))
        .collect();
    stage.commit()?;
    print_summary(&r.summary);
    for f in &files {
        println!("  wrote {}", f.display());
    }
    if let Some(p) = &a.persist.save_state {
        println!(
            "  wrote {} (the state after step {})",
            p.display(),
            r.record.steps as u64 + loaded.as_ref().map_or(0, |s| s.0.step as u64)
        );
    }
    Ok(ExitCode::SUCCESS)
}
