//! The bridge's frame machine (`sf_bridge_fsm`) as a rust-hdl block: framed host commands
//! (`docs/protocol.md`) to the core's event, step and memory-mapped ports, and framed responses
//! back. It holds the UART (`UartRx`, `UartTx`) and the two CRC-8s (received and sent bytes);
//! `bridge.rs` wraps it in `sf_bridge` with the config-sized frame and spike RAMs.
//!
//! rust-hdl's widths are fixed when synforge compiles, the core's come from the config, so the
//! indices and RAM addresses here are 16 bits: the wrapper slices them to the core's and the
//! RAMs' widths, and Yosys drops the bits nobody reads (a counter's low bits never depend on its
//! high ones). The config's numbers (inputs, neurons, buffer size, modulator) are `Constant`s.
//! `W` is the UART's bit-time counter width, as in `uart.rs`.
//!
//! A frame is buffered whole and its CRC checked before anything happens, so a corrupt or
//! truncated frame is answered with an error and changes no state; so is a step that names an
//! input the core does not have.
//!
//! rust-hdl writes binary operators without parentheses and Verilog binds `==` tighter than
//! `&` and `|` (Rust the other way round): every mixed expression here is parenthesised.

use rust_hdl::prelude::*;

use super::{crc::Crc8, uart::UartRx, uart::UartTx};
use crate::bridge::BridgeSpec;

/// Inter-byte timeout inside a frame, in bit times: 64 byte times of 10 bits.
pub const TIMEOUT_BITS: u64 = 640;

#[derive(Copy, Clone, PartialEq, Debug, LogicState)]
enum State {
    Sync,
    Cmd,
    Len0,
    Len1,
    Pay,
    Crc,
    Exec,
    Rd,
    RdWait,
    Ev,
    EvHi,
    Step,
    Resp,
    TLoad,
    TWait,
    TSend,
    TBusy,
    BrWait,
    Wb,
    WbWait,
}

