//! The user-plane session table beside the SA tables (same lock, same discipline: the control
//! API edits it in place, a worker reads it for one batch). Lookups are O(1): TEID → session
//! for downlink, inbound SPI → session for uplink, QFI → outbound SPI by array index.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use esp::Spi;

use crate::config::DataplaneError;
use userplane::{GreProtocolType, Qfi, Teid};

use crate::user_plane::{UserPlaneChildren, UserPlaneSession, UserPlaneStats};

/// Inbound SAs one session may have at a time (a few Child SAs, each briefly doubled while it
/// is rekeyed).
pub(crate) const MAX_INBOUND_PER_SESSION: usize = 32;

/// One installed PDU session, in the form the workers read.
pub(crate) struct UpEntry {
    pub(crate) dl_teid: Teid,
    pub(crate) upf: std::net::SocketAddr,
    pub(crate) ul_teid: Teid,
    pub(crate) ue_address: IpAddr,
    pub(crate) up_address: IpAddr,
    pub(crate) pdu_address: Option<IpAddr>,
    pub(crate) default_qfi: Qfi,
    pub(crate) gre_protocol: GreProtocolType,
    /// Outbound SPI per QFI; `None`: the default.
    qfi_spi: [Option<Spi>; 64],
    default_spi: Spi,
    inbound: Vec<Spi>,
    pub(crate) counters: UpCounters,
}

/// Per-session counters, added to by the workers (relaxed: they are statistics).
#[derive(Default)]
pub(crate) struct UpCounters {
    ul_packets: AtomicU64,
    ul_bytes: AtomicU64,
    ul_drops: AtomicU64,
    dl_packets: AtomicU64,
    dl_bytes: AtomicU64,
    dl_drops: AtomicU64,
}

impl UpCounters {
    pub(crate) fn uplink(&self, bytes: usize) {
        self.ul_packets.fetch_add(1, Ordering::Relaxed);
        self.ul_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub(crate) fn downlink(&self, bytes: usize) {
        self.dl_packets.fetch_add(1, Ordering::Relaxed);
        self.dl_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub(crate) fn ul_drop(&self) {
        self.ul_drops.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn dl_drop(&self) {
        self.dl_drops.fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self, dl_teid: Teid) -> UserPlaneStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        UserPlaneStats {
            dl_teid,
            ul_packets: get(&self.ul_packets),
            ul_bytes: get(&self.ul_bytes),
            ul_drops: get(&self.ul_drops),
            dl_packets: get(&self.dl_packets),
            dl_bytes: get(&self.dl_bytes),
            dl_drops: get(&self.dl_drops),
        }
    }
}

impl UpEntry {
    /// The outbound SA for `qfi`, and whether it is the QFI's own (false: the default).
    pub(crate) fn outbound_for(&self, qfi: Qfi) -> (Spi, bool) {
        match self.qfi_spi[usize::from(qfi.get())] {
            Some(spi) => (spi, true),
            None => (self.default_spi, false),
        }
    }

    fn set_children(&mut self, children: &UserPlaneChildren) {
        self.qfi_spi = [None; 64];
        for &(qfi, spi) in &children.by_qfi {
            self.qfi_spi[usize::from(qfi.get())] = Some(spi);
        }
        self.default_spi = children.default_spi;
    }

    /// The outbound SPIs the session sends on (one per reference: with repeats).
    fn outbound_spis(&self) -> impl Iterator<Item = Spi> + '_ {
        self.qfi_spi
            .iter()
            .flatten()
            .copied()
            .chain([self.default_spi])
    }
}

/// Adds one reference to `key`, or takes one away (the entry goes with the last).
fn count<K: std::hash::Hash + Eq>(refs: &mut HashMap<K, usize>, key: K, add: bool) {
    if add {
        *refs.entry(key).or_default() += 1;
    } else if let Some(n) = refs.get_mut(&key) {
        *n -= 1;
        if *n == 0 {
            refs.remove(&key);
        }
    }
}

/// Sessions by TEID and by inbound SPI, and the UP addresses in use.
#[derive(Default)]
pub(crate) struct UpTable {
    sessions: HashMap<Teid, Box<UpEntry>>,
    by_inbound: HashMap<Spi, Teid>,
    /// UP address → sessions using it: GRE to these from a non-user-plane SA is refused.
    up_addresses: HashMap<IpAddr, usize>,
    /// Outbound SPI → references from sessions: those SAs are in use though not in the SPD.
    outbound_refs: HashMap<Spi, usize>,
}

impl UpTable {
    pub(crate) fn by_teid(&self, teid: Teid) -> Option<&UpEntry> {
        self.sessions.get(&teid).map(|b| &**b)
    }

    pub(crate) fn by_inbound(&self, spi: Spi) -> Option<&UpEntry> {
        self.by_inbound.get(&spi).and_then(|t| self.by_teid(*t))
    }

    /// Whether `ip` is some session's GRE endpoint.
    pub(crate) fn is_up_address(&self, ip: IpAddr) -> bool {
        self.up_addresses.contains_key(&ip)
    }

