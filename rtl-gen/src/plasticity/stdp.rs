//! Pair and triplet STDP, additive or multiplicative, for one synapse (docs/semantics.md
//! §4.3). Twin of `sim/src/plasticity/stdp.rs`.

use std::fmt::Write;

use synforge_sim::config::{Network, WeightDependence};
use synforge_sim::format::Rounding;

use crate::layout::Layout;
use crate::verilog::{lit, sx, zx};

/// The bracket `min(a2 + ((a3 * trace) >> frac), 0xFFFF)` into wire `out` (16 bits).
fn bracket(v: &mut String, out: &str, a2: &str, a3: Option<(&str, &str, u32, u32)>) {
    match a3 {
        None => writeln!(v, "    wire [15:0] {out} = {a2};").unwrap(),
        Some((a3, tr, trw, trf)) => {
            let pw = 16 + trw;
            let sw = pw - trf;
            let s = sw.max(16) + 1;
            v.push_str(
                "    /* verilator lint_off UNUSEDSIGNAL */ // bits below the trace's fraction\n",
            );
            writeln!(
                v,
                "    wire [{}:0] {out}_p = {} * {};",
                pw - 1,
                zx(a3, 16, pw),
                zx(tr, trw, pw)
            )
            .unwrap();
            v.push_str("    /* verilator lint_on UNUSEDSIGNAL */\n");
            writeln!(
                v,
                "    wire [{}:0] {out}_s = {} + {};",
                s - 1,
                zx(&format!("{out}_p[{}:{trf}]", pw - 1), sw, s),
                zx(a2, 16, s)
            )
            .unwrap();
            writeln!(
                v,
                "    wire [15:0] {out} = |{out}_s[{}:16] ? 16'hffff : {out}_s[15:0];",
                s - 1
            )
            .unwrap();
        }
    }
}