/// The frame machine. Ports as `sf_bridge`'s, plus the frame RAM's (`fb_*`, bytes) and the
/// spike RAM's (`sp_*`; its write data is the core's `out_index`, wired by the wrapper).
#[derive(Clone, Debug, LogicBlock)]
pub struct FrameMachine<const W: usize> {
    /// Core clock.
    pub clk: Signal<In, Clock>,
    /// Synchronous reset.
    pub rst: Signal<In, Bit>,
    /// From the host.
    pub uart_rx: Signal<In, Bit>,
    /// To the host.
    pub uart_tx: Signal<Out, Bit>,
    /// An input spike event, `in_index`.
    pub in_valid: Signal<Out, Bit>,
    /// The event's input (16 bits; the wrapper keeps the core's index width).
    pub in_index: Signal<Out, Bits<16>>,
    /// Start a timestep.
    pub step: Signal<Out, Bit>,
    /// The core is busy (its init, or a step).
    pub busy: Signal<In, Bit>,
    /// The step is done.
    pub done: Signal<In, Bit>,
    /// An output spike (its index goes straight to the spike RAM).
    pub out_valid: Signal<In, Bit>,
    /// Memory-mapped address.
    pub mm_addr: Signal<Out, Bits<32>>,
    /// Memory-mapped write data.
    pub mm_wdata: Signal<Out, Bits<32>>,
    /// Memory-mapped write.
    pub mm_we: Signal<Out, Bit>,
    /// Memory-mapped read.
    pub mm_re: Signal<Out, Bit>,
    /// Memory-mapped read data, with `mm_rvalid`.
    pub mm_rdata: Signal<In, Bits<32>>,
    /// `mm_rdata` holds the read's word.
    pub mm_rvalid: Signal<In, Bit>,
    /// A frame was refused since reset (the error LED).
    pub error_seen: Signal<Out, Bit>,
    /// Frame RAM: write enable, address, byte; read address and byte (one clock later).
    pub fb_we: Signal<Out, Bit>,
    /// Frame RAM write address.
    pub fb_wa: Signal<Out, Bits<16>>,
    /// Frame RAM write byte.
    pub fb_wd: Signal<Out, Bits<8>>,
    /// Frame RAM read address.
    pub fb_ra: Signal<Out, Bits<16>>,
    /// Frame RAM read byte.
    pub fb_rd: Signal<In, Bits<8>>,
    /// Spike RAM: write enable (the write data is `out_index` a clock after `out_valid`).
    pub sp_we: Signal<Out, Bit>,
    /// Spike RAM write address.
    pub sp_wa: Signal<Out, Bits<16>>,
    /// Spike RAM read address.
    pub sp_ra: Signal<Out, Bits<16>>,
    /// Spike RAM read index, zero-extended to 16 bits.
    pub sp_rd: Signal<In, Bits<16>>,
    u_rx: UartRx<W>,
    u_tx: UartTx<W>,
    crc_rx: Crc8,
    crc_tx: Crc8,
    // Combinational locals.
    rx16: Signal<Local, Bits<16>>,
    len_in: Signal<Local, Bits<16>>,
    idx: Signal<Local, Bits<16>>,
    word_in: Signal<Local, Bits<64>>,
    k_hit: Signal<Local, Bit>,
    in_frame: Signal<Local, Bit>,
    resp_byte: Signal<Local, Bits<8>>,
    // Registers.
    state: DFF<State>,
    cmd: DFF<Bits<8>>,
    status: DFF<Bits<8>>,
    is_wr: DFF<Bit>,
    is_rd: DFF<Bit>,
    is_br: DFF<Bit>,
    /// A read's (or a burst read's first) read is out: a flag, not a compare on the word.
    br_issued: DFF<Bit>,
    /// A burst's address (of the word last read or next written).
    baddr: DFF<Bits<32>>,
    /// A burst read's words (at most 8191).
    btotal: DFF<Bits<16>>,
    /// A burst read's count is 0 or above 8191: registered as the payload's last byte comes
    /// in, off the path from `word` to the read's strobe and address.
    count_bad: DFF<Bit>,
    /// `resp_len + 3`: the last payload byte.
    pay_last: DFF<Bits<16>>,
    /// Registered while a byte waits: a burst read's next word is due after it.
    br_next: DFF<Bit>,
    /// Registered while a payload byte is read: it is the last.
    k_last: DFF<Bit>,
    /// The frame's length: LEN0 and LEN1 shift their bytes in from the top.
    len: DFF<Bits<16>>,
    k: DFF<Bits<16>>,
    cycles: DFF<Bits<32>>,
    /// The inter-byte timeout: clocks left of this bit time, and bit times passed.
    idle_pre: DFF<Bits<W>>,
    idle_bits: DFF<Bits<10>>,
    n_spk: DFF<Bits<16>>,
    resp_len: DFF<Bits<16>>,
    /// `resp_len + 4`: where the CRC byte goes, registered off the byte select.
    crc_at: DFF<Bits<16>>,
    tk: DFF<Bits<16>>,
    pay_lo: DFF<Bits<8>>,
    /// An index's low byte.
    lo: DFF<Bits<8>>,
    /// A step's payload names an input the core does not have.
    bad_index: DFF<Bit>,
    /// Assembled payload bytes, little-endian.
    word: DFF<Bits<64>>,
    tk_end: DFF<Bit>,
    resp_q: DFF<Bits<8>>,
    crc: DFF<Bits<8>>,
    tx_start: DFF<Bit>,
    tx_data: DFF<Bits<8>>,
    fb_we_r: DFF<Bit>,
    fb_wa_r: DFF<Bits<16>>,
    fb_wd_r: DFF<Bits<8>>,
    fb_ra_r: DFF<Bits<16>>,
    sp_we_r: DFF<Bit>,
    sp_wa_r: DFF<Bits<16>>,
    sp_ra_r: DFF<Bits<16>>,
    in_valid_r: DFF<Bit>,
    in_index_r: DFF<Bits<16>>,
    step_r: DFF<Bit>,
    mm_we_r: DFF<Bit>,
    mm_re_r: DFF<Bit>,
    mm_addr_r: DFF<Bits<32>>,
    mm_wdata_r: DFF<Bits<32>>,
    error_r: DFF<Bit>,
    // EXEC's length checks, registered from `len` every clock: it is set in LEN1, and EXEC
    // comes at least a state (CRC) later.
    len_0: DFF<Bit>,
    len_4: DFF<Bit>,
    len_6: DFF<Bit>,
    len_8: DFF<Bit>,
    len_bad_step: DFF<Bit>,
    len_bad_wb: DFF<Bit>,
    len_bad_mod: DFF<Bit>,
    // The config's numbers.
    /// The core's rule reads the modulator: `0x06` is taken.
    modulator: Constant<Bit>,
    inputs: Constant<Bits<16>>,
    /// Longest step payload: two bytes an input (and two for the modulator).
    step_max: Constant<Bits<16>>,
    step_mod_max: Constant<Bits<16>>,
    /// Longest accepted payload: the frame buffer's bytes.
    len_max: Constant<Bits<16>>,
    /// The bits of a byte count that hold the longest payload: counts compare on these.
    cmask: Constant<Bits<16>>,
    /// A ping's answer: neurons (16 bits), inputs (16 bits).
    info: Constant<Bits<64>>,
    mod_reg: Constant<Bits<32>>,
    bit_full: Constant<Bits<W>>,
    // Typed literals (rust-hdl writes a bare literal as 32 bits).
    w_zero: Constant<Bits<W>>,
    w_one: Constant<Bits<W>>,
    t_zero: Constant<Bits<10>>,
    t_one: Constant<Bits<10>>,
    t_end: Constant<Bits<10>>,
    b_zero: Constant<Bits<8>>,
    sync_host: Constant<Bits<8>>,
    sync_board: Constant<Bits<8>>,
    c_ping: Constant<Bits<8>>,
    c_write: Constant<Bits<8>>,
    c_read: Constant<Bits<8>>,
    c_step: Constant<Bits<8>>,
    c_rburst: Constant<Bits<8>>,
    c_wburst: Constant<Bits<8>>,
    c_stepmod: Constant<Bits<8>>,
    s_info: Constant<Bits<8>>,
    s_ack: Constant<Bits<8>>,
    s_data: Constant<Bits<8>>,
    s_stepped: Constant<Bits<8>>,
    s_words: Constant<Bits<8>>,
    e_crc: Constant<Bits<8>>,
    e_trunc: Constant<Bits<8>>,
    e_cmd: Constant<Bits<8>>,
    e_len: Constant<Bits<8>>,
    e_index: Constant<Bits<8>>,
    e_nibble: Constant<Bits<4>>,
    two_three: Constant<Bits<2>>,
    three_zero: Constant<Bits<3>>,
    h_zero: Constant<Bits<16>>,
    h_one: Constant<Bits<16>>,
    h_two: Constant<Bits<16>>,
    h_three: Constant<Bits<16>>,
    h_four: Constant<Bits<16>>,
    h_six: Constant<Bits<16>>,
    h_eight: Constant<Bits<16>>,
    h_fourteen_zero: Constant<Bits<14>>,
    w_one32: Constant<Bits<32>>,
    w_zero32: Constant<Bits<32>>,
    w_sign16: Constant<Bits<32>>,
    d_zero: Constant<Bits<64>>,
}

