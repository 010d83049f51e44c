//! The network description: TOML schema (serde), defaults, validation and the conversion of
//! physical parameters into hardware constants with their quantisation error
//! (docs/semantics.md §5).

use std::path::{Path, PathBuf};

use fixed::types::U0F16;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::format::{Decay, Format, Rounding};
use crate::plasticity::lang::Trace;
use crate::plasticity::rule::{Env as RuleEnv, Rule as PlasticityRule};
use crate::stimulus::StimulusSpec;

/// Largest number of inputs or neurons a config may ask for.
pub const MAX_SIZE: u32 = 65_536;
/// Shortest time step, ms.
pub const MIN_DT_MS: f64 = 1e-3;
/// Longest time step, ms.
pub const MAX_DT_MS: f64 = 1e3;

/// A whole network description as written in TOML.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Sizes, time step, seeds.
    pub network: NetworkSection,
    /// LIF neuron parameters.
    pub neuron: NeuronSection,
    /// Pre- and post-synaptic traces.
    pub traces: TraceSection,
    /// The learning rule.
    pub plasticity: PlasticitySection,
    /// Adaptive threshold and synaptic scaling.
    pub homeostasis: HomeostasisSection,
    /// Number formats per quantity.
    pub formats: FormatsSection,
    /// The default stimulus of this network.
    pub stimulus: StimulusSpec,
    /// Hardware choices that change no number (docs/rtl.md), only the generated core.
    pub hardware: HardwareSection,
}

/// `[hardware]`: how the core is built. No choice here changes a result, only cycle counts
/// and which memories synthesis can use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HardwareSection {
    /// The weight RAM's ports.
    pub weight_memory: WeightMemory,
    /// Bits per synapse word in the weight RAM: the weight in the low bits, the rest reserved
    /// for later per-synapse state. From the weight width to 16; 16 by default. 9 packs two
    /// thousand words into an ECP5 DP16KD (2K x 9) instead of one thousand (1K x 18).
    pub synapse_bits: u32,
}

impl Default for HardwareSection {
    fn default() -> Self {
        HardwareSection { weight_memory: WeightMemory::default(), synapse_bits: 16 }
    }
}

/// Ports of the weight RAM.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WeightMemory {
    /// A read port and a write port (iCE40 EBR, ECP5 DP16KD): one synapse update per clock.
    #[default]
    DualPort,
    /// One port (the iCE40 UP5K's SPRAM, 4 x 256 Kbit): an update takes a read cycle and a
    /// write cycle.
    SinglePort,
}

impl Default for Config {
    /// The built-in default network. Its stimulus has the embedded pattern; a `[stimulus]`
    /// table written without `[stimulus.pattern]` has none.
    fn default() -> Self {
        Config {
            network: NetworkSection::default(),
            neuron: NeuronSection::default(),
            traces: TraceSection::default(),
            plasticity: PlasticitySection::default(),
            homeostasis: HomeostasisSection::default(),
            formats: FormatsSection::default(),
            stimulus: StimulusSpec {
                pattern: Some(crate::stimulus::PatternSpec::default()),
                ..StimulusSpec::default()
            },
            hardware: HardwareSection::default(),
        }
    }
}

/// `[network]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkSection {
    /// A name for reports and output folders.
    pub name: String,
    /// Number of input channels.
    pub inputs: u32,
    /// Number of LIF neurons.
    pub neurons: u32,
    /// Time step in milliseconds.
    pub dt_ms: f64,
    /// Seed of the initial weights and of every LFSR.
    pub seed: u32,
}

impl Default for NetworkSection {
    fn default() -> Self {
        NetworkSection { name: "default".into(), inputs: 64, neurons: 16, dt_ms: 1.0, seed: 1 }
    }
}

/// How the membrane is reset after a spike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reset {
    /// `v := 0`.
    Zero,
    /// `v := v - threshold`.
    Subtract,
}

/// `[neuron]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NeuronSection {
    /// Membrane time constant.
    pub tau_m_ms: f64,
    /// Firing threshold on the normalised scale.
    pub threshold: f64,
    /// Reset mode.
    pub reset: Reset,
    /// Refractory period, rounded to whole steps.
    pub refractory_ms: f64,
    /// Lateral inhibition: subtracted from every other neuron's membrane, per spike, one step
    /// later. Zero disables it.
    pub inhibition: f64,
}

impl Default for NeuronSection {
    fn default() -> Self {
        NeuronSection {
            tau_m_ms: 10.0,
            threshold: 1.0,
            reset: Reset::Zero,
            refractory_ms: 2.0,
            inhibition: 0.25,
        }
    }
}

/// Trace pairing scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pairing {
    /// `trace += increment` on each spike (saturating).
    AllToAll,
    /// `trace := increment` on each spike.
    Nearest,
}

/// `[traces]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TraceSection {
    /// All-to-all or nearest-spike.
    pub pairing: Pairing,
    /// Pre trace x1 (pair LTP).
    pub tau_plus_ms: f64,
    /// Post trace y1 (pair LTD).
    pub tau_minus_ms: f64,
    /// Pre trace x2 (triplet LTD).
    pub tau_x_ms: f64,
    /// Post trace y2 (triplet LTP).
    pub tau_y_ms: f64,
    /// What a spike adds to (or sets) every trace.
    pub increment: f64,
}

impl Default for TraceSection {
    fn default() -> Self {
        TraceSection {
            pairing: Pairing::AllToAll,
            tau_plus_ms: 6.0,
            tau_minus_ms: 24.0,
            tau_x_ms: 101.0,
            tau_y_ms: 125.0,
            increment: 1.0,
        }
    }
}

/// `plasticity.rule`: `"off"` (weights fixed), `"custom"` (the rule written in
/// `plasticity.dw`), or the name of a preset (`crate::plasticity::presets`): `"pair"`,
/// `"triplet"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RuleName(pub String);

impl RuleName {
    /// Plasticity off.
    pub fn off() -> Self {
        RuleName("off".into())
    }

    /// The rule written in `plasticity.dw`.
    pub fn custom() -> Self {
        RuleName("custom".into())
    }

    /// Whether plasticity is off.
    pub fn is_off(&self) -> bool {
        self.0 == "off"
    }

    /// Whether the rule is the one written in `plasticity.dw`.
    pub fn is_custom(&self) -> bool {
        self.0 == "custom"
    }

    /// As written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for RuleName {
    fn from(s: &str) -> Self {
        RuleName(s.to_string())
    }
}

impl std::fmt::Display for RuleName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How the update depends on the weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WeightDependence {
    /// `dw = A+ x - A- y`, then clamp to `[w_min, w_max]` (hard bounds).
    Additive,
    /// `dw = A+ (w_max - w) x - A- (w - w_min) y` (soft bounds).
    Multiplicative,
}

