//! The subscriber database of the emulated UDM/ARPF.

use std::collections::HashMap;

use crate::crypto::milenage::Milenage;
use crate::identity::Supi;
use crate::secret::{Opc, SubscriberKey};
use crate::values::{AuthMgmtField, Sqn};

/// One subscriber: SUPI, K, OPc, the home network's SQN and the AMF field of its vectors.
pub struct Subscriber {
    supi: Supi,
    milenage: Milenage,
    sqn: Sqn,
    amf_field: AuthMgmtField,
}

impl Subscriber {
    /// A subscriber whose next vector uses the SQN after `sqn`.
    pub fn new(
        supi: Supi,
        k: &SubscriberKey,
        opc: Opc,
        sqn: Sqn,
        amf_field: AuthMgmtField,
    ) -> Self {
        Self {
            supi,
            milenage: Milenage::new(k, opc),
            sqn,
            amf_field,
        }
    }

    /// The SUPI.
    pub fn supi(&self) -> &Supi {
        &self.supi
    }

    /// The last SQN used.
    pub fn sqn(&self) -> Sqn {
        self.sqn
    }

    pub(crate) fn milenage(&self) -> &Milenage {
        &self.milenage
    }

    pub(crate) fn amf_field(&self) -> AuthMgmtField {
        self.amf_field
    }

    /// Takes the next SQN for a new vector; `None` at the 48-bit limit.
    pub(crate) fn next_sqn(&mut self) -> Option<Sqn> {
        self.sqn = self.sqn.next()?;
        Some(self.sqn)
    }

    /// Resynchronises on the UE's SQN_MS (TS 33.102 §6.3.5): the next vector goes above it.
    pub(crate) fn resync(&mut self, sqn_ms: Sqn) {
        self.sqn = self.sqn.max(sqn_ms);
    }
}

/// Subscribers by SUPI.
#[derive(Default)]
pub struct SubscriberDb {
    subscribers: HashMap<Supi, Subscriber>,
}

impl SubscriberDb {
    /// Adds or replaces a subscriber.
    pub fn insert(&mut self, subscriber: Subscriber) {
        self.subscribers.insert(subscriber.supi.clone(), subscriber);
    }

    /// The subscriber of a SUPI.
    pub fn get(&self, supi: &Supi) -> Option<&Subscriber> {
        self.subscribers.get(supi)
    }

    pub(crate) fn get_mut(&mut self, supi: &Supi) -> Option<&mut Subscriber> {
        self.subscribers.get_mut(supi)
    }
}
