//! The serial port of `synforge run --port`: a path that is not there, or is no serial device,
//! is bad input (exit status 2), reported with the serial ports that are there.

use std::time::Duration;

use anyhow::{Context, Result};
use serialport::SerialPort;

use crate::UsageError;

/// How long a read from the board may take before the link counts as dead.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Open `port` at `baud` for the host protocol.
pub fn open(port: &str, baud: u32) -> Result<Box<dyn SerialPort>> {
    if baud == 0 {
        return Err(UsageError(
            "--baud 0 is not a baud rate; give the one the board top was synthesized for \
             (synforge synth --baud, default 115200)"
                .into(),
        )
        .into());
    }
    #[cfg(unix)]
    check_device(port)?;
    serialport::new(port, baud)
        .timeout(TIMEOUT)
        .open()
        .with_context(|| format!("cannot open serial port {port}"))
}

/// Refuse a path that is missing, or is not a terminal device (a folder, a file, /dev/null).
#[cfg(unix)]
fn check_device(port: &str) -> Result<()> {
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    use std::os::unix::io::AsRawFd;

    let bad = |what: String| Err(UsageError(format!("--port {port}: {what}; {}", found())).into());
    let meta = match std::fs::metadata(port) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return bad("no such serial port".into())
        }
        Err(e) => return bad(format!("cannot look at it ({e})")),
    };
    let kind = meta.file_type();
    if !kind.is_char_device() {
        let what = if kind.is_dir() {
            "a folder"
        } else if kind.is_file() {
            "a regular file"
        } else {
            "not a character device"
        };
        return bad(format!("is {what}, not a serial device"));
    }
    // A character device that is no terminal (such as /dev/null) cannot be a serial port.
    // Non-blocking, so that a modem line without carrier does not hold the open.
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(port);
    match f {
        Ok(f) => {
            // SAFETY: isatty only inspects the open descriptor `f` owns.
            if unsafe { libc::isatty(f.as_raw_fd()) } == 0 {
                return bad("is a device but not a serial device (not a terminal)".into());
            }
        }
        // A device node with no device behind it (an unplugged adapter's stale node, /dev/tty
        // without a controlling terminal).
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENXIO | libc::ENODEV)) => {
            return bad(format!("no device answers there ({e})"));
        }
        // Anything else (permissions, a busy port): serialport's open says what.
        Err(_) => {}
    }
    Ok(())
}

/// The serial ports this machine has, for the messages above.
fn found() -> String {
    let mut names: Vec<String> = ports().into_iter().collect();
    names.sort();
    if names.is_empty() {
        "no serial ports found: connect the board (its USB UART shows up as e.g. /dev/ttyUSB1 \
         or /dev/ttyACM0) and give that as --port"
            .into()
    } else {
        format!("serial ports found: {} (give one as --port)", names.join(", "))
    }
}

fn ports() -> Vec<String> {
    // serialport's Linux scan without libudev panics when /sys/class/tty is missing (as in
    // some containers): look first.
    if cfg!(target_os = "linux") && !std::path::Path::new("/sys/class/tty").is_dir() {
        return Vec::new();
    }
    serialport::available_ports()
        .map(|v| v.into_iter().map(|p| p.port_name).collect())
        .unwrap_or_default()
}
