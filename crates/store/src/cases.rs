//! Bad-review cases: opened with their bad review in the same transaction (issue 5 §1), then worked step by
//! step. A step is one transaction: the case's new fields (only if nobody changed the case since it was read),
//! the step row, its notifications (outbox), attachments, and audit entries.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::outbox::{NewMessage, insert_messages};
use crate::time::{from_ms, to_ms};
use crate::{Backend, NewAudit, Store, StoreError};

/// What a step may change on a case: its state and the current round's clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFields {
    pub state: String,
    pub unit_id: Option<i64>,
    pub round: i64,
    pub round_assigned_at: Option<DateTime<Utc>>,
    pub contact_due_at: Option<DateTime<Utc>>,
    pub rectify_due_at: Option<DateTime<Utc>>,
    pub reply_due_at: Option<DateTime<Utc>>,
    pub deadlines_provisional: bool,
    pub long_term: bool,
    /// The center approved the long-term finding (issue 15 §3).
    pub plan_approved: bool,
    /// The case waited unassigned past the center's dispatch limit.
    pub dispatch_missed: bool,
    /// When the clock job must next look at the case; `None` when no clock runs.
    pub next_check_at: Option<DateTime<Utc>>,
    pub contact_reminded: bool,
    pub handling_reminded: bool,
    pub contact_missed: bool,
    pub handling_missed: bool,
    pub overdue_at: Option<DateTime<Utc>>,
}

/// A case with what its lists and pages show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRow {
    pub id: i64,
    /// The applicant's bad review and its record; `None` for a case a mystery-shopper visit opened.
    pub evaluation_id: Option<i64>,
    pub service_record_id: Option<i64>,
    /// The visit (调查暗访) whose bad finding opened the case, if that is where it came from.
    pub inspection_id: Option<i64>,
    /// The record's organization (proposed as the handling unit).
    pub org_id: i64,
    pub org_name: String,
    pub org_path: String,
    pub unit_name: Option<String>,
    pub unit_path: Option<String>,
    /// "暗访记录 N" for a visit's case (it has no service record).
    pub record_number: String,
    /// The service item, or "调查暗访" for a visit's case.
    pub item_name: String,
    pub staff_id: Option<i64>,
    pub staff_name: Option<String>,
    pub level: String,
    /// The evaluator's comment, or the inspector's findings.
    pub comment: Option<String>,
    pub indicator_ids: String,
    pub evaluated_at: DateTime<Utc>,
    /// When the center's dispatch clock started: the bad review, or the import that brought it in.
    pub clock_started_at: DateTime<Utc>,
    pub appeal_state: Option<String>,
    pub fields: CaseFields,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl CaseRow {
    /// The organization whose people work the case: the assigned unit, or the record's org before that.
    pub fn scope_path(&self) -> &str {
        self.unit_path.as_deref().unwrap_or(&self.org_path)
    }
}

/// A case's columns over `c` (a case, or a page of cases chosen first) and [`case_joins`]'s tables.
macro_rules! case_cols {
    () => {
        "SELECT c.id, c.evaluation_id, c.service_record_id, c.inspection_id, c.org_id, o.name AS org_name,
    o.path AS org_path, u.name AS unit_name, u.path AS unit_path, COALESCE(r.record_number, '暗访记录 ' || c.inspection_id) AS record_number,
    COALESCE(i.name, '调查暗访') AS item_name, COALESCE(r.staff_id, ie.staff_id) AS staff_id,
    s.name AS staff_name, COALESCE(e.level, ie.level) AS level, COALESCE(e.comment, ie.findings) AS comment,
    COALESCE(e.indicator_ids, ie.indicator_ids) AS indicator_ids,
    COALESCE(e.created_at, ie.created_at) AS evaluated_at,
    COALESCE(c.clock_from, e.created_at, ie.created_at) AS clock_started_at,
    a.state AS appeal_state, c.state, c.unit_id, c.round, c.round_assigned_at, c.contact_due_at,
    c.rectify_due_at, c.reply_due_at, c.deadlines_provisional, c.long_term, c.plan_approved, c.dispatch_missed, c.next_check_at,
    c.contact_reminded, c.handling_reminded, c.contact_missed, c.handling_missed, c.overdue_at, c.version,
    c.created_at, c.updated_at "
    };
}

