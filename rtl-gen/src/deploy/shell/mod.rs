//! The board shell's fixed-width blocks in rust-hdl (issue 14): the UART, the CRC-8, the
//! power-on reset and the heartbeat, and `emit`, which turns a rust-hdl block into synforge's
//! Verilog modules.
pub mod crc;
pub mod emit;
pub mod reset;
pub mod uart;

/// Verilator waivers for what rust-hdl writes and `verilator -Wall` warns about, each matched
/// to its one file and message:
/// - `bit_cast::<10, 8>` (a zero extension: rust-hdl has no concatenation) is written as
///   `((data) & 10'h3ff)`, an AND of 8 bits with 10.
pub const WAIVERS: &str = "`verilator_config\n\
lint_off -rule WIDTHEXPAND -file \"*sf_uart_tx.v\" -match \"*Operator AND expects 10 bits on the LHS, but LHS's VARREF 'data' generates 8 bits*\"\n";