fn c<const N: usize>(v: u64) -> Constant<Bits<N>> {
    Constant::new(v.to_bits())
}

impl<const W: usize> FrameMachine<W> {
    /// The frame machine for `spec` (its divisor below `2^W`).
    pub fn new(spec: &BridgeSpec) -> Self {
        let bb = spec.buffer_bytes();
        let cw = crate::verilog::bits_for(bb as u64).min(16);
        Self {
            clk: Default::default(),
            rst: Default::default(),
            uart_rx: Default::default(),
            uart_tx: Default::default(),
            in_valid: Default::default(),
            in_index: Default::default(),
            step: Default::default(),
            busy: Default::default(),
            done: Default::default(),
            out_valid: Default::default(),
            mm_addr: Default::default(),
            mm_wdata: Default::default(),
            mm_we: Default::default(),
            mm_re: Default::default(),
            mm_rdata: Default::default(),
            mm_rvalid: Default::default(),
            error_seen: Default::default(),
            fb_we: Default::default(),
            fb_wa: Default::default(),
            fb_wd: Default::default(),
            fb_ra: Default::default(),
            fb_rd: Default::default(),
            sp_we: Default::default(),
            sp_wa: Default::default(),
            sp_ra: Default::default(),
            sp_rd: Default::default(),
            u_rx: UartRx::new(spec.divisor),
            u_tx: UartTx::new(spec.divisor),
            crc_rx: Crc8::default(),
            crc_tx: Crc8::default(),
            rx16: Default::default(),
            len_in: Default::default(),
            idx: Default::default(),
            word_in: Default::default(),
            k_hit: Default::default(),
            in_frame: Default::default(),
            resp_byte: Default::default(),
            state: Default::default(),
            cmd: Default::default(),
            status: Default::default(),
            is_wr: Default::default(),
            is_rd: Default::default(),
            is_br: Default::default(),
            br_issued: Default::default(),
            baddr: Default::default(),
            btotal: Default::default(),
            count_bad: Default::default(),
            pay_last: Default::default(),
            br_next: Default::default(),
            k_last: Default::default(),
            len: Default::default(),
            k: Default::default(),
            cycles: Default::default(),
            idle_pre: Default::default(),
            idle_bits: Default::default(),
            n_spk: Default::default(),
            resp_len: Default::default(),
            crc_at: Default::default(),
            tk: Default::default(),
            pay_lo: Default::default(),
            lo: Default::default(),
            bad_index: Default::default(),
            word: Default::default(),
            tk_end: Default::default(),
            resp_q: Default::default(),
            crc: Default::default(),
            tx_start: Default::default(),
            tx_data: Default::default(),
            fb_we_r: Default::default(),
            fb_wa_r: Default::default(),
            fb_wd_r: Default::default(),
            fb_ra_r: Default::default(),
            sp_we_r: Default::default(),
            sp_wa_r: Default::default(),
            sp_ra_r: Default::default(),
            in_valid_r: Default::default(),
            in_index_r: Default::default(),
            step_r: Default::default(),
            mm_we_r: Default::default(),
            mm_re_r: Default::default(),
            mm_addr_r: Default::default(),
            mm_wdata_r: Default::default(),
            error_r: Default::default(),
            len_0: Default::default(),
            len_4: Default::default(),
            len_6: Default::default(),
            len_8: Default::default(),
            len_bad_step: Default::default(),
            len_bad_wb: Default::default(),
            len_bad_mod: Default::default(),
            modulator: Constant::new(spec.modulator),
            inputs: c(spec.inputs as u64),
            step_max: c(2 * spec.inputs as u64),
            step_mod_max: c(2 * spec.inputs as u64 + 2),
            len_max: c(bb.min(u16::MAX as u32) as u64),
            cmask: c((1u64 << cw) - 1),
            info: c((spec.neurons as u64) << 16 | spec.inputs as u64),
            mod_reg: c(crate::layout::MOD_REG_INDEX as u64),
            bit_full: c(spec.divisor as u64 - 1),
            w_zero: c(0),
            w_one: c(1),
            t_zero: c(0),
            t_one: c(1),
            t_end: c(TIMEOUT_BITS),
            b_zero: c(0),
            sync_host: c(0xa5),
            sync_board: c(0x5a),
            c_ping: c(0x00),
            c_write: c(0x01),
            c_read: c(0x02),
            c_step: c(0x03),
            c_rburst: c(0x04),
            c_wburst: c(0x05),
            c_stepmod: c(0x06),
            s_info: c(0x80),
            s_ack: c(0x81),
            s_data: c(0x82),
            s_stepped: c(0x83),
            s_words: c(0x84),
            e_crc: c(0xe1),
            e_trunc: c(0xe2),
            e_cmd: c(0xe3),
            e_len: c(0xe4),
            e_index: c(0xe5),
            e_nibble: c(0xe),
            two_three: c(3),
            three_zero: c(0),
            h_zero: c(0),
            h_one: c(1),
            h_two: c(2),
            h_three: c(3),
            h_four: c(4),
            h_six: c(6),
            h_eight: c(8),
            h_fourteen_zero: c(0),
            w_one32: c(1),
            w_zero32: c(0),
            w_sign16: c(0xffff_0000),
            d_zero: c(0),
        }
    }
}