/// `[plasticity]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlasticitySection {
    /// Which rule: `"off"`, `"custom"` or a preset's name.
    pub rule: RuleName,
    /// A preset's weight dependence: additive (hard bounds) or multiplicative (soft bounds).
    pub weight_dependence: WeightDependence,
    /// The custom rule (`rule = "custom"`), e.g. `"a_plus * x1 * y0 - a_minus * y1 * x0"`
    /// (docs/semantics.md §4.3).
    pub dw: Option<String>,
    /// The custom rule's parameters, by name, in physical units (amplitudes in weight units
    /// for terms without a weight factor, rates for terms with one).
    pub params: std::collections::BTreeMap<String, f64>,
    /// Pair potentiation amplitude A2+.
    pub a_plus: f64,
    /// Pair depression amplitude A2-.
    pub a_minus: f64,
    /// Triplet potentiation amplitude A3+ (triplet rule only).
    pub a3_plus: f64,
    /// Triplet depression amplitude A3- (triplet rule only).
    pub a3_minus: f64,
    /// Lower weight bound.
    pub w_min: f64,
    /// Upper weight bound.
    pub w_max: f64,
    /// Mean initial weight.
    pub w_init: f64,
    /// Initial weights are uniform in `w_init ± w_init_spread`.
    pub w_init_spread: f64,
    /// Fraction bits of the amplitude constants; chosen from the largest amplitude if absent.
    pub amplitude_frac: Option<u32>,
    /// CSV of `input,neuron,weight` lines (the format `synforge sim` writes) setting chosen
    /// initial weights; the others keep their random draw. Relative to the config file.
    pub w_init_file: Option<PathBuf>,
    /// Per-synapse variables beside the weight (at most 2), by name: each a field of the
    /// synapse word, with its format and its own update expression.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub synapse: std::collections::BTreeMap<String, SynapseVarSpec>,
    /// The sweep's period `K` (semantics §4.7): terms gated by `u` act on every synapse at the
    /// end of every step `t` with `(t + 1) % K == 0`. Needed exactly when some term has `u`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sweep_period_steps: Option<u32>,
}

/// `[plasticity.synapse.<name>]`: a per-synapse variable (an eligibility tag, a consolidation
/// level), a variable of the rule language and the target of its own update.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SynapseVarSpec {
    /// Total bits (the sign included when signed).
    pub width: u32,
    /// Fraction bits.
    pub frac: u32,
    /// Two's complement.
    #[serde(default)]
    pub signed: bool,
    /// Rounding of its update (floor or nearest).
    #[serde(default = "nearest")]
    pub rounding: Rounding,
    /// Its value at the start, the same for every synapse.
    #[serde(default)]
    pub init: f64,
    /// Its update `d<name>`, in the rule language (it may read the weight, the other
    /// variables and `r`): `v' = clamp(v + round(S), v_min, v_max)`. A preset's variable
    /// takes the preset's, and none may be given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<String>,
}

impl SynapseVarSpec {
    /// Its fixed-point format.
    pub fn format(&self) -> Format {
        if self.signed {
            Format::signed(self.width, self.frac)
        } else {
            Format::unsigned(self.width, self.frac)
        }
    }

    /// Whether `x`, a value of this variable read as a consolidation level (unsigned), makes
    /// its synapse "stiff": at least half its format's maximum (the diagnostics of `synforge
    /// state` and `bench --continual`). Never for a signed variable (a tag).
    pub fn stiff(&self, x: f64) -> bool {
        !self.signed && x >= self.format().max_real() / 2.0
    }
}

fn nearest() -> Rounding {
    Rounding::Nearest
}

/// A per-synapse variable as built: its name, format, initial raw value and update.
#[derive(Clone, Debug)]
pub struct SynVar {
    /// Its name in the rule language.
    pub name: String,
    /// Its format.
    pub fmt: Format,
    /// Its initial value, raw.
    pub init: i64,
    /// Its update, compiled with the variable as its target.
    pub update: PlasticityRule,
}

impl Default for PlasticitySection {
    fn default() -> Self {
        PlasticitySection {
            rule: RuleName::from("pair"),
            weight_dependence: WeightDependence::Additive,
            dw: None,
            params: std::collections::BTreeMap::new(),
            a_plus: 0.0048,
            a_minus: 0.0021,
            a3_plus: 0.0,
            a3_minus: 0.0,
            w_min: 0.0,
            w_max: 0.125,
            w_init: 0.075,
            w_init_spread: 0.025,
            amplitude_frac: None,
            w_init_file: None,
            synapse: std::collections::BTreeMap::new(),
            sweep_period_steps: None,
        }
    }
}

/// `[homeostasis]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HomeostasisSection {
    /// Enable the adaptive threshold.
    pub adaptive_threshold: bool,
    /// Threshold rise per spike.
    pub theta_step: f64,
    /// Decay time constant of the threshold rise.
    pub tau_theta_ms: f64,
    /// Enable multiplicative synaptic scaling.
    pub scaling: bool,
    /// Scaling happens every this many steps.
    pub scaling_period_steps: u32,
    /// Target firing rate of each neuron.
    pub target_rate_hz: f64,
    /// Relative weight change per relative rate error: `s = 1 + gain * (T - count) / T`.
    pub scaling_gain: f64,
}

impl Default for HomeostasisSection {
    fn default() -> Self {
        HomeostasisSection {
            adaptive_threshold: true,
            theta_step: 0.06,
            tau_theta_ms: 1000.0,
            scaling: false,
            scaling_period_steps: 1000,
            target_rate_hz: 10.0,
            scaling_gain: 0.1,
        }
    }
}

/// One quantity's format as written: width, fraction bits, rounding, decay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormatSpec {
    /// Total bits.
    pub width: u32,
    /// Fraction bits.
    pub frac: u32,
    /// Rounding of every update that narrows this quantity.
    #[serde(default)]
    pub rounding: Rounding,
    /// How the decay factor is quantised (decaying quantities only).
    #[serde(default)]
    pub decay: Decay,
}

impl FormatSpec {
    const fn new(width: u32, frac: u32, rounding: Rounding) -> Self {
        FormatSpec { width, frac, rounding, decay: Decay::Multiply }
    }
}

/// `[formats]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FormatsSection {
    /// Membrane potential (signed).
    pub membrane: FormatSpec,
    /// Synaptic weight (unsigned).
    pub weight: FormatSpec,
    /// Threshold and its adaptive part (unsigned).
    pub threshold: FormatSpec,
    /// Pre trace x1 (unsigned).
    pub trace_x1: FormatSpec,
    /// Pre trace x2 (unsigned).
    pub trace_x2: FormatSpec,
    /// Post trace y1 (unsigned).
    pub trace_y1: FormatSpec,
    /// Post trace y2 (unsigned).
    pub trace_y2: FormatSpec,
    /// The global modulator `r` of three-factor rules (signed), when the rule reads it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modulator: Option<ModulatorSpec>,
}

/// `[formats.modulator]`: the global modulator's signed fixed-point format. It is set once
/// per step (rounded to nearest, saturated), so it has no rounding or decay of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModulatorSpec {
    /// Total bits, sign included.
    pub width: u32,
    /// Fraction bits.
    pub frac: u32,
}

