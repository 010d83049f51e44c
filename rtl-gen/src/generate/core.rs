//! The core's top, `synforge_core`: ports, parameter registers, memories, the datapath
//! blocks and the controller that sequences one timestep (docs/semantics.md §4; the phases
//! and their cycle costs are in `docs/rtl.md` and `cycles.rs`).
//! Twin of `sim/src/model/fixed.rs`.

use std::fmt::Write;

use synforge_sim::config::Network;

use crate::layout::{self, draws, Layout, MOD_REG, SYN_FIELDS};
use crate::plasticity::rule::{self as rule_dp, slot_port};
use crate::verilog::{lit, zx};
use synforge_sim::plasticity::rule::{Rule, Slot};

/// Controller states, in the order of a step. The values are what the VCD shows in `state`.
pub const STATES: &[&str] = &[
    "IDLE", "INIT", "PRE", "N_READ", "N_LOAD", "N_DECAY", "N_ACC", "N_INH", "N_FIRE", "N_PLAST",
    "N_WB", "X_BUMP", "BOOK", "SC_READ", "SC_LOAD", "SC_LOOP", "SC_WB", "DONE", "SW_READ",
    "SW_LOAD", "SW_LOOP", "SW_WB",
];

/// Region of the memory-mapped port (address bits 31:28).
pub const REGION_REGS: u32 = 0;
/// Weights: address `j * inputs + i`.
pub const REGION_WEIGHTS: u32 = 1;
/// Neuron state: address `j * 16 + field` (fields in [`NEURON_FIELDS`] order). Reads give the
/// field; writes set the field in a staging word, which a write to field [`NEURON_COMMIT`]
/// stores into neuron `j` (loading a saved state).
pub const REGION_NEURONS: u32 = 2;
/// Input state: address `i * 4 + field` (x1, x2, pre), staged and committed like neurons
/// (field [`INPUT_COMMIT`]).
pub const REGION_INPUTS: u32 = 3;
/// The field of region 2 whose write stores the staged neuron word.
pub const NEURON_COMMIT: u32 = 15;
/// The field of region 3 whose write stores the staged input word.
pub const INPUT_COMMIT: u32 = 3;
/// Fields of region 2, by index.
pub const NEURON_FIELDS: &[&str] =
    &["v_mem", "theta_a", "trace_y1", "trace_y2", "refrac", "count", "spiked", "lfsr"];
/// Fields of region 3, by index.
pub const INPUT_FIELDS: &[&str] = &["trace_x1", "trace_x2", "pre"];
/// Status registers of region 0: step count, spikes last step, input LFSR, inputs, neurons,
/// steps into the scaling period (with scaling; 0 otherwise). Those in
/// [`STATUS_REGS_WRITABLE`] are written when a saved state is loaded.
pub const STATUS_REGS: &[(u32, &str)] = &[
    (32, "status_step"),
    (33, "status_n_prev"),
    (34, "status_lfsr_in"),
    (35, "status_inputs"),
    (36, "status_neurons"),
    (37, "status_period"),
];
/// The status registers a write sets (the others ignore writes).
pub const STATUS_REGS_WRITABLE: &[u32] = &[32, 33, 34, 37];

fn state_bits() -> u32 {
    crate::verilog::bits_for(STATES.len() as u64 - 1)
}

pub(crate) fn st(name: &str) -> String {
    format!("S_{name}")
}

/// A port of `synforge_core`.
#[derive(Clone, Debug)]
pub struct CorePort {
    /// Its name.
    pub name: &'static str,
    /// `in` or `out`.
    pub dir: &'static str,
    /// Bits.
    pub width: u32,
    /// An output driven by a register.
    pub reg: bool,
    /// What it carries.
    pub what: &'static str,
}

