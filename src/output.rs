//! Output files are written whole or not at all: each goes to a temporary file in the target
//! folder and is renamed into place only when every file of the set is complete.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use tempfile::NamedTempFile;

/// Refuse, as bad input, an output folder path that names an existing file.
pub fn check_out_dir(dir: &Path) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(crate::UsageError(format!(
            "--out: `{}` exists and is not a folder; choose another output folder",
            dir.display()
        ))
        .into());
    }
    Ok(())
}

/// Write one file whole or not at all: staged beside `path`, then renamed onto it. A path that
/// names no file (`..`) writes `default_name` in that folder.
pub fn write_file(path: &Path, default_name: &str, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let mut staged = Staged::new(dir)?;
    staged.write(name.as_deref().unwrap_or(default_name), bytes)?;
    staged.commit()?;
    Ok(())
}

/// A set of files staged in one folder, committed together.
pub struct Staged {
    dir: PathBuf,
    files: Vec<(NamedTempFile, PathBuf)>,
}

impl Staged {
    /// Stage files for `dir` (created if missing).
    pub fn new(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create output folder {}", dir.display()))?;
        Ok(Staged { dir: dir.to_path_buf(), files: Vec::new() })
    }

    /// A temporary file that will become `dir/name`.
    pub fn file(&mut self, name: &str) -> Result<&mut NamedTempFile> {
        let target = self.dir.join(name);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let tmp = NamedTempFile::new_in(target.parent().unwrap_or(&self.dir))
            .with_context(|| format!("cannot create a file in {}", self.dir.display()))?;
        self.files.push((tmp, target));
        Ok(&mut self.files.last_mut().expect("just pushed").0)
    }

    /// Stage `bytes` as `dir/name`.
    pub fn write(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let f = self.file(name)?;
        f.write_all(bytes).with_context(|| format!("cannot write {name}"))
    }

    /// Rename every staged file into place; returns their paths.
    pub fn commit(self) -> Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        for (tmp, target) in self.files {
            tmp.persist(&target).with_context(|| format!("cannot write {}", target.display()))?;
            out.push(target);
        }
        Ok(out)
    }
}
