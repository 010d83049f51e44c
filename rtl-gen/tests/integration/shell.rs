//! The board shell's rust-hdl blocks in rust-hdl's own simulator (a VCD of each run in the
//! build folder) and through rust-hdl's `yosys_validate`, with the pinned Yosys.

use std::sync::OnceLock;

use crc::{Crc, CRC_8_SMBUS};
use rust_hdl::prelude::*;
use synforge_rtl::bridge::BridgeSpec;
use synforge_rtl::deploy::shell::reset::{Heartbeat, PowerOnReset};
use synforge_rtl::deploy::shell::{crc::Crc8, frame::FrameMachine, uart::UartRx, uart::UartTx};

use crate::{build_dir, tools};

const CRC8: Crc<u8> = Crc::<u8>::new(&CRC_8_SMBUS);

/// A bridge for a 100-input, 20-neuron core whose rule reads the modulator, at 104 clocks a
/// bit.
const SPEC: BridgeSpec = BridgeSpec {
    divisor: 104,
    input_index_bits: 7,
    neuron_index_bits: 5,
    inputs: 100,
    neurons: 20,
    modulator: true,
};

/// A transmitter wired to a receiver, and the CRC-8 of the bytes received so far.
#[derive(LogicBlock)]
struct Loopback<const W: usize> {
    clk: Signal<In, Clock>,
    rst: Signal<In, Bit>,
    start: Signal<In, Bit>,
    data: Signal<In, Bits<8>>,
    busy: Signal<Out, Bit>,
    valid: Signal<Out, Bit>,
    got: Signal<Out, Bits<8>>,
    crc: Signal<Out, Bits<8>>,
    tx: UartTx<W>,
    rx: UartRx<W>,
    crc8: Crc8,
    crc_r: DFF<Bits<8>>,
}

impl<const W: usize> Loopback<W> {
    fn new(divisor: u32) -> Self {
        Self {
            clk: Default::default(),
            rst: Default::default(),
            start: Default::default(),
            data: Default::default(),
            busy: Default::default(),
            valid: Default::default(),
            got: Default::default(),
            crc: Default::default(),
            tx: UartTx::new(divisor),
            rx: UartRx::new(divisor),
            crc8: Crc8::default(),
            crc_r: Default::default(),
        }
    }
}

impl<const W: usize> Logic for Loopback<W> {
    #[hdl_gen]
    fn update(&mut self) {
        self.tx.clk.next = self.clk.val();
        self.rx.clk.next = self.clk.val();
        self.crc_r.clock.next = self.clk.val();
        self.tx.rst.next = self.rst.val();
        self.rx.rst.next = self.rst.val();
        self.tx.start.next = self.start.val();
        self.tx.data.next = self.data.val();
        self.rx.rx.next = self.tx.tx.val();
        self.busy.next = self.tx.busy.val();
        self.valid.next = self.rx.valid.val();
        self.got.next = self.rx.data.val();
        self.crc8.crc.next = self.crc_r.q.val();
        self.crc8.data.next = self.rx.data.val();
        self.crc_r.d.next = self.crc_r.q.val();
        if self.rx.valid.val() {
            self.crc_r.d.next = self.crc8.crc_next.val();
        }
        self.crc.next = self.crc_r.q.val();
    }
}

/// Send `bytes` through the loopback at `divisor` clocks per bit; check each byte and the
/// running CRC against the `crc` crate. The run's VCD goes to the build folder as `vcd`.
fn loopback<const W: usize>(divisor: u32, bytes: &'static [u8], vcd: &str) {
    let mut uut = Loopback::<W>::new(divisor);
    uut.connect_all();
    let mut sim = Simulation::new();
    sim.add_clock(5, |x: &mut Box<Loopback<W>>| x.clk.next = !x.clk.val());
    sim.add_testbench(move |mut sim: Sim<Loopback<W>>| {
        let mut x = sim.init()?;
        x.rst.next = true;
        wait_clock_cycles!(sim, clk, x, 3);
        x.rst.next = false;
        let mut sent = Vec::new();
        for &b in bytes {
            x = sim.watch(|x| !x.busy.val(), x)?;
            wait_clock_cycle!(sim, clk, x);
            x.start.next = true;
            x.data.next = (b as u64).into();
            wait_clock_cycle!(sim, clk, x);
            x.start.next = false;
            x = sim.watch(|x| x.valid.val(), x)?;
            sent.push(b);
            sim_assert_eq!(sim, x.got.val().index() as u8, b, x);
            wait_clock_cycle!(sim, clk, x);
            sim_assert_eq!(sim, x.crc.val().index() as u8, CRC8.checksum(&sent), x);
        }
        sim.done(x)
    });
    let path = build_dir("shell").join(vcd);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let clocks = bytes.len() as u64 * 12 * divisor as u64 + 100;
    sim.run_to_file(Box::new(uut), clocks * 10, path.to_str().unwrap()).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("$var") && text.contains("crc_r"), "{}", path.display());
}

