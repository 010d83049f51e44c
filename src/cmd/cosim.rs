//! `synforge cosim`: the generated core in Verilator against the bit-accurate model.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use synforge_rtl::cosim::{Harness, Report};
use synforge_rtl::tools::Tools;
use synforge_sim::model::{FixedModel, Model, ModelKind};
use synforge_sim::state::State;
use synforge_sim::{Network, Stimulus};

use super::state::{self, Persist};
use super::{network_of, stored_from};
use crate::output::{write_file, OutFile};
use crate::{Source, UsageError};

/// Arguments of `synforge cosim`.
#[derive(Args)]
pub struct CosimArgs {
    #[command(flatten)]
    src: Source,
    /// Build folder (Verilog, testbench, Verilator objects) [default: build/cosim/<network>].
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Also write the Verilator waveform (VCD) to this file; its per-neuron signals are named
    /// as in the model's VCD (neuron_<j>.state_v_mem, ...).
    #[arg(long)]
    vcd: Option<PathBuf>,
    /// Simulate the gate-level netlist Yosys synthesizes for this family (ice40 or ecp5),
    /// with the vendor cell models, instead of the RTL.
    #[arg(long, value_parser = ["ice40", "ecp5"])]
    gates: Option<String>,
    #[command(flatten)]
    persist: Persist,
}

/// Co-simulate `stim` on `net`'s core in `dir`; print the outcome.
pub fn cosimulate(
    net: &Network,
    stim: &Stimulus,
    dir: &std::path::Path,
    vcd: Option<&std::path::Path>,
    gates: Option<synforge_rtl::board::Family>,
    from: Option<&FixedModel>,
) -> Result<Report> {
    if gates.is_some() && vcd.is_some() {
        return Err(UsageError(
            "--gates and --vcd exclude each other: the waveform is the RTL's".into(),
        )
        .into());
    }
    // Refusals first: a network no device holds, a bad place for the outputs.
    super::gen::design_files(net)?;
    let wave = vcd.map(|p| OutFile::new("--vcd", p, "cosim.vcd")).transpose()?;
    let tools = Tools::locate()?;
    crate::output::build_dir("--out", dir)?;
    let t0 = std::time::Instant::now();
    let built = match gates {
        Some(f) => Harness::build_gate_level(net, dir, f, &tools),
        None => Harness::build(net, dir, vcd.is_some(), &tools),
    };
    let mut h = built.map_err(|e| match e {
        synforge_rtl::cosim::CosimError::Gen(g) => anyhow::Error::new(UsageError(g.to_string())),
        e => e.into(),
    })?;
    let build = t0.elapsed().as_secs_f64();
    let progress = std::sync::Arc::new(super::Progress::new("cosim", stim.steps()));
    let p = progress.clone();
    h.set_progress(move |t| p.at(t));
    let r = match from {
        Some(m) => h.run_from(net, m, stim, wave.as_ref().map(OutFile::path))?,
        None => {
            h.run(net, &FixedModel::new(net).weights_raw(), stim, wave.as_ref().map(OutFile::path))?
        }
    };
    drop(h);
    drop(progress);
    if let Some(w) = wave {
        w.commit()?;
    }
    println!(
        "cosim {}{}: {} inputs x {} neurons, Verilator build {:.1} s (in {})",
        net.cfg.network.name,
        match gates {
            Some(f) => format!(" (gate-level {} netlist)", f.as_str()),
            None => String::new(),
        },
        net.inputs(),
        net.neurons(),
        build,
        dir.display()
    );
    let s = r.seconds.max(1e-9);
    println!(
        "  {} steps, {} cycles, {} input events, {} output spikes, {} synaptic updates in {:.2} s ({:.0} steps/s, {:.3e} synaptic events/s)",
        r.steps,
        r.cycles,
        r.events,
        r.spikes,
        r.synapse_updates,
        r.seconds,
        r.steps as f64 / s,
        (r.events * net.neurons() as u64 + r.spikes * net.inputs() as u64) as f64 / s
    );
    match &r.mismatch {
        None if gates.is_some() => {
            println!("  netlist == bit-accurate model: zero mismatches in values and cycles")
        }
        None => println!("  RTL == bit-accurate model: zero mismatches in values and cycles"),
        Some(m) => println!("  MISMATCH (first divergence): {m}"),
    }
    if let Some(p) = vcd {
        println!("  waveform: {}", p.display());
    }
    // The outcome as a file too, for `synforge report`.
    let json = serde_json::json!({
        "network": net.cfg.network.name,
        "inputs": net.inputs(),
        "neurons": net.neurons(),
        "netlist": gates.map(|f| f.as_str().to_string()),
        "steps": r.steps,
        "cycles": r.cycles,
        "input_events": r.events,
        "output_spikes": r.spikes,
        "synapse_updates": r.synapse_updates,
        "seconds": r.seconds,
        "verilator_build_seconds": build,
        "mismatch": r.mismatch.as_ref().map(|m| m.to_string()),
    });
    std::fs::write(dir.join("result.json"), serde_json::to_string_pretty(&json)?)?;
    Ok(r)
}

/// `synforge cosim`.
pub fn run(a: CosimArgs) -> Result<ExitCode> {
    let net = network_of(&a.src)?;
    // The core runs the bit-accurate model's integers: a float state does not load into it.
    let loaded = match &a.persist.load_state {
        Some(p) => {
            let s = State::read(p).map_err(|e| UsageError(format!("--load-state {e}")))?;
            if s.model != ModelKind::Fixed {
                return Err(UsageError(format!(
                    "--load-state {}: is the float model's state; the core holds the bit-accurate \
                     model's words: save one with `synforge sim --model fixed --save-state FILE`",
                    p.display()
                ))
                .into());
            }
            Some((state::load(p, &net, ModelKind::Fixed)?, p.clone()))
        }
        None => None,
    };
    if let Some(p) = &a.persist.save_state {
        drop(OutFile::new("--save-state", p, "state.npz")?);
    }
    if a.persist.save_state_every.is_some() {
        return Err(UsageError(
            "--save-state-every: cosim saves the state the core reads back at the end only; \
             drop --save-state-every"
                .into(),
        )
        .into());
    }
    let mut model = FixedModel::new(&net);
    let init = match &loaded {
        Some((s, p)) => state::resume(&mut model, s, p)?,
        None => state::weights_of(&model),
    };
    let stim = stored_from(&net, &a.src, model.time())?;
    let dir = a.out.unwrap_or_else(|| PathBuf::from("build/cosim").join(&net.cfg.network.name));
    let gates = match a.gates.as_deref() {
        Some("ice40") => Some(synforge_rtl::board::Family::Ice40),
        Some(_) => Some(synforge_rtl::board::Family::Ecp5),
        None => None,
    };
    let from = loaded.as_ref().map(|_| &model);
    let r = cosimulate(&net, &stim, &dir, a.vcd.as_deref(), gates, from)?;
    if r.mismatch.is_some() {
        return Ok(ExitCode::FAILURE);
    }
    if let (Some(p), Some((step, q))) = (&a.persist.save_state, r.state.clone()) {
        let s = State::from_quantities(&net, ModelKind::Fixed, step, q, init);
        write_file("--save-state", p, "state.npz", &s.to_bytes()?)?;
        println!("  wrote {} (the state the core read back after step {step})", p.display());
    }
    Ok(ExitCode::SUCCESS)
}
