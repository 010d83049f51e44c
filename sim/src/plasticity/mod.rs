//! Learning rules: the rule language (`lang`), its compiled form and evaluation (`rule`), the
//! named presets (`presets`), and homeostasis.
pub mod homeostasis;
pub mod lang;
pub mod presets;
pub mod random;
pub mod rule;