/// The ports of `synforge_core`, declared once: the Verilog header, the manifest and the
/// generated `layout.md` read them here.
pub fn ports(l: &Layout) -> Vec<CorePort> {
    let port = |name, dir, width, reg, what| CorePort { name, dir, width, reg, what };
    vec![
        port("clk", "in", 1, false, "clock; everything is synchronous to its rising edge"),
        port("rst", "in", 1, false, "synchronous reset: controller idle, registers to the generated values (memories keep their contents)"),
        port("in_valid", "in", 1, false, "an input spike event is offered"),
        port("in_ready", "out", 1, false, "events are accepted (the core is idle)"),
        port("in_index", "in", l.input_index_bits, false, "input channel of the event"),
        port("step", "in", 1, false, "end of the timestep: accepted while idle; the core is busy until done"),
        port("busy", "out", 1, false, "a step (or the init command) is in progress"),
        port("done", "out", 1, true, "one-clock pulse: the step is complete"),
        port("out_valid", "out", 1, true, "an output spike event is offered"),
        port("out_ready", "in", 1, false, "the output event is taken (the core waits for it)"),
        port("out_index", "out", l.neuron_index_bits, true, "neuron of the output spike"),
        port("mm_addr", "in", 32, false, "memory-mapped address: region in bits 31:28"),
        port("mm_wdata", "in", 32, false, "write data"),
        port("mm_we", "in", 1, false, "write strobe (served while idle)"),
        port("mm_re", "in", 1, false, "read strobe (served while idle)"),
        port("mm_rdata", "out", 32, false, "read data, valid with mm_rvalid"),
        port("mm_rvalid", "out", 1, true, "read data valid: one clock after mm_re"),
    ]
}

/// The module header: every port of [`ports`] with its meaning.
fn header(v: &mut String, l: &Layout) {
    v.push_str("module synforge_core (\n");
    let ps = ports(l);
    for (k, p) in ps.iter().enumerate() {
        let dir = if p.dir == "in" { "input " } else { "output" };
        let kind = if p.reg { "reg " } else { "wire" };
        let range = if p.width > 1 { format!("[{}:0] ", p.width - 1) } else { String::new() };
        let comma = if k + 1 < ps.len() { "," } else { "" };
        writeln!(v, "    {dir} {kind} {range}{}{comma} // {}", p.name, p.what).unwrap();
    }
    v.push_str(");\n");
}

