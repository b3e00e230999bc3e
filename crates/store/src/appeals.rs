//! Appeals against bad reviews and the filing register of their decisions (R8). Filing and each decision is
//! one transaction: the appeal, its register entry, the invalidation of an upheld evaluation, the case
//! closed as appealed, notifications, and audit entries.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::cases::{CaseWrite, NewAttachment, write_case_in};
use crate::time::{from_ms, to_ms};
use crate::{NewAudit, Store, StoreError};

#[derive(Debug, Clone)]
pub struct NewAppeal {
    pub evaluation_id: i64,
    pub case_id: Option<i64>,
    pub staff_id: i64,
    pub org_id: i64,
    pub filed_by: String,
    pub reasons: String,
    pub state: &'static str,
    pub filed_at: DateTime<Utc>,
    pub stage_due_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppealRow {
    pub id: i64,
    pub evaluation_id: i64,
    pub case_id: Option<i64>,
    pub staff_id: i64,
    pub staff_name: String,
    pub org_id: i64,
    pub org_name: String,
    pub org_path: String,
    pub record_id: i64,
    pub record_number: String,
    pub level: String,
    pub evaluated_at: DateTime<Utc>,
    pub filed_by: String,
    pub reasons: String,
    pub state: String,
    pub filed_at: DateTime<Utc>,
    pub stage_due_at: Option<DateTime<Utc>>,
    pub version: i64,
}

/// One entry of the filing register (备案): a decision on an appeal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRow {
    pub id: i64,
    pub appeal_id: i64,
    pub stage: String,
    pub upheld: bool,
    /// The unit let its limit pass: the appeal went to the center without its opinion (`upheld` means nothing).
    pub lapsed: bool,
    pub reasons: String,
    pub decided_by: String,
    pub due_at: Option<DateTime<Utc>>,
    pub at: DateTime<Utc>,
    pub record_number: String,
    pub org_name: String,
    pub staff_name: String,
    pub level: String,
    pub appeal_state: String,
}

#[derive(Debug, Clone)]
pub struct NewDecision {
    pub stage: &'static str,
    pub upheld: bool,
    pub lapsed: bool,
    pub reasons: String,
    pub decided_by: String,
    pub due_at: Option<DateTime<Utc>>,
    pub at: DateTime<Utc>,
}

/// A decision and all it writes.
#[derive(Debug, Clone)]
pub struct AppealDecisionWrite {
    pub appeal_id: i64,
    pub version: i64,
    pub state: &'static str,
    pub stage_due_at: Option<DateTime<Utc>>,
    pub decision: NewDecision,
    /// Set when upheld: the evaluation to invalidate.
    pub invalidate: Option<i64>,
    /// The case's changes (closed as appealed) and notifications.
    pub case: CaseWrite,
}

async fn insert_evidence_in(
    conn: &mut sqlx::AnyConnection,
    appeal_id: i64,
    e: &NewAttachment,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO appeal_evidence (appeal_id, file_name, content_type, size, sm3, data, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(appeal_id)
    .bind(e.file_name.clone())
    .bind(e.content_type)
    .bind(e.data.len() as i64)
    .bind(e.sm3.clone())
    .bind(e.data.clone())
    .bind(to_ms(e.at))
    .fetch_one(&mut *conn)
    .await?)
}

/// An open appeal's stage, as its limit is recomputed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenStage {
    pub appeal_id: i64,
    pub version: i64,
    pub state: String,
    pub started_at: DateTime<Utc>,
    pub due_at: Option<DateTime<Utc>>,
}

/// An appeal row's columns, over `appeal a` joined as `appeal_joins!` does.
macro_rules! appeal_cols {
    () => {
        "SELECT a.id, a.evaluation_id, a.case_id, a.staff_id, s.name AS staff_name, a.org_id, o.name AS org_name,
    o.path AS org_path, r.id AS record_id, r.record_number, e.level, e.created_at AS evaluated_at, a.filed_by,
    a.reasons, a.state, a.filed_at, a.stage_due_at, a.version "
    };
}

macro_rules! appeal_joins {
    () => {
        " JOIN staff s ON s.id = a.staff_id
  JOIN org o ON o.id = a.org_id
  JOIN evaluation e ON e.id = a.evaluation_id
  JOIN service_record r ON r.id = e.service_record_id "
    };
}

macro_rules! appeal_select {
    () => {
        concat!(appeal_cols!(), "FROM appeal a", appeal_joins!())
    };
}

