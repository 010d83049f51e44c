//! `synforge sim`: run one model, write its outputs.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use synforge_sim::model::{self, ModelKind};
use synforge_sim::run::{run as run_model, NoObserver, Observer, Record, Summary};
use synforge_sim::wave::VcdObserver;
use synforge_sim::Network;

use super::{load, neuron_list};
use crate::output::Staged;
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
    /// Files written.
    pub files: Vec<PathBuf>,
}

/// Run `kind` on the network and stage every output in `out`.
pub fn simulate(
    net: &Network,
    stim: &synforge_sim::Stimulus,
    kind: ModelKind,
    out: &std::path::Path,
    vcd: Option<&[usize]>,
) -> Result<SimResult> {
    let name = match kind {
        ModelKind::Fixed => "fixed",
        ModelKind::Float => "float",
    };
    let mut staged = Staged::new(out)?;
    let mut m = model::build(net, kind);
    let record = match vcd {
        Some(neurons) => {
            let file = staged.file(&format!("waves/{name}.vcd"))?.reopen()?;
            let mut obs =
                VcdObserver::new(BufWriter::new(file), net, neurons, kind == ModelKind::Fixed)?;
            let r = run_model(m.as_mut(), stim, &mut obs as &mut dyn Observer);
            obs.finish().context("cannot write the VCD")?;
            r
        }
        None => run_model(m.as_mut(), stim, &mut NoObserver),
    };
    let weights = m.weights();
    let summary = Summary::new(net, name, &record, &weights);

    let mut spikes = String::with_capacity(record.spikes.len() * 10 + 16);
    spikes.push_str("step,neuron\n");
    for (t, j) in &record.spikes {
        spikes.push_str(&format!("{t},{j}\n"));
    }
    staged.write("spikes.csv", spikes.as_bytes())?;

    let nn = net.neurons();
    let f = staged.file("weights.csv")?;
    let mut wtr = BufWriter::new(f);
    writeln!(wtr, "input,neuron,weight")?;
    for (k, w) in weights.iter().enumerate() {
        writeln!(wtr, "{},{},{}", k / nn, k % nn, w)?;
    }
    wtr.flush()?;
    drop(wtr);

    let json = serde_json::json!({
        "summary": summary,
        "quantization": net.quantization,
        "formats": net.fmt,
    });
    staged.write("summary.json", serde_json::to_string_pretty(&json)?.as_bytes())?;
    let files = staged.commit()?;
    Ok(SimResult { record, summary, weights, files })
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
    let (net, stim) = load(&a.src)?;
    let kind: ModelKind = a.model.into();
    let vcd = match &a.vcd {
        Some(spec) => Some(neuron_list(spec, net.neurons(), "--vcd")?),
        None => None,
    };
    let out = a.out.unwrap_or_else(|| {
        PathBuf::from("build/sim").join(&net.cfg.network.name).join(match kind {
            ModelKind::Fixed => "fixed",
            ModelKind::Float => "float",
        })
    });
    crate::output::check_out_dir(&out)?;
    let r = simulate(&net, &stim, kind, &out, vcd.as_deref())?;
    print_summary(&r.summary);
    for f in &r.files {
        println!("  wrote {}", f.display());
    }
    Ok(ExitCode::SUCCESS)
}
