//! Subscriber and network identities: PLMN, SUPI, SUCI (null scheme), 5G-GUTI.

mod guti;
mod plmn;
mod suci;
mod supi;

pub use guti::{AmfId, FiveGGuti, FiveGTmsi};
pub use plmn::Plmn;
pub use suci::{ProtectionScheme, RoutingIndicator, Suci};
pub use supi::{ServingNetworkName, Supi};