impl Default for FormatsSection {
    fn default() -> Self {
        let trace = FormatSpec::new(8, 6, Rounding::Stochastic);
        FormatsSection {
            membrane: FormatSpec::new(16, 10, Rounding::Nearest),
            weight: FormatSpec::new(10, 10, Rounding::Stochastic),
            threshold: FormatSpec::new(16, 10, Rounding::Stochastic),
            trace_x1: trace,
            trace_x2: trace,
            trace_y1: trace,
            trace_y2: trace,
            modulator: None,
        }
    }
}

impl Config {
    /// Parse TOML text; `origin` names the source in errors.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self> {
        toml::from_str(text)
            .map_err(|e| Error::Parse { path: origin.to_string(), message: e.to_string() })
    }

    /// Read and parse a TOML file. Relative stimulus paths resolve against its folder.
    pub fn load(path: &Path) -> Result<Self> {
        let text = crate::error::read_text(path, crate::error::MAX_CONFIG_BYTES)?;
        let mut cfg = Self::from_toml_str(&text, &path.display().to_string())?;
        if let Some(dir) = path.parent() {
            cfg.stimulus.resolve_relative(dir);
            if let Some(f) = &cfg.plasticity.w_init_file {
                if f.is_relative() {
                    cfg.plasticity.w_init_file = Some(dir.join(f));
                }
            }
        }
        Ok(cfg)
    }

    /// The built-in default network (64 inputs x 16 neurons, pair STDP, homeostasis).
    pub fn builtin_default() -> Self {
        Self::default()
    }

    /// Validate and convert into the hardware constants.
    pub fn build(&self) -> Result<Network> {
        Network::new(self.clone())
    }
}

/// Quantisation of one physical parameter.
#[derive(Clone, Debug, Serialize)]
pub struct Quantized {
    /// Dotted config field.
    pub field: String,
    /// Value asked for, in physical units.
    pub requested: f64,
    /// Value the hardware constant stands for, same units.
    pub realised: f64,
    /// The raw hardware constant.
    pub raw: i64,
    /// `(realised - requested) / requested`, or the absolute error when `requested` is 0.
    pub rel_error: f64,
    /// Format or unit of the raw constant.
    pub format: String,
}

/// The formats of every quantity, derived once from the config.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Formats {
    /// Membrane (signed).
    pub v: Format,
    /// Weight.
    pub w: Format,
    /// Threshold.
    pub theta: Format,
    /// Traces x1, x2, y1, y2.
    pub x1: Format,
    /// x2
    pub x2: Format,
    /// y1
    pub y1: Format,
    /// y2
    pub y2: Format,
    /// Amplitude constants: unsigned 16 bits, `amp_frac` fraction bits.
    pub amp: Format,
    /// The global modulator `r` (signed), when the config declares it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r: Option<Format>,
}

/// Rounding mode per quantity.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Roundings {
    /// Membrane decay.
    pub v: Rounding,
    /// Weight updates and scaling.
    pub w: Rounding,
    /// Adaptive threshold decay.
    pub theta: Rounding,
    /// Trace decays.
    pub x1: Rounding,
    /// x2
    pub x2: Rounding,
    /// y1
    pub y1: Rounding,
    /// y2
    pub y2: Rounding,
}

/// Hardware constants: every parameter as the integer the bit-accurate model and the RTL use.
#[derive(Clone, Debug, Serialize)]
pub struct Constants {
    /// Decay factors, U0.16.
    pub decay_v: u16,
    /// x1 decay.
    pub decay_x1: u16,
    /// x2 decay.
    pub decay_x2: u16,
    /// y1 decay.
    pub decay_y1: u16,
    /// y2 decay.
    pub decay_y2: u16,
    /// Adaptive threshold decay.
    pub decay_theta: u16,
    /// Base threshold, threshold format.
    pub theta0: i64,
    /// Adaptive threshold step, threshold format.
    pub theta_step: i64,
    /// Refractory period in steps.
    pub refractory_steps: u32,
    /// Lateral inhibition per spike, membrane format.
    pub inhibition: i64,
    /// Weight bounds, weight format.
    pub w_min: i64,
    /// Upper bound.
    pub w_max: i64,
    /// Trace increments, each trace's format.
    pub inc_x1: i64,
    /// x2 increment.
    pub inc_x2: i64,
    /// y1 increment.
    pub inc_y1: i64,
    /// y2 increment.
    pub inc_y2: i64,
    /// Scaling target spike count per period, U.8.
    pub scale_target: i64,
    /// Scaling gain `gain / T`, U0.16.
    pub scale_gain: i64,
    /// LFSR seed.
    pub seed: u32,
}

/// A validated network: the config, its formats and its hardware constants.
#[derive(Clone, Debug)]
pub struct Network {
    /// The config it came from (validated).
    pub cfg: Config,
    /// Formats.
    pub fmt: Formats,
    /// Rounding modes.
    pub rnd: Roundings,
    /// Hardware constants.
    pub k: Constants,
    /// The learning rule compiled against the formats (`None` when plasticity is off).
    pub rule: Option<PlasticityRule>,
    /// Quantisation report, one entry per converted parameter.
    pub quantization: Vec<Quantized>,
    /// Initial weights set by `plasticity.w_init_file`: `(input, neuron, weight)`.
    pub w_init_overrides: Vec<(u32, u32, f64)>,
    /// The global modulator of every step, from `stimulus.modulator_file` (0 without one).
    pub modulator: std::sync::Arc<crate::stimulus::Modulator>,
    /// The per-synapse variables, in name order (`plasticity.synapse`).
    pub syn: Vec<SynVar>,
}

fn check(cond: bool, field: &str, message: impl FnOnce() -> String) -> Result<()> {
    if cond {
        Ok(())
    } else {
        Err(Error::field(field, message()))
    }
}

fn positive(x: f64, field: &str) -> Result<()> {
    check(x.is_finite() && x > 0.0, field, || format!("must be a positive number, got {x}"))
}

fn non_negative(x: f64, field: &str) -> Result<()> {
    check(x.is_finite() && x >= 0.0, field, || {
        format!("must be zero or a positive number, got {x}")
    })
}

struct Quantizer {
    report: Vec<Quantized>,
}

impl Quantizer {
    fn record(&mut self, field: &str, requested: f64, realised: f64, raw: i64, format: String) {
        let rel_error = if requested != 0.0 {
            (realised - requested) / requested
        } else {
            realised - requested
        };
        self.report.push(Quantized {
            field: field.to_string(),
            requested,
            realised,
            raw,
            rel_error,
            format,
        });
    }

