//! The pseudo-random source of stochastic rounding (docs/semantics.md §2.1).
//!
//! A 32-bit Galois LFSR, shifting right, with feedback mask `0x8020_0003`
//! (x^32 + x^22 + x^2 + x + 1, a maximal-length polynomial: period 2^32 - 1).
//! One *draw* advances the register 32 single steps and returns the new state, so consecutive
//! draws share no bits. Hardware implements a draw as one 32x32 XOR network per clock.

/// Feedback mask of the Galois LFSR.
pub const LFSR_TAPS: u32 = 0x8020_0003;

/// Golden-ratio increment that spreads the per-neuron seeds (semantics §2.1).
pub const NEURON_SEED_STRIDE: u32 = 0x9E37_79B9;

/// Constant XORed into the seed of the input-side LFSR.
pub const INPUT_SEED_SALT: u32 = 0x6A09_E667;

/// One single step of the register.
#[inline(always)]
pub const fn lfsr_step(s: u32) -> u32 {
    let lsb = s & 1;
    (s >> 1) ^ (LFSR_TAPS & 0u32.wrapping_sub(lsb))
}

const fn advance(mut s: u32, n: u32) -> u32 {
    let mut k = 0;
    while k < n {
        s = lfsr_step(s);
        k += 1;
    }
    s
}

/// The step is linear over GF(2), so 32 steps are the XOR of four byte-indexed tables.
const JUMP32: [[u32; 256]; 4] = {
    let mut t = [[0u32; 256]; 4];
    let mut byte = 0;
    while byte < 4 {
        let mut v = 0;
        while v < 256 {
            t[byte][v] = advance((v as u32) << (8 * byte), 32);
            v += 1;
        }
        byte += 1;
    }
    t
};

/// A 32-bit Galois LFSR. The all-zero state is never used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lfsr(u32);

impl Lfsr {
    /// Start from `seed`; a zero seed becomes 1 (zero is the LFSR's dead state).
    pub const fn new(seed: u32) -> Self {
        Lfsr(if seed == 0 { 1 } else { seed })
    }

    /// The LFSR of neuron `j`: `seed ^ ((j + 1) * 0x9E3779B9 mod 2^32)`, zero replaced by 1.
    pub const fn for_neuron(seed: u32, j: u32) -> Self {
        Lfsr::new(seed ^ (j.wrapping_add(1)).wrapping_mul(NEURON_SEED_STRIDE))
    }

    /// The LFSR of the input side (input traces): `seed ^ 0x6A09E667`, zero replaced by 1.
    pub const fn for_inputs(seed: u32) -> Self {
        Lfsr::new(seed ^ INPUT_SEED_SALT)
    }

    /// Current state.
    pub const fn state(&self) -> u32 {
        self.0
    }

    /// Advance 32 steps and return the new state: one random word.
    #[inline(always)]
    pub fn draw(&mut self) -> u32 {
        let s = self.0;
        self.0 = JUMP32[0][(s & 0xff) as usize]
            ^ JUMP32[1][((s >> 8) & 0xff) as usize]
            ^ JUMP32[2][((s >> 16) & 0xff) as usize]
            ^ JUMP32[3][(s >> 24) as usize];
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draw_equals_32_single_steps() {
        let mut l = Lfsr::new(0xDEAD_BEEF);
        let mut s = 0xDEAD_BEEFu32;
        for _ in 0..1000 {
            s = advance(s, 32);
            assert_eq!(l.draw(), s);
        }
    }

    #[test]
    fn known_first_steps() {
        // Hand-worked: 1 -> lsb 1 -> (0) ^ taps.
        assert_eq!(lfsr_step(1), LFSR_TAPS);
        assert_eq!(lfsr_step(2), 1);
        assert_eq!(lfsr_step(LFSR_TAPS), (LFSR_TAPS >> 1) ^ LFSR_TAPS);
    }

    #[test]
    fn zero_seed_is_replaced() {
        assert_eq!(Lfsr::new(0).state(), 1);
        assert_ne!(Lfsr::for_neuron(0x9E37_79B9, 0).state(), 0);
    }

    #[test]
    fn no_short_cycle_in_first_million_steps() {
        let start = 1u32;
        let mut s = lfsr_step(start);
        for _ in 0..1_000_000 {
            assert_ne!(s, start);
            s = lfsr_step(s);
        }
    }
}
