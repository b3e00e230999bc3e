//! Business time: dates in China Standard Time (UTC+8, no DST), instants in UTC, and the holiday calendar
//! with adjusted working days (调休) that every "N working days" deadline depends on (R9.3).
//!
//! Counting rules (shared with DESIGN.md): the day of the event is not counted; "N natural days" ends at
//! 24:00 of the Nth day after; "N working days" ends at the close of the Nth working day after.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};

/// China Standard Time. Business dates are always read in this zone, whatever the server's zone.
pub fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("8 hours is a valid offset")
}

/// The business date (UTC+8) on which an instant falls.
pub fn business_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&cst()).date_naive()
}

/// 00:00 (UTC+8) at the start of a business date.
pub fn start_of_day(d: NaiveDate) -> DateTime<Utc> {
    cst()
        .from_local_datetime(&d.and_time(NaiveTime::MIN))
        .single()
        .expect("a fixed offset has no gaps")
        .with_timezone(&Utc)
}

/// 24:00 (UTC+8) at the end of a business date, that is 00:00 of the next.
pub fn end_of_day(d: NaiveDate) -> DateTime<Utc> {
    start_of_day(d + Days::new(1))
}

/// "N natural days" after an event: 24:00 (UTC+8) of the Nth day after the event's date (R7.3).
pub fn add_natural_days(t: DateTime<Utc>, n: u32) -> DateTime<Utc> {
    end_of_day(business_date(t) + Days::new(u64::from(n)))
}

/// The days a notice lists: a holiday (a day off, weekend days inside the block included) or an adjusted
/// working day (a Saturday or Sunday made a working day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    Holiday,
    Workday,
}

impl DayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEntry {
    pub date: NaiveDate,
    pub kind: DayKind,
    pub name: String,
}

/// Why a calendar file was refused: the first bad line and the reason, in Chinese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("第 {line} 行:{reason}")]
pub struct CalendarFileError {
    pub line: usize,
    pub reason: String,
}

/// Parses the CSV format of `data/cn-holidays.csv` (`date,kind,name`, `#` comments) and refuses the whole
/// file at its first bad line: a malformed date, an unknown kind, a working day that is not a weekend day,
/// or a date listed twice (in particular both holiday and working day).
pub fn parse_calendar_csv(text: &str) -> Result<Vec<CalendarEntry>, CalendarFileError> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let l = raw.trim().trim_start_matches('\u{feff}');
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let err = |reason: String| CalendarFileError { line, reason };
        let mut parts = l.splitn(3, ',');
        let (date, kind, name) = (parts.next().unwrap_or(""), parts.next(), parts.next());
        let date = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
            .map_err(|_| err(format!("日期“{}”格式不正确,应为 YYYY-MM-DD。", date.trim())))?;
        let kind = match kind.map(str::trim) {
            Some("holiday") => DayKind::Holiday,
            Some("workday") => DayKind::Workday,
            other => {
                return Err(err(format!(
                    "类型“{}”无法识别,应为 holiday(放假)或 workday(调休上班)。",
                    other.unwrap_or("")
                )));
            }
        };
        if kind == DayKind::Workday && !is_weekend(date) {
            return Err(err(format!("{date} 不是周六或周日,不能列为调休上班日。")));
        }
        if !seen.insert(date) {
            return Err(err(format!("{date} 重复列出(同一天不能既放假又上班,也不能列两次)。")));
        }
        out.push(CalendarEntry { date, kind, name: name.unwrap_or("").trim().to_string() });
    }
    Ok(out)
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The Chinese name of a holiday for screens; the data files name them in English.
pub fn holiday_name_zh(name: &str) -> &str {
    match name {
        "New Year's Day" => "元旦",
        "Spring Festival" => "春节",
        "Tomb-sweeping Day" => "清明节",
        "Labour Day" => "劳动节",
        "Dragon Boat Festival" => "端午节",
        "Mid-autumn Festival" => "中秋节",
        "National Day" => "国庆节",
        "National Day and Mid-autumn Festival" => "国庆节、中秋节",
        other => other,
    }
}

/// 周一 … 周日
pub fn weekday_zh(d: NaiveDate) -> &'static str {
    ["周一", "周二", "周三", "周四", "周五", "周六", "周日"][d.weekday().num_days_from_monday() as usize]
}

