//! The datapath of any plasticity rule, for one synapse, built from the compiled [`Rule`]
//! (docs/semantics.md §4.3, docs/rules.md): the twin of `RuleFixed` in
//! `sim/src/plasticity/rule.rs`.
//!
//! Three parts, which the core runs in successive clock stages:
//!
//! 1. `sf_rule_prod`: every term's product (its constants and brackets, then its traces, each
//!    product floored), gated by its events, summed into at most eight unsigned groups: the
//!    positive and the negative terms of each weight factor (none, `w`, `(w_max - w)`,
//!    `(w - w_min)`).
//! 2. `sf_rule_round`: each group times its weight factor (or shifted up when the rule has
//!    weight factors elsewhere), the signed sum `S`, and its one rounding to the weight's
//!    fraction, with the LFSR draw `r` when the weight rounds stochastically.
//! 3. `sf_rule_clamp`: `clamp(w + dw, w_min, w_max)`.
//!
//! Every wire is as wide as the rule's range analysis says its value can be (the analysis
//! bounds each product for any register value, so no bit is ever dropped from the top). The
//! pair and triplet presets come out as the datapath the core had before the rule language:
//! one product (or a bracket and a product) per term, `pot - dep` or `pot * (w_max - w) -
//! dep * (w - w_min)` in the second stage.

use std::fmt::Write;

use synforge_sim::config::Network;
use synforge_sim::format::Rounding;
use synforge_sim::plasticity::lang::{Gate, WeightFactor};
use synforge_sim::plasticity::rule::{bits, ConstRef, FactorIr, Rule, Slot, AMP_BITS};

use crate::verilog::{lit, sx, zx};

/// The port name of a trace slot.
pub fn slot_port(s: Slot) -> &'static str {
    match s {
        Slot::X1 => "x1",
        Slot::X2 => "x2",
        Slot::X1Post => "x1_post",
        Slot::X2Post => "x2_post",
        Slot::Y1 => "y1",
        Slot::Y2 => "y2",
    }
}

/// The prefix of the module names of rule `r`'s datapath: `sf_rule` for the weight's,
/// `sf_rule_syn<k>` for the update of per-synapse variable `k`.
pub fn prefix(r: &Rule) -> String {
    r.target.map_or("sf_rule".to_string(), |k| format!("sf_rule_syn{k}"))
}

/// What rule `r` updates, for comments: `the weight` or `per-synapse variable k`.
fn target_text(r: &Rule) -> String {
    r.target.map_or("the weight".to_string(), |k| format!("per-synapse variable {k}"))
}

/// The port name of rule parameter `name`.
pub fn param_port(name: &str) -> String {
    format!("p_{name}")
}

/// The weight-factor classes, in the order of their groups.
const CLASSES: [Option<WeightFactor>; 4] =
    [None, Some(WeightFactor::W), Some(WeightFactor::ToMax), Some(WeightFactor::FromMin)];

fn class_name(c: Option<WeightFactor>) -> &'static str {
    match c {
        None => "one",
        Some(WeightFactor::W) => "w",
        Some(WeightFactor::ToMax) => "up",
        Some(WeightFactor::FromMin) => "dn",
    }
}

/// One group of terms the first stage hands to the second: the terms with one weight factor
/// and one sign, summed.
#[derive(Clone, Debug)]
pub struct Group {
    /// Port name (`g_<class>_pos` / `g_<class>_neg`).
    pub name: String,
    /// The weight factor of its terms.
    pub class: Option<WeightFactor>,
    /// Subtracted.
    pub negative: bool,
    /// The rule's terms in it, by index.
    pub terms: Vec<usize>,
    /// The largest value of the sum (raw, amplitude format).
    pub max: u128,
    /// Its width.
    pub width: u32,
}

/// The widths of a rule's datapath, from its range analysis.
#[derive(Clone, Debug)]
pub struct Shape {
    /// The groups, non-empty only.
    pub groups: Vec<Group>,
    /// Width of the signed sum `S`.
    pub sum: u32,
    /// The rounding shift.
    pub shift: u32,
    /// Width of the biased sum and of the rounded step `dw`.
    pub step: u32,
    /// Weight width.
    pub weight_bits: u32,
}

