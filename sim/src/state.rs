//! A network's state as a file: every state quantity of the contract, saved at a step boundary
//! and loaded to continue from it (`docs/state.md`).
//!
//! The file is a NumPy `.npz` (a zip of `.npy` arrays, `numpy.load` opens it) holding one array
//! per quantity and `meta.json`, which says what each array is: its name, what it is kept per
//! (synapse, neuron, input, network), shape, dtype and fixed-point format, plus the step, the
//! model, the network's structure and its hash, the config and the generator's version. Zip's
//! CRC-32 of every member is checked on reading, so a truncated or corrupted file is refused.
//! Readers find arrays by name through `meta.json`, so a later version can add quantities
//! (per-synapse eligibility, consolidation) without breaking what reads this one.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Seek, Write};
use std::path::Path;

use ndarray::{ArrayD, IxDyn};
use ndarray_npy::{ReadNpyExt, WriteNpyExt};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Network;
use crate::format::Format;
use crate::model::ModelKind;

/// What `meta.json`'s `format` says.
pub const FORMAT: &str = "synforge-state";
/// The layout version this code writes; it reads this one and every earlier one.
pub const VERSION: u32 = 1;
/// The longest state file read (a 4096 x 4096 network's weights twice is 64 MiB).
pub const MAX_BYTES: u64 = 1 << 30;

/// Where a quantity lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Per {
    /// One per synapse, shape `[inputs, neurons]`.
    Synapse,
    /// One per neuron, shape `[neurons]`.
    Neuron,
    /// One per input, shape `[inputs]`.
    Input,
    /// One for the network, shape `[]`.
    Network,
    /// A list of its own length, shape `[n]` (the reward task's pending rewards).
    List,
}

/// A quantity's values, in the type the model keeps them in.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// Flags.
    Bool(Vec<bool>),
    /// Raw unsigned words up to 16 bits, counters.
    U16(Vec<u16>),
    /// Raw unsigned words up to 32 bits, LFSR states.
    U32(Vec<u32>),
    /// Raw signed words up to 32 bits.
    I32(Vec<i32>),
    /// Reals (the float model).
    F64(Vec<f64>),
}

impl Values {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Values::Bool(v) => v.len(),
            Values::U16(v) => v.len(),
            Values::U32(v) => v.len(),
            Values::I32(v) => v.len(),
            Values::F64(v) => v.len(),
        }
    }

    /// No values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// NumPy's name of the element type.
    pub fn dtype(&self) -> &'static str {
        match self {
            Values::Bool(_) => "|b1",
            Values::U16(_) => "<u2",
            Values::U32(_) => "<u4",
            Values::I32(_) => "<i4",
            Values::F64(_) => "<f8",
        }
    }

    /// Every value as a real number, `raw * 2^-frac` with a format.
    pub fn reals(&self, format: Option<&Format>) -> Vec<f64> {
        let scale = format.map_or(1.0, |f| (-(f.frac as f64)).exp2());
        match self {
            Values::Bool(v) => v.iter().map(|&b| b as u8 as f64).collect(),
            Values::U16(v) => v.iter().map(|&x| x as f64 * scale).collect(),
            Values::U32(v) => v.iter().map(|&x| x as f64 * scale).collect(),
            Values::I32(v) => v.iter().map(|&x| x as f64 * scale).collect(),
            Values::F64(v) => v.iter().map(|&x| x * scale).collect(),
        }
    }
}

/// One state quantity.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantity {
    /// Its name (the hardware's field name where it has one), also the array's name.
    pub name: &'static str,
    /// Where it lives.
    pub per: Per,
    /// Its values, input-major for synapses (`i * neurons + j`).
    pub values: Values,
    /// The fixed-point format of raw values; `None` for counts, flags, LFSRs and reals.
    pub format: Option<Format>,
    /// What it is.
    pub what: &'static str,
}

/// What a state belongs to: the quantities that decide what its numbers mean. A state loads
/// only into a network of the same structure; its parameters (time constants, amplitudes,
/// rates) may differ.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Structure {
    /// `network.inputs`.
    pub inputs: u32,
    /// `network.neurons`.
    pub neurons: u32,
    /// `formats.<quantity>` as `[width, frac]`.
    pub formats: BTreeMap<String, [u32; 2]>,
    /// The learning rule as compiled (`off` without plasticity).
    pub rule: String,
    /// `homeostasis.adaptive_threshold` (the state then has `theta_a`).
    pub adaptive_threshold: bool,
    /// The per-synapse variables by name: format and update (the state then has `syn0`,
    /// `syn1`). Absent without them, so older states keep their hash.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub synapse: BTreeMap<String, String>,
}

