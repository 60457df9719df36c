//! AN parameters of EAP-Response/5G-NAS (TS 24.502 §9.3.2.2.2): what the N3IWF needs to pick
//! an AMF and to fill INITIAL UE MESSAGE.
//!
//! The field is a sequence of `Type (1) | Length (1) | Value`. Each value is the value part of
//! the IE it names, without an IEI:
//!
//! | type | parameter | value |
//! | --- | --- | --- |
//! | 1 | GUAMI | 6 octets, TS 24.502 §9.2.1 (PLMN in NAS layout) |
//! | 2 | selected PLMN ID | 3 octets, NAS layout |
//! | 3 | requested NSSAI | S-NSSAIs, each `Length (1) | contents` (TS 24.501 §9.11.2.8) |
//! | 4 | establishment cause | 1 octet, the cause in bits 4..1 |
//! | 5 | selected NID | value part of the NID IE (SNPN access) |
//! | 6 | UE identity | value part of the 5GS mobile identity |
//!
//! Unknown types are skipped by their length. A length that runs past the field is refused
//! (free5GC's N3IWF crashed on an oversized length and on a zero-length parameter), as is a
//! known parameter of the wrong length or one that appears twice.

use crate::ids::{Guami, Plmn, Sd, Snssai, Sst};

use super::WireError;
use super::reader::{Reader, put_lv8};
use crate::macros::open_enum;

open_enum! {
    /// AN-parameter type (TS 24.502 Table 9.3.2.2.2-2).
    AnParameterType(u8) {
        GUAMI = 1,
        SELECTED_PLMN_ID = 2,
        REQUESTED_NSSAI = 3,
        ESTABLISHMENT_CAUSE = 4,
        SELECTED_NID = 5,
        UE_IDENTITY = 6,
    }
}

open_enum! {
    /// Establishment cause for non-3GPP access (TS 24.502 Table 9.3.2.2.2-2). The values line
    /// up with the NGAP RRCEstablishmentCause indexes of the same names.
    EstablishmentCause(u8) {
        EMERGENCY = 0,
        HIGH_PRIORITY_ACCESS = 1,
        MO_SIGNALLING = 3,
        MO_DATA = 4,
        MPS_PRIORITY_ACCESS = 8,
        MCS_PRIORITY_ACCESS = 9,
    }
}

/// One S-NSSAI of the requested NSSAI, with the HPLMN S-NSSAI it maps to when roaming.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RequestedSnssai {
    pub snssai: Snssai,
    pub mapped_hplmn: Option<Snssai>,
}

/// An AN parameter of a type this release does not know, kept as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownAnParameter {
    pub parameter_type: AnParameterType,
    pub value: Vec<u8>,
}

/// The AN parameters of one EAP-Response/5G-NAS. Empty means the field was absent (length 0).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AnParameters {
    pub guami: Option<Guami>,
    pub selected_plmn: Option<Plmn>,
    pub requested_nssai: Option<Vec<RequestedSnssai>>,
    pub establishment_cause: Option<EstablishmentCause>,
    /// Value part of the NID IE (TS 24.501 §9.11.3.79), not interpreted here.
    pub selected_nid: Option<Vec<u8>>,
    /// Value part of the 5GS mobile identity IE (TS 24.501 §9.11.3.4), not interpreted here.
    pub ue_identity: Option<Vec<u8>>,
    /// Parameters of unknown types, in the order received.
    pub unknown: Vec<UnknownAnParameter>,
}

impl AnParameters {
    /// Parses the AN-parameters field (without its 2-octet length).
    ///
    /// # Errors
    /// [`WireError::BadLength`] for a parameter length past the field or a wrong length for
    /// its type, [`WireError::Truncated`] for a parameter header cut short,
    /// [`WireError::Duplicate`] for a known parameter seen twice, and [`WireError::BadValue`]
    /// for a PLMN with non-decimal digits.
    pub fn parse(field: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(field);
        let mut params = Self::default();
        while !r.is_empty() {
            let parameter_type = AnParameterType(r.u8("AN-parameter type")?);
            let value = r.sub_u8("AN-parameter length")?.rest();
            params.insert(parameter_type, value)?;
        }
        Ok(params)
    }

