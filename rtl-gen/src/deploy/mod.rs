//! Deploying the core: boards as data (`board`), the board top around the core (`board_top`),
//! the host bridge and its UART protocol (`bridge`, `protocol`), the Verilator model of a board
//! (`simboard`) and the synthesis flows (`synth`, with `multipliers` for devices whose DSPs run
//! out).
pub mod board;
pub mod board_top;
pub mod bridge;
pub mod multipliers;
pub mod protocol;
pub mod shell;
pub mod simboard;
pub mod synth;
