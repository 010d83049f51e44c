//! A plasticity rule with numbers (docs/semantics.md §4.3): the text parsed by `lang.rs`,
//! compiled against the formats into one [`Rule`], then evaluated in integers by the
//! bit-accurate model ([`RuleFixed`]) and in f64 by the float reference ([`RuleFloat`]).
//! Twin of `rtl-gen/src/generate/plasticity/rule.rs`, which builds the datapath from the same `Rule`.
//!
//! One term, in fixed point: a product evaluated from one (`2^amp_frac`) through its
//! constants and brackets in written order (each product floored back to `amp_frac` fraction
//! bits), then its traces in written order (each product floored by the trace's fraction
//! bits); then, exactly, its weight factor. The terms whose events hold are summed exactly,
//! rounded once in the weight's mode (one LFSR draw when stochastic), added and clamped.

use serde::Serialize;

use crate::config::Quantized;
use crate::error::{Error, Result};
use crate::format::{clamp_branchless, round_shift, Format, Rounding};
use crate::lfsr::Lfsr;
use crate::plasticity::lang::{self, Amp, Const, Gate, RuleText, Trace, Var, WeightFactor};

/// The widest intermediate (bits of an unsigned magnitude) a rule may need: the hardware's
/// products and the model's 64-bit integers both hold it with room for the sum's sign.
pub const MAX_INTERMEDIATE_BITS: u32 = 48;

/// Bits of the amplitude format (every constant and bracket of a rule, and every parameter
/// register).
pub const AMP_BITS: u32 = 16;

/// A rule parameter: a register in hardware, set from the config.
#[derive(Clone, Debug, Serialize)]
pub struct Param {
    /// Its name in the rule.
    pub name: String,
    /// The config field it comes from.
    pub field: String,
    /// The value asked for.
    pub value: f64,
    /// In the amplitude format.
    pub raw: i64,
}

/// A constant of the compiled rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum ConstRef {
    /// Parameter number `k` (a register).
    Param(usize),
    /// A number written in the rule (a constant of the datapath).
    Literal {
        /// As written.
        text: String,
        /// Its value.
        value: f64,
        /// In the amplitude format.
        raw: i64,
    },
}

/// Which value of a trace a factor reads (semantics §4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Slot {
    /// x1 after this step's decay, before its pre bump.
    X1 = 0,
    /// x2, likewise.
    X2 = 1,
    /// x1 after this step's pre bump (when the input spiked): what a term at the neuron's
    /// spike reads.
    X1Post = 2,
    /// x2, likewise.
    X2Post = 3,
    /// y1 after this step's decay, before its post bump.
    Y1 = 4,
    /// y2, likewise.
    Y2 = 5,
}

impl Slot {
    /// The slot a term with gate `g` reads trace `t` from.
    pub fn of(t: Trace, g: Gate) -> Slot {
        match (t, g.at_post()) {
            (Trace::X1, false) => Slot::X1,
            (Trace::X2, false) => Slot::X2,
            (Trace::X1, true) => Slot::X1Post,
            (Trace::X2, true) => Slot::X2Post,
            (Trace::Y1, _) => Slot::Y1,
            (Trace::Y2, _) => Slot::Y2,
        }
    }

    /// The trace it holds.
    pub fn trace(self) -> Trace {
        match self {
            Slot::X1 | Slot::X1Post => Trace::X1,
            Slot::X2 | Slot::X2Post => Trace::X2,
            Slot::Y1 => Trace::Y1,
            Slot::Y2 => Trace::Y2,
        }
    }

    /// Every slot.
    pub const ALL: [Slot; 6] = [Slot::X1, Slot::X2, Slot::X1Post, Slot::X2Post, Slot::Y1, Slot::Y2];
}

/// A factor of a product, in evaluation order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum FactorIr {
    /// A constant (amplitude format).
    Const(ConstRef),
    /// A bracket (amplitude format): `sat(c0 ± product)` into `[0, 2^16 - 1]`.
    Bracket {
        /// The constant.
        c0: ConstRef,
        /// `-` rather than `+`.
        minus: bool,
        /// The product, from one: constants, then traces.
        product: Vec<FactorIr>,
    },
    /// A trace value.
    Trace(Slot),
    /// The global modulator's magnitude `|r|` (its sign flips the term's, semantics §4.3).
    Mod,
    /// Per-synapse variable `k`'s magnitude (a signed one's sign flips the term's).
    Syn(usize),
}

/// A compiled term.
#[derive(Clone, Debug, Serialize)]
pub struct TermIr {
    /// Subtracted.
    pub negative: bool,
    /// Its events.
    #[serde(serialize_with = "gate_text")]
    pub gate: Gate,
    /// The product, from one: constants and brackets, then traces.
    pub product: Vec<FactorIr>,
    /// Its weight factor.
    #[serde(serialize_with = "weight_text")]
    pub weight: Option<WeightFactor>,
    /// As written, in canonical order.
    pub text: String,
    /// Largest raw value of the product after each of its factors (range analysis).
    pub product_max: Vec<u128>,
    /// Largest magnitude of the term's contribution to the sum, raw at the sum's fraction.
    pub term_max: u128,
}

impl TermIr {
    /// Whether its product reads the modulator: its sign is then decided each step, by `r`'s.
    pub fn modulated(&self) -> bool {
        self.product.contains(&FactorIr::Mod)
    }

    /// Whether its product reads per-synapse variable `k`.
    pub fn reads_syn(&self, k: usize) -> bool {
        self.product.contains(&FactorIr::Syn(k))
    }
}

fn gate_text<S: serde::Serializer>(g: &Gate, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(g.text())
}

fn weight_text<S: serde::Serializer>(
    w: &Option<WeightFactor>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match w {
        Some(w) => s.serialize_str(w.text()),
        None => s.serialize_none(),
    }
}