/// What a case's row shows besides the case: its organizations, record, item, staff, evaluation and appeal.
macro_rules! case_joins {
    () => {
        " JOIN org o ON o.id = c.org_id
  LEFT JOIN org u ON u.id = c.unit_id
  LEFT JOIN service_record r ON r.id = c.service_record_id
  LEFT JOIN service_item i ON i.id = r.item_id
  LEFT JOIN inspection_evaluation ie ON ie.inspection_id = c.inspection_id
  LEFT JOIN staff s ON s.id = COALESCE(r.staff_id, ie.staff_id)
  LEFT JOIN evaluation e ON e.id = c.evaluation_id
  LEFT JOIN appeal a ON a.evaluation_id = c.evaluation_id "
    };
}

/// One case (or a few) with everything its row shows: `case_select!()` followed by a `WHERE` on `c`.
macro_rules! case_select {
    () => {
        concat!(case_cols!(), " FROM bad_review_case c", case_joins!())
    };
}

/// A page of cases: `page` picks the cases (from `bad_review_case c` alone, ordered and limited), and only
/// they are joined to what their rows show — so a list of thousands of matching cases joins fifty, and the
/// planner's guess of how many match cannot turn the page into a join of every case.
fn paged_cases(page: &str, order: &str) -> String {
    format!("{} FROM ({page}) c {} ORDER BY {order}", case_cols!(), case_joins!())
}

fn opt_ms(r: &AnyRow, col: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(r.try_get::<Option<i64>, _>(col)?.map(from_ms))
}

fn flag(r: &AnyRow, col: &str) -> Result<bool, StoreError> {
    Ok(r.try_get::<i64, _>(col)? != 0)
}

fn case_row(r: &AnyRow) -> Result<CaseRow, StoreError> {
    Ok(CaseRow {
        id: r.try_get("id")?,
        evaluation_id: r.try_get("evaluation_id")?,
        service_record_id: r.try_get("service_record_id")?,
        inspection_id: r.try_get("inspection_id")?,
        org_id: r.try_get("org_id")?,
        org_name: r.try_get("org_name")?,
        org_path: r.try_get("org_path")?,
        unit_name: r.try_get("unit_name")?,
        unit_path: r.try_get("unit_path")?,
        record_number: r.try_get("record_number")?,
        item_name: r.try_get("item_name")?,
        staff_id: r.try_get("staff_id")?,
        staff_name: r.try_get("staff_name")?,
        level: r.try_get("level")?,
        comment: r.try_get("comment")?,
        indicator_ids: r.try_get("indicator_ids")?,
        evaluated_at: from_ms(r.try_get("evaluated_at")?),
        clock_started_at: from_ms(r.try_get("clock_started_at")?),
        appeal_state: r.try_get("appeal_state")?,
        fields: CaseFields {
            state: r.try_get("state")?,
            unit_id: r.try_get("unit_id")?,
            round: r.try_get("round")?,
            round_assigned_at: opt_ms(r, "round_assigned_at")?,
            contact_due_at: opt_ms(r, "contact_due_at")?,
            rectify_due_at: opt_ms(r, "rectify_due_at")?,
            reply_due_at: opt_ms(r, "reply_due_at")?,
            deadlines_provisional: flag(r, "deadlines_provisional")?,
            long_term: flag(r, "long_term")?,
            plan_approved: flag(r, "plan_approved")?,
            dispatch_missed: flag(r, "dispatch_missed")?,
            next_check_at: opt_ms(r, "next_check_at")?,
            contact_reminded: flag(r, "contact_reminded")?,
            handling_reminded: flag(r, "handling_reminded")?,
            contact_missed: flag(r, "contact_missed")?,
            handling_missed: flag(r, "handling_missed")?,
            overdue_at: opt_ms(r, "overdue_at")?,
        },
        version: r.try_get("version")?,
        created_at: from_ms(r.try_get("created_at")?),
        updated_at: opt_ms(r, "updated_at")?,
    })
}