    /// Quantise `x` to `fmt`, or fail naming the field, the format and its range.
    fn value(&mut self, field: &str, x: f64, fmt: Format, what: &str) -> Result<i64> {
        let raw = fmt.quantize(x).ok_or_else(|| {
            Error::field(
                field,
                format!(
                    "{x} does not fit the {what} format {fmt} (range {} to {}); lower the value or {}",
                    fmt.min_real(),
                    fmt.max_real(),
                    if what == "amplitude" {
                        "lower plasticity.amplitude_frac".to_string()
                    } else {
                        format!("widen formats.{what}")
                    }
                ),
            )
        })?;
        self.record(field, x, fmt.to_real(raw), raw, fmt.q_name());
        Ok(raw)
    }

    /// Quantise the decay factor of time constant `tau_ms` (semantics §3).
    fn decay(&mut self, field: &str, tau_ms: f64, dt_ms: f64, mode: Decay) -> u16 {
        let alpha = (-dt_ms / tau_ms).exp();
        let raw: u16 = match mode {
            Decay::Multiply => U0F16::saturating_from_num(alpha).to_bits(),
            Decay::Shift => {
                let k = (tau_ms / dt_ms).log2().round().clamp(1.0, 16.0) as u32;
                (65536u32 - (1u32 << (16 - k))) as u16
            }
        };
        let realised_alpha = raw as f64 / 65536.0;
        let realised_tau = if raw == 0 { 0.0 } else { -dt_ms / realised_alpha.ln() };
        self.record(field, tau_ms, realised_tau, raw as i64, "U0.16 factor exp(-dt/tau)".into());
        raw
    }
}

/// Read `input,neuron,weight` lines (optional header, blank lines and `#` comments allowed).
fn read_weights(
    path: &Path,
    inputs: u32,
    neurons: u32,
    w_min: f64,
    w_max: f64,
) -> Result<Vec<(u32, u32, f64)>> {
    let text = crate::error::read_text(path, crate::error::MAX_CSV_BYTES)?;
    let err = |line: usize, message: String| Error::Weights {
        path: path.display().to_string(),
        line,
        message,
    };
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') || l.replace(' ', "") == "input,neuron,weight" {
            continue;
        }
        let f: Vec<&str> = l.split(',').map(str::trim).collect();
        if f.len() != 3 {
            return Err(err(line, format!("expected `input,neuron,weight`, got `{l}`")));
        }
        let i: u32 = f[0]
            .parse()
            .map_err(|_| err(line, format!("input `{}` is not a non-negative integer", f[0])))?;
        let j: u32 = f[1]
            .parse()
            .map_err(|_| err(line, format!("neuron `{}` is not a non-negative integer", f[1])))?;
        let w: f64 =
            f[2].parse().map_err(|_| err(line, format!("weight `{}` is not a number", f[2])))?;
        if i >= inputs {
            return Err(err(line, format!("input {i} does not exist: the network has {inputs}")));
        }
        if j >= neurons {
            return Err(err(line, format!("neuron {j} does not exist: the network has {neurons}")));
        }
        if !(w >= w_min && w <= w_max) {
            return Err(err(
                line,
                format!("weight {w} is outside [w_min, w_max] = [{w_min}, {w_max}]"),
            ));
        }
        if !seen.insert((i, j)) {
            return Err(err(line, format!("synapse ({i}, {j}) is given twice")));
        }
        out.push((i, j, w));
    }
    Ok(out)
}

impl Network {
    /// The modulator value `r` as the bit-accurate model and the hardware take it: rounded to
    /// nearest (ties away from zero) and saturated into `formats.modulator`; 0 when the
    /// rule does not read `r` (semantics §4.3).
    pub fn modulator_raw(&self, r: f64) -> i64 {
        match self.modulator_format() {
            Some(f) if r.is_finite() => f.sat((r / f.lsb()).round().clamp(-1e18, 1e18) as i64),
            _ => 0,
        }
    }

    /// The modulator value `r` of step `t` from the network's stimulus (the last value the
    /// `stimulus.modulator_file` lists at or before `t`; 0 without one), before its format
    /// rounds and saturates it.
    pub fn modulator_at(&self, t: u32) -> f64 {
        self.modulator.at(t)
    }

    /// Whether step `t` ends with the sweep (semantics §4.7): some term has `u` and
    /// `(t + 1) % plasticity.sweep_period_steps == 0`.
    pub fn sweeps_at(&self, t: u32) -> bool {
        self.cfg.plasticity.sweep_period_steps.is_some_and(|k| k > 0 && (t + 1) % k == 0)
    }

    /// The modulator value as the float reference takes it: saturated into the format's
    /// range, not rounded; 0 when the rule does not read `r`.
    pub fn modulator_real(&self, r: f64) -> f64 {
        match self.modulator_format() {
            Some(f) if r.is_finite() => f.sat_real(r),
            _ => 0.0,
        }
    }

    /// The modulator's format when some rule reads `r`: the weight's or a per-synapse
    /// variable's update.
    pub fn modulator_format(&self) -> Option<Format> {
        self.rule.as_ref().and_then(|r| r.r).or_else(|| self.syn.iter().find_map(|v| v.update.r))
    }

