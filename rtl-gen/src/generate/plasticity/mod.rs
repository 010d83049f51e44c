//! Plasticity blocks.
pub mod homeostasis;
pub mod rule;
