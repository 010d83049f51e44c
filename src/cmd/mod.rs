//! One module per subcommand.
pub mod bench;
pub mod compare;
pub mod cosim;
pub mod demo;
pub mod gen;
pub mod params;
pub mod run;
pub mod sim;
pub mod stimulus;
pub mod synth;

use anyhow::Result;
use synforge_sim::{Config, Network, Stimulus};

use crate::{usage, Source, UsageError};

/// Load the network (config or built-in default) and its stimulus.
pub fn load(src: &Source) -> Result<(Network, Stimulus)> {
    let cfg = match &src.config {
        Some(p) => Config::load(p).map_err(usage)?,
        None => Config::builtin_default(),
    };
    let net = cfg.build().map_err(usage)?;
    let steps_override = src.steps;
    if steps_override == Some(0) {
        return Err(UsageError("--steps must be at least 1".into()).into());
    }
    let stim = match &src.stimulus {
        Some(p) => Stimulus::read_csv(p, net.cfg.network.inputs, steps_override.unwrap_or(0))
            .map_err(usage)?,
        None => {
            let mut spec = net.cfg.stimulus.clone();
            if let Some(s) = steps_override {
                spec.steps = s;
            }
            spec.generate(&net.cfg).map_err(usage)?
        }
    };
    Ok((net, stim))
}

/// Parse a neuron list like `0,3,5` or `all`, checked against the network.
pub fn neuron_list(spec: &str, neurons: usize, flag: &str) -> Result<Vec<usize>> {
    if spec == "all" {
        return Ok((0..neurons).collect());
    }
    let mut v = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let j: usize = part.parse().map_err(|_| {
            UsageError(format!("{flag}: `{part}` is not a neuron number (use e.g. 0,1,5 or all)"))
        })?;
        if j >= neurons {
            return Err(UsageError(format!(
                "{flag}: neuron {j} does not exist; the network has neurons 0..{}",
                neurons - 1
            ))
            .into());
        }
        v.push(j);
    }
    Ok(v)
}
