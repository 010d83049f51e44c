//! Fuzzing the UART protocol, time-boxed: the host-side parser on random and mutated byte
//! streams, and the bridge of the Verilator board top on junk, truncated, corrupt, mis-sized
//! and unknown frames mixed with valid ones. Seeded: the seed and the number of cases are
//! printed; `SYNFORGE_FUZZ_SEED=<n>` replays a run.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crc::{Crc, CRC_8_SMBUS};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use synforge_rtl::core::{REGION_INPUTS, REGION_NEURONS, REGION_REGS, REGION_WEIGHTS, STATUS_REGS};
use synforge_rtl::cycles::{self, Shape};
use synforge_rtl::protocol::{read_response, Command, Host, Refusal, Response, SYNC_HOST};
use synforge_rtl::simboard::SimLink;
use synforge_rtl::Layout;
use synforge_sim::model::{FixedModel, Model};
use synforge_sim::Config;

use crate::board::{load_weights, started};

const CRC8: Crc<u8> = Crc::<u8>::new(&CRC_8_SMBUS);

/// The seed of this run: `SYNFORGE_FUZZ_SEED`, else one from the clock; printed either way.
fn seed(test: &str) -> u64 {
    let seed = match std::env::var("SYNFORGE_FUZZ_SEED") {
        Ok(s) => s.parse().unwrap_or_else(|_| panic!("SYNFORGE_FUZZ_SEED={s}: not a u64")),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
    };
    eprintln!("{test}: seed {seed} (replay with SYNFORGE_FUZZ_SEED={seed})");
    seed
}

/// A frame with any code, length field and payload; the CRC right.
fn frame(sync: u8, code: u8, len: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![sync, code, len as u8, (len >> 8) as u8];
    f.extend_from_slice(payload);
    f.push(CRC8.checksum(&f[1..]));
    f
}

fn random_response(rng: &mut ChaCha8Rng) -> Response {
    match rng.random_range(0..6) {
        0 => Response::Info { inputs: rng.random(), neurons: rng.random() },
        5 => Response::Words((0..rng.random_range(1..40)).map(|_| rng.random()).collect()),
        1 => Response::Ack,
        2 => Response::Data(rng.random()),
        3 => {
            let n = rng.random_range(0..40);
            Response::Stepped {
                cycles: rng.random(),
                spikes: (0..n).map(|_| rng.random()).collect(),
            }
        }
        _ => Response::Refused(
            [
                Refusal::Crc,
                Refusal::Truncated,
                Refusal::UnknownCommand,
                Refusal::BadLength,
                Refusal::BadIndex,
            ][rng.random_range(0..5)],
        ),
    }
}

