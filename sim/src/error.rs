//! Errors a user can act on: each names the field or line at fault and how to fix it.

use std::path::PathBuf;

/// Everything that can go wrong loading a network or a stimulus.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The TOML did not parse or had an unknown field / wrong type.
    #[error("{path}: {message}")]
    Parse {
        /// File the TOML came from (or `<built-in>`).
        path: String,
        /// The parser's message, which names the key and line.
        message: String,
    },
    /// A field parsed but its value is not acceptable.
    #[error("config field `{field}`: {message}")]
    Field {
        /// Dotted path of the field, e.g. `neuron.threshold`.
        field: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A stimulus file line is malformed or out of range.
    #[error("{path}:{line}: {message}")]
    Stimulus {
        /// The stimulus file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A line of an initial-weights file is malformed or out of range.
    #[error("{path}:{line}: {message}")]
    Weights {
        /// The weights file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A stimulus file is unusable as a whole.
    #[error("{path}: {message}")]
    StimulusFile {
        /// The stimulus file.
        path: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// Reading a file failed.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

impl Error {
    /// A field error.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Field { field: field.into(), message: message.into() }
    }
}

/// Result with the crate's error.
pub type Result<T> = std::result::Result<T, Error>;
