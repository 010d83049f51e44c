//! The board top as a rust-hdl block: `BoardTop<N>` (`synforge_board_top`, `N` LEDs) wires the
//! PLL, the power-on reset, the bridge, the core and the heartbeat.
//!
//! Three of its children are not rust-hdl logic, and are wrapped leaves (`Verilog::Wrapper`):
//! each is a module whose ports are rust-hdl's fixed widths and whose body is synforge's text.
//! - [`ClockLeaf`]: the PLL primitive with synforge's settings from the board data
//!   (`board_top::ice40_pll`, `ecp5_pll`; rust-hdl's `ICE40PLLBlock` takes its frequencies as
//!   const generics and has no `SB_PLL40_PAD` and no ECP5 PLL), or a wire without one.
//! - [`CoreLeaf`]: the generated core, whose index widths come from the config: 16-bit event
//!   indices at the top, cut to the core's widths inside.
//! - [`BridgeLeaf`]: `sf_bridge`, the frame machine (rust-hdl, its own modules) with the
//!   config-sized frame and spike RAMs.
//!
//! The leaves declare no `(* blackbox *)` cores: the real modules are written beside the top,
//! and a blackbox declared before one of them makes Verilator keep the empty box and drop the
//! real module without a word. A check that needs the boxes (`yosys_validate`) adds them.

use rust_hdl::prelude::*;

/// Verilog text a leaf writes: a field rust-hdl's visitors pass over (every field of a
/// `LogicBlock` must be a `Block`).
#[derive(Clone, Debug, Default)]
pub struct Text(pub String);

impl Logic for Text {
    fn update(&mut self) {}
}

impl Block for Text {
    fn connect_all(&mut self) {}
    fn update_all(&mut self) {}
    fn has_changed(&self) -> bool {
        false
    }
    fn accept(&self, _name: &str, _probe: &mut dyn Probe) {}
}

/// The wrapper a leaf's `hdl` returns: its text, one indent less (rust-hdl indents it), no
/// cores.
fn wrapper(code: &Text) -> Verilog {
    let lines: Vec<&str> = code.0.lines().map(|l| l.strip_prefix("    ").unwrap_or(l)).collect();
    Verilog::Wrapper(Wrapper { code: lines.join("\n"), cores: String::new() })
}

/// The core clock: the PLL primitive, or the board clock itself (`lock` tied high).
#[derive(Clone, Debug, Default, LogicBlock)]
pub struct ClockLeaf {
    /// Board clock.
    pub clk: Signal<In, Clock>,
    /// Core clock.
    pub core_clk: Signal<Out, Clock>,
    /// The PLL is locked.
    pub lock: Signal<Out, Bit>,
    code: Text,
}

impl ClockLeaf {
    /// The leaf whose body is `code` (drives `core_clk` and `lock` from `clk`).
    pub fn new(code: String) -> Self {
        Self { code: Text(code), ..Default::default() }
    }
}

impl Logic for ClockLeaf {
    // Never simulated in rust-hdl: a vendor primitive.
    fn update(&mut self) {}
    fn connect(&mut self) {
        self.core_clk.connect();
        self.lock.connect();
    }
    fn hdl(&self) -> Verilog {
        wrapper(&self.code)
    }
}

/// The generated core (`synforge_core`) with 16-bit event indices.
#[derive(Clone, Debug, Default, LogicBlock)]
pub struct CoreLeaf {
    /// Core clock.
    pub clk: Signal<In, Clock>,
    /// Reset.
    pub rst: Signal<In, Bit>,
    /// An input spike is offered.
    pub in_valid: Signal<In, Bit>,
    /// Its input index (the low bits are the core's).
    pub in_index: Signal<In, Bits<16>>,
    /// Run a timestep.
    pub step: Signal<In, Bit>,
    /// A timestep is running.
    pub busy: Signal<Out, Bit>,
    /// A timestep ended.
    pub done: Signal<Out, Bit>,
    /// An output spike is offered.
    pub out_valid: Signal<Out, Bit>,
    /// The bridge takes it.
    pub out_ready: Signal<In, Bit>,
    /// Its neuron index, zero-extended.
    pub out_index: Signal<Out, Bits<16>>,
    /// Memory-mapped access: address.
    pub mm_addr: Signal<In, Bits<32>>,
    /// Write data.
    pub mm_wdata: Signal<In, Bits<32>>,
    /// Write.
    pub mm_we: Signal<In, Bit>,
    /// Read.
    pub mm_re: Signal<In, Bit>,
    /// Read data.
    pub mm_rdata: Signal<Out, Bits<32>>,
    /// Read data valid.
    pub mm_rvalid: Signal<Out, Bit>,
    code: Text,
}