#[test]
fn host_parser_never_panics_refuses_malformed_frames_and_round_trips_valid_ones() {
    let seed = seed("host parser fuzz");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let t0 = Instant::now();
    let (mut cases, mut refused) = (0u64, 0u64);
    while t0.elapsed() < Duration::from_secs(3) {
        cases += 1;
        let ctx = |what: &str| format!("seed {seed}, case {cases}: {what}");
        // Valid: round trip, also after noise without the sync byte.
        let r = random_response(&mut rng);
        let mut bytes: Vec<u8> =
            (0..rng.random_range(0..8)).map(|_| rng.random()).filter(|&b| b != 0x5A).collect();
        let f = r.encode();
        bytes.extend_from_slice(&f);
        let got = read_response(&mut bytes.as_slice());
        assert_eq!(got.as_ref().ok(), Some(&r), "{}", ctx(&format!("{bytes:02x?} -> {got:?}")));

        // Mutated: one bit flipped after the sync byte outside the length field. CRC-8 finds
        // every one-bit error, so this is refused.
        let mut m = f.clone();
        let k = [1].into_iter().chain(4..m.len()).nth(rng.random_range(0..m.len() - 3)).unwrap();
        m[k] ^= 1 << rng.random_range(0..8);
        let got = read_response(&mut m.as_slice());
        assert!(got.is_err(), "{}", ctx(&format!("bit flipped in byte {k}: {m:02x?} -> {got:?}")));

        // Truncated: an I/O error, never a response.
        let cut = rng.random_range(0..f.len());
        let got = read_response(&mut &f[..cut]);
        assert!(got.is_err(), "{}", ctx(&format!("truncated to {cut}: {got:?}")));

        // A right CRC around a wrong length or an unknown code: refused.
        let code =
            [0x80u8, 0x81, 0x82, 0x83, 0x84, 0xE1, 0xE4, rng.random()][rng.random_range(0..8)];
        let len = rng.random_range(0..12u16);
        let p: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        let odd = frame(0x5A, code, len, &p);
        let fits = match code {
            0x80 | 0x82 => len == 4,
            0x81 | 0xE1..=0xE5 => len == 0,
            0x83 => len >= 4 && len % 2 == 0,
            0x84 => len >= 4 && len % 4 == 0,
            _ => false,
        };
        let got = read_response(&mut odd.as_slice());
        assert_eq!(got.is_ok(), fits, "{}", ctx(&format!("{odd:02x?} -> {got:?}")));

        // Any bytes: no panic; each decoded response re-encodes to bytes of the stream.
        let junk: Vec<u8> = (0..rng.random_range(0..64))
            .map(|_| if rng.random_bool(0.1) { 0x5A } else { rng.random() })
            .collect();
        let mut rest = junk.as_slice();
        while !rest.is_empty() {
            match read_response(&mut rest) {
                Ok(r) => {
                    let e = r.encode();
                    assert!(junk.windows(e.len()).any(|w| w == e), "{}", ctx("decoded junk"));
                }
                Err(_) => refused += 1,
            }
        }
    }
    eprintln!(
        "host parser fuzz: {cases} cases ({} streams, {refused} refused reads) in {:.1} s",
        cases * 5,
        t0.elapsed().as_secs_f64()
    );
    assert!(cases > 1000, "only {cases} cases in the time box");
}

/// What the board's state must read back as: every address the fuzz reads, and its value.
struct Expected {
    words: HashMap<u32, u32>,
}

fn state_addresses(l: &Layout) -> Vec<u32> {
    let mut a: Vec<u32> = l.regs.iter().map(|r| r.index).collect();
    a.extend(STATUS_REGS.iter().map(|&(k, _)| REGION_REGS << 28 | k));
    a.extend((0..l.inputs * l.neurons).map(|k| REGION_WEIGHTS << 28 | k));
    for j in 0..l.neurons {
        a.extend((0..8).map(|f| REGION_NEURONS << 28 | (j * 16 + f)));
    }
    for i in 0..l.inputs {
        a.extend((0..3).map(|f| REGION_INPUTS << 28 | (i * 4 + f)));
    }
    a
}

fn snapshot(host: &mut Host<SimLink>, addrs: &[u32]) -> HashMap<u32, u32> {
    addrs
        .iter()
        .map(|&a| (a, host.read(a).unwrap_or_else(|e| panic!("read {a:#010x}: {e}"))))
        .collect()
}

