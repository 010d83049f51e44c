//! `synforge bench`: synaptic events per second of the bit-accurate model, single thread and
//! all threads, beside the machine's measured memory read bandwidth.
//!
//! Every size runs the same workload ([`WORKLOAD`]): Poisson inputs, pair STDP, additive,
//! stochastic rounding of weights and traces. The model first runs `--warmup-steps` so that
//! the weights and the firing rate leave their start-up transient, then each thread count runs
//! its own copy of that warmed-up model for at least `--min-secs`.
//!
//! Weight traffic is counted in the bytes the model's arithmetic reads and writes (see
//! [`weight_bytes`]) and set against two read bandwidths: a 256 MiB stream (DRAM) and a buffer of
//! the weight matrix's own size, which may sit in cache as the matrix does.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Args;
use rayon::prelude::*;
use rayon::ThreadPool;
use synforge_sim::model::{FixedModel, Model};
use synforge_sim::stimulus::SpikeSource;
use synforge_sim::{Config, Network, Stimulus};

use crate::{usage, UsageError};

/// Arguments of `synforge bench`.
#[derive(Args)]
pub struct BenchArgs {
    /// Inputs of every benchmark network.
    #[arg(long, default_value_t = 1000)]
    inputs: u32,
    /// Neuron counts to measure.
    #[arg(long, value_delimiter = ',', default_value = "64,256,1024")]
    neurons: Vec<u32>,
    /// Poisson rate of every input, Hz (dt = 1 ms).
    #[arg(long, default_value_t = 20.0)]
    rate_hz: f64,
    /// Learning rules to measure: the presets `pair`, `pair-soft`, `triplet`, `triplet-soft`
    /// (`-soft`: multiplicative weight dependence), and `custom`, a rule of none of their
    /// shapes (a symmetric window with soft bounds and weight-proportional decay).
    #[arg(long, value_delimiter = ',', default_value = "pair")]
    rules: Vec<String>,
    /// Steps run before timing, so that weights and firing rate settle.
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=1_000_000), default_value_t = 3000)]
    warmup_steps: u32,
    /// Least wall time of every measurement, seconds (at least 0.5).
    #[arg(long, default_value_t = 1.0)]
    min_secs: f64,
    /// Instead: the generated core's Verilator simulation beside the bit-accurate model on the
    /// same networks (the default network and 256 x 256), as a ratio.
    #[arg(long)]
    rtl: bool,
    /// Instead: the Song, Miller & Abbott network of Brian2's STDP example
    /// (examples/song-brian2.toml: 1000 inputs, one neuron, 10^6 steps at dt 0.1 ms) in the
    /// bit-accurate model, one thread, beside Brian2 2.9's C++ standalone run of it
    /// (scripts/brian2, which installs Brian2 on first use), as a ratio.
    #[arg(long)]
    brian2: bool,
    /// Instead: synthesize growing networks for each board and write the hardware table
    /// (largest network that fits, resources, Fmax, synaptic updates per second) to this
    /// Markdown file, e.g. BENCHMARKS.md.
    #[arg(long)]
    hardware: Option<std::path::PathBuf>,
    /// Instead: the continual-learning benchmark (the 8 x 8 digits in five tasks of two
    /// classes, learned one after another): accuracy matrix, ACC and BWT, fixed and float.
    #[arg(long)]
    continual: bool,
    /// With --continual: the networks, each a row of the outcome [default:
    /// examples/continual.toml, examples/consolidation.toml and examples/continual-pair.toml,
    /// compiled in].
    #[arg(long, short = 'c', requires = "continual", num_args = 1.., action = clap::ArgAction::Append)]
    config: Vec<std::path::PathBuf>,
    /// With --continual: a shortened run, this many training samples per class (and a third
    /// as many held-out ones) [default: all, about 135 and 45].
    #[arg(long, requires = "continual", value_parser = clap::value_parser!(u32).range(1..))]
    samples_per_class: Option<u32>,
    /// With --continual: steps each sample is shown.
    #[arg(long, requires = "continual", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    present_steps: u32,
    /// With --continual: silent steps after each training sample.
    #[arg(long, requires = "continual", default_value_t = 50, value_parser = clap::value_parser!(u32).range(0..=100_000))]
    rest_steps: u32,
    /// With --continual: the rate of a pixel at full intensity (16), Hz.
    #[arg(long, requires = "continual", default_value_t = 120.0)]
    max_rate_hz: f64,
    /// With --continual: write the outcome as JSON to this file.
    #[arg(long, requires = "continual")]
    json: Option<std::path::PathBuf>,
    /// With --continual, instead of running it: write the spikes the models learn from (all
    /// five tasks' training, one after another) as a stimulus CSV (`step,input`) for
    /// `sim -s` and `cosim -s`.
    #[arg(long, requires = "continual", conflicts_with = "json")]
    training_stimulus: Option<std::path::PathBuf>,
}

