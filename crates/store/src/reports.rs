//! Reports (通报, issue 7 §4) and rectification orders (R12.1). A published report is never updated: the
//! statements that change a report all require `state = 'draft'`.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::cases::{CaseWrite, write_case_in};
use crate::time::{from_ms, to_ms};
use crate::{NewAudit, NewMessage, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub org_path: String,
    pub period: String,
    pub kind: String,
    pub version: i64,
    pub state: String,
    pub body: String,
    pub note: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub published_by: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    /// The 文号 given at publication, when the county set a pattern.
    pub number: Option<String>,
}

const REPORT_SELECT: &str =
    "SELECT r.id, r.org_id, o.name AS org_name, o.path AS org_path, r.period, r.kind, r.version,
        r.state, r.body, r.note, r.created_by, r.created_at, r.published_by, r.published_at, r.number
     FROM report r JOIN org o ON o.id = r.org_id";

fn report_row(r: &AnyRow) -> Result<ReportRow, StoreError> {
    Ok(ReportRow {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        org_name: r.try_get("org_name")?,
        org_path: r.try_get("org_path")?,
        period: r.try_get("period")?,
        kind: r.try_get("kind")?,
        version: r.try_get("version")?,
        state: r.try_get("state")?,
        body: r.try_get("body")?,
        note: r.try_get("note")?,
        created_by: r.try_get("created_by")?,
        created_at: from_ms(r.try_get("created_at")?),
        published_by: r.try_get("published_by")?,
        number: r.try_get("number")?,
        published_at: r.try_get::<Option<i64>, _>("published_at")?.map(from_ms),
    })
}

/// A draft to write.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub org_id: i64,
    pub period: String,
    pub kind: &'static str,
    pub body: String,
    pub note: String,
    pub created_by: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRow {
    pub id: i64,
    pub subject: String,
    pub subject_id: i64,
    pub subject_name: String,
    pub org_id: i64,
    pub org_name: String,
    pub org_path: String,
    pub periods: String,
    pub last_period: String,
    pub reason: String,
    pub state: String,
    pub due_at: DateTime<Utc>,
    pub report: Option<String>,
    pub reported_by: Option<String>,
    pub reported_at: Option<DateTime<Utc>>,
    pub review_note: Option<String>,
    pub closed_by: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub escalated_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

const ORDER_SELECT: &str = "SELECT x.id, x.subject, x.subject_id, x.subject_name, x.org_id, o.name AS org_name,
        o.path AS org_path, x.periods, x.last_period, x.reason, x.state, x.due_at, x.report, x.reported_by,
        x.reported_at, x.review_note, x.closed_by, x.closed_at, x.escalated_at, x.created_at, x.version
     FROM rectification_order x JOIN org o ON o.id = x.org_id";

fn order_row(r: &AnyRow) -> Result<OrderRow, StoreError> {
    let opt_time =
        |c: &str| -> Result<Option<DateTime<Utc>>, StoreError> { Ok(r.try_get::<Option<i64>, _>(c)?.map(from_ms)) };
    Ok(OrderRow {
        id: r.try_get("id")?,
        subject: r.try_get("subject")?,
        subject_id: r.try_get("subject_id")?,
        subject_name: r.try_get("subject_name")?,
        org_id: r.try_get("org_id")?,
        org_name: r.try_get("org_name")?,
        org_path: r.try_get("org_path")?,
        periods: r.try_get("periods")?,
        last_period: r.try_get("last_period")?,
        reason: r.try_get("reason")?,
        state: r.try_get("state")?,
        due_at: from_ms(r.try_get("due_at")?),
        report: r.try_get("report")?,
        reported_by: r.try_get("reported_by")?,
        reported_at: opt_time("reported_at")?,
        review_note: r.try_get("review_note")?,
        closed_by: r.try_get("closed_by")?,
        closed_at: opt_time("closed_at")?,
        escalated_at: opt_time("escalated_at")?,
        created_at: from_ms(r.try_get("created_at")?),
        version: r.try_get("version")?,
    })
}

/// An order to issue.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub subject: &'static str,
    pub subject_id: i64,
    pub subject_name: String,
    pub org_id: i64,
    pub periods: String,
    pub last_period: String,
    pub reason: String,
    pub due_at: DateTime<Utc>,
    pub at: DateTime<Utc>,
}

/// A change to an order, applied only if its version is unchanged.
#[derive(Debug, Clone)]
pub struct OrderChange {
    pub id: i64,
    pub version: i64,
    pub state: &'static str,
    pub report: Option<(String, String)>,
    pub review_note: Option<String>,
    pub closed_by: Option<String>,
    pub escalated: bool,
    pub at: DateTime<Utc>,
}