    /// True when no parameter is present (the field is then sent with length 0).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Appends the field (without its 2-octet length): known parameters in type order, then the
    /// unknown ones as given.
    ///
    /// # Errors
    /// [`WireError::TooLong`] for a value over 255 octets, [`WireError::BadValue`] for an
    /// S-NSSAI that the LV form cannot carry (a mapped SD without an SD).
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        if let Some(guami) = self.guami {
            put_parameter(out, AnParameterType::GUAMI, &guami.to_nas())?;
        }
        if let Some(plmn) = self.selected_plmn {
            put_parameter(out, AnParameterType::SELECTED_PLMN_ID, &plmn.to_nas())?;
        }
        if let Some(nssai) = &self.requested_nssai {
            put_parameter(out, AnParameterType::REQUESTED_NSSAI, &nssai_value(nssai)?)?;
        }
        if let Some(cause) = self.establishment_cause {
            put_parameter(out, AnParameterType::ESTABLISHMENT_CAUSE, &[cause.0])?;
        }
        if let Some(nid) = &self.selected_nid {
            put_parameter(out, AnParameterType::SELECTED_NID, nid)?;
        }
        if let Some(identity) = &self.ue_identity {
            put_parameter(out, AnParameterType::UE_IDENTITY, identity)?;
        }
        for unknown in &self.unknown {
            put_parameter(out, unknown.parameter_type, &unknown.value)?;
        }
        Ok(())
    }

    /// The field as a new buffer.
    ///
    /// # Errors
    /// As [`AnParameters::emit`].
    pub fn to_bytes(&self) -> Result<Vec<u8>, WireError> {
        let mut out = Vec::new();
        self.emit(&mut out)?;
        Ok(out)
    }

    fn insert(&mut self, parameter_type: AnParameterType, value: &[u8]) -> Result<(), WireError> {
        const PLMN: &str = "selected PLMN ID";
        const CAUSE: &str = "establishment cause";
        match parameter_type {
            AnParameterType::GUAMI => {
                let guami = Guami::from_nas(fixed(value, "GUAMI")?)?;
                set_once(&mut self.guami, guami, "GUAMI")
            }
            AnParameterType::SELECTED_PLMN_ID => {
                let plmn = Plmn::from_nas(fixed(value, PLMN)?)?;
                set_once(&mut self.selected_plmn, plmn, PLMN)
            }
            AnParameterType::REQUESTED_NSSAI => set_once(
                &mut self.requested_nssai,
                parse_nssai(value)?,
                "requested NSSAI",
            ),
            AnParameterType::ESTABLISHMENT_CAUSE => {
                // Bits 8..5 are spare: ignored on receipt (TS 24.502 §9.3.2.1).
                let [octet] = fixed(value, CAUSE)?;
                set_once(
                    &mut self.establishment_cause,
                    EstablishmentCause(octet & 0x0f),
                    CAUSE,
                )
            }
            AnParameterType::SELECTED_NID => set_once(
                &mut self.selected_nid,
                non_empty(value, "selected NID")?,
                "selected NID",
            ),
            AnParameterType::UE_IDENTITY => set_once(
                &mut self.ue_identity,
                non_empty(value, "UE identity")?,
                "UE identity",
            ),
            parameter_type => {
                let value = value.to_vec();
                self.unknown.push(UnknownAnParameter {
                    parameter_type,
                    value,
                });
                Ok(())
            }
        }
    }
}

/// A value of exactly `N` octets.
fn fixed<const N: usize>(value: &[u8], what: &'static str) -> Result<[u8; N], WireError> {
    value.try_into().map_err(|_| WireError::BadLength(what))
}

fn set_once<T>(slot: &mut Option<T>, value: T, what: &'static str) -> Result<(), WireError> {
    match slot {
        Some(_) => Err(WireError::Duplicate(what)),
        None => {
            *slot = Some(value);
            Ok(())
        }
    }
}

fn non_empty(value: &[u8], what: &'static str) -> Result<Vec<u8>, WireError> {
    match value {
        [] => Err(WireError::BadLength(what)),
        value => Ok(value.to_vec()),
    }
}

fn put_parameter(
    out: &mut Vec<u8>,
    parameter_type: AnParameterType,
    value: &[u8],
) -> Result<(), WireError> {
    out.push(parameter_type.0);
    put_lv8(out, value, "AN-parameter value")
}