/// The calendar shipped with the program (2020–2026, State Council notices).
pub const BUNDLED_CALENDAR_CSV: &str = include_str!("../data/cn-holidays.csv");

/// A deadline and whether it rests on a year whose calendar is not loaded (weekends alone were used then,
/// and the deadline must be recomputed once the year's notice is loaded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    pub at: DateTime<Utc>,
    pub date: NaiveDate,
    pub provisional: bool,
}

/// Working days by the holiday calendar. Lookups are by year and day of year, never a scan.
#[derive(Debug, Clone)]
pub struct Calendar {
    /// For each year with any data, bit `ordinal0` says whether that day is a working day.
    days: BTreeMap<i32, Vec<bool>>,
    /// Years whose State Council notice is loaded; other years count weekends alone, provisionally.
    loaded: BTreeSet<i32>,
    /// What each listed date is, for display: national entries, then local ones over them.
    names: BTreeMap<NaiveDate, (DayKind, String)>,
    /// The county's own closures and openings, applied over whatever the notice says.
    local: Vec<CalendarEntry>,
    /// When a working day closes (24:00 by default). The one place that decides it.
    close_of_day: Option<NaiveTime>,
}

impl Default for Calendar {
    fn default() -> Self {
        Calendar::new()
    }
}

fn weekdays_of(year: i32) -> Vec<bool> {
    let days = NaiveDate::from_ymd_opt(year, 12, 31).expect("valid").ordinal();
    (1..=days).map(|o| !is_weekend(NaiveDate::from_yo_opt(year, o).expect("valid ordinal"))).collect()
}

impl Calendar {
    /// A calendar with no year loaded: every deadline is provisional.
    pub fn new() -> Self {
        Calendar {
            days: BTreeMap::new(),
            loaded: BTreeSet::new(),
            names: BTreeMap::new(),
            local: Vec::new(),
            close_of_day: None,
        }
    }

    /// The calendar shipped with the program.
    pub fn bundled() -> Self {
        let mut c = Calendar::new();
        c.load(&parse_calendar_csv(BUNDLED_CALENDAR_CSV).expect("the bundled calendar is valid (unit test)"));
        c
    }

    /// Sets when a working day closes (the office closing time); `None` means 24:00.
    pub fn with_close_of_day(mut self, close: Option<NaiveTime>) -> Self {
        self.close_of_day = close;
        self
    }

    /// Loads a notice: every year that has at least one entry counts as loaded, and replaces what that year
    /// had. Local overrides stay on top.
    pub fn load(&mut self, entries: &[CalendarEntry]) {
        let years: BTreeSet<i32> = entries.iter().map(|e| e.date.year()).collect();
        for y in years {
            self.names.retain(|d, _| d.year() != y);
            let mut bits = weekdays_of(y);
            for e in entries.iter().filter(|e| e.date.year() == y) {
                bits[e.date.ordinal0() as usize] = e.kind == DayKind::Workday;
                self.names.insert(e.date, (e.kind, e.name.clone()));
            }
            self.days.insert(y, bits);
            self.loaded.insert(y);
        }
        let local = std::mem::take(&mut self.local);
        self.apply_local(&local);
    }

    /// Adds the county's own closures (a holiday on a working day) and openings (a weekend day worked).
    /// They do not make a year count as loaded.
    pub fn apply_local(&mut self, entries: &[CalendarEntry]) {
        for e in entries {
            let bits = self.days.entry(e.date.year()).or_insert_with(|| weekdays_of(e.date.year()));
            bits[e.date.ordinal0() as usize] = e.kind == DayKind::Workday;
            self.names.insert(e.date, (e.kind, e.name.clone()));
            self.local.retain(|l| l.date != e.date);
            self.local.push(e.clone());
        }
    }

    pub fn is_year_loaded(&self, year: i32) -> bool {
        self.loaded.contains(&year)
    }

    pub fn loaded_years(&self) -> Vec<i32> {
        self.loaded.iter().copied().collect()
    }

    /// The listed days of a year (national and local), in date order.
    pub fn entries_of_year(&self, year: i32) -> Vec<CalendarEntry> {
        self.names
            .iter()
            .filter(|(d, _)| d.year() == year)
            .map(|(d, (k, n))| CalendarEntry { date: *d, kind: *k, name: n.clone() })
            .collect()
    }

