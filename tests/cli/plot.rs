//! `synforge plot`: figures of a run's folder, SVG and PNG, the STDP window of the pairing
//! example beside its rule, and the triplet rule's change against pairing frequency.

use std::path::{Path, PathBuf};

use super::{ok, read, refused, tmp, tree, write};

const FIGURES: [&str; 3] = ["raster", "receptive_fields", "weights"];

/// A PNG of at least `w` x `h` pixels.
fn is_png(path: &Path, w: u32, h: u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{} is a PNG", path.display());
    let be = |k: usize| u32::from_be_bytes(bytes[k..k + 4].try_into().unwrap());
    assert!(be(16) >= w && be(20) >= h, "{}: {} x {}", path.display(), be(16), be(20));
}

#[test]
fn plot_draws_the_pairing_window_beside_the_rule() {
    let dir = tmp();
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/pairing.toml");
    ok(dir.path(), &["sim", "-c", cfg.to_str().unwrap(), "-o", "out"]);
    let stdout = ok(dir.path(), &["plot", "out"]);
    for f in ["window.svg", "window.png"] {
        assert!(stdout.contains(&format!("wrote out/{f}")), "{stdout}");
    }
    is_png(&dir.path().join("out/window.png"), 600, 400);
    let svg = read(&dir.path().join("out/window.svg"));
    assert!(svg.starts_with("<svg") && svg.contains("weight change per pairing"), "{svg:.300}");
    // 101 inputs at offsets -50..50 ms, 20 pairings: every measured change per pairing lies on
    // the pair rule's curve A+ exp(-dt/tau+) / -A- exp(dt/tau-) (stochastic rounding of
    // 16-bit weights, one discrete step of the traces: well within 1 % of the peak).
    let line = stdout.lines().find(|l| l.contains("STDP window")).expect("the window's line");
    assert!(line.contains("101 inputs over 20 pairings"), "{line}");
    let pct: f64 =
        line.rsplit("curve ").next().unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(pct < 1.0, "{line}");
}

/// `frequency.csv` as rows of numbers (`None` for an empty field).
fn frequency_rows(path: &Path) -> Vec<Vec<Option<f64>>> {
    let text = read(path);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "frequency_hz,period_steps,fixed_plus,fixed_minus,float_plus,float_minus,\
             theory_plus,theory_minus"
        )
    );
    lines.map(|l| l.split(',').map(|v| v.parse().ok()).collect()).collect()
}

/// The number after `word` in `line`.
fn after(line: &str, word: &str) -> f64 {
    let rest = line.split(word).nth(1).unwrap_or_else(|| panic!("{word:?} in {line:?}"));
    rest.trim().split(' ').next().unwrap().parse().unwrap_or_else(|e| panic!("{line}: {e}"))
}

