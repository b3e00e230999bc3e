//! Statistics by any cut (issue 7 §2) and rankings (§3): a scope (an organization and everything under it)
//! over a period, broken down by one dimension, read from the rollups and computed by the one set of formulas
//! in `hcp_domain::metrics`.

use std::collections::HashMap;

use hcp_domain::metrics::{Figures, Tally};
use hcp_domain::period::{Period, spans};
use hcp_domain::ranking::{Metric, RankRule, rank};
use hcp_domain::{Category, Channel};
use hcp_store::OrgRow;
use serde::Serialize;

use crate::policy::{Action, Principal, Target};
use crate::{App, AppError, AppResult};

/// What a cut is broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum By {
    /// The organizations directly under the scope, each with everything under it (townships and departments of
    /// a county, villages of a township).
    Unit,
    /// Every organization on its own.
    Org,
    Window,
    Staff,
    Item,
    Category,
    Channel,
    /// The platform the service was delivered through (plan §三: platforms are evaluated objects).
    Platform,
}

impl By {
    pub const ALL: [By; 8] =
        [By::Unit, By::Org, By::Window, By::Staff, By::Item, By::Category, By::Channel, By::Platform];

    pub fn as_str(self) -> &'static str {
        match self {
            By::Unit => "unit",
            By::Org => "org",
            By::Window => "window",
            By::Staff => "staff",
            By::Item => "item",
            By::Category => "category",
            By::Channel => "channel",
            By::Platform => "platform",
        }
    }

    pub fn parse(s: &str) -> Option<By> {
        By::ALL.into_iter().find(|b| b.as_str() == s.trim())
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            By::Unit => "下级单位",
            By::Org => "各机构",
            By::Window => "窗口",
            By::Staff => "工作人员",
            By::Item => "服务事项",
            By::Category => "事项类别",
            By::Channel => "评价渠道",
            By::Platform => "服务平台",
        }
    }

    /// The rollup dimension the breakdown reads.
    fn dim(self) -> &'static str {
        match self {
            By::Unit | By::Org => "org",
            By::Window => "window",
            By::Staff => "staff",
            By::Item | By::Category => "item",
            By::Channel => "channel",
            By::Platform => "platform",
        }
    }
}

/// One line of a breakdown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CutLine {
    /// Stable key: an org code, a window/staff/item/platform id, a category or channel code.
    pub key: String,
    pub name: String,
    /// What it belongs to (an organization, a category), for reading.
    pub context: String,
    #[serde(skip)]
    pub tally: Tally,
    pub figures: Figures,
}

/// The statistics of a scope over a period, with an optional breakdown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Cut {
    pub org_code: String,
    pub org_name: String,
    pub period: Period,
    pub period_code: String,
    pub period_label: String,
    pub by: Option<By>,
    pub total: Figures,
    #[serde(skip)]
    pub total_tally: Tally,
    pub lines: Vec<CutLine>,
}

/// A ranking line: the cut's line with its place.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RankLine {
    pub rank: Option<u32>,
    pub tied: bool,
    pub value: Option<f64>,
    pub unranked_reason: Option<&'static str>,
    #[serde(flatten)]
    pub line: CutLine,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Ranking {
    pub org_code: String,
    pub org_name: String,
    pub period_code: String,
    pub period_label: String,
    pub by: By,
    pub metric: Metric,
    pub metric_name: &'static str,
    /// The rule, in words, shown beside the ranking.
    pub rule: String,
    pub min_evaluations: u64,
    pub lines: Vec<RankLine>,
}

/// A place as people read it: `3`, `2(并列)`, or `不排名(评价数不足)`.
pub fn rank_label(rank: Option<u32>, tied: bool, unranked_reason: Option<&str>) -> String {
    match (rank, tied) {
        (Some(r), true) => format!("{r}(并列)"),
        (Some(r), false) => r.to_string(),
        (None, _) => format!("不排名({})", unranked_reason.unwrap_or("")),
    }
}

