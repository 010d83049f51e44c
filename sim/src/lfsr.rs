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

/// `steps` single steps as four byte-indexed tables: the step is linear over GF(2), so `steps`
/// steps of a state are the XOR of its four bytes' entries.
const fn jump_tables(steps: u32) -> [[u32; 256]; 4] {
    let mut t = [[0u32; 256]; 4];
    let mut byte = 0;
    while byte < 4 {
        let mut v = 0;
        while v < 256 {
            t[byte][v] = advance((v as u32) << (8 * byte), steps);
            v += 1;
        }
        byte += 1;
    }
    t
}

/// One draw (32 single steps).
const JUMP32: [[u32; 256]; 4] = jump_tables(32);

/// Four draws (128 single steps): the stride of [`Lfsr::fill`]'s four interleaved chains.
const JUMP128: [[u32; 256]; 4] = jump_tables(128);

/// `s` through a byte-indexed jump table.
#[inline(always)]
const fn jump(t: &[[u32; 256]; 4], s: u32) -> u32 {
    t[0][(s & 0xff) as usize]
        ^ t[1][((s >> 8) & 0xff) as usize]
        ^ t[2][((s >> 16) & 0xff) as usize]
        ^ t[3][(s >> 24) as usize]
}

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
        self.0 = jump(&JUMP32, self.0);
        self.0
    }

    /// Fill `out` with the next `out.len()` draws, as that many calls of [`Lfsr::draw`] would,
    /// leaving the same state. Each draw depends on the one before, a serial chain of table
    /// lookups; here four chains run side by side, each jumping four draws at a time, so a
    /// core overlaps their lookups.
    pub fn fill(&mut self, out: &mut [u32]) {
        let head = out.len().min(4);
        for w in &mut out[..head] {
            *w = self.draw();
        }
        if out.len() <= 4 {
            return;
        }
        let mut c = [out[0], out[1], out[2], out[3]];
        let mut rest = out[4..].chunks_exact_mut(4);
        for ch in &mut rest {
            c = [
                jump(&JUMP128, c[0]),
                jump(&JUMP128, c[1]),
                jump(&JUMP128, c[2]),
                jump(&JUMP128, c[3]),
            ];
            ch.copy_from_slice(&c);
        }
        for (w, &s) in rest.into_remainder().iter_mut().zip(&c) {
            *w = jump(&JUMP128, s);
        }
        self.0 = *out.last().expect("more than four draws");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_equals_draws_one_by_one_for_every_length() {
        for n in 0..40 {
            let (mut a, mut b) = (Lfsr::new(0xDEAD_BEEF), Lfsr::new(0xDEAD_BEEF));
            let one_by_one: Vec<u32> = (0..n).map(|_| a.draw()).collect();
            let mut filled = vec![0; n];
            b.fill(&mut filled);
            assert_eq!(filled, one_by_one, "{n} draws");
            assert_eq!(a, b, "state after {n} draws");
        }
    }

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