impl Structure {
    /// The structure of `net`.
    pub fn of(net: &Network) -> Self {
        let f = &net.fmt;
        let formats = [
            ("membrane", f.v),
            ("weight", f.w),
            ("threshold", f.theta),
            ("trace_x1", f.x1),
            ("trace_x2", f.x2),
            ("trace_y1", f.y1),
            ("trace_y2", f.y2),
        ]
        .into_iter()
        .map(|(k, f)| (k.to_string(), [f.width, f.frac]))
        .collect();
        Structure {
            inputs: net.cfg.network.inputs,
            neurons: net.cfg.network.neurons,
            formats,
            rule: net.rule.as_ref().map_or_else(|| "off".to_string(), |r| r.text.clone()),
            adaptive_threshold: net.cfg.homeostasis.adaptive_threshold,
            synapse: net
                .syn
                .iter()
                .map(|v| {
                    (v.name.clone(), format!("{} d{} = {}", v.fmt.q_name(), v.name, v.update.text))
                })
                .collect(),
        }
    }

    /// The first 16 hex digits of the SHA-256 of its JSON: equal structures, equal hashes.
    pub fn hash(&self) -> String {
        let json = serde_json::to_string(self).expect("a structure serialises");
        Sha256::digest(json.as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect()
    }

    /// What differs from `now` (the network a state is loaded into), naming the config field
    /// and both values; `None` when they are the same.
    pub fn differs(&self, now: &Structure) -> Option<String> {
        let d = |field: &str, was: &dyn std::fmt::Display, is: &dyn std::fmt::Display| {
            Some(format!(
                "`{field}` is {is} in this network but was {was} where the state was saved"
            ))
        };
        if self.inputs != now.inputs {
            return d("network.inputs", &self.inputs, &now.inputs);
        }
        if self.neurons != now.neurons {
            return d("network.neurons", &self.neurons, &now.neurons);
        }
        for (k, was) in &self.formats {
            match now.formats.get(k) {
                Some(is) if is != was => {
                    let q = |f: &[u32; 2]| format!("{} bits with {} fraction bits", f[0], f[1]);
                    return d(&format!("formats.{k}"), &q(was), &q(is));
                }
                _ => {}
            }
        }
        if self.rule != now.rule {
            return d("plasticity.rule", &format!("`{}`", self.rule), &format!("`{}`", now.rule));
        }
        if self.adaptive_threshold != now.adaptive_threshold {
            return d(
                "homeostasis.adaptive_threshold",
                &self.adaptive_threshold,
                &now.adaptive_threshold,
            );
        }
        if self.synapse != now.synapse {
            let list = |m: &BTreeMap<String, String>| {
                let v: Vec<String> = m.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                if v.is_empty() {
                    "none".to_string()
                } else {
                    format!("[{}]", v.join("; "))
                }
            };
            return d("plasticity.synapse", &list(&self.synapse), &list(&now.synapse));
        }
        None
    }
}

/// One array as `meta.json` describes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArrayMeta {
    /// Name; the member is `<name>.npy`.
    pub name: String,
    /// Where it lives.
    pub per: Per,
    /// Shape.
    pub shape: Vec<usize>,
    /// NumPy element type.
    pub dtype: String,
    /// `[width, frac, signed]` of raw fixed-point values, or none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
    /// `2^-frac`: raw times scale is the real value (1 without a format).
    pub scale: f64,
    /// What it is.
    pub what: String,
}

/// `meta.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Always [`FORMAT`].
    pub format: String,
    /// Layout version ([`VERSION`] when written by this code).
    pub version: u32,
    /// `synforge <version>` that wrote it.
    pub generator: String,
    /// Which model's state (`fixed` holds raw words, `float` reals).
    pub model: ModelKind,
    /// Steps taken: the state after step `step - 1`, before step `step`.
    pub step: u32,
    /// `network.name`.
    pub network: String,
    /// What the state belongs to.
    pub structure: Structure,
    /// [`Structure::hash`].
    pub structure_hash: String,
    /// The config of the run that saved it, TOML.
    pub config: String,
    /// The arrays, in order.
    pub arrays: Vec<ArrayMeta>,
}

