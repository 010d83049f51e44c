//! The board top, `synforge_board_top`: a PLL where the core's clock differs from the board's,
//! a power-on reset, the UART host bridge (`bridge.rs`) and the core. Ports: `clk` (the board
//! clock), `uart_rx`, `uart_tx`, `led[k]` (led 0: heartbeat, led 1: a refused frame was seen).
//! The top is a rust-hdl block (`shell::top::BoardTop`); this file writes the bodies of its
//! wrapped leaves (the PLL with its settings, the core, the bridge) and emits it.
//! No twin in `sim/`: it moves bytes; `protocol.rs` is its host side.

use std::fmt::Write;

use crate::board::{Board, MAX_LEDS};
use crate::bridge::{self, BaudError, BridgeSpec};
use crate::deploy::shell;

/// A board top that cannot be made.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TopError {
    /// The UART cannot run at the asked rate.
    #[error(transparent)]
    Baud(#[from] BaudError),
    /// A step or its response does not fit a frame.
    #[error(
        "network.inputs: {inputs} inputs x {neurons} neurons do not fit the UART bridge's frames \
         (16-bit lengths: at most {max_inputs} inputs and 32765 neurons); use fewer, or drive the \
         core through its own ports (synforge gen)"
    )]
    Frames {
        /// Inputs of the core.
        inputs: u32,
        /// The most inputs a step frame holds: 32767, or 32766 when it carries the modulator.
        max_inputs: u32,
        /// Neurons of the core.
        neurons: u32,
    },
}
use crate::Design;

pub use crate::board::Family;

/// How to build the top.
#[derive(Clone, Debug)]
pub struct TopSpec {
    /// The PLL's family; `None`: no PLL, the core runs on the board clock (simulation).
    pub pll: Option<Family>,
    /// iCE40: the board clock arrives on the PLL's pad (use `SB_PLL40_PAD`).
    pub pll_pad: bool,
    /// Board clock, Hz.
    pub board_hz: f64,
    /// Wanted core clock, Hz.
    pub core_hz: f64,
    /// UART baud rate.
    pub baud: u32,
    /// One entry per LED: active low.
    pub leds: Vec<bool>,
}

impl TopSpec {
    /// The top of `board` with its core at `freq_mhz` (a PLL makes it; `None`: the board
    /// clock) and its UART at `baud`.
    pub fn for_board(board: &Board, freq_mhz: Option<f64>, baud: u32) -> TopSpec {
        let board_hz = board.clock.hz as f64;
        let core_hz = freq_mhz.map_or(board_hz, |f| f * 1e6);
        TopSpec {
            pll: if (core_hz - board_hz).abs() < 1.0 { None } else { Some(board.family) },
            // The UP5K's PLL sits on the iCEBreaker's clock pin (35); elsewhere the PLL
            // follows the global buffer.
            pll_pad: board.device == "up5k",
            board_hz,
            core_hz,
            baud,
            leds: board.led.iter().map(|l| l.active_low).collect(),
        }
    }

    /// The PLL (if any) and the core clock it gives, Hz.
    fn clock(&self) -> (Option<Pll>, f64) {
        let pll = match self.pll {
            None => None,
            Some(Family::Ice40) => Some(
                ice40_pll(self.board_hz, self.core_hz, self.pll_pad).expect("an iCE40 PLL setting"),
            ),
            Some(Family::Ecp5) => {
                Some(ecp5_pll(self.board_hz, self.core_hz).expect("an ECP5 PLL setting"))
            }
        };
        let hz = pll.as_ref().map_or(self.board_hz, |p| p.hz);
        (pll, hz)
    }

    /// Core clocks per UART bit at the core clock the PLL gives, or why the baud rate cannot
    /// be made from it ([`bridge::uart_divisor`]). Check this before writing anything.
    pub fn uart_divisor(&self) -> Result<u32, BaudError> {
        bridge::uart_divisor(self.clock().1, self.baud)
    }
}

