//! The rule language: a weight update written as a sum of products over spike events and
//! traces, as Loihi's learning engine takes it (`dw = "a_plus * x1 * y0 - a_minus * y1 * x0"`).
//! This file parses and checks the text; `rule.rs` gives it numbers (docs/semantics.md §4.3).
//!
//! ```text
//! rule     = [sign] term { sign term }
//! term     = factor { "*" factor }
//! factor   = number | name | "(" group ")"
//! group    = "w_max - w" | "w - w_min"                 a bound difference
//!          | constant sign product                     a bracket, as (a2 + a3 * y2)
//! product  = operand { "*" operand }                   operands: constants and traces
//! constant = number | parameter name
//! number   = decimal [exponent] | integer "^" [sign] integer      (2^-3 = 0.125)
//! sign     = "+" | "-"
//! ```
//!
//! Names: the events `x0` (the input spiked this step) and `y0` (the neuron spiked), the sweep
//! `u` (a term with no event, acting every `sweep_period_steps` steps on every synapse), the
//! traces `x1`, `x2` (per input) and `y1`, `y2` (per neuron), the weight `w` and its bounds
//! `w_min`, `w_max` (in bound differences), the global modulator `r`, the declared per-synapse
//! variables, and parameters (any other name, declared with a value). Reserved for later
//! rules: `x3`, `y3` (slow rate traces) and `u0`..`u9` (epoch terms).
//!
//! A term needs an event gate (`x0`, `y0` or both) or the sweep `u`, holds at most one weight factor (`w`,
//! `(w_max - w)`, `(w - w_min)`) and any number of constants, brackets and traces.

use std::fmt;

/// A range of character columns in the rule text, 0-based, end exclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// First column.
    pub start: usize,
    /// One past the last column.
    pub end: usize,
}

impl Span {
    fn join(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

/// A trace variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Trace {
    /// Fast pre trace.
    X1,
    /// Slow pre trace.
    X2,
    /// Fast post trace.
    Y1,
    /// Slow post trace.
    Y2,
}

impl Trace {
    /// Every trace, in the order of the formats table.
    pub const ALL: [Trace; 4] = [Trace::X1, Trace::X2, Trace::Y1, Trace::Y2];

    /// Its name in the rule text.
    pub fn name(self) -> &'static str {
        match self {
            Trace::X1 => "x1",
            Trace::X2 => "x2",
            Trace::Y1 => "y1",
            Trace::Y2 => "y2",
        }
    }

    /// A pre (per input) trace, as opposed to a post (per neuron) one.
    pub fn is_pre(self) -> bool {
        matches!(self, Trace::X1 | Trace::X2)
    }
}

/// Which spikes make a term count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Gate {
    /// `x0`: the input spiked this step.
    Pre,
    /// `y0`: the neuron spiked this step.
    Post,
    /// `x0 * y0`: both.
    Both,
    /// `u`: no event; the term acts in the periodic sweep (semantics §4.7), on every synapse
    /// every `plasticity.sweep_period_steps` steps.
    Sweep,
}

impl Gate {
    /// The term's events, as written in canonical form.
    pub fn text(self) -> &'static str {
        match self {
            Gate::Pre => "x0",
            Gate::Post => "y0",
            Gate::Both => "x0 * y0",
            Gate::Sweep => "u",
        }
    }

    /// Whether the term is evaluated at the neuron's spike, which in a step comes after the
    /// input's: it then reads the pre traces after this step's pre bump (semantics §4.3).
    pub fn at_post(self) -> bool {
        matches!(self, Gate::Post | Gate::Both)
    }
}

/// A variable of the rule that is neither a trace nor the weight, evaluated after the traces.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Var {
    /// `r`: the global modulator of this step (signed; a term takes its magnitude, and its
    /// sign flips the term's, semantics §4.3).
    Mod,
    /// A declared per-synapse variable: its number (in name order) and its name.
    Syn(usize, String),
}

impl Var {
    /// Its name in the rule text.
    pub fn name(&self) -> &str {
        match self {
            Var::Mod => "r",
            Var::Syn(_, n) => n,
        }
    }
}

