//! The anti-replay window (RFC 4303 §3.4.3) with 64-bit ESN reconstruction (RFC 4303
//! Appendix A).
//!
//! Checking is split in two phases: [`ReplayWindow::check`] runs before decryption and changes
//! nothing; [`ReplayWindow::commit`] runs only once the ICV has verified. A forged packet
//! therefore can never move the window.
//!
//! The window is a ring of 64-bit words indexed by sequence number. Advancing the right edge
//! clears the words it passes, so a jump costs at most one pass over the ring whatever its size.

use crate::error::DropReason;

/// Bits per bitmap word.
const WORD_BITS: u64 = 64;

/// Anti-replay state of one inbound SA.
#[derive(Debug)]
pub(crate) struct ReplayWindow {
    /// Window size in packets; 0 disables replay checking (the right edge is still tracked for
    /// ESN reconstruction).
    size: u64,
    /// Highest authenticated sequence number; 0 before the first packet.
    top: u64,
    esn: bool,
    /// Ring bitmap; its length is a power of two, and it is empty when checking is disabled.
    bits: Box<[u64]>,
}

impl ReplayWindow {
    /// A window of `size` packets (0 disables checking).
    pub(crate) fn new(size: u32, esn: bool) -> Self {
        let size = u64::from(size);
        let bits = if size == 0 {
            Box::default()
        } else {
            // One spare word, so that the word holding the left edge is never the word being
            // cleared for the right edge.
            let words = (size.div_ceil(WORD_BITS) + 1).next_power_of_two();
            vec![0; usize::try_from(words).unwrap_or(usize::MAX)].into_boxed_slice()
        };
        Self {
            size,
            top: 0,
            esn,
            bits,
        }
    }

    /// Phase one: the full sequence number of a packet whose ESP header carries `seq_low`, if
    /// that packet may be accepted. Nothing changes.
    ///
    /// # Errors
    /// [`DropReason::OutsideWindow`] for a number left of the window (or zero, or not
    /// reconstructible); [`DropReason::Replayed`] for one already received.
    pub(crate) fn check(&self, seq_low: u32) -> Result<u64, DropReason> {
        let seq = self.reconstruct(seq_low).ok_or(DropReason::OutsideWindow)?;
        if seq == 0 {
            return Err(DropReason::OutsideWindow);
        }
        if self.size == 0 || seq > self.top {
            return Ok(seq);
        }
        if self.top - seq >= self.size {
            return Err(DropReason::OutsideWindow);
        }
        if self.is_marked(seq) {
            return Err(DropReason::Replayed);
        }
        Ok(seq)
    }

    /// Phase two, after the ICV verified: records `seq` (as returned by [`ReplayWindow::check`])
    /// and moves the right edge if `seq` is beyond it.
    pub(crate) fn commit(&mut self, seq: u64) {
        if seq > self.top {
            self.advance(seq);
        }
        if self.size != 0 && self.top - seq < self.size {
            let mask = self.mask();
            if let Some(word) = self.bits.get_mut(word_index(seq, mask)) {
                *word |= 1 << (seq % WORD_BITS);
            }
        }
    }

    /// The highest authenticated sequence number (0 before the first packet).
    pub(crate) fn top(&self) -> u64 {
        self.top
    }

    /// Window size in packets (0 when disabled).
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// Moves the right edge as if `top` had been received (for tests that start near the 2^32
    /// boundary).
    #[cfg(test)]
    pub(crate) fn set_top(&mut self, top: u64) {
        self.bits.fill(0);
        self.top = top;
        if top != 0 {
            self.commit(top);
        }
    }

    /// RFC 4303 Appendix A2.2: picks the high 32 bits that put `seq_low` inside, or just right
    /// of, the window. Without ESN the number is used as it is.
    fn reconstruct(&self, seq_low: u32) -> Option<u64> {
        if !self.esn {
            return Some(u64::from(seq_low));
        }
        // With replay checking disabled, the guess is the candidate closest to the right edge.
        let window = if self.size == 0 { 1 << 31 } else { self.size };
        let window = u32::try_from(window).unwrap_or(u32::MAX);
        let top_low = (self.top & 0xffff_ffff) as u32;
        let top_high = (self.top >> 32) as u32;
        let bottom = top_low.wrapping_sub(window - 1);
        let high = if top_low >= window - 1 {
            // Case A: the window lies within one 2^32 block.
            if seq_low >= bottom {
                top_high
            } else {
                top_high.checked_add(1)?
            }
        } else if seq_low >= bottom {
            // Case B: the window straddles a block boundary and `seq_low` is in the old block.
            top_high.checked_sub(1)?
        } else {
            top_high
        };
        Some(u64::from(high) << 32 | u64::from(seq_low))
    }

    fn is_marked(&self, seq: u64) -> bool {
        self.bits
            .get(word_index(seq, self.mask()))
            .is_some_and(|word| word & (1 << (seq % WORD_BITS)) != 0)
    }

