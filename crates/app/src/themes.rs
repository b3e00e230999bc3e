//! What bad reviews say, per unit, service item and month (issue 17 §6): the grouping is
//! `hcp_domain::themes`; here the month and the two before it are read for an organization's subtree.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use hcp_domain::calendar::start_of_day;
use hcp_domain::indicators::Annex;
use hcp_domain::period::Period;
use hcp_domain::themes::{Theme, themes, word_themes};
use hcp_store::OrgRow;

use crate::policy::Principal;
use crate::{App, AppError, AppResult};

/// Themes listed per month and kind (criteria, comment words): the dashboard and the report show the strongest.
pub const TOP_THEMES: usize = 10;

/// How long the dashboard shows themes before counting again.
const FRESH_FOR: Duration = Duration::from_secs(10 * 60);
/// Organizations × months kept; the oldest go first.
const CACHE_ENTRIES: usize = 256;

/// Themes counted lately, per organization subtree and month. Segmenting three months of comments takes
/// seconds in a big county and a dashboard is opened again and again, so the dashboard shows themes up to
/// [`FRESH_FOR`] old and says when they were counted. Reports count afresh: a report is exact when drafted.
#[derive(Default)]
pub struct ThemeCache {
    entries: Mutex<HashMap<(String, String), Counted>>,
}

/// Themes and when they were counted.
#[derive(Clone)]
pub struct Counted {
    pub themes: Arc<Vec<Theme>>,
    pub at: DateTime<Utc>,
    fresh_until: Instant,
}

impl ThemeCache {
    fn get(&self, key: &(String, String)) -> Option<Counted> {
        self.fresh_for(key, Duration::ZERO)
    }

    /// The entry if it stays fresh for at least `margin` more.
    fn fresh_for(&self, key: &(String, String), margin: Duration) -> Option<Counted> {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.get(key).filter(|c| c.fresh_until > Instant::now() + margin).cloned()
    }

    fn put(&self, key: (String, String), counted: Counted) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.retain(|_, c| c.fresh_until > Instant::now());
        if entries.len() >= CACHE_ENTRIES
            && let Some(oldest) = entries.iter().min_by_key(|(_, c)| c.fresh_until).map(|(k, _)| k.clone())
        {
            entries.remove(&oldest);
        }
        entries.insert(key, counted);
    }
}

impl App {
    /// The themes of the month that holds `period.to`, for an organization the person may see, counted at most
    /// [`FRESH_FOR`] ago.
    pub async fn bad_review_themes(&self, who: &Principal, org_code: &str, period: Period) -> AppResult<Counted> {
        let org = self.stats_scope(who, org_code).await?;
        let month = Period::month_of(period.to);
        match self.theme_cache.get(&(org.path.clone(), month.code())) {
            Some(c) => Ok(c),
            None => self.count_themes(&org, month).await,
        }
    }

    /// Counts an organization's themes of a month now and keeps them for [`FRESH_FOR`].
    async fn count_themes(&self, org: &OrgRow, month: Period) -> AppResult<Counted> {
        let counted = Counted {
            themes: Arc::new(self.themes_of(org, month).await?),
            at: self.now(),
            fresh_until: Instant::now() + FRESH_FOR,
        };
        self.theme_cache.put((org.path.clone(), month.code()), counted.clone());
        Ok(counted)
    }

    /// Keeps this month's themes of the whole county counted in the background (the scheduler calls it each
    /// minute on every instance: the cache is each one's own), so the county's dashboard does not wait for
    /// them — counting them took 1–4 s at ten million. Counted again when less than two minutes of freshness
    /// are left; `None` when they were fresh enough.
    pub async fn warm_county_themes(&self) -> AppResult<Option<Counted>> {
        const MARGIN: Duration = Duration::from_secs(120);
        let month = Period::month_of(hcp_domain::calendar::business_date(self.now()));
        let mut last = None;
        for root in self.store.root_orgs().await? {
            if self.theme_cache.fresh_for(&(root.path.clone(), month.code()), MARGIN).is_none() {
                last = Some(self.count_themes(&root, month).await?);
            }
        }
        Ok(last)
    }

    /// [`App::bad_review_themes`] without the permission check (reports act for the county office).
    pub(crate) async fn themes_of(&self, org: &OrgRow, month: Period) -> AppResult<Vec<Theme>> {
        let last = month.previous();
        let before = last.previous();
        let read = |p: Period| {
            let (from, to) = (start_of_day(p.from), start_of_day(p.to + chrono::Duration::days(1)));
            self.store.bad_reviews_for_themes(&org.path, from, to)
        };
        let (now, prev, older) = (read(month).await?, read(last).await?, read(before).await?);
        let annex = Annex::get();
        let mut out = themes(&now, &prev, &older, |id| annex.text(id).map(str::to_string), TOP_THEMES);
        // Segmenting a month of comments is CPU work: off the async threads.
        let words = tokio::task::spawn_blocking(move || word_themes(&now, &prev, &older, TOP_THEMES))
            .await
            .map_err(|e| AppError::Internal(hcp_store::StoreError::Corrupt(format!("word themes: {e}"))))?;
        out.extend(words);
        Ok(out)
    }
}
