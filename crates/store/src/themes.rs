//! The bad reviews of a period under an organization, as far as their themes go (issue 17 §6): the item, the
//! criteria chosen and the comment. Valid first evaluations only (a set-aside one says nothing to fix).

use chrono::{DateTime, Utc};
use hcp_domain::themes::BadReview;
use sqlx::Row;

use crate::time::to_ms;
use crate::{Store, StoreError};

impl Store {
    pub async fn bad_reviews_for_themes(
        &self,
        org_path: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<BadReview>, StoreError> {
        let rows = sqlx::query(
            "SELECT i.code, i.name, e.indicator_ids, e.staff_indicator_ids, e.comment, o.code, o.name
             FROM evaluation e
             JOIN service_record r ON r.id = e.service_record_id
             JOIN org o ON o.id = r.org_id
             JOIN service_item i ON i.id = r.item_id
             WHERE e.round = 1 AND e.level IN ('dissatisfied', 'very_dissatisfied')
               AND e.created_at >= $1 AND e.created_at < $2 AND o.path LIKE $3
               AND NOT EXISTS (SELECT 1 FROM evaluation_invalidation v WHERE v.evaluation_id = e.id)",
        )
        .bind(to_ms(from))
        .bind(to_ms(to))
        .bind(format!("{org_path}%"))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let ids: String = r.try_get(2)?;
                let staff_ids: String = r.try_get(3)?;
                Ok(BadReview {
                    unit_code: r.try_get(5)?,
                    unit_name: r.try_get(6)?,
                    item_code: r.try_get(0)?,
                    item_name: r.try_get(1)?,
                    criteria: ids
                        .split(',')
                        .chain(staff_ids.split(','))
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect(),
                    comment: r.try_get(4)?,
                })
            })
            .collect()
    }
}
