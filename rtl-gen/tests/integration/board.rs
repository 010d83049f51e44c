//! The board top in Verilator, driven through the host protocol code that drives a real
//! board: parameters, init, weights, steps (spikes and cycles against the model), and frames
//! that must be refused without changing anything.

use synforge_rtl::core::REGION_WEIGHTS;
use synforge_rtl::cycles::{self, Shape};
use synforge_rtl::protocol::{Command, Host, Refusal, Response};
use synforge_rtl::simboard::{SimBoard, SimLink};
use synforge_rtl::Layout;
use synforge_sim::model::{FixedModel, Model};
use synforge_sim::{Config, Network};

use crate::{build_dir, tools};

/// The Verilator board top of `net`, built in the build folder `dir` (kept between runs),
/// connected, its parameters written and its state initialised. The board outlives the host.
pub(crate) fn started(net: &Network, dir: &str) -> (SimBoard, Host<SimLink>) {
    started_stamped(net, dir, None)
}

/// [`started`], the simulation writing the clock of every byte on the line to `stamps`.
fn started_stamped(
    net: &Network,
    dir: &str,
    stamps: Option<&std::path::Path>,
) -> (SimBoard, Host<SimLink>) {
    let board = SimBoard::build(net, &build_dir(dir), &tools()).unwrap_or_else(|e| panic!("{e}"));
    let mut host = board.connect_stamped(stamps).unwrap();
    for r in Layout::new(net).unwrap().regs {
        host.write(r.index, r.value as u32).unwrap();
    }
    host.write(0, 1).unwrap(); // init
    (board, host)
}

/// Write the model's initial weights into the board; returns them.
pub(crate) fn load_weights(host: &mut Host<SimLink>, net: &Network) -> Vec<u16> {
    let w0 = FixedModel::new(net).weights_raw();
    let (m, n) = (net.inputs(), net.neurons());
    for j in 0..n {
        for i in 0..m {
            host.write(REGION_WEIGHTS << 28 | (j * m + i) as u32, w0[i * n + j] as u32).unwrap();
        }
    }
    w0
}

#[test]
fn the_board_top_runs_steps_like_the_model_and_refuses_bad_frames() {
    let net = Config::builtin_default().build().unwrap();
    let (_board, mut host) = started(&net, "board-default");
    assert_eq!(host.ping().unwrap(), (64, 16));
    let w0 = load_weights(&mut host, &net);
    let (m, n) = (net.inputs(), net.neurons());
    assert_eq!(host.read(REGION_WEIGHTS << 28 | 5).unwrap(), w0[5 * n] as u32);

    // Refused frames change nothing.
    let addr = REGION_WEIGHTS << 28 | 7;
    let before = host.read(addr).unwrap();
    let mut corrupt = Command::Write { addr, data: before ^ 1 }.encode();
    corrupt[6] ^= 0x10;
    host.send_raw(&corrupt).unwrap();
    assert_eq!(host.receive().unwrap(), Response::Refused(Refusal::Crc));
    let truncated = Command::Write { addr, data: before ^ 1 }.encode();
    host.send_raw(&truncated[..6]).unwrap();
    assert_eq!(host.receive().unwrap(), Response::Refused(Refusal::Truncated));
    let mut unknown = Command::Ping.encode();
    unknown[1] = 0x7f;
    let crc = crc::Crc::<u8>::new(&crc::CRC_8_SMBUS).checksum(&unknown[1..4]);
    unknown[4] = crc;
    host.send_raw(&unknown).unwrap();
    assert_eq!(host.receive().unwrap(), Response::Refused(Refusal::UnknownCommand));
    assert_eq!(host.read(addr).unwrap(), before, "a refused frame changed a weight");

    // Steps: spikes and cycles as the model and the cycle model say.
    let mut spec = net.cfg.stimulus.clone();
    spec.steps = 300;
    let stim = spec.generate(&net.cfg).unwrap();
    let mut model = FixedModel::with_weights(&net, &w0);
    let shape = Shape::of(&net);
    let mut spikes = 0;
    for t in 0..stim.steps() {
        let (cyc, got) = host.step(stim.at(t)).unwrap();
        let want: Vec<u16> = model.step(stim.at(t)).iter().map(|&j| j as u16).collect();
        assert_eq!(got, want, "step {t}: output spikes");
        let c = cycles::step(shape, stim.at(t).len() as u64, &model_spikes(&want), false);
        assert_eq!(cyc as u64, c.done, "step {t}: cycles");
        spikes += want.len();
    }
    assert!(spikes > 10);
    let w = model.weights_raw();
    for (a, (i, j)) in
        [(0usize, 0usize), (3, 2), (63, 15)].iter().map(|&(i, j)| (j * m + i, (i, j)))
    {
        assert_eq!(host.read(REGION_WEIGHTS << 28 | a as u32).unwrap(), w[i * n + j] as u32);
    }
}

