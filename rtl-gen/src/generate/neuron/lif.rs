//! The leaky integrate-and-fire update (docs/semantics.md §4.1), in two combinational blocks
//! the controller uses in turn: one synaptic input at a time, then inhibition and the
//! threshold. (The membrane's decay is a `trace::decay_module`.) Twin of
//! `sim/src/neuron/lif.rs`.

use std::fmt::Write;

use synforge_sim::config::{Network, Reset};

use crate::layout::Layout;
use crate::verilog::{lit, sat_signed, sx, zx};

/// `module sf_lif_acc(v, w, d)`: `d = sat_v(v + (w << (v.frac - w.frac)))`.
/// Ports: `v` in, membrane width, two's complement; `w` in, weight width, unsigned;
/// `d` out, membrane width. Combinational. Weights are non-negative, so adding them one at a
/// time, saturating each time, equals the contract's single saturation of the exact sum.
pub fn acc_module(net: &Network, l: &Layout) -> String {
    let (wv, ww) = (l.v_bits, l.weight_bits);
    let al = net.fmt.v.frac - net.fmt.w.frac;
    let s = wv.max(ww + al) + 2;
    let mut v = String::new();
    v.push_str(
        "// sf_lif_acc: one synaptic input into the membrane, saturating (semantics 4.1).\n",
    );
    writeln!(v, "module sf_lif_acc (\n    input  wire [{}:0] v,\n    input  wire [{}:0] w,\n    output wire [{}:0] d\n);", wv - 1, ww - 1, wv - 1).unwrap();
    let wal = if al > 0 { format!("{{w, {}}}", lit(al, 0)) } else { "w".to_string() };
    writeln!(v, "    wire [{}:0] sum = {} + {};", s - 1, sx("v", wv, s), zx(&wal, ww + al, s))
        .unwrap();
    writeln!(v, "    assign d = {};", sat_signed("sum", s, wv)).unwrap();
    v.push_str("endmodule\n");
    v
}

/// The inhibition product's width: membrane width plus spike-count width.
pub fn inh_width(l: &Layout) -> u32 {
    l.v_bits + l.count_bits
}

/// The inhibition body: `prod = inh * others` (declared by the caller).
fn inh_body(v: &mut String, l: &Layout) {
    let pw = inh_width(l);
    writeln!(
        v,
        "    assign prod = {} * {};",
        zx("inh", l.v_bits, pw),
        zx("others", l.count_bits, pw)
    )
    .unwrap();
}

/// The inhibition applied: from `live`, `v`, `prod` to `v1` (declared by the caller).
fn sub_body(v: &mut String, l: &Layout) {
    let wv = l.v_bits;
    let pw = inh_width(l);
    let s = pw + 2;
    writeln!(v, "    wire [{}:0] diff = {} - {};", s - 1, sx("v", wv, s), zx("prod", pw, s))
        .unwrap();
    writeln!(v, "    assign v1 = live ? {} : v;", sat_signed("diff", s, wv)).unwrap();
}

/// The threshold body: from `live`, `v1`, `theta` to `d` and `fire`.
fn thresh_body(v: &mut String, net: &Network, l: &Layout) {
    let (wv, wth) = (l.v_bits, l.theta_bits);
    let al = net.fmt.v.frac - net.fmt.theta.frac;
    let c = wv.max(wth + al) + 1;
    let thal = if al > 0 { format!("{{theta, {}}}", lit(al, 0)) } else { "theta".to_string() };
    writeln!(v, "    wire [{}:0] thr = {};", c - 1, zx(&thal, wth + al, c)).unwrap();
    writeln!(v, "    wire [{}:0] v1u = {};", c - 1, zx(&format!("v1[{}:0]", wv - 2), wv - 1, c))
        .unwrap();
    v.push_str(&format!("    assign fire = live & ~v1[{}] & (v1u >= thr);\n", wv - 1));
    match net.cfg.neuron.reset {
        Reset::Zero => {
            v.push_str(
                "    /* verilator lint_off UNUSEDSIGNAL */ // reset to zero does not subtract\n",
            );
            v.push_str(
                "    wire unused_thr = &{1'b0, thr};\n    /* verilator lint_on UNUSEDSIGNAL */\n",
            );
            writeln!(v, "    assign d = fire ? {} : v1;", lit(wv, 0)).unwrap();
        }
        Reset::Subtract => {
            v.push_str(
                "    /* verilator lint_off UNUSEDSIGNAL */ // below v1, so it fits the membrane\n",
            );
            writeln!(v, "    wire [{}:0] sub = v1u - thr;", c - 1).unwrap();
            v.push_str("    /* verilator lint_on UNUSEDSIGNAL */\n");
            writeln!(v, "    assign d = fire ? sub[{}:0] : v1;", wv - 1).unwrap();
        }
    }
}

