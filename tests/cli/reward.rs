//! Reward-modulated STDP (issue 11, item 4): Izhikevich's distal-reward experiment,
//! `examples/reward-stdp.toml`, in both models and on the core; the reward task's mistakes
//! refused.

use std::path::Path;

use super::{ok, read, refused, tmp, write};

/// The rewarded synapse (input 0) against the others in a weights.csv of one neuron: its
/// weight, its rank (1 = the largest; ties share the best rank), the others' mean and max.
fn standing(csv: &str) -> (f64, usize, f64, f64) {
    let w: Vec<f64> = csv
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().and_then(|w| w.parse().ok()).expect("a weight"))
        .collect();
    let rank = 1 + w.iter().filter(|&&x| x > w[0]).count();
    let others = &w[1..];
    let mean = others.iter().sum::<f64>() / others.len() as f64;
    (w[0], rank, mean, others.iter().cloned().fold(0.0, f64::max))
}

fn example() -> String {
    read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/reward-stdp.toml"))
}

#[test]
fn the_rewarded_synapse_climbs_to_the_top_only_with_a_tag_that_bridges_the_delay() {
    let dir = tmp();
    let d = dir.path();
    write(d, "reward.toml", &example());
    // The control: the tag forgets in 100 ms, far less than the 1 to 3 s delay.
    let short = example().replace("tag_decay = 0.0952 ", "tag_decay = 0.632 ");
    assert_ne!(short, example());
    write(d, "short.toml", &short);
    for model in ["fixed", "float"] {
        let out = format!("{model}-reward");
        ok(d, &["sim", "-c", "reward.toml", "--model", model, "-o", &out]);
        let (w0, rank, mean, max) = standing(&read(&d.join(&out).join("weights.csv")));
        eprintln!(
            "{model}, tau_c 1 s: rewarded synapse {w0:.4} rank {rank} of 200; others mean \
             {mean:.4}, max {max:.4}"
        );
        assert_eq!(rank, 1, "{model}: the rewarded synapse is at the top");
        assert!(w0 >= 0.2 && mean < 0.1, "{model}: {w0} against a mean of {mean}");
        let out = format!("{model}-short");
        ok(d, &["sim", "-c", "short.toml", "--model", model, "-o", &out]);
        let (w0, rank, mean, max) = standing(&read(&d.join(&out).join("weights.csv")));
        eprintln!(
            "{model}, tau_c 0.1 s: rewarded synapse {w0:.4} rank {rank} of 200; others mean \
             {mean:.4}, max {max:.4}"
        );
        assert!(rank > 10 && w0 < 0.07, "{model}: without a matched tag it does not rise");
    }
}

#[test]
fn the_distal_reward_core_matches_the_model_step_by_step() {
    let dir = tmp();
    let d = dir.path();
    // Busier than the example's first seconds, so that pairings and rewards happen early.
    let busy = example().replace("rate_hz = 1.0", "rate_hz = 4.0");
    write(d, "busy.toml", &busy);
    // Two halves, the second from the state the core read back (the task's pending rewards
    // and pairings come from the host's model beside it).
    let out = ok(
        d,
        &["cosim", "-c", "busy.toml", "--steps", "10000", "-o", "cosim", "--save-state", "h.npz"],
    );
    assert!(out.contains("RTL == bit-accurate model: zero mismatches"), "{out}");
    let out = ok(
        d,
        &["cosim", "-c", "busy.toml", "--steps", "20000", "-o", "cosim", "--load-state", "h.npz"],
    );
    assert!(out.contains("RTL == bit-accurate model: zero mismatches"), "{out}");
    // The same second half from the model's own state: the same weights at the end.
    ok(d, &["sim", "-c", "busy.toml", "--steps", "10000", "-o", "s1", "--save-state", "m.npz"]);
    // (`sim --steps` after a load counts the steps to run on; `cosim --steps` the last step.)
    ok(d, &["sim", "-c", "busy.toml", "--steps", "10000", "-o", "s2", "--load-state", "m.npz"]);
    ok(d, &["sim", "-c", "busy.toml", "--steps", "20000", "-o", "whole"]);
    assert_eq!(read(&d.join("s2/weights.csv")), read(&d.join("whole/weights.csv")));
    let out = ok(d, &["run", "--sim", "-c", "busy.toml", "--steps", "4000", "-o", "board"]);
    assert!(out.contains("board == bit-accurate model"), "{out}");
}

#[test]
fn reward_task_mistakes_are_refused_naming_the_field() {
    let dir = tmp();
    let d = dir.path();
    write(d, "bad-input.toml", &example().replace("input = 0\n", "input = 200\n"));
    refused(
        d,
        &["sim", "-c", "bad-input.toml"],
        "error: config field `stimulus.reward.input`: input 200 does not exist (inputs 0 to 199)\n",
    );
    write(d, "r.csv", "step,value\n0,1\n");
    write(
        d,
        "both.toml",
        &example().replace("rate_hz = 1.0\n", "rate_hz = 1.0\nmodulator_file = \"r.csv\"\n"),
    );
    refused(
        d,
        &["sim", "-c", "both.toml"],
        "error: config field `stimulus.reward`: the modulator comes from the reward task or from \
         modulator_file, not both: remove one\n",
    );
    write(d, "delay.toml", &example().replace("[1000.0, 3000.0]", "[3000.0, 1000.0]"));
    refused(
        d,
        &["sim", "-c", "delay.toml"],
        "error: config field `stimulus.reward.delay_ms`: [3000, 1000]: give [lo, hi] with 0 <= lo \
         <= hi (ms)\n",
    );
}

/// The reward task's state (pending rewards, the unpaired spike, the delays' LFSR) is saved
/// with the network's: a run split in two at any step is the run in one piece, in both models,
/// and `synforge state` lists the task's arrays.
#[test]
fn a_reward_task_goes_on_from_a_saved_state_as_if_never_stopped() {
    let dir = tmp();
    let d = dir.path();
    let busy = example().replace("rate_hz = 1.0", "rate_hz = 4.0");
    write(d, "busy.toml", &busy);
    for model in ["fixed", "float"] {
        let o = |s: &str| format!("{model}-{s}");
        let st = format!("{model}.npz");
        let sim = |steps: &str, out: &str, state: &[&str]| {
            let base = ["sim", "-c", "busy.toml", "--model", model, "--steps", steps, "-o", out];
            ok(d, &[&base[..], state].concat());
        };
        sim("7777", &o("a"), &["--save-state", &st]);
        sim("22223", &o("b"), &["--load-state", &st]);
        sim("30000", &o("whole"), &[]);
        assert_eq!(
            read(&d.join(o("b")).join("weights.csv")),
            read(&d.join(o("whole")).join("weights.csv")),
            "{model}"
        );
        // The split falls while rewards are pending: the state carries them.
        let s = synforge_sim::state::State::read(&d.join(&st)).unwrap();
        let u32s = |name: &str| synforge_sim::state::u32s(&s.quantities, name, None).unwrap();
        let (pairings, pending) = (u32s("reward_pairings")[0], u32s("reward_pending"));
        eprintln!("{model}: at step 7777, {pairings} pairings, rewards pending from {pending:?}");
        assert!(pairings > 0 && !pending.is_empty(), "{model}: {pairings} {pending:?}");
    }
    let out = ok(d, &["state", "fixed.npz"]);
    for name in ["reward_lfsr", "reward_last_pre", "reward_pairings", "reward_pending"] {
        assert!(out.contains(name), "{out}");
    }
}