fn model_spikes(s: &[u16]) -> Vec<u32> {
    s.iter().map(|&j| j as u32).collect()
}

/// The bridge once ended a frame's payload when the low 8 bits of its byte count matched the
/// length's: on a core of more than 128 inputs a step of more than 127 events (a frame of more
/// than 255 bytes) was cut short and refused, or worse, misread.
#[test]
fn a_step_frame_longer_than_255_bytes_is_carried_out_whole() {
    let mut cfg = Config::builtin_default();
    cfg.network.name = "wide".into();
    cfg.network.inputs = 200;
    cfg.network.neurons = 2;
    cfg.neuron.inhibition = 0.0;
    let net = cfg.build().unwrap();
    let (_board, mut host) = started(&net, "board-wide");
    assert_eq!(host.ping().unwrap(), (200, 2));
    let w0 = load_weights(&mut host, &net);
    let (m, n) = (net.inputs(), net.neurons());
    let mut model = FixedModel::with_weights(&net, &w0);
    let shape = Shape::of(&net);
    let mut spikes = 0;
    for t in 0..40u32 {
        // 130 to 199 distinct inputs: frames of 260 to 398 bytes.
        let k = 130 + (t * 37) % 70;
        let pre: Vec<u32> = (0..m as u32).filter(|i| (i * 7 + t) % 200 < k).collect();
        assert!(2 * pre.len() > 255, "step {t}: a frame longer than 255 bytes");
        let (cyc, got) = host.step(&pre).unwrap_or_else(|e| panic!("step {t}: {e}"));
        let want: Vec<u16> = model.step(&pre).iter().map(|&j| j as u16).collect();
        assert_eq!(got, want, "step {t}: output spikes");
        let c = cycles::step(shape, pre.len() as u64, &model_spikes(&want), false);
        assert_eq!(cyc as u64, c.done, "step {t}: cycles");
        spikes += want.len();
    }
    assert!(spikes > 5, "the neurons fire, so plasticity reads every input's trace: {spikes}");
    let w = model.weights_raw();
    for j in 0..n {
        for i in 0..m {
            let got = host.read(REGION_WEIGHTS << 28 | (j * m + i) as u32).unwrap();
            assert_eq!(got, w[i * n + j] as u32, "weight ({i}, {j})");
        }
    }
}

