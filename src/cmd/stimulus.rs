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
    let file = OutFile::new("--out", &a.out, "stimulus.csv")?;
    let (_, mut src) = load_source(&a.src)?;
    let mut t = 0u32;
    let spikes = std::iter::from_fn(|| {
        let step = t;
        let pre = src.next_step()?.iter().map(move |&i| (step, i)).collect::<Vec<_>>();
        t += 1;
        Some(pre)
    })
    .flatten();
    let spikes = write_csv(file, spikes)?;
    println!("wrote {spikes} spikes over {t} steps to {}", a.out.display());
    Ok(ExitCode::SUCCESS)
}

/// Write `(step, input)` spikes, in order, as a stimulus CSV (`step,input`, one line per spike)
/// into `file` and put it in place; returns the number of spikes.
pub fn write_csv(mut file: OutFile, spikes: impl IntoIterator<Item = (u32, u32)>) -> Result<u64> {
    let mut w = BufWriter::new(file.writer());
    writeln!(w, "step,input")?;
    let mut n = 0u64;
    for (t, i) in spikes {
        writeln!(w, "{t},{i}")?;
        n += 1;
    }
    w.flush()?;
    drop(w);
    file.commit()?;
    Ok(n)
}
