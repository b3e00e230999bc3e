//! Integrity scans (issue 16 §3): the evaluations as the rules see them, the staff members' identities, and
//! the flags found — kept so that a rescan of the same window finds the same flags.

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use hcp_domain::Level;
use hcp_domain::integrity::{Flag, Observation, Pattern, StaffIdentity};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::time::{from_ms, to_ms};
use crate::{NewAudit, Store, StoreError};

/// A stored flag.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagRow {
    pub id: i64,
    pub pattern: Pattern,
    pub evaluation_ids: Vec<i64>,
    pub staff_numbers: Vec<String>,
    pub window_codes: Vec<String>,
    pub device_codes: Vec<String>,
    pub score: f64,
    pub explanation: String,
    pub state: String,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    pub found_at: DateTime<Utc>,
    pub org_path: String,
    pub version: i64,
    pub investigation_note: Option<String>,
    pub investigated_by: Option<String>,
    pub conclusion: Option<String>,
    pub findings: Option<String>,
    pub concluded_by: Option<String>,
    pub concluded_at: Option<DateTime<Utc>>,
    /// A conclusion that sets evaluations aside, waiting for a second person (state `proposed`).
    pub proposal: Option<FlagProposal>,
    /// Who confirmed the proposal a concluded flag took effect by.
    pub confirmed_by: Option<String>,
}

/// A conclusion proposed by one person, waiting for another's confirmation (issue 29 §8).
#[derive(Debug, Clone, PartialEq)]
pub struct FlagProposal {
    pub conclusion: String,
    pub findings: String,
    pub evaluation_ids: Vec<i64>,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// An office's conclusion on a flag, with the evaluations it sets aside.
#[derive(Debug, Clone)]
pub struct FlagConclusion<'a> {
    pub conclusion: &'a str,
    pub findings: &'a str,
    pub by: &'a str,
    pub at: DateTime<Utc>,
    pub invalidate: &'a [i64],
    /// The state the flag must be in, at the version it was read (someone else's step meanwhile wins).
    pub from_state: &'a str,
    pub version: i64,
    /// The second person, when a proposal is confirmed.
    pub confirmed_by: Option<&'a str>,
}

/// What a scan saved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SavedFlags {
    pub new: usize,
    pub updated: usize,
}

fn list(s: &str) -> Vec<String> {
    s.split(',').filter(|p| !p.is_empty()).map(str::to_string).collect()
}

fn ids(s: &str) -> Result<Vec<i64>, StoreError> {
    list(s).iter().map(|id| id.parse().map_err(|_| StoreError::Corrupt(format!("flag evaluation id {id}")))).collect()
}

fn flag_row(r: &AnyRow) -> Result<FlagRow, StoreError> {
    let pattern: String = r.try_get("pattern")?;
    let proposal = match r.try_get::<Option<String>, _>("proposed_conclusion")? {
        None => None,
        Some(conclusion) => Some(FlagProposal {
            conclusion,
            findings: r.try_get::<Option<String>, _>("proposed_findings")?.unwrap_or_default(),
            evaluation_ids: ids(&r.try_get::<Option<String>, _>("proposed_evaluation_ids")?.unwrap_or_default())?,
            by: r.try_get::<Option<String>, _>("proposed_by")?.unwrap_or_default(),
            at: from_ms(r.try_get::<Option<i64>, _>("proposed_at")?.unwrap_or_default()),
        }),
    };
    Ok(FlagRow {
        id: r.try_get("id")?,
        pattern: Pattern::parse(&pattern).ok_or_else(|| StoreError::Corrupt(format!("flag pattern {pattern}")))?,
        evaluation_ids: ids(&r.try_get::<String, _>("evaluation_ids")?)?,
        staff_numbers: list(&r.try_get::<String, _>("staff_numbers")?),
        window_codes: list(&r.try_get::<String, _>("window_codes")?),
        device_codes: list(&r.try_get::<String, _>("device_codes")?),
        score: r.try_get::<i64, _>("score_permille")? as f64 / 1000.0,
        explanation: r.try_get("explanation")?,
        state: r.try_get("state")?,
        first_at: from_ms(r.try_get("first_at")?),
        last_at: from_ms(r.try_get("last_at")?),
        found_at: from_ms(r.try_get("found_at")?),
        org_path: r.try_get("org_path")?,
        version: r.try_get("version")?,
        investigation_note: r.try_get("investigation_note")?,
        investigated_by: r.try_get("investigated_by")?,
        conclusion: r.try_get("conclusion")?,
        findings: r.try_get("findings")?,
        concluded_by: r.try_get("concluded_by")?,
        concluded_at: r.try_get::<Option<i64>, _>("concluded_at")?.map(from_ms),
        proposal,
        confirmed_by: r.try_get("confirmed_by")?,
    })
}

