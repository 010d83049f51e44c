//! Homeostasis: the adaptive threshold's saturating sums and multiplicative synaptic scaling
//! (docs/semantics.md §4.1, §4.6). The threshold's decay is a `trace::decay_module`.
//! Twin of `sim/src/plasticity/homeostasis.rs`.

use std::fmt::Write;

use synforge_sim::format::Rounding;
use synforge_sim::plasticity::homeostasis::SCALE_FRAC;

use crate::verilog::{lit, sat_unsigned, zx};

/// `module sf_theta_add(a, b, d)`: `d = sat_theta(a + b)`; all threshold width, unsigned.
/// Used for the effective threshold `theta0 + theta_a` and the bump `theta_a + step`.
pub fn sat_add_module(wth: u32) -> String {
    let mut v = String::new();
    v.push_str("// sf_theta_add: saturating sum in the threshold format (semantics 4.1).\n");
    writeln!(v, "module sf_theta_add (\n    input  wire [{0}:0] a,\n    input  wire [{0}:0] b,\n    output wire [{0}:0] d\n);", wth - 1).unwrap();
    writeln!(v, "    wire [{wth}:0] s = {} + {};", zx("a", wth, wth + 1), zx("b", wth, wth + 1))
        .unwrap();
    writeln!(v, "    assign d = {};", sat_unsigned("s", wth + 1, wth)).unwrap();
    v.push_str("endmodule\n");
    v
}

/// `module sf_scale_factor(count, target, gain, s)`: the scaling factor, U2.14:
/// `s = clamp(2^14 + ((g * (T - (count << 8))) >> 10), 0, 0xFFFF)`, floor.
/// `count` in 16 bits; `target` in 32 bits (8 fraction bits); `gain` in U0.16; `s` out 16 bits.
pub fn factor_module() -> String {
    let mut v = String::new();
    v.push_str("// sf_scale_factor: a neuron's synaptic-scaling factor, U2.14 (semantics 4.6).\n");
    v.push_str("module sf_scale_factor (\n    input  wire [15:0] count,\n    input  wire [31:0] target,\n    input  wire [15:0] gain,\n    output wire [15:0] s\n);\n");
    // err = T - (c << 8), 34 bits two's complement; its magnitude times g, floor-shifted by
    // 10 with the sign put back: floor(-x / 1024) = -((x + 1023) >> 10).
    v.push_str("    wire [33:0] err = {2'b00, target} - {10'd0, count, 8'd0};\n");
    v.push_str("    wire neg = err[33];\n");
    v.push_str("    wire [33:0] mag = neg ? (~err + 34'd1) : err;\n");
    v.push_str("    wire [49:0] prod = {16'd0, mag} * {34'd0, gain};\n");
    v.push_str("    /* verilator lint_off UNUSEDSIGNAL */ // the low 10 bits are shifted away\n");
    v.push_str("    wire [49:0] up = prod + 50'd1023;\n");
    v.push_str("    /* verilator lint_on UNUSEDSIGNAL */\n");
    v.push_str("    wire [39:0] q = neg ? up[49:10] : prod[49:10];\n");
    // 2^14 + sign * q, clamped to [0, 0xFFFF], in 42 bits.
    v.push_str(
        "    wire [41:0] sum = neg ? (42'd16384 - {2'b00, q}) : (42'd16384 + {2'b00, q});\n",
    );
    v.push_str(
        "    assign s = (neg & (q > 40'd16384)) ? 16'd0 : (|sum[41:16] ? 16'hffff : sum[15:0]);\n",
    );
    v.push_str("endmodule\n");
    v
}

/// `module sf_scale_weight(w, s, r, w_min, w_max, d)`:
/// `d = clamp(round(w * s, 14), w_min, w_max)`, weight rounding. `w`, `w_min`, `w_max`, `d`
/// weight width; `s` 16 bits U2.14; `r` 32 bits, the LFSR draw (stochastic: its top 14 bits).
pub fn scale_module(ww: u32, rounding: Rounding) -> String {
    let p = ww + 16;
    let mut v = String::new();
    writeln!(
        v,
        "// sf_scale_weight: one synapse's scaling, rounding {rounding:?} (semantics 4.6)."
    )
    .unwrap();
    writeln!(v, "module sf_scale_weight (\n    input  wire [{0}:0] w,\n    input  wire [15:0] s,\n    input  wire [31:0] r,\n    input  wire [{0}:0] w_min,\n    input  wire [{0}:0] w_max,\n    output wire [{0}:0] d\n);", ww - 1).unwrap();
    writeln!(v, "    wire [{}:0] prod = {} * {};", p - 1, zx("w", ww, p), zx("s", 16, p)).unwrap();
    let sf = SCALE_FRAC;
    v.push_str(
        "    /* verilator lint_off UNUSEDSIGNAL */ // rounded-away bits, unused draw bits\n",
    );
    match rounding {
        Rounding::Floor => {
            writeln!(v, "    wire [{}:0] sum = {};", p, zx("prod", p, p + 1)).unwrap()
        }
        Rounding::Nearest => writeln!(
            v,
            "    wire [{}:0] sum = {} + {};",
            p,
            zx("prod", p, p + 1),
            lit(p + 1, 1 << (sf - 1))
        )
        .unwrap(),
        Rounding::Stochastic => writeln!(
            v,
            "    wire [{}:0] sum = {} + {};",
            p,
            zx("prod", p, p + 1),
            zx(&format!("r[31:{}]", 32 - sf), sf, p + 1)
        )
        .unwrap(),
    }
    v.push_str("    wire unused_r = &{1'b0, r};\n    /* verilator lint_on UNUSEDSIGNAL */\n");
    let qw = p + 1 - sf;
    writeln!(v, "    wire [{}:0] q = sum[{}:{sf}];", qw - 1, p).unwrap();
    writeln!(
        v,
        "    assign d = (q < {}) ? w_min : ((q > {}) ? w_max : q[{}:0]);",
        zx("w_min", ww, qw),
        zx("w_max", ww, qw),
        ww - 1
    )
    .unwrap();
    v.push_str("endmodule\n");
    v
}