/// A rule compiled against a network's formats: what the two models evaluate and the RTL
/// builds.
#[derive(Clone, Debug, Serialize)]
pub struct Rule {
    /// The preset's name, or `custom`.
    pub name: String,
    /// The rule in canonical form.
    pub text: String,
    /// The parameters, in order of first appearance.
    pub params: Vec<Param>,
    /// The terms.
    pub terms: Vec<TermIr>,
    /// The amplitude format: every constant and bracket.
    pub amp: Format,
    /// The weight format.
    pub w: Format,
    /// The trace formats x1, x2, y1, y2.
    pub traces: [Format; 4],
    /// Some term has a weight factor: the sum then has `amp_frac + w.frac` fraction bits and
    /// the terms without one are shifted up by `w.frac`.
    pub weighted: bool,
    /// The shift of the update's one rounding, from the sum's fraction to the weight's.
    pub shift: u32,
    /// The weight's rounding mode.
    pub rounding: Rounding,
    /// Largest magnitude of the sum.
    pub sum_max: u128,
    /// Which trace values some term reads.
    pub reads: [bool; 6],
    /// The modulator's format, when some term reads `r`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r: Option<Format>,
    /// The per-synapse variables' formats, in name order (the rule may read them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub syn: Vec<Format>,
    /// What the rule updates: the weight (`None`) or per-synapse variable `k`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<usize>,
}

/// Bits to hold `0..=max`.
pub fn bits(max: u128) -> u32 {
    (128 - max.leading_zeros()).max(1)
}

/// Where a rule and its parameters come from.
pub struct Source<'a> {
    /// The preset's name, or `custom`.
    pub name: &'a str,
    /// The rule text.
    pub text: &'a str,
    /// The config field that holds it (errors in the text name it).
    pub field: &'a str,
    /// `(name, value, config field)` of every declared parameter.
    pub params: Vec<(String, f64, String)>,
    /// The parameters are amplitudes in weight units (terms without a weight factor) or
    /// rates (terms with one), so each must stay below the weight format's maximum or 1.
    pub amplitudes: bool,
}

/// What a rule is compiled against.
pub struct Env {
    /// Weight format.
    pub w: Format,
    /// Its rounding mode.
    pub rounding: Rounding,
    /// Trace formats x1, x2, y1, y2.
    pub traces: [Format; 4],
    /// `plasticity.amplitude_frac`.
    pub amplitude_frac: Option<u32>,
    /// The modulator's format (`formats.modulator`), if the config declares one.
    pub r: Option<Format>,
    /// The per-synapse variables: names and formats, in name order.
    pub syn: Vec<(String, Format)>,
    /// What the rule updates: the weight (`None`, with [`Env::rounding`]) or per-synapse
    /// variable `k` (with that variable's rounding in [`Env::rounding`]).
    pub target: Option<usize>,
}

fn trace_index(t: Trace) -> usize {
    match t {
        Trace::X1 => 0,
        Trace::X2 => 1,
        Trace::Y1 => 2,
        Trace::Y2 => 3,
    }
}

