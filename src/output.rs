//! Outputs are written whole or not at all.
//!
//! A result set (`sim`'s folder, `demo`'s, `gen`'s, a single `--json` file) is staged in a
//! hidden folder or file beside its target, in the nearest folder that already exists, and
//! renamed into place only when complete, replacing the previous set as a whole. Nothing is
//! created before that: not the target, not its parents. A run interrupted by SIGINT, SIGTERM
//! or SIGHUP removes what it staged and exits with status 130; a run killed outright leaves a
//! hidden `.synforge-stage-<pid>-...`, which the next run in that folder removes.
//!
//! A folder synforge writes holds a marker file, [`MARKER`]; synforge replaces or reuses only
//! folders that are empty or hold the marker, so `-o ~` refuses instead of replacing a home.
//! Build folders (`cosim`, `synth`) are reused in place, to keep their Verilator builds.
//! `demo`, whose tools print the paths of their logs, writes in place with the previous set
//! moved aside until it completes ([`OutDir::in_place`]).
//!
//! Files follow the user's umask (0666 and 0777 before it), like any other tool's.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Result;

use crate::UsageError;

/// The file that marks a folder as synforge's output.
pub const MARKER: &str = ".synforge-output";

const STAGE: &str = ".synforge-stage-";
const OLD: &str = ".synforge-old-";

/// Paths staged but not yet committed: removed if the run is interrupted.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// Previous sets moved aside by [`OutDir::in_place`], `(aside, target)`: put back if the run
/// is interrupted (after the new set is removed).
static ASIDE: Mutex<Vec<(PathBuf, PathBuf)>> = Mutex::new(Vec::new());

fn pending() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

fn aside() -> std::sync::MutexGuard<'static, Vec<(PathBuf, PathBuf)>> {
    ASIDE.lock().unwrap_or_else(|e| e.into_inner())
}

fn forget(path: &Path) {
    pending().retain(|p| p != path);
}

fn remove(path: &Path) {
    let _ = fs::remove_dir_all(path).or_else(|_| fs::remove_file(path));
}

/// On SIGINT, SIGTERM or SIGHUP: remove every staged output and exit with status 130. A
/// commit in progress finishes first (it holds the same lock), so a set is either in place
/// whole or gone.
pub fn remove_staged_on_interrupt() {
    let installed = ctrlc::set_handler(|| {
        let staged = pending();
        for p in staged.iter() {
            remove(p);
        }
        for (from, to) in aside().iter() {
            restore(from, to);
        }
        eprintln!("interrupted: unfinished outputs removed");
        std::process::exit(130);
    });
    if let Err(e) = installed {
        eprintln!("warning: cannot catch interrupts ({e}); an interrupted run may leave a hidden .synforge-stage-* behind");
    }
}

fn usage(message: String) -> anyhow::Error {
    UsageError(message).into()
}

/// An error writing at `path` as bad input when it is the user's choice of place (a folder that
/// is a file, no permission, a read-only file system), else as it is.
fn place_error(flag: &str, path: &Path, e: io::Error) -> anyhow::Error {
    use io::ErrorKind::*;
    let fix = match e.kind() {
        PermissionDenied | ReadOnlyFilesystem => "choose a place you can write",
        NotADirectory | AlreadyExists | IsADirectory | NotFound | InvalidInput => {
            "choose another output path"
        }
        _ => return anyhow::Error::new(e).context(format!("cannot write {}", path.display())),
    };
    usage(format!("{flag}: cannot write `{}` ({e}); {fix}", path.display()))
}

/// The nearest existing ancestor of `target` (`.` for a relative path with none), which must
/// be a folder.
fn anchor(flag: &str, target: &Path) -> Result<PathBuf> {
    let mut dir = target.parent();
    while let Some(d) = dir {
        let d = if d.as_os_str().is_empty() { Path::new(".") } else { d };
        match fs::metadata(d) {
            Ok(m) if m.is_dir() => return Ok(d.to_path_buf()),
            Ok(_) => {
                return Err(usage(format!(
                    "{flag}: `{}` is a file, so `{}` cannot be made inside it; choose another output path",
                    d.display(),
                    target.display()
                )))
            }
            Err(_) => dir = d.parent(),
        }
    }
    Ok(PathBuf::from("."))
}

