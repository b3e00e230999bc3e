//! Statistical periods (issue 7 §2): a day, an ISO week, a month, a quarter, a year or any range of business
//! dates (UTC+8), and how a range splits into the whole months and loose days the rollups are kept by.

use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;

/// What kind of period a report or a cut covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Day,
    Week,
    Month,
    Quarter,
    Year,
    Range,
}

impl PeriodKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodKind::Day => "day",
            PeriodKind::Week => "week",
            PeriodKind::Month => "month",
            PeriodKind::Quarter => "quarter",
            PeriodKind::Year => "year",
            PeriodKind::Range => "range",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            PeriodKind::Day => "日",
            PeriodKind::Week => "周",
            PeriodKind::Month => "月度",
            PeriodKind::Quarter => "季度",
            PeriodKind::Year => "年度",
            PeriodKind::Range => "自定义区间",
        }
    }
}

/// A period of business dates, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Period {
    pub kind: PeriodKind,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

fn ymd(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

fn month_end(y: i32, m: u32) -> NaiveDate {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    ymd(ny, nm, 1).expect("a valid month") - Duration::days(1)
}

impl Period {
    /// Parses a period code: `2026-11-05` (day), `2026-W05` (ISO week), `2026-11` (month), `2026-Q4`
    /// (quarter) or `2026` (year). `None` for anything else.
    pub fn parse(code: &str) -> Option<Period> {
        let s = code.trim();
        let year = |y: &str| y.parse::<i32>().ok().filter(|y| (2000..=2100).contains(y));
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Some(Period { kind: PeriodKind::Day, from: d, to: d });
        }
        if let Some((y, rest)) = s.split_once('-') {
            let y = year(y)?;
            if let Some(w) = rest.strip_prefix('W').or_else(|| rest.strip_prefix('w')) {
                let w: u32 = w.parse().ok()?;
                let from = NaiveDate::from_isoywd_opt(y, w, chrono::Weekday::Mon)?;
                return Some(Period { kind: PeriodKind::Week, from, to: from + Duration::days(6) });
            }
            if let Some(q) = rest.strip_prefix('Q').or_else(|| rest.strip_prefix('q')) {
                let q: u32 = q.parse().ok().filter(|q| (1..=4).contains(q))?;
                let from = ymd(y, q * 3 - 2, 1)?;
                return Some(Period { kind: PeriodKind::Quarter, from, to: month_end(y, q * 3) });
            }
            if rest.len() <= 2 {
                let m: u32 = rest.parse().ok().filter(|m| (1..=12).contains(m))?;
                return Some(Period { kind: PeriodKind::Month, from: ymd(y, m, 1)?, to: month_end(y, m) });
            }
            return None;
        }
        let y = year(s)?;
        Some(Period { kind: PeriodKind::Year, from: ymd(y, 1, 1)?, to: ymd(y, 12, 31)? })
    }

    /// A range of dates (a custom period).
    pub fn range(from: NaiveDate, to: NaiveDate) -> Period {
        Period { kind: PeriodKind::Range, from, to }
    }

    /// The month a date falls in.
    pub fn month_of(d: NaiveDate) -> Period {
        Period { kind: PeriodKind::Month, from: d.with_day(1).expect("day 1"), to: month_end(d.year(), d.month()) }
    }

    /// The stable code (what `parse` reads back); a range is `from..to`.
    pub fn code(&self) -> String {
        match self.kind {
            PeriodKind::Day => self.from.format("%Y-%m-%d").to_string(),
            PeriodKind::Week => {
                let w = self.from.iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            }
            PeriodKind::Month => self.from.format("%Y-%m").to_string(),
            PeriodKind::Quarter => format!("{}-Q{}", self.from.year(), self.from.month().div_ceil(3)),
            PeriodKind::Year => self.from.year().to_string(),
            PeriodKind::Range => format!("{}..{}", self.from, self.to),
        }
    }

    /// The name people read: 2026年11月, 2026年第四季度, 2026年度 …
    pub fn label_zh(&self) -> String {
        let y = self.from.year();
        match self.kind {
            PeriodKind::Day => format!("{}年{}月{}日", y, self.from.month(), self.from.day()),
            PeriodKind::Week => {
                let w = self.from.iso_week();
                format!("{}年第{}周", w.year(), w.week())
            }
            PeriodKind::Month => format!("{}年{}月", y, self.from.month()),
            PeriodKind::Quarter => {
                let q = ["一", "二", "三", "四"][(self.from.month0() / 3) as usize];
                format!("{y}年第{q}季度")
            }
            PeriodKind::Year => format!("{y}年度"),
            PeriodKind::Range => format!("{} 至 {}", self.from, self.to),
        }
    }

    /// The period just before, of the same kind (for months: the previous month, etc.).
    pub fn previous(&self) -> Period {
        match self.kind {
            PeriodKind::Month => Period::month_of(self.from - Duration::days(1)),
            PeriodKind::Quarter => {
                let last = self.from - Duration::days(1);
                Period::parse(&format!("{}-Q{}", last.year(), last.month().div_ceil(3))).expect("a quarter")
            }
            PeriodKind::Year => Period::parse(&(self.from.year() - 1).to_string()).expect("a year"),
            _ => {
                let len = (self.to - self.from).num_days() + 1;
                Period { kind: self.kind, from: self.from - Duration::days(len), to: self.from - Duration::days(1) }
            }
        }
    }
}

