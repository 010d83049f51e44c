//! The bridge's frame machine (`sf_bridge_fsm`) in rust-hdl's own simulator, against the
//! host side of the protocol (`protocol.rs`): the testbench encodes each command with
//! `Command::encode`, drives `uart_rx` bit by bit, decodes `uart_tx` bit by bit and reads the
//! response with `read_response`. A fake core answers the memory-mapped reads (two clocks
//! late), keeps the writes, and runs steps (busy, output spikes, done). Every command, every
//! refusal and the truncation timeout; a VCD of each run goes to the build folder.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use crc::{Crc, CRC_8_SMBUS};
use rust_hdl::prelude::*;
use synforge_rtl::bridge::BridgeSpec;
use synforge_rtl::deploy::shell::frame::{FrameMachine, TIMEOUT_BITS};
use synforge_rtl::protocol::{read_response, Command, Refusal, Response};

use crate::build_dir;

const CRC8: Crc<u8> = Crc::<u8>::new(&CRC_8_SMBUS);

/// The modulator's register (`layout::MOD_REG_INDEX`), as the frame machine addresses it.
const MOD_REG: u32 = synforge_rtl::layout::MOD_REG_INDEX;

/// The frame machine with the frame and spike RAMs (rust-hdl's `RAM`, read latency 1 as
/// `sf_ram_*`), the core's ports left to the testbench.
#[derive(LogicBlock)]
struct Bench<const W: usize> {
    clk: Signal<In, Clock>,
    rst: Signal<In, Bit>,
    uart_rx: Signal<In, Bit>,
    uart_tx: Signal<Out, Bit>,
    busy: Signal<In, Bit>,
    done: Signal<In, Bit>,
    out_valid: Signal<In, Bit>,
    out_index: Signal<In, Bits<16>>,
    mm_rdata: Signal<In, Bits<32>>,
    mm_rvalid: Signal<In, Bit>,
    in_valid: Signal<Out, Bit>,
    in_index: Signal<Out, Bits<16>>,
    step: Signal<Out, Bit>,
    mm_addr: Signal<Out, Bits<32>>,
    mm_wdata: Signal<Out, Bits<32>>,
    mm_we: Signal<Out, Bit>,
    mm_re: Signal<Out, Bit>,
    error_seen: Signal<Out, Bit>,
    fsm: FrameMachine<W>,
    frame: RAM<Bits<8>, 16>,
    spikes: RAM<Bits<16>, 16>,
}

impl<const W: usize> Logic for Bench<W> {
    #[hdl_gen]
    fn update(&mut self) {
        self.fsm.clk.next = self.clk.val();
        self.fsm.rst.next = self.rst.val();
        self.fsm.uart_rx.next = self.uart_rx.val();
        self.uart_tx.next = self.fsm.uart_tx.val();
        self.fsm.busy.next = self.busy.val();
        self.fsm.done.next = self.done.val();
        self.fsm.out_valid.next = self.out_valid.val();
        self.fsm.mm_rdata.next = self.mm_rdata.val();
        self.fsm.mm_rvalid.next = self.mm_rvalid.val();
        self.in_valid.next = self.fsm.in_valid.val();
        self.in_index.next = self.fsm.in_index.val();
        self.step.next = self.fsm.step.val();
        self.mm_addr.next = self.fsm.mm_addr.val();
        self.mm_wdata.next = self.fsm.mm_wdata.val();
        self.mm_we.next = self.fsm.mm_we.val();
        self.mm_re.next = self.fsm.mm_re.val();
        self.error_seen.next = self.fsm.error_seen.val();
        self.frame.read_clock.next = self.clk.val();
        self.frame.write_clock.next = self.clk.val();
        self.frame.write_enable.next = self.fsm.fb_we.val();
        self.frame.write_address.next = self.fsm.fb_wa.val();
        self.frame.write_data.next = self.fsm.fb_wd.val();
        self.frame.read_address.next = self.fsm.fb_ra.val();
        self.fsm.fb_rd.next = self.frame.read_data.val();
        self.spikes.read_clock.next = self.clk.val();
        self.spikes.write_clock.next = self.clk.val();
        self.spikes.write_enable.next = self.fsm.sp_we.val();
        self.spikes.write_address.next = self.fsm.sp_wa.val();
        self.spikes.write_data.next = self.out_index.val();
        self.spikes.read_address.next = self.fsm.sp_ra.val();
        self.fsm.sp_rd.next = self.spikes.read_data.val();
    }
}