#[test]
fn uart_bytes_and_their_crc_come_back_through_the_rust_hdl_simulator() {
    const BYTES: &[u8] = &[0xa5, 0x03, 0x04, 0x00, 0x00, 0xff, 0x80, 0x01, 0x5a, 0x3c, 0x12, 0xe1];
    // The fewest clocks per bit the bridge takes, an odd divisor (its half bit rounds down), and
    // the iCEBreaker's 115200 baud at 12 MHz.
    loopback::<3>(4, BYTES, "uart-4.vcd");
    loopback::<3>(7, BYTES, "uart-7.vcd");
    loopback::<7>(104, &BYTES[..4], "uart-104.vcd");
}

/// Drive a receiver's line by hand: a byte, the same byte with its stop bit low, a glitch
/// shorter than half a bit, and the byte again. The receiver must give the byte twice.
#[test]
fn the_uart_receiver_drops_a_byte_without_its_stop_bit_and_ignores_a_glitch() {
    const D: u32 = 8;
    let mut uut = UartRx::<4>::new(D);
    uut.connect_all();
    let mut sim = Simulation::new();
    sim.add_clock(5, |x: &mut Box<UartRx<4>>| x.clk.next = !x.clk.val());
    sim.add_testbench(move |mut sim: Sim<UartRx<4>>| {
        let mut x = sim.init()?;
        x.rx.next = true;
        x.rst.next = true;
        wait_clock_cycles!(sim, clk, x, 3);
        x.rst.next = false;
        let frame = |b: u8, stop: bool| {
            let mut bits = vec![false];
            bits.extend((0..8).map(|k| b >> k & 1 == 1));
            bits.push(stop);
            bits.push(true); // idle
            bits
        };
        let mut line = frame(0x96, true);
        line.extend(frame(0x96, false));
        line.extend([true, true]);
        let glitch_at = line.len();
        line.extend(frame(0x96, true));
        let mut got = Vec::new();
        for (k, bit) in line.into_iter().enumerate() {
            if k == glitch_at {
                // Low for a quarter bit, then high again.
                x.rx.next = false;
                for _ in 0..D / 4 {
                    wait_clock_cycle!(sim, clk, x);
                    if x.valid.val() {
                        got.push(x.data.val().index() as u8);
                    }
                }
                x.rx.next = true;
                wait_clock_cycles!(sim, clk, x, 2 * D);
            }
            x.rx.next = bit;
            for _ in 0..D {
                wait_clock_cycle!(sim, clk, x);
                if x.valid.val() {
                    got.push(x.data.val().index() as u8);
                }
            }
        }
        wait_clock_cycles!(sim, clk, x, 2 * D);
        sim_assert_eq!(sim, got, vec![0x96u8, 0x96], x);
        sim.done(x)
    });
    let path = build_dir("shell").join("uart-rx-framing.vcd");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    sim.run_to_file(Box::new(uut), 200 * D as u64 * 10, path.to_str().unwrap()).unwrap();
}

/// Reset from configuration until 15 clocks after the PLL locks, whatever came before.
#[test]
fn the_power_on_reset_is_released_15_clocks_after_the_pll_locks() {
    let mut uut = PowerOnReset::default();
    uut.connect_all();
    let mut sim = Simulation::new();
    sim.add_clock(5, |x: &mut Box<PowerOnReset>| x.clk.next = !x.clk.val());
    sim.add_testbench(move |mut sim: Sim<PowerOnReset>| {
        let mut x = sim.init()?;
        x.lock.next = false;
        for _ in 0..40 {
            wait_clock_cycle!(sim, clk, x);
            sim_assert!(sim, x.rst.val(), x);
        }
        x.lock.next = true;
        for k in 1..=20 {
            wait_clock_cycle!(sim, clk, x);
            sim_assert_eq!(sim, x.rst.val(), k < 15, x);
        }
        // Once out of reset, a lost lock does not reset the core again.
        x.lock.next = false;
        wait_clock_cycles!(sim, clk, x, 5);
        sim_assert!(sim, !x.rst.val(), x);
        sim.done(x)
    });
    let path = build_dir("shell").join("por.vcd");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    sim.run_to_file(Box::new(uut), 100 * 10, path.to_str().unwrap()).unwrap();
}

#[test]
fn the_crc_block_matches_the_crc_crate_on_every_crc_and_byte() {
    let mut uut = Crc8::default();
    uut.connect_all();
    for c in 0..=255u8 {
        for b in 0..=255u8 {
            uut.crc.next = (c as u64).into();
            uut.data.next = (b as u64).into();
            assert!(simulate(&mut uut, 100), "the CRC block did not settle");
            // With init 0 and no reflection, one byte into the CRC c is the CRC of c ^ b.
            assert_eq!(
                uut.crc_next.val().index() as u8,
                CRC8.checksum(&[c ^ b]),
                "crc {c:#x} byte {b:#x}"
            );
        }
    }
}