/// A PLL setting and the clock it gives.
#[derive(Clone, Debug, PartialEq)]
pub struct Pll {
    /// The Verilog instance.
    pub instance: String,
    /// Output frequency, Hz.
    pub hz: f64,
}

/// iCE40 PLL settings for `fin` -> nearest to `fout` (the search `icepll` does).
/// `pad`: the clock pin is the PLL's own pad (the iCEBreaker's pin 35), so the PLL is an
/// `SB_PLL40_PAD` fed from the package pin; otherwise an `SB_PLL40_CORE` after the buffer.
pub fn ice40_pll(fin: f64, fout: f64, pad: bool) -> Option<Pll> {
    let mut best: Option<(f64, u32, u32, u32, f64)> = None;
    for divr in 0..16u32 {
        let pfd = fin / (divr + 1) as f64;
        if !(10e6..=133e6).contains(&pfd) {
            continue;
        }
        for divf in 0..128u32 {
            let vco = pfd * (divf + 1) as f64;
            if !(533e6..=1066e6).contains(&vco) {
                continue;
            }
            for divq in 1..7u32 {
                let f = vco / (1u32 << divq) as f64;
                let err = (f - fout).abs();
                if best.is_none_or(|b| err < b.0) {
                    best = Some((err, divr, divf, divq, f));
                }
            }
        }
    }
    let (_, divr, divf, divq, f) = best?;
    let pfd = fin / (divr + 1) as f64 / 1e6;
    let filter = [17.0, 26.0, 44.0, 66.0, 101.0].iter().position(|&x| pfd < x).map_or(6, |k| k + 1);
    let (cell, input) =
        if pad { ("SB_PLL40_PAD", "PACKAGEPIN") } else { ("SB_PLL40_CORE", "REFERENCECLK") };
    let instance = format!(
        "    {cell} #(\n        .FEEDBACK_PATH(\"SIMPLE\"),\n        .DIVR(4'd{divr}),\n        .DIVF(7'd{divf}),\n        .DIVQ(3'd{divq}),\n        .FILTER_RANGE(3'd{filter})\n    ) u_pll (\n        .{input}(clk),\n        .PLLOUTGLOBAL(core_clk),\n        .BYPASS(1'b0),\n        .RESETB(1'b1),\n        .LOCK(lock)\n    );\n"
    );
    Some(Pll { instance, hz: f })
}

/// ECP5 `EHXPLLL` settings for `fin` -> nearest to `fout` (the search `ecppll` does).
pub fn ecp5_pll(fin: f64, fout: f64) -> Option<Pll> {
    let mut best: Option<(f64, u32, u32, u32, f64)> = None;
    for clki in 1..=128u32 {
        let pfd = fin / clki as f64;
        if !(3.125e6..=400e6).contains(&pfd) {
            continue;
        }
        for clkfb in 1..=80u32 {
            let f = pfd * clkfb as f64;
            for clkop in 1..=128u32 {
                let vco = f * clkop as f64;
                if !(400e6..=800e6).contains(&vco) {
                    continue;
                }
                let err = (f - fout).abs();
                if best.is_none_or(|b| err < b.0) {
                    best = Some((err, clki, clkfb, clkop, f));
                }
            }
        }
    }
    let (_, clki, clkfb, clkop, f) = best?;
    let instance = format!(
        "    (* FREQUENCY_PIN_CLKI=\"{:.3}\", FREQUENCY_PIN_CLKOP=\"{:.3}\", ICP_CURRENT=\"12\", LPF_RESISTOR=\"8\", MFG_ENABLE_FILTEROPAMP=\"1\", MFG_GMCREF_SEL=\"2\" *)\n    EHXPLLL #(\n        .PLLRST_ENA(\"DISABLED\"),\n        .INTFB_WAKE(\"DISABLED\"),\n        .STDBY_ENABLE(\"DISABLED\"),\n        .DPHASE_SOURCE(\"DISABLED\"),\n        .OUTDIVIDER_MUXA(\"DIVA\"),\n        .CLKOP_ENABLE(\"ENABLED\"),\n        .CLKOP_DIV({clkop}),\n        .CLKOP_CPHASE({}),\n        .CLKOP_FPHASE(0),\n        .FEEDBK_PATH(\"CLKOP\"),\n        .CLKI_DIV({clki}),\n        .CLKFB_DIV({clkfb})\n    ) u_pll (\n        .RST(1'b0),\n        .STDBY(1'b0),\n        .CLKI(clk),\n        .CLKOP(core_clk),\n        .CLKFB(core_clk),\n        .CLKINTFB(),\n        .PHASESEL0(1'b0),\n        .PHASESEL1(1'b0),\n        .PHASEDIR(1'b1),\n        .PHASESTEP(1'b1),\n        .PHASELOADREG(1'b1),\n        .PLLWAKESYNC(1'b0),\n        .ENCLKOP(1'b0),\n        .LOCK(lock)\n    );\n",
        fin / 1e6,
        f / 1e6,
        clkop - 1
    );
    Some(Pll { instance, hz: f })
}