/// `module sf_lif_inh(inh, others, prod)`: the lateral inhibition of one neuron, `prod = inh *
/// others`. `inh` in, membrane width, inhibition per spike (>= 0); `others` in, count width,
/// spikes of the other neurons in the previous step; `prod` out, [`inh_width`] bits.
/// Combinational; the core registers its output before the threshold cycle.
pub fn inh_module(l: &Layout) -> String {
    let mut v = String::new();
    v.push_str(
        "// sf_lif_inh: lateral inhibition, inhibition per spike x other spikes (semantics 4.1).\n",
    );
    writeln!(
        v,
        "module sf_lif_inh (\n    input  wire [{}:0] inh,\n    input  wire [{}:0] others,\n    output wire [{}:0] prod\n);",
        l.v_bits - 1, l.count_bits - 1, inh_width(l) - 1
    )
    .unwrap();
    inh_body(&mut v, l);
    v.push_str("endmodule\n");
    v
}

/// `module sf_lif_sub(live, v, prod, v1)`: the inhibition applied. `live` in, 1: not
/// refractory; `v` in, membrane, after decay and input; `prod` in, [`inh_width`] bits, the
/// inhibition of [`inh_module`]; `v1` out, membrane width, `sat_v(v - prod)` when live, else
/// `v`. Combinational.
pub fn sub_module(l: &Layout) -> String {
    let mut v = String::new();
    v.push_str(
        "// sf_lif_sub: lateral inhibition applied to the membrane, saturating (semantics 4.1).\n",
    );
    writeln!(
        v,
        "module sf_lif_sub (\n    input  wire live,\n    input  wire [{}:0] v,\n    input  wire [{}:0] prod,\n    output wire [{}:0] v1\n);",
        l.v_bits - 1, inh_width(l) - 1, l.v_bits - 1
    )
    .unwrap();
    sub_body(&mut v, l);
    v.push_str("endmodule\n");
    v
}

/// `module sf_lif_thresh(live, v1, theta, d, fire)`: the threshold and the reset. `live` in,
/// 1: not refractory; `v1` in, membrane after inhibition; `theta` in, threshold width,
/// effective threshold; `d` out, membrane after the reset; `fire` out, 1 when the neuron
/// spikes. Combinational.
pub fn thresh_module(net: &Network, l: &Layout) -> String {
    let mut v = String::new();
    v.push_str("// sf_lif_thresh: threshold and reset (semantics 4.1).\n");
    writeln!(
        v,
        "module sf_lif_thresh (\n    input  wire live,\n    input  wire [{}:0] v1,\n    input  wire [{}:0] theta,\n    output wire [{}:0] d,\n    output wire fire\n);",
        l.v_bits - 1, l.theta_bits - 1, l.v_bits - 1
    )
    .unwrap();
    thresh_body(&mut v, net, l);
    v.push_str("endmodule\n");
    v
}

/// `module sf_lif_fire(live, v, inh, others, theta, d, fire)`: [`inh_module`],
/// [`sub_module`] and [`thresh_module`] in one combinational module, their bodies back to
/// back: what the block tests hold against the model (the core runs the three in successive
/// clocks). Ports: `live`
/// in, 1; `v` in, membrane width; `inh` in, membrane width; `others` in, count width; `theta`
/// in, threshold width; `d` out, membrane width; `fire` out, 1.
pub fn fire_module(net: &Network, l: &Layout) -> String {
    let (wv, wth, cw) = (l.v_bits, l.theta_bits, l.count_bits);
    let mut v = String::new();
    v.push_str("// sf_lif_fire: lateral inhibition, threshold, reset (semantics 4.1).\n");
    writeln!(
        v,
        "module sf_lif_fire (\n    input  wire live,\n    input  wire [{}:0] v,\n    input  wire [{}:0] inh,\n    input  wire [{}:0] others,\n    input  wire [{}:0] theta,\n    output wire [{}:0] d,\n    output wire fire\n);",
        wv - 1, wv - 1, cw - 1, wth - 1, wv - 1
    )
    .unwrap();
    writeln!(v, "    wire [{}:0] prod;\n    wire [{}:0] v1;", inh_width(l) - 1, wv - 1).unwrap();
    inh_body(&mut v, l);
    sub_body(&mut v, l);
    thresh_body(&mut v, net, l);
    v.push_str("endmodule\n");
    v
}
