//! `synforge run`: drive a board (or the Verilator model of its top) over the host protocol,
//! step by step, with the bit-accurate model beside it.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use synforge_rtl::core::REGION_WEIGHTS;
use synforge_rtl::cycles::{self, Shape};
use synforge_rtl::port_state;
use synforge_rtl::protocol::{max_burst_write, Host};
use synforge_rtl::Layout;
use synforge_sim::model::{FixedModel, Model, ModelKind};
use synforge_sim::state::{State, Values};
use synforge_sim::{Network, Stimulus};

use super::state::{self, Persist};
use super::{network_of, stored_from};
use crate::output::write_file;
use crate::{Source, UsageError};

/// Arguments of `synforge run`.
#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    src: Source,
    /// The board (a name under boards/, as `synforge synth --board` took).
    #[arg(long)]
    board: Option<String>,
    /// Its serial port, e.g. /dev/ttyUSB1.
    #[arg(long)]
    port: Option<String>,
    /// UART baud rate the board top was synthesized for.
    #[arg(long, default_value_t = 115_200)]
    baud: u32,
    /// Instead of a board: the Verilator model of the same board top (built under --out).
    #[arg(long)]
    sim: bool,
    /// Output folder: spikes.csv, steps.csv, and the simulated top's build [default:
    /// build/run/<network>].
    #[arg(long, short)]
    out: Option<PathBuf>,
    #[command(flatten)]
    persist: Persist,
}

/// `synforge run`.
pub fn run(a: RunArgs) -> Result<ExitCode> {
    let net = network_of(&a.src)?;
    if a.persist.save_state_every.is_some() {
        return Err(UsageError(
            "--save-state-every: run reads the board's state back at the end only; drop \
             --save-state-every"
                .into(),
        )
        .into());
    }
    let mut model = FixedModel::new(&net);
    let init = match &a.persist.load_state {
        Some(p) => {
            let s = State::read(p).map_err(|e| UsageError(format!("--load-state {e}")))?;
            if s.model != ModelKind::Fixed {
                return Err(UsageError(format!(
                    "--load-state {}: is the float model's state; the board holds the \
                     bit-accurate model's words: save one with `synforge sim --model fixed \
                     --save-state FILE`",
                    p.display()
                ))
                .into());
            }
            let s = state::load(p, &net, ModelKind::Fixed)?;
            state::resume(&mut model, &s, p)?
        }
        None => state::weights_of(&model),
    };
    if let Some(p) = &a.persist.save_state {
        drop(crate::output::OutFile::new("--save-state", p, "state.npz")?);
    }
    let stim = stored_from(&net, &a.src, model.time())?;
    let persist = Resume { model, init, save: a.persist.save_state.clone() };
    let out =
        a.out.clone().unwrap_or_else(|| PathBuf::from("build/run").join(&net.cfg.network.name));
    crate::output::check_out_dir("--out", &out)?;
    // A network no device holds is refused before anything is made.
    super::gen::design_files(&net)?;
    Layout::new(&net).map_err(|e| UsageError(e.to_string()))?;
    if a.sim {
        if a.port.is_some() {
            return Err(UsageError("--sim and --port exclude each other: choose one".into()).into());
        }
        let tools = synforge_rtl::tools::Tools::locate()?;
        crate::output::build_dir("--out", &out)?;
        let board = synforge_rtl::simboard::SimBoard::build(&net, &out.join("sim"), &tools)?;
        let host = board.connect()?;
        println!("run {}: the Verilator model of the board top", net.cfg.network.name);
        return drive(host, &net, &stim, &out, persist);
    }
    let (Some(board), Some(port)) = (&a.board, &a.port) else {
        return Err(UsageError("give --board B and --port /dev/ttyX, or --sim".into()).into());
    };
    synforge_rtl::board::Board::builtin(board).map_err(|e| UsageError(e.to_string()))?;
    let link = crate::serial::open(port, a.baud)?;
    println!("run {} on {board} at {port}, {} baud", net.cfg.network.name, a.baud);
    drive(Host::new(link), &net, &stim, &out, persist)
}

/// Where a run starts (a fresh or a loaded model) and where its final state goes.
struct Resume {
    model: FixedModel,
    init: Values,
    save: Option<PathBuf>,
}

