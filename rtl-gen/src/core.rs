//! The core's top, `synforge_core`: ports, parameter registers, memories, the datapath
//! blocks and the controller that sequences one timestep (docs/semantics.md §4; the phases
//! and their cycle costs are in `docs/rtl.md` and `cycles.rs`).
//! Twin of `sim/src/model/fixed.rs`.

use std::fmt::Write;

use synforge_sim::config::Network;

use crate::layout::{draws, Layout};
use crate::verilog::{lit, zx};

/// Controller states, in the order of a step. The values are what the VCD shows in `state`.
pub const STATES: &[&str] = &[
    "IDLE", "INIT", "PRE", "N_READ", "N_DECAY", "N_ACC", "N_FIRE", "N_PLAST", "N_WB", "X_BUMP",
    "BOOK", "SC_READ", "SC_LOAD", "SC_LOOP", "SC_WB", "DONE",
];

/// Region of the memory-mapped port (address bits 31:28).
pub const REGION_REGS: u32 = 0;
/// Weights: address `j * inputs + i`.
pub const REGION_WEIGHTS: u32 = 1;
/// Neuron state: address `j * 16 + field` (fields in [`NEURON_FIELDS`] order).
pub const REGION_NEURONS: u32 = 2;
/// Input state: address `i * 4 + field` (x1, x2, pre).
pub const REGION_INPUTS: u32 = 3;
/// Fields of region 2, by index.
pub const NEURON_FIELDS: &[&str] =
    &["v_mem", "theta_a", "trace_y1", "trace_y2", "refrac", "count", "spiked", "lfsr"];
/// Fields of region 3, by index.
pub const INPUT_FIELDS: &[&str] = &["trace_x1", "trace_x2", "pre"];
/// Read-only status registers of region 0: step count, spikes last step, input LFSR,
/// inputs, neurons.
pub const STATUS_REGS: &[(u32, &str)] = &[
    (32, "status_step"),
    (33, "status_n_prev"),
    (34, "status_lfsr_in"),
    (35, "status_inputs"),
    (36, "status_neurons"),
];

fn state_bits() -> u32 {
    crate::verilog::bits_for(STATES.len() as u64 - 1)
}

fn st(name: &str) -> String {
    format!("S_{name}")
}