impl<const W: usize> Bench<W> {
    fn new(spec: &BridgeSpec) -> Self {
        Self {
            clk: Default::default(),
            rst: Default::default(),
            uart_rx: Default::default(),
            uart_tx: Default::default(),
            busy: Default::default(),
            done: Default::default(),
            out_valid: Default::default(),
            out_index: Default::default(),
            mm_rdata: Default::default(),
            mm_rvalid: Default::default(),
            in_valid: Default::default(),
            in_index: Default::default(),
            step: Default::default(),
            mm_addr: Default::default(),
            mm_wdata: Default::default(),
            mm_we: Default::default(),
            mm_re: Default::default(),
            error_seen: Default::default(),
            fsm: FrameMachine::new(spec),
            frame: Default::default(),
            spikes: Default::default(),
        }
    }
}

/// What one frame did: the response, and what reached the core while it was handled.
#[derive(Debug, Default)]
struct Outcome {
    response: Option<Response>,
    /// `in_valid` events, in order.
    events: Vec<u16>,
    /// Memory-mapped writes, in order.
    writes: Vec<(u32, u32)>,
    /// Memory-mapped reads, in order.
    reads: Vec<u32>,
    /// Step strobes.
    steps: u32,
    /// Clocks from the frame's last byte sent to the response's first start bit.
    answer_after: u64,
    /// `error_seen` after the response.
    error_seen: bool,
}

/// The word the fake core answers a read of `addr` it has no write for.
fn unwritten(addr: u32) -> u32 {
    addr.wrapping_mul(0x9e37_79b1) ^ 0x5a5a_0000
}

/// The spikes the fake core's step gives for `events`: each distinct input below `neurons`,
/// ascending.
fn model_spikes(events: &[u16], neurons: u32) -> Vec<u16> {
    let mut s: Vec<u16> = events.iter().copied().filter(|&i| (i as u32) < neurons).collect();
    s.sort_unstable();
    s.dedup();
    s
}

/// Clocks from the step strobe to `done` that the fake core takes for `spikes` spikes: a spike
/// every 3 clocks from the second, then 4 more. The bridge reports this as the step's cycles.
fn step_clocks(spikes: usize) -> u32 {
    3 * spikes as u32 + 4
}

/// The host's UART and the fake core, one call per clock (after its rising edge).
struct Tb {
    d: u64,
    neurons: u32,
    /// Line levels still to drive, one per clock.
    line: VecDeque<bool>,
    /// The bridge's line: decoder state (clocks into a byte, or none), bits so far.
    rx_at: Option<u64>,
    rx_bits: u16,
    got: Vec<u8>,
    first_start: Option<u64>,
    mem: BTreeMap<u32, u32>,
    /// Reads in flight: clocks left, address.
    pending: VecDeque<(u32, u32)>,
    /// A step in progress: clocks since its strobe, its spikes.
    stepping: Option<(u32, Vec<u16>)>,
    events_since_step: Vec<u16>,
    now: u64,
    out: Outcome,
}

impl Tb {
    /// `bytes` on the line; `gap`: the line idle for that many clocks after byte `k`.
    fn send(&mut self, bytes: &[u8], gap: Option<(usize, u64)>) {
        for (k, &b) in bytes.iter().enumerate() {
            let bits = std::iter::once(false)
                .chain((0..8).map(|k| b >> k & 1 == 1))
                .chain(std::iter::once(true));
            for bit in bits {
                self.line.extend(std::iter::repeat_n(bit, self.d as usize));
            }
            if let Some((_, clocks)) = gap.filter(|&(at, _)| at == k) {
                self.line.extend(std::iter::repeat_n(true, clocks as usize));
            }
        }
    }

    /// The response, once its last byte is in.
    fn response(&self) -> Option<Response> {
        let start = self.got.iter().position(|&b| b == 0x5a)?;
        let f = &self.got[start..];
        if f.len() < 4 {
            return None;
        }
        let len = u16::from_le_bytes([f[2], f[3]]) as usize;
        (f.len() >= 5 + len).then(|| read_response(&mut &f[..5 + len]).expect("a response frame"))
    }

