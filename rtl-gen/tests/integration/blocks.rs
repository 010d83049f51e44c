//! Every combinational datapath block of the core, alone in Verilator, against its twin in
//! synforge-sim: corners, constructed rounding and saturation boundaries (exact halves,
//! stochastic carries, clamp edges) and thousands of random vectors per (block, config), every
//! output compared for every vector.
//!
//! The whole-core co-simulation only sees the values a network happens to produce, so a bias
//! off by one LSB (1 input in 2^shift) goes unnoticed there; here the inputs that tell such a
//! bias apart are built on purpose.
//!
//! One Verilator build per block family: each (block, config) instance is the generated module,
//! renamed apart, on its own ports of a generated top; a generated C++ harness reads lines
//! `instance input...` (hex), evaluates and prints that instance's outputs (hex). The draw word
//! `r` of stochastic rounding is a port; the reference draws it from an `Lfsr` started in the
//! state whose next draw is `r`, so the model's own rounding code is the reference.
//! `SYNFORGE_BLOCKS_SEED` replays another seed.

use std::fmt::Write as _;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use synforge_rtl::plasticity::rule as rule_dp;
use synforge_rtl::tools::build_sim;
use synforge_rtl::verilog::ones;
use synforge_rtl::Layout;
use synforge_sim::config::{Config, FormatSpec, ModulatorSpec, Pairing, Reset, WeightDependence};
use synforge_sim::format::{decay_raw, round_shift, Decay, Format, Rounding};
use synforge_sim::lfsr::{Lfsr, LFSR_TAPS};
use synforge_sim::model::template::Stdp as StdpFixed;
use synforge_sim::neuron::lif::LifFixed;
use synforge_sim::plasticity::homeostasis::HomeostasisFixed;
use synforge_sim::plasticity::random::random_rule_with;
use synforge_sim::plasticity::rule::{Rule, RuleFixed, Slot, Vals, VarVals};
use synforge_sim::trace::{TraceFixed, TracesFixed};
use synforge_sim::Network;

use crate::{build_dir, tools};

/// Random vectors per (block, config), on top of corners and constructed boundaries.
const RANDOM: usize = 4000;
/// Constructed boundary vectors of each kind per (block, config).
const CONSTRUCTED: usize = 300;
/// The default seed; `SYNFORGE_BLOCKS_SEED` overrides it.
const DEFAULT_SEED: u64 = 0x5EED_B10C;

const ROUNDINGS: [Rounding; 3] = [Rounding::Floor, Rounding::Nearest, Rounding::Stochastic];

fn seed() -> u64 {
    match std::env::var("SYNFORGE_BLOCKS_SEED") {
        Ok(s) => s.parse().unwrap_or_else(|_| panic!("SYNFORGE_BLOCKS_SEED={s}: not a u64")),
        Err(_) => DEFAULT_SEED,
    }
}

fn rng_for(salt: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed() ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

// ---------------------------------------------------------------------------------------------
// Values

/// `x`, `w` bits two's complement, as a signed value.
fn sext(x: u64, w: u32) -> i64 {
    ((x << (64 - w)) as i64) >> (64 - w)
}

/// A `width`-bit value, often an edge: zero, all ones, the signed extremes, powers of two.
fn val(rng: &mut ChaCha8Rng, width: u32) -> u64 {
    let max = ones(width);
    let half = max >> 1;
    match rng.random_range(0..16) {
        0 => 0,
        1 => max,
        2 => rng.random_range(0..=max.min(3)),
        3 => max - rng.random_range(0..=max.min(3)),
        4 => 1 << rng.random_range(0..width),
        5 => half - rng.random_range(0..=half.min(2)),
        6 => (half + 1 + rng.random_range(0..=half.min(2))) & max,
        7 => {
            let bits = rng.random_range(1..=width);
            rng.random_range(0..=ones(bits))
        }
        _ => rng.random_range(0..=max),
    }
}

/// A draw word as the LFSR gives it: never zero; often with its top bits all zero or all one.
fn word(rng: &mut ChaCha8Rng) -> u64 {
    match rng.random_range(0..8) {
        0 => 0xFFFF_FFFF,
        1 => rng.random_range(1..=0xFFFF),
        2 => 0xFFFF_0000 | rng.random_range(0..=0xFFFF),
        _ => rng.random_range(1..=0xFFFF_FFFF),
    }
}

/// An LFSR whose next draw is `r`: a draw is a bijection on the non-zero states, so step the
/// register back 32 single steps. (The single step's feedback sets bit 31 to the shifted-out
/// bit, which makes it invertible.)
fn drawing(r: u64) -> Lfsr {
    let r = r as u32;
    assert_ne!(r, 0, "no LFSR state draws zero");
    let mut s = r;
    for _ in 0..32 {
        let lsb = s >> 31;
        s = ((s ^ (LFSR_TAPS & 0u32.wrapping_sub(lsb))) << 1) | lsb;
    }
    let l = Lfsr::new(s);
    let mut probe = l;
    assert_eq!(probe.draw(), r);
    l
}

/// A random `y < 2^ybits` with `x * y = target (mod 2^bits)`, if there is one.
fn solve_mul(rng: &mut ChaCha8Rng, x: u64, target: u64, bits: u32, ybits: u32) -> Option<u64> {
    let (x, target) = (x & ones(bits), target & ones(bits));
    if x == 0 {
        return None;
    }
    let t = x.trailing_zeros();
    if target & ones(t) != 0 {
        return None;
    }
    // (x >> t) * y = target >> t (mod 2^k), x >> t odd: invertible (Newton, 3 bits doubling).
    let k = bits - t;
    let u = x >> t;
    let mut inv = u;
    for _ in 0..5 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(u.wrapping_mul(inv)));
    }
    let y0 = (target >> t).wrapping_mul(inv) & ones(k);
    let ymax = ones(ybits);
    if y0 > ymax {
        return None;
    }
    let j = rng.random_range(0..=(ymax - y0) >> k);
    Some(y0 + (j << k))
}

/// `r` whose top `sh` bits, added to `low` (the `sh` bits rounded away), carry exactly into
/// the next bit (`miss` 0) or miss the carry by one (`miss` 1); `None` when that is zero.
fn carry_word(rng: &mut ChaCha8Rng, low: u64, sh: u32, miss: u64) -> Option<u64> {
    let top = (1u64 << sh).wrapping_sub(low).wrapping_sub(miss) & ones(sh);
    let r = (top << (32 - sh)) | rng.random_range(0..1u64 << (32 - sh));
    (r != 0).then_some(r)
}

// ---------------------------------------------------------------------------------------------
// Instances and benches

#[derive(Clone, Debug)]
struct Port {
    name: &'static str,
    width: u32,
    signed: bool,
}

fn port(name: &'static str, width: u32) -> Port {
    Port { name, width, signed: false }
}

fn sport(name: &'static str, width: u32) -> Port {
    Port { name, width, signed: true }
}

type Reference = Box<dyn Fn(&[u64]) -> Vec<i64>>;

/// One generated block in one configuration, with its vectors and the model's answers.
struct Case {
    label: String,
    module: String,
    text: String,
    ins: Vec<Port>,
    outs: Vec<Port>,
    reference: Reference,
    vectors: Vec<Vec<u64>>,
    expected: Vec<Vec<u64>>,
    /// Vectors built to sit on a rounding or saturation boundary.
    constructed: usize,
}

/// The ports `module <name> (...)` of generated text declares: (name, width, is output).
fn ports_of(text: &str, module: &str) -> Vec<(String, u32, bool)> {
    let head = format!("module {module} (");
    let mut lines = text.lines().skip_while(|l| !l.starts_with(&head));
    assert!(lines.next().is_some(), "no `{head}` in the generated text");
    let mut out = Vec::new();
    for l in lines.take_while(|l| !l.starts_with(");")) {
        let t: Vec<&str> = l.trim().trim_end_matches(',').split_whitespace().collect();
        let (dir, rest) = t.split_first().expect("a port line");
        assert_eq!(rest[0], "wire", "port line `{l}`");
        let (width, name) = match rest {
            [_, range, name] => {
                let msb = range.trim_start_matches('[').split(':').next().unwrap();
                (msb.parse::<u32>().unwrap() + 1, name)
            }
            [_, name] => (1, name),
            _ => panic!("port line `{l}`"),
        };
        out.push((name.to_string(), width, *dir == "output"));
    }
    out
}

impl Case {
    /// `text` declares `module <generated_name>`; it is renamed `<generated_name>__<index>`.
    /// The ports the text declares must be `ins` then `outs`, as derived from the layout.
    fn new(
        label: String,
        (generated_name, index): (&str, usize),
        text: String,
        ins: Vec<Port>,
        outs: Vec<Port>,
        reference: impl Fn(&[u64]) -> Vec<i64> + 'static,
    ) -> Case {
        let declared = ports_of(&text, generated_name);
        let derived: Vec<(String, u32, bool)> = ins
            .iter()
            .map(|p| (p.name.to_string(), p.width, false))
            .chain(outs.iter().map(|p| (p.name.to_string(), p.width, true)))
            .collect();
        assert_eq!(declared, derived, "{label}: the generated ports are not the layout's");
        let module = format!("{generated_name}__{index}");
        let head = format!("module {generated_name} (");
        assert_eq!(text.matches(&head).count(), 1, "{label}: one module per text");
        let text = text.replacen(&head, &format!("module {module} ("), 1);
        Case {
            label,
            module,
            text,
            ins,
            outs,
            reference: Box::new(reference),
            vectors: Vec::new(),
            expected: Vec::new(),
            constructed: 0,
        }
    }

