//! The UART host bridge of the board top: framed commands from a host (`docs/protocol.md`)
//! to the core's event, step and memory-mapped ports, and framed responses back.
//! Its host-side twin is `protocol.rs` (the same frames, encoded and decoded in Rust).
//!
//! A frame is buffered whole and its CRC checked before anything happens, so a corrupt or
//! truncated frame is answered with an error and changes no state; so is a step that names an
//! input the core does not have (its index was once cut to the index width and carried out).

use std::fmt::Write;

use crate::verilog::bits_for;

/// Fewest core clocks per UART bit: the receiver samples mid-bit after a two-flop
/// synchronizer, and needs a few clocks per bit for its sample to land inside the bit.
pub const MIN_CLOCKS_PER_BIT: u32 = 4;

/// Most core clocks per UART bit: the bridge's bit-time counters are at most 16 bits wide
/// (slower rates would also stretch the truncation timeout, 64 byte times, past seconds).
pub const MAX_CLOCKS_PER_BIT: u32 = 65_535;

/// Largest accepted difference between the asked baud rate and the one the divisor gives,
/// as a fraction. An 8N1 receiver samples the stop bit 9.5 bit times after the start edge,
/// so the two ends' rates together may differ by less than 0.5 / 9.5 = 5.3 %, less the
/// start-edge quantisation of up to one clock in 4; 2 % on the bridge's side leaves the rest
/// to the host's UART (USB UARTs are typically within 1 %).
pub const MAX_BAUD_ERROR: f64 = 0.02;

/// A baud rate the bridge cannot run at with its core clock.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum BaudError {
    /// Baud rate 0.
    #[error(
        "--baud 0 is not a baud rate; give --baud from {min} to {max} for the {:.3} MHz core clock (default 115200)",
        .clock_hz / 1e6
    )]
    Zero {
        /// Core clock, Hz.
        clock_hz: f64,
        /// Slowest rate the bridge can run at with this clock.
        min: u64,
        /// Fastest rate.
        max: u64,
    },
    /// Fewer than [`MIN_CLOCKS_PER_BIT`] clocks per bit.
    #[error(
        "--baud {baud}: the UART needs at least {MIN_CLOCKS_PER_BIT} core clocks per bit, and the {:.3} MHz core clock gives {per_bit:.2}; give --baud from {min} to {max}, or raise the core clock with --freq",
        .clock_hz / 1e6
    )]
    TooFast {
        /// The asked rate.
        baud: u32,
        /// Core clock, Hz.
        clock_hz: f64,
        /// Core clocks per bit at that rate.
        per_bit: f64,
        /// Slowest rate the bridge can run at with this clock.
        min: u64,
        /// Fastest rate.
        max: u64,
    },
    /// More than [`MAX_CLOCKS_PER_BIT`] clocks per bit.
    #[error(
        "--baud {baud}: the {:.3} MHz core clock gives {per_bit:.0} clocks per bit, more than the {MAX_CLOCKS_PER_BIT} the bridge's 16-bit bit-time counter holds; give --baud from {min} to {max}, or lower the core clock with --freq",
        .clock_hz / 1e6
    )]
    TooSlow {
        /// The asked rate.
        baud: u32,
        /// Core clock, Hz.
        clock_hz: f64,
        /// Core clocks per bit at that rate.
        per_bit: f64,
        /// Slowest rate the bridge can run at with this clock.
        min: u64,
        /// Fastest rate.
        max: u64,
    },
    /// The nearest whole divisor gives a rate too far from the asked one.
    #[error(
        "--baud {baud}: the {:.3} MHz core clock divided by {divisor} clocks per bit gives {actual:.0} baud, {:.1} % off, and a UART needs it within {:.0} %; give a rate the clock divides nearly evenly, e.g. {}, or change the core clock with --freq",
        .clock_hz / 1e6, .error * 100.0, MAX_BAUD_ERROR * 100.0, or_list(.nearest)
    )]
    Inexact {
        /// The asked rate.
        baud: u32,
        /// Core clock, Hz.
        clock_hz: f64,
        /// The nearest whole number of clocks per bit.
        divisor: u32,
        /// The rate it gives.
        actual: f64,
        /// `|actual - baud| / baud`.
        error: f64,
        /// The rates nearest to `baud` (below, above) that the clock divides exactly, rounded
        /// to 1 baud.
        nearest: Vec<u64>,
    },
}

