//! The deadline engine against every holiday block of 2024–2026 (issue 3 §7), and its properties.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use hcp_domain::calendar::{Calendar, DayKind, business_date, cst, end_of_day, parse_calendar_csv};
use proptest::prelude::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// 10:00 (UTC+8) on a date: an event during office hours.
fn morning(s: &str) -> DateTime<Utc> {
    cst().from_local_datetime(&d(s).and_hms_opt(10, 0, 0).unwrap()).unwrap().with_timezone(&Utc)
}

/// (event date, N working days, the date the deadline falls on). Each row crosses or touches a holiday
/// block; rows marked * land on an adjusted weekend working day (调休上班).
const TABLE: &[(&str, u32, &str)] = &[
    ("2023-12-29", 1, "2024-01-02"), // New Year 2024
    ("2024-02-02", 1, "2024-02-04"), // * Spring Festival 2024: Sunday worked before
    ("2024-02-08", 1, "2024-02-09"),
    ("2024-02-08", 2, "2024-02-18"), // * across the whole block to the Sunday worked after
    ("2024-02-08", 15, "2024-03-06"),
    ("2024-04-03", 1, "2024-04-07"), // * Tomb-sweeping 2024
    ("2024-04-26", 1, "2024-04-28"), // * Labour Day 2024
    ("2024-04-30", 1, "2024-05-06"),
    ("2024-04-30", 5, "2024-05-10"),
    ("2024-04-30", 6, "2024-05-11"), // *
    ("2024-06-07", 1, "2024-06-11"), // Dragon Boat 2024
    ("2024-09-13", 1, "2024-09-14"), // * Mid-autumn 2024
    ("2024-09-13", 2, "2024-09-18"),
    ("2024-09-27", 1, "2024-09-29"), // * National Day 2024
    ("2024-09-27", 3, "2024-10-08"),
    ("2024-09-30", 5, "2024-10-12"), // * "5 working days to rectify" landing on the Saturday worked
    ("2024-12-31", 1, "2025-01-02"), // New Year 2025, across the year boundary
    ("2025-01-24", 1, "2025-01-26"), // * Spring Festival 2025
    ("2025-01-24", 3, "2025-02-05"),
    ("2025-02-07", 1, "2025-02-08"), // *
    ("2025-04-03", 1, "2025-04-07"), // Tomb-sweeping 2025
    ("2025-04-25", 1, "2025-04-27"), // * Labour Day 2025
    ("2025-04-30", 1, "2025-05-06"),
    ("2025-05-30", 1, "2025-06-03"), // Dragon Boat 2025
    ("2025-09-26", 1, "2025-09-28"), // * National Day and Mid-autumn 2025
    ("2025-09-30", 1, "2025-10-09"),
    ("2025-09-30", 3, "2025-10-11"),  // *
    ("2025-09-30", 15, "2025-10-28"), // "15 working days to reply"
    ("2025-12-31", 1, "2026-01-04"),  // * New Year 2026: Sunday worked, across the year boundary
    ("2026-02-13", 1, "2026-02-14"),  // * Spring Festival 2026
    ("2026-02-13", 2, "2026-02-24"),
    ("2026-02-13", 5, "2026-02-27"),
    ("2026-02-13", 15, "2026-03-12"),
    ("2026-02-27", 1, "2026-02-28"), // *
    ("2026-04-03", 1, "2026-04-07"), // Tomb-sweeping 2026
    ("2026-04-30", 1, "2026-05-06"), // Labour Day 2026
    ("2026-04-30", 4, "2026-05-09"), // *
    ("2026-06-18", 1, "2026-06-22"), // Dragon Boat 2026
    ("2026-09-18", 1, "2026-09-20"), // * Mid-autumn 2026
    ("2026-09-24", 1, "2026-09-28"),
    ("2026-09-30", 1, "2026-10-08"), // National Day 2026
    ("2026-09-30", 3, "2026-10-10"), // *
    ("2026-09-30", 15, "2026-10-27"),
];

#[test]
fn every_holiday_block_of_2024_to_2026() {
    let cal = Calendar::bundled();
    for (event, n, due) in TABLE {
        let dl = cal.add_working_days(morning(event), *n);
        assert_eq!(dl.date, d(due), "{event} + {n} working days");
        assert_eq!(dl.at, end_of_day(d(due)), "ends at 24:00 (UTC+8) of {due}");
        assert!(!dl.provisional, "{event} + {n}");
        assert!(cal.is_working_day(dl.date));
    }
}

#[test]
fn adjusted_weekend_days_and_holidays() {
    let cal = Calendar::bundled();
    assert!(cal.is_working_day(d("2026-02-14")), "Saturday worked for Spring Festival");
    assert!(cal.is_working_day(d("2026-01-04")), "Sunday worked for New Year");
    assert!(!cal.is_working_day(d("2026-10-05")), "Monday in National Day");
    assert!(!cal.is_working_day(d("2026-11-28")), "an ordinary Saturday");
    assert!(cal.is_working_day(d("2026-11-27")), "an ordinary Friday");
    assert_eq!(cal.next_working_day(d("2026-09-30")), d("2026-10-08"));
}

#[test]
fn the_day_of_the_event_never_counts() {
    let cal = Calendar::bundled();
    // An event at 23:59 and one at 00:01 (UTC+8) on the same Friday have the same deadline.
    let early = cst().with_ymd_and_hms(2026, 11, 27, 0, 1, 0).unwrap().with_timezone(&Utc);
    let late = cst().with_ymd_and_hms(2026, 11, 27, 23, 59, 0).unwrap().with_timezone(&Utc);
    assert_eq!(cal.add_working_days(early, 1), cal.add_working_days(late, 1));
    assert_eq!(cal.add_working_days(late, 1).date, d("2026-11-30"));
    // 23:30 UTC on Thursday is already Friday in China.
    let utc_thursday = Utc.with_ymd_and_hms(2026, 11, 26, 23, 30, 0).unwrap();
    assert_eq!(business_date(utc_thursday), d("2026-11-27"));
}

