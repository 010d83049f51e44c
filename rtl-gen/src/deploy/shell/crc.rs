//! CRC-8/SMBUS (polynomial 0x07, init 0, no reflection, no final XOR) of one byte, in one
//! clock: `crc_next = crc8(crc, data)`, the bridge's frame check (`docs/protocol.md`). Its host
//! side is the `crc` crate's `CRC_8_SMBUS` in `protocol.rs`.

use rust_hdl::prelude::*;

/// One byte into the CRC: eight shift-and-reduce steps, each its own local.
#[derive(Clone, Debug, LogicBlock)]
pub struct Crc8 {
    /// The CRC so far.
    pub crc: Signal<In, Bits<8>>,
    /// The next byte (`byte` is a SystemVerilog keyword).
    pub data: Signal<In, Bits<8>>,
    /// The CRC with `data` (not `next`: `#[hdl_gen]` takes any `.next` in a path for a read
    /// of a signal's next value, and refuses it).
    pub crc_next: Signal<Out, Bits<8>>,
    s0: Signal<Local, Bits<8>>,
    s1: Signal<Local, Bits<8>>,
    s2: Signal<Local, Bits<8>>,
    s3: Signal<Local, Bits<8>>,
    s4: Signal<Local, Bits<8>>,
    s5: Signal<Local, Bits<8>>,
    s6: Signal<Local, Bits<8>>,
    s7: Signal<Local, Bits<8>>,
    poly: Constant<Bits<8>>,
}

impl Default for Crc8 {
    fn default() -> Self {
        Self {
            crc: Default::default(),
            data: Default::default(),
            crc_next: Default::default(),
            s0: Default::default(),
            s1: Default::default(),
            s2: Default::default(),
            s3: Default::default(),
            s4: Default::default(),
            s5: Default::default(),
            s6: Default::default(),
            s7: Default::default(),
            poly: Constant::new(0x07u64.to_bits()),
        }
    }
}

impl Logic for Crc8 {
    // One step: `s' = s[7] ? (s << 1) ^ 0x07 : s << 1`. Reading a `.next` is not allowed in
    // `#[hdl_gen]`, so each step has its own local.
    #[hdl_gen]
    fn update(&mut self) {
        self.s0.next = self.crc.val() ^ self.data.val();
        self.s1.next = self.s0.val() << 1;
        if self.s0.val().get_bit(7) {
            self.s1.next = (self.s0.val() << 1) ^ self.poly.val();
        }
        self.s2.next = self.s1.val() << 1;
        if self.s1.val().get_bit(7) {
            self.s2.next = (self.s1.val() << 1) ^ self.poly.val();
        }
        self.s3.next = self.s2.val() << 1;
        if self.s2.val().get_bit(7) {
            self.s3.next = (self.s2.val() << 1) ^ self.poly.val();
        }
        self.s4.next = self.s3.val() << 1;
        if self.s3.val().get_bit(7) {
            self.s4.next = (self.s3.val() << 1) ^ self.poly.val();
        }
        self.s5.next = self.s4.val() << 1;
        if self.s4.val().get_bit(7) {
            self.s5.next = (self.s4.val() << 1) ^ self.poly.val();
        }
        self.s6.next = self.s5.val() << 1;
        if self.s5.val().get_bit(7) {
            self.s6.next = (self.s5.val() << 1) ^ self.poly.val();
        }
        self.s7.next = self.s6.val() << 1;
        if self.s6.val().get_bit(7) {
            self.s7.next = (self.s6.val() << 1) ^ self.poly.val();
        }
        self.crc_next.next = self.s7.val() << 1;
        if self.s7.val().get_bit(7) {
            self.crc_next.next = (self.s7.val() << 1) ^ self.poly.val();
        }
    }
}
