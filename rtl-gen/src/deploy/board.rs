//! Boards as data: each supported board is a TOML file in the workspace's `boards/` folder
//! (device, package, clock, UART and LED pins, device capacities), and the place-and-route
//! constraints nextpnr needs (`constraints/<board>.pcf` for iCE40, `.lpf` for ECP5) are rendered
//! from it by [`Board::constraints`].
//!
//! The board TOMLs are embedded in the library at compile time, so [`Board::builtin`] works
//! from a binary run anywhere; the committed constraint files are checked against the renderer
//! by this module's tests, so neither can drift from the board data.
//!
//! The board top's ports, the names every constraint file uses:
//!
//! | port | direction | width | meaning |
//! |---|---|---|---|
//! | `clk` | in | 1 | the board oscillator, [`Clock::hz`] |
//! | `uart_rx` | in | 1 | host -> FPGA serial data, idle high |
//! | `uart_tx` | out | 1 | FPGA -> host serial data, idle high |
//! | `led[i]` | out | one per [`Led`], in TOML order | the pin level; an active-low LED lights on 0 |
//!
//! ```
//! use synforge_rtl::board::Board;
//! let b = Board::builtin("icebreaker").unwrap();
//! assert_eq!(b.clock.hz, 12_000_000);
//! let (file, text) = b.constraints();
//! assert_eq!(file, "icebreaker.pcf");
//! assert!(text.contains("set_io clk 35\n"));
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The board TOMLs, embedded at compile time: `(name, text)`, sorted by name. Adding a board
/// means adding its file to `boards/` and a line here; the tests check that the two agree.
const BUILTIN: &[(&str, &str)] = &[
    ("alchitry-cu", include_str!("../../../boards/alchitry-cu.toml")),
    ("icebreaker", include_str!("../../../boards/icebreaker.toml")),
    ("orangecrab-r0.2", include_str!("../../../boards/orangecrab-r0.2.toml")),
    ("ulx3s-12f", include_str!("../../../boards/ulx3s-12f.toml")),
    ("ulx3s-25f", include_str!("../../../boards/ulx3s-25f.toml")),
    ("ulx3s-45f", include_str!("../../../boards/ulx3s-45f.toml")),
    ("ulx3s-85f", include_str!("../../../boards/ulx3s-85f.toml")),
];

/// nextpnr device flags (without the leading `--`) accepted for each family.
const ICE40_DEVICES: &[&str] =
    &["lp384", "lp1k", "lp4k", "lp8k", "hx1k", "hx4k", "hx8k", "up3k", "up5k", "u1k", "u2k", "u4k"];
const ECP5_DEVICES: &[&str] =
    &["12k", "25k", "45k", "85k", "um-25k", "um-45k", "um-85k", "um5g-25k", "um5g-45k", "um5g-85k"];

/// What went wrong loading a board. Every message names the file (or the board) and the field.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    /// The board file could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML, or does not match the schema (a missing, unknown or
    /// mistyped field); `message` is the TOML parser's, e.g. "missing field `clock`".
    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Parse {
        /// The file.
        path: String,
        /// The line the parser points at, when it points inside the file.
        line: Option<usize>,
        /// The parser's message.
        message: String,
    },
    /// The file parses but a value is not usable.
    #[error("{path}: field `{field}`: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// The field, as a TOML path (`speed`, `clock.hz`, `led[1].pin`).
        field: String,
        /// What is wrong and what would be right.
        reason: String,
    },
    /// [`Board::builtin`] was asked for a board it does not have.
    #[error("unknown board `{name}`; known boards: {}", .known.join(", "))]
    Unknown {
        /// The name asked for.
        name: String,
        /// The builtin boards' names.
        known: Vec<String>,
    },
}

/// The FPGA family, which picks the nextpnr flavour and the constraint format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// Lattice iCE40: `nextpnr-ice40`, PCF constraints.
    Ice40,
    /// Lattice ECP5: `nextpnr-ecp5`, LPF constraints.
    Ecp5,
}