    /// Whether some session sends on outbound SA `spi`.
    pub(crate) fn sends_on(&self, spi: Spi) -> bool {
        self.outbound_refs.contains_key(&spi)
    }

    pub(crate) fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Every session's counters, by DL TEID.
    pub(crate) fn stats(&self) -> Vec<UserPlaneStats> {
        let mut out: Vec<UserPlaneStats> = self
            .sessions
            .values()
            .map(|e| e.counters.snapshot(e.dl_teid))
            .collect();
        out.sort_by_key(|s| s.dl_teid);
        out
    }

    /// Installs a session; checks everything before changing anything.
    pub(crate) fn add(&mut self, s: &UserPlaneSession) -> Result<(), DataplaneError> {
        if s.dl_teid.0 == 0 {
            return Err(DataplaneError::InvalidUserPlane("the DL TEID is 0"));
        }
        if s.ue_address.is_ipv4() != s.up_address.is_ipv4() {
            return Err(DataplaneError::InvalidUserPlane(
                "the UE and UP addresses are of different families",
            ));
        }
        if self.sessions.contains_key(&s.dl_teid) {
            return Err(DataplaneError::TeidInUse(s.dl_teid));
        }
        self.check_inbound(s.dl_teid, &[], &s.children.inbound)?;
        let mut entry = Box::new(UpEntry {
            dl_teid: s.dl_teid,
            upf: s.upf,
            ul_teid: s.ul_teid,
            ue_address: s.ue_address,
            up_address: s.up_address,
            pdu_address: s.pdu_address,
            default_qfi: s.default_qfi,
            gre_protocol: s.gre_protocol,
            qfi_spi: [None; 64],
            default_spi: s.children.default_spi,
            inbound: Vec::new(),
            counters: UpCounters::default(),
        });
        self.set_children(&mut entry, &s.children);
        self.attach_inbound(&mut entry, &s.children.inbound);
        count(&mut self.up_addresses, s.up_address, true);
        self.sessions.insert(s.dl_teid, entry);
        Ok(())
    }

    /// Switches the QFI → SPI mapping and the default at once, and adds the new inbound SAs;
    /// the old inbound SAs stay until [`UpTable::forget_inbound`] (their Child SA is removed).
    pub(crate) fn update(
        &mut self,
        teid: Teid,
        children: &UserPlaneChildren,
    ) -> Result<(), DataplaneError> {
        let old = match self.sessions.get(&teid) {
            Some(e) => e.inbound.clone(),
            None => return Err(DataplaneError::UnknownTeid(teid)),
        };
        self.check_inbound(teid, &old, &children.inbound)?;
        let Some(mut entry) = self.sessions.remove(&teid) else {
            return Err(DataplaneError::UnknownTeid(teid));
        };
        self.set_children(&mut entry, children);
        self.attach_inbound(&mut entry, &children.inbound);
        self.sessions.insert(teid, entry);
        Ok(())
    }

    /// Removes a session and its inbound SPIs.
    pub(crate) fn remove(&mut self, teid: Teid) -> Result<(), DataplaneError> {
        let entry = self
            .sessions
            .remove(&teid)
            .ok_or(DataplaneError::UnknownTeid(teid))?;
        for spi in &entry.inbound {
            self.by_inbound.remove(spi);
        }
        for spi in entry.outbound_spis() {
            count(&mut self.outbound_refs, spi, false);
        }
        count(&mut self.up_addresses, entry.up_address, false);
        Ok(())
    }

    /// An inbound SA went: its SPI no longer belongs to a session.
    pub(crate) fn forget_inbound(&mut self, spi: Spi) {
        if let Some(teid) = self.by_inbound.remove(&spi)
            && let Some(e) = self.sessions.get_mut(&teid)
        {
            e.inbound.retain(|s| *s != spi);
        }
    }

    /// Whether `new` SPIs can join session `teid` (which has `old`): none belongs to another
    /// session, and the union stays bounded.
    fn check_inbound(&self, teid: Teid, old: &[Spi], new: &[Spi]) -> Result<(), DataplaneError> {
        let mut total = old.len();
        for (i, spi) in new.iter().enumerate() {
            match self.by_inbound.get(spi) {
                Some(t) if *t != teid => return Err(DataplaneError::SpiInUse(*spi)),
                Some(_) => {}
                None if new[..i].contains(spi) => {}
                None => total += 1,
            }
        }
        if total > MAX_INBOUND_PER_SESSION {
            return Err(DataplaneError::InvalidUserPlane(
                "too many inbound SAs for one session",
            ));
        }
        Ok(())
    }

    /// Points the session at `children`' outbound SAs, keeping the references counted.
    fn set_children(&mut self, entry: &mut UpEntry, children: &UserPlaneChildren) {
        for spi in entry.outbound_spis() {
            count(&mut self.outbound_refs, spi, false);
        }
        entry.set_children(children);
        for spi in entry.outbound_spis() {
            count(&mut self.outbound_refs, spi, true);
        }
    }