/// The wires whose XOR flips term `k`'s sign: `mod_r_neg` when it reads `r`, `syn<i>_neg`
/// for each signed per-synapse variable it reads.
fn sign_sources(r: &Rule, k: usize) -> Vec<String> {
    let t = &r.terms[k];
    let mut out = Vec::new();
    if t.modulated() {
        out.push("mod_r_neg".to_string());
    }
    for (i, f) in r.syn.iter().enumerate() {
        if f.signed && t.reads_syn(i) {
            out.push(format!("syn{i}_neg"));
        }
    }
    out
}

/// The width of the rule's target: the weight's, or its variable's.
pub fn target_bits(r: &Rule, ww: u32) -> u32 {
    r.target.map_or(ww, |k| r.syn[k].width)
}

/// The largest value of term `k`'s product (one, `2^amp_frac`, when it has no factor).
fn term_product_max(r: &Rule, k: usize) -> u128 {
    r.terms[k].product_max.last().copied().unwrap_or(1u128 << r.amp.frac)
}

/// The shape of `r`'s datapath for a weight of `ww` bits.
pub fn shape(r: &Rule, ww: u32) -> Shape {
    let mut groups = Vec::new();
    for class in CLASSES {
        for negative in [false, true] {
            // A term that reads the modulator joins both signs' groups of its class: `r`'s sign
            // picks one each step.
            let terms: Vec<usize> = (0..r.terms.len())
                .filter(|&k| {
                    let t = &r.terms[k];
                    t.weight == class && (t.negative == negative || !sign_sources(r, k).is_empty())
                })
                .collect();
            if terms.is_empty() {
                continue;
            }
            let max: u128 = terms.iter().map(|&k| term_product_max(r, k)).sum();
            let name = format!("g_{}_{}", class_name(class), if negative { "neg" } else { "pos" });
            groups.push(Group { name, class, negative, terms, max, width: bits(max) });
        }
    }
    let align = if r.weighted { r.w.frac } else { 0 };
    let wmax = (1u128 << ww) - 1;
    let (mut pos, mut neg) = (0u128, 0u128);
    for g in &groups {
        let m = match g.class {
            None => g.max << align,
            Some(_) => g.max * wmax,
        };
        if g.negative {
            neg += m;
        } else {
            pos += m;
        }
    }
    let sum = bits(pos.max(neg)) + 1;
    let shift = r.shift;
    Shape { groups, sum, shift, step: sum.max(shift + 1) + 1, weight_bits: ww }
}

/// The trace slots `r` reads, in port order.
pub fn slots(r: &Rule) -> Vec<Slot> {
    Slot::ALL.iter().copied().filter(|&s| r.reads[s as usize]).collect()
}

/// The port of the global modulator (two's complement, the modulator format): not `r`, which
/// is the LFSR draw.
pub const MOD_PORT: &str = "mod_r";

/// The input ports of the whole update ([`module`]), `(name, width)` in declaration order:
/// the trace slots the rule reads, `post`, `pre`, `w`, `r` (the draw), the parameters,
/// `mod_r` (when the rule reads the modulator), `w_min`, `w_max`.
pub fn ports(r: &Rule, ww: u32) -> Vec<(String, u32)> {
    let mut p: Vec<(String, u32)> =
        slots(r).into_iter().map(|s| (slot_port(s).to_string(), r.trace_format(s).width)).collect();
    p.push(("post".into(), 1));
    p.push(("pre".into(), 1));
    if r.sweeps() {
        p.push(("sweep".into(), 1));
    }
    p.push(("w".into(), ww));
    p.push(("r".into(), 32));
    p.extend(r.params.iter().map(|q| (param_port(&q.name), AMP_BITS)));
    if let Some(f) = r.r {
        p.push((MOD_PORT.into(), f.width));
    }
    for (i, f) in r.syn.iter().enumerate() {
        p.push((format!("syn{i}"), f.width));
    }
    if let Some(k) = r.target {
        p.push(("cur".into(), r.syn[k].width));
    }
    p.push(("w_min".into(), ww));
    p.push(("w_max".into(), ww));
    p
}

