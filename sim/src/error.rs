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
    /// A file is not UTF-8 text.
    #[error("{path}: {message}")]
    Encoding {
        /// The file.
        path: String,
        /// What it is instead and how to fix it.
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

/// Read a text file of at most `limit` bytes: UTF-8, with or without a byte-order mark (which
/// is dropped). UTF-16, other encodings and longer files (`/dev/zero`) are refused with the fix.
pub fn read_text(path: &std::path::Path, limit: u64) -> Result<String> {
    use std::io::Read;
    let io = |source| Error::Io { path: path.to_path_buf(), source };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
        .map_err(io)?;
    let encoding = |message: String| Error::Encoding { path: path.display().to_string(), message };
    if bytes.len() as u64 > limit {
        return Err(encoding(format!(
            "is longer than the {} MiB synforge reads from such a file; give a smaller one",
            limit >> 20
        )));
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(encoding(
            "is UTF-16 text; save it as UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8`)".into(),
        ));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        encoding(format!(
            "is not UTF-8 text (byte {} is invalid); save it as UTF-8",
            e.utf8_error().valid_up_to()
        ))
    })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// The longest config file synforge reads.
pub const MAX_CONFIG_BYTES: u64 = 16 << 20;
/// The longest stimulus or weights CSV synforge reads.
pub const MAX_CSV_BYTES: u64 = 1 << 30;

/// Result with the crate's error.
pub type Result<T> = std::result::Result<T, Error>;
