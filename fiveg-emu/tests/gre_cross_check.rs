//! Two GRE codecs written apart agree: the UE emulator's (`inner::gre`) and the `userplane`
//! crate's that the N3IWF's datapath uses. Each decodes what the other writes, for every QFI,
//! both RQI values, both Protocol Type choices and both IP versions.

#![allow(clippy::unwrap_used)]

use fiveg_emu::inner::gre::{self as emu, GreKey as EmuKey, ProtocolType};
use userplane::{GreChecksum, GreHeader, GreKey, GreProtocolType, IpVersion, Qfi};

const PAYLOADS: [&[u8]; 2] = [&[0x45, 0, 0, 20, 1, 2, 3], &[0x60, 0, 0, 0, 9]];

#[test]
fn each_decodes_what_the_other_writes() {
    for qfi in 0..=63u8 {
        for rqi in [false, true] {
            for payload in PAYLOADS {
                check_emulator_to_userplane(qfi, rqi, payload);
                check_userplane_to_emulator(qfi, rqi, payload);
            }
        }
    }
}

fn check_emulator_to_userplane(qfi: u8, rqi: bool, payload: &[u8]) {
    let key = EmuKey {
        qfi: emu::Qfi::new(qfi).unwrap(),
        rqi,
    };
    for protocol in [ProtocolType::EtherType, ProtocolType::Zero] {
        let mut packet = Vec::new();
        emu::encapsulate(key, protocol, payload, &mut packet);
        let header = GreHeader::parse(&packet, GreChecksum::Verify).unwrap();
        assert_eq!(header.key, Some(GreKey::new(Qfi::new(qfi).unwrap(), rqi)));
        assert_eq!(&packet[header.payload], payload);
    }
}

fn check_userplane_to_emulator(qfi: u8, rqi: bool, payload: &[u8]) {
    let key = GreKey::new(Qfi::new(qfi).unwrap(), rqi);
    let version = IpVersion::of_packet(payload).unwrap();
    for protocol in [GreProtocolType::InnerEtherType, GreProtocolType::Zero] {
        let mut packet = vec![0u8; 8];
        userplane::write_gre_header(&mut packet, key, version, protocol).unwrap();
        packet.extend_from_slice(payload);
        let (decoded, inner) = emu::decapsulate(&packet).unwrap();
        assert_eq!((decoded.qfi.value(), decoded.rqi), (qfi, rqi));
        assert_eq!(inner, payload);
    }
}
