//! synforge models: one semantics contract (`docs/semantics.md`), two implementations.
//!
//! - [`model::FixedModel`]: the bit-accurate model. Integers only; what the RTL is checked
//!   against, bit for bit and cycle for cycle.
//! - [`model::FloatModel`]: the f64 reference with exact exponentials; the gap between the
//!   two is measured by [`compare`].
//!
//! ```
//! use synforge_sim::{config::Config, model::{self, ModelKind}, run};
//! let net = Config::builtin_default().build().unwrap();
//! let stim = net.cfg.stimulus.generate(&net.cfg).unwrap();
//! let mut m = model::build(&net, ModelKind::Fixed);
//! let rec = run::run(m.as_mut(), &stim, &mut run::NoObserver);
//! assert_eq!(rec.steps, stim.steps());
//! ```
#![deny(missing_docs)]

pub mod compare;
pub mod config;
pub mod error;
pub mod format;
pub mod lfsr;
pub mod model;
pub mod neuron;
pub mod pattern;
pub mod plasticity;
pub mod run;
pub mod state;
pub mod stimulus;
pub mod task;
pub mod trace;
pub mod wave;

pub use config::{Config, Network};
pub use error::{Error, Result};
pub use stimulus::Stimulus;
