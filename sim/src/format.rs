//! Fixed-point number formats, rounding and saturation (docs/semantics.md §1, §2).
//!
//! A value is stored as a raw two's-complement integer `raw` and means `raw * 2^-frac`.
//! Every narrowing operation in the bit-accurate model goes through [`round_shift`], so
//! the three rounding modes are defined in exactly one place.

use serde::{Deserialize, Serialize};

use crate::lfsr::Lfsr;

/// How a value is rounded when low bits are discarded (semantics §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Rounding {
    /// Discard the low bits: round toward minus infinity (an arithmetic shift).
    #[default]
    Floor,
    /// Add half an LSB, then floor: round half up.
    Nearest,
    /// Add `shift` uniformly random bits from the LFSR, then floor. Unbiased in expectation.
    Stochastic,
}

/// How a decaying quantity's per-step factor `exp(-dt/tau)` is quantised (semantics §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Decay {
    /// `a = round(exp(-dt/tau) * 2^16)`, applied with a 16x16 multiply.
    #[default]
    Multiply,
    /// `a = 2^16 - 2^(16-k)` with `k = round(log2(tau/dt))`: the multiply is a shift and a
    /// subtract in hardware. Same arithmetic as `Multiply`, coarser time constant.
    Shift,
}

/// A fixed-point format: `width` bits in all, `frac` of them after the binary point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Format {
    /// Total bits, sign included.
    pub width: u32,
    /// Fraction bits.
    pub frac: u32,
    /// Two's complement when true, unsigned otherwise.
    pub signed: bool,
}

impl Format {
    /// Unsigned format.
    pub const fn unsigned(width: u32, frac: u32) -> Self {
        Format { width, frac, signed: false }
    }

    /// Signed (two's complement) format.
    pub const fn signed(width: u32, frac: u32) -> Self {
        Format { width, frac, signed: true }
    }

    /// Largest raw value.
    pub const fn max_raw(&self) -> i64 {
        if self.signed {
            (1i64 << (self.width - 1)) - 1
        } else {
            (1i64 << self.width) - 1
        }
    }

    /// Smallest raw value.
    pub const fn min_raw(&self) -> i64 {
        if self.signed {
            -(1i64 << (self.width - 1))
        } else {
            0
        }
    }

    /// Value of one LSB.
    pub fn lsb(&self) -> f64 {
        (-(self.frac as f64)).exp2()
    }

    /// Largest representable real value.
    pub fn max_real(&self) -> f64 {
        self.to_real(self.max_raw())
    }

    /// Smallest representable real value.
    pub fn min_real(&self) -> f64 {
        self.to_real(self.min_raw())
    }

    /// The real value a raw word stands for.
    pub fn to_real(&self, raw: i64) -> f64 {
        raw as f64 * self.lsb()
    }

    /// Nearest raw value to `x` (ties away from zero), or `None` when it does not fit.
    pub fn quantize(&self, x: f64) -> Option<i64> {
        let raw = (x / self.lsb()).round();
        if !raw.is_finite() || raw > self.max_raw() as f64 || raw < self.min_raw() as f64 {
            None
        } else {
            Some(raw as i64)
        }
    }

    /// Clamp a raw value into the format (saturation).
    #[inline(always)]
    pub fn sat(&self, raw: i64) -> i64 {
        raw.clamp(self.min_raw(), self.max_raw())
    }

    /// Clamp a real value into the format's range (the float model's saturation).
    #[inline(always)]
    pub fn sat_real(&self, x: f64) -> f64 {
        x.clamp(self.min_real(), self.max_real())
    }

    /// `Q<int>.<frac>` notation, with a `s` prefix for signed formats.
    pub fn q_name(&self) -> String {
        let sign = if self.signed { "s" } else { "u" };
        format!("{sign}Q{}.{}", self.width as i64 - self.frac as i64, self.frac)
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.q_name())
    }
}