/// The top's modules (bridge included) for `design`, and the core clock it runs at, Hz; an
/// error when the UART cannot run at `spec.baud` from that clock.
pub fn generate(
    design: &Design,
    spec: &TopSpec,
    config_hash: &str,
) -> Result<(Vec<(String, String)>, f64), TopError> {
    let (parts, hz, divisor) = parts(design, spec)?;
    let mut files = parts.bridge;
    let mut top = shell::emit::clean("synforge_board_top", &parts.rust_hdl);
    top[0].1 = clock_name(&top[0].1);
    top[0].1 = format!(
        "// synforge_board_top: core clock {:.3} MHz, UART {} baud ({divisor} clocks per bit);\n\
         // a rust-hdl block (`shell::top::BoardTop`) around the wrapped PLL, core and bridge.\n{}",
        hz / 1e6,
        spec.baud,
        top[0].1
    );
    files.extend(top);
    Ok((crate::verilog::module_files(files, config_hash), hz))
}

/// The board top of `design` as rust-hdl writes it (module `top`, children `top$child`), with
/// no modules beside it: for checks that want rust-hdl's own text (`yosys_validate`).
pub fn rust_hdl_text(design: &Design, spec: &TopSpec) -> Result<String, TopError> {
    Ok(parts(design, spec)?.0.rust_hdl)
}

/// The top's rust-hdl text and the bridge's modules.
struct Parts {
    rust_hdl: String,
    bridge: Vec<(String, String)>,
}

/// The parts of the top, the core clock (Hz) and the UART divisor.
fn parts(design: &Design, spec: &TopSpec) -> Result<(Parts, f64, u32), TopError> {
    let l = &design.layout;
    // A frame's length is 16 bits (docs/protocol.md): a step naming every input takes 2 bytes
    // an input, a step's response 4 bytes and 2 a neuron.
    // A core whose rule reads the modulator takes steps that carry it, 2 bytes more.
    let modulator = l.regs.iter().any(|r| r.index == crate::layout::MOD_REG_INDEX && r.built);
    let step_bytes = 2 * l.inputs as u64 + if modulator { 2 } else { 0 };
    if step_bytes > u16::MAX as u64 || 4 + 2 * l.neurons as u64 > u16::MAX as u64 {
        let max_inputs = if modulator { 32766 } else { 32767 };
        return Err(TopError::Frames { inputs: l.inputs, max_inputs, neurons: l.neurons });
    }
    assert!(spec.leds.len() <= MAX_LEDS, "Board::validate refuses more than {MAX_LEDS} LEDs");
    let (pll, hz) = spec.clock();
    let divisor = bridge::uart_divisor(hz, spec.baud)?;
    let bspec = BridgeSpec {
        divisor,
        input_index_bits: l.input_index_bits,
        neuron_index_bits: l.neuron_index_bits,
        inputs: l.inputs,
        neurons: l.neurons,
        modulator,
    };
    let clock = match &pll {
        Some(p) => p.instance.clone(),
        None => "    assign core_clk = clk;\n    assign lock = 1'b1;\n".to_string(),
    };
    // Without LEDs (the simulated top) one, the heartbeat, active high.
    let low = if spec.leds.is_empty() { vec![false] } else { spec.leds.clone() };
    let (core, bridge) = (core_leaf(l.input_index_bits, l.neuron_index_bits), bridge_leaf());
    macro_rules! by_count {
        ($($n:literal)*) => {
            match low.len() {
                $($n => shell::emit::text(&mut shell::top::BoardTop::<$n>::new(clock, core, bridge, &low)),)*
                n => unreachable!("{n} LEDs"),
            }
        };
    }
    let rust_hdl = by_count!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);
    Ok((Parts { rust_hdl, bridge: bridge::modules(&bspec) }, hz, divisor))
}

