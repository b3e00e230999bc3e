//! Rollups (issue 7 §7): counts per business day and cut, kept in the transaction of each change they
//! count, so statistics never scan the evaluations. Every statement that maintains them is here, next to
//! the recomputation they must always equal (`rebuild_rollups`, `rollup_mismatches`).

use std::collections::BTreeMap;

use futures_util::TryStreamExt;
use hcp_domain::metrics::{measure, step_measure};
use hcp_domain::period::{Grain, Span, date_of_day, month_number};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::{Backend, Store, StoreError};

/// The business day (UTC+8) of an epoch-ms column, as days since 1970-01-01: the one definition in SQL.
macro_rules! day_of {
    ($col:literal) => {
        concat!("((", $col, " + 28800000) / 86400000)")
    };
}

const EVALUATION_KEY: &str = "day, org_id, window_id, staff_id, item_id, channel, level, is_default, invalidated";
const RECORD_KEY: &str = "day, org_id, window_id, staff_id, item_id";

/// A key of `evaluation_rollup` for valid evaluations: day, org, window, staff, item, channel, level, default.
type DayKey<'a> = (i64, i64, i64, i64, i64, &'a str, &'a str, bool);

/// Counts these new first evaluations (all valid: just inserted).
pub(crate) async fn count_evaluations(
    conn: &mut AnyConnection,
    backend: Backend,
    evaluation_ids: &[i64],
) -> Result<(), StoreError> {
    let mut facts = Vec::with_capacity(evaluation_ids.len());
    for chunk in evaluation_ids.chunks(1000) {
        let found = evaluation_facts(conn, backend, chunk).await?;
        facts.extend(found.into_iter().map(|(f, level)| Fact { measure: level, ..f }));
    }
    // The day rollup from the same facts: one read of the rows for both (an INSERT … SELECT over the id list
    // here ran a hundred times slower on PostgreSQL inside a bulk load's transaction).
    let mut fine: BTreeMap<DayKey<'_>, i64> = BTreeMap::new();
    for f in &facts {
        let key =
            (f.day, f.org_id, f.window_id, f.staff_id, f.item_id, f.channel.as_str(), f.measure.as_str(), f.is_default);
        *fine.entry(key).or_insert(0) += f.n;
    }
    let fine: Vec<_> = fine.into_iter().collect();
    for chunk in fine.chunks(500) {
        let mut sql = format!("INSERT INTO evaluation_rollup ({EVALUATION_KEY}, n) VALUES ");
        crate::sql::push_rows(&mut sql, backend, chunk.len(), 10);
        sql.push_str(&format!(" ON CONFLICT ({EVALUATION_KEY}) DO UPDATE SET n = evaluation_rollup.n + excluded.n"));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for ((day, org, window, staff, item, channel, level, is_default), n) in chunk {
            q = q
                .bind(*day)
                .bind(*org)
                .bind(*window)
                .bind(*staff)
                .bind(*item)
                .bind(channel.to_string())
                .bind(level.to_string())
                .bind(i64::from(*is_default))
                .bind(0i64)
                .bind(*n);
        }
        q.execute(&mut *conn).await?;
    }
    for chunk in evaluation_ids.chunks(1000) {
        facts.extend(in_progress_facts(conn, backend, chunk, 1).await?);
    }
    // One fold for the whole batch: a bulk load's thousands of evaluations share most of their cut rows.
    add_to_cuts(conn, backend, &facts).await
}

/// Moves an invalidated evaluation from the valid counts to the invalidated ones; `by_appeal` counts it as an
/// appeal upheld too (an integrity conclusion sets evaluations aside without one).
pub(crate) async fn count_invalidation(
    conn: &mut AnyConnection,
    backend: Backend,
    evaluation_id: i64,
    by_appeal: bool,
) -> Result<(), StoreError> {
    sqlx::query(concat!(
        "UPDATE evaluation_rollup SET n = n - 1
         WHERE invalidated = 0 AND (day, org_id, window_id, staff_id, item_id, channel, level, is_default) =
             (SELECT ",
        day_of!("e.created_at"),
        ", r.org_id, COALESCE(r.window_id, 0), COALESCE(r.staff_id, 0), r.item_id, e.channel, e.level,
                 e.is_default
              FROM evaluation e JOIN service_record r ON r.id = e.service_record_id WHERE e.id = $1)"
    ))
    .bind(evaluation_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(concat!(
        "INSERT INTO evaluation_rollup (day, org_id, window_id, staff_id, item_id, channel, level, is_default,
             invalidated, n)
         SELECT ",
        day_of!("e.created_at"),
        ", r.org_id, COALESCE(r.window_id, 0), COALESCE(r.staff_id, 0), r.item_id, e.channel, e.level,
             e.is_default, 1, 1
         FROM evaluation e JOIN service_record r ON r.id = e.service_record_id WHERE e.id = $1
         ON CONFLICT (day, org_id, window_id, staff_id, item_id, channel, level, is_default, invalidated)
         DO UPDATE SET n = evaluation_rollup.n + 1"
    ))
    .bind(evaluation_id)
    .execute(&mut *conn)
    .await?;
    let mut facts = Vec::new();
    for (f, level) in evaluation_facts(conn, backend, &[evaluation_id]).await? {
        facts.push(Fact { measure: level.clone(), n: -1, ..f.clone() });
        facts.push(Fact { measure: level, invalidated: true, ..f.clone() });
        if by_appeal {
            facts.push(Fact { measure: measure::APPEAL_UPHELD.into(), is_default: false, ..f });
        }
    }
    // An invalidated evaluation is no longer a valid one given in progress.
    facts.extend(in_progress_facts(conn, backend, &[evaluation_id], -1).await?);
    add_to_cuts(conn, backend, &facts).await
}

