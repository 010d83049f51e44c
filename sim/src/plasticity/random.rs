//! Random rules for tests and fuzzers: every shape the language has (gates, signs, constants,
//! numbers, brackets with `+` and `-`, traces, weight factors), with parameter values that keep
//! the updates in a sensible range. Seeded by the caller; the rules are valid text but may
//! still be refused at compile time (an intermediate too wide for some formats), so callers
//! that need a valid network draw again.

use std::collections::BTreeMap;

use rand::Rng;

/// A random rule: its text and its parameters (for `[plasticity.params]`).
#[derive(Clone, Debug)]
pub struct RandomRule {
    /// The `dw` text.
    pub text: String,
    /// Parameter values by name.
    pub params: BTreeMap<String, f64>,
}

/// A random rule of 1 to `max_terms` terms.
pub fn random_rule(rng: &mut impl Rng, max_terms: usize) -> RandomRule {
    random_rule_with(rng, max_terms, false)
}

/// A random rule of 1 to `max_terms` terms; when `modulated`, its first term and about half
/// of the others read the modulator `r`. Without it, the draws are [`random_rule`]'s.
pub fn random_rule_with(rng: &mut impl Rng, max_terms: usize, modulated: bool) -> RandomRule {
    let mut params = BTreeMap::new();
    let mut terms = Vec::new();
    let n = rng.random_range(1..=max_terms.max(1));
    let traces = ["x1", "x2", "y1", "y2"];
    for k in 0..n {
        let mut f: Vec<String> = Vec::new();
        let weighted = rng.random_bool(0.4);
        // Amplitudes: a parameter, sometimes a second one or a number, sometimes a bracket.
        let scale = if weighted { 0.2 } else { 0.02 };
        let mut param = |rng: &mut dyn rand::RngCore, lo: f64, hi: f64| {
            let name = format!("p{}", params.len());
            params.insert(name.clone(), rng.random_range(lo..hi));
            name
        };
        match rng.random_range(0..5) {
            0 => {}
            1 | 2 => f.push(param(rng, scale * 0.05, scale)),
            3 => {
                f.push(param(rng, scale * 0.05, scale));
                f.push(if rng.random_bool(0.5) {
                    param(rng, 0.5, 1.0)
                } else {
                    ["0.5", "2^-1", "0.75", "1"][rng.random_range(0..4)].to_string()
                });
            }
            _ => {
                let c0 = param(rng, scale * 0.05, scale);
                let minus = rng.random_bool(0.3);
                let c1 = param(rng, scale * 0.01, scale * 0.5);
                let t = traces[rng.random_range(0..4)];
                f.push(format!("({c0} {} {c1} * {t})", if minus { "-" } else { "+" }));
            }
        }
        for _ in 0..rng.random_range(0..=2) {
            f.push(traces[rng.random_range(0..4)].to_string());
        }
        if weighted {
            f.push(["w", "(w_max - w)", "(w - w_min)"][rng.random_range(0..3)].to_string());
        }
        if modulated && (k == 0 || rng.random_bool(0.5)) {
            f.push("r".into());
        }
        match rng.random_range(0..5) {
            0 => f.push("x0 * y0".into()),
            1 | 2 => f.push("x0".into()),
            _ => f.push("y0".into()),
        }
        // Factors in any order: the language sorts them.
        for a in (1..f.len()).rev() {
            let b = rng.random_range(0..=a);
            f.swap(a, b);
        }
        let sign = if rng.random_bool(0.5) { "-" } else { "+" };
        let body = f.join(" * ");
        terms.push(if k == 0 && sign == "+" { body } else { format!("{sign} {body}") });
    }
    RandomRule { text: terms.join(" "), params }
}