impl CoreLeaf {
    /// The leaf whose body is `code` (instantiates `synforge_core`).
    pub fn new(code: String) -> Self {
        Self { code: Text(code), ..Default::default() }
    }
}

impl Logic for CoreLeaf {
    // Never simulated in rust-hdl: the core is checked against the model by co-simulation.
    fn update(&mut self) {}
    fn connect(&mut self) {
        self.busy.connect();
        self.done.connect();
        self.out_valid.connect();
        self.out_index.connect();
        self.mm_rdata.connect();
        self.mm_rvalid.connect();
    }
    fn hdl(&self) -> Verilog {
        wrapper(&self.code)
    }
}

/// The host bridge (`sf_bridge`): the frame machine and its RAMs.
#[derive(Clone, Debug, Default, LogicBlock)]
pub struct BridgeLeaf {
    /// Core clock.
    pub clk: Signal<In, Clock>,
    /// Reset.
    pub rst: Signal<In, Bit>,
    /// UART from the host.
    pub uart_rx: Signal<In, Bit>,
    /// UART to the host.
    pub uart_tx: Signal<Out, Bit>,
    /// An input spike to the core.
    pub in_valid: Signal<Out, Bit>,
    /// Its index.
    pub in_index: Signal<Out, Bits<16>>,
    /// Run a timestep.
    pub step: Signal<Out, Bit>,
    /// The core is running one.
    pub busy: Signal<In, Bit>,
    /// It ended.
    pub done: Signal<In, Bit>,
    /// An output spike from the core.
    pub out_valid: Signal<In, Bit>,
    /// Always taken.
    pub out_ready: Signal<Out, Bit>,
    /// Its index.
    pub out_index: Signal<In, Bits<16>>,
    /// Memory-mapped access: address.
    pub mm_addr: Signal<Out, Bits<32>>,
    /// Write data.
    pub mm_wdata: Signal<Out, Bits<32>>,
    /// Write.
    pub mm_we: Signal<Out, Bit>,
    /// Read.
    pub mm_re: Signal<Out, Bit>,
    /// Read data.
    pub mm_rdata: Signal<In, Bits<32>>,
    /// Read data valid.
    pub mm_rvalid: Signal<In, Bit>,
    /// A refused frame was seen since reset.
    pub error_seen: Signal<Out, Bit>,
    code: Text,
}

impl BridgeLeaf {
    /// The leaf whose body is `code` (instantiates `sf_bridge`).
    pub fn new(code: String) -> Self {
        Self { code: Text(code), ..Default::default() }
    }
}

impl Logic for BridgeLeaf {
    // Never simulated here: the frame machine has its own rust-hdl test (`tests/frame.rs`).
    fn update(&mut self) {}
    fn connect(&mut self) {
        self.uart_tx.connect();
        self.in_valid.connect();
        self.in_index.connect();
        self.step.connect();
        self.out_ready.connect();
        self.mm_addr.connect();
        self.mm_wdata.connect();
        self.mm_we.connect();
        self.mm_re.connect();
        self.error_seen.connect();
    }
    fn hdl(&self) -> Verilog {
        wrapper(&self.code)
    }
}