/// Counts an appeal filed against this evaluation (dated by the evaluation).
pub(crate) async fn count_appeal_filed(
    conn: &mut AnyConnection,
    backend: Backend,
    evaluation_id: i64,
) -> Result<(), StoreError> {
    let facts: Vec<Fact> = evaluation_facts(conn, backend, &[evaluation_id])
        .await?
        .into_iter()
        .map(|(f, _)| Fact { measure: measure::APPEAL_FILED.into(), is_default: false, ..f })
        .collect();
    add_to_cuts(conn, backend, &facts).await
}

/// One thing counted, at its dimensions: what `cut_rollup` adds up.
#[derive(Debug, Clone)]
struct Fact {
    day: i64,
    org_id: i64,
    window_id: i64,
    staff_id: i64,
    item_id: i64,
    /// The platform the service was delivered through; 0 for none.
    platform_id: i64,
    /// Empty for completed records (a record has no evaluation channel).
    channel: String,
    measure: String,
    is_default: bool,
    invalidated: bool,
    n: i64,
}

/// The columns of an evaluation's dimensions, in `fact_of`'s order.
macro_rules! fact_cols {
    () => {
        concat!(
            "((e.created_at + 28800000) / 86400000) AS day, r.org_id, COALESCE(r.window_id, 0),
             COALESCE(r.staff_id, 0), r.item_id, e.channel, e.level, e.is_default, COALESCE(r.platform_id, 0)"
        )
    };
}

fn fact_of(r: &AnyRow) -> Result<(Fact, String), StoreError> {
    Ok((
        Fact {
            day: r.try_get(0)?,
            org_id: r.try_get(1)?,
            window_id: r.try_get(2)?,
            staff_id: r.try_get(3)?,
            item_id: r.try_get(4)?,
            platform_id: r.try_get(8)?,
            channel: r.try_get(5)?,
            measure: String::new(),
            is_default: r.try_get::<i64, _>(7)? != 0,
            invalidated: false,
            n: 1,
        },
        r.try_get(6)?,
    ))
}

/// The dimensions of these evaluations, each with its level.
async fn evaluation_facts(
    conn: &mut AnyConnection,
    backend: Backend,
    evaluation_ids: &[i64],
) -> Result<Vec<(Fact, String)>, StoreError> {
    let mut sql = String::from(concat!(
        "SELECT ",
        fact_cols!(),
        " FROM evaluation e JOIN service_record r ON r.id = e.service_record_id WHERE e.id IN "
    ));
    crate::sql::push_tuple(&mut sql, backend, 1, evaluation_ids.len());
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in evaluation_ids {
        q = q.bind(*id);
    }
    q.fetch_all(&mut *conn).await?.iter().map(fact_of).collect()
}

/// Counts the case steps that statistics count (timed steps on time or late, follow-ups, closure), each dated
/// by its case's bad review: one read of the cases' dimensions for all of them.
pub(crate) async fn count_case_steps(
    conn: &mut AnyConnection,
    backend: Backend,
    steps: &[(i64, &crate::NewCaseStep)],
) -> Result<(), StoreError> {
    let measured: Vec<(i64, &'static str)> = steps
        .iter()
        .filter_map(|(case_id, step)| {
            let detail: serde_json::Value = serde_json::from_str(&step.detail).unwrap_or_default();
            let on_time = step.due_at.is_none_or(|due| step.at <= due);
            step_measure(
                step.kind,
                detail.get("deadline").and_then(|d| d.as_str()),
                detail.get("solved").and_then(|d| d.as_bool()),
                on_time,
            )
            .map(|m| (*case_id, m))
        })
        .collect();
    if measured.is_empty() {
        return Ok(());
    }
    let mut case_ids: Vec<i64> = measured.iter().map(|(id, _)| *id).collect();
    case_ids.sort_unstable();
    case_ids.dedup();
    // A visit's case (调查暗访) has no evaluation: the join leaves it out of the applicants' figures.
    let mut of_case = std::collections::HashMap::with_capacity(case_ids.len());
    for chunk in case_ids.chunks(1000) {
        let mut sql = String::from(concat!(
            "SELECT ",
            fact_cols!(),
            ", c.id FROM bad_review_case c JOIN evaluation e ON e.id = c.evaluation_id
             JOIN service_record r ON r.id = e.service_record_id WHERE c.id IN "
        ));
        crate::sql::push_tuple(&mut sql, backend, 1, chunk.len());
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(*id);
        }
        for r in q.fetch_all(&mut *conn).await? {
            let case_id: i64 = r.try_get(9)?;
            of_case.insert(case_id, fact_of(&r)?.0);
        }
    }
    let facts: Vec<Fact> = measured
        .into_iter()
        .filter_map(|(case_id, m)| {
            of_case.get(&case_id).map(|f| Fact { measure: m.into(), is_default: false, ..f.clone() })
        })
        .collect();
    add_to_cuts(conn, backend, &facts).await
}

