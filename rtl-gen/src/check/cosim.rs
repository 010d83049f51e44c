//! Co-simulation: the generated core in Verilator against the bit-accurate model, step by
//! step and cycle by cycle.
//!
//! The harness (`testbenches/tb.v.in`, `testbenches/main.cpp`) is plain Verilog reading a
//! text command file and printing one line per memory write, output spike and step; this
//! module writes the commands, keeps a mirror of every memory from the printed writes, steps
//! [`FixedModel`] beside it and compares after every step: output spikes and their cycles, the
//! step's cycle count ([`crate::cycles`]), every neuron's state word, every input's traces and
//! every weight. At the end it reads the whole state back through the memory-mapped port and
//! compares that too. The first difference is reported exactly.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use synforge_sim::config::Network;
use synforge_sim::model::{FixedModel, Model, NeuronRaw};
use synforge_sim::Stimulus;

use synforge_sim::state::Quantity;

use crate::core::{NEURON_FIELDS, REGION_INPUTS, REGION_NEURONS, REGION_WEIGHTS};
use crate::cycles::{self, Shape};
use crate::layout::{Layout, Word, MOD_REG_INDEX};
use crate::port_state;
use crate::tools::{build_sim, ToolError, Tools};
use crate::{generate, Design, GenError};

const TB_TEMPLATE: &str = include_str!("../../../testbenches/tb.v.in");
const MAIN_CPP: &str = include_str!("../../../testbenches/main.cpp");
const TB_CLOCK: &str = include_str!("../../../testbenches/tb_clock.v");
const ECP5_MODELS: &str = include_str!("../../../testbenches/ecp5_models.v");

/// What can go wrong in a co-simulation (a mismatch is not an error: see [`Report`]).
#[derive(Debug, thiserror::Error)]
pub enum CosimError {
    /// The config cannot be built as hardware.
    #[error(transparent)]
    Gen(#[from] GenError),
    /// A tool failed or is missing.
    #[error(transparent)]
    Tool(#[from] ToolError),
    /// The board top's UART cannot run at the baud rate asked.
    #[error(transparent)]
    Top(#[from] crate::board_top::TopError),
    /// A file could not be written or read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Parameters whose hardware differs from the build's.
    #[error("the parameter set needs another build: {0}")]
    Incompatible(String),
    /// The simulation printed something the harness never prints.
    #[error("the simulation's output is not what the harness prints: {0}")]
    Protocol(String),
}

/// The first difference between the RTL and the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// Step (0-based); `None` for the final read-back.
    pub step: Option<u32>,
    /// Where: `neuron 3`, `input 7`, `synapse (input 2, neuron 5)`, `step`.
    pub place: String,
    /// Which field.
    pub field: String,
    /// What the model says.
    pub expected: String,
    /// What the RTL did.
    pub got: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.step {
            Some(t) => write!(f, "step {t}")?,
            None => f.write_str("final read-back")?,
        }
        write!(f, ", {}, {}: expected {}, got {}", self.place, self.field, self.expected, self.got)
    }
}

/// What a run showed.
#[derive(Clone, Debug)]
pub struct Report {
    /// Steps simulated (up to the mismatch, if any).
    pub steps: u32,
    /// Clock cycles of those steps.
    pub cycles: u64,
    /// Synaptic updates (synapses the plasticity phase visited).
    pub synapse_updates: u64,
    /// Input spike events.
    pub events: u64,
    /// Output spikes.
    pub spikes: u64,
    /// Wall time of the simulation, seconds.
    pub seconds: f64,
    /// The first mismatch, if any.
    pub mismatch: Option<Mismatch>,
    /// The state the memory-mapped port read back after the last step: the step and every
    /// quantity (as [`synforge_sim::model::Model::state`] names them), when the run finished.
    pub state: Option<(u32, Vec<Quantity>)>,
}

/// Everything that decides the generated hardware except the values of its registers: two
/// networks with equal keys can run on one build.
pub fn structure_key(net: &Network) -> String {
    let c = &net.cfg;
    format!(
        "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {} {} {} {} {:?} {} {:?}",
        net.fmt,
        net.rnd,
        c.plasticity.rule,
        // The rule's datapath: its terms (numbers written in it are constants of the
        // datapath) and the amplitude format; its parameters are registers.
        net.rule.as_ref().map(|r| (
            &r.text,
            r.amp,
            r.params.iter().map(|p| &p.name).collect::<Vec<_>>()
        )),
        c.plasticity.weight_dependence,
        c.traces.pairing,
        c.neuron.reset,
        c.homeostasis.adaptive_threshold,
        c.homeostasis.scaling,
        c.network.inputs,
        c.network.neurons,
        c.hardware.weight_memory,
        c.hardware.synapse_bits,
        // The per-synapse variables: formats and updates likewise.
        net.syn
            .iter()
            .map(|v| (
                &v.name,
                v.fmt,
                &v.update.text,
                v.update.amp,
                v.update.rounding,
                v.update.params.iter().map(|p| &p.name).collect::<Vec<_>>()
            ))
            .collect::<Vec<_>>()
    )
}

/// A built harness: the core of one network in Verilator.
pub struct Harness {
    dir: PathBuf,
    bin: PathBuf,
    key: String,
    layout: Layout,
    design: Design,
    progress: Option<Box<dyn Fn(u32) + Send + Sync>>,
}

/// The testbench for a layout.
pub fn testbench(l: &Layout, net: &Network) -> String {
    let mut scopes =
        String::from("`ifdef SF_VCD\n    // One scope per neuron, named as in the model's VCD.\n");
    let nw = &l.neuron_word;
    let has = |f: &str| nw.fields.iter().any(|x| x.name == f);
    for j in 0..l.neurons {
        writeln!(scopes, "    if (1) begin : neuron_{j}").unwrap();
        writeln!(scopes, "        reg [{}:0] state_v_mem = 0;", l.v_bits - 1).unwrap();
        writeln!(scopes, "        reg [{}:0] state_theta = 0;", l.theta_bits - 1).unwrap();
        writeln!(scopes, "        reg [{}:0] state_trace_y1 = 0;", l.y1_bits - 1).unwrap();
        if has("trace_y2") {
            writeln!(scopes, "        reg [{}:0] state_trace_y2 = 0;", l.y2_bits - 1).unwrap();
        }
        scopes.push_str("        reg [15:0] state_refrac = 0;\n        reg event_spike = 0;\n");
        writeln!(scopes, "        always @(posedge clk) begin\n            if (dut.nram_we && dut.nram_wa == {}) begin", crate::verilog::lit(l.neuron_index_bits, j as u64)).unwrap();
        writeln!(scopes, "                state_v_mem <= dut.nram_wd{};", nw.slice("v_mem"))
            .unwrap();
        if has("theta_a") {
            // The effective threshold, as the model's VCD shows it.
            let w = l.theta_bits;
            writeln!(scopes, "                state_theta <= (({{1'b0, dut.param_theta0}} + {{1'b0, dut.nram_wd{}}}) > {{1'b0, {{{w}{{1'b1}}}}}}) ? {{{w}{{1'b1}}}} : dut.param_theta0 + dut.nram_wd{};", nw.slice("theta_a"), nw.slice("theta_a")).unwrap();
        } else {
            scopes.push_str("                state_theta <= dut.param_theta0;\n");
        }
        writeln!(scopes, "                state_trace_y1 <= dut.nram_wd{};", nw.slice("trace_y1"))
            .unwrap();
        if has("trace_y2") {
            writeln!(
                scopes,
                "                state_trace_y2 <= dut.nram_wd{};",
                nw.slice("trace_y2")
            )
            .unwrap();
        }
        writeln!(
            scopes,
            "                state_refrac <= dut.nram_wd{};\n            end",
            nw.slice("refrac")
        )
        .unwrap();
        writeln!(scopes, "            event_spike <= out_valid && out_ready && out_index == {};\n        end\n    end", crate::verilog::lit(l.neuron_index_bits, j as u64)).unwrap();
    }
    scopes.push_str("`endif\n");
    let head =
        crate::verilog::header("//", &crate::config_hash(&net.cfg), "Co-simulation testbench.");
    format!(
        "{head}\n{}",
        TB_TEMPLATE
            .replace("@IW@", &l.input_index_bits.to_string())
            .replace("@JW@", &l.neuron_index_bits.to_string())
            .replace("@NEURONS@", &scopes)
    )
}

impl Harness {
    fn of(net: &Network, dir: &Path, bin: PathBuf, design: Design) -> Self {
        Harness {
            dir: dir.to_path_buf(),
            bin,
            key: structure_key(net),
            layout: design.layout.clone(),
            design,
            progress: None,
        }
    }

