//! What the go-live checklist (issue 28 §4) counts: a few numbers, each from an index or a small table.

use sqlx::Row;

use crate::{Store, StoreError};

/// How far a county's set-up has come.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetupCounts {
    /// Names of the top-level organizations (a county, or a city's counties).
    pub top_orgs: Vec<String>,
    pub orgs: i64,
    pub halls: i64,
    pub windows: i64,
    pub staff: i64,
    pub items: i64,
    pub devices: i64,
    pub api_keys: i64,
    /// Roles held by at least one enabled account, as stored (`center_admin` …).
    pub roles: Vec<String>,
}

impl Store {
    pub async fn setup_counts(&self) -> Result<SetupCounts, StoreError> {
        let top_orgs: Vec<String> =
            sqlx::query_scalar("SELECT name FROM org WHERE parent_id IS NULL AND retired_at IS NULL ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        let r = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM org WHERE retired_at IS NULL) AS orgs,
                    (SELECT COUNT(*) FROM hall WHERE retired_at IS NULL) AS halls,
                    (SELECT COUNT(*) FROM service_window WHERE retired_at IS NULL) AS windows,
                    (SELECT COUNT(*) FROM staff WHERE retired_at IS NULL) AS staff,
                    (SELECT COUNT(*) FROM service_item WHERE retired_at IS NULL) AS items,
                    (SELECT COUNT(*) FROM hall_device WHERE revoked_at IS NULL) AS devices,
                    (SELECT COUNT(*) FROM api_key WHERE revoked_at IS NULL) AS api_keys",
        )
        .fetch_one(&self.pool)
        .await?;
        let roles: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT b.role FROM role_binding b JOIN app_user u ON u.id = b.user_id
             WHERE u.disabled_at IS NULL ORDER BY b.role",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(SetupCounts {
            top_orgs,
            orgs: r.try_get("orgs")?,
            halls: r.try_get("halls")?,
            windows: r.try_get("windows")?,
            staff: r.try_get("staff")?,
            items: r.try_get("items")?,
            devices: r.try_get("devices")?,
            api_keys: r.try_get("api_keys")?,
            roles,
        })
    }
}

/// How many of each feature the demo's summary names the database holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeatureCounts {
    pub rectification_orders: i64,
    pub integrity_flags: i64,
    pub flags_concluded: i64,
    pub inspections: i64,
    pub referrals: i64,
    pub platform_records: i64,
}

impl Store {
    pub async fn feature_counts(&self) -> Result<FeatureCounts, StoreError> {
        let r = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM rectification_order) AS orders,
                    (SELECT COUNT(*) FROM integrity_flag) AS flags,
                    (SELECT COUNT(*) FROM integrity_flag WHERE state = 'concluded') AS concluded,
                    (SELECT COUNT(*) FROM inspection) AS inspections,
                    (SELECT COUNT(*) FROM referral) AS referrals,
                    (SELECT COUNT(*) FROM service_record WHERE platform_id IS NOT NULL) AS platform_records",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(FeatureCounts {
            rectification_orders: r.try_get("orders")?,
            integrity_flags: r.try_get("flags")?,
            flags_concluded: r.try_get("concluded")?,
            inspections: r.try_get("inspections")?,
            referrals: r.try_get("referrals")?,
            platform_records: r.try_get("platform_records")?,
        })
    }
}
