//! One LFSR draw (docs/semantics.md §2.1) as a single XOR network.
//! Twin of `sim/src/lfsr.rs`.
//!
//! A draw advances the 32-bit Galois register 32 single steps. That map is linear over GF(2),
//! so the generator computes its 32x32 matrix once (column `k` is the draw of `1 << k`) and
//! emits one XOR per output bit: a draw costs one clock and about 100 iCE40 LUTs.

use std::fmt::Write;

use synforge_sim::lfsr::Lfsr;

/// Row `k` of the draw matrix: the mask of input bits that XOR into output bit `k`.
pub fn draw_rows() -> [u32; 32] {
    jump_rows(1)
}

/// Rows of the matrix of `n` consecutive draws (`n >= 1`): still one XOR per output bit,
/// so `n` draws cost the logic depth of one.
pub fn jump_rows(n: u32) -> [u32; 32] {
    let cols: Vec<u32> = (0..32)
        .map(|k| {
            let mut l = Lfsr::new(1u32 << k);
            (0..n).fold(0, |_, _| l.draw())
        })
        .collect();
    std::array::from_fn(|row| {
        (0..32).filter(|&col| cols[col] >> row & 1 == 1).fold(0u32, |m, col| m | 1 << col)
    })
}

/// `module sf_lfsr_draw(input [31:0] s, output [31:0] d)`: `d` = one draw from `s`.
pub fn module() -> String {
    jump_module(1)
}

/// The module of `n` draws at once: `sf_lfsr_draw` for 1, `sf_lfsr_draw<n>` otherwise.
pub fn jump_module(n: u32) -> String {
    let name = if n == 1 { "sf_lfsr_draw".to_string() } else { format!("sf_lfsr_draw{n}") };
    let mut v = String::new();
    writeln!(
        v,
        "// {n} LFSR draw(s) at once: {} Galois steps, mask 0x80200003 (semantics 2.1), as one XOR network.",
        32 * n
    )
    .unwrap();
    writeln!(v, "module {name} (\n    input  wire [31:0] s,\n    output wire [31:0] d\n);")
        .unwrap();
    for (k, row) in jump_rows(n).iter().enumerate() {
        writeln!(v, "    assign d[{k}] = ^(s & 32'h{row:08x});").unwrap();
    }
    v.push_str("endmodule\n");
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(rows: &[u32; 32], s: u32) -> u32 {
        (0..32).fold(0, |d, k| d | ((rows[k] & s).count_ones() & 1) << k)
    }

    #[test]
    fn jumps_equal_repeated_draws() {
        for n in 1..=4 {
            let rows = jump_rows(n);
            let mut s = 0xdead_beefu32;
            for _ in 0..1000 {
                let mut l = Lfsr::new(s);
                let want = (0..n).fold(0, |_, _| l.draw());
                assert_eq!(apply(&rows, s), want, "{n} draws from {s:#x}");
                s = s.wrapping_mul(0x9E37_79B9).wrapping_add(11);
            }
        }
    }

    #[test]
    fn matrix_equals_the_model_draw() {
        let rows = draw_rows();
        let mut s = 0x1234_5678u32;
        for _ in 0..10_000 {
            let mut l = Lfsr::new(s);
            assert_eq!(apply(&rows, s), l.draw());
            s = s.wrapping_mul(0x9E37_79B9).wrapping_add(7);
        }
    }
}