#[test]
fn a_missing_year_is_provisional_and_warned_from_december() {
    let cal = Calendar::bundled();
    let dl = cal.add_working_days(morning("2026-12-25"), 5);
    assert!(dl.provisional, "reaches into 2027, not loaded");
    assert_eq!(dl.date, d("2027-01-01"), "weekends alone: Mon 28 … Fri 1 Jan");
    assert_eq!(cal.missing_next_year(d("2026-11-30")), None);
    assert_eq!(cal.missing_next_year(d("2026-12-01")), Some(2027));

    let mut with_2027 = cal.clone();
    let notice =
        parse_calendar_csv("2027-01-01,holiday,元旦\n2027-01-02,holiday,元旦\n2027-01-03,holiday,元旦\n").unwrap();
    with_2027.load(&notice);
    let dl = with_2027.add_working_days(morning("2026-12-25"), 5);
    assert!(!dl.provisional);
    assert_eq!(dl.date, d("2027-01-04"), "recomputed once the year is loaded");
    assert_eq!(with_2027.missing_next_year(d("2026-12-01")), None);
}

#[test]
fn local_closures_and_openings_apply_over_the_notice() {
    let mut cal = Calendar::bundled();
    let local = parse_calendar_csv("2026-07-10,holiday,防汛停工\n2026-07-11,workday,补班\n").unwrap();
    cal.apply_local(&local);
    assert!(!cal.is_working_day(d("2026-07-10")));
    assert!(cal.is_working_day(d("2026-07-11")));
    assert!(cal.is_local(d("2026-07-10")));
    assert_eq!(cal.add_working_days(morning("2026-07-09"), 1).date, d("2026-07-11"));
    // Reloading the year's notice keeps the local days.
    cal.load(&parse_calendar_csv("2026-10-01,holiday,国庆节\n").unwrap());
    assert!(!cal.is_working_day(d("2026-07-10")));
    assert_eq!(cal.entries_of_year(2026).iter().filter(|e| e.kind == DayKind::Holiday).count(), 2);
}

#[test]
fn working_days_late() {
    let cal = Calendar::bundled();
    let due = cal.add_working_days(morning("2026-09-29"), 1).at; // due end of 30 Sep
    assert_eq!(cal.working_days_between(due, due), 0);
    assert_eq!(cal.working_days_between(due, morning("2026-10-05")), 1, "late, though only holidays passed");
    assert_eq!(cal.working_days_between(due, morning("2026-10-08")), 1);
    assert_eq!(cal.working_days_between(due, morning("2026-10-10")), 3, "the Saturday worked counts");
}

#[test]
fn closing_time_is_configurable_in_one_place() {
    let cal = Calendar::bundled().with_close_of_day(chrono::NaiveTime::from_hms_opt(17, 30, 0));
    let dl = cal.add_working_days(morning("2026-09-30"), 1);
    assert_eq!(dl.at, cst().with_ymd_and_hms(2026, 10, 8, 17, 30, 0).unwrap().with_timezone(&Utc));
}

fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
    // 2020-01-01 .. 2026-12-31 (UTC+8), any minute.
    let start = cst().with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap().timestamp();
    let end = cst().with_ymd_and_hms(2026, 12, 31, 23, 59, 0).unwrap().timestamp();
    (start..end).prop_map(|s| DateTime::from_timestamp(s - s % 60, 0).unwrap())
}

proptest! {
    #[test]
    fn the_result_is_a_working_day_after_the_event(t in any_instant(), n in 1u32..40) {
        let cal = Calendar::bundled();
        let dl = cal.add_working_days(t, n);
        prop_assert!(cal.is_working_day(dl.date));
        prop_assert!(dl.date > business_date(t));
        prop_assert!(dl.at > t);
    }

    #[test]
    fn it_grows_with_n(t in any_instant(), n in 0u32..40) {
        let cal = Calendar::bundled();
        prop_assert!(cal.add_working_days(t, n + 1).at > cal.add_working_days(t, n).at);
    }

    #[test]
    fn working_days_between_inverts_add_working_days(t in any_instant(), n in 1u32..20, k in 0u32..20) {
        let cal = Calendar::bundled();
        let due = cal.add_working_days(t, n);
        let done = cal.add_working_days(t, n + k);
        // Done at noon of the later deadline's day.
        let noon = cst().from_local_datetime(&done.date.and_hms_opt(12, 0, 0).unwrap()).unwrap().with_timezone(&Utc);
        prop_assert_eq!(cal.working_days_between(due.at, noon), k);
    }

    #[test]
    fn exactly_n_working_days_lie_after_the_event(t in any_instant(), n in 1u32..40) {
        let cal = Calendar::bundled();
        let dl = cal.add_working_days(t, n);
        let mut count = 0;
        let mut x = business_date(t);
        while x < dl.date {
            x = x + Days::new(1);
            if cal.is_working_day(x) { count += 1; }
        }
        prop_assert_eq!(count, n);
    }

    #[test]
    fn natural_days_end_at_midnight_of_the_nth_day(t in any_instant(), n in 1u32..30) {
        let cal = Calendar::bundled();
        let dl = cal.add_natural_days(t, n);
        prop_assert_eq!(dl.date, business_date(t) + Days::new(u64::from(n)));
        prop_assert_eq!(dl.at, end_of_day(dl.date));
    }
}