/// The Verilog of `synforge_core` (without the block modules it instantiates).
pub fn module(net: &Network, l: &Layout) -> String {
    let mut v = String::new();
    let (m, n) = (l.inputs, l.neurons);
    let (iw, jw, waw, cw) =
        (l.input_index_bits, l.neuron_index_bits, l.weight_addr_bits, l.count_bits);
    let (wv, ww, wth, wx1, wy1) = (l.v_bits, l.weight_bits, l.theta_bits, l.x1_bits, l.y1_bits);
    let (wx2, wy2) = (l.x2_bits, l.y2_bits);
    let h = &net.cfg.homeostasis;
    let adaptive = h.adaptive_threshold;
    let scaling = h.scaling;
    let plastic = l.plastic;
    let nw = &l.neuron_word;
    let xw = &l.input_word;
    let sb = state_bits();
    // Counters run to max(M, N) inclusive.
    let qw = crate::verilog::bits_for(m.max(n) as u64);

    v.push_str("// synforge_core: the time-multiplexed plastic spiking core.\n");
    v.push_str("// Interface and timing: docs/rtl.md. Arithmetic: docs/semantics.md.\n");
    header(&mut v, l);

    // States.
    for (k, s) in STATES.iter().enumerate() {
        let used = match *s {
            "N_PLAST" => plastic,
            "SC_READ" | "SC_LOAD" | "SC_LOOP" | "SC_WB" => scaling,
            "SW_READ" | "SW_LOAD" | "SW_LOOP" | "SW_WB" => l.sweep,
            _ => true,
        };
        if used {
            writeln!(v, "    localparam [{}:0] {} = {};", sb - 1, st(s), lit(sb, k as u64))
                .unwrap();
        }
    }
    writeln!(v, "    (* fsm_encoding = \"one-hot\" *) reg [{}:0] state; // one-hot in synthesis: shallower decodes", sb - 1).unwrap();
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
    for mem in l.memories() {
        let (name, width, aw) = (mem.name, mem.width, mem.addr_bits);
        // The write ports keep their names through synthesis: the co-simulation watches them,
        // in the RTL and in the gate-level netlist alike.
        let keep = if matches!(name, "wram" | "nram" | "xram") { "(* keep *) " } else { "" };
        writeln!(v, "    {keep}reg  {name}_we;\n    {keep}reg  [{}:0] {name}_wa;\n    {keep}reg  [{}:0] {name}_wd;\n    reg  [{}:0] {name}_ra;\n    wire [{}:0] {name}_rd;", aw - 1, width - 1, aw - 1, width - 1).unwrap();
        writeln!(v, "    sf_ram_{name} u_{name} (.clk(clk), .we({name}_we), .wa({name}_wa), .wd({name}_wd), .ra({name}_ra), .rd({name}_rd));").unwrap();
    }

    // Working registers.
    v.push_str("\n    // Controller and working registers (one neuron at a time).\n");
    writeln!(v, "    reg [{}:0] j;          // neuron being processed", jw - 1).unwrap();
    writeln!(v, "    reg [{}:0] wbase;      // j * inputs", waw - 1).unwrap();
    writeln!(v, "    reg [{}:0] q_issue;    // loop index being issued", qw - 1).unwrap();
    writeln!(v, "    reg [{}:0] q_len;      // loop length", qw - 1).unwrap();
    writeln!(v, "    reg s1_v, s2_v, s3_v;  // pipeline stage valid\n    reg s1_l, s2_l, s3_l;  // and holding the loop's last item\n    reg [{0}:0] s1_q;      // stage 1's loop index", qw - 1).unwrap();
    writeln!(v, "    reg [{}:0] s2_i;       // stage 2's input index", iw - 1).unwrap();
    if plastic {
        writeln!(v, "    reg s4_v, s5_v;        // plasticity stages 4 and 5\n    reg s4_l;\n    reg [{}:0] s3_i, s4_i, s5_i;", iw - 1).unwrap();
    }
    writeln!(v, "    reg [{}:0] np;         // input spikes this step (|P|)", cw - 1).unwrap();
    writeln!(v, "    reg [{}:0] n_cur;      // output spikes this step", cw - 1).unwrap();
    writeln!(v, "    reg [{}:0] n_prev;     // output spikes last step", cw - 1).unwrap();
    v.push_str("    reg [31:0] t_step;     // steps done since init\n");
    if l.sweep {
        v.push_str("    reg [31:0] sw_phase;   // steps into the sweep period\n    reg sweep_now;         // this step ends with the sweep\n");
        writeln!(
            v,
            "    wire sweeping = state == {}; // the sweep's loop: no event, the `u` terms",
            st("SW_LOOP")
        )
        .unwrap();
    }
    v.push_str("    reg [31:0] lfsr_in;    // the input side's LFSR\n");
    v.push_str("    reg [31:0] seed_acc;   // (j + 1) * 0x9E3779B9 during init\n");
    writeln!(v, "    reg [{}:0] v_mem;", wv - 1).unwrap();
    if adaptive {
        writeln!(v, "    reg [{}:0] theta_a;", wth - 1).unwrap();
    }
    writeln!(v, "    reg [{}:0] trace_y1;", wy1 - 1).unwrap();
    if l.y2 {
        writeln!(v, "    reg [{}:0] trace_y2;", wy2 - 1).unwrap();
    }
    if l.single_port {
        v.push_str(
            "    reg tog;               // single-port weight RAM: issue every other clock\n",
        );
    }
    v.push_str("    reg [15:0] refrac;\n    reg [15:0] count;\n    reg spiked_last;\n    reg fired;\n    reg live;\n    reg [31:0] lfsr;\n");
    if scaling {
        v.push_str("    reg [31:0] period;     // steps into the scaling period\n    reg [15:0] scale_s;    // this neuron's scaling factor, U2.14\n");
    }
    writeln!(v, "    reg [31:0] mm_reg_rdata;\n    reg [3:0] mm_field;\n    reg [3:0] mm_region;\n    reg [{}:0] init_q;", qw - 1).unwrap();
    writeln!(v, "    reg [{}:0] mm_nword;   // a loaded state's neuron word, staged\n    reg [{}:0] mm_xword;   // and its input word", nw.width - 1, xw.width - 1).unwrap();

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
        if l.x2 && draws(net.rnd.x2) { "in_d2" } else { "in_l1" }
    )
    .unwrap();
    // The scan's rounding draws come from registers one step ahead (`in_r1`, `in_r2`), so the
    // XOR networks are not in the path from the input word to its write. When the scan
    // advances `lfsr_in` by `k` draws this clock, the next draws are jumps of `k + 1` and
    // `k + a + 1` from it (`a`: 1 when x1 draws); otherwise they are `in_d1` and `in_d2`.
    let a = draws(net.rnd.x1) as u32;
    let k = a + (l.x2 && draws(net.rnd.x2)) as u32;
    let jump =
        |n: u32| if n == 1 { "sf_lfsr_draw".to_string() } else { format!("sf_lfsr_draw{n}") };
    writeln!(v, "    wire [31:0] in_j1, in_j2;\n    {} u_in_jump1 (.s(lfsr_in), .d(in_j1));\n    {} u_in_jump2 (.s(lfsr_in), .d(in_j2));", jump(k + 1), jump(k + a + 1)).unwrap();
    writeln!(v, "    wire in_adv = state == {} && s2_v; // lfsr_in <= in_l2 this clock\n    reg [31:0] in_r1, in_r2;\n    always @(posedge clk) begin\n        in_r1 <= in_adv ? in_j1 : in_d1;\n        in_r2 <= in_adv ? in_j2 : in_d2;\n    end", crate::core::st("PRE")).unwrap();
    // The scan's words are registered (`xram_q`, `pflag_q`) before the decays read them.
    writeln!(v, "    reg [{0}:0] xram_q;     // the input RAM's read data, one clock later\n    reg pflag_q;\n    always @(posedge clk) begin xram_q <= xram_rd; pflag_q <= pflag_rd; end", xw.width - 1).unwrap();
    let xq = |f: &str| format!("xram_q{}", xw.slice(f));
    writeln!(v, "    wire [{}:0] x1_dec;", wx1 - 1).unwrap();
    writeln!(
        v,
        "    sf_decay_x1 u_decay_x1 (.q({}), .a(param_decay_x1), .r(in_r1), .d(x1_dec));",
        xq("trace_x1")
    )
    .unwrap();
    if l.x2 {
        writeln!(v, "    wire [{}:0] x2_dec;", wx2 - 1).unwrap();
        writeln!(
            v,
            "    sf_decay_x2 u_decay_x2 (.q({}), .a(param_decay_x2), .r(in_r2), .d(x2_dec));",
            xq("trace_x2")
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
    if l.x2 {
        writeln!(v, "    wire [{}:0] x2_bump;", wx2 - 1).unwrap();
        writeln!(
            v,
            "    sf_bump_x2 u_bump_x2 (.q({}), .inc(param_inc_x2), .d(x2_bump));",
            xr("trace_x2")
        )
        .unwrap();
    }
    // Neuron side: membrane (if live), threshold, y1, y2 decays in contract order.
    // The neuron word is registered (`nram_q`, state N_LOAD) before the decays read it.
    let nq = |f: &str| format!("nram_q{}", nw.slice(f));
    writeln!(v, "    reg [{0}:0] nram_q;     // the neuron RAM's read data, one clock later\n    always @(posedge clk) nram_q <= nram_rd;", nw.width - 1).unwrap();
    let live_now = format!("(nram_q{} == 16'd0)", nw.slice("refrac"));
    // The neuron's draws of this phase, in contract order (semantics 2.1): the membrane's only
    // when the neuron is live. Each is a jump of 1 to 4 draws from the stored state, computed
    // side by side (one XOR network each) instead of as a chain of draws.
    v.push_str("    wire [31:0] n_j1, n_j2, n_j3, n_j4;\n");
    writeln!(v, "    sf_lfsr_draw u_n_jump1 (.s({}), .d(n_j1));", nq("lfsr")).unwrap();
    for k in 2..=4 {
        writeln!(v, "    sf_lfsr_draw{k} u_n_jump{k} (.s({}), .d(n_j{k}));", nq("lfsr")).unwrap();
    }
    let jump = |k: u32| if k == 0 { nq("lfsr") } else { format!("n_j{k}") };
    let v_draws = draws(net.rnd.v);
    // `ahead`: draws already made by the quantities before, not counting the membrane's.
    let pick = |ahead: u32| {
        if v_draws {
            format!("({live_now} ? {} : {})", jump(ahead + 1), jump(ahead))
        } else {
            jump(ahead)
        }
    };
    let (th, y1, y2) = (
        (adaptive && draws(net.rnd.theta)) as u32,
        draws(net.rnd.y1) as u32,
        (l.y2 && draws(net.rnd.y2)) as u32,
    );
    v.push_str("    wire [31:0] n_d1, n_d2, n_d3, n_d4, n_l4;\n");
    v.push_str("    assign n_d1 = n_j1;\n");
    writeln!(v, "    assign n_d2 = {};", pick(1)).unwrap();
    writeln!(v, "    assign n_d3 = {};", pick(1 + th)).unwrap();
    writeln!(v, "    assign n_d4 = {};", pick(1 + th + y1)).unwrap();
    writeln!(v, "    assign n_l4 = {};", pick(th + y1 + y2)).unwrap();
    writeln!(v, "    wire [{}:0] v_dec;", wv - 1).unwrap();
    writeln!(
        v,
        "    sf_decay_v u_decay_v (.q({}), .a(param_decay_v), .r(n_d1), .d(v_dec));",
        nq("v_mem")
    )
    .unwrap();
    if adaptive {
        writeln!(v, "    wire [{}:0] theta_dec;", wth - 1).unwrap();
        writeln!(v, "    sf_decay_theta u_decay_theta (.q({}), .a(param_decay_theta), .r(n_d2), .d(theta_dec));", nq("theta_a")).unwrap();
    }
    writeln!(v, "    wire [{}:0] y1_dec;", wy1 - 1).unwrap();
    writeln!(
        v,
        "    sf_decay_y1 u_decay_y1 (.q({}), .a(param_decay_y1), .r(n_d3), .d(y1_dec));",
        nq("trace_y1")
    )
    .unwrap();
    if l.y2 {
        writeln!(v, "    wire [{}:0] y2_dec;", wy2 - 1).unwrap();
        writeln!(
            v,
            "    sf_decay_y2 u_decay_y2 (.q({}), .a(param_decay_y2), .r(n_d4), .d(y2_dec));",
            nq("trace_y2")
        )
        .unwrap();
    }
    writeln!(v, "    wire [{}:0] y1_bump;", wy1 - 1).unwrap();
    v.push_str("    sf_bump_y1 u_bump_y1 (.q(trace_y1), .inc(param_inc_y1), .d(y1_bump));\n");
    if l.y2 {
        writeln!(v, "    wire [{}:0] y2_bump;", wy2 - 1).unwrap();
        v.push_str("    sf_bump_y2 u_bump_y2 (.q(trace_y2), .inc(param_inc_y2), .d(y2_bump));\n");
    }
    // Membrane input, inhibition and threshold.
    writeln!(v, "    wire [{}:0] v_acc;", wv - 1).unwrap();
    // The weight RAM's read data, one clock later: the whole word when plasticity writes it
    // back, the weight alone otherwise.
    let qb = if plastic { l.synapse_bits } else { ww };
    writeln!(v, "    reg [{0}:0] wram_q;     // the weight RAM's read data, one clock later\n    always @(posedge clk) wram_q <= wram_rd[{0}:0];", qb - 1).unwrap();
    writeln!(v, "    sf_lif_acc u_lif_acc (.v(v_mem), .w(wram_q[{}:0]), .d(v_acc));", ww - 1)
        .unwrap();
    writeln!(v, "    wire [{}:0] theta_eff;", wth - 1).unwrap();
    if adaptive {
        v.push_str(
            "    sf_theta_add u_theta_eff (.a(param_theta0), .b(theta_a), .d(theta_eff));\n",
        );
        // Registered: theta_a settles in N_DECAY, two clocks or more before N_FIRE reads it.
        writeln!(
            v,
            "    reg [{}:0] theta_thr;\n    always @(posedge clk) theta_thr <= theta_eff;",
            wth - 1
        )
        .unwrap();
        writeln!(v, "    wire [{}:0] theta_bumped;", wth - 1).unwrap();
        v.push_str("    sf_theta_add u_theta_bump (.a(theta_a), .b(param_theta_step), .d(theta_bumped));\n");
    } else {
        writeln!(
            v,
            "    assign theta_eff = param_theta0;\n    wire [{}:0] theta_thr = theta_eff;",
            wth - 1
        )
        .unwrap();
    }
    writeln!(v, "    wire [{}:0] others = n_prev - {};", cw - 1, zx("spiked_last", 1, cw)).unwrap();
    writeln!(v, "    wire [{}:0] v_fire;\n    wire fire_now;", wv - 1).unwrap();
    // The inhibition product is registered: `others` is settled from N_DECAY on, and N_ACC
    // takes at least one clock, so the register holds this neuron's product in N_FIRE.
    let pw = crate::neuron::lif::inh_width(l);
    writeln!(v, "    wire [{}:0] inh_now;\n    reg [{}:0] inh_prod;", pw - 1, pw - 1).unwrap();
    v.push_str(
        "    sf_lif_inh u_lif_inh (.inh(param_inhibition), .others(others), .prod(inh_now));\n",
    );
    v.push_str("    always @(posedge clk) inh_prod <= inh_now;\n");
    writeln!(v, "    wire [{}:0] v_inh;", wv - 1).unwrap();
    v.push_str("    sf_lif_sub u_lif_sub (.live(live), .v(v_mem), .prod(inh_prod), .v1(v_inh));\n");
    v.push_str("    sf_lif_thresh u_lif_thresh (.live(live), .v1(v_mem), .theta(theta_thr), .d(v_fire), .fire(fire_now));\n");
    // Plasticity.
    // The weight rounding's draw comes from a register, one draw ahead of `lfsr`, so the XOR
    // network is not in the path from the weight read to the weight write.
    // The weight draws where its update runs: on spikes when its rule has event terms, in
    // the sweep when it has `u` terms (semantics 2.1 (5), (7)), and in scaling.
    let w_rule = net.rule.as_ref();
    let mut consumers = Vec::new();
    if draws(net.rnd.w) {
        if plastic && w_rule.is_some_and(|r| r.events()) {
            consumers.push(format!("(state == {} && s4_v)", st("N_PLAST")));
        }
        if scaling {
            consumers.push(format!("(state == {} && s1_v)", st("SC_LOOP")));
        }
        if l.sweep && w_rule.is_some_and(|r| r.sweeps()) {
            consumers.push(format!("(state == {} && s4_v)", st("SW_LOOP")));
        }
    }
    let w_consume = match consumers.len() {
        0 => "1'b0".to_string(),
        1 => consumers[0].clone(),
        _ => format!("({})", consumers.join(" || ")),
    };
    writeln!(v, "    reg [31:0] lfsr_next;       // one draw from lfsr, ready for the next weight rounding\n    wire [31:0] w_draw = lfsr_next;\n    wire w_consume = {w_consume};\n    wire [31:0] w_next;\n    sf_lfsr_draw u_w_draw (.s(w_consume ? lfsr_next : lfsr), .d(w_next));").unwrap();
    v.push_str("    /* verilator lint_off UNUSEDSIGNAL */ // address bits above the regions' fields; draws a config does not use; the scan's copy of the spike flag\n");
    writeln!(v, "    wire unused_ok = &{{1'b0, mm_addr, in_d2, in_r2, in_j2, n_d2, n_d3, n_d4, n_j1, n_j2, n_j3, n_j4, w_draw, xram_q{}}};\n    /* verilator lint_on UNUSEDSIGNAL */", xw.slice("pre")).unwrap();
    if net.rule.is_some() {
        plasticity(&mut v, l, net);
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

    crate::controller::emit(&mut v, net, l, &init_word);
    v.push_str("endmodule\n");
    v
}

/// The plasticity datapath (docs/rtl.md §2): stage 2 registers the memories' words and the
/// trace values the rules read (stage 3: `pl_<slot>`, `wram_q`), stage 3 each rule's grouped
/// products (`pl_g_*`), stage 4 its rounded step (`pl_dw`), stage 5 the clamped word
/// (`pl_wd`); stage 6 writes it. The weight's rule and each per-synapse variable's update
/// (`syn<k>`: wires `rule_syn<k>_*`, registers `pl_syn<k>_*`) run side by side in the same
/// stages, every one reading the synapse's word from before this update.
fn plasticity(v: &mut String, l: &Layout, net: &Network) {
    let (ww, sw) = (l.weight_bits, l.synapse_bits);
    let xw = &l.input_word;
    let sy = &l.synapse_word;
    let xr = |f: &str| format!("xram_rd{}", xw.slice(f));
    let rules = layout::rules(net);
    let regs = layout::param_regs(net);
    let slots: Vec<Slot> =
        Slot::ALL.iter().copied().filter(|&s| rules.iter().any(|r| r.reads[s as usize])).collect();
    // What each slot holds at stage 2 (semantics §4.3's table): the pre traces before or after
    // this step's pre bump, the post traces before this step's post bump (they are bumped in
    // N_WB, after the loop).
    let source = |s: Slot| match s {
        Slot::X1 => xr("trace_x1"),
        Slot::X2 => xr("trace_x2"),
        Slot::X1Post => format!("({} ? x1_bump : {})", xr("pre"), xr("trace_x1")),
        Slot::X2Post => format!("({} ? x2_bump : {})", xr("pre"), xr("trace_x2")),
        Slot::Y1 => "trace_y1".into(),
        Slot::Y2 => "trace_y2".into(),
    };
    let pre_slot = |s: Slot| !matches!(s, Slot::Y1 | Slot::Y2);
    for &s in &slots {
        if pre_slot(s) {
            let w = rules[0].trace_format(s).width;
            writeln!(
                v,
                "    reg [{}:0] pl_{};      // stage 3: a trace value the rule reads",
                w - 1,
                slot_port(s)
            )
            .unwrap();
        }
    }
    writeln!(v, "    reg pl_pre;\n    reg [{}:0] pl_w4, pl_w5; // the synapse word, stages 4 and 5 (stage 3: wram_q)", sw - 1).unwrap();
    // Per rule: its wires' infix (none for the weight's) and its new value's wire.
    let infix = |r: &Rule| r.target.map_or(String::new(), |k| format!("{}_", SYN_FIELDS[k]));
    let new_value =
        |r: &Rule| r.target.map_or("w_rule".to_string(), |k| format!("{}_rule", SYN_FIELDS[k]));
    let shapes: Vec<rule_dp::Shape> = rules.iter().map(|r| rule_dp::shape(r, ww)).collect();
    for (r, sh) in rules.iter().zip(&shapes) {
        let t = infix(r);
        for g in &sh.groups {
            writeln!(
                v,
                "    wire [{0}:0] rule_{t}{1};\n    reg [{0}:0] pl_{t}{1};   // stage 4: a group of terms",
                g.width - 1,
                g.name
            )
            .unwrap();
        }
        writeln!(
            v,
            "    wire [{0}:0] rule_{t}dw;\n    reg [{0}:0] pl_{t}dw;      // stage 5: the rounded step",
            sh.step - 1
        )
        .unwrap();
        writeln!(v, "    wire [{}:0] {};", rule_dp::target_bits(r, ww) - 1, new_value(r)).unwrap();
    }
    writeln!(v, "    reg [{}:0] pl_wd;      // stage 6: the word written\n    reg pl_we;             // stage 6: write it", sw - 1).unwrap();
    writeln!(v, "    reg [{}:0] pl_wa;      // stage 6: at this address", l.weight_addr_bits - 1)
        .unwrap();
    for ((r, sh), by_reg) in rules.iter().zip(&shapes).zip(&regs) {
        let (t, p) = (infix(r), rule_dp::prefix(r));
        let u = p.trim_start_matches("sf_");
        let mut conn: Vec<String> = rule_dp::slots(r)
            .into_iter()
            .map(|s| {
                let p = slot_port(s);
                if pre_slot(s) {
                    format!(".{p}(pl_{p})")
                } else {
                    format!(".{p}({})", source(s))
                }
            })
            .collect();
        // In the sweep, `fired` still holds the neuron's spike bit (written back with its
        // word) but no event happens: the `u` terms alone act.
        conn.push(if l.sweep { ".post(fired & ~sweeping)" } else { ".post(fired)" }.into());
        conn.push(".pre(pl_pre)".into());
        if r.sweeps() {
            conn.push(".sweep(sweeping)".into());
        }
        for (q, (_, reg)) in r.params.iter().zip(by_reg) {
            conn.push(format!(".{}({reg})", rule_dp::param_port(&q.name)));
        }
        if r.r.is_some() {
            conn.push(format!(".{}({MOD_REG})", rule_dp::MOD_PORT));
        }
        // The variables as the word held them before this update (stage 3).
        for (k, field) in SYN_FIELDS.iter().enumerate().take(r.syn.len()) {
            conn.push(format!(".syn{k}(wram_q{})", sy.slice(field)));
        }
        for g in &sh.groups {
            conn.push(format!(".{0}(rule_{t}{0})", g.name));
        }
        writeln!(v, "    {p}_prod u_{u}_prod ({});", conn.join(", ")).unwrap();
        let groups: Vec<String> =
            sh.groups.iter().map(|g| format!(".{0}(pl_{t}{0})", g.name)).collect();
        writeln!(v, "    {p}_round u_{u}_round ({}, .w(pl_w4[{}:0]), .r(w_draw), .w_min(param_w_min), .w_max(param_w_max), .dw(rule_{t}dw));", groups.join(", "), ww - 1).unwrap();
        match r.target {
            None => writeln!(v, "    {p}_clamp u_{u}_clamp (.dw(pl_dw), .w(pl_w5[{0}:0]), .w_min(param_w_min), .w_max(param_w_max), .d(w_rule));", ww - 1).unwrap(),
            Some(k) => writeln!(
                v,
                "    {p}_clamp u_{u}_clamp (.dw(pl_{t}dw), .cur(pl_w5{}), .d({}));",
                sy.slice(SYN_FIELDS[k]),
                new_value(r)
            )
            .unwrap(),
        }
    }
    // The word written: each field's new value, the reserved bits as read.
    let parts: Vec<String> = sy
        .fields
        .iter()
        .rev()
        .map(|f| match f.name {
            "weight" => "w_rule".to_string(),
            "reserved" => format!("pl_w5{}", sy.slice("reserved")),
            name => format!("{name}_rule"),
        })
        .collect();
    let word =
        if parts.len() == 1 { parts[0].clone() } else { format!("{{{}}}", parts.join(", ")) };
    v.push_str("    always @(posedge clk) begin\n");
    for &s in &slots {
        if pre_slot(s) {
            writeln!(v, "        pl_{} <= {};", slot_port(s), source(s)).unwrap();
        }
    }
    writeln!(
        v,
        "        pl_pre <= {};\n        pl_w4 <= wram_q;\n        pl_w5 <= pl_w4;",
        xr("pre")
    )
    .unwrap();
    for (r, sh) in rules.iter().zip(&shapes) {
        let t = infix(r);
        for g in &sh.groups {
            writeln!(v, "        pl_{t}{0} <= rule_{t}{0};", g.name).unwrap();
        }
        writeln!(v, "        pl_{t}dw <= rule_{t}dw;").unwrap();
    }
    writeln!(v, "        pl_wd <= {word};\n    end").unwrap();
}