impl Family {
    /// The family as written in a board TOML: `ice40` or `ecp5`.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Ice40 => "ice40",
            Family::Ecp5 => "ecp5",
        }
    }

    /// The constraint file extension nextpnr reads for this family: `pcf` or `lpf`.
    pub fn constraints_ext(self) -> &'static str {
        match self {
            Family::Ice40 => "pcf",
            Family::Ecp5 => "lpf",
        }
    }
}

/// The board oscillator, which drives the top's `clk` input.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clock {
    /// The FPGA pin (package ball or pin number).
    pub pin: String,
    /// Its frequency in Hz.
    pub hz: u64,
}

/// The serial port to the host, named from the FPGA's side.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Uart {
    /// FPGA output -> host: the top's `uart_tx`.
    pub tx: String,
    /// Host -> FPGA input: the top's `uart_rx`.
    pub rx: String,
}

/// The most LEDs a board lists: the board top (`shell::top::BoardTop<N>`) is made for each
/// count up to this one.
pub const MAX_LEDS: usize = 16;

/// One user LED; the `i`-th in the TOML is the top's `led[i]`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Led {
    /// The board's name for it (`led_r`, `led0`), for comments and documentation.
    pub name: String,
    /// The FPGA pin.
    pub pin: String,
    /// True when the LED lights with the pin at 0; the top drives the pin level, so it inverts.
    pub active_low: bool,
}

/// The device's capacities, from the vendor data sheet (see each board TOML's comments).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// 4-input LUTs (iCE40 logic cells, ECP5 LUT4s).
    pub luts: u32,
    /// Flip-flops.
    pub ffs: u32,
    /// Block RAMs: SB_RAM40_4K (iCE40) or DP16KD (ECP5).
    pub bram: u32,
    /// Bits in one block RAM: 4096 (SB_RAM40_4K) or 18432 (DP16KD).
    pub bram_bits: u32,
    /// SB_SPRAM256KA blocks (256 Kbit, iCE40 UltraPlus only), else 0.
    pub spram: u32,
    /// Hard multipliers: SB_MAC16 (16x16) or MULT18X18D (18x18).
    pub dsp: u32,
    /// User I/O pins of the device in this package.
    pub io: u32,
}

/// One FPGA board, as read from `boards/<name>.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Board {
    /// Short name, also the file stem: `icebreaker`, `ulx3s-85f`.
    pub name: String,
    /// One line for people.
    pub description: String,
    /// Where the pin assignments come from: `"repository: path"` of a public board definition.
    pub source: String,
    /// The FPGA family.
    pub family: Family,
    /// The nextpnr device flag without its dashes: `up5k`, `hx8k`, `25k`.
    pub device: String,
    /// The nextpnr `--package`: `sg48`, `cb132`, `CABGA381`.
    pub package: String,
    /// ECP5 speed grade (`nextpnr-ecp5 --speed`); absent for iCE40.
    #[serde(default)]
    pub speed: Option<u8>,
    /// ECP5 I/O standard of every board-top port (LPF `IO_TYPE`); absent for iCE40.
    #[serde(default)]
    pub io_standard: Option<String>,
    /// The board oscillator.
    pub clock: Clock,
    /// The serial port to the host.
    pub uart: Uart,
    /// The user LEDs, in `led[i]` order.
    #[serde(default)]
    pub led: Vec<Led>,
    /// The device's capacities.
    pub resources: Resources,
}