impl Rule {
    /// Parse, check and quantise a rule. Returns it with the quantisation of its constants.
    pub fn compile(src: &Source, env: &Env) -> Result<(Rule, Vec<Quantized>)> {
        let text_err = |e: lang::LangError| Error::field(src.field, e.render(src.text));
        let declared = |n: &str| src.params.iter().any(|(p, _, _)| p == n);
        let syn_names: Vec<String> = env.syn.iter().map(|v| v.0.clone()).collect();
        let parsed: RuleText = lang::parse_with(
            src.text,
            &lang::Declared { is_param: &declared, synapse: &syn_names },
        )
        .map_err(text_err)?;
        let target = env.target.map_or(env.w, |k| env.syn[k].1);
        let r_format = match (parsed.reads_mod(), env.r) {
            (false, _) => None,
            (true, Some(f)) => Some(f),
            (true, None) => {
                return Err(Error::field(
                    "formats.modulator",
                    format!(
                        "{} reads the modulator `r`, which has no format: add [formats.modulator] \
                         with width = 8, frac = 6 (signed, -2 to 2 - 2^-6), or another signed \
                         format of 2 to 16 bits",
                        src.field
                    ),
                ))
            }
        };
        let used = parsed.params();
        for (name, value, field) in &src.params {
            if !used.contains(name) {
                return Err(Error::field(
                    field.clone(),
                    format!("the rule does not use `{name}`; remove it or use it in the rule"),
                ));
            }
            if let Some(what) = lang::builtin_name(name) {
                return Err(Error::field(
                    field.clone(),
                    format!("`{name}` is {what}, not a parameter name; choose another"),
                ));
            }
            if !(value.is_finite() && *value >= 0.0) {
                return Err(Error::field(
                    field.clone(),
                    format!(
                        "must be zero or a positive number, got {value}; a term's sign is \
                         written in the rule (`- {name} * ...`)"
                    ),
                ));
            }
        }
        let value_of = |c: &Const| match c {
            Const::Param(n) => {
                src.params.iter().find(|(p, _, _)| p == n).map(|p| p.1).unwrap_or(0.0)
            }
            Const::Number(v, _) => *v,
        };
        let traces_max: Vec<f64> = env.traces.iter().map(|f| f.max_real()).collect();
        // The amplitude format: 16 bits with the most fraction bits (at most 32, at least the
        // weight's) that still hold every constant and every bracket at the traces' maxima.
        let mut amp_max = 0.0f64;
        for t in &parsed.terms {
            for a in &t.amps {
                match a {
                    Amp::Const(c) => amp_max = amp_max.max(value_of(c)),
                    Amp::Bracket(b) => {
                        let p: f64 = b.consts.iter().map(value_of).product::<f64>()
                            * b.traces.iter().map(|&t| traces_max[trace_index(t)]).product::<f64>();
                        let top = if b.minus { value_of(&b.c0) } else { value_of(&b.c0) + p };
                        amp_max = amp_max.max(top).max(value_of(&b.c0));
                        for c in &b.consts {
                            amp_max = amp_max.max(value_of(c));
                        }
                    }
                }
            }
        }
        let amp_frac = match env.amplitude_frac {
            Some(fa) => {
                if fa < env.w.frac || fa > 32 {
                    return Err(Error::field(
                        "plasticity.amplitude_frac",
                        format!(
                            "must be between the weight frac ({}) and 32, got {fa}",
                            env.w.frac
                        ),
                    ));
                }
                fa
            }
            None if env.target.is_none() => auto_amp_frac(amp_max, env.w.frac),
            None => {
                // A variable's update: the sum's one rounding to the variable's fraction may
                // shift by at most 32 bits, so the amplitude fraction stops there.
                let align =
                    if parsed.terms.iter().any(|t| t.weight.is_some()) { env.w.frac } else { 0 };
                let (lo, hi) = (
                    target.frac.saturating_sub(align),
                    32 + target.frac - align.min(32 + target.frac),
                );
                auto_amp_frac(amp_max, lo).min(hi).max(lo)
            }
        };
        let amp = Format::unsigned(AMP_BITS, amp_frac);
        if src.amplitudes {
            for t in &parsed.terms {
                let (range, what) = if t.weight.is_some() {
                    (1.0, "rates")
                } else {
                    (env.w.max_real(), "weight units")
                };
                let mut consts = Vec::new();
                for a in &t.amps {
                    match a {
                        Amp::Const(c) => consts.push(c),
                        Amp::Bracket(b) => {
                            consts.push(&b.c0);
                            consts.extend(b.consts.iter());
                        }
                    }
                }
                for c in consts {
                    let v = value_of(c);
                    if v >= range {
                        let field = match c {
                            Const::Param(n) => {
                                src.params.iter().find(|p| &p.0 == n).map(|p| p.2.clone())
                            }
                            Const::Number(..) => None,
                        };
                        return Err(Error::field(
                            field.unwrap_or_else(|| src.field.to_string()),
                            format!(
                                "{c} = {v}: this rule's amplitudes are {what} and must be below \
                                 {range} (the weight format {} and its bounds)",
                                env.w
                            ),
                        ));
                    }
                }
            }
        }
        // Quantise the parameters (in order of first appearance) and the numbers.
        let mut report = Vec::new();
        let mut params = Vec::new();
        for name in &used {
            let (_, value, field) =
                src.params.iter().find(|(p, _, _)| p == name).expect("declared, checked by parse");
            let raw = quantize(*value, amp, field)?;
            report.push(quantized(field, *value, amp, raw));
            params.push(Param { name: name.clone(), field: field.clone(), value: *value, raw });
        }
        let mut constant = |c: &Const| -> Result<ConstRef> {
            Ok(match c {
                Const::Param(n) => {
                    ConstRef::Param(params.iter().position(|p| &p.name == n).expect("quantised"))
                }
                Const::Number(v, text) => {
                    let field = format!("{} (the number {text})", src.field);
                    let raw = quantize(*v, amp, &field)?;
                    report.push(quantized(&field, *v, amp, raw));
                    ConstRef::Literal { text: text.clone(), value: *v, raw }
                }
            })
        };
        let mut terms = Vec::new();
        for t in &parsed.terms {
            let mut product = Vec::new();
            for a in &t.amps {
                product.push(match a {
                    Amp::Const(c) => FactorIr::Const(constant(c)?),
                    Amp::Bracket(b) => {
                        let mut inner = Vec::new();
                        for c in &b.consts {
                            inner.push(FactorIr::Const(constant(c)?));
                        }
                        inner.extend(
                            b.traces.iter().map(|&tr| FactorIr::Trace(Slot::of(tr, t.gate))),
                        );
                        FactorIr::Bracket { c0: constant(&b.c0)?, minus: b.minus, product: inner }
                    }
                });
            }
            product.extend(t.traces.iter().map(|&tr| FactorIr::Trace(Slot::of(tr, t.gate))));
            product.extend(t.vars.iter().map(|v| match v {
                Var::Mod => FactorIr::Mod,
                Var::Syn(k, _) => FactorIr::Syn(*k),
            }));
            terms.push(TermIr {
                negative: t.negative,
                gate: t.gate,
                product,
                weight: t.weight,
                text: t.body(),
                product_max: Vec::new(),
                term_max: 0,
            });
        }
        let weighted = terms.iter().any(|t| t.weight.is_some());
        // The one rounding goes from the sum's fraction to the target's.
        let sum_frac = amp_frac + if weighted { env.w.frac } else { 0 };
        if sum_frac < target.frac || sum_frac - target.frac > 32 {
            return Err(Error::field(
                src.field,
                format!(
                    "the sum has {sum_frac} fraction bits and its target {} has {}: the rounding \
                     shift must be 0 to 32 bits; set plasticity.amplitude_frac, or change the \
                     target's frac",
                    if env.target.is_some() { "variable" } else { "weight" },
                    target.frac
                ),
            ));
        }
        let shift = sum_frac - target.frac;
        let mut reads = [false; 6];
        for t in &terms {
            for f in &t.product {
                match f {
                    FactorIr::Trace(s) => reads[*s as usize] = true,
                    FactorIr::Bracket { product, .. } => {
                        for f in product {
                            if let FactorIr::Trace(s) = f {
                                reads[*s as usize] = true;
                            }
                        }
                    }
                    FactorIr::Const(_) | FactorIr::Mod | FactorIr::Syn(_) => {}
                }
            }
        }
        let mut rule = Rule {
            name: src.name.to_string(),
            text: parsed.to_string(),
            params,
            terms,
            amp,
            w: env.w,
            traces: env.traces,
            weighted,
            shift,
            rounding: env.rounding,
            sum_max: 0,
            reads,
            r: r_format,
            syn: env.syn.iter().map(|v| v.1).collect(),
            target: env.target,
        };
        rule.analyse(src)?;
        Ok((rule, report))
    }

    /// Range analysis: the largest value of every intermediate, for any parameter value a
    /// register can hold (all ones) and the traces and the weight at their formats' maxima.
    fn analyse(&mut self, src: &Source) -> Result<()> {
        let mut sum: u128 = 0;
        let align = if self.weighted { self.w.frac } else { 0 };
        let w_max = self.w.max_raw() as u128;
        for k in 0..self.terms.len() {
            let t = &self.terms[k];
            let maxima = self.product_maxima(&t.product);
            let e = *maxima.last().unwrap_or(&(1u128 << self.amp.frac));
            let term_max = match t.weight {
                Some(_) => e * w_max,
                None => e << align,
            };
            let widest = maxima.iter().copied().max().unwrap_or(0).max(term_max);
            if bits(widest) > MAX_INTERMEDIATE_BITS {
                return Err(Error::field(
                    src.field,
                    format!(
                        "the term `{}` needs a {}-bit intermediate (its product at the largest \
                         parameter, trace and weight values), more than the {MAX_INTERMEDIATE_BITS} \
                         bits the datapath holds; use fewer trace factors, or narrower traces or \
                         weights",
                        t.text,
                        bits(widest)
                    ),
                ));
            }
            sum += term_max;
            let t = &mut self.terms[k];
            t.product_max = maxima;
            t.term_max = term_max;
        }
        self.sum_max = sum;
        Ok(())
    }

