//! Phase timings from charon's log (`filelog` with `time_precision = us` and `ike_name = yes`,
//! as [`crate::CharonConfig`] writes it).
//!
//! Each exchange is timed as its requester sees it: from the first `generating X request N` to
//! the last `parsed X response N` (fragments and reassembly included, the processing at both
//! ends too); as responder, from the first `parsed X request N` to the last
//! `generating X response N`.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Microseconds since the Unix epoch (UTC, wall clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// The current wall-clock time.
    pub fn now() -> Self {
        Self::from(SystemTime::now())
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS.uuuuuu` (UTC), the lab's log time format.
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
            return None;
        }
        let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
        let (y, mo, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
        let (h, mi, sec) = (n(11..13)?, n(14..16)?, n(17..19)?);
        let micros = match s.get(19..) {
            Some(f) if f.starts_with('.') => {
                let digits = &f[1..];
                if digits.is_empty()
                    || digits.len() > 6
                    || !digits.bytes().all(|c| c.is_ascii_digit())
                {
                    return None;
                }
                digits.parse::<u64>().ok()? * 10u64.pow(6 - digits.len() as u32)
            }
            Some("") | None => 0,
            Some(_) => return None,
        };
        let days = days_from_civil(y, mo, d);
        let secs = days * 86_400 + h * 3600 + mi * 60 + sec;
        u64::try_from(secs)
            .ok()
            .map(|s| Self(s * 1_000_000 + micros))
    }

    /// `self - earlier`, zero if `earlier` is later.
    pub fn since(self, earlier: Self) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }
}

impl From<SystemTime> for Timestamp {
    fn from(t: SystemTime) -> Self {
        Self(
            t.duration_since(UNIX_EPOCH)
                .map(|d| d.as_micros() as u64)
                .unwrap_or(0),
        )
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// One line of charon's log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogLine<'a> {
    /// When it was logged.
    pub time: Timestamp,
    /// charon's thread number.
    pub thread: u32,
    /// Log group, e.g. `IKE`, `ENC`, `NET`.
    pub group: &'a str,
    /// `<name|unique id>` of the IKE_SA, when the line belongs to one.
    pub ike_sa: Option<(&'a str, u32)>,
    /// The message text.
    pub message: &'a str,
}

/// Parses one log line: `2026-01-02T03:04:05.123456 07[ENC] <net|1> generating ...`.
pub fn parse_log_line(line: &str) -> Option<LogLine<'_>> {
    let (ts, rest) = line.split_once(' ')?;
    let time = Timestamp::parse(ts)?;
    let rest = rest.trim_start();
    let (head, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let (thread, group) = head.split_once('[')?;
    let group = group.strip_suffix(']')?;
    let thread = thread.parse().ok()?;
    let (ike_sa, message) = match rest.strip_prefix('<') {
        Some(r) => {
            let (tag, msg) = r.split_once("> ")?;
            let (name, id) = tag.rsplit_once('|')?;
            (Some((name, id.parse().ok()?)), msg)
        }
        None => (None, rest),
    };
    Some(LogLine {
        time,
        thread,
        group,
        ike_sa,
        message,
    })
}

/// One IKE exchange (request and response) as seen in one log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// e.g. `IKE_SA_INIT`, `IKE_INTERMEDIATE`, `IKE_AUTH`, `CREATE_CHILD_SA`,
    /// `IKE_FOLLOWUP_KE`, `INFORMATIONAL`.
    pub kind: String,
    /// Message ID.
    pub message_id: u32,
    /// Whether this end sent the request.
    pub requester: bool,
    /// First `generating ... request` (requester) or `parsed ... request` (responder).
    pub start: Timestamp,
    /// Last `parsed ... response` (requester) or `generating ... response` (responder).
    pub end: Option<Timestamp>,
}

impl Exchange {
    /// Duration of the exchange, when it completed.
    pub fn duration(&self) -> Option<Duration> {
        self.end.map(|e| e.since(self.start))
    }
}

/// What one log says about one IKE_SA (by its unique id).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IkeSaTimeline {
    /// Connection name.
    pub name: String,
    /// charon's unique id of the IKE_SA.
    pub unique_id: u32,
    /// `initiating IKE_SA` (initiator only).
    pub initiated: Option<Timestamp>,
    /// `IKE_SA ... established`.
    pub established: Option<Timestamp>,
    /// Exchanges in the order they started.
    pub exchanges: Vec<Exchange>,
    /// `CHILD_SA name{n} established` (outbound for rekeyed ones): `(name{n}, time)`.
    pub children_installed: Vec<(String, Timestamp)>,
    /// Retransmitted requests.
    pub retransmits: u32,
}

fn split_exchange(rest: &str) -> Option<(&str, u32)> {
    // "<KIND> request|response <id> [ ... ]"
    let mut it = rest.split_whitespace();
    let kind = it.next()?;
    let _dir = it.next()?;
    let id = it.next()?.parse().ok()?;
    Some((kind, id))
}

/// Groups the log by IKE_SA and extracts exchanges and milestones; IKE_SAs in order of first
/// appearance.
pub fn timelines(log: &str) -> Vec<IkeSaTimeline> {
    let mut order: Vec<u32> = Vec::new();
    let mut by_id: BTreeMap<u32, IkeSaTimeline> = BTreeMap::new();
    for line in log.lines().filter_map(parse_log_line) {
        let Some((name, id)) = line.ike_sa else {
            continue;
        };
        let t = by_id.entry(id).or_insert_with(|| {
            order.push(id);
            IkeSaTimeline {
                name: name.to_owned(),
                unique_id: id,
                ..Default::default()
            }
        });
        let m = line.message;
        let ex = |requester: bool, rest: &str| {
            split_exchange(rest).map(|(k, n)| (k.to_owned(), n, requester))
        };
        let (found, is_start) = if let Some(rest) = m.strip_prefix("generating ") {
            (
                ex(rest.contains(" request "), rest),
                rest.contains(" request "),
            )
        } else if let Some(rest) = m.strip_prefix("parsed ") {
            (
                ex(rest.contains(" response "), rest),
                rest.contains(" request "),
            )
        } else {
            (None, false)
        };
        if let Some((kind, n, requester)) = found {
            let pos = t
                .exchanges
                .iter()
                .position(|e| e.kind == kind && e.message_id == n && e.requester == requester);
            match (pos, is_start) {
                (None, true) => t.exchanges.push(Exchange {
                    kind,
                    message_id: n,
                    requester,
                    start: line.time,
                    end: None,
                }),
                (Some(i), false) => t.exchanges[i].end = Some(line.time),
                _ => {}
            }
        } else if m.starts_with("initiating IKE_SA ") {
            t.initiated.get_or_insert(line.time);
        } else if m.starts_with("IKE_SA ") && m.contains(" established between ") {
            t.established.get_or_insert(line.time);
        } else if m.contains("CHILD_SA ")
            && m.contains(" established with SPIs")
            && !m.starts_with("inbound ")
        {
            let label = m
                .trim_start_matches("outbound ")
                .trim_start_matches("CHILD_SA ")
                .split_whitespace()
                .next()
                .unwrap_or_default();
            t.children_installed.push((label.to_owned(), line.time));
        } else if m.starts_with("retransmit ") {
            t.retransmits += 1;
        }
    }
    order
        .into_iter()
        .filter_map(|id| by_id.remove(&id))
        .collect()
}

/// Phase timings of one IKE_SA, from the initiator's log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PhaseTimings {
    /// IKE_SA_INIT round trip.
    pub ike_sa_init: Option<Duration>,
    /// Each IKE_INTERMEDIATE round trip (one per additional key exchange).
    pub ike_intermediate: Vec<Duration>,
    /// IKE_AUTH: first request to last response (several round trips with EAP).
    pub ike_auth: Option<Duration>,
    /// Each CREATE_CHILD_SA this end requested, through the last IKE_FOLLOWUP_KE that belongs
    /// to it (RFC 9370 additional key exchanges).
    pub create_child_sa: Vec<Duration>,
    /// `initiating IKE_SA` to `IKE_SA established`.
    pub initiate_to_established: Option<Duration>,
    /// `initiating IKE_SA` to the first `CHILD_SA established`.
    pub initiate_to_child_installed: Option<Duration>,
    /// `initiating IKE_SA` to the first packet answered through the tunnel (set with
    /// [`PhaseTimings::with_first_packet`]; the log does not show it).
    pub initiate_to_first_packet: Option<Duration>,
}

impl PhaseTimings {
    /// The phases of `t`, which must come from the initiator's log.
    pub fn from_timeline(t: &IkeSaTimeline) -> Self {
        let mine: Vec<&Exchange> = t.exchanges.iter().filter(|e| e.requester).collect();
        let one = |kind: &str| {
            mine.iter()
                .find(|e| e.kind == kind)
                .and_then(|e| e.duration())
        };
        let auth: Vec<&&Exchange> = mine.iter().filter(|e| e.kind == "IKE_AUTH").collect();
        let ike_auth = match (auth.first(), auth.last().and_then(|e| e.end)) {
            (Some(first), Some(end)) => Some(end.since(first.start)),
            _ => None,
        };
        let mut create_child_sa = Vec::new();
        for (i, e) in mine.iter().enumerate() {
            if e.kind != "CREATE_CHILD_SA" {
                continue;
            }
            let mut end = e.end;
            for f in mine[i + 1..]
                .iter()
                .take_while(|f| f.kind == "IKE_FOLLOWUP_KE")
            {
                end = f.end.or(end);
            }
            if let Some(end) = end {
                create_child_sa.push(end.since(e.start));
            }
        }
        let since = |x: Option<Timestamp>| Some(x?.since(t.initiated?));
        Self {
            ike_sa_init: one("IKE_SA_INIT"),
            ike_intermediate: mine
                .iter()
                .filter(|e| e.kind == "IKE_INTERMEDIATE")
                .filter_map(|e| e.duration())
                .collect(),
            ike_auth,
            create_child_sa,
            initiate_to_established: since(t.established),
            initiate_to_child_installed: since(t.children_installed.first().map(|c| c.1)),
            initiate_to_first_packet: None,
        }
    }

    /// Sets `initiate_to_first_packet` from the time the first packet came back through the
    /// tunnel (for example from [`crate::FirstPacketProbe`]) and the timeline's initiation.
    pub fn with_first_packet(mut self, t: &IkeSaTimeline, first_packet: Timestamp) -> Self {
        self.initiate_to_first_packet = t.initiated.map(|i| first_packet.since(i));
        self
    }
}

/// The median of `values` (mean of the two middle ones for an even count).
pub fn median(values: &[Duration]) -> Option<Duration> {
    let mut v = values.to_vec();
    v.sort();
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2),
    }
}

/// Medians (and ranges) of phase timings over many initiations.
#[derive(Clone, Debug, Default)]
pub struct PhaseSummary {
    /// Rows of `(phase, samples)`.
    pub rows: Vec<(&'static str, Vec<Duration>)>,
    /// Number of initiations summarised.
    pub runs: usize,
}

impl PhaseSummary {
    /// Collects the samples of every phase.
    pub fn new(runs: &[PhaseTimings]) -> Self {
        let opt = |f: fn(&PhaseTimings) -> Option<Duration>| runs.iter().filter_map(f).collect();
        let all =
            |f: fn(&PhaseTimings) -> &Vec<Duration>| runs.iter().flat_map(f).copied().collect();
        Self {
            rows: vec![
                ("IKE_SA_INIT", opt(|p| p.ike_sa_init)),
                ("IKE_INTERMEDIATE", all(|p| &p.ike_intermediate)),
                ("IKE_AUTH", opt(|p| p.ike_auth)),
                (
                    "CREATE_CHILD_SA (+FOLLOWUP_KE)",
                    all(|p| &p.create_child_sa),
                ),
                (
                    "initiate -> IKE_SA established",
                    opt(|p| p.initiate_to_established),
                ),
                (
                    "initiate -> CHILD_SA installed",
                    opt(|p| p.initiate_to_child_installed),
                ),
                (
                    "initiate -> first packet",
                    opt(|p| p.initiate_to_first_packet),
                ),
            ],
            runs: runs.len(),
        }
    }

    /// The median of one phase, by its row name.
    pub fn median(&self, phase: &str) -> Option<Duration> {
        self.rows
            .iter()
            .find(|(n, _)| *n == phase)
            .and_then(|(_, v)| median(v))
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

impl fmt::Display for PhaseSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<34} {:>10} {:>10} {:>10} {:>4}",
            "phase (ms)", "median", "min", "max", "n"
        )?;
        for (name, v) in &self.rows {
            match median(v) {
                Some(m) => writeln!(
                    f,
                    "{name:<34} {:>10} {:>10} {:>10} {:>4}",
                    ms(m),
                    ms(v.iter().min().copied().unwrap_or_default()),
                    ms(v.iter().max().copied().unwrap_or_default()),
                    v.len()
                )?,
                None => writeln!(f, "{name:<34} {:>10} {:>10} {:>10} {:>4}", "-", "-", "-", 0)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "\
2026-11-23T09:08:04.404844 01[CFG] vici initiate CHILD_SA 'net'
2026-11-23T09:08:04.405034 02[IKE] <net|1> initiating IKE_SA net[1] to 192.0.2.2
2026-11-23T09:08:04.405165 02[ENC] <net|1> generating IKE_SA_INIT request 0 [ SA KE No N(NATD_S_IP) ]
2026-11-23T09:08:04.405189 02[NET] <net|1> sending packet: from 192.0.2.1[500] to 192.0.2.2[500] (248 bytes)
2026-11-23T09:08:04.406331 13[ENC] <net|1> parsed IKE_SA_INIT response 0 [ SA KE No ]
2026-11-23T09:08:04.406610 13[ENC] <net|1> generating IKE_INTERMEDIATE request 1 [ KE ]
2026-11-23T09:08:04.406629 13[ENC] <net|1> generating IKE_INTERMEDIATE request 1 [ EF(1/2) ]
2026-11-23T09:08:04.406678 13[ENC] <net|1> generating IKE_INTERMEDIATE request 1 [ EF(2/2) ]
2026-11-23T09:08:04.410300 17[ENC] <net|1> parsed IKE_INTERMEDIATE response 1 [ EF(1/2) ]
2026-11-23T09:08:04.410315 17[ENC] <net|1> parsed IKE_INTERMEDIATE response 1 [ KE ]
2026-11-23T09:08:04.410594 17[ENC] <net|1> generating IKE_AUTH request 2 [ IDi AUTH SA TSi TSr ]
2026-11-23T09:08:04.411526 22[ENC] <net|1> parsed IKE_AUTH response 2 [ IDr AUTH SA TSi TSr ]
2026-11-23T09:08:04.411572 22[IKE] <net|1> IKE_SA net[1] established between 192.0.2.1[left]...192.0.2.2[right]
2026-11-23T09:08:04.412338 22[IKE] <net|1> CHILD_SA net{1} established with SPIs ac466238_i 4389ac51_o and TS 198.51.100.1/32 === 198.51.100.2/32
2026-11-23T09:08:04.698784 24[ENC] <net|1> generating CREATE_CHILD_SA request 3 [ N(REKEY_SA) SA No KE TSi TSr ]
2026-11-23T09:08:04.700086 01[ENC] <net|1> parsed CREATE_CHILD_SA response 3 [ SA No KE TSi TSr N(ADD_KE) ]
2026-11-23T09:08:04.700248 01[ENC] <net|1> generating IKE_FOLLOWUP_KE request 4 [ KE N(ADD_KE) ]
2026-11-23T09:08:04.701946 12[ENC] <net|1> parsed IKE_FOLLOWUP_KE response 4 [ KE ]
2026-11-23T09:08:04.702144 12[IKE] <net|1> inbound CHILD_SA net{2} established with SPIs 2009ef2c_i e680b46d_o and TS 198.51.100.1/32 === 198.51.100.2/32
2026-11-23T09:08:04.702180 12[IKE] <net|1> outbound CHILD_SA net{2} established with SPIs 2009ef2c_i e680b46d_o and TS 198.51.100.1/32 === 198.51.100.2/32
2026-11-23T09:08:04.702208 12[ENC] <net|1> generating INFORMATIONAL request 5 [ D ]
2026-11-23T09:08:04.702572 11[ENC] <net|1> parsed INFORMATIONAL response 5 [ D ]
";

    #[test]
    fn parses_timestamps() {
        assert_eq!(
            Timestamp::parse("1970-01-01T00:00:00.000001"),
            Some(Timestamp(1))
        );
        let t = Timestamp::parse("2026-11-23T09:08:04.405034").unwrap();
        assert_eq!(t.0, 1_795_424_884_405_034);
        assert_eq!(
            Timestamp::parse("2026-11-23T09:08:04.5").unwrap().0 % 1_000_000,
            500_000
        );
        assert!(Timestamp::parse("09:08:04.405034").is_none());
    }

    #[test]
    fn parses_log_lines() {
        let l = parse_log_line(LOG.lines().nth(2).unwrap()).unwrap();
        assert_eq!((l.thread, l.group, l.ike_sa), (2, "ENC", Some(("net", 1))));
        assert!(l.message.starts_with("generating IKE_SA_INIT request 0"));
        let l = parse_log_line(LOG.lines().next().unwrap()).unwrap();
        assert_eq!(l.ike_sa, None);
    }

    #[test]
    fn extracts_phases() {
        let t = timelines(LOG);
        assert_eq!(t.len(), 1);
        let p = PhaseTimings::from_timeline(&t[0]);
        let us = Duration::from_micros;
        assert_eq!(p.ike_sa_init, Some(us(406_331 - 405_165)));
        assert_eq!(p.ike_intermediate, [us(410_315 - 406_610)]);
        assert_eq!(p.ike_auth, Some(us(411_526 - 410_594)));
        assert_eq!(p.create_child_sa, [us(701_946 - 698_784)]);
        assert_eq!(p.initiate_to_established, Some(us(411_572 - 405_034)));
        assert_eq!(p.initiate_to_child_installed, Some(us(412_338 - 405_034)));
        assert_eq!(t[0].children_installed.len(), 2);
        let first = Timestamp::parse("2026-11-23T09:08:04.413034").unwrap();
        let p = p.with_first_packet(&t[0], first);
        assert_eq!(p.initiate_to_first_packet, Some(us(8000)));
        let s = PhaseSummary::new(&[p.clone(), p]);
        assert_eq!(s.median("IKE_AUTH"), Some(us(932)));
        assert!(s.to_string().contains("IKE_INTERMEDIATE"));
    }

    #[test]
    fn median_of_even_count_is_the_mean_of_the_middle() {
        let ms = Duration::from_millis;
        assert_eq!(
            median(&[ms(4), ms(1), ms(3), ms(2)]),
            Some(Duration::from_micros(2500))
        );
        assert_eq!(median(&[]), None);
    }
}
