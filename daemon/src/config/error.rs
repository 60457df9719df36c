//! Configuration errors that name the file, the line and the field.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One problem in a configuration file: `FILE:LINE: FIELD: MESSAGE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based; `None` when the problem is not tied to a place in the file (e.g. unreadable).
    pub line: Option<usize>,
    /// Dotted path such as `connections.site-b.proposals`; empty for syntax errors.
    pub field: String,
    pub message: String,
}

/// Every problem found in one file, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigError {
    pub(crate) fn at(
        file: &Path,
        text: &str,
        span: &Range<usize>,
        field: &str,
        message: String,
    ) -> Self {
        Self {
            file: file.to_path_buf(),
            line: Some(line_of(text, span.start)),
            field: field.into(),
            message,
        }
    }

    /// Maps a TOML syntax or type error, finding the field from its span.
    pub(crate) fn from_toml(file: &Path, text: &str, err: &toml::de::Error) -> Self {
        let message = err.message().trim_end().replace('\n', " ");
        let Some(span) = err.span() else {
            return Self {
                file: file.to_path_buf(),
                line: None,
                field: String::new(),
                message,
            };
        };
        let field = match DeTable::parse(text) {
            Ok(doc) => field_at(doc.get_ref(), span.start).join("."),
            Err(_) => String::new(),
        };
        Self::at(file, text, &span, &field, message)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl From<ConfigError> for ConfigErrors {
    fn from(e: ConfigError) -> Self {
        Self(vec![e])
    }
}

/// 1-based line number of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// The deepest key path whose key or value covers `offset`. Tables opened by a `[header]` only
/// span their header, so every table is searched whatever its span.
fn field_at(table: &DeTable<'_>, offset: usize) -> Vec<String> {
    for (key, value) in table {
        let sub = match value.get_ref() {
            DeValue::Table(t) => field_at(t, offset),
            DeValue::Array(a) => a.iter().find_map(|v| nested(v, offset)).unwrap_or_default(),
            _ => Vec::new(),
        };
        if !sub.is_empty() || covers(key.span(), offset) || covers(value.span(), offset) {
            let mut path = vec![key.get_ref().to_string()];
            path.extend(sub);
            return path;
        }
    }
    Vec::new()
}

fn nested(v: &Spanned<DeValue<'_>>, offset: usize) -> Option<Vec<String>> {
    match v.get_ref() {
        DeValue::Table(t) => Some(field_at(t, offset)).filter(|p| !p.is_empty()),
        _ => None,
    }
}

fn covers(span: Range<usize>, offset: usize) -> bool {
    span.start <= offset && offset < span.end.max(span.start + 1)
}