    /// The largest raw value of a product (from one) after each factor.
    pub fn product_maxima(&self, product: &[FactorIr]) -> Vec<u128> {
        let one = 1u128 << self.amp.frac;
        let mut p = one;
        let mut out = Vec::with_capacity(product.len());
        for (k, f) in product.iter().enumerate() {
            let (m, frac) = self.factor_max(f);
            p = if k == 0 && frac == self.amp.frac { m } else { (p * m) >> frac };
            out.push(p);
        }
        out
    }

    fn factor_max(&self, f: &FactorIr) -> (u128, u32) {
        match f {
            FactorIr::Const(c) => (self.const_max(c), self.amp.frac),
            FactorIr::Bracket { c0, minus, product } => {
                let p = self.product_maxima(product).last().copied().unwrap_or(1 << self.amp.frac);
                let top = if *minus { self.const_max(c0) } else { self.const_max(c0) + p };
                (top.min(self.amp.max_raw() as u128), self.amp.frac)
            }
            FactorIr::Trace(s) => {
                let fmt = self.trace_format(*s);
                (fmt.max_raw() as u128, fmt.frac)
            }
            FactorIr::Mod => {
                let fmt = self.r.expect("a rule that reads r has its format");
                (1u128 << (fmt.width - 1), fmt.frac)
            }
            FactorIr::Syn(k) => {
                let fmt = self.syn[*k];
                (fmt.max_raw().max(-fmt.min_raw()) as u128, fmt.frac)
            }
        }
    }

    /// Whether some term reads the modulator `r`.
    pub fn reads_mod(&self) -> bool {
        self.r.is_some()
    }

    /// Whether some term acts in the sweep (`u`, semantics §4.7).
    pub fn sweeps(&self) -> bool {
        self.terms.iter().any(|t| t.gate == Gate::Sweep)
    }

    /// Whether some term acts on spikes (`x0`, `y0`): the target updates in §4.3.
    pub fn events(&self) -> bool {
        self.terms.iter().any(|t| t.gate != Gate::Sweep)
    }

    fn const_max(&self, c: &ConstRef) -> u128 {
        match c {
            ConstRef::Param(_) => self.amp.max_raw() as u128,
            ConstRef::Literal { raw, .. } => *raw as u128,
        }
    }

    /// The format of the trace a slot holds.
    pub fn trace_format(&self, s: Slot) -> Format {
        self.traces[trace_index(s.trace())]
    }

    /// Whether some term reads trace `t` (in any slot).
    pub fn reads_trace(&self, t: Trace) -> bool {
        Slot::ALL.iter().any(|&s| s.trace() == t && self.reads[s as usize])
    }

    /// The raw value of a constant.
    pub fn const_raw(&self, c: &ConstRef) -> i64 {
        match c {
            ConstRef::Param(k) => self.params[*k].raw,
            ConstRef::Literal { raw, .. } => *raw,
        }
    }

    /// The real value of a constant (as the config asked, not quantised).
    pub fn const_real(&self, c: &ConstRef) -> f64 {
        match c {
            ConstRef::Param(k) => self.params[*k].value,
            ConstRef::Literal { value, .. } => *value,
        }
    }

    /// The fraction bits of the sum of the terms.
    pub fn sum_frac(&self) -> u32 {
        self.amp.frac + if self.weighted { self.w.frac } else { 0 }
    }

    /// A human-readable account of how the rule is evaluated: one line per term with its
    /// product's widths, then the sum and the rounding (what `synforge params` prints).
    pub fn explain(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        // A variable's update is compiled under the variable's name, with it as its target.
        let (target, to, fmt, range) = match self.target {
            Some(k) => {
                (self.name.as_str(), format!("`{}`", self.name), self.syn[k], "its format's range")
            }
            None => ("w", "the weight".to_string(), self.w, "[w_min, w_max]"),
        };
        writeln!(s, "d{target} = \"{}\"", self.text).unwrap();
        writeln!(
            s,
            "amplitude format {} (every constant, bracket and parameter register)",
            self.amp.q_name()
        )
        .unwrap();
        if let Some(f) = self.r {
            writeln!(
                s,
                "modulator r {} (set before each step); a term takes |r|, floored like a trace, \
                 and r's sign flips the term's",
                f.q_name()
            )
            .unwrap();
        }
        for (k, t) in self.terms.iter().enumerate() {
            let widths: Vec<String> = t.product_max.iter().map(|&m| bits(m).to_string()).collect();
            writeln!(
                s,
                "term {}: {}{}  [{}; product widths {} bits; at most {} bits in the sum]",
                k + 1,
                if t.negative { "- " } else { "+ " },
                t.text,
                match t.gate {
                    Gate::Pre => "on an input spike, reading traces before this step's bumps",
                    Gate::Post =>
                        "on a neuron spike, reading x after this step's input spike, y before the neuron's",
                    Gate::Both => "on both spikes, reading x after the input spike, y before the neuron's",
                    Gate::Sweep => "in the sweep, every synapse, reading the traces at the end of the step",
                },
                widths.join(", "),
                bits(t.term_max)
            )
            .unwrap();
        }
        writeln!(
            s,
            "sum: {} fraction bits, at most {} bits with sign; one rounding ({:?}) by {} bits to {} {}, then clamp to {}",
            self.sum_frac(),
            bits(self.sum_max) + 1,
            self.rounding,
            self.shift,
            to,
            fmt.q_name(),
            range
        )
        .unwrap();
        s
    }
}

fn quantize(v: f64, amp: Format, field: &str) -> Result<i64> {
    amp.quantize(v).ok_or_else(|| {
        Error::field(
            field,
            format!(
                "{v} does not fit the amplitude format {amp} (range {} to {}); lower the value or \
                 lower plasticity.amplitude_frac",
                amp.min_real(),
                amp.max_real()
            ),
        )
    })
}