/// rust-hdl's `yosys_validate` runs `yosys` from `PATH` in `$TMPDIR/<prefix>`: a shim to the
/// pinned Yosys first on `PATH`, and `TMPDIR` in the build folder. Once per test binary.
fn yosys_on_path() {
    static SHIM: OnceLock<()> = OnceLock::new();
    SHIM.get_or_init(|| {
        let dir = build_dir("shell").join("bin");
        std::fs::create_dir_all(&dir).unwrap();
        let shim = dir.join("yosys");
        let script = format!("#!/bin/sh\nexec '{}' \"$@\"\n", tools().yosys.display());
        std::fs::write(&shim, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![dir];
        paths.extend(std::env::split_paths(&path));
        std::env::set_var("PATH", std::env::join_paths(paths).unwrap());
        let tmp = build_dir("shell").join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        std::env::set_var("TMPDIR", tmp);
    });
}

#[test]
fn the_shell_blocks_pass_rust_hdl_yosys_validate() {
    yosys_on_path();
    let mut rx = UartRx::<7>::new(104);
    rx.connect_all();
    yosys_validate("sf_uart_rx", &generate_verilog(&rx)).unwrap();
    let mut tx = UartTx::<7>::new(104);
    tx.connect_all();
    yosys_validate("sf_uart_tx", &generate_verilog(&tx)).unwrap();
    let mut crc = Crc8::default();
    crc.connect_all();
    yosys_validate("sf_crc8", &generate_verilog(&crc)).unwrap();
    let mut por = PowerOnReset::default();
    por.connect_all();
    yosys_validate("sf_por", &generate_verilog(&por)).unwrap();
    let mut beat = Heartbeat::default();
    beat.connect_all();
    yosys_validate("sf_heartbeat", &generate_verilog(&beat)).unwrap();
    let mut lb = Loopback::<3>::new(4);
    lb.connect_all();
    yosys_validate("sf_loopback", &generate_verilog(&lb)).unwrap();
    let mut fsm = FrameMachine::<7>::new(&SPEC);
    fsm.connect_all();
    yosys_validate("sf_bridge_fsm", &generate_verilog(&fsm)).unwrap();
    // And the cleaned modules synforge writes: one per block (the flip-flops inlined), no `$`,
    // no `top`.
    let mods = synforge_rtl::bridge::frame_modules(&SPEC);
    let names: Vec<&str> = mods.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "sf_bridge_fsm",
            "sf_bridge_fsm_crc_rx",
            "sf_bridge_fsm_crc_tx",
            "sf_bridge_fsm_u_rx",
            "sf_bridge_fsm_u_tx"
        ]
    );
    for (n, t) in &mods {
        assert!(!t.contains("$") && !t.contains("module top"), "{n}:\n{t}");
    }
}

/// `SB_PLL40_PAD` as a box for `yosys_validate` (a vendor primitive: its model is in the
/// synthesis tool's library, not in the design).
const PLL_BOX: &str = "
(* blackbox *)
module SB_PLL40_PAD(PACKAGEPIN, PLLOUTGLOBAL, BYPASS, RESETB, LOCK);
    parameter FEEDBACK_PATH = \"SIMPLE\";
    parameter DIVR = 4'd0;
    parameter DIVF = 7'd0;
    parameter DIVQ = 3'd0;
    parameter FILTER_RANGE = 3'd0;
    input PACKAGEPIN, BYPASS, RESETB;
    output PLLOUTGLOBAL, LOCK;
endmodule
";

#[test]
fn the_board_top_passes_rust_hdl_yosys_validate_with_its_pll_core_and_bridge() {
    use synforge_rtl::board_top::{self, TopSpec};
    yosys_on_path();
    let net = synforge_sim::Config::builtin_default().build().unwrap();
    let design = synforge_rtl::generate(&net, "h").unwrap();
    // The iCEBreaker's top: 12 MHz to 24 MHz on the pad PLL, three LEDs.
    let spec = TopSpec {
        pll: Some(synforge_rtl::board::Family::Ice40),
        pll_pad: true,
        board_hz: 12e6,
        core_hz: 24e6,
        baud: 115_200,
        leds: vec![true, true, false],
    };
    let top = board_top::rust_hdl_text(&design, &spec).unwrap();
    assert!(top.contains("SB_PLL40_PAD") && top.contains("module top$network("), "{top}");
    // rust-hdl's text, the modules it wraps as synforge writes them (core, bridge), the PLL's
    // box: every module the hierarchy check looks for.
    let (files, _) = board_top::generate(&design, &spec, "h").unwrap();
    let mut text = top;
    for (f, t) in design.files.iter().chain(&files) {
        if f.ends_with(".v") && !f.starts_with("synforge_board_top") {
            text.push_str(t);
        }
    }
    text.push_str(PLL_BOX);
    yosys_validate("sf_board_top", &text).unwrap();
}