/// A place as a cell: a number when it is one alone (so that it sorts), text otherwise.
pub fn rank_cell(rank: Option<u32>, tied: bool, unranked_reason: Option<&str>) -> crate::export::Cell {
    match (rank, tied) {
        (Some(r), false) => crate::export::Cell::Number(f64::from(r)),
        _ => crate::export::Cell::from(rank_label(rank, tied, unranked_reason)),
    }
}

/// Parses the `by` of a request (empty: no breakdown).
pub fn parse_by(raw: Option<&str>) -> AppResult<Option<By>> {
    match raw.map(str::trim).filter(|b| !b.is_empty()) {
        None => Ok(None),
        Some(b) => By::parse(b).map(Some).ok_or_else(|| {
            AppError::invalid(
                "by",
                "invalid_dimension",
                format!("分组“{b}”无法识别,可选:{}。", By::ALL.map(By::as_str).join("、")),
            )
        }),
    }
}

/// Parses the ranking `metric` of a request (empty: satisfaction).
pub fn parse_metric(raw: Option<&str>) -> AppResult<Metric> {
    match raw.map(str::trim).filter(|m| !m.is_empty()) {
        None => Ok(Metric::Satisfaction),
        Some(m) => Metric::parse(m).ok_or_else(|| {
            AppError::invalid(
                "metric",
                "invalid_metric",
                format!("排名指标“{m}”无法识别,可选:{}。", Metric::ALL.map(Metric::as_str).join("、")),
            )
        }),
    }
}

/// Parses a period from a code (`2026-11`, `2026-Q4`, `2026`, `2026-W05`, `2026-11-05`) or a from–to pair.
pub fn parse_period(code: Option<&str>, from: Option<&str>, to: Option<&str>) -> AppResult<Period> {
    let period = match (code.map(str::trim).filter(|c| !c.is_empty()), from, to) {
        (Some(code), _, _) => Period::parse(code).ok_or_else(|| {
            AppError::invalid(
                "period",
                "invalid_period",
                format!("统计期“{code}”无法识别,可写作 2026-11(月)、2026-Q4(季度)、2026(年)、2026-W05(周)或 2026-11-05(日)。"),
            )
        })?,
        (None, Some(from), Some(to)) => {
            let from = hcp_domain::calendar::parse_date("from", from).map_err(AppError::from)?;
            let to = hcp_domain::calendar::parse_date("to", to).map_err(AppError::from)?;
            Period::range(from, to)
        }
        _ => {
            return Err(AppError::invalid("period", "period_required", "请给出统计期(period),或开始和结束日期(from、to)。"));
        }
    };
    if period.to < period.from {
        return Err(AppError::invalid("to", "bad_range", "结束日期不能早于开始日期。"));
    }
    if (period.to - period.from).num_days() > 3660 {
        return Err(AppError::invalid("to", "range_too_long", "统计区间不能超过十年。"));
    }
    Ok(period)
}

impl App {
    /// The organization of a statistics request, if this person may see its statistics.
    pub(crate) async fn stats_scope(&self, who: &Principal, org_code: &str) -> AppResult<OrgRow> {
        // A role without statistics is told so, whatever it asks for (issue 15 §5); within such a role the
        // answer for an organization outside one's scope stays "not found".
        if !who.may(Action::ViewStats, None) {
            return Err(AppError::Forbidden);
        }
        let code = org_code.trim();
        let not_found = || AppError::not_found("org_not_found", format!("机构“{code}”不存在。"));
        let org = self.store.org_by_code(code).await?.ok_or_else(not_found)?;
        if !who.may(Action::ViewStats, Some(Target { org_path: &org.path, staff_id: None })) {
            return Err(not_found());
        }
        Ok(org)
    }

    /// The statistics of an organization and everything under it over a period, broken down by `by`.
    pub async fn cut(&self, who: &Principal, org_code: &str, period: Period, by: Option<By>) -> AppResult<Cut> {
        let org = self.stats_scope(who, org_code).await?;
        self.cut_of(&org, period, by).await
    }

