//! The Verilator model of the board top, driven through the host protocol: `synforge run
//! --sim` and the tests talk to it with the same `protocol::Host` code as to a real board.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

use synforge_sim::Network;

use crate::board_top::{self, TopSpec};
use crate::cosim::{write_if_changed, CosimError};
use crate::protocol::Host;
use crate::tools::{build_sim, Tools};

const UART_MAIN: &str = include_str!("../../../testbenches/uart_main.cpp");

/// Clocks per UART bit in the simulated top (the real boards run at their baud rate).
pub const SIM_DIVISOR: u32 = 8;

/// A built simulation of the board top.
pub struct SimBoard {
    bin: std::path::PathBuf,
    divisor: u32,
}

/// A byte link to a running simulation. Reads block until the board sends, or for at most the
/// read timeout when one is set.
pub struct SimLink {
    child: Child,
    stdin: Option<ChildStdin>,
    // The simulation's standard output, read by a thread so that reads can time out.
    bytes: Receiver<Vec<u8>>,
    pending: Vec<u8>,
    timeout: Option<Duration>,
}

impl SimLink {
    /// Make reads fail with `TimedOut` after `t` without a byte (`None`: wait for ever, or
    /// until the simulation ends after its `+idle` quiet clocks).
    pub fn set_read_timeout(&mut self, t: Option<Duration>) {
        self.timeout = t;
    }
}

impl Read for SimLink {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pending.is_empty() {
            let got = match self.timeout {
                None => self.bytes.recv().map_err(|_| RecvTimeoutError::Disconnected),
                Some(t) => self.bytes.recv_timeout(t),
            };
            self.pending = match got {
                Ok(b) => b,
                Err(RecvTimeoutError::Timeout) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the simulated board sent nothing within the read timeout",
                    ))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the simulated board stopped",
                    ))
                }
            };
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

impl Write for SimLink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.stdin.as_mut().expect("open until drop").write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.stdin.as_mut().expect("open until drop").flush()
    }
}

impl Drop for SimLink {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SimBoard {
    /// Generate the board top of `net` (no PLL, the UART at [`SIM_DIVISOR`] clocks per bit)
    /// into `dir` and build it in Verilator.
    pub fn build(net: &Network, dir: &Path, tools: &Tools) -> Result<Self, CosimError> {
        Self::build_at(net, dir, tools, SIM_DIVISOR)
    }

    /// [`SimBoard::build`] with the UART at `divisor` clocks per bit (at least 4, the fewest
    /// the bridge takes): the bridge's timing at a real board's ratio of clock to baud rate.
    pub fn build_at(
        net: &Network,
        dir: &Path,
        tools: &Tools,
        divisor: u32,
    ) -> Result<Self, CosimError> {
        let hash = crate::config_hash(&net.cfg);
        let design = crate::generate(net, &hash)?;
        let spec = TopSpec {
            pll: None,
            pll_pad: false,
            board_hz: divisor as f64,
            core_hz: divisor as f64,
            baud: 1,
            leds: vec![false, false],
        };
        let (top, _) = board_top::generate(&design, &spec, &hash)?;
        std::fs::create_dir_all(dir)?;
        let mut sources = Vec::new();
        for (name, text) in design.files.iter().chain(&top) {
            write_if_changed(&dir.join(name), text)?;
            sources.push(name.clone());
        }
        write_if_changed(&dir.join("uart_main.cpp"), UART_MAIN)?;
        sources.push("uart_main.cpp".into());
        let srcs: Vec<&str> = sources.iter().map(String::as_str).collect();
        let bin = build_sim(tools, dir, &srcs, "synforge_board_top", "board", &[])?;
        Ok(SimBoard { bin, divisor })
    }

    /// Start the simulation and connect a host to it.
    pub fn connect(&self) -> Result<Host<SimLink>, CosimError> {
        self.connect_stamped(None)
    }

    /// [`SimBoard::connect`], the simulation writing the clock of every byte on the line to
    /// `stamps` when given (`h <clock>` as a host byte's start bit begins, `b <clock>` as a
    /// board byte's stop bit is sampled): the bridge's timing, measured. The file is complete
    /// once the host is dropped.
    pub fn connect_stamped(&self, stamps: Option<&Path>) -> Result<Host<SimLink>, CosimError> {
        let mut cmd = Command::new(&self.bin);
        cmd.arg(format!("+div={}", self.divisor)).arg("+idle=20000000");
        if let Some(p) = stamps {
            cmd.arg(format!("+stamps={}", p.display()));
        }
        let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
        let stdin = child.stdin.take();
        let mut stdout = child.stdout.take().expect("piped");
        let (tx, bytes) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Ends when the simulation closes its output or the link is dropped.
            while let Ok(n @ 1..) = stdout.read(&mut buf) {
                if tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Ok(Host::new(SimLink { child, stdin, bytes, pending: Vec::new(), timeout: None }))
    }
}
