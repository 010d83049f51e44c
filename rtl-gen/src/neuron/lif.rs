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
    let (wv, ww) = (l.wv, l.ww);
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

/// `module sf_lif_fire(live, v, inh, others, theta, d, fire)`: inhibition then the threshold.
/// `live` in, 1: not refractory; `v` in, membrane, after decay and input; `inh` in, membrane
/// width, inhibition per spike (>= 0); `others` in, count width, spikes of the other neurons in
/// the previous step; `theta` in, threshold width, effective threshold; `d` out, membrane after
/// inhibition and reset; `fire` out, 1 when the neuron spikes. Combinational.
pub fn fire_module(net: &Network, l: &Layout) -> String {
    let (wv, wth, cw) = (l.wv, l.wth, l.cw);
    let al = net.fmt.v.frac - net.fmt.theta.frac;
    let pw = wv + cw;
    let s = pw + 2;
    let c = wv.max(wth + al) + 1;
    let mut v = String::new();
    v.push_str("// sf_lif_fire: lateral inhibition, threshold, reset (semantics 4.1).\n");
    writeln!(
        v,
        "module sf_lif_fire (\n    input  wire live,\n    input  wire [{}:0] v,\n    input  wire [{}:0] inh,\n    input  wire [{}:0] others,\n    input  wire [{}:0] theta,\n    output wire [{}:0] d,\n    output wire fire\n);",
        wv - 1, wv - 1, cw - 1, wth - 1, wv - 1
    )
    .unwrap();
    writeln!(v, "    wire [{}:0] prod = {} * {};", pw - 1, zx("inh", wv, pw), zx("others", cw, pw))
        .unwrap();
    writeln!(v, "    wire [{}:0] diff = {} - {};", s - 1, sx("v", wv, s), zx("prod", pw, s))
        .unwrap();
    writeln!(v, "    wire [{}:0] v1 = live ? {} : v;", wv - 1, sat_signed("diff", s, wv)).unwrap();
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
    v.push_str("endmodule\n");
    v
}