/// A saved state: what the file holds.
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    /// Layout version of the file it came from ([`VERSION`] for a new one).
    pub version: u32,
    /// `synforge <version>` that wrote it.
    pub generator: String,
    /// Which model.
    pub model: ModelKind,
    /// Steps taken.
    pub step: u32,
    /// The network's name.
    pub network: String,
    /// Its structure.
    pub structure: Structure,
    /// Its config, TOML.
    pub config: String,
    /// The quantities; `weight_init` among them (the weights learning started from).
    pub quantities: Vec<Quantity>,
}

/// The weights learning started from: kept beside the state for the memory norm. Not state of
/// the contract (nothing reads it to step).
pub const WEIGHT_INIT: &str = "weight_init";

/// Why a state file cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct StateError {
    /// The file.
    pub path: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl State {
    /// The state of `model` (on `net`), with the weights learning started from.
    pub fn of(
        net: &Network,
        model: &dyn crate::model::Model,
        kind: ModelKind,
        weight_init: Values,
    ) -> State {
        Self::from_quantities(net, kind, model.time(), model.state(), weight_init)
    }

    /// A state of `kind` on `net` after `step` steps from its quantities (as
    /// [`crate::model::Model::state`] gives them, or as hardware read them back), with the
    /// weights learning started from.
    pub fn from_quantities(
        net: &Network,
        kind: ModelKind,
        step: u32,
        mut quantities: Vec<Quantity>,
        weight_init: Values,
    ) -> State {
        quantities.push(Quantity {
            name: WEIGHT_INIT,
            per: Per::Synapse,
            values: weight_init,
            format: if kind == ModelKind::Fixed { Some(net.fmt.w) } else { None },
            what: "the weights this learning started from (not state: for the memory norm)",
        });
        State {
            version: VERSION,
            generator: generator(),
            model: kind,
            step,
            network: net.cfg.network.name.clone(),
            structure: Structure::of(net),
            config: toml::to_string(&net.cfg).unwrap_or_default(),
            quantities,
        }
    }

    /// The quantity called `name`.
    pub fn get(&self, name: &str) -> Option<&Quantity> {
        self.quantities.iter().find(|q| q.name == name)
    }

    /// The shape of a quantity that lives `per`; `None` for a list, whose length is its own.
    fn shape(&self, per: Per) -> Option<Vec<usize>> {
        let (ni, nn) = (self.structure.inputs as usize, self.structure.neurons as usize);
        match per {
            Per::Synapse => Some(vec![ni, nn]),
            Per::Neuron => Some(vec![nn]),
            Per::Input => Some(vec![ni]),
            Per::Network => Some(vec![]),
            Per::List => None,
        }
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> std::io::Result<Vec<u8>> {
        let mut arrays = Vec::new();
        for q in &self.quantities {
            arrays.push(ArrayMeta {
                name: q.name.to_string(),
                per: q.per,
                shape: self.shape(q.per).unwrap_or_else(|| vec![q.values.len()]),
                dtype: q.values.dtype().to_string(),
                format: q.format,
                scale: q.format.map_or(1.0, |f| (-(f.frac as f64)).exp2()),
                what: q.what.to_string(),
            });
        }
        let meta = Meta {
            format: FORMAT.to_string(),
            version: VERSION,
            generator: generator(),
            model: self.model,
            step: self.step,
            network: self.network.clone(),
            structure: self.structure.clone(),
            structure_hash: self.structure.hash(),
            config: self.config.clone(),
            arrays,
        };
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        zip.start_file("meta.json", opts)?;
        zip.write_all(serde_json::to_string_pretty(&meta)?.as_bytes())?;
        for (q, a) in self.quantities.iter().zip(&meta.arrays) {
            zip.start_file(format!("{}.npy", q.name), opts)?;
            let shape = IxDyn(&a.shape);
            let bad = |e: ndarray::ShapeError| std::io::Error::other(e.to_string());
            let write = |e: ndarray_npy::WriteNpyError| std::io::Error::other(e.to_string());
            let mut buf = Vec::new();
            match &q.values {
                Values::Bool(v) => {
                    ArrayD::from_shape_vec(shape, v.clone()).map_err(bad)?.write_npy(&mut buf)
                }
                Values::U16(v) => {
                    ArrayD::from_shape_vec(shape, v.clone()).map_err(bad)?.write_npy(&mut buf)
                }
                Values::U32(v) => {
                    ArrayD::from_shape_vec(shape, v.clone()).map_err(bad)?.write_npy(&mut buf)
                }
                Values::I32(v) => {
                    ArrayD::from_shape_vec(shape, v.clone()).map_err(bad)?.write_npy(&mut buf)
                }
                Values::F64(v) => {
                    ArrayD::from_shape_vec(shape, v.clone()).map_err(bad)?.write_npy(&mut buf)
                }
            }
            .map_err(write)?;
            zip.write_all(&buf)?;
        }
        Ok(zip.finish()?.into_inner())
    }

    /// Read and check a state file: its members' checksums, its layout and its arrays' shapes
    /// and types. Whether it fits a network is [`State::check_fits`].
    pub fn read(path: &Path) -> Result<State, StateError> {
        let err = |message: String| StateError { path: path.display().to_string(), message };
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_BYTES + 1).read_to_end(&mut bytes))
            .map_err(|e| err(format!("cannot read it: {e}")))?;
        if bytes.len() as u64 > MAX_BYTES {
            return Err(err(format!(
                "is longer than the {} MiB a state file can be; give a state file `--save-state` wrote",
                MAX_BYTES >> 20
            )));
        }
        Self::from_bytes(&bytes).map_err(err)
    }

    /// Parse a state file's bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<State, String> {
        let damaged = |what: String| {
            format!(
                "is not a whole synforge state file ({what}); it may be truncated or corrupted: \
                 save the state again"
            )
        };
        let mut zip =
            zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| damaged(e.to_string()))?;
        let meta_bytes = member(&mut zip, "meta.json").map_err(damaged)?;
        let meta: Meta =
            serde_json::from_slice(&meta_bytes).map_err(|e| damaged(format!("meta.json: {e}")))?;
        if meta.format != FORMAT {
            return Err(format!("is a `{}` file, not a synforge state", meta.format));
        }
        if meta.version > VERSION {
            return Err(format!(
                "is a version {} state file; this synforge reads versions up to {VERSION}: \
                 use a newer synforge",
                meta.version
            ));
        }
        if meta.structure.hash() != meta.structure_hash {
            return Err(damaged("meta.json's structure does not match its hash".into()));
        }
        let mut state = State {
            version: meta.version,
            generator: meta.generator.clone(),
            model: meta.model,
            step: meta.step,
            network: meta.network.clone(),
            structure: meta.structure.clone(),
            config: meta.config.clone(),
            quantities: Vec::new(),
        };
        for a in &meta.arrays {
            let Some((name, what)) = known(&a.name) else {
                // A quantity of a later version: kept in the file, not read by this one.
                continue;
            };
            let want = state.shape(a.per);
            let shape_ok = want.as_ref().map_or(a.shape.len() == 1, |w| a.shape == *w);
            if !shape_ok {
                return Err(damaged(format!(
                    "array `{}` has shape {:?}, not the {} of the network it belongs to",
                    a.name,
                    a.shape,
                    want.map_or("[n] of a list".to_string(), |w| format!("{w:?}"))
                )));
            }
            let raw = member(&mut zip, &format!("{}.npy", a.name)).map_err(damaged)?;
            let bad = |e: ndarray_npy::ReadNpyError| {
                damaged(format!("array `{}` is not a {} array: {e}", a.name, a.dtype))
            };
            let values = match a.dtype.as_str() {
                "|b1" => Values::Bool(read_vec(&raw).map_err(bad)?),
                "<u2" => Values::U16(read_vec(&raw).map_err(bad)?),
                "<u4" => Values::U32(read_vec(&raw).map_err(bad)?),
                "<i4" => Values::I32(read_vec(&raw).map_err(bad)?),
                "<f8" => Values::F64(read_vec(&raw).map_err(bad)?),
                other => return Err(damaged(format!("array `{}` has dtype `{other}`", a.name))),
            };
            if values.len() != a.shape.iter().product::<usize>() {
                return Err(damaged(format!("array `{}` does not have its shape", a.name)));
            }
            state.quantities.push(Quantity { name, per: a.per, values, format: a.format, what });
        }
        Ok(state)
    }

    /// Whether this state can be loaded into `kind` on `net`: the same structure and model;
    /// otherwise what differs and the fix.
    pub fn check_fits(&self, net: &Network, kind: ModelKind) -> Result<(), String> {
        if let Some(d) = self.structure.differs(&Structure::of(net)) {
            return Err(format!(
                "belongs to another network: {d}; load it into a network of the same structure \
                 (sizes, formats, rule), or start without --load-state"
            ));
        }
        if self.model != kind {
            let name = |k: ModelKind| match k {
                ModelKind::Fixed => "fixed",
                ModelKind::Float => "float",
            };
            return Err(format!(
                "is the {} model's state; load it with `--model {}`",
                name(self.model),
                name(self.model)
            ));
        }
        Ok(())
    }
}

