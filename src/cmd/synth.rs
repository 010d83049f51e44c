//! `synforge synth`: the board top (core, PLL, UART bridge) through Yosys, nextpnr and the
//! packer, to a bitstream and a resource and timing report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use synforge_rtl::board::Board;
use synforge_rtl::board_top::{self, TopSpec};
use synforge_rtl::synth::{self, SynthReport, Target, Totals};
use synforge_rtl::tools::Tools;
use synforge_sim::Network;

use crate::UsageError;

/// Arguments of `synforge synth`.
#[derive(Args)]
pub struct SynthArgs {
    /// Board: a name under boards/ (icebreaker, alchitry-cu, ulx3s-12f/25f/45f/85f,
    /// orangecrab-r0.2).
    #[arg(long, short)]
    board: String,
    /// Network config (TOML); the built-in default without it.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Core clock in MHz (a PLL makes it from the board clock) [default: the board clock].
    #[arg(long)]
    freq: Option<f64>,
    /// UART baud rate of the host bridge.
    #[arg(long, default_value_t = 115_200)]
    baud: u32,
    /// Build folder [default: build/<board>/<network>].
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// nextpnr's placement seed [default: nextpnr's]. On a nearly full device Fmax moves by
    /// a megahertz or more between seeds; the report names the seed that made it.
    #[arg(long)]
    seed: Option<u64>,
}

/// Generate the top of `net` for `board` at `freq_mhz` into `out`, synthesize, place, route
/// and pack it. Returns the report (also `out/report.json`).
pub fn synthesize(
    net: &Network,
    board: &Board,
    freq_mhz: Option<f64>,
    baud: u32,
    seed: Option<u64>,
    out: &Path,
) -> Result<SynthReport> {
    let hash = synforge_rtl::config_hash(&net.cfg);
    let design = synforge_rtl::generate(net, &hash).map_err(|e| UsageError(e.to_string()))?;
    crate::output::check_out_dir("--out", out)?;
    let spec = TopSpec::for_board(board, freq_mhz, baud);
    let (top, core_hz) =
        board_top::generate(&design, &spec, &hash).map_err(|e| UsageError(e.to_string()))?;
    let (cname, ctext) = board.constraints();
    let mut files = Vec::new();
    let mut texts: Vec<(String, String)> = design.files.iter().chain(&top).cloned().collect();
    files.extend(texts.iter().map(|(n, _)| n.clone()));
    texts.push((cname.clone(), ctext));
    let manifest = synforge_rtl::manifest::manifest(net, &design, &hash);
    texts.push(("manifest.json".into(), serde_json::to_string_pretty(&manifest)? + "\n"));
    texts.push((
        "synforge_core.core".into(),
        synforge_rtl::manifest::fusesoc_core(&design, &net.cfg.network.name),
    ));
    let tools = Tools::locate()?;
    crate::output::build_dir("--out", out)?;
    super::gen::write_files(out, &texts)?;
    let r = &board.resources;
    let target = Target {
        family: board.family,
        device: board.device.clone(),
        package: board.package.clone(),
        speed: board.speed.map(u32::from),
        freq_mhz: core_hz / 1e6,
        seed,
        constraints: PathBuf::from(&cname),
        totals: Totals {
            luts: r.luts as u64,
            ffs: r.ffs as u64,
            bram: r.bram as u64,
            spram: r.spram as u64,
            dsp: r.dsp as u64,
            io: r.io as u64,
        },
    };
    let names: Vec<&str> = files.iter().map(String::as_str).collect();
    eprintln!(
        "synth {} for {} ({} {} {}), core clock {:.3} MHz{}",
        net.cfg.network.name,
        board.name,
        board.family.as_str(),
        board.device,
        board.package,
        core_hz / 1e6,
        if spec.pll.is_some() { " from the PLL" } else { "" }
    );
    Ok(synth::synthesize(&tools, out, &names, "synforge_board_top", &target)?)
}

/// `synforge synth`.
pub fn run(a: SynthArgs) -> Result<ExitCode> {
    let board = Board::builtin(&a.board).map_err(|e| UsageError(e.to_string()))?;
    if let Some(f) = a.freq {
        if !(f.is_finite() && (1.0..=400.0).contains(&f)) {
            return Err(UsageError(format!(
                "--freq: {f} MHz is not a clock this flow can make; give 1 to 400"
            ))
            .into());
        }
    }
    TopSpec::for_board(&board, a.freq, a.baud)
        .uart_divisor()
        .map_err(|e| UsageError(e.to_string()))?;
    let net = super::gen::network(a.config.as_deref())?;
    let out =
        a.out.unwrap_or_else(|| PathBuf::from("build").join(&a.board).join(&net.cfg.network.name));
    let r = synthesize(&net, &board, a.freq, a.baud, a.seed, &out)?;
    print!("{}", synth::print_table(&r));
    println!("build folder {} (report.json, logs, bitstream)", out.display());
    Ok(if r.pass { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
