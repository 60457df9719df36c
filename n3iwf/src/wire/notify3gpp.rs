//! The 3GPP private Notify types of NWu (TS 24.502 §9.3.1), as Notification Data for the IKEv2
//! engine's [`Notify`] payload.
//!
//! | type | name | data | sent by the N3IWF in |
//! | --- | --- | --- | --- |
//! | 55501 | 5G_QOS_INFO | [`QosInfo`] | CREATE_CHILD_SA request of a user-plane child SA |
//! | 55502 | NAS_IP4_ADDRESS | 4 octets | final IKE_AUTH response |
//! | 55503 | NAS_IP6_ADDRESS | 16 octets | final IKE_AUTH response |
//! | 55504 | UP_IP4_ADDRESS | 4 octets | CREATE_CHILD_SA request |
//! | 55505 | UP_IP6_ADDRESS | 16 octets | CREATE_CHILD_SA request |
//! | 55506 | NAS_TCP_PORT | 2 octets | final IKE_AUTH response |
//! | 55507 | N3GPP_BACKOFF_TIMER | Length (1) = 1, GPRS timer 3 value | IKE_AUTH refusing the UE |
//!
//! The types lie in the private status range (above 40959), so peers that do not know them
//! ignore them. Each carries no SPI (SPI Size 0).

use std::net::{Ipv4Addr, Ipv6Addr};

use ikev2::wire::{Notify, NotifyType};

use super::WireError;
use super::qos_info::QosInfo;
use super::reader::Reader;

/// 5G_QOS_INFO.
pub const NOTIFY_5G_QOS_INFO: NotifyType = NotifyType(55_501);
/// NAS_IP4_ADDRESS.
pub const NOTIFY_NAS_IP4_ADDRESS: NotifyType = NotifyType(55_502);
/// NAS_IP6_ADDRESS.
pub const NOTIFY_NAS_IP6_ADDRESS: NotifyType = NotifyType(55_503);
/// UP_IP4_ADDRESS.
pub const NOTIFY_UP_IP4_ADDRESS: NotifyType = NotifyType(55_504);
/// UP_IP6_ADDRESS.
pub const NOTIFY_UP_IP6_ADDRESS: NotifyType = NotifyType(55_505);
/// NAS_TCP_PORT.
pub const NOTIFY_NAS_TCP_PORT: NotifyType = NotifyType(55_506);
/// N3GPP_BACKOFF_TIMER.
pub const NOTIFY_N3GPP_BACKOFF_TIMER: NotifyType = NotifyType(55_507);

/// A back-off timer coded as the value part of GPRS timer 3 (TS 24.008 §10.5.7.4a): unit in
/// bits 8..6, value in bits 5..1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GprsTimer3(pub u8);

impl GprsTimer3 {
    /// The timer in seconds; `None` when the unit says "deactivated" (111).
    pub fn as_secs(self) -> Option<u64> {
        let value = u64::from(self.0 & 0x1f);
        let unit = match self.0 >> 5 {
            0b000 => 600,
            0b001 => 3_600,
            0b010 => 36_000,
            0b011 => 2,
            0b100 => 30,
            0b101 => 60,
            0b110 => 1_152_000,
            _ => return None,
        };
        Some(value * unit)
    }
}

/// One of the 3GPP private notifies of NWu.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum N3gppNotify {
    QosInfo(QosInfo),
    NasIp4Address(Ipv4Addr),
    NasIp6Address(Ipv6Addr),
    UpIp4Address(Ipv4Addr),
    UpIp6Address(Ipv6Addr),
    NasTcpPort(u16),
    BackoffTimer(GprsTimer3),
}

impl N3gppNotify {
    /// Reads a notify of the engine. `Ok(None)` for any other notify type.
    ///
    /// # Errors
    /// [`WireError::BadLength`] for an SPI or data of the wrong length, and the errors of
    /// [`QosInfo::parse`].
    pub fn from_notify(notify: &Notify) -> Result<Option<Self>, WireError> {
        if !is_3gpp(notify.notify_type) {
            return Ok(None);
        }
        if !notify.spi.is_empty() {
            return Err(WireError::BadLength("3GPP notify SPI"));
        }
        Self::parse_data(notify.notify_type, &notify.data)
    }