/// `module sf_stdp(...)`: the new weight of one synapse `(i, j)` in a step where `i` spiked
/// (`pre`) or `j` spiked (`post`). Combinational. Ports, all in but `d`:
/// `x1` x1 width, the x1 potentiation reads (after this step's pre spike); `x2` x2 width,
/// before it (triplet only); `y1`, `y2` post traces after decay, before this step's post spike
/// (`y2` triplet only); `post`, `pre` 1 bit; `w` weight width; `r` 32 bits, the LFSR draw
/// (stochastic weight rounding only); `a2p`, `a2m`, `a3p`, `a3m` 16 bits, amplitude format
/// (`a3*` triplet only); `w_min`, `w_max` weight width; `d` out, the new weight.
pub fn module(net: &Network, l: &Layout) -> String {
    let f = &net.fmt;
    let (ww, wx1, wy1) = (l.ww, l.wx1, l.wy1);
    let mut v = String::new();
    let rounding = net.rnd.w;
    let dep_kind = net.cfg.plasticity.weight_dependence;
    writeln!(v, "// sf_stdp: one synapse's STDP update, {:?} rule, {dep_kind:?}, rounding {rounding:?} (semantics 4.3).", net.cfg.plasticity.rule).unwrap();
    v.push_str("module sf_stdp (\n");
    writeln!(v, "    input  wire [{}:0] x1,", wx1 - 1).unwrap();
    if l.triplet {
        writeln!(v, "    input  wire [{}:0] x2,", l.wx2 - 1).unwrap();
    }
    writeln!(v, "    input  wire [{}:0] y1,", wy1 - 1).unwrap();
    if l.triplet {
        writeln!(v, "    input  wire [{}:0] y2,", l.wy2 - 1).unwrap();
    }
    v.push_str("    input  wire post,\n    input  wire pre,\n");
    writeln!(v, "    input  wire [{}:0] w,", ww - 1).unwrap();
    v.push_str(
        "    input  wire [31:0] r,\n    input  wire [15:0] a2p,\n    input  wire [15:0] a2m,\n",
    );
    if l.triplet {
        v.push_str("    input  wire [15:0] a3p,\n    input  wire [15:0] a3m,\n");
    }
    writeln!(v, "    input  wire [{0}:0] w_min,\n    input  wire [{0}:0] w_max,\n    output wire [{0}:0] d\n);", ww - 1)
        .unwrap();
    if l.triplet {
        bracket(&mut v, "inner_p", "a2p", Some(("a3p", "y2", l.wy2, f.y2.frac)));
        bracket(&mut v, "inner_m", "a2m", Some(("a3m", "x2", l.wx2, f.x2.frac)));
    } else {
        bracket(&mut v, "inner_p", "a2p", None);
        bracket(&mut v, "inner_m", "a2m", None);
    }
    let (ppw, dpw) = (wx1 + 16, wy1 + 16);
    let (potw, depw) = (ppw - f.x1.frac, dpw - f.y1.frac);
    v.push_str("    /* verilator lint_off UNUSEDSIGNAL */ // bits below the traces' fractions\n");
    writeln!(
        v,
        "    wire [{}:0] pot_p = {} * {};",
        ppw - 1,
        zx("x1", wx1, ppw),
        zx("inner_p", 16, ppw)
    )
    .unwrap();
    writeln!(
        v,
        "    wire [{}:0] dep_p = {} * {};",
        dpw - 1,
        zx("y1", wy1, dpw),
        zx("inner_m", 16, dpw)
    )
    .unwrap();
    v.push_str("    /* verilator lint_on UNUSEDSIGNAL */\n");
    writeln!(
        v,
        "    wire [{}:0] pot = post ? pot_p[{}:{}] : {};",
        potw - 1,
        ppw - 1,
        f.x1.frac,
        lit(potw, 0)
    )
    .unwrap();
    writeln!(
        v,
        "    wire [{}:0] dep = pre ? dep_p[{}:{}] : {};",
        depw - 1,
        dpw - 1,
        f.y1.frac,
        lit(depw, 0)
    )
    .unwrap();
    let (s, sh) = match dep_kind {
        WeightDependence::Additive => {
            let s = potw.max(depw) + 2;
            writeln!(
                v,
                "    wire [{}:0] diff = {} - {};",
                s - 1,
                zx("pot", potw, s),
                zx("dep", depw, s)
            )
            .unwrap();
            (s, f.amp.frac - f.w.frac)
        }
        WeightDependence::Multiplicative => {
            let (uw, dw) = (potw + ww, depw + ww);
            let s = uw.max(dw) + 2;
            writeln!(v, "    wire [{}:0] room_up = w_max - w;", ww - 1).unwrap();
            writeln!(v, "    wire [{}:0] room_dn = w - w_min;", ww - 1).unwrap();
            writeln!(
                v,
                "    wire [{}:0] up = {} * {};",
                uw - 1,
                zx("pot", potw, uw),
                zx("room_up", ww, uw)
            )
            .unwrap();
            writeln!(
                v,
                "    wire [{}:0] dn = {} * {};",
                dw - 1,
                zx("dep", depw, dw),
                zx("room_dn", ww, dw)
            )
            .unwrap();
            writeln!(v, "    wire [{}:0] diff = {} - {};", s - 1, zx("up", uw, s), zx("dn", dw, s))
                .unwrap();
            (s, f.amp.frac)
        }
    };
    // round_m(diff, sh): add the bias, then an arithmetic shift.
    let t = s.max(sh + 1) + 1;
    let bias = match (rounding, sh) {
        (_, 0) | (Rounding::Floor, _) => None,
        (Rounding::Nearest, _) => Some(lit(t, 1u64 << (sh - 1))),
        (Rounding::Stochastic, _) => Some(zx(&format!("r[31:{}]", 32 - sh), sh, t)),
    };
    v.push_str(
        "    /* verilator lint_off UNUSEDSIGNAL */ // bits rounded away, draw bits not used\n",
    );
    match bias {
        Some(b) => {
            writeln!(v, "    wire signed [{}:0] biased = {} + {b};", t - 1, sx("diff", s, t))
                .unwrap()
        }
        None => {
            writeln!(v, "    wire signed [{}:0] biased = {};", t - 1, sx("diff", s, t)).unwrap()
        }
    }
    writeln!(v, "    wire signed [{}:0] dw = biased >>> {sh};", t - 1).unwrap();
    v.push_str("    wire unused_r = &{1'b0, r};\n    /* verilator lint_on UNUSEDSIGNAL */\n");
    let nw = t.max(ww + 1) + 1;
    writeln!(v, "    wire [{}:0] nw = {} + {};", nw - 1, sx("dw", t, nw), zx("w", ww, nw)).unwrap();
    writeln!(v, "    wire below = nw[{}] | (nw < {});", nw - 1, zx("w_min", ww, nw)).unwrap();
    writeln!(v, "    wire above = ~nw[{}] & (nw > {});", nw - 1, zx("w_max", ww, nw)).unwrap();
    writeln!(v, "    assign d = below ? w_min : (above ? w_max : nw[{}:0]);", ww - 1).unwrap();
    v.push_str("endmodule\n");
    v
}