    /// From 1 December on, the next year if its notice is not loaded yet: deadlines that reach into it would
    /// be provisional, so operators must be told to import it.
    pub fn missing_next_year(&self, today: NaiveDate) -> Option<i32> {
        let next = today.year() + 1;
        (today.month() == 12 && !self.is_year_loaded(next)).then_some(next)
    }

    /// Whether a date is one of the county's own overrides.
    pub fn is_local(&self, d: NaiveDate) -> bool {
        self.local.iter().any(|l| l.date == d)
    }

    /// Whether a date is a working day; for a year not loaded, Monday to Friday (and `provisional`).
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        match self.days.get(&d.year()) {
            Some(bits) => bits[d.ordinal0() as usize],
            None => !is_weekend(d),
        }
    }

    /// The first working day strictly after `d`.
    pub fn next_working_day(&self, d: NaiveDate) -> NaiveDate {
        let mut x = d + Days::new(1);
        while !self.is_working_day(x) {
            x = x + Days::new(1);
        }
        x
    }

    /// The business date of the Nth working day after `d` (`d` itself never counts; N = 0 gives `d`), and
    /// whether a year without a loaded notice was involved. Walks the year's bits directly, one year at a
    /// time, so a call costs a few dozen array reads and no map lookup per day.
    pub fn add_working_days_to_date(&self, d: NaiveDate, n: u32) -> (NaiveDate, bool) {
        let mut provisional = !self.is_year_loaded(d.year());
        if n == 0 {
            return (d, provisional);
        }
        let mut remaining = n;
        let mut year = d.year();
        let mut from = d.ordinal0() as usize + 1;
        loop {
            let computed;
            let bits: &[bool] = match self.days.get(&year) {
                Some(b) => b,
                None => {
                    computed = weekdays_of(year);
                    &computed
                }
            };
            provisional |= !self.is_year_loaded(year);
            for (i, working) in bits.iter().enumerate().skip(from) {
                if *working {
                    remaining -= 1;
                    if remaining == 0 {
                        let date = NaiveDate::from_yo_opt(year, i as u32 + 1).expect("ordinal within its year");
                        return (date, provisional);
                    }
                }
            }
            year += 1;
            from = 0;
        }
    }

    /// "N working days" after an event: the close of the Nth working day after the event's date.
    pub fn add_working_days(&self, t: DateTime<Utc>, n: u32) -> Deadline {
        let (date, provisional) = self.add_working_days_to_date(business_date(t), n);
        Deadline { at: self.close_of(date), date, provisional }
    }

    /// "N natural days" after an event, as a [`Deadline`] (natural days need no calendar).
    pub fn add_natural_days(&self, t: DateTime<Utc>, n: u32) -> Deadline {
        let at = add_natural_days(t, n);
        Deadline { at, date: business_date(at - chrono::Duration::milliseconds(1)), provisional: false }
    }

    /// When the working day `d` closes.
    pub fn close_of(&self, d: NaiveDate) -> DateTime<Utc> {
        match self.close_of_day {
            None => end_of_day(d),
            Some(t) => cst().from_local_datetime(&d.and_time(t)).single().expect("fixed offset").with_timezone(&Utc),
        }
    }

    /// How many working days late `done` is against `due`: the working days after the due date up to and
    /// including the date of `done`; 0 when on time.
    pub fn working_days_between(&self, due: DateTime<Utc>, done: DateTime<Utc>) -> u32 {
        if done <= due {
            return 0;
        }
        let due_date = business_date(due - chrono::Duration::milliseconds(1));
        let done_date = business_date(done);
        let mut n = 0;
        let mut x = due_date;
        while x < done_date {
            x = self.next_working_day(x);
            if x <= done_date {
                n += 1;
            }
        }
        n.max(1)
    }
}

/// Parses a business date `YYYY-MM-DD` given in a request field.
pub fn parse_date(field: &str, raw: &str) -> Result<NaiveDate, crate::Violation> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| {
        crate::Violation::new(field, "invalid_date", format!("日期“{}”格式不正确,应为 YYYY-MM-DD。", raw.trim()))
    })
}

/// Parses an RFC 3339 instant (an offset is required: a bare local time would be ambiguous), kept to the
/// millisecond, which is what the database stores, so that a value read back compares equal.
pub fn parse_instant(field: &str, raw: &str) -> Result<DateTime<Utc>, crate::Violation> {
    let parsed = DateTime::parse_from_rfc3339(raw.trim())
        .ok()
        .and_then(|t| DateTime::from_timestamp_millis(t.timestamp_millis()));
    parsed.ok_or_else(|| {
        crate::Violation::new(
            field,
            "invalid_time",
            format!("时间“{raw}”格式不正确,应为带时区的 RFC 3339 格式,例如 2026-03-01T09:30:00+08:00。"),
        )
    })
}

