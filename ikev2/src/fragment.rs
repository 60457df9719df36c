//! RFC 7383 §2.6 reassembly with bounds on count, bytes and time.

use std::time::{Duration, Instant};

use crate::wire::{MessageId, PayloadType};

/// Limits on one reassembly.
#[derive(Clone, Copy, Debug)]
pub struct ReassemblyLimits {
    /// Most fragments accepted for one message.
    pub max_fragments: u16,
    /// Most plaintext octets buffered for one message.
    pub max_bytes: usize,
    /// How long a partial message is kept.
    pub timeout: Duration,
}

impl Default for ReassemblyLimits {
    fn default() -> Self {
        Self {
            max_fragments: 64,
            max_bytes: 64 * 1024,
            timeout: Duration::from_secs(30),
        }
    }
}

/// What adding a (verified) fragment gave.
pub(crate) enum Added {
    /// Complete: the first inner payload type and the whole plaintext.
    Complete(PayloadType, Vec<u8>),
    Pending,
    /// Dropped: over the fragment count, a smaller total than the stored one, or a duplicate.
    Dropped,
    /// Dropped: the message would be larger than `max_bytes` (the partial message is kept).
    TooLarge,
}

/// A message being reassembled (one per direction per IKE SA).
pub(crate) struct Reassembly {
    message_id: MessageId,
    total: u16,
    first_inner: PayloadType,
    parts: Vec<Option<Vec<u8>>>,
    bytes: usize,
    /// Given up (over a memory limit): its fragments are freed and later ones dropped until
    /// the deadline or another message.
    abandoned: bool,
    pub(crate) deadline: Instant,
}

impl Reassembly {
    /// Bytes held: the fragments and their slots.
    pub(crate) fn footprint(&self) -> usize {
        self.bytes + self.parts.len() * size_of::<Option<Vec<u8>>>()
    }

    /// Frees the fragments and drops the rest of this message.
    pub(crate) fn abandon(&mut self) {
        self.parts = Vec::new();
        self.bytes = 0;
        self.abandoned = true;
    }

    /// Plaintext octets buffered.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Adds fragment `number` of `total` whose ICV has already been verified.
    pub(crate) fn add(
        slot: &mut Option<Self>,
        now: Instant,
        limits: &ReassemblyLimits,
        message_id: MessageId,
        (number, total): (u16, u16),
        first_inner: PayloadType,
        plain: Vec<u8>,
    ) -> Added {
        if total > limits.max_fragments || number == 0 || number > total {
            return Added::Dropped;
        }
        if Self::starts_anew(slot.as_ref(), now, message_id, total) {
            *slot = Some(Self {
                message_id,
                total,
                first_inner: PayloadType::NONE,
                parts: vec![None; usize::from(total)],
                bytes: 0,
                abandoned: false,
                deadline: now + limits.timeout,
            });
        }
        let Some(r) = slot.as_mut() else {
            return Added::Dropped;
        };
        match r.store(usize::from(number - 1), total, first_inner, plain, limits) {
            Err(refused) => refused,
            Ok(false) => Added::Pending,
            Ok(true) => slot.take().map_or(Added::Dropped, Self::into_whole),
        }
    }

    /// Whether a fragment of `message_id` (of `total`) starts a new message in `slot`.
    fn starts_anew(slot: Option<&Self>, now: Instant, message_id: MessageId, total: u16) -> bool {
        match slot {
            Some(r) if r.abandoned => r.message_id != message_id || now >= r.deadline,
            Some(r) => r.message_id != message_id || total > r.total || now >= r.deadline,
            None => true,
        }
    }

    /// Stores the fragment at `index`; whether every part is in now, or why it is refused.
    fn store(
        &mut self,
        index: usize,
        total: u16,
        first_inner: PayloadType,
        plain: Vec<u8>,
        limits: &ReassemblyLimits,
    ) -> Result<bool, Added> {
        if self.abandoned || total < self.total {
            return Err(Added::Dropped);
        }
        let Some(part @ None) = self.parts.get_mut(index) else {
            return Err(Added::Dropped);
        };
        if self.bytes + plain.len() > limits.max_bytes {
            return Err(Added::TooLarge);
        }
        if index == 0 {
            self.first_inner = first_inner;
        }
        self.bytes += plain.len();
        *part = Some(plain);
        Ok(self.parts.iter().all(Option::is_some))
    }

    /// The message, its parts joined in order.
    fn into_whole(self) -> Added {
        let mut whole = Vec::with_capacity(self.bytes);
        for p in self.parts.into_iter().flatten() {
            whole.extend_from_slice(&p);
        }
        Added::Complete(self.first_inner, whole)
    }
}
