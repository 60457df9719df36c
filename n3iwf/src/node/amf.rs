//! The N2 side of the node: one association per configured AMF, its NG Setup state, what the
//! AMF serves, and AMF selection for a new UE (TS 23.501 §6.3.5).

use std::collections::HashSet;
use std::time::Instant;

use super::config::AmfPeer;
use super::handles::{AmfRef, StreamId};
use crate::ids::{Guami, Plmn};
use crate::ngap::{
    AmfConfigurationUpdate, NgSetupResponse, PlmnSlices, RanUeNgapId, ServedGuami, UnavailableGuami,
};

/// Where an association is in its life.
#[derive(Debug)]
pub(crate) enum LinkState {
    /// No SCTP association.
    Down,
    /// NG SETUP REQUEST is out; sent again at `deadline` without an answer.
    SettingUp { deadline: Instant },
    /// NG SETUP FAILURE; tried again at `retry_at`.
    Refused { retry_at: Instant },
    /// NG SETUP RESPONSE received.
    Ready(Box<AmfInfo>),
}

/// What the AMF said about itself in NG SETUP RESPONSE and later updates.
#[derive(Debug)]
pub(crate) struct AmfInfo {
    pub(crate) name: String,
    pub(crate) served: Vec<ServedGuami>,
    /// GUAMIs AMF STATUS INDICATION declared unavailable.
    pub(crate) unavailable: HashSet<Guami>,
    pub(crate) plmn_support: Vec<PlmnSlices>,
    pub(crate) relative_capacity: u8,
}

/// One configured AMF.
#[derive(Debug)]
pub(crate) struct AmfLink {
    pub(crate) label: String,
    pub(crate) state: LinkState,
    /// Outbound SCTP streams of the association.
    pub(crate) streams: u16,
}

/// The configured AMFs, indexed by [`AmfRef`].
#[derive(Debug)]
pub(crate) struct Amfs {
    links: Vec<AmfLink>,
}

impl Amfs {
    pub(crate) fn new(peers: &[AmfPeer]) -> Self {
        let links = peers
            .iter()
            .map(|peer| AmfLink {
                label: peer.label.clone(),
                state: LinkState::Down,
                streams: 0,
            })
            .collect();
        Self { links }
    }

    pub(crate) fn get(&self, amf: AmfRef) -> Option<&AmfLink> {
        self.links.get(usize::from(amf.0))
    }

    pub(crate) fn get_mut(&mut self, amf: AmfRef) -> Option<&mut AmfLink> {
        self.links.get_mut(usize::from(amf.0))
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (AmfRef, &AmfLink)> {
        (0..).map(AmfRef).zip(&self.links)
    }

    /// What a ready AMF serves.
    pub(crate) fn info_mut(&mut self, amf: AmfRef) -> Option<&mut AmfInfo> {
        match &mut self.get_mut(amf)?.state {
            LinkState::Ready(info) => Some(info),
            _ => None,
        }
    }

    pub(crate) fn is_ready(&self, amf: AmfRef) -> bool {
        self.get(amf)
            .is_some_and(|l| matches!(l.state, LinkState::Ready(_)))
    }

    pub(crate) fn any_ready(&self) -> bool {
        self.iter().any(|(amf, _)| self.is_ready(amf))
    }

    /// The earliest NG Setup deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.links
            .iter()
            .filter_map(|l| match l.state {
                LinkState::SettingUp { deadline } => Some(deadline),
                LinkState::Refused { retry_at } => Some(retry_at),
                LinkState::Down | LinkState::Ready(_) => None,
            })
            .min()
    }

    /// An association whose NG Setup is due again at `now`.
    pub(crate) fn due(&self, now: Instant) -> Option<AmfRef> {
        self.iter().find_map(|(amf, link)| match link.state {
            LinkState::SettingUp { deadline: at } | LinkState::Refused { retry_at: at }
                if at <= now =>
            {
                Some(amf)
            }
            _ => None,
        })
    }

    /// The AMF for a UE (TS 23.501 §6.3.5): the ready AMF serving the UE's GUAMI; else among
    /// the ready AMFs supporting its PLMN (the selected PLMN, or the GUAMI's), the one with the
    /// highest relative capacity; with neither, the ready AMF with the highest capacity.
    pub(crate) fn select(&self, guami: Option<Guami>, plmn: Option<Plmn>) -> Option<AmfRef> {
        let ready = || {
            self.iter().filter_map(|(amf, link)| match &link.state {
                LinkState::Ready(info) => Some((amf, info.as_ref())),
                _ => None,
            })
        };
        if let Some(guami) = guami
            && let Some((amf, _)) = ready().find(|(_, info)| info.serves(guami))
        {
            return Some(amf);
        }
        let plmn = plmn.or_else(|| guami.map(|g| g.plmn));
        highest_capacity(ready().filter(|(_, info)| plmn.is_none_or(|p| info.supports(p))))
    }

    /// The SCTP stream of a UE: a fixed one of the non-zero streams, or 0 when the association
    /// has no other.
    pub(crate) fn ue_stream(&self, amf: AmfRef, ran: RanUeNgapId) -> StreamId {
        let streams = self.get(amf).map_or(0, |l| l.streams);
        if streams < 2 {
            return StreamId::NON_UE;
        }
        let others = u32::from(streams - 1);
        // `others` ≥ 1, and the remainder fits in u16 since others ≤ u16::MAX - 1.
        StreamId(1 + u16::try_from(ran.0 % others).unwrap_or(0))
    }
}

impl AmfInfo {
    pub(crate) fn from_setup(response: NgSetupResponse) -> Self {
        Self {
            name: response.amf_name,
            served: response.served_guamis,
            unavailable: HashSet::new(),
            plmn_support: response.plmn_support,
            relative_capacity: response.relative_amf_capacity,
        }
    }

