//! What bad reviews say, per unit, service item and month (issue 17 §6): the grouping is
//! `hcp_domain::themes`; here the month and the two before it are read for an organization's subtree.

use hcp_domain::calendar::start_of_day;
use hcp_domain::indicators::Annex;
use hcp_domain::period::Period;
use hcp_domain::themes::{Theme, themes, word_themes};
use hcp_store::OrgRow;

use crate::policy::Principal;
use crate::{App, AppError, AppResult};

/// Themes listed per month and kind (criteria, comment words): the dashboard and the report show the strongest.
pub const TOP_THEMES: usize = 10;

impl App {
    /// The themes of the month that holds `period.to`, for an organization the person may see.
    pub async fn bad_review_themes(&self, who: &Principal, org_code: &str, period: Period) -> AppResult<Vec<Theme>> {
        let org = self.stats_scope(who, org_code).await?;
        self.themes_of(&org, Period::month_of(period.to)).await
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
