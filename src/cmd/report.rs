//! `synforge report DIR`: one self-contained `index.html` of a run's folder, readable offline:
//! the figures (PNG inside the page), the distance between the models, the quantisation
//! table, the co-simulation's outcome and the synthesis report, each where the folder has it.
//!
//! A folder is what `demo` writes (`fixed/`, `float/`, `compare.json`, `cosim/result.json`,
//! `icebreaker/report.txt`) or one model's folder that `sim` wrote. Figures a model folder
//! lacks are drawn first (as `synforge plot` would).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use base64::Engine as _;
use clap::Args;
use html_escape::encode_text as esc;

use super::plot::{plot_run, Run};
use crate::UsageError;

/// Arguments of `synforge report`.
#[derive(Args)]
pub struct ReportArgs {
    /// The folder `demo` (or `sim`) wrote; `index.html` goes into it.
    dir: PathBuf,
}

/// Figures of a model's folder in the page's order, with what each shows.
const FIGURES: [(&str, &str); 7] = [
    ("raster", "Output spikes over input spikes; the embedded pattern's replays shaded."),
    ("receptive_fields", "Each neuron's incoming weights as a tile, at the start and at the end."),
    ("weights", "The weight histogram at the start and at the end."),
    ("weights_over_time", "The weight histogram over the run (recorded state)."),
    ("traces", "Membrane and threshold of the recorded neurons (recorded state)."),
    ("window", "The STDP window the pairing run measured, beside the rule's curve."),
    (
        "frequency",
        "The rule's weight change per pairing against pairing frequency, at +10 and -10 ms, \
         both models (and the equations, where the rule has a closed form).",
    ),
];

const STYLE: &str = "body{font-family:sans-serif;max-width:1500px;margin:1em auto;padding:0 1em;color:#222}\
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin-top:1.6em}\
table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}\
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}\
.pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:12px}\
figure{margin:0}figure img{width:100%;border:1px solid #ddd}figcaption{font-size:.85em;color:#555}\
pre{background:#f7f7f7;padding:8px;overflow-x:auto;font-size:.85em}.pass{color:#070}.fail{color:#b00}";

/// The model folders of `dir`: `fixed` and `float` where they are, else `dir` itself.
fn model_dirs(dir: &Path) -> Vec<PathBuf> {
    let subs: Vec<PathBuf> = ["fixed", "float"]
        .iter()
        .map(|m| dir.join(m))
        .filter(|d| d.join("config.toml").is_file())
        .collect();
    if subs.is_empty() && dir.join("config.toml").is_file() {
        vec![dir.to_path_buf()]
    } else {
        subs
    }
}

fn read_json(path: &Path) -> Result<Option<serde_json::Value>> {
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path)?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| UsageError(format!("{}: not JSON ({e})", path.display())).into())
}

