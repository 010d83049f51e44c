//! The core's cycle model: how many clock cycles a timestep takes and in which cycle each
//! output spike leaves, as a formula of the step's events. The co-simulation checks every
//! step against it; `docs/rtl.md` states the same formula.
//!
//! Cycle 0 is the cycle in which `step` is high at the core's input. Phases, in order:
//!
//! | phase | cycles |
//! |---|---|
//! | pre-trace decay and input scan | `M + 2` |
//! | per neuron: read, register, decay | `3` |
//! | per neuron: synaptic input | `A(P)`, `A(n) = n + 3` for `n > 0`, `A(0) = 1` |
//! | per neuron: inhibition, then threshold | `2` |
//! | per neuron: plasticity (rule not off) | `R(M)` if it spiked, else `R(P)`, with `R(n) = n + 4` (single-port weight RAM: `2n + 3`) for `n > 0`, `R(0) = 1` |
//! | per neuron: write-back | `1` |
//! | pre-trace increments | `L(P)` |
//! | bookkeeping | `1` |
//! | synaptic scaling (scaling steps only) | `N * (M + 4)` (single-port: `N * (2M + 3)`) |
//! | the sweep (sweep steps only) | `N * (M + 7)` (single-port: `N * (2M + 6)`): per neuron a read, a load, `R(M)`, a write-back |
//! | done | `1` |
//!
//! with `M` inputs, `N` neurons, `P` this step's distinct input spikes, and `L(n) = n + 2` for
//! `n > 0` (a two-read pipeline, one synapse per clock), `L(0) = 1`; `A` and `R` add the
//! registered stages of the synaptic-input and plasticity loops (see [`acc`], [`plast`]).
//! `done` is high in the cycle after the last phase. Neuron `j`'s spike leaves (`out_valid`
//! high) in the cycle after its threshold cycle (`N_FIRE`, after `N_INH`). All of this assumes
//! `out_ready` stays high; when it is low, the core waits and cycles only grow.

/// The cycle cost of a step as one line: what the manifest states and `docs/rtl.md` §4 shows
/// (a test holds both, and [`step`], to it).
pub const FORMULA: &str = "cycles(step) = 1 + (M + 2) + sum_j [6 + A(|P|) + (plastic ? R(spiked_j ? M : |P|) : 0)] + L(|P|) + 1 + (scaling step ? N * (M + 4) : 0) + (sweep step ? N * (M + 7) : 0) + 1, with L(0) = A(0) = R(0) = 1, L(n) = n + 2, A(n) = n + 3, R(n) = n + 4; with a single-port weight RAM R(n) = 2n + 3 scaling N * (2M + 3) and the sweep N * (2M + 6); `done` is high in that cycle (cycle 0 has the step strobe); neuron j's spike leaves in the cycle after its threshold cycle";

/// Cycles of a loop over `n` items through two chained memory reads.
pub fn pipe(n: u64) -> u64 {
    if n == 0 {
        1
    } else {
        n + 2
    }
}

/// Cycles of the synaptic-input loop over `n` synapses: two chained reads, the weight
/// registered, then added.
pub fn acc(n: u64) -> u64 {
    if n == 0 {
        1
    } else {
        n + 3
    }
}

/// What a step costs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepCycles {
    /// The cycle in which `done` is high.
    pub done: u64,
    /// `(neuron, cycle)` of each output spike, ascending neuron.
    pub spikes: Vec<(u32, u64)>,
}

/// The shape of the core, as the cycle model needs it.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Inputs `M`.
    pub inputs: u64,
    /// Neurons `N`.
    pub neurons: u64,
    /// Plasticity on.
    pub plastic: bool,
    /// Single-port weight RAM: a read-modify-write takes two clocks.
    pub single_port: bool,
}

impl Shape {
    /// The shape of `net`'s core.
    pub fn of(net: &synforge_sim::Network) -> Self {
        Shape {
            inputs: net.cfg.network.inputs as u64,
            neurons: net.cfg.network.neurons as u64,
            plastic: net.plastic(),
            single_port: net.cfg.hardware.weight_memory
                == synforge_sim::config::WeightMemory::SinglePort,
        }
    }
}