fn or_list(rates: &[u64]) -> String {
    rates.iter().map(|r| format!("--baud {r}")).collect::<Vec<_>>().join(" or ")
}

/// Core clocks per UART bit for `baud` at `clock_hz`: the nearest whole divisor, checked to be
/// within [`MIN_CLOCKS_PER_BIT`]..=[`MAX_CLOCKS_PER_BIT`] and to give a rate within
/// [`MAX_BAUD_ERROR`] of `baud`. The rates the bridge takes at `clock_hz` are about
/// `clock_hz / MAX_CLOCKS_PER_BIT` to `clock_hz / MIN_CLOCKS_PER_BIT`.
///
/// ```
/// use synforge_rtl::bridge::{uart_divisor, BaudError};
/// assert_eq!(uart_divisor(12e6, 115_200), Ok(104)); // 115384.6 baud, 0.16 % fast
/// assert!(matches!(uart_divisor(12e6, 100_000_000), Err(BaudError::TooFast { .. })));
/// ```
pub fn uart_divisor(clock_hz: f64, baud: u32) -> Result<u32, BaudError> {
    let min = (clock_hz / MAX_CLOCKS_PER_BIT as f64).ceil() as u64;
    let max = (clock_hz / MIN_CLOCKS_PER_BIT as f64).floor() as u64;
    if baud == 0 {
        return Err(BaudError::Zero { clock_hz, min, max });
    }
    let per_bit = clock_hz / baud as f64;
    let d = per_bit.round();
    if d.is_nan() || d < MIN_CLOCKS_PER_BIT as f64 {
        return Err(BaudError::TooFast { baud, clock_hz, per_bit, min, max });
    }
    if d > MAX_CLOCKS_PER_BIT as f64 {
        return Err(BaudError::TooSlow { baud, clock_hz, per_bit, min, max });
    }
    let divisor = d as u32;
    let actual = clock_hz / d;
    let error = (actual - baud as f64).abs() / baud as f64;
    if error > MAX_BAUD_ERROR {
        // Whole divisors on either side of `per_bit`, inside the valid range.
        let mut sides = vec![per_bit.ceil() as u32, per_bit.floor() as u32];
        sides.retain(|d| (MIN_CLOCKS_PER_BIT..=MAX_CLOCKS_PER_BIT).contains(d));
        sides.dedup();
        let nearest = sides.iter().map(|&d| (clock_hz / d as f64).round() as u64).collect();
        return Err(BaudError::Inexact { baud, clock_hz, divisor, actual, error, nearest });
    }
    Ok(divisor)
}

/// Sizes the bridge is generated for.
#[derive(Clone, Copy, Debug)]
pub struct BridgeSpec {
    /// Clock cycles per UART bit, from [`uart_divisor`].
    pub divisor: u32,
    /// Bits of an input index.
    pub input_index_bits: u32,
    /// Bits of a neuron index.
    pub neuron_index_bits: u32,
    /// Inputs (a step frame carries at most one index per input).
    pub inputs: u32,
    /// Neurons (a step's response carries at most one index per neuron).
    pub neurons: u32,
    /// The core's rule reads the modulator: the bridge takes `0x06`, a step that sets it.
    pub modulator: bool,
}

impl BridgeSpec {
    /// Bytes the frame buffer holds: the longest payload, a step with every input (and the
    /// modulator's two bytes before them).
    pub fn buffer_bytes(&self) -> u32 {
        (2 * self.inputs + if self.modulator { 2 } else { 0 }).max(8).next_power_of_two()
    }
}