/// The condition of an evaluation of a matter still in progress (办理中评价): the record not completed when it was
/// given. One definition, for the live count, the invalidation and the recomputation.
macro_rules! in_progress_where {
    () => {
        "e.round = 1 AND (r.completed_at IS NULL OR r.completed_at > e.created_at)"
    };
}

/// `in_progress` facts (counting `n` each) for those of these evaluations given while their matter was in
/// progress.
async fn in_progress_facts(
    conn: &mut AnyConnection,
    backend: Backend,
    evaluation_ids: &[i64],
    n: i64,
) -> Result<Vec<Fact>, StoreError> {
    let mut sql = String::from(concat!(
        "SELECT ",
        fact_cols!(),
        " FROM evaluation e JOIN service_record r ON r.id = e.service_record_id WHERE ",
        in_progress_where!(),
        " AND e.id IN "
    ));
    crate::sql::push_tuple(&mut sql, backend, 1, evaluation_ids.len());
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in evaluation_ids {
        q = q.bind(*id);
    }
    q.fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| fact_of(r).map(|(f, _)| Fact { measure: measure::IN_PROGRESS.into(), is_default: false, n, ..f }))
        .collect()
}

/// A record completed after its evaluation was counted as given in progress, but with a completion time at or
/// before that evaluation (a completion entered late and dated back): by the definition it was not in progress
/// after all, so it is taken back out of the count — the live counts stay equal to the recomputation.
pub(crate) async fn recount_in_progress_at_completion(
    conn: &mut AnyConnection,
    backend: Backend,
    record_id: i64,
) -> Result<(), StoreError> {
    let sql = concat!(
        "SELECT ",
        fact_cols!(),
        " FROM evaluation e JOIN service_record r ON r.id = e.service_record_id
         LEFT JOIN evaluation_invalidation i ON i.evaluation_id = e.id
         WHERE e.service_record_id = $1 AND e.round = 1 AND i.evaluation_id IS NULL AND r.completed_at <= e.created_at"
    );
    let mut facts = Vec::new();
    for r in sqlx::query(sql).bind(record_id).fetch_all(&mut *conn).await? {
        let (f, _) = fact_of(&r)?;
        facts.push(Fact { measure: measure::IN_PROGRESS.into(), is_default: false, n: -1, ..f });
    }
    add_to_cuts(conn, backend, &facts).await
}

/// The dimensions whose evaluations and completions `cut_rollup` keeps by day as well: the org dimension (the
/// loose days of a range of unit figures, read without grouping the day rollups) and the platform, which the
/// day rollups do not carry — a county has a handful of platforms, so these rows stay few.
const DAY_DIMS: [&str; 2] = ["org", "platform"];

/// The database's own total, by month and year: the org dimension's rows summed over every organization, kept
/// as rows of organization 0 (see `fold_cuts`), so the dashboard's trend of the whole county reads twelve months'
/// rows instead of every organization's.
const TOTAL_DIM: &str = "all_org";

/// The breakdowns kept, by month and year, for the whole database as well (rows of organization 0): a
/// county-wide item or channel cut reads a few thousand rows, not one per organization and member.
fn whole_dim(dim: &str) -> Option<&'static str> {
    match dim {
        "item" => Some("all_item"),
        "channel" => Some("all_channel"),
        _ => None,
    }
}

/// The whole-database rows `fold_cuts` keeps beside a dimension's own: its breakdown's, or for the
/// organizations the total.
fn whole_rows_of(dim: &str) -> Option<&'static str> {
    if dim == "org" { Some(TOTAL_DIM) } else { whole_dim(dim) }
}

/// A key of `cut_rollup`.
type CutKey = (&'static str, &'static str, i64, i64, String, String, bool, bool);