    /// The figures of each of `months` (whole months, in order) for an organization the person may see: the
    /// dashboard's trend, in one read of the month rows (what twelve [`App::cut`]s would give, twelve times
    /// cheaper).
    pub async fn monthly_figures(&self, who: &Principal, org_code: &str, months: &[Period]) -> AppResult<Vec<Figures>> {
        let org = self.stats_scope(who, org_code).await?;
        let number = |p: &Period| hcp_domain::period::month_number(p.from);
        let (Some(first), Some(last)) = (months.first(), months.last()) else { return Ok(Vec::new()) };
        let rows = self.store.month_totals(&org.path, number(first), number(last)).await?;
        let mut tallies: HashMap<i64, Tally> = HashMap::new();
        for r in &rows {
            tallies.entry(r.month).or_default().add_measure(&r.measure, r.is_default, r.invalidated, r.n);
        }
        let weights = self.result_rules.weights;
        Ok(months.iter().map(|m| tallies.remove(&number(m)).unwrap_or_default().figures(&weights)).collect())
    }

    /// [`App::cut`] without the permission check (for reports and jobs, which act for the county office).
    pub(crate) async fn cut_of(&self, org: &OrgRow, period: Period, by: Option<By>) -> AppResult<Cut> {
        let spans = spans(period.from, period.to);
        let weights = self.result_rules.weights;
        let org_rows = self.store.cut_rows(&org.path, "org", &spans).await?;
        let mut total = Tally::default();
        for r in &org_rows {
            total.add_measure(&r.measure, r.is_default, r.invalidated, r.n);
        }
        let mut lines = Vec::new();
        if let Some(by) = by {
            let rows =
                if by.dim() == "org" { org_rows } else { self.store.cut_rows(&org.path, by.dim(), &spans).await? };
            // Each row's line key, name and context.
            let mut tallies: HashMap<String, Tally> = HashMap::new();
            let mut names: HashMap<String, (String, String)> = HashMap::new();
            match by {
                By::Unit | By::Org => {
                    let orgs = self.store.list_orgs(&org.path).await?;
                    let by_id: HashMap<i64, &OrgRow> = orgs.iter().map(|o| (o.id, o)).collect();
                    let children: Vec<&OrgRow> =
                        orgs.iter().filter(|o| o.parent_code.as_deref() == Some(org.code.as_str())).collect();
                    for r in &rows {
                        let Some(o) = by_id.get(&r.org_id) else { continue };
                        let line = if by == By::Org {
                            o
                        } else {
                            children.iter().find(|c| o.path.starts_with(&c.path)).copied().unwrap_or(o)
                        };
                        tallies.entry(line.code.clone()).or_default().add_measure(
                            &r.measure,
                            r.is_default,
                            r.invalidated,
                            r.n,
                        );
                    }
                    let shown: Vec<&OrgRow> = if by == By::Org { orgs.iter().collect() } else { children };
                    for o in shown {
                        tallies.entry(o.code.clone()).or_default();
                        let kind = hcp_domain::OrgKind::parse(&o.kind).map_or("", |k| k.name_zh());
                        names.insert(o.code.clone(), (o.name.clone(), kind.to_string()));
                    }
                    if by == By::Unit && tallies.contains_key(&org.code) {
                        names.insert(org.code.clone(), (format!("{}(本级)", org.name), String::new()));
                    }
                }
                By::Window | By::Staff | By::Item | By::Category | By::Platform => {
                    let members = self.store.member_names(by.dim(), &org.path).await?;
                    let member: HashMap<&str, &hcp_store::MemberName> =
                        members.iter().map(|m| (m.member.as_str(), m)).collect();
                    for r in &rows {
                        let key = match (by, member.get(r.member.as_str())) {
                            (By::Category, Some(m)) => m.context.clone(),
                            (By::Category, None) => continue,
                            _ => r.member.clone(),
                        };
                        tallies.entry(key).or_default().add_measure(&r.measure, r.is_default, r.invalidated, r.n);
                    }
                    if by == By::Category {
                        for c in Category::ALL {
                            tallies.entry(c.as_str().to_string()).or_default();
                            names.insert(c.as_str().to_string(), (c.name_zh().to_string(), String::new()));
                        }
                    } else {
                        for m in &members {
                            let context = if by == By::Item {
                                Category::parse(&m.context).map_or(m.context.clone(), |c| c.name_zh().to_string())
                            } else {
                                m.context.clone()
                            };
                            names.insert(m.member.clone(), (m.name.clone(), context));
                        }
                        // Windows and staff without a single evaluation or record in the period are left out;
                        // every item is listed only if it was counted.
                    }
                }
                By::Channel => {
                    for r in &rows {
                        tallies.entry(r.member.clone()).or_default().add_measure(
                            &r.measure,
                            r.is_default,
                            r.invalidated,
                            r.n,
                        );
                    }
                    for c in Channel::ALL {
                        names.insert(c.as_str().to_string(), (c.name_zh().to_string(), String::new()));
                    }
                }
            }
            lines = tallies
                .into_iter()
                .map(|(key, tally)| {
                    let (name, context) = names.get(&key).cloned().unwrap_or_else(|| (key.clone(), String::new()));
                    CutLine { figures: tally.figures(&weights), key, name, context, tally }
                })
                .collect();
            lines.sort_by(|a, b| b.tally.evaluations().cmp(&a.tally.evaluations()).then(a.key.cmp(&b.key)));
        }
        Ok(Cut {
            org_code: org.code.clone(),
            org_name: org.name.clone(),
            period,
            period_code: period.code(),
            period_label: period.label_zh(),
            by,
            total: total.figures(&weights),
            total_tally: total,
            lines,
        })
    }

