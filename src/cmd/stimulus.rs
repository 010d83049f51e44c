//! `synforge stimulus`: write the generated stimulus as CSV, for other tools and simulators.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::load;
use crate::output::write_file;
use crate::Source;

/// Arguments of `synforge stimulus`.
#[derive(Args)]
pub struct StimulusArgs {
    #[command(flatten)]
    src: Source,
    /// The CSV file to write.
    #[arg(long, short)]
    out: PathBuf,
}

/// `synforge stimulus`.
pub fn run(a: StimulusArgs) -> Result<ExitCode> {
    let (_, stim) = load(&a.src)?;
    write_file(&a.out, "stimulus.csv", stim.to_csv().as_bytes())?;
    println!(
        "wrote {} spikes over {} steps to {}",
        stim.total_spikes(),
        stim.steps(),
        a.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
