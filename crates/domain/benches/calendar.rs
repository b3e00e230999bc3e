//! Benchmark: 1,000,000 `add_working_days(…, 15)` calls on the bundled calendar (issue 3 §7).
//! `cargo bench -p hcp-domain --bench calendar`

use std::hint::black_box;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use hcp_domain::calendar::Calendar;

fn main() {
    let cal = Calendar::bundled();
    let start: DateTime<Utc> = "2020-01-01T02:00:00Z".parse().expect("valid");
    const CALLS: u32 = 1_000_000;
    // Spread the events over 2020–2026 so every holiday block is crossed.
    let events: Vec<DateTime<Utc>> = (0..CALLS).map(|i| start + Duration::minutes(i64::from(i) * 3)).collect();
    let t0 = Instant::now();
    let mut last = start;
    for e in &events {
        last = black_box(cal.add_working_days(black_box(*e), 15)).at;
    }
    let elapsed = t0.elapsed();
    println!(
        "{CALLS} add_working_days(…, 15): {:.1} ms ({:.0} ns per call; last deadline {last})",
        elapsed.as_secs_f64() * 1e3,
        elapsed.as_nanos() as f64 / f64::from(CALLS)
    );
}
