//! `synforge demo`: the Quick start's main job on the built-in default network.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use synforge_sim::compare::Distance;
use synforge_sim::model::ModelKind;
use synforge_sim::pattern::{responses, Replay, MIN_HIT_FRACTION, MIN_RATE_RATIO};

use super::compare::print_distance;
use super::sim::{print_summary, simulate};
use super::{load, neuron_list};
use crate::output::Staged;
use crate::Source;

/// Arguments of `synforge demo`.
#[derive(Args)]
pub struct DemoArgs {
    #[command(flatten)]
    src: Source,
    /// Output folder.
    #[arg(long, short, default_value = "build/demo")]
    out: PathBuf,
}

/// `synforge demo`.
pub fn run(a: DemoArgs) -> Result<ExitCode> {
    let (net, stim) = load(&a.src)?;
    crate::output::check_out_dir(&a.out)?;
    println!(
        "== {} : {} inputs x {} neurons, {} steps",
        net.cfg.network.name,
        net.inputs(),
        net.neurons(),
        stim.steps()
    );
    let probes = neuron_list("0,1", net.neurons().min(2), "--vcd")?;
    let fixed = simulate(&net, &stim, ModelKind::Fixed, &a.out.join("fixed"), Some(&probes))?;
    print_summary(&fixed.summary);
    let float = simulate(&net, &stim, ModelKind::Float, &a.out.join("float"), Some(&probes))?;
    print_summary(&float.summary);
    let d =
        Distance::between(&net, &fixed.record, &fixed.weights, &float.record, &float.weights, 2);
    print_distance(&d);
    // Learning made visible: which neurons became detectors of the embedded pattern.
    if let (None, Some(spec)) = (&a.src.stimulus, &net.cfg.stimulus.pattern) {
        let replay = Replay::of(spec, &net.cfg, &stim);
        for (name, rec) in [("fixed", &fixed.record), ("float", &float.record)] {
            let selective: Vec<usize> = responses(&replay, rec, net.neurons())
                .iter()
                .enumerate()
                .filter(|(_, r)| r.responds())
                .map(|(j, _)| j)
                .collect();
            println!(
                "{name} model: {} of {} neurons learned the embedded pattern {selective:?}",
                selective.len(),
                net.neurons()
            );
        }
        println!(
            "  (over the run's second half: spikes in >= {:.0} % of the replays, at >= {:.0}x the rate outside them)",
            100.0 * MIN_HIT_FRACTION,
            MIN_RATE_RATIO
        );
    }
    let mut s = Staged::new(&a.out)?;
    s.write("compare.json", serde_json::to_string_pretty(&d)?.as_bytes())?;
    s.commit()?;
    // The hardware: generate the core, then run the same stimulus on it in Verilator.
    let rtl = a.out.join("rtl");
    let design = super::gen::write_design(&net, &rtl)?;
    println!(
        "generated Verilog of the core ({} files, manifest.json) in {}",
        design.files.len(),
        rtl.display()
    );
    let r = super::cosim::cosimulate(&net, &stim, &a.out.join("cosim"), None, None)?;
    if r.mismatch.is_some() {
        return Ok(ExitCode::FAILURE);
    }
    // And the board: the core, a UART bridge and a PLL for the iCEBreaker, to a bitstream.
    let board =
        synforge_rtl::board::Board::builtin("icebreaker").map_err(|e| anyhow::anyhow!("{e}"))?;
    let report = super::synth::synthesize(&net, &board, None, 115_200, &a.out.join("icebreaker"))?;
    print!("{}", synforge_rtl::synth::print_table(&report));
    println!("outputs in {}", a.out.display());
    Ok(if report.pass { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
