//! The board top's power-on reset and heartbeat as rust-hdl blocks.

use rust_hdl::prelude::*;

/// `sf_por`: reset held from configuration until 15 clocks after the PLL locks (`lock` high);
/// a lock lost before then holds the count where it is.
#[derive(Clone, Debug, LogicBlock)]
pub struct PowerOnReset {
    /// Core clock (the PLL's output).
    pub clk: Signal<In, Clock>,
    /// The PLL is locked (tied high without a PLL).
    pub lock: Signal<In, Bit>,
    /// Reset, high until the count is full.
    pub rst: Signal<Out, Bit>,
    count: DFF<Bits<4>>,
    full: Constant<Bits<4>>,
    one: Constant<Bits<4>>,
}

impl Default for PowerOnReset {
    fn default() -> Self {
        Self {
            clk: Default::default(),
            lock: Default::default(),
            rst: Default::default(),
            count: Default::default(),
            full: Constant::new(15u64.to_bits()),
            one: Constant::new(1u64.to_bits()),
        }
    }
}

impl Logic for PowerOnReset {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clk, count);
        self.rst.next = self.count.q.val() != self.full.val();
        if self.lock.val() & (self.count.q.val() != self.full.val()) {
            self.count.d.next = self.count.q.val() + self.one.val();
        }
    }
}

/// `sf_heartbeat`: a free-running 26-bit count; `beat` is its top bit, a square wave of
/// 2^26 clocks (about 2 s at 32 MHz) for the heartbeat LED.
#[derive(Clone, Debug, LogicBlock)]
pub struct Heartbeat {
    /// Core clock.
    pub clk: Signal<In, Clock>,
    /// The count's top bit.
    pub beat: Signal<Out, Bit>,
    count: DFF<Bits<26>>,
    one: Constant<Bits<26>>,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Self {
            clk: Default::default(),
            beat: Default::default(),
            count: Default::default(),
            one: Constant::new(1u64.to_bits()),
        }
    }
}

impl Logic for Heartbeat {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clk, count);
        self.count.d.next = self.count.q.val() + self.one.val();
        self.beat.next = self.count.q.val().get_bit(25);
    }
}
