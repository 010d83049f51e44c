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

/// `sf_bridge`, its rust-hdl blocks ([`shell_modules`]) and its RAMs: one string per module.
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
    let mut out = shell_modules(d);
    out.push(("sf_ram_frame".into(), crate::mem::ram_module("sf_ram_frame", 8, bb)));
    out.push((
        "sf_ram_spikes".into(),
        crate::mem::ram_module("sf_ram_spikes", s.neuron_index_bits, s.neurons),
    ));
    out.push(("sf_bridge".to_string(), bridge(s, baw, faw)));
    out
}

/// The rust-hdl blocks of the bridge (`shell/`): `sf_uart_rx`, `sf_uart_tx` with a bit-time
/// counter of the divisor's width, and `sf_crc8`.
pub fn shell_modules(divisor: u32) -> Vec<(String, String)> {
    use crate::deploy::shell::{crc::Crc8, emit, uart::UartRx, uart::UartTx};
    // rust-hdl's widths are const generics: one instance per counter width.
    macro_rules! by_width {
        ($($w:literal)*) => {
            match bits_for(divisor as u64) {
                $($w => [
                    emit::modules("sf_uart_rx", &mut UartRx::<$w>::new(divisor)),
                    emit::modules("sf_uart_tx", &mut UartTx::<$w>::new(divisor)),
                ],)*
                w => unreachable!("a divisor of {w} bits"),
            }
        };
    }
    let [rx, tx] = by_width!(3 4 5 6 7 8 9 10 11 12 13 14 15 16);
    [rx, tx, emit::modules("sf_crc8", &mut Crc8::default())].concat()
}

