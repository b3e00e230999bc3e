//! The case clock (issue 5 §1, §4), run with the other jobs: reminders on the morning a limit falls due, a
//! missed limit marks the case overdue (逾期) and escalates (督办) to the unit, its supervisor and the county
//! office, and the automatic assignment rule hands cases the center left alone to the record's unit.

use chrono::{DateTime, Utc};
use hcp_domain::calendar::display_deadline;
use hcp_domain::case::{CaseRole, CaseStep, ClockEvent, DeadlineKind};
use hcp_store::{CaseRow, CaseWrite, NewCaseStep};
use serde_json::json;

use crate::audit::Actor;
use crate::cases::{Missed, domain_case, fields_after, marks_of, overdue_step, unit_message};
use crate::{App, AppResult};

/// Cases looked at per query; the job loops until none is due.
const BATCH: i64 = 200;

#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct ClockReport {
    pub reminders: u64,
    pub missed: u64,
    pub auto_assigned: u64,
    /// Appeal stages past their limit, reported.
    pub appeals_overdue: u64,
    /// Bad reviews left unassigned past the 12345 center's own dispatch limit, marked.
    pub dispatch_missed: u64,
}

impl App {
    /// Runs the clock of every case due at `now`. Idempotent: each reminder and each missed limit happens
    /// once a round (marks on the case, written only if nobody changed the case meanwhile).
    pub async fn run_case_clock(&self, now: DateTime<Utc>) -> AppResult<ClockReport> {
        let mut report = ClockReport::default();
        if let Some(after) = self.case_rules.auto_assign_after {
            loop {
                let rows = self.store.unassigned_cases_before(now - after, BATCH).await?;
                let mut progressed = false;
                for row in &rows {
                    progressed |= self.auto_assign(row, now).await?;
                }
                report.auto_assigned += rows.len() as u64;
                if rows.len() < BATCH as usize || !progressed {
                    break;
                }
            }
        }
        // Bounded: a case is due again only after its next event, so each pass makes progress.
        for _ in 0..1000 {
            let rows = self.store.cases_to_check(now, BATCH).await?;
            let mut progressed = false;
            for row in &rows {
                let (r, m, wrote) = self.tick(row, now).await?;
                report.reminders += r;
                report.missed += m;
                progressed |= wrote;
            }
            if rows.len() < BATCH as usize || !progressed {
                break;
            }
        }
        report.appeals_overdue = self.report_late_appeals(now).await?;
        report.dispatch_missed = self.mark_late_dispatch(now).await?;
        if report.reminders + report.missed + report.auto_assigned + report.appeals_overdue + report.dispatch_missed > 0
        {
            tracing::info!(?report, "case clock");
        }
        Ok(report)
    }

    /// Bad reviews the 12345 center has left unassigned past its own limit (issue 15 §3): marked overdue, with a
    /// step in the case's history, once each. Oldest first, so the first one still in time ends the pass.
    async fn mark_late_dispatch(&self, now: DateTime<Utc>) -> AppResult<u64> {
        let mut n = 0;
        loop {
            let rows = self.store.undispatched_cases(BATCH).await?;
            let mut marked = 0;
            for row in &rows {
                let Some(due) = self.dispatch_due(row) else { return Ok(n) };
                if now <= due.at {
                    return Ok(n + marked);
                }
                let mut fields = row.fields.clone();
                fields.dispatch_missed = true;
                let mut w = CaseWrite { update: Some((row.id, row.version, fields)), ..CaseWrite::default() };
                w.steps.push((row.id, overdue_step(row.fields.round, Missed::Dispatch, Some(due.at), now)));
                w.audit.push(self.audit(
                    &Actor::system(),
                    "case.dispatch_overdue",
                    format!("case:{}", row.id),
                    json!({ "due_at": due.at }),
                ));
                if self.store.write_case(&w, now).await? {
                    marked += 1;
                }
            }
            n += marked;
            if rows.len() < BATCH as usize || marked == 0 {
                return Ok(n);
            }
        }
    }

    /// Appeal stages past their working-day limit: the unit (stage 1) or the center (stage 2) is told once,
    /// and the county office with it.
    async fn report_late_appeals(&self, now: DateTime<Utc>) -> AppResult<u64> {
        let mut n = 0;
        for a in self.store.appeals_past_due(now, BATCH).await? {
            let stage_is_unit = a.state == "with_unit";
            // The unit's stage lapses: the center decides (issue 30 §8); its own limit runs from now.
            if stage_is_unit {
                n += self.lapse_unit_stage(&a, now).await? as u64;
                continue;
            }
            let Some(org) = self.store.org_by_id(a.org_id).await? else { continue };
            let body = format!(
                "【好差评】督办:申诉 {}(办件 {},工作人员{})的{}已于 {} 超过期限,请尽快处理。",
                a.id,
                a.record_number,
                a.staff_name,
                if stage_is_unit { "单位初步核实" } else { "中心复核" },
                a.stage_due_at.map(display_deadline).unwrap_or_default()
            );
            let mut to = self.supervisors_of(a.org_id).await?;
            if stage_is_unit {
                to.insert(0, org);
            } else {
                to.retain(|o| o.parent_code.is_none());
            }
            let messages: Vec<_> =
                to.iter().map(|o| unit_message(o, a.case_id, "appeal_overdue", body.clone(), now)).collect();
            let audit = self.audit(
                &Actor::system(),
                "appeal.overdue",
                format!("appeal:{}", a.id),
                json!({ "stage": if stage_is_unit { "unit" } else { "center" } }),
            );
            n += self.store.mark_appeal_overdue(&a, &messages, &audit).await? as u64;
        }
        Ok(n)
    }