impl<const W: usize> Logic for FrameMachine<W> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clk,
            state,
            cmd,
            status,
            is_wr,
            is_rd,
            is_br,
            br_issued,
            baddr,
            btotal,
            count_bad,
            pay_last,
            br_next,
            k_last,
            len,
            k,
            cycles,
            idle_pre,
            idle_bits,
            n_spk,
            resp_len,
            crc_at,
            tk,
            pay_lo,
            lo,
            bad_index,
            word,
            tk_end,
            resp_q,
            crc,
            tx_start,
            tx_data,
            fb_we_r,
            fb_wa_r,
            fb_wd_r,
            fb_ra_r,
            sp_we_r,
            sp_wa_r,
            sp_ra_r,
            in_valid_r,
            in_index_r,
            step_r,
            mm_we_r,
            mm_re_r,
            mm_addr_r,
            mm_wdata_r,
            error_r,
            len_0,
            len_4,
            len_6,
            len_8,
            len_bad_step,
            len_bad_wb,
            len_bad_mod
        );
        // The UART and the CRCs.
        self.u_rx.clk.next = self.clk.val();
        self.u_rx.rst.next = self.rst.val();
        self.u_rx.rx.next = self.uart_rx.val();
        self.u_tx.clk.next = self.clk.val();
        self.u_tx.rst.next = self.rst.val();
        self.u_tx.start.next = self.tx_start.q.val();
        self.u_tx.data.next = self.tx_data.q.val();
        self.uart_tx.next = self.u_tx.tx.val();
        self.crc_rx.crc.next = self.crc.q.val();
        self.crc_rx.data.next = self.u_rx.data.val();
        self.crc_tx.crc.next = self.crc.q.val();
        self.crc_tx.data.next = self.resp_q.q.val();
        // Registered outputs.
        self.in_valid.next = self.in_valid_r.q.val();
        self.in_index.next = self.in_index_r.q.val();
        self.step.next = self.step_r.q.val();
        self.mm_addr.next = self.mm_addr_r.q.val();
        self.mm_wdata.next = self.mm_wdata_r.q.val();
        self.mm_we.next = self.mm_we_r.q.val();
        self.mm_re.next = self.mm_re_r.q.val();
        self.error_seen.next = self.error_r.q.val();
        self.fb_we.next = self.fb_we_r.q.val();
        self.fb_wa.next = self.fb_wa_r.q.val();
        self.fb_wd.next = self.fb_wd_r.q.val();
        self.fb_ra.next = self.fb_ra_r.q.val();
        self.sp_we.next = self.sp_we_r.q.val();
        self.sp_wa.next = self.sp_wa_r.q.val();
        self.sp_ra.next = self.sp_ra_r.q.val();
        // Locals: a received byte widened; the length with it shifted in from the top; an
        // index, its high byte received now; the frame RAM's byte shifted into the word; the
        // byte count reaching the length, on the bits that hold the longest payload.
        self.rx16.next = bit_cast::<16, 8>(self.u_rx.data.val());
        self.len_in.next = (self.rx16.val() << 8) | (self.len.q.val() >> 8);
        self.idx.next = (self.rx16.val() << 8) | bit_cast::<16, 8>(self.pay_lo.q.val());
        self.word_in.next = (bit_cast::<64, 8>(self.fb_rd.val()) << 56) | (self.word.q.val() >> 8);
        self.k_hit.next = ((self.k.q.val() + self.h_one.val()) & self.cmask.val())
            == (self.len.q.val() & self.cmask.val());
        // The response byte at position tk: 0x5A, status, length, payload, CRC. A payload byte
        // is the low byte of `word`, which shifts down a byte after each one is sent; a step's
        // spikes come from the spike RAM, two bytes each.
        self.resp_byte.next = self.word.q.val().get_bits::<8>(0);
        if self.tk.q.val() == self.h_zero.val() {
            self.resp_byte.next = self.sync_board.val();
        } else if self.tk.q.val() == self.h_one.val() {
            self.resp_byte.next = self.status.q.val();
        } else if self.tk.q.val() == self.h_two.val() {
            self.resp_byte.next = self.resp_len.q.val().get_bits::<8>(0);
        } else if self.tk.q.val() == self.h_three.val() {
            self.resp_byte.next = self.resp_len.q.val().get_bits::<8>(8);
        } else if self.tk.q.val() == self.crc_at.q.val() {
            self.resp_byte.next = self.crc.q.val();
        } else if (self.status.q.val() == self.s_stepped.val())
            && (self.tk.q.val() >= self.h_eight.val())
        {
            if self.tk.q.val().get_bit(0) {
                self.resp_byte.next = self.sp_rd.val().get_bits::<8>(8);
            } else {
                self.resp_byte.next = self.sp_rd.val().get_bits::<8>(0);
            }
        }
        // EXEC's length checks.
        self.len_0.d.next = self.len.q.val() == self.h_zero.val();
        self.len_4.d.next = self.len.q.val() == self.h_four.val();
        self.len_6.d.next = self.len.q.val() == self.h_six.val();
        self.len_8.d.next = self.len.q.val() == self.h_eight.val();
        self.len_bad_step.d.next =
            self.len.q.val().get_bit(0) || (self.len.q.val() > self.step_max.val());
        self.len_bad_wb.d.next = (self.len.q.val() < self.h_eight.val())
            || ((self.len.q.val() & self.h_three.val()) != self.h_zero.val());
        self.len_bad_mod.d.next = self.len.q.val().get_bit(0)
            || (self.len.q.val() == self.h_zero.val())
            || (self.len.q.val() > self.step_mod_max.val());
        // One-clock strobes.
        self.fb_we_r.d.next = false;
        self.sp_we_r.d.next = false;
        self.in_valid_r.d.next = false;
        self.step_r.d.next = false;
        self.mm_we_r.d.next = false;
        self.mm_re_r.d.next = false;
        self.tx_start.d.next = false;
        self.in_frame.next = false;
        if self.rst.val() {
            self.state.d.next = State::Sync;
            self.error_r.d.next = false;
        } else {
            match self.state.q.val() {
                State::Sync => {
                    self.idle_pre.d.next = self.bit_full.val();
                    self.idle_bits.d.next = self.t_zero.val();
                    if self.u_rx.valid.val() && (self.u_rx.data.val() == self.sync_host.val()) {
                        self.crc.d.next = self.b_zero.val();
                        self.state.d.next = State::Cmd;
                    }
                }
                State::Cmd => {
                    self.in_frame.next = true;
                    if self.u_rx.valid.val() {
                        self.cmd.d.next = self.u_rx.data.val();
                        self.crc.d.next = self.crc_rx.crc_next.val();
                        self.state.d.next = State::Len0;
                    }
                }
                State::Len0 => {
                    self.in_frame.next = true;
                    if self.u_rx.valid.val() {
                        self.len.d.next = self.len_in.val();
                        self.crc.d.next = self.crc_rx.crc_next.val();
                        self.state.d.next = State::Len1;
                    }
                }
                State::Len1 => {
                    self.in_frame.next = true;
                    if self.u_rx.valid.val() {
                        self.len.d.next = self.len_in.val();
                        self.crc.d.next = self.crc_rx.crc_next.val();
                        self.k.d.next = self.h_zero.val();
                        self.bad_index.d.next = false;
                        if self.len_in.val() > self.len_max.val() {
                            self.status.d.next = self.e_len.val();
                            self.state.d.next = State::Resp;
                        } else if self.len_in.val() == self.h_zero.val() {
                            self.state.d.next = State::Crc;
                        } else {
                            self.state.d.next = State::Pay;
                        }
                    }
                }
                State::Pay => {
                    self.in_frame.next = true;
                    if self.u_rx.valid.val() {
                        self.fb_we_r.d.next = true;
                        self.fb_wa_r.d.next = self.k.q.val();
                        self.fb_wd_r.d.next = self.u_rx.data.val();
                        self.crc.d.next = self.crc_rx.crc_next.val();
                        self.k.d.next = self.k.q.val() + self.h_one.val();
                        if !self.k.q.val().get_bit(0) {
                            self.pay_lo.d.next = self.u_rx.data.val();
                        } else if !(self.modulator.val()
                            && (self.cmd.q.val() == self.c_stepmod.val())
                            && (self.k.q.val() == self.h_one.val()))
                            && (self.idx.val() >= self.inputs.val())
                        {
                            // Checked for steps (a step with the modulator: after its value).
                            self.bad_index.d.next = true;
                        }
                        if self.k_hit.val() {
                            self.state.d.next = State::Crc;
                        }
                    }
                }
                State::Crc => {
                    self.in_frame.next = true;
                    if self.u_rx.valid.val() {
                        if self.u_rx.data.val() != self.crc.q.val() {
                            self.status.d.next = self.e_crc.val();
                            self.state.d.next = State::Resp;
                        } else {
                            self.k.d.next = self.h_zero.val();
                            self.word.d.next = self.d_zero.val();
                            self.state.d.next = State::Exec;
                        }
                    }
                }
                State::Exec => {
                    // The core may still be in its init.
                    if !self.busy.val() {
                        self.is_wr.d.next = self.cmd.q.val() == self.c_write.val();
                        self.is_rd.d.next = self.cmd.q.val() == self.c_read.val();
                        self.is_br.d.next = self.cmd.q.val() == self.c_rburst.val();
                        self.br_issued.d.next = false;
                        self.fb_ra_r.d.next = self.h_zero.val();
                        self.k.d.next = self.h_zero.val();
                        if self.cmd.q.val() == self.c_ping.val() {
                            self.status.d.next = self.s_info.val();
                            self.state.d.next = State::Resp;
                        } else if (self.cmd.q.val() == self.c_write.val())
                            || (self.cmd.q.val() == self.c_read.val())
                        {
                            if ((self.cmd.q.val() == self.c_write.val()) && !self.len_8.q.val())
                                || ((self.cmd.q.val() == self.c_read.val()) && !self.len_4.q.val())
                            {
                                self.status.d.next = self.e_len.val();
                                self.state.d.next = State::Resp;
                            } else {
                                self.state.d.next = State::Rd;
                            }
                        } else if self.cmd.q.val() == self.c_step.val() {
                            if self.len_bad_step.q.val() {
                                self.status.d.next = self.e_len.val();
                                self.state.d.next = State::Resp;
                            } else if self.bad_index.q.val() {
                                self.status.d.next = self.e_index.val();
                                self.state.d.next = State::Resp;
                            } else {
                                self.k_last.d.next = self.len_0.q.val();
                                self.state.d.next = State::Ev;
                            }
                        } else if self.modulator.val() && (self.cmd.q.val() == self.c_stepmod.val())
                        {
                            // Its two bytes first (written into the modulator's register as they
                            // are read, in EV_HI), then the indices as for 0x03.
                            if self.len_bad_mod.q.val() {
                                self.status.d.next = self.e_len.val();
                                self.state.d.next = State::Resp;
                            } else if self.bad_index.q.val() {
                                self.status.d.next = self.e_index.val();
                                self.state.d.next = State::Resp;
                            } else {
                                self.k_last.d.next = false;
                                self.state.d.next = State::Ev;
                            }
                        } else if self.cmd.q.val() == self.c_rburst.val() {
                            // Address (4), count (2), gathered like a read.
                            if !self.len_6.q.val() {
                                self.status.d.next = self.e_len.val();
                                self.state.d.next = State::Resp;
                            } else {
                                self.state.d.next = State::Rd;
                            }
                        } else if self.cmd.q.val() == self.c_wburst.val() {
                            // Address (4), then the words, each written as its bytes arrive.
                            if self.len_bad_wb.q.val() {
                                self.status.d.next = self.e_len.val();
                                self.state.d.next = State::Resp;
                            } else {
                                self.state.d.next = State::Wb;
                            }
                        } else {
                            self.status.d.next = self.e_cmd.val();
                            self.state.d.next = State::Resp;
                        }
                    }
                }
                State::Wb => {
                    // The buffer's read latency (and the core idle: a burst may write its init).
                    // `k_last` is registered here, so the count's adder is off the state's path.
                    self.k_last.d.next = self.k_hit.val();
                    if !self.busy.val() {
                        self.state.d.next = State::WbWait;
                    }
                }
                State::WbWait => {
                    // One byte in; every fourth completes a word: the first is the address, the
                    // others are written.
                    self.word.d.next = self.word_in.val();
                    self.k.d.next = self.k.q.val() + self.h_one.val();
                    self.fb_ra_r.d.next = self.fb_ra_r.q.val() + self.h_one.val();
                    if self.k.q.val().get_bits::<2>(0) == self.two_three.val() {
                        if self.k.q.val() == self.h_three.val() {
                            self.baddr.d.next = self.word_in.val().get_bits::<32>(32);
                        } else {
                            self.mm_we_r.d.next = true;
                            self.mm_addr_r.d.next = self.baddr.q.val();
                            self.mm_wdata_r.d.next = self.word_in.val().get_bits::<32>(32);
                            self.baddr.d.next = self.baddr.q.val() + self.w_one32.val();
                        }
                    }
                    if self.k_last.q.val() {
                        self.status.d.next = self.s_ack.val();
                        self.state.d.next = State::Resp;
                    } else {
                        self.state.d.next = State::Wb;
                    }
                }
                State::Rd => {
                    // One byte per two clocks into the word (the buffer's read latency is 1).
                    self.k_last.d.next = self.k_hit.val();
                    self.state.d.next = State::RdWait;
                }
                State::RdWait => {
                    self.word.d.next = self.word_in.val();
                    self.count_bad.d.next = (self.word_in.val().get_bits::<16>(48)
                        == self.h_zero.val())
                        || (self.word_in.val().get_bits::<3>(61) != self.three_zero.val());
                    self.k.d.next = self.k.q.val() + self.h_one.val();
                    if self.k_last.q.val() {
                        self.k.d.next = self.h_zero.val();
                        // Also the state that performs a read or a write.
                        self.state.d.next = State::Step;
                    } else {
                        self.fb_ra_r.d.next = self.fb_ra_r.q.val() + self.h_one.val();
                        self.state.d.next = State::Rd;
                    }
                }
                State::Ev => {
                    // Two bytes an index; `k_last`: every index byte is in.
                    if self.k_last.q.val() {
                        self.step_r.d.next = true;
                        self.cycles.d.next = self.w_zero32.val();
                        self.n_spk.d.next = self.h_zero.val();
                        self.state.d.next = State::Step;
                    } else {
                        self.state.d.next = State::EvHi;
                    }
                }
                State::EvHi => {
                    if !self.k.q.val().get_bit(0) {
                        self.lo.d.next = self.fb_rd.val();
                    } else if self.modulator.val()
                        && (self.cmd.q.val() == self.c_stepmod.val())
                        && (self.k.q.val() == self.h_one.val())
                    {
                        // The modulator, sign-extended from 16 bits.
                        self.mm_we_r.d.next = true;
                        self.mm_addr_r.d.next = self.mod_reg.val();
                        self.mm_wdata_r.d.next = (bit_cast::<32, 8>(self.fb_rd.val()) << 8)
                            | bit_cast::<32, 8>(self.lo.q.val());
                        if self.fb_rd.val().get_bit(7) {
                            self.mm_wdata_r.d.next = self.w_sign16.val()
                                | (bit_cast::<32, 8>(self.fb_rd.val()) << 8)
                                | bit_cast::<32, 8>(self.lo.q.val());
                        }
                    } else {
                        self.in_valid_r.d.next = true;
                        self.in_index_r.d.next = (bit_cast::<16, 8>(self.fb_rd.val()) << 8)
                            | bit_cast::<16, 8>(self.lo.q.val());
                    }
                    self.k.d.next = self.k.q.val() + self.h_one.val();
                    self.k_last.d.next = self.k_hit.val();
                    self.fb_ra_r.d.next = self.fb_ra_r.q.val() + self.h_one.val();
                    self.state.d.next = State::Ev;
                }
                State::Step => {
                    if self.is_wr.q.val() {
                        self.mm_we_r.d.next = true;
                        self.mm_addr_r.d.next = self.word.q.val().get_bits::<32>(0);
                        self.mm_wdata_r.d.next = self.word.q.val().get_bits::<32>(32);
                        self.status.d.next = self.s_ack.val();
                        self.state.d.next = State::Resp;
                    } else if self.is_rd.q.val() {
                        if !self.br_issued.q.val() {
                            self.br_issued.d.next = true;
                            self.mm_re_r.d.next = true;
                            self.mm_addr_r.d.next = self.word.q.val().get_bits::<32>(32);
                        }
                        if self.mm_rvalid.val() {
                            self.word.d.next = bit_cast::<64, 32>(self.mm_rdata.val());
                            self.status.d.next = self.s_data.val();
                            self.state.d.next = State::Resp;
                        }
                    } else if self.is_br.q.val() {
                        // A burst read: 1 to 8191 words (the response's length and its CRC's
                        // position in 16 bits); the first read here, the others while the
                        // response is sent.
                        if !self.br_issued.q.val() {
                            self.br_issued.d.next = true;
                            if self.count_bad.q.val() {
                                self.status.d.next = self.e_len.val();
                                self.state.d.next = State::Resp;
                            } else {
                                self.mm_re_r.d.next = true;
                                self.mm_addr_r.d.next = self.word.q.val().get_bits::<32>(16);
                                self.baddr.d.next = self.word.q.val().get_bits::<32>(16);
                                self.btotal.d.next = self.word.q.val().get_bits::<16>(48);
                            }
                        } else if self.mm_rvalid.val() {
                            self.word.d.next = bit_cast::<64, 32>(self.mm_rdata.val());
                            self.status.d.next = self.s_words.val();
                            self.state.d.next = State::Resp;
                        }
                    } else {
                        self.cycles.d.next = self.cycles.q.val() + self.w_one32.val();
                        if self.out_valid.val() {
                            self.sp_we_r.d.next = true;
                            self.sp_wa_r.d.next = self.n_spk.q.val();
                            self.n_spk.d.next = self.n_spk.q.val() + self.h_one.val();
                        }
                        if self.done.val() {
                            self.word.d.next = bit_cast::<64, 32>(self.cycles.q.val());
                            self.status.d.next = self.s_stepped.val();
                            self.state.d.next = State::Resp;
                        }
                    }
                }
                State::Resp => {
                    // Set up the response; the CRC covers status, length and payload.
                    if self.status.q.val().get_bits::<4>(4) == self.e_nibble.val() {
                        self.error_r.d.next = true;
                    }
                    self.resp_len.d.next = self.h_zero.val();
                    if (self.status.q.val() == self.s_data.val())
                        || (self.status.q.val() == self.s_info.val())
                    {
                        self.resp_len.d.next = self.h_four.val();
                    } else if self.status.q.val() == self.s_stepped.val() {
                        self.resp_len.d.next = self.h_four.val() + (self.n_spk.q.val() << 1);
                    } else if self.status.q.val() == self.s_words.val() {
                        self.resp_len.d.next = self.btotal.q.val() << 2;
                    }
                    if self.status.q.val() == self.s_info.val() {
                        self.word.d.next = self.info.val();
                    }
                    self.tk.d.next = self.h_zero.val();
                    self.crc.d.next = self.b_zero.val();
                    self.sp_ra_r.d.next = self.h_zero.val();
                    self.state.d.next = State::TLoad;
                }
                State::TLoad => {
                    // The spike RAM's read latency.
                    self.crc_at.d.next = self.resp_len.q.val() + self.h_four.val();
                    self.pay_last.d.next = self.resp_len.q.val() + self.h_three.val();
                    self.state.d.next = State::TWait;
                }
                State::TWait => {
                    // The byte waits here at least a clock: its flags are registered, off the
                    // byte's send.
                    self.resp_q.d.next = self.resp_byte.val();
                    self.tk_end.d.next = self.tk.q.val() == self.crc_at.q.val();
                    self.br_next.d.next = (self.status.q.val() == self.s_words.val())
                        && (self.tk.q.val().get_bits::<14>(2) != self.h_fourteen_zero.val())
                        && (self.tk.q.val().get_bits::<2>(0) == self.two_three.val())
                        && (self.tk.q.val() != self.pay_last.q.val());
                    if !self.u_tx.busy.val() {
                        self.state.d.next = State::TSend;
                    }
                }
                State::TSend => {
                    self.tx_start.d.next = true;
                    self.tx_data.d.next = self.resp_q.q.val();
                    if (self.tk.q.val() != self.h_zero.val()) && !self.tk_end.q.val() {
                        self.crc.d.next = self.crc_tx.crc_next.val();
                    }
                    self.state.d.next = State::TBusy;
                }
                State::TBusy => {
                    if !self.tx_start.q.val() && !self.u_tx.busy.val() {
                        if self.tk_end.q.val() {
                            self.state.d.next = State::Sync;
                        } else {
                            self.tk.d.next = self.tk.q.val() + self.h_one.val();
                            if self.tk.q.val().get_bits::<14>(2) != self.h_fourteen_zero.val() {
                                self.word.d.next = self.word.q.val() >> 8;
                            }
                            if (self.status.q.val() == self.s_stepped.val())
                                && (self.tk.q.val() >= self.h_eight.val())
                                && self.tk.q.val().get_bit(0)
                            {
                                self.sp_ra_r.d.next = self.sp_ra_r.q.val() + self.h_one.val();
                            }
                            // A burst read's next word, read once the last byte of a word is out.
                            if self.br_next.q.val() {
                                self.mm_re_r.d.next = true;
                                self.mm_addr_r.d.next = self.baddr.q.val() + self.w_one32.val();
                                self.baddr.d.next = self.baddr.q.val() + self.w_one32.val();
                                self.state.d.next = State::BrWait;
                            } else {
                                self.state.d.next = State::TLoad;
                            }
                        }
                    }
                }
                State::BrWait => {
                    if self.mm_rvalid.val() {
                        self.word.d.next = bit_cast::<64, 32>(self.mm_rdata.val());
                        self.state.d.next = State::TLoad;
                    }
                }
            }
            // The inter-byte timeout inside a frame: 640 bit times without a byte, counted as bit
            // times (a prescaler of the UART's width and a 10-bit count), not as one wide compare.
            if self.in_frame.val() && !self.u_rx.valid.val() {
                if self.idle_bits.q.val() == self.t_end.val() {
                    self.status.d.next = self.e_trunc.val();
                    self.state.d.next = State::Resp;
                } else if self.idle_pre.q.val() == self.w_zero.val() {
                    self.idle_pre.d.next = self.bit_full.val();
                    self.idle_bits.d.next = self.idle_bits.q.val() + self.t_one.val();
                } else {
                    self.idle_pre.d.next = self.idle_pre.q.val() - self.w_one.val();
                }
            }
            if self.in_frame.val() && self.u_rx.valid.val() {
                self.idle_pre.d.next = self.bit_full.val();
                self.idle_bits.d.next = self.t_zero.val();
            }
        }
    }
}
