//! Browsing evaluations in the console (issue 6 §3): the filtered list and one evaluation with its record,
//! criteria, case and appeal. Scoped like records: an org subtree for unit, hotline, center and county
//! roles; staff see the evaluations of their own services.

use hcp_domain::calendar::start_of_day;
use hcp_domain::indicators::Annex;
use hcp_domain::period::Period;
use hcp_domain::{Category, Channel, Level};
use hcp_store::{EvaluationFacts, EvaluationFilter, EvaluationListRow};

use crate::appeals::AppealDetail;
use crate::cases::CaseDetail;
use crate::policy::{Action, Principal, Role, Target};
use crate::views::RecordView;
use crate::{App, AppError, AppResult};

/// Rows per page of the list.
pub const PAGE_SIZE: i64 = 50;

/// The filters as typed into the form or the address; every field optional, all checked.
#[derive(Debug, Clone, Default)]
pub struct EvaluationQuery {
    pub period: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub org: Option<String>,
    pub window: Option<String>,
    pub staff: Option<String>,
    pub item: Option<String>,
    pub category: Option<String>,
    pub channel: Option<String>,
    pub level: Option<String>,
    /// `yes` (default evaluations only) or `no`.
    pub default: Option<String>,
    /// `yes` (invalidated by an upheld appeal only) or `no`.
    pub invalidated: Option<String>,
    /// Words the comment contains (a theme's link).
    pub comment: Option<String>,
    /// Paging: evaluations older than this one (`{epoch ms}-{id}` of the previous page's last row).
    pub before: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn yes_no(field: &str, v: &Option<String>) -> AppResult<Option<bool>> {
    match given(v) {
        None => Ok(None),
        Some("yes") => Ok(Some(true)),
        Some("no") => Ok(Some(false)),
        Some(other) => Err(AppError::invalid(field, "invalid_choice", format!("“{other}”无法识别,请选择“是”或“否”。"))),
    }
}

/// One page of the list, and where the next one starts.
#[derive(Debug, Clone)]
pub struct EvaluationPage {
    pub period: Period,
    pub rows: Vec<EvaluationListRow>,
    /// The `before` of the next page.
    pub next_before: Option<String>,
}

/// One evaluation with everything around it this person may see.
#[derive(Debug)]
pub struct EvaluationDetail {
    pub facts: EvaluationFacts,
    pub record: RecordView,
    /// Texts of the service-item and staff criteria ticked.
    pub criteria: Vec<String>,
    pub staff_criteria: Vec<String>,
    pub case: Option<CaseDetail>,
    pub appeal: Option<AppealDetail>,
}

fn not_found(id: i64) -> AppError {
    AppError::not_found("evaluation_not_found", format!("评价 {id} 不存在。"))
}

impl App {
    /// The evaluations this person may see that match `q`, newest first, [`PAGE_SIZE`] at a time. Without a
    /// period, the current month.
    pub async fn browse_evaluations(&self, who: &Principal, q: &EvaluationQuery) -> AppResult<EvaluationPage> {
        if !who.may(Action::ViewRecords, None) {
            return Err(AppError::Forbidden);
        }
        let scopes: Vec<String> = who.record_scopes().into_iter().map(String::from).collect();
        let own_staff_id = if scopes.is_empty() && who.has_role(Role::Staff) { who.staff_id } else { None };
        if scopes.is_empty() && own_staff_id.is_none() {
            return Err(AppError::Forbidden);
        }
        let period = match (given(&q.period), given(&q.from), given(&q.to)) {
            (None, None, None) => Period::month_of(hcp_domain::calendar::business_date(self.now())),
            (p, f, t) => crate::stats::parse_period(p, f, t)?,
        };
        let mut f = EvaluationFilter {
            scopes,
            own_staff_id,
            from: Some(start_of_day(period.from)),
            to: period.to.succ_opt().map(start_of_day),
            limit: PAGE_SIZE + 1,
            ..EvaluationFilter::default()
        };
        if let Some(code) = given(&q.org) {
            let missing = || AppError::invalid("org", "org_not_found", format!("机构“{code}”不存在或不在您的范围内。"));
            let org = self.store.org_by_code(code).await?.ok_or_else(missing)?;
            if !who.may(Action::ViewRecords, Some(Target { org_path: &org.path, staff_id: None }))
                && own_staff_id.is_none()
            {
                return Err(missing());
            }
            f.org_path = Some(org.path);
        }
        if let Some(code) = given(&q.window) {
            f.window_id = Some(
                self.store
                    .window_id_by_code(code)
                    .await?
                    .ok_or_else(|| AppError::invalid("window", "window_not_found", format!("窗口“{code}”不存在。")))?,
            );
        }
        if let Some(number) = given(&q.staff) {
            f.staff_id = Some(
                self.store
                    .staff_id_by_number(number)
                    .await?
                    .ok_or_else(|| AppError::invalid("staff", "staff_not_found", format!("工号“{number}”不存在。")))?,
            );
        }
        if let Some(code) = given(&q.item) {
            f.item_id = Some(
                self.store
                    .item_id_by_code(code)
                    .await?
                    .ok_or_else(|| AppError::invalid("item", "item_not_found", format!("事项编码“{code}”不存在。")))?,
            );
        }
        if let Some(c) = given(&q.category) {
            let cat = Category::parse(c)
                .ok_or_else(|| AppError::invalid("category", "invalid_category", format!("事项类别“{c}”无法识别。")))?;
            f.category = Some(cat.as_str().to_string());
        }
        if let Some(w) = given(&q.comment) {
            if w.chars().count() > 20 || w.chars().any(char::is_control) {
                return Err(AppError::invalid("comment", "too_long", "评论关键词最多 20 个字。"));
            }
            f.comment_contains = Some(w.to_string());
        }
        if let Some(c) = given(&q.channel) {
            let ch = Channel::parse(c)
                .ok_or_else(|| AppError::invalid("channel", "invalid_channel", format!("评价渠道“{c}”无法识别。")))?;
            f.channel = Some(ch.as_str().to_string());
        }
        if let Some(l) = given(&q.level) {
            let level = Level::parse(l)
                .ok_or_else(|| AppError::invalid("level", "invalid_level", format!("评价等级“{l}”无法识别。")))?;
            f.level = Some(level.as_str().to_string());
        }
        f.is_default = yes_no("default", &q.default)?;
        f.invalidated = yes_no("invalidated", &q.invalidated)?;
        if let Some(b) = given(&q.before) {
            let bad = || AppError::invalid("before", "invalid_page", "翻页参数有误,请从第一页重新查看。");
            let (at, id) = b.split_once('-').ok_or_else(bad)?;
            let at = at.parse::<i64>().ok().and_then(chrono::DateTime::from_timestamp_millis).ok_or_else(bad)?;
            f.before = Some((at, id.parse::<i64>().map_err(|_| bad())?));
        }
        let mut rows = self.store.list_evaluations(&f).await?;
        let next_before = if rows.len() as i64 > PAGE_SIZE {
            rows.truncate(PAGE_SIZE as usize);
            rows.last().map(|r| format!("{}-{}", r.created_at.timestamp_millis(), r.id))
        } else {
            None
        };
        Ok(EvaluationPage { period, rows, next_before })
    }