    /// Call `f(t)` as the co-simulation checks step `t` (every step: keep it cheap), for a
    /// progress display.
    pub fn set_progress(&mut self, f: impl Fn(u32) + Send + Sync + 'static) {
        self.progress = Some(Box::new(f));
    }

    /// Generate the core of `net` into `dir` and build it with its testbench in Verilator
    /// (with VCD support when `vcd`). A build already in `dir` with the same sources is reused.
    pub fn build(net: &Network, dir: &Path, vcd: bool, tools: &Tools) -> Result<Self, CosimError> {
        let (design, mut sources) = write_design(net, dir)?;
        write_if_changed(&dir.join("tb.v"), &testbench(&design.layout, net))?;
        write_if_changed(&dir.join("tb_clock.v"), TB_CLOCK)?;
        write_if_changed(&dir.join("main.cpp"), MAIN_CPP)?;
        sources.push("tb.v".into());
        sources.push("main.cpp".into());
        let srcs: Vec<&str> = sources.iter().map(String::as_str).collect();
        let (name, extra): (&str, &[&str]) =
            if vcd { ("sim_vcd", &["--trace", "+define+SF_VCD"]) } else { ("sim", &[]) };
        let bin = build_sim(tools, dir, &srcs, "tb", name, extra)?;
        Ok(Harness::of(net, dir, bin, design))
    }

    /// Like [`Harness::build`], but the core is the gate-level netlist Yosys synthesizes for
    /// `family` (`synth_ice40 -device u -dsp` or `synth_ecp5`), simulated with the vendor cell
    /// models: the check that sees synthesis/simulation disagreements. The netlist is
    /// `dir/netlist.v`, Yosys's log `dir/synth-netlist.log`.
    pub fn build_gate_level(
        net: &Network,
        dir: &Path,
        family: crate::board::Family,
        tools: &Tools,
    ) -> Result<Self, CosimError> {
        Self::build_gate_level_with(net, dir, family, tools, false)
    }