    /// Reads Notification Data of `notify_type`. `Ok(None)` for any other notify type.
    ///
    /// # Errors
    /// As [`N3gppNotify::from_notify`].
    pub fn parse_data(notify_type: NotifyType, data: &[u8]) -> Result<Option<Self>, WireError> {
        let notify = match notify_type {
            NOTIFY_5G_QOS_INFO => Self::QosInfo(QosInfo::parse(data)?),
            NOTIFY_NAS_IP4_ADDRESS => {
                Self::NasIp4Address(exact::<4>(data, "NAS_IP4_ADDRESS")?.into())
            }
            NOTIFY_NAS_IP6_ADDRESS => {
                Self::NasIp6Address(exact::<16>(data, "NAS_IP6_ADDRESS")?.into())
            }
            NOTIFY_UP_IP4_ADDRESS => Self::UpIp4Address(exact::<4>(data, "UP_IP4_ADDRESS")?.into()),
            NOTIFY_UP_IP6_ADDRESS => {
                Self::UpIp6Address(exact::<16>(data, "UP_IP6_ADDRESS")?.into())
            }
            NOTIFY_NAS_TCP_PORT => {
                Self::NasTcpPort(u16::from_be_bytes(exact(data, "NAS_TCP_PORT")?))
            }
            NOTIFY_N3GPP_BACKOFF_TIMER => Self::BackoffTimer(parse_backoff(data)?),
            _ => return Ok(None),
        };
        Ok(Some(notify))
    }

    /// The notify type.
    pub fn notify_type(&self) -> NotifyType {
        match self {
            Self::QosInfo(_) => NOTIFY_5G_QOS_INFO,
            Self::NasIp4Address(_) => NOTIFY_NAS_IP4_ADDRESS,
            Self::NasIp6Address(_) => NOTIFY_NAS_IP6_ADDRESS,
            Self::UpIp4Address(_) => NOTIFY_UP_IP4_ADDRESS,
            Self::UpIp6Address(_) => NOTIFY_UP_IP6_ADDRESS,
            Self::NasTcpPort(_) => NOTIFY_NAS_TCP_PORT,
            Self::BackoffTimer(_) => NOTIFY_N3GPP_BACKOFF_TIMER,
        }
    }

    /// The Notification Data.
    ///
    /// # Errors
    /// The errors of [`QosInfo::to_bytes`].
    pub fn data(&self) -> Result<Vec<u8>, WireError> {
        Ok(match self {
            Self::QosInfo(info) => info.to_bytes()?,
            Self::NasIp4Address(a) | Self::UpIp4Address(a) => a.octets().to_vec(),
            Self::NasIp6Address(a) | Self::UpIp6Address(a) => a.octets().to_vec(),
            Self::NasTcpPort(port) => port.to_be_bytes().to_vec(),
            Self::BackoffTimer(timer) => vec![1, timer.0],
        })
    }

    /// The engine's Notify payload: protocol 0, no SPI.
    ///
    /// # Errors
    /// As [`N3gppNotify::data`].
    pub fn to_notify(&self) -> Result<Notify, WireError> {
        Ok(Notify::new(self.notify_type(), self.data()?))
    }
}

fn is_3gpp(notify_type: NotifyType) -> bool {
    (NOTIFY_5G_QOS_INFO.0..=NOTIFY_N3GPP_BACKOFF_TIMER.0).contains(&notify_type.0)
}

fn exact<const N: usize>(data: &[u8], what: &'static str) -> Result<[u8; N], WireError> {
    data.try_into().map_err(|_| WireError::BadLength(what))
}

/// Length of the timer (1, must be 1), then the GPRS timer 3 value.
fn parse_backoff(data: &[u8]) -> Result<GprsTimer3, WireError> {
    let mut r = Reader::new(data);
    let [timer] = r
        .sub_u8("N3GPP_BACKOFF_TIMER length")?
        .array::<1>("GPRS timer 3")?;
    match r.is_empty() && data[0] == 1 {
        true => Ok(GprsTimer3(timer)),
        false => Err(WireError::BadLength("N3GPP_BACKOFF_TIMER")),
    }
}

#[cfg(test)]
mod tests {
    use ikev2::wire::ProtocolId;

    use super::*;
    use crate::ids::{PduSessionId, Qfi};

    fn round_trip(notify: N3gppNotify, data: &[u8]) {
        let wire = notify.to_notify().unwrap();
        assert_eq!(wire.protocol, ProtocolId::NONE);
        assert!(wire.spi.is_empty());
        assert_eq!(wire.data, data, "{notify:?}");
        assert_eq!(N3gppNotify::from_notify(&wire), Ok(Some(notify)));
    }