/// Folds facts into the cut rows they change: each fact counts at day, month and year grain, in each dimension.
fn fold_cuts(facts: impl IntoIterator<Item = Fact>, into: &mut BTreeMap<CutKey, i64>) {
    let mut month_of_day: BTreeMap<i64, i64> = BTreeMap::new();
    for f in facts {
        let month = *month_of_day.entry(f.day).or_insert_with(|| month_number(date_of_day(f.day)));
        // Evaluations and completions by day are in evaluation_rollup and record_rollup already; here they are
        // kept by day only for the dimensions those do not carry (see `DAY_DIMS`), the case and appeal measures
        // by day in every dimension.
        let case_measure = f.measure != measure::COMPLETED && hcp_domain::Level::parse(&f.measure).is_none();
        for (grain, period) in [(Grain::Month, month), (Grain::Year, month / 12), (Grain::Day, f.day)] {
            let members = [
                ("org", Some(String::new())),
                ("window", (f.window_id != 0).then(|| f.window_id.to_string())),
                ("staff", (f.staff_id != 0).then(|| f.staff_id.to_string())),
                ("item", Some(f.item_id.to_string())),
                ("channel", (!f.channel.is_empty()).then(|| f.channel.clone())),
                ("platform", (f.platform_id != 0).then(|| f.platform_id.to_string())),
            ];
            for (dim, member) in members {
                let Some(member) = member else { continue };
                if grain == Grain::Day && !case_measure && !DAY_DIMS.contains(&dim) {
                    continue;
                }
                // By month and year for the whole database too (organization 0): see `whole_rows_of`.
                if grain != Grain::Day
                    && let Some(whole) = whole_rows_of(dim)
                {
                    let key = (
                        grain.as_str(),
                        whole,
                        period,
                        0,
                        member.clone(),
                        f.measure.clone(),
                        f.is_default,
                        f.invalidated,
                    );
                    *into.entry(key).or_insert(0) += f.n;
                }
                let key =
                    (grain.as_str(), dim, period, f.org_id, member, f.measure.clone(), f.is_default, f.invalidated);
                *into.entry(key).or_insert(0) += f.n;
            }
        }
    }
}

const CUT_COLS: &str = "grain, dim, period, org_id, member, measure, is_default, invalidated";

/// Adds the facts to `cut_rollup` (one multi-row upsert per 500 rows).
async fn add_to_cuts(conn: &mut AnyConnection, backend: Backend, facts: &[Fact]) -> Result<(), StoreError> {
    let mut deltas = BTreeMap::new();
    fold_cuts(facts.iter().cloned(), &mut deltas);
    write_cuts(conn, backend, deltas.into_iter().filter(|(_, n)| *n != 0).collect()).await
}

