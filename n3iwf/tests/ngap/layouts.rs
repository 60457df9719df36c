//! The AN parameters carry PLMNs in the NAS layout and NGAP in its own; AMF selection compares
//! them as values, so a 3-digit MNC matches (free5GC's N3IWF copies the octets instead).

use n3iwf::ids::{AmfPointer, AmfRegionId, AmfSetId, Guami, Plmn};
use n3iwf::ngap::{InitialUeMessage, NgapMessage, RanUeNgapId, RrcEstablishmentCause};
use n3iwf::wire::an_params::AnParameters;

use crate::{samples, vectors};

/// GUAMI 310-410, region 0xca, set 0x3f8, pointer 1; selected PLMN 310-410; cause MO data.
const AN_PARAMETERS: [u8; 16] = [
    0x01, 0x06, 0x13, 0x00, 0x14, 0xca, 0xfe, 0x01, // GUAMI, PLMN in the NAS layout
    0x02, 0x03, 0x13, 0x00, 0x14, // selected PLMN ID, NAS layout
    0x04, 0x01, 0x04, // establishment cause
];

#[test]
fn an_parameter_guami_matches_the_served_guami_of_ng_setup_response() {
    let params = AnParameters::parse(&AN_PARAMETERS).unwrap();
    let NgapMessage::NgSetupResponse(response) =
        NgapMessage::decode(&vectors::vector("ng_setup_response"))
            .unwrap()
            .message
    else {
        panic!("not an NG SETUP RESPONSE");
    };
    let expected = Guami {
        plmn: Plmn::new("310", "410").unwrap(),
        region: AmfRegionId(0xca),
        set: AmfSetId::new(0x3f8).unwrap(),
        pointer: AmfPointer::new(1).unwrap(),
    };
    assert_eq!(params.guami, Some(expected));
    assert_eq!(response.served_guamis[0].guami, expected);
}

#[test]
fn an_parameters_fill_initial_ue_message_in_the_ngap_layout() {
    let params = AnParameters::parse(&AN_PARAMETERS).unwrap();
    let message = NgapMessage::from(InitialUeMessage {
        ran_ue_ngap_id: RanUeNgapId(7),
        nas_pdu: samples::REGISTRATION_REQUEST.to_vec(),
        location: samples::location(),
        rrc_establishment_cause: RrcEstablishmentCause::from(params.establishment_cause.unwrap()),
        five_g_s_tmsi: None,
        amf_set_id: None,
        ue_context_requested: true,
        allowed_nssai: None,
        selected_plmn: params.selected_plmn,
    });
    let octets = message.encode().unwrap();
    // The Selected PLMN Identity IE (id 174) closes the message: the NGAP layout of 310-410.
    assert!(
        octets.ends_with(&[0x00, 0xae, 0x40, 0x03, 0x13, 0x40, 0x01]),
        "{}",
        hex::encode(&octets)
    );
    assert!(
        !octets.windows(3).any(|w| w == [0x13, 0x00, 0x14]),
        "NAS-layout PLMN leaked"
    );
}
