//! The global modulator `r` of three-factor rules (issue 11, item 3): the modulated pairing
//! example in both models, co-simulated and on the simulated board; its mistakes refused.

use std::path::Path;

use super::{ok, read, refused, tmp, write};

/// `(input, weight)` of a weights.csv of one neuron.
fn weights(csv: &str) -> Vec<f64> {
    csv.lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().and_then(|w| w.parse().ok()).expect("a weight"))
        .collect()
}

#[test]
fn the_modulated_window_is_the_pair_window_times_the_mean_modulator() {
    let dir = tmp();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let modulated = root.join("examples/modulated-pairing.toml");
    let plain = root.join("examples/pairing.toml");
    let run = |cfg: &Path, model: &str, out: &str| {
        ok(dir.path(), &["sim", "-c", cfg.to_str().unwrap(), "--model", model, "-o", out]);
        weights(&read(&dir.path().join(out).join("weights.csv")))
    };
    let plain_float = run(&plain, "float", "plain");
    let float = run(&modulated, "float", "float");
    let fixed = run(&modulated, "fixed", "fixed");
    // r = 1 for 10 pairings and -0.5 for 10: a quarter of the 20 pairings' window.
    let w0 = 0.45;
    let peak = float.iter().map(|w| (w - w0).abs()).fold(0.0, f64::max);
    assert!((peak - 0.01).abs() < 1e-6, "the window's peak is 5 x a_plus: {peak}");
    for k in 0..101 {
        let want = (plain_float[k] - w0) * 0.25;
        assert!((float[k] - w0 - want).abs() < 1e-8, "input {k}: {} vs {want}", float[k] - w0);
        // Stochastic rounding of uQ0.16 weights: a few LSBs (1.5e-5) over 20 pairings.
        assert!(
            (fixed[k] - float[k]).abs() < 2e-4,
            "input {k}: fixed {} float {}",
            fixed[k],
            float[k]
        );
    }
    let out = ok(dir.path(), &["cosim", "-c", modulated.to_str().unwrap(), "-o", "cosim"]);
    assert!(out.contains("RTL == bit-accurate model: zero mismatches"), "{out}");
    let out = ok(
        dir.path(),
        &["run", "--sim", "-c", modulated.to_str().unwrap(), "--steps", "5200", "-o", "board"],
    );
    assert!(out.contains("board == bit-accurate model"), "{out}");
}

#[test]
fn modulator_mistakes_are_refused_naming_the_field_and_the_fix() {
    let dir = tmp();
    let d = dir.path();
    let rule = "[plasticity]\nrule = \"custom\"\ndw = \"a * x1 * r * y0\"\n[plasticity.params]\na = 0.01\n";
    write(d, "no-format.toml", rule);
    refused(
        d,
        &["sim", "-c", "no-format.toml"],
        "error: config field `formats.modulator`: plasticity.dw reads the modulator `r`, which has \
         no format: add [formats.modulator] with width = 8, frac = 6 (signed, -2 to 2 - 2^-6), or \
         another signed format of 2 to 16 bits\n",
    );
    write(d, "wide.toml", &format!("{rule}[formats.modulator]\nwidth = 17\nfrac = 6\n"));
    refused(
        d,
        &["sim", "-c", "wide.toml"],
        "error: config field `formats.modulator.width`: the modulator is signed, 2 to 16 bits with \
         its sign, got 17\n",
    );
    write(d, "frac.toml", &format!("{rule}[formats.modulator]\nwidth = 8\nfrac = 8\n"));
    refused(
        d,
        &["sim", "-c", "frac.toml"],
        "error: config field `formats.modulator.frac`: the modulator has 8 fraction bits but only 7 \
         bits besides its sign; use frac = 0 to 7\n",
    );
    write(d, "r.csv", "step,value\n0,1\n");
    write(
        d,
        "unread.toml",
        "[formats.modulator]\nwidth = 8\nfrac = 6\n[stimulus]\nmodulator_file = \"r.csv\"\n",
    );
    refused(
        d,
        &["sim", "-c", "unread.toml"],
        "error: config field `stimulus.modulator_file`: the rule does not read the modulator `r`: \
         write `r` into a term of the rule (as `a * x1 * r * y0`), or remove modulator_file\n",
    );
    write(d, "bad.csv", "step,value\n0,1\n3,high\n");
    write(
        d,
        "bad.toml",
        &format!("{rule}[formats.modulator]\nwidth = 8\nfrac = 6\n[stimulus]\nmodulator_file = \"bad.csv\"\n"),
    );
    refused(
        d,
        &["sim", "-c", "bad.toml"],
        "error: config field `stimulus.modulator_file`: bad.csv:3: value `high` is not a finite number\n",
    );
    write(
        d,
        "missing.toml",
        &format!("{rule}[formats.modulator]\nwidth = 8\nfrac = 6\n[stimulus]\nmodulator_file = \"nope.csv\"\n"),
    );
    refused(
        d,
        &["sim", "-c", "missing.toml"],
        "error: config field `stimulus.modulator_file`: cannot read nope.csv: No such file or \
         directory (os error 2)\n",
    );
}
