//! The manifest written beside the Verilog: ports, memory map, word layouts, formats, the
//! cycle-cost formula, generator version and config hash, as JSON for tools and people.

use serde_json::{json, Value};
use synforge_sim::Network;

use crate::core::{
    INPUT_COMMIT, INPUT_FIELDS, NEURON_COMMIT, NEURON_FIELDS, STATUS_REGS, STATUS_REGS_WRITABLE,
};
use crate::Design;

/// The core's ports, `(name, direction, width, meaning)`: [`crate::core::ports`].
pub fn ports(d: &Design) -> Vec<(&'static str, &'static str, u32, &'static str)> {
    crate::core::ports(&d.layout).into_iter().map(|p| (p.name, p.dir, p.width, p.what)).collect()
}

/// The manifest of `d`, generated from `net` with config hash `hash`.
pub fn manifest(net: &Network, d: &Design, hash: &str) -> Value {
    let l = &d.layout;
    let ports: Vec<Value> = ports(d)
        .into_iter()
        .map(|(name, dir, width, what)| json!({"name": name, "dir": dir, "width": width, "what": what}))
        .collect();
    let datapath = |r: &synforge_sim::plasticity::rule::Rule| {
        let sh = crate::plasticity::rule::shape(r, l.weight_bits);
        json!({
            "groups": sh.groups.iter().map(|g| json!({"name": g.name, "terms": g.terms, "width": g.width})).collect::<Vec<_>>(),
            "sum_width": sh.sum,
            "step_width": sh.step,
            "shift": sh.shift,
        })
    };
    let mut status: Vec<Value> = STATUS_REGS
        .iter()
        .map(|(i, n)| json!({"index": i, "name": n, "writable": STATUS_REGS_WRITABLE.contains(i)}))
        .collect();
    if l.sweep {
        status.push(json!({"index": crate::layout::SWEEP_PHASE_REG, "name": "status_sweep_phase", "writable": true}));
    }
    let mut m = json!({
        "generator": format!("synforge-rtl {}", env!("CARGO_PKG_VERSION")),
        "config_hash": hash,
        "network": net.cfg.network.name,
        "top": crate::TOP,
        "files": d.files.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
        "ports": ports,
        "memory_map": {
            "regions": [
                {"region": 0, "what": "registers: address = index (CTRL = 0: write 1 to init every state and LFSR)", "registers": l.regs, "status": status},
                {"region": 1, "what": "synapse words: address = j * inputs + i", "word": l.synapse_word},
                {"region": 2, "what": "neuron state: address = j * 16 + field; a write sets the field in a staging word, a write to field 15 stores it into neuron j", "fields": NEURON_FIELDS, "commit_field": NEURON_COMMIT},
                {"region": 3, "what": "input state: address = i * 4 + field; a write sets the field in a staging word, a write to field 3 stores it into input i", "fields": INPUT_FIELDS, "commit_field": INPUT_COMMIT},
            ],
        },
        "words": {"neuron": l.neuron_word, "input": l.input_word, "synapse": l.synapse_word},
        "memories": l.memories(),
        "formats": net.fmt,
        "roundings": net.rnd,
        // The learning rule as compiled (terms, parameters and their registers' raw values,
        // amplitude format, range analysis) and the widths of its datapath's groups.
        "rule": net.rule.as_ref().map(|r| json!({"compiled": r, "datapath": datapath(r)})),
        "sizes": {"inputs": l.inputs, "neurons": l.neurons},
        "weight_memory": if l.single_port { "single-port" } else { "dual-port" },
        "cycles": {"formula": crate::cycles::FORMULA, "synapses_per_clock": 1},
    });
    // The per-synapse variables, when the network has them: each one's field of the synapse
    // word, format, initial raw value and compiled update with its datapath.
    if !net.syn.is_empty() {
        m["synapse_variables"] = net
            .syn
            .iter()
            .enumerate()
            .map(|(k, v)| {
                json!({
                    "name": v.name,
                    "field": crate::layout::SYN_FIELDS[k],
                    "format": v.fmt,
                    "init_raw": v.init,
                    "update": {"compiled": v.update, "datapath": datapath(&v.update)},
                })
            })
            .collect();
    }
    m
}