    fn tick<const W: usize>(&mut self, x: &mut Box<Bench<W>>) {
        self.now += 1;
        // The host's line.
        x.uart_rx.next = self.line.pop_front().unwrap_or(true);
        // The bridge's line, sampled mid-bit.
        let tx = x.uart_tx.val();
        match self.rx_at {
            None if !tx => {
                self.rx_at = Some(0);
                self.first_start.get_or_insert(self.now);
            }
            None => {}
            Some(t) => {
                let t = t + 1;
                self.rx_at = Some(t);
                let mid = self.d / 2;
                if t >= mid && (t - mid) % self.d == 0 {
                    let k = (t - mid) / self.d; // 0 start, 1..=8 data, 9 stop
                    if k == 0 {
                        assert!(!tx, "a start bit that did not last");
                        self.rx_bits = 0;
                    } else if k <= 8 {
                        self.rx_bits |= (tx as u16) << (k - 1);
                    } else {
                        assert!(tx, "a byte without its stop bit");
                        self.got.push(self.rx_bits as u8);
                        self.rx_at = None;
                    }
                }
            }
        }
        // The core: reads answered two clocks late, writes kept, events and steps.
        x.mm_rvalid.next = false;
        for p in self.pending.iter_mut() {
            p.0 -= 1;
        }
        if let Some(&(0, addr)) = self.pending.front() {
            self.pending.pop_front();
            x.mm_rvalid.next = true;
            x.mm_rdata.next = (*self.mem.get(&addr).unwrap_or(&unwritten(addr)) as u64).into();
        }
        if x.mm_re.val() {
            let addr = x.mm_addr.val().index() as u32;
            self.out.reads.push(addr);
            self.pending.push_back((2, addr));
        }
        if x.mm_we.val() {
            let (a, w) = (x.mm_addr.val().index() as u32, x.mm_wdata.val().index() as u32);
            self.mem.insert(a, w);
            self.out.writes.push((a, w));
        }
        if x.in_valid.val() {
            let i = x.in_index.val().index() as u16;
            self.out.events.push(i);
            self.events_since_step.push(i);
        }
        x.out_valid.next = false;
        x.done.next = false;
        if x.step.val() {
            self.out.steps += 1;
            let spikes = model_spikes(&self.events_since_step, self.neurons);
            self.events_since_step.clear();
            self.stepping = Some((0, spikes));
            x.busy.next = true;
        }
        if let Some((t, spikes)) = &mut self.stepping {
            // The clock after the strobe's is t = 0.
            let k = *t as usize;
            if k >= 1 && (k - 1) % 3 == 0 && (k - 1) / 3 < spikes.len() {
                x.out_valid.next = true;
                x.out_index.next = (spikes[(k - 1) / 3] as u64).into();
            }
            if *t == step_clocks(spikes.len()) {
                x.done.next = true;
                x.busy.next = false;
                self.stepping = None;
            } else {
                *t += 1;
            }
        }
    }
}

/// Each frame of `frames` sent in turn (the next once the previous one's response is in, or
/// after `quiet` clocks without one), through a bridge for `spec` at 5 clocks a bit.
fn run(spec: BridgeSpec, frames: Vec<Vec<u8>>, vcd: &str) -> Vec<Outcome> {
    run_with_gaps(spec, frames.into_iter().map(|f| (f, None)).collect(), vcd)
}

/// A frame and an optional idle gap: `(k, clocks)` after its byte `k`.
type Gapped = (Vec<u8>, Option<(usize, u64)>);

