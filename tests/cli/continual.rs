//! `synforge bench --continual`: the continual-learning benchmark on the 8 x 8 digits.

use super::{json, ok, refused, tmp, write};

/// The whole benchmark (a few seconds): for the rule, the rule with consolidation and the
/// plain-STDP baseline, the accuracy
/// matrix of both models, ACC and BWT as Lopez-Paz & Ranzato define them from it, the untrained
/// baseline; run twice, the same.
#[test]
fn bench_continual_measures_accuracy_and_forgetting_in_both_models() {
    let dir = tmp();
    let stdout = ok(dir.path(), &["bench", "--continual", "--json", "c.json"]);
    assert!(
        stdout.contains(
            "continual (64 x 40, rule custom), 5 tasks of 2 digits, 1352 training and 445 \
             held-out samples"
        ) && stdout.contains("continual-pair (64 x 40, rule pair)")
            && stdout.contains("consolidation (64 x 40, rule custom)"),
        "{stdout}"
    );
    assert!(stdout.contains("summary (fixed | float):"), "{stdout}");
    let j = json(&dir.path().join("c.json"));
    let tasks = j["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 5);
    // 1797 samples: every one used once, a quarter of each class held out.
    let n = |k: &str| tasks.iter().map(|t| t[k].as_u64().unwrap()).sum::<u64>();
    assert_eq!((n("train"), n("test")), (1352, 445));
    let runs = j["runs"].as_array().unwrap();
    assert_eq!(
        runs.iter().map(|r| r["config"].as_str().unwrap()).collect::<Vec<_>>(),
        ["continual", "consolidation", "continual-pair"]
    );
    // Consolidation forgets less than the same rule without it, in both models (what the
    // README's table shows; deterministic, so this holds the figures).
    let bwt_of = |run: usize, model: usize| runs[run]["models"][model]["bwt"].as_f64().unwrap();
    for model in 0..2 {
        assert!(
            bwt_of(1, model) > bwt_of(0, model) + 0.05,
            "{} {}",
            bwt_of(1, model),
            bwt_of(0, model)
        );
    }
    for run in runs {
        let models = run["models"].as_array().unwrap();
        assert_eq!(
            models.iter().map(|m| m["model"].as_str().unwrap()).collect::<Vec<_>>(),
            ["fixed", "float"]
        );
        for m in models {
            let r: Vec<Vec<f64>> = serde_json::from_value(m["r"].clone()).unwrap();
            assert_eq!(r.len(), 5);
            assert!(r.iter().flatten().all(|a| (0.0..=1.0).contains(a)), "{r:?}");
            let acc = r[4].iter().sum::<f64>() / 5.0;
            let bwt = (0..4).map(|j| r[4][j] - r[j][j]).sum::<f64>() / 4.0;
            let learned = (0..5).map(|i| r[i][i]).sum::<f64>() / 5.0;
            assert!((m["acc"].as_f64().unwrap() - acc).abs() < 1e-12, "{m}");
            assert!((m["bwt"].as_f64().unwrap() - bwt).abs() < 1e-12, "{m}");
            assert!((m["learned"].as_f64().unwrap() - learned).abs() < 1e-12, "{m}");
            // Diagnostics: the memory norm after each task, and what each task rewrote (the
            // first task rewrites from the initial weights: the same sum).
            let norm: Vec<f64> = serde_json::from_value(m["memory_norm"].clone()).unwrap();
            let rewritten: Vec<f64> = serde_json::from_value(m["rewritten"].clone()).unwrap();
            assert_eq!((norm.len(), rewritten.len()), (5, 5));
            assert!(norm[0] > 1.0 && (norm[0] - rewritten[0]).abs() < 1e-9, "{m}");
            // With a level per synapse: the fraction of stiff synapses and the mean level after
            // each task, growing with what was learned; none without one.
            let stiff = m["stiff"].as_array().map(|a| a.len());
            if run["config"] == "consolidation" {
                assert_eq!(stiff, Some(5), "{m}");
                let s: Vec<f64> = serde_json::from_value(m["stiff"].clone()).unwrap();
                assert!(s[0] > 0.1 && s[4] >= s[0] && s[4] <= 1.0, "{s:?}");
            } else {
                assert_eq!(stiff, None, "{m}");
            }
            if run["config"] == "continual" {
                // Each task is learned: right after it, well above the untrained network.
                let untrained: Vec<f64> = serde_json::from_value(m["untrained"].clone()).unwrap();
                for i in 0..5 {
                    assert!(
                        r[i][i] > 0.8 && r[i][i] > untrained[i] + 0.05,
                        "{}: {r:?}",
                        m["model"]
                    );
                }
                // And the later tasks erase some of it: what the benchmark is for.
                assert!(bwt < -0.05, "{}: BWT {bwt}", m["model"]);
            }
        }
    }
    // Deterministic: the same matrices again (the seconds may differ).
    ok(dir.path(), &["bench", "--continual", "--json", "d.json"]);
    let again = json(&dir.path().join("d.json"));
    for (a, b) in runs.iter().zip(again["runs"].as_array().unwrap()) {
        for (a, b) in a["models"].as_array().unwrap().iter().zip(b["models"].as_array().unwrap()) {
            assert_eq!((&a["r"], &a["untrained"]), (&b["r"], &b["untrained"]));
        }
    }
}

#[test]
fn bench_continual_refuses_what_it_cannot_run() {
    let dir = tmp();
    let cfg = write(dir.path(), "net.toml", "[network]\ninputs = 32\n");
    refused(
        dir.path(),
        &["bench", "--continual", "-c", cfg.to_str().unwrap()],
        "error: network.inputs: the continual benchmark feeds 8 x 8 digits, so it needs 64 \
         inputs, got 32; set inputs = 64\n",
    );
    refused(
        dir.path(),
        &["bench", "--continual", "--max-rate-hz", "0"],
        "error: --max-rate-hz must be above 0 and at most 1000 (one spike per ms), got 0\n",
    );
    refused(
        dir.path(),
        &[
            "bench",
            "--continual",
            "-c",
            cfg.to_str().unwrap(),
            "-c",
            cfg.to_str().unwrap(),
            "--training-stimulus",
            "t.csv",
        ],
        "error: --training-stimulus writes one network's spikes: give one -c\n",
    );
    let folder = dir.path().join("out");
    std::fs::create_dir(&folder).unwrap();
    refused(
        dir.path(),
        &["bench", "--continual", "--samples-per-class", "2", "--json", "out"],
        "error: --json: `out` is a folder; give a file name, e.g. out/continual.json\n",
    );
}

/// A shortened benchmark's training (3 samples of each digit, 4450 steps of all five tasks)
/// co-simulated: the core learns what the bit-accurate model learns, to the cycle.
#[test]
fn the_continual_benchmarks_training_cosimulates_with_zero_mismatches() {
    let dir = tmp();
    let cfg = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/continual.toml");
    let out = ok(
        dir.path(),
        &["bench", "--continual", "--samples-per-class", "3", "--training-stimulus", "t.csv"],
    );
    assert!(out.contains("wrote t.csv") && out.contains("over 4500 steps"), "{out}");
    let stdout = ok(dir.path(), &["cosim", "-c", cfg.to_str().unwrap(), "-s", "t.csv", "-o", "c"]);
    assert!(stdout.contains("cosim continual: 64 inputs x 40 neurons"), "{stdout}");
    assert!(stdout.contains("zero mismatches"), "{stdout}");
    // The same training with consolidation: a level per synapse in the synapse word.
    let cfg = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/consolidation.toml");
    let stdout = ok(dir.path(), &["cosim", "-c", cfg.to_str().unwrap(), "-s", "t.csv", "-o", "k"]);
    assert!(stdout.contains("cosim consolidation: 64 inputs x 40 neurons"), "{stdout}");
    assert!(stdout.contains("zero mismatches"), "{stdout}");
}
