//! The host side of the UART protocol (`docs/protocol.md`): frames encoded and decoded in
//! Rust, twin of `bridge.rs`. `synforge run` drives a board with it, and the tests drive the
//! Verilator model of the same board top with it, byte for byte.
//!
//! Frame: `sync, code, len lo, len hi, payload[len], crc` with sync `0xA5` from the host and
//! `0x5A` from the board, and `crc` the CRC-8/SMBUS of `code, len, payload`.

use std::io::{Read, Write};

use crc::{Crc, CRC_8_SMBUS};

const CRC8: Crc<u8> = Crc::<u8>::new(&CRC_8_SMBUS);

/// Host to board.
pub const SYNC_HOST: u8 = 0xA5;
/// Board to host.
pub const SYNC_BOARD: u8 = 0x5A;

/// A command from the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Ask for the core's size.
    Ping,
    /// Memory-mapped write.
    Write {
        /// Address (region in bits 31:28).
        addr: u32,
        /// Data.
        data: u32,
    },
    /// Memory-mapped read.
    Read {
        /// Address.
        addr: u32,
    },
    /// One timestep: these input spike events, then the step strobe.
    Step {
        /// Input indices (any order; duplicates are one spike).
        inputs: Vec<u16>,
    },
    /// One timestep of a core whose rule reads the modulator: `r` into its register (25),
    /// then the input spike events and the step strobe, as [`Command::Step`].
    StepMod {
        /// The modulator, raw: its format's two's complement in the low bits (sign-extended
        /// to 16 bits or not: the register keeps its width).
        r: u16,
        /// Input indices (any order; duplicates are one spike).
        inputs: Vec<u16>,
    },
    /// Memory-mapped reads of `count` consecutive addresses (1 to [`MAX_BURST_READ`]).
    ReadBurst {
        /// First address.
        addr: u32,
        /// Words.
        count: u16,
    },
    /// Memory-mapped writes of consecutive addresses (as many as the frame buffer holds,
    /// [`max_burst_write`]).
    WriteBurst {
        /// First address.
        addr: u32,
        /// The words, written in order from `addr` up.
        words: Vec<u32>,
    },
}

/// Most words one burst read returns: 4 bytes each, the response's length and the position of
/// its CRC byte (length + 4) held in the bridge's 16-bit counters.
pub const MAX_BURST_READ: u16 = 8_191;

/// Clocks on the line for one burst read of `count` words at `clocks_per_bit` clocks per UART
/// bit, from the host's first start bit to the board's last stop bit (sampled mid-bit):
/// `count (40 d + 22) + 159 d + 42`. Each word is four bytes of `10 d + 5` clocks (the bridge
/// starts the next byte a few clocks after the last is out) and two more (the core's read);
/// the rest is the 11-byte request, the response's header and CRC, and the turnaround.
/// Measured in the Verilator board top, within a clock, at 4, 8 and 13 clocks per bit (the
/// test `bursts_carry_a_saved_state_into_the_board_top_and_back` keeps it so). The host's own
/// latency between frames (a USB adapter's, typically a millisecond or more) comes on top.
pub fn burst_read_clocks(count: u64, clocks_per_bit: u64) -> u64 {
    let d = clocks_per_bit;
    count * (40 * d + 22) + 159 * d + 42
}

/// [`burst_read_clocks`] summed over the frames that [`Host::read_burst`] sends for `count`
/// words, and the number of those frames.
pub fn read_burst_clocks(count: u64, clocks_per_bit: u64) -> (u64, u64) {
    let max = MAX_BURST_READ as u64;
    let frames = count.div_ceil(max);
    let last = count - (frames.saturating_sub(1)) * max;
    let full = frames.saturating_sub(1) * burst_read_clocks(max, clocks_per_bit);
    (full + if frames > 0 { burst_read_clocks(last, clocks_per_bit) } else { 0 }, frames)
}

/// Most words one burst write carries to a core of `inputs` inputs: its frame buffer, less
/// the address.
pub fn max_burst_write(inputs: u32) -> usize {
    let spec = crate::bridge::BridgeSpec {
        divisor: 4,
        input_index_bits: 1,
        neuron_index_bits: 1,
        inputs,
        neurons: 1,
        modulator: false,
    };
    (spec.buffer_bytes().min(u16::MAX as u32) as usize - 4) / 4
}