/// The triplet rule's signature (Pfister & Gerstner 2006): at t_post - t_pre = +10 ms
/// potentiation grows with the pairing frequency, and -10 ms turns from depression into
/// potentiation; the pair rule does neither. Both models, beside the rule's equations.
#[test]
fn plot_draws_the_triplet_rules_change_against_pairing_frequency() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tmp();
    for (name, out) in [("triplet-pairing.toml", "triplet"), ("pairing.toml", "pair")] {
        let cfg = root.join("examples").join(name);
        ok(dir.path(), &["sim", "-c", cfg.to_str().unwrap(), "-o", out]);
    }
    let stdout = ok(dir.path(), &["plot", "triplet"]);
    for f in ["frequency.svg", "frequency.png", "frequency.csv"] {
        assert!(stdout.contains(&format!("wrote triplet/{f}")), "{stdout}");
    }
    is_png(&dir.path().join("triplet/frequency.png"), 600, 400);
    let svg = read(&dir.path().join("triplet/frequency.svg"));
    assert!(svg.contains("pairing frequency (Hz)") && svg.contains("the equations"), "{svg:.300}");
    // The float model steps the equations the figure's curve evaluates spike by spike: equal
    // to rounding; the fixed model within 1 % of the peak (16-bit weights and traces).
    let line = stdout.lines().find(|l| l.contains("pairing frequency:")).expect("its line");
    assert!(line.contains("10 frequencies, +/-10 ms, 60 pairings each"), "{line}");
    assert!(after(line, "fixed from float") < 1.0, "{line}");
    assert!(after(line, "float from the equations") < 1e-9, "{line}");
    assert!(!stdout.contains("no point"), "{stdout}");
    let rows = frequency_rows(&dir.path().join("triplet/frequency.csv"));
    assert_eq!(rows.len(), 10);
    let col = |r: &Vec<Option<f64>>, k: usize| r[k].unwrap_or_else(|| panic!("{r:?}"));
    let (first, last) = (&rows[0], &rows[9]);
    assert_eq!((col(first, 0), col(last, 0)), (1.0, 50.0));
    for (fixed, float) in [(2, 4), (3, 5)] {
        for r in &rows {
            let theory = col(r, float + 2);
            assert!((col(r, float) - theory).abs() <= 1e-12, "{r:?}");
            assert!((col(r, fixed) - theory).abs() <= 2e-5, "{r:?}");
        }
    }
    // +10 ms: from nothing at 1 Hz (A2+ = 0) to strong potentiation, growing all the way.
    assert!(col(first, 4).abs() < 1e-5 && col(last, 4) > 2e-3, "{first:?} {last:?}");
    assert!(rows.windows(2).all(|w| col(&w[1], 4) > col(&w[0], 4)), "{rows:?}");
    // -10 ms: depression at low frequency, potentiation at 50 Hz.
    assert!(col(first, 5) < -1e-3 && col(last, 5) > 2e-3, "{first:?} {last:?}");
    // The pair rule: potentiation at +10 ms falls with frequency; -10 ms never reaches the
    // potentiation +10 ms has at 1 Hz.
    let stdout = ok(dir.path(), &["plot", "pair"]);
    let line = stdout.lines().find(|l| l.contains("pairing frequency:")).expect("its line");
    assert!(after(line, "float from the equations") < 1e-9, "{line}");
    let rows = frequency_rows(&dir.path().join("pair/frequency.csv"));
    assert!(col(&rows[9], 4) < col(&rows[0], 4) / 2.0, "{rows:?}");
    assert!(rows.iter().all(|r| col(r, 5) < col(&rows[0], 4) / 2.0), "{rows:?}");
}

#[test]
fn plot_draws_a_runs_raster_fields_and_weights_into_its_folder() {
    let dir = tmp();
    ok(dir.path(), &["sim", "--steps", "1500", "-o", "out"]);
    let before = tree(&dir.path().join("out"));
    let stdout = ok(dir.path(), &["plot", "out", "--window", "500:1000"]);
    let mut added: Vec<PathBuf> =
        tree(&dir.path().join("out")).difference(&before).cloned().collect();
    added.sort();
    let mut want: Vec<PathBuf> = FIGURES
        .iter()
        .flat_map(|f| [format!("{f}.png"), format!("{f}.svg")])
        .map(PathBuf::from)
        .collect();
    want.sort();
    assert_eq!(added, want, "the figures and nothing else (no window: not a pairing run)");
    for f in FIGURES {
        assert!(stdout.contains(&format!("wrote out/{f}.svg")), "{stdout}");
        is_png(&dir.path().join(format!("out/{f}.png")), 600, 400);
    }
    let raster = read(&dir.path().join("out/raster.svg"));
    assert!(raster.contains("steps 500..1000") && raster.contains("pattern"), "{raster:.400}");
    // Drawn again, the same files (the input raster comes from the config, not stored).
    let first = std::fs::read(dir.path().join("out/raster.svg")).unwrap();
    ok(dir.path(), &["plot", "out", "--window", "500:1000"]);
    assert_eq!(std::fs::read(dir.path().join("out/raster.svg")).unwrap(), first);
}