    /// [`Harness::build_gate_level`], with every multiplier that would take a DSP built from
    /// logic cells instead when `soft` (what `synforge synth` does to some when a device's DSPs
    /// run out; see [`crate::multipliers`]).
    pub fn build_gate_level_with(
        net: &Network,
        dir: &Path,
        family: crate::board::Family,
        tools: &Tools,
        soft: bool,
    ) -> Result<Self, CosimError> {
        let (design, rtl) = write_design(net, dir)?;
        let synth = match family {
            crate::board::Family::Ice40 => "synth_ice40 -device u -dsp -spram",
            // The netlist the board gets. Yosys ships no behavioural model of the ECP5
            // multiplier (MULT18X18D is only a black box in cells_bb.v) nor of the block RAM
            // (DP16KD in cells_sim.v is a black box too): testbenches/ecp5_models.v has
            // synforge's, and the copy of cells_sim.v compiled with it leaves DP16KD out.
            crate::board::Family::Ecp5 => "synth_ecp5",
        };
        // The script names the RTL's hash, so a changed design is synthesized again.
        let rtl_hash = {
            use sha2::{Digest, Sha256};
            let mut h = Sha256::new();
            for (_, text) in &design.files {
                h.update(text.as_bytes());
            }
            h.finalize().iter().map(|b| format!("{b:02x}")).collect::<String>()
        };
        let read = format!("read_verilog -sv {}", rtl.join(" "));
        let soft = if soft {
            let survey = crate::multipliers::survey_script(&read, synth, crate::TOP);
            std::fs::write(dir.join("survey.ys"), survey)?;
            let log = dir.join("survey.log");
            tools.yosys(&["-q", "-s", "survey.ys"], dir, &log, "listing the multipliers")?;
            let text = std::fs::read_to_string(dir.join(crate::multipliers::SURVEY_OUT))?;
            crate::multipliers::candidates(crate::multipliers::parse_survey(&text), family)
        } else {
            Vec::new()
        };
        let script = format!(
            "# rtl {rtl_hash}\n{}stat\n",
            crate::multipliers::script(&read, synth, crate::TOP, &soft, None)
        );
        let fresh = std::fs::read_to_string(dir.join("synth-netlist.ys")).ok().as_deref()
            == Some(script.as_str())
            && dir.join("netlist.v").exists();
        if !fresh {
            std::fs::write(dir.join("synth-netlist.ys"), &script)?;
            tools.yosys(
                &["-q", "-s", "synth-netlist.ys"],
                dir,
                &dir.join("synth-netlist.log"),
                "gate-level synthesis",
            )?;
        }
        let cells_path = crate::synth::gate_level_cells(family, tools);
        let mut cells = cells_path.to_string_lossy().into_owned();
        let mut models: Vec<String> = Vec::new();
        if family == crate::board::Family::Ecp5 {
            let text = std::fs::read_to_string(&cells_path)?;
            write_if_changed(&dir.join("ecp5_cells_sim.v"), &without_module(&text, "DP16KD")?)?;
            write_if_changed(&dir.join("ecp5_models.v"), ECP5_MODELS)?;
            cells = "ecp5_cells_sim.v".into();
            models.push("ecp5_models.v".into());
        }
        write_if_changed(&dir.join("tb.v"), &testbench(&design.layout, net))?;
        write_if_changed(&dir.join("main.cpp"), MAIN_CPP)?;
        let inc = format!(
            "-I{}",
            cells_path.parent().map(|p| p.display().to_string()).unwrap_or_default()
        );
        let mut srcs = vec!["netlist.v", cells.as_str()];
        srcs.extend(models.iter().map(String::as_str));
        srcs.extend(["tb.v", "main.cpp"]);
        let extra = ["-Wno-lint", "-Wno-style", "--no-timing", "-Wno-MULTIDRIVEN", inc.as_str()];
        let bin = build_sim(tools, dir, &srcs, "tb", "sim_gates", &extra)?;
        Ok(Harness::of(net, dir, bin, design))
    }

    /// The generated design.
    pub fn design(&self) -> &Design {
        &self.design
    }