    fn add(&mut self, v: Vec<u64>) {
        assert_eq!(v.len(), self.ins.len(), "{}", self.label);
        for (x, p) in v.iter().zip(&self.ins) {
            assert_eq!(
                x >> p.width,
                0,
                "{}: {}={x:#x} wider than {} bits",
                self.label,
                p.name,
                p.width
            );
        }
        let e = (self.reference)(&v);
        let e = e
            .iter()
            .zip(&self.outs)
            .map(|(&y, p)| {
                let (lo, hi) = if p.signed {
                    (-(1i64 << (p.width - 1)), (1i64 << (p.width - 1)) - 1)
                } else {
                    (0, ones(p.width) as i64)
                };
                assert!((lo..=hi).contains(&y), "{}: model gives {}={y}", self.label, p.name);
                y as u64 & ones(p.width)
            })
            .collect();
        self.vectors.push(v);
        self.expected.push(e);
    }

    fn add_constructed(&mut self, v: Vec<u64>) {
        self.constructed += 1;
        self.add(v);
    }

    fn show(ports: &[Port], v: &[u64]) -> String {
        let one = |(p, &x): (&Port, &u64)| {
            if p.signed {
                format!("{}={x:#x} ({})", p.name, sext(x, p.width))
            } else {
                format!("{}={x:#x}", p.name)
            }
        };
        ports.iter().zip(v).map(one).collect::<Vec<_>>().join(" ")
    }
}

fn range(w: u32) -> String {
    if w == 1 {
        String::new()
    } else {
        format!("[{}:0] ", w - 1)
    }
}

/// The top: every instance on its own ports `c<k>_<port>`.
fn wrapper(cases: &[Case]) -> String {
    let mut ports = Vec::new();
    let mut body = String::new();
    for (k, c) in cases.iter().enumerate() {
        let mut conns = Vec::new();
        for (dir, p) in
            c.ins.iter().map(|p| ("input ", p)).chain(c.outs.iter().map(|p| ("output", p)))
        {
            ports.push(format!("    {dir} wire {}c{k}_{}", range(p.width), p.name));
            conns.push(format!(".{0}(c{k}_{0})", p.name));
        }
        writeln!(body, "    {} u{k} ({});", c.module, conns.join(", ")).unwrap();
    }
    format!(
        "// Generated by blocks.rs.\nmodule blocks_top (\n{}\n);\n{body}endmodule\n",
        ports.join(",\n")
    )
}

/// The C++ main: per line `k v0 v1 ...` (k decimal, values hex), set instance k's inputs,
/// eval, print its outputs in hex.
fn harness(cases: &[Case]) -> String {
    let n = cases.iter().map(|c| c.ins.len()).max().unwrap_or(1);
    let mut s = format!(
        "// Generated by blocks.rs.\n#include \"Vblocks_top.h\"\n#include \"verilated.h\"\n\
         #include <cstdio>\nint main(int argc, char** argv) {{\n  if (argc != 3) return 2;\n  \
         VerilatedContext ctx;\n  Vblocks_top top{{&ctx}};\n  std::FILE* in = std::fopen(argv[1], \"r\");\n  \
         std::FILE* out = std::fopen(argv[2], \"w\");\n  if (!in || !out) return 3;\n  unsigned k;\n  \
         unsigned long long v[{n}];\n  while (std::fscanf(in, \"%u\", &k) == 1) {{\n    switch (k) {{\n"
    );
    for (k, c) in cases.iter().enumerate() {
        writeln!(s, "    case {k}:").unwrap();
        writeln!(
            s,
            "      for (int i = 0; i < {}; i++) if (std::fscanf(in, \"%llx\", &v[i]) != 1) return 4;",
            c.ins.len()
        )
        .unwrap();
        for (i, p) in c.ins.iter().enumerate() {
            writeln!(s, "      top.c{k}_{} = v[{i}];", p.name).unwrap();
        }
        s.push_str("      top.eval();\n");
        let fmt = vec!["%llx"; c.outs.len()].join(" ");
        let args: Vec<String> =
            c.outs.iter().map(|p| format!("(unsigned long long)top.c{k}_{}", p.name)).collect();
        writeln!(s, "      std::fprintf(out, \"{fmt}\\n\", {});\n      break;", args.join(", "))
            .unwrap();
    }
    s.push_str(
        "    default: return 5;\n    }\n  }\n  top.final();\n  std::fclose(out);\n  return 0;\n}\n",
    );
    s
}