/// Why the board refused a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The CRC did not match: a corrupt frame.
    Crc,
    /// The frame stopped mid-way (64 byte times without a byte).
    Truncated,
    /// An unknown command code.
    UnknownCommand,
    /// A payload length the command does not take.
    BadLength,
    /// A step naming an input index the core does not have.
    BadIndex,
}

/// A response from the board.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// The core's size.
    Info {
        /// Inputs.
        inputs: u16,
        /// Neurons.
        neurons: u16,
    },
    /// A write was done.
    Ack,
    /// Read data.
    Data(u32),
    /// A burst read's words.
    Words(Vec<u32>),
    /// A step was done: its cycle count and output spikes, ascending neuron.
    Stepped {
        /// Cycles from the step strobe to `done`.
        cycles: u32,
        /// Neurons that spiked.
        spikes: Vec<u16>,
    },
    /// The frame was refused; nothing changed.
    Refused(Refusal),
}

/// A protocol failure on the host side.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// The link failed or timed out.
    #[error("link: {0}")]
    Io(#[from] std::io::Error),
    /// The board sent a frame this host does not understand.
    #[error("bad response frame: {0}")]
    Bad(String),
    /// The board refused a frame.
    #[error("the board refused the frame: {0:?}")]
    Refused(Refusal),
    /// The board answered something else than the command calls for.
    #[error("unexpected response {got:?} to {to:?}")]
    Unexpected {
        /// The command.
        to: Command,
        /// The response.
        got: Response,
    },
}

fn frame(sync: u8, code: u8, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u16;
    let mut f = vec![sync, code, len as u8, (len >> 8) as u8];
    f.extend_from_slice(payload);
    f.push(CRC8.checksum(&f[1..]));
    f
}

impl Command {
    /// The frame of this command.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Command::Ping => frame(SYNC_HOST, 0x00, &[]),
            Command::Write { addr, data } => {
                let mut p = addr.to_le_bytes().to_vec();
                p.extend_from_slice(&data.to_le_bytes());
                frame(SYNC_HOST, 0x01, &p)
            }
            Command::Read { addr } => frame(SYNC_HOST, 0x02, &addr.to_le_bytes()),
            Command::Step { inputs } => {
                let p: Vec<u8> = inputs.iter().flat_map(|i| i.to_le_bytes()).collect();
                frame(SYNC_HOST, 0x03, &p)
            }
            Command::StepMod { r, inputs } => {
                let p: Vec<u8> =
                    std::iter::once(r).chain(inputs).flat_map(|i| i.to_le_bytes()).collect();
                frame(SYNC_HOST, 0x06, &p)
            }
            Command::ReadBurst { addr, count } => {
                let mut p = addr.to_le_bytes().to_vec();
                p.extend_from_slice(&count.to_le_bytes());
                frame(SYNC_HOST, 0x04, &p)
            }
            Command::WriteBurst { addr, words } => {
                let mut p = addr.to_le_bytes().to_vec();
                p.extend(words.iter().flat_map(|w| w.to_le_bytes()));
                frame(SYNC_HOST, 0x05, &p)
            }
        }
    }
}

impl Response {
    /// The frame the board sends for this response (the bridge's side, for tests and models).
    pub fn encode(&self) -> Vec<u8> {
        let refusal = |code| frame(SYNC_BOARD, code, &[]);
        match self {
            Response::Info { inputs, neurons } => {
                let mut p = inputs.to_le_bytes().to_vec();
                p.extend_from_slice(&neurons.to_le_bytes());
                frame(SYNC_BOARD, 0x80, &p)
            }
            Response::Ack => frame(SYNC_BOARD, 0x81, &[]),
            Response::Data(d) => frame(SYNC_BOARD, 0x82, &d.to_le_bytes()),
            Response::Words(w) => {
                let p: Vec<u8> = w.iter().flat_map(|x| x.to_le_bytes()).collect();
                frame(SYNC_BOARD, 0x84, &p)
            }
            Response::Stepped { cycles, spikes } => {
                let mut p = cycles.to_le_bytes().to_vec();
                p.extend(spikes.iter().flat_map(|j| j.to_le_bytes()));
                frame(SYNC_BOARD, 0x83, &p)
            }
            Response::Refused(Refusal::Crc) => refusal(0xE1),
            Response::Refused(Refusal::Truncated) => refusal(0xE2),
            Response::Refused(Refusal::UnknownCommand) => refusal(0xE3),
            Response::Refused(Refusal::BadLength) => refusal(0xE4),
            Response::Refused(Refusal::BadIndex) => refusal(0xE5),
        }
    }
}