fn appeal_row(r: &AnyRow) -> Result<AppealRow, StoreError> {
    Ok(AppealRow {
        id: r.try_get("id")?,
        evaluation_id: r.try_get("evaluation_id")?,
        case_id: r.try_get("case_id")?,
        staff_id: r.try_get("staff_id")?,
        staff_name: r.try_get("staff_name")?,
        org_id: r.try_get("org_id")?,
        org_name: r.try_get("org_name")?,
        org_path: r.try_get("org_path")?,
        record_id: r.try_get("record_id")?,
        record_number: r.try_get("record_number")?,
        level: r.try_get("level")?,
        evaluated_at: from_ms(r.try_get("evaluated_at")?),
        filed_by: r.try_get("filed_by")?,
        reasons: r.try_get("reasons")?,
        state: r.try_get("state")?,
        filed_at: from_ms(r.try_get("filed_at")?),
        stage_due_at: r.try_get::<Option<i64>, _>("stage_due_at")?.map(from_ms),
        version: r.try_get("version")?,
    })
}

impl Store {
    /// Files an appeal with its evidence, notifications and audit entry (its target gets the new id). `None`
    /// when the evaluation was appealed before (the UNIQUE rule).
    pub async fn insert_appeal(
        &self,
        a: &NewAppeal,
        evidence: &[NewAttachment],
        messages: &[crate::NewMessage],
        audit: &NewAudit,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.begin_write().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO appeal (evaluation_id, case_id, staff_id, org_id, filed_by, reasons, state, filed_at,
                stage_due_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (evaluation_id) DO NOTHING RETURNING id",
        )
        .bind(a.evaluation_id)
        .bind(a.case_id)
        .bind(a.staff_id)
        .bind(a.org_id)
        .bind(a.filed_by.clone())
        .bind(a.reasons.clone())
        .bind(a.state)
        .bind(to_ms(a.filed_at))
        .bind(a.stage_due_at.map(to_ms))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            tx.rollback().await?;
            return Ok(None);
        };
        for e in evidence {
            insert_evidence_in(&mut tx, id, e).await?;
        }
        crate::rollups::count_appeal_filed(&mut tx, self.backend, a.evaluation_id).await?;
        let audit = NewAudit { target: format!("appeal:{id}"), ..audit.clone() };
        let w = CaseWrite { messages: messages.to_vec(), audit: vec![audit], ..CaseWrite::default() };
        write_case_in(&mut tx, &self.chain(), &w, a.filed_at).await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    /// Records a stage's decision; `false` (nothing written) when the appeal or its case changed meanwhile.
    /// The appellant's withdrawal: the appeal ends, if it is still open and unchanged since it was read.
    pub async fn withdraw_appeal(
        &self,
        id: i64,
        version: i64,
        messages: &[crate::NewMessage],
        audit: &crate::NewAudit,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE appeal SET state = 'withdrawn', stage_due_at = NULL, stage_overdue = 0, version = version + 1
             WHERE id = $1 AND version = $2 AND state IN ('with_unit', 'with_center')",
        )
        .bind(id)
        .bind(version)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        crate::outbox::insert_messages(&mut tx, messages).await?;
        crate::audit::append(&mut tx, &self.chain(), std::slice::from_ref(audit)).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn decide_appeal(&self, w: &AppealDecisionWrite) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE appeal SET state = $1, stage_due_at = $2, stage_overdue = 0, version = version + 1
             WHERE id = $3 AND version = $4",
        )
        .bind(w.state)
        .bind(w.stage_due_at.map(to_ms))
        .bind(w.appeal_id)
        .bind(w.version)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        let d = &w.decision;
        sqlx::query(
            "INSERT INTO appeal_decision (appeal_id, stage, upheld, reasons, decided_by, due_at, at, lapsed)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(w.appeal_id)
        .bind(d.stage)
        .bind(d.upheld as i64)
        .bind(d.reasons.clone())
        .bind(d.decided_by.clone())
        .bind(d.due_at.map(to_ms))
        .bind(to_ms(d.at))
        .bind(d.lapsed as i64)
        .execute(&mut *tx)
        .await?;
        if let Some(evaluation_id) = w.invalidate {
            sqlx::query("INSERT INTO evaluation_invalidation (evaluation_id, appeal_id, at) VALUES ($1, $2, $3)")
                .bind(evaluation_id)
                .bind(w.appeal_id)
                .bind(to_ms(d.at))
                .execute(&mut *tx)
                .await?;
            crate::rollups::count_invalidation(&mut tx, self.backend, evaluation_id, true).await?;
            crate::upstream::queue_invalidation(&mut tx, evaluation_id, d.at).await?;
        }
        if !write_case_in(&mut tx, &self.chain(), &w.case, d.at).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn appeal_by_id(&self, id: i64) -> Result<Option<AppealRow>, StoreError> {
        let row = sqlx::query(concat!(appeal_select!(), "WHERE a.id = $1")).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(appeal_row).transpose()
    }

    pub async fn appeal_of_evaluation(&self, evaluation_id: i64) -> Result<Option<AppealRow>, StoreError> {
        let row = sqlx::query(concat!(appeal_select!(), "WHERE a.evaluation_id = $1"))
            .bind(evaluation_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(appeal_row).transpose()
    }

    /// Appeals in these states whose record's org is under one of the scopes, or filed by this staff member.
    pub async fn list_appeals(
        &self,
        scopes: &[String],
        staff_id: Option<i64>,
        states: &[&str],
        limit: i64,
    ) -> Result<Vec<AppealRow>, StoreError> {
        let mut conds = Vec::new();
        let mut n = 0;
        let mut who = Vec::new();
        if !scopes.is_empty() {
            let paths = crate::sql::numbered(&mut n, scopes.len(), |i| format!("path LIKE ${i}"));
            who.push(format!("a.org_id IN (SELECT id FROM org WHERE {})", paths.join(" OR ")));
        }
        if staff_id.is_some() {
            n += 1;
            who.push(format!("a.staff_id = ${n}"));
        }
        if who.is_empty() {
            return Ok(Vec::new());
        }
        conds.push(format!("({})", who.join(" OR ")));
        if !states.is_empty() {
            let ps = crate::sql::numbered(&mut n, states.len(), |i| format!("${i}"));
            conds.push(format!("a.state IN ({})", ps.join(",")));
        }
        // The page is chosen from the appeals alone, then joined: joining every appeal in scope to its
        // evaluation and record before the sort took 92 ms at ten million on SQLite.
        let sql = format!(
            concat!(
                appeal_cols!(),
                "FROM (SELECT * FROM appeal a WHERE {} ORDER BY a.filed_at DESC, a.id DESC LIMIT ${}) a",
                appeal_joins!(),
                "ORDER BY a.filed_at DESC, a.id DESC"
            ),
            conds.join(" AND "),
            n + 1
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for s in scopes {
            q = q.bind(format!("{s}%"));
        }
        if let Some(s) = staff_id {
            q = q.bind(s);
        }
        for s in states {
            q = q.bind(*s);
        }
        q = q.bind(limit.clamp(1, 1000));
        q.fetch_all(&self.pool).await?.iter().map(appeal_row).collect()
    }

    /// The decisions on one appeal, in order.
    pub async fn appeal_decisions(&self, appeal_id: i64) -> Result<Vec<DecisionRow>, StoreError> {
        self.decisions_where("d.appeal_id = $1", appeal_id, i64::MAX, 1000).await
    }

    /// The filing register (备案) between two instants, oldest first.
    pub async fn filing_register(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<DecisionRow>, StoreError> {
        self.decisions_where("d.at >= $1", to_ms(from), to_ms(to), limit).await
    }

    async fn decisions_where(&self, cond: &str, a: i64, to: i64, limit: i64) -> Result<Vec<DecisionRow>, StoreError> {
        let sql = format!(
            "SELECT d.id, d.appeal_id, d.stage, d.upheld, d.lapsed, d.reasons, d.decided_by, d.due_at, d.at,
                r.record_number, o.name AS org_name, s.name AS staff_name, e.level, ap.state AS appeal_state
             FROM appeal_decision d
             JOIN appeal ap ON ap.id = d.appeal_id
             JOIN evaluation e ON e.id = ap.evaluation_id
             JOIN service_record r ON r.id = e.service_record_id
             JOIN org o ON o.id = ap.org_id
             JOIN staff s ON s.id = ap.staff_id
             WHERE {cond} AND d.at < $2 ORDER BY d.at, d.id LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(a).bind(to).bind(limit).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(DecisionRow {
                    id: r.try_get("id")?,
                    appeal_id: r.try_get("appeal_id")?,
                    stage: r.try_get("stage")?,
                    upheld: r.try_get::<i64, _>("upheld")? != 0,
                    lapsed: r.try_get::<i64, _>("lapsed")? != 0,
                    reasons: r.try_get("reasons")?,
                    decided_by: r.try_get("decided_by")?,
                    due_at: r.try_get::<Option<i64>, _>("due_at")?.map(from_ms),
                    at: from_ms(r.try_get("at")?),
                    record_number: r.try_get("record_number")?,
                    org_name: r.try_get("org_name")?,
                    staff_name: r.try_get("staff_name")?,
                    level: r.try_get("level")?,
                    appeal_state: r.try_get("appeal_state")?,
                })
            })
            .collect()
    }

    /// Every open appeal with the start of the stage it is in (the filing, or the unit's verification), for
    /// recomputing stage limits after the calendar changed.
    pub async fn open_appeal_stages(&self) -> Result<Vec<OpenStage>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.id, a.version, a.state, a.stage_due_at,
                 COALESCE((SELECT MAX(d.at) FROM appeal_decision d WHERE d.appeal_id = a.id AND d.stage = 'unit'),
                          a.filed_at) AS started_at
             FROM appeal a WHERE a.state IN ('with_unit', 'with_center') ORDER BY a.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OpenStage {
                    appeal_id: r.try_get("id")?,
                    version: r.try_get("version")?,
                    state: r.try_get("state")?,
                    started_at: from_ms(r.try_get("started_at")?),
                    due_at: r.try_get::<Option<i64>, _>("stage_due_at")?.map(from_ms),
                })
            })
            .collect()
    }

    /// Moves an open appeal's stage limit, with its audit entry; a limit moved past `now` is no longer
    /// overdue. `false` when the appeal changed meanwhile (decided or withdrawn: nothing to move).
    pub async fn reschedule_appeal(
        &self,
        stage: &OpenStage,
        due_at: DateTime<Utc>,
        audit: &NewAudit,
    ) -> Result<bool, StoreError> {
        let statement = sqlx::query(
            "UPDATE appeal SET stage_due_at = $1, stage_overdue = CASE WHEN $1 > $2 THEN 0 ELSE stage_overdue END,
                 version = version + 1
             WHERE id = $3 AND version = $4 AND state IN ('with_unit', 'with_center')",
        )
        .bind(to_ms(due_at))
        .bind(to_ms(audit.at))
        .bind(stage.appeal_id)
        .bind(stage.version);
        self.update_one_audited(statement, audit).await
    }

    /// Open appeals whose stage passed its limit at `now` and was not reported yet.
    pub async fn appeals_past_due(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<AppealRow>, StoreError> {
        let rows = sqlx::query(concat!(
            appeal_select!(),
            "WHERE a.stage_overdue = 0 AND a.stage_due_at <= $1 AND a.state IN ('with_unit', 'with_center')
             ORDER BY a.stage_due_at LIMIT $2"
        ))
        .bind(to_ms(now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(appeal_row).collect()
    }

    /// Reports a late stage once: the mark, the notices and the audit entry together; `false` when the appeal
    /// changed meanwhile (decided: nothing to report).
    pub async fn mark_appeal_overdue(
        &self,
        appeal: &AppealRow,
        messages: &[crate::NewMessage],
        audit: &NewAudit,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE appeal SET stage_overdue = 1 WHERE id = $1 AND version = $2")
            .bind(appeal.id)
            .bind(appeal.version)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        let w = CaseWrite { messages: messages.to_vec(), audit: vec![audit.clone()], ..CaseWrite::default() };
        write_case_in(&mut tx, &self.chain(), &w, audit.at).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Adds a file to an appeal's evidence.
    pub async fn insert_evidence(
        &self,
        appeal_id: i64,
        e: &NewAttachment,
        audit: &NewAudit,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = insert_evidence_in(&mut tx, appeal_id, e).await?;
        crate::audit::append(&mut tx, &self.chain(), std::slice::from_ref(audit)).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// An appeal's evidence files (without their bytes).
    pub async fn appeal_evidence(&self, appeal_id: i64) -> Result<Vec<crate::AttachmentRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.id, e.file_name, e.content_type, e.size, e.sm3, a.filed_by AS uploaded_by, e.at
             FROM appeal_evidence e JOIN appeal a ON a.id = e.appeal_id WHERE e.appeal_id = $1 ORDER BY e.id",
        )
        .bind(appeal_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(crate::cases::attachment_row).collect()
    }

    /// An evidence file's name, type and bytes, if it belongs to that appeal.
    pub async fn appeal_evidence_data(
        &self,
        appeal_id: i64,
        evidence_id: i64,
    ) -> Result<Option<(String, String, Vec<u8>)>, StoreError> {
        let row =
            sqlx::query("SELECT file_name, content_type, data FROM appeal_evidence WHERE appeal_id = $1 AND id = $2")
                .bind(appeal_id)
                .bind(evidence_id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))).transpose()
    }

    /// Whether an evaluation was invalidated by an upheld appeal.
    pub async fn is_invalidated(&self, evaluation_id: i64) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM evaluation_invalidation WHERE evaluation_id = $1")
            .bind(evaluation_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }
}