    fn advance(&mut self, seq: u64) {
        if !self.bits.is_empty() {
            let mask = self.mask();
            let old_word = self.top / WORD_BITS;
            let new_word = seq / WORD_BITS;
            let ring_words = self.bits.len() as u64;
            if new_word - old_word >= ring_words {
                self.bits.fill(0);
            } else {
                for w in old_word + 1..=new_word {
                    if let Some(word) = self.bits.get_mut(word_index(w * WORD_BITS, mask)) {
                        *word = 0;
                    }
                }
            }
        }
        self.top = seq;
    }

    fn mask(&self) -> u64 {
        (self.bits.len() as u64).saturating_sub(1)
    }
}

fn word_index(seq: u64, mask: u64) -> usize {
    // The mask is below the ring length, which fits in usize.
    usize::try_from((seq / WORD_BITS) & mask).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(w: &mut ReplayWindow, seq_low: u32) -> Result<u64, DropReason> {
        let seq = w.check(seq_low)?;
        w.commit(seq);
        Ok(seq)
    }

    #[test]
    fn in_order_then_duplicates_then_too_old() {
        let mut w = ReplayWindow::new(64, false);
        for s in 1..=200 {
            assert_eq!(accept(&mut w, s), Ok(u64::from(s)));
        }
        assert_eq!(w.check(200), Err(DropReason::Replayed));
        assert_eq!(w.check(137), Err(DropReason::Replayed));
        assert_eq!(w.check(136), Err(DropReason::OutsideWindow));
        assert_eq!(w.check(0), Err(DropReason::OutsideWindow));
    }

    #[test]
    fn reordering_inside_the_window_is_accepted_once() {
        let mut w = ReplayWindow::new(32, false);
        assert_eq!(accept(&mut w, 40), Ok(40));
        assert_eq!(accept(&mut w, 9), Ok(9));
        assert_eq!(w.check(8), Err(DropReason::OutsideWindow));
        assert_eq!(accept(&mut w, 20), Ok(20));
        assert_eq!(w.check(20), Err(DropReason::Replayed));
    }

    #[test]
    fn check_alone_does_not_move_the_window() {
        let mut w = ReplayWindow::new(32, false);
        assert_eq!(w.check(1000), Ok(1000));
        assert_eq!(accept(&mut w, 5), Ok(5));
        assert_eq!(w.top(), 5);
    }

    #[test]
    fn a_big_jump_clears_the_whole_ring() {
        let mut w = ReplayWindow::new(128, false);
        for s in 1..=128 {
            accept(&mut w, s).unwrap();
        }
        accept(&mut w, 100_000).unwrap();
        for s in 99_873..100_000 {
            assert_eq!(w.check(s), Ok(u64::from(s)), "{s}");
        }
        assert_eq!(w.check(99_872), Err(DropReason::OutsideWindow));
    }

    #[test]
    fn disabled_window_accepts_duplicates() {
        let mut w = ReplayWindow::new(0, false);
        assert_eq!(accept(&mut w, 7), Ok(7));
        assert_eq!(accept(&mut w, 7), Ok(7));
        assert_eq!(accept(&mut w, 1), Ok(1));
        assert_eq!(w.check(0), Err(DropReason::OutsideWindow));
    }

    #[test]
    fn esn_crosses_the_2_32_boundary() {
        let mut w = ReplayWindow::new(64, true);
        w.set_top(0xffff_ff00);
        // Only the odd numbers of the end of the first 2^32 block arrive.
        for low in (0xffff_ff01..=u32::MAX).step_by(2) {
            assert_eq!(accept(&mut w, low), Ok(u64::from(low)));
        }
        // Low bits 0 and up now belong to the next block.
        assert_eq!(accept(&mut w, 0), Ok(1 << 32));
        assert_eq!(accept(&mut w, 5), Ok((1 << 32) + 5));
        // Late packets from the old block are still placed in it (case B of Appendix A2.2).
        assert_eq!(w.check(0xffff_fff1), Err(DropReason::Replayed));
        assert_eq!(w.check(0xffff_fff0), Ok(0xffff_fff0));
        assert_eq!(w.check(0xffff_ffc6), Ok(0xffff_ffc6));
        // Below the window the guess is the next block; the ICV then decides.
        assert_eq!(w.check(0xffff_ffc5), Ok(0x1_ffff_ffc5));
        assert_eq!(accept(&mut w, 0xffff_fff0), Ok(0xffff_fff0));
        assert_eq!(w.check(0xffff_fff0), Err(DropReason::Replayed));
        assert_eq!(accept(&mut w, 3), Ok((1 << 32) + 3));
        assert_eq!(w.check(3), Err(DropReason::Replayed));
    }

    #[test]
    fn esn_never_reconstructs_below_zero() {
        let w = ReplayWindow::new(64, true);
        assert_eq!(w.check(u32::MAX), Err(DropReason::OutsideWindow));
        assert_eq!(w.check(1), Ok(1));
    }
}