    /// After the calendar changed (a year's notice, a county closure): open cases whose deadlines now fall
    /// elsewhere get them recomputed from their round's assignment, with a note in their history.
    pub async fn recompute_deadlines(&self) -> AppResult<u64> {
        let cal = self.calendar();
        let now = self.now();
        let mut rows = Vec::new();
        loop {
            let filter = hcp_store::CaseFilter {
                plans_to_approve: false,
                scopes: vec!["/".into()],
                states: ["assigned", "contacted", "rectifying"].map(String::from).to_vec(),
                limit: 500,
                offset: rows.len() as i64,
                ..Default::default()
            };
            let page = self.store.list_cases(&filter).await?;
            let n = page.len();
            rows.extend(page);
            if n < 500 {
                break;
            }
        }
        let mut changed = 0;
        for row in &rows {
            let mut case = domain_case(row);
            let Some(old) = case.deadlines else { continue };
            let new = hcp_domain::case::RoundDeadlines::from(&cal, old.assigned_at);
            if new == old {
                continue;
            }
            case.deadlines = Some(new);
            let fields = fields_after(&case, &row.fields, marks_of(&row.fields));
            let mut w = CaseWrite { update: Some((row.id, row.version, fields)), ..CaseWrite::default() };
            w.steps.push((
                row.id,
                NewCaseStep {
                    round: row.fields.round,
                    kind: "recalculated",
                    role: "system",
                    actor: "system".into(),
                    text: format!(
                        "节假日安排更新,期限重新计算:联系 {},整改 {},回复 {}。",
                        display_deadline(new.contact.at),
                        display_deadline(new.rectify.at),
                        display_deadline(new.reply.at)
                    ),
                    detail: json!({ "provisional": new.contact.provisional || new.reply.provisional }).to_string(),
                    due_at: None,
                    at: now,
                },
            ));
            w.audit.push(self.audit(
                &Actor::system(),
                "case.deadlines",
                format!("case:{}", row.id),
                json!({ "contact": new.contact.at, "rectify": new.rectify.at, "reply": new.reply.at }),
            ));
            changed += self.store.write_case(&w, now).await? as u64;
        }
        if changed > 0 {
            tracing::info!(cases = changed, "case deadlines recomputed after a calendar change");
        }
        Ok(changed + self.recompute_appeal_deadlines(&cal).await?)
    }

    /// Open appeals' stage limits recomputed from their stage's start, as the case deadlines are.
    async fn recompute_appeal_deadlines(&self, cal: &hcp_domain::calendar::Calendar) -> AppResult<u64> {
        let limits = self.case_rules.appeal_limits();
        let mut changed = 0;
        for stage in self.store.open_appeal_stages().await? {
            let Some(state) = hcp_domain::appeal::AppealState::parse(&stage.state) else { continue };
            let Some(due) = hcp_domain::appeal::stage_deadline(cal, state, stage.started_at, limits) else { continue };
            if stage.due_at == Some(due.at) {
                continue;
            }
            let audit = self.audit(
                &Actor::system(),
                "appeal.deadline",
                format!("appeal:{}", stage.appeal_id),
                json!({ "stage": stage.state, "from": stage.due_at, "to": due.at }),
            );
            changed += self.store.reschedule_appeal(&stage, due.at, &audit).await? as u64;
        }
        if changed > 0 {
            tracing::info!(appeals = changed, "appeal stage limits recomputed after a calendar change");
        }
        Ok(changed)
    }