/// A frame-shaped junk case and the refusal it must draw (`None`: no answer at all; `Some(None)`
/// for junk whose answers cannot be told in advance).
fn junk(
    rng: &mut ChaCha8Rng,
    l: &Layout,
    valid: &[Vec<u8>],
) -> (&'static str, Vec<u8>, Option<Option<Refusal>>) {
    let bb = (2 * l.inputs).max(8).next_power_of_two() as u16;
    let noise = |rng: &mut ChaCha8Rng, most: usize| -> Vec<u8> {
        let n = rng.random_range(1..most);
        (0..n).map(|_| rng.random()).filter(|&b| b != SYNC_HOST).collect()
    };
    let f = valid[rng.random_range(0..valid.len())].clone();
    match rng.random_range(0..9) {
        0 => ("noise without a sync byte", noise(rng, 40), None),
        1 => {
            let cut = rng.random_range(1..f.len());
            ("truncated frame", f[..cut].to_vec(), Some(Some(Refusal::Truncated)))
        }
        2 => {
            let mut g = f;
            let k = rng.random_range(1..g.len());
            let k = if k == 2 || k == 3 { g.len() - 1 } else { k }; // keep the length
            g[k] ^= rng.random_range(1..=255u8);
            ("corrupt frame (bad CRC)", g, Some(Some(Refusal::Crc)))
        }
        3 => {
            // Write, read and their bursts with a length they do not take (within the buffer),
            // or a burst read of no words.
            let code = [1u8, 2, 4, 5][rng.random_range(0..4)];
            let takes = |n: u16| match code {
                1 => n == 8,
                2 => n == 4,
                4 => n == 6,
                _ => n >= 8 && n % 4 == 0,
            };
            let len = loop {
                let n = rng.random_range(0..=bb);
                if !takes(n) {
                    break n;
                }
            };
            let mut p: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            if code == 4 && rng.random() {
                p = vec![rng.random(), rng.random(), rng.random(), rng.random(), 0, 0];
            }
            (
                "write/read/burst of a wrong length or count",
                frame(SYNC_HOST, code, p.len() as u16, &p),
                Some(Some(Refusal::BadLength)),
            )
        }
        4 => {
            // A step with an odd length, or a length beyond the buffer (refused at the length
            // field, the rest of the bytes then fall on the waiting bridge: no sync byte there).
            if rng.random() {
                let len = 2 * rng.random_range(0..bb / 2) + 1;
                let p: Vec<u8> = (0..len).map(|_| rng.random()).collect();
                (
                    "step of an odd length",
                    frame(SYNC_HOST, 0x03, len, &p),
                    Some(Some(Refusal::BadLength)),
                )
            } else {
                let len = rng.random_range(bb + 1..=u16::MAX);
                let mut g = frame(SYNC_HOST, rng.random_range(0..=255u8), len, &[]);
                g.truncate(4);
                g.extend(noise(rng, 20));
                ("length beyond the frame buffer", g, Some(Some(Refusal::BadLength)))
            }
        }
        5 => {
            let code = rng.random_range(6..=255u8);
            let len = rng.random_range(0..=bb);
            let p: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            (
                "unknown command",
                frame(SYNC_HOST, code, len, &p),
                Some(Some(Refusal::UnknownCommand)),
            )
        }
        7 => {
            // A step with the right length and CRC naming an input the core does not have.
            let mut inputs: Vec<u16> =
                (0..rng.random_range(0..6)).map(|_| rng.random_range(0..l.inputs as u16)).collect();
            let at = rng.random_range(0..=inputs.len());
            inputs.insert(at, rng.random_range(l.inputs as u16..=u16::MAX));
            let g = Command::Step { inputs }.encode();
            ("step naming an input past the last", g, Some(Some(Refusal::BadIndex)))
        }
        6 => {
            // Noise, then a valid frame right behind it: answered as if alone.
            let mut g = noise(rng, 20);
            g.extend_from_slice(&f);
            ("noise before a valid frame", g, Some(None))
        }
        _ => {
            // Anything, sync bytes included: no state change, answers unknown in advance.
            let g = (0..rng.random_range(1..48))
                .map(|_| if rng.random_bool(0.15) { SYNC_HOST } else { rng.random() })
                .collect();
            ("random bytes", g, Some(None))
        }
    }
}

