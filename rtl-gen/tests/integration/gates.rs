//! The gate-level check: the netlist Yosys synthesizes, simulated with the vendor cell models
//! in Verilator, against the bit-accurate model. This is the only check that sees a synthesis
//! and simulation disagreement (such as rust-hdl's signed-localparam trap). The ECP5 block RAM
//! and multiplier have no model in Yosys; synforge's are `testbenches/ecp5_models.v`.

use std::time::Instant;

use synforge_rtl::board::Family;
use synforge_rtl::cosim::Harness;
use synforge_sim::model::FixedModel;
use synforge_sim::Config;

use crate::{build_dir, tools};

fn gate_level(family: Family, steps: u32) {
    gate_level_of(Config::builtin_default(), family, steps, "")
}

fn gate_level_of(cfg: Config, family: Family, steps: u32, tag: &str) {
    gate_level_soft(cfg, family, steps, tag, false)
}

fn gate_level_soft(cfg: Config, family: Family, steps: u32, tag: &str, soft: bool) {
    let net = cfg.build().unwrap();
    let t0 = Instant::now();
    let dir = build_dir(&format!("gates-{}{tag}", family.as_str()));
    let h = Harness::build_gate_level_with(&net, &dir, family, &tools(), soft)
        .unwrap_or_else(|e| panic!("{e}"));
    if soft {
        let netlist = std::fs::read_to_string(dir.join("netlist.v")).unwrap();
        assert!(!netlist.contains("SB_MAC16") && !netlist.contains("MULT18X18D"));
    }
    let built = t0.elapsed().as_secs_f64();
    let mut spec = net.cfg.stimulus.clone();
    spec.steps = steps;
    let stim = spec.generate(&net.cfg).unwrap();
    let w0 = FixedModel::new(&net).weights_raw();
    let r = h.run(&net, &w0, &stim, None).unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "{} netlist: synthesis + Verilator build {built:.1} s, {} steps, {} cycles in {:.1} s: {:?}",
        family.as_str(),
        r.steps,
        r.cycles,
        r.seconds,
        r.mismatch
    );
    assert_eq!(r.mismatch, None, "{} netlist", family.as_str());
    assert!(r.spikes > 20);
}

#[test]
fn ice40_netlist_matches_the_model() {
    gate_level(Family::Ice40, 2000);
}

#[test]
fn ecp5_netlist_matches_the_model() {
    gate_level(Family::Ecp5, 2000);
}

/// The default network widened to 256 inputs x 64 neurons (threshold raised to match), for
/// the tests of memory mappings the default size does not reach.
fn network_256_by_64() -> Config {
    let mut cfg = Config::builtin_default();
    cfg.network.inputs = 256;
    cfg.network.neurons = 64;
    cfg.neuron.threshold = 4.0;
    cfg.stimulus.pattern = None;
    cfg
}

/// The single-port weight RAM as Yosys maps it to the UP5K's SPRAM (`-spram`), 256 x 64.
#[test]
fn ice40_netlist_with_spram_weights_matches_the_model() {
    let mut cfg = network_256_by_64();
    cfg.hardware.weight_memory = synforge_sim::config::WeightMemory::SinglePort;
    gate_level_of(cfg, Family::Ice40, 300, "-spram");
}

/// ECP5 block RAM in 9-bit words (2K x 9 per DP16KD, 8 of them side by side for 16K synapses,
/// with their address decode), the neuron words in the 512 x 36 pseudo-dual-port mode, 256 x 64.
#[test]
fn ecp5_netlist_with_9_bit_synapse_words_matches_the_model() {
    let mut cfg = network_256_by_64();
    cfg.formats.weight.width = 9;
    cfg.formats.weight.frac = 9;
    cfg.hardware.synapse_bits = 9;
    gate_level_of(cfg, Family::Ecp5, 300, "-w9");
}

/// The consolidation preset (ten rule products, a level `c` beside the weight, a sweep) with
/// every multiplier built from logic cells, as `synforge synth` builds some when a device's
/// DSPs run out (`synforge_rtl::multipliers`): Yosys's soft multipliers against the model.
#[test]
fn ice40_netlist_with_multipliers_in_logic_cells_matches_the_model() {
    let cfg = Config::from_toml_str(
        r#"
[network]
inputs = 24
neurons = 3
seed = 5
[neuron]
threshold = 0.6
inhibition = 0.1
[plasticity]
rule = "consolidation"
a_plus = 0.01
a_minus = 0.006
w_max = 0.25
w_init = 0.12
w_init_spread = 0.04
sweep_period_steps = 50
[plasticity.synapse.c]
width = 8
frac = 8
[plasticity.params]
w_decay = 0.002
c_up = 0.05
c_decay = 0.001
[formats]
weight = { width = 8, frac = 8, rounding = "stochastic" }
[stimulus]
rate_hz = 30.0
"#,
        "the test's consolidation preset",
    )
    .unwrap();
    gate_level_soft(cfg, Family::Ice40, 1500, "-soft", true);
}