    async fn auto_assign(&self, row: &CaseRow, now: DateTime<Utc>) -> AppResult<bool> {
        let mut case = domain_case(row);
        let step = CaseStep::Assign { unit_id: row.org_id, reason: None };
        if case.apply(&self.calendar(), now, CaseRole::System, step.clone()).is_err() {
            return Ok(false);
        }
        let fields = fields_after(&case, &row.fields, marks_of(&row.fields));
        let mut w = CaseWrite { update: Some((row.id, row.version, fields.clone())), ..CaseWrite::default() };
        w.steps.push((
            row.id,
            NewCaseStep {
                round: fields.round,
                kind: step.kind(),
                role: "system",
                actor: "system".into(),
                text: "中心未在规定时间内交办,系统按规则自动交办办件所属单位。".into(),
                detail: json!({ "unit_id": row.org_id, "auto": true }).to_string(),
                due_at: None,
                at: now,
            },
        ));
        if let (Some(org), Some(d)) = (self.store.org_by_id(row.org_id).await?, case.deadlines) {
            let body = format!(
                "【好差评】差评工单 {}(办件 {},{})已自动交办贵单位:{} 前联系评价人,{} 前整改反馈;不能立即整改的,{} 前回复解决方案。",
                row.id,
                row.record_number,
                row.item_name,
                display_deadline(d.contact.at),
                display_deadline(d.rectify.at),
                display_deadline(d.reply.at)
            );
            w.messages.push(unit_message(&org, Some(row.id), "case_assigned", body, now));
        }
        w.audit.push(self.audit(
            &Actor::system(),
            "case.step",
            format!("case:{}", row.id),
            json!({ "step": "assign", "role": "system", "state": case.state.as_str(), "round": case.round, "auto": true }),
        ));
        Ok(self.store.write_case(&w, now).await?)
    }

    /// One case's due events: `(reminders, missed, written)`.
    async fn tick(&self, row: &CaseRow, now: DateTime<Utc>) -> AppResult<(u64, u64, bool)> {
        let case = domain_case(row);
        let mut marks = marks_of(&row.fields);
        let due: Vec<(DateTime<Utc>, ClockEvent)> = case.clock(marks).into_iter().filter(|(t, _)| *t <= now).collect();
        let missed: Vec<DeadlineKind> =
            due.iter().filter_map(|(_, e)| if let ClockEvent::Miss(k) = e { Some(*k) } else { None }).collect();
        let mut w = CaseWrite::default();
        let (mut reminders, mut misses) = (0, 0);
        let unit = match case.unit_id {
            Some(u) => self.store.org_by_id(u).await?,
            None => None,
        };
        let due_at = |k: DeadlineKind| match k {
            DeadlineKind::Contact => case.deadlines.map(|d| d.contact.at),
            DeadlineKind::Handling => case.handling_due().map(|d| d.at),
        };
        for (_, event) in &due {
            match *event {
                ClockEvent::Remind(kind) => {
                    match kind {
                        DeadlineKind::Contact => marks.contact_reminded = true,
                        DeadlineKind::Handling => marks.handling_reminded = true,
                    }
                    // A reminder after the limit itself passed says nothing the overdue notice does not.
                    if missed.contains(&kind) {
                        continue;
                    }
                    reminders += 1;
                    if let Some(u) = &unit {
                        let body = format!(
                            "【好差评】提醒:差评工单 {}(办件 {})的“{}”将于 {} 到期,请及时办理。",
                            row.id,
                            row.record_number,
                            kind.name_zh(),
                            due_at(kind).map(display_deadline).unwrap_or_default()
                        );
                        w.messages.push(unit_message(u, Some(row.id), "case_reminder", body, now));
                    }
                }
                ClockEvent::Miss(kind) => {
                    match kind {
                        DeadlineKind::Contact => marks.contact_missed = true,
                        DeadlineKind::Handling => marks.handling_missed = true,
                    }
                    misses += 1;
                    w.steps.push((row.id, overdue_step(row.fields.round, Missed::Unit(kind), due_at(kind), now)));
                    let body = format!(
                        "【好差评】督办:差评工单 {}(办件 {},{})的“{}”已于 {} 逾期,请{}立即办理。",
                        row.id,
                        row.record_number,
                        unit.as_ref().map(|u| u.name.as_str()).unwrap_or(""),
                        kind.name_zh(),
                        due_at(kind).map(display_deadline).unwrap_or_default(),
                        if unit.is_some() { "承办单位" } else { "" },
                    );
                    let mut to = unit.iter().cloned().collect::<Vec<_>>();
                    to.extend(self.supervisors_of(case.unit_id.unwrap_or(row.org_id)).await?);
                    for org in to {
                        w.messages.push(unit_message(&org, Some(row.id), "case_overdue", body.clone(), now));
                    }
                    w.audit.push(self.audit(
                        &Actor::system(),
                        "case.overdue",
                        format!("case:{}", row.id),
                        json!({ "deadline": kind.as_str(), "round": row.fields.round }),
                    ));
                }
            }
        }
        let mut fields = fields_after(&case, &row.fields, marks);
        if misses > 0 && fields.overdue_at.is_none() {
            fields.overdue_at = Some(now);
        }
        if fields == row.fields {
            return Ok((0, 0, false));
        }
        w.update = Some((row.id, row.version, fields));
        let wrote = self.store.write_case(&w, now).await?;
        Ok(if wrote { (reminders, misses, true) } else { (0, 0, false) })
    }
}