/// Divide `v` by `2^shift` with the given rounding (semantics §2).
///
/// `Stochastic` draws one 32-bit word from `lfsr` on every call, whatever `shift` is, and adds
/// its top `shift` bits. `Floor` and `Nearest` never touch the LFSR. `shift` is at most 32.
#[inline(always)]
pub fn round_shift(v: i64, shift: u32, mode: Rounding, lfsr: &mut Lfsr) -> i64 {
    debug_assert!(shift <= 32);
    match mode {
        Rounding::Floor => v >> shift,
        Rounding::Nearest => {
            if shift == 0 {
                v
            } else {
                (v + (1i64 << (shift - 1))) >> shift
            }
        }
        Rounding::Stochastic => {
            let word = lfsr.draw();
            let r = if shift == 0 { 0 } else { (word >> (32 - shift)) as i64 };
            (v + r) >> shift
        }
    }
}

/// `x.clamp(lo, hi)` for `lo <= hi`, without branches: weight bounds are hit at random, and a
/// mispredicted branch per synapse costs the model a fifth of its speed.
#[inline(always)]
pub fn clamp_branchless(x: i64, lo: i64, hi: i64) -> i64 {
    debug_assert!(lo <= hi);
    let below = x - lo;
    let x = x - (below & (below >> 63)); // max(x, lo)
    let above = x - hi;
    hi + (above & (above >> 63)) // min(x, hi)
}

/// Decay a raw value by the U0.16 factor `a`: the magnitude is multiplied and rounded, the
/// sign is kept, so a negative membrane decays toward zero exactly as a positive one does.
#[inline(always)]
pub fn decay_raw(q: i64, a: u16, mode: Rounding, lfsr: &mut Lfsr) -> i64 {
    let m = round_shift(q.abs() * a as i64, 16, mode, lfsr);
    if q < 0 {
        -m
    } else {
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_rounds_toward_minus_infinity() {
        let mut l = Lfsr::new(1);
        assert_eq!(round_shift(7, 2, Rounding::Floor, &mut l), 1);
        assert_eq!(round_shift(-7, 2, Rounding::Floor, &mut l), -2);
    }

    #[test]
    fn nearest_rounds_half_up() {
        let mut l = Lfsr::new(1);
        assert_eq!(round_shift(6, 2, Rounding::Nearest, &mut l), 2); // 1.5 -> 2
        assert_eq!(round_shift(5, 2, Rounding::Nearest, &mut l), 1); // 1.25 -> 1
        assert_eq!(round_shift(-6, 2, Rounding::Nearest, &mut l), -1); // -1.5 -> -1
    }

    #[test]
    fn decay_is_symmetric_in_sign() {
        let mut l = Lfsr::new(1);
        let a = 60000u16;
        for q in [-1000i64, -3, -1, 0, 1, 3, 1000] {
            assert_eq!(
                decay_raw(q, a, Rounding::Floor, &mut l),
                -decay_raw(-q, a, Rounding::Floor, &mut l)
            );
        }
        assert_eq!(decay_raw(-1, a, Rounding::Floor, &mut l), 0);
    }

    #[test]
    fn branchless_clamp_is_clamp() {
        for x in -70_000i64..70_000 {
            assert_eq!(clamp_branchless(x, -3, 65_535), x.clamp(-3, 65_535));
            assert_eq!(clamp_branchless(x, 5, 5), 5);
        }
    }

    #[test]
    fn formats_report_ranges() {
        let f = Format::signed(16, 8);
        assert_eq!(f.max_raw(), 32767);
        assert_eq!(f.min_raw(), -32768);
        assert_eq!(f.q_name(), "sQ8.8");
        assert_eq!(f.quantize(1.0), Some(256));
        assert_eq!(f.quantize(200.0), None);
        let u = Format::unsigned(8, 8);
        assert_eq!(u.max_real(), 255.0 / 256.0);
    }
}