/// Burst frames: a burst write sets what single writes set, a burst read returns what single
/// reads return, and bursts the bridge cannot carry out are refused without a change. Then a
/// state saved from the model, loaded into the board top in bursts, continues with the model's
/// spikes and cycles, and the state read back in bursts is the model's (model -> board -> model).
#[test]
fn bursts_carry_a_saved_state_into_the_board_top_and_back() {
    use synforge_rtl::port_state;
    use synforge_rtl::protocol::{
        burst_read_clocks, max_burst_write, read_burst_clocks, MAX_BURST_READ,
    };
    use synforge_rtl::simboard::SIM_DIVISOR;
    use synforge_sim::state::State;

    let net = Config::builtin_default().build().unwrap();
    let l = Layout::new(&net).unwrap();
    let stamps = build_dir("board-default").join("stamps-bursts.txt");
    let (_board, mut host) = started_stamped(&net, "board-default", Some(&stamps));
    let (m, n) = (net.inputs(), net.neurons());
    let per_frame = max_burst_write(m as u32);
    assert_eq!(per_frame, 31, "the default network's 128-byte frame buffer");

    // The model runs 400 steps; its state goes through a file.
    let mut spec = net.cfg.stimulus.clone();
    spec.steps = 1000;
    let stim = spec.generate(&net.cfg).unwrap();
    let mut model = FixedModel::new(&net);
    for t in 0..400 {
        model.step(stim.at(t));
    }
    let init = model.state().into_iter().find(|q| q.name == "weight").unwrap().values;
    let bytes =
        State::of(&net, &model, synforge_sim::model::ModelKind::Fixed, init).to_bytes().unwrap();
    let saved = State::from_bytes(&bytes).unwrap();
    let mut from = FixedModel::new(&net);
    from.set_state(saved.step, &saved.quantities).unwrap();

    // Into the board: weights, then every word and register of the state, in bursts.
    let words = port_state::weight_words(&l, &from);
    host.write_burst(REGION_WEIGHTS << 28, &words, per_frame).unwrap();
    for (addr, w) in port_state::state_writes(&l, &net, &from) {
        host.write_burst(addr, &w, per_frame).unwrap();
    }
    // A burst read is what single reads are.
    let got = host.read_burst(REGION_WEIGHTS << 28, m * n).unwrap();
    assert_eq!(got, words);
    for a in [0u32, 1, 37, (m * n - 1) as u32] {
        assert_eq!(host.read(REGION_WEIGHTS << 28 | a).unwrap(), words[a as usize]);
    }

    // Refused bursts change nothing: a count of 0 or over the most, a write of a length that
    // is not whole words, a corrupt one.
    let crc = crc::Crc::<u8>::new(&crc::CRC_8_SMBUS);
    for count in [0u16, MAX_BURST_READ + 1] {
        let r = host.transact(&Command::ReadBurst { addr: REGION_WEIGHTS << 28, count }).unwrap();
        assert_eq!(r, Response::Refused(Refusal::BadLength), "burst read of {count}");
    }
    let mut short = Command::WriteBurst { addr: REGION_WEIGHTS << 28, words: vec![7, 7] }.encode();
    short.truncate(short.len() - 3); // 10 payload bytes: the address and one and a half words
    short[2] = 10;
    let c = crc.checksum(&short[1..]);
    short.push(c);
    host.send_raw(&short).unwrap();
    assert_eq!(host.receive().unwrap(), Response::Refused(Refusal::BadLength));
    let mut bad = Command::WriteBurst { addr: REGION_WEIGHTS << 28, words: vec![9; 4] }.encode();
    bad[9] ^= 0x40;
    host.send_raw(&bad).unwrap();
    assert_eq!(host.receive().unwrap(), Response::Refused(Refusal::Crc));
    assert_eq!(host.read_burst(REGION_WEIGHTS << 28, 8).unwrap(), words[..8].to_vec());

    // It continues as the model does, from step 400.
    let shape = Shape::of(&net);
    let mut whole = FixedModel::new(&net);
    for t in 0..400 {
        whole.step(stim.at(t));
    }
    for t in 400..stim.steps() {
        let (cyc, got) = host.step(stim.at(t)).unwrap();
        let want: Vec<u16> = whole.step(stim.at(t)).iter().map(|&j| j as u16).collect();
        assert_eq!(got, want, "step {t}: output spikes");
        let c = cycles::step(shape, stim.at(t).len() as u64, &model_spikes(&want), false);
        assert_eq!(cyc as u64, c.done, "step {t}: cycles");
    }
    // Out of the board, in bursts: the model's state after step 1000, each frame taking the
    // clocks on the line that docs/protocol.md's readback times are computed from.
    let mut by_addr = std::collections::HashMap::new();
    let mut seen = frames_on_line(&stamps).len();
    for (addr, count) in port_state::state_reads(&l) {
        for (k, w) in host.read_burst(addr, count).unwrap().into_iter().enumerate() {
            by_addr.insert(addr + k as u32, w as u64);
        }
        let frames = frames_on_line(&stamps);
        let (want, n_frames) = read_burst_clocks(count as u64, SIM_DIVISOR as u64);
        assert_eq!(frames.len() - seen, n_frames as usize, "frames of a burst of {count}");
        let got: u64 = frames[seen..].iter().sum();
        assert!(got.abs_diff(want) <= n_frames, "burst of {count}: {got} clocks, formula {want}");
        seen = frames.len();
    }
    let (step, q) = port_state::state_from_reads(&l, &net, &|a| by_addr[&a]);
    assert_eq!((step, q), (1000, whole.state()));

    // The longest burst the bridge takes comes back whole (its CRC's position once overflowed
    // the bridge's 16-bit counter at 16383 words: only the sync byte was sent).
    let max = MAX_BURST_READ as usize;
    let got = host.read_burst(REGION_WEIGHTS << 28, max).unwrap();
    let weights: Vec<u32> =
        (0..m * n).map(|a| by_addr[&(REGION_WEIGHTS << 28 | a as u32)] as u32).collect();
    assert_eq!((got.len(), &got[..m * n]), (max, &weights[..]));
    let frames = frames_on_line(&stamps);
    assert!(frames[seen].abs_diff(burst_read_clocks(max as u64, SIM_DIVISOR as u64)) <= 1);
}

/// Clocks of each request-response exchange in a `+stamps` file: from the host's first start
/// bit to the board's last stop bit (the host's own turnaround between frames left out).
fn frames_on_line(stamps: &std::path::Path) -> Vec<u64> {
    let text = std::fs::read_to_string(stamps).unwrap();
    let mut frames = Vec::new();
    let (mut start, mut end, mut last_board) = (None, 0, false);
    for line in text.lines() {
        let (who, clock) = line.split_once(' ').unwrap();
        let clock: u64 = clock.parse().unwrap();
        match (who, last_board) {
            ("h", true) => {
                frames.push(end - start.unwrap());
                start = Some(clock);
            }
            ("h", false) => start = start.or(Some(clock)),
            _ => end = clock,
        }
        last_board = who == "b";
    }
    if last_board {
        frames.push(end - start.unwrap());
    }
    frames
}