fn drive<L: std::io::Read + std::io::Write>(
    mut host: Host<L>,
    net: &Network,
    stim: &Stimulus,
    out: &std::path::Path,
    resume: Resume,
) -> Result<ExitCode> {
    let (m, n) = (net.inputs(), net.neurons());
    let (hi, hn) = host.ping().context("ping")?;
    if (hi as usize, hn as usize) != (m, n) {
        return Err(UsageError(format!(
            "the board's core has {hi} inputs x {hn} neurons, the config {m} x {n}: synthesize this config first"
        ))
        .into());
    }
    crate::output::build_dir("--out", out)?;
    let t0 = Instant::now();
    for r in Layout::new(net).map_err(|e| UsageError(e.to_string()))?.regs {
        host.write(r.index, r.value as u32)?;
    }
    host.write(0, 1)?;
    let l = Layout::new(net).map_err(|e| UsageError(e.to_string()))?;
    let per_frame = max_burst_write(m as u32);
    let mut model = resume.model;
    host.write_burst(REGION_WEIGHTS << 28, &port_state::weight_words(&l, &model), per_frame)?;
    // A loaded state: every neuron and input word and the status registers, in bursts.
    if model.time() > 0 {
        for (addr, words) in port_state::state_writes(&l, net, &model) {
            host.write_burst(addr, &words, per_frame)?;
        }
    }
    let load = t0.elapsed().as_secs_f64();
    let t_first = model.time();
    let shape = Shape::of(net);
    let h = &net.cfg.homeostasis;
    let mut spikes_csv = String::from("step,neuron\n");
    let mut steps_csv = String::from("step,cycles\n");
    let (mut mismatches, mut first, mut total_spikes) = (0u64, None, 0usize);
    let t1 = Instant::now();
    let modulated = net.modulator_format().is_some();
    for t in t_first..stim.steps() {
        // A rule that reads the modulator: each step's frame carries it (0x06), and the core
        // sets its register before the step (semantics 4.3).
        let (cyc, got) = if modulated {
            host.step_mod(net.modulator_raw(model.next_modulator()) as u16, stim.at(t))?
        } else {
            host.step(stim.at(t))?
        };
        let want: Vec<u32> = model.step(stim.at(t)).to_vec();
        let scaling = h.scaling && (t + 1) % h.scaling_period_steps == 0;
        let c = cycles::step_with_sweep(
            shape,
            stim.at(t).len() as u64,
            &want,
            scaling,
            net.sweeps_at(t),
        )
        .done;
        let got32: Vec<u32> = got.iter().map(|&j| j as u32).collect();
        if got32 != want || cyc as u64 != c {
            mismatches += 1;
            first.get_or_insert(format!(
                "step {t}: board spikes {got32:?} in {cyc} cycles, model {want:?} in {c} cycles"
            ));
        }
        for j in &got32 {
            spikes_csv.push_str(&format!("{t},{j}\n"));
        }
        steps_csv.push_str(&format!("{t},{cyc}\n"));
        total_spikes += got.len();
    }
    let secs = t1.elapsed().as_secs_f64();
    // The board's whole state, read back in bursts: it must be the model's.
    let mut readback = None;
    if let Some(path) = &resume.save {
        let t2 = Instant::now();
        let mut by_addr = std::collections::HashMap::new();
        let mut words = 0;
        for (addr, count) in port_state::state_reads(&l) {
            for (k, w) in host.read_burst(addr, count)?.into_iter().enumerate() {
                by_addr.insert(addr + k as u32, w as u64);
            }
            words += count;
        }
        let (step, mut q) = port_state::state_from_reads(&l, net, &|a| by_addr[&a]);
        // The reward task runs on the host, beside the model: the board holds none of it.
        let (task, want): (Vec<_>, Vec<_>) = model
            .state()
            .into_iter()
            .partition(|q| synforge_sim::state::REWARD_NAMES.contains(&q.name));
        if (step, &q) != (model.time(), &want) {
            mismatches += 1;
            first.get_or_insert(format!(
                "the state read back after step {step} differs from the model's after step {}",
                model.time()
            ));
        }
        q.extend(task);
        let s = State::from_quantities(net, ModelKind::Fixed, step, q, resume.init.clone());
        write_file("--save-state", path, "state.npz", &s.to_bytes()?)?;
        readback = Some(format!(
            "  read the state back ({words} words in bursts) in {:.1} s: wrote {} (after step {step})",
            t2.elapsed().as_secs_f64(),
            path.display()
        ));
    }
    write_file("--out", &out.join("spikes.csv"), "spikes.csv", spikes_csv.as_bytes())?;
    write_file("--out", &out.join("steps.csv"), "steps.csv", steps_csv.as_bytes())?;
    println!(
        "  loaded parameters and {} weights in {load:.1} s; {} steps, {total_spikes} output spikes in {secs:.1} s",
        m * n,
        stim.steps() - t_first
    );
    if let Some(r) = readback {
        println!("{r}");
    }
    let _ = std::io::stdout().flush();
    match first {
        None => {
            println!("  board == bit-accurate model: every step's spikes and cycle count");
            Ok(ExitCode::SUCCESS)
        }
        Some(f) => {
            println!("  MISMATCH in {mismatches} steps; first: {f}");
            Ok(ExitCode::FAILURE)
        }
    }
}
