//! Every width, memory, word layout and register of the core, derived once from a validated
//! network. The Verilog, the manifest, the docs tables and the co-simulation all read it here.

use serde::Serialize;
use synforge_sim::config::Network;
use synforge_sim::format::Rounding;
use synforge_sim::plasticity::lang::Trace;
use synforge_sim::plasticity::rule::{Rule, AMP_BITS};

use crate::verilog::bits_for;

/// DP16KD blocks of the largest supported device (ECP5-85F): no design whose weight RAM needs
/// more can be placed anywhere.
pub const MAX_WEIGHT_RAM_BLOCKS: u64 = 208;

/// ECP5 DP16KD blocks (18 Kbit each) that `words` synapse words of `bits` bits take: a block
/// is 16K x 1, 8K x 2, 4K x 4, 2K x 9 or 1K x 18, wider words take several side by side.
pub fn dp16kd_blocks(words: u64, bits: u32) -> u64 {
    let depth = match bits {
        1 => 16 * 1024,
        2 => 8 * 1024,
        3..=4 => 4 * 1024,
        5..=9 => 2 * 1024,
        _ => 1024,
    };
    words.div_ceil(depth) * u64::from(bits.div_ceil(18))
}

/// The refusal's advice: the widest narrower synapse word whose DP16KD packing would fit the
/// largest device, if one would.
fn narrower_fit(words: u64, sw: u32) -> String {
    [(9, "2K"), (4, "4K"), (2, "8K"), (1, "16K")]
        .into_iter()
        .find(|&(b, _)| b < sw && dp16kd_blocks(words, b) <= MAX_WEIGHT_RAM_BLOCKS)
        .map(|(b, k)| {
            format!(
                ", or narrower synapse words (hardware.synapse_bits = {b} fits {k} words a \
                 block, with weights of {b} bits or fewer)"
            )
        })
        .unwrap_or_default()
}

/// Why a config cannot be realised as hardware.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    /// A value the hardware cannot hold.
    #[error("{field}: {message}")]
    Unrealisable {
        /// Config field.
        field: String,
        /// What is wrong and how to fix it.
        message: String,
    },
}

/// One field of a packed memory word.
#[derive(Clone, Debug, Serialize)]
pub struct Field {
    /// Name, as in the model's VCD where there is one.
    pub name: &'static str,
    /// Lowest bit.
    pub lsb: u32,
    /// Width in bits.
    pub width: u32,
    /// Format and meaning.
    pub what: String,
}

/// A packed word: fields from bit 0 up.
#[derive(Clone, Debug, Serialize)]
pub struct Word {
    /// Fields, lowest first.
    pub fields: Vec<Field>,
    /// Total width.
    pub width: u32,
}