/// Read one response frame from `r` (skipping bytes before the sync byte).
pub fn read_response(r: &mut impl Read) -> Result<Response, ProtocolError> {
    let mut b = [0u8; 1];
    loop {
        r.read_exact(&mut b)?;
        if b[0] == SYNC_BOARD {
            break;
        }
    }
    let mut head = [0u8; 3];
    r.read_exact(&mut head)?;
    let len = u16::from_le_bytes([head[1], head[2]]) as usize;
    let mut payload = vec![0u8; len + 1];
    r.read_exact(&mut payload)?;
    let crc = payload.pop().expect("crc byte");
    let mut body = head.to_vec();
    body.extend_from_slice(&payload);
    if CRC8.checksum(&body) != crc {
        return Err(ProtocolError::Bad(format!(
            "CRC mismatch in a response with code {:#04x}",
            head[0]
        )));
    }
    let word =
        |k: usize| u32::from_le_bytes([payload[k], payload[k + 1], payload[k + 2], payload[k + 3]]);
    let need = |n: usize| {
        if len == n
            || (head[0] == 0x83 && len >= 4 && len % 2 == 0)
            || (head[0] == 0x84 && len >= 4 && len % 4 == 0)
        {
            Ok(())
        } else {
            Err(ProtocolError::Bad(format!("code {:#04x} with {len} payload bytes", head[0])))
        }
    };
    Ok(match head[0] {
        0x80 => {
            need(4)?;
            Response::Info {
                inputs: u16::from_le_bytes([payload[0], payload[1]]),
                neurons: u16::from_le_bytes([payload[2], payload[3]]),
            }
        }
        0x81 => {
            need(0)?;
            Response::Ack
        }
        0x82 => {
            need(4)?;
            Response::Data(word(0))
        }
        0x83 => {
            need(4)?;
            let spikes = payload[4..].chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
            Response::Stepped { cycles: word(0), spikes }
        }
        0x84 => {
            need(4)?;
            Response::Words((0..len / 4).map(|k| word(4 * k)).collect())
        }
        0xE1..=0xE5 => {
            need(0)?; // refusals carry nothing
            Response::Refused(match head[0] {
                0xE1 => Refusal::Crc,
                0xE2 => Refusal::Truncated,
                0xE3 => Refusal::UnknownCommand,
                0xE4 => Refusal::BadLength,
                _ => Refusal::BadIndex,
            })
        }
        c => return Err(ProtocolError::Bad(format!("unknown response code {c:#04x}"))),
    })
}

/// A host talking to one board (or its simulation) over a byte link.
pub struct Host<L: Read + Write> {
    link: L,
}

impl<L: Read + Write> Host<L> {
    /// Talk over `link`.
    pub fn new(link: L) -> Self {
        Host { link }
    }

    /// The link (to set its timeouts, say).
    pub fn link_mut(&mut self) -> &mut L {
        &mut self.link
    }

    /// Send raw bytes (for tests of corrupt and truncated frames).
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<(), ProtocolError> {
        self.link.write_all(bytes)?;
        self.link.flush()?;
        Ok(())
    }

    /// Read one response.
    pub fn receive(&mut self) -> Result<Response, ProtocolError> {
        read_response(&mut self.link)
    }

    /// Send `cmd` and return the board's response (refusals included).
    pub fn transact(&mut self, cmd: &Command) -> Result<Response, ProtocolError> {
        self.send_raw(&cmd.encode())?;
        self.receive()
    }

    fn expect<T>(
        &mut self,
        cmd: Command,
        f: impl Fn(&Response) -> Option<T>,
    ) -> Result<T, ProtocolError> {
        let r = self.transact(&cmd)?;
        if let Response::Refused(why) = r {
            return Err(ProtocolError::Refused(why));
        }
        f(&r).ok_or(ProtocolError::Unexpected { to: cmd, got: r })
    }