#[test]
fn plot_draws_the_recorded_state_and_both_models_side_by_side() {
    let dir = tmp();
    let p = dir.path();
    for m in ["fixed", "float"] {
        ok(
            p,
            &[
                "sim",
                "--model",
                m,
                "--steps",
                "1200",
                "--record",
                "0,1,2",
                "-o",
                &format!("run/{m}"),
            ],
        );
    }
    let stdout = ok(p, &["plot", "run"]);
    for f in ["fixed/traces", "float/weights_over_time", "fixed_float_traces", "fixed_float_raster"]
    {
        assert!(stdout.contains(&format!("wrote run/{f}.svg")), "{f}: {stdout}");
        is_png(&p.join(format!("run/{f}.png")), 600, 400);
    }
    let traces = read(&p.join("run/fixed/traces.svg"));
    assert!(
        traces.contains("neuron 2, steps 900..1200") && traces.contains("threshold"),
        "{traces:.400}"
    );
    // A record that is not one is refused, naming the file and the fix.
    write(p, "run/fixed/record.npz", "not a zip");
    let out = super::synforge(p, &["plot", "run/fixed"]);
    assert_eq!(out.status.code(), Some(2));
    let err = super::text(&out.stderr);
    assert!(
        err.contains("run/fixed/record.npz: not a record synforge wrote")
            && err.contains("--record"),
        "{err}"
    );
}

#[test]
fn plot_refuses_what_it_cannot_draw() {
    let dir = tmp();
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    refused(
        dir.path(),
        &["plot", "empty"],
        "error: empty: no config.toml; `synforge plot` reads a folder that `synforge sim` (or \
         `demo`) wrote; run it again into that folder\n",
    );
    write(dir.path(), "file.txt", "x");
    refused(
        dir.path(),
        &["plot", "file.txt"],
        "error: file.txt: not a folder; give the folder `synforge sim` wrote (-o)\n",
    );
    ok(dir.path(), &["sim", "--steps", "300", "-o", "out"]);
    refused(
        dir.path(),
        &["plot", "out", "--window", "5:2"],
        "error: --window \"5:2\": give FROM:TO in steps, FROM < TO, e.g. 19000:20000\n",
    );
    refused(
        dir.path(),
        &["plot", "out", "--window", "100:400"],
        "error: --window 100:400: the run in out has steps 0..300\n",
    );
}

/// The README's figures are the tool's own output: drawn again here from the default network
/// and the two pairing examples, byte for byte. After a deliberate change, `SYNFORGE_BLESS=1` writes
/// the new ones into docs/figures.
#[test]
fn the_readmes_figures_are_what_plot_draws() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tmp();
    let pairing = root.join("examples/pairing.toml");
    ok(dir.path(), &["sim", "-o", "default"]);
    ok(dir.path(), &["plot", "default"]);
    ok(dir.path(), &["sim", "-c", pairing.to_str().unwrap(), "-o", "pairing"]);
    ok(dir.path(), &["plot", "pairing"]);
    let triplet = root.join("examples/triplet-pairing.toml");
    ok(dir.path(), &["sim", "-c", triplet.to_str().unwrap(), "-o", "triplet"]);
    ok(dir.path(), &["plot", "triplet"]);
    let bless = std::env::var_os("SYNFORGE_BLESS").is_some();
    let mut stale = Vec::new();
    for (from, name) in [
        ("default/raster.png", "raster.png"),
        ("default/receptive_fields.png", "receptive_fields.png"),
        ("pairing/window.png", "window.png"),
        ("triplet/frequency.png", "frequency.png"),
    ] {
        let drawn = std::fs::read(dir.path().join(from)).unwrap();
        let kept = root.join("docs/figures").join(name);
        if bless {
            std::fs::create_dir_all(kept.parent().unwrap()).unwrap();
            std::fs::write(&kept, &drawn).unwrap();
        } else if std::fs::read(&kept).ok().as_deref() != Some(&drawn[..]) {
            stale.push(kept.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "the README's figures differ from what plot draws now: {stale:?}; if the change is \
         meant, run this test with SYNFORGE_BLESS=1 and commit docs/figures"
    );
}
