//! What the database benchmarks share: the median of timed runs, and a person with one role over an
//! organization to call the use cases as.

use hcp_app::policy::{Binding, Principal, Role};
use hcp_store::OrgRow;

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs `$e` once to warm up, then `$runs` times, and gives the median in milliseconds.
macro_rules! time {
    ($runs:expr, $e:expr) => {{
        $e;
        let mut v = Vec::new();
        for _ in 0..$runs {
            let t = std::time::Instant::now();
            $e;
            v.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        $crate::support::median(v)
    }};
}

pub fn principal(role: Role, org: &OrgRow) -> Principal {
    Principal {
        user_id: 0,
        username: "bench".into(),
        display_name: "bench".into(),
        staff_id: None,
        bindings: vec![Binding { role, org_path: org.path.clone(), org_name: org.name.clone() }],
    }
}