    #[test]
    fn addresses_and_port() {
        round_trip(
            N3gppNotify::NasIp4Address(Ipv4Addr::new(10, 0, 0, 1)),
            &[10, 0, 0, 1],
        );
        round_trip(
            N3gppNotify::UpIp4Address(Ipv4Addr::new(10, 0, 0, 2)),
            &[10, 0, 0, 2],
        );
        let v6: Ipv6Addr = "2001:db8::1".parse().unwrap();
        round_trip(N3gppNotify::NasIp6Address(v6), &v6.octets());
        round_trip(N3gppNotify::UpIp6Address(v6), &v6.octets());
        round_trip(N3gppNotify::NasTcpPort(20_000), &[0x4e, 0x20]);
        assert_eq!(N3gppNotify::NasTcpPort(1).notify_type(), NotifyType(55_506));
    }

    #[test]
    fn qos_info_and_backoff() {
        let info = QosInfo {
            pdu_session_id: PduSessionId(1),
            qfis: vec![Qfi::new(1).unwrap()],
            default_child_sa: true,
            dscp: None,
            additional_qos: None,
        };
        round_trip(N3gppNotify::QosInfo(info), &[0x04, 0x01, 0x01, 0x01, 0x02]);
        round_trip(N3gppNotify::BackoffTimer(GprsTimer3(0x65)), &[0x01, 0x65]);
    }

    #[test]
    fn wrong_lengths_are_refused() {
        for (notify_type, data, what) in [
            (NOTIFY_NAS_IP4_ADDRESS, &[10, 0, 0][..], "NAS_IP4_ADDRESS"),
            (
                NOTIFY_UP_IP4_ADDRESS,
                &[10, 0, 0, 1, 0][..],
                "UP_IP4_ADDRESS",
            ),
            (NOTIFY_NAS_IP6_ADDRESS, &[0; 4][..], "NAS_IP6_ADDRESS"),
            (NOTIFY_UP_IP6_ADDRESS, &[0; 17][..], "UP_IP6_ADDRESS"),
            (NOTIFY_NAS_TCP_PORT, &[0x4e][..], "NAS_TCP_PORT"),
            (
                NOTIFY_N3GPP_BACKOFF_TIMER,
                &[0x02, 0x65, 0x00][..],
                "N3GPP_BACKOFF_TIMER",
            ),
            (
                NOTIFY_N3GPP_BACKOFF_TIMER,
                &[0x01, 0x65, 0x00][..],
                "N3GPP_BACKOFF_TIMER",
            ),
        ] {
            assert_eq!(
                N3gppNotify::parse_data(notify_type, data),
                Err(WireError::BadLength(what))
            );
        }
        assert_eq!(
            N3gppNotify::parse_data(NOTIFY_N3GPP_BACKOFF_TIMER, &[0x00]),
            Err(WireError::Truncated("GPRS timer 3"))
        );
        let with_spi = Notify {
            protocol: ProtocolId::ESP,
            spi: vec![1, 2, 3, 4],
            notify_type: NOTIFY_NAS_TCP_PORT,
            data: vec![0, 1],
        };
        assert_eq!(
            N3gppNotify::from_notify(&with_spi),
            Err(WireError::BadLength("3GPP notify SPI"))
        );
    }

    #[test]
    fn other_notifies_are_not_ours() {
        let nat = Notify::new(NotifyType::NAT_DETECTION_SOURCE_IP, vec![0; 20]);
        assert_eq!(N3gppNotify::from_notify(&nat), Ok(None));
        assert_eq!(N3gppNotify::parse_data(NotifyType(55_508), &[]), Ok(None));
        assert_eq!(N3gppNotify::parse_data(NotifyType(55_500), &[]), Ok(None));
    }

    #[test]
    fn gprs_timer_3_units() {
        assert_eq!(GprsTimer3(0b011_00101).as_secs(), Some(10));
        assert_eq!(GprsTimer3(0b101_00011).as_secs(), Some(180));
        assert_eq!(GprsTimer3(0b000_00001).as_secs(), Some(600));
        assert_eq!(GprsTimer3(0b110_00001).as_secs(), Some(1_152_000));
        assert_eq!(GprsTimer3(0b111_00001).as_secs(), None);
    }
}