    /// Write the command file for a run; returns its path.
    fn commands(
        &self,
        params: &Network,
        w0: &[u16],
        stim: &Stimulus,
        from: Option<&FixedModel>,
    ) -> Result<PathBuf, CosimError> {
        let l = &self.layout;
        let (m, n) = (l.inputs as usize, l.neurons as usize);
        let cmd_path = self.dir.join(format!("commands-{}.txt", std::process::id()));
        let mut c = std::io::BufWriter::new(std::fs::File::create(&cmd_path)?);
        writeln!(c, "6 0 0")?;
        for r in &Layout::new(params)?.regs {
            writeln!(c, "1 {:x} {:x}", r.index, r.value & 0xffff_ffff)?;
        }
        writeln!(c, "1 0 1")?;
        let syn = syn_start(l, params, from);
        for j in 0..n {
            for i in 0..m {
                writeln!(
                    c,
                    "1 {:x} {:x}",
                    REGION_WEIGHTS << 28 | (j * m + i) as u32,
                    expected_word(
                        l,
                        w0[i * n + j],
                        &syn.iter().map(|v| v[i * n + j]).collect::<Vec<_>>(),
                        i,
                        j
                    )
                )?;
            }
        }
        if let Some(model) = from {
            self.load_state(&mut c, params, model)?;
        }
        let t0 = from.map_or(0, |m| m.time());
        let modulator = params.modulator_format();
        // A reward task sets r from the model's own spikes: run the model first for them (the
        // core must spike as it does, which the run then checks).
        let task_r: Option<Vec<f64>> = params.cfg.stimulus.reward.as_ref().map(|_| {
            let mut m = from.cloned().unwrap_or_else(|| FixedModel::with_weights(params, w0));
            (t0..stim.steps())
                .map(|t| {
                    let r = m.next_modulator();
                    m.step(stim.at(t));
                    r
                })
                .collect()
        });
        for t in t0..stim.steps() {
            // The modulator of this step, written before it (semantics 4.3); every step, so a
            // run that goes on from a saved state needs nothing restored.
            if let Some(f) = modulator {
                let r = task_r
                    .as_ref()
                    .map_or_else(|| params.modulator_at(t), |v| v[(t - t0) as usize]);
                let raw = params.modulator_raw(r) as u64;
                writeln!(c, "1 {:x} {:x}", MOD_REG_INDEX, raw & crate::verilog::ones(f.width))?;
            }
            // Reversed, the first one twice: the core must sort and deduplicate.
            let pre = stim.at(t);
            for &i in pre.iter().rev() {
                writeln!(c, "3 {i:x} 0")?;
            }
            if let Some(&i) = pre.last() {
                writeln!(c, "3 {i:x} 0")?;
            }
            writeln!(c, "4 0 0")?;
        }
        for j in 0..n {
            for f in 0..NEURON_FIELDS.len() as u32 {
                writeln!(c, "2 {:x} 0", REGION_NEURONS << 28 | (j as u32) << 4 | f)?;
            }
        }
        for i in 0..m {
            for f in 0..3u32 {
                writeln!(c, "2 {:x} 0", REGION_INPUTS << 28 | (i as u32) << 2 | f)?;
            }
        }
        for a in 0..(m * n) as u32 {
            writeln!(c, "2 {:x} 0", REGION_WEIGHTS << 28 | a)?;
        }
        writeln!(c, "2 22 0")?; // input LFSR
        writeln!(c, "2 20 0")?; // step count
        writeln!(c, "2 21 0")?; // spikes last step
        writeln!(c, "2 25 0")?; // steps into the scaling period
        if l.sweep {
            writeln!(c, "2 {:x} 0", crate::layout::SWEEP_PHASE_REG)?; // steps into the sweep period
        }
        writeln!(c, "5 0 0")?;
        c.flush()?;
        Ok(cmd_path)
    }

    /// Commands that load `model`'s state through the memory-mapped port (after init and the
    /// weights): [`port_state::state_writes`] (docs/rtl.md §3).
    fn load_state(
        &self,
        c: &mut impl std::io::Write,
        params: &Network,
        model: &FixedModel,
    ) -> Result<(), CosimError> {
        for (addr, words) in port_state::state_writes(&self.layout, params, model) {
            for (k, w) in words.iter().enumerate() {
                writeln!(c, "1 {:x} {w:x}", addr + k as u32)?;
            }
        }
        Ok(())
    }

    /// Run `stim` with the testbench printing only step ends (no checks): the speed of the
    /// RTL simulation itself. Returns the wall time in seconds and the cycles simulated.
    pub fn run_quiet(
        &self,
        params: &Network,
        w0: &[u16],
        stim: &Stimulus,
    ) -> Result<(f64, u64), CosimError> {
        let cmd_path = self.commands(params, w0, stim, None)?;
        let start = Instant::now();
        let out = Command::new(&self.bin)
            .arg(format!("+cmd={}", cmd_path.display()))
            .arg("+quiet")
            .output()?;
        let secs = start.elapsed().as_secs_f64();
        let _ = std::fs::remove_file(&cmd_path);
        let text = String::from_utf8_lossy(&out.stdout);
        let cycles = text
            .lines()
            .filter_map(|l| l.strip_prefix("S "))
            .filter_map(|l| {
                l.split_whitespace().nth(1).and_then(|c| u64::from_str_radix(c, 16).ok())
            })
            .sum();
        if !text.lines().any(|l| l == "Q") {
            return Err(CosimError::Protocol(format!(
                "the quiet run did not finish ({})",
                out.status
            )));
        }
        Ok((secs, cycles))
    }

    /// Run `stim` on the core with the parameters of `params` and initial raw weights `w0`
    /// (input-major, as [`FixedModel::weights_raw`]), beside the model; stop at the first
    /// mismatch. `vcd`: write the waveform there (needs a harness built with VCD support).
    pub fn run(
        &self,
        params: &Network,
        w0: &[u16],
        stim: &Stimulus,
        vcd: Option<&Path>,
    ) -> Result<Report, CosimError> {
        self.run_inner(params, w0, stim, vcd, 0, None)
    }

    /// Like [`Harness::run`], from the state of `from` (a model continued from a saved state):
    /// the core is initialised, given `from`'s weights, then its whole state through the
    /// memory-mapped port, and runs `stim`'s steps from `from`'s step on. The report's `state`
    /// holds what the port reads back at the end.
    pub fn run_from(
        &self,
        params: &Network,
        from: &FixedModel,
        stim: &Stimulus,
        vcd: Option<&Path>,
    ) -> Result<Report, CosimError> {
        self.run_inner(params, &from.weights_raw(), stim, vcd, 0, Some(from))
    }

    /// Like [`Harness::run`], but the testbench holds `out_ready` low for `stall` cycles after
    /// every output spike it takes: the core must wait, losing no spike and changing no
    /// number. Values are compared as in [`Harness::run`]; cycles can only grow, so each
    /// step's `done` and each spike's cycle must be at least the cycle model's.
    pub fn run_with_backpressure(
        &self,
        params: &Network,
        w0: &[u16],
        stim: &Stimulus,
        stall: u32,
    ) -> Result<Report, CosimError> {
        self.run_inner(params, w0, stim, None, stall, None)
    }

