//! `synforge`: plastic spiking networks to FPGA hardware you can trust.
//!
//! Exit status: 0 on success, 2 on bad input (config, stimulus, flags), 1 on any other failure.

mod cmd;
mod figures;
mod output;
mod progress;
mod serial;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Bad input from the user: reported, exit status 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Turn a model-side error into a usage error (all of them are about the input).
pub fn usage(e: synforge_sim::Error) -> anyhow::Error {
    anyhow::Error::new(UsageError(e.to_string()))
}

#[derive(Parser)]
#[command(
    name = "synforge",
    version,
    about = "Plastic spiking networks to FPGA hardware you can trust"
)]
struct Cli {
    /// Worker threads for the bit-accurate model (default: all cores).
    #[arg(long, global = true, value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
    #[command(subcommand)]
    command: Command,
}

/// Where the network and its stimulus come from.
#[derive(Args, Clone)]
pub struct Source {
    /// Network config (TOML). Without it the built-in default network is used.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Stimulus CSV (`step,input` lines); overrides the config's `[stimulus]`.
    #[arg(long, short)]
    stimulus: Option<PathBuf>,
    /// Number of steps; overrides the stimulus's own.
    #[arg(long)]
    steps: Option<u32>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the built-in default network end to end: both models, their distance, outputs.
    Demo(cmd::demo::DemoArgs),
    /// Run one model and write spikes, weights, a JSON summary and optionally a VCD.
    Sim(cmd::sim::SimArgs),
    /// What a saved state holds (`sim --save-state`): network, step, weights, memory norm, rates.
    State(cmd::state::StateArgs),
    /// Run both models on the same stimulus and report their distance.
    Compare(cmd::compare::CompareArgs),
    /// Print the formats and the hardware constants with their quantisation error.
    Params(cmd::params::ParamsArgs),
    /// Write the config's generated stimulus as CSV.
    Stimulus(cmd::stimulus::StimulusArgs),
    /// Figures of a run's folder (raster, receptive fields, weights, recorded traces; a pairing
    /// run's STDP window and weight change against pairing frequency) as SVG and PNG.
    ///
    /// The figures are written into the folder. For a pairing run, `plot` also runs the
    /// frequency protocol on the run's rule, traces and formats, in both models: one neuron,
    /// two test inputs at t_post - t_pre = +10 and -10 ms from a volley of four teachers, 60
    /// pairings at each of 1 to 50 Hz (frequency.svg, frequency.png, frequency.csv; for the pair
    /// and triplet presets with additive weights, beside the rule's equations).
    Plot(cmd::plot::PlotArgs),
    /// One self-contained index.html of a run's folder: figures, model distance, quantisation,
    /// co-simulation and synthesis, readable offline.
    Report(cmd::report::ReportArgs),
    /// Measure the bit-accurate model's speed (synaptic events/s) and memory bandwidth.
    Bench(cmd::bench::BenchArgs),
    /// Generate the core's Verilog and manifest for a network.
    Gen(cmd::gen::GenArgs),
    /// Co-simulate the generated core in Verilator against the bit-accurate model.
    Cosim(cmd::cosim::CosimArgs),
    /// Drive a board (or the Verilator model of its top) over UART, beside the model.
    Run(cmd::run::RunArgs),
    /// Synthesize the board top for a board: bitstream and resource/timing report.
    Synth(cmd::synth::SynthArgs),
}

fn main() -> ExitCode {
    // Die quietly of SIGPIPE like any Unix filter (`synforge params | head`), instead of
    // panicking on the failed write.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of a signal, before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    if let Some(n) = cli.threads {
        if let Err(e) = rayon::ThreadPoolBuilder::new().num_threads(n as usize).build_global() {
            eprintln!("error: cannot start {n} threads: {e}");
            return ExitCode::from(1);
        }
    }
    output::remove_staged_on_interrupt();
    let result = match cli.command {
        Command::Demo(a) => cmd::demo::run(a),
        Command::Sim(a) => cmd::sim::run(a),
        Command::State(a) => cmd::state::run(a),
        Command::Compare(a) => cmd::compare::run(a),
        Command::Params(a) => cmd::params::run(a),
        Command::Stimulus(a) => cmd::stimulus::run(a),
        Command::Plot(a) => cmd::plot::run(a),
        Command::Report(a) => cmd::report::run(a),
        Command::Bench(a) => cmd::bench::run(a),
        Command::Gen(a) => cmd::gen::run(a),
        Command::Cosim(a) => cmd::cosim::run(a),
        Command::Run(a) => cmd::run::run(a),
        Command::Synth(a) => cmd::synth::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
