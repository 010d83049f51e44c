//! Initial-weights CSV text (`plasticity.w_init_file`, `input,neuron,weight`) -> the config's
//! weights reader, through `Config::build` (the reader is private to the config). The network
//! size comes from the first bytes; the text goes to one file per process.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use synforge_sim::Config;

fn file() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        std::env::temp_dir().join(format!("synforge-fuzz-weights-{}.csv", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let mut cfg = Config::builtin_default();
    cfg.network.inputs = data[0] as u32 % 16 + 1;
    cfg.network.neurons = data[1] as u32 % 16 + 1;
    cfg.stimulus.rates_hz.clear();
    std::fs::write(file(), &data[2..]).expect("write the weights file");
    cfg.plasticity.w_init_file = Some(file().clone());
    if let Ok(net) = cfg.build() {
        for &(i, j, w) in &net.w_init_overrides {
            assert!(i < cfg.network.inputs && j < cfg.network.neurons, "({i}, {j}) in range");
            assert!(w >= cfg.plasticity.w_min && w <= cfg.plasticity.w_max, "{w} within bounds");
        }
    }
});