    fn attach_inbound(&mut self, entry: &mut UpEntry, spis: &[Spi]) {
        for &spi in spis {
            if self.by_inbound.insert(spi, entry.dl_teid).is_none() {
                entry.inbound.push(spi);
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A session with QFI 1 on SPI 0x101, the rest on 0x100, inbound 0x200 (used by the other
    /// modules' tests too).
    pub(crate) fn session(teid: u32) -> UserPlaneSession {
        UserPlaneSession {
            dl_teid: Teid(teid),
            upf: "192.0.2.50:2152".parse().unwrap(),
            ul_teid: Teid(0xaa00 + teid),
            ue_address: "10.45.0.2".parse().unwrap(),
            up_address: "10.45.0.1".parse().unwrap(),
            pdu_address: Some("10.60.0.7".parse().unwrap()),
            children: UserPlaneChildren {
                default_spi: Spi(0x100),
                by_qfi: vec![(Qfi::new(1).unwrap(), Spi(0x101))],
                inbound: vec![Spi(0x200)],
            },
            default_qfi: Qfi::new(9).unwrap(),
            gre_protocol: GreProtocolType::InnerEtherType,
        }
    }

    #[test]
    fn sessions_are_found_by_teid_and_inbound_spi() {
        let mut t = UpTable::default();
        t.add(&session(7)).unwrap();
        let e = t.by_teid(Teid(7)).unwrap();
        assert_eq!(e.outbound_for(Qfi::new(1).unwrap()), (Spi(0x101), true));
        assert_eq!(e.outbound_for(Qfi::new(2).unwrap()), (Spi(0x100), false));
        assert_eq!(t.by_inbound(Spi(0x200)).unwrap().dl_teid, Teid(7));
        assert!(t.sends_on(Spi(0x100)) && t.sends_on(Spi(0x101)));
        assert!(t.is_up_address("10.45.0.1".parse().unwrap()));
        assert!(matches!(
            t.add(&session(7)),
            Err(DataplaneError::TeidInUse(Teid(7)))
        ));
        assert!(matches!(
            t.add(&session(8)),
            Err(DataplaneError::SpiInUse(Spi(0x200)))
        ));
        assert!(
            t.by_teid(Teid(8)).is_none(),
            "a refused add changes nothing"
        );
        assert!(matches!(
            t.add(&session(0)),
            Err(DataplaneError::InvalidUserPlane(_))
        ));
        let mut mixed = session(9);
        mixed.up_address = "fd00::1".parse().unwrap();
        assert!(matches!(
            t.add(&mixed),
            Err(DataplaneError::InvalidUserPlane(_))
        ));
        t.remove(Teid(7)).unwrap();
        assert!(t.by_inbound(Spi(0x200)).is_none());
        assert!(!t.sends_on(Spi(0x100)) && !t.sends_on(Spi(0x101)));
        assert!(!t.is_up_address("10.45.0.1".parse().unwrap()));
        assert!(matches!(
            t.remove(Teid(7)),
            Err(DataplaneError::UnknownTeid(_))
        ));
    }

    #[test]
    fn a_rekey_switches_outbound_and_keeps_the_old_inbound_until_it_goes() {
        let mut t = UpTable::default();
        t.add(&session(7)).unwrap();
        let rekeyed = UserPlaneChildren {
            default_spi: Spi(0x300),
            by_qfi: vec![(Qfi::new(1).unwrap(), Spi(0x301))],
            inbound: vec![Spi(0x400)],
        };
        t.update(Teid(7), &rekeyed).unwrap();
        let e = t.by_teid(Teid(7)).unwrap();
        assert_eq!(e.outbound_for(Qfi::new(1).unwrap()).0, Spi(0x301));
        assert_eq!(e.outbound_for(Qfi::new(5).unwrap()).0, Spi(0x300));
        assert!(
            t.by_inbound(Spi(0x200)).is_some(),
            "old inbound still valid"
        );
        assert!(t.by_inbound(Spi(0x400)).is_some());
        assert!(!t.sends_on(Spi(0x101)) && t.sends_on(Spi(0x301)));
        t.forget_inbound(Spi(0x200));
        assert!(t.by_inbound(Spi(0x200)).is_none());
        assert!(matches!(
            t.update(Teid(8), &rekeyed),
            Err(DataplaneError::UnknownTeid(Teid(8)))
        ));
    }

    #[test]
    fn the_inbound_set_of_a_session_is_bounded() {
        let mut t = UpTable::default();
        t.add(&session(7)).unwrap();
        let mut many = session(7).children;
        many.inbound = (0..MAX_INBOUND_PER_SESSION as u32)
            .map(|i| Spi(0x1000 + i))
            .collect();
        assert!(matches!(
            t.update(Teid(7), &many),
            Err(DataplaneError::InvalidUserPlane(_))
        ));
        assert!(t.by_inbound(Spi(0x1000)).is_none(), "nothing attached");
        many.inbound.pop();
        t.update(Teid(7), &many).unwrap();
        assert!(t.by_inbound(Spi(0x1000)).is_some());
    }
}