/// One step as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseStepRow {
    pub id: i64,
    pub round: i64,
    pub kind: String,
    pub role: String,
    pub actor: String,
    pub text: String,
    pub detail: String,
    pub due_at: Option<DateTime<Utc>>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCaseStep {
    pub round: i64,
    pub kind: &'static str,
    pub role: &'static str,
    pub actor: String,
    pub text: String,
    pub detail: String,
    pub due_at: Option<DateTime<Utc>>,
    pub at: DateTime<Utc>,
}

/// A file attached to a case or an appeal, already checked for type and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    pub file_name: String,
    pub content_type: &'static str,
    pub sm3: String,
    pub data: Vec<u8>,
    pub uploaded_by: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentRow {
    pub id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sm3: String,
    pub uploaded_by: String,
    pub at: DateTime<Utc>,
}

/// An attachment's columns (id, file_name, content_type, size, sm3, uploaded_by, at) as a row.
pub(crate) fn attachment_row(r: &AnyRow) -> Result<AttachmentRow, StoreError> {
    Ok(AttachmentRow {
        id: r.try_get("id")?,
        file_name: r.try_get("file_name")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
        sm3: r.try_get("sm3")?,
        uploaded_by: r.try_get("uploaded_by")?,
        at: from_ms(r.try_get("at")?),
    })
}

/// Everything one step writes, in one transaction.
#[derive(Debug, Clone, Default)]
pub struct CaseWrite {
    /// The case's new fields, applied only if its version is still `version`.
    pub update: Option<(i64, i64, CaseFields)>,
    pub steps: Vec<(i64, NewCaseStep)>,
    pub attachments: Vec<(i64, NewAttachment)>,
    pub messages: Vec<NewMessage>,
    /// The hash of a second-rating link for a case (二次评价).
    pub second_invite: Option<(i64, String)>,
    pub audit: Vec<NewAudit>,
}

/// Writes a step's changes on an open transaction. `false` when the case changed since it was read (the
/// caller rolls back and tells the person to reload).
pub(crate) async fn write_case_in(
    conn: &mut AnyConnection,
    chain: &crate::audit::Chain<'_>,
    w: &CaseWrite,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    if !write_case_uncounted(conn, chain, w, now).await? {
        return Ok(false);
    }
    crate::rollups::count_case_steps(conn, chain.backend, &steps_of(w)).await?;
    Ok(true)
}

fn steps_of(w: &CaseWrite) -> Vec<(i64, &NewCaseStep)> {
    w.steps.iter().map(|(case_id, s)| (*case_id, s)).collect()
}