    /// Validate a config and derive its formats and constants.
    pub fn new(cfg: Config) -> Result<Self> {
        let n = &cfg.network;
        check(n.inputs >= 1 && n.inputs <= MAX_SIZE, "network.inputs", || {
            format!("must be between 1 and {MAX_SIZE}, got {}", n.inputs)
        })?;
        check(n.neurons >= 1 && n.neurons <= MAX_SIZE, "network.neurons", || {
            format!("must be between 1 and {MAX_SIZE}, got {}", n.neurons)
        })?;
        check((n.inputs as u64) * (n.neurons as u64) <= 1 << 28, "network.neurons", || {
            format!("{} x {} synapses is more than 2^28; shrink the network", n.inputs, n.neurons)
        })?;
        check(
            !n.name.is_empty()
                && n.name.chars().count() <= 64
                && !n.name.starts_with(['.', ' '])
                && !n.name.ends_with(' ')
                && !n.name.chars().any(|c| c.is_control() || "/\\:*?\"<>|".contains(c)),
            "network.name",
            || {
                format!(
                    "{:?} is not a name: use 1 to 64 characters without / \\ : * ? \" < > |, not starting \
                     with `.` (it names output folders; choose where they go with --out)",
                    n.name
                )
            },
        )?;
        // Checked before anything derived from it, so a wild time step is blamed on itself.
        check(
            n.dt_ms.is_finite() && (MIN_DT_MS..=MAX_DT_MS).contains(&n.dt_ms),
            "network.dt_ms",
            || {
                format!(
                    "must be between {MIN_DT_MS} and {MAX_DT_MS} ms, got {}; spiking networks step at 0.1 to 1 ms",
                    n.dt_ms
                )
            },
        )?;

        let f = &cfg.formats;
        let spec_check = |s: &FormatSpec, name: &str, min_w: u32, max_w: u32| -> Result<()> {
            let field = format!("formats.{name}.width");
            check(s.width >= min_w && s.width <= max_w, &field, || {
                format!("{name} width must be {min_w} to {max_w} bits, got {}", s.width)
            })?;
            check(s.frac <= s.width, &format!("formats.{name}.frac"), || {
                format!("{name} has {} fraction bits but only {} bits in all", s.frac, s.width)
            })
        };
        spec_check(&f.membrane, "membrane", 4, 32)?;
        spec_check(&f.weight, "weight", 2, 16)?;
        let sb = cfg.hardware.synapse_bits;
        check(sb >= f.weight.width && sb <= 16, "hardware.synapse_bits", || {
            format!(
                "a synapse word holds the {}-bit weight and at most 16 bits in all, got {sb}; use {} to 16",
                f.weight.width, f.weight.width
            )
        })?;
        spec_check(&f.threshold, "threshold", 2, 32)?;
        let r_format = match f.modulator {
            None => None,
            Some(m) => {
                check((2..=16).contains(&m.width), "formats.modulator.width", || {
                    format!("the modulator is signed, 2 to 16 bits with its sign, got {}", m.width)
                })?;
                check(m.frac < m.width, "formats.modulator.frac", || {
                    format!(
                        "the modulator has {} fraction bits but only {} bits besides its sign; \
                         use frac = 0 to {}",
                        m.frac,
                        m.width - 1,
                        m.width - 1
                    )
                })?;
                Some(Format::signed(m.width, m.frac))
            }
        };
        for (s, name) in [
            (&f.trace_x1, "trace_x1"),
            (&f.trace_x2, "trace_x2"),
            (&f.trace_y1, "trace_y1"),
            (&f.trace_y2, "trace_y2"),
        ] {
            spec_check(s, name, 2, 16)?;
            check(
                s.width - s.frac >= 1 && s.width - s.frac <= 4,
                &format!("formats.{name}.frac"),
                || {
                    format!(
                    "traces need 1 to 4 integer bits (width - frac), got {}; use frac = width - 1 .. width - 4",
                    s.width - s.frac
                )
                },
            )?;
        }
        check(f.membrane.frac < f.membrane.width, "formats.membrane.frac", || {
            "the membrane is signed: frac must be below width".into()
        })?;
        check(f.membrane.frac >= f.weight.frac, "formats.membrane.frac", || {
            format!(
                "membrane frac ({}) must be at least weight frac ({}) so weights add exactly",
                f.membrane.frac, f.weight.frac
            )
        })?;
        check(f.membrane.frac >= f.threshold.frac, "formats.threshold.frac", || {
            format!(
                "threshold frac ({}) must not exceed membrane frac ({}) so the compare is exact",
                f.threshold.frac, f.membrane.frac
            )
        })?;

        let v = Format::signed(f.membrane.width, f.membrane.frac);
        let w = Format::unsigned(f.weight.width, f.weight.frac);
        let theta = Format::unsigned(f.threshold.width, f.threshold.frac);
        let x1 = Format::unsigned(f.trace_x1.width, f.trace_x1.frac);
        let x2 = Format::unsigned(f.trace_x2.width, f.trace_x2.frac);
        let y1 = Format::unsigned(f.trace_y1.width, f.trace_y1.frac);
        let y2 = Format::unsigned(f.trace_y2.width, f.trace_y2.frac);

        let ne = &cfg.neuron;
        let tr = &cfg.traces;
        let pl = &cfg.plasticity;
        let ho = &cfg.homeostasis;
        positive(ne.tau_m_ms, "neuron.tau_m_ms")?;
        positive(ne.threshold, "neuron.threshold")?;
        non_negative(ne.refractory_ms, "neuron.refractory_ms")?;
        non_negative(ne.inhibition, "neuron.inhibition")?;
        positive(tr.tau_plus_ms, "traces.tau_plus_ms")?;
        positive(tr.tau_minus_ms, "traces.tau_minus_ms")?;
        positive(tr.tau_x_ms, "traces.tau_x_ms")?;
        positive(tr.tau_y_ms, "traces.tau_y_ms")?;
        positive(tr.increment, "traces.increment")?;
        for (x, name) in
            [(pl.w_min, "plasticity.w_min"), (pl.w_init_spread, "plasticity.w_init_spread")]
        {
            non_negative(x, name)?;
        }
        let rule_source = rule_source(pl)?;
        check(pl.w_max > pl.w_min, "plasticity.w_max", || {
            format!("w_max ({}) must be above w_min ({})", pl.w_max, pl.w_min)
        })?;
        check(pl.w_init >= pl.w_min && pl.w_init <= pl.w_max, "plasticity.w_init", || {
            format!(
                "w_init ({}) must lie within [w_min, w_max] = [{}, {}]",
                pl.w_init, pl.w_min, pl.w_max
            )
        })?;
        non_negative(ho.theta_step, "homeostasis.theta_step")?;
        positive(ho.tau_theta_ms, "homeostasis.tau_theta_ms")?;
        check(ho.scaling_period_steps >= 1, "homeostasis.scaling_period_steps", || {
            "must be at least 1".into()
        })?;
        positive(ho.target_rate_hz, "homeostasis.target_rate_hz")?;
        non_negative(ho.scaling_gain, "homeostasis.scaling_gain")?;
        check(ne.refractory_ms / n.dt_ms <= 65535.0, "neuron.refractory_ms", || {
            "refractory period is more than 65535 steps".into()
        })?;

        let mut q = Quantizer { report: Vec::new() };
        let dt = n.dt_ms;
        let decay_v = q.decay("neuron.tau_m_ms", ne.tau_m_ms, dt, f.membrane.decay);
        let decay_x1 = q.decay("traces.tau_plus_ms", tr.tau_plus_ms, dt, f.trace_x1.decay);
        let decay_y1 = q.decay("traces.tau_minus_ms", tr.tau_minus_ms, dt, f.trace_y1.decay);
        let decay_x2 = q.decay("traces.tau_x_ms", tr.tau_x_ms, dt, f.trace_x2.decay);
        let decay_y2 = q.decay("traces.tau_y_ms", tr.tau_y_ms, dt, f.trace_y2.decay);
        let decay_theta =
            q.decay("homeostasis.tau_theta_ms", ho.tau_theta_ms, dt, f.threshold.decay);

        let theta0 = q.value("neuron.threshold", ne.threshold, theta, "threshold")?;
        check(theta.to_real(theta0) <= v.max_real(), "neuron.threshold", || {
            format!(
                "threshold {} does not fit the membrane format {v} (max {}); widen formats.membrane",
                ne.threshold,
                v.max_real()
            )
        })?;
        check(theta0 > 0, "neuron.threshold", || {
            format!("threshold {} rounds to zero in {theta}; add fraction bits", ne.threshold)
        })?;
        let theta_step = q.value("homeostasis.theta_step", ho.theta_step, theta, "threshold")?;
        let inhibition = q.value("neuron.inhibition", ne.inhibition, v, "membrane")?;
        let refractory_steps = (ne.refractory_ms / dt).round() as u32;
        q.record(
            "neuron.refractory_ms",
            ne.refractory_ms,
            refractory_steps as f64 * dt,
            refractory_steps as i64,
            "steps".into(),
        );

        let w_min = q.value("plasticity.w_min", pl.w_min, w, "weight")?;
        let w_max = q.value("plasticity.w_max", pl.w_max, w, "weight")?;
        check(w_max > w_min, "plasticity.w_max", || {
            format!("w_max and w_min round to the same weight in {w}; add weight fraction bits")
        })?;
        check(
            pl.w_init + pl.w_init_spread <= w.max_real() + w.lsb() / 2.0,
            "plasticity.w_init_spread",
            || {
                format!(
                    "w_init + w_init_spread exceeds the weight format {w} (max {})",
                    w.max_real()
                )
            },
        )?;

        // Per-synapse variables: their formats, then each one's update with its own
        // parameters (a parameter belongs to the one expression that reads it).
        check(pl.synapse.len() <= 2, "plasticity.synapse", || {
            format!(
                "a synapse holds at most 2 variables besides its weight, got {}",
                pl.synapse.len()
            )
        })?;
        let preset = crate::plasticity::presets::find(pl.rule.as_str());
        let with_vars = || {
            let names: Vec<String> = crate::plasticity::presets::PRESETS
                .iter()
                .filter(|p| !p.vars.is_empty())
                .map(|p| format!("\"{}\"", p.name))
                .collect();
            names.join(" or ")
        };
        check(
            pl.synapse.is_empty()
                || pl.rule.is_custom()
                || preset.is_some_and(|p| !p.vars.is_empty()),
            "plasticity.synapse",
            || {
                format!(
                    "per-synapse variables need rule = \"custom\" or a preset that has them ({}); \
                     rule = \"{}\" reads none",
                    with_vars(),
                    pl.rule
                )
            },
        )?;
        // Each variable's update: the custom rule's own, a preset's from the preset.
        let mut updates: Vec<String> = Vec::new();
        if let Some(p) = preset.filter(|p| !p.vars.is_empty()) {
            for v in p.vars {
                check(
                    pl.synapse.contains_key(v.name),
                    &format!("plasticity.synapse.{}", v.name),
                    || {
                        format!(
                            "the {} preset keeps {} `{}` per synapse: declare its format, e.g. \
                         [plasticity.synapse.{}] {}",
                            p.name, v.what, v.name, v.name, v.example
                        )
                    },
                )?;
            }
        }
        for (name, v) in &pl.synapse {
            let field = format!("plasticity.synapse.{name}");
            match preset {
                Some(p) => {
                    let Some(pv) = p.vars.iter().find(|pv| pv.name == name) else {
                        let own: Vec<&str> = p.vars.iter().map(|v| v.name).collect();
                        return Err(Error::field(
                            field,
                            format!(
                                "the {} preset has no variable `{name}` (it keeps {}); remove the \
                                 table, or set rule = \"custom\"",
                                p.name,
                                own.join(", ")
                            ),
                        ));
                    };
                    check(v.update.is_none(), &format!("{field}.update"), || {
                        format!(
                            "the {} preset writes `{name}`'s update (\"{}\"); remove update, or \
                             set rule = \"custom\" and write dw and every update yourself",
                            p.name, pv.update
                        )
                    })?;
                    updates.push(pv.update.to_string());
                }
                None => {
                    let Some(u) = &v.update else {
                        return Err(Error::field(
                            format!("{field}.update"),
                            format!(
                                "`{name}` needs its update, the rule language's d{name}, e.g. \
                                 update = \"p * x1 * y0 - m * y1 * x0\" with p and m under \
                                 [plasticity.params]"
                            ),
                        ));
                    };
                    updates.push(u.clone());
                }
            }
        }
        let mut syn_formats = Vec::new();
        for (name, v) in &pl.synapse {
            let field = format!("plasticity.synapse.{name}");
            check(
                !name.is_empty()
                    && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && crate::plasticity::lang::builtin_name(name).is_none()
                    && !pl.params.contains_key(name),
                &field,
                || {
                    format!("`{name}` cannot name a variable: use a letter, then letters, digits or _, not a built-in name or a parameter")
                },
            )?;
            let min_w = if v.signed { 2 } else { 1 };
            check((min_w..=16).contains(&v.width), &format!("{field}.width"), || {
                format!("must be {min_w} to 16 bits, got {}", v.width)
            })?;
            check(v.frac <= v.width - v.signed as u32, &format!("{field}.frac"), || {
                format!("at most {} fraction bits, got {}", v.width - v.signed as u32, v.frac)
            })?;
            check(v.rounding != Rounding::Stochastic, &format!("{field}.rounding"), || {
                "stochastic rounding of a per-synapse variable is not built yet (it needs a \
                 second draw per synapse and clock); use \"nearest\" or \"floor\""
                    .into()
            })?;
            syn_formats.push((name.clone(), v.format()));
        }
        // `plasticity.amplitude_frac` is dw's; each variable's update chooses its own.
        let env_of = |target: Option<usize>, rounding| RuleEnv {
            w,
            rounding,
            traces: [x1, x2, y1, y2],
            amplitude_frac: if target.is_none() { pl.amplitude_frac } else { None },
            r: r_format,
            syn: syn_formats.clone(),
            target,
        };
        // Which expression reads each parameter.
        let syn_names: Vec<String> = syn_formats.iter().map(|v| v.0.clone()).collect();
        let parse = |text: &str| {
            crate::plasticity::lang::parse_with(
                text,
                &crate::plasticity::lang::Declared { is_param: &|_| true, synapse: &syn_names },
            )
        };
        // A declared parameter's name in an expression (a mistake in dw's text is reported
        // when dw compiles, one in an update's here).
        let reads = |text: &str| -> Vec<String> {
            parse(text)
                .map(|r| r.params())
                .unwrap_or_default()
                .into_iter()
                .filter(|p| pl.params.contains_key(p))
                .collect()
        };
        let mut var_params: Vec<Vec<String>> = Vec::new();
        for (name, update) in pl.synapse.keys().zip(&updates) {
            let field = format!("plasticity.synapse.{name}.update");
            parse(update).map_err(|e| Error::field(&field, e.render(update)))?;
            let ps = reads(update);
            for (k, other) in var_params.iter().enumerate() {
                if let Some(p) = ps.iter().find(|p| other.contains(p)) {
                    let first = pl.synapse.keys().nth(k).expect("a variable per list");
                    return Err(Error::field(
                        format!("plasticity.params.{p}"),
                        format!(
                            "is read by the updates of `{first}` and `{name}`; each expression \
                             has its own amplitude format, so give each its own parameter (e.g. \
                             {p}_{name})"
                        ),
                    ));
                }
            }
            var_params.push(ps);
        }
        let (rule, amp) = match &rule_source {
            None => (None, Format::unsigned(16, w.frac)),
            Some(src) => {
                let mut source = src.source();
                if !pl.synapse.is_empty() {
                    let dw_reads = reads(source.text);
                    for ps in &var_params {
                        for p in ps {
                            check(
                                !dw_reads.contains(p),
                                &format!("plasticity.params.{p}"),
                                || {
                                    format!("is read by dw and by a variable's update; each expression has its own amplitude format, so give each its own parameter (e.g. {p}_e)")
                                },
                            )?;
                        }
                    }
                    source.params.retain(|(n, _, _)| !var_params.iter().flatten().any(|p| p == n));
                }
                let (rule, report) =
                    PlasticityRule::compile(&source, &env_of(None, f.weight.rounding))?;
                q.report.extend(report);
                let amp = rule.amp;
                (Some(rule), amp)
            }
        };
        let mut syn = Vec::new();
        for (k, (name, v)) in pl.synapse.iter().enumerate() {
            let field = format!("plasticity.synapse.{name}.update");
            let params = pl
                .params
                .iter()
                .filter(|(n, _)| var_params[k].contains(n))
                .map(|(n, val)| (n.clone(), *val, format!("plasticity.params.{n}")))
                .collect();
            let src = crate::plasticity::rule::Source {
                name,
                text: &updates[k],
                field: &field,
                params,
                amplitudes: false,
            };
            let (update, report) = PlasticityRule::compile(&src, &env_of(Some(k), v.rounding))?;
            q.report.extend(report);
            let fmt = syn_formats[k].1;
            let init = fmt.quantize(v.init).ok_or_else(|| {
                Error::field(
                    format!("plasticity.synapse.{name}.init"),
                    format!("{} does not fit {fmt}", v.init),
                )
            })?;
            syn.push(SynVar { name: name.clone(), fmt, init, update });
        }

        let inc_x1 = q.value("traces.increment", tr.increment, x1, "trace_x1")?;
        let inc_x2 = q.value("traces.increment", tr.increment, x2, "trace_x2")?;
        let inc_y1 = q.value("traces.increment", tr.increment, y1, "trace_y1")?;
        let inc_y2 = q.value("traces.increment", tr.increment, y2, "trace_y2")?;

        let target = ho.target_rate_hz * ho.scaling_period_steps as f64 * dt / 1000.0;
        check(target * 256.0 < (1u64 << 31) as f64, "homeostasis.target_rate_hz", || {
            "target spike count per scaling period is too large".into()
        })?;
        let scale_target = (target * 256.0).round() as i64;
        q.record(
            "homeostasis.target_rate_hz",
            ho.target_rate_hz,
            scale_target as f64 / 256.0 / (ho.scaling_period_steps as f64 * dt / 1000.0),
            scale_target,
            "U.8 spikes per period".into(),
        );
        // The gain is relative to the target the hardware actually compares with.
        let target_q = scale_target as f64 / 256.0;
        let gain_per_spike = if target_q > 0.0 { ho.scaling_gain / target_q } else { 0.0 };
        if ho.scaling {
            check(scale_target > 0, "homeostasis.target_rate_hz", || {
                "target spike count per period rounds to zero; raise the rate or the period".into()
            })?;
            check(gain_per_spike < 1.0, "homeostasis.scaling_gain", || {
                format!(
                    "scaling_gain / target count ({gain_per_spike:.3}) must be below 1: lower the gain, \
                     or raise target_rate_hz or scaling_period_steps"
                )
            })?;
        }
        let scale_gain = U0F16::saturating_from_num(gain_per_spike).to_bits() as i64;
        q.record(
            "homeostasis.scaling_gain",
            ho.scaling_gain,
            scale_gain as f64 / 65536.0 * target_q,
            scale_gain,
            "U0.16 gain per spike".into(),
        );

        let fmt = Formats { v, w, theta, x1, x2, y1, y2, amp, r: r_format };
        let rnd = Roundings {
            v: f.membrane.rounding,
            w: f.weight.rounding,
            theta: f.threshold.rounding,
            x1: f.trace_x1.rounding,
            x2: f.trace_x2.rounding,
            y1: f.trace_y1.rounding,
            y2: f.trace_y2.rounding,
        };
        let k = Constants {
            decay_v,
            decay_x1,
            decay_x2,
            decay_y1,
            decay_y2,
            decay_theta,
            theta0,
            theta_step,
            refractory_steps,
            inhibition,
            w_min,
            w_max,
            inc_x1,
            inc_x2,
            inc_y1,
            inc_y2,
            scale_target,
            scale_gain,
            seed: n.seed,
        };
        cfg.stimulus.validate(&cfg)?;
        let w_init_overrides = match &pl.w_init_file {
            Some(path) => read_weights(path, n.inputs, n.neurons, pl.w_min, pl.w_max)?,
            None => Vec::new(),
        };
        let sweeps =
            rule.as_ref().is_some_and(|r| r.sweeps()) || syn.iter().any(|v| v.update.sweeps());
        match (sweeps, pl.sweep_period_steps) {
            (true, None) => {
                return Err(Error::field(
                    "plasticity.sweep_period_steps",
                    "a term has `u`, the sweep, which runs every K steps on every synapse: set \
                     sweep_period_steps = K (1 for every step; the core spends about \
                     inputs x neurons clocks on each sweep)",
                ))
            }
            (false, Some(_)) => {
                return Err(Error::field(
                    "plasticity.sweep_period_steps",
                    "no term has `u`, the sweep: write `u` into a term (as `- k * e * u`, a \
                     decay), or remove sweep_period_steps",
                ))
            }
            (true, Some(0)) => {
                return Err(Error::field(
                    "plasticity.sweep_period_steps",
                    "must be at least 1 (the sweep runs at the end of every step t with (t + 1) \
                     % K == 0)",
                ))
            }
            _ => {}
        }
        if let Some(rw) = &cfg.stimulus.reward {
            let f = |name: &str| format!("stimulus.reward.{name}");
            check(
                rule.as_ref().is_some_and(|r| r.reads_mod())
                    || syn.iter().any(|v| v.update.reads_mod()),
                "stimulus.reward",
                || {
                    "the rule does not read the modulator `r` the reward sets: write `r` into a \
                    term (as `a * e * r * u`), or remove [stimulus.reward]"
                        .into()
                },
            )?;
            check(cfg.stimulus.modulator_file.is_none(), "stimulus.reward", || {
                "the modulator comes from the reward task or from modulator_file, not both: \
                 remove one"
                    .into()
            })?;
            check(rw.input < n.inputs, &f("input"), || {
                format!("input {} does not exist (inputs 0 to {})", rw.input, n.inputs - 1)
            })?;
            check(rw.neuron < n.neurons, &f("neuron"), || {
                format!("neuron {} does not exist (neurons 0 to {})", rw.neuron, n.neurons - 1)
            })?;
            let [lo, hi] = rw.delay_ms;
            check(
                lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo <= hi && hi <= 1e9,
                &f("delay_ms"),
                || format!("[{lo}, {hi}]: give [lo, hi] with 0 <= lo <= hi (ms)"),
            )?;
            for (name, v) in [("window_ms", rw.window_ms), ("duration_ms", rw.duration_ms)] {
                check(v.is_finite() && v > 0.0 && v <= 1e9, &f(name), || {
                    format!("{v}: must be a positive time in ms")
                })?;
            }
            check(rw.value.is_finite(), &f("value"), || "must be a finite number".into())?;
        }
        let modulator = match &cfg.stimulus.modulator_file {
            None => crate::stimulus::Modulator::none(),
            Some(path) => {
                check(
                    rule.as_ref().is_some_and(|r| r.reads_mod())
                        || syn.iter().any(|v| v.update.reads_mod()),
                    "stimulus.modulator_file",
                    || {
                        "the rule does not read the modulator `r`: write `r` into a term of the rule \
                     (as `a * x1 * r * y0`), or remove modulator_file"
                        .into()
                    },
                )?;
                crate::stimulus::Modulator::read_csv(path)
                    .map_err(|e| Error::field("stimulus.modulator_file", e.to_string()))?
            }
        };
        Ok(Network {
            cfg,
            fmt,
            rnd,
            k,
            rule,
            quantization: q.report,
            w_init_overrides,
            modulator: std::sync::Arc::new(modulator),
            syn,
        })
    }

