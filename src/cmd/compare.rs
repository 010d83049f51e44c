//! `synforge compare`: the measured gap between the float reference and the fixed model.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use std::io::Write;

use synforge_sim::compare::{compare_models, Distance};
use synforge_sim::model::{FixedModel, FloatModel, Model, ModelKind};
use synforge_sim::state::{State, Values, WEIGHT_INIT};

use super::state::{self, Persist};
use super::{network_of, source_from};
use crate::output::{write_file, OutFile};
use crate::{Source, UsageError};

/// Where `compare --save-state FILE` puts the float model's state: `FILE` with `-float` at the
/// end of its stem (`s.npz` -> `s-float.npz`).
fn float_path(p: &std::path::Path) -> Result<PathBuf> {
    let stem = p.file_stem().and_then(|s| s.to_str()).ok_or_else(|| {
        UsageError(format!(
            "--save-state: `{}` has no file name; give one, e.g. state.npz",
            p.display()
        ))
    })?;
    let name = match p.extension().and_then(|e| e.to_str()) {
        Some(ext) => format!("{stem}-float.{ext}"),
        None => format!("{stem}-float"),
    };
    Ok(p.with_file_name(name))
}

/// Arguments of `synforge compare`.
#[derive(Args)]
pub struct CompareArgs {
    #[command(flatten)]
    src: Source,
    /// Coincidence window for spike-time agreement, in steps either side.
    #[arg(long, default_value_t = 2)]
    window: u32,
    /// Also write the distance as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    #[command(flatten)]
    persist: Persist,
}

/// Print a distance as a table.
pub fn print_distance(d: &Distance) {
    println!("float reference vs bit-accurate model, {} steps", d.steps);
    println!(
        "  output spikes            fixed {:>9}   float {:>9}",
        d.spikes_fixed, d.spikes_float
    );
    println!("  mean rate (float)        {:>10.3} Hz", d.mean_rate_float_hz);
    println!(
        "  rate error mean |max|    {:>10.3} Hz | {:.3} Hz",
        d.rate_error_mean_hz, d.rate_error_max_hz
    );
    println!("  spike-count error        {:>10.2} % of float spikes", 100.0 * d.rate_error_rel);
    println!("  spike agreement (±{} st)  {:>10.3}", d.window_steps, d.spike_agreement);
    println!(
        "  final weight RMSE        {:>10.5} ({:.2} % of w_max - w_min)",
        d.weight_rmse,
        100.0 * d.weight_rmse_rel
    );
    println!("  final weight correlation {:>10.4}", d.weight_correlation);
}

/// `synforge compare`.
pub fn run(a: CompareArgs) -> Result<ExitCode> {
    let json = a.json.as_deref().map(|p| OutFile::new("--json", p, "compare.json")).transpose()?;
    let net = network_of(&a.src)?;
    if a.persist.save_state_every.is_some() {
        return Err(UsageError(
            "--save-state-every: compare saves both models' states at the end only; drop \
             --save-state-every"
                .into(),
        )
        .into());
    }
    let saves = match &a.persist.save_state {
        Some(p) => {
            let float = float_path(p)?;
            drop(OutFile::new("--save-state", p, "state.npz")?);
            Some((p.clone(), float))
        }
        None => None,
    };
    // Both models from one state: the other model's kind converted (docs/state.md).
    let mut fixed = FixedModel::new(&net);
    let mut float = FloatModel::new(&net);
    let (init_fixed, init_float) = match &a.persist.load_state {
        Some(p) => {
            let s = State::read(p).map_err(|e| UsageError(format!("--load-state {e}")))?;
            let s = state::load(p, &net, s.model)?;
            // A fixed state saved by `compare --save-state` has the float model's beside it:
            // then each model continues its own state exactly.
            let pf = float_path(p)?;
            let sf = if s.model == ModelKind::Fixed && pf.is_file() {
                let sf = state::load(&pf, &net, ModelKind::Float)?;
                if sf.step != s.step {
                    return Err(UsageError(format!(
                        "--load-state {}: is the state after step {} but {} beside it after step {}; \
                         give the pair `compare --save-state` wrote together",
                        p.display(),
                        s.step,
                        pf.display(),
                        sf.step
                    ))
                    .into());
                }
                Some(sf)
            } else {
                None
            };
            let fresh = fixed.state();
            let as_kind = |s: &State,
                           path: &std::path::Path,
                           kind: ModelKind,
                           m: &mut dyn Model|
             -> Result<Values> {
                let q = s.converted(&net, kind, &fresh);
                m.set_state(s.step, &q)
                    .map_err(|e| UsageError(format!("--load-state {}: {e}", path.display())))?;
                Ok(q.iter()
                    .find(|x| x.name == WEIGHT_INIT)
                    .map_or_else(|| state::weights_of(m), |x| x.values.clone()))
            };
            let i_fixed = as_kind(&s, p, ModelKind::Fixed, &mut fixed)?;
            let i_float = match &sf {
                Some(sf) => as_kind(sf, &pf, ModelKind::Float, &mut float)?,
                None => as_kind(&s, p, ModelKind::Float, &mut float)?,
            };
            println!(
                "from step {}: the fixed model from {}{}, the float model from {}{}",
                s.step,
                p.display(),
                if s.model == ModelKind::Fixed { "" } else { " (rounded into its formats)" },
                if sf.is_some() { pf.display() } else { p.display() },
                if sf.is_some() || s.model == ModelKind::Float {
                    ""
                } else {
                    " (its raw words as reals)"
                }
            );
            (i_fixed, i_float)
        }
        None => (state::weights_of(&fixed), state::weights_of(&float)),
    };
    let start = fixed.time();
    let mut fixed_src = source_from(&net, &a.src, start)?;
    let mut float_src = source_from(&net, &a.src, start)?;
    let mut progress = super::Progress::new("compare", fixed_src.steps());
    let d = compare_models(
        &net,
        &mut fixed,
        &mut float,
        fixed_src.as_mut(),
        float_src.as_mut(),
        a.window,
        &mut progress,
    );
    print_distance(&d);
    if let Some((p, pf)) = saves {
        let s = State::of(&net, &fixed, ModelKind::Fixed, init_fixed);
        write_file("--save-state", &p, "state.npz", &s.to_bytes()?)?;
        let s = State::of(&net, &float, ModelKind::Float, init_float);
        write_file("--save-state", &pf, "state.npz", &s.to_bytes()?)?;
        println!(
            "  wrote {} (fixed) and {} (float), the states after step {}",
            p.display(),
            pf.display(),
            fixed.time()
        );
    }
    if let Some(mut f) = json {
        f.writer().write_all(serde_json::to_string_pretty(&d)?.as_bytes())?;
        f.commit()?;
    }
    Ok(ExitCode::SUCCESS)
}
