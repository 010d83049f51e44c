//! The bridge's UART, 8N1, as rust-hdl blocks: `sf_uart_rx` samples mid-bit after a two-flop
//! synchronizer and drops a byte whose stop bit is low; `sf_uart_tx` sends `data` on `start`
//! while not `busy`. `W` is the width of the bit-time counter, `bits_for(divisor)`: rust-hdl's
//! widths are const generics, so `emit` picks the instance of the divisor's width.

use rust_hdl::prelude::*;

/// 8N1 receiver, `divisor` clocks per bit.
#[derive(Clone, Debug, LogicBlock)]
pub struct UartRx<const W: usize> {
    /// Core clock.
    pub clk: Signal<In, Clock>,
    /// Synchronous reset: abandons a byte being received.
    pub rst: Signal<In, Bit>,
    /// The line, idle high.
    pub rx: Signal<In, Bit>,
    /// One clock: `data` holds a byte received with a good stop bit.
    pub valid: Signal<Out, Bit>,
    /// The last byte received.
    pub data: Signal<Out, Bits<8>>,
    sync: DFF<Bits<2>>,
    busy: DFF<Bit>,
    n: DFF<Bits<4>>,
    sh: DFF<Bits<8>>,
    cnt: DFF<Bits<W>>,
    valid_r: DFF<Bit>,
    data_r: DFF<Bits<8>>,
    /// Clocks from the start edge to the middle of the start bit, less one.
    half: Constant<Bits<W>>,
    /// Clocks per bit, less one.
    full: Constant<Bits<W>>,
    cnt_zero: Constant<Bits<W>>,
    cnt_one: Constant<Bits<W>>,
    sync_one: Constant<Bits<2>>,
    n_zero: Constant<Bits<4>>,
    n_one: Constant<Bits<4>>,
    n_stop: Constant<Bits<4>>,
    top_bit: Constant<Bits<8>>,
}

impl<const W: usize> UartRx<W> {
    /// A receiver for `divisor` clocks per bit (at least 4, below `2^W`).
    pub fn new(divisor: u32) -> Self {
        assert!(divisor >= 4 && (divisor as u64) < (1u64 << W), "divisor {divisor}, W {W}");
        Self {
            clk: Default::default(),
            rst: Default::default(),
            rx: Default::default(),
            valid: Default::default(),
            data: Default::default(),
            sync: Default::default(),
            busy: Default::default(),
            n: Default::default(),
            sh: Default::default(),
            cnt: Default::default(),
            valid_r: Default::default(),
            data_r: Default::default(),
            half: Constant::new((divisor as u64 / 2 - 1).to_bits()),
            full: Constant::new((divisor as u64 - 1).to_bits()),
            cnt_zero: Constant::new(0u64.to_bits()),
            cnt_one: Constant::new(1u64.to_bits()),
            sync_one: Constant::new(1u64.to_bits()),
            n_zero: Constant::new(0u64.to_bits()),
            n_one: Constant::new(1u64.to_bits()),
            n_stop: Constant::new(9u64.to_bits()),
            top_bit: Constant::new(0x80u64.to_bits()),
        }
    }
}

impl<const W: usize> Logic for UartRx<W> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clk, sync, busy, n, sh, cnt, valid_r, data_r);
        self.valid.next = self.valid_r.q.val();
        self.data.next = self.data_r.q.val();
        // sync <= {sync[0], rx}, without a widening cast (its mask is a lint warning).
        self.sync.d.next = self.sync.q.val() << 1;
        if self.rx.val() {
            self.sync.d.next = (self.sync.q.val() << 1) | self.sync_one.val();
        }
        self.valid_r.d.next = false;
        if self.rst.val() {
            self.busy.d.next = false;
        } else if !self.busy.q.val() {
            if !self.sync.q.val().get_bit(1) {
                self.busy.d.next = true;
                self.n.d.next = self.n_zero.val();
                self.cnt.d.next = self.half.val();
            }
        } else if self.cnt.q.val() != self.cnt_zero.val() {
            self.cnt.d.next = self.cnt.q.val() - self.cnt_one.val();
        } else {
            self.cnt.d.next = self.full.val();
            if self.n.q.val() == self.n_zero.val() {
                // A glitch, not a start bit.
                if self.sync.q.val().get_bit(1) {
                    self.busy.d.next = false;
                }
                self.n.d.next = self.n_one.val();
            } else if self.n.q.val() != self.n_stop.val() {
                // sh <= {sync[1], sh[7:1]}
                if self.sync.q.val().get_bit(1) {
                    self.sh.d.next = (self.sh.q.val() >> 1) | self.top_bit.val();
                } else {
                    self.sh.d.next = self.sh.q.val() >> 1;
                }
                self.n.d.next = self.n.q.val() + self.n_one.val();
            } else {
                self.busy.d.next = false;
                if self.sync.q.val().get_bit(1) {
                    self.valid_r.d.next = true;
                    self.data_r.d.next = self.sh.q.val();
                }
            }
        }
    }
}

