//! The generated core in Verilator against the bit-accurate model: zero mismatching bits,
//! zero mismatching cycles.

use std::time::Instant;

use synforge_rtl::cosim::Harness;
use synforge_sim::model::{FixedModel, Model, ModelKind};
use synforge_sim::state::State;
use synforge_sim::{Config, Network};

use crate::{build_dir, example, random, tools};

fn run(net: &Network, dir: &str, steps: u32) -> synforge_rtl::cosim::Report {
    let h = Harness::build(net, &build_dir(dir), false, &tools()).unwrap_or_else(|e| panic!("{e}"));
    let mut spec = net.cfg.stimulus.clone();
    spec.steps = steps;
    let stim = spec.generate(&net.cfg).expect("stimulus");
    let w0 = FixedModel::new(net).weights_raw();
    h.run(net, &w0, &stim, None).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn default_network_matches_for_2000_steps() {
    let net = Config::builtin_default().build().unwrap();
    let r = run(&net, "default", 2000);
    assert_eq!(r.mismatch, None);
    assert!(r.spikes > 50 && r.synapse_updates > 10_000, "{r:?}");
}

#[test]
fn examples_match() {
    for name in ["song.toml", "pairing.toml", "custom-rule.toml", "consolidation-ice40.toml"] {
        let net = Config::load(&example(name)).unwrap().build().unwrap();
        let r = run(&net, name, 1000);
        assert_eq!(r.mismatch, None, "{name}");
        assert!(r.spikes > 0, "{name}: {r:?}");
    }
}

/// Builds x runs: sizes, formats and rule choices vary per build (seeds 1..=BUILDS); register
/// parameters, LFSR seed, initial weights and stimulus vary per run. The seed of a failing
/// case is in the message.
#[test]
fn random_configs_match() {
    const BUILDS: u64 = 14;
    const MODULATED: u64 = 3;
    const TAGGED: u64 = 3;
    const SWEPT: u64 = 3;
    const RUNS: u64 = 15;
    const STEPS: u32 = 300;
    let start = Instant::now();
    let (mut runs, mut steps, mut spikes, mut updates) = (0, 0u64, 0u64, 0u64);
    let mut resumed = 0;
    // Per-synapse variables away from their initial values at the end of the resumed runs.
    let mut moved = [0usize; 2];
    let mut rules = Vec::new();
    // Builds past BUILDS: rules that read the modulator `r`, set before every step; the last
    // TAGGED also read per-synapse variables, each with its own update.
    for b in 1..=BUILDS + MODULATED + TAGGED + SWEPT {
        let base = match b {
            b if b <= BUILDS => random::structure(b),
            b if b <= BUILDS + MODULATED => random::modulated_structure(b),
            b if b <= BUILDS + MODULATED + TAGGED => random::tagged_structure(b),
            b => random::swept_structure(b),
        };
        let net0 = base.build().unwrap();
        rules.push(net0.rule.as_ref().map_or("off".to_string(), |r| match r.name.as_str() {
            "custom" => format!("custom `{}`", r.text),
            name => name.to_string(),
        }));
        for v in &net0.syn {
            rules.push(format!("  d{} = `{}` ({})", v.name, v.update.text, v.fmt.q_name()));
        }
        let h = Harness::build(&net0, &build_dir(&format!("random-{b}")), false, &tools())
            .unwrap_or_else(|e| panic!("structure seed {b}: {e}"));
        for r in 0..RUNS {
            let seed = b * 1000 + r;
            let net = random::parameters_of(&base, seed);
            let mut spec = net.cfg.stimulus.clone();
            spec.steps = STEPS;
            let stim = spec.generate(&net.cfg).unwrap();
            let w0 = FixedModel::new(&net).weights_raw();
            let rep = h.run(&net, &w0, &stim, None).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            if let Some(m) = rep.mismatch {
                panic!(
                    "structure seed {b}, parameter seed {seed}: {m}\n{} inputs x {} neurons, {:?}",
                    net.cfg.network.inputs, net.cfg.network.neurons, net.cfg
                );
            }
            runs += 1;
            steps += rep.steps as u64;
            spikes += rep.spikes;
            updates += rep.synapse_updates;
            if r < 2 {
                // A state saved mid-run, through the file, loaded into the core through the
                // port: it continues with zero mismatches, and the port reads back the state
                // the model has after the whole run.
                let cut = [STEPS / 3, STEPS / 2 + 7][r as usize];
                let mut first = FixedModel::new(&net);
                for t in 0..cut {
                    first.step(stim.at(t));
                }
                let init = first.state().into_iter().find(|q| q.name == "weight").unwrap();
                let bytes =
                    State::of(&net, &first, ModelKind::Fixed, init.values).to_bytes().unwrap();
                let back = State::from_bytes(&bytes).unwrap();
                let mut loaded = FixedModel::new(&net);
                loaded.set_state(back.step, &back.quantities).unwrap();
                let rep = h
                    .run_from(&net, &loaded, &stim, None)
                    .unwrap_or_else(|e| panic!("seed {seed}, from step {cut}: {e}"));
                if let Some(m) = rep.mismatch {
                    panic!("structure seed {b}, parameter seed {seed}, from step {cut}: {m}");
                }
                assert_eq!(rep.steps, STEPS - cut);
                let mut whole = FixedModel::new(&net);
                for t in 0..STEPS {
                    whole.step(stim.at(t));
                }
                assert_eq!(rep.state, Some((STEPS, whole.state())), "seed {seed}: read back");
                for (k, v) in net.syn.iter().enumerate() {
                    moved[k] += whole.syn_raw(k).iter().filter(|&&x| x != v.init).count();
                }
                resumed += 1;
            }
        }
    }
    eprintln!("random builds' rules: {}", rules.join("; "));
    eprintln!("per-synapse variables away from their initial value at the end: {moved:?}");
    eprintln!("{resumed} runs continued on the core from a state saved mid-run: zero mismatches");
    eprintln!(
        "{runs} random configs ({BUILDS} builds, {MODULATED} more modulated, {TAGGED} more with per-synapse variables, {SWEPT} more with the sweep too), {steps} steps, {spikes} output spikes, \
         {updates} synaptic updates: zero mismatches in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    assert!(runs >= 200);
    assert!(rules.iter().filter(|r| r.starts_with("custom")).count() >= 3, "random rules too");
    let modulated = rules.iter().filter(|r| r.contains(" r ") || r.contains("* r")).count();
    assert!(modulated >= MODULATED as usize, "modulated rules: {rules:?}");
    assert!(rules.iter().filter(|r| r.starts_with("  d")).count() >= TAGGED as usize);
    assert!(moved[0] > 100, "the variables must move: {moved:?}");
    assert!(spikes > 1000 && updates > 10_000, "the random configs must exercise the core");
}

/// The size the issue names: 256 inputs x 256 neurons (65,536 plastic synapses).
#[test]
fn network_256_by_256_matches() {
    let mut cfg = Config::builtin_default();
    cfg.network.inputs = 256;
    cfg.network.neurons = 256;
    cfg.neuron.threshold = 4.0;
    cfg.stimulus.pattern = None;
    let net = cfg.build().unwrap();
    let r = run(&net, "n256", 300);
    assert_eq!(r.mismatch, None);
    assert!(r.spikes > 100 && r.synapse_updates > 100_000, "{r:?}");
}

/// Backpressure: the testbench holds `out_ready` low after every spike it takes (for 1, 30 and
/// 200 cycles, the last longer than a spiking neuron's whole turn, about 80 cycles here). The core waits with the spike
/// offered; no spike is lost or repeated and no number changes, and the steps take longer.
#[test]
fn out_ready_low_delays_but_changes_nothing() {
    // A low, fixed threshold and busy inputs: several spikes a step, so a held spike meets
    // the next one.
    let mut cfg = Config::builtin_default();
    cfg.neuron.threshold = 0.25;
    cfg.homeostasis.adaptive_threshold = false;
    cfg.stimulus.rate_hz = 80.0;
    let net = cfg.build().unwrap();
    let h = Harness::build(&net, &build_dir("backpressure"), false, &tools())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut spec = net.cfg.stimulus.clone();
    spec.steps = 1000;
    let stim = spec.generate(&net.cfg).expect("stimulus");
    let w0 = FixedModel::new(&net).weights_raw();
    let free = h.run(&net, &w0, &stim, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(free.mismatch, None);
    for stall in [1, 30, 200] {
        let r = h
            .run_with_backpressure(&net, &w0, &stim, stall)
            .unwrap_or_else(|e| panic!("stall {stall}: {e}"));
        assert_eq!(r.mismatch, None, "stall {stall}");
        assert_eq!((r.steps, r.spikes), (free.steps, free.spikes), "stall {stall}");
        assert!(r.spikes > 2 * r.steps as u64, "{r:?}");
        // A short stall ends before the next spike is offered; a long one holds the core.
        let slower = if stall == 200 { r.cycles > free.cycles } else { r.cycles >= free.cycles };
        assert!(slower, "stall {stall}: {} cycles, {} without", r.cycles, free.cycles);
    }
}

/// One neuron and 2, 4 or 8 inputs once panicked the generator: the step to the next
/// neuron's weights (m words), in the plasticity loop and in the scaling phase, did not fit
/// the weight address width of m x 1 synapses.
#[test]
fn one_neuron_with_a_power_of_two_of_inputs_generates_and_matches() {
    for (inputs, scaling) in [(2, false), (4, true), (8, true)] {
        let mut cfg = Config::builtin_default();
        cfg.network.inputs = inputs;
        cfg.network.neurons = 1;
        cfg.stimulus.rate_hz = 150.0;
        cfg.stimulus.pattern = None;
        cfg.plasticity.w_init = 0.1;
        cfg.neuron.threshold = 0.15;
        cfg.homeostasis.scaling = scaling;
        cfg.homeostasis.scaling_period_steps = 50;
        let net = cfg.build().unwrap();
        let r = run(&net, &format!("one-neuron-{inputs}-{scaling}"), 500);
        assert_eq!(r.mismatch, None, "{inputs} x 1, scaling {scaling}");
        assert!(r.spikes > 0 && r.synapse_updates > 0, "{inputs} x 1: {r:?}");
    }
}