    fn run_inner(
        &self,
        params: &Network,
        w0: &[u16],
        stim: &Stimulus,
        vcd: Option<&Path>,
        stall: u32,
        from: Option<&FixedModel>,
    ) -> Result<Report, CosimError> {
        if structure_key(params) != self.key {
            return Err(CosimError::Incompatible(
                "formats, rule choices or sizes differ from the built design".into(),
            ));
        }
        let cmd_path = self.commands(params, w0, stim, from)?;
        let l = &self.layout;
        let mut cmd = Command::new(&self.bin);
        cmd.arg(format!("+cmd={}", cmd_path.display()));
        // A step never takes more than its worst case (every neuron spiking, scaling): give
        // it twice that before calling it stuck.
        let (m, n) = (l.inputs as u64, l.neurons as u64);
        let worst = cycles::step_with_sweep(
            Shape { inputs: m, neurons: n, plastic: true, single_port: l.single_port },
            m,
            &(0..n as u32).collect::<Vec<_>>(),
            true,
            l.sweep,
        )
        .done;
        cmd.arg(format!("+maxcyc={}", 2 * worst + 1000 + n * (stall as u64 + 1)));
        if stall > 0 {
            cmd.arg(format!("+stall={stall}"));
        }
        if let Some(p) = vcd {
            cmd.arg(format!("+vcd={}", p.display()));
        }
        let start = Instant::now();
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().map_err(|e| {
            CosimError::Tool(ToolError::Spawn {
                step: "co-simulation".into(),
                program: self.bin.clone(),
                source: e,
            })
        })?;
        let out = child.stdout.take().expect("piped");
        let mut check = Checker::new(params, l, w0, from);
        let t0 = check.t;
        check.exact_cycles = stall == 0;
        let mut result = Ok(());
        for line in BufReader::with_capacity(1 << 20, out).lines() {
            let line = line?;
            let before = check.t;
            match check.line(&line, stim) {
                Ok(true) => {
                    if let (Some(p), true) = (&self.progress, check.t > before) {
                        p(check.t - 1);
                    }
                }
                Ok(false) => break,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
            if check.mismatch.is_some() {
                break;
            }
        }
        let _ = child.kill();
        let status = child.wait()?;
        let seconds = start.elapsed().as_secs_f64();
        // Kept after a mismatch, so the failing run can be replayed (`+cmd=<file>`).
        let keep = check.mismatch.is_some();
        if !keep {
            let _ = std::fs::remove_file(&cmd_path);
        }
        result?;
        if check.mismatch.is_none() && !check.finished {
            // (a stuck step is a mismatch, reported above)
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            return Err(CosimError::Protocol(format!(
                "the simulation stopped early ({status}) after step {}: {}",
                check.t,
                err.lines().last().unwrap_or("")
            )));
        }
        Ok(Report {
            steps: check.t - t0,
            state: check.readback.take(),
            cycles: check.cycles,
            synapse_updates: check.updates,
            events: check.events,
            spikes: check.spikes,
            seconds,
            mismatch: check.mismatch,
        })
    }
}

/// Generate `net`'s core into `dir` (files rewritten only where they changed); returns the
/// design and its file names.
fn write_design(net: &Network, dir: &Path) -> Result<(Design, Vec<String>), CosimError> {
    let design = generate(net, &crate::config_hash(&net.cfg))?;
    std::fs::create_dir_all(dir)?;
    for (name, text) in &design.files {
        write_if_changed(&dir.join(name), text)?;
    }
    let names = design.files.iter().map(|(n, _)| n.clone()).collect();
    Ok((design, names))
}

/// What the co-simulation writes into the reserved bits of synapse `(i, j)` (above the
/// weight and the per-synapse variables, below `synapse_bits`): a pattern the core must keep
/// through every update.
fn reserved_tag(l: &Layout, i: usize, j: usize) -> u16 {
    let Some(f) = l.synapse_word.fields.iter().find(|f| f.name == "reserved") else {
        return 0;
    };
    let bits =
        (i as u32).wrapping_mul(0x9E37).wrapping_add((j as u32).wrapping_mul(0x79B9)) ^ 0x5A5A;
    ((bits & ((1 << f.width) - 1)) << f.lsb) as u16
}

/// The whole synapse word of `(i, j)` the core must hold: the weight `w`, the per-synapse
/// variables `syn` (raw, name order) and the reserved tag.
fn expected_word(l: &Layout, w: u16, syn: &[i64], i: usize, j: usize) -> u16 {
    port_state::synapse_word(l, w, syn) as u16 | reserved_tag(l, i, j)
}

/// The per-synapse variables at the start of a run, raw, input-major: `from`'s, or their
/// initial values.
fn syn_start(l: &Layout, net: &Network, from: Option<&FixedModel>) -> Vec<Vec<i64>> {
    match from {
        Some(m) => syn_of(l, m),
        None => net.syn.iter().map(|v| vec![v.init; (l.inputs * l.neurons) as usize]).collect(),
    }
}

/// The per-synapse variables of `model`, raw, input-major: one vector per variable.
fn syn_of(l: &Layout, model: &FixedModel) -> Vec<Vec<i64>> {
    (0..l.syn_count()).map(|k| model.syn_raw(k)).collect()
}

/// The first field of the synapse word where `got` differs from `want`: its name and both
/// values (a signed variable's as signed, the reserved bits' as the tag).
fn word_diff(l: &Layout, net: &Network, want: u16, got: u64) -> Option<(String, String, String)> {
    let sw = &l.synapse_word;
    sw.fields.iter().find_map(|f| {
        let (a, b) = (field_of(want as u64, f.lsb, f.width), field_of(got, f.lsb, f.width));
        if a == b {
            return None;
        }
        let k = crate::layout::SYN_FIELDS.iter().position(|n| *n == f.name);
        let signed = k.is_some_and(|k| net.syn[k].fmt.signed);
        let show = |x: u64| if signed { sign(x, f.width).to_string() } else { x.to_string() };
        let name = match f.name {
            "reserved" => "reserved bits (as written)".to_string(),
            "weight" => "weight".to_string(),
            other => format!("{other} ({})", f.what),
        };
        Some((name, show(a), show(b)))
    })
}

fn field_of(word: u64, lsb: u32, width: u32) -> u64 {
    (word >> lsb) & crate::verilog::ones(width)
}

/// `text` (a Verilog library) without `module <name> ... endmodule` and the attribute line
/// just before it: to replace a cell library's black box with a model.
fn without_module(text: &str, name: &str) -> Result<String, CosimError> {
    let head = format!("module {name}(");
    let start = text.find(&head).ok_or_else(|| {
        CosimError::Io(std::io::Error::other(format!("the cell library has no `{head}`")))
    })?;
    let end = start
        + text[start..].find("endmodule").ok_or_else(|| {
            CosimError::Io(std::io::Error::other(format!("`{head}` has no endmodule")))
        })?
        + "endmodule".len();
    // The `(* blackbox *)` line before it goes too.
    let line_start = text[..start].trim_end().rfind('\n').map_or(0, |i| i + 1);
    let cut = if text[line_start..start].trim().starts_with("(*") { line_start } else { start };
    Ok(format!("{}{}", &text[..cut], &text[end..]))
}

/// Write `text` to `path` unless it already holds it (keeps file times, so builds are reused).
pub(crate) fn write_if_changed(path: &Path, text: &str) -> std::io::Result<()> {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text)?;
    }
    Ok(())
}