/// A number for a table: integers as they are, others to four significant digits.
fn num(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            if x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e6) {
                format!("{x:.3e}")
            } else {
                format!("{}", (x * 1e4).round() / 1e4)
            }
        }
        serde_json::Value::Null => "none".into(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A two-column table of an object's scalar fields (lists are left out: they are long).
fn fields_table(html: &mut String, v: &serde_json::Value) {
    html.push_str("<table>\n");
    if let Some(o) = v.as_object() {
        for (k, x) in o {
            if !x.is_array() && !x.is_object() {
                let _ = writeln!(html, "<tr><td>{}</td><td>{}</td></tr>", esc(k), esc(&num(x)));
            }
        }
    }
    html.push_str("</table>\n");
}

fn img(html: &mut String, png: &Path, alt: &str) -> Result<()> {
    let bytes = std::fs::read(png).with_context(|| png.display().to_string())?;
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    let _ = write!(html, "<img alt=\"{}\" src=\"data:image/png;base64,{data}\">", esc(alt));
    Ok(())
}

/// Write `dir/index.html`; returns its path.
pub fn write(dir: &Path) -> Result<PathBuf> {
    let models = model_dirs(dir);
    if models.is_empty() {
        return Err(UsageError(format!(
            "{}: no run in it (no config.toml, nor fixed/ or float/ holding one); give the folder \
             `synforge demo` or `synforge sim` wrote",
            dir.display()
        ))
        .into());
    }
    let mut runs = Vec::new();
    for d in &models {
        let run = Run::read(d)?;
        if !d.join("raster.png").is_file() {
            plot_run(&run, None)?;
        }
        runs.push(run);
    }
    let cfg = &runs[0].cfg;
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>synforge: {name}</title><style>{STYLE}</style></head><body>\n\
         <h1>synforge report: {name}</h1>\n<p>{m} inputs x {n} neurons, steps {a}..{b} of {dt} ms, \
         rule <code>{rule}</code>; written by synforge {ver}.</p>\n",
        name = esc(&cfg.network.name),
        m = cfg.network.inputs,
        n = cfg.network.neurons,
        a = runs[0].steps.start,
        b = runs[0].steps.end,
        dt = cfg.network.dt_ms,
        rule = esc(cfg.plasticity.rule.as_str()),
        ver = env!("CARGO_PKG_VERSION"),
    );
    // Figures: one row per kind, the models side by side.
    html.push_str("<section id=\"figures\"><h2>Figures</h2>\n");
    for (name, what) in FIGURES {
        let have: Vec<&Run> =
            runs.iter().filter(|r| r.dir.join(format!("{name}.png")).is_file()).collect();
        if have.is_empty() {
            continue;
        }
        let _ = writeln!(html, "<h3>{name}</h3><p>{}</p><div class=\"pair\">", esc(what));
        for r in have {
            html.push_str("<figure>");
            img(
                &mut html,
                &r.dir.join(format!("{name}.png")),
                &format!("{name} ({} model)", r.model),
            )?;
            let _ = writeln!(
                html,
                "<figcaption>{} model: {name}.png, {name}.svg</figcaption></figure>",
                esc(&r.model)
            );
        }
        html.push_str("</div>\n");
    }
    html.push_str("</section>\n");
    if let Some(d) = read_json(&dir.join("compare.json"))? {
        html.push_str(
            "<section id=\"distance\"><h2>Fixed against float: the model distance</h2>\n\
             <p>The bit-accurate model against the f64 reference over the same stimulus \
             (<code>compare.json</code>).</p>\n",
        );
        fields_table(&mut html, &d);
        html.push_str("</section>\n");
    }
    // The quantisation table, from the first model's summary.
    let summary = read_json(&models[0].join("summary.json"))?;
    if let Some(q) = summary.as_ref().and_then(|s| s["quantization"].as_array().cloned()) {
        html.push_str(
            "<section id=\"quantization\"><h2>Quantisation</h2>\n<p>Each parameter as asked \
             for and as the hardware constant realises it.</p>\n<table>\n<tr><th>field</th>\
             <th>requested</th><th>realised</th><th>raw</th><th>relative error</th><th>format</th></tr>\n",
        );
        for row in q {
            let _ = writeln!(
                html,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&num(&row["field"])),
                esc(&num(&row["requested"])),
                esc(&num(&row["realised"])),
                esc(&num(&row["raw"])),
                esc(&num(&row["rel_error"])),
                esc(&num(&row["format"]))
            );
        }
        html.push_str("</table></section>\n");
    }
    if let Some(c) = read_json(&dir.join("cosim/result.json"))? {
        let pass = c["mismatch"].is_null();
        let _ = writeln!(
            html,
            "<section id=\"cosim\"><h2>Co-simulation: RTL against the bit-accurate model</h2>\n\
             <p class=\"{}\">{}</p>",
            if pass { "pass" } else { "fail" },
            if pass {
                "RTL == bit-accurate model: zero mismatches in values and cycles.".to_string()
            } else {
                format!("MISMATCH (first divergence): {}", esc(&num(&c["mismatch"])))
            }
        );
        fields_table(&mut html, &c);
        html.push_str("</section>\n");
    }
    let mut synth: Vec<PathBuf> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path().join("report.txt"))
        .filter(|p| p.is_file())
        .collect();
    synth.sort();
    if !synth.is_empty() {
        html.push_str("<section id=\"synthesis\"><h2>Synthesis</h2>\n");
        for p in synth {
            let text = std::fs::read_to_string(&p)?;
            let board = p.parent().and_then(|d| d.file_name()).unwrap_or_default();
            let _ = writeln!(
                html,
                "<h3>{}</h3><pre>{}</pre>",
                esc(&board.to_string_lossy()),
                esc(&text)
            );
        }
        html.push_str("</section>\n");
    }
    html.push_str("</body></html>\n");
    let path = dir.join("index.html");
    // Written beside and renamed: never a half-written page.
    let tmp = dir.join(".index.html.partial");
    std::fs::write(&tmp, html.as_bytes())?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// `synforge report`.
pub fn run(a: ReportArgs) -> Result<ExitCode> {
    if !a.dir.is_dir() {
        return Err(UsageError(format!(
            "{}: not a folder; give the folder `synforge demo` or `synforge sim` wrote",
            a.dir.display()
        ))
        .into());
    }
    let path = write(&a.dir)?;
    println!("wrote {}", path.display());
    Ok(ExitCode::SUCCESS)
}