    /// Applies AMF CONFIGURATION UPDATE: each present field replaces the stored one.
    pub(crate) fn update(&mut self, update: AmfConfigurationUpdate) {
        if let Some(name) = update.amf_name {
            self.name = name;
        }
        if let Some(served) = update.served_guamis {
            self.unavailable
                .retain(|g| !served.iter().any(|s| s.guami == *g));
            self.served = served;
        }
        if let Some(capacity) = update.relative_amf_capacity {
            self.relative_capacity = capacity;
        }
        if let Some(plmns) = update.plmn_support {
            self.plmn_support = plmns;
        }
    }

    /// Applies AMF STATUS INDICATION.
    pub(crate) fn mark_unavailable(&mut self, guamis: &[UnavailableGuami]) {
        self.unavailable.extend(guamis.iter().map(|g| g.guami));
    }

    fn serves(&self, guami: Guami) -> bool {
        !self.unavailable.contains(&guami) && self.served.iter().any(|s| s.guami == guami)
    }

    fn supports(&self, plmn: Plmn) -> bool {
        self.plmn_support.iter().any(|p| p.plmn == plmn)
    }
}

/// The AMF of the highest relative capacity; the first of equals (`max_by_key` would keep the
/// last).
fn highest_capacity<'a>(amfs: impl Iterator<Item = (AmfRef, &'a AmfInfo)>) -> Option<AmfRef> {
    amfs.fold(None, |best: Option<(AmfRef, u8)>, (amf, info)| match best {
        Some((_, capacity)) if capacity >= info.relative_capacity => best,
        _ => Some((amf, info.relative_capacity)),
    })
    .map(|(amf, _)| amf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AmfPointer, AmfRegionId, AmfSetId, Snssai};

    fn guami(plmn: Plmn, region: u8) -> Guami {
        Guami {
            plmn,
            region: AmfRegionId(region),
            set: AmfSetId::new(1).unwrap(),
            pointer: AmfPointer::new(1).unwrap(),
        }
    }

    fn info(served: Vec<Guami>, plmns: Vec<Plmn>, capacity: u8) -> AmfInfo {
        AmfInfo {
            name: String::from("amf"),
            served: served
                .into_iter()
                .map(|guami| ServedGuami {
                    guami,
                    backup_amf_name: None,
                })
                .collect(),
            unavailable: HashSet::new(),
            plmn_support: plmns
                .into_iter()
                .map(|plmn| PlmnSlices {
                    plmn,
                    slices: vec![Snssai::new(1)],
                })
                .collect(),
            relative_capacity: capacity,
        }
    }

    fn amfs(infos: Vec<Option<AmfInfo>>) -> Amfs {
        let peers: Vec<_> = infos
            .iter()
            .map(|_| AmfPeer {
                label: String::from("x"),
            })
            .collect();
        let mut amfs = Amfs::new(&peers);
        for (link, info) in amfs.links.iter_mut().zip(infos) {
            if let Some(info) = info {
                link.state = LinkState::Ready(Box::new(info));
            }
        }
        amfs
    }

    #[test]
    fn guami_first_then_plmn_by_capacity_then_any() {
        let a = Plmn::new("001", "01").unwrap();
        let b = Plmn::new("310", "410").unwrap();
        let amfs = amfs(vec![
            Some(info(vec![guami(a, 1)], vec![a], 10)),
            Some(info(vec![guami(b, 2)], vec![a, b], 50)),
            Some(info(vec![guami(b, 3)], vec![b], 50)),
            None,
        ]);
        assert_eq!(amfs.select(Some(guami(a, 1)), Some(b)), Some(AmfRef(0)));
        assert_eq!(amfs.select(Some(guami(b, 3)), None), Some(AmfRef(2)));
        // An unknown GUAMI falls back to its PLMN; equal capacity keeps the first.
        assert_eq!(amfs.select(Some(guami(b, 9)), None), Some(AmfRef(1)));
        assert_eq!(amfs.select(None, Some(a)), Some(AmfRef(1)));
        assert_eq!(amfs.select(None, None), Some(AmfRef(1)));
        let other = Plmn::new("999", "99").unwrap();
        assert_eq!(amfs.select(None, Some(other)), None);
    }

    #[test]
    fn unavailable_guamis_are_not_selected_until_served_again() {
        let a = Plmn::new("001", "01").unwrap();
        let mut amfs = amfs(vec![Some(info(vec![guami(a, 1)], vec![], 10))]);
        let LinkState::Ready(info) = &mut amfs.links[0].state else {
            unreachable!()
        };
        info.mark_unavailable(&[UnavailableGuami {
            guami: guami(a, 1),
            apply_timer: false,
            backup_amf_name: None,
        }]);
        assert_eq!(amfs.select(Some(guami(a, 1)), None), None);
        let LinkState::Ready(info) = &mut amfs.links[0].state else {
            unreachable!()
        };
        info.update(AmfConfigurationUpdate {
            served_guamis: Some(vec![ServedGuami {
                guami: guami(a, 1),
                backup_amf_name: None,
            }]),
            ..AmfConfigurationUpdate::default()
        });
        assert_eq!(amfs.select(Some(guami(a, 1)), None), Some(AmfRef(0)));
    }

    #[test]
    fn ue_streams_avoid_stream_zero() {
        let mut amfs = amfs(vec![None]);
        assert_eq!(amfs.ue_stream(AmfRef(0), RanUeNgapId(7)), StreamId(0));
        amfs.links[0].streams = 4;
        let streams: Vec<_> = (0..6)
            .map(|r| amfs.ue_stream(AmfRef(0), RanUeNgapId(r)).0)
            .collect();
        assert_eq!(streams, [1, 2, 3, 1, 2, 3]);
    }
}