/// A field `[lsb, lsb + width)` of a word printed in hex.
fn field(hex: &str, lsb: u32, width: u32) -> Option<u64> {
    let digits: Vec<u8> = hex
        .bytes()
        .rev()
        .map(|b| (b as char).to_digit(16).map(|d| d as u8))
        .collect::<Option<_>>()?;
    let mut v = 0u64;
    for b in 0..width {
        let bit = lsb + b;
        let d = *digits.get((bit / 4) as usize).unwrap_or(&0);
        v |= ((d >> (bit % 4)) as u64 & 1) << b;
    }
    Some(v)
}

fn get(w: &Word, hex: &str, name: &str) -> u64 {
    match w.fields.iter().find(|f| f.name == name) {
        Some(f) => field(hex, f.lsb, f.width).unwrap_or(u64::MAX),
        None => 0,
    }
}

/// Follows the simulation's output and checks it against the model.
struct Checker<'a> {
    l: &'a Layout,
    net: &'a Network,
    model: FixedModel,
    shape: Shape,
    t: u32,
    neurons: Vec<String>,
    inputs: Vec<String>,
    weights: Vec<u16>,
    out: Vec<(u32, u64)>,
    cycles: u64,
    updates: u64,
    events: u64,
    spikes: u64,
    reads: Vec<(u32, u64)>,
    finished: bool,
    mismatch: Option<Mismatch>,
    /// Cycles must equal the cycle model's (else, with backpressure, be at least them).
    exact_cycles: bool,
    /// What the final read-back gave.
    readback: Option<(u32, Vec<Quantity>)>,
}

impl<'a> Checker<'a> {
    fn new(net: &'a Network, l: &'a Layout, w0: &[u16], from: Option<&FixedModel>) -> Self {
        let (m, n) = (l.inputs as usize, l.neurons as usize);
        let model = from.cloned().unwrap_or_else(|| FixedModel::with_weights(net, w0));
        let syn = syn_of(l, &model);
        let mut weights = vec![0u16; m * n];
        for i in 0..m {
            for j in 0..n {
                let vals: Vec<i64> = syn.iter().map(|v| v[i * n + j]).collect();
                weights[j * m + i] = expected_word(l, w0[i * n + j], &vals, i, j);
            }
        }
        Checker {
            l,
            net,
            model,
            shape: Shape::of(net),
            t: from.map_or(0, |m| m.time()),
            neurons: vec![String::new(); n],
            inputs: vec![String::new(); m],
            weights,
            out: Vec::new(),
            cycles: 0,
            updates: 0,
            events: 0,
            spikes: 0,
            reads: Vec::new(),
            finished: false,
            mismatch: None,
            exact_cycles: true,
            readback: None,
        }
    }

    fn differ(
        &mut self,
        step: Option<u32>,
        place: String,
        field: &str,
        expected: impl ToString,
        got: impl ToString,
    ) {
        if self.mismatch.is_none() {
            self.mismatch = Some(Mismatch {
                step,
                place,
                field: field.to_string(),
                expected: expected.to_string(),
                got: got.to_string(),
            });
        }
    }