impl Word {
    fn new(spec: &[(&'static str, u32, String)]) -> Self {
        let mut lsb = 0;
        let mut fields = Vec::new();
        for (name, width, what) in spec {
            if *width > 0 {
                fields.push(Field { name, lsb, width: *width, what: what.clone() });
                lsb += width;
            }
        }
        Word { fields, width: lsb }
    }

    /// The field called `name`.
    pub fn field(&self, name: &str) -> &Field {
        self.fields.iter().find(|f| f.name == name).unwrap_or_else(|| panic!("no field {name}"))
    }

    /// Verilog slice `[msb:lsb]` of field `name`.
    pub fn slice(&self, name: &str) -> String {
        let f = self.field(name);
        format!("[{}:{}]", f.lsb + f.width - 1, f.lsb)
    }
}

/// A parameter register of the memory-mapped port.
#[derive(Clone, Debug, Serialize)]
pub struct Reg {
    /// Register index (address in region 0).
    pub index: u32,
    /// Verilog name (`param_...`).
    pub name: String,
    /// Bits held (the rest of the 32-bit word reads as zero).
    pub width: u32,
    /// Meaning and format.
    pub what: String,
    /// The value for the config it was generated from.
    pub value: u64,
    /// Whether this design has it (a register its rule choices never read is not built;
    /// writes to it are ignored and reads return 0).
    pub built: bool,
}

/// A memory of the core.
#[derive(Clone, Debug, Serialize)]
pub struct Memory {
    /// Its name: the module is `sf_ram_<name>`, its ports `<name>_we`, `_wa`, `_wd`, `_ra`,
    /// `_rd` in the top.
    pub name: &'static str,
    /// Bits of a word.
    pub width: u32,
    /// Words.
    pub depth: u32,
    /// Bits of an address.
    pub addr_bits: u32,
    /// What it holds.
    pub what: &'static str,
}

/// Widths and layouts of one generated core.
#[derive(Clone, Debug, Serialize)]
pub struct Layout {
    /// Input channels `M`.
    pub inputs: u32,
    /// Neurons `N`.
    pub neurons: u32,
    /// Bits of an input index.
    pub input_index_bits: u32,
    /// Bits of a neuron index.
    pub neuron_index_bits: u32,
    /// Bits of a weight-RAM address (`j * M + i`).
    pub weight_addr_bits: u32,
    /// Bits of the count of spikes in a step (`0..=max(M, N)`).
    pub count_bits: u32,
    /// Membrane width (signed).
    pub v_bits: u32,
    /// Weight width.
    pub weight_bits: u32,
    /// Threshold width.
    pub theta_bits: u32,
    /// Trace widths x1, x2, y1, y2 (x2, y2 zero for the pair rule).
    pub x1_bits: u32,
    /// x2 width.
    pub x2_bits: u32,
    /// y1 width.
    pub y1_bits: u32,
    /// y2 width.
    pub y2_bits: u32,
    /// Neuron state word.
    pub neuron_word: Word,
    /// Input state word.
    pub input_word: Word,
    /// Synapse word.
    pub synapse_word: Word,
    /// Parameter registers.
    pub regs: Vec<Reg>,
    /// The trace x2 exists (the rule reads it).
    pub x2: bool,
    /// The trace y2 exists.
    pub y2: bool,
    /// Plasticity on.
    pub plastic: bool,
    /// The weight RAM has one port (`[hardware] weight_memory = "single-port"`).
    pub single_port: bool,
    /// Some term has `u`: the core has the sweep phase (register 26, status register 38).
    pub sweep: bool,
    /// Bits of one synapse word (`[hardware] synapse_bits`): the weight in the low bits, then
    /// the per-synapse variables, the rest reserved (read as written).
    pub synapse_bits: u32,
}

fn unrealisable(field: &str, message: String) -> GenError {
    GenError::Unrealisable { field: field.into(), message }
}

impl Layout {
    /// Derive the layout, refusing what no supported device can hold.
    pub fn new(net: &Network) -> Result<Self, GenError> {
        let (m, n) = (net.cfg.network.inputs, net.cfg.network.neurons);
        let sw = net.cfg.hardware.synapse_bits;
        let blocks = dp16kd_blocks(m as u64 * n as u64, sw);
        if blocks > MAX_WEIGHT_RAM_BLOCKS {
            return Err(unrealisable(
                "network.inputs",
                format!(
                    "{m} inputs x {n} neurons of {sw}-bit synapse words need {blocks} block RAMs \
                     (DP16KD), more than the largest supported device has \
                     ({MAX_WEIGHT_RAM_BLOCKS}, ECP5-85F); use fewer inputs or neurons{}",
                    narrower_fit(m as u64 * n as u64, sw)
                ),
            ));
        }
        if n > 65_535 || m > 65_535 {
            return Err(unrealisable(
                "network.neurons",
                format!("{m} inputs x {n} neurons: at most 65535 of each fit the core's counters"),
            ));
        }
        let f = &net.fmt;
        let (x2, y2) = (net.has_trace(Trace::X2), net.has_trace(Trace::Y2));
        let plastic = net.plastic();
        let wx2 = if x2 { f.x2.width } else { 0 };
        let wy2 = if y2 { f.y2.width } else { 0 };
        let adaptive = net.cfg.homeostasis.adaptive_threshold;
        let q = |fmt: &synforge_sim::format::Format| fmt.q_name();
        let neuron_word = Word::new(&[
            ("v_mem", f.v.width, format!("membrane, {}", q(&f.v))),
            (
                "theta_a",
                if adaptive { f.theta.width } else { 0 },
                format!("adaptive threshold, {}", q(&f.theta)),
            ),
            ("trace_y1", f.y1.width, format!("post trace y1, {}", q(&f.y1))),
            ("trace_y2", wy2, format!("post trace y2, {}", q(&f.y2))),
            ("refrac", 16, "refractory steps left".into()),
            ("count", 16, "spikes this scaling period, saturating".into()),
            ("spiked", 1, "spiked in the previous step".into()),
            ("lfsr", 32, "the neuron's LFSR state".into()),
        ]);
        let input_word = Word::new(&[
            ("trace_x1", f.x1.width, format!("pre trace x1, {}", q(&f.x1))),
            ("trace_x2", wx2, format!("pre trace x2, {}", q(&f.x2))),
            ("pre", 1, "spiked this step (set by the scan, cleared by the increment)".into()),
        ]);
        let mut synapse_spec = vec![("weight", f.w.width, format!("weight, {}", q(&f.w)))];
        for (k, v) in net.syn.iter().enumerate() {
            synapse_spec.push((
                SYN_FIELDS[k],
                v.fmt.width,
                format!("per-synapse variable `{}`, {}", v.name, q(&v.fmt)),
            ));
        }
        let used: u32 = synapse_spec.iter().map(|s| s.1).sum();
        if used > sw {
            let v = net.syn.last().expect("only variables widen the word past the weight");
            let widths: Vec<String> =
                net.syn.iter().map(|v| format!("`{}` {} bits", v.name, v.fmt.width)).collect();
            let room = if sw < 16 {
                format!("raise hardware.synapse_bits (now {sw}, at most 16) or ")
            } else {
                String::new()
            };
            return Err(unrealisable(
                &format!("plasticity.synapse.{}.width", v.name),
                format!(
                    "the weight ({} bits) and the per-synapse variables ({}) need {used} bits, \
                     more than a synapse word's {sw}; {room}narrow the weight \
                     (formats.weight.width) or the variables so that together they fit",
                    f.w.width,
                    widths.join(", ")
                ),
            ));
        }
        synapse_spec.push(("reserved", sw - used, "reserved for later per-synapse state".into()));
        let synapse_word = Word::new(&synapse_spec);
        let k = &net.k;
        let h = &net.cfg.homeostasis;
        let built = |name: &str| match name {
            "param_decay_theta" | "param_theta_step" => h.adaptive_threshold,
            "param_decay_x2" | "param_inc_x2" => x2,
            "param_decay_y2" | "param_inc_y2" => y2,
            "param_scale_target" | "param_scale_gain" | "param_scale_period" => h.scaling,
            "param_w_min" | "param_w_max" => plastic || h.scaling,
            _ => true,
        };
        let reg = |index, name: &str, width, what: &str, value: i64| Reg {
            index,
            name: name.into(),
            width,
            what: what.into(),
            value: value as u64,
            built: built(name),
        };
        let mut regs = vec![
            reg(
                1,
                "param_seed",
                32,
                "LFSR seed S (semantics 2.1); CTRL init seeds every LFSR from it",
                k.seed as i64,
            ),
            reg(2, "param_decay_v", 16, "membrane decay factor, U0.16", k.decay_v as i64),
            reg(
                3,
                "param_decay_theta",
                16,
                "adaptive threshold decay factor, U0.16",
                k.decay_theta as i64,
            ),
            reg(4, "param_decay_x1", 16, "x1 decay factor, U0.16", k.decay_x1 as i64),
            reg(5, "param_decay_x2", 16, "x2 decay factor, U0.16", k.decay_x2 as i64),
            reg(6, "param_decay_y1", 16, "y1 decay factor, U0.16", k.decay_y1 as i64),
            reg(7, "param_decay_y2", 16, "y2 decay factor, U0.16", k.decay_y2 as i64),
            reg(8, "param_theta0", f.theta.width, "base threshold, threshold format", k.theta0),
            reg(
                9,
                "param_theta_step",
                f.theta.width,
                "adaptive threshold step, threshold format",
                k.theta_step,
            ),
            reg(
                10,
                "param_inhibition",
                f.v.width,
                "lateral inhibition per spike, membrane format (>= 0)",
                k.inhibition,
            ),
            reg(11, "param_refractory", 16, "refractory period, steps", k.refractory_steps as i64),
            reg(12, "param_w_min", f.w.width, "lower weight bound, weight format", k.w_min),
            reg(13, "param_w_max", f.w.width, "upper weight bound, weight format", k.w_max),
            reg(18, "param_inc_x1", f.x1.width, "x1 increment, x1 format", k.inc_x1),
            reg(19, "param_inc_x2", f.x2.width, "x2 increment, x2 format", k.inc_x2),
            reg(20, "param_inc_y1", f.y1.width, "y1 increment, y1 format", k.inc_y1),
            reg(21, "param_inc_y2", f.y2.width, "y2 increment, y2 format", k.inc_y2),
            reg(
                22,
                "param_scale_target",
                32,
                "scaling target T, spikes per period, 8 fraction bits",
                k.scale_target,
            ),
            reg(23, "param_scale_gain", 16, "scaling gain g = gain / T, U0.16", k.scale_gain),
            reg(
                24,
                "param_scale_period",
                32,
                "scaling period K, steps (scaling every K-th step)",
                h.scaling_period_steps as i64,
            ),
        ];
        if let Some(k) = net.cfg.plasticity.sweep_period_steps {
            regs.push(Reg {
                index: SWEEP_REG_INDEX,
                name: "param_sweep_period".into(),
                width: 32,
                what: "sweep period K, steps (the sweep of the `u` terms ends every K-th step, \
                       semantics 4.7)"
                    .into(),
                value: k as u64,
                built: true,
            });
        }
        if let Some(fr) = net.modulator_format() {
            regs.push(Reg {
                index: MOD_REG_INDEX,
                name: MOD_REG.into(),
                width: fr.width,
                what: format!(
                    "global modulator r of the next step, {} two's complement; the host writes it \
                     before each step (semantics 4.3)",
                    q(&fr)
                ),
                value: 0,
                built: true,
            });
        }
        for (t, (rule, by_reg)) in rules(net).into_iter().zip(param_regs(net)).enumerate() {
            let of = if t == 0 {
                String::new()
            } else {
                format!(", read by the update of `{}`", net.syn[t - 1].name)
            };
            regs.extend(rule.params.iter().zip(by_reg).map(|(p, (index, name))| Reg {
                index,
                name,
                width: AMP_BITS,
                what: format!("rule parameter `{}` ({}), amplitude format{of}", p.name, p.field),
                value: p.raw as u64,
                built: true,
            }));
        }
        regs.sort_by_key(|r| r.index);
        if let Some(r) = regs.iter().find(|r| r.index > 255) {
            return Err(unrealisable(
                "plasticity.params",
                format!(
                    "the rule has more parameters than the register map holds ({} would be \
                     register {}; at most {} rule parameters besides the presets' four): share \
                     parameters between terms or write fixed values as numbers",
                    r.name,
                    r.index,
                    256 - RULE_PARAM_BASE
                ),
            ));
        }
        let iw = bits_for(m.saturating_sub(1) as u64);
        let jw = bits_for(n.saturating_sub(1) as u64);
        Ok(Layout {
            inputs: m,
            neurons: n,
            input_index_bits: iw,
            neuron_index_bits: jw,
            weight_addr_bits: bits_for(m as u64 * n as u64 - 1),
            count_bits: bits_for(m.max(n) as u64),
            v_bits: f.v.width,
            weight_bits: f.w.width,
            theta_bits: f.theta.width,
            x1_bits: f.x1.width,
            x2_bits: wx2,
            y1_bits: f.y1.width,
            y2_bits: wy2,
            neuron_word,
            input_word,
            synapse_word,
            regs,
            x2,
            y2,
            plastic,
            synapse_bits: sw,
            sweep: net.cfg.plasticity.sweep_period_steps.is_some(),
            single_port: net.cfg.hardware.weight_memory
                == synforge_sim::config::WeightMemory::SinglePort,
        })
    }
}

impl Layout {
    /// How many per-synapse variables the synapse word holds (fields `syn0`, `syn1`).
    pub fn syn_count(&self) -> usize {
        self.synapse_word.fields.iter().filter(|f| SYN_FIELDS.contains(&f.name)).count()
    }

    /// The core's memories, declared once: the top, the controller, the generator's module
    /// list and the manifest read them here.
    pub fn memories(&self) -> Vec<Memory> {
        let mem =
            |name, width, depth, addr_bits, what| Memory { name, width, depth, addr_bits, what };
        vec![
            mem(
                "wram",
                self.synapse_bits,
                self.inputs * self.neurons,
                self.weight_addr_bits,
                "synapse words, address j * inputs + i",
            ),
            mem(
                "nram",
                self.neuron_word.width,
                self.neurons,
                self.neuron_index_bits,
                "neuron words",
            ),
            mem("xram", self.input_word.width, self.inputs, self.input_index_bits, "input words"),
            mem(
                "plist",
                self.input_index_bits,
                self.inputs,
                self.input_index_bits,
                "this step's input spikes, ascending",
            ),
            mem(
                "pflag",
                1,
                self.inputs,
                self.input_index_bits,
                "input spike events since the last step",
            ),
        ]
    }
}

/// The synapse word's fields of the per-synapse variables, by their order in
/// `plasticity.synapse` (by name).
pub const SYN_FIELDS: [&str; 2] = ["syn0", "syn1"];

/// The rules a plastic network runs: `dw`'s first, then the update of each per-synapse
/// variable, in name order.
pub fn rules(net: &Network) -> Vec<&Rule> {
    net.rule.iter().chain(net.syn.iter().map(|v| &v.update)).collect()
}

/// The registers of every rule's parameters, rule by rule as [`rules`] lists them: `(index,
/// Verilog name)` of each parameter in the rule's order. Numbered across the rules, so no two
/// share a register (config validation refuses a parameter read by two expressions).
pub fn param_regs(net: &Network) -> Vec<Vec<(u32, String)>> {
    let mut k = 0;
    rules(net)
        .into_iter()
        .map(|r| {
            r.params
                .iter()
                .map(|p| {
                    k += 1;
                    rule_param_reg(k - 1, &p.name)
                })
                .collect()
        })
        .collect()
}

/// The register of the sweep's period (built when some term has `u`).
pub const SWEEP_REG_INDEX: u32 = 26;
/// The status register of the steps into the sweep period (with the sweep; a saved state
/// writes it).
pub const SWEEP_PHASE_REG: u32 = 38;

/// The register of the global modulator `r` (built when the rule reads it).
pub const MOD_REG_INDEX: u32 = 25;
/// Its Verilog name.
pub const MOD_REG: &str = "param_mod_r";

/// The first register index of the rule parameters that have no register of their own from
/// before the rule language (the presets' amplitudes keep 14 to 17).
pub const RULE_PARAM_BASE: u32 = 64;

/// The register of the rule's parameter number `k` called `name`: `(index, Verilog name)`.
/// The presets' amplitudes keep the registers they had (14 `param_a2_plus` to 17
/// `param_a3_minus`); any other parameter `p` is `param_rule_p` at [`RULE_PARAM_BASE`] + k.
pub fn rule_param_reg(k: usize, name: &str) -> (u32, String) {
    match name {
        "a_plus" => (14, "param_a2_plus".into()),
        "a_minus" => (15, "param_a2_minus".into()),
        "a3_plus" => (16, "param_a3_plus".into()),
        "a3_minus" => (17, "param_a3_minus".into()),
        _ => (RULE_PARAM_BASE + k as u32, format!("param_rule_{name}")),
    }
}

/// Whether rounding `r` draws from an LFSR.
pub fn draws(r: Rounding) -> bool {
    r == Rounding::Stochastic
}
