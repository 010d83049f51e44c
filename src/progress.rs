//! Progress of long runs on standard error: an `indicatif` bar on a terminal; on anything
//! else (a CI log, a file) plain lines, the first after two seconds and then every ten, with
//! the rate and the time left. Runs shorter than that print nothing.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use synforge_sim::run::Observer;

/// The progress of a run of steps.
pub struct Progress {
    label: String,
    total: u32,
    bar: Option<ProgressBar>,
    plain: Mutex<Plain>,
}

struct Plain {
    start: Instant,
    next: Duration,
    /// The first step seen (a continued run starts at its state's step).
    first: Option<u32>,
}

/// Whether standard error is a terminal that takes a bar.
pub fn bars() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("TERM").is_some_and(|t| t != "dumb")
}

impl Progress {
    /// For a run that ends at step `total` (it may start later: a continued run).
    pub fn new(label: &str, total: u32) -> Self {
        let bar = bars().then(|| {
            let b = ProgressBar::new(total as u64);
            b.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{bar:32}] step {pos}/{len} {per_sec} {elapsed}, about {eta} left",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            b.set_prefix(label.to_string());
            b
        });
        Progress {
            label: label.to_string(),
            total,
            bar,
            plain: Mutex::new(Plain {
                start: Instant::now(),
                next: Duration::from_secs(2),
                first: None,
            }),
        }
    }

    /// Step `t` is done.
    pub fn at(&self, t: u32) {
        if let Some(b) = &self.bar {
            if t % 64 == 63 || t + 1 == self.total {
                b.set_position(t as u64 + 1);
            }
            return;
        }
        let Ok(mut p) = self.plain.lock() else { return };
        let first = *p.first.get_or_insert(t);
        if t % 1024 != 1023 {
            return;
        }
        let el = p.start.elapsed();
        if el < p.next {
            return;
        }
        p.next = el + Duration::from_secs(10);
        let done = t as f64 + 1.0;
        let rate = (done - first as f64) / el.as_secs_f64().max(1e-9);
        let left = (self.total as f64 - done).max(0.0) / rate;
        eprintln!(
            "{}: step {} of {} ({:.1} %), {rate:.3e} steps/s, about {} left",
            self.label,
            t as u64 + 1,
            self.total,
            100.0 * done / self.total.max(1) as f64,
            duration(left)
        );
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Observer for Progress {
    fn after_step(&mut self, t: u32, _: &dyn synforge_sim::model::Model, _: &[u32]) {
        self.at(t);
    }
}

/// `s` seconds for a person.
pub fn duration(s: f64) -> String {
    if s < 90.0 {
        format!("{s:.0} s")
    } else if s < 5400.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}
