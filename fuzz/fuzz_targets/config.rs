//! Config TOML text -> `Config::from_toml_str` -> `build`; then, for networks small enough to
//! run in a moment, the generated stimulus and a few steps of both models. None may panic: bad
//! text is an `Err` naming the field, never a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use synforge_sim::model::{self, ModelKind};
use synforge_sim::run::{run, NoObserver};
use synforge_sim::stimulus::StimulusKind;
use synforge_sim::Config;

/// Largest `steps x inputs` whose stimulus is generated, and `inputs x neurons` that is run.
const MAX_STIMULUS_DRAWS: u64 = 200_000;
const MAX_SYNAPSES: u64 = 4_096;
const RUN_STEPS: u32 = 50;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(mut cfg) = Config::from_toml_str(text, "fuzz.toml") else { return };
    // The weights file has a target of its own; a file stimulus is read by stimulus_csv.
    cfg.plasticity.w_init_file = None;
    if cfg.stimulus.kind == StimulusKind::File {
        return;
    }
    let Ok(net) = cfg.build() else { return };
    let n = &net.cfg.network;
    if net.cfg.stimulus.steps as u64 * n.inputs as u64 > MAX_STIMULUS_DRAWS {
        return;
    }
    if net.cfg.stimulus.generate(&net.cfg).is_err() {
        return;
    }
    if n.inputs as u64 * n.neurons as u64 > MAX_SYNAPSES {
        return;
    }
    let mut spec = net.cfg.stimulus.clone();
    spec.steps = spec.steps.min(RUN_STEPS);
    let Ok(short) = spec.generate(&net.cfg) else { return };
    for kind in [ModelKind::Fixed, ModelKind::Float] {
        let mut m = model::build(&net, kind);
        let _ = run(m.as_mut(), &short, &mut NoObserver);
    }
});
