//! Pair STDP (Bi & Poo 1998; Song, Miller & Abbott 2000), docs/semantics.md §4.3.1: a neuron
//! spike potentiates by the fast pre trace, an input spike depresses by the fast post trace.

use super::Preset;

/// `rule = "pair"`: parameters `a_plus` (A2+) and `a_minus` (A2-).
pub const PAIR: Preset = Preset {
    name: "pair",
    about: "pair STDP: potentiation a_plus * x1 on a neuron spike, depression a_minus * y1 on an input spike",
    additive: "a_plus * x1 * y0 - a_minus * y1 * x0",
    multiplicative: Some("a_plus * x1 * (w_max - w) * y0 - a_minus * y1 * (w - w_min) * x0"),
    vars: &[],
};
