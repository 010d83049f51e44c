//! Checking the core: the cycle model (`cycles`) and the Verilator co-simulation against the
//! bit-accurate model, at RTL and gate level (`cosim`).
pub mod cosim;
pub mod cycles;
pub mod port_state;