    /// Number of inputs.
    pub fn inputs(&self) -> usize {
        self.cfg.network.inputs as usize
    }

    /// Number of neurons.
    pub fn neurons(&self) -> usize {
        self.cfg.network.neurons as usize
    }

    /// Whether plasticity is on.
    pub fn plastic(&self) -> bool {
        self.rule.is_some()
    }

    /// Whether trace `t` exists: x1 and y1 always (the probes and waveforms show them), x2
    /// and y2 when the rule reads them (semantics §4).
    pub fn has_trace(&self, t: Trace) -> bool {
        match t {
            Trace::X1 | Trace::Y1 => true,
            Trace::X2 | Trace::Y2 => {
                self.rule.as_ref().is_some_and(|r| r.reads_trace(t))
                    || self.syn.iter().any(|v| v.update.reads_trace(t))
            }
        }
    }

    /// The raw value of the rule parameter `name` (amplitude format), if the rule has it.
    pub fn param_raw(&self, name: &str) -> Option<i64> {
        self.rule.as_ref()?.params.iter().find(|p| p.name == name).map(|p| p.raw)
    }
}

/// Where `[plasticity]` says the rule comes from.
struct RuleSource {
    name: String,
    text: String,
    field: &'static str,
    params: Vec<(String, f64, String)>,
    amplitudes: bool,
}