/// The top's text with the core clock's net named `core_clk` and kept. The net has a name in
/// every module it passes (`pll_core_clk` here, `bridge.clk`, `network.u_core.clk`, ...), and
/// Yosys keeps, of equal candidates, the one first in alphabetical order, which nextpnr then
/// reports the clock by: `bridge.clk`, as if it were the bridge's alone. A `keep` attribute
/// (which rust-hdl cannot write) makes the top's net the one kept.
fn clock_name(text: &str) -> String {
    let stub = "    wire  pll_core_clk;\n";
    assert!(text.contains(stub) && !text.contains(" core_clk"), "the PLL's output net:\n{text}");
    text.replace(stub, "    (* keep *) wire  core_clk;\n").replace("pll_core_clk", "core_clk")
}

/// The core leaf's body: `synforge_core` with its `iw`-bit input and `jw`-bit neuron indices
/// cut from and zero-extended to the top's 16 bits. The bridge offers an event only when the
/// core can take it (`docs/rtl.md`), so `in_ready` is not wired on.
fn core_leaf(iw: u32, jw: u32) -> String {
    let mut v = String::new();
    writeln!(v, "    wire in_ready;\n    wire [{}:0] out_index_w;", jw - 1).unwrap();
    v.push_str("    synforge_core u_core (\n        .clk(clk), .rst(rst),\n");
    writeln!(
        v,
        "        .in_valid(in_valid), .in_ready(in_ready), .in_index(in_index[{}:0]),",
        iw - 1
    )
    .unwrap();
    v.push_str("        .step(step), .busy(busy), .done(done),\n        .out_valid(out_valid), .out_ready(out_ready), .out_index(out_index_w),\n        .mm_addr(mm_addr), .mm_wdata(mm_wdata), .mm_we(mm_we), .mm_re(mm_re), .mm_rdata(mm_rdata), .mm_rvalid(mm_rvalid)\n    );\n");
    writeln!(v, "    assign out_index = {};", crate::verilog::zx("out_index_w", jw, 16)).unwrap();
    let high = if iw < 16 { format!(", in_index[15:{iw}]") } else { String::new() };
    writeln!(
        v,
        "    /* verilator lint_off UNUSEDSIGNAL */\n    wire unused_ok = &{{1'b0, in_ready{high}}};\n    /* verilator lint_on UNUSEDSIGNAL */"
    )
    .unwrap();
    v
}

/// The bridge leaf's body: `sf_bridge`, its ports the leaf's.
fn bridge_leaf() -> String {
    let ports = [
        "clk",
        "rst",
        "uart_rx",
        "uart_tx",
        "in_valid",
        "in_index",
        "step",
        "busy",
        "done",
        "out_valid",
        "out_ready",
        "out_index",
        "mm_addr",
        "mm_wdata",
        "mm_we",
        "mm_re",
        "mm_rdata",
        "mm_rvalid",
        "error_seen",
    ];
    let wires: Vec<String> = ports.iter().map(|p| format!(".{p}({p})")).collect();
    format!("    sf_bridge u_bridge ({});\n", wires.join(", "))
}
