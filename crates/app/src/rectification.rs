//! Repeatedly low (R12.1, issue 7 §6): staff and units in the bottom group of the monthly ranking for K
//! consecutive months get a rectification order (整改通知) with a deadline when the month's report is published.
//! The unit answers with its rectification; the county office accepts it (closed) or sends it back; an order
//! not closed by its deadline is escalated to the county office once.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use hcp_domain::period::Period;
use hcp_domain::ranking::{Metric, RankRule, bottom_group, rank};
use hcp_store::{NewMessage, NewOrder, OrderChange, OrderRow, ReportRow};
use serde::Serialize;
use serde_json::json;

use crate::audit::Actor;
use crate::cases::unit_message;
use crate::policy::{Action, Principal, Target};
use crate::reports::ReportBody;
use crate::stats::By;
use crate::{App, AppError, AppResult};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderView {
    pub id: i64,
    /// staff | unit
    pub subject: String,
    pub subject_name: String,
    pub org_name: String,
    pub periods: Vec<String>,
    pub reason: String,
    pub state: String,
    pub state_name: &'static str,
    pub due_at: DateTime<Utc>,
    pub time_left: String,
    pub overdue: bool,
    pub report: Option<String>,
    pub reported_by: Option<String>,
    pub reported_at: Option<DateTime<Utc>>,
    pub review_note: Option<String>,
    pub closed_by: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub escalated_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub version: i64,
    /// What this person may do now: `answer` (the unit), `accept` / `return` (the county office).
    pub actions: Vec<&'static str>,
}

/// Who sees the orders of units under `org_path`: the county office, the unit, and those who see assessments.
fn may_see_orders(who: &Principal, org_path: &str) -> bool {
    let t = Some(Target { org_path, staff_id: None });
    [Action::ManageResults, Action::ReportRectification, Action::ViewAssessment].into_iter().any(|a| who.may(a, t))
}

fn state_name(s: &str) -> &'static str {
    match s {
        "open" => "待整改",
        "submitted" => "待审核",
        "closed" => "已办结",
        _ => "未知",
    }
}

impl App {
    fn order_view(&self, who: &Principal, o: &OrderRow) -> OrderView {
        let now = self.now();
        let target = Some(Target { org_path: &o.org_path, staff_id: None });
        let mut actions = Vec::new();
        if o.state == "open" && who.may(Action::ReportRectification, target) {
            actions.push("answer");
        }
        if o.state == "submitted" && who.may(Action::ManageResults, target) {
            actions.extend(["accept", "return"]);
        }
        OrderView {
            id: o.id,
            subject: o.subject.clone(),
            subject_name: o.subject_name.clone(),
            org_name: o.org_name.clone(),
            periods: o.periods.split(',').map(str::to_string).collect(),
            reason: o.reason.clone(),
            state: o.state.clone(),
            state_name: state_name(&o.state),
            due_at: o.due_at,
            time_left: if o.state == "closed" { String::new() } else { self.time_left_zh(o.due_at) },
            overdue: o.state != "closed" && now > o.due_at,
            report: o.report.clone(),
            reported_by: o.reported_by.clone(),
            reported_at: o.reported_at,
            review_note: o.review_note.clone(),
            closed_by: o.closed_by.clone(),
            closed_at: o.closed_at,
            escalated_at: o.escalated_at,
            created_at: o.created_at,
            version: o.version,
            actions,
        }
    }