/// The register map and word layouts of `d` as Markdown tables (written as `layout.md` by
/// `synforge gen`; `docs/rtl.md` holds the default network's, checked equal by a test).
pub fn layout_markdown(d: &Design) -> String {
    use std::fmt::Write;
    let l = &d.layout;
    let mut s = String::new();
    writeln!(s, "Ports of `{}` ({} inputs x {} neurons):\n", crate::TOP, l.inputs, l.neurons)
        .unwrap();
    s.push_str("| port | dir | bits | meaning |\n|---|---|---|---|\n");
    for (name, dir, width, what) in ports(d) {
        writeln!(s, "| `{name}` | {dir} | {width} | {what} |").unwrap();
    }
    s.push_str("\nRegisters (region 0; reset to the generated config's values):\n\n");
    s.push_str("| index | name | bits | meaning | generated value |\n|---|---|---|---|---|\n");
    s.push_str("| 0 | `ctrl` | 1 | write 1: init (clear every state, seed every LFSR from `param_seed`) | - |\n");
    for r in &l.regs {
        let value = if r.built { r.value.to_string() } else { "not built in this design".into() };
        writeln!(s, "| {} | `{}` | {} | {} | {value} |", r.index, r.name, r.width, r.what).unwrap();
    }
    for (i, n) in STATUS_REGS {
        let rw = if STATUS_REGS_WRITABLE.contains(i) {
            "read; written when a saved state is loaded"
        } else {
            "read-only"
        };
        writeln!(s, "| {i} | `{n}` | 32 | {rw} | - |").unwrap();
    }
    if l.sweep {
        writeln!(
            s,
            "| {} | `status_sweep_phase` | 32 | read; written when a saved state is loaded | - |",
            crate::layout::SWEEP_PHASE_REG
        )
        .unwrap();
    }
    for (title, w) in [
        (
            "Neuron word (`nram`, one per neuron; region 2 reads its fields, and writes them into a staging word that a write to field 15 stores)",
            &l.neuron_word,
        ),
        ("Input word (`xram`, one per input; region 3, staged likewise, stored by field 3)", &l.input_word),
        ("Synapse word (`wram`, address `j * inputs + i`; region 1)", &l.synapse_word),
    ] {
        writeln!(s, "\n{title}:\n\n| bits | field | meaning |\n|---|---|---|").unwrap();
        for f in &w.fields {
            writeln!(s, "| {}:{} | `{}` | {} |", f.lsb + f.width - 1, f.lsb, f.name, f.what)
                .unwrap();
        }
    }
    s
}

/// A FuseSoC (CAPI2) core file for the generated Verilog, so the core drops into FuseSoC and
/// Edalize flows: `fusesoc run --target lint synforge:core:<network>`.
pub fn fusesoc_core(d: &Design, network: &str) -> String {
    use std::fmt::Write;
    let name: String = network
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' })
        .collect();
    let mut s = String::from("CAPI=2:\n");
    writeln!(
        s,
        "# {}",
        crate::verilog::header("#", "", "FuseSoC core of the generated Verilog.")
            .lines()
            .next()
            .unwrap_or("")
            .trim_start_matches("# ")
    )
    .unwrap();
    writeln!(s, "name: synforge:core:{name}:{}", env!("CARGO_PKG_VERSION")).unwrap();
    writeln!(
        s,
        "description: synforge plastic spiking core, {} inputs x {} neurons",
        d.layout.inputs, d.layout.neurons
    )
    .unwrap();
    s.push_str("filesets:\n  rtl:\n    file_type: verilogSource\n    files:\n");
    for (f, _) in &d.files {
        writeln!(s, "      - {f}").unwrap();
    }
    writeln!(s, "targets:\n  default:\n    filesets: [rtl]\n    toplevel: {top}\n  lint:\n    default_tool: verilator\n    filesets: [rtl]\n    toplevel: {top}\n    tools:\n      verilator:\n        mode: lint-only\n        verilator_options: [-Wall]", top = crate::TOP).unwrap();
    s
}
