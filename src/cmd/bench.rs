//! `synforge bench`: synaptic events per second of the bit-accurate model, single thread and
//! all threads, beside the machine's measured memory bandwidth.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use clap::Args;
use rayon::prelude::*;
use synforge_sim::model::{FixedModel, Model};
use synforge_sim::run::{run as run_model, NoObserver};
use synforge_sim::Config;

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
    /// Simulated steps per measurement.
    #[arg(long, default_value_t = 2000)]
    steps: u32,
}

/// Bytes per second of a streaming read over `bytes` of memory with `threads` threads.
fn bandwidth(bytes: usize, threads: usize) -> f64 {
    let words = vec![1u64; bytes / 8];
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
    let mut best = 0.0f64;
    for _ in 0..5 {
        let start = Instant::now();
        let s: u64 = pool.install(|| {
            words.par_chunks(1 << 16).map(|c| c.iter().fold(0u64, |a, &x| a.wrapping_add(x))).sum()
        });
        black_box(s);
        best = best.max(bytes as f64 / start.elapsed().as_secs_f64());
    }
    best
}

/// `synforge bench`.
pub fn run(a: BenchArgs) -> Result<ExitCode> {
    if a.neurons.is_empty() {
        return Err(UsageError("--neurons needs at least one count".into()).into());
    }
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let bw1 = bandwidth(256 << 20, 1);
    let bwn = bandwidth(256 << 20, cores);
    println!(
        "memory read bandwidth (256 MiB stream): 1 thread {:.2} GB/s, {} threads {:.2} GB/s",
        bw1 / 1e9,
        cores,
        bwn / 1e9
    );
    println!(
        "{:>7} {:>7} {:>8} | {:>14} {:>14} | {:>9} {:>11} {:>11}",
        "inputs",
        "neurons",
        "threads",
        "events/s",
        "steps/s",
        "weight B/s",
        "of stream",
        "speed-up"
    );
    for &nn in &a.neurons {
        let mut cfg = Config::builtin_default();
        cfg.network.name = format!("bench-{}x{}", a.inputs, nn);
        cfg.network.inputs = a.inputs;
        cfg.network.neurons = nn;
        cfg.stimulus.rate_hz = a.rate_hz;
        cfg.stimulus.pattern = None;
        cfg.stimulus.steps = a.steps;
        // Weights low enough that the neurons fire at a moderate rate.
        cfg.plasticity.w_init = 0.02;
        cfg.plasticity.w_init_spread = 0.02;
        cfg.neuron.inhibition = 0.0;
        let net = cfg.build().map_err(usage)?;
        let stim = net.cfg.stimulus.generate(&net.cfg).map_err(usage)?;
        let mut single = 0.0;
        for threads in [1usize, cores] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
            let (rec, secs) = pool.install(|| {
                let mut m = FixedModel::new(&net);
                // Warm up caches and the pool.
                let warm = stim.steps().min(200);
                for t in 0..warm {
                    m.step(stim.at(t));
                }
                let mut m = FixedModel::new(&net);
                let rec = run_model(&mut m, &stim, &mut NoObserver);
                let secs = rec.seconds;
                (rec, secs)
            });
            let ev = rec.synaptic_events as f64 / secs;
            let posts = rec.spikes.len() as f64;
            // Weight traffic: a pre spike reads its row once to integrate and reads and writes
            // it for depression (6 B per synapse); a post spike reads and writes its column (4 B).
            let bytes = rec.input_spikes as f64 * nn as f64 * 6.0 + posts * a.inputs as f64 * 4.0;
            let bps = bytes / secs;
            let bw = if threads == 1 { bw1 } else { bwn };
            if threads == 1 {
                single = ev;
            }
            println!(
                "{:>7} {:>7} {:>8} | {:>14.3e} {:>14.0} | {:>8.2}G {:>10.1}% {:>10.2}x",
                a.inputs,
                nn,
                threads,
                ev,
                rec.steps as f64 / secs,
                bps / 1e9,
                100.0 * bps / bw,
                ev / single
            );
            if cores == 1 {
                break;
            }
        }
    }
    println!("events = input spikes x neurons + output spikes x inputs; pair STDP, additive, stochastic rounding");
    Ok(ExitCode::SUCCESS)
}
