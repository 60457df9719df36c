//! NAS message envelope (TS 24.502 §9.4): how NAS messages travel on the TCP connection inside
//! the signalling IPsec SA once the UE is registered.
//!
//! ```text
//! Length (2 octets, big-endian: the NAS message only) | NAS message
//! ```
//!
//! [`NasEnvelopeReader`] reassembles messages from a byte stream cut anywhere, with a bound on
//! the size of one message and on the octets it buffers; [`frame`] writes one.

use core::fmt;

/// Octets of the Length field.
pub const LENGTH_LEN: usize = 2;

/// Why the stream can no longer be read. Each is fatal for the connection: framing cannot be
/// recovered once a length is wrong, so the caller closes the TCP connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// A Length field of 0: there is no empty NAS message.
    EmptyMessage,
    /// A Length field above the reader's message bound.
    MessageTooLarge { length: usize, max: usize },
    /// Pushing these octets would exceed the reader's buffer bound. Nothing was buffered; the
    /// caller reads less from the socket (back-pressure) or closes it.
    BufferFull {
        buffered: usize,
        pushed: usize,
        max: usize,
    },
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyMessage => f.write_str("NAS envelope of length 0"),
            Self::MessageTooLarge { length, max } => {
                write!(f, "NAS message of {length} octets (at most {max})")
            }
            Self::BufferFull {
                buffered,
                pushed,
                max,
            } => write!(
                f,
                "{pushed} octets on top of {buffered} buffered (at most {max})"
            ),
        }
    }
}

impl std::error::Error for EnvelopeError {}

/// Reassembles NAS messages from a TCP byte stream.
///
/// Feed received octets with [`NasEnvelopeReader::push`], then take messages with
/// [`NasEnvelopeReader::next_message`] until it returns `Ok(None)`. An error leaves the reader
/// failed: every later call returns it again.
#[derive(Clone, Debug)]
pub struct NasEnvelopeReader {
    buffer: Vec<u8>,
    max_message: usize,
    max_buffered: usize,
    failed: Option<EnvelopeError>,
}

impl NasEnvelopeReader {
    /// The largest NAS message by default: what the Length field can express.
    pub const DEFAULT_MAX_MESSAGE: usize = u16::MAX as usize;

    /// A reader that accepts any message the Length field can express and buffers at most two
    /// such envelopes.
    pub fn new() -> Self {
        Self::with_limits(
            Self::DEFAULT_MAX_MESSAGE,
            2 * (Self::DEFAULT_MAX_MESSAGE + LENGTH_LEN),
        )
    }

    /// A reader refusing messages over `max_message` octets and holding at most `max_buffered`
    /// octets. `max_buffered` is raised to one whole envelope of `max_message` if it is smaller,
    /// so that every message the reader accepts can be reassembled.
    pub fn with_limits(max_message: usize, max_buffered: usize) -> Self {
        let max_message = max_message.clamp(1, Self::DEFAULT_MAX_MESSAGE);
        Self {
            buffer: Vec::new(),
            max_message,
            max_buffered: max_buffered.max(max_message + LENGTH_LEN),
            failed: None,
        }
    }

    /// Buffers octets received from the stream.
    ///
    /// # Errors
    /// [`EnvelopeError::BufferFull`] when they do not fit (nothing is buffered then, and the
    /// reader is not failed: the caller may take messages and push again), or the error that
    /// failed the reader earlier.
    pub fn push(&mut self, octets: &[u8]) -> Result<(), EnvelopeError> {
        if let Some(error) = self.failed {
            return Err(error);
        }
        let buffered = self.buffer.len();
        if buffered + octets.len() > self.max_buffered {
            return Err(EnvelopeError::BufferFull {
                buffered,
                pushed: octets.len(),
                max: self.max_buffered,
            });
        }
        self.buffer.extend_from_slice(octets);
        Ok(())
    }

    /// The next complete NAS message, or `Ok(None)` until more octets arrive.
    ///
    /// # Errors
    /// [`EnvelopeError::EmptyMessage`] or [`EnvelopeError::MessageTooLarge`] as soon as a
    /// Length field is read, before the message body arrives; the reader stays failed.
    pub fn next_message(&mut self) -> Result<Option<Vec<u8>>, EnvelopeError> {
        if let Some(error) = self.failed {
            return Err(error);
        }
        let Some(length) = self.buffer.first_chunk::<LENGTH_LEN>() else {
            return Ok(None);
        };
        let length = usize::from(u16::from_be_bytes(*length));
        if let Err(error) = self.check_length(length) {
            self.failed = Some(error);
            return Err(error);
        }
        if self.buffer.len() < LENGTH_LEN + length {
            return Ok(None);
        }
        let message = self.buffer[LENGTH_LEN..LENGTH_LEN + length].to_vec();
        self.buffer.drain(..LENGTH_LEN + length);
        Ok(Some(message))
    }

    /// Octets buffered and not yet returned as a message.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    fn check_length(&self, length: usize) -> Result<(), EnvelopeError> {
        match length {
            0 => Err(EnvelopeError::EmptyMessage),
            length if length > self.max_message => Err(EnvelopeError::MessageTooLarge {
                length,
                max: self.max_message,
            }),
            _ => Ok(()),
        }
    }
}

