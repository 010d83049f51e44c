//! Named rules: today's learning rules written in the rule language (docs/semantics.md §4.3).
//! `plasticity.rule = "<name>"` expands to the preset's text; `synforge params` prints it.
//!
//! Adding a preset: a file here with its [`Preset`], one entry in [`PRESETS`], its section in
//! `docs/semantics.md` §4.3.1 and its tests. Nothing else in synforge names a preset.

mod consolidation;
mod pair;
mod reward_stdp;
mod triplet;

use crate::config::WeightDependence;

/// A named rule.
#[derive(Clone, Copy, Debug)]
pub struct Preset {
    /// `plasticity.rule = "<name>"`.
    pub name: &'static str,
    /// One line on what it is.
    pub about: &'static str,
    /// Its text with `weight_dependence = "additive"` (hard bounds).
    pub additive: &'static str,
    /// Its text with `weight_dependence = "multiplicative"` (soft bounds), if it has one.
    pub multiplicative: Option<&'static str>,
    /// Its per-synapse variables: the config declares each one's format under
    /// `[plasticity.synapse.<name>]`; the preset writes its update.
    pub vars: &'static [PresetVar],
}

/// A per-synapse variable of a preset.
#[derive(Clone, Copy, Debug)]
pub struct PresetVar {
    /// Its name in the rule language.
    pub name: &'static str,
    /// What it is, for messages.
    pub what: &'static str,
    /// Its update.
    pub update: &'static str,
    /// A format that suits it, for the message that asks for one.
    pub example: &'static str,
}

impl Preset {
    /// The rule text for a weight dependence, or `None` when the preset has no such form.
    pub fn text(&self, dep: WeightDependence) -> Option<&'static str> {
        match dep {
            WeightDependence::Additive => Some(self.additive),
            WeightDependence::Multiplicative => self.multiplicative,
        }
    }
}

/// Every preset, by name.
pub const PRESETS: &[Preset] =
    &[pair::PAIR, triplet::TRIPLET, reward_stdp::REWARD_STDP, consolidation::CONSOLIDATION];

/// The preset called `name`.
pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// The parameters that the config's `[plasticity]` table holds as fields of its own (the
/// presets' amplitudes since before the rule language), with their defaults. A rule reads
/// any other parameter from `[plasticity.params]`.
pub const LEGACY_PARAMS: &[&str] = &["a_plus", "a_minus", "a3_plus", "a3_minus"];