/// Cycles of the plasticity loop over `n` synapses: two chained reads, then the update's
/// products and rounding (with its draw); the clamp and the write of the last two synapses
/// finish during the write-back and the next neuron's read. `n + 4` on a dual-port weight RAM
/// and `2n + 3` on a single-port one (`1` for none).
pub fn plast(n: u64, single_port: bool) -> u64 {
    match (n, single_port) {
        (0, _) => 1,
        (n, true) => 2 * n + 3,
        (n, false) => n + 4,
    }
}

/// Cycles of one step with `pre` distinct input spikes, output spikes `fired` (ascending),
/// and whether it is a scaling step.
pub fn step(shape: Shape, pre: u64, fired: &[u32], scaling_step: bool) -> StepCycles {
    step_with_sweep(shape, pre, fired, scaling_step, false)
}

/// [`step`] on a step that may also end with the sweep (semantics §4.7).
pub fn step_with_sweep(
    shape: Shape,
    pre: u64,
    fired: &[u32],
    scaling_step: bool,
    sweep_step: bool,
) -> StepCycles {
    let (m, n) = (shape.inputs, shape.neurons);
    let mut c = 1 + (m + 2);
    let mut spikes = Vec::with_capacity(fired.len());
    let mut next = fired.iter().peekable();
    for j in 0..n as u32 {
        let spiked = next.peek() == Some(&&j);
        if spiked {
            next.next();
        }
        let fire_cycle = c + 4 + acc(pre);
        if spiked {
            spikes.push((j, fire_cycle + 1));
        }
        c = fire_cycle + 1;
        if shape.plastic {
            c += plast(if spiked { m } else { pre }, shape.single_port);
        }
        c += 1;
    }
    c += pipe(pre) + 1;
    if scaling_step {
        c += n * if shape.single_port { 2 * m + 3 } else { m + 4 };
    }
    if sweep_step {
        c += n * (2 + plast(m, shape.single_port) + 1);
    }
    StepCycles { done: c + 1, spikes }
}

/// Synaptic updates of the step (one per synapse the plasticity phase visits).
pub fn synapse_updates(shape: Shape, pre: u64, fired: u64) -> u64 {
    if !shape.plastic {
        return 0;
    }
    fired * shape.inputs + (shape.neurons - fired) * pre
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`FORMULA`] read term by term, for every small shape and event count: what [`step`]
    /// computes phase by phase.
    #[test]
    fn the_formula_as_written_is_what_step_computes() {
        let l = |n: u64| if n == 0 { 1 } else { n + 2 };
        let a = |n: u64| if n == 0 { 1 } else { n + 3 };
        let r = |n: u64, sp: bool| match (n, sp) {
            (0, _) => 1,
            (n, true) => 2 * n + 3,
            (n, false) => n + 4,
        };
        for (m, n) in [(1u64, 1u64), (3, 2), (8, 5), (17, 4)] {
            for plastic in [false, true] {
                for single_port in [false, true] {
                    let shape = Shape { inputs: m, neurons: n, plastic, single_port };
                    for p in [0, 1, m] {
                        for mask in 0..1u32 << n {
                            let fired: Vec<u32> =
                                (0..n as u32).filter(|j| mask >> j & 1 == 1).collect();
                            for scaling in [false, true] {
                                let sum_j: u64 = (0..n as u32)
                                    .map(|j| {
                                        let spiked = fired.contains(&j);
                                        6 + a(p)
                                            + if plastic {
                                                r(if spiked { m } else { p }, single_port)
                                            } else {
                                                0
                                            }
                                    })
                                    .sum();
                                let sc = if !scaling {
                                    0
                                } else if single_port {
                                    n * (2 * m + 3)
                                } else {
                                    n * (m + 4)
                                };
                                let d = 1 + (m + 2) + sum_j + l(p) + 1 + sc + 1;
                                assert_eq!(step(shape, p, &fired, scaling).done, d, "{FORMULA}");
                            }
                        }
                    }
                }
            }
        }
    }
}
