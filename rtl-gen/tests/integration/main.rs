//! synforge-rtl's integration tests: generation, lint, structural checks and co-simulation
//! against the bit-accurate model, all with the real pinned tools (`scripts/tools`).

mod blocks;
mod board;
mod cosim;
mod frame;
mod fuzz;
mod gates;
mod gen;
mod random;
mod shell;

use std::path::PathBuf;

use synforge_rtl::tools::Tools;

/// The pinned tools; a test that needs them fails (never skips) when they are missing.
pub fn tools() -> Tools {
    Tools::locate().unwrap_or_else(|e| panic!("{e}"))
}

/// A build folder under the target directory, kept between runs so builds are reused.
pub fn build_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rtl").join(name)
}

/// The repository's examples folder.
pub fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples").join(name)
}