fn quantized(field: &str, requested: f64, amp: Format, raw: i64) -> Quantized {
    let realised = amp.to_real(raw);
    let rel_error =
        if requested != 0.0 { (realised - requested) / requested } else { realised - requested };
    Quantized {
        field: field.to_string(),
        requested,
        realised,
        raw,
        rel_error,
        format: amp.q_name(),
    }
}

/// Fraction bits for the 16-bit amplitude constants: the most (at most 32, at least `w_frac`)
/// that still hold `max_a`.
pub fn auto_amp_frac(max_a: f64, w_frac: u32) -> u32 {
    let mut f = 32;
    while f > w_frac && (max_a * (f as f64).exp2()).round() > 65535.0 {
        f -= 1;
    }
    f
}

/// The six trace values a synapse's terms may read, raw, indexed by [`Slot`].
pub type Vals = [i64; 6];

/// Where the model's kernels find a synapse's trace values: any [`Slot`] by number.
pub trait Values {
    /// The raw value of slot `s` (`Slot as usize`).
    fn get(&self, s: usize) -> i64;

    /// The modulator's magnitude `|r|`, raw (zero where no rule reads it).
    #[inline(always)]
    fn modulator(&self) -> i64 {
        0
    }

    /// Per-synapse variable `k`'s magnitude, raw (zero where no rule reads it).
    #[inline(always)]
    fn syn(&self, _k: usize) -> i64 {
        0
    }
}

/// This step's modulator and a synapse's own variables, raw and signed: what a rule reads
/// besides the traces and the weight.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VarVals {
    /// `r`.
    pub r: i64,
    /// The per-synapse variables, in name order (their values before this update).
    pub syn: [i64; 2],
}

/// The trace values of a synapse and the magnitudes of its other variables.
#[derive(Clone, Copy)]
pub struct Modulated<'a> {
    /// The trace values, indexed by [`Slot`].
    pub v: &'a Vals,
    /// `|r|`, raw.
    pub mag: i64,
    /// `|syn[k]|`, raw.
    pub syn: [i64; 2],
}

impl Values for Modulated<'_> {
    #[inline(always)]
    fn get(&self, s: usize) -> i64 {
        self.v[s]
    }

    #[inline(always)]
    fn modulator(&self) -> i64 {
        self.mag
    }

    #[inline(always)]
    fn syn(&self, k: usize) -> i64 {
        self.syn[k]
    }
}

impl Values for Vals {
    #[inline(always)]
    fn get(&self, s: usize) -> i64 {
        self[s]
    }
}

/// The trace values of synapse `(i, j)` read in place: the four pre-side arrays at input `i`
/// and the neuron's two post traces, without gathering them first.
#[derive(Clone, Copy)]
pub struct InPlace<'a> {
    /// x1, x2 before the pre bump, x1 and x2 after it, indexed by input.
    pub x: [&'a [u16]; 4],
    /// The input.
    pub i: usize,
    /// y1, y2 of the neuron.
    pub y: [u16; 2],
}

impl Values for InPlace<'_> {
    #[inline(always)]
    fn get(&self, s: usize) -> i64 {
        if s < 4 {
            self.x[s][self.i] as i64
        } else {
            self.y[s & 1] as i64
        }
    }
}

/// A factor with its raw value, as the bit-accurate model evaluates it.
#[derive(Clone, Debug)]
pub enum FactorFixed {
    /// A constant, amplitude format.
    Const(i64),
    /// `sat(c0 ± product)` into `[0, 2^16 - 1]`.
    Bracket {
        /// The constant.
        c0: i64,
        /// Subtracted.
        minus: bool,
        /// The product.
        product: Vec<FactorFixed>,
    },
    /// A trace value with its fraction bits.
    Trace(Slot, u32),
    /// `|r|` with the modulator's fraction bits.
    Mod(u32),
    /// `|syn[k]|` with that variable's fraction bits.
    Syn(usize, u32),
}

impl FactorFixed {
    /// Its raw value and the fraction bits a product drops after multiplying by it.
    #[inline(always)]
    pub fn value(&self, v: &impl Values, fa: u32) -> (i64, u32) {
        match self {
            FactorFixed::Const(c) => (*c, fa),
            FactorFixed::Bracket { c0, minus, product } => {
                let p = product_fixed(product, v, fa);
                let b = if *minus { (c0 - p).max(0) } else { (c0 + p).min(0xFFFF) };
                (b, fa)
            }
            FactorFixed::Trace(s, frac) => (v.get(*s as usize), *frac),
            FactorFixed::Mod(frac) => (v.modulator(), *frac),
            FactorFixed::Syn(k, frac) => (v.syn(*k), *frac),
        }
    }
}

/// A product from one (`2^fa`): each factor multiplied in and its fraction bits floored away.
/// A leading constant or bracket is taken as it is (one times it, exactly).
#[inline(always)]
pub fn product_fixed(fs: &[FactorFixed], v: &impl Values, fa: u32) -> i64 {
    let mut p = 1i64 << fa;
    for (k, f) in fs.iter().enumerate() {
        let (x, frac) = f.value(v, fa);
        p = if k == 0 && frac == fa { x } else { (p * x) >> frac };
    }
    p
}

/// A product in the shape the model evaluates fastest; `General` for any other.
#[derive(Clone, Debug)]
pub enum Product {
    /// A constant alone (or one, `2^amp_frac`, for a term with no factor).
    Const(i64),
    /// `(c * v[s]) >> f`: a constant and a trace (the pair rule's terms).
    ConstTrace(i64, usize, u32),
    /// `(sat(c0 ± ((c1 * v[s1]) >> f1)) * v[s2]) >> f2`: a bracket over a trace, then a trace
    /// (the triplet rule's terms).
    BracketTrace {
        /// The bracket's constant.
        c0: i64,
        /// `-` rather than `+`.
        minus: bool,
        /// The bracket's product constant.
        c1: i64,
        /// Its trace.
        s1: usize,
        /// That trace's fraction bits.
        f1: u32,
        /// The term's trace.
        s2: usize,
        /// Its fraction bits.
        f2: u32,
    },
    /// Any product, factor by factor.
    General(Box<[FactorFixed]>),
}