/// The names a rule may use besides the built-in ones.
pub struct Declared<'a> {
    /// Whether a name is a declared parameter.
    pub is_param: &'a dyn Fn(&str) -> bool,
    /// The per-synapse variables, in name order.
    pub synapse: &'a [String],
}

/// A weight factor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WeightFactor {
    /// `w`.
    W,
    /// `(w_max - w)`: room to the upper bound.
    ToMax,
    /// `(w - w_min)`: room to the lower bound.
    FromMin,
}

impl WeightFactor {
    /// As written in canonical form.
    pub fn text(self) -> &'static str {
        match self {
            WeightFactor::W => "w",
            WeightFactor::ToMax => "(w_max - w)",
            WeightFactor::FromMin => "(w - w_min)",
        }
    }
}

/// A constant: a parameter (a register in hardware) or a number written in the rule.
#[derive(Clone, Debug, PartialEq)]
pub enum Const {
    /// A parameter, by name.
    Param(String),
    /// A number, with its text.
    Number(f64, String),
}

impl fmt::Display for Const {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Const::Param(n) => f.write_str(n),
            Const::Number(_, t) => f.write_str(t),
        }
    }
}

/// `(c0 + p)` or `(c0 - p)`: a constant plus or minus a product of constants and traces,
/// saturated into the amplitude format.
#[derive(Clone, Debug, PartialEq)]
pub struct Bracket {
    /// The constant.
    pub c0: Const,
    /// `-` instead of `+`.
    pub minus: bool,
    /// The product's constants, in written order.
    pub consts: Vec<Const>,
    /// The product's traces, in written order.
    pub traces: Vec<Trace>,
}

impl fmt::Display for Bracket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p: Vec<String> = self
            .consts
            .iter()
            .map(|c| c.to_string())
            .chain(self.traces.iter().map(|t| t.name().to_string()))
            .collect();
        write!(f, "({} {} {})", self.c0, if self.minus { "-" } else { "+" }, p.join(" * "))
    }
}

/// An amplitude factor of a term.
#[derive(Clone, Debug, PartialEq)]
pub enum Amp {
    /// A constant.
    Const(Const),
    /// A bracket.
    Bracket(Bracket),
}

impl fmt::Display for Amp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Amp::Const(c) => c.fmt(f),
            Amp::Bracket(b) => b.fmt(f),
        }
    }
}

/// One term: `± amplitudes * traces * weight factor * events`.
#[derive(Clone, Debug, PartialEq)]
pub struct Term {
    /// Subtracted rather than added.
    pub negative: bool,
    /// Its events.
    pub gate: Gate,
    /// Constants and brackets, in written order.
    pub amps: Vec<Amp>,
    /// Traces, in written order.
    pub traces: Vec<Trace>,
    /// Variables (`r`, then per-synapse ones in name order), each at most once.
    pub vars: Vec<Var>,
    /// At most one weight factor.
    pub weight: Option<WeightFactor>,
    /// Where it is in the text.
    pub span: Span,
}

impl Term {
    /// The term in canonical order, without its sign: amplitudes, traces, variables, weight,
    /// events.
    pub fn body(&self) -> String {
        let mut parts: Vec<String> = self.amps.iter().map(|a| a.to_string()).collect();
        parts.extend(self.traces.iter().map(|t| t.name().to_string()));
        parts.extend(self.vars.iter().map(|v| v.name().to_string()));
        if let Some(wf) = self.weight {
            parts.push(wf.text().to_string());
        }
        parts.push(self.gate.text().to_string());
        parts.join(" * ")
    }
}

/// A parsed rule.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleText {
    /// Its terms, in written order.
    pub terms: Vec<Term>,
}

impl fmt::Display for RuleText {
    /// The canonical text: every term's factors in evaluation order, signs between them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, t) in self.terms.iter().enumerate() {
            match (k, t.negative) {
                (0, false) => {}
                (0, true) => f.write_str("-")?,
                (_, false) => f.write_str(" + ")?,
                (_, true) => f.write_str(" - ")?,
            }
            f.write_str(&t.body())?;
        }
        Ok(())
    }
}

