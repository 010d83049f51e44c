// Behavioural models of the two ECP5 primitives Yosys ships no simulation body for: the
// DP16KD block RAM (its cells_sim.v declares it as a black box) and the MULT18X18D multiplier
// (only in cells_bb.v). synforge's own, written from Lattice's ECP5 sysMEM and sysDSP usage
// guides (TN1264, TN1267) for the modes Yosys's synth_ecp5 instantiates; anything else stops
// the simulation rather than guess. Used only by the gate-level co-simulation
// (`synforge cosim --gates ecp5`), which compiles the netlist with Yosys's cells_sim.v minus its
// DP16KD declaration, plus this file.
//
// Lint waivers: the models have every port of the primitives, most unused here.
/* verilator lint_off UNUSEDSIGNAL */
/* verilator lint_off UNUSEDPARAM */

// DP16KD: 18 Kbit true dual-port block RAM. Each port is 16K x 1, 8K x 2, 4K x 4, 2K x 9 or
// 1K x 18 (DATA_WIDTH_x); this model requires both ports to have the same width. Width 36 on
// both is the pseudo-dual-port 512 x 36 mode: port A writes {DIB, DIA} at ADA[13:5] with
// ADA[3:0] enabling its four 9-bit bytes, port B reads {DOB, DOA} at ADB[13:5]. Address bits
// below the word (AD[3:0] at width 18, AD[2:0] at 9, ...) are unused, except that at width 18
// AD[1] and AD[0] enable the upper and lower 9-bit byte of a write. A port acts on the rising
// edge of its clock when CE is high and {CS2, CS1, CS0} equals CSDECODE_x: it writes DI when
// WE is high, and its output latch takes the word at AD: the old word when WRITEMODE_x is
// READBEFOREWRITE, the written one when WRITETHROUGH, unchanged by a write when NORMAL.
// REGMODE_x = OUTREG adds the output register, loaded when OCE is high. RST clears the output
// (synchronously; Yosys ties it low).
module DP16KD (
    input DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0,
    input ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2, ADA1, ADA0,
    input CEA, OCEA, CLKA, WEA, RSTA,
    input CSA2, CSA1, CSA0,
    output DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6, DOA5, DOA4, DOA3, DOA2, DOA1, DOA0,
    input DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7, DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0,
    input ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2, ADB1, ADB0,
    input CEB, OCEB, CLKB, WEB, RSTB,
    input CSB2, CSB1, CSB0,
    output DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0
);
    parameter DATA_WIDTH_A = 18;
    parameter DATA_WIDTH_B = 18;
    parameter REGMODE_A = "NOREG";
    parameter REGMODE_B = "NOREG";
    parameter RESETMODE = "SYNC";
    parameter ASYNC_RESET_RELEASE = "SYNC";
    parameter CSDECODE_A = "0b000";
    parameter CSDECODE_B = "0b000";
    parameter WRITEMODE_A = "NORMAL";
    parameter WRITEMODE_B = "NORMAL";
    parameter GSR = "ENABLED";
    parameter CLKAMUX = "CLKA";
    parameter CLKBMUX = "CLKB";
    parameter INIT_DATA = "STATIC";
    // Initial contents: Yosys writes them for every block; the core's memories have none
    // (init and the host write what is read), so the model starts at zero and ignores them.
    parameter INITVAL_00 = 320'h0;
    parameter INITVAL_01 = 320'h0;
    parameter INITVAL_02 = 320'h0;
    parameter INITVAL_03 = 320'h0;
    parameter INITVAL_04 = 320'h0;
    parameter INITVAL_05 = 320'h0;
    parameter INITVAL_06 = 320'h0;
    parameter INITVAL_07 = 320'h0;
    parameter INITVAL_08 = 320'h0;
    parameter INITVAL_09 = 320'h0;
    parameter INITVAL_0A = 320'h0;
    parameter INITVAL_0B = 320'h0;
    parameter INITVAL_0C = 320'h0;
    parameter INITVAL_0D = 320'h0;
    parameter INITVAL_0E = 320'h0;
    parameter INITVAL_0F = 320'h0;
    parameter INITVAL_10 = 320'h0;
    parameter INITVAL_11 = 320'h0;
    parameter INITVAL_12 = 320'h0;
    parameter INITVAL_13 = 320'h0;
    parameter INITVAL_14 = 320'h0;
    parameter INITVAL_15 = 320'h0;
    parameter INITVAL_16 = 320'h0;
    parameter INITVAL_17 = 320'h0;
    parameter INITVAL_18 = 320'h0;
    parameter INITVAL_19 = 320'h0;
    parameter INITVAL_1A = 320'h0;
    parameter INITVAL_1B = 320'h0;
    parameter INITVAL_1C = 320'h0;
    parameter INITVAL_1D = 320'h0;
    parameter INITVAL_1E = 320'h0;
    parameter INITVAL_1F = 320'h0;
    parameter INITVAL_20 = 320'h0;
    parameter INITVAL_21 = 320'h0;
    parameter INITVAL_22 = 320'h0;
    parameter INITVAL_23 = 320'h0;
    parameter INITVAL_24 = 320'h0;
    parameter INITVAL_25 = 320'h0;
    parameter INITVAL_26 = 320'h0;
    parameter INITVAL_27 = 320'h0;
    parameter INITVAL_28 = 320'h0;
    parameter INITVAL_29 = 320'h0;
    parameter INITVAL_2A = 320'h0;
    parameter INITVAL_2B = 320'h0;
    parameter INITVAL_2C = 320'h0;
    parameter INITVAL_2D = 320'h0;
    parameter INITVAL_2E = 320'h0;
    parameter INITVAL_2F = 320'h0;
    parameter INITVAL_30 = 320'h0;
    parameter INITVAL_31 = 320'h0;
    parameter INITVAL_32 = 320'h0;
    parameter INITVAL_33 = 320'h0;
    parameter INITVAL_34 = 320'h0;
    parameter INITVAL_35 = 320'h0;
    parameter INITVAL_36 = 320'h0;
    parameter INITVAL_37 = 320'h0;
    parameter INITVAL_38 = 320'h0;
    parameter INITVAL_39 = 320'h0;
    parameter INITVAL_3A = 320'h0;
    parameter INITVAL_3B = 320'h0;
    parameter INITVAL_3C = 320'h0;
    parameter INITVAL_3D = 320'h0;
    parameter INITVAL_3E = 320'h0;
    parameter INITVAL_3F = 320'h0;

    // The word's low address bit, and the words, for a port width.
    function integer shift_of(input integer w);
        shift_of = (w == 18) ? 4 : (w == 9) ? 3 : (w == 4) ? 2 : (w == 2) ? 1 : 0;
    endfunction
    localparam integer SA = shift_of(DATA_WIDTH_A);
    localparam integer SB = shift_of(DATA_WIDTH_B);
    // "0bXYZ": the last three characters; an ASCII '1' has its low bit set.
    localparam [2:0] CS_A = {CSDECODE_A[16], CSDECODE_A[8], CSDECODE_A[0]};
    localparam [2:0] CS_B = {CSDECODE_B[16], CSDECODE_B[8], CSDECODE_B[0]};

    initial begin
        if (DATA_WIDTH_A != DATA_WIDTH_B)
            $fatal(1, "DP16KD model: ports of different widths (%0d, %0d) are not modelled", DATA_WIDTH_A, DATA_WIDTH_B);
        if (!(DATA_WIDTH_A == 1 || DATA_WIDTH_A == 2 || DATA_WIDTH_A == 4 || DATA_WIDTH_A == 9 || DATA_WIDTH_A == 18 || DATA_WIDTH_A == 36))
            $fatal(1, "DP16KD model: DATA_WIDTH %0d is not a DP16KD width", DATA_WIDTH_A);
    end

    reg [17:0] mem [0:16383];
    integer k;
    initial for (k = 0; k < 16384; k = k + 1) mem[k] = 18'd0;

    wire [13:0] ada = {ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2, ADA1, ADA0};
    wire [13:0] adb = {ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2, ADB1, ADB0};
    wire [17:0] dia = {DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0};
    wire [17:0] dib = {DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7, DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0};
    wire [13:0] wa = ada >> SA;
    wire [13:0] wb = adb >> SB;
    wire [17:0] mask_a = (DATA_WIDTH_A == 18) ? {{9{ADA1}}, {9{ADA0}}} : ((18'd1 << DATA_WIDTH_A) - 18'd1);
    wire [17:0] mask_b = (DATA_WIDTH_B == 18) ? {{9{ADB1}}, {9{ADB0}}} : ((18'd1 << DATA_WIDTH_B) - 18'd1);
    wire [17:0] width_a = (18'h3ffff >> (18 - DATA_WIDTH_A));
    wire [17:0] width_b = (18'h3ffff >> (18 - DATA_WIDTH_B));
    wire on_a = CEA && {CSA2, CSA1, CSA0} == CS_A;
    wire on_b = CEB && {CSB2, CSB1, CSB0} == CS_B;

    reg [17:0] lat_a = 18'd0, lat_b = 18'd0, out_a = 18'd0, out_b = 18'd0;
    wire [17:0] doa, dob;
    generate if (DATA_WIDTH_A == 36) begin : pdp36
        // Word k is mem[2k] (bits 17:0, DIA/DOA) and mem[2k + 1] (bits 35:18, DIB/DOB).
        wire [13:0] lo_w = {ada[13:5], 5'd0} >> 4, lo_r = {adb[13:5], 5'd0} >> 4;
        wire [17:0] be_lo = {{9{ADA1}}, {9{ADA0}}}, be_hi = {{9{ADA3}}, {9{ADA2}}};
        always @(posedge CLKA) if (on_a && WEA) begin
            mem[lo_w] <= (mem[lo_w] & ~be_lo) | (dia & be_lo);
            mem[lo_w + 14'd1] <= (mem[lo_w + 14'd1] & ~be_hi) | (dib & be_hi);
        end
        always @(posedge CLKB) begin
            if (RSTB) begin lat_a <= 18'd0; lat_b <= 18'd0; end
            else if (on_b) begin lat_a <= mem[lo_r]; lat_b <= mem[lo_r + 14'd1]; end
            if (RSTB) begin out_a <= 18'd0; out_b <= 18'd0; end
            else if (OCEB) begin out_a <= lat_a; out_b <= lat_b; end
        end
        assign doa = (REGMODE_B == "OUTREG") ? out_a : lat_a;
        assign dob = (REGMODE_B == "OUTREG") ? out_b : lat_b;
    end else begin : tdp
        always @(posedge CLKA) begin
            if (RSTA) lat_a <= 18'd0;
            else if (on_a) begin
                if (!WEA) lat_a <= mem[wa] & width_a;
                else if (WRITEMODE_A == "READBEFOREWRITE") lat_a <= mem[wa] & width_a;
                else if (WRITEMODE_A == "WRITETHROUGH") lat_a <= ((mem[wa] & ~mask_a) | (dia & mask_a)) & width_a;
            end
            if (on_a && WEA) mem[wa] <= (mem[wa] & ~mask_a) | (dia & mask_a);
            if (RSTA) out_a <= 18'd0;
            else if (OCEA) out_a <= lat_a;
        end
        always @(posedge CLKB) begin
            if (RSTB) lat_b <= 18'd0;
            else if (on_b) begin
                if (!WEB) lat_b <= mem[wb] & width_b;
                else if (WRITEMODE_B == "READBEFOREWRITE") lat_b <= mem[wb] & width_b;
                else if (WRITEMODE_B == "WRITETHROUGH") lat_b <= ((mem[wb] & ~mask_b) | (dib & mask_b)) & width_b;
            end
            if (on_b && WEB) mem[wb] <= (mem[wb] & ~mask_b) | (dib & mask_b);
            if (RSTB) out_b <= 18'd0;
            else if (OCEB) out_b <= lat_b;
        end
        assign doa = (REGMODE_A == "OUTREG") ? out_a : lat_a;
        assign dob = (REGMODE_B == "OUTREG") ? out_b : lat_b;
    end endgenerate
    assign {DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6, DOA5, DOA4, DOA3, DOA2, DOA1, DOA0} = doa;
    assign {DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0} = dob;
endmodule

// MULT18X18D: 18 x 18 multiplier, P = A * B, each operand signed when its SIGNED pin is high.
// Only the combinational mode Yosys instantiates (every REG_* parameter "NONE", SOURCEA/B low:
// the operands come from A and B) is modelled.
module MULT18X18D (
    input A17, A16, A15, A14, A13, A12, A11, A10, A9, A8, A7, A6, A5, A4, A3, A2, A1, A0,
    input B17, B16, B15, B14, B13, B12, B11, B10, B9, B8, B7, B6, B5, B4, B3, B2, B1, B0,
    input C17, C16, C15, C14, C13, C12, C11, C10, C9, C8, C7, C6, C5, C4, C3, C2, C1, C0,
    input SIGNEDA, SIGNEDB, SOURCEA, SOURCEB,
    input CLK3, CLK2, CLK1, CLK0, CE3, CE2, CE1, CE0, RST3, RST2, RST1, RST0,
    input SRIA17, SRIA16, SRIA15, SRIA14, SRIA13, SRIA12, SRIA11, SRIA10, SRIA9, SRIA8, SRIA7, SRIA6, SRIA5, SRIA4, SRIA3, SRIA2, SRIA1, SRIA0,
    input SRIB17, SRIB16, SRIB15, SRIB14, SRIB13, SRIB12, SRIB11, SRIB10, SRIB9, SRIB8, SRIB7, SRIB6, SRIB5, SRIB4, SRIB3, SRIB2, SRIB1, SRIB0,
    output SROA17, SROA16, SROA15, SROA14, SROA13, SROA12, SROA11, SROA10, SROA9, SROA8, SROA7, SROA6, SROA5, SROA4, SROA3, SROA2, SROA1, SROA0,
    output SROB17, SROB16, SROB15, SROB14, SROB13, SROB12, SROB11, SROB10, SROB9, SROB8, SROB7, SROB6, SROB5, SROB4, SROB3, SROB2, SROB1, SROB0,
    output ROA17, ROA16, ROA15, ROA14, ROA13, ROA12, ROA11, ROA10, ROA9, ROA8, ROA7, ROA6, ROA5, ROA4, ROA3, ROA2, ROA1, ROA0,
    output ROB17, ROB16, ROB15, ROB14, ROB13, ROB12, ROB11, ROB10, ROB9, ROB8, ROB7, ROB6, ROB5, ROB4, ROB3, ROB2, ROB1, ROB0,
    output ROC17, ROC16, ROC15, ROC14, ROC13, ROC12, ROC11, ROC10, ROC9, ROC8, ROC7, ROC6, ROC5, ROC4, ROC3, ROC2, ROC1, ROC0,
    output P35, P34, P33, P32, P31, P30, P29, P28, P27, P26, P25, P24, P23, P22, P21, P20, P19, P18,
    output P17, P16, P15, P14, P13, P12, P11, P10, P9, P8, P7, P6, P5, P4, P3, P2, P1, P0,
    output SIGNEDP
);
    parameter REG_INPUTA_CLK = "NONE";
    parameter REG_INPUTA_CE = "CE0";
    parameter REG_INPUTA_RST = "RST0";
    parameter REG_INPUTB_CLK = "NONE";
    parameter REG_INPUTB_CE = "CE0";
    parameter REG_INPUTB_RST = "RST0";
    parameter REG_INPUTC_CLK = "NONE";
    parameter REG_INPUTC_CE = "CE0";
    parameter REG_INPUTC_RST = "RST0";
    parameter REG_PIPELINE_CLK = "NONE";
    parameter REG_PIPELINE_CE = "CE0";
    parameter REG_PIPELINE_RST = "RST0";
    parameter REG_OUTPUT_CLK = "NONE";
    parameter REG_OUTPUT_CE = "CE0";
    parameter REG_OUTPUT_RST = "RST0";
    parameter CLK0_DIV = "ENABLED";
    parameter CLK1_DIV = "ENABLED";
    parameter CLK2_DIV = "ENABLED";
    parameter CLK3_DIV = "ENABLED";
    parameter HIGHSPEED_CLK = "NONE";
    parameter GSR = "ENABLED";
    parameter CAS_MATCH_REG = "FALSE";
    parameter SOURCEB_MODE = "B_SHIFT";
    parameter MULT_BYPASS = "DISABLED";
    parameter RESETMODE = "SYNC";

    initial begin
        if (REG_INPUTA_CLK != "NONE" || REG_INPUTB_CLK != "NONE" || REG_PIPELINE_CLK != "NONE" || REG_OUTPUT_CLK != "NONE")
            $fatal(1, "MULT18X18D model: registered modes are not modelled");
        if (MULT_BYPASS != "DISABLED")
            $fatal(1, "MULT18X18D model: bypass mode is not modelled");
    end
    always @(*) if (SOURCEA || SOURCEB) $fatal(1, "MULT18X18D model: shift-chain operands are not modelled");

    wire [17:0] a = {A17, A16, A15, A14, A13, A12, A11, A10, A9, A8, A7, A6, A5, A4, A3, A2, A1, A0};
    wire [17:0] b = {B17, B16, B15, B14, B13, B12, B11, B10, B9, B8, B7, B6, B5, B4, B3, B2, B1, B0};
    wire [35:0] ax = {{18{SIGNEDA & a[17]}}, a};
    wire [35:0] bx = {{18{SIGNEDB & b[17]}}, b};
    wire [35:0] p = ax * bx;
    assign {P35, P34, P33, P32, P31, P30, P29, P28, P27, P26, P25, P24, P23, P22, P21, P20, P19, P18,
            P17, P16, P15, P14, P13, P12, P11, P10, P9, P8, P7, P6, P5, P4, P3, P2, P1, P0} = p;
    assign SIGNEDP = SIGNEDA | SIGNEDB;
    assign {SROA17, SROA16, SROA15, SROA14, SROA13, SROA12, SROA11, SROA10, SROA9, SROA8, SROA7, SROA6, SROA5, SROA4, SROA3, SROA2, SROA1, SROA0} = a;
    assign {SROB17, SROB16, SROB15, SROB14, SROB13, SROB12, SROB11, SROB10, SROB9, SROB8, SROB7, SROB6, SROB5, SROB4, SROB3, SROB2, SROB1, SROB0} = b;
    assign {ROA17, ROA16, ROA15, ROA14, ROA13, ROA12, ROA11, ROA10, ROA9, ROA8, ROA7, ROA6, ROA5, ROA4, ROA3, ROA2, ROA1, ROA0} = a;
    assign {ROB17, ROB16, ROB15, ROB14, ROB13, ROB12, ROB11, ROB10, ROB9, ROB8, ROB7, ROB6, ROB5, ROB4, ROB3, ROB2, ROB1, ROB0} = b;
    assign {ROC17, ROC16, ROC15, ROC14, ROC13, ROC12, ROC11, ROC10, ROC9, ROC8, ROC7, ROC6, ROC5, ROC4, ROC3, ROC2, ROC1, ROC0} = 18'd0;
endmodule
/* verilator lint_on UNUSEDPARAM */
/* verilator lint_on UNUSEDSIGNAL */
