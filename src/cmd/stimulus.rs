//! `synforge stimulus`: write the generated stimulus as CSV, for other tools and simulators.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use std::io::{BufWriter, Write};

use super::load_source;
use crate::output::OutFile;
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
    let mut file = OutFile::new("--out", &a.out, "stimulus.csv")?;
    let (_, mut src) = load_source(&a.src)?;
    let mut w = BufWriter::new(file.writer());
    writeln!(w, "step,input")?;
    let (mut t, mut spikes) = (0u32, 0u64);
    while let Some(pre) = src.next_step() {
        for i in pre {
            writeln!(w, "{t},{i}")?;
        }
        spikes += pre.len() as u64;
        t += 1;
    }
    w.flush()?;
    drop(w);
    file.commit()?;
    println!("wrote {spikes} spikes over {t} steps to {}", a.out.display());
    Ok(ExitCode::SUCCESS)
}