impl Board {
    /// Read and validate a board file.
    pub fn load(path: impl AsRef<Path>) -> Result<Board, BoardError> {
        let path = path.as_ref();
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|source| BoardError::Read { path: origin.clone(), source })?;
        Board::from_toml(&text, &origin)
    }

    /// Parse and validate board TOML `text`; `origin` names it in error messages (a path).
    pub fn from_toml(text: &str, origin: &str) -> Result<Board, BoardError> {
        let board: Board = toml::from_str(text).map_err(|e| BoardError::Parse {
            path: origin.to_string(),
            line: e.span().filter(|s| s.start > 0).map(|s| line_of(text, s.start)),
            message: e.message().trim_end().to_string(),
        })?;
        board.validate(origin)?;
        Ok(board)
    }

    /// A builtin board by name, from the TOML embedded at compile time from
    /// `boards/<name>.toml` (see [`boards_dir`]). Errors name that file.
    pub fn builtin(name: &str) -> Result<Board, BoardError> {
        match BUILTIN.iter().find(|(n, _)| *n == name) {
            Some((n, text)) => Board::from_toml(text, &format!("boards/{n}.toml")),
            None => Err(BoardError::Unknown {
                name: name.to_string(),
                known: Board::names().into_iter().map(String::from).collect(),
            }),
        }
    }

    /// The builtin boards' names, sorted.
    pub fn names() -> Vec<&'static str> {
        BUILTIN.iter().map(|(n, _)| *n).collect()
    }

    /// The nextpnr arguments that select this board's part: device, package and, for ECP5,
    /// speed grade, e.g. `["--up5k", "--package", "sg48"]` or
    /// `["--25k", "--package", "CSFBGA285", "--speed", "8"]`.
    pub fn nextpnr_args(&self) -> Vec<String> {
        let mut args = vec![format!("--{}", self.device), "--package".into(), self.package.clone()];
        if let Some(s) = self.speed {
            args.extend(["--speed".to_string(), s.to_string()]);
        }
        args
    }

    /// The board-top port names and pins in constraint order: `clk`, `uart_tx`, `uart_rx`,
    /// then `led[0]`, `led[1]`, ...
    pub fn pins(&self) -> Vec<(String, &str)> {
        self.ports().into_iter().map(|(port, pin, _)| (port, pin)).collect()
    }

    /// [`Board::pins`], each with its LED when it is one.
    fn ports(&self) -> Vec<(String, &str, Option<&Led>)> {
        let mut v = vec![
            ("clk".to_string(), self.clock.pin.as_str(), None),
            ("uart_tx".to_string(), self.uart.tx.as_str(), None),
            ("uart_rx".to_string(), self.uart.rx.as_str(), None),
        ];
        v.extend(
            self.led
                .iter()
                .enumerate()
                .map(|(i, l)| (format!("led[{i}]"), l.pin.as_str(), Some(l))),
        );
        v
    }

    /// The constraint file for nextpnr: `(file name, text)`, a PCF (`<name>.pcf`) for iCE40 or
    /// an LPF (`<name>.lpf`) for ECP5. It places every board-top port (see the module docs)
    /// and constrains `clk` to the oscillator's frequency, so nextpnr checks timing against
    /// it (and derives PLL outputs from it) rather than against `--freq`.
    pub fn constraints(&self) -> (String, String) {
        let ext = self.family.constraints_ext();
        let mut t = format!(
            "# generated from boards/{}.toml by synforge-rtl, do not edit\n# {}\n",
            self.name, self.description
        );
        let mhz = mhz(self.clock.hz);
        let io = self.io_standard.as_deref().unwrap_or("LVCMOS33");
        for (port, pin, led) in self.ports() {
            if let Some(l) = led {
                let level = if l.active_low { "active low" } else { "active high" };
                let _ = writeln!(t, "# {port}: {}, {level}", l.name);
            }
            match self.family {
                Family::Ice40 => {
                    let _ = writeln!(t, "set_io {port} {pin}");
                }
                Family::Ecp5 => {
                    let _ = writeln!(t, "LOCATE COMP \"{port}\" SITE \"{pin}\";");
                    let _ = writeln!(t, "IOBUF PORT \"{port}\" IO_TYPE={io};");
                }
            }
            if port == "clk" {
                let _ = match self.family {
                    Family::Ice40 => writeln!(t, "set_frequency clk {mhz}"),
                    Family::Ecp5 => writeln!(t, "FREQUENCY PORT \"clk\" {mhz} MHZ;"),
                };
            }
        }
        (format!("{}.{ext}", self.name), t)
    }

    /// Check what the schema alone cannot: the device belongs to the family, the ECP5-only
    /// fields are present exactly for ECP5, pins are plain names used once, capacities nonzero.
    fn validate(&self, origin: &str) -> Result<(), BoardError> {
        let bad = |field: &str, reason: String| BoardError::Invalid {
            path: origin.to_string(),
            field: field.to_string(),
            reason,
        };
        if self.name.is_empty()
            || !self.name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(bad("name", format!("`{}` is not a file-name-safe board name", self.name)));
        }
        if self.description.contains(['\n', '\r']) {
            return Err(bad("description", "must be one line".into()));
        }
        let devices = match self.family {
            Family::Ice40 => ICE40_DEVICES,
            Family::Ecp5 => ECP5_DEVICES,
        };
        if !devices.contains(&self.device.as_str()) {
            return Err(bad(
                "device",
                format!(
                    "`{}` is not an {} device; expected one of: {}",
                    self.device,
                    self.family.as_str(),
                    devices.join(", ")
                ),
            ));
        }
        match (self.family, self.speed, &self.io_standard) {
            (Family::Ecp5, None, _) => {
                return Err(bad("speed", "ECP5 boards need a speed grade (6, 7 or 8)".into()))
            }
            (Family::Ecp5, Some(s), _) if !(6..=8).contains(&s) => {
                return Err(bad("speed", format!("{s} is not an ECP5 speed grade (6, 7 or 8)")))
            }
            (Family::Ecp5, _, None) => {
                return Err(bad("io_standard", "ECP5 boards need one, e.g. \"LVCMOS33\"".into()))
            }
            (Family::Ice40, Some(_), _) => {
                return Err(bad("speed", "only for ECP5; remove it for iCE40".into()))
            }
            (Family::Ice40, _, Some(_)) => {
                return Err(bad("io_standard", "only for ECP5; remove it for iCE40".into()))
            }
            _ => {}
        }
        if let Some(io) = &self.io_standard {
            if io.is_empty() || !io.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(bad("io_standard", format!("`{io}` is not an LPF IO_TYPE")));
            }
        }
        if self.clock.hz == 0 {
            return Err(bad("clock.hz", "must be above 0".into()));
        }
        if self.led.len() > MAX_LEDS {
            return Err(bad(
                &format!("led[{MAX_LEDS}]"),
                format!(
                    "{} LEDs; the board top drives at most {MAX_LEDS} (led[0] the heartbeat, \
                     led[1] a refused frame, the rest dark): list only the first {MAX_LEDS}",
                    self.led.len()
                ),
            ));
        }
        let mut fields = vec![
            ("clock.pin".to_string(), &self.clock.pin),
            ("uart.tx".to_string(), &self.uart.tx),
            ("uart.rx".to_string(), &self.uart.rx),
        ];
        fields.extend(self.led.iter().enumerate().map(|(i, l)| (format!("led[{i}].pin"), &l.pin)));
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for (field, pin) in &fields {
            if pin.is_empty() || !pin.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(bad(field, format!("`{pin}` is not a pin name (letters and digits)")));
            }
            if let Some(first) = seen.insert(pin.as_str(), field) {
                return Err(bad(field, format!("pin {pin} is already used by `{first}`")));
            }
        }
        let r = &self.resources;
        for (field, v) in [
            ("resources.luts", r.luts),
            ("resources.ffs", r.ffs),
            ("resources.bram_bits", r.bram_bits),
            ("resources.io", r.io),
        ] {
            if v == 0 {
                return Err(bad(field, "must be above 0".into()));
            }
        }
        if fields.len() > r.io as usize {
            return Err(bad(
                "resources.io",
                format!("{} board-top pins do not fit in {} user I/O", fields.len(), r.io),
            ));
        }
        Ok(())
    }
}