/// Writes the product chains; tracks the inputs read.
struct Products<'a> {
    r: &'a Rule,
    v: String,
    used: Vec<String>,
}

impl Products<'_> {
    fn constant(&mut self, c: &ConstRef) -> String {
        match c {
            ConstRef::Param(k) => {
                let p = param_port(&self.r.params[*k].name);
                self.used.push(p.clone());
                p
            }
            ConstRef::Literal { raw, .. } => lit(AMP_BITS, *raw as u64),
        }
    }

    /// A factor's value: `(expression, width, fraction bits a product drops after it)`.
    fn factor(&mut self, f: &FactorIr, name: &str) -> (String, u32, u32) {
        let fa = self.r.amp.frac;
        match f {
            FactorIr::Const(c) => (self.constant(c), AMP_BITS, fa),
            FactorIr::Trace(s) => {
                let p = slot_port(*s).to_string();
                self.used.push(p.clone());
                (p, self.r.trace_format(*s).width, self.r.trace_format(*s).frac)
            }
            FactorIr::Syn(i) => {
                let f = self.r.syn[*i];
                self.used.push(format!("syn{i}"));
                (format!("syn{i}_mag"), f.width, f.frac)
            }
            FactorIr::Mod => {
                let f = self.r.r.expect("a rule that reads r has its format");
                self.used.push(MOD_PORT.into());
                ("mod_r_mag".into(), f.width, f.frac)
            }
            FactorIr::Bracket { c0, minus, product } => {
                let maxima = self.r.product_maxima(product);
                let (q, qw) = self.chain(product, &maxima, &format!("{name}_q"));
                let c = self.constant(c0);
                let v = &mut self.v;
                if *minus {
                    // max(c0 - q, 0): the sign of the difference picks zero.
                    let d = qw.max(AMP_BITS) + 1;
                    writeln!(
                        v,
                        "    wire [{}:0] {name}_d = {} - {};",
                        d - 1,
                        zx(&c, AMP_BITS, d),
                        zx(&q, qw, d)
                    )
                    .unwrap();
                    writeln!(
                        v,
                        "    wire [15:0] {name} = {name}_d[{}] ? 16'h0 : {name}_d[15:0];",
                        d - 1
                    )
                    .unwrap();
                } else {
                    // min(c0 + q, 2^16 - 1).
                    let s = qw.max(AMP_BITS) + 1;
                    writeln!(
                        v,
                        "    wire [{}:0] {name}_s = {} + {};",
                        s - 1,
                        zx(&c, AMP_BITS, s),
                        zx(&q, qw, s)
                    )
                    .unwrap();
                    writeln!(
                        v,
                        "    wire [15:0] {name} = |{name}_s[{}:16] ? 16'hffff : {name}_s[15:0];",
                        s - 1
                    )
                    .unwrap();
                }
                (name.to_string(), AMP_BITS, fa)
            }
        }
    }

    /// A product from one, factor by factor, each floored (semantics §4.3), into a wire called
    /// `name`; `maxima` from the range analysis. Returns `(name, width)`.
    fn chain(&mut self, fs: &[FactorIr], maxima: &[u128], name: &str) -> (String, u32) {
        let fa = self.r.amp.frac;
        if fs.is_empty() {
            let w = fa + 1;
            writeln!(self.v, "    wire [{}:0] {name} = {};", w - 1, lit(w, 1u64 << fa)).unwrap();
            return (name.to_string(), w);
        }
        let mut p = String::new();
        let mut pw = 0;
        for (k, f) in fs.iter().enumerate() {
            let (x, xw, frac) = self.factor(f, &format!("{name}_f{k}"));
            let out = if k + 1 == fs.len() { name.to_string() } else { format!("{name}_p{k}") };
            let ow = bits(maxima[k]);
            let v = &mut self.v;
            if k == 0 && frac == fa {
                // One times a constant or a bracket: the value itself.
                assert!(ow <= xw);
                writeln!(v, "    wire [{}:0] {out} = {};", ow - 1, narrow(&x, xw, ow)).unwrap();
            } else if k == 0 {
                // One (2^fa) times a trace, its fraction dropped: a shift.
                if fa >= frac {
                    let e = format!("{{{x}, {}}}", lit(fa - frac, 0));
                    writeln!(v, "    wire [{}:0] {out}_m = {e};", xw + fa - frac - 1).unwrap();
                    writeln!(
                        v,
                        "    wire [{}:0] {out} = {};",
                        ow - 1,
                        fit(&format!("{out}_m"), xw + fa - frac, ow)
                    )
                    .unwrap();
                } else {
                    let drop = frac - fa;
                    writeln!(v, "    wire [{}:0] {out} = {};", ow - 1, shifted(&x, xw, drop, ow))
                        .unwrap();
                }
            } else {
                let mw = pw + xw;
                writeln!(
                    v,
                    "    wire [{}:0] {out}_m = {} * {};",
                    mw - 1,
                    zx(&p, pw, mw),
                    zx(&x, xw, mw)
                )
                .unwrap();
                writeln!(
                    v,
                    "    wire [{}:0] {out} = {};",
                    ow - 1,
                    shifted(&format!("{out}_m"), mw, frac, ow)
                )
                .unwrap();
            }
            p = out;
            pw = ow;
        }
        (p, pw)
    }
}