/// Whether the process `pid` is alive.
fn alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        // SAFETY: kill with signal 0 only checks that the process exists.
        let r = unsafe { libc::kill(pid as libc::pid_t, 0) };
        r == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// This machine's name, so that a folder shared between machines (or containers with their
/// own process numbers) is swept only of its own runs' stages.
fn host() -> String {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: gethostname writes at most buf.len() bytes into buf.
        if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0 {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            let name: String = String::from_utf8_lossy(&buf[..end])
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            return name;
        }
    }
    "host".into()
}

/// Remove the stages that runs of this machine killed outright left in `dir`. Previous sets
/// that a killed `demo` had moved aside (`.synforge-old-*`) are left for the user: they may be
/// the last complete results.
fn sweep(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let mine = format!("{STAGE}{}-", host());
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(&mine) else { continue };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|p| p != std::process::id() && !alive(p)) {
            remove(&e.path());
        }
    }
}

fn unique(dir: &Path, prefix: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let n = N.fetch_add(1, Ordering::Relaxed);
    dir.join(format!("{prefix}{}-{}-{nanos}-{n}", host(), std::process::id()))
}

/// Put a set moved aside back in place of `target`: the new set is renamed out of the way
/// first (so nothing writing into it can stop the restore), then removed.
fn restore(aside: &Path, target: &Path) {
    let trash = target
        .parent()
        .map(|p| unique(if p.as_os_str().is_empty() { Path::new(".") } else { p }, STAGE));
    if let Some(trash) = trash.filter(|_| target.exists()) {
        if fs::rename(target, &trash).is_ok() {
            remove(&trash);
        }
    }
    let _ = fs::rename(aside, target);
}

/// `target` itself when it is no symbolic link, else the path it leads to (so that the set is
/// staged and renamed beside the real folder or file, not over the link).
fn real(target: &Path) -> PathBuf {
    match fs::symlink_metadata(target) {
        Ok(m) if m.file_type().is_symlink() => {
            fs::canonicalize(target).unwrap_or_else(|_| target.to_path_buf())
        }
        _ => target.to_path_buf(),
    }
}

/// Refuse, as bad input, an output folder that is a file, or that holds files synforge did not
/// write (it would be replaced or mixed with them).
pub fn check_out_dir(flag: &str, dir: &Path) -> Result<()> {
    if dir.file_name().is_none() {
        return Err(usage(format!(
            "{flag}: `{}` names no folder of its own; give a new folder's name, e.g. {}/out",
            dir.display(),
            dir.display()
        )));
    }
    match fs::metadata(dir) {
        Ok(m) if !m.is_dir() => Err(usage(format!(
            "{flag}: `{}` exists and is not a folder; choose another output folder",
            dir.display()
        ))),
        Ok(_) => {
            let foreign = fs::read_dir(dir)
                .map_err(|e| place_error(flag, dir, e))?
                .flatten()
                .next()
                .is_some()
                && !dir.join(MARKER).exists();
            if foreign {
                return Err(usage(format!(
                    "{flag}: `{}` holds files synforge did not write; choose a new or empty folder",
                    dir.display()
                )));
            }
            Ok(())
        }
        Err(_) => anchor(flag, dir).map(|_| ()),
    }
}

fn create_dir(flag: &str, dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| place_error(flag, dir, e))
}

fn write_marker(dir: &Path) -> Result<()> {
    let text = format!(
        "written by synforge {}; synforge replaces this folder's contents on its next run\n",
        env!("CARGO_PKG_VERSION")
    );
    fs::write(dir.join(MARKER), text)?;
    Ok(())
}

/// A build folder, reused in place (`cosim`, `synth`): checked, created, marked.
pub fn build_dir(flag: &str, dir: &Path) -> Result<()> {
    check_out_dir(flag, dir)?;
    create_dir(flag, dir)?;
    write_marker(dir)
}