/// The month key the rollups use: year × 12 + (month − 1).
pub fn month_number(d: NaiveDate) -> i64 {
    i64::from(d.year()) * 12 + i64::from(d.month0())
}

/// The business day key the rollups use: days since 1970-01-01.
pub fn day_number(d: NaiveDate) -> i64 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date")).num_days()
}

/// The date of a day key.
pub fn date_of_day(day: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date") + Duration::days(day)
}

/// The grain a rollup row is kept at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    Day,
    Month,
    /// Calendar years (the key is the year): a year's figures are one row per key, not twelve.
    Year,
}

impl Grain {
    pub fn as_str(self) -> &'static str {
        match self {
            Grain::Day => "d",
            Grain::Month => "m",
            Grain::Year => "y",
        }
    }
}

/// A run of rollup periods of one grain, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub grain: Grain,
    pub from: i64,
    pub to: i64,
}

/// Splits a range of dates into the fewest rollup reads: the whole years inside it, the whole months around
/// them, and the loose days before and after. A year is one read of one year row per key, not 12 month rows or
/// 365 day rows.
pub fn spans(from: NaiveDate, to: NaiveDate) -> Vec<Span> {
    if to < from {
        return Vec::new();
    }
    // The first month that starts on or after `from`, and the last that ends on or before `to`.
    let first_full = if from.day() == 1 { from } else { month_end(from.year(), from.month()) + Duration::days(1) };
    let last_end =
        if to == month_end(to.year(), to.month()) { to } else { to.with_day(1).expect("day 1") - Duration::days(1) };
    if first_full > last_end {
        return vec![Span { grain: Grain::Day, from: day_number(from), to: day_number(to) }];
    }
    let mut out = Vec::new();
    if from < first_full {
        out.push(Span { grain: Grain::Day, from: day_number(from), to: day_number(first_full) - 1 });
    }
    out.extend(month_spans(month_number(first_full), month_number(last_end)));
    if last_end < to {
        out.push(Span { grain: Grain::Day, from: day_number(last_end) + 1, to: day_number(to) });
    }
    out
}

