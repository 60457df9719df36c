//! Cause (TS 38.413 §9.3.1.2): why a procedure failed or a context is released.

mod values;

use oxirush_ngap::ngap as asn;

pub use values::{MiscCause, NasCause, ProtocolCause, RadioNetworkCause, TransportCause};

use super::error::EncodeError;

/// The Cause IE: a group and a value of that group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cause {
    RadioNetwork(RadioNetworkCause),
    Transport(TransportCause),
    Nas(NasCause),
    Protocol(ProtocolCause),
    Misc(MiscCause),
}

impl Cause {
    /// Reads the bindings' value. A cause of a group later releases add (the CHOICE extension)
    /// has no meaning here and reads as misc/unspecified.
    pub(super) fn from_asn(cause: &asn::Cause) -> Self {
        match cause {
            asn::Cause::radioNetwork(v) => Self::RadioNetwork(RadioNetworkCause(*v as u8)),
            asn::Cause::transport(v) => Self::Transport(TransportCause(*v as u8)),
            asn::Cause::nas(v) => Self::Nas(NasCause(*v as u8)),
            asn::Cause::protocol(v) => Self::Protocol(ProtocolCause(*v as u8)),
            asn::Cause::misc(v) => Self::Misc(MiscCause(*v as u8)),
            _ => Self::Misc(MiscCause::UNSPECIFIED),
        }
    }

    /// The bindings' value.
    ///
    /// # Errors
    /// [`EncodeError::UnknownValue`] for an index that the ASN.1 of this release lacks.
    pub(super) fn to_asn(self) -> Result<asn::Cause, EncodeError> {
        let unknown = || EncodeError::UnknownValue("Cause");
        Ok(match self {
            Self::RadioNetwork(v) => asn::Cause::radioNetwork(
                *values::RADIO_NETWORK
                    .get(usize::from(v.0))
                    .ok_or_else(unknown)?,
            ),
            Self::Transport(v) => asn::Cause::transport(
                *values::TRANSPORT
                    .get(usize::from(v.0))
                    .ok_or_else(unknown)?,
            ),
            Self::Nas(v) => {
                asn::Cause::nas(*values::NAS.get(usize::from(v.0)).ok_or_else(unknown)?)
            }
            Self::Protocol(v) => {
                asn::Cause::protocol(*values::PROTOCOL.get(usize::from(v.0)).ok_or_else(unknown)?)
            }
            Self::Misc(v) => {
                asn::Cause::misc(*values::MISC.get(usize::from(v.0)).ok_or_else(unknown)?)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Index i of each table is the value whose PER index is i.
    #[test]
    fn tables_follow_the_bindings_numbering() {
        assert!(
            values::RADIO_NETWORK
                .iter()
                .enumerate()
                .all(|(i, v)| *v as usize == i)
        );
        assert!(
            values::TRANSPORT
                .iter()
                .enumerate()
                .all(|(i, v)| *v as usize == i)
        );
        assert!(
            values::NAS
                .iter()
                .enumerate()
                .all(|(i, v)| *v as usize == i)
        );
        assert!(
            values::PROTOCOL
                .iter()
                .enumerate()
                .all(|(i, v)| *v as usize == i)
        );
        assert!(
            values::MISC
                .iter()
                .enumerate()
                .all(|(i, v)| *v as usize == i)
        );
    }

    #[test]
    fn every_known_cause_converts_both_ways() {
        let causes = (0..=255u8).flat_map(|i| {
            [
                Cause::RadioNetwork(RadioNetworkCause(i)),
                Cause::Transport(TransportCause(i)),
                Cause::Nas(NasCause(i)),
                Cause::Protocol(ProtocolCause(i)),
                Cause::Misc(MiscCause(i)),
            ]
        });
        let mut known = 0;
        for cause in causes {
            if let Ok(asn) = cause.to_asn() {
                assert_eq!(Cause::from_asn(&asn), cause);
                known += 1;
            }
        }
        assert_eq!(known, 65 + 2 + 8 + 7 + 6);
        assert_eq!(
            Cause::RadioNetwork(RadioNetworkCause(65)).to_asn(),
            Err(EncodeError::UnknownValue("Cause"))
        );
    }

    #[test]
    fn names_follow_the_asn1() {
        assert_eq!(RadioNetworkCause::RADIO_CONNECTION_WITH_UE_LOST.0, 21);
        assert_eq!(NasCause::DEREGISTER.0, 2);
        assert_eq!(ProtocolCause::ABSTRACT_SYNTAX_ERROR_REJECT.0, 1);
        assert_eq!(format!("{:?}", MiscCause(5)), "UNSPECIFIED");
    }
}
