//! The benchmark report: raw results to JSON ([`collect`]), JSON to markdown and SVG
//! ([`render`], [`svg`]).

pub mod collect;
pub mod flood;
pub mod render;
pub mod svg;
