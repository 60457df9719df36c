//! The UE's NAS side and AN parameters for one USIM.

use n3iwf::wire::an_params::{AnParameters, EstablishmentCause};

use crate::amf::node::{guami, plmn as ngap_plmn};
use crate::identity::{AmfId, Plmn};
use crate::nas::{Nssai, SNssai, UeSecurityCapability};
use crate::ue::{NwuUe, UeConfig, UeNas};
use crate::ue_sim::subscribers::UsimSpec;
use crate::values::Sqn;

/// The USIM's SQN_MS: below the emulated AMF's first vector (0x20 + 1).
const SQN_MS: u64 = 0x10;

fn ue_config(usim: &UsimSpec, plmn: Plmn) -> UeConfig {
    UeConfig {
        supi: usim.supi.clone(),
        k: usim.key(),
        opc: usim.opc(),
        sqn_ms: Sqn::new(SQN_MS).unwrap_or_else(|| Sqn::from_bytes([0; 6])),
        serving_plmn: plmn,
        // 5G-EA0, 128-5G-EA2 / 5G-IA2, as the emulated AMF selects.
        capability: UeSecurityCapability::new(0xA0, 0x20),
        requested_nssai: Some(Nssai(vec![SNssai::new(1, None)])),
    }
}

/// The EAP-5G peer with AN parameters naming the emulated AMF's GUAMI and the PLMN.
pub(super) fn nwu(usim: &UsimSpec, plmn: Plmn) -> NwuUe {
    let nas = UeNas::new(ue_config(usim, plmn));
    let an = AnParameters {
        guami: AmfId::new(0xca, 0x3fe, 0x01).map(|id| guami(plmn, id)),
        selected_plmn: Some(ngap_plmn(plmn)),
        establishment_cause: Some(EstablishmentCause::MO_SIGNALLING),
        ..AnParameters::default()
    };
    NwuUe::new(nas, an)
}