/// Months `from..=to` as the whole years among them and the loose months around those.
fn month_spans(from: i64, to: i64) -> Vec<Span> {
    // The first year starting on or after `from`, the last ending on or before `to` (month keys are positive).
    let (first_year, last_year) = ((from + 11) / 12, (to + 1) / 12 - 1);
    if first_year > last_year {
        return vec![Span { grain: Grain::Month, from, to }];
    }
    let mut out = Vec::new();
    if from < first_year * 12 {
        out.push(Span { grain: Grain::Month, from, to: first_year * 12 - 1 });
    }
    out.push(Span { grain: Grain::Year, from: first_year, to: last_year });
    if (last_year + 1) * 12 <= to {
        out.push(Span { grain: Grain::Month, from: (last_year + 1) * 12, to });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn codes_parse_and_print_back() {
        for code in ["2026-11-05", "2026-W05", "2026-11", "2026-Q4", "2026"] {
            let p = Period::parse(code).unwrap();
            assert_eq!(p.code(), code);
        }
        let q = Period::parse("2026-Q1").unwrap();
        assert_eq!((q.from, q.to), (d("2026-01-01"), d("2026-03-31")));
        assert_eq!(q.label_zh(), "2026年第一季度");
        let m = Period::parse("2024-02").unwrap();
        assert_eq!(m.to, d("2024-02-29"));
        assert_eq!(m.previous().code(), "2024-01");
        assert_eq!(Period::parse("2026-01").unwrap().previous().code(), "2025-12");
        assert_eq!(Period::parse("2026-Q1").unwrap().previous().code(), "2025-Q4");
        for bad in ["", "2026-13", "2026-Q5", "26", "2026-11-31", "abc", "2026-W60", "1999"] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn ranges_split_into_months_and_days() {
        // A whole year: one read of one year row.
        assert_eq!(spans(d("2026-01-01"), d("2026-12-31")), vec![Span { grain: Grain::Year, from: 2026, to: 2026 }]);
        // Most of a year: its whole months.
        assert_eq!(
            spans(d("2026-01-01"), d("2026-11-30")),
            vec![Span { grain: Grain::Month, from: 2026 * 12, to: 2026 * 12 + 10 }]
        );
        // Months around whole years, days around those.
        assert_eq!(
            spans(d("2024-11-15"), d("2027-02-28")),
            vec![
                Span { grain: Grain::Day, from: day_number(d("2024-11-15")), to: day_number(d("2024-11-30")) },
                Span { grain: Grain::Month, from: 2024 * 12 + 11, to: 2024 * 12 + 11 },
                Span { grain: Grain::Year, from: 2025, to: 2026 },
                Span { grain: Grain::Month, from: 2027 * 12, to: 2027 * 12 + 1 },
            ]
        );
        // Inside one month: days only.
        let s = spans(d("2026-11-03"), d("2026-11-20"));
        assert_eq!(
            s,
            vec![Span { grain: Grain::Day, from: day_number(d("2026-11-03")), to: day_number(d("2026-11-20")) }]
        );
        // Loose days on both sides of whole months.
        let s = spans(d("2026-10-30"), d("2027-01-02"));
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].to - s[0].from, 1);
        assert_eq!((s[1].from, s[1].to), (2026 * 12 + 10, 2026 * 12 + 11));
        assert_eq!(s[2].to - s[2].from, 1);
        assert!(spans(d("2026-11-02"), d("2026-11-01")).is_empty());
    }

    #[test]
    fn every_day_is_covered_once() {
        let start = d("2025-12-20");
        for len in [0, 1, 10, 11, 12, 40, 70, 400, 730, 800] {
            for offset in 0..40 {
                let from = start + Duration::days(offset);
                let to = from + Duration::days(len);
                let mut covered = 0;
                for s in spans(from, to) {
                    covered += match s.grain {
                        Grain::Day => s.to - s.from + 1,
                        Grain::Month => (s.from..=s.to)
                            .map(|m| {
                                let first = NaiveDate::from_ymd_opt((m / 12) as i32, (m % 12) as u32 + 1, 1).unwrap();
                                (month_end(first.year(), first.month()) - first).num_days() + 1
                            })
                            .sum(),
                        Grain::Year => (s.from..=s.to)
                            .map(|y| {
                                let first = NaiveDate::from_ymd_opt(y as i32, 1, 1).unwrap();
                                (NaiveDate::from_ymd_opt(y as i32, 12, 31).unwrap() - first).num_days() + 1
                            })
                            .sum(),
                    };
                }
                assert_eq!(covered, len + 1, "{from}..{to}");
            }
        }
    }
}