/// A host frame with any payload, its CRC right.
fn raw_frame(code: u8, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u16;
    let mut f = vec![0xA5, code, len as u8, (len >> 8) as u8];
    f.extend_from_slice(payload);
    f.push(crc::Crc::<u8>::new(&crc::CRC_8_SMBUS).checksum(&f[1..]));
    f
}

#[test]
fn steps_that_carry_the_modulator_set_it_and_run_like_the_model() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let net = Config::load(&root.join("examples/modulated-pairing.toml")).unwrap().build().unwrap();
    let f = net.rule.as_ref().and_then(|r| r.r).expect("the example reads r");
    let (_board, mut host) = started(&net, "board-modulated");
    let w0 = load_weights(&mut host, &net);
    let m = net.inputs() as u16;
    let mask = (1u32 << f.width) - 1;

    // Refused: an odd payload, an index past the inputs; r's own bytes are never an index.
    host.send_raw(&raw_frame(0x06, &[1, 0, 2])).unwrap();
    assert_eq!(host.receive().unwrap(), Response::Refused(Refusal::BadLength));
    host.send_raw(&raw_frame(0x06, &[])).unwrap();
    assert_eq!(host.receive().unwrap(), Response::Refused(Refusal::BadLength));
    let refused = host.transact(&Command::StepMod { r: 5, inputs: vec![m] }).unwrap();
    assert_eq!(refused, Response::Refused(Refusal::BadIndex));
    assert_eq!(host.read(25).unwrap(), 0, "a refused step wrote the modulator");

    // Steps with r from the whole format, the extremes often: spikes, cycles and weights as
    // the model's, and the register holds what the last step carried.
    let mut spec = net.cfg.stimulus.clone();
    spec.steps = 1200;
    let stim = spec.generate(&net.cfg).unwrap();
    let mut model = FixedModel::with_weights(&net, &w0);
    let shape = Shape::of(&net);
    let (lo, hi) = (f.min_raw(), f.max_raw());
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut spikes = 0;
    for t in 0..stim.steps() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let raw = match seed % 5 {
            0 => lo,
            1 => hi,
            2 => 0,
            _ => lo + (seed >> 8) as i64 % (hi - lo + 1),
        };
        model.set_modulator(f.to_real(raw));
        let (cyc, got) = host.step_mod(raw as u16, stim.at(t)).unwrap();
        let want: Vec<u16> = model.step(stim.at(t)).iter().map(|&j| j as u16).collect();
        assert_eq!(got, want, "step {t} (r raw {raw}): output spikes");
        let c = cycles::step(shape, stim.at(t).len() as u64, &model_spikes(&want), false);
        assert_eq!(cyc as u64, c.done, "step {t}: cycles");
        assert_eq!(host.read(25).unwrap(), raw as u32 & mask, "step {t}: the register");
        spikes += want.len();
    }
    assert!(spikes >= 2, "the pairing protocol fires the neuron: {spikes}");
    let w = model.weights_raw();
    let changed = w.iter().zip(&w0).filter(|(a, b)| a != b).count();
    assert!(changed > 50, "the modulated rule moved the weights: {changed}");
    for (i, &wi) in w.iter().enumerate() {
        assert_eq!(host.read(REGION_WEIGHTS << 28 | i as u32).unwrap(), wi as u32, "weight {i}");
    }
}

#[test]
fn the_board_top_and_its_rust_hdl_blocks_are_lint_and_yosys_clean() {
    use synforge_rtl::board_top::{self, TopSpec};
    use synforge_rtl::tools::{lint, yosys_check};
    let t = tools();
    for (name, cfg) in
        [("default", Config::builtin_default()), ("random-3", crate::random::structure(3))]
    {
        let net = cfg.build().unwrap();
        let design = synforge_rtl::generate(&net, "h").unwrap();
        // 115200 baud from 12 MHz: the iCEBreaker's divisor (104), no PLL.
        let spec = TopSpec {
            pll: None,
            pll_pad: false,
            board_hz: 12e6,
            core_hz: 12e6,
            baud: 115_200,
            leds: vec![true, false],
        };
        let (top, _) = board_top::generate(&design, &spec, "h").unwrap();
        let dir = build_dir(&format!("lint-top-{name}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut files = Vec::new();
        for (f, text) in design.files.iter().chain(&top) {
            assert!(!text.contains("localparam signed"), "{f}");
            std::fs::write(dir.join(f), text).unwrap();
            files.push(f.as_str());
        }
        std::fs::write(dir.join("waivers.vlt"), synforge_rtl::deploy::shell::WAIVERS).unwrap();
        lint(&t, &dir, &files, Some("waivers.vlt"), "synforge_board_top")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        yosys_check(&t, &dir, &files, "synforge_board_top")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
