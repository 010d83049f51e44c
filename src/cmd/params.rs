//! `synforge params`: formats and hardware constants with their quantisation error, and the
//! learning rule as the rule language writes it (a preset's expansion), term by term.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

/// Arguments of `synforge params`.
#[derive(Args)]
pub struct ParamsArgs {
    /// Network config (TOML); the built-in default without it.
    #[arg(long, short)]
    config: Option<std::path::PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// `synforge params`.
pub fn run(a: ParamsArgs) -> Result<ExitCode> {
    let net = super::gen::network(a.config.as_deref())?;
    if a.json {
        let j = serde_json::json!({
            "formats": net.fmt, "roundings": net.rnd, "constants": net.k,
            "rule": net.rule, "quantization": net.quantization,
        });
        println!("{}", serde_json::to_string_pretty(&j)?);
        return Ok(ExitCode::SUCCESS);
    }
    let f = &net.fmt;
    println!("formats of `{}`:", net.cfg.network.name);
    for (name, fm, r) in [
        ("membrane", f.v, Some(net.rnd.v)),
        ("weight", f.w, Some(net.rnd.w)),
        ("threshold", f.theta, Some(net.rnd.theta)),
        ("trace_x1", f.x1, Some(net.rnd.x1)),
        ("trace_x2", f.x2, Some(net.rnd.x2)),
        ("trace_y1", f.y1, Some(net.rnd.y1)),
        ("trace_y2", f.y2, Some(net.rnd.y2)),
        ("amplitude", f.amp, None),
    ] {
        let r = r.map(|r| format!("{r:?}").to_lowercase()).unwrap_or_else(|| "floor".into());
        println!("  {name:<10} {:<9} {:>2} bits  rounding {r}", fm.q_name(), fm.width);
    }
    match &net.rule {
        None => println!("learning rule: off"),
        Some(r) => {
            println!("learning rule `{}`:", r.name);
            for line in r.explain().lines() {
                println!("  {line}");
            }
        }
    }
    for v in &net.syn {
        println!(
            "per-synapse variable `{}` ({}, init {}):",
            v.name,
            v.fmt.q_name(),
            v.fmt.to_real(v.init)
        );
        for line in v.update.explain().lines() {
            println!("  {line}");
        }
    }
    println!("parameters (requested -> realised):");
    println!(
        "  {:<28} {:>14} {:>14} {:>12} {:>10}  format",
        "field", "requested", "realised", "raw", "error"
    );
    for q in &net.quantization {
        println!(
            "  {:<28} {:>14.6} {:>14.6} {:>12} {:>9.3}%  {}",
            q.field,
            q.requested,
            q.realised,
            q.raw,
            100.0 * q.rel_error,
            q.format
        );
    }
    Ok(ExitCode::SUCCESS)
}
