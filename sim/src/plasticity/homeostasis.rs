//! Homeostasis: the adaptive threshold and multiplicative synaptic scaling
//! (docs/semantics.md §4.1, §4.6, §5). Twin of `rtl-gen/src/generate/plasticity/homeostasis.rs`.

use crate::config::Network;
use crate::format::{decay_raw, round_shift, Format, Rounding};
use crate::lfsr::Lfsr;

/// Fraction bits of the scaling factor (U2.14).
pub const SCALE_FRAC: u32 = 14;

/// Fixed-point homeostasis constants.
#[derive(Clone, Copy, Debug)]
pub struct HomeostasisFixed {
    /// Adaptive threshold on.
    pub adaptive: bool,
    /// Threshold format.
    pub theta: Format,
    /// Base threshold, raw.
    pub theta0: i64,
    /// Rise per spike, raw.
    pub step: i64,
    /// U0.16 decay.
    pub decay: u16,
    /// Threshold decay rounding.
    pub rounding: Rounding,
    /// Scaling on.
    pub scaling: bool,
    /// Steps between scalings.
    pub period: u32,
    /// Target spike count per period, U.8.
    pub target: i64,
    /// Gain per spike of error, U0.16.
    pub gain: i64,
    /// Weight bounds and rounding.
    pub w_min: i64,
    /// Upper bound.
    pub w_max: i64,
    /// Weight rounding.
    pub w_rounding: Rounding,
}

impl HomeostasisFixed {
    /// Derive from a validated network.
    pub fn new(net: &Network) -> Self {
        let h = &net.cfg.homeostasis;
        HomeostasisFixed {
            adaptive: h.adaptive_threshold,
            theta: net.fmt.theta,
            theta0: net.k.theta0,
            step: net.k.theta_step,
            decay: net.k.decay_theta,
            rounding: net.rnd.theta,
            scaling: h.scaling,
            period: h.scaling_period_steps,
            target: net.k.scale_target,
            gain: net.k.scale_gain,
            w_min: net.k.w_min,
            w_max: net.k.w_max,
            w_rounding: net.rnd.w,
        }
    }

    /// Decay the adaptive part; returns the effective threshold `sat(theta0 + theta_a)`.
    #[inline(always)]
    pub fn decay(&self, theta_a: &mut u32, lfsr: &mut Lfsr) -> i64 {
        if self.adaptive {
            *theta_a = decay_raw(*theta_a as i64, self.decay, self.rounding, lfsr) as u32;
        }
        self.theta.sat(self.theta0 + *theta_a as i64)
    }

    /// After a spike: `theta_a := sat(theta_a + step)`.
    #[inline(always)]
    pub fn bump(&self, theta_a: &mut u32) {
        if self.adaptive {
            *theta_a = self.theta.sat(*theta_a as i64 + self.step) as u32;
        }
    }

    /// Whether step `t` (0-based) ends a scaling period.
    #[inline(always)]
    pub fn scales_at(&self, t: u32) -> bool {
        self.scaling && (t + 1) % self.period == 0
    }

    /// The U2.14 factor for a neuron that fired `count` times in the period:
    /// `clamp(2^14 + ((gain * (target - count * 2^8)) >> 10), 0, 0xFFFF)`.
    #[inline(always)]
    pub fn factor(&self, count: u16) -> i64 {
        let err = self.target - ((count as i64) << 8);
        ((1 << SCALE_FRAC) + ((self.gain * err) >> 10)).clamp(0, 0xFFFF)
    }

    /// Scale one weight: `clamp(round(w * s >> 14), w_min, w_max)`.
    #[inline(always)]
    pub fn scale(&self, w: u16, s: i64, lfsr: &mut Lfsr) -> u16 {
        round_shift(w as i64 * s, SCALE_FRAC, self.w_rounding, lfsr).clamp(self.w_min, self.w_max)
            as u16
    }
}

/// f64 homeostasis constants.
#[derive(Clone, Copy, Debug)]
pub struct HomeostasisFloat {
    /// Adaptive threshold on.
    pub adaptive: bool,
    /// Largest threshold (format maximum).
    pub theta_max: f64,
    /// Base threshold.
    pub theta0: f64,
    /// Rise per spike.
    pub step: f64,
    /// `exp(-dt/tau_theta)`.
    pub alpha: f64,
    /// Scaling on.
    pub scaling: bool,
    /// Steps between scalings.
    pub period: u32,
    /// Target spike count per period.
    pub target: f64,
    /// Gain.
    pub gain: f64,
    /// Bounds.
    pub w_min: f64,
    /// Upper bound.
    pub w_max: f64,
}

impl HomeostasisFloat {
    /// Derive from a validated network.
    pub fn new(net: &Network) -> Self {
        let c = &net.cfg;
        let h = &c.homeostasis;
        HomeostasisFloat {
            adaptive: h.adaptive_threshold,
            theta_max: net.fmt.theta.max_real(),
            theta0: c.neuron.threshold,
            step: h.theta_step,
            alpha: (-c.network.dt_ms / h.tau_theta_ms).exp(),
            scaling: h.scaling,
            period: h.scaling_period_steps,
            target: h.target_rate_hz * h.scaling_period_steps as f64 * c.network.dt_ms / 1000.0,
            gain: h.scaling_gain,
            w_min: c.plasticity.w_min,
            w_max: c.plasticity.w_max,
        }
    }

    /// As [`HomeostasisFixed::decay`].
    #[inline(always)]
    pub fn decay(&self, theta_a: &mut f64) -> f64 {
        if self.adaptive {
            *theta_a *= self.alpha;
        }
        (self.theta0 + *theta_a).min(self.theta_max)
    }

    /// As [`HomeostasisFixed::bump`].
    #[inline(always)]
    pub fn bump(&self, theta_a: &mut f64) {
        if self.adaptive {
            *theta_a = (*theta_a + self.step).min(self.theta_max);
        }
    }

    /// As [`HomeostasisFixed::scales_at`].
    pub fn scales_at(&self, t: u32) -> bool {
        self.scaling && (t + 1) % self.period == 0
    }

    /// As [`HomeostasisFixed::factor`]: `clamp(1 + gain * (T - count) / T, 0, 4 - 2^-14)`.
    pub fn factor(&self, count: u16) -> f64 {
        (1.0 + self.gain * (self.target - count as f64) / self.target).clamp(0.0, 65535.0 / 16384.0)
    }

    /// As [`HomeostasisFixed::scale`].
    pub fn scale(&self, w: f64, s: f64) -> f64 {
        (w * s).clamp(self.w_min, self.w_max)
    }
}