impl RuleSource {
    fn source(&self) -> crate::plasticity::rule::Source<'_> {
        crate::plasticity::rule::Source {
            name: &self.name,
            text: &self.text,
            field: self.field,
            params: self.params.clone(),
            amplitudes: self.amplitudes,
        }
    }
}

/// The rule text and its declared parameters: a preset's expansion with its amplitudes from
/// the `[plasticity]` fields (`a_plus`, ...), or the custom `dw` with `[plasticity.params]`.
/// `None` when plasticity is off.
fn rule_source(pl: &PlasticitySection) -> Result<Option<RuleSource>> {
    use crate::plasticity::{lang, presets};
    let d = PlasticitySection::default();
    let legacy = [
        ("a_plus", pl.a_plus, d.a_plus),
        ("a_minus", pl.a_minus, d.a_minus),
        ("a3_plus", pl.a3_plus, d.a3_plus),
        ("a3_minus", pl.a3_minus, d.a3_minus),
    ];
    debug_assert!(legacy.iter().map(|l| l.0).eq(presets::LEGACY_PARAMS.iter().copied()));
    let table = |name: &str| -> Vec<(String, f64, String)> {
        pl.params
            .iter()
            .filter(|(n, _)| n.as_str() != name)
            .map(|(n, v)| (n.clone(), *v, format!("plasticity.params.{n}")))
            .collect()
    };
    if pl.rule.is_off() {
        check(pl.dw.is_none(), "plasticity.dw", || {
            "is the custom rule's text, but rule = \"off\"; set rule = \"custom\" to use it".into()
        })?;
        return Ok(None);
    }
    if pl.rule.is_custom() {
        let Some(dw) = &pl.dw else {
            return Err(Error::field(
                "plasticity.dw",
                "rule = \"custom\" needs the rule, e.g. dw = \"a_plus * x1 * y0 - a_minus * y1 * x0\", \
                 with its parameters under [plasticity.params]",
            ));
        };
        for (name, value, default) in legacy {
            check(value == default, &format!("plasticity.{name}"), || {
                format!(
                    "is a parameter of the pair and triplet presets; a custom rule takes its \
                     parameters from [plasticity.params] (e.g. [plasticity.params] {name} = {value})"
                )
            })?;
        }
        return Ok(Some(RuleSource {
            name: "custom".into(),
            text: dw.clone(),
            field: "plasticity.dw",
            params: table(""),
            amplitudes: false,
        }));
    }
    let Some(preset) = presets::find(pl.rule.as_str()) else {
        let names: Vec<&str> = presets::PRESETS.iter().map(|p| p.name).collect();
        return Err(Error::field(
            "plasticity.rule",
            format!(
                "`{}` is not a rule: use \"off\", \"custom\" (with dw = \"...\"), or a preset: {}",
                pl.rule,
                names.join(", ")
            ),
        ));
    };
    check(pl.dw.is_none(), "plasticity.dw", || {
        format!(
            "is the custom rule's text; set rule = \"custom\" to use it, or remove it to use the \
             {} preset (`synforge params` prints its expansion)",
            preset.name
        )
    })?;
    let text = preset.text(pl.weight_dependence).ok_or_else(|| {
        Error::field(
            "plasticity.weight_dependence",
            format!(
                "the {} preset has no {:?} form; use additive",
                preset.name, pl.weight_dependence
            ),
        )
    })?;
    let names = lang::parse(text, &|_| true).map(|r| r.params()).unwrap_or_default();
    let mut params = Vec::new();
    for (name, value, default) in legacy {
        if names.iter().any(|n| n == name) {
            non_negative(value, &format!("plasticity.{name}"))?;
            params.push((name.to_string(), value, format!("plasticity.{name}")));
        } else {
            check(value == default, &format!("plasticity.{name}"), || {
                format!(
                    "is not a parameter of the {} rule (dw = \"{text}\"); remove it, or choose a \
                     rule that uses it",
                    preset.name
                )
            })?;
        }
    }
    for n in pl.params.keys() {
        check(
            !presets::LEGACY_PARAMS.contains(&n.as_str()),
            &format!("plasticity.params.{n}"),
            || format!("the {} preset reads {n} from plasticity.{n}; set it there", preset.name),
        )?;
    }
    params.extend(table(""));
    Ok(Some(RuleSource {
        name: preset.name.into(),
        text: text.into(),
        field: "plasticity.rule",
        params,
        // A preset with variables scales them, not weight units.
        amplitudes: preset.vars.is_empty(),
    }))
}
