//! The controller of `synforge_core`: the state machine that sequences one timestep's phases
//! (docs/semantics.md §4, docs/rtl.md §2) over the core's memories, and serves the
//! memory-mapped port between steps. Emitted into the top module by `core.rs`.
//! Twin of `FixedModel::step` in `sim/src/model/fixed.rs`.

use std::fmt::Write;

use synforge_sim::config::Network;

use crate::core::{st, INPUT_COMMIT, INPUT_FIELDS, NEURON_COMMIT, NEURON_FIELDS};
use crate::layout::{draws, Layout, SWEEP_PHASE_REG};
use crate::verilog::{lit, zx};

/// The controller: a combinational block that drives every memory port from the state, and
/// a clocked block for the registers. A memory read issued in cycle `c` has its data in
/// cycle `c + 1`; a loop has stage 1 (the first read's data) and, for two reads in a chain,
/// stage 2.
pub(crate) fn emit(v: &mut String, net: &Network, l: &Layout, init_word: &str) {
    let (m, n) = (l.inputs, l.neurons);
    let (iw, jw, waw, cw) =
        (l.input_index_bits, l.neuron_index_bits, l.weight_addr_bits, l.count_bits);
    let (ww, sw) = (l.weight_bits, l.synapse_bits);
    // From one neuron's weights to the next: m words. With one neuron no loop takes that step
    // and m may not fit the address width (8 x 1 synapses have 3-bit addresses): 0 there.
    let next_base = if n > 1 { m as u64 } else { 0 };
    let h = &net.cfg.homeostasis;
    let (adaptive, scaling, plastic) = (h.adaptive_threshold, h.scaling, l.plastic);
    let nw = &l.neuron_word;
    let xw = &l.input_word;
    let qw = crate::verilog::bits_for(m.max(n) as u64);
    let w_stoch = draws(net.rnd.w);
    // The weight's update runs on spikes (event terms), in the sweep (`u` terms), or both.
    let w_events = net.rule.as_ref().is_some_and(|r| r.events());
    let w_sweeps = net.rule.as_ref().is_some_and(|r| r.sweeps());
    // From the bookkeeping or the scaling's last neuron: the sweep when this step ends with
    // one, else done.
    let finish = |s: &mut String, sweep_due: &str, pad: &str| {
        if l.sweep {
            writeln!(s, "{pad}if ({sweep_due}) begin state <= {}; j <= {}; wbase <= {}; end else state <= {};", st("SW_READ"), lit(jw, 0), lit(waw, 0), st("DONE")).unwrap();
        } else {
            writeln!(s, "{pad}state <= {};", st("DONE")).unwrap();
        }
    };
    let nr = |f: &str| format!("nram_rd{}", nw.slice(f));
    let xr = |f: &str| format!("xram_rd{}", xw.slice(f));
    let nq = |f: &str| format!("nram_q{}", nw.slice(f));
    let live_now = format!("(nram_q{} == 16'd0)", nw.slice("refrac"));
    let one_q = lit(qw, 1);
    let zero_q = lit(qw, 0);
    // A loop's last item: a flag that travels with it down the stages.
    let last = "(s2_v && s2_l)";
    let qi = |e: &str| format!("{e}[{}:0]", iw - 1);
    let word = |w: &crate::layout::Word, pick: &dyn Fn(&str) -> &'static str| {
        let parts: Vec<&str> = w.fields.iter().rev().map(|f| pick(f.name)).collect();
        format!("{{{}}}", parts.join(", "))
    };
    let keep_reserved = |new: &str| {
        if ww < sw {
            format!("{{wram_rd[{}:{ww}], {new}}}", sw - 1)
        } else {
            new.to_string()
        }
    };

    // Combinational: memory ports.
    let mut c = String::new();
    c.push_str("\n    // Memory ports, from the state (combinational).\n    always @(*) begin\n");
    for mem in l.memories() {
        let (name, aw, dw) = (mem.name, mem.addr_bits, mem.width);
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
    writeln!(c, "            if (mm_we && mm_addr[31:28] == 4'd1) begin wram_we = 1'b1; wram_wa = mm_addr[{}:0]; wram_wd = mm_wdata[{}:0]; end", waw - 1, sw - 1).unwrap();
    // A loaded state: the staged neuron (input) word is stored by a write to its commit field.
    writeln!(c, "            if (mm_we && mm_addr[31:28] == 4'd2 && mm_addr[3:0] == 4'd{NEURON_COMMIT}) begin nram_we = 1'b1; nram_wa = mm_addr[{}:4]; nram_wd = mm_nword; end", jw + 3).unwrap();
    writeln!(c, "            if (mm_we && mm_addr[31:28] == 4'd3 && mm_addr[1:0] == 2'd{INPUT_COMMIT}) begin xram_we = 1'b1; xram_wa = mm_addr[{}:2]; xram_wd = mm_xword; end", iw + 1).unwrap();
    c.push_str("        end\n");
    // INIT
    writeln!(c, "        {}: begin", st("INIT")).unwrap();
    writeln!(c, "            if (init_q < {}) begin nram_we = 1'b1; nram_wa = init_q[{}:0]; nram_wd = {init_word}; end", lit(qw, n as u64), jw - 1).unwrap();
    writeln!(c, "            if (init_q < {}) begin xram_we = 1'b1; xram_wa = {}; xram_wd = {}; pflag_we = 1'b1; pflag_wa = {}; pflag_wd = 1'b0; end", lit(qw, m as u64), qi("init_q"), lit(xw.width, 0), qi("init_q")).unwrap();
    c.push_str("        end\n");
    // PRE
    writeln!(c, "        {}: begin", st("PRE")).unwrap();
    writeln!(c, "            xram_ra = {}; pflag_ra = {};", qi("q_issue"), qi("q_issue")).unwrap();
    // Stage 1 clears the event flag; the words read are registered (xram_q, pflag_q) and
    // stage 2 decays and writes them.
    writeln!(
        c,
        "            if (s1_v) begin pflag_we = 1'b1; pflag_wa = {}; pflag_wd = 1'b0; end",
        qi("s1_q")
    )
    .unwrap();
    c.push_str("            if (s2_v) begin\n");
    let pre_word = word(xw, &|f| match f {
        "trace_x1" => "x1_dec",
        "trace_x2" => "x2_dec",
        _ => "pflag_q",
    });
    writeln!(c, "                xram_we = 1'b1; xram_wa = s2_i; xram_wd = {pre_word};").unwrap();
    writeln!(c, "                if (pflag_q) begin plist_we = 1'b1; plist_wa = np[{}:0]; plist_wd = s2_i; end", iw - 1).unwrap();
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
    if l.sweep {
        // The sweep: every synapse of neuron j, read as a spiking neuron's are.
        writeln!(c, "        {}: nram_ra = j;", st("SW_READ")).unwrap();
        writeln!(c, "        {}: begin", st("SW_LOOP")).unwrap();
        writeln!(c, "            wram_ra = wbase + {};", zx(&qi("s1_q"), iw, waw)).unwrap();
        writeln!(c, "            xram_ra = {};", qi("s1_q")).unwrap();
        c.push_str("        end\n");
        writeln!(
            c,
            "        {}: begin nram_we = 1'b1; nram_wa = j; nram_wd = n_word; end",
            st("SW_WB")
        )
        .unwrap();
    }
    c.push_str("        default: ;\n        endcase\n");
    if plastic {
        // The plasticity write (stage 6) comes from registers set in stage 5, outside the
        // state decode: its enable is one flip-flop. The last two land after N_PLAST, in
        // N_WB and the next N_READ (or X_BUMP), which use no weight.
        c.push_str(
            "        if (pl_we) begin wram_we = 1'b1; wram_wa = pl_wa; wram_wd = pl_wd; end\n",
        );
    }
    c.push_str("    end\n");
    v.push_str(&c);

    // mm read data: registers now, memory words from the read data one clock later.
    v.push_str("\n    // Memory-mapped read data: one clock after mm_re.\n");
    v.push_str("    reg [31:0] mm_ram_rdata;\n    always @(*) begin\n        case (mm_region)\n");
    writeln!(v, "        4'd1: mm_ram_rdata = {};", zx("wram_rd", sw, 32)).unwrap();
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
    s.push_str("        done <= 1'b0;\n        mm_rvalid <= 1'b0;\n        lfsr_next <= w_next;\n");
    if plastic {
        // The plasticity loop ends with its last draw (stage 4); stages 5 and 6 (clamp, write)
        // run on whatever the state: the last two writes land during the write-back and the
        // next neuron's read, which use no weight.
        let loops = if l.sweep {
            format!("(state == {} || state == {})", st("N_PLAST"), st("SW_LOOP"))
        } else {
            format!("state == {}", st("N_PLAST"))
        };
        writeln!(s, "        s5_v <= {loops} && s4_v; s5_i <= s4_i;\n        pl_we <= s5_v; pl_wa <= wbase + {};", zx("s5_i", iw, waw)).unwrap();
    }
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
    if l.sweep {
        s.push_str("            sw_phase <= 32'd0;\n            sweep_now <= 1'b0;\n");
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
            zx(&r.name, r.width, 32)
        )
        .unwrap();
    }
    writeln!(s, "                    8'd32: mm_reg_rdata <= t_step;\n                    8'd33: mm_reg_rdata <= {};\n                    8'd34: mm_reg_rdata <= lfsr_in;\n                    8'd35: mm_reg_rdata <= 32'd{m};\n                    8'd36: mm_reg_rdata <= 32'd{n};", zx("n_prev", cw, 32)).unwrap();
    if scaling {
        s.push_str("                    8'd37: mm_reg_rdata <= period;\n");
    }
    if l.sweep {
        writeln!(s, "                    8'd{SWEEP_PHASE_REG}: mm_reg_rdata <= sw_phase;").unwrap();
    }
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
    // The step count, the last step's spike count, the input LFSR and the scaling period's
    // position: written when a saved state is loaded.
    writeln!(s, "                    8'd32: t_step <= mm_wdata;\n                    8'd33: n_prev <= mm_wdata[{}:0];\n                    8'd34: lfsr_in <= mm_wdata;", cw - 1).unwrap();
    if scaling {
        s.push_str("                    8'd37: period <= mm_wdata;\n");
    }
    if l.sweep {
        writeln!(s, "                    8'd{SWEEP_PHASE_REG}: sw_phase <= mm_wdata;").unwrap();
    }
    s.push_str(
        "                    default: ;\n                    endcase\n                end\n",
    );
    // A loaded state's neuron and input words are staged in registers of their own, stored
    // by the commit writes above. (Staging the neuron word in the neuron's working registers,
    // which hold nothing between steps, saves their flip-flops but puts a leg on the decay
    // paths' last multiplexers: the default network's Fmax on the UP5K fell from 32.7 to
    // 31.1 MHz.)
    s.push_str("                if (mm_we && mm_addr[31:28] == 4'd2) begin\n                    case (mm_addr[3:0])\n");
    for (k, name) in NEURON_FIELDS.iter().enumerate() {
        if let Some(f) = nw.fields.iter().find(|f| f.name == *name) {
            writeln!(
                s,
                "                    4'd{k}: mm_nword{} <= mm_wdata[{}:0];",
                nw.slice(name),
                f.width - 1
            )
            .unwrap();
        }
    }
    s.push_str(
        "                    default: ;\n                    endcase\n                end\n",
    );
    s.push_str("                if (mm_we && mm_addr[31:28] == 4'd3) begin\n                    case (mm_addr[1:0])\n");
    for (k, name) in INPUT_FIELDS.iter().enumerate() {
        if let Some(f) = xw.fields.iter().find(|f| f.name == *name) {
            writeln!(
                s,
                "                    2'd{k}: mm_xword{} <= mm_wdata[{}:0];",
                xw.slice(name),
                f.width - 1
            )
            .unwrap();
        }
    }
    s.push_str(
        "                    default: ;\n                    endcase\n                end\n",
    );
    s.push_str("                if (step && !(mm_we && mm_addr[31:28] == 4'd0 && mm_addr[7:0] == 8'd0 && mm_wdata[0])) begin\n");
    writeln!(s, "                    state <= {};\n                    q_issue <= {zero_q};\n                    s1_v <= 1'b0;\n                    s2_v <= 1'b0;\n                    np <= {};\n                    n_cur <= {};\n                end\n            end", st("PRE"), lit(cw, 0), lit(cw, 0)).unwrap();
    // INIT
    writeln!(s, "            {}: begin", st("INIT")).unwrap();
    writeln!(s, "                seed_acc <= seed_acc + 32'h9e3779b9;\n                init_q <= init_q + {one_q};").unwrap();
    writeln!(s, "                if (init_q == {}) begin", lit(qw, m.max(n) as u64 - 1)).unwrap();
    writeln!(s, "                    state <= {};\n                    lfsr_in <= ((param_seed ^ 32'h6a09e667) == 32'd0) ? 32'd1 : (param_seed ^ 32'h6a09e667);\n                    n_prev <= {};\n                    t_step <= 32'd0;", st("IDLE"), lit(cw, 0)).unwrap();
    if scaling {
        s.push_str("                    period <= 32'd0;\n");
    }
    if l.sweep {
        s.push_str("                    sw_phase <= 32'd0;\n");
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
    writeln!(
        s,
        "                s2_v <= s1_v; s2_i <= {}; s2_l <= s1_q == {};",
        qi("s1_q"),
        lit(qw, m as u64 - 1)
    )
    .unwrap();
    writeln!(s, "                if (s2_v) begin\n                    lfsr_in <= in_l2;\n                    if (pflag_q) np <= np + {};", lit(cw, 1)).unwrap();
    writeln!(
        s,
        "                    if (s2_l) begin state <= {}; j <= {}; wbase <= {}; end",
        st("N_READ"),
        lit(jw, 0),
        lit(waw, 0)
    )
    .unwrap();
    s.push_str("                end\n            end\n");
    writeln!(s, "            {}: state <= {};", st("N_READ"), st("N_LOAD")).unwrap();
    // N_LOAD: the neuron word is registered (nram_q) for N_DECAY.
    writeln!(s, "            {}: state <= {};", st("N_LOAD"), st("N_DECAY")).unwrap();
    // N_DECAY
    writeln!(s, "            {}: begin", st("N_DECAY")).unwrap();
    writeln!(s, "                live <= {live_now};").unwrap();
    writeln!(s, "                refrac <= {live_now} ? 16'd0 : {} - 16'd1;", nq("refrac"))
        .unwrap();
    writeln!(s, "                v_mem <= {live_now} ? v_dec : {};", nq("v_mem")).unwrap();
    if adaptive {
        s.push_str("                theta_a <= theta_dec;\n");
    }
    s.push_str("                trace_y1 <= y1_dec;\n");
    if l.y2 {
        s.push_str("                trace_y2 <= y2_dec;\n");
    }
    writeln!(s, "                count <= {};\n                spiked_last <= {};\n                lfsr <= n_l4;", nq("count"), nq("spiked")).unwrap();
    writeln!(
        s,
        "                q_issue <= {zero_q}; q_len <= {}; s1_v <= 1'b0; s2_v <= 1'b0; s3_v <= 1'b0;",
        zx("np", cw, qw)
    )
    .unwrap();
    writeln!(s, "                state <= {};\n            end", st("N_ACC")).unwrap();
    let loop_regs = |s: &mut String| {
        writeln!(s, "                if (q_issue < q_len) q_issue <= q_issue + {one_q};").unwrap();
        writeln!(s, "                s1_v <= q_issue < q_len; s1_q <= q_issue; s1_l <= q_issue + {one_q} == q_len;\n                s2_v <= s1_v; s2_l <= s1_l;").unwrap();
    };
    // N_ACC
    writeln!(s, "            {}: begin", st("N_ACC")).unwrap();
    loop_regs(&mut s);
    // The weight read is registered (`wram_q`) before it is added: stage 3.
    s.push_str("                s3_v <= s2_v; s3_l <= s2_l;\n");
    s.push_str("                if (s3_v && live) v_mem <= v_acc;\n");
    writeln!(
        s,
        "                if (q_len == {zero_q} || (s3_v && s3_l)) state <= {};\n            end",
        st("N_INH")
    )
    .unwrap();
    // N_INH: the inhibition, a clock of its own before the threshold.
    writeln!(
        s,
        "            {}: begin v_mem <= v_inh; state <= {}; end",
        st("N_INH"),
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
        writeln!(s, "                q_issue <= {zero_q}; q_len <= fire_now ? {} : {}; s1_v <= 1'b0; s2_v <= 1'b0; s3_v <= 1'b0; s4_v <= 1'b0;{}", lit(qw, m as u64), zx("np", cw, qw), if l.single_port { " tog <= 1'b0;" } else { "" }).unwrap();
        writeln!(s, "                state <= {};", st("N_PLAST")).unwrap();
    } else {
        writeln!(s, "                state <= {};", st("N_WB")).unwrap();
    }
    s.push_str("            end\n");
    // A single-port weight RAM: a new synapse every other clock, so that its read and the
    // previous synapse's write never share a cycle.
    let sp = l.single_port;
    let gated_regs = |s: &mut String, stages: u32| {
        writeln!(s, "                if (q_issue < q_len && !tog) q_issue <= q_issue + {one_q};")
            .unwrap();
        writeln!(s, "                s1_v <= q_issue < q_len && !tog; s1_q <= q_issue; s1_l <= q_issue + {one_q} == q_len;\n                tog <= ~tog;").unwrap();
        if stages == 2 {
            s.push_str("                s2_v <= s1_v; s2_l <= s1_l;\n");
        }
    };
    if plastic {
        writeln!(s, "            {}: begin", st("N_PLAST")).unwrap();
        if sp {
            gated_regs(&mut s, 2);
        } else {
            loop_regs(&mut s);
        }
        writeln!(s, "                if (s1_v) s2_i <= fired ? {} : plist_rd;", qi("s1_q"))
            .unwrap();
        for k in 3..=4 {
            writeln!(
                s,
                "                s{k}_v <= s{0}_v; s{k}_l <= s{0}_l; s{k}_i <= s{0}_i;",
                k - 1
            )
            .unwrap();
        }
        if w_stoch && w_events {
            s.push_str("                if (s4_v) lfsr <= lfsr_next;\n");
        }
        writeln!(
            s,
            "                if (q_len == {zero_q} || (s4_v && s4_l)) state <= {};\n            end",
            st("N_WB")
        )
        .unwrap();
    }
    // N_WB
    writeln!(s, "            {}: begin", st("N_WB")).unwrap();
    writeln!(s, "                if (j == {}) begin", lit(jw, n as u64 - 1)).unwrap();
    writeln!(s, "                    state <= {}; q_issue <= {zero_q}; q_len <= {}; s1_v <= 1'b0; s2_v <= 1'b0;", st("X_BUMP"), zx("np", cw, qw)).unwrap();
    writeln!(s, "                end else begin\n                    j <= j + {};\n                    wbase <= wbase + {};\n                    state <= {};\n                end\n            end", lit(jw, 1), lit(waw, next_base), st("N_READ")).unwrap();
    // X_BUMP
    writeln!(s, "            {}: begin", st("X_BUMP")).unwrap();
    loop_regs(&mut s);
    s.push_str("                if (s1_v) s2_i <= plist_rd;\n");
    writeln!(
        s,
        "                if (q_len == {zero_q} || {}) state <= {};\n            end",
        last,
        st("BOOK")
    )
    .unwrap();
    // BOOK
    writeln!(s, "            {}: begin", st("BOOK")).unwrap();
    s.push_str("                n_prev <= n_cur;\n                t_step <= t_step + 32'd1;\n");
    let due = "sw_phase == param_sweep_period - 32'd1";
    if l.sweep {
        writeln!(s, "                if ({due}) begin sw_phase <= 32'd0; sweep_now <= 1'b1; end\n                else begin sw_phase <= sw_phase + 32'd1; sweep_now <= 1'b0; end").unwrap();
    }
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
        s.push_str(
            "                end else begin\n                    period <= period + 32'd1;\n",
        );
        finish(&mut s, due, "                    ");
        s.push_str("                end\n");
    } else {
        finish(&mut s, due, "                ");
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
        if l.y2 {
            writeln!(s, "                trace_y2 <= {};", nr("trace_y2")).unwrap();
        }
        writeln!(s, "                refrac <= {};\n                count <= 16'd0;\n                fired <= {};", nr("refrac"), nr("spiked")).unwrap();
        writeln!(s, "                q_issue <= {zero_q}; q_len <= {}; s1_v <= 1'b0;{}\n                state <= {};\n            end", lit(qw, m as u64), if l.single_port { " tog <= 1'b0;" } else { "" }, st("SC_LOOP")).unwrap();
        writeln!(s, "            {}: begin", st("SC_LOOP")).unwrap();
        if l.single_port {
            gated_regs(&mut s, 1);
        } else {
            writeln!(s, "                if (q_issue < q_len) q_issue <= q_issue + {one_q};")
                .unwrap();
            s.push_str("                s1_v <= q_issue < q_len; s1_q <= q_issue;\n");
        }
        s.push_str("                if (s1_v) begin\n");
        if w_stoch {
            s.push_str("                    lfsr <= lfsr_next;\n");
        }
        writeln!(s, "                    if (s1_q == {}) state <= {};\n                end\n            end", lit(qw, m as u64 - 1), st("SC_WB")).unwrap();
        writeln!(s, "            {}: begin", st("SC_WB")).unwrap();
        if l.sweep {
            writeln!(s, "                if (j == {}) begin", lit(jw, n as u64 - 1)).unwrap();
            finish(&mut s, "sweep_now", "                    ");
            s.push_str("                end\n");
        } else {
            writeln!(
                s,
                "                if (j == {}) state <= {};",
                lit(jw, n as u64 - 1),
                st("DONE")
            )
            .unwrap();
        }
        writeln!(s, "                else begin j <= j + {}; wbase <= wbase + {}; state <= {}; end\n            end", lit(jw, 1), lit(waw, next_base), st("SC_READ")).unwrap();
    }
    if l.sweep {
        // §4.7: per neuron, its word (the LFSR, and everything written back with it), then
        // every synapse through the plasticity pipeline with no event, then the word back.
        writeln!(s, "            {}: state <= {};", st("SW_READ"), st("SW_LOAD")).unwrap();
        writeln!(s, "            {}: begin", st("SW_LOAD")).unwrap();
        writeln!(
            s,
            "                lfsr <= {};\n                v_mem <= {};",
            nr("lfsr"),
            nr("v_mem")
        )
        .unwrap();
        if adaptive {
            writeln!(s, "                theta_a <= {};", nr("theta_a")).unwrap();
        }
        writeln!(s, "                trace_y1 <= {};", nr("trace_y1")).unwrap();
        if l.y2 {
            writeln!(s, "                trace_y2 <= {};", nr("trace_y2")).unwrap();
        }
        writeln!(s, "                refrac <= {};\n                count <= {};\n                fired <= {};", nr("refrac"), nr("count"), nr("spiked")).unwrap();
        writeln!(s, "                q_issue <= {zero_q}; q_len <= {}; s1_v <= 1'b0; s2_v <= 1'b0; s3_v <= 1'b0; s4_v <= 1'b0;{}\n                state <= {};\n            end", lit(qw, m as u64), if l.single_port { " tog <= 1'b0;" } else { "" }, st("SW_LOOP")).unwrap();
        writeln!(s, "            {}: begin", st("SW_LOOP")).unwrap();
        if l.single_port {
            gated_regs(&mut s, 2);
        } else {
            loop_regs(&mut s);
        }
        writeln!(s, "                if (s1_v) s2_i <= {};", qi("s1_q")).unwrap();
        for k in 3..=4 {
            writeln!(
                s,
                "                s{k}_v <= s{0}_v; s{k}_l <= s{0}_l; s{k}_i <= s{0}_i;",
                k - 1
            )
            .unwrap();
        }
        if w_stoch && w_sweeps {
            s.push_str("                if (s4_v) lfsr <= lfsr_next;\n");
        }
        writeln!(s, "                if (s4_v && s4_l) state <= {};\n            end", st("SW_WB"))
            .unwrap();
        writeln!(s, "            {}: begin", st("SW_WB")).unwrap();
        writeln!(s, "                if (j == {}) state <= {};", lit(jw, n as u64 - 1), st("DONE"))
            .unwrap();
        writeln!(s, "                else begin j <= j + {}; wbase <= wbase + {}; state <= {}; end\n            end", lit(jw, 1), lit(waw, next_base), st("SW_READ")).unwrap();
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