/// [`run`], each frame with an optional idle gap.
fn run_with_gaps(spec: BridgeSpec, frames: Vec<Gapped>, vcd: &str) -> Vec<Outcome> {
    assert_eq!(spec.divisor, 5);
    let mut uut = Bench::<3>::new(&spec);
    uut.connect_all();
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let keep = outcomes.clone();
    let mut sim = Simulation::new();
    sim.add_clock(5, |x: &mut Box<Bench<3>>| x.clk.next = !x.clk.val());
    let d = spec.divisor as u64;
    // A response comes within 64 byte times of the frame's end, the truncation timeout.
    let quiet = (TIMEOUT_BITS + 20) * d + 2000;
    let neurons = spec.neurons;
    sim.add_testbench(move |mut sim: Sim<Bench<3>>| {
        let mut x = sim.init()?;
        let mut tb = Tb {
            d,
            neurons,
            line: VecDeque::new(),
            rx_at: None,
            rx_bits: 0,
            got: Vec::new(),
            first_start: None,
            mem: BTreeMap::new(),
            pending: VecDeque::new(),
            stepping: None,
            events_since_step: Vec::new(),
            now: 0,
            out: Outcome::default(),
        };
        x.uart_rx.next = true;
        x.rst.next = true;
        // The core's init: busy for 400 clocks after reset (the first frame, 250 clocks long,
        // waits in EXEC).
        x.busy.next = true;
        wait_clock_cycles!(sim, clk, x, 3);
        x.rst.next = false;
        for (n, (f, gap)) in frames.iter().enumerate() {
            tb.send(f, *gap);
            let sent_at = tb.now + tb.line.len() as u64;
            loop {
                wait_clock_cycle!(sim, clk, x);
                tb.tick(&mut x);
                if n == 0 && tb.now == 400 {
                    x.busy.next = false;
                }
                if let Some(r) = tb.response() {
                    tb.out.response = Some(r);
                    tb.out.answer_after = tb.first_start.unwrap_or(0).saturating_sub(sent_at);
                    break;
                }
                if tb.now > sent_at + quiet {
                    break;
                }
            }
            // Let the core finish what it was doing, and the line go idle.
            wait_clock_cycles!(sim, clk, x, 4);
            tb.out.error_seen = x.error_seen.val();
            let out = std::mem::take(&mut tb.out);
            keep.lock().unwrap().push(out);
            tb.got.clear();
            tb.first_start = None;
        }
        sim.done(x)
    });
    let path = build_dir("shell").join(vcd);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    sim.run_to_file(Box::new(uut), 2_000_000_000, path.to_str().unwrap()).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("$var") && text.contains("state"), "{}", path.display());
    let out = std::mem::take(&mut *outcomes.lock().unwrap());
    out
}

/// A frame as `protocol.rs` frames it, for codes and payloads no `Command` makes.
fn raw(code: u8, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u16;
    let mut f = vec![0xa5, code, len as u8, (len >> 8) as u8];
    f.extend_from_slice(payload);
    f.push(CRC8.checksum(&f[1..]));
    f
}

const SPEC: BridgeSpec = BridgeSpec {
    divisor: 5,
    input_index_bits: 7,
    neuron_index_bits: 5,
    inputs: 100,
    neurons: 20,
    modulator: true,
};