/// Whether `bytes` hold a command the bridge would carry out that changes state (a write or
/// a step with the right CRC and length): such junk is not junk, and is drawn again.
fn holds_a_state_changing_frame(bytes: &[u8], inputs: u32) -> bool {
    (0..bytes.len()).any(|k| {
        let f = &bytes[k..];
        if f.len() < 5 || f[0] != SYNC_HOST || !(f[1] == 0x01 || f[1] == 0x03) {
            return false;
        }
        let len = u16::from_le_bytes([f[2], f[3]]) as usize;
        let fits = if f[1] == 0x01 {
            len == 8
        } else {
            // A step's indices must all be inputs the core has, or the bridge refuses it.
            len % 2 == 0
                && len <= 2 * inputs as usize
                && f.len() > 4 + len
                && f[4..4 + len].chunks(2).all(|c| u16::from_le_bytes([c[0], c[1]]) < inputs as u16)
        };
        fits && f.len() > 4 + len && CRC8.checksum(&f[1..4 + len]) == f[4 + len]
    })
}

/// Read answers until `quiet` passes without one.
fn drain(host: &mut Host<SimLink>, quiet: Duration) -> Vec<Response> {
    host.link_mut().set_read_timeout(Some(quiet));
    let mut got = Vec::new();
    loop {
        match host.receive() {
            Ok(r) => got.push(r),
            Err(synforge_rtl::protocol::ProtocolError::Io(e))
                if e.kind() == std::io::ErrorKind::TimedOut =>
            {
                break
            }
            Err(e) => panic!("while draining: {e}"),
        }
    }
    host.link_mut().set_read_timeout(Some(HANG));
    got
}

/// Longer than any answer can take: a bridge silent for this long hangs.
const HANG: Duration = Duration::from_secs(20);

