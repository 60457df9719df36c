//! Two KMEs in miniature as a [`KeySource`]: the initiator's fetch makes a key under a new ID,
//! the responder's fetch by ID returns the same bytes once. Switches let a test break either
//! side.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use ipsec_crypto::SecretBytes;

use super::{KeySource, PpkAnswer};

/// A [`Kme`] shared between the test and the key source it answers as.
pub type SharedKme = Rc<RefCell<Kme>>;

#[derive(Default)]
pub struct Kme {
    /// Keys made and not yet taken by the responder, by ID.
    pub keys: HashMap<Vec<u8>, Vec<u8>>,
    /// Every ID made, in order.
    pub issued: Vec<Vec<u8>>,
    next: u8,
    /// The initiator's side hands out nothing.
    pub initiator_down: bool,
    /// The responder's side answers "no such key".
    pub responder_down: bool,
    /// The responder's side returns the key with one bit flipped.
    pub corrupt_responder: bool,
}

impl Kme {
    pub fn shared() -> SharedKme {
        Rc::new(RefCell::new(Self::default()))
    }

    /// A key source where A fetches new keys and B looks them up, each after 3 ms.
    pub fn source(kme: &SharedKme) -> KeySource {
        let kme = kme.clone();
        Box::new(move |is_a, id| Some(kme.borrow_mut().answer(is_a, id)))
    }

    /// As [`Kme::source`] with the roles swapped: B fetches new keys and A looks them up.
    pub fn source_swapped(kme: &SharedKme) -> KeySource {
        let kme = kme.clone();
        Box::new(move |is_a, id| Some(kme.borrow_mut().answer(!is_a, id)))
    }

    fn answer(&mut self, fetches_new: bool, id: Option<&[u8]>) -> PpkAnswer {
        let ppk = match (fetches_new, id) {
            (true, None) if self.initiator_down => None,
            (true, None) => Some(self.make_key()),
            (false, Some(_)) if self.responder_down => None,
            (false, Some(id)) => {
                let corrupt = self.corrupt_responder;
                self.keys.remove(id).map(|mut key| {
                    if corrupt {
                        key[0] ^= 1;
                    }
                    (id.to_vec(), SecretBytes::new(key))
                })
            }
            _ => None,
        };
        PpkAnswer {
            delay: Duration::from_millis(3),
            ppk,
        }
    }

    fn make_key(&mut self) -> (Vec<u8>, SecretBytes) {
        self.next += 1;
        let id = format!("7d1e0b52-0000-4000-8000-0000000000{:02x}", self.next).into_bytes();
        let key = vec![self.next; 32];
        self.keys.insert(id.clone(), key.clone());
        self.issued.push(id.clone());
        (id, SecretBytes::new(key))
    }
}