/// `x` (a named `xw`-bit wire) cut or zero-extended to `ow` bits: the range analysis says the
/// bits above `ow` are zero.
fn fit(x: &str, xw: u32, ow: u32) -> String {
    if ow >= xw {
        zx(x, xw, ow)
    } else {
        format!("{x}[{}:0]", ow - 1)
    }
}

/// `x` narrowed to `ow <= xw` bits (a name or a literal).
fn narrow(x: &str, xw: u32, ow: u32) -> String {
    if ow == xw {
        x.to_string()
    } else if x.contains('\'') {
        // A literal: its value fits `ow` bits (range analysis).
        let v = u64::from_str_radix(x.split('h').nth(1).unwrap_or("0"), 16).unwrap_or(0);
        lit(ow, v)
    } else {
        format!("{x}[{}:0]", ow - 1)
    }
}

/// `(x >> drop)` of the named `xw`-bit wire `x`, `ow` bits wide.
fn shifted(x: &str, xw: u32, drop: u32, ow: u32) -> String {
    if drop >= xw {
        return lit(ow, 0);
    }
    let avail = xw - drop;
    if ow <= avail {
        format!("{x}[{}:{drop}]", drop + ow - 1)
    } else {
        zx(&format!("{x}[{}:{drop}]", xw - 1), avail, ow)
    }
}

fn gate_expr(g: Gate) -> &'static str {
    match g {
        Gate::Pre => "pre",
        Gate::Post => "post",
        Gate::Both => "(pre & post)",
        Gate::Sweep => "sweep",
    }
}

fn title(r: &Rule, rounding: Rounding) -> String {
    format!(
        "rule {} `dw = {}`, amplitude {}, rounding {rounding:?} (semantics 4.3)",
        r.name, r.text, r.amp
    )
}

