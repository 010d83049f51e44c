// Verilator driver for the synforge testbench (tb.v): toggles the clock until the testbench
// calls $finish. Everything else (stimulus, checks, dumps) lives in tb.v, in plain Verilog, so
// another simulator runs the same vectors with its own clock (see tb_clock.v).
#include <memory>
#include "Vtb.h"
#include "verilated.h"

int main(int argc, char** argv) {
    const std::unique_ptr<VerilatedContext> ctx{new VerilatedContext};
    ctx->commandArgs(argc, argv);
    ctx->traceEverOn(true);
    const std::unique_ptr<Vtb> top{new Vtb{ctx.get()}};
    top->clk = 0;
    top->eval();
    while (!ctx->gotFinish()) {
        ctx->timeInc(1);
        top->clk = 1;
        top->eval();
        ctx->timeInc(1);
        top->clk = 0;
        top->eval();
    }
    top->final();
    return 0;
}
