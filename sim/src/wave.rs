//! VCD waveforms of chosen neurons, one sample per timestep.
//!
//! Names are the ones the RTL uses (`state_v_mem`, `state_theta`, `state_trace_y1`,
//! `state_trace_y2`, `state_refrac`, `event_spike`) under a scope `neuron_<j>`, so a model
//! waveform and a Verilator waveform lie side by side. The fixed model writes raw two's
//! complement words of the quantity's width; the float model writes `real` variables.
//! Time unit: 1 us; a sample at `t * dt`.

use std::io::{self, Write};

use vcd::{IdCode, TimescaleUnit, Value, VarType};

use crate::config::Network;
use crate::model::Model;
use crate::run::Observer;

struct Ids {
    j: usize,
    v: IdCode,
    theta: IdCode,
    y1: IdCode,
    y2: IdCode,
    refrac: IdCode,
    spike: IdCode,
}

/// Writes a VCD as the model steps.
pub struct VcdObserver<W: Write> {
    w: vcd::Writer<W>,
    ids: Vec<Ids>,
    step_id: IdCode,
    widths: [u32; 4],
    fixed: bool,
    dt_us: f64,
    error: Option<io::Error>,
}

fn bits(raw: i64, width: u32) -> impl Iterator<Item = Value> {
    (0..width).rev().map(move |b| if (raw >> b) & 1 == 1 { Value::V1 } else { Value::V0 })
}

impl<W: Write> VcdObserver<W> {
    /// Start a VCD for `neurons` of `net`; `fixed` selects raw vectors over reals.
    pub fn new(out: W, net: &Network, neurons: &[usize], fixed: bool) -> io::Result<Self> {
        let mut w = vcd::Writer::new(out);
        w.comment(&format!(
            "synforge {} model of network `{}`",
            if fixed { "fixed" } else { "float" },
            net.cfg.network.name
        ))?;
        w.timescale(1, TimescaleUnit::US)?;
        w.add_module("synforge")?;
        let step_id = w.add_var(VarType::Integer, 32, "step", None)?;
        let f = &net.fmt;
        let widths = [f.v.width, f.theta.width, f.y1.width, f.y2.width];
        let ty = if fixed { VarType::Wire } else { VarType::Real };
        let mut ids = Vec::new();
        for &j in neurons {
            w.add_module(&format!("neuron_{j}"))?;
            let wd = |k: usize| if fixed { widths[k] } else { 64 };
            ids.push(Ids {
                j,
                v: w.add_var(ty, wd(0), "state_v_mem", None)?,
                theta: w.add_var(ty, wd(1), "state_theta", None)?,
                y1: w.add_var(ty, wd(2), "state_trace_y1", None)?,
                y2: w.add_var(ty, wd(3), "state_trace_y2", None)?,
                refrac: w.add_var(VarType::Wire, 16, "state_refrac", None)?,
                spike: w.add_wire(1, "event_spike")?,
            });
            w.upscope()?;
        }
        w.upscope()?;
        w.enddefinitions()?;
        Ok(VcdObserver {
            w,
            ids,
            step_id,
            widths,
            fixed,
            dt_us: net.cfg.network.dt_ms * 1000.0,
            error: None,
        })
    }

    fn sample(&mut self, t: u32, model: &dyn Model) -> io::Result<()> {
        self.w.timestamp((t as f64 * self.dt_us).round() as u64)?;
        self.w.change_vector(self.step_id, bits(t as i64, 32))?;
        for id in &self.ids {
            let p = model.probe(id.j);
            match (self.fixed, p.raw) {
                (true, Some(raw)) => {
                    for (k, code) in [id.v, id.theta, id.y1, id.y2].into_iter().enumerate() {
                        self.w.change_vector(code, bits(raw[k], self.widths[k]))?;
                    }
                }
                _ => {
                    self.w.change_real(id.v, p.v_mem)?;
                    self.w.change_real(id.theta, p.theta)?;
                    self.w.change_real(id.y1, p.trace_y1)?;
                    self.w.change_real(id.y2, p.trace_y2)?;
                }
            }
            self.w.change_vector(id.refrac, bits(p.refrac as i64, 16))?;
            self.w.change_scalar(id.spike, if p.spike { Value::V1 } else { Value::V0 })?;
        }
        Ok(())
    }

    /// Flush, or return the first error met while writing.
    pub fn finish(mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.w.flush()
    }
}

impl<W: Write> Observer for VcdObserver<W> {
    fn after_step(&mut self, t: u32, model: &dyn Model, _: &[u32]) {
        if self.error.is_none() {
            if let Err(e) = self.sample(t, model) {
                self.error = Some(e);
            }
        }
    }
}