    /// The orders of a publishing monthly report: units flagged in the bottom group of this report and of the
    /// published reports of the K − 1 months before; staff in the bottom group of the monthly staff ranking of
    /// each of those K months.
    pub(crate) async fn orders_for(
        &self,
        row: &ReportRow,
        body: &ReportBody,
        now: DateTime<Utc>,
    ) -> AppResult<(Vec<NewOrder>, Vec<NewMessage>)> {
        let k = self.result_rules.consecutive_months;
        let Some(month) = Period::parse(&row.period) else { return Ok((Vec::new(), Vec::new())) };
        if k == 0 {
            return Ok((Vec::new(), Vec::new()));
        }
        let mut months = vec![month];
        while months.len() < k as usize {
            let before = months.last().expect("at least one").previous();
            months.push(before);
        }
        months.reverse();
        let periods: Vec<String> = months.iter().map(Period::code).collect();
        let labels: Vec<String> = months.iter().map(Period::label_zh).collect();
        let due = self.calendar().add_working_days(now, self.result_rules.rectification_days).at;
        let rule_words = self.result_rules.bottom.describe_zh();
        let reason = |what: &str| {
            format!("{what}连续 {k} 个月({})满意度排名{rule_words},请限期整改并报送整改情况。", labels.join("、"))
        };
        let Some(org) = self.store.org_by_id(row.org_id).await? else { return Ok((Vec::new(), Vec::new())) };
        let mut orders = Vec::new();

        // Units: from the frozen reports (this one, and the published ones before it).
        let published = self.store.published_reports(row.org_id, "month", 240).await?;
        let mut bottom_units: Option<HashSet<String>> =
            Some(body.lines.iter().filter(|l| l.bottom).map(|l| l.key.clone()).collect());
        for p in &periods[..periods.len() - 1] {
            // The latest published version of that month (rows come newest version first).
            let flagged: Option<HashSet<String>> = published.iter().find(|r| &r.period == p).and_then(|r| {
                let b: ReportBody = serde_json::from_str(&r.body).ok()?;
                Some(b.lines.iter().filter(|l| l.bottom).map(|l| l.key.clone()).collect())
            });
            bottom_units = match (bottom_units, flagged) {
                (Some(a), Some(b)) => Some(a.intersection(&b).cloned().collect()),
                _ => None,
            };
        }
        for code in bottom_units.unwrap_or_default() {
            let Some(unit) = self.store.org_by_code(&code).await? else { continue };
            orders.push(NewOrder {
                subject: "unit",
                subject_id: unit.id,
                subject_name: unit.name.clone(),
                org_id: unit.id,
                periods: periods.join(","),
                last_period: row.period.clone(),
                reason: reason(&unit.name),
                due_at: due,
                at: now,
            });
        }

        // Staff: each month's staff ranking from the rollups, under the same rule.
        let rule = RankRule { metric: Metric::Satisfaction, min_evaluations: self.result_rules.min_evaluations };
        let mut bottom_staff: Option<BTreeMap<String, String>> = None;
        for m in &months {
            let cut = self.cut_of(&org, *m, Some(By::Staff)).await?;
            let ranked =
                rank(cut.lines.iter().map(|l| (l.clone(), l.tally)).collect(), &rule, &self.result_rules.weights);
            let this: BTreeMap<String, String> = bottom_group(&ranked, self.result_rules.bottom)
                .into_iter()
                .map(|i| (ranked[i].subject.key.clone(), ranked[i].subject.name.clone()))
                .collect();
            bottom_staff = Some(match bottom_staff {
                None => this,
                Some(prev) => prev.into_iter().filter(|(id, _)| this.contains_key(id)).collect(),
            });
        }
        for (id, name) in bottom_staff.unwrap_or_default() {
            let Ok(staff_id) = id.parse::<i64>() else { continue };
            let Some(org_id) = self.store.staff_org(staff_id).await? else { continue };
            orders.push(NewOrder {
                subject: "staff",
                subject_id: staff_id,
                subject_name: name.clone(),
                org_id,
                periods: periods.join(","),
                last_period: row.period.clone(),
                reason: reason(&format!("工作人员{name}")),
                due_at: due,
                at: now,
            });
        }

        let mut messages = Vec::new();
        for o in &orders {
            if let Some(unit) = self.store.org_by_id(o.org_id).await? {
                let body = format!(
                    "【整改通知】{}。整改期限:{}。",
                    o.reason,
                    hcp_domain::calendar::display_deadline(o.due_at)
                );
                messages.push(unit_message(&unit, None, "rectification_order", body, now));
            }
        }
        Ok((orders, messages))
    }

    /// Orders this person may see: the unit's own (unit admin), or all under the county office's scope.
    pub async fn orders(&self, who: &Principal) -> AppResult<Vec<OrderView>> {
        let mut out: Vec<OrderView> = Vec::new();
        for b in &who.bindings {
            if !may_see_orders(who, &b.org_path) {
                continue;
            }
            for o in self.store.list_orders(&b.org_path, 500).await? {
                if !out.iter().any(|v| v.id == o.id) {
                    out.push(self.order_view(who, &o));
                }
            }
        }
        Ok(out)
    }

    pub async fn order(&self, who: &Principal, id: i64) -> AppResult<OrderView> {
        Ok(self.order_view(who, &self.order_for(who, id).await?))
    }

    async fn order_for(&self, who: &Principal, id: i64) -> AppResult<OrderRow> {
        let not_found = || AppError::not_found("order_not_found", "整改通知不存在。");
        let o = self.store.order_by_id(id).await?.ok_or_else(not_found)?;
        if !may_see_orders(who, &o.org_path) {
            return Err(not_found());
        }
        Ok(o)
    }