impl Product {
    fn new(fs: &[FactorFixed], fa: u32) -> Self {
        use FactorFixed as F;
        match fs {
            [] => Product::Const(1 << fa),
            [F::Const(c)] => Product::Const(*c),
            [F::Const(c), F::Trace(s, f)] => Product::ConstTrace(*c, *s as usize, *f),
            [F::Bracket { c0, minus, product }, F::Trace(s2, f2)] => match &product[..] {
                [F::Const(c1), F::Trace(s1, f1)] => Product::BracketTrace {
                    c0: *c0,
                    minus: *minus,
                    c1: *c1,
                    s1: *s1 as usize,
                    f1: *f1,
                    s2: *s2 as usize,
                    f2: *f2,
                },
                _ => Product::General(fs.into()),
            },
            _ => Product::General(fs.into()),
        }
    }

    #[inline(always)]
    fn eval(&self, v: &impl Values, fa: u32) -> i64 {
        match self {
            Product::Const(c) => *c,
            Product::ConstTrace(c, s, f) => (c * v.get(*s)) >> f,
            Product::BracketTrace { c0, minus, c1, s1, f1, s2, f2 } => {
                let p = (c1 * v.get(*s1)) >> f1;
                let b = if *minus { (c0 - p).max(0) } else { (c0 + p).min(0xFFFF) };
                (b * v.get(*s2)) >> f2
            }
            Product::General(fs) => product_fixed(fs, v, fa),
        }
    }
}

/// A term of [`RuleFixed`]: its product `e` adds `e * a` to `A` and `e * b` to `B` (see
/// [`RuleFixed`]), with `(a, b)` from its sign and weight factor.
#[derive(Clone, Debug)]
pub struct TermFixed {
    /// Its product.
    pub product: Product,
    /// Its coefficient in `A`.
    pub a: i64,
    /// Its coefficient in `B`.
    pub b: i64,
}

/// The rule in integers: the bit-accurate model's form.
///
/// The update of one synapse is `round(A + B * w)`: every term's contribution is linear in
/// the weight (`e << align`, `e * w`, `e * (w_max - w)` or `e * (w - w_min)`, with its sign),
/// so the terms that hold are collected into the two integers `(A, B)` before the weight is
/// read, exactly.
#[derive(Clone, Debug)]
pub struct RuleFixed {
    /// The terms gated by `y0` alone.
    pub post: Vec<TermFixed>,
    /// By `x0` alone.
    pub pre: Vec<TermFixed>,
    /// By `x0 * y0`.
    pub both: Vec<TermFixed>,
    /// Every term, in the rule's order (for [`RuleFixed::product`]).
    pub all: Vec<TermFixed>,
    /// Every term as the contract states it (for [`RuleFixed::update`]).
    pub reference: Vec<TermRef>,
    /// Shift of the terms without a weight factor.
    pub align: u32,
    /// Amplitude fraction bits.
    pub amp_frac: u32,
    /// The update's rounding shift.
    pub shift: u32,
    /// The weight's rounding.
    pub rounding: Rounding,
    /// Bounds, raw.
    pub w_min: i64,
    /// Upper bound.
    pub w_max: i64,
    /// Which slots the post and both terms read; which the pre terms read.
    pub post_reads: [bool; 6],
    /// Slots the pre terms read.
    pub pre_reads: [bool; 6],
    /// The terms gated by `y0` alone read no post trace: their `(A, B)` is the same for every
    /// neuron of a row (the pair rule's potentiation).
    pub post_row_only: bool,
    /// Some term reads the modulator `r` or a per-synapse variable: only
    /// [`RuleFixed::update`] evaluates the rule.
    pub reads_mod: bool,
    /// The target's clamp: `[w_min, w_max]` for the weight, the variable's format's range.
    pub lo: i64,
    /// Upper clamp bound.
    pub hi: i64,
    /// Which per-synapse variables are signed (their sign flips the terms that read them).
    pub syn_signed: [bool; 2],
    /// Some term acts on spikes: the target updates in §4.3 (and draws there).
    pub events: bool,
    /// Some term acts in the sweep (§4.7).
    pub sweeps: bool,
}

fn fixed_factor(r: &Rule, f: &FactorIr) -> FactorFixed {
    match f {
        FactorIr::Const(c) => FactorFixed::Const(r.const_raw(c)),
        FactorIr::Bracket { c0, minus, product } => FactorFixed::Bracket {
            c0: r.const_raw(c0),
            minus: *minus,
            product: product.iter().map(|f| fixed_factor(r, f)).collect(),
        },
        FactorIr::Trace(s) => FactorFixed::Trace(*s, r.trace_format(*s).frac),
        FactorIr::Mod => FactorFixed::Mod(r.r.expect("a rule that reads r has its format").frac),
        FactorIr::Syn(k) => FactorFixed::Syn(*k, r.syn[*k].frac),
    }
}

fn slots_read(product: &[FactorIr], into: &mut [bool; 6]) {
    for f in product {
        match f {
            FactorIr::Trace(s) => into[*s as usize] = true,
            FactorIr::Bracket { product, .. } => slots_read(product, into),
            FactorIr::Const(_) | FactorIr::Mod | FactorIr::Syn(_) => {}
        }
    }
}