/// The workspace's `boards/` folder, where the builtin boards' TOMLs live. A path in the
/// source tree this crate was built from: for tools run from a checkout, not an installed binary.
pub fn boards_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("boards")
}

/// The workspace's `constraints/` folder, holding what [`Board::constraints`] renders for each
/// builtin board (committed, and checked against the renderer by the tests).
pub fn constraints_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("constraints")
}

/// `hz` in MHz as a decimal without trailing zeros: 12000000 -> "12", 12500000 -> "12.5".
fn mhz(hz: u64) -> String {
    let (whole, frac) = (hz / 1_000_000, hz % 1_000_000);
    if frac == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{}", format!("{frac:06}").trim_end_matches('0'))
    }
}

/// 1-based line number of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
name = "x"
description = "test board"
source = "none"
family = "ice40"
device = "up5k"
package = "sg48"
[clock]
pin = "35"
hz = 12000000
[uart]
tx = "9"
rx = "6"
[[led]]
name = "led_r"
pin = "11"
active_low = true
[resources]
luts = 5280
ffs = 5280
bram = 30
bram_bits = 4096
spram = 4
dsp = 8
io = 39
"#;

    fn err(text: &str) -> String {
        Board::from_toml(text, "boards/x.toml").unwrap_err().to_string()
    }

    #[test]
    fn every_builtin_loads_and_matches_its_file() {
        for name in Board::names() {
            let b = Board::builtin(name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(b.name, name, "boards/{name}.toml names itself `{}`", b.name);
            let path = boards_dir().join(format!("{name}.toml"));
            assert_eq!(Board::load(&path).unwrap(), b, "{}", path.display());
        }
    }

    #[test]
    fn builtin_list_is_the_boards_folder() {
        let mut on_disk: Vec<String> = std::fs::read_dir(boards_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter_map(|f| f.strip_suffix(".toml").map(String::from))
            .collect();
        on_disk.sort();
        assert_eq!(on_disk, Board::names(), "boards/*.toml and BUILTIN in board.rs differ");
    }

    /// The committed `constraints/` files are exactly what the renderer gives, and nothing else
    /// is there. `SYNFORGE_BLESS=1` rewrites them from the board data instead of comparing.
    #[test]
    fn committed_constraints_match_renderer() {
        let dir = constraints_dir();
        let bless = std::env::var_os("SYNFORGE_BLESS").is_some_and(|v| v == "1");
        let mut expected = Vec::new();
        for name in Board::names() {
            let (file, text) = Board::builtin(name).unwrap().constraints();
            let path = dir.join(&file);
            if bless {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &text).unwrap();
            }
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                committed == text,
                "constraints/{file} differs from what boards/{name}.toml renders; regenerate with \
                 `SYNFORGE_BLESS=1 cargo test -p synforge-rtl --lib board`"
            );
            expected.push(file);
        }
        let mut present: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        present.sort();
        expected.sort();
        assert_eq!(present, expected, "constraints/ holds files no board renders");
    }

    #[test]
    fn icebreaker_pcf() {
        let (file, text) = Board::builtin("icebreaker").unwrap().constraints();
        assert_eq!(file, "icebreaker.pcf");
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            lines,
            [
                "set_io clk 35",
                "set_frequency clk 12",
                "set_io uart_tx 9",
                "set_io uart_rx 6",
                "set_io led[0] 11",
                "set_io led[1] 37"
            ]
        );
        assert!(text
            .starts_with("# generated from boards/icebreaker.toml by synforge-rtl, do not edit\n"));
    }

    #[test]
    fn ulx3s_lpf() {
        let b = Board::builtin("ulx3s-85f").unwrap();
        assert_eq!(b.nextpnr_args(), ["--85k", "--package", "CABGA381", "--speed", "6"]);
        let (file, text) = b.constraints();
        assert_eq!(file, "ulx3s-85f.lpf");
        for line in [
            "LOCATE COMP \"clk\" SITE \"G2\";",
            "IOBUF PORT \"clk\" IO_TYPE=LVCMOS33;",
            "FREQUENCY PORT \"clk\" 25 MHZ;",
            "LOCATE COMP \"uart_tx\" SITE \"L4\";",
            "LOCATE COMP \"uart_rx\" SITE \"M1\";",
            "LOCATE COMP \"led[7]\" SITE \"H3\";",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}");
        }
    }

    #[test]
    fn unknown_board_lists_known_ones() {
        assert_eq!(
            Board::builtin("nope").unwrap_err().to_string(),
            "unknown board `nope`; known boards: alchitry-cu, icebreaker, orangecrab-r0.2, \
             ulx3s-12f, ulx3s-25f, ulx3s-45f, ulx3s-85f"
        );
    }

    #[test]
    fn minimal_board_parses() {
        let b = Board::from_toml(MINIMAL, "boards/x.toml").unwrap();
        assert_eq!(b.nextpnr_args(), ["--up5k", "--package", "sg48"]);
        assert_eq!(b.pins().len(), 4);
    }

    #[test]
    fn missing_field_is_named() {
        let text = MINIMAL.replace("[clock]\npin = \"35\"\nhz = 12000000\n", "");
        assert_eq!(err(&text), "boards/x.toml: missing field `clock`");
        let text = MINIMAL.replace("hz = 12000000\n", "");
        assert_eq!(err(&text), "boards/x.toml:8: missing field `hz`");
    }

    #[test]
    fn unknown_field_is_named() {
        let text = MINIMAL.replace("[uart]\n", "[uart]\nbaud = 115200\n");
        assert_eq!(err(&text), "boards/x.toml:12: unknown field `baud`, expected `tx` or `rx`");
    }

    #[test]
    fn invalid_values_are_named() {
        let ecp5 = MINIMAL.replace("\"ice40\"", "\"ecp5\"");
        assert_eq!(
            err(&ecp5),
            "boards/x.toml: field `device`: `up5k` is not an ecp5 device; expected one of: 12k, \
             25k, 45k, 85k, um-25k, um-45k, um-85k, um5g-25k, um5g-45k, um5g-85k"
        );
        let ecp5 = ecp5.replace("\"up5k\"", "\"25k\"");
        assert_eq!(
            err(&ecp5),
            "boards/x.toml: field `speed`: ECP5 boards need a speed grade (6, 7 or 8)"
        );
        assert_eq!(
            err(&MINIMAL.replace("package = \"sg48\"\n", "package = \"sg48\"\nspeed = 6\n")),
            "boards/x.toml: field `speed`: only for ECP5; remove it for iCE40"
        );
        assert_eq!(
            err(&MINIMAL.replace("\"test board\"", "\"\"\"two\nlines\"\"\"")),
            "boards/x.toml: field `description`: must be one line"
        );
        assert_eq!(
            err(&MINIMAL.replace("pin = \"11\"", "pin = \"9\"")),
            "boards/x.toml: field `led[0].pin`: pin 9 is already used by `uart.tx`"
        );
        assert_eq!(
            err(&MINIMAL.replace("pin = \"35\"", "pin = \"35 36\"")),
            "boards/x.toml: field `clock.pin`: `35 36` is not a pin name (letters and digits)"
        );
    }

    #[test]
    fn more_leds_than_the_top_drives_are_refused() {
        let extra: String = (0..16)
            .map(|k| format!("\n[[led]]\nname = \"x{k}\"\npin = \"A{k}\"\nactive_low = false\n"))
            .collect();
        assert_eq!(
            err(&format!("{MINIMAL}{extra}")),
            "boards/x.toml: field `led[16]`: 17 LEDs; the board top drives at most 16 (led[0] \
             the heartbeat, led[1] a refused frame, the rest dark): list only the first 16"
        );
    }

    #[test]
    fn mhz_is_exact() {
        assert_eq!(mhz(12_000_000), "12");
        assert_eq!(mhz(12_500_000), "12.5");
        assert_eq!(mhz(1), "0.000001");
    }
}