fn bridge(s: &BridgeSpec, baw: u32, faw: u32) -> String {
    let (iw, jw) = (s.input_index_bits, s.neuron_index_bits);
    let bb = s.buffer_bytes();
    // Inter-byte timeout inside a frame: 64 byte times.
    let timeout = 64u64 * 10 * s.divisor as u64;
    let tw = bits_for(timeout);
    // Frame byte counters are compared on the bits that hold the longest payload (`bb`), not
    // all 16: the default network's 128-byte buffer needs 8.
    // A length is 16 bits (the board top refuses cores whose frames would not fit).
    let cw = bits_for(bb as u64).min(16);
    let len_max = bb.min(u16::MAX as u32);
    let mut v = String::new();
    v.push_str("// sf_bridge: framed host commands (docs/protocol.md) to the core's ports.\n");
    v.push_str("module sf_bridge (\n    input  wire clk,\n    input  wire rst,\n    input  wire uart_rx,\n    output wire uart_tx,\n");
    writeln!(v, "    output reg  in_valid,\n    output reg  [{}:0] in_index,\n    output reg  step,\n    input  wire busy,\n    input  wire done,", iw - 1).unwrap();
    writeln!(
        v,
        "    input  wire out_valid,\n    output wire out_ready,\n    input  wire [{}:0] out_index,",
        jw - 1
    )
    .unwrap();
    v.push_str("    output reg  [31:0] mm_addr,\n    output reg  [31:0] mm_wdata,\n    output reg  mm_we,\n    output reg  mm_re,\n    input  wire [31:0] mm_rdata,\n    input  wire mm_rvalid,\n");
    v.push_str("    output reg  error_seen\n);\n");
    v.push_str("    wire rx_valid;\n    wire [7:0] rx_data;\n    sf_uart_rx u_rx (.clk(clk), .rst(rst), .rx(uart_rx), .valid(rx_valid), .data(rx_data));\n");
    v.push_str("    reg tx_start;\n    reg [7:0] tx_data;\n    wire tx_busy;\n    sf_uart_tx u_tx (.clk(clk), .rst(rst), .start(tx_start), .data(tx_data), .tx(uart_tx), .busy(tx_busy));\n");
    // The CRC-8 of a received byte and of a sent one (`sf_crc8`, docs/protocol.md).
    v.push_str("    reg [7:0] crc;\n    reg [7:0] resp_q;\n    wire [7:0] crc_rx, crc_tx;\n    sf_crc8 u_crc_rx (.crc(crc), .data(rx_data), .crc_next(crc_rx));\n    sf_crc8 u_crc_tx (.crc(crc), .data(resp_q), .crc_next(crc_tx));\n");
    writeln!(v, "    reg fb_we;\n    reg [{0}:0] fb_wa, fb_ra;\n    reg [7:0] fb_wd;\n    wire [7:0] fb_rd;", baw - 1).unwrap();
    v.push_str("    sf_ram_frame u_frame (.clk(clk), .we(fb_we), .wa(fb_wa), .wd(fb_wd), .ra(fb_ra), .rd(fb_rd));\n");
    writeln!(
        v,
        "    reg sp_we;\n    reg [{0}:0] sp_wa, sp_ra;\n    wire [{1}:0] sp_rd;",
        faw - 1,
        jw - 1
    )
    .unwrap();
    v.push_str("    sf_ram_spikes u_spikes (.clk(clk), .we(sp_we), .wa(sp_wa), .wd(out_index), .ra(sp_ra), .rd(sp_rd));\n");
    v.push_str("    assign out_ready = 1'b1;\n\n");
    // States.
    let states = [
        "SYNC", "CMD", "LEN0", "LEN1", "PAY", "CRC", "EXEC", "RD", "RD_WAIT", "EV", "EV_HI",
        "STEP", "RESP", "T_LOAD", "T_WAIT", "T_SEND", "T_BUSY", "BR_WAIT", "WB", "WB_WAIT",
    ];
    for (k, st) in states.iter().enumerate() {
        writeln!(v, "    localparam [4:0] B_{st} = 5'd{k};").unwrap();
    }
    v.push_str("    reg [4:0] state;\n    reg [7:0] cmd, status;\n    reg is_wr, is_rd, is_br; // cmd decoded once, in EXEC\n    reg br_issued;      // a read's (or a burst read's first) read is out: a flag, not a 32-bit sentinel compare on the word's enable path\n    reg [31:0] baddr;   // a burst's address (of the word last read or next written)\n    wire [31:0] baddr_next = baddr + 32'd1; // one incrementer for both bursts\n    reg [12:0] btotal;  // a burst read's words (at most 8191)\n    reg [15:0] pay_last; // resp_len + 3: the last payload byte\n    reg br_next;        // registered while a byte waits: a burst read's next word is due after it\n    reg k_last;         // registered while a payload byte is read: it is the last\n    reg [15:0] len, k;\n    reg [31:0] cycles;\n");
    writeln!(v, "    reg [{}:0] idle_cnt;", tw - 1).unwrap();
    writeln!(
        v,
        "    reg [15:0] n_spk;\n    reg [15:0] resp_len;\n    reg [15:0] crc_at; // resp_len + 4: where the CRC byte goes, registered off the byte select\n    reg [15:0] tk;\n    reg [7:0] pay_lo;\n    /* verilator lint_off UNUSEDSIGNAL */ // an index's low byte: bits above the core's index width are zero (a larger index is refused)\n    reg [7:0] lo;\n    /* verilator lint_on UNUSEDSIGNAL */\n    reg bad_index; // a step's payload names an input the core does not have"
    )
    .unwrap();
    v.push_str("    reg [63:0] word; // assembled payload bytes, little-endian\n\n");
    // The response byte at position tk: 0x5A, status, len lo, len hi, payload, crc.
    v.push_str("    // The byte to send and whether it is the last, registered while waiting for the\n    // transmitter (the spike RAM's read data is valid by then).\n    reg tk_end;\n");
    v.push_str("    reg [7:0] resp_byte;\n    always @(*) begin\n        if (tk == 16'd0) resp_byte = 8'h5a;\n");
    v.push_str("        else if (tk == 16'd1) resp_byte = status;\n        else if (tk == 16'd2) resp_byte = resp_len[7:0];\n        else if (tk == 16'd3) resp_byte = resp_len[15:8];\n");
    v.push_str("        else if (tk == crc_at) resp_byte = crc;\n");
    v.push_str("        else if (status == 8'h83 && tk >= 16'd8) resp_byte = tk[0] ? ");
    if jw > 8 {
        writeln!(
            v,
            "{}: sp_rd[7:0];",
            crate::verilog::zx(&format!("sp_rd[{}:8]", jw - 1), jw - 8, 8)
        )
        .unwrap();
    } else {
        writeln!(v, "8'd0 : {};", crate::verilog::zx("sp_rd", jw, 8)).unwrap();
    }
    // Every other payload byte is the low byte of `word`, which shifts down a byte after each
    // one is sent (a burst read reloads it per word): no byte-select multiplexer.
    v.push_str("        else resp_byte = word[7:0];\n    end\n\n");

    // The length checks of EXEC, decoded every clock from `len`: it is set in LEN1, and EXEC
    // comes at least a state (CRC) later, so they are registered off EXEC's path.
    v.push_str("    reg len_0, len_4, len_6, len_8, len_bad_step, len_bad_wb;\n");
    if s.modulator {
        v.push_str("    reg len_bad_mod;\n");
    }
    writeln!(
        v,
        "    always @(posedge clk) begin\n        len_0 <= len == 16'd0;\n        len_4 <= len == 16'd4;\n        len_6 <= len == 16'd6;\n        len_8 <= len == 16'd8;\n        len_bad_step <= len[0] || len > 16'd{};\n        len_bad_wb <= len < 16'd8 || len[1:0] != 2'd0;",
        2 * s.inputs
    )
    .unwrap();
    if s.modulator {
        writeln!(
            v,
            "        len_bad_mod <= len[0] || len == 16'd0 || len > 16'd{};",
            2 * s.inputs + 2
        )
        .unwrap();
    }
    v.push_str("    end\n");
    v.push_str("    always @(posedge clk) begin\n        fb_we <= 1'b0;\n        sp_we <= 1'b0;\n        in_valid <= 1'b0;\n        step <= 1'b0;\n        mm_we <= 1'b0;\n        mm_re <= 1'b0;\n        tx_start <= 1'b0;\n");
    v.push_str(
        "        if (rst) begin\n            state <= B_SYNC;\n            error_seen <= 1'b0;\n",
    );
    writeln!(v, "            idle_cnt <= {tw}'d0;").unwrap();
    v.push_str("        end else begin\n");
    // Inter-byte timeout while a frame is being received.
    writeln!(v, "            if (state == B_CMD || state == B_LEN0 || state == B_LEN1 || state == B_PAY || state == B_CRC) begin").unwrap();
    writeln!(v, "                if (rx_valid) idle_cnt <= {tw}'d0;").unwrap();
    writeln!(v, "                else if (idle_cnt == {tw}'d{timeout}) begin status <= 8'he2; state <= B_RESP; end").unwrap();
    writeln!(v, "                else idle_cnt <= idle_cnt + {tw}'d1;\n            end").unwrap();
    v.push_str("            case (state)\n");
    v.push_str(&format!("            B_SYNC: begin\n                idle_cnt <= {tw}'d0;\n                if (rx_valid && rx_data == 8'ha5) begin crc <= 8'd0; state <= B_CMD; end\n            end\n"));
    v.push_str("            B_CMD: if (rx_valid) begin cmd <= rx_data; crc <= crc_rx; state <= B_LEN0; end\n");
    v.push_str("            B_LEN0: if (rx_valid) begin len[7:0] <= rx_data; crc <= crc_rx; state <= B_LEN1; end\n");
    writeln!(v, "            B_LEN1: if (rx_valid) begin\n                len[15:8] <= rx_data; crc <= crc_rx; k <= 16'd0; bad_index <= 1'b0;\n                if ({{rx_data, len[7:0]}} > 16'd{len_max}) begin status <= 8'he4; state <= B_RESP; end\n                else state <= ({{rx_data, len[7:0]}} == 16'd0) ? B_CRC : B_PAY;\n            end").unwrap();
    writeln!(v, "            B_PAY: if (rx_valid) begin\n                fb_we <= 1'b1; fb_wa <= k[{}:0]; fb_wd <= rx_data; crc <= crc_rx;\n                k <= k + 16'd1;\n                if (!k[0]) pay_lo <= rx_data;\n                else if ({}{{rx_data, pay_lo}} >= 16'd{}) bad_index <= 1'b1; // checked for steps\n                if (k[{cm}:0] + {cw}'d1 == len[{cm}:0]) state <= B_CRC; // len <= {bb} from here on\n            end", baw - 1, if s.modulator { "!(cmd == 8'h06 && k[15:1] == 15'd0) && " } else { "" }, s.inputs, cm = cw - 1).unwrap();
    v.push_str("            B_CRC: if (rx_valid) begin\n                if (rx_data != crc) begin status <= 8'he1; state <= B_RESP; end\n                else begin k <= 16'd0; word <= 64'd0; state <= B_EXEC; end\n            end\n");
    // EXEC: gather the fixed-size payloads (write 8 bytes, read 4) into `word`, then act.
    writeln!(v, "            B_EXEC: if (!busy) begin // the core may still be in its init")
        .unwrap();
    v.push_str("                is_wr <= cmd == 8'h01;\n                is_rd <= cmd == 8'h02;\n                is_br <= cmd == 8'h04;\n                br_issued <= 1'b0;\n                case (cmd)\n");
    v.push_str("                8'h00: begin status <= 8'h80; state <= B_RESP; end\n");
    writeln!(v, "                8'h01, 8'h02: begin\n                    if ((cmd == 8'h01) ? !len_8 : !len_4) begin status <= 8'he4; state <= B_RESP; end\n                    else begin fb_ra <= {}; k <= 16'd0; state <= B_RD; end\n                end", crate::verilog::lit(baw, 0)).unwrap();
    writeln!(v, "                8'h03: begin\n                    if (len_bad_step) begin status <= 8'he4; state <= B_RESP; end\n                    else if (bad_index) begin status <= 8'he5; state <= B_RESP; end\n                    else begin fb_ra <= {}; k <= 16'd0; k_last <= len_0; state <= B_EV; end\n                end", crate::verilog::lit(baw, 0)).unwrap();
    if s.modulator {
        // A step with the modulator: its two bytes first (written into register 25 as they
        // are read, in B_EV_HI), then the indices as for 0x03.
        writeln!(v, "                8'h06: begin\n                    if (len_bad_mod) begin status <= 8'he4; state <= B_RESP; end\n                    else if (bad_index) begin status <= 8'he5; state <= B_RESP; end\n                    else begin fb_ra <= {}; k <= 16'd0; k_last <= 1'b0; state <= B_EV; end\n                end", crate::verilog::lit(baw, 0)).unwrap();
    }
    // Burst read: address (4), count (2), gathered like a read; burst write: address (4), then
    // the words, each written as its four bytes arrive from the buffer.
    writeln!(v, "                8'h04: begin\n                    if (!len_6) begin status <= 8'he4; state <= B_RESP; end\n                    else begin fb_ra <= {}; k <= 16'd0; state <= B_RD; end\n                end", crate::verilog::lit(baw, 0)).unwrap();
    writeln!(v, "                8'h05: begin\n                    if (len_bad_wb) begin status <= 8'he4; state <= B_RESP; end\n                    else begin fb_ra <= {}; k <= 16'd0; state <= B_WB; end\n                end", crate::verilog::lit(baw, 0)).unwrap();
    v.push_str("                default: begin status <= 8'he3; state <= B_RESP; end\n                endcase\n            end\n");
    // WB: the buffer's read latency (and the core idle: a burst may write init); WB_WAIT: one
    // byte in; every fourth completes a word: the first is the address, the others are written.
    // `k_last` (this byte is the payload's last) is registered in the waiting state, so the
    // count's adder is not in the path to the state register.
    writeln!(v, "            B_WB: begin\n                k_last <= k[{cm}:0] + {cw}'d1 == len[{cm}:0];\n                if (!busy) state <= B_WB_WAIT;\n            end", cm = cw - 1).unwrap();
    writeln!(v, "            B_WB_WAIT: begin\n                word <= {{fb_rd, word[63:8]}};\n                k <= k + 16'd1;\n                fb_ra <= fb_ra + {};\n                if (k[1:0] == 2'd3) begin\n                    if (k == 16'd3) baddr <= {{fb_rd, word[63:40]}};\n                    else begin mm_we <= 1'b1; mm_addr <= baddr; mm_wdata <= {{fb_rd, word[63:40]}}; baddr <= baddr_next; end\n                end\n                if (k_last) begin status <= 8'h81; state <= B_RESP; end\n                else state <= B_WB;\n            end", crate::verilog::lit(baw, 1)).unwrap();
    // RD: one byte per two clocks into word (read latency 1).
    writeln!(v, "            B_RD: begin\n                k_last <= k[{cm}:0] + {cw}'d1 == len[{cm}:0];\n                state <= B_RD_WAIT;\n            end", cm = cw - 1)
        .unwrap();
    v.push_str("            B_RD_WAIT: begin\n                word <= {fb_rd, word[63:8]};\n                k <= k + 16'd1;\n                if (k_last) begin\n");
    v.push_str("                    k <= 16'd0;\n                    state <= B_STEP; // also the state that performs a read or a write\n");
    writeln!(v, "                end else begin\n                    fb_ra <= fb_ra + {};\n                    state <= B_RD;\n                end\n            end", crate::verilog::lit(baw, 1)).unwrap();
    // EV: two bytes per index.
    // `k_last`: every index byte is in (registered when `k` moves, off the path to `step`).
    v.push_str("            B_EV: begin\n                if (k_last) begin step <= 1'b1; cycles <= 32'd0; n_spk <= 16'd0; state <= B_STEP; end\n                else state <= B_EV_HI;\n            end\n");
    writeln!(v, "            B_EV_HI: begin\n                if (k[0] == 1'b0) lo <= fb_rd;{}\n                else begin in_valid <= 1'b1; in_index <= {}; end\n                k <= k + 16'd1;\n                k_last <= k[{cm}:0] + {cw}'d1 == len[{cm}:0];\n                fb_ra <= fb_ra + {};\n                state <= B_EV;\n            end", if s.modulator { format!("\n                else if (cmd == 8'h06 && k == 16'd1) begin mm_we <= 1'b1; mm_addr <= 32'd{}; mm_wdata <= {{{{16{{fb_rd[7]}}}}, fb_rd, lo}}; end", crate::layout::MOD_REG_INDEX) } else { String::new() }, if iw > 8 { format!("{{fb_rd[{}:0], lo}}", iw - 9) } else { format!("lo[{}:0]", iw - 1) }, crate::verilog::lit(baw, 1), cm = cw - 1).unwrap();
    // STEP/act.
    v.push_str("            B_STEP: begin\n");
    v.push_str("                if (is_wr) begin mm_we <= 1'b1; mm_addr <= word[31:0]; mm_wdata <= word[63:32]; status <= 8'h81; state <= B_RESP; end\n");
    v.push_str("                else if (is_rd) begin\n                    if (!br_issued) begin br_issued <= 1'b1; mm_re <= 1'b1; mm_addr <= word[63:32]; end\n");
    v.push_str("                    if (mm_rvalid) begin word <= {32'd0, mm_rdata}; status <= 8'h82; state <= B_RESP; end\n                end\n");
    // A burst read: 1 to 8191 words (the response's length and its CRC's position, 4 bytes a
    // word + 4, in 16 bits; 16383 words overflowed the CRC position); the first read here,
    // the others while the response is sent.
    v.push_str("                else if (is_br) begin\n                    if (!br_issued) begin\n                        br_issued <= 1'b1;\n                        if (word[63:48] == 16'd0 || word[63:61] != 3'd0) begin status <= 8'he4; state <= B_RESP; end\n                        else begin mm_re <= 1'b1; mm_addr <= word[47:16]; baddr <= word[47:16]; btotal <= word[60:48]; end\n                    end else if (mm_rvalid) begin word <= {32'd0, mm_rdata}; status <= 8'h84; state <= B_RESP; end\n                end\n");
    writeln!(v, "                else begin\n                    cycles <= cycles + 32'd1;\n                    if (out_valid) begin sp_we <= 1'b1; sp_wa <= n_spk[{}:0]; n_spk <= n_spk + 16'd1; end", faw - 1).unwrap();
    v.push_str("                    if (done) begin word <= {32'd0, cycles}; status <= 8'h83; state <= B_RESP; end\n                end\n            end\n");
    // RESP: set up the response, then send byte by byte, CRC over status, length, payload.
    v.push_str(
        "            B_RESP: begin\n                if (status[7:4] == 4'he) error_seen <= 1'b1;\n",
    );
    v.push_str("                resp_len <= (status == 8'h82) ? 16'd4 : (status == 8'h83) ? (16'd4 + {n_spk[14:0], 1'b0}) : (status == 8'h80) ? 16'd4 : (status == 8'h84) ? {1'b0, btotal, 2'b00} : 16'd0;\n");
    writeln!(
        v,
        "                if (status == 8'h80) word <= {{32'd0, 16'd{}, 16'd{}}};",
        s.neurons, s.inputs
    )
    .unwrap();
    writeln!(v, "                tk <= 16'd0;\n                crc <= 8'd0;\n                sp_ra <= {};\n                state <= B_T_LOAD;\n            end", crate::verilog::lit(faw, 0)).unwrap();
    v.push_str("            B_T_LOAD: begin crc_at <= resp_len + 16'd4; pay_last <= resp_len + 16'd3; state <= B_T_WAIT; end // spike RAM read latency\n");
    // The byte waits here at least a clock: its flags are registered (off the byte's send).
    v.push_str("            B_T_WAIT: begin\n                resp_q <= resp_byte;\n                tk_end <= tk == crc_at;\n                br_next <= status == 8'h84 && tk[15:2] != 14'd0 && tk[1:0] == 2'd3 && tk != pay_last;\n                if (!tx_busy) state <= B_T_SEND;\n            end\n");
    v.push_str("            B_T_SEND: begin\n                tx_start <= 1'b1;\n                tx_data <= resp_q;\n");
    v.push_str("                if (tk != 16'd0 && !tk_end) crc <= crc_tx;\n");
    v.push_str("                state <= B_T_BUSY;\n            end\n");
    v.push_str("            B_T_BUSY: if (!tx_start && !tx_busy) begin\n");
    v.push_str("                if (tk_end) state <= B_SYNC;\n                else begin\n                    tk <= tk + 16'd1;\n                    if (tk[15:2] != 14'd0) word <= {8'd0, word[63:8]};\n");
    writeln!(
        v,
        "                    if (status == 8'h83 && tk >= 16'd8 && tk[0]) sp_ra <= sp_ra + {};",
        crate::verilog::lit(faw, 1)
    )
    .unwrap();
    // A burst read's next word, read from the core once the last byte of a word is out.
    v.push_str("                    if (br_next) begin mm_re <= 1'b1; mm_addr <= baddr_next; baddr <= baddr_next; state <= B_BR_WAIT; end\n                    else state <= B_T_LOAD;\n                end\n            end\n");
    v.push_str("            B_BR_WAIT: if (mm_rvalid) begin word <= {32'd0, mm_rdata}; state <= B_T_LOAD; end\n");
    v.push_str("            default: state <= B_SYNC;\n            endcase\n        end\n    end\nendmodule\n");
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
