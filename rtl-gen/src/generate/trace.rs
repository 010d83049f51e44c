//! Decay and increment of a state quantity (docs/semantics.md §3, §4.4).
//! Twin of `sim/src/trace.rs`; the membrane and the adaptive threshold decay through the same
//! block.

use std::fmt::Write;

use synforge_sim::config::Pairing;
use synforge_sim::format::Rounding;

use crate::verilog::{lit, zx};

/// `module <name>(q, a, r, d)`: `d = sign(q) * round(|q| * a, 16)`.
///
/// Ports: `q` in, `width` bits (two's complement if `signed`, else unsigned); `a` in, 16 bits,
/// U0.16 decay factor; `r` in, 32 bits, the LFSR draw (used by `stochastic` only: its top 16
/// bits); `d` out, `width` bits. Combinational.
pub fn decay_module(name: &str, width: u32, signed: bool, rounding: Rounding) -> String {
    let w = width;
    let mut v = String::new();
    writeln!(v, "// {name}: one decay step, sign(q) * round(|q| * a, 16), rounding {rounding:?}.")
        .unwrap();
    writeln!(v, "module {name} (").unwrap();
    writeln!(v, "    input  wire [{}:0] q,", w - 1).unwrap();
    v.push_str("    input  wire [15:0] a,\n    input  wire [31:0] r,\n");
    writeln!(v, "    output wire [{}:0] d\n);", w - 1).unwrap();
    if signed {
        writeln!(v, "    wire neg = q[{}];", w - 1).unwrap();
        writeln!(v, "    wire [{}:0] mag = neg ? (~q + {}) : q;", w - 1, lit(w, 1)).unwrap();
    } else {
        writeln!(v, "    wire [{}:0] mag = q;", w - 1).unwrap();
    }
    writeln!(
        v,
        "    wire [{}:0] prod = {} * {};",
        w + 15,
        zx("mag", w, w + 16),
        zx("a", 16, w + 16)
    )
    .unwrap();
    let bias = match rounding {
        Rounding::Floor => None,
        Rounding::Nearest => Some(lit(w + 16, 1 << 15)),
        Rounding::Stochastic => Some(zx("r[31:16]", 16, w + 16)),
    };
    v.push_str("    /* verilator lint_off UNUSEDSIGNAL */ // the low 16 bits are rounded away\n");
    match bias {
        Some(b) => writeln!(v, "    wire [{}:0] sum = prod + {b};", w + 15).unwrap(),
        None => writeln!(v, "    wire [{}:0] sum = prod;", w + 15).unwrap(),
    }
    if rounding != Rounding::Stochastic {
        v.push_str("    wire unused_r = &{1'b0, r};\n");
    } else {
        v.push_str("    wire unused_r = &{1'b0, r[15:0]};\n");
    }
    v.push_str("    /* verilator lint_on UNUSEDSIGNAL */\n");
    writeln!(v, "    wire [{}:0] m = sum[{}:16];", w - 1, w + 15).unwrap();
    if signed {
        writeln!(v, "    assign d = neg ? (~m + {}) : m;", lit(w, 1)).unwrap();
    } else {
        v.push_str("    assign d = m;\n");
    }
    v.push_str("endmodule\n");
    v
}

/// `module <name>(q, inc, d)`: a trace's increment on a spike, `sat(q + inc)` (all-to-all) or
/// `inc` (nearest). Ports: `q`, `inc` in, `d` out, all `width` bits unsigned. Combinational.
pub fn bump_module(name: &str, width: u32, pairing: Pairing) -> String {
    let w = width;
    let mut v = String::new();
    writeln!(v, "// {name}: a trace increment, pairing {pairing:?}.").unwrap();
    writeln!(v, "module {name} (").unwrap();
    writeln!(
        v,
        "    input  wire [{0}:0] q,\n    input  wire [{0}:0] inc,\n    output wire [{0}:0] d\n);",
        w - 1
    )
    .unwrap();
    match pairing {
        Pairing::AllToAll => {
            writeln!(v, "    wire [{w}:0] s = {} + {};", zx("q", w, w + 1), zx("inc", w, w + 1))
                .unwrap();
            writeln!(
                v,
                "    assign d = s[{w}] ? {} : s[{}:0];",
                lit(w, crate::verilog::ones(w)),
                w - 1
            )
            .unwrap();
        }
        Pairing::Nearest => {
            v.push_str("    /* verilator lint_off UNUSEDSIGNAL */ // nearest pairing sets, it does not add\n");
            v.push_str(
                "    wire unused_q = &{1'b0, q};\n    /* verilator lint_on UNUSEDSIGNAL */\n",
            );
            v.push_str("    assign d = inc;\n");
        }
    }
    v.push_str("endmodule\n");
    v
}
