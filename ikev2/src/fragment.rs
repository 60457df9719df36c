//! RFC 7383 §2.6 reassembly with bounds on count, bytes and time.

use std::time::{Duration, Instant};

use crate::wire::PayloadType;

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
    message_id: u32,
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
        message_id: u32,
        (number, total): (u16, u16),
        first_inner: PayloadType,
        plain: Vec<u8>,
    ) -> Added {
        if total > limits.max_fragments || number == 0 || number > total {
            return Added::Dropped;
        }
        let restart = match slot {
            Some(r) if r.abandoned => r.message_id != message_id || now >= r.deadline,
            Some(r) => r.message_id != message_id || total > r.total || now >= r.deadline,
            None => true,
        };
        if restart {
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
        let idx = usize::from(number - 1);
        if r.abandoned || total < r.total || r.parts[idx].is_some() {
            return Added::Dropped;
        }
        if r.bytes + plain.len() > limits.max_bytes {
            return Added::TooLarge;
        }
        if number == 1 {
            r.first_inner = first_inner;
        }
        r.bytes += plain.len();
        r.parts[idx] = Some(plain);
        if r.parts.iter().any(Option::is_none) {
            return Added::Pending;
        }
        let done = slot.take();
        let Some(r) = done else { return Added::Dropped };
        let mut whole = Vec::with_capacity(r.bytes);
        for p in r.parts.into_iter().flatten() {
            whole.extend_from_slice(&p);
        }
        Added::Complete(r.first_inner, whole)
    }
}
