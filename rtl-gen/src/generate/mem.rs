//! The core's memories: simple dual-port RAMs (one write port, one registered read port),
//! written so that Yosys infers iCE40 EBR or ECP5 DP16KD and Verilator runs them as arrays.
//! No twin in `sim/`: a memory holds, it does not compute.

use std::fmt::Write;

/// `module <name>(clk, we, wa, wd, ra, rd)`: `depth` words of `width` bits.
/// `we`, `wa`, `wd` in: write `wd` at `wa` on the rising edge when `we`. `ra` in, `rd` out:
/// `rd` is the word at `ra` one clock later (read-first is never needed: the controller never
/// reads and writes one address in the same cycle, hence `no_rw_check`). No reset, no initial
/// contents: the controller's init clears what must start at zero.
pub fn ram_module(name: &str, width: u32, depth: u32) -> String {
    let aw = crate::verilog::bits_for(depth.saturating_sub(1) as u64);
    let mut v = String::new();
    writeln!(v, "// {name}: {depth} x {width} simple dual-port RAM, registered read.").unwrap();
    writeln!(v, "module {name} (").unwrap();
    writeln!(v, "    input  wire clk,\n    input  wire we,\n    input  wire [{0}:0] wa,\n    input  wire [{1}:0] wd,\n    input  wire [{0}:0] ra,\n    output reg  [{1}:0] rd\n);", aw - 1, width - 1).unwrap();
    writeln!(v, "    (* no_rw_check *) reg [{}:0] mem [0:{}];", width - 1, depth - 1).unwrap();
    v.push_str("    always @(posedge clk) begin\n        if (we) mem[wa] <= wd;\n        rd <= mem[ra];\n    end\nendmodule\n");
    v
}

/// `module <name>(clk, we, wa, wd, ra, rd)`: `depth` words of `width` bits behind one port,
/// the shape Yosys maps to the UP5K's SPRAM. The address is `wa` when `we`, else `ra`; a
/// write leaves `rd` unchanged ("no change"), a read updates it one clock later. The
/// controller never reads and writes in one cycle and never uses `rd` after a write before
/// its next read.
pub fn sp_ram_module(name: &str, width: u32, depth: u32) -> String {
    let aw = crate::verilog::bits_for(depth.saturating_sub(1) as u64);
    let mut v = String::new();
    writeln!(
        v,
        "// {name}: {depth} x {width} single-port RAM, no change on write, registered read."
    )
    .unwrap();
    writeln!(v, "module {name} (").unwrap();
    writeln!(v, "    input  wire clk,\n    input  wire we,\n    input  wire [{0}:0] wa,\n    input  wire [{1}:0] wd,\n    input  wire [{0}:0] ra,\n    output reg  [{1}:0] rd\n);", aw - 1, width - 1).unwrap();
    writeln!(v, "    reg [{}:0] mem [0:{}];", width - 1, depth - 1).unwrap();
    writeln!(
        v,
        "    wire [{}:0] a = we ? wa : ra; // one address: what makes it single-port",
        aw - 1
    )
    .unwrap();
    v.push_str("    always @(posedge clk) begin\n        if (we) mem[a] <= wd;\n        else rd <= mem[a];\n    end\nendmodule\n");
    v
}
