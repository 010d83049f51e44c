//! `synforge run`: drive a board (or the Verilator model of its top) over the host protocol,
//! step by step, with the bit-accurate model beside it.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use synforge_rtl::core::REGION_WEIGHTS;
use synforge_rtl::cycles::{self, Shape};
use synforge_rtl::protocol::Host;
use synforge_rtl::Layout;
use synforge_sim::model::{FixedModel, Model};
use synforge_sim::{Network, Stimulus};

use super::load;
use crate::output::write_file;
use crate::{Source, UsageError};

/// Arguments of `synforge run`.
#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    src: Source,
    /// The board (a name under boards/, as `synforge synth --board` took).
    #[arg(long)]
    board: Option<String>,
    /// Its serial port, e.g. /dev/ttyUSB1.
    #[arg(long)]
    port: Option<String>,
    /// UART baud rate the board top was synthesized for.
    #[arg(long, default_value_t = 115_200)]
    baud: u32,
    /// Instead of a board: the Verilator model of the same board top (built under --out).
    #[arg(long)]
    sim: bool,
    /// Output folder: spikes.csv, steps.csv, and the simulated top's build [default:
    /// build/run/<network>].
    #[arg(long, short)]
    out: Option<PathBuf>,
}

/// `synforge run`.
pub fn run(a: RunArgs) -> Result<ExitCode> {
    let (net, stim) = load(&a.src)?;
    let out =
        a.out.clone().unwrap_or_else(|| PathBuf::from("build/run").join(&net.cfg.network.name));
    crate::output::check_out_dir("--out", &out)?;
    // A network no device holds is refused before anything is made.
    super::gen::design_files(&net)?;
    Layout::new(&net).map_err(|e| UsageError(e.to_string()))?;
    if a.sim {
        if a.port.is_some() {
            return Err(UsageError("--sim and --port exclude each other: choose one".into()).into());
        }
        let tools = synforge_rtl::tools::Tools::locate()?;
        crate::output::build_dir("--out", &out)?;
        let board = synforge_rtl::simboard::SimBoard::build(&net, &out.join("sim"), &tools)?;
        let host = board.connect()?;
        println!("run {}: the Verilator model of the board top", net.cfg.network.name);
        return drive(host, &net, &stim, &out);
    }
    let (Some(board), Some(port)) = (&a.board, &a.port) else {
        return Err(UsageError("give --board B and --port /dev/ttyX, or --sim".into()).into());
    };
    synforge_rtl::board::Board::builtin(board).map_err(|e| UsageError(e.to_string()))?;
    let link = crate::serial::open(port, a.baud)?;
    println!("run {} on {board} at {port}, {} baud", net.cfg.network.name, a.baud);
    drive(Host::new(link), &net, &stim, &out)
}

fn drive<L: std::io::Read + std::io::Write>(
    mut host: Host<L>,
    net: &Network,
    stim: &Stimulus,
    out: &std::path::Path,
) -> Result<ExitCode> {
    let (m, n) = (net.inputs(), net.neurons());
    let (hi, hn) = host.ping().context("ping")?;
    if (hi as usize, hn as usize) != (m, n) {
        return Err(UsageError(format!(
            "the board's core has {hi} inputs x {hn} neurons, the config {m} x {n}: synthesize this config first"
        ))
        .into());
    }
    crate::output::build_dir("--out", out)?;
    let t0 = Instant::now();
    for r in Layout::new(net).map_err(|e| UsageError(e.to_string()))?.regs {
        host.write(r.index, r.value as u32)?;
    }
    host.write(0, 1)?;
    let w0 = FixedModel::new(net).weights_raw();
    for j in 0..n {
        for i in 0..m {
            host.write(REGION_WEIGHTS << 28 | (j * m + i) as u32, w0[i * n + j] as u32)?;
        }
    }
    let load = t0.elapsed().as_secs_f64();
    let mut model = FixedModel::with_weights(net, &w0);
    let shape = Shape::of(net);
    let h = &net.cfg.homeostasis;
    let mut spikes_csv = String::from("step,neuron\n");
    let mut steps_csv = String::from("step,cycles\n");
    let (mut mismatches, mut first, mut total_spikes) = (0u64, None, 0usize);
    let t1 = Instant::now();
    for t in 0..stim.steps() {
        let (cyc, got) = host.step(stim.at(t))?;
        let want: Vec<u32> = model.step(stim.at(t)).to_vec();
        let scaling = h.scaling && (t + 1) % h.scaling_period_steps == 0;
        let c = cycles::step(shape, stim.at(t).len() as u64, &want, scaling).done;
        let got32: Vec<u32> = got.iter().map(|&j| j as u32).collect();
        if got32 != want || cyc as u64 != c {
            mismatches += 1;
            first.get_or_insert(format!(
                "step {t}: board spikes {got32:?} in {cyc} cycles, model {want:?} in {c} cycles"
            ));
        }
        for j in &got32 {
            spikes_csv.push_str(&format!("{t},{j}\n"));
        }
        steps_csv.push_str(&format!("{t},{cyc}\n"));
        total_spikes += got.len();
    }
    let secs = t1.elapsed().as_secs_f64();
    write_file("--out", &out.join("spikes.csv"), "spikes.csv", spikes_csv.as_bytes())?;
    write_file("--out", &out.join("steps.csv"), "steps.csv", steps_csv.as_bytes())?;
    println!(
        "  loaded parameters and {} weights in {load:.1} s; {} steps, {total_spikes} output spikes in {secs:.1} s",
        m * n,
        stim.steps()
    );
    let _ = std::io::stdout().flush();
    match first {
        None => {
            println!("  board == bit-accurate model: every step's spikes and cycle count");
            Ok(ExitCode::SUCCESS)
        }
        Some(f) => {
            println!("  MISMATCH in {mismatches} steps; first: {f}");
            Ok(ExitCode::FAILURE)
        }
    }
}
