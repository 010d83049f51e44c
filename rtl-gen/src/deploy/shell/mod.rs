//! The board shell's fixed-width blocks in rust-hdl (issue 14): the bridge's frame machine
//! (`frame`) with its UART and CRC-8s, the power-on reset and the heartbeat, the board top
//! (`top`) around the wrapped PLL, core and bridge, and `emit`, which turns a rust-hdl block into
//! synforge's Verilog modules.
pub mod crc;
pub mod emit;
pub mod frame;
pub mod reset;
pub mod top;
pub mod uart;

/// Verilator waivers for what rust-hdl writes and `verilator -Wall` warns about, each matched
/// to its one file and message. rust-hdl has no concatenation, so a zero extension is a
/// `bit_cast`, which it writes as an AND with an all-ones mask of the wider width
/// (`((data) & 10'h3ff)`): a WIDTHEXPAND. The frame machine's own ANDs are of equal widths.
/// - `bit_cast::<10, 8>` in the transmitter (`sf_bridge_fsm_u_tx.v`);
/// - the frame machine's widenings of bytes and words (`sf_bridge_fsm.v`): `{fb_rd, ...}`
///   shifted into the word, `{32'd0, mm_rdata}` and the like.
pub const WAIVERS: &str = "`verilator_config\n\
lint_off -rule WIDTHEXPAND -file \"*sf_bridge_fsm_u_tx.v\" -match \"*Operator AND expects 10 bits on the LHS, but LHS's VARREF 'data' generates 8 bits*\"\n\
lint_off -rule WIDTHEXPAND -file \"*sf_bridge_fsm.v\" -match \"*Operator AND expects * bits on the LHS, but LHS's VARREF '*' generates * bits*\"\n";