/// `sf_bridge`, its rust-hdl frame machine ([`frame_modules`]) and its RAMs: one string per
/// module.
pub fn modules(s: &BridgeSpec) -> Vec<(String, String)> {
    let d = s.divisor;
    // Callers get the divisor from `uart_divisor`, which refuses anything else.
    assert!(
        (MIN_CLOCKS_PER_BIT..=MAX_CLOCKS_PER_BIT).contains(&d),
        "the UART needs {MIN_CLOCKS_PER_BIT} to {MAX_CLOCKS_PER_BIT} clocks per bit, not {d}"
    );
    let bb = s.buffer_bytes();
    let baw = bits_for(bb as u64 - 1);
    let faw = bits_for(s.neurons.saturating_sub(1) as u64);
    let mut out = frame_modules(s);
    out.push(("sf_ram_frame".into(), crate::mem::ram_module("sf_ram_frame", 8, bb)));
    out.push((
        "sf_ram_spikes".into(),
        crate::mem::ram_module("sf_ram_spikes", s.neuron_index_bits, s.neurons),
    ));
    out.push(("sf_bridge".to_string(), bridge(s, baw, faw)));
    out
}

/// The frame machine (`sf_bridge_fsm`, a rust-hdl block with its UART and CRC-8 blocks) for
/// `s`, one module per string.
pub fn frame_modules(s: &BridgeSpec) -> Vec<(String, String)> {
    use crate::deploy::shell::{emit, frame::FrameMachine};
    // rust-hdl's widths are const generics: one instance per UART counter width.
    macro_rules! by_width {
        ($($w:literal)*) => {
            match bits_for(s.divisor as u64) {
                $($w => emit::modules("sf_bridge_fsm", &mut FrameMachine::<$w>::new(s)),)*
                w => unreachable!("a divisor of {w} bits"),
            }
        };
    }
    by_width!(3 4 5 6 7 8 9 10 11 12 13 14 15 16)
}