/// The first stage's body: the products, gated, summed into the groups (declared by the
/// caller). Returns the input ports it did not read.
fn prod_body(v: &mut String, r: &Rule, sh: &Shape) -> Vec<String> {
    let mut p = Products { r, v: String::new(), used: Vec::new() };
    let mut terms = Vec::new();
    for k in 0..r.terms.len() {
        let t = &r.terms[k];
        let (e, ew) = p.chain(&t.product, &t.product_max, &format!("t{k}"));
        terms.push((e, ew));
    }
    if let Some(f) = r.r {
        // Sign and magnitude (semantics 4.3): |-2^(W-1)| = 2^(W-1) still fits W unsigned bits.
        writeln!(v, "    wire mod_r_neg = {MOD_PORT}[{}];", f.width - 1).unwrap();
        writeln!(
            v,
            "    wire [{0}:0] mod_r_mag = mod_r_neg ? -{MOD_PORT} : {MOD_PORT};",
            f.width - 1
        )
        .unwrap();
    }
    for (i, f) in r.syn.iter().enumerate() {
        // A per-synapse variable likewise; an unsigned one is its own magnitude.
        if f.signed {
            writeln!(v, "    wire syn{i}_neg = syn{i}[{}];", f.width - 1).unwrap();
            writeln!(
                v,
                "    wire [{0}:0] syn{i}_mag = syn{i}_neg ? -syn{i} : syn{i};",
                f.width - 1
            )
            .unwrap();
        } else {
            writeln!(v, "    wire [{0}:0] syn{i}_mag = syn{i};", f.width - 1).unwrap();
        }
    }
    v.push_str(
        "    /* verilator lint_off UNUSEDSIGNAL */ // bits below the fractions a product drops\n",
    );
    v.push_str(&p.v);
    v.push_str("    /* verilator lint_on UNUSEDSIGNAL */\n");
    let mut used = p.used;
    for g in &sh.groups {
        let parts: Vec<String> = g
            .terms
            .iter()
            .map(|&k| {
                let (e, ew) = &terms[k];
                let gate = r.terms[k].gate;
                if matches!(gate, Gate::Pre | Gate::Both) {
                    used.push("pre".into());
                }
                if matches!(gate, Gate::Post | Gate::Both) {
                    used.push("post".into());
                }
                // A modulated term is in this group when `r`'s sign turns the term's into it.
                let flips = sign_sources(r, k);
                let cond = match (flips.is_empty(), r.terms[k].negative != g.negative) {
                    (true, _) => gate_expr(gate).to_string(),
                    (false, true) => format!("({} & ({}))", gate_expr(gate), flips.join(" ^ ")),
                    (false, false) => format!("({} & ~({}))", gate_expr(gate), flips.join(" ^ ")),
                };
                format!("({cond} ? {} : {})", zx(e, *ew, g.width), lit(g.width, 0))
            })
            .collect();
        writeln!(v, "    assign {} = {};", g.name, parts.join(" + ")).unwrap();
    }
    let mut unused = Vec::new();
    for s in slots(r) {
        if !used.iter().any(|u| u == slot_port(s)) {
            unused.push(slot_port(s).to_string());
        }
    }
    for q in ["post", "pre"] {
        if !used.iter().any(|u| u == q) {
            unused.push(q.to_string());
        }
    }
    for q in &r.params {
        let n = param_port(&q.name);
        if !used.contains(&n) {
            unused.push(n);
        }
    }
    for i in 0..r.syn.len() {
        let n = format!("syn{i}");
        if !used.contains(&n) {
            unused.push(n);
        }
    }
    unused
}