/// The Verilog of `synforge_core` (without the block modules it instantiates).
pub fn module(net: &Network, l: &Layout) -> String {
    let mut v = String::new();
    let (m, n) = (l.inputs, l.neurons);
    let (iw, jw, waw, cw) = (l.iw, l.jw, l.waw, l.cw);
    let (wv, ww, wth, wx1, wy1) = (l.wv, l.ww, l.wth, l.wx1, l.wy1);
    let (wx2, wy2) = (l.wx2, l.wy2);
    let h = &net.cfg.homeostasis;
    let adaptive = h.adaptive_threshold;
    let scaling = h.scaling;
    let triplet = l.triplet;
    let plastic = l.plastic;
    let nw = &l.neuron_word;
    let xw = &l.input_word;
    let sb = state_bits();
    // Counters run to max(M, N) inclusive.
    let qw = crate::verilog::bits_for(m.max(n) as u64);

    v.push_str("// synforge_core: the time-multiplexed plastic spiking core.\n");
    v.push_str("// Interface and timing: docs/rtl.md. Arithmetic: docs/semantics.md.\n");
    v.push_str("module synforge_core (\n    input  wire clk,\n    input  wire rst,\n");
    writeln!(v, "    // input spike events, accepted while idle\n    input  wire in_valid,\n    output wire in_ready,\n    input  wire [{}:0] in_index,", iw - 1).unwrap();
    v.push_str("    // end of a timestep: accepted while idle, then busy until done\n    input  wire step,\n    output wire busy,\n    output reg  done,\n");
    writeln!(v, "    // output spike events\n    output reg  out_valid,\n    input  wire out_ready,\n    output reg  [{}:0] out_index,", jw - 1).unwrap();
    v.push_str("    // memory-mapped port, served while idle; read data one clock after mm_re\n    input  wire [31:0] mm_addr,\n    input  wire [31:0] mm_wdata,\n    input  wire mm_we,\n    input  wire mm_re,\n    output wire [31:0] mm_rdata,\n    output reg  mm_rvalid\n);\n");

    // States.
    for (k, s) in STATES.iter().enumerate() {
        let used = match *s {
            "N_PLAST" => plastic,
            "SC_READ" | "SC_LOAD" | "SC_LOOP" | "SC_WB" => scaling,
            _ => true,
        };
        if used {
            writeln!(v, "    localparam [{}:0] {} = {};", sb - 1, st(s), lit(sb, k as u64))
                .unwrap();
        }
    }
    writeln!(v, "    reg [{}:0] state;", sb - 1).unwrap();
    writeln!(v, "    assign busy = state != {};", st("IDLE")).unwrap();
    writeln!(v, "    assign in_ready = state == {};", st("IDLE")).unwrap();

    // Parameter registers.
    v.push_str(
        "\n    // Parameter registers (region 0), reset to the generated config's values.\n",
    );
    let regs: Vec<_> = l.regs.iter().filter(|r| r.built).collect();
    for r in &regs {
        writeln!(v, "    reg [{}:0] {}; // {}", r.width - 1, r.name, r.what).unwrap();
    }

    // Memories.
    v.push_str("\n    // Memories.\n");
    let mems = [
        ("wram", 16u32, waw, "w"),
        ("nram", nw.width, jw, "n"),
        ("xram", xw.width, iw, "x"),
        ("plist", iw, iw, "p"),
        ("pflag", 1, iw, "f"),
    ];
    for (name, width, aw, _) in mems {
        writeln!(v, "    reg  {name}_we;\n    reg  [{}:0] {name}_wa;\n    reg  [{}:0] {name}_wd;\n    reg  [{}:0] {name}_ra;\n    wire [{}:0] {name}_rd;", aw - 1, width - 1, aw - 1, width - 1).unwrap();
        writeln!(v, "    sf_ram_{name} u_{name} (.clk(clk), .we({name}_we), .wa({name}_wa), .wd({name}_wd), .ra({name}_ra), .rd({name}_rd));").unwrap();
    }

    // Working registers.
    v.push_str("\n    // Controller and working registers (one neuron at a time).\n");
    writeln!(v, "    reg [{}:0] j;          // neuron being processed", jw - 1).unwrap();
    writeln!(v, "    reg [{}:0] wbase;      // j * inputs", waw - 1).unwrap();
    writeln!(v, "    reg [{}:0] q_issue;    // loop index being issued", qw - 1).unwrap();
    writeln!(v, "    reg [{}:0] q_len;      // loop length", qw - 1).unwrap();
    writeln!(v, "    reg s1_v, s2_v;        // pipeline stage valid\n    reg [{0}:0] s1_q, s2_q;  // their loop index", qw - 1).unwrap();
    writeln!(v, "    reg [{}:0] s2_i;       // stage 2's input index", iw - 1).unwrap();
    writeln!(v, "    reg [{}:0] np;         // input spikes this step (|P|)", cw - 1).unwrap();
    writeln!(v, "    reg [{}:0] n_cur;      // output spikes this step", cw - 1).unwrap();
    writeln!(v, "    reg [{}:0] n_prev;     // output spikes last step", cw - 1).unwrap();
    v.push_str("    reg [31:0] t_step;     // steps done since init\n");
    v.push_str("    reg [31:0] lfsr_in;    // the input side's LFSR\n");
    v.push_str("    reg [31:0] seed_acc;   // (j + 1) * 0x9E3779B9 during init\n");
    writeln!(v, "    reg [{}:0] v_mem;", wv - 1).unwrap();
    if adaptive {
        writeln!(v, "    reg [{}:0] theta_a;", wth - 1).unwrap();
    }
    writeln!(v, "    reg [{}:0] trace_y1;", wy1 - 1).unwrap();
    if triplet {
        writeln!(v, "    reg [{}:0] trace_y2;", wy2 - 1).unwrap();
    }
    v.push_str("    reg [15:0] refrac;\n    reg [15:0] count;\n    reg spiked_last;\n    reg fired;\n    reg live;\n    reg [31:0] lfsr;\n");
    if scaling {
        v.push_str("    reg [31:0] period;     // steps into the scaling period\n    reg [15:0] scale_s;    // this neuron's scaling factor, U2.14\n");
    }
    writeln!(v, "    reg [31:0] mm_reg_rdata;\n    reg [3:0] mm_field;\n    reg [3:0] mm_region;\n    reg [{}:0] init_q;", qw - 1).unwrap();

    // Datapath blocks.
    v.push_str("\n    // Datapath blocks.\n");
    let nr = |f: &str| format!("nram_rd{}", nw.slice(f));
    let xr = |f: &str| format!("xram_rd{}", xw.slice(f));
    // Input side: x1 then x2 decay on the input LFSR (semantics 2.1).
    v.push_str("    wire [31:0] in_d1, in_d2, in_l1, in_l2;\n");
    v.push_str("    sf_lfsr_draw u_in_draw1 (.s(lfsr_in), .d(in_d1));\n");
    writeln!(v, "    assign in_l1 = {};", if draws(net.rnd.x1) { "in_d1" } else { "lfsr_in" })
        .unwrap();
    v.push_str("    sf_lfsr_draw u_in_draw2 (.s(in_l1), .d(in_d2));\n");
    writeln!(
        v,
        "    assign in_l2 = {};",
        if triplet && draws(net.rnd.x2) { "in_d2" } else { "in_l1" }
    )
    .unwrap();
    writeln!(v, "    wire [{}:0] x1_dec;", wx1 - 1).unwrap();
    writeln!(
        v,
        "    sf_decay_x1 u_decay_x1 (.q({}), .a(param_decay_x1), .r(in_d1), .d(x1_dec));",
        xr("trace_x1")
    )
    .unwrap();
    if triplet {
        writeln!(v, "    wire [{}:0] x2_dec;", wx2 - 1).unwrap();
        writeln!(
            v,
            "    sf_decay_x2 u_decay_x2 (.q({}), .a(param_decay_x2), .r(in_d2), .d(x2_dec));",
            xr("trace_x2")
        )
        .unwrap();
    }
    writeln!(v, "    wire [{}:0] x1_bump;", wx1 - 1).unwrap();
    writeln!(
        v,
        "    sf_bump_x1 u_bump_x1 (.q({}), .inc(param_inc_x1), .d(x1_bump));",
        xr("trace_x1")
    )
    .unwrap();
    if triplet {
        writeln!(v, "    wire [{}:0] x2_bump;", wx2 - 1).unwrap();
        writeln!(
            v,
            "    sf_bump_x2 u_bump_x2 (.q({}), .inc(param_inc_x2), .d(x2_bump));",
            xr("trace_x2")
        )
        .unwrap();
    }
    // Neuron side: membrane (if live), threshold, y1, y2 decays in contract order.
    let live_now = format!("(nram_rd{} == 16'd0)", nw.slice("refrac"));
    v.push_str("    wire [31:0] n_d1, n_d2, n_d3, n_d4, n_l1, n_l2, n_l3, n_l4;\n");
    writeln!(v, "    sf_lfsr_draw u_n_draw1 (.s({}), .d(n_d1));", nr("lfsr")).unwrap();
    writeln!(
        v,
        "    assign n_l1 = {};",
        if draws(net.rnd.v) { format!("{live_now} ? n_d1 : {}", nr("lfsr")) } else { nr("lfsr") }
    )
    .unwrap();
    v.push_str("    sf_lfsr_draw u_n_draw2 (.s(n_l1), .d(n_d2));\n");
    writeln!(
        v,
        "    assign n_l2 = {};",
        if adaptive && draws(net.rnd.theta) { "n_d2" } else { "n_l1" }
    )
    .unwrap();
    v.push_str("    sf_lfsr_draw u_n_draw3 (.s(n_l2), .d(n_d3));\n");
    writeln!(v, "    assign n_l3 = {};", if draws(net.rnd.y1) { "n_d3" } else { "n_l2" }).unwrap();
    v.push_str("    sf_lfsr_draw u_n_draw4 (.s(n_l3), .d(n_d4));\n");
    writeln!(
        v,
        "    assign n_l4 = {};",
        if triplet && draws(net.rnd.y2) { "n_d4" } else { "n_l3" }
    )
    .unwrap();
    writeln!(v, "    wire [{}:0] v_dec;", wv - 1).unwrap();
    writeln!(
        v,
        "    sf_decay_v u_decay_v (.q({}), .a(param_decay_v), .r(n_d1), .d(v_dec));",
        nr("v_mem")
    )
    .unwrap();
    if adaptive {
        writeln!(v, "    wire [{}:0] theta_dec;", wth - 1).unwrap();
        writeln!(v, "    sf_decay_theta u_decay_theta (.q({}), .a(param_decay_theta), .r(n_d2), .d(theta_dec));", nr("theta_a")).unwrap();
    }
    writeln!(v, "    wire [{}:0] y1_dec;", wy1 - 1).unwrap();
    writeln!(
        v,
        "    sf_decay_y1 u_decay_y1 (.q({}), .a(param_decay_y1), .r(n_d3), .d(y1_dec));",
        nr("trace_y1")
    )
    .unwrap();
    if triplet {
        writeln!(v, "    wire [{}:0] y2_dec;", wy2 - 1).unwrap();
        writeln!(
            v,
            "    sf_decay_y2 u_decay_y2 (.q({}), .a(param_decay_y2), .r(n_d4), .d(y2_dec));",
            nr("trace_y2")
        )
        .unwrap();
    }
    writeln!(v, "    wire [{}:0] y1_bump;", wy1 - 1).unwrap();
    v.push_str("    sf_bump_y1 u_bump_y1 (.q(trace_y1), .inc(param_inc_y1), .d(y1_bump));\n");
    if triplet {
        writeln!(v, "    wire [{}:0] y2_bump;", wy2 - 1).unwrap();
        v.push_str("    sf_bump_y2 u_bump_y2 (.q(trace_y2), .inc(param_inc_y2), .d(y2_bump));\n");
    }
    // Membrane input, inhibition and threshold.
    writeln!(v, "    wire [{}:0] v_acc;", wv - 1).unwrap();
    writeln!(v, "    sf_lif_acc u_lif_acc (.v(v_mem), .w(wram_rd[{}:0]), .d(v_acc));", ww - 1)
        .unwrap();
    writeln!(v, "    wire [{}:0] theta_eff;", wth - 1).unwrap();
    if adaptive {
        v.push_str(
            "    sf_theta_add u_theta_eff (.a(param_theta0), .b(theta_a), .d(theta_eff));\n",
        );
        writeln!(v, "    wire [{}:0] theta_bumped;", wth - 1).unwrap();
        v.push_str("    sf_theta_add u_theta_bump (.a(theta_a), .b(param_theta_step), .d(theta_bumped));\n");
    } else {
        v.push_str("    assign theta_eff = param_theta0;\n");
    }
    writeln!(v, "    wire [{}:0] others = n_prev - {};", cw - 1, zx("spiked_last", 1, cw)).unwrap();
    writeln!(v, "    wire [{}:0] v_fire;\n    wire fire_now;", wv - 1).unwrap();
    v.push_str("    sf_lif_fire u_lif_fire (.live(live), .v(v_mem), .inh(param_inhibition), .others(others), .theta(theta_eff), .d(v_fire), .fire(fire_now));\n");
    // Plasticity.
    v.push_str("    wire [31:0] w_draw;\n    sf_lfsr_draw u_w_draw (.s(lfsr), .d(w_draw));\n");
    v.push_str("    /* verilator lint_off UNUSEDSIGNAL */ // address bits above the regions' fields; draws a config does not use\n");
    v.push_str("    wire unused_ok = &{1'b0, mm_addr, in_d2, n_d2, n_d4, w_draw};\n    /* verilator lint_on UNUSEDSIGNAL */\n");
    if plastic {
        writeln!(
            v,
            "    wire [{}:0] x1_seen = {} ? x1_bump : {};",
            wx1 - 1,
            xr("pre"),
            xr("trace_x1")
        )
        .unwrap();
        writeln!(v, "    wire [{}:0] w_stdp;", ww - 1).unwrap();
        let mut p = "    sf_stdp u_stdp (.x1(x1_seen), ".to_string();
        if triplet {
            write!(p, ".x2({}), ", xr("trace_x2")).unwrap();
        }
        p.push_str(".y1(trace_y1), ");
        if triplet {
            p.push_str(".y2(trace_y2), ");
        }
        write!(p, ".post(fired), .pre({}), .w(wram_rd[{}:0]), .r(w_draw), .a2p(param_a2_plus), .a2m(param_a2_minus), ", xr("pre"), ww - 1).unwrap();
        if triplet {
            p.push_str(".a3p(param_a3_plus), .a3m(param_a3_minus), ");
        }
        p.push_str(".w_min(param_w_min), .w_max(param_w_max), .d(w_stdp));\n");
        v.push_str(&p);
    }
    if scaling {
        v.push_str("    wire [15:0] scale_now;\n");
        writeln!(v, "    sf_scale_factor u_scale_factor (.count({}), .target(param_scale_target), .gain(param_scale_gain), .s(scale_now));", nr("count")).unwrap();
        writeln!(v, "    wire [{}:0] w_scaled;", ww - 1).unwrap();
        writeln!(v, "    sf_scale_weight u_scale_weight (.w(wram_rd[{}:0]), .s(scale_s), .r(w_draw), .w_min(param_w_min), .w_max(param_w_max), .d(w_scaled));", ww - 1).unwrap();
    }

    // The neuron word written back.
    let mut parts: Vec<String> = Vec::new();
    for f in nw.fields.iter().rev() {
        parts.push(match f.name {
            "v_mem" => "v_mem".into(),
            "theta_a" => "theta_a".into(),
            "trace_y1" => "(bump_y ? y1_bump : trace_y1)".into(),
            "trace_y2" => "(bump_y ? y2_bump : trace_y2)".into(),
            "refrac" => "refrac".into(),
            "count" => "count".into(),
            "spiked" => "fired".into(),
            "lfsr" => "lfsr".into(),
            other => unreachable!("{other}"),
        });
    }
    writeln!(v, "    wire bump_y = fired && state == {};", st("N_WB")).unwrap();
    writeln!(v, "    wire [{}:0] n_word = {{{}}};", nw.width - 1, parts.join(", ")).unwrap();
    // The neuron word at init: all zero but the LFSR.
    let seed_j = "((param_seed ^ seed_acc) == 32'd0 ? 32'd1 : (param_seed ^ seed_acc))";
    let lf = nw.field("lfsr");
    let init_word =
        if lf.lsb > 0 { format!("{{{seed_j}, {}}}", lit(lf.lsb, 0)) } else { seed_j.to_string() };

    controller(&mut v, net, l, &init_word);
    v.push_str("endmodule\n");
    v
}

