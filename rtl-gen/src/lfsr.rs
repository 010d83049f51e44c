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
    let cols: Vec<u32> = (0..32).map(|k| Lfsr::new(1u32 << k).draw()).collect();
    std::array::from_fn(|row| {
        (0..32).filter(|&col| cols[col] >> row & 1 == 1).fold(0u32, |m, col| m | 1 << col)
    })
}

/// `module sf_lfsr_draw(input [31:0] s, output [31:0] d)`: `d` = one draw from `s`.
pub fn module() -> String {
    let mut v = String::new();
    v.push_str(
        "// One LFSR draw: 32 Galois steps, mask 0x80200003 (semantics 2.1), as an XOR network.\n",
    );
    v.push_str("module sf_lfsr_draw (\n    input  wire [31:0] s,\n    output wire [31:0] d\n);\n");
    for (k, row) in draw_rows().iter().enumerate() {
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