    /// One line of output; `Ok(false)` at the end.
    fn line(&mut self, line: &str, stim: &Stimulus) -> Result<bool, CosimError> {
        let bad = || CosimError::Protocol(line.to_string());
        let mut it = line.split_whitespace();
        let tag = it.next().ok_or_else(bad)?;
        let a = it.next().map(|s| u64::from_str_radix(s, 16));
        let b = it.next();
        let num = |x: Option<Result<u64, std::num::ParseIntError>>| {
            x.and_then(Result::ok).ok_or_else(bad)
        };
        match tag {
            "O" => {
                let j = num(a)?;
                let c = u64::from_str_radix(b.ok_or_else(bad)?, 16).map_err(|_| bad())?;
                self.out.push((j as u32, c));
            }
            "N" => {
                let j = num(a)? as usize;
                *self.neurons.get_mut(j).ok_or_else(bad)? = b.ok_or_else(bad)?.to_string();
            }
            "X" => {
                let i = num(a)? as usize;
                *self.inputs.get_mut(i).ok_or_else(bad)? = b.ok_or_else(bad)?.to_string();
            }
            "W" => {
                let addr = num(a)? as usize;
                let w = u16::from_str_radix(b.ok_or_else(bad)?, 16).map_err(|_| bad())?;
                *self.weights.get_mut(addr).ok_or_else(bad)? = w;
            }
            "S" => {
                let c = u64::from_str_radix(b.ok_or_else(bad)?, 16).map_err(|_| bad())?;
                self.end_of_step(c, stim);
            }
            "R" => {
                let addr = num(a)? as u32;
                let d = u64::from_str_radix(b.ok_or_else(bad)?, 16).map_err(|_| bad())?;
                self.reads.push((addr, d));
            }
            "T" => {
                let c = u64::from_str_radix(b.ok_or_else(bad)?, 16).map_err(|_| bad())?;
                let want = "done".to_string();
                self.differ(
                    Some(self.t),
                    "step".into(),
                    "done",
                    want,
                    format!("still busy after {c} cycles"),
                );
                return Ok(false);
            }
            "Q" => {
                self.final_readback();
                self.finished = true;
                return Ok(false);
            }
            _ => return Err(bad()),
        }
        Ok(true)
    }