    /// `(inputs, neurons)` of the core.
    pub fn ping(&mut self) -> Result<(u16, u16), ProtocolError> {
        self.expect(Command::Ping, |r| match r {
            Response::Info { inputs, neurons } => Some((*inputs, *neurons)),
            _ => None,
        })
    }

    /// Memory-mapped write.
    pub fn write(&mut self, addr: u32, data: u32) -> Result<(), ProtocolError> {
        self.expect(Command::Write { addr, data }, |r| matches!(r, Response::Ack).then_some(()))
    }

    /// Memory-mapped read.
    pub fn read(&mut self, addr: u32) -> Result<u32, ProtocolError> {
        self.expect(Command::Read { addr }, |r| match r {
            Response::Data(d) => Some(*d),
            _ => None,
        })
    }

    /// Memory-mapped reads of `count` consecutive addresses from `addr`, in bursts.
    pub fn read_burst(&mut self, addr: u32, count: usize) -> Result<Vec<u32>, ProtocolError> {
        let mut out = Vec::with_capacity(count);
        while out.len() < count {
            let n = (count - out.len()).min(MAX_BURST_READ as usize) as u16;
            let a = addr.wrapping_add(out.len() as u32);
            let words = self.expect(Command::ReadBurst { addr: a, count: n }, |r| match r {
                Response::Words(w) if w.len() == n as usize => Some(w.clone()),
                _ => None,
            })?;
            out.extend(words);
        }
        Ok(out)
    }

    /// Memory-mapped writes of `words` to consecutive addresses from `addr`, in bursts of at
    /// most `per_frame` words ([`max_burst_write`] of the core's inputs).
    pub fn write_burst(
        &mut self,
        addr: u32,
        words: &[u32],
        per_frame: usize,
    ) -> Result<(), ProtocolError> {
        for (k, chunk) in words.chunks(per_frame.max(1)).enumerate() {
            let a = addr.wrapping_add((k * per_frame.max(1)) as u32);
            self.expect(Command::WriteBurst { addr: a, words: chunk.to_vec() }, |r| {
                matches!(r, Response::Ack).then_some(())
            })?;
        }
        Ok(())
    }

    /// One timestep; returns its cycles and output spikes.
    pub fn step(&mut self, inputs: &[u32]) -> Result<(u32, Vec<u16>), ProtocolError> {
        let inputs = inputs.iter().map(|&i| i as u16).collect();
        self.expect(Command::Step { inputs }, |r| match r {
            Response::Stepped { cycles, spikes } => Some((*cycles, spikes.clone())),
            _ => None,
        })
    }

    /// One timestep with the modulator `r` (raw, two's complement) set first, in one frame;
    /// returns its cycles and output spikes.
    pub fn step_mod(&mut self, r: u16, inputs: &[u32]) -> Result<(u32, Vec<u16>), ProtocolError> {
        let inputs = inputs.iter().map(|&i| i as u16).collect();
        self.expect(Command::StepMod { r, inputs }, |r| match r {
            Response::Stepped { cycles, spikes } => Some((*cycles, spikes.clone())),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_carry_their_crc() {
        let f = Command::Write { addr: 0x1000_0003, data: 0xdead_beef }.encode();
        assert_eq!(&f[..4], &[0xA5, 0x01, 8, 0]);
        assert_eq!(CRC8.checksum(&f[1..f.len() - 1]), *f.last().unwrap());
        let mut resp = frame(SYNC_BOARD, 0x83, &[5, 0, 0, 0, 3, 0, 7, 1]);
        resp.insert(0, 0x00); // noise before the sync byte is skipped
        let r = read_response(&mut resp.as_slice()).unwrap();
        assert_eq!(r, Response::Stepped { cycles: 5, spikes: vec![3, 263] });
        let mut bad = frame(SYNC_BOARD, 0x82, &[1, 2, 3, 4]);
        bad[5] ^= 1;
        assert!(matches!(read_response(&mut bad.as_slice()), Err(ProtocolError::Bad(_))));
    }
}