async fn write_cuts(conn: &mut AnyConnection, backend: Backend, rows: Vec<(CutKey, i64)>) -> Result<(), StoreError> {
    for chunk in rows.chunks(500) {
        let mut sql = format!("INSERT INTO cut_rollup ({CUT_COLS}, n) VALUES ");
        crate::sql::push_rows(&mut sql, backend, chunk.len(), 9);
        sql.push_str(&format!(" ON CONFLICT ({CUT_COLS}) DO UPDATE SET n = cut_rollup.n + excluded.n"));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for ((grain, dim, period, org_id, member, m, is_default, invalidated), n) in chunk {
            q = q
                .bind(*grain)
                .bind(*dim)
                .bind(*period)
                .bind(*org_id)
                .bind(member.clone())
                .bind(m.clone())
                .bind(i64::from(*is_default))
                .bind(i64::from(*invalidated))
                .bind(*n);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Counts these records as completed (the caller passes each record once, when it becomes completed).
pub(crate) async fn count_completions(
    conn: &mut AnyConnection,
    backend: Backend,
    record_ids: &[i64],
) -> Result<(), StoreError> {
    let mut facts = Vec::with_capacity(record_ids.len());
    for chunk in record_ids.chunks(1000) {
        let mut sql = format!(
            "SELECT {day}, org_id, COALESCE(window_id, 0), COALESCE(staff_id, 0), item_id, COALESCE(platform_id, 0)
             FROM service_record WHERE completed_at IS NOT NULL AND id IN ",
            day = day_of!("completed_at"),
        );
        crate::sql::push_tuple(&mut sql, backend, 1, chunk.len());
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(*id);
        }
        for r in q.fetch_all(&mut *conn).await? {
            facts.push(completion_fact(&r, 1)?);
        }
    }
    let mut fine: BTreeMap<(i64, i64, i64, i64, i64), i64> = BTreeMap::new();
    for f in &facts {
        *fine.entry((f.day, f.org_id, f.window_id, f.staff_id, f.item_id)).or_insert(0) += f.n;
    }
    let fine: Vec<_> = fine.into_iter().collect();
    for chunk in fine.chunks(500) {
        let mut sql = format!("INSERT INTO record_rollup ({RECORD_KEY}, n) VALUES ");
        crate::sql::push_rows(&mut sql, backend, chunk.len(), 6);
        sql.push_str(&format!(" ON CONFLICT ({RECORD_KEY}) DO UPDATE SET n = record_rollup.n + excluded.n"));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for ((day, org, window, staff, item), n) in chunk {
            q = q.bind(*day).bind(*org).bind(*window).bind(*staff).bind(*item).bind(*n);
        }
        q.execute(&mut *conn).await?;
    }
    add_to_cuts(conn, backend, &facts).await
}

/// A completed-records fact from (day, org, window, staff, item, platform).
fn completion_fact(r: &AnyRow, n: i64) -> Result<Fact, StoreError> {
    Ok(Fact {
        day: r.try_get(0)?,
        org_id: r.try_get(1)?,
        window_id: r.try_get(2)?,
        staff_id: r.try_get(3)?,
        item_id: r.try_get(4)?,
        platform_id: r.try_get(5)?,
        channel: String::new(),
        measure: measure::COMPLETED.into(),
        is_default: false,
        invalidated: false,
        n,
    })
}

/// The recomputation the rollups must equal, from the rows themselves.
const RECOMPUTE_EVALUATIONS: &str = concat!(
    "SELECT ",
    day_of!("e.created_at"),
    " AS day, r.org_id, COALESCE(r.window_id, 0) AS window_id, COALESCE(r.staff_id, 0) AS staff_id, r.item_id,
        e.channel, e.level, e.is_default, CASE WHEN i.evaluation_id IS NULL THEN 0 ELSE 1 END AS invalidated,
        COUNT(*) AS n
     FROM evaluation e
     JOIN service_record r ON r.id = e.service_record_id
     LEFT JOIN evaluation_invalidation i ON i.evaluation_id = e.id
     WHERE e.round = 1
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9"
);
const RECOMPUTE_RECORDS: &str = concat!(
    "SELECT ",
    day_of!("completed_at"),
    " AS day, org_id, COALESCE(window_id, 0) AS window_id, COALESCE(staff_id, 0) AS staff_id, item_id, COUNT(*) AS n
     FROM service_record WHERE completed_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5"
);

/// The facts of `cut_rollup` from the rows: evaluations with their platform (`fact_cols!` order), then whether
/// invalidated and how many; completed records with their platform, then how many.
const EVALUATION_FACTS: &str = concat!(
    "SELECT ",
    fact_cols!(),
    ", CASE WHEN i.evaluation_id IS NULL THEN 0 ELSE 1 END, COUNT(*)
     FROM evaluation e
     JOIN service_record r ON r.id = e.service_record_id
     LEFT JOIN evaluation_invalidation i ON i.evaluation_id = e.id
     WHERE e.round = 1
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10"
);
const COMPLETION_FACTS: &str = concat!(
    "SELECT ",
    day_of!("completed_at"),
    ", org_id, COALESCE(window_id, 0), COALESCE(staff_id, 0), item_id, COALESCE(platform_id, 0), COUNT(*)
     FROM service_record WHERE completed_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6"
);

/// What `hcp stats rebuild` did.
#[derive(Debug, Clone, Copy, Default)]
pub struct RebuildReport {
    pub evaluation_rows: u64,
    pub record_rows: u64,
    pub cut_rows: u64,
}

type Counts = BTreeMap<String, i64>;

async fn counts(store: &Store, sql: &'static str, key_cols: usize) -> Result<Counts, StoreError> {
    let rows = sqlx::query(sql).fetch_all(&store.pool).await?;
    let mut out = Counts::new();
    for r in &rows {
        let mut key = String::new();
        for c in 0..key_cols {
            let part = match r.try_get::<i64, _>(c) {
                Ok(v) => v.to_string(),
                Err(_) => r.try_get::<String, _>(c)?,
            };
            key.push_str(&part);
            key.push('|');
        }
        let n: i64 = r.try_get(key_cols)?;
        if n != 0 {
            out.insert(key, n);
        }
    }
    Ok(out)
}

/// One row of a cut read from `cut_rollup`, summed over the periods asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutRow {
    /// The organization, for the org dimension; 0 for the others (summed over the scope).
    pub org_id: i64,
    /// `''` for the org dimension; the window, staff or item id, or the channel code.
    pub member: String,
    pub measure: String,
    pub is_default: bool,
    pub invalidated: bool,
    pub n: i64,
}

const STEP_FACTS: &str = concat!(
    "SELECT ",
    fact_cols!(),
    ", s.kind, s.detail, s.due_at, s.at
     FROM case_step s JOIN bad_review_case c ON c.id = s.case_id JOIN evaluation e ON e.id = c.evaluation_id
     JOIN service_record r ON r.id = e.service_record_id"
);
const APPEAL_FACTS: &str = concat!(
    "SELECT ",
    fact_cols!(),
    " FROM appeal a JOIN evaluation e ON e.id = a.evaluation_id JOIN service_record r ON r.id = e.service_record_id"
);
const UPHELD_FACTS: &str = concat!(
    "SELECT ",
    fact_cols!(),
    " FROM evaluation_invalidation i JOIN evaluation e ON e.id = i.evaluation_id
     JOIN service_record r ON r.id = e.service_record_id WHERE i.appeal_id IS NOT NULL"
);

/// What `cut_rollup` must hold, recomputed from the rows (evaluations, completions, steps, appeals).
async fn recomputed_cuts(conn: &mut AnyConnection) -> Result<BTreeMap<CutKey, i64>, StoreError> {
    let mut cuts = BTreeMap::new();
    let mut rows = sqlx::query(EVALUATION_FACTS).fetch(&mut *conn);
    let mut facts = Vec::new();
    while let Some(r) = rows.try_next().await? {
        let (f, level) = fact_of(&r)?;
        facts.push(Fact { measure: level, invalidated: r.try_get::<i64, _>(9)? != 0, n: r.try_get(10)?, ..f });
        if facts.len() == 10_000 {
            fold_cuts(facts.drain(..), &mut cuts);
        }
    }
    drop(rows);
    let records = sqlx::query(COMPLETION_FACTS).fetch_all(&mut *conn).await?;
    for r in &records {
        facts.push(completion_fact(r, r.try_get(6)?)?);
    }
    let mut rows = sqlx::query(STEP_FACTS).fetch(&mut *conn);
    while let Some(r) = rows.try_next().await? {
        let (f, _) = fact_of(&r)?;
        let kind: String = r.try_get(9)?;
        let detail: serde_json::Value = serde_json::from_str(&r.try_get::<String, _>(10)?).unwrap_or_default();
        let (due_at, at): (Option<i64>, i64) = (r.try_get(11)?, r.try_get(12)?);
        let m = step_measure(
            &kind,
            detail.get("deadline").and_then(|d| d.as_str()),
            detail.get("solved").and_then(|d| d.as_bool()),
            due_at.is_none_or(|due| at <= due),
        );
        if let Some(m) = m {
            facts.push(Fact { measure: m.into(), is_default: false, ..f });
        }
    }
    drop(rows);
    let in_progress = concat!(
        "SELECT ",
        fact_cols!(),
        " FROM evaluation e JOIN service_record r ON r.id = e.service_record_id
         LEFT JOIN evaluation_invalidation i ON i.evaluation_id = e.id
         WHERE i.evaluation_id IS NULL AND ",
        in_progress_where!()
    );
    for r in sqlx::query(in_progress).fetch_all(&mut *conn).await? {
        let (f, _) = fact_of(&r)?;
        facts.push(Fact { measure: measure::IN_PROGRESS.into(), is_default: false, ..f });
    }
    for (sql, m) in [(APPEAL_FACTS, measure::APPEAL_FILED), (UPHELD_FACTS, measure::APPEAL_UPHELD)] {
        for r in sqlx::query(sql).fetch_all(&mut *conn).await? {
            let (f, _) = fact_of(&r)?;
            facts.push(Fact { measure: m.into(), is_default: false, ..f });
        }
    }
    fold_cuts(facts, &mut cuts);
    cuts.retain(|_, n| *n != 0);
    Ok(cuts)
}

fn static_code(s: &str) -> &'static str {
    match s {
        "d" => "d",
        "m" => "m",
        "y" => "y",
        "org" => "org",
        "window" => "window",
        "staff" => "staff",
        "item" => "item",
        "channel" => "channel",
        "platform" => "platform",
        "all_item" => "all_item",
        "all_channel" => "all_channel",
        TOTAL_DIM => TOTAL_DIM,
        _ => "?",
    }
}