#[test]
fn bridge_refuses_junk_frames_without_changing_state_and_answers_the_next_valid_frame() {
    let seed = seed("bridge fuzz");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let net = Config::builtin_default().build().unwrap();
    let l = Layout::new(&net).unwrap();
    let (_board, mut host) = started(&net, "board-default");
    host.link_mut().set_read_timeout(Some(HANG));
    let w0 = load_weights(&mut host, &net);
    let (m, n) = (net.inputs(), net.neurons());
    let waddr = |i: usize, j: usize| REGION_WEIGHTS << 28 | (j * m + i) as u32;
    let addrs = state_addresses(&l);
    let t0 = Instant::now();
    let mut expected = Expected { words: snapshot(&mut host, &addrs) };
    eprintln!(
        "bridge fuzz: {} state words read back in {:.1} s",
        addrs.len(),
        t0.elapsed().as_secs_f64()
    );
    let mut w = w0.clone();
    // Ping, read, and a write (first half) or a step (second half). A write writes a weight
    // the config can have, so the model can take it.
    let valid_frames = |rng: &mut ChaCha8Rng, stepping: bool| -> Vec<Vec<u8>> {
        let third = if stepping {
            let mut inputs: Vec<u16> = (0..m as u16).collect();
            for k in 0..inputs.len() {
                inputs.swap(k, rng.random_range(k..m));
            }
            inputs.truncate(rng.random_range(0..8));
            Command::Step { inputs }
        } else {
            let addr = waddr(rng.random_range(0..m), rng.random_range(0..n));
            Command::Write { addr, data: w0[rng.random_range(0..w0.len())] as u32 }
        };
        vec![
            Command::Ping.encode(),
            Command::Read { addr: waddr(rng.random_range(0..m), rng.random_range(0..n)) }.encode(),
            third.encode(),
        ]
    };
    let mut kinds: HashMap<&str, u64> = HashMap::new();
    let (mut cases, mut steps) = (0u64, 0u32);
    let mut model: Option<FixedModel> = None;
    let budget = Duration::from_secs(25);
    let t1 = Instant::now();
    while t1.elapsed() < budget {
        cases += 1;
        // First half: no steps, so every word but the written weights stays as it was. Second
        // half: steps too, against the model with the weights as written.
        let stepping = t1.elapsed() > budget / 2;
        if stepping && model.is_none() {
            model = Some(FixedModel::with_weights(&net, &w));
        }
        let valid = valid_frames(&mut rng, stepping);
        let (kind, bytes, answer) = loop {
            let c = junk(&mut rng, &l, &valid);
            let frame_after = c.0 == "noise before a valid frame";
            if frame_after || !holds_a_state_changing_frame(&c.1, l.inputs) {
                break c;
            }
        };
        let ctx = format!("seed {seed}, case {cases} ({kind}): {bytes:02x?}");
        *kinds.entry(kind).or_default() += 1;
        host.send_raw(&bytes).unwrap();
        match answer {
            None => {}
            Some(Some(why)) => {
                let r = host.receive().unwrap_or_else(|e| panic!("{ctx}: no answer: {e}"));
                assert_eq!(r, Response::Refused(why), "{ctx}");
            }
            Some(None) if kind == "noise before a valid frame" => {
                // The frame after the noise is answered; a write or a step changes state.
                let r = host.receive().unwrap_or_else(|e| panic!("{ctx}: no answer: {e}"));
                let which = valid.iter().position(|f| bytes.ends_with(f)).expect("a valid frame");
                check_valid(
                    &mut host,
                    &r,
                    which,
                    &valid[which],
                    &mut expected,
                    &mut w,
                    &mut model,
                    &net,
                    &mut steps,
                    stepping,
                    &ctx,
                );
            }
            Some(None) => {
                // Wait until every partial frame has timed out and been answered.
                for r in drain(&mut host, Duration::from_millis(150)) {
                    assert!(
                        matches!(
                            r,
                            Response::Refused(_) | Response::Info { .. } | Response::Data(_)
                        ),
                        "{ctx}: {r:?}"
                    );
                }
            }
        }
        // Recovery: a valid frame right after the junk is answered correctly.
        let which = rng.random_range(0..3);
        let f = &valid[which];
        host.send_raw(f).unwrap();
        let r = host
            .receive()
            .unwrap_or_else(|e| panic!("{ctx}: no answer to the frame after it: {e}"));
        check_valid(
            &mut host,
            &r,
            which,
            f,
            &mut expected,
            &mut w,
            &mut model,
            &net,
            &mut steps,
            stepping,
            &format!("{ctx}, then a valid frame"),
        );
    }
    // Everything the fuzz did not change by valid frames reads back as it was.
    let after = snapshot(&mut host, &addrs);
    let mut diffs = Vec::new();
    for &a in &addrs {
        let region = a >> 28;
        let is_status = region == REGION_REGS && STATUS_REGS.iter().any(|&(k, _)| k == a);
        if steps > 0 && (region == REGION_NEURONS || region == REGION_INPUTS || is_status) {
            continue; // steps changed these; their spikes and cycles were checked against the model
        }
        let want = if region == REGION_WEIGHTS {
            let k = (a & 0x0fff_ffff) as usize;
            let (i, j) = (k % m, k / m);
            match &model {
                Some(md) => md.weights_raw()[i * n + j] as u32,
                None => w[i * n + j] as u32,
            }
        } else {
            expected.words[&a]
        };
        if after[&a] != want {
            diffs.push(format!("{a:#010x}: {} (want {want})", after[&a]));
        }
    }
    assert!(diffs.is_empty(), "seed {seed}: state changed by refused frames: {}", diffs.join(", "));
    if steps > 0 {
        let step_reg = REGION_REGS << 28 | STATUS_REGS[0].0;
        assert_eq!(after[&step_reg], steps, "seed {seed}: status_step");
    }
    let mut k: Vec<_> = kinds.into_iter().collect();
    k.sort();
    eprintln!(
        "bridge fuzz: {cases} junk cases, each followed by a valid frame ({steps} steps) in {:.1} s: {k:?}",
        t1.elapsed().as_secs_f64()
    );
    assert!(cases > 50, "only {cases} cases in the time box");
}