/// A case's writes without counting its steps in the statistics: [`write_case_in`] counts them at once, a batch
/// of cases ([`Store::write_cases`]) all together at its end (a few statements instead of four per step).
async fn write_case_uncounted(
    conn: &mut AnyConnection,
    chain: &crate::audit::Chain<'_>,
    w: &CaseWrite,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    if let Some((case_id, version, f)) = &w.update {
        let done = sqlx::query(
            "UPDATE bad_review_case SET state = $1, unit_id = $2, round = $3, round_assigned_at = $4,
                contact_due_at = $5, rectify_due_at = $6, reply_due_at = $7, deadlines_provisional = $8,
                long_term = $9, next_check_at = $10, contact_reminded = $11, handling_reminded = $12,
                contact_missed = $13, handling_missed = $14, overdue_at = $15, version = version + 1,
                updated_at = $16, plan_approved = $19, dispatch_missed = $20
             WHERE id = $17 AND version = $18",
        )
        .bind(f.state.clone())
        .bind(f.unit_id)
        .bind(f.round)
        .bind(f.round_assigned_at.map(to_ms))
        .bind(f.contact_due_at.map(to_ms))
        .bind(f.rectify_due_at.map(to_ms))
        .bind(f.reply_due_at.map(to_ms))
        .bind(f.deadlines_provisional as i64)
        .bind(f.long_term as i64)
        .bind(f.next_check_at.map(to_ms))
        .bind(f.contact_reminded as i64)
        .bind(f.handling_reminded as i64)
        .bind(f.contact_missed as i64)
        .bind(f.handling_missed as i64)
        .bind(f.overdue_at.map(to_ms))
        .bind(to_ms(now))
        .bind(*case_id)
        .bind(*version)
        .bind(f.plan_approved as i64)
        .bind(f.dispatch_missed as i64)
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
    }
    for (case_id, s) in &w.steps {
        sqlx::query(
            "INSERT INTO case_step (case_id, round, kind, role, actor, text, detail, due_at, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(*case_id)
        .bind(s.round)
        .bind(s.kind)
        .bind(s.role)
        .bind(s.actor.clone())
        .bind(s.text.clone())
        .bind(s.detail.clone())
        .bind(s.due_at.map(to_ms))
        .bind(to_ms(s.at))
        .execute(&mut *conn)
        .await?;
        if s.kind == "close" {
            crate::upstream::queue_rectification(conn, *case_id, s.at).await?;
        }
    }
    for (case_id, a) in &w.attachments {
        sqlx::query(
            "INSERT INTO case_attachment (case_id, file_name, content_type, size, sm3, data, uploaded_by, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(*case_id)
        .bind(a.file_name.clone())
        .bind(a.content_type)
        .bind(a.data.len() as i64)
        .bind(a.sm3.clone())
        .bind(a.data.clone())
        .bind(a.uploaded_by.clone())
        .bind(to_ms(a.at))
        .execute(&mut *conn)
        .await?;
    }
    if let Some((case_id, hash)) = &w.second_invite {
        sqlx::query(
            "INSERT INTO second_invite (case_id, token_hash, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (case_id) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at",
        )
        .bind(*case_id)
        .bind(hash.clone())
        .bind(to_ms(now))
        .execute(&mut *conn)
        .await?;
    }
    insert_messages(conn, &w.messages).await?;
    crate::audit::append(conn, chain, &w.audit).await?;
    Ok(true)
}

/// Opens a case for each of these evaluations (the caller passes only bad reviews); an evaluation that has
/// one already is skipped. Returns audit entries for the cases opened, to append in the same transaction.
pub(crate) async fn open_cases(
    conn: &mut AnyConnection,
    backend: Backend,
    evaluation_ids: &[i64],
) -> Result<Vec<NewAudit>, StoreError> {
    open_cases_from(conn, backend, evaluation_ids, None).await
}

/// [`open_cases`] for bad reviews of an imported history: nobody is notified of what happened long ago, and
/// the center's dispatch clock starts at `imported_at` (`clock_from`), not at the bad review.
pub(crate) async fn open_imported_cases(
    conn: &mut AnyConnection,
    backend: Backend,
    evaluation_ids: &[i64],
    imported_at: DateTime<Utc>,
) -> Result<Vec<NewAudit>, StoreError> {
    open_cases_from(conn, backend, evaluation_ids, Some(imported_at)).await
}

async fn open_cases_from(
    conn: &mut AnyConnection,
    backend: Backend,
    evaluation_ids: &[i64],
    imported_at: Option<DateTime<Utc>>,
) -> Result<Vec<NewAudit>, StoreError> {
    if evaluation_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = String::from(
        "INSERT INTO bad_review_case (evaluation_id, service_record_id, org_id, state, round, created_at, clock_from)
         SELECT e.id, e.service_record_id, r.org_id, 'unassigned', 0, e.created_at, ",
    );
    // An integer of our own, written into the text: SQLite numbers a `?` after a `$1` unlike PostgreSQL.
    sql.push_str(&imported_at.map_or("NULL".to_string(), |at| to_ms(at).to_string()));
    sql.push_str(" FROM evaluation e JOIN service_record r ON r.id = e.service_record_id WHERE e.id IN ");
    crate::sql::push_tuple(&mut sql, backend, 1, evaluation_ids.len());
    sql.push_str(" ON CONFLICT (evaluation_id) DO NOTHING RETURNING id, evaluation_id, service_record_id, created_at");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in evaluation_ids {
        q = q.bind(*id);
    }
    let rows = q.fetch_all(&mut *conn).await?;
    let mut audit = Vec::with_capacity(rows.len());
    let mut case_ids = Vec::with_capacity(rows.len());
    for r in &rows {
        let (case_id, evaluation_id, record_id): (i64, i64, i64) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        // An imported case is opened now, whenever its bad review was given.
        let at = imported_at.unwrap_or(from_ms(r.try_get(3)?));
        audit.push(NewAudit {
            at,
            actor: "system".into(),
            action: "case.open",
            target: format!("case:{case_id}"),
            details: format!(r#"{{"evaluation_id":{evaluation_id},"service_record_id":{record_id}}}"#),
        });
        case_ids.push(case_id);
    }
    if imported_at.is_none() {
        crate::outbox::notify_staff_of_cases(conn, backend, &case_ids).await?;
    }
    Ok(audit)
}

/// Binds [`case_where`]'s parameters to a query (a list or a count), in its order.
macro_rules! bind_case_filter {
    ($q:expr, $f:expr) => {{
        let (mut q, f) = ($q, $f);
        for s in &f.scopes {
            q = q.bind(format!("{s}%"));
        }
        if let Some(staff) = f.staff_id {
            q = q.bind(staff);
        }
        for s in &f.states {
            q = q.bind(s.clone());
        }
        q
    }};
}

/// Which cases a list shows.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// Org subtrees (`/1/5/`) the person may see; a case is in one when its unit (or, before assignment, its
    /// record's org) is. Empty means none.
    pub scopes: Vec<String>,
    /// Only cases about this staff member's service.
    pub staff_id: Option<i64>,
    pub states: Vec<String>,
    /// Also the cases whose long-term finding waits for the center's approval (in the center's inbox).
    pub plans_to_approve: bool,
    pub overdue_only: bool,
    /// Newest first (by id, through the primary key) instead of most urgent first (which sorts every match:
    /// right for the small lists of open cases, slow for "all" over years of cases).
    pub newest_first: bool,
    pub limit: i64,
    pub offset: i64,
}

impl Store {
    pub async fn case_by_id(&self, id: i64) -> Result<Option<CaseRow>, StoreError> {
        let row = sqlx::query(concat!(case_select!(), "WHERE c.id = $1")).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(case_row).transpose()
    }

    /// The case of an evaluation, if it has one.
    pub async fn case_of_evaluation(&self, evaluation_id: i64) -> Result<Option<CaseRow>, StoreError> {
        let row = sqlx::query(concat!(case_select!(), "WHERE c.evaluation_id = $1"))
            .bind(evaluation_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(case_row).transpose()
    }

    /// Cases in scope, the most urgent first (overdue, then by the next deadline, then oldest).
    pub async fn list_cases(&self, f: &CaseFilter) -> Result<Vec<CaseRow>, StoreError> {
        if f.scopes.is_empty() && f.staff_id.is_none() {
            return Ok(Vec::new());
        }
        // An inbox by states, or the overdue list: read in its order from the queue indexes, no sort.
        if !f.newest_first && (f.states.is_empty() == f.overdue_only) {
            let q = bind_case_filter!(sqlx::query(sqlx::AssertSqlSafe(queue_sql(f))), f);
            return q.fetch_all(&self.pool).await?.iter().map(case_row).collect();
        }
        let (conds, n) = case_where(f);
        let order = if f.newest_first { "c.id DESC" } else { QUEUE_ORDER };
        let page =
            format!("SELECT c.* FROM bad_review_case c {conds} ORDER BY {order} LIMIT ${} OFFSET ${}", n + 1, n + 2);
        let sql = paged_cases(&page, order);
        let q = bind_case_filter!(sqlx::query(sqlx::AssertSqlSafe(sql)), f);
        let q = q.bind(f.limit.clamp(1, 500)).bind(f.offset.max(0));
        q.fetch_all(&self.pool).await?.iter().map(case_row).collect()
    }

    /// How many cases the filter matches, counted up to `cap` (the console's "50+"): no sort, so a backlog of
    /// thousands costs its first `cap` rows, not the list's ordering of all of them.
    pub async fn count_matching_cases(&self, f: &CaseFilter, cap: i64) -> Result<i64, StoreError> {
        if f.scopes.is_empty() && f.staff_id.is_none() {
            return Ok(0);
        }
        let cap = cap.max(0);
        let sql = if f.overdue_only && f.states.is_empty() {
            // The overdue list's two parts counted apart, each from its own index: one `OR` of both would
            // scan the cases until `cap` matched.
            let (access, _) = access_conds(f);
            let part = |cond: &str| {
                format!(
                    "(SELECT COUNT(*) FROM (SELECT 1 FROM bad_review_case c WHERE {} LIMIT {cap}) t)",
                    and_access(&access, cond)
                )
            };
            format!("SELECT {} + {}", part(PAST_UNIT_LIMIT), part(PAST_DISPATCH_LIMIT))
        } else {
            let (conds, _) = case_where(f);
            format!("SELECT COUNT(*) FROM (SELECT 1 FROM bad_review_case c {conds} LIMIT {cap}) t")
        };
        let q = bind_case_filter!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)), f);
        Ok(q.fetch_one(&self.pool).await?.min(cap))
    }

    pub async fn case_steps(&self, case_id: i64) -> Result<Vec<CaseStepRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, round, kind, role, actor, text, detail, due_at, at FROM case_step
             WHERE case_id = $1 ORDER BY id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CaseStepRow {
                    id: r.try_get("id")?,
                    round: r.try_get("round")?,
                    kind: r.try_get("kind")?,
                    role: r.try_get("role")?,
                    actor: r.try_get("actor")?,
                    text: r.try_get("text")?,
                    detail: r.try_get("detail")?,
                    due_at: opt_ms(r, "due_at")?,
                    at: from_ms(r.try_get("at")?),
                })
            })
            .collect()
    }

    /// Applies a step's writes in one transaction; `false` (nothing written) when the case changed meanwhile.
    pub async fn write_case(&self, w: &CaseWrite, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        if !write_case_in(&mut tx, &self.chain(), w, now).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Many cases' writes in one transaction (the demo's histories); a stale one is skipped, not fatal.
    pub async fn write_cases(&self, writes: &[CaseWrite], now: DateTime<Utc>) -> Result<u64, StoreError> {
        if writes.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        let mut n = 0;
        let mut written = Vec::new();
        for w in writes {
            if write_case_uncounted(&mut tx, &self.chain(), w, now).await? {
                n += 1;
                written.extend(steps_of(w));
            }
        }
        crate::rollups::count_case_steps(&mut tx, self.backend(), &written).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Every case after `after_id`, by id (walking all cases: keyset paging, no OFFSET scan).
    pub async fn cases_after(&self, after_id: i64, limit: i64) -> Result<Vec<CaseRow>, StoreError> {
        let rows = sqlx::query(concat!(case_select!(), "WHERE c.id > $1 ORDER BY c.id LIMIT $2"))
            .bind(after_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(case_row).collect()
    }

    /// Cases the center has left unassigned since before `before` (for the automatic assignment rule).
    pub async fn unassigned_cases_before(&self, before: DateTime<Utc>, limit: i64) -> Result<Vec<CaseRow>, StoreError> {
        let rows = sqlx::query(concat!(
            case_select!(),
            "WHERE c.state = 'unassigned' AND c.created_at <= $1 ORDER BY c.created_at LIMIT $2"
        ))
        .bind(to_ms(before))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(case_row).collect()
    }

    /// Unassigned cases not yet marked as past the center's dispatch limit, oldest first (the center's own
    /// clock; a short list where the center dispatches every day).
    pub async fn undispatched_cases(&self, limit: i64) -> Result<Vec<CaseRow>, StoreError> {
        let rows = sqlx::query(concat!(
            case_select!(),
            "WHERE c.state = 'unassigned' AND c.dispatch_missed = 0 ORDER BY COALESCE(c.clock_from, c.created_at)
             LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(case_row).collect()
    }

    /// Cases whose clock is due for a look at `now` (reminders, missed limits, automatic assignment).
    pub async fn cases_to_check(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<CaseRow>, StoreError> {
        let rows = sqlx::query(concat!(
            case_select!(),
            "WHERE c.next_check_at IS NOT NULL AND c.next_check_at <= $1 ORDER BY c.next_check_at LIMIT $2"
        ))
        .bind(to_ms(now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(case_row).collect()
    }

    pub async fn case_attachments(&self, case_id: i64) -> Result<Vec<AttachmentRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, file_name, content_type, size, sm3, uploaded_by, at FROM case_attachment
             WHERE case_id = $1 ORDER BY id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(attachment_row).collect()
    }

    /// An attachment's bytes, if it belongs to that case.
    pub async fn case_attachment_data(
        &self,
        case_id: i64,
        attachment_id: i64,
    ) -> Result<Option<(String, String, Vec<u8>)>, StoreError> {
        let row =
            sqlx::query("SELECT file_name, content_type, data FROM case_attachment WHERE case_id = $1 AND id = $2")
                .bind(case_id)
                .bind(attachment_id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))).transpose()
    }

    /// Cases by state (for the demo's summary and for checks).
    pub async fn case_state_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query("SELECT state, COUNT(*) FROM bad_review_case GROUP BY state ORDER BY state")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }

    pub async fn count_cases(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM bad_review_case").fetch_one(&self.pool).await?)
    }
}

/// Who may see a case (the scopes, or the staff member's own service): conditions over the case `c` alone,
/// numbered from `$1`, and how many parameters they take. A case is in a scope when its unit (or, before
/// assignment, its record's org) is: one subquery over the organizations, which the planner sizes from their
/// paths, where an `OR` across two joined tables left it guessing.
fn access_conds(f: &CaseFilter) -> (Vec<String>, usize) {
    let mut n = 0;
    let mut conds: Vec<String> = Vec::new();
    if !f.scopes.is_empty() {
        let ors = crate::sql::numbered(&mut n, f.scopes.len(), |i| format!("path LIKE ${i}"));
        conds.push(format!("COALESCE(c.unit_id, c.org_id) IN (SELECT id FROM org WHERE {})", ors.join(" OR ")));
    }
    if f.staff_id.is_some() {
        n += 1;
        conds.push(format!(
            "EXISTS (SELECT 1 FROM service_record sr WHERE sr.id = c.service_record_id AND sr.staff_id = ${n})"
        ));
    }
    (conds, n)
}

/// A condition over the case `c` together with the access conditions (of [`access_conds`]).
fn and_access(access: &[String], cond: &str) -> String {
    access.iter().map(String::as_str).chain([cond]).collect::<Vec<_>>().join(" AND ")
}

/// The `WHERE` of a case list, and how many parameters it takes; [`bind_case_filter`] binds them in the same
/// order (the access conditions', then the states').
fn case_where(f: &CaseFilter) -> (String, usize) {
    let (mut conds, mut n) = access_conds(f);
    if !f.states.is_empty() {
        let ps = crate::sql::numbered(&mut n, f.states.len(), |i| format!("${i}"));
        let approve = if f.plans_to_approve { format!(" OR ({PLANS_TO_APPROVE})") } else { String::new() };
        conds.push(format!("(c.state IN ({}){approve})", ps.join(",")));
    }
    if f.overdue_only {
        conds.push(format!("({PAST_UNIT_LIMIT} OR ({PAST_DISPATCH_LIMIT}))"));
    }
    let sql = if conds.is_empty() { String::new() } else { format!("WHERE {}", conds.join(" AND ")) };
    (sql, n)
}

/// Long-term findings waiting for the center's approval (in the center's inbox).
const PLANS_TO_APPROVE: &str = "c.state = 'rectifying' AND c.long_term = 1 AND c.plan_approved = 0";

/// An inbox's order: overdue first, then by the next check (or creation), then by id. The index
/// `bad_review_case_queue` holds exactly these expressions after the state.
const QUEUE_ORDER: &str =
    "CASE WHEN c.overdue_at IS NULL THEN 1 ELSE 0 END, COALESCE(c.next_check_at, c.created_at), c.id";

/// The overdue list, part one: cases a unit let run past a limit (the partial index `bad_review_case_overdue`).
const PAST_UNIT_LIMIT: &str = "c.overdue_at IS NOT NULL";

/// The overdue list, part two: cases waiting unassigned past the center's own dispatch limit and not in part
/// one — written as the index `bad_review_case_dispatch_late` holds it (three equalities, then the inbox's
/// order), so a backlog of waiting cases not yet marked costs nothing to pass over.
const PAST_DISPATCH_LIMIT: &str =
    "c.state = 'unassigned' AND c.dispatch_missed = 1 AND CASE WHEN c.overdue_at IS NULL THEN 1 ELSE 0 END = 1";

/// Either part of the overdue list in `QUEUE_ORDER`: its first term is the same for every case of a part, and
/// left out so the planner reads the part's index in order rather than sorting what it matched (SQLite does not
/// drop an expression's term that the `WHERE` fixes).
const OVERDUE_ORDER: &str = "COALESCE(c.next_check_at, c.created_at), c.id";

/// An inbox by states (or the overdue list), most urgent first, as one branch per state (and one for the plans
/// to approve; for the overdue list, one for the cases past a unit's limit and one for those past the
/// center's dispatch limit), each walking an index in the inbox's order and stopping at the page's end,
/// merged: a backlog of thousands costs a page of rows, not a sort of all of them.
fn queue_sql(f: &CaseFilter) -> String {
    let (access, n) = access_conds(f);
    let take = f.limit.clamp(1, 500) + f.offset.max(0);
    let branch = |i: usize, cond: &str, order: &str| {
        format!(
            "SELECT * FROM (SELECT c.* FROM bad_review_case c WHERE {} ORDER BY {order} LIMIT {take}) b{i}",
            and_access(&access, cond)
        )
    };
    let mut branches: Vec<String> = Vec::new();
    if f.overdue_only {
        branches.push(branch(0, PAST_UNIT_LIMIT, OVERDUE_ORDER));
        branches.push(branch(1, PAST_DISPATCH_LIMIT, OVERDUE_ORDER));
    } else {
        for i in 0..f.states.len() {
            branches.push(branch(i, &format!("c.state = ${}", n + 1 + i), QUEUE_ORDER));
        }
        if f.plans_to_approve && !f.states.iter().any(|s| s == "rectifying") {
            branches.push(branch(branches.len(), PLANS_TO_APPROVE, QUEUE_ORDER));
        }
    }
    let page = format!(
        "SELECT * FROM ({}) t ORDER BY {} LIMIT {} OFFSET {}",
        branches.join(" UNION ALL "),
        QUEUE_ORDER.replace("c.", "t."),
        f.limit.clamp(1, 500),
        f.offset.max(0)
    );
    paged_cases(&page, QUEUE_ORDER)
}
