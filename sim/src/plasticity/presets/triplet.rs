//! Triplet STDP (Pfister & Gerstner 2006, minimal all-to-all form), docs/semantics.md §4.3.1:
//! the pair terms with amplitudes raised by the other side's slow trace, read just before the
//! current spike.

use super::Preset;

/// `rule = "triplet"`: parameters `a_plus` (A2+), `a3_plus` (A3+), `a_minus` (A2-),
/// `a3_minus` (A3-).
pub const TRIPLET: Preset = Preset {
    name: "triplet",
    about: "triplet STDP: the pair rule with amplitudes (a_plus + a3_plus * y2) and (a_minus + a3_minus * x2)",
    additive: "(a_plus + a3_plus * y2) * x1 * y0 - (a_minus + a3_minus * x2) * y1 * x0",
    multiplicative: Some(
        "(a_plus + a3_plus * y2) * x1 * (w_max - w) * y0 - (a_minus + a3_minus * x2) * y1 * (w - w_min) * x0",
    ),
    vars: &[],
};