impl Store {
    /// Writes a draft of the period's report: replaces the body of the draft if the latest version is one,
    /// otherwise adds the next version (a correction of a published report). Returns (id, version).
    ///
    /// Two instances drafting the same report at once (the monthly job runs on every instance) both see no
    /// draft on PostgreSQL and one insert fails on `UNIQUE (org_id, period, version)`; it then tries once
    /// more, finds the other's draft and replaces it, as a redraft does.
    pub async fn save_report_draft(&self, r: &NewReport, audit: &NewAudit) -> Result<(i64, i64), StoreError> {
        match self.save_report_draft_once(r, audit).await {
            Err(StoreError::Database(sqlx::Error::Database(e))) if e.is_unique_violation() => {
                self.save_report_draft_once(r, audit).await
            }
            other => other,
        }
    }

    async fn save_report_draft_once(&self, r: &NewReport, audit: &NewAudit) -> Result<(i64, i64), StoreError> {
        let mut tx = self.begin_write().await?;
        let latest = sqlx::query(
            "SELECT id, version, state FROM report WHERE org_id = $1 AND period = $2 ORDER BY version DESC LIMIT 1",
        )
        .bind(r.org_id)
        .bind(r.period.clone())
        .fetch_optional(&mut *tx)
        .await?;
        let (id, version) = match latest {
            Some(row) if row.try_get::<String, _>("state")? == "draft" => {
                let id: i64 = row.try_get("id")?;
                sqlx::query(
                    "UPDATE report SET body = $1, note = $2, created_by = $3, created_at = $4
                     WHERE id = $5 AND state = 'draft'",
                )
                .bind(r.body.clone())
                .bind(r.note.clone())
                .bind(r.created_by.clone())
                .bind(to_ms(r.at))
                .bind(id)
                .execute(&mut *tx)
                .await?;
                (id, row.try_get("version")?)
            }
            latest => {
                let version = match latest {
                    Some(row) => row.try_get::<i64, _>("version")? + 1,
                    None => 1,
                };
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO report (org_id, period, kind, version, state, body, note, created_by, created_at)
                     VALUES ($1, $2, $3, $4, 'draft', $5, $6, $7, $8) RETURNING id",
                )
                .bind(r.org_id)
                .bind(r.period.clone())
                .bind(r.kind)
                .bind(version)
                .bind(r.body.clone())
                .bind(r.note.clone())
                .bind(r.created_by.clone())
                .bind(to_ms(r.at))
                .fetch_one(&mut *tx)
                .await?;
                (id, version)
            }
        };
        let audit = NewAudit { target: format!("report:{id}"), ..audit.clone() };
        crate::audit::append(&mut tx, &self.chain(), &[audit]).await?;
        tx.commit().await?;
        Ok((id, version))
    }

    /// Publishes a draft, with the orders it issues; `false` if it is not a draft (any more).
    #[expect(clippy::too_many_arguments, reason = "a publication's facts and what it writes, each named at the call")]
    pub async fn publish_report(
        &self,
        id: i64,
        by: &str,
        at: DateTime<Utc>,
        number_prefix: Option<&str>,
        orders: &[NewOrder],
        messages: &[NewMessage],
        audit: &NewAudit,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        // The 文号: the organization's reports published this year, counted inside the publication's write.
        let number = match number_prefix {
            None => None,
            Some(prefix) => {
                use chrono::Datelike;
                let date = hcp_domain::calendar::business_date(at);
                let year = date.year();
                let start = hcp_domain::calendar::start_of_day(date.with_ordinal(1).expect("every year has a day 1"));
                let n: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM report WHERE state = 'published' AND number IS NOT NULL AND published_at >= $1
                       AND org_id = (SELECT org_id FROM report WHERE id = $2)",
                )
                .bind(to_ms(start))
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
                Some(format!("{prefix}〔{year}〕{}号", n + 1))
            }
        };
        let done = sqlx::query(
            "UPDATE report SET state = 'published', published_by = $1, published_at = $2, number = $4
             WHERE id = $3 AND state = 'draft'",
        )
        .bind(by)
        .bind(to_ms(at))
        .bind(id)
        .bind(number)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        for o in orders {
            sqlx::query(
                "INSERT INTO rectification_order (subject, subject_id, subject_name, org_id, periods, last_period,
                    reason, state, due_at, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9)
                 ON CONFLICT (subject, subject_id, last_period) DO NOTHING",
            )
            .bind(o.subject)
            .bind(o.subject_id)
            .bind(o.subject_name.clone())
            .bind(o.org_id)
            .bind(o.periods.clone())
            .bind(o.last_period.clone())
            .bind(o.reason.clone())
            .bind(to_ms(o.due_at))
            .bind(to_ms(o.at))
            .execute(&mut *tx)
            .await?;
        }
        let w = CaseWrite { messages: messages.to_vec(), audit: vec![audit.clone()], ..CaseWrite::default() };
        write_case_in(&mut tx, &self.chain(), &w, at).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn report_by_id(&self, id: i64) -> Result<Option<ReportRow>, StoreError> {
        let sql = format!("{REPORT_SELECT} WHERE r.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(report_row).transpose()
    }

    /// Reports of organizations under `org_path`, newest period and version first; only published ones
    /// unless `drafts`.
    pub async fn list_reports(&self, org_path: &str, drafts: bool, limit: i64) -> Result<Vec<ReportRow>, StoreError> {
        let sql = format!(
            "{REPORT_SELECT} WHERE o.path LIKE $1 AND (r.state = 'published' OR $2 = 1)
             ORDER BY r.period DESC, r.version DESC LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(format!("{org_path}%"))
            .bind(i64::from(drafts))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(report_row).collect()
    }

    /// Whether any version of a period's report exists for an organization (the monthly job drafts once).
    pub async fn report_exists(&self, org_id: i64, period: &str) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM report WHERE org_id = $1 AND period = $2")
            .bind(org_id)
            .bind(period)
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    /// The published version of each period of an organization's reports of one kind, newest first (for the
    /// consecutive-periods rule).
    pub async fn published_reports(&self, org_id: i64, kind: &str, limit: i64) -> Result<Vec<ReportRow>, StoreError> {
        let sql = format!(
            "{REPORT_SELECT} WHERE r.org_id = $1 AND r.kind = $2 AND r.state = 'published'
             ORDER BY r.period DESC, r.version DESC LIMIT $3"
        );
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(kind).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(report_row).collect()
    }

    pub async fn order_by_id(&self, id: i64) -> Result<Option<OrderRow>, StoreError> {
        let sql = format!("{ORDER_SELECT} WHERE x.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(order_row).transpose()
    }

    /// Orders of units under any of `scopes`, open ones first, then the newest.
    pub async fn list_orders(&self, scope: &str, limit: i64) -> Result<Vec<OrderRow>, StoreError> {
        let sql = format!(
            "{ORDER_SELECT} WHERE o.path LIKE $1
             ORDER BY CASE x.state WHEN 'closed' THEN 1 ELSE 0 END, x.due_at, x.id DESC LIMIT $2"
        );
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(format!("{scope}%")).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(order_row).collect()
    }

    /// Orders past their deadline, not closed, not yet escalated.
    pub async fn orders_to_escalate(&self, now: DateTime<Utc>) -> Result<Vec<OrderRow>, StoreError> {
        let sql =
            format!("{ORDER_SELECT} WHERE x.state <> 'closed' AND x.due_at < $1 AND x.escalated_at IS NULL LIMIT 500");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(to_ms(now)).fetch_all(&self.pool).await?;
        rows.iter().map(order_row).collect()
    }

    /// Applies a change to an order with its notifications and audit entry; `false` if the order changed since
    /// it was read.
    pub async fn change_order(
        &self,
        c: &OrderChange,
        messages: &[NewMessage],
        audit: &NewAudit,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let (report, reported_by) = c.report.clone().unzip();
        let done = sqlx::query(
            "UPDATE rectification_order SET state = $1,
                report = COALESCE($2, report), reported_by = COALESCE($3, reported_by),
                reported_at = CASE WHEN $2 IS NULL THEN reported_at ELSE $4 END,
                review_note = COALESCE($5, review_note),
                closed_by = $6, closed_at = CASE WHEN $6 IS NULL THEN NULL ELSE $4 END,
                escalated_at = CASE WHEN $7 = 1 THEN $4 ELSE escalated_at END,
                version = version + 1
             WHERE id = $8 AND version = $9",
        )
        .bind(c.state)
        .bind(report)
        .bind(reported_by)
        .bind(to_ms(c.at))
        .bind(c.review_note.clone())
        .bind(c.closed_by.clone())
        .bind(i64::from(c.escalated))
        .bind(c.id)
        .bind(c.version)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        let w = CaseWrite { messages: messages.to_vec(), audit: vec![audit.clone()], ..CaseWrite::default() };
        write_case_in(&mut tx, &self.chain(), &w, c.at).await?;
        tx.commit().await?;
        Ok(true)
    }
}