impl RuleFixed {
    /// The integer form of `r` with weight bounds `w_min`, `w_max` (raw).
    pub fn new(r: &Rule, w_min: i64, w_max: i64) -> Self {
        let mut post_reads = [false; 6];
        let mut pre_reads = [false; 6];
        let mut post_only_reads = [false; 6];
        for t in r.terms.iter().filter(|t| t.gate != Gate::Sweep) {
            slots_read(
                &t.product,
                if t.gate == Gate::Pre { &mut pre_reads } else { &mut post_reads },
            );
            if t.gate == Gate::Post {
                slots_read(&t.product, &mut post_only_reads);
            }
        }
        let align = if r.weighted { r.w.frac } else { 0 };
        let term = |t: &TermIr| {
            let fs: Vec<FactorFixed> = t.product.iter().map(|f| fixed_factor(r, f)).collect();
            let sign = if t.negative { -1 } else { 1 };
            let (a, b) = match t.weight {
                None => (1i64 << align, 0),
                Some(WeightFactor::W) => (0, 1),
                Some(WeightFactor::ToMax) => (w_max, -1),
                Some(WeightFactor::FromMin) => (-w_min, 1),
            };
            TermFixed { product: Product::new(&fs, r.amp.frac), a: sign * a, b: sign * b }
        };
        let pick = |g: Gate| -> Vec<TermFixed> {
            r.terms.iter().filter(|t| t.gate == g).map(term).collect()
        };
        RuleFixed {
            post: pick(Gate::Post),
            pre: pick(Gate::Pre),
            both: pick(Gate::Both),
            all: r.terms.iter().map(term).collect(),
            reference: r
                .terms
                .iter()
                .map(|t| TermRef {
                    negative: t.negative,
                    gate: t.gate,
                    factors: t.product.iter().map(|f| fixed_factor(r, f)).collect(),
                    weight: t.weight,
                    modulated: t.modulated(),
                    syn: [t.reads_syn(0), t.reads_syn(1)],
                })
                .collect(),
            align,
            amp_frac: r.amp.frac,
            shift: r.shift,
            rounding: r.rounding,
            w_min,
            w_max,
            post_reads,
            pre_reads,
            post_row_only: !post_only_reads[Slot::Y1 as usize]
                && !post_only_reads[Slot::Y2 as usize],
            reads_mod: r.reads_mod() || !r.syn.is_empty() || r.sweeps(),
            lo: r.target.map_or(w_min, |k| r.syn[k].min_raw()),
            hi: r.target.map_or(w_max, |k| r.syn[k].max_raw()),
            syn_signed: [0, 1].map(|k| r.syn.get(k).is_some_and(|f| f.signed)),
            events: r.events(),
            sweeps: r.sweeps(),
        }
    }

    /// Whether some term has a weight factor (`B` may be non-zero).
    pub fn weighted(&self) -> bool {
        self.all.iter().any(|t| t.b != 0)
    }

    /// The product of term `k` (amplitude format): its value before the weight factor.
    pub fn product(&self, k: usize, v: &Vals) -> i64 {
        self.all[k].product.eval(v, self.amp_frac)
    }

    /// `(A, B)` of `terms`: their sum is `A + B * w` (see [`RuleFixed`]).
    #[inline(always)]
    pub fn linear(&self, terms: &[TermFixed], v: &impl Values) -> (i64, i64) {
        let (mut a, mut b) = (0i64, 0i64);
        for t in terms {
            let e = t.product.eval(v, self.amp_frac);
            a += e * t.a;
            b += e * t.b;
        }
        (a, b)
    }

    /// The new weight: `clamp(w + round(A + B * w, shift), w_min, w_max)`, one draw from
    /// `lfsr` when the weight rounds stochastically.
    #[inline(always)]
    pub fn apply(&self, w: u16, ab: (i64, i64), lfsr: &mut Lfsr) -> u16 {
        self.apply_as(w, ab, self.rounding, lfsr)
    }

    /// [`RuleFixed::apply`] with the rounding mode given (the model's kernels make it a
    /// constant); `mode` must be the rule's.
    #[inline(always)]
    pub fn apply_as(&self, w: u16, (a, b): (i64, i64), mode: Rounding, lfsr: &mut Lfsr) -> u16 {
        debug_assert_eq!(mode, self.rounding);
        let w = w as i64;
        let dw = round_shift(a + b * w, self.shift, mode, lfsr);
        clamp_branchless(w + dw, self.w_min, self.w_max) as u16
    }

    /// The whole update of synapse `(i, j)` as the contract states it, term by term and
    /// factor by factor, with none of the shortcuts above: `pre` and `post` say which spikes
    /// happened, `r` is this step's modulator (raw, signed; zero when no term reads it). The
    /// reference the model's kernels are held to, and the model's kernel for rules that read `r`.
    #[inline]
    pub fn update(&self, w: u16, pre: bool, post: bool, v: &Vals, r: i64, lfsr: &mut Lfsr) -> u16 {
        let vars = VarVals { r, syn: [0; 2] };
        self.update_target(w as i64, w, pre, post, v, &vars, lfsr) as u16
    }

    /// The new value of the rule's target (the weight or a per-synapse variable) `cur`:
    /// `clamp(cur + round(S, shift), lo, hi)`, every term reading the synapse's values from
    /// before this update (`w` and `vars.syn`).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub fn update_target(
        &self,
        cur: i64,
        w: u16,
        pre: bool,
        post: bool,
        v: &Vals,
        vars: &VarVals,
        lfsr: &mut Lfsr,
    ) -> i64 {
        let d = round_shift(self.sum_with(w, pre, post, v, vars), self.shift, self.rounding, lfsr);
        (cur + d).clamp(self.lo, self.hi)
    }

    /// The exact sum `S` that [`RuleFixed::update`] rounds (semantics §4.3), term by term: a
    /// term that reads `r` multiplies by `|r|` and takes `r`'s sign.
    #[inline]
    pub fn sum(&self, w: u16, pre: bool, post: bool, v: &Vals, r: i64) -> i64 {
        self.sum_with(w, pre, post, v, &VarVals { r, syn: [0; 2] })
    }

    /// [`RuleFixed::sum`] with the synapse's own variables: a term takes the magnitudes of
    /// the signed ones it reads, and each negative one flips its sign.
    #[inline]
    pub fn sum_with(&self, w: u16, pre: bool, post: bool, v: &Vals, vars: &VarVals) -> i64 {
        let r = vars.r;
        let v = Modulated { v, mag: r.abs(), syn: vars.syn.map(i64::abs) };
        let w = w as i64;
        let mut sum = 0i64;
        for t in &self.reference {
            let holds = match t.gate {
                Gate::Pre => pre,
                Gate::Post => post,
                Gate::Both => pre && post,
                // The sweep passes neither event (§4.7); §4.3 always passes one.
                Gate::Sweep => !pre && !post,
            };
            if !holds {
                continue;
            }
            let e = product_fixed(&t.factors, &v, self.amp_frac);
            let c = match t.weight {
                None => e << self.align,
                Some(WeightFactor::W) => e * w,
                Some(WeightFactor::ToMax) => e * (self.w_max - w),
                Some(WeightFactor::FromMin) => e * (w - self.w_min),
            };
            let flips = (t.modulated && r < 0)
                ^ (t.syn[0] && self.syn_signed[0] && vars.syn[0] < 0)
                ^ (t.syn[1] && self.syn_signed[1] && vars.syn[1] < 0);
            sum += if t.negative != flips { -c } else { c };
        }
        sum
    }
}