fn generator() -> String {
    format!("synforge {}", env!("CARGO_PKG_VERSION"))
}

/// The names this version reads, with their meaning.
fn known(name: &str) -> Option<(&'static str, &'static str)> {
    QUANTITIES.iter().find(|(n, _)| *n == name).copied()
}

/// Every quantity this version knows, with what it is.
pub const QUANTITIES: &[(&str, &str)] = &[
    ("weight", "synaptic weight"),
    (WEIGHT_INIT, "the weights this learning started from (not state: for the memory norm)"),
    ("v_mem", "membrane potential"),
    ("theta_a", "adaptive part of the threshold"),
    ("trace_y1", "post trace y1"),
    ("trace_y2", "post trace y2"),
    ("refrac", "refractory steps left"),
    ("count", "spikes since the last synaptic scaling (saturating at 65535)"),
    ("spiked", "spiked in the last step"),
    ("lfsr", "the neuron's LFSR state"),
    ("trace_x1", "pre trace x1"),
    ("trace_x2", "pre trace x2"),
    ("lfsr_inputs", "the input side's LFSR state"),
    ("syn0", "per-synapse variable 0, the first of plasticity.synapse by name"),
    ("syn1", "per-synapse variable 1, the second of plasticity.synapse by name"),
    ("reward_lfsr", "the reward task's LFSR state (its delays)"),
    (
        "reward_last_pre",
        "the reward task's last unpaired spike of its input (step; 2^32 - 1: none)",
    ),
    ("reward_pairings", "the reward task's pairings so far"),
    ("reward_pending", "the reward task's rewards not yet over: their first steps, ascending"),
];