/// Check the answer `r` to valid frame `which` of `valid_frames` (ping, read, write, step)
/// and keep the expectations up to date.
#[allow(clippy::too_many_arguments)]
fn check_valid(
    host: &mut Host<SimLink>,
    r: &Response,
    which: usize,
    frame: &[u8],
    expected: &mut Expected,
    w: &mut [u16],
    model: &mut Option<FixedModel>,
    net: &synforge_sim::Network,
    steps: &mut u32,
    stepping: bool,
    ctx: &str,
) {
    let (m, n) = (net.inputs(), net.neurons());
    let word = |k: usize| u32::from_le_bytes([frame[k], frame[k + 1], frame[k + 2], frame[k + 3]]);
    let weight = |w: &[u16], model: &Option<FixedModel>, a: u32| {
        let k = (a & 0x0fff_ffff) as usize;
        let (i, j) = (k % m, k / m);
        match model {
            Some(md) => md.weights_raw()[i * n + j],
            None => w[i * n + j],
        }
    };
    match (which, frame[1]) {
        (0, _) => assert_eq!(*r, Response::Info { inputs: m as u16, neurons: n as u16 }, "{ctx}"),
        (1, _) => assert_eq!(*r, Response::Data(weight(w, model, word(4)) as u32), "{ctx}"),
        (_, 0x01) => {
            assert_eq!(*r, Response::Ack, "{ctx}");
            assert!(model.is_none(), "{ctx}: a write while stepping");
            let (a, d) = (word(4), word(8));
            let k = (a & 0x0fff_ffff) as usize;
            let (i, j) = (k % m, k / m);
            let kept = host.read(a).unwrap_or_else(|e| panic!("{ctx}: read back: {e}"));
            assert_eq!(kept, d, "{ctx}: the written weight");
            w[i * n + j] = d as u16;
            expected.words.insert(a, d);
        }
        _ => {
            assert!(stepping, "{ctx}: a step in the first half");
            let md = model.as_mut().expect("the model beside the steps");
            let inputs: Vec<u32> = frame[4..frame.len() - 1]
                .chunks(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]) as u32)
                .collect();
            let mut pre = inputs.clone();
            pre.sort_unstable();
            pre.dedup();
            let want: Vec<u32> = md.step(&pre).to_vec();
            let h = &net.cfg.homeostasis;
            let scaling = h.scaling && (*steps + 1) % h.scaling_period_steps == 0;
            let c = cycles::step(Shape::of(net), inputs.len() as u64, &want, scaling).done;
            let spikes: Vec<u16> = want.iter().map(|&j| j as u16).collect();
            assert_eq!(*r, Response::Stepped { cycles: c as u32, spikes }, "{ctx}");
            *steps += 1;
        }
    }
}

/// Regression: the bridge cut a step's input index to the index width and carried it out, so
/// a step naming input 100 of a 64-input core spiked input 36.
#[test]
fn a_step_naming_an_input_past_the_last_is_refused_not_wrapped_onto_another_input() {
    let net = Config::builtin_default().build().unwrap();
    let l = Layout::new(&net).unwrap();
    let (_board, mut host) = started(&net, "board-default");
    host.link_mut().set_read_timeout(Some(HANG));
    let x1 = |h: &mut Host<SimLink>, i: u32| h.read(REGION_INPUTS << 28 | (i * 4)).unwrap();
    assert_eq!(l.inputs, 64);
    for bad in [vec![100u16], vec![3, 64], vec![0xffff, 1]] {
        let r = host.transact(&Command::Step { inputs: bad.clone() }).unwrap();
        assert_eq!(r, Response::Refused(Refusal::BadIndex), "step {bad:?}");
    }
    for i in [36, 0, 3, 1, 63] {
        assert_eq!(x1(&mut host, i), 0, "input {i}'s trace after refused steps");
    }
    let step_reg = REGION_REGS << 28 | STATUS_REGS[0].0;
    assert_eq!(host.read(step_reg).unwrap(), 0, "steps done");
    // The last input is still taken.
    let (_, _) = host.step(&[63]).unwrap();
    assert_ne!(x1(&mut host, 63), 0, "input 63's trace after a step with it");
}
