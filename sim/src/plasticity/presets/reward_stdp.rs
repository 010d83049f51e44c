//! Reward-modulated STDP (Izhikevich 2007; NEST's `stdp_dopamine_synapse`, Lava's three-factor
//! rule), docs/semantics.md §4.3.1: the pair window writes an eligibility tag `e` per synapse,
//! the tag decays in the sweep, and in the sweep the weight moves by the modulator `r` times
//! the tag.

use super::{Preset, PresetVar};

/// `rule = "reward-stdp"`: parameters `a_reward` (weight change per unit of tag and of `r`,
/// per sweep), `tag_plus` and `tag_minus` (the window's amplitudes into the tag), `tag_decay`
/// (the tag's loss per sweep: `1 - exp(-K dt / tau_e)`).
pub const REWARD_STDP: Preset = Preset {
    name: "reward-stdp",
    about: "reward-modulated STDP: the pair window into a decaying tag e, the weight moved by r * e in every sweep",
    additive: "a_reward * e * r * u",
    multiplicative: None,
    vars: &[PresetVar {
        name: "e",
        what: "an eligibility tag",
        update: "tag_plus * x1 * y0 - tag_minus * y1 * x0 - tag_decay * e * u",
        example: "width = 8, frac = 5, signed = true",
    }],
};
