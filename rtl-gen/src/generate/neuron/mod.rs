//! Neuron blocks.
pub mod lif;