/// A term as the contract states it, for [`RuleFixed::update`].
#[derive(Clone, Debug)]
pub struct TermRef {
    /// Subtracted.
    pub negative: bool,
    /// Its events.
    pub gate: Gate,
    /// Its product's factors.
    pub factors: Box<[FactorFixed]>,
    /// Its weight factor.
    pub weight: Option<WeightFactor>,
    /// Its product reads `r`.
    pub modulated: bool,
    /// It reads per-synapse variable 0, 1.
    pub syn: [bool; 2],
}

/// The rule in f64: the float reference's form. Constants are the config's values, brackets
/// saturate at the amplitude format's real limits, nothing rounds.
#[derive(Clone, Debug)]
pub struct RuleFloat {
    terms: Vec<(bool, Gate, Vec<FactorFloat>, Option<WeightFactor>)>,
    amp_max: f64,
    /// Lower weight bound.
    pub w_min: f64,
    /// Upper weight bound.
    pub w_max: f64,
    /// The target's clamp: the weight bounds, or the variable's format's real range.
    pub lo: f64,
    /// Upper clamp bound.
    pub hi: f64,
    /// Some term acts on spikes (§4.3).
    pub events: bool,
    /// Some term acts in the sweep (§4.7).
    pub sweeps: bool,
}

#[derive(Clone, Debug)]
enum FactorFloat {
    Const(f64),
    Bracket(f64, bool, Vec<FactorFloat>),
    Trace(Slot),
    Mod,
    Syn(usize),
}

fn float_factor(r: &Rule, f: &FactorIr) -> FactorFloat {
    match f {
        FactorIr::Const(c) => FactorFloat::Const(r.const_real(c)),
        FactorIr::Bracket { c0, minus, product } => FactorFloat::Bracket(
            r.const_real(c0),
            *minus,
            product.iter().map(|f| float_factor(r, f)).collect(),
        ),
        FactorIr::Trace(s) => FactorFloat::Trace(*s),
        FactorIr::Mod => FactorFloat::Mod,
        FactorIr::Syn(k) => FactorFloat::Syn(*k),
    }
}

fn product_float(fs: &[FactorFloat], v: &[f64; 6], r: f64, syn: &[f64; 2], amp_max: f64) -> f64 {
    fs.iter()
        .map(|f| match f {
            FactorFloat::Const(c) => *c,
            FactorFloat::Bracket(c0, minus, p) => {
                let p = product_float(p, v, r, syn, amp_max);
                if *minus {
                    (c0 - p).max(0.0)
                } else {
                    (c0 + p).min(amp_max)
                }
            }
            FactorFloat::Trace(s) => v[*s as usize],
            FactorFloat::Mod => r,
            FactorFloat::Syn(k) => syn[*k],
        })
        .product()
}

impl RuleFloat {
    /// The f64 form of `r` with weight bounds `w_min`, `w_max`.
    pub fn new(r: &Rule, w_min: f64, w_max: f64) -> Self {
        RuleFloat {
            terms: r
                .terms
                .iter()
                .map(|t| {
                    (
                        t.negative,
                        t.gate,
                        t.product.iter().map(|f| float_factor(r, f)).collect(),
                        t.weight,
                    )
                })
                .collect(),
            amp_max: r.amp.max_real(),
            w_min,
            w_max,
            lo: r.target.map_or(w_min, |k| r.syn[k].min_real()),
            hi: r.target.map_or(w_max, |k| r.syn[k].max_real()),
            events: r.events(),
            sweeps: r.sweeps(),
        }
    }

    /// The effective decay rate of a synapse (the BDH document's `avg_decay`): the fraction of
    /// its distance above `w_min` that one sweep with no activity (traces, events and `r`
    /// zero) takes from weight `w`, given its variables `syn`. Under the consolidation preset
    /// it is `w_decay * (1 - c)`. `None` for a rule without a sweep, or at `w_min`.
    pub fn sweep_decay(&self, w: f64, syn: &[f64; 2]) -> Option<f64> {
        if !self.sweeps || w <= self.w_min {
            return None;
        }
        let after = self.update_target(w, w, false, false, &[0.0; 6], 0.0, syn);
        Some((w - after) / (w - self.w_min))
    }

    /// The new weight of a synapse whose input spiked (`pre`) and/or whose neuron spiked
    /// (`post`), with the trace values `v` indexed by [`Slot`] and this step's modulator `r`.
    pub fn update(&self, w: f64, pre: bool, post: bool, v: &[f64; 6], r: f64) -> f64 {
        self.update_target(w, w, pre, post, v, r, &[0.0; 2])
    }

    /// The new value of the rule's target `cur` (the weight or a per-synapse variable), the
    /// terms reading the synapse's values from before this update (`w`, `syn`).
    #[allow(clippy::too_many_arguments)]
    pub fn update_target(
        &self,
        cur: f64,
        w: f64,
        pre: bool,
        post: bool,
        v: &[f64; 6],
        r: f64,
        syn: &[f64; 2],
    ) -> f64 {
        let mut dw = 0.0;
        for (negative, gate, product, weight) in &self.terms {
            let holds = match gate {
                Gate::Pre => pre,
                Gate::Post => post,
                Gate::Both => pre && post,
                // The sweep passes neither event (§4.7); §4.3 always passes one.
                Gate::Sweep => !pre && !post,
            };
            if !holds {
                continue;
            }
            let e = product_float(product, v, r, syn, self.amp_max);
            let e = match weight {
                None => e,
                Some(WeightFactor::W) => e * w,
                Some(WeightFactor::ToMax) => e * (self.w_max - w),
                Some(WeightFactor::FromMin) => e * (w - self.w_min),
            };
            dw += if *negative { -e } else { e };
        }
        (cur + dw).clamp(self.lo, self.hi)
    }
}