/// `synforge_board_top` with `N` LEDs: led 0 the heartbeat, led 1 (if there is one) a refused
/// frame was seen; the others dark. An active-low LED's bit is inverted.
#[derive(Clone, Debug, LogicBlock)]
pub struct BoardTop<const N: usize> {
    /// Board clock.
    pub clk: Signal<In, Clock>,
    /// UART from the host.
    pub uart_rx: Signal<In, Bit>,
    /// UART to the host.
    pub uart_tx: Signal<Out, Bit>,
    /// The LEDs' pin levels.
    pub led: Signal<Out, Bits<N>>,
    pll: ClockLeaf,
    por: super::reset::PowerOnReset,
    bridge: BridgeLeaf,
    network: CoreLeaf,
    heartbeat: super::reset::Heartbeat,
    /// The active-low LEDs' bits.
    low: Constant<Bits<N>>,
    /// The heartbeat's bit.
    beat_bit: Constant<Bits<N>>,
    /// The error LED's bit (none with one LED).
    error_bit: Constant<Bits<N>>,
    zero: Constant<Bits<N>>,
    beat_on: Signal<Local, Bits<N>>,
    error_on: Signal<Local, Bits<N>>,
}

impl<const N: usize> BoardTop<N> {
    /// The top with these leaves' texts; `low[k]`: LED `k` is active low.
    pub fn new(pll: String, core: String, bridge: String, low: &[bool]) -> Self {
        assert_eq!(low.len(), N, "one entry per LED");
        let mask = low.iter().enumerate().filter(|(_, &l)| l).fold(0u64, |m, (k, _)| m | 1 << k);
        Self {
            clk: Default::default(),
            uart_rx: Default::default(),
            uart_tx: Default::default(),
            led: Default::default(),
            pll: ClockLeaf::new(pll),
            por: Default::default(),
            bridge: BridgeLeaf::new(bridge),
            network: CoreLeaf::new(core),
            heartbeat: Default::default(),
            low: Constant::new(mask.to_bits()),
            beat_bit: Constant::new(1u64.to_bits()),
            error_bit: Constant::new((if N > 1 { 2u64 } else { 0 }).to_bits()),
            zero: Constant::new(0u64.to_bits()),
            beat_on: Default::default(),
            error_on: Default::default(),
        }
    }
}

impl<const N: usize> Logic for BoardTop<N> {
    #[hdl_gen]
    fn update(&mut self) {
        // Clocks and reset.
        self.pll.clk.next = self.clk.val();
        self.por.clk.next = self.pll.core_clk.val();
        self.por.lock.next = self.pll.lock.val();
        self.bridge.clk.next = self.pll.core_clk.val();
        self.bridge.rst.next = self.por.rst.val();
        self.network.clk.next = self.pll.core_clk.val();
        self.network.rst.next = self.por.rst.val();
        self.heartbeat.clk.next = self.pll.core_clk.val();
        // Host.
        self.bridge.uart_rx.next = self.uart_rx.val();
        self.uart_tx.next = self.bridge.uart_tx.val();
        // Bridge -> core.
        self.network.in_valid.next = self.bridge.in_valid.val();
        self.network.in_index.next = self.bridge.in_index.val();
        self.network.step.next = self.bridge.step.val();
        self.network.out_ready.next = self.bridge.out_ready.val();
        self.network.mm_addr.next = self.bridge.mm_addr.val();
        self.network.mm_wdata.next = self.bridge.mm_wdata.val();
        self.network.mm_we.next = self.bridge.mm_we.val();
        self.network.mm_re.next = self.bridge.mm_re.val();
        // Core -> bridge.
        self.bridge.busy.next = self.network.busy.val();
        self.bridge.done.next = self.network.done.val();
        self.bridge.out_valid.next = self.network.out_valid.val();
        self.bridge.out_index.next = self.network.out_index.val();
        self.bridge.mm_rdata.next = self.network.mm_rdata.val();
        self.bridge.mm_rvalid.next = self.network.mm_rvalid.val();
        // LEDs.
        self.beat_on.next = self.zero.val();
        if self.heartbeat.beat.val() {
            self.beat_on.next = self.beat_bit.val();
        }
        self.error_on.next = self.zero.val();
        if self.bridge.error_seen.val() {
            self.error_on.next = self.error_bit.val();
        }
        self.led.next = self.low.val() ^ self.beat_on.val() ^ self.error_on.val();
    }
}
