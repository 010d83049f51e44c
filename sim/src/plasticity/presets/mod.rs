//! Named rules: today's learning rules written in the rule language (docs/semantics.md §4.3).
//! `plasticity.rule = "<name>"` expands to the preset's text; `synforge params` prints it.
//!
//! Adding a preset: a file here with its [`Preset`], one entry in [`PRESETS`], its section in
//! `docs/semantics.md` §4.3.1 and its tests. Nothing else in synforge names a preset.

mod pair;
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
pub const PRESETS: &[Preset] = &[pair::PAIR, triplet::TRIPLET];

/// The preset called `name`.
pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// The parameters that the config's `[plasticity]` table holds as fields of its own (the
/// presets' amplitudes since before the rule language), with their defaults. A rule reads
/// any other parameter from `[plasticity.params]`.
pub const LEGACY_PARAMS: &[&str] = &["a_plus", "a_minus", "a3_plus", "a3_minus"];