/// The NSSAI value part: one or more S-NSSAIs in LV form (TS 24.501 §9.11.3.37).
fn parse_nssai(value: &[u8]) -> Result<Vec<RequestedSnssai>, WireError> {
    let mut r = Reader::new(value);
    let mut nssai = Vec::new();
    while !r.is_empty() {
        nssai.push(parse_snssai(r.sub_u8("S-NSSAI length")?.rest())?);
    }
    match nssai.is_empty() {
        true => Err(WireError::BadLength("requested NSSAI")),
        false => Ok(nssai),
    }
}

/// S-NSSAI contents by length (TS 24.501 §9.11.2.8): 1 SST; 2 SST, mapped SST; 4 SST, SD;
/// 5 SST, SD, mapped SST; 8 SST, SD, mapped SST, mapped SD.
fn parse_snssai(contents: &[u8]) -> Result<RequestedSnssai, WireError> {
    let sst = |b: u8| Snssai {
        sst: Sst(b),
        sd: None,
    };
    let with_sd = |b: u8, sd: &[u8]| Snssai {
        sst: Sst(b),
        sd: Some(Sd([sd[0], sd[1], sd[2]])),
    };
    let (snssai, mapped_hplmn) = match contents {
        [s] => (sst(*s), None),
        [s, m] => (sst(*s), Some(sst(*m))),
        [s, sd @ ..] if sd.len() == 3 => (with_sd(*s, sd), None),
        [s, a, b, c, m] => (with_sd(*s, &[*a, *b, *c]), Some(sst(*m))),
        [s, a, b, c, m, d, e, f] => (with_sd(*s, &[*a, *b, *c]), Some(with_sd(*m, &[*d, *e, *f]))),
        _ => return Err(WireError::BadLength("S-NSSAI")),
    };
    Ok(RequestedSnssai {
        snssai,
        mapped_hplmn,
    })
}

fn nssai_value(nssai: &[RequestedSnssai]) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::new();
    for entry in nssai {
        put_lv8(&mut out, &snssai_contents(entry)?, "S-NSSAI")?;
    }
    Ok(out)
}

