//! Emulated 5G core and UE, for tests of the N3IWF. No AMF with N3IWF support can run on the
//! machines this project is tested on, so the tests use these emulators. The daemon never links
//! this crate.
//!
//! - [`crypto`]: MILENAGE (TS 35.206), the 3GPP KDF (TS 33.220 Annex B.2) and PRF'
//!   (RFC 5448), 128-NIA2/NEA2 (TS 33.501 Annex D.3);
//! - [`keys`]: the 5G-AKA key chain (TS 33.501 Annex A) and EAP-AKA' keys;
//! - [`identity`]: PLMN, SUPI, SUCI (null scheme), 5G-GUTI, serving network name;
//! - [`security`]: NAS COUNT and algorithm identities;
//! - [`amf`]: the AMF's NAS side per UE ([`amf::AmfNas`]) and the AMF on N2
//!   ([`amf::AmfNode`]), speaking NGAP through `n3iwf::ngap`, with fault injection;
//! - [`amf_sim`]: the emulated AMF on a real N2 transport (SCTP: usrsctp or the kernel's),
//!   one `AmfNode` per association; the `amf-sim` binary runs it;
//! - [`ue`]: the UE's NAS side ([`ue::UeNas`]) and its NWu side above IKEv2 ([`ue::NwuUe`]):
//!   the EAP-5G peer and NAS over TCP;
//! - [`ue_sim`]: emulated UEs on real UDP sockets towards an N3IWF, run by the `ue-sim`
//!   binary: registration with phase timings, one UE or many;
//! - [`upf`]: the UPF's N3 side, sans-IO (session rules, GTP-U, Echo, Error Indication) with
//!   an N6 reflector;
//! - [`upf_sim`]: the UPF emulator on a real N3 socket with N6 reflected or on a TUN device,
//!   and a control socket for an SMF emulator; the `upf-sim` binary runs it.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod aka;
pub mod amf;
pub mod amf_sim;
pub mod crypto;
pub mod identity;
pub mod inner;
pub mod keys;
pub mod nas;
pub mod secret;
pub mod security;
pub mod ue;
pub mod ue_sim;
pub mod upf;
pub mod upf_sim;
pub mod values;
