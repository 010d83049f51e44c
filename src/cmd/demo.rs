//! `synforge demo`: the Quick start's main job on the built-in default network.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use synforge_rtl::board::Board;
use synforge_sim::compare::Distance;
use synforge_sim::model::ModelKind;
use synforge_sim::pattern::{responses, Replay, MIN_HIT_FRACTION, MIN_RATE_RATIO};
use synforge_sim::{Network, Stimulus};

use super::compare::print_distance;
use super::load;
use super::sim::{print_summary, simulate, Probes, SimResult};
use crate::output::OutDir;
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
    // Every refusal before any work: a network no device holds, a bad output folder.
    super::gen::design_files(&net)?;
    let board =
        synforge_rtl::board::Board::builtin("icebreaker").map_err(|e| anyhow::anyhow!("{e}"))?;
    let stage = OutDir::in_place("--out", &a.out)?;
    let out = stage.path();
    println!(
        "== {} : {} inputs x {} neurons, {} steps",
        net.cfg.network.name,
        net.inputs(),
        net.neurons(),
        stim.steps()
    );
    let probes: Vec<usize> = (0..net.neurons().min(2)).collect();
    let run_model = |kind, name: &str| -> Result<SimResult> {
        let dir = out.join(name);
        std::fs::create_dir(&dir)?;
        let r = simulate(
            &net,
            &mut stim.cursor(),
            kind,
            &dir,
            &Probes { vcd: Some(&probes), record: Some(&probes) },
            true,
            None,
            &Default::default(),
            &super::run_config(&net, &a.src),
        )?;
        print_summary(&r.summary);
        Ok(r)
    };
    let fixed = run_model(ModelKind::Fixed, "fixed")?;
    let float = run_model(ModelKind::Float, "float")?;
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
    std::fs::write(out.join("compare.json"), serde_json::to_string_pretty(&d)?)?;
    // The figures of each model's run (raster, receptive fields, weights) beside its files.
    let mut figures = 0;
    let (fx, fl) =
        (super::plot::Run::read(&out.join("fixed"))?, super::plot::Run::read(&out.join("float"))?);
    for run in [&fx, &fl] {
        figures += super::plot::plot_run(run, None)?.files.len();
    }
    let pairs = super::plot::plot_pair(&fx, &fl, out, None)?.len();
    println!(
        "figures: {figures} files (raster, receptive_fields, weights, weights_over_time, traces; \
         .svg and .png) in {} and {}; {pairs} of fixed beside float (fixed_float_*) in {}",
        a.out.join("fixed").display(),
        a.out.join("float").display(),
        a.out.display()
    );
    let hw = hardware(&net, &stim, &board, out);
    // The page shows what ran, a failed step's outcome too.
    let page = super::report::write(out)?;
    println!("report: {}", a.out.join(page.file_name().unwrap_or_default()).display());
    match hw {
        Ok(pass) => {
            stage.commit()?;
            println!("outputs in {}", a.out.display());
            Ok(if pass { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        // A tool that ran and failed: keep the set, with the log its message names.
        Err(e) if a_tool_failed(&e) => {
            stage.commit()?;
            Err(e)
        }
        Err(e) => Err(e),
    }
}

/// Whether `e` is a tool that ran and failed (its log is in the set), not a refusal, a missing
/// tool or a full disk.
fn a_tool_failed(e: &anyhow::Error) -> bool {
    use synforge_rtl::cosim::CosimError;
    use synforge_rtl::synth::SynthError;
    use synforge_rtl::tools::ToolError;
    e.chain().any(|c| {
        let tool = c
            .downcast_ref::<ToolError>()
            .or(match c.downcast_ref::<SynthError>() {
                Some(SynthError::Tool(t)) => Some(t),
                _ => None,
            })
            .or(match c.downcast_ref::<CosimError>() {
                Some(CosimError::Tool(t)) => Some(t),
                _ => None,
            });
        matches!(tool, Some(ToolError::Failed { .. }))
    })
}

/// Generate the core, co-simulate `stim` on it, synthesize it for `board`; whether all passed.
fn hardware(net: &Network, stim: &Stimulus, board: &Board, out: &Path) -> Result<bool> {
    let design = super::gen::write_design(net, &out.join("rtl"))?;
    println!(
        "generated Verilog of the core ({} files, manifest.json) in {}",
        design.files.len(),
        out.join("rtl").display()
    );
    let r = super::cosim::cosimulate(net, stim, &out.join("cosim"), None, None, None)?;
    if r.mismatch.is_some() {
        return Ok(false);
    }
    // And the board: the core, a UART bridge and a PLL for the iCEBreaker, to a bitstream.
    let report =
        super::synth::synthesize(net, board, None, 115_200, None, &out.join("icebreaker"))?;
    print!("{}", synforge_rtl::synth::print_table(&report));
    Ok(report.pass)
}
