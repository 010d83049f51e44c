//! `synforge stimulus`: write the generated stimulus as CSV, for other tools and simulators.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::load;
use crate::output::Staged;
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
    let dir =
        a.out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let name = a
        .out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "stimulus.csv".into());
    let mut s = Staged::new(dir)?;
    s.write(&name, stim.to_csv().as_bytes())?;
    s.commit()?;
    println!(
        "wrote {} spikes over {} steps to {}",
        stim.total_spikes(),
        stim.steps(),
        a.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
