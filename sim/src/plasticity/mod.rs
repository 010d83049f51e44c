//! Learning rules.
pub mod homeostasis;
pub mod stdp;