    /// A ranking of the lines of a cut by a metric, under the configured minimum sample unless `min` is given.
    pub async fn ranking(
        &self,
        who: &Principal,
        org_code: &str,
        period: Period,
        by: By,
        metric: Metric,
        min: Option<u64>,
    ) -> AppResult<Ranking> {
        let org = self.stats_scope(who, org_code).await?;
        let cut = self.cut_of(&org, period, Some(by)).await?;
        let rule = RankRule { metric, min_evaluations: min.unwrap_or(self.result_rules.min_evaluations) };
        Ok(self.rank_cut(cut, &rule))
    }

    pub(crate) fn rank_cut(&self, cut: Cut, rule: &RankRule) -> Ranking {
        let by = cut.by.unwrap_or(By::Unit);
        let ranked =
            rank(cut.lines.into_iter().map(|l| (l.clone(), l.tally)).collect(), rule, &self.result_rules.weights);
        Ranking {
            org_code: cut.org_code,
            org_name: cut.org_name,
            period_code: cut.period_code,
            period_label: cut.period_label,
            by,
            metric: rule.metric,
            metric_name: rule.metric.name_zh(),
            rule: rule.describe_zh(),
            min_evaluations: rule.min_evaluations,
            lines: ranked
                .into_iter()
                .map(|r| RankLine {
                    rank: r.rank,
                    tied: r.tied,
                    value: r.value,
                    unranked_reason: r.unranked_reason,
                    line: r.subject,
                })
                .collect(),
        }
    }
}

/// The headers of [`figure_cells`], after a table's own leading columns.
pub const FIGURE_HEADERS: [&str; 25] = [
    "评价数",
    "主动评价数",
    "默认评价数",
    "非常满意",
    "满意",
    "基本满意",
    "不满意",
    "非常不满意",
    "好评数",
    "差评数",
    "好评率(%)",
    "差评率(%)",
    "满意度",
    "办结件数",
    "主动评价率(%)",
    "差评整改率(%)",
    "1个工作日联系按时率(%)",
    "5个工作日整改按时率(%)",
    "15个工作日答复按时率(%)",
    "回访满意率(%)",
    "申诉数",
    "申诉成立数",
    "作废评价数",
    "办理中评价数",
    "中心按时交办率(%)",
];

