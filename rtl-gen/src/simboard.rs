//! The Verilator model of the board top, driven through the host protocol: `synforge run
//! --sim` and the tests talk to it with the same `protocol::Host` code as to a real board.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use synforge_sim::Network;

use crate::board_top::{self, TopSpec};
use crate::cosim::{write_if_changed, CosimError};
use crate::protocol::Host;
use crate::tools::{build_sim, Tools};

const UART_MAIN: &str = include_str!("../../testbenches/uart_main.cpp");

/// Clocks per UART bit in the simulated top (the real boards run at their baud rate).
pub const SIM_DIVISOR: u32 = 8;

/// A built simulation of the board top.
pub struct SimBoard {
    bin: std::path::PathBuf,
}

/// A byte link to a running simulation.
pub struct SimLink {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
}

impl Read for SimLink {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.stdout.read(buf)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the simulated board stopped",
            ));
        }
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
        let hash = crate::config_hash(&net.cfg);
        let design = crate::generate(net, &hash)?;
        let spec = TopSpec {
            pll: None,
            pll_pad: false,
            board_hz: SIM_DIVISOR as f64,
            core_hz: SIM_DIVISOR as f64,
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
        Ok(SimBoard { bin })
    }

    /// Start the simulation and connect a host to it.
    pub fn connect(&self) -> Result<Host<SimLink>, CosimError> {
        let mut child = Command::new(&self.bin)
            .arg(format!("+div={SIM_DIVISOR}"))
            .arg("+idle=20000000")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped");
        Ok(Host::new(SimLink { child, stdin, stdout }))
    }
}