/// An instant as people in the county read it: `2026年3月1日 14:05` (UTC+8).
pub fn display_cst(t: DateTime<Utc>) -> String {
    t.with_timezone(&cst()).format("%Y年%-m月%-d日 %H:%M").to_string()
}

/// A deadline as people read it, the same on every page and message (issue 17 §7): a limit that ends at
/// midnight is "24:00" of its last day — `2026年11月9日 24:00`, never `2026年11月10日 00:00` — and one that ends
/// at the office's closing time is that time of the day (`2026年11月9日 17:30`).
pub fn display_deadline(t: DateTime<Utc>) -> String {
    let local = t.with_timezone(&cst());
    if local.time() == chrono::NaiveTime::MIN {
        format!("{} 24:00", display_date(local.date_naive() - chrono::Duration::days(1)))
    } else {
        display_cst(t)
    }
}

/// A business date as people read it: `2026年3月8日`.
pub fn display_date(d: NaiveDate) -> String {
    d.format("%Y年%-m月%-d日").to_string()
}

/// The last business date before an instant that closes a period at 24:00 (the date a window "closed on").
pub fn closing_date(end: DateTime<Utc>) -> NaiveDate {
    business_date(end - chrono::Duration::milliseconds(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn deadlines_at_midnight_read_as_24_00_of_their_day() {
        assert_eq!(display_deadline(at("2026-11-10T00:00:00+08:00")), "2026年11月9日 24:00");
        assert_eq!(display_deadline(at("2026-03-01T00:00:00+08:00")), "2026年2月28日 24:00");
        assert_eq!(display_deadline(at("2026-11-09T17:30:00+08:00")), "2026年11月9日 17:30");
        assert_eq!(display_cst(at("2026-11-10T00:00:00+08:00")), "2026年11月10日 00:00");
    }

    #[test]
    fn bundled_calendar_parses() {
        let c = Calendar::bundled();
        assert_eq!(c.loaded_years(), (2020..=2026).collect::<Vec<_>>());
    }

    #[test]
    fn natural_days_end_at_midnight_cst_r7_3() {
        // Completed at 23:30 CST on 1 March: the day of the event does not count; 7 days end 24:00 on 8 March.
        let t = at("2026-03-01T23:30:00+08:00");
        assert_eq!(add_natural_days(t, 7), at("2026-03-09T00:00:00+08:00"));
        // 00:10 CST on 2 March is still 1 March in UTC, but the business date is 2 March.
        let t = at("2026-03-02T00:10:00+08:00");
        assert_eq!(add_natural_days(t, 7), at("2026-03-10T00:00:00+08:00"));
    }

    #[test]
    fn adjusted_saturday_is_a_working_day() {
        let c = Calendar::bundled();
        // 2026-09-20 (Sunday) is listed as a working day for National Day in the bundled data? Check any.
        for e in parse_calendar_csv(BUNDLED_CALENDAR_CSV).unwrap() {
            assert_eq!(c.is_working_day(e.date), e.kind == DayKind::Workday, "{}", e.date);
        }
    }

    #[test]
    fn a_bad_file_names_its_line() {
        let e = parse_calendar_csv("# c\n2027-01-01,holiday,元旦\n2027-01-04,workday,x\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.reason.contains("不是周六或周日"));
        let e = parse_calendar_csv("2027-02-06,holiday,a\n2027-02-06,workday,b\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse_calendar_csv("2027-13-01,holiday,a\n").unwrap_err();
        assert_eq!(e.line, 1);
        let e = parse_calendar_csv("2027-01-02,rest,a\n").unwrap_err();
        assert!(e.reason.contains("无法识别"));
    }

    #[test]
    fn unloaded_year_is_provisional() {
        let c = Calendar::bundled();
        let dl = c.add_working_days(at("2026-12-30T10:00:00+08:00"), 5);
        assert!(dl.provisional);
        let dl = c.add_working_days(at("2026-12-01T10:00:00+08:00"), 5);
        assert!(!dl.provisional);
        assert_eq!(dl.date, d("2026-12-08"));
    }
}
