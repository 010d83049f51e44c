//! `synforge compare`: the measured gap between the float reference and the fixed model.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use std::io::Write;

use synforge_sim::compare::{compare_sources, Distance};

use super::load_source;
use crate::output::OutFile;
use crate::Source;

/// Arguments of `synforge compare`.
#[derive(Args)]
pub struct CompareArgs {
    #[command(flatten)]
    src: Source,
    /// Coincidence window for spike-time agreement, in steps either side.
    #[arg(long, default_value_t = 2)]
    window: u32,
    /// Also write the distance as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// Print a distance as a table.
pub fn print_distance(d: &Distance) {
    println!("float reference vs bit-accurate model, {} steps", d.steps);
    println!(
        "  output spikes            fixed {:>9}   float {:>9}",
        d.spikes_fixed, d.spikes_float
    );
    println!("  mean rate (float)        {:>10.3} Hz", d.mean_rate_float_hz);
    println!(
        "  rate error mean |max|    {:>10.3} Hz | {:.3} Hz",
        d.rate_error_mean_hz, d.rate_error_max_hz
    );
    println!("  spike-count error        {:>10.2} % of float spikes", 100.0 * d.rate_error_rel);
    println!("  spike agreement (±{} st)  {:>10.3}", d.window_steps, d.spike_agreement);
    println!(
        "  final weight RMSE        {:>10.5} ({:.2} % of w_max - w_min)",
        d.weight_rmse,
        100.0 * d.weight_rmse_rel
    );
    println!("  final weight correlation {:>10.4}", d.weight_correlation);
}

/// `synforge compare`.
pub fn run(a: CompareArgs) -> Result<ExitCode> {
    let json = a.json.as_deref().map(|p| OutFile::new("--json", p, "compare.json")).transpose()?;
    let (net, mut fixed_src) = load_source(&a.src)?;
    let (_, mut float_src) = load_source(&a.src)?;
    let mut progress = super::Progress::new("compare", fixed_src.steps());
    let d = compare_sources(&net, fixed_src.as_mut(), float_src.as_mut(), a.window, &mut progress);
    print_distance(&d);
    if let Some(mut f) = json {
        f.writer().write_all(serde_json::to_string_pretty(&d)?.as_bytes())?;
        f.commit()?;
    }
    Ok(ExitCode::SUCCESS)
}
