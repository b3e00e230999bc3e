//! Reports (通报, issue 7 §4, R10.1): the county office generates the monthly, quarterly or annual report of
//! every township and county department; a published report is frozen — a correction is a new version and
//! the old one stays visible — and appears on the public portal. A job drafts each month's report on the first
//! working day of the next month. Publishing a monthly report issues the rectification orders of R12.1.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use hcp_domain::metrics::Figures;
use hcp_domain::period::{Period, PeriodKind};
use hcp_domain::ranking::{Metric, RankRule, bottom_group};
use hcp_store::{NewReport, OrgRow, ReportRow};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::Actor;
use crate::export::{Cell, Table};
use crate::policy::{Action, Principal, Target};
use crate::stats::{By, FIGURE_HEADERS, figure_cells, rank_cell};
use crate::{App, AppError, AppResult};

/// One unit in a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReportLine {
    pub key: String,
    pub name: String,
    pub context: String,
    pub rank: Option<u32>,
    pub tied: bool,
    pub unranked_reason: Option<String>,
    pub figures: Figures,
    /// In the bottom group of this period (R12.1), by the rule in `bottom_rule`.
    pub bottom: bool,
}

/// One platform in a report (plan §三: platforms are evaluated objects), not ranked: a county has a few,
/// run by different levels of government.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReportPlatform {
    pub key: String,
    pub name: String,
    /// The organization running it.
    pub context: String,
    pub figures: Figures,
}

/// The frozen content of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReportBody {
    pub org_code: String,
    pub org_name: String,
    pub period_code: String,
    pub period_label: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub metric: String,
    /// The ranking rule in words.
    pub rule: String,
    pub bottom_rule: String,
    pub total: Figures,
    pub lines: Vec<ReportLine>,
    /// The services delivered through each platform (absent from reports frozen before platforms were cut).
    #[serde(default)]
    pub platforms: Vec<ReportPlatform>,
    /// "暗访评价": the mystery-shopper visits of the organization's windows in the period, apart from the
    /// applicants' figures above (absent from reports frozen before visits existed).
    #[serde(default)]
    pub inspections: Option<crate::inspections::InspectionSummary>,
    /// What the month's bad reviews said (issue 17 §6), for the units to fix (absent before themes existed).
    #[serde(default)]
    pub themes: Vec<hcp_domain::themes::Theme>,
    /// The points per level the satisfaction scores were computed with (`--level-weights`; absent from reports
    /// frozen before they were stated, issue 30 §4).
    #[serde(default)]
    pub weights: Option<[u32; 5]>,
    /// The fewest valid evaluations to be ranked (`--ranking-min-evaluations`).
    #[serde(default)]
    pub min_evaluations: Option<u64>,
    /// Who issues the report (`--report-issuer`, else the organization).
    #[serde(default)]
    pub issuer: Option<String>,
    pub generated_at: DateTime<Utc>,
}

/// A report as pages and the API show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportView {
    pub id: i64,
    pub org_name: String,
    pub period: String,
    pub period_label: String,
    pub kind: String,
    pub kind_name: &'static str,
    pub version: i64,
    pub state: String,
    pub state_name: &'static str,
    /// Why this version corrects the one before.
    pub note: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    /// The 文号, given at publication when the county set a pattern (`--report-number-prefix`).
    pub number: Option<String>,
    pub body: ReportBody,
}

fn kind_name(kind: &str) -> &'static str {
    match kind {
        "month" => "月度通报",
        "quarter" => "季度通报",
        "year" => "年度通报",
        _ => "通报",
    }
}

impl ReportView {
    fn from_row(r: &ReportRow) -> AppResult<ReportView> {
        let body: ReportBody = serde_json::from_str(&r.body)
            .map_err(|e| hcp_store::StoreError::Corrupt(format!("report {} body: {e}", r.id)))?;
        Ok(ReportView {
            id: r.id,
            org_name: r.org_name.clone(),
            period: r.period.clone(),
            period_label: body.period_label.clone(),
            kind: r.kind.clone(),
            kind_name: kind_name(&r.kind),
            version: r.version,
            state: r.state.clone(),
            state_name: if r.state == "published" { "已发布" } else { "草稿" },
            note: r.note.clone(),
            created_by: r.created_by.clone(),
            created_at: r.created_at,
            number: r.number.clone(),
            published_at: r.published_at,
            body,
        })
    }

