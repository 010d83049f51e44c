// A free-running clock around tb.v, for event-driven simulators (Icarus, Questa, ...):
//   iverilog -o sim tb_clock.v tb.v <core files> && vvp sim +cmd=commands.txt
// Verilator drives tb.clk from main.cpp instead.
module tb_clock;
    reg clk = 1'b0;
    always #1 clk = ~clk;
    tb u_tb (.clk(clk));
endmodule
