//! One module per subcommand.
pub mod bench;
pub mod compare;
pub mod continual;
pub mod cosim;
pub mod demo;
pub mod frequency;
pub mod gen;
pub mod params;
pub mod plot;
pub mod record;
pub mod report;
pub mod run;
pub mod sim;
pub mod state;
pub mod stimulus;
pub mod synth;

use anyhow::Result;
use synforge_sim::stimulus::{Cursor, SpikeSource, StimulusSpec, MAX_STEPS};
use synforge_sim::{Network, Stimulus};

use crate::{usage, Source, UsageError};

/// Input spikes a command that keeps its whole stimulus in memory accepts (4 bytes each, 256
/// MiB in all, and 8 bytes more a step that has spikes).
pub const MAX_STORED_SPIKES: f64 = (1u64 << 26) as f64;

/// The network of a command's `--config` (or the built-in default), checked.
pub fn network_of(src: &Source) -> Result<Network> {
    let net = gen::network(src.config.as_deref())?;
    if src.steps == Some(0) {
        return Err(UsageError("--steps must be at least 1".into()).into());
    }
    Ok(net)
}

fn spec_of(net: &Network, src: &Source) -> StimulusSpec {
    let mut spec = net.cfg.stimulus.clone();
    if let Some(s) = src.steps {
        spec.steps = s;
    }
    spec
}

/// The config a run used, as `sim` writes it into its folder (`config.toml`): the stimulus as
/// the command line made it (`--stimulus` a file, `--steps` its steps) and every path absolute,
/// so the folder alone says what ran (`synforge plot` regenerates the input from it).
pub fn run_config(net: &Network, src: &Source) -> synforge_sim::Config {
    let absolute = |p: &std::path::Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut cfg = net.cfg.clone();
    if let Some(p) = &src.stimulus {
        cfg.stimulus.kind = synforge_sim::stimulus::StimulusKind::File;
        cfg.stimulus.file = Some(p.clone());
    }
    if let Some(s) = src.steps {
        cfg.stimulus.steps = s;
    }
    cfg.stimulus.file = cfg.stimulus.file.as_deref().map(absolute);
    cfg.plasticity.w_init_file = cfg.plasticity.w_init_file.as_deref().map(absolute);
    cfg
}

/// Load the network (config or built-in default) and its stimulus as a stream: memory
/// independent of the run's length (a stimulus file is read whole; it is sparse).
pub fn load_source(src: &Source) -> Result<(Network, Box<dyn SpikeSource>)> {
    let net = network_of(src)?;
    let stim = source_from(&net, src, 0)?;
    Ok((net, stim))
}

/// The stimulus of a run that starts at step `start` (a saved state's step): a generated one
/// from `start` for `--steps` (or `stimulus.steps`) steps, a file's from `start` for `--steps`
/// steps or to its end.
pub fn source_from(net: &Network, src: &Source, start: u32) -> Result<Box<dyn SpikeSource>> {
    let too_long = |more: u32| {
        UsageError(format!(
            "{}: the run starts at step {start} (the saved state's), and {more} more steps pass the \
             longest run ({MAX_STEPS} steps); run at most {} steps",
            if src.steps.is_some() { "--steps" } else { "config field `stimulus.steps`" },
            MAX_STEPS - start
        ))
    };
    let mut stim: Box<dyn SpikeSource> = match &src.stimulus {
        Some(p) => {
            let end = match src.steps {
                Some(m) => start.checked_add(m).ok_or_else(|| too_long(m))?,
                None => 0,
            };
            let stim = Stimulus::read_csv(p, net.cfg.network.inputs, end).map_err(usage)?;
            if stim.steps() <= start {
                return Err(UsageError(format!(
                    "--stimulus {}: its last spike is before step {start}, where the saved state \
                     goes on; give --steps N to run on without input, or a stimulus that goes on",
                    p.display()
                ))
                .into());
            }
            Box::new(Cursor::new(stim))
        }
        None => {
            let mut spec = spec_of(net, src);
            spec.steps = start.checked_add(spec.steps).ok_or_else(|| too_long(spec.steps))?;
            spec.stream(&net.cfg).map_err(usage)?
        }
    };
    stim.seek(start);
    Ok(stim)
}