    pub fn title(&self) -> String {
        let version = if self.version > 1 { format!("(第{}版)", self.version) } else { String::new() };
        format!("{}{}政务服务“好差评”{}{version}", self.org_name, self.period_label, self.kind_name)
    }

    pub fn file_name(&self) -> String {
        format!("{}_v{}", self.title(), self.version)
    }

    /// The report as a table (for .xlsx): the units in rank order, then the total.
    pub fn table(&self) -> Table {
        let mut headers = vec!["名次".to_string(), "单位".to_string(), "类型".to_string()];
        headers.extend(FIGURE_HEADERS.iter().map(|h| h.to_string()));
        let mut rows: Vec<Vec<Cell>> = self
            .body
            .lines
            .iter()
            .map(|l| {
                let rank = rank_cell(l.rank, l.tied, l.unranked_reason.as_deref());
                let mut row = vec![rank, Cell::from(l.name.clone()), Cell::from(l.context.clone())];
                row.extend(figure_cells(&l.figures));
                row
            })
            .collect();
        let mut total = vec![Cell::Empty, Cell::from("合计"), Cell::Empty];
        total.extend(figure_cells(&self.body.total));
        rows.push(total);
        for p in &self.body.platforms {
            let mut row = vec![Cell::from("按平台"), Cell::from(p.name.clone()), Cell::from(p.context.clone())];
            row.extend(figure_cells(&p.figures));
            rows.push(row);
        }
        let mut notes = vec![
            format!("统计期:{} 至 {}(北京时间)", self.body.from, self.body.to),
            format!("排名规则:{}", self.body.rule),
        ];
        for t in &self.body.themes {
            notes.push(format!("差评反映:{}{}", t.sentence(), if t.recurring { "(连续三个月)" } else { "" }));
        }
        if let Some(s) = &self.body.inspections {
            notes.push(format!(
                "暗访评价(单独统计,不计入上表):安排 {} 次,录入 {} 次,发现问题 {} 次",
                s.planned, s.recorded, s.bad_findings
            ));
        }
        if let Some(at) = self.published_at {
            notes.push(format!("发布时间:{}", hcp_domain::calendar::display_cst(at)));
        } else {
            notes.push("草稿,未发布".into());
        }
        if !self.note.is_empty() {
            notes.push(format!("更正说明:{}", self.note));
        }
        Table { title: self.title(), notes, headers, rows }
    }
}

impl App {
    /// Computes a report's body from the rollups: the units directly under `org`, ranked by satisfaction.
    pub(crate) async fn report_body(&self, org: &OrgRow, period: Period) -> AppResult<ReportBody> {
        let cut = self.cut_of(org, period, Some(By::Unit)).await?;
        let total = cut.total.clone();
        let rule = RankRule { metric: Metric::Satisfaction, min_evaluations: self.result_rules.min_evaluations };
        let ranked = hcp_domain::ranking::rank(
            cut.lines.iter().map(|l| (l.clone(), l.tally)).collect(),
            &rule,
            &self.result_rules.weights,
        );
        let bottom: HashSet<usize> = bottom_group(&ranked, self.result_rules.bottom).into_iter().collect();
        let platforms = self
            .cut_of(org, period, Some(By::Platform))
            .await?
            .lines
            .into_iter()
            .map(|l| ReportPlatform { key: l.key, name: l.name, context: l.context, figures: l.figures })
            .collect();
        let lines = ranked
            .into_iter()
            .enumerate()
            .map(|(i, r)| ReportLine {
                key: r.subject.key,
                name: r.subject.name,
                context: r.subject.context,
                rank: r.rank,
                tied: r.tied,
                unranked_reason: r.unranked_reason.map(str::to_string),
                figures: r.subject.figures,
                bottom: bottom.contains(&i),
            })
            .collect();
        Ok(ReportBody {
            org_code: org.code.clone(),
            org_name: org.name.clone(),
            period_code: period.code(),
            period_label: period.label_zh(),
            from: period.from,
            to: period.to,
            metric: rule.metric.as_str().into(),
            rule: rule.describe_zh(),
            bottom_rule: self.result_rules.bottom.describe_zh(),
            total,
            lines,
            platforms,
            inspections: Some(self.inspection_summary(&org.path, period.from, period.to).await?),
            themes: self.themes_of(org, Period::month_of(period.to)).await?,
            weights: Some(self.result_rules.weights.0),
            min_evaluations: Some(self.result_rules.min_evaluations),
            issuer: Some(self.result_rules.report_issuer.clone().unwrap_or_else(|| org.name.clone())),
            generated_at: self.now(),
        })
    }