/// The controller: a combinational block that drives every memory port from the state, and
/// a clocked block for the registers. A memory read issued in cycle `c` has its data in
/// cycle `c + 1`; a loop has stage 1 (the first read's data) and, for two reads in a chain,
/// stage 2.
fn controller(v: &mut String, net: &Network, l: &Layout, init_word: &str) {
    let (m, n) = (l.inputs, l.neurons);
    let (iw, jw, waw, cw) = (l.iw, l.jw, l.waw, l.cw);
    let ww = l.ww;
    let h = &net.cfg.homeostasis;
    let (adaptive, scaling, triplet, plastic) =
        (h.adaptive_threshold, h.scaling, l.triplet, l.plastic);
    let nw = &l.neuron_word;
    let xw = &l.input_word;
    let qw = crate::verilog::bits_for(m.max(n) as u64);
    let w_stoch = draws(net.rnd.w);
    let nr = |f: &str| format!("nram_rd{}", nw.slice(f));
    let xr = |f: &str| format!("xram_rd{}", xw.slice(f));
    let live_now = format!("(nram_rd{} == 16'd0)", nw.slice("refrac"));
    let one_q = lit(qw, 1);
    let zero_q = lit(qw, 0);
    let last = |len: &str| format!("(s2_v && s2_q == {len} - {one_q})");
    let qi = |e: &str| format!("{e}[{}:0]", iw - 1);
    let word = |w: &crate::layout::Word, pick: &dyn Fn(&str) -> &'static str| {
        let parts: Vec<&str> = w.fields.iter().rev().map(|f| pick(f.name)).collect();
        format!("{{{}}}", parts.join(", "))
    };
    let keep_reserved =
        |new: &str| if ww < 16 { format!("{{wram_rd[15:{ww}], {new}}}") } else { new.to_string() };

    // Combinational: memory ports.
    let mut c = String::new();
    c.push_str("\n    // Memory ports, from the state (combinational).\n    always @(*) begin\n");
    for (name, aw, dw) in [
        ("wram", waw, 16),
        ("nram", jw, nw.width),
        ("xram", iw, xw.width),
        ("plist", iw, iw),
        ("pflag", iw, 1),
    ] {
        writeln!(
            c,
            "        {name}_we = 1'b0; {name}_wa = {}; {name}_wd = {}; {name}_ra = {};",
            lit(aw, 0),
            lit(dw, 0),
            lit(aw, 0)
        )
        .unwrap();
    }
    c.push_str("        case (state)\n");
    // IDLE
    writeln!(c, "        {}: begin", st("IDLE")).unwrap();
    c.push_str("            if (in_valid) begin pflag_we = 1'b1; pflag_wa = in_index; pflag_wd = 1'b1; end\n");
    writeln!(c, "            wram_ra = mm_addr[{}:0];\n            nram_ra = mm_addr[{}:4];\n            xram_ra = mm_addr[{}:2];", waw - 1, jw + 3, iw + 1).unwrap();
    writeln!(c, "            if (mm_we && mm_addr[31:28] == 4'd1) begin wram_we = 1'b1; wram_wa = mm_addr[{}:0]; wram_wd = mm_wdata[15:0]; end", waw - 1).unwrap();
    c.push_str("        end\n");
    // INIT
    writeln!(c, "        {}: begin", st("INIT")).unwrap();
    writeln!(c, "            if (init_q < {}) begin nram_we = 1'b1; nram_wa = init_q[{}:0]; nram_wd = {init_word}; end", lit(qw, n as u64), jw - 1).unwrap();
    writeln!(c, "            if (init_q < {}) begin xram_we = 1'b1; xram_wa = {}; xram_wd = {}; pflag_we = 1'b1; pflag_wa = {}; pflag_wd = 1'b0; end", lit(qw, m as u64), qi("init_q"), lit(xw.width, 0), qi("init_q")).unwrap();
    c.push_str("        end\n");
    // PRE
    writeln!(c, "        {}: begin", st("PRE")).unwrap();
    writeln!(c, "            xram_ra = {}; pflag_ra = {};", qi("q_issue"), qi("q_issue")).unwrap();
    c.push_str("            if (s1_v) begin\n");
    let pre_word = word(xw, &|f| match f {
        "trace_x1" => "x1_dec",
        "trace_x2" => "x2_dec",
        _ => "pflag_rd",
    });
    writeln!(c, "                xram_we = 1'b1; xram_wa = {}; xram_wd = {pre_word};", qi("s1_q"))
        .unwrap();
    writeln!(c, "                pflag_we = 1'b1; pflag_wa = {}; pflag_wd = 1'b0;", qi("s1_q"))
        .unwrap();
    writeln!(c, "                if (pflag_rd) begin plist_we = 1'b1; plist_wa = np[{}:0]; plist_wd = {}; end", iw - 1, qi("s1_q")).unwrap();
    c.push_str("            end\n        end\n");
    // N_READ, SC_READ
    writeln!(c, "        {}: nram_ra = j;", st("N_READ")).unwrap();
    // N_ACC
    writeln!(c, "        {}: begin\n            plist_ra = {};\n            wram_ra = wbase + {};\n        end", st("N_ACC"), qi("q_issue"), zx("plist_rd", iw, waw)).unwrap();
    if plastic {
        writeln!(c, "        {}: begin", st("N_PLAST")).unwrap();
        writeln!(c, "            plist_ra = {};", qi("q_issue")).unwrap();
        writeln!(
            c,
            "            wram_ra = wbase + (fired ? {} : {});",
            zx(&qi("s1_q"), iw, waw),
            zx("plist_rd", iw, waw)
        )
        .unwrap();
        writeln!(c, "            xram_ra = fired ? {} : plist_rd;", qi("s1_q")).unwrap();
        writeln!(
            c,
            "            if (s2_v) begin wram_we = 1'b1; wram_wa = wbase + {}; wram_wd = {}; end",
            zx("s2_i", iw, waw),
            keep_reserved("w_stdp")
        )
        .unwrap();
        c.push_str("        end\n");
    }
    writeln!(c, "        {}: begin nram_we = 1'b1; nram_wa = j; nram_wd = n_word; end", st("N_WB"))
        .unwrap();
    // X_BUMP
    let bump_word = word(xw, &|f| match f {
        "trace_x1" => "x1_bump",
        "trace_x2" => "x2_bump",
        _ => "1'b0",
    });
    writeln!(c, "        {}: begin", st("X_BUMP")).unwrap();
    writeln!(c, "            plist_ra = {};\n            xram_ra = plist_rd;", qi("q_issue"))
        .unwrap();
    writeln!(
        c,
        "            if (s2_v) begin xram_we = 1'b1; xram_wa = s2_i; xram_wd = {bump_word}; end"
    )
    .unwrap();
    c.push_str("        end\n");
    if scaling {
        writeln!(c, "        {}: nram_ra = j;", st("SC_READ")).unwrap();
        writeln!(c, "        {}: begin", st("SC_LOOP")).unwrap();
        writeln!(c, "            wram_ra = wbase + {};", zx(&qi("q_issue"), iw, waw)).unwrap();
        writeln!(
            c,
            "            if (s1_v) begin wram_we = 1'b1; wram_wa = wbase + {}; wram_wd = {}; end",
            zx(&qi("s1_q"), iw, waw),
            keep_reserved("w_scaled")
        )
        .unwrap();
        c.push_str("        end\n");
        writeln!(
            c,
            "        {}: begin nram_we = 1'b1; nram_wa = j; nram_wd = n_word; end",
            st("SC_WB")
        )
        .unwrap();
    }
    c.push_str("        default: ;\n        endcase\n    end\n");
    v.push_str(&c);

    // mm read data: registers now, memory words from the read data one clock later.
    v.push_str("\n    // Memory-mapped read data: one clock after mm_re.\n");
    v.push_str("    reg [31:0] mm_ram_rdata;\n    always @(*) begin\n        case (mm_region)\n");
    v.push_str("        4'd1: mm_ram_rdata = {16'd0, wram_rd};\n");
    v.push_str("        4'd2: case (mm_field)\n");
    for (k, name) in NEURON_FIELDS.iter().enumerate() {
        if let Some(f) = nw.fields.iter().find(|f| f.name == *name) {
            writeln!(v, "            4'd{k}: mm_ram_rdata = {};", zx(&nr(name), f.width, 32))
                .unwrap();
        }
    }
    v.push_str("            default: mm_ram_rdata = 32'd0;\n        endcase\n");
    v.push_str("        4'd3: case (mm_field[1:0])\n");
    for (k, name) in INPUT_FIELDS.iter().enumerate() {
        if let Some(f) = xw.fields.iter().find(|f| f.name == *name) {
            writeln!(v, "            2'd{k}: mm_ram_rdata = {};", zx(&xr(name), f.width, 32))
                .unwrap();
        }
    }
    v.push_str("            default: mm_ram_rdata = 32'd0;\n        endcase\n");
    v.push_str("        default: mm_ram_rdata = mm_reg_rdata;\n        endcase\n    end\n");
    v.push_str("    assign mm_rdata = mm_rvalid ? mm_ram_rdata : 32'd0;\n");

    // Clocked: registers.
    let regs: Vec<_> = l.regs.iter().filter(|r| r.built).collect();
    let mut s = String::new();
    s.push_str("\n    // The controller's registers.\n    always @(posedge clk) begin\n");
    s.push_str("        done <= 1'b0;\n        mm_rvalid <= 1'b0;\n");
    s.push_str("        if (out_valid && out_ready) out_valid <= 1'b0;\n");
    s.push_str("        if (rst) begin\n");
    writeln!(s, "            state <= {};\n            out_valid <= 1'b0;", st("IDLE")).unwrap();
    for r in &regs {
        writeln!(
            s,
            "            {} <= {};",
            r.name,
            lit(r.width, r.value & crate::verilog::ones(r.width))
        )
        .unwrap();
    }
    writeln!(
        s,
        "            n_prev <= {};\n            t_step <= 32'd0;\n            lfsr_in <= 32'd1;",
        lit(cw, 0)
    )
    .unwrap();
    if scaling {
        s.push_str("            period <= 32'd0;\n");
    }
    s.push_str("        end else begin\n            case (state)\n");
    // IDLE
    writeln!(s, "            {}: begin", st("IDLE")).unwrap();
    s.push_str("                if (mm_re) begin\n                    mm_rvalid <= 1'b1;\n                    mm_region <= mm_addr[31:28];\n                    mm_field <= mm_addr[3:0];\n");
    s.push_str("                    case (mm_addr[7:0])\n");
    for r in &regs {
        writeln!(
            s,
            "                    8'd{}: mm_reg_rdata <= {};",
            r.index,
            zx(r.name, r.width, 32)
        )
        .unwrap();
    }
    writeln!(s, "                    8'd32: mm_reg_rdata <= t_step;\n                    8'd33: mm_reg_rdata <= {};\n                    8'd34: mm_reg_rdata <= lfsr_in;\n                    8'd35: mm_reg_rdata <= 32'd{m};\n                    8'd36: mm_reg_rdata <= 32'd{n};", zx("n_prev", cw, 32)).unwrap();
    s.push_str("                    default: mm_reg_rdata <= 32'd0;\n                    endcase\n                end\n");
    s.push_str("                if (mm_we && mm_addr[31:28] == 4'd0) begin\n                    case (mm_addr[7:0])\n");
    writeln!(s, "                    8'd0: if (mm_wdata[0]) begin state <= {}; init_q <= {zero_q}; seed_acc <= 32'h9e3779b9; end", st("INIT")).unwrap();
    for r in &regs {
        writeln!(
            s,
            "                    8'd{}: {} <= mm_wdata[{}:0];",
            r.index,
            r.name,
            r.width - 1
        )
        .unwrap();
    }
    s.push_str(
        "                    default: ;\n                    endcase\n                end\n",
    );
    s.push_str("                if (step && !(mm_we && mm_addr[31:28] == 4'd0 && mm_addr[7:0] == 8'd0 && mm_wdata[0])) begin\n");
    writeln!(s, "                    state <= {};\n                    q_issue <= {zero_q};\n                    s1_v <= 1'b0;\n                    np <= {};\n                    n_cur <= {};\n                end\n            end", st("PRE"), lit(cw, 0), lit(cw, 0)).unwrap();
    // INIT
    writeln!(s, "            {}: begin", st("INIT")).unwrap();
    writeln!(s, "                seed_acc <= seed_acc + 32'h9e3779b9;\n                init_q <= init_q + {one_q};").unwrap();
    writeln!(s, "                if (init_q == {}) begin", lit(qw, m.max(n) as u64 - 1)).unwrap();
    writeln!(s, "                    state <= {};\n                    lfsr_in <= ((param_seed ^ 32'h6a09e667) == 32'd0) ? 32'd1 : (param_seed ^ 32'h6a09e667);\n                    n_prev <= {};\n                    t_step <= 32'd0;", st("IDLE"), lit(cw, 0)).unwrap();
    if scaling {
        s.push_str("                    period <= 32'd0;\n");
    }
    s.push_str("                end\n            end\n");
    // PRE
    writeln!(s, "            {}: begin", st("PRE")).unwrap();
    writeln!(
        s,
        "                if (q_issue < {}) q_issue <= q_issue + {one_q};",
        lit(qw, m as u64)
    )
    .unwrap();
    writeln!(
        s,
        "                s1_v <= q_issue < {};\n                s1_q <= q_issue;",
        lit(qw, m as u64)
    )
    .unwrap();
    writeln!(s, "                if (s1_v) begin\n                    lfsr_in <= in_l2;\n                    if (pflag_rd) np <= np + {};", lit(cw, 1)).unwrap();
    writeln!(
        s,
        "                    if (s1_q == {}) begin state <= {}; j <= {}; wbase <= {}; end",
        lit(qw, m as u64 - 1),
        st("N_READ"),
        lit(jw, 0),
        lit(waw, 0)
    )
    .unwrap();
    s.push_str("                end\n            end\n");
    writeln!(s, "            {}: state <= {};", st("N_READ"), st("N_DECAY")).unwrap();
    // N_DECAY
    writeln!(s, "            {}: begin", st("N_DECAY")).unwrap();
    writeln!(s, "                live <= {live_now};").unwrap();
    writeln!(s, "                refrac <= {live_now} ? 16'd0 : {} - 16'd1;", nr("refrac"))
        .unwrap();
    writeln!(s, "                v_mem <= {live_now} ? v_dec : {};", nr("v_mem")).unwrap();
    if adaptive {
        s.push_str("                theta_a <= theta_dec;\n");
    }
    s.push_str("                trace_y1 <= y1_dec;\n");
    if triplet {
        s.push_str("                trace_y2 <= y2_dec;\n");
    }
    writeln!(s, "                count <= {};\n                spiked_last <= {};\n                lfsr <= n_l4;", nr("count"), nr("spiked")).unwrap();
    writeln!(
        s,
        "                q_issue <= {zero_q}; q_len <= {}; s1_v <= 1'b0; s2_v <= 1'b0;",
        zx("np", cw, qw)
    )
    .unwrap();
    writeln!(s, "                state <= {};\n            end", st("N_ACC")).unwrap();
    let loop_regs = |s: &mut String| {
        writeln!(s, "                if (q_issue < q_len) q_issue <= q_issue + {one_q};").unwrap();
        s.push_str("                s1_v <= q_issue < q_len; s1_q <= q_issue;\n                s2_v <= s1_v; s2_q <= s1_q;\n");
    };
    // N_ACC
    writeln!(s, "            {}: begin", st("N_ACC")).unwrap();
    loop_regs(&mut s);
    s.push_str("                if (s2_v && live) v_mem <= v_acc;\n");
    writeln!(
        s,
        "                if (q_len == {zero_q} || {}) state <= {};\n            end",
        last("q_len"),
        st("N_FIRE")
    )
    .unwrap();
    // N_FIRE
    writeln!(s, "            {}: if (!(out_valid && !out_ready)) begin", st("N_FIRE")).unwrap();
    s.push_str("                v_mem <= v_fire;\n                fired <= fire_now;\n");
    s.push_str(
        "                if (fire_now) begin\n                    refrac <= param_refractory;\n",
    );
    if adaptive {
        s.push_str("                    theta_a <= theta_bumped;\n");
    }
    writeln!(s, "                    count <= (count == 16'hffff) ? count : count + 16'd1;\n                    out_valid <= 1'b1;\n                    out_index <= j;\n                    n_cur <= n_cur + {};\n                end", lit(cw, 1)).unwrap();
    if plastic {
        writeln!(s, "                q_issue <= {zero_q}; q_len <= fire_now ? {} : {}; s1_v <= 1'b0; s2_v <= 1'b0;", lit(qw, m as u64), zx("np", cw, qw)).unwrap();
        writeln!(s, "                state <= {};", st("N_PLAST")).unwrap();
    } else {
        writeln!(s, "                state <= {};", st("N_WB")).unwrap();
    }
    s.push_str("            end\n");
    if plastic {
        writeln!(s, "            {}: begin", st("N_PLAST")).unwrap();
        loop_regs(&mut s);
        writeln!(s, "                if (s1_v) s2_i <= fired ? {} : plist_rd;", qi("s1_q"))
            .unwrap();
        if w_stoch {
            s.push_str("                if (s2_v) lfsr <= w_draw;\n");
        }
        writeln!(
            s,
            "                if (q_len == {zero_q} || {}) state <= {};\n            end",
            last("q_len"),
            st("N_WB")
        )
        .unwrap();
    }
    // N_WB
    writeln!(s, "            {}: begin", st("N_WB")).unwrap();
    writeln!(s, "                if (j == {}) begin", lit(jw, n as u64 - 1)).unwrap();
    writeln!(s, "                    state <= {}; q_issue <= {zero_q}; q_len <= {}; s1_v <= 1'b0; s2_v <= 1'b0;", st("X_BUMP"), zx("np", cw, qw)).unwrap();
    writeln!(s, "                end else begin\n                    j <= j + {};\n                    wbase <= wbase + {};\n                    state <= {};\n                end\n            end", lit(jw, 1), lit(waw, m as u64), st("N_READ")).unwrap();
    // X_BUMP
    writeln!(s, "            {}: begin", st("X_BUMP")).unwrap();
    loop_regs(&mut s);
    s.push_str("                if (s1_v) s2_i <= plist_rd;\n");
    writeln!(
        s,
        "                if (q_len == {zero_q} || {}) state <= {};\n            end",
        last("q_len"),
        st("BOOK")
    )
    .unwrap();
    // BOOK
    writeln!(s, "            {}: begin", st("BOOK")).unwrap();
    s.push_str("                n_prev <= n_cur;\n                t_step <= t_step + 32'd1;\n");
    if scaling {
        s.push_str("                if (period == param_scale_period - 32'd1) begin\n                    period <= 32'd0;\n");
        writeln!(
            s,
            "                    state <= {}; j <= {}; wbase <= {};",
            st("SC_READ"),
            lit(jw, 0),
            lit(waw, 0)
        )
        .unwrap();
        writeln!(s, "                end else begin\n                    period <= period + 32'd1;\n                    state <= {};\n                end", st("DONE")).unwrap();
    } else {
        writeln!(s, "                state <= {};", st("DONE")).unwrap();
    }
    s.push_str("            end\n");
    if scaling {
        writeln!(s, "            {}: state <= {};", st("SC_READ"), st("SC_LOAD")).unwrap();
        writeln!(s, "            {}: begin", st("SC_LOAD")).unwrap();
        writeln!(s, "                scale_s <= scale_now;\n                lfsr <= {};\n                v_mem <= {};", nr("lfsr"), nr("v_mem")).unwrap();
        if adaptive {
            writeln!(s, "                theta_a <= {};", nr("theta_a")).unwrap();
        }
        writeln!(s, "                trace_y1 <= {};", nr("trace_y1")).unwrap();
        if triplet {
            writeln!(s, "                trace_y2 <= {};", nr("trace_y2")).unwrap();
        }
        writeln!(s, "                refrac <= {};\n                count <= 16'd0;\n                fired <= {};", nr("refrac"), nr("spiked")).unwrap();
        writeln!(s, "                q_issue <= {zero_q}; q_len <= {}; s1_v <= 1'b0;\n                state <= {};\n            end", lit(qw, m as u64), st("SC_LOOP")).unwrap();
        writeln!(s, "            {}: begin", st("SC_LOOP")).unwrap();
        writeln!(s, "                if (q_issue < q_len) q_issue <= q_issue + {one_q};").unwrap();
        s.push_str("                s1_v <= q_issue < q_len; s1_q <= q_issue;\n                if (s1_v) begin\n");
        if w_stoch {
            s.push_str("                    lfsr <= w_draw;\n");
        }
        writeln!(s, "                    if (s1_q == {}) state <= {};\n                end\n            end", lit(qw, m as u64 - 1), st("SC_WB")).unwrap();
        writeln!(s, "            {}: begin", st("SC_WB")).unwrap();
        writeln!(s, "                if (j == {}) state <= {};", lit(jw, n as u64 - 1), st("DONE"))
            .unwrap();
        writeln!(s, "                else begin j <= j + {}; wbase <= wbase + {}; state <= {}; end\n            end", lit(jw, 1), lit(waw, m as u64), st("SC_READ")).unwrap();
    }
    writeln!(
        s,
        "            {}: if (!(out_valid && !out_ready)) begin done <= 1'b1; state <= {}; end",
        st("DONE"),
        st("IDLE")
    )
    .unwrap();
    writeln!(
        s,
        "            default: state <= {};\n            endcase\n        end\n    end",
        st("IDLE")
    )
    .unwrap();
    v.push_str(&s);
}