/// Boards of the hardware table, with the clock each is measured against (MHz): the issue's
/// targets for the iCEBreaker and the ULX3S-85F, the board clock elsewhere.
const HW_BOARDS: &[(&str, f64)] = &[
    ("icebreaker", 32.0),
    ("alchitry-cu", 100.0),
    ("ulx3s-12f", 25.0),
    ("ulx3s-85f", 100.0),
    ("orangecrab-r0.2", 48.0),
];

/// Network sizes tried, inputs x neurons, ascending.
const HW_SIZES: &[(u32, u32)] = &[
    (64, 16),
    (64, 64),
    (128, 64),
    (128, 128),
    (256, 128),
    (256, 256),
    (512, 256),
    (1024, 256),
    (2048, 256),
];

/// How the table builds the weight RAM of an `m x n` network on `board`: `(single-port,
/// synapse word bits)`. On a device with SPRAM (the UP5K), single-port 16-bit words once they
/// outgrow a quarter of its block RAM. Elsewhere, once 16-bit words outgrow three quarters of
/// it, words as narrow as its block RAM packs densely (iCE40: 512 x 8, ECP5: 2K x 9) holding
/// a weight of that width.
fn weight_ram(board: &synforge_rtl::board::Board, m: u32, n: u32) -> (bool, u32) {
    let bits = m as u64 * n as u64 * 16;
    let bram = board.resources.bram as u64 * board.resources.bram_bits as u64;
    if board.resources.spram > 0 {
        (bits > bram / 4, 16)
    } else if bits > bram * 3 / 4 {
        match board.family {
            synforge_rtl::board::Family::Ice40 => (false, 8),
            synforge_rtl::board::Family::Ecp5 => (false, 9),
        }
    } else {
        (false, 16)
    }
}