/// The LFSRs of the fixed model's stochastic rounding, which the float model does not have.
const ROUNDING_LFSRS: [&str; 2] = ["lfsr", "lfsr_inputs"];

/// The state names of the reward task's quantities.
pub const REWARD_NAMES: [&str; 4] =
    ["reward_lfsr", "reward_last_pre", "reward_pairings", "reward_pending"];

/// The state names of the per-synapse variables, in name order.
pub const SYN_NAMES: [&str; 2] = ["syn0", "syn1"];

/// The meaning of quantity `name` (one of [`QUANTITIES`]).
pub fn what(name: &str) -> &'static str {
    known(name).map_or("", |(_, w)| w)
}

/// The name as the `'static` one of [`QUANTITIES`].
pub fn name(name: &str) -> &'static str {
    known(name).map_or("", |(n, _)| n)
}

fn member<R: Read + Seek>(zip: &mut zip::ZipArchive<R>, name: &str) -> Result<Vec<u8>, String> {
    let mut f = zip.by_name(name).map_err(|_| format!("it has no `{name}`"))?;
    let mut out = Vec::new();
    // Reading to the end checks the member's CRC-32.
    f.read_to_end(&mut out).map_err(|e| format!("`{name}`: {e}"))?;
    Ok(out)
}

fn read_vec<T: ndarray_npy::ReadableElement + Clone>(
    raw: &[u8],
) -> Result<Vec<T>, ndarray_npy::ReadNpyError> {
    let a = ArrayD::<T>::read_npy(raw)?;
    Ok(a.iter().cloned().collect())
}

/// The values of quantity `name` in `q`, which must be `len` long (any length: `None`, for a
/// list).
fn values<'a>(q: &'a [Quantity], name: &str, len: Option<usize>) -> Result<&'a Values, String> {
    let v = &q
        .iter()
        .find(|x| x.name == name)
        .ok_or_else(|| format!("has no `{name}`, which this network's state holds"))?
        .values;
    match len {
        Some(len) if v.len() != len => Err(format!("`{name}` has {} values, not {len}", v.len())),
        _ => Ok(v),
    }
}

macro_rules! typed {
    ($fn:ident, $variant:ident, $t:ty, $dtype:literal) => {
        /// The values of quantity `name`, of this type and `len` long (`None`: a list, any
        /// length).
        pub fn $fn<'a>(
            q: &'a [Quantity],
            name: &str,
            len: impl Into<Option<usize>>,
        ) -> Result<&'a [$t], String> {
            match values(q, name, len.into())? {
                Values::$variant(v) => Ok(v),
                other => Err(format!(
                    "`{name}` is {}, not {} as this model keeps it",
                    other.dtype(),
                    $dtype
                )),
            }
        }
    };
}

