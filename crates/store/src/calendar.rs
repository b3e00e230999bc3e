//! Holiday calendar entries imported after release: national notices and the county's local days.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::time::to_ms;
use crate::{Store, StoreError};

/// One stored day: `YYYY-MM-DD`, `holiday`/`workday`, its name, and `national` or `local`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarDayRow {
    pub day: String,
    pub kind: String,
    pub name: String,
    pub source: String,
}

impl Store {
    pub async fn calendar_days(&self) -> Result<Vec<CalendarDayRow>, StoreError> {
        let rows = sqlx::query("SELECT day, kind, name, source FROM calendar_day ORDER BY day, source")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(CalendarDayRow {
                    day: r.try_get("day")?,
                    kind: r.try_get("kind")?,
                    name: r.try_get("name")?,
                    source: r.try_get("source")?,
                })
            })
            .collect()
    }

    /// Stores a validated file in one transaction. For `national`, the years it covers are replaced
    /// whole (a corrected notice leaves nothing of the old one); `local` days are added or replaced one by one.
    pub async fn import_calendar(
        &self,
        source: &str,
        years: &[i32],
        days: &[CalendarDayRow],
        now: DateTime<Utc>,
        audit: &crate::NewAudit,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        if source == "national" {
            for y in years {
                sqlx::query("DELETE FROM calendar_day WHERE source = 'national' AND day >= $1 AND day <= $2")
                    .bind(format!("{y:04}-01-01"))
                    .bind(format!("{y:04}-12-31"))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        for d in days {
            sqlx::query(
                "INSERT INTO calendar_day (day, kind, name, source, imported_at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (day, source) DO UPDATE SET kind = excluded.kind, name = excluded.name,
                    imported_at = excluded.imported_at",
            )
            .bind(d.day.as_str())
            .bind(d.kind.as_str())
            .bind(d.name.as_str())
            .bind(source)
            .bind(to_ms(now))
            .execute(&mut *tx)
            .await?;
        }
        crate::audit::append(&mut tx, &self.chain(), std::slice::from_ref(audit)).await?;
        tx.commit().await?;
        Ok(())
    }
}
