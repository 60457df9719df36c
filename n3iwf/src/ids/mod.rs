//! 3GPP identities shared by the NWu wire formats and the NGAP facade.

mod area;
mod guami;
mod plmn;
mod session;
mod slice;
mod teid;

pub use area::{Tac, Tai};
pub use guami::{AmfPointer, AmfRegionId, AmfSetId, Guami};
pub use plmn::{MncDigits, Plmn};
pub use session::{FiveQi, PduSessionId, Qfi};
pub use slice::{Sd, Snssai, Sst};
pub use teid::Teid;