    /// Drafts (or redrafts) the report of `org` for a period; a published report gets a new version.
    pub(crate) async fn draft_report(
        &self,
        org: &OrgRow,
        period: Period,
        note: &str,
        actor: &Actor,
    ) -> AppResult<(i64, i64)> {
        let body = self.report_body(org, period).await?;
        let new = NewReport {
            org_id: org.id,
            period: period.code(),
            kind: period.kind.as_str(),
            body: serde_json::to_string(&body).map_err(|e| hcp_store::StoreError::Corrupt(e.to_string()))?,
            note: note.trim().to_string(),
            created_by: actor.as_str().to_string(),
            at: self.now(),
        };
        let audit = self.audit(actor, "report.draft", "", json!({ "org": org.code, "period": period.code() }));
        Ok(self.store.save_report_draft(&new, &audit).await?)
    }

    /// `POST /api/v1/reports`: the county office drafts the report of a month, quarter or year.
    pub async fn generate_report(
        &self,
        who: &Principal,
        org_code: &str,
        period_code: &str,
        note: &str,
    ) -> AppResult<ReportView> {
        let org = self.results_org(who, org_code).await?;
        let period = Period::parse(period_code)
            .filter(|p| matches!(p.kind, PeriodKind::Month | PeriodKind::Quarter | PeriodKind::Year))
            .ok_or_else(|| {
                AppError::invalid(
                    "period",
                    "invalid_report_period",
                    format!("通报期“{}”无法识别,应为月(2026-11)、季度(2026-Q4)或年(2026)。", period_code.trim()),
                )
            })?;
        if period.from > hcp_domain::calendar::business_date(self.now()) {
            return Err(AppError::invalid("period", "period_in_future", "统计期尚未开始,不能生成通报。"));
        }
        if note.chars().count() > 500 {
            return Err(AppError::invalid("note", "too_long", "更正说明不能超过 500 字。"));
        }
        let (id, _) = self.draft_report(&org, period, note, &Actor::user(&who.username)).await?;
        self.report(Some(who), id).await
    }

    /// The organization of a results action of the county office (404 when out of its scope).
    async fn results_org(&self, who: &Principal, org_code: &str) -> AppResult<OrgRow> {
        let code = org_code.trim();
        let not_found = || AppError::not_found("org_not_found", format!("机构“{code}”不存在。"));
        let org = self.store.org_by_code(code).await?.ok_or_else(not_found)?;
        if !who.may(Action::ManageResults, Some(Target { org_path: &org.path, staff_id: None })) {
            if who.may(Action::ViewStats, Some(Target { org_path: &org.path, staff_id: None })) {
                return Err(AppError::Forbidden);
            }
            return Err(not_found());
        }
        Ok(org)
    }

    /// A report: published ones to anyone (the public portal passes `None`), drafts only to the county office.
    pub async fn report(&self, who: Option<&Principal>, id: i64) -> AppResult<ReportView> {
        let not_found = || AppError::not_found("report_not_found", "通报不存在或尚未发布。");
        let row = self.store.report_by_id(id).await?.ok_or_else(not_found)?;
        let may_see_draft =
            who.is_some_and(|w| w.may(Action::ManageResults, Some(Target { org_path: &row.org_path, staff_id: None })));
        if row.state != "published" && !may_see_draft {
            return Err(not_found());
        }
        ReportView::from_row(&row)
    }

    /// Reports this person may see, newest first: every published one — whatever their role, a signed-in
    /// person sees at least what the public does (issue 15 §5) — and, for the county office, the drafts of its
    /// scope. `None`: the public's.
    pub async fn reports(&self, who: Option<&Principal>) -> AppResult<Vec<ReportView>> {
        let mut out: Vec<ReportView> = Vec::new();
        let mut scopes: Vec<(String, bool)> = vec![("/".into(), false)];
        if let Some(w) = who {
            for b in &w.bindings {
                let t = Some(Target { org_path: &b.org_path, staff_id: None });
                if w.may(Action::ManageResults, t) {
                    scopes.push((b.org_path.clone(), true));
                }
            }
        }
        for (path, drafts) in scopes {
            for r in self.store.list_reports(&path, drafts, 200).await? {
                if !out.iter().any(|v| v.id == r.id) {
                    out.push(ReportView::from_row(&r)?);
                }
            }
        }
        out.sort_by(|a, b| b.period.cmp(&a.period).then(b.version.cmp(&a.version)));
        Ok(out)
    }

