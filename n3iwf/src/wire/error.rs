//! The one error type of the NWu wire formats.

use core::fmt;

/// Why octets were refused, or why a value cannot be written. Each names the field at fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireError {
    /// The input ends inside this field.
    Truncated(&'static str),
    /// A length field runs past its enclosing structure, or is not a length the field allows.
    BadLength(&'static str),
    /// Octets follow the end of this structure.
    TrailingData(&'static str),
    /// The field holds a value it cannot take.
    BadValue(&'static str),
    /// A parameter that may appear once appeared again.
    Duplicate(&'static str),
    /// The value is too long for its length field (on emit).
    TooLong(&'static str),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated(what) => write!(f, "truncated {what}"),
            Self::BadLength(what) => write!(f, "bad length of {what}"),
            Self::TrailingData(what) => write!(f, "octets after {what}"),
            Self::BadValue(what) => write!(f, "bad value of {what}"),
            Self::Duplicate(what) => write!(f, "repeated {what}"),
            Self::TooLong(what) => write!(f, "{what} too long for its length field"),
        }
    }
}

impl std::error::Error for WireError {}