async fn stored_cuts(store: &Store) -> Result<BTreeMap<CutKey, i64>, StoreError> {
    let mut out = BTreeMap::new();
    let mut rows = sqlx::query(
        "SELECT grain, dim, period, org_id, member, measure, is_default, invalidated, n FROM cut_rollup WHERE n <> 0",
    )
    .fetch(&store.pool);
    while let Some(r) = rows.try_next().await? {
        let key = (
            static_code(&r.try_get::<String, _>(0)?),
            static_code(&r.try_get::<String, _>(1)?),
            r.try_get(2)?,
            r.try_get(3)?,
            r.try_get(4)?,
            r.try_get(5)?,
            r.try_get::<i64, _>(6)? != 0,
            r.try_get::<i64, _>(7)? != 0,
        );
        out.insert(key, r.try_get(8)?);
    }
    Ok(out)
}

/// One measure of one month of an organization subtree (see [`Store::month_totals`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthTotal {
    pub month: i64,
    pub measure: String,
    pub is_default: bool,
    pub invalidated: bool,
    pub n: i64,
}

impl Store {
    /// Whether `org_path` is the whole database: the path of its only root organization.
    async fn is_whole_tree(&self, org_path: &str) -> Result<bool, StoreError> {
        let roots: Vec<String> =
            sqlx::query_scalar("SELECT path FROM org WHERE parent_id IS NULL LIMIT 2").fetch_all(&self.pool).await?;
        Ok(roots.len() == 1 && roots[0] == org_path)
    }