    /// Publishes a draft: from now on it is frozen and public. A monthly report also issues the rectification
    /// orders of those in the bottom group for the configured number of consecutive months (R12.1).
    pub async fn publish_report(&self, who: &Principal, id: i64) -> AppResult<ReportView> {
        self.report(Some(who), id).await?;
        let row = self
            .store
            .report_by_id(id)
            .await?
            .ok_or_else(|| AppError::not_found("report_not_found", "通报不存在。"))?;
        if !who.may(Action::ManageResults, Some(Target { org_path: &row.org_path, staff_id: None })) {
            return Err(AppError::not_found("report_not_found", "通报不存在或尚未发布。"));
        }
        self.publish(&row, &who.username, &Actor::user(&who.username)).await?;
        self.report(Some(who), id).await
    }

    /// Publishes a draft row (after the caller's permission check).
    pub(crate) async fn publish(&self, row: &ReportRow, by: &str, actor: &Actor) -> AppResult<()> {
        if row.state == "published" {
            return Err(AppError::conflict(
                "report_published",
                "该通报已发布,不能修改;如需更正,请重新生成,系统将生成新版本,原版本保留可查。",
            ));
        }
        let body = ReportView::from_row(row)?.body;
        let now = self.now();
        let (orders, messages) =
            if row.kind == "month" { self.orders_for(row, &body, now).await? } else { (Vec::new(), Vec::new()) };
        let audit = self.audit(
            actor,
            "report.publish",
            format!("report:{}", row.id),
            json!({ "period": row.period, "version": row.version, "orders": orders.len() }),
        );
        let prefix = self.result_rules.report_number_prefix.as_deref();
        if !self.store.publish_report(row.id, by, now, prefix, &orders, &messages, &audit).await? {
            return Err(AppError::conflict("report_published", "该通报已被他人发布,请刷新后查看。"));
        }
        Ok(())
    }

    /// Drafts the report of last month for every county (root organization) once the first working day of
    /// this month has come, if none exists yet. Idempotent: a report that exists in any version is left alone.
    pub async fn draft_monthly_reports(&self, now: DateTime<Utc>) -> AppResult<u64> {
        let today = hcp_domain::calendar::business_date(now);
        let this_month = Period::month_of(today);
        let first_working = self.calendar().next_working_day(this_month.from - chrono::Duration::days(1));
        if today < first_working {
            return Ok(0);
        }
        let last = this_month.previous();
        let mut drafted = 0;
        for org in self.store.list_orgs("/").await?.into_iter().filter(|o| o.parent_code.is_none()) {
            if self.store.report_exists(org.id, &last.code()).await? {
                continue;
            }
            self.draft_report(&org, last, "", &Actor::system()).await?;
            tracing::info!(org = %org.code, period = %last.code(), "monthly report drafted");
            drafted += 1;
        }
        Ok(drafted)
    }

    /// The demo county's published monthly reports: the months before `now`, oldest first, so that the
    /// repeatedly-low rule issues its orders as it would have month by month.
    pub(crate) async fn demo_reports(&self, months: u32) -> AppResult<u64> {
        let mut month = Period::month_of(hcp_domain::calendar::business_date(self.now()));
        let mut periods = Vec::new();
        for _ in 0..months {
            month = month.previous();
            periods.push(month);
        }
        periods.reverse();
        let office = Actor::system();
        let mut published = 0;
        for org in self.store.list_orgs("/").await?.into_iter().filter(|o| o.parent_code.is_none()) {
            for p in &periods {
                let (id, _) = self.draft_report(&org, *p, "", &office).await?;
                let row = self
                    .store
                    .report_by_id(id)
                    .await?
                    .ok_or_else(|| AppError::not_found("report_not_found", "通报不存在。"))?;
                if row.state == "draft" {
                    self.publish(&row, "县政府办公室(演示)", &office).await?;
                    published += 1;
                }
            }
        }
        Ok(published)
    }
}