    /// One evaluation, if this person may see its record; with the case and appeal where their role reaches.
    pub async fn evaluation_detail(&self, who: &Principal, id: i64) -> AppResult<EvaluationDetail> {
        let facts = self.store.evaluation_facts(id).await?.ok_or_else(|| not_found(id))?;
        let record = match self.record_page(who, facts.evaluation.service_record_id).await {
            Ok(p) => p.view,
            Err(AppError::NotFound { .. }) => return Err(not_found(id)),
            Err(e) => return Err(e),
        };
        let annex = Annex::get();
        let texts = |ids: &str| -> Vec<String> {
            hcp_domain::evaluation::split_ids(ids).iter().map(|i| annex.text(i).unwrap_or(i).to_string()).collect()
        };
        let criteria = texts(&facts.evaluation.indicator_ids);
        let staff_criteria = texts(&facts.evaluation.staff_indicator_ids);
        let case = match self.store.case_of_evaluation(id).await? {
            Some(c) => self.case_detail(who, c.id).await.ok(),
            None => None,
        };
        let appeal = match self.appeal_of_case(who, id).await {
            Ok(Some(a)) => self.appeal_detail(who, a.id).await.ok(),
            _ => None,
        };
        Ok(EvaluationDetail { facts, record, criteria, staff_criteria, case, appeal })
    }
}
