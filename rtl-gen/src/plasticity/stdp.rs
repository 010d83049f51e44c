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

/// The widths of the two products the first half hands to the second: `(pot, dep)`.
pub fn product_widths(net: &Network, l: &Layout) -> (u32, u32) {
    let f = &net.fmt;
    (l.wx1 + 16 - f.x1.frac, l.wy1 + 16 - f.y1.frac)
}

/// The ports of the first half, in declaration order, without `pot`/`dep`; with `w_r`, the
/// whole update's `w` and `r` go after the spikes.
fn prod_ports(v: &mut String, l: &Layout, w_r: bool) {
    writeln!(v, "    input  wire [{}:0] x1,", l.wx1 - 1).unwrap();
    if l.triplet {
        writeln!(v, "    input  wire [{}:0] x2,", l.wx2 - 1).unwrap();
    }
    writeln!(v, "    input  wire [{}:0] y1,", l.wy1 - 1).unwrap();
    if l.triplet {
        writeln!(v, "    input  wire [{}:0] y2,", l.wy2 - 1).unwrap();
    }
    v.push_str("    input  wire post,\n    input  wire pre,\n");
    if w_r {
        writeln!(v, "    input  wire [{}:0] w,\n    input  wire [31:0] r,", l.ww - 1).unwrap();
    }
    v.push_str("    input  wire [15:0] a2p,\n    input  wire [15:0] a2m,\n");
    if l.triplet {
        v.push_str("    input  wire [15:0] a3p,\n    input  wire [15:0] a3m,\n");
    }
}

/// The first half's body: the triplet brackets and the two trace products, gated by the
/// spikes, into `pot` and `dep` (declared by the caller).
fn prod_body(v: &mut String, net: &Network, l: &Layout) {
    let f = &net.fmt;
    let (wx1, wy1) = (l.wx1, l.wy1);
    if l.triplet {
        bracket(v, "inner_p", "a2p", Some(("a3p", "y2", l.wy2, f.y2.frac)));
        bracket(v, "inner_m", "a2m", Some(("a3m", "x2", l.wx2, f.x2.frac)));
    } else {
        bracket(v, "inner_p", "a2p", None);
        bracket(v, "inner_m", "a2m", None);
    }
    let (ppw, dpw) = (wx1 + 16, wy1 + 16);
    let (potw, depw) = product_widths(net, l);
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
    writeln!(v, "    assign pot = post ? pot_p[{}:{}] : {};", ppw - 1, f.x1.frac, lit(potw, 0))
        .unwrap();
    writeln!(v, "    assign dep = pre ? dep_p[{}:{}] : {};", dpw - 1, f.y1.frac, lit(depw, 0))
        .unwrap();
}

/// The widths of the rounding stage: `(s, sh, t)`, the difference's width, the shift, and the
/// width of the biased difference and of the rounded step `dw`.
fn round_shape(net: &Network, l: &Layout) -> (u32, u32, u32) {
    let f = &net.fmt;
    let (potw, depw) = product_widths(net, l);
    let (s, sh) = match net.cfg.plasticity.weight_dependence {
        WeightDependence::Additive => (potw.max(depw) + 2, f.amp.frac - f.w.frac),
        WeightDependence::Multiplicative => ((potw + l.ww).max(depw + l.ww) + 2, f.amp.frac),
    };
    (s, sh, s.max(sh + 1) + 1)
}

/// The width of the rounded step `dw` that [`round_module`] hands to [`clamp_module`].
pub fn step_width(net: &Network, l: &Layout) -> u32 {
    round_shape(net, l).2
}

/// The rounding body: weight dependence and rounding, from `pot`, `dep`, `w`, `r`, `w_min`,
/// `w_max` to the signed step `dw` (declared by the caller).
fn round_body(v: &mut String, net: &Network, l: &Layout) {
    let ww = l.ww;
    let rounding = net.rnd.w;
    let (potw, depw) = product_widths(net, l);
    let (s, sh, t) = round_shape(net, l);
    match net.cfg.plasticity.weight_dependence {
        WeightDependence::Additive => {
            writeln!(
                v,
                "    wire [{}:0] diff = {} - {};",
                s - 1,
                zx("pot", potw, s),
                zx("dep", depw, s)
            )
            .unwrap();
        }
        WeightDependence::Multiplicative => {
            let (uw, dw) = (potw + ww, depw + ww);
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
        }
    }
    // round_m(diff, sh): add the bias, then an arithmetic shift.
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
    writeln!(v, "    assign dw = biased >>> {sh};").unwrap();
    v.push_str("    wire unused_r = &{1'b0, r};\n    /* verilator lint_on UNUSEDSIGNAL */\n");
}

/// The clamp body: from `dw`, `w`, `w_min`, `w_max` to the new weight `d`.
fn clamp_body(v: &mut String, net: &Network, l: &Layout) {
    let ww = l.ww;
    let t = step_width(net, l);
    let nw = t.max(ww + 1) + 1;
    writeln!(v, "    wire [{}:0] nw = {} + {};", nw - 1, sx("dw", t, nw), zx("w", ww, nw)).unwrap();
    writeln!(v, "    wire below = nw[{}] | (nw < {});", nw - 1, zx("w_min", ww, nw)).unwrap();
    writeln!(v, "    wire above = ~nw[{}] & (nw > {});", nw - 1, zx("w_max", ww, nw)).unwrap();
    writeln!(v, "    assign d = below ? w_min : (above ? w_max : nw[{}:0]);", ww - 1).unwrap();
}

fn title(net: &Network) -> String {
    format!(
        "{:?} rule, {:?}, rounding {:?} (semantics 4.3)",
        net.cfg.plasticity.rule, net.cfg.plasticity.weight_dependence, net.rnd.w
    )
}