/// The second stage's body: from the groups, `w`, `r`, `w_min`, `w_max` to the signed step
/// `dw` (declared by the caller). Returns the inputs it did not read.
fn round_body(v: &mut String, r: &Rule, sh: &Shape) -> Vec<String> {
    let ww = sh.weight_bits;
    let s = sh.sum;
    let align = if r.weighted { r.w.frac } else { 0 };
    let mut read = Vec::new();
    let has = |c: WeightFactor| sh.groups.iter().any(|g| g.class == Some(c));
    if has(WeightFactor::ToMax) {
        writeln!(v, "    wire [{}:0] room_up = w_max - w;", ww - 1).unwrap();
    }
    if has(WeightFactor::FromMin) {
        writeln!(v, "    wire [{}:0] room_dn = w - w_min;", ww - 1).unwrap();
    }
    let (mut pos, mut neg) = (Vec::new(), Vec::new());
    for g in &sh.groups {
        let term = match g.class {
            None => {
                let w = g.width + align;
                let e = if align == 0 {
                    g.name.clone()
                } else {
                    format!("{{{}, {}}}", g.name, lit(align, 0))
                };
                zx(&e, w, s)
            }
            Some(c) => {
                let (f, what) = match c {
                    WeightFactor::W => ("w".to_string(), vec!["w"]),
                    WeightFactor::ToMax => ("room_up".to_string(), vec!["w", "w_max"]),
                    WeightFactor::FromMin => ("room_dn".to_string(), vec!["w", "w_min"]),
                };
                read.extend(what);
                let mw = g.width + ww;
                let m = format!("{}_m", g.name);
                writeln!(
                    v,
                    "    wire [{}:0] {m} = {} * {};",
                    mw - 1,
                    zx(&g.name, g.width, mw),
                    zx(&f, ww, mw)
                )
                .unwrap();
                zx(&m, mw, s)
            }
        };
        if g.negative {
            neg.push(term);
        } else {
            pos.push(term);
        }
    }
    let side = |xs: &[String]| {
        if xs.is_empty() {
            lit(s, 0)
        } else {
            xs.join(" + ")
        }
    };
    writeln!(v, "    wire [{}:0] sum = {} - ({});", s - 1, side(&pos), side(&neg)).unwrap();
    // round_m(sum, shift): add the bias, then an arithmetic shift.
    let (sft, t) = (sh.shift, sh.step);
    let bias = match (r.rounding, sft) {
        (_, 0) | (Rounding::Floor, _) => None,
        (Rounding::Nearest, _) => Some(lit(t, 1u64 << (sft - 1))),
        (Rounding::Stochastic, _) => Some(zx(&format!("r[31:{}]", 32 - sft), sft, t)),
    };
    v.push_str(
        "    /* verilator lint_off UNUSEDSIGNAL */ // bits rounded away, draw bits not used\n",
    );
    match bias {
        Some(b) => writeln!(v, "    wire signed [{}:0] biased = {} + {b};", t - 1, sx("sum", s, t))
            .unwrap(),
        None => writeln!(v, "    wire signed [{}:0] biased = {};", t - 1, sx("sum", s, t)).unwrap(),
    }
    v.push_str("    /* verilator lint_on UNUSEDSIGNAL */\n");
    writeln!(v, "    assign dw = biased >>> {sft};").unwrap();
    // `r`'s bits below the draw's top `shift` are never read.
    ["w", "w_min", "w_max"]
        .into_iter()
        .filter(|q| !read.contains(q))
        .chain(["r"])
        .map(String::from)
        .collect()
}

/// The clamp body of a per-synapse variable's update: from `dw` and `cur` to its new value
/// `d`, clamped to its format's range (signed compares for a signed one).
fn clamp_var_body(v: &mut String, sh: &Shape, f: synforge_sim::format::Format) {
    let (vw, t) = (f.width, sh.step);
    let nw = t.max(vw + 1) + 1;
    let cur = if f.signed { sx("cur", vw, nw) } else { zx("cur", vw, nw) };
    writeln!(v, "    wire signed [{}:0] nw = {} + {};", nw - 1, sx("dw", t, nw), cur).unwrap();
    let (lo, hi) = (f.min_raw(), f.max_raw());
    let l = |x: i64| format!("$signed({})", lit(nw, x as u64 & crate::verilog::ones(nw)));
    writeln!(v, "    wire below = nw < {};", l(lo)).unwrap();
    writeln!(v, "    wire above = nw > {};", l(hi)).unwrap();
    writeln!(
        v,
        "    assign d = below ? {} : (above ? {} : nw[{}:0]);",
        lit(vw, lo as u64 & crate::verilog::ones(vw)),
        lit(vw, hi as u64 & crate::verilog::ones(vw)),
        vw - 1
    )
    .unwrap();
}

/// The clamp body: from `dw`, `w`, `w_min`, `w_max` to the new weight `d`.
fn clamp_body(v: &mut String, sh: &Shape) {
    let (ww, t) = (sh.weight_bits, sh.step);
    let nw = t.max(ww + 1) + 1;
    writeln!(v, "    wire [{}:0] nw = {} + {};", nw - 1, sx("dw", t, nw), zx("w", ww, nw)).unwrap();
    writeln!(v, "    wire below = nw[{}] | (nw < {});", nw - 1, zx("w_min", ww, nw)).unwrap();
    writeln!(v, "    wire above = ~nw[{}] & (nw > {});", nw - 1, zx("w_max", ww, nw)).unwrap();
    writeln!(v, "    assign d = below ? w_min : (above ? w_max : nw[{}:0]);", ww - 1).unwrap();
}

