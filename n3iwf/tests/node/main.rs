//! The N3IWF core alone, against NGAP messages built with the facade: AMF selection among
//! several AMFs and its changes, configuration checks, and inputs about things the core does
//! not know. Flows against the emulated AMF and UEs are in `fiveg-emu/tests/n3iwf`.

#![allow(clippy::unwrap_used)]

mod amf_selection;
mod config;
mod sessions;
mod ue_flows;
