//! synforge's hardware: the time-multiplexed plastic spiking core as Verilog, generated from a
//! validated network, with its cycle model, its Verilator co-simulation and its boards.
//!
//! Three concerns, three folders: `generate/` builds the core (one file per hardware block,
//! named after its twin in `synforge-sim`), `check/` holds it to the model (cycle model,
//! co-simulation, gate level), `deploy/` puts it on boards (board data, board top, bridge,
//! protocol, synthesis). Their modules are re-exported here by name (`synforge_rtl::cosim`, ...).
#![deny(missing_docs)]

pub mod check;
pub mod deploy;
pub mod generate;
pub mod tools;

pub use check::{cosim, cycles, port_state};
pub use deploy::{board, board_top, bridge, multipliers, protocol, simboard, synth};
pub use generate::{
    controller, core, layout, lfsr, manifest, mem, neuron, plasticity, trace, verilog,
};

use synforge_sim::config::Network;

pub use layout::{GenError, Layout};

/// The name of the core's top module.
pub const TOP: &str = "synforge_core";

/// A generated design: Verilog files, one module each, and the layout they were made from.
#[derive(Clone, Debug)]
pub struct Design {
    /// `(file name, text)`, the top last.
    pub files: Vec<(String, String)>,
    /// Widths, words and registers.
    pub layout: Layout,
}

/// Generate the core for `net`. `config_hash` goes into every file's header.
pub fn generate(net: &Network, config_hash: &str) -> Result<Design, GenError> {
    let l = Layout::new(net)?;
    let f = &net.fmt;
    let r = &net.rnd;
    let p = net.cfg.traces.pairing;
    let adaptive = net.cfg.homeostasis.adaptive_threshold;
    let mut mods: Vec<(String, String)> = Vec::new();
    let mut add = |name: &str, text: String| mods.push((name.to_string(), text));
    add("sf_lfsr_draw", lfsr::module());
    for n in 2..=4 {
        add(&format!("sf_lfsr_draw{n}"), lfsr::jump_module(n));
    }
    add("sf_decay_v", trace::decay_module("sf_decay_v", f.v.width, true, r.v));
    if adaptive {
        add("sf_decay_theta", trace::decay_module("sf_decay_theta", f.theta.width, false, r.theta));
        add("sf_theta_add", plasticity::homeostasis::sat_add_module(f.theta.width));
    }
    add("sf_decay_x1", trace::decay_module("sf_decay_x1", f.x1.width, false, r.x1));
    add("sf_decay_y1", trace::decay_module("sf_decay_y1", f.y1.width, false, r.y1));
    add("sf_bump_x1", trace::bump_module("sf_bump_x1", f.x1.width, p));
    add("sf_bump_y1", trace::bump_module("sf_bump_y1", f.y1.width, p));
    if l.x2 {
        add("sf_decay_x2", trace::decay_module("sf_decay_x2", f.x2.width, false, r.x2));
        add("sf_bump_x2", trace::bump_module("sf_bump_x2", f.x2.width, p));
    }
    if l.y2 {
        add("sf_decay_y2", trace::decay_module("sf_decay_y2", f.y2.width, false, r.y2));
        add("sf_bump_y2", trace::bump_module("sf_bump_y2", f.y2.width, p));
    }
    add("sf_lif_acc", neuron::lif::acc_module(net, &l));
    add("sf_lif_inh", neuron::lif::inh_module(&l));
    add("sf_lif_sub", neuron::lif::sub_module(&l));
    add("sf_lif_thresh", neuron::lif::thresh_module(net, &l));
    // The weight's rule, then each per-synapse variable's update: their own datapaths.
    for rule in layout::rules(net) {
        let rounding = rule.rounding;
        let p = plasticity::rule::prefix(rule);
        add(&format!("{p}_prod"), plasticity::rule::prod_module(rule, rounding, l.weight_bits));
        add(&format!("{p}_round"), plasticity::rule::round_module(rule, rounding, l.weight_bits));
        add(&format!("{p}_clamp"), plasticity::rule::clamp_module(rule, l.weight_bits));
    }
    if net.cfg.homeostasis.scaling {
        add("sf_scale_factor", plasticity::homeostasis::factor_module());
        add("sf_scale_weight", plasticity::homeostasis::scale_module(f.w.width, r.w));
    }
    for mem in l.memories() {
        let (name, width, depth) = (mem.name, mem.width, mem.depth);
        let m = format!("sf_ram_{name}");
        if name == "wram" && l.single_port {
            add(&m, mem::sp_ram_module(&m, width, depth));
        } else {
            add(&m, mem::ram_module(&m, width, depth));
        }
    }
    add(TOP, core::module(net, &l));
    Ok(Design { files: verilog::module_files(mods, config_hash), layout: l })
}

/// SHA-256 of the config as TOML, hex: names the config in every generated file's header and
/// in the manifest.
pub fn config_hash(cfg: &synforge_sim::Config) -> String {
    use sha2::{Digest, Sha256};
    let text = toml::to_string(cfg).unwrap_or_default();
    let d = Sha256::digest(text.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}
