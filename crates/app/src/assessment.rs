//! Performance assessment (R10.2, issue 7 §5): a period's results of every unit or staff member under an
//! organization, turned into points by the configured scheme, with the breakdown of each figure.

use hcp_domain::assessment::{Assessment, Scheme, assess};
use hcp_domain::period::Period;
use serde::Serialize;

use crate::export::{Cell, Table};
use crate::policy::{Action, Principal, Target};
use crate::stats::By;
use crate::{App, AppError, AppResult};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AssessedLine {
    pub key: String,
    pub name: String,
    pub context: String,
    pub evaluations: u64,
    #[serde(flatten)]
    pub assessment: Assessment,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AssessmentReport {
    pub org_name: String,
    pub period_code: String,
    pub period_label: String,
    pub by: By,
    pub scheme: Scheme,
    pub full_points: f64,
    /// Highest points first; those not scored last.
    pub lines: Vec<AssessedLine>,
}

impl App {
    /// The assessment of the units (`By::Unit`) or staff (`By::Staff`) under an organization for a period.
    pub async fn assessment(
        &self,
        who: &Principal,
        org_code: &str,
        period: Period,
        by: By,
    ) -> AppResult<AssessmentReport> {
        if !matches!(by, By::Unit | By::Staff) {
            return Err(AppError::invalid("by", "invalid_dimension", "考核对象只能是单位(unit)或工作人员(staff)。"));
        }
        if !who.may(Action::ViewAssessment, None) {
            return Err(AppError::Forbidden);
        }
        let code = org_code.trim();
        let not_found = || AppError::not_found("org_not_found", format!("机构“{code}”不存在。"));
        let org = self.store.org_by_code(code).await?.ok_or_else(not_found)?;
        if !who.may(Action::ViewAssessment, Some(Target { org_path: &org.path, staff_id: None })) {
            return Err(not_found());
        }
        let cut = self.cut_of(&org, period, Some(by)).await?;
        let scheme = self.result_rules.scheme.clone();
        let mut lines: Vec<AssessedLine> = cut
            .lines
            .into_iter()
            .map(|l| AssessedLine {
                evaluations: l.tally.evaluations(),
                assessment: assess(&l.tally, &scheme, &self.result_rules.weights),
                key: l.key,
                name: l.name,
                context: l.context,
            })
            .collect();
        lines.sort_by(|a, b| {
            let p = |l: &AssessedLine| l.assessment.points.map_or(f64::NEG_INFINITY, |p| p);
            p(b).total_cmp(&p(a)).then(a.key.cmp(&b.key))
        });
        Ok(AssessmentReport {
            org_name: org.name,
            period_code: cut.period_code,
            period_label: cut.period_label,
            by,
            full_points: scheme.full_points(),
            scheme,
            lines,
        })
    }
}

impl AssessmentReport {
    pub fn file_name(&self) -> String {
        format!("好差评绩效考核_{}_{}", self.org_name, self.period_code)
    }

    /// One row per subject: the points, each item's points, and the breakdown in words.
    pub fn table(&self) -> Table {
        let items =
            ["满意度", "主动评价率", "差评整改", "按时办理", "差评率超标", "逾期办理", "差评未整改", "扣分封顶"];
        let mut headers = vec!["名称".to_string(), "所属".to_string(), "评价数".to_string(), "考核得分".to_string()];
        headers.extend(items.iter().map(|i| format!("{i}(分)")));
        headers.push("计分说明".into());
        let rows = self
            .lines
            .iter()
            .map(|l| {
                let mut row = vec![
                    Cell::from(l.name.clone()),
                    Cell::from(l.context.clone()),
                    Cell::from(l.evaluations),
                    Cell::from(l.assessment.points),
                ];
                for item in items {
                    row.push(Cell::from(l.assessment.lines.iter().find(|x| x.item == item).map(|x| x.points)));
                }
                let how = match &l.assessment.note {
                    Some(n) => n.clone(),
                    None => l
                        .assessment
                        .lines
                        .iter()
                        .map(|x| format!("{}:{} = {}", x.item, x.basis, x.points))
                        .collect::<Vec<_>>()
                        .join(";"),
                };
                row.push(Cell::from(how));
                row
            })
            .collect();
        let s = &self.scheme;
        Table {
            title: format!("{} {} 好差评绩效考核({})", self.org_name, self.period_label, self.by.name_zh()),
            notes: vec![format!(
                "考核方案:满意度 {} 分、主动评价率 {} 分、差评整改 {} 分、按时办理 {} 分(满分 {});差评率高于 {:.1}% 扣 {} 分,每次逾期扣 {} 分,每条未办结差评扣 {} 分,扣分上限 {} 分;有效评价少于 {} 条不评分。",
                s.satisfaction_points,
                s.active_rate_points,
                s.rectification_points,
                s.on_time_points,
                self.full_points,
                s.bad_rate_threshold * 100.0,
                s.bad_rate_deduction,
                s.late_step_deduction,
                s.unrectified_deduction,
                s.max_deduction,
                s.min_evaluations
            )],
            headers,
            rows,
        }
    }
}