/// Load the network (config or built-in default) and its stimulus, stored. A generated
/// stimulus of more than [`MAX_STORED_SPIKES`] expected spikes is refused (`sim` streams it).
pub fn load(src: &Source) -> Result<(Network, Stimulus)> {
    let net = network_of(src)?;
    let stim = stored_from(&net, src, 0)?;
    Ok((net, stim))
}

/// The stimulus of a run that starts at step `start` (see [`source_from`]), stored at its
/// steps; refused like [`load`]'s when it would hold too many spikes.
pub fn stored_from(net: &Network, src: &Source, start: u32) -> Result<Stimulus> {
    let stim = match &src.stimulus {
        Some(_) if start > 0 => {
            Stimulus::collect_from(source_from(net, src, start)?.as_mut(), start)
        }
        Some(p) => {
            Stimulus::read_csv(p, net.cfg.network.inputs, src.steps.unwrap_or(0)).map_err(usage)?
        }
        None if start > 0 => {
            let spec = spec_of(net, src);
            spec.validate(&net.cfg).map_err(usage)?;
            let expected = spec.expected_spikes_per_step(&net.cfg) * spec.steps as f64;
            if expected > MAX_STORED_SPIKES {
                return Err(UsageError(format!(
                    "--steps: {} steps of this stimulus hold about {expected:.3e} input spikes, more than the \
                     {MAX_STORED_SPIKES:.3e} this command keeps in memory; run fewer steps",
                    spec.steps
                ))
                .into());
            }
            Stimulus::collect_from(source_from(net, src, start)?.as_mut(), start)
        }
        None => {
            let spec = spec_of(net, src);
            spec.validate(&net.cfg).map_err(usage)?;
            let per_step = spec.expected_spikes_per_step(&net.cfg);
            let expected = per_step * spec.steps as f64;
            if expected > MAX_STORED_SPIKES {
                let field =
                    if src.steps.is_some() { "--steps" } else { "config field `stimulus.steps`" };
                return Err(UsageError(format!(
                    "{field}: {} steps of this stimulus hold about {expected:.3e} input spikes, more than the \
                     {MAX_STORED_SPIKES:.3e} this command keeps in memory; run at most {} steps here \
                     (`synforge sim` streams runs of any length)",
                    spec.steps,
                    (MAX_STORED_SPIKES / per_step.max(1e-12)).floor().min(u32::MAX as f64)
                ))
                .into());
            }
            spec.generate(&net.cfg).map_err(usage)?
        }
    };
    Ok(stim)
}

pub use crate::progress::Progress;

/// Parse a neuron list like `0,3,5` or `all`, checked against the network.
pub fn neuron_list(spec: &str, neurons: usize, flag: &str) -> Result<Vec<usize>> {
    if spec.trim() == "all" {
        return Ok((0..neurons).collect());
    }
    let mut v = Vec::new();
    for part in spec.split(',').map(str::trim) {
        if part.is_empty() {
            return Err(UsageError(format!(
                "{flag}: `{spec}` has an empty entry; give neurons like 0,1,5 or all"
            ))
            .into());
        }
        let j: usize = part.parse().map_err(|_| {
            UsageError(format!(
                "{flag}: `{part}` in `{spec}` is not a neuron number; give neurons like 0,1,5 or all"
            ))
        })?;
        if j >= neurons {
            return Err(UsageError(format!(
                "{flag}: neuron {j} does not exist; the network has neurons 0..{}",
                neurons - 1
            ))
            .into());
        }
        if v.contains(&j) {
            return Err(
                UsageError(format!("{flag}: neuron {j} is listed twice in `{spec}`")).into()
            );
        }
        v.push(j);
    }
    Ok(v)
}