    /// The unit reports its rectification.
    pub async fn answer_order(
        &self,
        who: &Principal,
        id: i64,
        text: &str,
        version: Option<i64>,
    ) -> AppResult<OrderView> {
        let o = self.order_for(who, id).await?;
        if !who.may(Action::ReportRectification, Some(Target { org_path: &o.org_path, staff_id: None })) {
            return Err(AppError::Forbidden);
        }
        if o.state != "open" {
            return Err(AppError::conflict(
                "order_not_open",
                format!("该整改通知当前为“{}”,不能报送。", state_name(&o.state)),
            ));
        }
        let text = text.trim();
        if text.is_empty() {
            return Err(AppError::invalid("report", "text_required", "请填写整改情况。"));
        }
        if text.chars().count() > 2000 {
            return Err(AppError::invalid("report", "too_long", "整改情况不能超过 2000 字。"));
        }
        let change = OrderChange {
            id,
            version: version.unwrap_or(o.version),
            state: "submitted",
            report: Some((text.to_string(), who.display_name.clone())),
            review_note: None,
            closed_by: None,
            escalated: false,
            at: self.now(),
        };
        let audit = self.audit(&Actor::user(&who.username), "order.answer", format!("order:{id}"), json!({}));
        self.apply_order_change(who, &o, &change, Vec::new(), audit).await
    }

    /// The county office accepts the rectification (closed) or returns it with a note.
    pub async fn review_order(
        &self,
        who: &Principal,
        id: i64,
        accept: bool,
        note: &str,
        version: Option<i64>,
    ) -> AppResult<OrderView> {
        let o = self.order_for(who, id).await?;
        if !who.may(Action::ManageResults, Some(Target { org_path: &o.org_path, staff_id: None })) {
            return Err(AppError::Forbidden);
        }
        if o.state != "submitted" {
            return Err(AppError::conflict(
                "order_not_submitted",
                format!("该整改通知当前为“{}”,单位报送整改情况后才能审核。", state_name(&o.state)),
            ));
        }
        let note = note.trim();
        if !accept && note.is_empty() {
            return Err(AppError::invalid("note", "text_required", "退回时请写明原因。"));
        }
        if note.chars().count() > 1000 {
            return Err(AppError::invalid("note", "too_long", "审核意见不能超过 1000 字。"));
        }
        let now = self.now();
        let change = OrderChange {
            id,
            version: version.unwrap_or(o.version),
            state: if accept { "closed" } else { "open" },
            report: None,
            review_note: (!note.is_empty()).then(|| note.to_string()),
            closed_by: accept.then(|| who.display_name.clone()),
            escalated: false,
            at: now,
        };
        let mut messages = Vec::new();
        if !accept && let Some(unit) = self.store.org_by_id(o.org_id).await? {
            let body = format!(
                "【整改退回】{}的整改情况被退回:{note}。请于 {} 前重新报送。",
                o.subject_name,
                hcp_domain::calendar::display_deadline(o.due_at)
            );
            messages.push(unit_message(&unit, None, "rectification_returned", body, now));
        }
        let action = if accept { "order.accept" } else { "order.return" };
        let audit = self.audit(&Actor::user(&who.username), action, format!("order:{id}"), json!({}));
        self.apply_order_change(who, &o, &change, messages, audit).await
    }

    async fn apply_order_change(
        &self,
        who: &Principal,
        o: &OrderRow,
        change: &OrderChange,
        messages: Vec<NewMessage>,
        audit: hcp_store::NewAudit,
    ) -> AppResult<OrderView> {
        if !self.store.change_order(change, &messages, &audit).await? {
            return Err(AppError::conflict("order_changed", "该整改通知已被他人更新,请刷新后再操作。"));
        }
        let o = self
            .store
            .order_by_id(o.id)
            .await?
            .ok_or_else(|| AppError::not_found("order_not_found", "整改通知不存在。"))?;
        Ok(self.order_view(who, &o))
    }

    /// Escalates orders past their deadline and not closed to the county office, once each.
    pub async fn escalate_orders(&self, now: DateTime<Utc>) -> AppResult<u64> {
        let mut n = 0;
        for o in self.store.orders_to_escalate(now).await? {
            let mut messages = Vec::new();
            let body = format!(
                "【整改督办】{}的整改通知已超过期限({})仍未办结。",
                o.subject_name,
                hcp_domain::calendar::display_deadline(o.due_at)
            );
            for org in self.supervisors_of(o.org_id).await? {
                messages.push(unit_message(&org, None, "rectification_overdue", body.clone(), now));
            }
            let change = OrderChange {
                id: o.id,
                version: o.version,
                state: if o.state == "submitted" { "submitted" } else { "open" },
                report: None,
                review_note: None,
                closed_by: None,
                escalated: true,
                at: now,
            };
            let audit = self.audit(&Actor::system(), "order.escalate", format!("order:{}", o.id), json!({}));
            n += u64::from(self.store.change_order(&change, &messages, &audit).await?);
        }
        Ok(n)
    }
}