/// A result folder being staged; [`OutDir::commit`] puts it in place.
pub struct OutDir {
    flag: String,
    target: PathBuf,
    stage: PathBuf,
    /// In place: the previous set, moved aside until the commit.
    previous: Option<PathBuf>,
    /// In place: folders made above the target, innermost first.
    made: Vec<PathBuf>,
}

impl OutDir {
    /// Stage a result folder for `target`; `flag` names the option in messages.
    pub fn new(flag: &str, target: &Path) -> Result<Self> {
        check_out_dir(flag, target)?;
        let target = &real(target);
        let base = anchor(flag, target)?;
        sweep(&base);
        let stage = unique(&base, STAGE);
        let mut p = pending();
        fs::create_dir(&stage).map_err(|e| place_error(flag, &base, e))?;
        p.push(stage.clone());
        Ok(OutDir {
            flag: flag.to_string(),
            target: target.to_path_buf(),
            stage,
            previous: None,
            made: Vec::new(),
        })
    }

    /// A result folder written where it will stay, for sets whose tools print the paths of
    /// their logs (`demo`). The previous set is moved aside, hidden, and put back if this run
    /// is refused, fails or is interrupted; the commit removes it. A run killed outright leaves
    /// its partial folder (marked, so the next run replaces it) and the hidden previous set.
    pub fn in_place(flag: &str, target: &Path) -> Result<Self> {
        check_out_dir(flag, target)?;
        let target = &real(target);
        let base = anchor(flag, target)?;
        sweep(&base);
        // The folders this run makes above the target, removed again if it does not complete.
        let made: Vec<PathBuf> = target
            .ancestors()
            .skip(1)
            .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
            .map(Path::to_path_buf)
            .collect();
        let mut p = pending();
        let previous = match target.exists() {
            true => {
                let old = unique(&base, OLD);
                fs::rename(target, &old).map_err(|e| place_error(flag, target, e))?;
                aside().push((old.clone(), target.to_path_buf()));
                Some(old)
            }
            false => None,
        };
        let created = create_dir(flag, target).and_then(|()| write_marker(target));
        p.push(target.to_path_buf());
        drop(p);
        let dir = OutDir {
            flag: flag.to_string(),
            target: target.to_path_buf(),
            stage: target.to_path_buf(),
            previous,
            made,
        };
        created.map(|()| dir)
    }

    /// Where to write the set's files until it is committed.
    pub fn path(&self) -> &Path {
        &self.stage
    }

    /// Put the set in place, replacing the previous one whole.
    pub fn commit(mut self) -> Result<PathBuf> {
        write_marker(&self.stage)?;
        if self.stage == self.target {
            let previous = self.previous.take();
            let mut p = pending();
            p.retain(|x| x != &self.target);
            aside().retain(|(from, _)| Some(from) != previous.as_ref());
            drop(p);
            if let Some(old) = previous {
                remove(&old);
            }
            let target = self.target.clone();
            std::mem::forget(self);
            return Ok(target);
        }
        let mut p = pending();
        if let Some(parent) = self.target.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_dir(&self.flag, parent)?;
        }
        let old = match self.target.exists() {
            true => Some(unique(&anchor(&self.flag, &self.target)?, OLD)),
            false => None,
        };
        if let Some(o) = &old {
            fs::rename(&self.target, o).map_err(|e| place_error(&self.flag, &self.target, e))?;
        }
        if let Err(e) = fs::rename(&self.stage, &self.target) {
            if let Some(o) = &old {
                let _ = fs::rename(o, &self.target);
            }
            return Err(place_error(&self.flag, &self.target, e));
        }
        p.retain(|x| x != &self.stage);
        drop(p);
        if let Some(o) = old {
            remove(&o);
        }
        let target = self.target.clone();
        std::mem::forget(self);
        Ok(target)
    }
}

impl Drop for OutDir {
    fn drop(&mut self) {
        let mut p = pending();
        match self.previous.take() {
            Some(old) => {
                restore(&old, &self.target);
                aside().retain(|(from, _)| from != &old);
            }
            None => remove(&self.stage),
        }
        for d in &self.made {
            let _ = fs::remove_dir(d);
        }
        p.retain(|x| x != &self.stage);
    }
}

