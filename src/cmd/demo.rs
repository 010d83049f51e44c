//! `synforge demo`: the Quick start's main job on the built-in default network.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use synforge_sim::compare::Distance;
use synforge_sim::model::ModelKind;

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
    let mut s = Staged::new(&a.out)?;
    s.write("compare.json", serde_json::to_string_pretty(&d)?.as_bytes())?;
    s.commit()?;
    println!("outputs in {}", a.out.display());
    Ok(ExitCode::SUCCESS)
}
