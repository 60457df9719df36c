//! `[[n3iwf.tracking_areas]]`: the TAs of NG SETUP REQUEST, each with its PLMNs and slices.

use std::ops::Range;

use ::n3iwf::ids::{Snssai, Tac};
use ::n3iwf::ngap::{PlmnSlices, SupportedTa};
use toml::Spanned;

use super::raw::{RawPlmnSlices, RawTac, RawTrackingArea};
use crate::config::load::Validator;

impl Validator<'_> {
    /// At least one tracking area, each with at least one PLMN, each with at least one slice.
    pub(super) fn tracking_areas(
        &mut self,
        raw: &[Spanned<RawTrackingArea>],
        section: &Range<usize>,
    ) -> Vec<SupportedTa> {
        if raw.is_empty() {
            self.error(
                section,
                "n3iwf.tracking_areas",
                "needs at least one [[n3iwf.tracking_areas]] (NG SETUP REQUEST lists them)",
            );
        }
        let mut out: Vec<SupportedTa> = Vec::new();
        for ta in raw {
            let field = "n3iwf.tracking_areas";
            let Some(tac) = self.tac(&format!("{field}.tac"), &ta.get_ref().tac) else {
                continue;
            };
            if out.iter().any(|t| t.tac == tac) {
                let span = ta.get_ref().tac.span();
                self.error(&span, &format!("{field}.tac"), "tracking area listed twice");
            }
            let plmns = self.broadcast_plmns(&format!("{field}.plmns"), &ta.get_ref().plmns);
            out.push(SupportedTa {
                tac,
                broadcast_plmns: plmns,
            });
        }
        out
    }

    /// A 24-bit TAC: a number, or six hex digits (`"000001"`).
    fn tac(&mut self, field: &str, raw: &Spanned<RawTac>) -> Option<Tac> {
        let value = match raw.get_ref() {
            RawTac::Number(n) => u32::try_from(*n).ok().filter(|n| *n <= 0xff_ffff),
            RawTac::Hex(s) if s.len() == 6 => u32::from_str_radix(s, 16).ok(),
            RawTac::Hex(_) => None,
        };
        let Some(v) = value else {
            self.error(
                &raw.span(),
                field,
                "a TAC is a number up to 16777215 or six hex digits (\"000001\")",
            );
            return None;
        };
        let [_, a, b, c] = v.to_be_bytes();
        Some(Tac([a, b, c]))
    }

    fn broadcast_plmns(
        &mut self,
        field: &str,
        raw: &Spanned<Vec<Spanned<RawPlmnSlices>>>,
    ) -> Vec<PlmnSlices> {
        if raw.get_ref().is_empty() {
            self.error(&raw.span(), field, "needs at least one PLMN");
        }
        let mut out: Vec<PlmnSlices> = Vec::new();
        for p in raw.get_ref() {
            let RawPlmnSlices { plmn, slices } = p.get_ref();
            let Some(plmn_id) = self.plmn(&format!("{field}.plmn"), plmn) else {
                continue;
            };
            if out.iter().any(|o| o.plmn == plmn_id) {
                self.error(&plmn.span(), &format!("{field}.plmn"), "PLMN listed twice");
            }
            let slices = self.slices(&format!("{field}.slices"), slices);
            out.push(PlmnSlices {
                plmn: plmn_id,
                slices,
            });
        }
        out
    }

    /// S-NSSAIs as `SST` or `SST-SD` (`"1"`, `"1-010203"`).
    fn slices(&mut self, field: &str, raw: &Spanned<Vec<Spanned<String>>>) -> Vec<Snssai> {
        if raw.get_ref().is_empty() {
            self.error(&raw.span(), field, "needs at least one slice");
        }
        let mut out = Vec::new();
        for s in raw.get_ref() {
            match snssai(s.get_ref()) {
                Some(n) if out.contains(&n) => {
                    self.error(&s.span(), field, format!("'{}' listed twice", s.get_ref()))
                }
                Some(n) => out.push(n),
                None => self.error(
                    &s.span(),
                    field,
                    format!(
                        "'{}' is not SST or SST-SD (SST 0-255, SD six hex digits: \"1\", \"1-010203\")",
                        s.get_ref()
                    ),
                ),
            }
        }
        out
    }
}

fn snssai(text: &str) -> Option<Snssai> {
    let (sst, sd) = match text.split_once('-') {
        Some((sst, sd)) => (sst, Some(sd)),
        None => (text, None),
    };
    let sst: u8 = sst.parse().ok()?;
    let Some(sd) = sd else {
        return Some(Snssai::new(sst));
    };
    if sd.len() != 6 {
        return None;
    }
    let [_, a, b, c] = u32::from_str_radix(sd, 16).ok()?.to_be_bytes();
    Some(Snssai::with_sd(sst, [a, b, c]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_parse_with_and_without_sd() {
        assert_eq!(snssai("1"), Some(Snssai::new(1)));
        assert_eq!(
            snssai("255-fffffe"),
            Some(Snssai::with_sd(255, [0xff, 0xff, 0xfe]))
        );
        for bad in [
            "",
            "256",
            "1-",
            "1-01020",
            "1-0102030",
            "1-zz0203",
            "-010203",
            "x",
        ] {
            assert_eq!(snssai(bad), None, "{bad}");
        }
    }
}