/// One result file being staged beside its target; a device or a pipe (`/dev/stdout`, a FIFO)
/// is written directly, never renamed over.
pub struct OutFile {
    flag: String,
    target: PathBuf,
    dest: Option<Dest>,
}

enum Dest {
    Staged(tempfile::NamedTempFile),
    Direct(fs::File),
}

impl OutFile {
    /// Stage a file for `target`; `flag` names the option in messages, `example` a file name
    /// to suggest when `target` is a folder.
    pub fn new(flag: &str, target: &Path, example: &str) -> Result<Self> {
        if target.is_dir() || target.file_name().is_none() {
            return Err(usage(format!(
                "{flag}: `{}` is a folder; give a file name, e.g. {}",
                target.display(),
                target.join(example).display()
            )));
        }
        let target = &real(target);
        if fs::metadata(target).is_ok_and(|m| !m.is_file()) {
            let f = fs::OpenOptions::new()
                .write(true)
                .open(target)
                .map_err(|e| place_error(flag, target, e))?;
            let dest = Some(Dest::Direct(f));
            return Ok(OutFile { flag: flag.to_string(), target: target.to_path_buf(), dest });
        }
        // Absolute, so a tool that runs in another folder can be given the staged path.
        let base = std::path::absolute(anchor(flag, target)?)?;
        sweep(&base);
        let mut p = pending();
        let file = tempfile::Builder::new()
            .prefix(&format!("{STAGE}{}-{}-", host(), std::process::id()))
            .permissions(mode(0o666))
            .tempfile_in(&base)
            .map_err(|e| place_error(flag, &base, e))?;
        p.push(file.path().to_path_buf());
        let dest = Some(Dest::Staged(file));
        Ok(OutFile { flag: flag.to_string(), target: target.to_path_buf(), dest })
    }

    /// The file to write to.
    pub fn writer(&mut self) -> &mut fs::File {
        match self.dest.as_mut().expect("open until commit") {
            Dest::Staged(f) => f.as_file_mut(),
            Dest::Direct(f) => f,
        }
    }

    /// Where to write (for a tool that writes it by name).
    pub fn path(&self) -> &Path {
        match self.dest.as_ref().expect("open until commit") {
            Dest::Staged(f) => f.path(),
            Dest::Direct(_) => &self.target,
        }
    }

    /// Put the file in place.
    pub fn commit(mut self) -> Result<PathBuf> {
        let Some(Dest::Staged(file)) = self.dest.take() else {
            return Ok(self.target.clone());
        };
        let staged = file.path().to_path_buf();
        let mut p = pending();
        if let Some(parent) = self.target.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_dir(&self.flag, parent)?;
        }
        p.retain(|x| x != &staged);
        file.persist(&self.target).map_err(|e| place_error(&self.flag, &self.target, e.error))?;
        Ok(self.target.clone())
    }
}

impl Drop for OutFile {
    fn drop(&mut self) {
        if let Some(Dest::Staged(f)) = self.dest.take() {
            let path = f.path().to_path_buf();
            drop(f);
            forget(&path);
        }
    }
}

#[cfg(unix)]
fn mode(m: u32) -> fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    fs::Permissions::from_mode(m)
}

#[cfg(not(unix))]
fn mode(_: u32) -> fs::Permissions {
    fs::metadata(".").expect("the working folder").permissions()
}

/// Write one file whole or not at all.
pub fn write_file(flag: &str, path: &Path, example: &str, bytes: &[u8]) -> Result<PathBuf> {
    let mut f = OutFile::new(flag, path, example)?;
    f.writer().write_all(bytes).map_err(|e| place_error(flag, path, e))?;
    f.commit()
}

/// Create `dir/name` for writing, following the umask; a `sub/` in `name` is made inside
/// `dir`, which must exist (so a stage removed by an interrupt is never made again).
pub fn create(dir: &Path, name: &str) -> Result<fs::File> {
    let path = dir.join(name);
    if let Some(parent) = path.parent().filter(|p| *p != dir) {
        match fs::create_dir(parent) {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e.into()),
            _ => {}
        }
    }
    Ok(fs::File::create(&path)?)
}