/// Write `text` unless the file already holds it (so an unchanged bench is not rebuilt).
fn write_if_changed(path: &Path, text: &str) {
    if fs::read_to_string(path).is_ok_and(|t| t == text) {
        return;
    }
    fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// Build the bench (one Verilator build), run every vector, compare every output.
fn run(name: &str, cases: Vec<Case>) {
    let t0 = Instant::now();
    let dir = build_dir(&format!("blocks-{name}"));
    fs::create_dir_all(&dir).unwrap();
    let mut sources = Vec::new();
    for c in &cases {
        let f = format!("{}.v", c.module);
        write_if_changed(&dir.join(&f), &c.text);
        sources.push(f);
    }
    write_if_changed(&dir.join("blocks_top.v"), &wrapper(&cases));
    write_if_changed(&dir.join("blocks_main.cpp"), &harness(&cases));
    sources.extend(["blocks_top.v".to_string(), "blocks_main.cpp".to_string()]);
    let srcs: Vec<&str> = sources.iter().map(String::as_str).collect();
    let bin = build_sim(&tools(), &dir, &srcs, "blocks_top", "blocks", &[])
        .unwrap_or_else(|e| panic!("blocks {name}: {e}"));
    let built = t0.elapsed().as_secs_f64();

    let (vin, vout) = (dir.join("vectors.txt"), dir.join("outputs.txt"));
    {
        let mut w = BufWriter::new(fs::File::create(&vin).unwrap());
        for (k, c) in cases.iter().enumerate() {
            for v in &c.vectors {
                write!(w, "{k}").unwrap();
                for x in v {
                    write!(w, " {x:x}").unwrap();
                }
                writeln!(w).unwrap();
            }
        }
        w.flush().unwrap();
    }
    let status = Command::new(&bin).arg(&vin).arg(&vout).status().unwrap();
    assert!(status.success(), "blocks {name}: harness {} failed: {status}", bin.display());
    let text = fs::read_to_string(&vout).unwrap();
    let mut lines = text.lines();
    let (mut failures, mut total, mut constructed) = (Vec::new(), 0, 0);
    for c in &cases {
        let mut shown = Vec::new();
        let mut bad = 0;
        for (v, e) in c.vectors.iter().zip(&c.expected) {
            let line = lines.next().unwrap_or_else(|| panic!("blocks {name}: output ended early"));
            let got: Vec<u64> =
                line.split_whitespace().map(|h| u64::from_str_radix(h, 16).unwrap()).collect();
            assert_eq!(got.len(), c.outs.len(), "blocks {name}: output line `{line}`");
            if &got != e {
                bad += 1;
                if shown.len() < 4 {
                    shown.push(format!(
                        "    in  {}\n    expected {}\n    got      {}",
                        Case::show(&c.ins, v),
                        Case::show(&c.outs, e),
                        Case::show(&c.outs, &got)
                    ));
                }
            }
        }
        total += c.vectors.len();
        constructed += c.constructed;
        if bad > 0 {
            failures.push(format!(
                "{} (module {}): {bad} of {} vectors differ, e.g.\n{}",
                c.label,
                c.module,
                c.vectors.len(),
                shown.join("\n")
            ));
        }
    }
    assert!(lines.next().is_none(), "blocks {name}: more outputs than vectors");
    eprintln!(
        "blocks {name}: {} instances, {total} vectors ({constructed} on constructed boundaries), \
         build {built:.1} s, all {:.1} s, seed {}",
        cases.len(),
        t0.elapsed().as_secs_f64(),
        seed()
    );
    assert!(
        failures.is_empty(),
        "blocks {name}, seed {} (SYNFORGE_BLOCKS_SEED replays it): {} of {} instances differ \
         from the model\n{}",
        seed(),
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Configs, all built through `Config::build` so every constraint of the contract holds

fn spec(width: u32, frac: u32, rounding: Rounding) -> FormatSpec {
    FormatSpec { width, frac, rounding, decay: Decay::Multiply }
}

/// The built-in default, edited; amplitudes zero (the blocks take them as ports), weight
/// bounds the weight format's whole range.
fn network(label: &str, edit: impl FnOnce(&mut Config)) -> Network {
    let mut c = Config::builtin_default();
    c.plasticity.a_plus = 0.0;
    c.plasticity.a_minus = 0.0;
    edit(&mut c);
    let w = Format::unsigned(c.formats.weight.width, c.formats.weight.frac);
    let p = &mut c.plasticity;
    p.w_min = 0.0;
    p.w_max = w.max_real();
    p.w_init = p.w_max / 2.0;
    p.w_init_spread = 0.0;
    c.build().unwrap_or_else(|e| panic!("config {label}: {e}"))
}

/// Membrane, weight, threshold, x1, x2, y1, y2 (width, frac): three sets covering the widths'
/// extremes.
const TRACE_SETS: [[(u32, u32); 7]; 3] = [
    [(4, 2), (4, 2), (2, 0), (2, 1), (3, 2), (16, 12), (16, 15)],
    [(32, 20), (16, 8), (32, 10), (16, 15), (5, 4), (2, 0), (9, 5)],
    [(31, 16), (2, 0), (17, 3), (8, 6), (13, 9), (4, 0), (11, 10)],
];

fn trace_network(set: usize, r: Rounding, pairing: Pairing) -> Network {
    let s = TRACE_SETS[set];
    network(&format!("trace set {set} {r:?} {pairing:?}"), |c| {
        let f = &mut c.formats;
        for (k, spec_ref) in [
            &mut f.membrane,
            &mut f.weight,
            &mut f.threshold,
            &mut f.trace_x1,
            &mut f.trace_x2,
            &mut f.trace_y1,
            &mut f.trace_y2,
        ]
        .into_iter()
        .enumerate()
        {
            *spec_ref = spec(s[k].0, s[k].1, r);
        }
        c.plasticity.rule = "triplet".into();
        c.traces.pairing = pairing;
        c.homeostasis.adaptive_threshold = true;
    })
}

// ---------------------------------------------------------------------------------------------
// Decay

fn decay_case(
    rng: &mut ChaCha8Rng,
    index: usize,
    what: &str,
    fmt: Format,
    rounding: Rounding,
    a_config: u16,
    reference: impl Fn(i64, u16, &mut Lfsr) -> i64 + 'static,
) -> Case {
    let w = fmt.width;
    let name = format!("sf_decay_{what}");
    let text = synforge_rtl::trace::decay_module(&name, w, fmt.signed, rounding);
    let d = if fmt.signed { sport("d", w) } else { port("d", w) };
    let mut c = Case::new(
        format!("{name} [{} {rounding:?}]", fmt.q_name()),
        (&name, index),
        text,
        vec![port("q", w), port("a", 16), port("r", 32)],
        vec![d],
        move |v| {
            let q = if fmt.signed { sext(v[0], w) } else { v[0] as i64 };
            vec![reference(q, v[1] as u16, &mut drawing(v[2]))]
        },
    );
    let max = ones(w);
    let mut qs = vec![0, 1, 2, max, max - 1, max >> 1, (max >> 1) + 1, ((max >> 1) + 2) & max];
    qs.dedup();
    for &q in &qs {
        for a in [0, 1, 2, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF, a_config as u64] {
            for r in [1, 0xFFFF, 0x1_0000, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_0000, 0xFFFF_FFFF] {
                c.add(vec![q, a, r]);
            }
        }
    }
    let mag = |q: u64| if fmt.signed { sext(q, w).unsigned_abs() } else { q };
    // Exact halves: |q| * a has low 16 bits 0x8000 (nearest rounds them up, floor down).
    let mut n = 0;
    while n < CONSTRUCTED {
        let q = val(rng, w);
        if let Some(a) = solve_mul(rng, mag(q), 0x8000, 16, 16) {
            let r = word(rng);
            c.add_constructed(vec![q, a, r]);
            n += 1;
        }
    }
    // Stochastic carries: r's top 16 bits complete the low 16 bits of |q| * a to 2^16, or not.
    for _ in 0..CONSTRUCTED / 2 {
        let (q, a) = (val(rng, w), val(rng, 16));
        for miss in [0, 1] {
            if let Some(r) = carry_word(rng, (mag(q) * a) & 0xFFFF, 16, miss) {
                c.add_constructed(vec![q, a, r]);
            }
        }
    }
    for _ in 0..RANDOM {
        let v = vec![val(rng, w), val(rng, 16), word(rng)];
        c.add(v);
    }
    c
}

#[test]
fn decay_blocks_match_the_model() {
    let mut rng = rng_for(1);
    let mut cases = Vec::new();
    for set in 0..TRACE_SETS.len() {
        for r in ROUNDINGS {
            let net = trace_network(set, r, Pairing::AllToAll);
            let l = Layout::new(&net).unwrap();
            assert!(l.x2 && l.y2);
            let k = &net.k;
            // The membrane: LifFixed::integrate's decay is exactly format::decay_raw.
            let lif = LifFixed::new(&net);
            assert_eq!((lif.v, lif.rounding), (net.fmt.v, r));
            assert_eq!(l.v_bits, lif.v.width);
            let i = cases.len();
            cases.push(decay_case(&mut rng, i, "v", lif.v, r, k.decay_v, move |q, a, lfsr| {
                decay_raw(q, a, lif.rounding, lfsr)
            }));
            // The adaptive threshold: HomeostasisFixed::decay.
            let h = HomeostasisFixed::new(&net);
            assert!(h.adaptive && l.theta_bits == h.theta.width);
            let i = cases.len();
            cases.push(decay_case(
                &mut rng,
                i,
                "theta",
                h.theta,
                r,
                k.decay_theta,
                move |q, a, lfsr| {
                    let mut theta_a = q as u32;
                    HomeostasisFixed { decay: a, ..h }.decay(&mut theta_a, lfsr);
                    theta_a as i64
                },
            ));
            // The traces: TraceFixed::decay.
            let t = TracesFixed::new(&net);
            for (what, tr, width) in [
                ("x1", t.x1, l.x1_bits),
                ("x2", t.x2, l.x2_bits),
                ("y1", t.y1, l.y1_bits),
                ("y2", t.y2, l.y2_bits),
            ] {
                assert_eq!((width, tr.rounding), (tr.fmt.width, r));
                let i = cases.len();
                cases.push(decay_case(
                    &mut rng,
                    i,
                    what,
                    tr.fmt,
                    r,
                    tr.decay,
                    move |q, a, lfsr| TraceFixed { decay: a, ..tr }.decay(q as u16, lfsr) as i64,
                ));
            }
        }
    }
    run("decay", cases);
}

// ---------------------------------------------------------------------------------------------
// Trace increments

#[test]
fn bump_blocks_match_the_model() {
    let mut rng = rng_for(2);
    let mut cases = Vec::new();
    for (set, pairing) in [
        (0, Pairing::AllToAll),
        (0, Pairing::Nearest),
        (1, Pairing::AllToAll),
        (1, Pairing::Nearest),
        (2, Pairing::AllToAll),
        (2, Pairing::Nearest),
    ] {
        let net = trace_network(set, Rounding::Floor, pairing);
        let l = Layout::new(&net).unwrap();
        let t = TracesFixed::new(&net);
        for (what, tr, w) in [
            ("x1", t.x1, l.x1_bits),
            ("x2", t.x2, l.x2_bits),
            ("y1", t.y1, l.y1_bits),
            ("y2", t.y2, l.y2_bits),
        ] {
            assert_eq!((w, tr.pairing), (tr.fmt.width, pairing));
            let name = format!("sf_bump_{what}");
            let mut c = Case::new(
                format!("{name} [{} {pairing:?}]", tr.fmt.q_name()),
                (&name, cases.len()),
                synforge_rtl::trace::bump_module(&name, w, pairing),
                vec![port("q", w), port("inc", w)],
                vec![port("d", w)],
                move |v| vec![TraceFixed { inc: v[1] as i64, ..tr }.bump(v[0] as u16) as i64],
            );
            let max = ones(w);
            let edges = [0, 1, 2, max >> 1, (max >> 1) + 1, max - 1, max, tr.inc as u64];
            for q in edges {
                for inc in edges {
                    c.add(vec![q & max, inc & max]);
                }
            }
            // q + inc exactly at the maximum, and one over.
            for _ in 0..CONSTRUCTED {
                let q = val(&mut rng, w);
                c.add_constructed(vec![q, max - q]);
                if q > 0 {
                    c.add_constructed(vec![q, max - q + 1]);
                }
            }
            for _ in 0..RANDOM {
                let v = vec![val(&mut rng, w), val(&mut rng, w)];
                c.add(v);
            }
            cases.push(c);
        }
    }
    run("bump", cases);
}

// ---------------------------------------------------------------------------------------------
// LIF: one synaptic input (acc), inhibition + threshold + reset (fire)

/// sf_lif_acc's reference: the sum step of `LifFixed::integrate` for one weight,
/// `sat_v(v + (w << (v.frac - w.frac)))`.
fn acc_ref(lif: &LifFixed, v: i64, w: u64) -> i64 {
    lif.v.sat(v + ((w as i64) << lif.w_to_v))
}

/// sf_lif_fire's reference: not live, `v` held and no spike; else the inhibition step of
/// `LifFixed::integrate` (`sat_v(v - inh * others)`) then `LifFixed::fire`.
fn fire_ref(lif: &LifFixed, live: bool, v: i64, others: u64, theta: u64) -> (i64, bool) {
    if !live {
        return (v, false);
    }
    let mut x = lif.v.sat(v - lif.inhibition * others as i64) as i32;
    let mut refr = 0;
    let spike = lif.fire(&mut x, &mut refr, theta as i64);
    (x as i64, spike)
}

/// (label, membrane, weight, threshold, threshold value, inputs, neurons, reset).
type LifShape = (&'static str, (u32, u32), (u32, u32), (u32, u32), f64, u32, u32, Reset);

const LIF_SHAPES: [LifShape; 12] = [
    ("v4 w16 al2", (4, 2), (16, 0), (3, 1), 1.0, 1, 1, Reset::Zero),
    ("v4 w2 al0", (4, 0), (2, 0), (2, 0), 1.0, 1, 1, Reset::Subtract),
    ("v32 w2 al31", (32, 31), (2, 0), (16, 15), 0.5, 65_535, 1, Reset::Subtract),
    ("v32 w16 al0", (32, 16), (16, 16), (32, 16), 1.0, 3, 5, Reset::Zero),
    ("v32/0 th32/0", (32, 0), (16, 0), (32, 0), 1.0, 64, 16, Reset::Subtract),
    ("default", (16, 10), (10, 10), (16, 10), 1.0, 64, 16, Reset::Zero),
    ("default subtract", (16, 10), (10, 10), (16, 10), 1.0, 64, 16, Reset::Subtract),
    ("v5 w3 al1", (5, 1), (3, 0), (2, 0), 1.0, 2, 200, Reset::Subtract),
    ("v24 w7 al17", (24, 20), (7, 3), (8, 4), 1.0, 255, 1, Reset::Zero),
    ("v32/20 th32/0", (32, 20), (16, 8), (32, 0), 1.0, 256, 3, Reset::Subtract),
    ("v8 th2 al6", (8, 6), (8, 6), (2, 0), 1.0, 7, 9, Reset::Subtract),
    ("v5/0 th31/0", (5, 0), (4, 0), (31, 0), 1.0, 40, 1, Reset::Zero),
];

fn lif_network(s: &LifShape) -> Network {
    let &(label, v, w, th, theta, inputs, neurons, reset) = s;
    network(label, |c| {
        c.formats.membrane = spec(v.0, v.1, Rounding::Nearest);
        c.formats.weight = spec(w.0, w.1, Rounding::Floor);
        c.formats.threshold = spec(th.0, th.1, Rounding::Floor);
        c.neuron.threshold = theta;
        c.neuron.reset = reset;
        c.network.inputs = inputs;
        c.network.neurons = neurons;
    })
}

#[test]
fn lif_blocks_match_the_model() {
    let mut rng = rng_for(3);
    let mut cases = Vec::new();
    for s in &LIF_SHAPES {
        let net = lif_network(s);
        let l = Layout::new(&net).unwrap();
        let lif = LifFixed::new(&net);
        let (wv, ww, wth, cw) = (l.v_bits, l.weight_bits, l.theta_bits, l.count_bits);
        let (vmax, wmax) = (ones(wv) >> 1, ones(ww));
        let vmin = vmax + 1;

        // sf_lif_acc
        let mut c = Case::new(
            format!(
                "sf_lif_acc [{}: v {} w {}, align {}]",
                s.0,
                net.fmt.v.q_name(),
                net.fmt.w.q_name(),
                lif.w_to_v
            ),
            ("sf_lif_acc", cases.len()),
            synforge_rtl::neuron::lif::acc_module(&net, &l),
            vec![port("v", wv), port("w", ww)],
            vec![sport("d", wv)],
            move |v| vec![acc_ref(&lif, sext(v[0], wv), v[1])],
        );
        for v in [vmin, vmin + 1, ones(wv), 0, 1, vmax - 1, vmax] {
            for w in [0, 1, wmax >> 1, wmax - 1, wmax] {
                c.add(vec![v, w]);
            }
        }
        // v + (w << align) exactly at the membrane's maximum, and one over.
        for _ in 0..CONSTRUCTED {
            let w = val(&mut rng, ww);
            let add = (w as i128) << lif.w_to_v;
            for over in [0, 1] {
                let v = vmax as i128 - add + over;
                if v >= -(vmin as i128) && v <= vmax as i128 {
                    c.add_constructed(vec![v as u64 & ones(wv), w]);
                }
            }
        }
        for _ in 0..RANDOM {
            let v = vec![val(&mut rng, wv), val(&mut rng, ww)];
            c.add(v);
        }
        cases.push(c);

        // sf_lif_fire: the inhibition per spike is a port, the model's constant in the twin.
        let mut c = Case::new(
            format!(
                "sf_lif_fire [{}: v {} theta {}, align {}, count {cw} bits, {:?}]",
                s.0,
                net.fmt.v.q_name(),
                net.fmt.theta.q_name(),
                lif.theta_to_v,
                lif.reset
            ),
            ("sf_lif_fire", cases.len()),
            synforge_rtl::neuron::lif::fire_module(&net, &l),
            vec![
                port("live", 1),
                port("v", wv),
                port("inh", wv),
                port("others", cw),
                port("theta", wth),
            ],
            vec![sport("d", wv), port("fire", 1)],
            move |v| {
                let lif = LifFixed { inhibition: v[2] as i64, ..lif };
                let (d, fire) = fire_ref(&lif, v[0] == 1, sext(v[1], wv), v[3], v[4]);
                vec![d, fire as i64]
            },
        );
        let (cmax, thmax) = (ones(cw), ones(wth));
        for live in [0, 1] {
            for v in [vmin, ones(wv), 0, 1, vmax] {
                for inh in [0, 1, vmax] {
                    for others in [0, 1, cmax] {
                        for theta in [0, 1, thmax >> 1, thmax] {
                            c.add(vec![live, v, inh, others, theta]);
                        }
                    }
                }
            }
        }
        // After inhibition exactly at the aligned threshold, and one below.
        for _ in 0..CONSTRUCTED {
            let theta = val(&mut rng, wth);
            let thr = (theta as i128) << lif.theta_to_v;
            let (inh, others) = if rng.random() {
                (0, val(&mut rng, cw))
            } else {
                let bits = rng.random_range(0..wv);
                (rng.random_range(0..=vmax.min(1 << bits)), val(&mut rng, cw))
            };
            for below in [0, 1] {
                let v = thr + inh as i128 * others as i128 - below;
                if v <= vmax as i128 {
                    c.add_constructed(vec![1, v as u64 & ones(wv), inh, others, theta]);
                }
            }
        }
        for _ in 0..RANDOM {
            let live = (rng.random_range(0..8) != 0) as u64;
            let theta = val(&mut rng, wth);
            // Half the time near the threshold, so both sides of the compare are common.
            let v = if rng.random() {
                let thr = ((theta as i128) << lif.theta_to_v).min(vmax as i128);
                let near = thr + rng.random_range(-8i128..=8);
                near.clamp(-(vmin as i128), vmax as i128) as u64 & ones(wv)
            } else {
                val(&mut rng, wv)
            };
            let inh = if rng.random() {
                val(&mut rng, wv - 1)
            } else {
                rng.random_range(0..=vmax.min(8))
            };
            let others = val(&mut rng, cw);
            c.add(vec![live, v, inh, others, theta]);
        }
        cases.push(c);
    }
    run("lif", cases);
}

/// The two LIF references, chained as the core chains the blocks (decay, one acc per input
/// spike, fire), equal the twin's `integrate` + `fire`: the references are the model, split.
#[test]
fn lif_references_compose_to_the_model() {
    let mut rng = rng_for(4);
    for s in &LIF_SHAPES {
        let net = lif_network(s);
        let l = Layout::new(&net).unwrap();
        for rounding in ROUNDINGS {
            for _ in 0..3000 {
                let base = LifFixed::new(&net);
                let lif = LifFixed {
                    rounding,
                    decay: val(&mut rng, 16) as u16,
                    inhibition: val(&mut rng, l.v_bits - 1) as i64,
                    ..base
                };
                let v0 = sext(val(&mut rng, l.v_bits), l.v_bits);
                let ws: Vec<u64> =
                    (0..rng.random_range(0..5)).map(|_| val(&mut rng, l.weight_bits)).collect();
                let others = val(&mut rng, l.count_bits);
                let theta = val(&mut rng, l.theta_bits);
                let seed = rng.random_range(1..=u32::MAX);
                let (mut v, mut refr) = (v0 as i32, 0u16);
                let sum = ws.iter().sum();
                let live =
                    lif.integrate(&mut v, &mut refr, sum, others as u32, &mut Lfsr::new(seed));
                let spike = live && lif.fire(&mut v, &mut refr, theta as i64);
                let mut x = decay_raw(v0, lif.decay, rounding, &mut Lfsr::new(seed));
                for &w in &ws {
                    x = acc_ref(&lif, x, w);
                }
                let (d, fire) = fire_ref(&lif, true, x, others, theta);
                assert_eq!((d, fire), (v as i64, spike), "{}: v {v0} w {ws:?}", s.0);
                // Refractory: the model holds v; the fire block passes it through, no spike.
                let (mut v, mut refr) = (v0 as i32, 1u16);
                assert!(!lif.integrate(&mut v, &mut refr, sum, others as u32, &mut Lfsr::new(1)));
                assert_eq!(fire_ref(&lif, false, v0, others, theta), (v as i64, false));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// STDP

/// One STDP synapse update's inputs (x2, y2, a3p, a3m zero for the pair rule).
#[derive(Clone, Copy, Debug, Default)]
struct StdpIn {
    x1: u64,
    x2: u64,
    y1: u64,
    y2: u64,
    post: bool,
    pre: bool,
    w: u64,
    r: u64,
    a2p: u64,
    a2m: u64,
    a3p: u64,
    a3m: u64,
    w_min: u64,
    w_max: u64,
}

/// What shapes a preset's datapath, for the constructed vectors.
#[derive(Clone, Copy, Debug)]
struct StdpShape {
    triplet: bool,
    mult: bool,
    weight_bits: u32,
    x1: Format,
    x2: Format,
    y1: Format,
    y2: Format,
    /// The rounding shift: `amp_frac - w.frac` (additive) or `amp_frac` (multiplicative).
    sh: u32,
}

/// The ports of the generated `sf_rule` of a rule, and the reference on them.
#[derive(Clone)]
struct RuleShape {
    rule: Rule,
    ports: Vec<(String, u32)>,
}

impl RuleShape {
    fn new(rule: &Rule, ww: u32) -> Self {
        RuleShape { rule: rule.clone(), ports: rule_dp::ports(rule, ww) }
    }

    fn ins(&self) -> Vec<Port> {
        // Port names live as long as the test: leaked, a few dozen bytes per config.
        self.ports.iter().map(|(n, w)| port(Box::leak(n.clone().into_boxed_str()), *w)).collect()
    }

    /// A vector from a preset's inputs, port by port.
    fn of_stdp(&self, s: &StdpIn) -> Vec<u64> {
        self.ports
            .iter()
            .map(|(n, _)| match n.as_str() {
                "x1_post" => s.x1,
                "x2" => s.x2,
                "y1" => s.y1,
                "y2" => s.y2,
                "post" => s.post as u64,
                "pre" => s.pre as u64,
                "w" => s.w,
                "r" => s.r,
                "p_a_plus" => s.a2p,
                "p_a_minus" => s.a2m,
                "p_a3_plus" => s.a3p,
                "p_a3_minus" => s.a3m,
                "w_min" => s.w_min,
                "w_max" => s.w_max,
                other => panic!("a preset has no port {other}"),
            })
            .collect()
    }

    /// `(rule in integers with this vector's registers, w, pre, post, slot values, r, the
    /// modulator and the per-synapse variables, the target's current value)`.
    fn parse(&self, v: &[u64]) -> (RuleFixed, u16, bool, bool, Vals, u64, VarVals, i64) {
        let mut rule = self.rule.clone();
        let mut vals: Vals = [0; 6];
        let (mut w, mut pre, mut post, mut r, mut lo, mut hi) = (0, false, false, 1, 0, 0);
        let mut vars = VarVals::default();
        let mut cur = 0i64;
        // Two's complement of `width` bits, or unsigned.
        let signed = |x: u64, width: u32| ((x << (64 - width)) as i64) >> (64 - width);
        let syn_val = |k: usize, x: u64, width: u32| {
            if self.rule.syn[k].signed {
                signed(x, width)
            } else {
                x as i64
            }
        };
        for ((name, width), &x) in self.ports.iter().zip(v) {
            match name.as_str() {
                "post" => post = x == 1,
                "pre" => pre = x == 1,
                "w" => w = x as u16,
                "r" => r = x,
                "mod_r" => vars.r = signed(x, *width),
                "syn0" => vars.syn[0] = syn_val(0, x, *width),
                "syn1" => vars.syn[1] = syn_val(1, x, *width),
                "cur" => cur = syn_val(self.rule.target.unwrap(), x, *width),
                "w_min" => lo = x as i64,
                "w_max" => hi = x as i64,
                n => {
                    if let Some(s) = Slot::ALL.iter().find(|&&s| rule_dp::slot_port(s) == n) {
                        vals[*s as usize] = x as i64;
                    } else {
                        let p = rule.params.iter_mut().find(|p| rule_dp::param_port(&p.name) == n);
                        p.unwrap_or_else(|| panic!("port {n}")).raw = x as i64;
                    }
                }
            }
        }
        if self.rule.target.is_none() {
            cur = w as i64;
        }
        (RuleFixed::new(&rule, lo, hi), w, pre, post, vals, r, vars, cur)
    }

    /// The reference: `RuleFixed::update`, the contract term by term, `r` drawn from the LFSR.
    fn reference(&self, v: &[u64]) -> i64 {
        let (f, w, pre, post, vals, r, vars, cur) = self.parse(v);
        f.update_target(cur, w, pre, post, &vals, &vars, &mut drawing(r))
    }

    /// The exact sum the update rounds.
    fn sum(&self, v: &[u64]) -> i64 {
        let (f, w, pre, post, vals, _, vars, _) = self.parse(v);
        f.sum_with(w, pre, post, &vals, &vars)
    }

    /// A random vector: values often at their edges, the weight inside its bounds.
    fn random(&self, rng: &mut ChaCha8Rng) -> Vec<u64> {
        let ww = self.ports.iter().find(|p| p.0 == "w").unwrap().1;
        let wmax = ones(ww);
        let (mut lo, mut hi) = (val(rng, ww), val(rng, ww));
        while lo == hi {
            hi = rng.random_range(0..=wmax);
        }
        if lo > hi {
            std::mem::swap(&mut lo, &mut hi);
        }
        let w = match rng.random_range(0..4) {
            0 => lo,
            1 => hi,
            _ => rng.random_range(lo..=hi),
        };
        let (post, pre) = [(true, false), (false, true), (true, true), (false, false)]
            [rng.random_range(0..7).min(3) % 4];
        self.ports
            .iter()
            .map(|(n, width)| match n.as_str() {
                "post" => post as u64,
                "pre" => pre as u64,
                "w" => w,
                "r" => word(rng),
                "w_min" => lo,
                "w_max" => hi,
                p if p.starts_with("p_") => amplitude(rng),
                _ => val(rng, *width),
            })
            .collect()
    }
}

/// The twin with this vector's register values.
fn stdp_model(base: &StdpFixed, s: &StdpIn) -> (StdpFixed, i64, i64) {
    let m = StdpFixed {
        a2_plus: s.a2p as i64,
        a2_minus: s.a2m as i64,
        a3_plus: s.a3p as i64,
        a3_minus: s.a3m as i64,
        w_min: s.w_min as i64,
        w_max: s.w_max as i64,
        ..*base
    };
    let pot = if s.post { m.pot(s.x1 as u16, s.y2 as u16) } else { 0 };
    let dep = if s.pre { m.dep(s.y1 as u16, s.x2 as u16) } else { 0 };
    (m, pot, dep)
}

/// The value `apply` rounds (semantics 4.3), to aim constructed vectors at its low bits.
fn stdp_diff(base: &StdpFixed, s: &StdpIn) -> i64 {
    let (m, pot, dep) = stdp_model(base, s);
    let w = s.w as i64;
    if m.soft {
        pot * (m.w_max - w) - dep * (w - m.w_min)
    } else {
        pot - dep
    }
}
fn amplitude(rng: &mut ChaCha8Rng) -> u64 {
    match rng.random_range(0..6) {
        0 => 0,
        1 => 0xFFFF,
        2 => {
            let bits = rng.random_range(1..=16);
            rng.random_range(0..1u64 << bits)
        }
        _ => val(rng, 16),
    }
}

fn stdp_random(rng: &mut ChaCha8Rng, sh: &StdpShape) -> StdpIn {
    let wmax = ones(sh.weight_bits);
    let (mut lo, mut hi) = (val(rng, sh.weight_bits), val(rng, sh.weight_bits));
    while lo == hi {
        hi = rng.random_range(0..=wmax);
    }
    if lo > hi {
        std::mem::swap(&mut lo, &mut hi);
    }
    let w = match rng.random_range(0..4) {
        0 => lo,
        1 => hi,
        _ => rng.random_range(lo..=hi),
    };
    let (post, pre) = [(false, false), (true, false), (true, false), (false, true), (false, true)]
        .get(rng.random_range(0..8))
        .copied()
        .unwrap_or((true, true));
    let t = sh.triplet;
    StdpIn {
        x1: val(rng, sh.x1.width),
        x2: if t { val(rng, sh.x2.width) } else { 0 },
        y1: val(rng, sh.y1.width),
        y2: if t { val(rng, sh.y2.width) } else { 0 },
        post,
        pre,
        w,
        r: word(rng),
        a2p: amplitude(rng),
        a2m: amplitude(rng),
        a3p: if t { amplitude(rng) } else { 0 },
        a3m: if t { amplitude(rng) } else { 0 },
        w_min: lo,
        w_max: hi,
    }
}

/// A vector whose rounded value has low `sh` bits exactly 100..0 (an exact half), from the
/// potentiation side (positive half) or the depression side (negative half): the trace is
/// `2^e` exactly, the bracket `2^g (2j + 1)`, and for the multiplicative rule the room to the
/// bound `2^f`, with `e + f + g = sh - 1`.
fn stdp_half(rng: &mut ChaCha8Rng, shape: &StdpShape, base: &StdpFixed) -> Option<StdpIn> {
    let sh = shape.sh;
    if sh == 0 {
        return None;
    }
    let mut s = stdp_random(rng, shape);
    let pot_side: bool = rng.random();
    let tr = if pot_side { shape.x1 } else { shape.y1 };
    let fmax = if shape.mult { shape.weight_bits - 1 } else { 0 };
    let mut choices = Vec::new();
    for e in 0..tr.width - tr.frac {
        for f in 0..=fmax {
            let g = sh as i64 - 1 - e as i64 - f as i64;
            if (0..=15).contains(&g) {
                choices.push((e, f, g as u32));
            }
        }
    }
    if choices.is_empty() {
        return None;
    }
    let (e, f, g) = choices[rng.random_range(0..choices.len())];
    let unit = 1u64 << g;
    let inner = unit + (unit << 1) * rng.random_range(0..=(0xFFFF - unit) / (unit << 1));
    let trace = 1u64 << (e + tr.frac);
    // a2 + ((a3 * other trace) >> frac) = inner, below the bracket's saturation.
    let bracket = |a3: u64, other: &mut u64, fmt: Format| {
        let t = (a3 * *other) >> fmt.frac;
        if t > inner {
            *other = 0;
            inner
        } else {
            inner - t
        }
    };
    let wmax = ones(shape.weight_bits);
    let span = 1u64 << f;
    if pot_side {
        s.post = true;
        s.x1 = trace;
        s.a2p = bracket(s.a3p, &mut s.y2, shape.y2);
        s.y1 = if s.pre { 0 } else { s.y1 };
        if shape.mult {
            s.w_min = rng.random_range(0..=wmax - span);
            s.w = rng.random_range(s.w_min..=wmax - span);
            s.w_max = s.w + span;
        }
    } else {
        s.pre = true;
        s.y1 = trace;
        s.a2m = bracket(s.a3m, &mut s.x2, shape.x2);
        s.x1 = if s.post { 0 } else { s.x1 };
        if shape.mult {
            s.w_min = rng.random_range(0..=wmax - span);
            s.w = s.w_min + span;
            s.w_max = rng.random_range(s.w..=wmax);
        }
    }
    let d = stdp_diff(base, &s);
    assert_eq!(d.rem_euclid(1i64 << sh), 1i64 << (sh - 1), "exact half {s:?}");
    Some(s)
}

/// (rule, weight dependence, weight rounding, weight (width, frac), amplitude_frac,
/// x1, x2, y1, y2 (width, frac)).
type StdpConfig = (&'static str, WeightDependence, Rounding, (u32, u32), u32, [(u32, u32); 4]);

const T16: (u32, u32) = (16, 12);
const T8: (u32, u32) = (8, 6);

fn stdp_configs() -> Vec<StdpConfig> {
    use Rounding::{Floor as F, Nearest as N, Stochastic as S};
    const P: &str = "pair";
    const T: &str = "triplet";
    use WeightDependence::{Additive as A, Multiplicative as M};
    vec![
        (P, A, F, (10, 10), 10, [T8, T8, T8, T8]),
        (P, A, N, (16, 16), 32, [T16, T8, (2, 1), T8]),
        (P, A, S, (2, 0), 32, [(2, 0), T8, (16, 15), T8]),
        (P, A, N, (4, 4), 5, [(5, 3), T8, (7, 4), T8]),
        (P, A, S, (8, 4), 4, [(3, 2), T8, (12, 10), T8]),
        (P, A, N, (12, 2), 20, [T16, T8, T16, T8]),
        (P, A, F, (16, 0), 32, [(16, 15), T8, (2, 0), T8]),
        (P, A, N, (6, 3), 3, [(9, 5), T8, (4, 1), T8]),
        (P, A, S, (10, 10), 17, [T8, T8, T8, T8]),
        (P, M, F, (16, 8), 16, [T16, T8, T16, T8]),
        (P, M, N, (2, 1), 1, [(2, 1), T8, (2, 1), T8]),
        (P, M, S, (16, 0), 32, [(9, 5), T8, (16, 13), T8]),
        (P, M, N, (16, 16), 24, [T16, T8, (10, 8), T8]),
        (P, M, F, (8, 0), 0, [(4, 0), T8, (4, 2), T8]),
        (P, M, S, (10, 10), 12, [T8, T8, T8, T8]),
        (P, M, N, (10, 10), 31, [(16, 12), T8, (16, 13), T8]),
        (T, A, F, (10, 10), 16, [T8, T16, (3, 2), (2, 1)]),
        (T, A, N, (16, 4), 20, [(12, 8), (2, 1), (8, 7), (16, 15)]),
        (T, A, S, (6, 6), 6, [T16, T16, T16, T16]),
        (T, A, S, (8, 8), 28, [(10, 6), (8, 4), (6, 3), (4, 0)]),
        (T, A, N, (2, 0), 2, [(2, 0), (2, 1), (3, 0), (16, 12)]),
        (T, M, F, (4, 2), 32, [(7, 3), (16, 13), (11, 9), (2, 0)]),
        (T, M, N, (16, 15), 15, [(16, 15), (5, 1), T16, (9, 8)]),
        (T, M, S, (12, 8), 18, [(10, 7), (10, 7), (10, 7), (10, 7)]),
        (T, M, N, (9, 3), 30, [T16, T16, T16, T16]),
    ]
}

/// The rule datapath of one config: corners, constructed boundaries, random vectors.
fn rule_case(
    rng: &mut ChaCha8Rng,
    index: usize,
    net: &Network,
    label: String,
    stdp: Option<(StdpShape, StdpFixed)>,
) -> (Case, usize) {
    rule_case_of(rng, index, net, net.rule.as_ref().unwrap(), label, stdp)
}

/// [`rule_case`] of any of the network's rules: the weight's, or a per-synapse variable's
/// update (whose output is the variable).
fn rule_case_of(
    rng: &mut ChaCha8Rng,
    index: usize,
    net: &Network,
    rule: &Rule,
    label: String,
    stdp: Option<(StdpShape, StdpFixed)>,
) -> (Case, usize) {
    struct L {
        weight_bits: u32,
    }
    let l = L { weight_bits: net.fmt.w.width };
    let shape = RuleShape::new(rule, l.weight_bits);
    let out = match rule.target {
        None => port("d", l.weight_bits),
        Some(k) if rule.syn[k].signed => sport("d", rule.syn[k].width),
        Some(k) => port("d", rule.syn[k].width),
    };
    let sh = rule.shift;
    let traces: Vec<String> = rule_dp::slots(rule)
        .into_iter()
        .map(|s| format!("{} {}", rule_dp::slot_port(s), rule.trace_format(s)))
        .collect();
    let reference = shape.clone();
    let mut c = Case::new(
        format!(
            "sf_rule [{label} `{}` amp {} (shift {sh}), {}]",
            rule.text,
            rule.amp,
            traces.join(" ")
        ),
        ("sf_rule", index),
        rule_dp::module(rule, net.rnd.w, l.weight_bits),
        shape.ins(),
        vec![out],
        move |v| vec![reference.reference(v)],
    );
    // Corners: every input at zero or all ones, every spike pair, weights at and next to the
    // bounds, r's top bits all zero or all one.
    let wmax = ones(l.weight_bits);
    for full in [false, true] {
        for (post, pre) in [(false, false), (true, false), (false, true), (true, true)] {
            for (w, w_min, w_max) in [
                (0, 0, wmax),
                (wmax, 0, wmax),
                (1, 0, 1),
                (wmax, wmax - 1, wmax),
                (wmax >> 1, 1, wmax - 1),
            ] {
                for r in [1, 0xFFFF_FFFF] {
                    let v = shape
                        .ports
                        .iter()
                        .map(|(n, width)| match n.as_str() {
                            "post" => post as u64,
                            "pre" => pre as u64,
                            "w" => w,
                            "r" => r,
                            "w_min" => w_min,
                            "w_max" => w_max,
                            _ => {
                                if full {
                                    ones(*width)
                                } else {
                                    0
                                }
                            }
                        })
                        .collect();
                    c.add(v);
                }
            }
        }
    }
    // Exact halves, for the presets (nearest rounds them up; the likeliest off-by-one).
    let mut halves = 0;
    if let Some((st, base)) = &stdp {
        for _ in 0..CONSTRUCTED * 4 {
            if let Some(s) = stdp_half(rng, st, base) {
                halves += 1;
                let v = shape.of_stdp(&s);
                assert_eq!(shape.sum(&v), stdp_diff(base, &s), "{s:?}");
                c.add_constructed(v);
            }
        }
        for _ in 0..RANDOM / 2 {
            c.add(shape.of_stdp(&stdp_random(rng, st)));
        }
    }
    // Stochastic carries: r's top `sh` bits complete the rounded-away bits, or miss by one.
    if sh > 0 {
        for _ in 0..CONSTRUCTED {
            let mut v = shape.random(rng);
            let low = shape.sum(&v).rem_euclid(1i64 << sh) as u64;
            let ri = shape.ports.iter().position(|p| p.0 == "r").unwrap();
            for miss in [0, 1] {
                if let Some(r) = carry_word(rng, low, sh, miss) {
                    v[ri] = r;
                    c.add_constructed(v.clone());
                }
            }
        }
    }
    for _ in 0..RANDOM {
        let v = shape.random(rng);
        c.add(v);
    }
    (c, halves)
}

#[test]
fn rule_datapath_matches_the_model() {
    let mut rng = rng_for(5);
    let mut cases = Vec::new();
    let mut halves = Vec::new();
    // The presets, in formats covering the widths' extremes.
    for (rule, dep, rounding, (ww, wf), amp_frac, tr) in stdp_configs() {
        let label = format!("{rule:?} {dep:?} {rounding:?} w{ww}/{wf} amp_frac {amp_frac}");
        let net = network(&label, |c| {
            c.formats.membrane = spec(32, 20, Rounding::Nearest);
            c.formats.weight = spec(ww, wf, rounding);
            let f = &mut c.formats;
            for (k, s) in [&mut f.trace_x1, &mut f.trace_x2, &mut f.trace_y1, &mut f.trace_y2]
                .into_iter()
                .enumerate()
            {
                *s = spec(tr[k].0, tr[k].1, Rounding::Floor);
            }
            c.plasticity.rule = rule.into();
            c.plasticity.weight_dependence = dep;
            c.plasticity.amplitude_frac = Some(amp_frac);
        });
        let base = StdpFixed::of(net.rule.as_ref().unwrap(), net.k.w_min, net.k.w_max).unwrap();
        let f = &net.fmt;
        let shape = StdpShape {
            triplet: rule == "triplet",
            mult: dep == WeightDependence::Multiplicative,
            weight_bits: ww,
            x1: f.x1,
            x2: f.x2,
            y1: f.y1,
            y2: f.y2,
            sh: base.shift,
        };
        let (c, n) = rule_case(&mut rng, cases.len(), &net, label, Some((shape, base)));
        halves.push(format!("{rounding:?}/{}: {n}", base.shift));
        cases.push(c);
    }
    // Random rules: random terms, gates, brackets, weight factors, in random formats; the last
    // 8 read the modulator `r` in random formats (its port takes every value, the extremes
    // often).
    let (mut made, mut tries) = (0, 0);
    while made < 24 {
        let modulated = made >= 16;
        let r = random_rule_with(&mut rng, 5, modulated);
        let rounding = ROUNDINGS[rng.random_range(0..3)];
        let ww = rng.random_range(2..=16);
        let wf = rng.random_range(0..=ww);
        let tr: Vec<(u32, u32)> = (0..4)
            .map(|_| {
                let w = rng.random_range(2..=16);
                (w, w - rng.random_range(1..=4.min(w)))
            })
            .collect();
        let amp_frac = rng.random_range(wf.max(4)..=32);
        let label = format!(
            "random {made}{}: {rounding:?} w{ww}/{wf} amp_frac {amp_frac}",
            if modulated { " (modulated)" } else { "" }
        );
        let mut c = Config::builtin_default();
        c.formats.membrane = spec(32, 20, Rounding::Nearest);
        c.formats.weight = spec(ww, wf, rounding);
        let f = &mut c.formats;
        for (k, s) in [&mut f.trace_x1, &mut f.trace_x2, &mut f.trace_y1, &mut f.trace_y2]
            .into_iter()
            .enumerate()
        {
            *s = spec(tr[k].0, tr[k].1, Rounding::Floor);
        }
        let p = &mut c.plasticity;
        p.rule = "custom".into();
        p.dw = Some(r.text.clone());
        let scale = (-(amp_frac as f64)).exp2() * 65535.0;
        p.params =
            r.params.keys().map(|k| (k.clone(), rng.random_range(0.0..1.0) * scale)).collect();
        p.amplitude_frac = Some(amp_frac);
        if modulated {
            let width = rng.random_range(2..=16);
            c.formats.modulator = Some(ModulatorSpec { width, frac: rng.random_range(0..width) });
        }
        let p = &mut c.plasticity;
        let w = Format::unsigned(ww, wf);
        p.w_min = 0.0;
        p.w_max = w.max_real();
        p.w_init = p.w_max / 2.0;
        p.w_init_spread = 0.0;
        // Rules whose literals the amplitude format cannot hold, or too wide: draw again.
        let net = match c.build() {
            Ok(net) => net,
            Err(e) => {
                tries += 1;
                assert!(tries < 1000, "no random rule builds; the last: {e}");
                continue;
            }
        };
        let (case, _) = rule_case(&mut rng, cases.len(), &net, label, None);
        cases.push(case);
        made += 1;
    }
    // Per-synapse variables: random updates with each variable as target (signed or not,
    // random formats), and weights' rules that read them; every variable value, extremes often.
    let mut vmade = 0;
    while vmade < 8 {
        let mut c = Config::builtin_default();
        c.formats.membrane = spec(32, 20, Rounding::Nearest);
        let ww = rng.random_range(4..=16);
        c.formats.weight =
            spec(ww, rng.random_range(ww - 3..=ww), ROUNDINGS[rng.random_range(0..3)]);
        let w = Format::unsigned(ww, c.formats.weight.frac);
        let p = &mut c.plasticity;
        p.rule = "custom".into();
        (p.w_min, p.w_max, p.w_init, p.w_init_spread) =
            (0.0, w.max_real(), w.max_real() / 2.0, 0.0);
        if rng.random() {
            let width = rng.random_range(2..=12);
            c.formats.modulator = Some(ModulatorSpec { width, frac: rng.random_range(0..width) });
        }
        let reads_r = c.formats.modulator.is_some();
        let nvars = rng.random_range(1..=2);
        let names = ["c", "e"];
        let mut params = std::collections::BTreeMap::new();
        let mut dw = random_rule_with(&mut rng, 3, reads_r);
        for (k, name) in names.iter().take(nvars).enumerate() {
            let this_r = reads_r && rng.random();
            let u = random_rule_with(&mut rng, 3, this_r);
            let rename = |t: &str| t.replace('p', &format!("q{k}_"));
            params.extend(u.params.iter().map(|(n, v)| (rename(n), *v)));
            let signed = rng.random();
            let width = rng.random_range(2 + signed as u32..=14);
            let mut text = rename(&u.text);
            if rng.random() {
                // The variable reads itself (a decay or a growth in proportion).
                text.push_str(&format!(" - q{k}_self * {name} * y0"));
                params.insert(format!("q{k}_self"), rng.random_range(0.01..0.5));
            }
            c.plasticity.synapse.insert(
                name.to_string(),
                synforge_sim::config::SynapseVarSpec {
                    width,
                    frac: rng.random_range(0..=width - signed as u32),
                    signed,
                    rounding: if rng.random() { Rounding::Floor } else { Rounding::Nearest },
                    init: 0.0,
                    update: Some(text),
                },
            );
        }
        dw.text.push_str(" + pe * e * c * x0");
        if nvars == 1 {
            dw.text = dw.text.replace(" * e * c", " * c");
        }
        dw.params.insert("pe".into(), 0.01);
        params.extend(dw.params.clone());
        c.plasticity.dw = Some(dw.text.clone());
        c.plasticity.params = params;
        let net = match c.build() {
            Ok(net) => net,
            Err(e) => {
                tries += 1;
                assert!(tries < 2000, "no random rule with variables builds; the last: {e}");
                continue;
            }
        };
        let label = format!("variables {vmade}");
        let (case, _) = rule_case(&mut rng, cases.len(), &net, format!("{label}, dw"), None);
        cases.push(case);
        for v in &net.syn {
            let l = format!("{label}, d{}", v.name);
            let (case, _) = rule_case_of(&mut rng, cases.len(), &net, &v.update, l, None);
            cases.push(case);
        }
        vmade += 1;
    }
    eprintln!("blocks rule: exact-half vectors per preset (rounding/shift): {}", halves.join(", "));
    run("rule", cases);
}

// ---------------------------------------------------------------------------------------------
// Homeostasis: saturating threshold sums, the scaling factor, one weight's scaling

fn homeostasis_network(th: (u32, u32), w: (u32, u32), rounding: Rounding) -> Network {
    network(&format!("threshold {th:?} weight {w:?} {rounding:?}"), |c| {
        c.formats.membrane = spec(32, 20, Rounding::Nearest);
        c.formats.threshold = spec(th.0, th.1, Rounding::Floor);
        c.formats.weight = spec(w.0, w.1, rounding);
        c.homeostasis.adaptive_threshold = true;
        c.homeostasis.scaling = true;
    })
}

fn factor_case(rng: &mut ChaCha8Rng, index: usize, net: &Network) -> Case {
    let base = HomeostasisFixed::new(net);
    let mut c = Case::new(
        format!("sf_scale_factor [T {} g {}]", base.target, base.gain),
        ("sf_scale_factor", index),
        synforge_rtl::plasticity::homeostasis::factor_module(),
        vec![port("count", 16), port("target", 32), port("gain", 16)],
        vec![port("s", 16)],
        move |v| {
            let h = HomeostasisFixed { target: v[1] as i64, gain: v[2] as i64, ..base };
            vec![h.factor(v[0] as u16)]
        },
    );
    let (t0, g0) = (base.target as u64, base.gain as u64);
    for count in [0, 1, 2, t0 >> 8, (t0 >> 8) + 1, 255, 256, 65_534, 65_535] {
        for target in [0, 1, 255, 256, t0, 0xFF_FFFF, 0x7FFF_FFFF, 0xFFFF_FFFF] {
            for gain in [0, 1, 2, 1000, g0, 65_534, 65_535] {
                c.add(vec![count, target, gain]);
            }
        }
    }
    // The floor of g * err / 1024 for negative errors is -((|g * err| + 1023) >> 10): aim the
    // product's low 10 bits at 0, 1, 2, 512, 1023 on both signs.
    // Mostly with |g * err| below 2^25, where the factor is not clamped.
    for _ in 0..CONSTRUCTED * 3 {
        let gbits = rng.random_range(1..=16);
        let gain = rng.random_range(1..=ones(gbits));
        let rho = [0, 1, 2, 512, 1023, rng.random_range(0..1024)][rng.random_range(0..6)];
        let bits = rng.random_range(10..=(25 - gbits).max(10));
        let Some(mag) = solve_mul(rng, gain, rho, 10, bits) else { continue };
        if rng.random() {
            // err = -mag: target = count * 256 - mag.
            let cmin = mag.div_ceil(256);
            if cmin > 0xFFFF {
                continue;
            }
            let extra = rng.random_range(0..4);
            let count = rng.random_range(cmin..=0xFFFF.min(cmin + extra));
            c.add_constructed(vec![count, count * 256 - mag, gain]);
        } else {
            let count = rng.random_range(0..=0xFFFF);
            let target = count * 256 + mag;
            if target <= 0xFFFF_FFFF {
                c.add_constructed(vec![count, target, gain]);
            }
        }
    }
    // Around the clamps: 2^14 - q at 0 (q = 2^14 +- 1), 2^14 + q at 0xFFFF (q = 49151 +- 1).
    for _ in 0..CONSTRUCTED * 2 {
        let gain = rng.random_range(1..=0xFFFF);
        let q: u64 = [16_383, 16_384, 16_385, 49_150, 49_151, 49_152][rng.random_range(0..6)];
        let mag = (q * 1024 + rng.random_range(0..1024)) / gain;
        let count = rng.random_range(0..=0xFFFF);
        if q < 20_000 && count * 256 >= mag && rng.random() {
            c.add_constructed(vec![count, count * 256 - mag, gain]);
        } else if count * 256 + mag <= 0xFFFF_FFFF {
            c.add_constructed(vec![count, count * 256 + mag, gain]);
        }
    }
    for _ in 0..RANDOM {
        let gbits = rng.random_range(1..=16);
        let gain = match rng.random_range(0..4) {
            0 => val(rng, 16),
            _ => rng.random_range(0..=ones(gbits)),
        };
        let (count, target) = match rng.random_range(0..4) {
            // Counts near the target: small errors.
            0 | 1 => {
                let target = rng.random_range(0..=0xFF_FFFF);
                let count = ((target >> 8) as i64 + rng.random_range(-300..=300)).clamp(0, 0xFFFF);
                (count as u64, target)
            }
            2 => (val(rng, 16), val(rng, 32)),
            _ => (rng.random_range(0..=0xFFFF), rng.random_range(0..=0x7FFF_FFFF)),
        };
        c.add(vec![count, target, gain]);
    }
    c
}

fn scale_case(rng: &mut ChaCha8Rng, index: usize, net: &Network) -> Case {
    let base = HomeostasisFixed::new(net);
    let ww = Layout::new(net).unwrap().weight_bits;
    let rounding = base.w_rounding;
    let mut c = Case::new(
        format!("sf_scale_weight [w {} {rounding:?}]", net.fmt.w),
        ("sf_scale_weight", index),
        synforge_rtl::plasticity::homeostasis::scale_module(ww, rounding),
        vec![port("w", ww), port("s", 16), port("r", 32), port("w_min", ww), port("w_max", ww)],
        vec![port("d", ww)],
        move |v| {
            let h = HomeostasisFixed { w_min: v[3] as i64, w_max: v[4] as i64, ..base };
            vec![h.scale(v[0] as u16, v[1] as i64, &mut drawing(v[2])) as i64]
        },
    );
    let wmax = ones(ww);
    let bounds = |rng: &mut ChaCha8Rng| {
        let (lo, mut hi) = (val(rng, ww), val(rng, ww));
        while lo == hi {
            hi = rng.random_range(0..=wmax);
        }
        (lo.min(hi), lo.max(hi))
    };
    for w in [0, 1, wmax >> 1, wmax - 1, wmax] {
        for s in [0, 1, 0x2000, 0x3FFF, 0x4000, 0x4001, 0x8000, 0xFFFF] {
            for (lo, hi) in [(0, wmax), (1, wmax - 1), (0, 1), (wmax - 1, wmax)] {
                for r in [1, 0xFFFF_FFFF] {
                    if lo < hi {
                        c.add(vec![w, s, r, lo, hi]);
                    }
                }
            }
        }
    }
    // Exact halves: w * s has low 14 bits 0x2000.
    let mut n = 0;
    while n < CONSTRUCTED {
        let w = val(rng, ww);
        if let Some(s) = solve_mul(rng, w, 0x2000, 14, 16) {
            let (lo, hi) = if rng.random() { (0, wmax) } else { bounds(rng) };
            let r = word(rng);
            c.add_constructed(vec![w, s, r, lo, hi]);
            n += 1;
        }
    }
    // Stochastic carries on the 14 bits rounded away.
    for _ in 0..CONSTRUCTED / 2 {
        let (w, s) = (val(rng, ww), val(rng, 16));
        let (lo, hi) = if rng.random() { (0, wmax) } else { bounds(rng) };
        for miss in [0, 1] {
            if let Some(r) = carry_word(rng, (w * s) & 0x3FFF, 14, miss) {
                c.add_constructed(vec![w, s, r, lo, hi]);
            }
        }
    }
    for _ in 0..RANDOM {
        let (lo, hi) = if rng.random_range(0..4) == 0 { (0, wmax) } else { bounds(rng) };
        let w = if rng.random() { rng.random_range(lo..=hi) } else { val(rng, ww) };
        let v = vec![w, val(rng, 16), word(rng), lo, hi];
        c.add(v);
    }
    c
}

#[test]
fn homeostasis_blocks_match_the_model() {
    let mut rng = rng_for(6);
    let mut cases = Vec::new();
    // sf_theta_add over threshold widths 2..32.
    for th in [(2, 0), (3, 1), (16, 10), (31, 5), (32, 0)] {
        let net = homeostasis_network(th, (10, 10), Rounding::Floor);
        let l = Layout::new(&net).unwrap();
        let h = HomeostasisFixed::new(&net);
        let w = l.theta_bits;
        assert_eq!(w, h.theta.width);
        let mut c = Case::new(
            format!("sf_theta_add [theta {}]", h.theta),
            ("sf_theta_add", cases.len()),
            synforge_rtl::plasticity::homeostasis::sat_add_module(w),
            vec![port("a", w), port("b", w)],
            vec![port("d", w)],
            // HomeostasisFixed::bump: theta_a := sat(theta_a + step).
            move |v| {
                let mut theta_a = v[0] as u32;
                HomeostasisFixed { step: v[1] as i64, ..h }.bump(&mut theta_a);
                vec![theta_a as i64]
            },
        );
        let max = ones(w);
        let edges = [0, 1, 2, max >> 1, (max >> 1) + 1, max - 1, max, h.theta0 as u64];
        for a in edges {
            for b in edges {
                c.add(vec![a, b]);
            }
        }
        for _ in 0..CONSTRUCTED {
            let a = val(&mut rng, w);
            c.add_constructed(vec![a, max - a]);
            if a > 0 {
                c.add_constructed(vec![a, max - a + 1]);
            }
        }
        for _ in 0..RANDOM {
            let v = vec![val(&mut rng, w), val(&mut rng, w)];
            c.add(v);
        }
        cases.push(c);
    }
    // sf_scale_factor (no config-dependent shape).
    let net = homeostasis_network((16, 10), (10, 10), Rounding::Floor);
    let i = cases.len();
    cases.push(factor_case(&mut rng, i, &net));
    // sf_scale_weight over weight widths 2..16 and every rounding.
    for w in [(2, 0), (3, 3), (10, 10), (13, 6), (16, 16)] {
        for r in ROUNDINGS {
            let net = homeostasis_network((16, 10), w, r);
            let i = cases.len();
            cases.push(scale_case(&mut rng, i, &net));
        }
    }
    run("homeostasis", cases);
}

// ---------------------------------------------------------------------------------------------
// LFSR

#[test]
fn lfsr_block_matches_the_model() {
    let mut rng = rng_for(7);
    let mut c = Case::new(
        "sf_lfsr_draw".to_string(),
        ("sf_lfsr_draw", 0),
        synforge_rtl::lfsr::module(),
        vec![port("s", 32)],
        vec![port("d", 32)],
        |v| vec![Lfsr::new(v[0] as u32).draw() as i64],
    );
    // Zero is the dead state the model never holds (Lfsr::new(0) starts at 1): not a vector.
    for k in 0..32 {
        c.add(vec![1 << k]);
        c.add(vec![0xFFFF_FFFF ^ (1 << k)]);
    }
    for s in [0xFFFF_FFFF, LFSR_TAPS as u64, 0x9E37_79B9, 0x6A09_E667] {
        c.add(vec![s]);
    }
    // A chain as the hardware runs it: each draw's result is the next state.
    let mut l = Lfsr::new(1);
    for _ in 0..CONSTRUCTED {
        c.add(vec![l.state() as u64]);
        l.draw();
    }
    for _ in 0..RANDOM * 5 {
        c.add(vec![rng.random_range(1..=0xFFFF_FFFF)]);
    }
    run("lfsr", vec![c]);
}

/// The reference's LFSR trick: `drawing(r)` draws `r`, and with it the model's stochastic
/// rounding is semantics §2's `(v + (top s bits of r)) >> s`.
#[test]
fn drawing_lfsr_gives_the_word_and_the_contract_rounding() {
    let mut rng = rng_for(8);
    for _ in 0..20_000 {
        let r = word(&mut rng);
        let mut l = drawing(r);
        assert_eq!(l.draw() as u64, r);
        let v = sext(val(&mut rng, 40), 40);
        let s = rng.random_range(0..=32);
        let top = if s == 0 { 0 } else { (r >> (32 - s)) as i64 };
        assert_eq!(round_shift(v, s, Rounding::Stochastic, &mut drawing(r)), (v + top) >> s);
    }
}