/// `synforge bench --continual`.
fn continual(a: &BenchArgs) -> Result<ExitCode> {
    use super::continual as c;
    if !(a.max_rate_hz > 0.0 && a.max_rate_hz <= 1000.0) {
        return Err(UsageError(format!(
            "--max-rate-hz must be above 0 and at most 1000 (one spike per ms), got {}",
            a.max_rate_hz
        ))
        .into());
    }
    let cfgs = if a.config.is_empty() {
        vec![
            Config::from_toml_str(c::CONFIG, "examples/continual.toml").map_err(usage)?,
            Config::from_toml_str(c::CONFIG_CONSOLIDATION, "examples/consolidation.toml")
                .map_err(usage)?,
            Config::from_toml_str(c::CONFIG_PAIR, "examples/continual-pair.toml").map_err(usage)?,
        ]
    } else {
        a.config.iter().map(|p| Config::load(p).map_err(usage)).collect::<Result<Vec<_>>>()?
    };
    let per_class = a.samples_per_class.map(|n| n as usize);
    // The spikes depend on the first network's seed and time step alone: every network sees
    // the same ones when these agree.
    let p = c::Protocol {
        present: a.present_steps,
        rest: a.rest_steps,
        max_rate_hz: a.max_rate_hz,
        seed: cfgs[0].network.seed as u64,
    };
    if let Some(path) = &a.training_stimulus {
        if cfgs.len() > 1 && !a.config.is_empty() {
            return Err(UsageError(
                "--training-stimulus writes one network's spikes: give one -c".into(),
            )
            .into());
        }
        let cfg = &cfgs[0];
        let f = crate::output::OutFile::new("--training-stimulus", path, "train.csv")?;
        let (spikes, steps) = c::training_stimulus(cfg, per_class, &p)?;
        let n = super::stimulus::write_csv(f, spikes)?;
        println!("wrote {} ({n} spikes over {steps} steps)", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    // Every network checked before the first runs.
    let nets = cfgs.iter().map(c::check).collect::<Result<Vec<_>>>()?;
    let d = c::digits()?;
    let tasks = c::tasks(&d, per_class);
    // Staged before the run, so a bad path is refused before minutes of work.
    let json_out = match &a.json {
        Some(path) => Some(crate::output::OutFile::new("--json", path, "continual.json")?),
        None => None,
    };
    let mut runs = Vec::new();
    for (cfg, net) in cfgs.iter().zip(&nets) {
        let out = c::bench(net, &d, &tasks, &p)?;
        println!(
            "continual learning: {} ({} x {}, rule {}), 5 tasks of 2 digits, {} training and {} \
             held-out samples, each shown {} steps ({} silent after training ones) at up to {} Hz",
            cfg.network.name,
            cfg.network.inputs,
            cfg.network.neurons,
            cfg.plasticity.rule,
            tasks.iter().map(|t| t.train.len()).sum::<usize>(),
            tasks.iter().map(|t| t.test.len()).sum::<usize>(),
            p.present,
            p.rest,
            p.max_rate_hz
        );
        for o in &out {
            print!("{}", c::table(o, &tasks));
        }
        runs.push((cfg, out));
    }
    if runs.len() > 1 {
        println!("  summary (fixed | float):");
        for (cfg, out) in &runs {
            println!(
                "    {:<16} ACC {:.3} | {:.3}   BWT {:+.3} | {:+.3}   just learned {:.3} | {:.3}   \
                 untrained ACC {:.3} | {:.3}",
                cfg.network.name,
                out[0].acc(),
                out[1].acc(),
                out[0].bwt(),
                out[1].bwt(),
                out[0].learned(),
                out[1].learned(),
                out[0].untrained_acc(),
                out[1].untrained_acc()
            );
        }
    }
    if let Some(path) = &a.json {
        let j = serde_json::json!({
            "protocol": p,
            "tasks": tasks.iter().map(|t| serde_json::json!({
                "classes": t.classes, "train": t.train.len(), "test": t.test.len()
            })).collect::<Vec<_>>(),
            "runs": runs.iter().map(|(cfg, out)| serde_json::json!({
                "config": cfg.network.name,
                "rule": cfg.plasticity.rule.as_str(),
                "models": out.iter().map(c::Outcome::to_json).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        });
        let mut f = json_out.expect("staged with --json");
        std::io::Write::write_all(f.writer(), serde_json::to_string_pretty(&j)?.as_bytes())?;
        f.commit()?;
        println!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `synforge bench --hardware FILE`.
fn hardware(out_md: &std::path::Path) -> Result<ExitCode> {
    use std::fmt::Write as _;
    let mut md = String::from("# Hardware table\n\nProduced by `synforge bench --hardware BENCHMARKS.md` (Yosys 0.70, nextpnr 0.11, one\nseed). The network is the default one (pair STDP, additive, adaptive threshold, lateral\ninhibition) at growing sizes, inside the UART board top. Its weights are 10-bit in 16-bit\nsynapse words until these outgrow the block RAM; then the UP5K puts them in SPRAM, and the\nother devices take words as narrow as their block RAM packs densely (iCE40 8 bits, ECP5 9\nbits, holding a weight of that width). For each board: the largest size that fits, its\nresources and Fmax against the board's clock target, and what stops the next size. Synaptic updates per second = Fmax x updates per cycle of a step with\n2 % of the inputs and 2 % of the neurons spiking (the cycle formula of docs/rtl.md).\n\n");
    md.push_str("| board | target MHz | largest that fits | synapse words | LUT / LC | FF | block RAM | SPRAM | DSP | Fmax MHz | meets target | synaptic updates/s | next size stopped by |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    let began = std::time::Instant::now();
    for (bi, &(bname, mhz)) in HW_BOARDS.iter().enumerate() {
        let board =
            synforge_rtl::board::Board::builtin(bname).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut best: Option<((u32, u32), synforge_rtl::synth::SynthReport)> = None;
        let mut stop = String::from("all sizes tried fit");
        for (si, &(m, n)) in HW_SIZES.iter().enumerate() {
            let mut cfg = Config::builtin_default();
            cfg.network.name = format!("n{m}x{n}");
            cfg.network.inputs = m;
            cfg.network.neurons = n;
            cfg.stimulus.pattern = None;
            let (single_port, word) = weight_ram(&board, m, n);
            if single_port {
                cfg.hardware.weight_memory = synforge_sim::config::WeightMemory::SinglePort;
            }
            if word < 16 {
                cfg.formats.weight.width = word;
                cfg.formats.weight.frac = word;
                cfg.hardware.synapse_bits = word;
            }
            let net = cfg.build().map_err(usage)?;
            let dir =
                std::path::PathBuf::from("build/bench-hw").join(bname).join(&net.cfg.network.name);
            // Progress: each board and size, with the time so far (sizes stop at the first
            // that does not fit, so a board may take fewer than all of them).
            eprintln!(
                "== board {} of {}, {bname}: {m} x {n} at {mhz} MHz (size {} of at most {}; {} so far)",
                bi + 1,
                HW_BOARDS.len(),
                si + 1,
                HW_SIZES.len(),
                crate::progress::duration(began.elapsed().as_secs_f64())
            );
            let r = match super::synth::synthesize(&net, &board, Some(mhz), 115_200, None, &dir) {
                Ok(r) => r,
                Err(e) => {
                    stop = format!("{m} x {n}: {e}");
                    break;
                }
            };
            let fit_failed = r.failure.as_deref().is_some_and(|f| f.starts_with("fit"));
            if fit_failed {
                stop = format!("{m} x {n}: {}", r.failure.clone().unwrap_or_default());
                break;
            }
            best = Some(((m, n), r));
        }
        let Some(((m, n), r)) = best else {
            writeln!(md, "| {bname} | {mhz} | none | | | | | | | | | | {stop} |")?;
            continue;
        };
        let fmax = r.fmax_mhz.iter().map(|f| f.1).fold(f64::INFINITY, f64::min);
        let shape = synforge_rtl::cycles::Shape {
            inputs: m as u64,
            neurons: n as u64,
            plastic: true,
            single_port: weight_ram(&board, m, n).0,
        };
        let pre = ((m as f64) * 0.02).round() as u64;
        let fired: Vec<u32> = (0..((n as f64) * 0.02).round() as u32).collect();
        let cyc = synforge_rtl::cycles::step(shape, pre, &fired, false).done as f64;
        let upd = synforge_rtl::cycles::synapse_updates(shape, pre, fired.len() as u64) as f64;
        let u =
            |x: &synforge_rtl::synth::Use| format!("{} / {} ({:.0} %)", x.used, x.total, x.percent);
        writeln!(
            md,
            "| {bname} | {mhz} | {m} x {n} ({} synapses) | {} | {} | {} | {} | {} | {} | {fmax:.1} | {} | {:.2e} | {} |",
            m * n,
            match weight_ram(&board, m, n) {
                (true, b) => format!("{b}-bit, SPRAM"),
                (false, 16) => "16-bit".to_string(),
                (false, b) => format!("{b}-bit (uQ0.{b} weights)"),
            },
            u(&r.luts),
            r.ffs.used,
            u(&r.bram),
            r.spram.used,
            r.dsp.used,
            if fmax >= mhz { "yes" } else { "no" },
            fmax * 1e6 * upd / cyc,
            stop.replace('|', "/")
        )?;
    }
    md.push_str("\nTargets of the board issue: 256 x 256 with pair STDP and homeostasis on the iCEBreaker at\n32 MHz or better; at least 1024 x 256 on the ULX3S-85F at 100 MHz or better. See the notes\nbelow the table in the README for what limits them.\n");
    crate::output::write_file("--hardware", out_md, "BENCHMARKS.md", md.as_bytes())?;
    print!("{md}");
    Ok(ExitCode::SUCCESS)
}

/// `synforge bench --rtl`: RTL simulation speed (Verilator, no checking) against the model's
/// (one thread) on the same network and stimulus.
fn rtl(a: &BenchArgs) -> Result<ExitCode> {
    use synforge_rtl::cosim::Harness;
    let tools = synforge_rtl::tools::Tools::locate()?;
    let mut big = Config::builtin_default();
    big.network.name = "n256x256".into();
    big.network.inputs = 256;
    big.network.neurons = 256;
    big.neuron.threshold = 4.0;
    big.stimulus.pattern = None;
    big.stimulus.rate_hz = a.rate_hz;
    let cases = [(Config::builtin_default(), 20_000u32), (big, 2_000)];
    println!(
        "{:<10} {:>7} {:>8} {:>12} {:>12} {:>12} {:>12} {:>8} {:>14}",
        "network",
        "steps",
        "cyc/step",
        "model st/s",
        "model ev/s",
        "RTL st/s",
        "RTL ev/s",
        "ratio",
        "core@32MHz st/s"
    );
    for (cfg, steps) in cases {
        let net = cfg.build().map_err(usage)?;
        let mut spec = net.cfg.stimulus.clone();
        spec.steps = steps;
        let stim = spec.generate(&net.cfg).map_err(usage)?;
        let dir = std::path::PathBuf::from("build/bench").join(&net.cfg.network.name);
        let h = Harness::build(&net, &dir, false, &tools)?;
        let w0 = FixedModel::new(&net).weights_raw();
        let mut model = FixedModel::with_weights(&net, &w0);
        let (mut ins, mut outs) = (0u64, 0u64);
        let mut rows = stim.cursor();
        let t0 = Instant::now();
        while let Some(pre) = rows.next_step() {
            ins += pre.len() as u64;
            outs += model.step(pre).len() as u64;
        }
        let model_s = t0.elapsed().as_secs_f64();
        let (rtl_s, cycles) = h.run_quiet(&net, &w0, &stim)?;
        let events = (ins * net.neurons() as u64 + outs * net.inputs() as u64) as f64;
        let st = steps as f64;
        let cps = cycles as f64 / st;
        println!(
            "{:<10} {:>7} {:>8.0} {:>12.0} {:>12.3e} {:>12.0} {:>12.3e} {:>7.0}x {:>14.0}",
            net.cfg.network.name,
            steps,
            cps,
            st / model_s,
            events / model_s,
            st / rtl_s,
            events / rtl_s,
            rtl_s / model_s,
            32e6 / cps
        );
    }
    println!(
        "events = input spikes x neurons + output spikes x inputs; ratio = RTL time / model time;"
    );
    println!("RTL = Verilator, command file to step ends (includes loading the weights); model = one thread");
    Ok(ExitCode::SUCCESS)
}

/// synforge's config of the network of Brian2's STDP example.
const SONG_BRIAN2: &str = include_str!("../../examples/song-brian2.toml");

/// `synforge bench --brian2`: the Song, Miller & Abbott network in Brian2's C++ standalone mode
/// (`scripts/brian2`) and in the bit-accurate model (one thread), per step, as a ratio.
fn brian2() -> Result<ExitCode> {
    let cfg = Config::from_toml_str(SONG_BRIAN2, "examples/song-brian2.toml").map_err(usage)?;
    let steps = cfg.stimulus.steps;
    let seconds = steps as f64 * cfg.network.dt_ms * 1e-3;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts").join("brian2");
    if !script.is_file() {
        return Err(UsageError(format!(
            "--brian2 runs {}, which is not there: run it from a synforge checkout",
            script.display()
        ))
        .into());
    }
    eprintln!("Brian2: {} --seconds {seconds} (installs Brian2 2.9.0 on first use, then compiles the network)", script.display());
    let out = std::process::Command::new("bash")
        .arg(&script)
        .args(["--seconds", &seconds.to_string(), "--dir", "build/bench-brian2"])
        .stderr(std::process::Stdio::inherit())
        .output()?;
    if !out.status.success() {
        anyhow::bail!("{} failed ({}); its messages are above", script.display(), out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().rev().find(|l| l.starts_with('{')).unwrap_or_default();
    let b: serde_json::Value = serde_json::from_str(line)
        .map_err(|e| anyhow::anyhow!("{}: no result line ({e}): {text}", script.display()))?;
    let num = |k: &str| {
        b[k].as_f64().ok_or_else(|| anyhow::anyhow!("Brian2's result has no {k}: {line}"))
    };
    let (b_run, b_program, b_steps) = (num("run_s")?, num("program_s")?, num("steps")?);
    anyhow::ensure!(b_steps as u32 == steps, "Brian2 ran {b_steps} steps, synforge {steps}");

    let net = cfg.build().map_err(usage)?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let (stim_s, model_s, outs, stim) = pool.install(|| {
        let t0 = Instant::now();
        let stim = net.cfg.stimulus.generate(&net.cfg);
        let stim_s = t0.elapsed().as_secs_f64();
        let mut m = FixedModel::new(&net);
        let mut outs = 0u64;
        let t1 = Instant::now();
        if let Ok(stim) = &stim {
            let mut rows = stim.cursor();
            while let Some(pre) = rows.next_step() {
                outs += m.step(pre).len() as u64;
            }
        }
        (stim_s, t1.elapsed().as_secs_f64(), outs, stim)
    });
    stim.map_err(usage)?;
    let us = |s: f64| s / steps as f64 * 1e6;
    println!("Song, Miller & Abbott: 1000 Poisson inputs at 15 Hz, one neuron, pair STDP, {steps} steps at dt {} ms", net.cfg.network.dt_ms);
    println!("{:<44} {:>9} {:>9} {:>9}", "", "wall s", "us/step", "out Hz");
    let out_hz = b["output_hz"].as_f64().unwrap_or(f64::NAN);
    println!(
        "{:<44} {:>9.2} {:>9.2} {:>9.1}",
        "Brian2 C++ standalone, network run",
        b_run,
        us(b_run),
        out_hz
    );
    println!(
        "{:<44} {:>9.2} {:>9.2}",
        "Brian2 C++ standalone, whole program",
        b_program,
        us(b_program)
    );
    let rate = outs as f64 / seconds;
    println!(
        "{:<44} {:>9.2} {:>9.2} {:>9.1}",
        "synforge fixed, model (stimulus made ahead)",
        model_s,
        us(model_s),
        rate
    );
    println!(
        "{:<44} {:>9.2} {:>9.2}",
        "synforge fixed, stimulus + model",
        stim_s + model_s,
        us(stim_s + model_s)
    );
    println!(
        "synforge speed / Brian2's network run: {:.2} (model only), {:.2} (with the stimulus, which Brian2's run draws too)",
        b_run / model_s,
        b_run / (stim_s + model_s)
    );
    println!("one thread each; Brian2's neuron is conductance-based, synforge's current-based (examples/song-brian2.toml)");
    Ok(ExitCode::SUCCESS)
}

/// Steps of stimulus generated after the warm-up; the timed runs replay them in a loop.
const STIMULUS_BLOCK: u32 = 5000;

/// Size of the buffer that stands for main memory.
const STREAM_BYTES: usize = 256 << 20;

/// Least wall time of one bandwidth measurement.
const BANDWIDTH_SECS: f64 = 0.25;

/// Wrapping sum of `words` in eight independent lanes, so the loads, not the adds, set the pace.
fn sum_words(words: &[u64]) -> u64 {
    let mut lanes = [0u64; 8];
    let chunks = words.chunks_exact(8);
    let tail = chunks.remainder().iter().fold(0u64, |a, &x| a.wrapping_add(x));
    for c in chunks {
        for (l, &x) in lanes.iter_mut().zip(c) {
            *l = l.wrapping_add(x);
        }
    }
    lanes.iter().fold(tail, |a, &x| a.wrapping_add(x))
}

/// Best read bandwidth, bytes per second, of `threads` threads sweeping a buffer of `bytes`
/// over and over; each thread reads its own contiguous share, as the model's tiles do.
fn read_bandwidth(pool: &ThreadPool, bytes: usize) -> f64 {
    let threads = pool.current_num_threads();
    let words = vec![1u64; (bytes / 8).max(threads)];
    let share = words.len().div_ceil(threads);
    let sweep = |reps: usize| -> f64 {
        let start = Instant::now();
        let s: u64 = pool.install(|| {
            words
                .par_chunks(share)
                .map(|c| (0..reps).fold(0u64, |a, _| a.wrapping_add(sum_words(black_box(c)))))
                .sum()
        });
        black_box(s);
        (words.len() * 8 * reps) as f64 / start.elapsed().as_secs_f64()
    };
    // Enough sweeps per sample to last about 10 ms, then the best sample.
    sweep(1);
    let per_sample = ((10e-3 * sweep(1).max(1e9)) / (words.len() * 8) as f64).ceil() as usize;
    let start = Instant::now();
    let mut best = 0.0f64;
    while start.elapsed().as_secs_f64() < BANDWIDTH_SECS {
        best = best.max(sweep(per_sample.max(1)));
    }
    best
}

/// The benchmark workload, written out in full so that the numbers stay comparable when the
/// built-in defaults change: pair STDP, additive, the default formats of the first release
/// (stochastic weights and traces), no inhibition, no scaling, low initial weights.
const WORKLOAD: &str = r#"
[network]
dt_ms = 1.0
seed = 1

[neuron]
tau_m_ms = 20.0
threshold = 1.0
reset = "zero"
refractory_ms = 2.0
inhibition = 0.0

[traces]
pairing = "all-to-all"
tau_plus_ms = 16.8
tau_minus_ms = 33.7
tau_x_ms = 101.0
tau_y_ms = 125.0
increment = 1.0

[plasticity]
rule = "pair"
weight_dependence = "additive"
a_plus = 0.02
a_minus = 0.021
w_min = 0.0
w_max = 0.5
w_init = 0.02
w_init_spread = 0.02

[homeostasis]
adaptive_threshold = true
theta_step = 0.05
tau_theta_ms = 1000.0
scaling = false

[formats]
membrane = { width = 16, frac = 10, rounding = "nearest" }
weight = { width = 10, frac = 10, rounding = "stochastic" }
threshold = { width = 16, frac = 10, rounding = "nearest" }
trace_x1 = { width = 8, frac = 6, rounding = "stochastic" }
trace_x2 = { width = 8, frac = 6, rounding = "stochastic" }
trace_y1 = { width = 8, frac = 6, rounding = "stochastic" }
trace_y2 = { width = 8, frac = 6, rounding = "stochastic" }

[stimulus]
kind = "poisson"
seed = 7
"#;

/// The custom rule `--rules custom` measures: none of the presets' shapes, so it runs on the
/// model's general kernels.
const CUSTOM_RULE: &str =
    "a_sym * x1 * (w_max - w) * y0 + a_sym * y1 * (w_max - w) * x0 - a_dec * w * x0";

/// Set the workload's rule to one of `--rules`.
fn set_rule(cfg: &mut Config, rule: &str) -> Result<()> {
    use synforge_sim::config::{PlasticitySection, WeightDependence};
    let pl = &mut cfg.plasticity;
    let soft = rule.ends_with("-soft");
    match rule.trim_end_matches("-soft") {
        "pair" => {}
        "triplet" => {
            pl.rule = "triplet".into();
            pl.a3_plus = 0.02;
            pl.a3_minus = 0.001;
        }
        "custom" if !soft => {
            let d = PlasticitySection::default();
            (pl.a_plus, pl.a_minus) = (d.a_plus, d.a_minus);
            pl.rule = "custom".into();
            pl.dw = Some(CUSTOM_RULE.into());
            pl.params = [("a_sym".to_string(), 0.02), ("a_dec".to_string(), 0.01)].into();
        }
        _ => {
            return Err(UsageError(format!(
                "--rules: `{rule}` is not a workload; use pair, pair-soft, triplet, triplet-soft or custom"
            ))
            .into())
        }
    }
    if soft {
        pl.weight_dependence = WeightDependence::Multiplicative;
    }
    Ok(())
}

/// The benchmark network of `nn` neurons with learning rule `rule` (see `--rules`).
fn network(a: &BenchArgs, nn: u32, rule: &str) -> Result<Network> {
    let mut cfg = Config::from_toml_str(WORKLOAD, "the bench workload").map_err(usage)?;
    set_rule(&mut cfg, rule)?;
    cfg.network.name = format!("bench-{}x{}", a.inputs, nn);
    cfg.network.inputs = a.inputs;
    cfg.network.neurons = nn;
    cfg.stimulus.rate_hz = a.rate_hz;
    cfg.stimulus.rates_hz.clear();
    cfg.stimulus.pattern = None;
    cfg.stimulus.steps = a.warmup_steps + STIMULUS_BLOCK;
    cfg.build().map_err(usage)
}

/// What one timed run did.
struct Run {
    steps: u64,
    input_spikes: u64,
    output_spikes: u64,
    secs: f64,
    /// Time the process's threads waited for a CPU during the run, where the OS tells it.
    queued_secs: Option<f64>,
}

/// Seconds that the threads of this process have waited, runnable, for a CPU (Linux's
/// per-thread scheduler statistics, second field); `None` where they cannot be read.
fn process_queued_secs() -> Option<f64> {
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    let ns: u64 = tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum();
    Some(ns as f64 * 1e-9)
}

/// Step `m` over the stimulus from step `from` on, replaying it in a loop, for `min_secs`.
fn timed(m: &mut FixedModel, stim: &Stimulus, from: u32, min_secs: f64) -> Run {
    let (mut steps, mut input_spikes, mut output_spikes) = (0u64, 0u64, 0u64);
    // The rows looked up before the clock starts: the stored stimulus is sparse, and finding
    // a step in it is not the model's work.
    let rows: Vec<&[u32]> = (from..stim.steps()).map(|t| stim.at(t)).collect();
    let block = rows.len();
    let min = Duration::from_secs_f64(min_secs);
    let queued_start = process_queued_secs();
    let start = Instant::now();
    loop {
        for _ in 0..16 {
            let pre = rows[(steps % block as u64) as usize];
            input_spikes += pre.len() as u64;
            output_spikes += m.step(pre).len() as u64;
            steps += 1;
        }
        if start.elapsed() >= min {
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let queued_secs = queued_start.zip(process_queued_secs()).map(|(a, b)| b - a);
    Run { steps, input_spikes, output_spikes, secs, queued_secs }
}

/// Weight bytes the model's arithmetic reads and writes during `r`.
///
/// An input spike reads its row once to integrate (2 B per synapse) and reads and writes it
/// for depression (4 B); an output spike reads and writes its column (4 B per synapse). The
/// caches move whole 64 B lines, so a column walk moves more than this.
fn weight_bytes(r: &Run, inputs: u32, neurons: u32) -> f64 {
    r.input_spikes as f64 * neurons as f64 * 6.0 + r.output_spikes as f64 * inputs as f64 * 4.0
}

fn gbs(bytes_per_s: f64) -> String {
    format!("{:.1} GB/s", bytes_per_s / 1e9)
}

/// `synforge bench`.
pub fn run(a: BenchArgs) -> Result<ExitCode> {
    if a.rtl {
        return rtl(&a);
    }
    if a.brian2 {
        return brian2();
    }
    if let Some(p) = &a.hardware {
        return hardware(p);
    }
    if a.continual {
        return continual(&a);
    }
    if a.neurons.is_empty() {
        return Err(UsageError("--neurons needs at least one count".into()).into());
    }
    if !(a.min_secs >= 0.5 && a.min_secs.is_finite()) {
        return Err(UsageError(format!(
            "--min-secs must be at least 0.5 so the timing is stable, got {}",
            a.min_secs
        ))
        .into());
    }
    if a.rules.is_empty() {
        return Err(UsageError("--rules needs at least one rule".into()).into());
    }
    let mut nets: Vec<(String, Network)> = Vec::new();
    for rule in &a.rules {
        for &nn in &a.neurons {
            nets.push((rule.clone(), network(&a, nn, rule)?));
        }
    }
    let all = rayon::current_num_threads();
    let mut thread_counts = vec![1];
    if all > 1 {
        thread_counts.push(all);
    }
    let pools: Vec<ThreadPool> = thread_counts
        .iter()
        .map(|&t| rayon::ThreadPoolBuilder::new().num_threads(t).build())
        .collect::<Result<_, _>>()?;

    // Bandwidth: the stream, then one buffer the size of each weight matrix.
    let stream: Vec<f64> = pools.iter().map(|p| read_bandwidth(p, STREAM_BYTES)).collect();
    let cached: Vec<Vec<f64>> = a
        .neurons
        .iter()
        .map(|&nn| {
            let bytes = a.inputs as usize * nn as usize * 2;
            pools.iter().map(|p| read_bandwidth(p, bytes)).collect()
        })
        .collect();
    println!("memory read bandwidth, best of repeated sweeps:");
    let heads: Vec<String> = thread_counts.iter().map(|t| format!("{t} thread(s)")).collect();
    println!("  {:<32} {:>13} {:>13}", "buffer", heads[0], heads.get(1).map_or("", |s| s));
    let row = |name: String, bw: &[f64]| {
        let cols: Vec<String> = bw.iter().map(|&b| gbs(b)).collect();
        println!("  {:<32} {:>13} {:>13}", name, cols[0], cols.get(1).map_or("", |s| s));
    };
    row(format!("{} MiB stream", STREAM_BYTES >> 20), &stream);
    for (&nn, bw) in a.neurons.iter().zip(&cached) {
        let kib = a.inputs as f64 * nn as f64 * 2.0 / 1024.0;
        row(format!("{kib:.0} KiB = weights of {}x{}", a.inputs, nn), bw);
    }
    println!();

    println!(
        "{:<12} {:>6} {:>7} {:>7} | {:>8} {:>6} | {:>9} {:>8} | {:>9} {:>7} {:>7} | {:>7} {:>6}",
        "rule",
        "inputs",
        "neurons",
        "threads",
        "steps/s",
        "out Hz",
        "events/s",
        "ns/event",
        "weights",
        "%stream",
        "%cached",
        "speedup",
        "queued"
    );
    let mut starved = false;
    for (rule, net) in &nets {
        let nn = net.cfg.network.neurons;
        let k = a.neurons.iter().position(|&n| n == nn).unwrap_or(0);
        let stim = net.cfg.stimulus.generate(&net.cfg).map_err(usage)?;
        let mut warm = FixedModel::new(net);
        pools[pools.len() - 1].install(|| {
            for t in 0..a.warmup_steps {
                warm.step(stim.at(t));
            }
        });
        let mut single = 0.0;
        for (p, pool) in pools.iter().enumerate() {
            let mut m = warm.clone();
            let r = pool.install(|| timed(&mut m, &stim, a.warmup_steps, a.min_secs));
            let events = r.input_spikes * nn as u64 + r.output_spikes * a.inputs as u64;
            let ev_s = events as f64 / r.secs;
            if p == 0 {
                single = ev_s;
            }
            let traffic = weight_bytes(&r, a.inputs, nn) / r.secs;
            let out_hz = r.output_spikes as f64 / nn as f64 / (r.steps as f64 * 1e-3);
            let queued = r.queued_secs.map(|q| q / (r.secs * thread_counts[p] as f64));
            starved |= queued.is_some_and(|q| q > 0.05);
            println!(
                "{:<12} {:>6} {:>7} {:>7} | {:>8.0} {:>6.1} | {:>9.3e} {:>8.2} | {:>9} {:>6.1}% \
                 {:>6.1}% | {:>6.2}x {:>6}",
                rule,
                a.inputs,
                nn,
                thread_counts[p],
                r.steps as f64 / r.secs,
                out_hz,
                ev_s,
                1e9 / ev_s,
                gbs(traffic),
                100.0 * traffic / stream[p],
                100.0 * traffic / cached[k][p],
                ev_s / single,
                queued.map_or("n/a".to_string(), |q| format!("{:.0}%", 100.0 * q)),
            );
        }
    }
    println!();
    println!(
        "workload: {} Hz Poisson inputs, stochastic rounding, no inhibition; timed after {} \
         warm-up steps; rules: pair = pair STDP, additive; -soft = multiplicative; triplet = \
         A3+ 0.02, A3- 0.001; custom = \"{CUSTOM_RULE}\"",
        a.rate_hz, a.warmup_steps
    );
    println!(
        "events = input spikes x neurons + output spikes x inputs; out Hz = output rate per neuron"
    );
    println!(
        "weights = weight bytes the arithmetic reads and writes (6 B per synapse per input spike, \
         4 B per synapse per output spike), per second"
    );
    println!(
        "%stream, %cached = that traffic over the read bandwidth of the 256 MiB stream and of the \
         buffer the size of the weight matrix, same thread count"
    );
    println!(
        "queued = time the bench's threads waited for a CPU held by another process, over wall \
         time x threads; each row ran at least {} s",
        a.min_secs
    );
    if starved {
        println!(
            "warning: in some rows the threads waited more than 5% of the time for a CPU: other \
             processes were running, so those rows understate the model; rerun on an idle machine"
        );
    }
    Ok(ExitCode::SUCCESS)
}