impl RuleText {
    /// Whether some term reads `t`.
    pub fn reads(&self, t: Trace) -> bool {
        self.terms.iter().any(|term| {
            term.traces.contains(&t)
                || term.amps.iter().any(|a| matches!(a, Amp::Bracket(b) if b.traces.contains(&t)))
        })
    }

    /// Whether some term reads the global modulator `r`.
    pub fn reads_mod(&self) -> bool {
        self.terms.iter().any(|t| t.vars.contains(&Var::Mod))
    }

    /// The parameter names in order of first appearance.
    pub fn params(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut add = |c: &Const| {
            if let Const::Param(n) = c {
                if !out.contains(n) {
                    out.push(n.clone());
                }
            }
        };
        for t in &self.terms {
            for a in &t.amps {
                match a {
                    Amp::Const(c) => add(c),
                    Amp::Bracket(b) => {
                        add(&b.c0);
                        b.consts.iter().for_each(&mut add);
                    }
                }
            }
        }
        out
    }
}

/// A mistake in a rule's text, at a position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LangError {
    /// Where.
    pub span: Span,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl LangError {
    fn at(span: Span, message: impl Into<String>) -> Self {
        LangError { span, message: message.into() }
    }

    /// The message with the rule text and a caret line under the fault.
    pub fn render(&self, text: &str) -> String {
        let line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        let width = (self.span.end.max(self.span.start + 1)) - self.span.start;
        format!(
            "column {}: {}\n    {}\n    {}{}",
            self.span.start + 1,
            self.message,
            line,
            " ".repeat(self.span.start),
            "^".repeat(width)
        )
    }
}

/// The longest rule text accepted.
pub const MAX_TEXT: usize = 4096;
/// The most terms a rule may have.
pub const MAX_TERMS: usize = 16;
/// The most factors a term may have (a bracket's own count as one).
pub const MAX_FACTORS: usize = 8;

/// Names the language keeps for later rules, with what they will be.
const RESERVED: &[(&str, &str)] =
    &[("x3", "a slow pre rate trace"), ("y3", "a slow post rate trace (BCM)")];

/// What a name in the rule text stands for, or why it cannot be used, when it is not a
/// parameter. `None` for a name free to be a parameter.
pub fn builtin_name(name: &str) -> Option<&'static str> {
    match name {
        "x0" => Some("the input-spike event"),
        "y0" => Some("the neuron-spike event"),
        "x1" | "x2" => Some("a pre trace"),
        "y1" | "y2" => Some("a post trace"),
        "w" => Some("the weight"),
        "w_min" | "w_max" => Some("a weight bound"),
        "r" => Some("the global modulator"),
        "u" => Some("the sweep (terms with no event)"),
        _ => RESERVED.iter().find(|(n, _)| *n == name).map(|(_, w)| *w).or_else(|| {
            let b = name.as_bytes();
            (b.len() == 2 && b[0] == b'u' && b[1].is_ascii_digit())
                .then_some("epoch terms (every 2^k steps; the sweep `u` with plasticity.sweep_period_steps does this)")
        }),
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(f64),
    Name(String),
    Plus,
    Minus,
    Star,
    Caret,
    Open,
    Close,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    span: Span,
    text: String,
}

