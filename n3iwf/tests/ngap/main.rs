//! NGAP facade tests: round trips, golden vectors, criticality handling, PDUs captured from real
//! AMFs, and (when its virtual environment exists) pycrate as an independent decoder of every
//! PDU we build.
#![allow(clippy::unwrap_used)]

mod captured;
mod criticality;
mod layouts;
mod pycrate;
mod round_trip;
mod samples;
mod transfers;
mod vectors;
