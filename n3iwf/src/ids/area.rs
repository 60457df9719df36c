//! Tracking areas (TS 23.003 §19.4.2.3).

use super::Plmn;

/// Tracking Area Code (3 octets in 5GS).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tac(pub [u8; 3]);

/// Tracking Area Identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tai {
    pub plmn: Plmn,
    pub tac: Tac,
}