fn lex(text: &str) -> Result<Vec<Token>, LangError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut k = 0;
    while k < chars.len() {
        let c = chars[k];
        let start = k;
        let one = |tok| Token { tok, span: Span { start, end: start + 1 }, text: c.to_string() };
        match c {
            c if c.is_whitespace() => {
                k += 1;
                continue;
            }
            '+' => out.push(one(Tok::Plus)),
            '-' => out.push(one(Tok::Minus)),
            '*' => out.push(one(Tok::Star)),
            '^' => out.push(one(Tok::Caret)),
            '(' => out.push(one(Tok::Open)),
            ')' => out.push(one(Tok::Close)),
            c if c.is_ascii_digit() || c == '.' => {
                while k < chars.len() && (chars[k].is_ascii_digit() || chars[k] == '.') {
                    k += 1;
                }
                if k < chars.len() && (chars[k] == 'e' || chars[k] == 'E') {
                    let mut e = k + 1;
                    if e < chars.len() && (chars[e] == '+' || chars[e] == '-') {
                        e += 1;
                    }
                    if e < chars.len() && chars[e].is_ascii_digit() {
                        while e < chars.len() && chars[e].is_ascii_digit() {
                            e += 1;
                        }
                        k = e;
                    }
                }
                let s: String = chars[start..k].iter().collect();
                let span = Span { start, end: k };
                let v: f64 = s.parse().map_err(|_| {
                    LangError::at(
                        span,
                        format!("`{s}` is not a number; write e.g. 0.01, 1e-3 or 2^-7"),
                    )
                })?;
                out.push(Token { tok: Tok::Num(v), span, text: s });
                continue;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                while k < chars.len() && (chars[k].is_ascii_alphanumeric() || chars[k] == '_') {
                    k += 1;
                }
                let s: String = chars[start..k].iter().collect();
                out.push(Token {
                    tok: Tok::Name(s.clone()),
                    span: Span { start, end: k },
                    text: s,
                });
                continue;
            }
            other => {
                return Err(LangError::at(
                    Span { start, end: start + 1 },
                    format!(
                        "`{other}` is not part of the rule language: a rule is a sum of products \
                         of names, numbers and brackets, with + - * ( ) and ^ in numbers as 2^-3"
                    ),
                ))
            }
        }
        k += 1;
    }
    Ok(out)
}

/// A factor as read, before it is sorted into its term.
#[derive(Clone, Debug)]
enum Operand {
    Num(f64, String),
    Name(String),
}

#[derive(Clone, Debug)]
enum Factor {
    Operand(Operand, Span),
    Group(Vec<(bool, Vec<(Operand, Span)>)>, Span),
}

struct Parser<'a> {
    toks: &'a [Token],
    k: usize,
    len: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.k)
    }

    fn end_span(&self) -> Span {
        Span { start: self.len, end: self.len + 1 }
    }

    fn next_span(&self) -> Span {
        self.peek().map(|t| t.span).unwrap_or_else(|| self.end_span())
    }

    fn describe(&self) -> String {
        match self.peek() {
            Some(t) => format!("`{}`", t.text),
            None => "the end of the rule".to_string(),
        }
    }

    /// `number | name`, with `2^-3` folded into a number.
    fn operand(&mut self, what: &str) -> Result<(Operand, Span), LangError> {
        let Some(t) = self.peek().cloned() else {
            return Err(LangError::at(
                self.end_span(),
                format!("the rule ends where {what} should be"),
            ));
        };
        match t.tok {
            Tok::Num(v) => {
                self.k += 1;
                if self.peek().map(|t| &t.tok) == Some(&Tok::Caret) {
                    self.k += 1;
                    let mut neg = false;
                    let mut sp = t.span;
                    if let Some(s) = self.peek() {
                        if s.tok == Tok::Minus || s.tok == Tok::Plus {
                            neg = s.tok == Tok::Minus;
                            self.k += 1;
                        }
                    }
                    let e = self.peek().cloned();
                    let Some(Token { tok: Tok::Num(ev), span, text }) = e else {
                        return Err(LangError::at(
                            self.next_span(),
                            format!("expected an integer exponent after `^`, found {}", self.describe()),
                        ));
                    };
                    self.k += 1;
                    sp = sp.join(span);
                    if ev.fract() != 0.0 || ev > 64.0 || text.contains(['.', 'e', 'E']) {
                        return Err(LangError::at(span, "an exponent is an integer from -64 to 64"));
                    }
                    let ev = if neg { -ev } else { ev };
                    let val = v.powi(ev as i32);
                    let text = format!("{}^{}", t.text, if neg { format!("-{}", text) } else { text });
                    return Ok((Operand::Num(val, text), sp));
                }
                Ok((Operand::Num(v, t.text), t.span))
            }
            Tok::Name(n) => {
                self.k += 1;
                Ok((Operand::Name(n), t.span))
            }
            Tok::Open => Err(LangError::at(
                t.span,
                "brackets do not nest: a bracket holds a constant plus or minus a product, as (a2 + a3 * y2)",
            )),
            _ => Err(LangError::at(t.span, format!("expected {what}, found {}", self.describe()))),
        }
    }

    fn factor(&mut self) -> Result<Factor, LangError> {
        if let Some(t) = self.peek() {
            if t.tok == Tok::Open {
                let open = t.span;
                self.k += 1;
                let mut parts = Vec::new();
                let mut minus = false;
                loop {
                    let mut prod = vec![self.operand("a name or a number")?];
                    while self.peek().map(|t| &t.tok) == Some(&Tok::Star) {
                        self.k += 1;
                        prod.push(self.operand("a name or a number after `*`")?);
                    }
                    parts.push((minus, prod));
                    match self.peek().map(|t| t.tok.clone()) {
                        Some(Tok::Plus) => minus = false,
                        Some(Tok::Minus) => minus = true,
                        Some(Tok::Close) => break,
                        _ => {
                            return Err(LangError::at(
                                if self.peek().is_some() { self.next_span() } else { open },
                                format!(
                                    "expected `+`, `-`, `*` or `)` in the bracket opened at column {}, found {}",
                                    open.start + 1,
                                    self.describe()
                                ),
                            ))
                        }
                    }
                    self.k += 1;
                }
                let close = self.next_span();
                self.k += 1;
                return Ok(Factor::Group(parts, open.join(close)));
            }
        }
        let (op, span) = self.operand("a name, a number or a bracket")?;
        Ok(Factor::Operand(op, span))
    }
}