const FLAG_COLS: &str = "id, pattern, evaluation_ids, staff_numbers, window_codes, device_codes, score_permille,
    explanation, state, first_at, last_at, found_at, org_path, version, investigation_note, investigated_by, conclusion,
    findings, concluded_by, concluded_at, proposed_conclusion, proposed_findings, proposed_evaluation_ids, proposed_by,
    proposed_at, confirmed_by";

impl Store {
    /// The evaluations given between two instants (not the defaults, which nobody gave), as the rules see them.
    pub async fn integrity_observations(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Observation>, StoreError> {
        let mut rows = sqlx::query(
            "SELECT e.id, e.created_at, e.level, e.comment, r.record_number, r.received_at, r.completed_at, r.org_id,
                 o.path AS org_path, w.code AS window,
                 s.id AS staff_id, s.staff_number, s.name AS staff_name, r.applicant_mobile_idx,
                 r.applicant_id_number_idx, x.device_code, x.client_address_idx
             FROM evaluation e
             JOIN service_record r ON r.id = e.service_record_id
             JOIN org o ON o.id = r.org_id
             LEFT JOIN service_window w ON w.id = r.window_id
             LEFT JOIN staff s ON s.id = r.staff_id
             LEFT JOIN evaluation_context x ON x.evaluation_id = e.id
             WHERE e.round = 1 AND e.is_default = 0 AND e.created_at >= $1 AND e.created_at < $2
             ORDER BY e.created_at, e.id",
        )
        .bind(to_ms(from))
        .bind(to_ms(to))
        .fetch(&self.pool);
        let mut out = Vec::new();
        while let Some(r) = rows.try_next().await? {
            let level: String = r.try_get("level")?;
            let staff_id: Option<i64> = r.try_get("staff_id")?;
            out.push(Observation {
                evaluation_id: r.try_get("id")?,
                at: from_ms(r.try_get("created_at")?),
                level: Level::parse(&level).ok_or_else(|| StoreError::Corrupt(format!("level {level}")))?,
                comment: r.try_get("comment")?,
                record_number: r.try_get("record_number")?,
                received_at: from_ms(r.try_get("received_at")?),
                completed_at: r.try_get::<Option<i64>, _>("completed_at")?.map(from_ms),
                org_id: r.try_get("org_id")?,
                org_path: r.try_get("org_path")?,
                window: r.try_get("window")?,
                staff: match staff_id {
                    Some(id) => Some((id, r.try_get("staff_number")?, r.try_get("staff_name")?)),
                    None => None,
                },
                applicant_mobile: r.try_get("applicant_mobile_idx")?,
                applicant_id: r.try_get("applicant_id_number_idx")?,
                device: r.try_get("device_code")?,
                address: r.try_get("client_address_idx")?,
            });
        }
        Ok(out)
    }

    /// Staff members whose mobile or ID number is on file, as blind indexes.
    pub async fn staff_identities(&self) -> Result<Vec<StaffIdentity>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, staff_number, name, org_id, mobile_idx, id_number_idx FROM staff
             WHERE mobile_idx IS NOT NULL OR id_number_idx IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StaffIdentity {
                    staff_id: r.try_get(0)?,
                    staff_number: r.try_get(1)?,
                    name: r.try_get(2)?,
                    org_id: r.try_get(3)?,
                    mobile: r.try_get(4)?,
                    id_number: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// Saves a scan's flags with its audit entry: a new subject adds a flag; a known one still open takes
    /// the scan's evidence; one under investigation or concluded stays as the office left it.
    pub async fn save_flags(
        &self,
        flags: &[(Flag, DateTime<Utc>, DateTime<Utc>)],
        audit: &NewAudit,
    ) -> Result<SavedFlags, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut saved = SavedFlags::default();
        for (f, first_at, last_at) in flags {
            let join = |v: &[String]| v.join(",");
            let ids: Vec<String> = f.evaluation_ids.iter().map(i64::to_string).collect();
            let existing: Option<(i64, String)> =
                sqlx::query_as("SELECT id, state FROM integrity_flag WHERE pattern = $1 AND subject = $2")
                    .bind(f.pattern.as_str())
                    .bind(f.subject.clone())
                    .fetch_optional(&mut *tx)
                    .await?;
            let score = (f.score.clamp(0.0, 1.0) * 1000.0).round() as i64;
            match existing {
                None => {
                    sqlx::query(
                        "INSERT INTO integrity_flag (pattern, subject, evaluation_ids, staff_numbers, window_codes,
                             device_codes, score_permille, explanation, state, first_at, last_at, found_at, org_path)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, $10, $11, $12)",
                    )
                    .bind(f.pattern.as_str())
                    .bind(f.subject.clone())
                    .bind(join(&ids))
                    .bind(join(&f.staff_numbers))
                    .bind(join(&f.window_codes))
                    .bind(join(&f.device_codes))
                    .bind(score)
                    .bind(f.explanation.clone())
                    .bind(to_ms(*first_at))
                    .bind(to_ms(*last_at))
                    .bind(to_ms(audit.at))
                    .bind(f.org_path.clone())
                    .execute(&mut *tx)
                    .await?;
                    saved.new += 1;
                }
                Some((id, state)) if state == "open" => {
                    let changed = sqlx::query(
                        "UPDATE integrity_flag SET evaluation_ids = $1, staff_numbers = $2, window_codes = $3,
                             device_codes = $4, score_permille = $5, explanation = $6, first_at = $7, last_at = $8
                         WHERE id = $9 AND state = 'open' AND (evaluation_ids <> $1 OR explanation <> $6)",
                    )
                    .bind(join(&ids))
                    .bind(join(&f.staff_numbers))
                    .bind(join(&f.window_codes))
                    .bind(join(&f.device_codes))
                    .bind(score)
                    .bind(f.explanation.clone())
                    .bind(to_ms(*first_at))
                    .bind(to_ms(*last_at))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    saved.updated += changed.rows_affected() as usize;
                }
                Some(_) => {}
            }
        }
        crate::audit::append(&mut tx, &self.chain(), std::slice::from_ref(audit)).await?;
        tx.commit().await?;
        Ok(saved)
    }

    /// Claims the daily scan of a business date (`2026-11-28`); `false` when it was claimed before.
    pub async fn claim_scan_day(&self, day: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let done = sqlx::query("INSERT INTO integrity_scan_day (day, at) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING")
            .bind(day)
            .bind(to_ms(at))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Flags with an evaluation between two instants (by their first and last), of one pattern or all,
    /// strongest first.
    pub async fn list_flags(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        pattern: Option<Pattern>,
    ) -> Result<Vec<FlagRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {FLAG_COLS} FROM integrity_flag
             WHERE last_at >= $1 AND first_at < $2 AND ($3 = '' OR pattern = $3)
             ORDER BY score_permille DESC, id"
        )))
        .bind(to_ms(from))
        .bind(to_ms(to))
        .bind(pattern.map_or("", Pattern::as_str))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(flag_row).collect()
    }

    pub async fn flag_by_id(&self, id: i64) -> Result<Option<FlagRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {FLAG_COLS} FROM integrity_flag WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(flag_row).transpose()
    }

    /// Opens the investigation of an open flag, with its audit entry; `false` when it is no longer open.
    pub async fn open_investigation(
        &self,
        id: i64,
        note: &str,
        by: &str,
        audit: &NewAudit,
    ) -> Result<bool, StoreError> {
        let statement = sqlx::query(
            "UPDATE integrity_flag SET state = 'investigating', investigation_note = $1, investigated_by = $2,
                 version = version + 1
             WHERE id = $3 AND state = 'open'",
        )
        .bind(note)
        .bind(by)
        .bind(id);
        self.update_one_audited(statement, audit).await
    }

    /// Concludes a flag in `c.from_state` at `c.version`: its findings, and the evaluations it sets aside (each
    /// once, out of every figure from now on, reported upward as invalid), with the audit entry. `None` when
    /// someone else moved the flag meanwhile; otherwise how many evaluations were newly set aside.
    pub async fn conclude_flag(
        &self,
        id: i64,
        c: &FlagConclusion<'_>,
        audit: &NewAudit,
    ) -> Result<Option<usize>, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE integrity_flag SET state = 'concluded', conclusion = $1, findings = $2, concluded_by = $3,
                 concluded_at = $4, confirmed_by = $5, version = version + 1
             WHERE id = $6 AND state = $7 AND version = $8",
        )
        .bind(c.conclusion)
        .bind(c.findings)
        .bind(c.by)
        .bind(to_ms(c.at))
        .bind(c.confirmed_by)
        .bind(id)
        .bind(c.from_state)
        .bind(c.version)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(None);
        }
        let mut set_aside = 0;
        for evaluation_id in c.invalidate {
            let inserted = sqlx::query(
                "INSERT INTO evaluation_invalidation (evaluation_id, flag_id, at) VALUES ($1, $2, $3)
                 ON CONFLICT (evaluation_id) DO NOTHING",
            )
            .bind(*evaluation_id)
            .bind(id)
            .bind(to_ms(c.at))
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 1 {
                crate::rollups::count_invalidation(&mut tx, self.backend, *evaluation_id, false).await?;
                crate::upstream::queue_invalidation(&mut tx, *evaluation_id, c.at).await?;
                set_aside += 1;
            }
        }
        crate::audit::append(&mut tx, &self.chain(), std::slice::from_ref(audit)).await?;
        tx.commit().await?;
        Ok(Some(set_aside))
    }

    /// Records a conclusion that sets evaluations aside as a proposal (state `proposed`), if the flag is still
    /// under investigation at `version`; nothing is set aside yet.
    pub async fn propose_conclusion(
        &self,
        id: i64,
        p: &FlagProposal,
        version: i64,
        audit: &NewAudit,
    ) -> Result<bool, StoreError> {
        let ids = p.evaluation_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let statement = sqlx::query(
            "UPDATE integrity_flag SET state = 'proposed', proposed_conclusion = $1, proposed_findings = $2,
                 proposed_evaluation_ids = $3, proposed_by = $4, proposed_at = $5, version = version + 1
             WHERE id = $6 AND state = 'investigating' AND version = $7",
        )
        .bind(p.conclusion.clone())
        .bind(p.findings.clone())
        .bind(ids)
        .bind(p.by.clone())
        .bind(to_ms(p.at))
        .bind(id)
        .bind(version);
        self.update_one_audited(statement, audit).await
    }

    /// Returns a proposed flag to investigation (the second person did not confirm), if it is still the proposal
    /// read at `version`.
    pub async fn reject_proposal(&self, id: i64, version: i64, audit: &NewAudit) -> Result<bool, StoreError> {
        let statement = sqlx::query(
            "UPDATE integrity_flag SET state = 'investigating', proposed_conclusion = NULL, proposed_findings = NULL,
                 proposed_evaluation_ids = NULL, proposed_by = NULL, proposed_at = NULL, version = version + 1
             WHERE id = $1 AND state = 'proposed' AND version = $2",
        )
        .bind(id)
        .bind(version);
        self.update_one_audited(statement, audit).await
    }
}
