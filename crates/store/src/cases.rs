//! Bad-review cases: opened with their bad review, in the same transaction (issue 5 §1).

use sqlx::{AnyConnection, Row};

use crate::time::from_ms;
use crate::{Backend, NewAudit, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRow {
    pub id: i64,
    pub evaluation_id: i64,
    pub service_record_id: i64,
    pub org_id: i64,
    pub state: String,
    pub round: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Opens a case for each of these evaluations (the caller passes only bad reviews); an evaluation that has
/// one already is skipped. Returns audit entries for the cases opened, to append in the same transaction.
pub(crate) async fn open_cases(
    conn: &mut AnyConnection,
    backend: Backend,
    evaluation_ids: &[i64],
) -> Result<Vec<NewAudit>, StoreError> {
    if evaluation_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = String::from(
        "INSERT INTO bad_review_case (evaluation_id, service_record_id, org_id, state, round, created_at)
         SELECT e.id, e.service_record_id, r.org_id, 'unassigned', 0, e.created_at
         FROM evaluation e JOIN service_record r ON r.id = e.service_record_id
         WHERE e.id IN ",
    );
    crate::sql::push_tuple(&mut sql, backend, 1, evaluation_ids.len());
    sql.push_str(" ON CONFLICT (evaluation_id) DO NOTHING RETURNING id, evaluation_id, service_record_id, created_at");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in evaluation_ids {
        q = q.bind(*id);
    }
    let rows = q.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| {
            let (case_id, evaluation_id): (i64, i64) = (r.try_get(0)?, r.try_get(1)?);
            Ok(NewAudit {
                at: from_ms(r.try_get(3)?),
                actor: "system".into(),
                action: "case.open",
                target: format!("case:{case_id}"),
                details: format!(
                    r#"{{"evaluation_id":{evaluation_id},"service_record_id":{}}}"#,
                    r.try_get::<i64, _>(2)?
                ),
            })
        })
        .collect()
}

impl Store {
    /// The case of an evaluation, if it has one.
    pub async fn case_of_evaluation(&self, evaluation_id: i64) -> Result<Option<CaseRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, evaluation_id, service_record_id, org_id, state, round, created_at
             FROM bad_review_case WHERE evaluation_id = $1",
        )
        .bind(evaluation_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(CaseRow {
                id: r.try_get("id")?,
                evaluation_id: r.try_get("evaluation_id")?,
                service_record_id: r.try_get("service_record_id")?,
                org_id: r.try_get("org_id")?,
                state: r.try_get("state")?,
                round: r.try_get("round")?,
                created_at: from_ms(r.try_get("created_at")?),
            })
        })
        .transpose()
    }

    pub async fn count_cases(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM bad_review_case").fetch_one(&self.pool).await?)
    }
}
