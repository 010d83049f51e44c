//! Spike traces: decay every step, bump on a spike (docs/semantics.md §3, §4.4).
//! Twin of `rtl-gen/src/generate/trace.rs`.

use crate::config::Pairing;
use crate::format::{decay_raw, Format, Rounding};
use crate::lfsr::Lfsr;

/// One trace's fixed-point constants.
#[derive(Clone, Copy, Debug)]
pub struct TraceFixed {
    /// Format (unsigned).
    pub fmt: Format,
    /// Decay rounding.
    pub rounding: Rounding,
    /// U0.16 decay factor.
    pub decay: u16,
    /// Increment, raw.
    pub inc: i64,
    /// Pairing scheme.
    pub pairing: Pairing,
}

impl TraceFixed {
    /// `x := round(x * a / 2^16)`.
    #[inline(always)]
    pub fn decay(&self, x: u16, lfsr: &mut Lfsr) -> u16 {
        decay_raw(x as i64, self.decay, self.rounding, lfsr) as u16
    }

    /// [`TraceFixed::decay`] of every value of `xs`, a stochastic one taking its word from
    /// `draws` (every `stride`-th word, the first for `xs[0]`): the same numbers as one
    /// [`TraceFixed::decay`] per value on an LFSR that drew those words. A trace is never
    /// negative, so the magnitude-and-sign of `decay_raw` is the value itself: plain 32-bit
    /// arithmetic.
    pub fn decay_all(&self, xs: &mut [u16], draws: &[u32], stride: usize) {
        let a = self.decay as u32;
        match self.rounding {
            Rounding::Stochastic => {
                // (x * a + top 16 bits of the word) >> 16: below 2^32 for 16-bit x and a.
                let decay = |x: &mut u16, w: u32| *x = ((*x as u32 * a + (w >> 16)) >> 16) as u16;
                if stride <= 1 {
                    // One trace draws: contiguous words, a loop the compiler vectorises.
                    assert!(draws.len() >= xs.len(), "a word for every stochastic decay");
                    xs.iter_mut().zip(draws).for_each(|(x, &w)| decay(x, w));
                } else {
                    let words = draws.iter().step_by(stride);
                    assert!(words.len() >= xs.len(), "a word for every stochastic decay");
                    xs.iter_mut().zip(words).for_each(|(x, &w)| decay(x, w));
                }
            }
            _ => {
                // Floor and nearest never draw (`round_shift`): any LFSR does.
                let mut unused = Lfsr::new(1);
                for x in xs {
                    *x = self.decay(*x, &mut unused);
                }
            }
        }
    }

    /// Value after a spike: `min(x + inc, max)` (all-to-all) or `inc` (nearest).
    #[inline(always)]
    pub fn bump(&self, x: u16) -> u16 {
        match self.pairing {
            Pairing::AllToAll => self.fmt.sat(x as i64 + self.inc) as u16,
            Pairing::Nearest => self.inc as u16,
        }
    }
}

/// One trace's f64 constants.
#[derive(Clone, Copy, Debug)]
pub struct TraceFloat {
    /// Range (saturation).
    pub fmt: Format,
    /// `exp(-dt/tau)`.
    pub alpha: f64,
    /// Increment.
    pub inc: f64,
    /// Pairing scheme.
    pub pairing: Pairing,
}

impl TraceFloat {
    /// `x := x * exp(-dt/tau)`.
    #[inline(always)]
    pub fn decay(&self, x: f64) -> f64 {
        x * self.alpha
    }

    /// As [`TraceFixed::bump`].
    #[inline(always)]
    pub fn bump(&self, x: f64) -> f64 {
        match self.pairing {
            Pairing::AllToAll => self.fmt.sat_real(x + self.inc),
            Pairing::Nearest => self.inc,
        }
    }
}

/// The four traces of a network, fixed-point.
#[derive(Clone, Copy, Debug)]
pub struct TracesFixed {
    /// Pre, pair.
    pub x1: TraceFixed,
    /// Pre, triplet.
    pub x2: TraceFixed,
    /// Post, pair.
    pub y1: TraceFixed,
    /// Post, triplet.
    pub y2: TraceFixed,
}

/// The four traces of a network, f64.
#[derive(Clone, Copy, Debug)]
pub struct TracesFloat {
    /// Pre, pair.
    pub x1: TraceFloat,
    /// Pre, triplet.
    pub x2: TraceFloat,
    /// Post, pair.
    pub y1: TraceFloat,
    /// Post, triplet.
    pub y2: TraceFloat,
}

impl TracesFixed {
    /// Derive from a validated network.
    pub fn new(net: &crate::config::Network) -> Self {
        let p = net.cfg.traces.pairing;
        let k = &net.k;
        let t = |fmt, rounding, decay, inc| TraceFixed { fmt, rounding, decay, inc, pairing: p };
        TracesFixed {
            x1: t(net.fmt.x1, net.rnd.x1, k.decay_x1, k.inc_x1),
            x2: t(net.fmt.x2, net.rnd.x2, k.decay_x2, k.inc_x2),
            y1: t(net.fmt.y1, net.rnd.y1, k.decay_y1, k.inc_y1),
            y2: t(net.fmt.y2, net.rnd.y2, k.decay_y2, k.inc_y2),
        }
    }
}

impl TracesFloat {
    /// Derive from a validated network.
    pub fn new(net: &crate::config::Network) -> Self {
        let c = &net.cfg;
        let dt = c.network.dt_ms;
        let t = |fmt, tau: f64| TraceFloat {
            fmt,
            alpha: (-dt / tau).exp(),
            inc: c.traces.increment,
            pairing: c.traces.pairing,
        };
        TracesFloat {
            x1: t(net.fmt.x1, c.traces.tau_plus_ms),
            x2: t(net.fmt.x2, c.traces.tau_x_ms),
            y1: t(net.fmt.y1, c.traces.tau_minus_ms),
            y2: t(net.fmt.y2, c.traces.tau_y_ms),
        }
    }
}