fn waive(v: &mut String, unused: &[String], why: &str) {
    if unused.is_empty() {
        return;
    }
    writeln!(v, "    /* verilator lint_off UNUSEDSIGNAL */ // {why}").unwrap();
    writeln!(v, "    wire unused_in = &{{1'b0, {}}};", unused.join(", ")).unwrap();
    v.push_str("    /* verilator lint_on UNUSEDSIGNAL */\n");
}

fn input_decls(v: &mut String, r: &Rule, ww: u32, with_w_r: bool) {
    for s in slots(r) {
        writeln!(v, "    input  wire [{}:0] {},", r.trace_format(s).width - 1, slot_port(s))
            .unwrap();
    }
    v.push_str("    input  wire post,\n    input  wire pre,\n");
    if r.sweeps() {
        v.push_str("    input  wire sweep,\n");
    }
    if with_w_r {
        writeln!(v, "    input  wire [{}:0] w,\n    input  wire [31:0] r,", ww - 1).unwrap();
    }
    for q in &r.params {
        writeln!(v, "    input  wire [15:0] {},", param_port(&q.name)).unwrap();
    }
    if let Some(f) = r.r {
        writeln!(v, "    input  wire [{}:0] {MOD_PORT},", f.width - 1).unwrap();
    }
    for (i, f) in r.syn.iter().enumerate() {
        writeln!(v, "    input  wire [{}:0] syn{i},", f.width - 1).unwrap();
    }
}

/// `module sf_rule_prod(...)`: the first stage, combinational. Inputs: the trace slots the rule
/// reads ([`slots`], their formats' widths: `x1`, `x2` before this step's pre bump, `x1_post`,
/// `x2_post` after it, `y1`, `y2` before this step's post bump), `post`, `pre`, and each
/// parameter `p_<name>` (16 bits, amplitude format); outputs the groups of [`Shape`].
pub fn prod_module(r: &Rule, rounding: Rounding, ww: u32) -> String {
    let sh = shape(r, ww);
    let mut v = String::new();
    let name = format!("{}_prod", prefix(r));
    writeln!(v, "// {name}: the terms' products, gated and grouped, {}.", title(r, rounding))
        .unwrap();
    writeln!(v, "module {name} (").unwrap();
    input_decls(&mut v, r, ww, false);
    let outs: Vec<String> = sh
        .groups
        .iter()
        .map(|g| format!("    output wire [{}:0] {}", g.width - 1, g.name))
        .collect();
    writeln!(v, "{}\n);", outs.join(",\n")).unwrap();
    let mut body = String::new();
    let unused = prod_body(&mut body, r, &sh);
    waive(&mut v, &unused, "inputs no term reads");
    v.push_str(&body);
    v.push_str("endmodule\n");
    v
}

/// `module sf_rule_round(...)`: the second stage, combinational. Inputs: the groups of
/// [`Shape`], `w`, `w_min`, `w_max` (weight width), `r` (32 bits, the draw); output `dw`
/// ([`Shape::step`] bits, two's complement).
pub fn round_module(r: &Rule, rounding: Rounding, ww: u32) -> String {
    let sh = shape(r, ww);
    let mut v = String::new();
    let name = format!("{}_round", prefix(r));
    writeln!(
        v,
        "// {name}: the step of {} from the grouped products, {}.",
        target_text(r),
        title(r, rounding)
    )
    .unwrap();
    writeln!(v, "module {name} (").unwrap();
    for g in &sh.groups {
        writeln!(v, "    input  wire [{}:0] {},", g.width - 1, g.name).unwrap();
    }
    writeln!(v, "    input  wire [{0}:0] w,\n    input  wire [31:0] r,\n    input  wire [{0}:0] w_min,\n    input  wire [{0}:0] w_max,", ww - 1).unwrap();
    writeln!(v, "    output wire [{}:0] dw\n);", sh.step - 1).unwrap();
    let mut body = String::new();
    let unused = round_body(&mut body, r, &sh);
    waive(&mut v, &unused, "inputs this rule's weight factors do not read; draw bits not used");
    v.push_str(&body);
    v.push_str("endmodule\n");
    v
}

