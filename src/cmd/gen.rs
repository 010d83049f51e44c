//! `synforge gen`: the core's Verilog and its manifest.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use synforge_rtl::tools::{lint, yosys_check, Tools};
use synforge_sim::{Config, Network};

use crate::output::OutDir;
use crate::{usage, UsageError};

/// Arguments of `synforge gen`.
#[derive(Args)]
pub struct GenArgs {
    /// Network config (TOML); the built-in default without it.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Output folder [default: build/gen/<network>].
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Also lint the Verilog (verilator --lint-only -Wall) and check it with Yosys
    /// (hierarchy -check; proc; check -assert: no latch, no undriven signal); logs in the folder.
    #[arg(long)]
    check: bool,
}

/// Load the config (or the default) and build its network.
pub fn network(config: Option<&Path>) -> Result<Network> {
    let cfg = match config {
        Some(p) => Config::load(p).map_err(usage)?,
        None => Config::builtin_default(),
    };
    cfg.build().map_err(usage)
}

/// Generate `net` into `out`: the Verilog files and `manifest.json`, all or nothing,
/// replacing what an earlier `gen` wrote there.
pub fn write_design(net: &Network, out: &Path) -> Result<synforge_rtl::Design> {
    let (design, files) = design_files(net)?;
    let stage = OutDir::new("--out", out)?;
    write_files(stage.path(), &files)?;
    stage.commit()?;
    Ok(design)
}

/// The core's design and its files (Verilog, manifest, layout, FuseSoC core), or the refusal
/// of a network no device holds.
pub fn design_files(net: &Network) -> Result<(synforge_rtl::Design, Vec<(String, String)>)> {
    let hash = synforge_rtl::config_hash(&net.cfg);
    let design = synforge_rtl::generate(net, &hash).map_err(|e| UsageError(e.to_string()))?;
    let mut files = design.files.clone();
    let manifest = synforge_rtl::manifest::manifest(net, &design, &hash);
    files.push(("manifest.json".into(), serde_json::to_string_pretty(&manifest)? + "\n"));
    files.push(("layout.md".into(), synforge_rtl::manifest::layout_markdown(&design)));
    files.push((
        "synforge_core.core".into(),
        synforge_rtl::manifest::fusesoc_core(&design, &net.cfg.network.name),
    ));
    Ok((design, files))
}

/// Write `files` (name, text) into `dir`.
pub fn write_files(dir: &Path, files: &[(String, String)]) -> Result<()> {
    for (name, text) in files {
        std::fs::write(dir.join(name), text).with_context(|| format!("cannot write {name}"))?;
    }
    Ok(())
}

/// `synforge gen`.
pub fn run(a: GenArgs) -> Result<ExitCode> {
    let net = network(a.config.as_deref())?;
    let out = a.out.unwrap_or_else(|| PathBuf::from("build/gen").join(&net.cfg.network.name));
    let design = write_design(&net, &out)?;
    let l = &design.layout;
    println!(
        "generated {} ({} inputs x {} neurons, {} synapses) in {}: {} Verilog files, manifest.json, layout.md, synforge_core.core (FuseSoC)",
        synforge_rtl::TOP,
        l.inputs,
        l.neurons,
        l.inputs as u64 * l.neurons as u64,
        out.display(),
        design.files.len()
    );
    if a.check {
        let tools = Tools::locate()?;
        let files: Vec<&str> = design.files.iter().map(|(n, _)| n.as_str()).collect();
        lint(&tools, &out, &files, None, synforge_rtl::TOP).context("lint")?;
        println!("verilator --lint-only -Wall: clean");
        yosys_check(&tools, &out, &files, synforge_rtl::TOP).context("yosys check")?;
        println!(
            "yosys hierarchy -check; proc; check -assert: clean (no latch, no undriven signal)"
        );
    }
    Ok(ExitCode::SUCCESS)
}
