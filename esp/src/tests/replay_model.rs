//! The replay window against a plain model: the set of numbers seen plus the highest.
//!
//! Each step offers the low 32 bits of a full 64-bit number, as the wire does. When the window
//! guesses different high bits than the sender used, a real packet would fail its ICV; the model
//! treats that guess as a rejection and nothing is committed.

use std::collections::HashSet;

use proptest::prelude::*;

use crate::DropReason;
use crate::replay::ReplayWindow;

#[derive(Default)]
struct Model {
    seen: HashSet<u64>,
    highest: u64,
}

impl Model {
    /// What RFC 4303 §3.4.3 says about `seq` with a window of `size`.
    fn verdict(&self, seq: u64, size: u64) -> Result<(), DropReason> {
        if seq > self.highest {
            Ok(())
        } else if self.highest - seq >= size {
            Err(DropReason::OutsideWindow)
        } else if self.seen.contains(&seq) {
            Err(DropReason::Replayed)
        } else {
            Ok(())
        }
    }
}

/// Offsets from the current highest number: mostly near it, sometimes far behind or ahead.
fn offset() -> impl Strategy<Value = i64> {
    prop_oneof![
        8 => -80i64..20,
        2 => -3000i64..3000,
        1 => 1i64..100_000,
    ]
}

fn run(size: u32, esn: bool, start: u64, offsets: &[i64]) -> Result<(), TestCaseError> {
    let mut window = ReplayWindow::new(size, esn);
    let mut model = Model::default();
    if start != 0 {
        window.set_top(start);
        model.highest = start;
        model.seen.insert(start);
    }
    let size = u64::from(size);
    for &off in offsets {
        let Some(seq) = model.highest.checked_add_signed(off).filter(|&s| s != 0) else {
            continue;
        };
        if !esn && seq > u64::from(u32::MAX) {
            continue;
        }
        let expected = model.verdict(seq, size);
        match window.check((seq & 0xffff_ffff) as u32) {
            Ok(guess) if guess == seq => {
                prop_assert_eq!(expected, Ok(()), "seq {:#x} accepted", seq);
                window.commit(seq);
                model.seen.insert(seq);
                model.highest = model.highest.max(seq);
            }
            // A wrong guess of the high bits: the ICV would fail. Only numbers left of the
            // window may be guessed into another block.
            Ok(guess) => {
                prop_assert!(esn, "guess {:#x} for {:#x} without ESN", guess, seq);
                prop_assert_eq!(expected, Err(DropReason::OutsideWindow), "seq {:#x}", seq);
            }
            Err(e) => prop_assert_eq!(Err(e), expected, "seq {:#x}", seq),
        }
        prop_assert_eq!(window.top(), model.highest);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn window_matches_the_model(
        size in prop_oneof![Just(1u32), Just(32), Just(64), Just(100), Just(1024)],
        offsets in prop::collection::vec(offset(), 1..400),
    ) {
        run(size, false, 0, &offsets)?;
    }

    #[test]
    fn esn_window_matches_the_model_across_2_32(
        size in prop_oneof![Just(1u32), Just(64), Just(128), Just(1024)],
        start in prop_oneof![Just((1u64 << 32) - 2000), Just((3u64 << 32) - 50), 1u64..5000],
        offsets in prop::collection::vec(offset(), 1..400),
    ) {
        run(size, true, start, &offsets)?;
    }
}