    fn end_of_step(&mut self, done: u64, stim: &Stimulus) {
        let t = self.t;
        let pre = stim.at(t);
        let fired: Vec<u32> = self.model.step(pre).to_vec();
        let h = &self.net.cfg.homeostasis;
        let scaling_step = h.scaling && (t + 1) % h.scaling_period_steps == 0;
        let sweep_step = self.net.sweeps_at(t);
        let want =
            cycles::step_with_sweep(self.shape, pre.len() as u64, &fired, scaling_step, sweep_step);
        self.events += pre.len() as u64;
        self.spikes += fired.len() as u64;
        self.updates += cycles::synapse_updates(self.shape, pre.len() as u64, fired.len() as u64);
        self.cycles += done;
        let got_spikes: Vec<u32> = self.out.iter().map(|o| o.0).collect();
        if got_spikes != fired {
            self.differ(
                Some(t),
                "step".into(),
                "output spikes",
                format!("{fired:?}"),
                format!("{got_spikes:?}"),
            );
        } else if self.exact_cycles && self.out != want.spikes
            || !self.exact_cycles && self.out.iter().zip(&want.spikes).any(|(g, w)| g.1 < w.1)
        {
            self.differ(
                Some(t),
                "step".into(),
                if self.exact_cycles {
                    "output spike cycles"
                } else {
                    "output spike cycles (at least)"
                },
                format!("{:?}", want.spikes),
                format!("{:?}", self.out),
            );
        } else if self.exact_cycles && done != want.done || done < want.done {
            self.differ(
                Some(t),
                "step".into(),
                if self.exact_cycles { "cycles (done)" } else { "cycles (done, at least)" },
                want.done,
                done,
            );
        }
        self.out.clear();
        let l = self.l;
        for j in 0..l.neurons as usize {
            if self.mismatch.is_some() {
                break;
            }
            let raw = self.model.neuron_raw(j);
            let hex = self.neurons[j].clone();
            self.compare_neuron(Some(t), j, &raw, |name| get(&l.neuron_word, &hex, name));
        }
        let (x1, x2) = self.model.pre_traces_raw();
        let (x1, x2) = (x1.to_vec(), x2.to_vec());
        for i in 0..l.inputs as usize {
            if self.mismatch.is_some() {
                break;
            }
            let hex = &self.inputs[i];
            let got = [
                get(&l.input_word, hex, "trace_x1"),
                get(&l.input_word, hex, "trace_x2"),
                get(&l.input_word, hex, "pre"),
            ];
            let want = [x1[i] as u64, if l.x2 { x2[i] as u64 } else { 0 }, 0];
            for (k, name) in ["trace_x1", "trace_x2", "pre"].iter().enumerate() {
                if got[k] != want[k] {
                    self.differ(Some(t), format!("input {i}"), name, want[k], got[k]);
                    break;
                }
            }
        }
        if self.mismatch.is_none() {
            let (m, n) = (l.inputs as usize, l.neurons as usize);
            let w = self.model.weights_raw();
            let syn = syn_of(l, &self.model);
            'all: for j in 0..n {
                for i in 0..m {
                    let vals: Vec<i64> = syn.iter().map(|v| v[i * n + j]).collect();
                    let want = expected_word(l, w[i * n + j], &vals, i, j);
                    let got = self.weights[j * m + i];
                    if let Some((field, a, b)) =
                        word_diff(l, self.model.network(), want, got as u64)
                    {
                        let place = format!("synapse (input {i}, neuron {j})");
                        self.differ(Some(t), place, &field, a, b);
                        break 'all;
                    }
                }
            }
        }
        self.t += 1;
    }

    fn compare_neuron(
        &mut self,
        t: Option<u32>,
        j: usize,
        raw: &NeuronRaw,
        got: impl Fn(&str) -> u64,
    ) {
        let l = self.l;
        let vmask = (1u64 << l.v_bits) - 1;
        let adaptive = self.net.cfg.homeostasis.adaptive_threshold;
        let want = [
            ("v_mem", raw.v_mem as u64 & vmask),
            ("theta_a", if adaptive { raw.theta_a } else { 0 }),
            ("trace_y1", raw.trace_y1),
            ("trace_y2", if l.y2 { raw.trace_y2 } else { 0 }),
            ("refrac", raw.refrac),
            ("count", raw.count),
            ("spiked", raw.spiked),
            ("lfsr", raw.lfsr),
        ];
        for (name, w) in want {
            let g = got(name);
            if g != w {
                let show = |x: u64| {
                    if name == "v_mem" {
                        format!("{} (raw {x:#x})", sign(x, l.v_bits))
                    } else {
                        format!("{x}")
                    }
                };
                self.differ(t, format!("neuron {j}"), name, show(w), show(g));
                return;
            }
        }
    }

    /// The read-back through the memory-mapped port after the last step.
    fn final_readback(&mut self) {
        if self.mismatch.is_some() {
            return;
        }
        let l = self.l;
        let (m, n) = (l.inputs as usize, l.neurons as usize);
        let reads = std::mem::take(&mut self.reads);
        let mut by_addr = std::collections::HashMap::new();
        for (a, d) in &reads {
            by_addr.insert(*a, *d);
        }
        let rd = |a: u32| by_addr.get(&a).copied().unwrap_or(u64::MAX);
        for j in 0..n {
            let raw = self.model.neuron_raw(j);
            self.compare_neuron(None, j, &raw, |name| {
                let f = NEURON_FIELDS.iter().position(|x| *x == name).expect("known field") as u32;
                rd(REGION_NEURONS << 28 | (j as u32) << 4 | f)
            });
        }
        let (x1, x2) = self.model.pre_traces_raw();
        let (x1, x2) = (x1.to_vec(), x2.to_vec());
        for i in 0..m {
            let got = [
                rd(REGION_INPUTS << 28 | (i as u32) << 2),
                rd(REGION_INPUTS << 28 | (i as u32) << 2 | 1),
            ];
            let want = [x1[i] as u64, if l.x2 { x2[i] as u64 } else { 0 }];
            for k in 0..2 {
                if got[k] != want[k] {
                    self.differ(
                        None,
                        format!("input {i}"),
                        ["trace_x1", "trace_x2"][k],
                        want[k],
                        got[k],
                    );
                }
            }
        }
        let w = self.model.weights_raw();
        let syn = syn_of(l, &self.model);
        for j in 0..n {
            for i in 0..m {
                let vals: Vec<i64> = syn.iter().map(|v| v[i * n + j]).collect();
                let want = expected_word(l, w[i * n + j], &vals, i, j);
                let got = rd(REGION_WEIGHTS << 28 | (j * m + i) as u32);
                if got > 0xffff {
                    let place = format!("synapse (input {i}, neuron {j})");
                    self.differ(None, place, "word", want, got);
                } else if let Some((field, a, b)) = word_diff(l, self.model.network(), want, got) {
                    self.differ(None, format!("synapse (input {i}, neuron {j})"), &field, a, b);
                }
            }
        }
        let lf = rd(0x22);
        if lf != self.model.input_lfsr() as u64 {
            self.differ(None, "inputs".into(), "input LFSR", self.model.input_lfsr(), lf);
        }
        if rd(0x20) != self.model.time() as u64 {
            self.differ(None, "core".into(), "step count", self.model.time(), rd(0x20));
        }
        let n_prev = (0..n).map(|j| self.model.neuron_raw(j).spiked).sum::<u64>();
        if rd(0x21) != n_prev {
            self.differ(None, "core".into(), "spikes last step", n_prev, rd(0x21));
        }
        let h = &self.net.cfg.homeostasis;
        let period =
            if h.scaling { (self.model.time() % h.scaling_period_steps) as u64 } else { 0 };
        if rd(0x25) != period {
            self.differ(None, "core".into(), "steps into the scaling period", period, rd(0x25));
        }
        if let (true, Some(k)) = (l.sweep, self.net.cfg.plasticity.sweep_period_steps) {
            let (want, got) = (self.model.time() % k, rd(crate::layout::SWEEP_PHASE_REG));
            if got != want as u64 {
                self.differ(None, "core".into(), "steps into the sweep period", want, got);
            }
        }
        let (step, mut q) = port_state::state_from_reads(l, self.net, &rd);
        // The reward task runs on the host, beside the model: the core holds none of it.
        q.extend(
            self.model
                .state()
                .into_iter()
                .filter(|q| synforge_sim::state::REWARD_NAMES.contains(&q.name)),
        );
        self.readback = Some((step, q));
    }
}

fn sign(x: u64, w: u32) -> i64 {
    ((x << (64 - w)) as i64) >> (64 - w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_of_hex_words() {
        assert_eq!(field("1f", 0, 4), Some(0xf));
        assert_eq!(field("1f", 4, 4), Some(0x1));
        assert_eq!(field("1f", 3, 3), Some(0b011));
        assert_eq!(field("123456789abcdef0123", 64, 12), Some(0x123));
        assert_eq!(sign(0xffff, 16), -1);
    }
}