/// `module sf_rule_clamp(...)`: the third stage, combinational: `d = clamp(w + dw, w_min,
/// w_max)`; for a per-synapse variable's update (`sf_rule_syn<k>_clamp`), `d = clamp(cur +
/// dw)` to the variable's format.
pub fn clamp_module(r: &Rule, ww: u32) -> String {
    let sh = shape(r, ww);
    let mut v = String::new();
    let name = format!("{}_clamp", prefix(r));
    match r.target {
        None => {
            writeln!(v, "// {name}: the new weight, clamped to [w_min, w_max] (semantics 4.3).")
                .unwrap();
            writeln!(v, "module {name} (").unwrap();
            writeln!(v, "    input  wire [{}:0] dw,", sh.step - 1).unwrap();
            writeln!(v, "    input  wire [{0}:0] w,\n    input  wire [{0}:0] w_min,\n    input  wire [{0}:0] w_max,\n    output wire [{0}:0] d\n);", ww - 1).unwrap();
            clamp_body(&mut v, &sh);
        }
        Some(k) => {
            let f = r.syn[k];
            writeln!(
                v,
                "// {name}: the new value of per-synapse variable {k}, clamped to its format {} \
                 (semantics 4.3).",
                f.q_name()
            )
            .unwrap();
            writeln!(v, "module {name} (").unwrap();
            writeln!(v, "    input  wire [{}:0] dw,", sh.step - 1).unwrap();
            writeln!(v, "    input  wire [{0}:0] cur,\n    output wire [{0}:0] d\n);", f.width - 1)
                .unwrap();
            clamp_var_body(&mut v, &sh, f);
        }
    }
    v.push_str("endmodule\n");
    v
}

/// `module sf_rule(...)`: the whole update of one synapse in one combinational module, the
/// three stages back to back; ports [`ports`] and `d` out. What the block tests hold against
/// the model.
pub fn module(r: &Rule, rounding: Rounding, ww: u32) -> String {
    let sh = shape(r, ww);
    let mut v = String::new();
    writeln!(v, "// sf_rule: one synapse's update, {}.", title(r, rounding)).unwrap();
    v.push_str("module sf_rule (\n");
    input_decls(&mut v, r, ww, true);
    if let Some(k) = r.target {
        writeln!(v, "    input  wire [{}:0] cur,", r.syn[k].width - 1).unwrap();
    }
    writeln!(
        v,
        "    input  wire [{0}:0] w_min,\n    input  wire [{0}:0] w_max,\n    output wire [{1}:0] d\n);",
        ww - 1,
        target_bits(r, ww) - 1
    )
    .unwrap();
    for g in &sh.groups {
        writeln!(v, "    wire [{}:0] {};", g.width - 1, g.name).unwrap();
    }
    writeln!(v, "    wire [{}:0] dw;", sh.step - 1).unwrap();
    let mut body = String::new();
    let mut unused = prod_body(&mut body, r, &sh);
    let round_unused = round_body(&mut body, r, &sh);
    match r.target {
        None => {
            unused.extend(round_unused.into_iter().filter(|q| q == "r"));
            clamp_body(&mut body, &sh);
        }
        Some(k) => {
            // The weight and its bounds only where a weight factor reads them.
            unused.extend(round_unused);
            clamp_var_body(&mut body, &sh, r.syn[k]);
        }
    }
    waive(&mut v, &unused, "inputs this rule does not read; draw bits not used");
    v.push_str(&body);
    v.push_str("endmodule\n");
    v
}

/// The rule of a plastic network.
pub fn of(net: &Network) -> &Rule {
    net.rule.as_ref().expect("a plastic network has a rule")
}