/// The figures as cells, rates in percent (a rate without a denominator stays empty).
pub fn figure_cells(f: &Figures) -> Vec<crate::export::Cell> {
    use crate::export::Cell;
    let pct = |v: Option<f64>| v.map_or(Cell::Empty, Cell::Percent);
    let mut cells: Vec<Cell> = vec![f.evaluations.into(), f.active_evaluations.into(), f.default_evaluations.into()];
    cells.extend(f.levels.iter().map(|n| Cell::from(*n)));
    cells.extend([
        f.good_reviews.into(),
        f.bad_reviews.into(),
        pct(f.good_rate),
        pct(f.bad_rate),
        Cell::from(f.satisfaction.map(|v| (v * 100.0).round() / 100.0)),
        f.completed_records.into(),
        pct(f.active_rate),
        pct(f.rectification_rate),
        pct(f.on_time_rate[0]),
        pct(f.on_time_rate[1]),
        pct(f.on_time_rate[2]),
        pct(f.follow_up_satisfaction),
        f.appeals_filed.into(),
        f.appeals_upheld.into(),
        f.invalidated.into(),
        f.in_progress_evaluations.into(),
        pct(f.dispatch_on_time_rate),
    ]);
    cells
}

impl Cut {
    /// The name of its download, without extension.
    pub fn file_name(&self) -> String {
        format!("好差评统计_{}_{}", self.org_name, self.period_code)
    }

    /// The cut as a table: the total first, then one row per line.
    pub fn table(&self) -> crate::export::Table {
        use crate::export::{Cell, Table};
        let mut headers = vec!["名称".to_string(), "所属".to_string()];
        headers.extend(FIGURE_HEADERS.iter().map(|h| h.to_string()));
        let mut rows = vec![{
            let mut r = vec![Cell::from(format!("{}(合计)", self.org_name)), Cell::Empty];
            r.extend(figure_cells(&self.total));
            r
        }];
        for l in &self.lines {
            let mut r = vec![Cell::from(l.name.clone()), Cell::from(l.context.clone())];
            r.extend(figure_cells(&l.figures));
            rows.push(r);
        }
        let by = self.by.map_or(String::new(), |b| format!(",按{}", b.name_zh()));
        Table {
            title: format!("{} {} 好差评统计", self.org_name, self.period_label),
            notes: vec![format!(
                "统计期 {} 至 {}(北京时间){by}。作废评价(申诉成立)不计入任何比率。",
                self.period.from, self.period.to
            )],
            headers,
            rows,
        }
    }
}

impl Ranking {
    pub fn file_name(&self) -> String {
        format!("好差评排名_{}_{}_{}", self.org_name, self.period_code, self.metric.as_str())
    }

    pub fn table(&self) -> crate::export::Table {
        use crate::export::{Cell, Table};
        let mut headers =
            vec!["名次".to_string(), "名称".to_string(), "所属".to_string(), self.metric_name.to_string()];
        headers.extend(FIGURE_HEADERS.iter().map(|h| h.to_string()));
        let rows = self
            .lines
            .iter()
            .map(|l| {
                let rank = rank_cell(l.rank, l.tied, l.unranked_reason);
                let value = match self.metric {
                    Metric::Satisfaction => Cell::from(l.value.map(|v| (v * 100.0).round() / 100.0)),
                    _ => l.value.map_or(Cell::Empty, Cell::Percent),
                };
                let mut r = vec![rank, Cell::from(l.line.name.clone()), Cell::from(l.line.context.clone()), value];
                r.extend(figure_cells(&l.line.figures));
                r
            })
            .collect();
        Table {
            title: format!("{} {} {}排名({})", self.org_name, self.period_label, self.metric_name, self.by.name_zh()),
            notes: vec![format!("排名规则:{}", self.rule)],
            headers,
            rows,
        }
    }
}