/// `sf_bridge`: the frame machine and the frame and spike RAMs, its RAM addresses cut to the
/// RAMs' widths. Its event indices stay 16 bits, the board top's width; the top's core leaf cuts
/// them to the core's (`shell::top::CoreLeaf`).
fn bridge(s: &BridgeSpec, baw: u32, faw: u32) -> String {
    let jw = s.neuron_index_bits;
    let mut v = String::new();
    v.push_str("// sf_bridge: framed host commands (docs/protocol.md) to the core's ports: the frame\n// machine (sf_bridge_fsm, rust-hdl) and its RAMs.\n");
    v.push_str("module sf_bridge (\n    input  wire clk,\n    input  wire rst,\n    input  wire uart_rx,\n    output wire uart_tx,\n");
    v.push_str("    output wire in_valid,\n    output wire [15:0] in_index,\n    output wire step,\n    input  wire busy,\n    input  wire done,\n");
    v.push_str("    input  wire out_valid,\n    output wire out_ready,\n    input  wire [15:0] out_index,\n");
    v.push_str("    output wire [31:0] mm_addr,\n    output wire [31:0] mm_wdata,\n    output wire mm_we,\n    output wire mm_re,\n    input  wire [31:0] mm_rdata,\n    input  wire mm_rvalid,\n");
    v.push_str("    output wire error_seen\n);\n");
    v.push_str(
        "    /* verilator lint_off UNUSEDSIGNAL */\n    wire [15:0] fb_wa, fb_ra, sp_wa, sp_ra;\n",
    );
    if jw < 16 {
        // The core's neuron indices are `jw` bits, zero-extended by the top's core leaf.
        writeln!(v, "    wire unused_ok = &{{1'b0, out_index[15:{jw}]}};").unwrap();
    }
    v.push_str("    /* verilator lint_on UNUSEDSIGNAL */\n");
    writeln!(
        v,
        "    wire fb_we, sp_we;\n    wire [7:0] fb_wd, fb_rd;\n    wire [{}:0] sp_rd;",
        jw - 1
    )
    .unwrap();
    v.push_str("    sf_bridge_fsm u_fsm (\n        .clk(clk), .rst(rst), .uart_rx(uart_rx), .uart_tx(uart_tx),\n        .in_valid(in_valid), .in_index(in_index), .step(step), .busy(busy), .done(done), .out_valid(out_valid),\n        .mm_addr(mm_addr), .mm_wdata(mm_wdata), .mm_we(mm_we), .mm_re(mm_re), .mm_rdata(mm_rdata), .mm_rvalid(mm_rvalid),\n        .error_seen(error_seen),\n        .fb_we(fb_we), .fb_wa(fb_wa), .fb_wd(fb_wd), .fb_ra(fb_ra), .fb_rd(fb_rd),\n");
    writeln!(
        v,
        "        .sp_we(sp_we), .sp_wa(sp_wa), .sp_ra(sp_ra), .sp_rd({})\n    );",
        crate::verilog::zx("sp_rd", jw, 16)
    )
    .unwrap();
    writeln!(v, "    sf_ram_frame u_frame (.clk(clk), .we(fb_we), .wa(fb_wa[{0}:0]), .wd(fb_wd), .ra(fb_ra[{0}:0]), .rd(fb_rd));", baw - 1).unwrap();
    writeln!(v, "    sf_ram_spikes u_spikes (.clk(clk), .we(sp_we), .wa(sp_wa[{0}:0]), .wd(out_index[{1}:0]), .ra(sp_ra[{0}:0]), .rd(sp_rd));", faw - 1, jw - 1).unwrap();
    v.push_str("    assign out_ready = 1'b1;\nendmodule\n");
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(clock_hz: f64, baud: u32) -> String {
        uart_divisor(clock_hz, baud).expect_err("a refused baud rate").to_string()
    }

    #[test]
    fn common_baud_rates_at_the_boards_clocks_get_their_nearest_divisor() {
        assert_eq!(uart_divisor(12e6, 115_200), Ok(104));
        assert_eq!(uart_divisor(25e6, 115_200), Ok(217));
        assert_eq!(uart_divisor(48e6, 1_000_000), Ok(48));
        assert_eq!(uart_divisor(8.0, 1), Ok(8)); // the simulated top
                                                 // The ends of the range at 12 MHz.
        assert_eq!(uart_divisor(12e6, 3_000_000), Ok(4));
        assert_eq!(uart_divisor(12e6, 184), Ok(65_217));
    }

    #[test]
    fn baud_with_fewer_than_4_clocks_per_bit_is_refused_instead_of_hitting_the_assert() {
        assert_eq!(
            err(12e6, 100_000_000),
            "--baud 100000000: the UART needs at least 4 core clocks per bit, and the 12.000 MHz \
             core clock gives 0.12; give --baud from 184 to 3000000, or raise the core clock \
             with --freq"
        );
        assert!(matches!(uart_divisor(12e6, 3_500_000), Err(BaudError::TooFast { .. })));
    }

    #[test]
    fn baud_0_is_refused_instead_of_4294967295_clocks_per_bit() {
        assert_eq!(
            err(12e6, 0),
            "--baud 0 is not a baud rate; give --baud from 184 to 3000000 for the 12.000 MHz \
             core clock (default 115200)"
        );
    }

    #[test]
    fn baud_too_slow_for_the_16_bit_bit_counter_is_refused() {
        assert_eq!(
            err(12e6, 100),
            "--baud 100: the 12.000 MHz core clock gives 120000 clocks per bit, more than the \
             65535 the bridge's 16-bit bit-time counter holds; give --baud from 184 to 3000000, \
             or lower the core clock with --freq"
        );
        assert!(matches!(uart_divisor(12e6, 183), Err(BaudError::TooSlow { .. })));
    }

    #[test]
    fn baud_more_than_2_percent_off_after_rounding_is_refused_with_the_nearest_rates() {
        // 12 MHz / 2.7 Mbaud = 4.44 clocks per bit: 4 gives 3 Mbaud, 11.1 % fast.
        assert_eq!(
            err(12e6, 2_700_000),
            "--baud 2700000: the 12.000 MHz core clock divided by 4 clocks per bit gives 3000000 \
             baud, 11.1 % off, and a UART needs it within 2 %; give a rate the clock divides \
             nearly evenly, e.g. --baud 2400000 or --baud 3000000, or change the core clock \
             with --freq"
        );
        // Below 4 clocks per bit there is only one neighbour to offer.
        assert!(err(12e6, 3_300_000).contains("e.g. --baud 3000000, or"));
        // 12 MHz / 921600 = 13.02: 13 clocks give 923077 baud, 0.16 % off, which works.
        assert_eq!(uart_divisor(12e6, 921_600), Ok(13));
        // Every rate offered in the message is itself accepted.
        for baud in [2_400_000, 3_000_000] {
            assert!(uart_divisor(12e6, baud).is_ok(), "{baud}");
        }
    }
}