impl Default for NasEnvelopeReader {
    fn default() -> Self {
        Self::new()
    }
}

/// Appends one envelope holding `nas_message` to `out`.
///
/// # Errors
/// [`EnvelopeError::EmptyMessage`] for an empty message and
/// [`EnvelopeError::MessageTooLarge`] above 65,535 octets; `out` is then unchanged.
pub fn frame(nas_message: &[u8], out: &mut Vec<u8>) -> Result<(), EnvelopeError> {
    if nas_message.is_empty() {
        return Err(EnvelopeError::EmptyMessage);
    }
    let length = u16::try_from(nas_message.len()).map_err(|_| EnvelopeError::MessageTooLarge {
        length: nas_message.len(),
        max: NasEnvelopeReader::DEFAULT_MAX_MESSAGE,
    })?;
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(nas_message);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTRATION_ACCEPT: [u8; 5] = [0x7e, 0x02, 0x00, 0x00, 0x42];
    const REGISTRATION_COMPLETE: [u8; 3] = [0x7e, 0x00, 0x43];

    fn stream() -> Vec<u8> {
        let mut out = Vec::new();
        frame(&REGISTRATION_ACCEPT, &mut out).unwrap();
        frame(&REGISTRATION_COMPLETE, &mut out).unwrap();
        out
    }

    #[test]
    fn frame_is_length_then_message() {
        assert_eq!(
            stream(),
            [0, 5, 0x7e, 0x02, 0x00, 0x00, 0x42, 0, 3, 0x7e, 0x00, 0x43]
        );
    }

    fn drain(reader: &mut NasEnvelopeReader) -> Vec<Vec<u8>> {
        std::iter::from_fn(|| reader.next_message().unwrap()).collect()
    }

    /// Every way of cutting the stream in up to three pieces gives the same two messages.
    #[test]
    fn stream_split_anywhere() {
        let bytes = stream();
        for first in 0..=bytes.len() {
            for second in first..=bytes.len() {
                let mut reader = NasEnvelopeReader::new();
                let mut messages = Vec::new();
                for piece in [&bytes[..first], &bytes[first..second], &bytes[second..]] {
                    reader.push(piece).unwrap();
                    messages.extend(drain(&mut reader));
                }
                assert_eq!(
                    messages,
                    [REGISTRATION_ACCEPT.to_vec(), REGISTRATION_COMPLETE.to_vec()]
                );
                assert_eq!(reader.buffered(), 0);
            }
        }
    }

    #[test]
    fn one_octet_at_a_time() {
        let mut reader = NasEnvelopeReader::new();
        let mut messages = Vec::new();
        for octet in stream() {
            reader.push(&[octet]).unwrap();
            messages.extend(drain(&mut reader));
        }
        assert_eq!(messages.len(), 2);
    }

    #[test]
    fn oversized_length_fails_before_the_body_arrives() {
        let mut reader = NasEnvelopeReader::with_limits(4, 16);
        reader.push(&[0, 4, 1, 2, 3, 4, 0, 5]).unwrap();
        assert_eq!(reader.next_message(), Ok(Some(vec![1, 2, 3, 4])));
        let error = EnvelopeError::MessageTooLarge { length: 5, max: 4 };
        assert_eq!(reader.next_message(), Err(error));
        assert_eq!(reader.push(&[0]), Err(error), "the reader stays failed");
        assert_eq!(reader.next_message(), Err(error));
    }

    #[test]
    fn empty_message_is_refused() {
        let mut reader = NasEnvelopeReader::new();
        reader.push(&[0, 0, 0, 1, 0x7e]).unwrap();
        assert_eq!(reader.next_message(), Err(EnvelopeError::EmptyMessage));
        assert_eq!(
            frame(&[], &mut Vec::new()),
            Err(EnvelopeError::EmptyMessage)
        );
    }

    #[test]
    fn buffer_bound_is_reached_and_recovers() {
        // The bound is raised to one whole envelope of the largest message: 4 + 2.
        let mut reader = NasEnvelopeReader::with_limits(4, 1);
        reader.push(&[0, 1, 9, 0, 1]).unwrap();
        let full = EnvelopeError::BufferFull {
            buffered: 5,
            pushed: 2,
            max: 6,
        };
        assert_eq!(reader.push(&[8, 0]), Err(full));
        assert_eq!(reader.buffered(), 5, "nothing was buffered");
        assert_eq!(reader.next_message(), Ok(Some(vec![9])));
        reader.push(&[8, 0]).unwrap();
        assert_eq!(reader.next_message(), Ok(Some(vec![8])));
    }

    #[test]
    fn largest_message_fits_the_default_reader() {
        let message = vec![0x7e; 65_535];
        let mut bytes = Vec::new();
        frame(&message, &mut bytes).unwrap();
        let mut reader = NasEnvelopeReader::new();
        reader.push(&bytes).unwrap();
        reader.push(&bytes).unwrap();
        assert!(reader.push(&[0]).is_err());
        assert_eq!(drain(&mut reader).len(), 2);
        let too_large = frame(&[0; 65_536], &mut bytes);
        assert!(matches!(
            too_large,
            Err(EnvelopeError::MessageTooLarge { length: 65_536, .. })
        ));
    }
}