#[test]
fn the_frame_machine_answers_every_command_as_protocol_rs_encodes_and_decodes_them() {
    let step = Command::Step { inputs: vec![3, 17, 3, 99, 0] };
    let cases: Vec<(Command, Response)> = vec![
        (Command::Ping, Response::Info { inputs: 100, neurons: 20 }),
        (Command::Write { addr: 0x1000_0007, data: 0xdead_beef }, Response::Ack),
        (Command::Read { addr: 0x1000_0007 }, Response::Data(0xdead_beef)),
        (Command::Read { addr: 0x2000_0001 }, Response::Data(unwritten(0x2000_0001))),
        (step, Response::Stepped { cycles: step_clocks(3), spikes: vec![0, 3, 17] }),
        (
            Command::Step { inputs: vec![] },
            Response::Stepped { cycles: step_clocks(0), spikes: vec![] },
        ),
        (
            Command::StepMod { r: 0xfff0, inputs: vec![19, 2] },
            Response::Stepped { cycles: step_clocks(2), spikes: vec![2, 19] },
        ),
        (
            Command::StepMod { r: 0x0123, inputs: vec![] },
            Response::Stepped { cycles: step_clocks(0), spikes: vec![] },
        ),
        (
            Command::WriteBurst { addr: 0x3000_0010, words: vec![1, 0x8000_0000, 0x1234_5678] },
            Response::Ack,
        ),
        (
            Command::ReadBurst { addr: 0x3000_000f, count: 5 },
            Response::Words(vec![
                unwritten(0x3000_000f),
                1,
                0x8000_0000,
                0x1234_5678,
                unwritten(0x3000_0013),
            ]),
        ),
        (Command::ReadBurst { addr: 0x1000_0007, count: 1 }, Response::Words(vec![0xdead_beef])),
    ];
    let frames: Vec<Vec<u8>> = cases.iter().map(|(c, _)| c.encode()).collect();
    let out = run(SPEC, frames, "bridge-commands.vcd");
    assert_eq!(out.len(), cases.len());
    for ((cmd, want), got) in cases.iter().zip(&out) {
        assert_eq!(got.response.as_ref(), Some(want), "{cmd:?}: {got:?}");
        assert!(!got.error_seen, "{cmd:?}");
        // What reached the core.
        match cmd {
            Command::Write { addr, data } => assert_eq!(got.writes, [(*addr, *data)]),
            Command::Read { addr } => assert_eq!(got.reads, [*addr]),
            Command::Step { inputs } => {
                assert_eq!(got.events, *inputs);
                assert_eq!(got.steps, 1);
                assert!(got.writes.is_empty());
            }
            Command::StepMod { r, inputs } => {
                assert_eq!(got.events, *inputs);
                assert_eq!(got.steps, 1);
                assert_eq!(got.writes, [(MOD_REG, *r as i16 as i32 as u32)]);
            }
            Command::WriteBurst { addr, words } => {
                let want: Vec<(u32, u32)> =
                    words.iter().enumerate().map(|(k, &w)| (addr + k as u32, w)).collect();
                assert_eq!(got.writes, want);
            }
            Command::ReadBurst { addr, count } => {
                let want: Vec<u32> = (0..*count as u32).map(|k| addr + k).collect();
                assert_eq!(got.reads, want);
            }
            Command::Ping => {}
        }
        if !matches!(cmd, Command::Step { .. } | Command::StepMod { .. }) {
            assert!(got.events.is_empty() && got.steps == 0, "{cmd:?}");
        }
    }
}

#[test]
fn the_frame_machine_refuses_bad_frames_and_changes_nothing() {
    let mut bad_crc = Command::Write { addr: 1, data: 2 }.encode();
    *bad_crc.last_mut().unwrap() ^= 0x40;
    let truncated = Command::Write { addr: 1, data: 2 }.encode()[..7].to_vec();
    // Refused at its length, while its payload still comes in: the bridge then skips bytes
    // until a sync byte, so its CRC must not be one.
    let too_long_for_the_buffer = raw(0x03, &[0; 258]);
    assert_ne!(too_long_for_the_buffer.last(), Some(&0xa5));
    let cases: Vec<(&str, Vec<u8>, Refusal)> = vec![
        ("corrupt CRC", bad_crc, Refusal::Crc),
        ("truncated write", truncated, Refusal::Truncated),
        // Truncated in every state of the header and at the CRC.
        ("truncated after the sync byte", vec![0xa5], Refusal::Truncated),
        ("truncated after the command", vec![0xa5, 0x01], Refusal::Truncated),
        ("truncated in the length", vec![0xa5, 0x01, 0x08], Refusal::Truncated),
        ("truncated before the CRC", raw(0x01, &[0; 8])[..12].to_vec(), Refusal::Truncated),
        ("unknown command 0x07", raw(0x07, &[]), Refusal::UnknownCommand),
        ("read of 3 bytes", raw(0x02, &[1, 2, 3]), Refusal::BadLength),
        ("write of 4 bytes", raw(0x01, &[1, 2, 3, 4]), Refusal::BadLength),
        ("step of an odd length", raw(0x03, &[1, 0, 2]), Refusal::BadLength),
        ("step longer than every input", raw(0x03, &[0; 202]), Refusal::BadLength),
        ("payload longer than the buffer", too_long_for_the_buffer, Refusal::BadLength),
        (
            "step naming input 100 of 100",
            Command::Step { inputs: vec![5, 100] }.encode(),
            Refusal::BadIndex,
        ),
        ("step naming input 0x0105", raw(0x03, &[5, 1]), Refusal::BadIndex),
        (
            "modulated step naming input 100",
            Command::StepMod { r: 7, inputs: vec![100] }.encode(),
            Refusal::BadIndex,
        ),
        ("modulated step without its value", raw(0x06, &[]), Refusal::BadLength),
        (
            "burst read of 0 words",
            Command::ReadBurst { addr: 0, count: 0 }.encode(),
            Refusal::BadLength,
        ),
        (
            "burst read of 8192 words",
            Command::ReadBurst { addr: 0, count: 8192 }.encode(),
            Refusal::BadLength,
        ),
        ("burst write of no word", raw(0x05, &[0, 0, 0, 0]), Refusal::BadLength),
        ("burst write of 10 bytes", raw(0x05, &[0; 10]), Refusal::BadLength),
    ];
    // Noise before a frame is skipped; the last frame shows the bridge still answers.
    let mut frames: Vec<Vec<u8>> = cases.iter().map(|(_, f, _)| f.clone()).collect();
    let mut ping = vec![0x00, 0x13, 0x5a];
    ping.extend(Command::Ping.encode());
    frames.push(ping);
    let out = run(SPEC, frames, "bridge-refusals.vcd");
    assert_eq!(out.len(), cases.len() + 1);
    for ((what, _, why), got) in cases.iter().zip(&out) {
        assert_eq!(got.response, Some(Response::Refused(*why)), "{what}: {got:?}");
        assert!(got.error_seen, "{what}");
        assert!(
            got.events.is_empty()
                && got.writes.is_empty()
                && got.reads.is_empty()
                && got.steps == 0,
            "{what}: {got:?}"
        );
    }
    // A truncated frame is answered 64 byte times after its last byte: 640 d + 8 clocks from
    // the end of its stop bit (the count starts when that byte is received, mid stop bit, and
    // the answer's start bit goes out a few states later). A clock either way, not a bit time:
    // one bit time early or late is d = 5 clocks off. Cases 1 to 5 are the truncated ones.
    let d = SPEC.divisor as u64;
    for (k, (what, _, why)) in cases.iter().enumerate().take(6).skip(1) {
        assert_eq!(*why, Refusal::Truncated, "{what}");
        let t = out[k].answer_after;
        assert!(
            (TIMEOUT_BITS * d + 7..=TIMEOUT_BITS * d + 9).contains(&t),
            "{what}: answered after {t} clocks"
        );
    }
    assert_eq!(out.last().unwrap().response, Some(Response::Info { inputs: 100, neurons: 20 }));
}