    /// An organization subtree's month rows for months `from..=to` (month numbers, `period::month_number`),
    /// summed per month in one read: (month, measure, is_default, invalidated, n). The dashboard's trend asks for
    /// twelve months; twelve cuts read the same rows twelve times over.
    pub async fn month_totals(&self, org_path: &str, from: i64, to: i64) -> Result<Vec<MonthTotal>, StoreError> {
        // Values in the text, as in `cut_rows` (PostgreSQL's generic plans): numbers and a checked path only.
        // The whole database's months are kept as rows of their own; a subtree sums its organizations'.
        let (dim, orgs) = if self.is_whole_tree(org_path).await? {
            (TOTAL_DIM, "x.org_id = 0".to_string())
        } else {
            let subtree = crate::sql::subtree_literal(org_path)?;
            ("org", format!("x.org_id IN (SELECT id FROM org WHERE path LIKE {subtree})"))
        };
        let sql = format!(
            "SELECT x.period, x.measure, x.is_default, x.invalidated, CAST(SUM(x.n) AS BIGINT)
             FROM cut_rollup x
             WHERE x.grain = '{month}' AND x.dim = '{dim}' AND x.period >= {from} AND x.period <= {to} AND {orgs}
             GROUP BY x.period, x.measure, x.is_default, x.invalidated",
            month = Grain::Month.as_str(),
        );
        let rows = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(MonthTotal {
                    month: r.try_get(0)?,
                    measure: r.try_get(1)?,
                    is_default: r.try_get::<i64, _>(2)? != 0,
                    invalidated: r.try_get::<i64, _>(3)? != 0,
                    n: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// The rows of one dimension of a cut: organizations under `org_path` (`/1/5/`), over the rollup spans
    /// of a period (see `hcp_domain::period::spans`), summed.
    pub async fn cut_rows(&self, org_path: &str, dim: &str, spans: &[Span]) -> Result<Vec<CutRow>, StoreError> {
        let mut out: BTreeMap<(i64, String, String, bool, bool), i64> = BTreeMap::new();
        let member = match dim {
            "org" => Some(("''", "1 = 1")),
            "window" => Some(("CAST(x.window_id AS TEXT)", "x.window_id <> 0")),
            "staff" => Some(("CAST(x.staff_id AS TEXT)", "x.staff_id <> 0")),
            "item" => Some(("CAST(x.item_id AS TEXT)", "1 = 1")),
            "channel" => Some(("x.channel", "1 = 1")),
            // Read from cut_rollup alone, by day too (`DAY_DIMS`): no day-rollup column to name.
            "platform" => Some(("", "")),
            _ => None,
        };
        let Some((member, filter)) = member else { return Ok(Vec::new()) };
        // A cut of the whole database (the one root's subtree) reads the items' and channels' months from the
        // rows kept without organization.
        let whole = match whole_dim(dim) {
            Some(w) if self.is_whole_tree(org_path).await? => Some(w),
            _ => None,
        };
        // The values go into the text, not as parameters: PostgreSQL switches a prepared statement to a generic
        // plan after five runs, and the generic plan of this one (the subtree's LIKE, the period range) took a
        // second where the planned-for-the-values one takes 150 ms. Only our own codes and numbers and a stored
        // path of digits and slashes are inlined.
        let subtree = crate::sql::subtree_literal(org_path)?;
        for span in spans {
            // Only the org dimension needs its rows per organization; the others are summed over the scope here.
            let org_col = if dim == "org" { "x.org_id" } else { "CAST(0 AS BIGINT)" };
            let org_group = if dim == "org" { "x.org_id, " } else { "" };
            // `CROSS JOIN` fixes SQLite's join order: the subtree's organizations first, then each one's rows
            // by the key (grain, dim, org_id, period) — where, left to itself without statistics, it walked
            // every organization's rows of the dimension and filtered the periods. PostgreSQL plans it as any
            // join.
            let mut queries = vec![match whole.filter(|_| span.grain != Grain::Day) {
                Some(w) => format!(
                    "SELECT CAST(0 AS BIGINT), x.member, x.measure, x.is_default, x.invalidated, CAST(SUM(x.n) AS BIGINT)
                     FROM cut_rollup x
                     WHERE x.grain = $1 AND x.dim = '{w}' AND x.org_id = 0 AND x.period >= $3 AND x.period <= $4
                       AND $2 = $2 AND $5 = $5
                     GROUP BY x.member, x.measure, x.is_default, x.invalidated",
                ),
                None => format!(
                    "SELECT {org_col}, x.member, x.measure, x.is_default, x.invalidated, CAST(SUM(x.n) AS BIGINT)
                     FROM org o CROSS JOIN cut_rollup x
                     WHERE x.org_id = o.id AND x.grain = $1 AND x.dim = $2 AND x.period >= $3 AND x.period <= $4
                       AND o.path LIKE $5
                     GROUP BY {org_group}x.member, x.measure, x.is_default, x.invalidated",
                ),
            }];
            if span.grain == Grain::Day && !DAY_DIMS.contains(&dim) {
                // Loose days: evaluations and completions from the day rollups, by the dimension's column.
                queries.push(format!(
                    "SELECT CAST(0 AS BIGINT), {member}, x.level, x.is_default, x.invalidated, CAST(SUM(x.n) AS BIGINT)
                     FROM evaluation_rollup x JOIN org o ON o.id = x.org_id
                     WHERE $1 = $1 AND $2 = $2 AND x.day >= $3 AND x.day <= $4 AND o.path LIKE $5 AND {filter}
                     GROUP BY {member}, x.level, x.is_default, x.invalidated"
                ));
                if dim != "channel" {
                    queries.push(format!(
                        "SELECT CAST(0 AS BIGINT), {member}, '{completed}', CAST(0 AS BIGINT), CAST(0 AS BIGINT),
                             CAST(SUM(x.n) AS BIGINT)
                         FROM record_rollup x JOIN org o ON o.id = x.org_id
                         WHERE $1 = $1 AND $2 = $2 AND x.day >= $3 AND x.day <= $4 AND o.path LIKE $5 AND {filter}
                         GROUP BY {member}",
                        completed = measure::COMPLETED,
                    ));
                }
            }
            let mut rows = Vec::new();
            for sql in queries {
                let sql = sql
                    .replace("$1", &format!("'{}'", span.grain.as_str()))
                    .replace("$2", &format!("'{dim}'"))
                    .replace("$3", &span.from.to_string())
                    .replace("$4", &span.to.to_string())
                    .replace("$5", &subtree);
                rows.extend(sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?);
            }
            for r in &rows {
                let key = (
                    r.try_get(0)?,
                    r.try_get(1)?,
                    r.try_get(2)?,
                    r.try_get::<i64, _>(3)? != 0,
                    r.try_get::<i64, _>(4)? != 0,
                );
                *out.entry(key).or_insert(0) += r.try_get::<i64, _>(5)?;
            }
        }
        Ok(out
            .into_iter()
            .map(|((org_id, member, measure, is_default, invalidated), n)| CutRow {
                org_id,
                member,
                measure,
                is_default,
                invalidated,
                n,
            })
            .collect())
    }

    /// Recomputes both rollups from the rows, in one transaction (readers see the old or the new, never a
    /// half). For `hcp stats rebuild`, after a restore or to repair.
    pub async fn rebuild_rollups(&self) -> Result<RebuildReport, StoreError> {
        Ok(self.rebuild(false).await?.unwrap_or_default())
    }

    /// The rebuild; with `only_if_requested`, only when a migration asked for one (`rollup_rebuild_request`),
    /// which any rebuild fulfils. The request is taken first, in the rebuild's transaction: a second instance
    /// starting at the same time waits on it, then finds nothing left to do.
    pub(crate) async fn rebuild(&self, only_if_requested: bool) -> Result<Option<RebuildReport>, StoreError> {
        let mut tx = self.begin_write().await?;
        let requested = sqlx::query("DELETE FROM rollup_rebuild_request").execute(&mut *tx).await?.rows_affected();
        if only_if_requested && requested == 0 {
            return Ok(None);
        }
        sqlx::query("DELETE FROM evaluation_rollup").execute(&mut *tx).await?;
        sqlx::query("DELETE FROM record_rollup").execute(&mut *tx).await?;
        let e = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO evaluation_rollup ({EVALUATION_KEY}, n) {RECOMPUTE_EVALUATIONS}"
        )))
        .execute(&mut *tx)
        .await?;
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO record_rollup ({RECORD_KEY}, n) {RECOMPUTE_RECORDS}"
        )))
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM cut_rollup").execute(&mut *tx).await?;
        let cuts: Vec<(CutKey, i64)> = recomputed_cuts(&mut tx).await?.into_iter().collect();
        let cut_rows = cuts.len() as u64;
        write_cuts(&mut tx, self.backend, cuts).await?;
        tx.commit().await?;
        Ok(Some(RebuildReport { evaluation_rows: e.rows_affected(), record_rows: r.rows_affected(), cut_rows }))
    }

    /// Keys where the rollups differ from a full recomputation (empty when they agree), for `hcp stats check`
    /// and the tests.
    pub async fn rollup_mismatches(&self) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for (stored_sql, recomputed_sql, cols, name) in [
            (
                "SELECT day, org_id, window_id, staff_id, item_id, channel, level, is_default, invalidated, n
                 FROM evaluation_rollup",
                RECOMPUTE_EVALUATIONS,
                9,
                "evaluation_rollup",
            ),
            (
                "SELECT day, org_id, window_id, staff_id, item_id, n FROM record_rollup",
                RECOMPUTE_RECORDS,
                5,
                "record_rollup",
            ),
        ] {
            let stored = counts(self, stored_sql, cols).await?;
            let fresh = counts(self, recomputed_sql, cols).await?;
            for (k, n) in &fresh {
                if stored.get(k) != Some(n) {
                    out.push(format!("{name} {k} stored {:?}, recomputed {n}", stored.get(k)));
                }
            }
            for (k, n) in &stored {
                if !fresh.contains_key(k) {
                    out.push(format!("{name} {k} stored {n}, recomputed 0"));
                }
            }
        }
        let stored = stored_cuts(self).await?;
        let mut conn = self.pool.acquire().await?;
        let fresh = recomputed_cuts(&mut conn).await?;
        for (k, n) in &fresh {
            if stored.get(k) != Some(n) {
                out.push(format!("cut_rollup {k:?} stored {:?}, recomputed {n}", stored.get(k)));
            }
        }
        for (k, n) in &stored {
            if !fresh.contains_key(k) {
                out.push(format!("cut_rollup {k:?} stored {n}, recomputed 0"));
            }
        }
        Ok(out)
    }
}

impl Store {
    /// The per-organization level counts of first evaluations between two instants, straight from the rows:
    /// what a ranking would cost without the rollups. For the results benchmark only.
    pub async fn raw_scan_counts(
        &self,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> Result<usize, StoreError> {
        let rows = sqlx::query(
            "SELECT r.org_id, e.level, e.is_default, COUNT(*) FROM evaluation e
             JOIN service_record r ON r.id = e.service_record_id
             WHERE e.round = 1 AND e.created_at >= $1 AND e.created_at < $2
             GROUP BY r.org_id, e.level, e.is_default",
        )
        .bind(crate::time::to_ms(from))
        .bind(crate::time::to_ms(to))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.len())
    }
}