/// `module sf_stdp_prod(...)`: the trace products of one synapse's STDP update, the first of
/// its three clock stages in the core. Combinational. Ports, all in but `pot`, `dep`:
/// `x1` x1 width, the x1 potentiation reads (after this step's pre spike); `x2` x2 width,
/// before it (triplet only); `y1`, `y2` post traces after decay, before this step's post spike
/// (`y2` triplet only); `post`, `pre` 1 bit; `a2p`, `a2m`, `a3p`, `a3m` 16 bits, amplitude
/// format (`a3*` triplet only); `pot`, `dep` out, widths [`product_widths`]: the potentiation
/// and depression products with the traces' fractions dropped, zero without their spike.
pub fn prod_module(net: &Network, l: &Layout) -> String {
    let (potw, depw) = product_widths(net, l);
    let mut v = String::new();
    writeln!(v, "// sf_stdp_prod: STDP trace products, {}.", title(net)).unwrap();
    v.push_str("module sf_stdp_prod (\n");
    prod_ports(&mut v, l, false);
    writeln!(v, "    output wire [{}:0] pot,\n    output wire [{}:0] dep\n);", potw - 1, depw - 1)
        .unwrap();
    prod_body(&mut v, net, l);
    v.push_str("endmodule\n");
    v
}

/// `module sf_stdp_round(...)`: the second stage: the weight step from the products of
/// [`prod_module`], weight dependence and rounding applied. Combinational. Ports, all in but
/// `dw`: `pot`, `dep` ([`product_widths`]); `w`, `w_min`, `w_max` weight width (`w` read
/// only by the multiplicative rule); `r` 32 bits, the LFSR draw (stochastic weight rounding
/// only); `dw` out, [`step_width`] bits, two's complement.
pub fn round_module(net: &Network, l: &Layout) -> String {
    let (potw, depw) = product_widths(net, l);
    let ww = l.ww;
    let mut v = String::new();
    writeln!(v, "// sf_stdp_round: the weight step from the STDP products, {}.", title(net))
        .unwrap();
    v.push_str("module sf_stdp_round (\n");
    writeln!(v, "    input  wire [{}:0] pot,\n    input  wire [{}:0] dep,", potw - 1, depw - 1)
        .unwrap();
    writeln!(v, "    input  wire [{0}:0] w,\n    input  wire [31:0] r,\n    input  wire [{0}:0] w_min,\n    input  wire [{0}:0] w_max,", ww - 1).unwrap();
    writeln!(v, "    output wire [{}:0] dw\n);", step_width(net, l) - 1).unwrap();
    if net.cfg.plasticity.weight_dependence == WeightDependence::Additive {
        v.push_str(
            "    /* verilator lint_off UNUSEDSIGNAL */ // the additive rule reads no weight\n",
        );
        v.push_str("    wire unused_w = &{1'b0, w, w_min, w_max};\n    /* verilator lint_on UNUSEDSIGNAL */\n");
    }
    round_body(&mut v, net, l);
    v.push_str("endmodule\n");
    v
}

/// `module sf_stdp_clamp(...)`: the third stage: the new weight, `clamp(w + dw, w_min,
/// w_max)`. Combinational. Ports, all in but `d`: `dw` ([`step_width`], two's complement);
/// `w`, `w_min`, `w_max` weight width; `d` out, weight width.
pub fn clamp_module(net: &Network, l: &Layout) -> String {
    let ww = l.ww;
    let mut v = String::new();
    writeln!(v, "// sf_stdp_clamp: the new weight, clamped to [w_min, w_max] (semantics 4.3).")
        .unwrap();
    v.push_str("module sf_stdp_clamp (\n");
    writeln!(v, "    input  wire [{}:0] dw,", step_width(net, l) - 1).unwrap();
    writeln!(v, "    input  wire [{0}:0] w,\n    input  wire [{0}:0] w_min,\n    input  wire [{0}:0] w_max,\n    output wire [{0}:0] d\n);", ww - 1).unwrap();
    clamp_body(&mut v, net, l);
    v.push_str("endmodule\n");
    v
}

/// `module sf_stdp(...)`: the whole update of one synapse `(i, j)` in a step where `i` spiked
/// (`pre`) or `j` spiked (`post`), in one combinational module: the bodies of
/// [`prod_module`], [`round_module`] and [`clamp_module`] back to back. Ports: those of
/// [`prod_module`] with `w` (weight width) and `r` (32 bits) after `pre`, then `w_min`,
/// `w_max` weight width, and `d` out, the new weight. The core runs the three in successive clock stages; this
/// composition is what the block tests hold against the model.
pub fn module(net: &Network, l: &Layout) -> String {
    let (potw, depw) = product_widths(net, l);
    let ww = l.ww;
    let mut v = String::new();
    writeln!(v, "// sf_stdp: one synapse's STDP update, {}.", title(net)).unwrap();
    v.push_str("module sf_stdp (\n");
    prod_ports(&mut v, l, true);
    writeln!(v, "    input  wire [{0}:0] w_min,\n    input  wire [{0}:0] w_max,\n    output wire [{0}:0] d\n);", ww - 1).unwrap();
    writeln!(
        v,
        "    wire [{}:0] pot;\n    wire [{}:0] dep;\n    wire [{}:0] dw;",
        potw - 1,
        depw - 1,
        step_width(net, l) - 1
    )
    .unwrap();
    prod_body(&mut v, net, l);
    round_body(&mut v, net, l);
    clamp_body(&mut v, net, l);
    v.push_str("endmodule\n");
    v
}
