// Verilator driver of synforge_board_top for host-side tests: bytes from standard input go
// to the top's uart_rx as 8N1 frames, bytes the top sends on uart_tx come out on standard
// output. `+div=N` sets the clocks per UART bit (the top must be generated with the same).
// The simulation ends when standard input is closed and the line has been quiet for a while,
// or after +idle=N quiet clocks (default 50 M) so that a host never waits forever.
// +stamps=FILE writes a line per byte to FILE: `h <clock>` when a host byte's start bit
// begins, `b <clock>` when a board byte's stop bit is sampled (the bridge's timing, measured).
#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>

#include "Vsynforge_board_top.h"
#include "verilated.h"

static long plusarg(int argc, char** argv, const char* name, long dflt) {
    const size_t n = strlen(name);
    for (int i = 1; i < argc; ++i)
        if (argv[i][0] == '+' && !strncmp(argv[i] + 1, name, n) && argv[i][1 + n] == '=')
            return atol(argv[i] + 2 + n);
    return dflt;
}

int main(int argc, char** argv) {
    const std::unique_ptr<VerilatedContext> ctx{new VerilatedContext};
    ctx->commandArgs(argc, argv);
    const std::unique_ptr<Vsynforge_board_top> top{new Vsynforge_board_top{ctx.get()}};
    const long div = plusarg(argc, argv, "div", 8);
    const long idle_max = plusarg(argc, argv, "idle", 50000000);
    const char* stamps_arg = ctx->commandArgsPlusMatch("stamps=");
    FILE* stamps = nullptr;
    if (stamps_arg && *stamps_arg) {
        stamps = fopen(stamps_arg + strlen("+stamps="), "w");
        if (!stamps) { perror("+stamps"); return 2; }
        setvbuf(stamps, nullptr, _IOLBF, 0);  // whole lines even when the host kills the run
    }
    std::deque<unsigned char> inq;
    bool eof = false;
    int tx_left = 0, tx_cnt = 0;
    unsigned tx_sh = 0;
    int rx_state = 0, rx_cnt = 0, rx_n = 0;
    unsigned rx_byte = 0;
    long quiet = 0;
    top->uart_rx = 1;
    top->clk = 0;
    top->eval();
    for (unsigned long cyc = 0; !ctx->gotFinish(); ++cyc) {
        if (!eof && inq.empty() && (cyc & 255) == 0) {
            pollfd p{0, POLLIN, 0};
            if (poll(&p, 1, 0) > 0) {
                unsigned char buf[4096];
                const ssize_t n = read(0, buf, sizeof buf);
                if (n <= 0) eof = true;
                else inq.insert(inq.end(), buf, buf + n);
            }
        }
        if (tx_left == 0 && !inq.empty() && cyc >= 1024) {  // after the power-on reset
            tx_sh = (1u << 9) | (unsigned(inq.front()) << 1);
            inq.pop_front();
            tx_left = 10;
            tx_cnt = div;
            if (stamps) fprintf(stamps, "h %lu\n", cyc);
        }
        if (tx_left) {
            top->uart_rx = tx_sh & 1;
            if (--tx_cnt == 0) {
                tx_sh >>= 1;
                --tx_left;
                tx_cnt = div;
            }
        } else {
            top->uart_rx = 1;
        }
        top->clk = 1;
        top->eval();
        top->clk = 0;
        top->eval();
        const unsigned t = top->uart_tx & 1;
        if (rx_state == 0) {
            if (!t) { rx_state = 1; rx_cnt = div / 2; rx_n = 0; }
        } else if (--rx_cnt == 0) {
            rx_cnt = div;
            if (rx_n == 0) {
                rx_n = 1;
            } else if (rx_n <= 8) {
                rx_byte = (rx_byte >> 1) | (t << 7);
                ++rx_n;
            } else {
                if (t) {
                    if (stamps) fprintf(stamps, "b %lu\n", cyc);  // before the host can see it
                    putchar(int(rx_byte & 0xff));
                    fflush(stdout);
                }
                rx_state = 0;
            }
        }
        const bool active = tx_left || rx_state || !inq.empty();
        quiet = active ? 0 : quiet + 1;
        if (quiet > idle_max || (eof && quiet > 100000)) break;
    }
    top->final();
    if (stamps) fclose(stamps);
    return 0;
}