fn snssai_contents(entry: &RequestedSnssai) -> Result<Vec<u8>, WireError> {
    let Snssai { sst, sd } = entry.snssai;
    let mut out = vec![sst.0];
    match (sd, entry.mapped_hplmn) {
        (_, Some(Snssai { sd: Some(_), .. })) if sd.is_none() => {
            return Err(WireError::BadValue("S-NSSAI: mapped SD without SD"));
        }
        (sd, mapped) => {
            out.extend(sd.iter().flat_map(|sd| sd.0));
            out.extend(mapped.iter().map(|m| m.sst.0));
            out.extend(mapped.iter().flat_map(|m| m.sd).flat_map(|sd| sd.0));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AmfPointer, AmfRegionId, AmfSetId};

    fn plmn() -> Plmn {
        Plmn::new("310", "410").unwrap()
    }

    fn full() -> AnParameters {
        AnParameters {
            guami: Some(Guami {
                plmn: plmn(),
                region: AmfRegionId(0xca),
                set: AmfSetId::new(0x3fe).unwrap(),
                pointer: AmfPointer::new(1).unwrap(),
            }),
            selected_plmn: Some(plmn()),
            requested_nssai: Some(vec![
                RequestedSnssai {
                    snssai: Snssai::new(1),
                    mapped_hplmn: None,
                },
                RequestedSnssai {
                    snssai: Snssai::with_sd(1, [0x01, 0x02, 0x03]),
                    mapped_hplmn: Some(Snssai::with_sd(2, [0x0a, 0x0b, 0x0c])),
                },
            ]),
            establishment_cause: Some(EstablishmentCause::MO_DATA),
            selected_nid: Some(vec![0x11, 0x22, 0x33, 0x44, 0x55, 0x66]),
            ue_identity: Some(vec![0x01, 0x02]),
            unknown: vec![UnknownAnParameter {
                parameter_type: AnParameterType(0x20),
                value: vec![0xee],
            }],
        }
    }

    const FULL: &str = "0106130014caff81 0203130014 030b 0101 080101020302 0a0b0c \
                        040104 0506112233445566 06020102 2001ee";

    #[test]
    fn every_parameter_byte_exact() {
        let bytes = hex(FULL);
        assert_eq!(full().to_bytes().unwrap(), bytes);
        assert_eq!(AnParameters::parse(&bytes), Ok(full()));
    }

    #[test]
    fn snssai_lengths() {
        for (contents, expected) in [
            ("01", (Snssai::new(1), None)),
            ("0102", (Snssai::new(1), Some(Snssai::new(2)))),
            ("01aabbcc", (Snssai::with_sd(1, [0xaa, 0xbb, 0xcc]), None)),
            (
                "01aabbcc02",
                (Snssai::with_sd(1, [0xaa, 0xbb, 0xcc]), Some(Snssai::new(2))),
            ),
        ] {
            let entry = RequestedSnssai {
                snssai: expected.0,
                mapped_hplmn: expected.1,
            };
            assert_eq!(parse_snssai(&hex(contents)), Ok(entry));
            assert_eq!(snssai_contents(&entry).unwrap(), hex(contents));
        }
        for bad in ["", "010203", "0102030405 06", "010203040506070809"] {
            assert_eq!(
                parse_snssai(&hex(bad)),
                Err(WireError::BadLength("S-NSSAI"))
            );
        }
        let unwritable = RequestedSnssai {
            snssai: Snssai::new(1),
            mapped_hplmn: Some(Snssai::with_sd(2, [0; 3])),
        };
        assert!(matches!(
            snssai_contents(&unwritable),
            Err(WireError::BadValue(_))
        ));
    }

    #[test]
    fn unknown_types_are_skipped_by_length() {
        let bytes = hex("7f00 80031 23456 040103");
        let params = AnParameters::parse(&bytes).unwrap();
        assert_eq!(
            params.establishment_cause,
            Some(EstablishmentCause::MO_SIGNALLING)
        );
        assert_eq!(params.unknown.len(), 2);
        assert_eq!(params.unknown[0].value, Vec::<u8>::new());
        assert_eq!(params.unknown[1].value, hex("123456"));
    }

    /// free5GC #967: a length past the end of the field.
    #[test]
    fn length_past_the_field_is_refused() {
        for bytes in ["0107130014caff81", "7f05aabb", "01"] {
            assert!(AnParameters::parse(&hex(bytes)).is_err(), "{bytes}");
        }
        assert_eq!(
            AnParameters::parse(&hex("0107130014caff81")),
            Err(WireError::BadLength("AN-parameter length"))
        );
        assert_eq!(
            AnParameters::parse(&hex("04")),
            Err(WireError::Truncated("AN-parameter length"))
        );
    }

    /// free5GC #970: zero-length parameters; and "Unmatched GUAMI length" (free5GC #353).
    #[test]
    fn known_parameters_need_their_length() {
        for (bytes, what) in [
            ("0100", "GUAMI"),
            ("0105130014caff", "GUAMI"),
            ("0200", "selected PLMN ID"),
            ("0300", "requested NSSAI"),
            ("0400", "establishment cause"),
            ("040203 03", "establishment cause"),
            ("0500", "selected NID"),
            ("0600", "UE identity"),
        ] {
            assert_eq!(
                AnParameters::parse(&hex(bytes)),
                Err(WireError::BadLength(what)),
                "{bytes}"
            );
        }
    }

    #[test]
    fn duplicates_and_bad_digits_are_refused() {
        assert_eq!(
            AnParameters::parse(&hex("040103 040104")),
            Err(WireError::Duplicate("establishment cause"))
        );
        assert_eq!(
            AnParameters::parse(&hex("0203aa0014")),
            Err(WireError::BadValue("MCC"))
        );
    }

    #[test]
    fn cause_spare_bits_are_ignored() {
        let params = AnParameters::parse(&hex("0401f4")).unwrap();
        assert_eq!(
            params.establishment_cause,
            Some(EstablishmentCause::MO_DATA)
        );
        assert_eq!(EstablishmentCause(7).name(), None);
    }

    #[test]
    fn empty_field_is_no_parameters() {
        assert_eq!(AnParameters::parse(&[]), Ok(AnParameters::default()));
        assert!(AnParameters::default().is_empty());
        assert_eq!(
            AnParameters::default().to_bytes().unwrap(),
            Vec::<u8>::new()
        );
    }

    #[test]
    fn values_over_255_octets_cannot_be_written() {
        let params = AnParameters {
            ue_identity: Some(vec![0; 256]),
            ..AnParameters::default()
        };
        assert_eq!(
            params.to_bytes(),
            Err(WireError::TooLong("AN-parameter value"))
        );
    }

    fn hex(text: &str) -> Vec<u8> {
        let digits: String = text.split_whitespace().collect();
        ::hex::decode(digits).unwrap()
    }
}