/// 8N1 transmitter, `divisor` clocks per bit. `start` with `data` while not `busy`.
#[derive(Clone, Debug, LogicBlock)]
pub struct UartTx<const W: usize> {
    /// Core clock.
    pub clk: Signal<In, Clock>,
    /// Synchronous reset: abandons a byte being sent.
    pub rst: Signal<In, Bit>,
    /// Send `data` (taken while not `busy`).
    pub start: Signal<In, Bit>,
    /// The byte to send.
    pub data: Signal<In, Bits<8>>,
    /// The line, idle high.
    pub tx: Signal<Out, Bit>,
    /// A byte is being sent. A register (`n != 0` kept a clock ahead), not a compare of `n`:
    /// it starts the bridge's longest path, through its state decode to the response word's
    /// enable.
    pub busy: Signal<Out, Bit>,
    sh: DFF<Bits<10>>,
    n: DFF<Bits<4>>,
    busy_r: DFF<Bit>,
    cnt: DFF<Bits<W>>,
    full: Constant<Bits<W>>,
    cnt_zero: Constant<Bits<W>>,
    cnt_one: Constant<Bits<W>>,
    n_one: Constant<Bits<4>>,
    n_frame: Constant<Bits<4>>,
    n_zero: Constant<Bits<4>>,
    stop_bit: Constant<Bits<10>>,
}

impl<const W: usize> UartTx<W> {
    /// A transmitter for `divisor` clocks per bit (at least 4, below `2^W`).
    pub fn new(divisor: u32) -> Self {
        assert!(divisor >= 4 && (divisor as u64) < (1u64 << W), "divisor {divisor}, W {W}");
        Self {
            clk: Default::default(),
            rst: Default::default(),
            start: Default::default(),
            data: Default::default(),
            tx: Default::default(),
            busy: Default::default(),
            sh: Default::default(),
            n: Default::default(),
            busy_r: Default::default(),
            cnt: Default::default(),
            full: Constant::new((divisor as u64 - 1).to_bits()),
            cnt_zero: Constant::new(0u64.to_bits()),
            cnt_one: Constant::new(1u64.to_bits()),
            n_one: Constant::new(1u64.to_bits()),
            n_frame: Constant::new(10u64.to_bits()),
            n_zero: Constant::new(0u64.to_bits()),
            stop_bit: Constant::new(0x200u64.to_bits()),
        }
    }
}

impl<const W: usize> Logic for UartTx<W> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clk, sh, n, busy_r, cnt);
        self.busy.next = self.busy_r.q.val();
        self.tx.next = true;
        if self.busy_r.q.val() {
            self.tx.next = self.sh.q.val().get_bit(0);
        }
        if self.rst.val() {
            self.n.d.next = self.n_zero.val();
            self.busy_r.d.next = false;
        } else if !self.busy_r.q.val() {
            if self.start.val() {
                // sh <= {1'b1, data, 1'b0}
                self.sh.d.next = (bit_cast::<10, 8>(self.data.val()) << 1) | self.stop_bit.val();
                self.n.d.next = self.n_frame.val();
                self.busy_r.d.next = true;
                self.cnt.d.next = self.full.val();
            }
        } else if self.cnt.q.val() != self.cnt_zero.val() {
            self.cnt.d.next = self.cnt.q.val() - self.cnt_one.val();
        } else {
            // sh <= {1'b1, sh[9:1]}
            self.sh.d.next = (self.sh.q.val() >> 1) | self.stop_bit.val();
            self.n.d.next = self.n.q.val() - self.n_one.val();
            if self.n.q.val() == self.n_one.val() {
                self.busy_r.d.next = false;
            }
            self.cnt.d.next = self.full.val();
        }
    }
}
