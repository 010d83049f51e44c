//! Generating the core: its widths, words and registers (`layout`), the datapath blocks, each
//! named after its twin in `synforge-sim` (`trace`, `neuron/lif`, `plasticity/rule`,
//! `plasticity/homeostasis`, `lfsr`), the memories (`mem`), the top and its controller
//! (`core`, `controller`), the Verilog helpers (`verilog`) and the manifest.
pub mod controller;
pub mod core;
pub mod layout;
pub mod lfsr;
pub mod manifest;
pub mod mem;
pub mod neuron;
pub mod plasticity;
pub mod trace;
pub mod verilog;