/// Parse and check a rule. `is_param(name)` says whether a name is a declared parameter.
pub fn parse(text: &str, is_param: &dyn Fn(&str) -> bool) -> Result<RuleText, LangError> {
    parse_with(text, &Declared { is_param, synapse: &[] })
}

/// Parse and check a rule that may read declared per-synapse variables.
pub fn parse_with(text: &str, names: &Declared) -> Result<RuleText, LangError> {
    let len = text.chars().count();
    if len > MAX_TEXT {
        return Err(LangError::at(
            Span { start: MAX_TEXT, end: MAX_TEXT + 1 },
            format!("a rule is at most {MAX_TEXT} characters"),
        ));
    }
    let toks = lex(text)?;
    if toks.is_empty() {
        return Err(LangError::at(
            Span { start: 0, end: 1 },
            "the rule is empty; write it as `a_plus * x1 * y0 - a_minus * y1 * x0`",
        ));
    }
    let mut p = Parser { toks: &toks, k: 0, len };
    let mut terms = Vec::new();
    let mut negative = false;
    if let Some(t) = p.peek() {
        if t.tok == Tok::Minus || t.tok == Tok::Plus {
            negative = t.tok == Tok::Minus;
            p.k += 1;
        }
    }
    loop {
        let start = p.next_span();
        let mut factors = vec![p.factor()?];
        while p.peek().map(|t| &t.tok) == Some(&Tok::Star) {
            p.k += 1;
            factors.push(p.factor()?);
        }
        let end = p.toks[p.k - 1].span;
        let next = p.peek().map(|t| t.tok.clone());
        if !matches!(next, None | Some(Tok::Plus) | Some(Tok::Minus)) {
            return Err(LangError::at(
                p.next_span(),
                format!("expected `+`, `-` or `*` between factors, found {}", p.describe()),
            ));
        }
        terms.push(term(negative, factors, start.join(end), names)?);
        if terms.len() > MAX_TERMS {
            return Err(LangError::at(
                start.join(end),
                format!("a rule has at most {MAX_TERMS} terms"),
            ));
        }
        match next {
            Some(Tok::Plus) => negative = false,
            Some(Tok::Minus) => negative = true,
            _ => break,
        }
        p.k += 1;
        if p.peek().is_none() {
            return Err(LangError::at(
                p.end_span(),
                "the rule ends with a sign; a term should follow",
            ));
        }
    }
    Ok(RuleText { terms })
}

