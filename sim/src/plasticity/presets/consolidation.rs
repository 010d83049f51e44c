//! Metaplastic consolidation, docs/semantics.md §4.3.1: pair STDP whose every change is scaled
//! by `(1 - c)`, where `c`, a level per synapse in `[0, 1)`, grows with each potentiating
//! pairing (soft-bounded, toward 1) and decays in the sweep. In the sweep the weight also
//! decays toward `w_min`, by `(1 - c)` too: a consolidated synapse learns less and forgets
//! more slowly. No task labels or boundaries: `c` comes from the synapse's own history. The
//! factor `(1 - c)` is written out, since the language reads a variable outside brackets.

use super::{Preset, PresetVar};

const LEVEL: PresetVar = PresetVar {
    name: "c",
    what: "a consolidation level",
    update: "c_up * x1 * y0 - c_up * c * x1 * y0 - c_decay * c * u",
    example: "width = 6, frac = 6",
};

/// `rule = "consolidation"`: parameters `a_plus` and `a_minus` (the pair rule's, in
/// `[plasticity]`), `w_decay` (the weight's decay toward `w_min` per sweep, at `c = 0`),
/// `c_up` (the level's rise per unit of `x1` at a neuron spike, times `1 - c`), `c_decay`
/// (the level's loss per sweep).
pub const CONSOLIDATION: Preset = Preset {
    name: "consolidation",
    about: "pair STDP gated by a per-synapse level c: every change times (1 - c); c rises with potentiation, decays in the sweep",
    additive: "a_plus * x1 * y0 - a_plus * c * x1 * y0 - a_minus * y1 * x0 + a_minus * c * y1 * x0 \
               - w_decay * (w - w_min) * u + w_decay * c * (w - w_min) * u",
    multiplicative: Some(
        "a_plus * x1 * (w_max - w) * y0 - a_plus * c * x1 * (w_max - w) * y0 \
         - a_minus * y1 * (w - w_min) * x0 + a_minus * c * y1 * (w - w_min) * x0 \
         - w_decay * (w - w_min) * u + w_decay * c * (w - w_min) * u",
    ),
    vars: &[LEVEL],
};