typed!(bools, Bool, bool, "|b1");
typed!(u16s, U16, u16, "<u2");
typed!(u32s, U32, u32, "<u4");
typed!(i32s, I32, i32, "<i4");
typed!(f64s, F64, f64, "<f8");

/// Check every raw value of `name` lies in `lo..=hi`, naming the first that does not.
pub fn in_range<T: Copy + Into<i64>>(
    name: &str,
    v: &[T],
    lo: i64,
    hi: i64,
    what: &str,
) -> Result<(), String> {
    match v.iter().position(|&x| !(lo..=hi).contains(&x.into())) {
        Some(k) => {
            Err(format!("`{name}`[{k}] = {} lies outside {what} ({lo} to {hi})", v[k].into()))
        }
        None => Ok(()),
    }
}

/// Check every real of `name` is finite and in `lo..=hi`.
pub fn in_range_f64(name: &str, v: &[f64], lo: f64, hi: f64, what: &str) -> Result<(), String> {
    match v.iter().position(|&x| !(x.is_finite() && (lo..=hi).contains(&x))) {
        Some(k) => Err(format!("`{name}`[{k}] = {} lies outside {what} ({lo} to {hi})", v[k])),
        None => Ok(()),
    }
}

impl State {
    /// Its quantities as the other model keeps them, for starting both models of `synforge
    /// compare` from one state. Fixed to float: every raw word times its scale (the reals it
    /// stands for); the rounding LFSRs are left out (the float model rounds nothing). Float to
    /// fixed: every real rounded to nearest in its format and clamped into it (weights into
    /// `[w_min, w_max]`); the rounding LFSRs as init seeds them (`fresh`: the state of a new
    /// fixed model of the network). Counters, flags and the reward task's state are the same
    /// in both.
    pub fn converted(&self, net: &Network, to: ModelKind, fresh: &[Quantity]) -> Vec<Quantity> {
        if self.model == to {
            return self.quantities.clone();
        }
        let f = &net.fmt;
        let format_of = |name: &str| match name {
            "weight" | WEIGHT_INIT => Some(f.w),
            "v_mem" => Some(f.v),
            "theta_a" => Some(f.theta),
            "trace_y1" => Some(f.y1),
            "trace_y2" => Some(f.y2),
            "trace_x1" => Some(f.x1),
            "trace_x2" => Some(f.x2),
            _ => SYN_NAMES
                .iter()
                .position(|n| *n == name)
                .and_then(|k| net.syn.get(k))
                .map(|v| v.fmt),
        };
        let mut out = Vec::new();
        for q in &self.quantities {
            let fmt = format_of(q.name);
            let values = match (to, &q.values, fmt) {
                (ModelKind::Float, _, _) if ROUNDING_LFSRS.contains(&q.name) => continue,
                (_, Values::Bool(_) | Values::U16(_), None) => q.values.clone(),
                (ModelKind::Float, v, Some(fm)) => Values::F64(v.reals(Some(&fm))),
                (ModelKind::Fixed, Values::F64(x), Some(fm)) => {
                    let (lo, hi) = if matches!(q.name, "weight" | WEIGHT_INIT) {
                        (net.k.w_min, net.k.w_max)
                    } else {
                        (fm.min_raw(), fm.max_raw())
                    };
                    let raw = x.iter().map(|&r| {
                        let v = (r / fm.lsb()).round();
                        if v.is_nan() {
                            lo
                        } else {
                            (v.clamp(lo as f64, hi as f64)) as i64
                        }
                    });
                    match q.name {
                        "v_mem" | "syn0" | "syn1" => Values::I32(raw.map(|r| r as i32).collect()),
                        "theta_a" => Values::U32(raw.map(|r| r as u32).collect()),
                        _ => Values::U16(raw.map(|r| r as u16).collect()),
                    }
                }
                _ => q.values.clone(),
            };
            out.push(Quantity {
                values,
                format: if to == ModelKind::Fixed { fmt } else { None },
                ..q.clone()
            });
        }
        if to == ModelKind::Fixed {
            out.extend(fresh.iter().filter(|q| ROUNDING_LFSRS.contains(&q.name)).cloned());
        }
        out
    }
}