/// Sort a term's factors into events, constants, brackets, traces and its weight factor.
fn term(
    negative: bool,
    factors: Vec<Factor>,
    span: Span,
    names: &Declared,
) -> Result<Term, LangError> {
    if factors.len() > MAX_FACTORS {
        return Err(LangError::at(span, format!("a term has at most {MAX_FACTORS} factors")));
    }
    let (mut x0, mut y0, mut u) = (None::<Span>, None::<Span>, None::<Span>);
    let mut amps = Vec::new();
    let mut traces = Vec::new();
    let mut vars: Vec<(Var, Span)> = Vec::new();
    let mut weight: Option<(WeightFactor, Span)> = None;
    let mut set_weight = |wf: WeightFactor, s: Span| -> Result<(), LangError> {
        if let Some((_, first)) = weight {
            return Err(LangError::at(
                s,
                format!(
                    "a term holds one weight factor (`w`, `(w_max - w)` or `(w - w_min)`); this \
                     one has another at column {}",
                    first.start + 1
                ),
            ));
        }
        weight = Some((wf, s));
        Ok(())
    };
    for f in factors {
        match f {
            Factor::Operand(Operand::Num(v, t), s) => amps.push(Amp::Const(number(v, t, s)?)),
            Factor::Operand(Operand::Name(n), s) => match n.as_str() {
                "x0" | "y0" | "u" => {
                    let slot = match n.as_str() {
                        "x0" => &mut x0,
                        "y0" => &mut y0,
                        _ => &mut u,
                    };
                    if let Some(first) = slot {
                        return Err(LangError::at(
                            s,
                            format!("`{n}` is already in this term at column {}", first.start + 1),
                        ));
                    }
                    *slot = Some(s);
                }
                "w" => set_weight(WeightFactor::W, s)?,
                _ if n == "r" || names.synapse.contains(&n) => {
                    if let Some((_, first)) = vars.iter().find(|(v, _)| v.name() == n) {
                        return Err(LangError::at(
                            s,
                            format!(
                                "`{n}` is already in this term at column {}; a term reads each \
                                 variable once",
                                first.start + 1
                            ),
                        ));
                    }
                    let var = match names.synapse.iter().position(|v| *v == n) {
                        Some(k) if n != "r" => Var::Syn(k, n.clone()),
                        _ => Var::Mod,
                    };
                    vars.push((var, s));
                }
                _ => match trace_or_const(&n, s, names, "term")? {
                    Ok(t) => traces.push(t),
                    Err(c) => amps.push(Amp::Const(c)),
                },
            },
            Factor::Group(parts, s) => match group(parts, s, names)? {
                Ok(wf) => set_weight(wf, s)?,
                Err(b) => amps.push(Amp::Bracket(b)),
            },
        }
    }
    if let (Some(s), Some(e)) = (u, x0.or(y0)) {
        return Err(LangError::at(
            s,
            format!(
                "`u` (the sweep, every synapse every sweep_period_steps steps) cannot go with an \
                 event (column {}): a term acts either on spikes or in the sweep; write two terms",
                e.start + 1
            ),
        ));
    }
    let gate = match (x0, y0, u) {
        (_, _, Some(_)) => Gate::Sweep,
        (Some(_), Some(_), _) => Gate::Both,
        (Some(_), None, _) => Gate::Pre,
        (None, Some(_), _) => Gate::Post,
        (None, None, None) => {
            return Err(LangError::at(
                span,
                "this term has no event: multiply it by x0 (the input spiked this step), y0 \
                 (the neuron spiked this step) or both, or by u (the periodic sweep)",
            ))
        }
    };
    Ok(Term {
        negative,
        gate,
        amps,
        traces,
        vars: {
            // Evaluation order: `r`, then the per-synapse variables in name order.
            let mut v: Vec<Var> = vars.into_iter().map(|(v, _)| v).collect();
            v.sort_by_key(|v| match v {
                Var::Mod => 0,
                Var::Syn(k, _) => 1 + k,
            });
            v
        },
        weight: weight.map(|(w, _)| w),
        span,
    })
}

fn number(v: f64, text: String, s: Span) -> Result<Const, LangError> {
    if !v.is_finite() {
        return Err(LangError::at(s, format!("`{text}` is not a finite number")));
    }
    Ok(Const::Number(v, text))
}