#[test]
fn without_the_modulator_a_modulated_step_is_an_unknown_command() {
    let spec = BridgeSpec { modulator: false, ..SPEC };
    let frames = vec![
        Command::StepMod { r: 1, inputs: vec![2] }.encode(),
        Command::Step { inputs: vec![2] }.encode(),
    ];
    let out = run(spec, frames, "bridge-no-modulator.vcd");
    assert_eq!(out[0].response, Some(Response::Refused(Refusal::UnknownCommand)));
    assert!(out[0].events.is_empty() && out[0].writes.is_empty());
    assert_eq!(
        out[1].response,
        Some(Response::Stepped { cycles: step_clocks(1), spikes: vec![2] })
    );
}

#[test]
fn a_pause_just_inside_the_timeout_is_accepted_and_one_just_past_it_truncates() {
    let d = SPEC.divisor as u64;
    let write = Command::Write { addr: 0x1000_0002, data: 77 }.encode();
    // 64 byte times without a byte (docs/protocol.md): the count starts as a byte is received
    // (mid stop bit) and restarts as the next one is, 10 bit times after its start bit. So an
    // idle line between two bytes (stop bit's end to start bit) is accepted up to 640 - 10 bit
    // times: 2 bit times less passes, 2 more truncates.
    let frames = vec![
        (write.clone(), Some((5, (TIMEOUT_BITS - 10 - 2) * d))),
        (write.clone(), Some((5, (TIMEOUT_BITS - 10 + 2) * d))),
        (Command::Read { addr: 0x1000_0002 }.encode(), None),
    ];
    let out = run_with_gaps(SPEC, frames, "bridge-gaps.vcd");
    assert_eq!(out[0].response, Some(Response::Ack), "{:?}", out[0]);
    assert_eq!(out[0].writes, [(0x1000_0002, 77)]);
    assert_eq!(out[1].response, Some(Response::Refused(Refusal::Truncated)), "{:?}", out[1]);
    assert!(out[1].writes.is_empty());
    // The rest of the truncated frame, arriving late, was skipped (no sync byte in it).
    assert_eq!(out[2].response, Some(Response::Data(77)), "{:?}", out[2]);
}