/// A name inside a term or a bracket: a trace (`Ok`) or a constant (`Err`).
fn trace_or_const(
    n: &str,
    s: Span,
    names: &Declared,
    place: &str,
) -> Result<Result<Trace, Const>, LangError> {
    if names.synapse.iter().any(|v| v == n) {
        return Err(LangError::at(
            s,
            format!(
                "the per-synapse variable `{n}` multiplies a whole term, outside any bracket: \
                 write `(a + b * y2) * {n}` rather than `(a + b * {n})`"
            ),
        ));
    }
    Ok(match n {
        "x1" => Ok(Trace::X1),
        "x2" => Ok(Trace::X2),
        "y1" => Ok(Trace::Y1),
        "y2" => Ok(Trace::Y2),
        "x0" | "y0" | "u" => {
            return Err(LangError::at(
                s,
                format!("`{n}` is an event: it gates a whole term, outside any bracket"),
            ))
        }
        "w" => {
            return Err(LangError::at(
                s,
                "the weight appears in a term as `w`, `(w_max - w)` or `(w - w_min)`, not inside a bracket",
            ))
        }
        "w_min" | "w_max" => {
            return Err(LangError::at(
                s,
                format!("`{n}` is a weight bound: use it in `(w_max - w)` or `(w - w_min)`"),
            ))
        }
        "r" => {
            return Err(LangError::at(
                s,
                "the modulator `r` is signed and multiplies a whole term, outside any bracket: \
                 write `(a + b * y2) * r` rather than `(a + b * r)`",
            ))
        }
        _ => {
            if let Some(what) = builtin_name(n) {
                return Err(LangError::at(
                    s,
                    format!("`{n}` is reserved for {what}, which synforge does not build yet"),
                ));
            }
            if !(names.is_param)(n) {
                return Err(LangError::at(
                    s,
                    format!(
                        "unknown name `{n}` in this {place}: the variables are x0, y0, u, x1, x2, \
                         y1, y2, r, w, w_min, w_max; declare a parameter as `{n} = <value>` under \
                         [plasticity.params]"
                    ),
                ));
            }
            Err(Const::Param(n.to_string()))
        }
    })
}

/// A bracket's content: a bound difference (`Ok`) or a bracket (`Err`).
fn group(
    parts: Vec<(bool, Vec<(Operand, Span)>)>,
    s: Span,
    names: &Declared,
) -> Result<Result<WeightFactor, Bracket>, LangError> {
    let name = |p: &(bool, Vec<(Operand, Span)>)| match &p.1[..] {
        [(Operand::Name(n), _)] => Some(n.clone()),
        _ => None,
    };
    if parts.len() == 2 && parts[1].0 {
        match (name(&parts[0]).as_deref(), name(&parts[1]).as_deref()) {
            (Some("w_max"), Some("w")) => return Ok(Ok(WeightFactor::ToMax)),
            (Some("w"), Some("w_min")) => return Ok(Ok(WeightFactor::FromMin)),
            _ => {}
        }
    }
    let shape = "a bracket is a constant plus or minus a product, as `(a2 + a3 * y2)`, or a \
                 bound difference, `(w_max - w)` or `(w - w_min)`";
    if parts.len() != 2 || parts[0].1.len() != 1 {
        return Err(LangError::at(s, shape));
    }
    let (c0_op, c0_span) = parts[0].1[0].clone();
    let c0 = match c0_op {
        Operand::Num(v, t) => number(v, t, c0_span)?,
        Operand::Name(n) => match trace_or_const(&n, c0_span, names, "bracket")? {
            Err(c) => c,
            Ok(_) => {
                return Err(LangError::at(
                    c0_span,
                    format!("{shape}; its first part is a constant, not the trace `{n}`"),
                ))
            }
        },
    };
    let (minus, prod) = (parts[1].0, &parts[1].1);
    let mut consts = Vec::new();
    let mut traces = Vec::new();
    for (op, sp) in prod {
        match op {
            Operand::Num(v, t) => consts.push(number(*v, t.clone(), *sp)?),
            Operand::Name(n) => match trace_or_const(n, *sp, names, "bracket")? {
                Ok(t) => traces.push(t),
                Err(c) => consts.push(c),
            },
        }
    }
    Ok(Err(Bracket { c0, minus, consts, traces }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<RuleText, LangError> {
        parse(text, &|n| ["a", "b", "a_plus", "a_minus", "a3_plus", "c"].contains(&n))
    }

    #[test]
    fn pair_rule_parses_into_two_gated_terms() {
        let r = p("a_plus * x1 * y0 - a_minus * y1 * x0").unwrap();
        assert_eq!(r.terms.len(), 2);
        assert_eq!(r.terms[0].gate, Gate::Post);
        assert_eq!(r.terms[1].gate, Gate::Pre);
        assert!(r.terms[1].negative);
        assert_eq!(r.to_string(), "a_plus * x1 * y0 - a_minus * y1 * x0");
    }

    #[test]
    fn canonical_text_parses_back_to_the_same_rule() {
        for text in [
            "y0 * x1 * (a_plus + a3_plus * y2) - x0 * (w - w_min) * a_minus * y1",
            "-2^-3 * x0 * y0 * y1 * x1 + (a - b * c * x2) * w * x0",
            "1e-3 * (w_max - w) * y0",
        ] {
            let r = p(text).unwrap();
            let again = p(&r.to_string()).unwrap();
            assert_eq!(again.to_string(), r.to_string(), "{text}");
        }
    }

    #[test]
    fn the_modulator_is_a_variable_after_the_traces() {
        let r = p("r * a * y0 * x1 - y1 * x0 * b").unwrap();
        assert_eq!(r.terms[0].vars, vec![Var::Mod]);
        assert!(r.terms[1].vars.is_empty());
        assert!(r.reads_mod());
        assert_eq!(r.to_string(), "a * x1 * r * y0 - b * y1 * x0");
        assert!(!p("a * x1 * y0").unwrap().reads_mod());
    }

    #[test]
    fn powers_of_two_are_numbers() {
        let r = p("2^-2 * x1 * y0").unwrap();
        assert_eq!(r.terms[0].amps[0], Amp::Const(Const::Number(0.25, "2^-2".into())));
    }

    #[test]
    fn mistakes_name_their_column() {
        let cases: &[(&str, usize, &str)] = &[
            ("a * x3 * y0", 5, "reserved"),
            ("a * q * y0", 5, "unknown name `q`"),
            ("a * x1", 1, "no event"),
            ("a * x1 * y0 * y0", 15, "already in this term"),
            ("a * w * (w_max - w) * y0", 9, "one weight factor"),
            ("a * (b + (c * y2)) * y0", 10, "do not nest"),
            ("a * (x1 + b) * y0", 6, "its first part is a constant"),
            ("a * (b * c) * y0", 5, "a bracket is"),
            ("a * (b + w) * y0", 10, "not inside a bracket"),
            ("a * w_max * y0", 5, "weight bound"),
            ("a * x1 * y0 -", 14, "ends with a sign"),
            ("a * x1 y0", 8, "expected `+`, `-` or `*`"),
            ("a * x1 * y0 % 2", 13, "not part of the rule language"),
            ("", 1, "empty"),
            ("a * (b + c * y2 * y0", 5, "bracket opened at column 5"),
            ("a * (b + x0) * y0", 10, "event"),
            ("a * (b + r) * y0", 10, "outside any bracket"),
            ("a * r * r * y0", 9, "already in this term"),
        ];
        for &(text, col, what) in cases {
            let e = p(text).expect_err(text);
            assert_eq!(e.span.start + 1, col, "{text}: {e:?}");
            assert!(e.message.contains(what), "{text}: {}", e.message);
        }
    }

    #[test]
    fn the_rendered_error_points_under_the_fault() {
        let e = p("a * x3 * y0").unwrap_err();
        assert!(
            e.render("a * x3 * y0").ends_with("a * x3 * y0\n        ^^"),
            "{}",
            e.render("a * x3 * y0")
        );
    }
}
