//! The demo county's bad-review cases (issue 5 §9): a year of them worked through the same state machine as
//! real ones, with times in the past — most closed after follow-up, recent ones in every state, some late or
//! overdue, a few escalated, and appeals at each stage. Deterministic for a given seed.

use chrono::{DateTime, Duration, Utc};
use hcp_domain::appeal::{Appeal, AppealRole, AppealState, stage_deadline};
use hcp_domain::case::{Case, CaseRole, CaseState, CaseStep, ClockMarks, DeadlineKind};
use hcp_store::{AppealDecisionWrite, CaseRow, CaseWrite, NewAppeal, NewDecision};
use rand::Rng;
use rand::rngs::StdRng;
use serde_json::json;

use crate::cases::{Missed, domain_case, fields_after, marks_of, overdue_step, step_row};
use crate::{App, AppResult};

/// Cases written per transaction.
const BATCH: usize = 500;

#[derive(Debug, Default, Clone, Copy)]
pub struct DemoCases {
    pub cases: u64,
    pub appeals: u64,
}

/// How an appeal of a demo case ends (or where it stands).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AppealPlan {
    None,
    Stop(AppealState),
}

const FINDINGS: [&str; 4] = [
    "经核实,窗口一次性告知不到位,材料清单漏列一项。",
    "经核实,高峰时段窗口开放不足,群众等候时间较长。",
    "经核实,工作人员解释政策时态度生硬。",
    "经核实,系统故障导致办理中断。",
];
const FIXES: [&str; 3] = [
    "已补充材料清单并对窗口人员开展一次性告知培训。",
    "已增设高峰时段弹性窗口,并电话向评价人致歉。",
    "已约谈当事工作人员,纳入月度考核。",
];

struct Script<'a> {
    app: &'a App,
    now: DateTime<Utc>,
    case: Case,
    row: &'a CaseRow,
    marks: ClockMarks,
    overdue_at: Option<DateTime<Utc>>,
    /// Stop once the case reaches this state (recent demo cases are spread over every state).
    target: Option<CaseState>,
    w: CaseWrite,
}

impl Script<'_> {
    /// Applies a step at `at` if that is in the past; a step due before `at` first gets the overdue mark the
    /// clock would have made. `false` when the story has reached the present.
    fn step(&mut self, at: DateTime<Utc>, role: CaseRole, step: CaseStep, actor: &str) -> bool {
        if at >= self.now || self.target.is_some_and(|t| t == self.case.state) {
            return false;
        }
        let due = self.case.due_of(&step);
        if let Some((kind, d)) = due
            && d.at < at
        {
            let missed = match kind {
                DeadlineKind::Contact => &mut self.marks.contact_missed,
                DeadlineKind::Handling => &mut self.marks.handling_missed,
            };
            if !*missed {
                *missed = true;
                self.overdue_at.get_or_insert(d.at);
                let round = self.case.round as i64;
                self.w.steps.push((self.row.id, overdue_step(round, Missed::Unit(kind), Some(d.at), d.at)));
            }
        }
        let before_round = self.case.round;
        if self.case.apply(&self.app.calendar(), at, role, step.clone()).is_err() {
            return false;
        }
        if self.case.round != before_round {
            self.marks = ClockMarks::default();
        }
        self.w
            .steps
            .push((self.row.id, step_row(&self.case, &step, role, actor, due.map(|(k, d)| (k.as_str(), d)), at)));
        true
    }

    fn finish(mut self) -> CaseWrite {
        let mut fields = fields_after(&self.case, &self.row.fields, self.marks);
        fields.overdue_at = self.overdue_at;
        self.w.update = Some((self.row.id, self.row.version, fields));
        self.w
    }
}

fn hours(rng: &mut StdRng, lo: i64, hi: i64) -> Duration {
    Duration::minutes(rng.random_range(lo * 60..hi * 60))
}

impl App {
    /// Works every bad-review case of the demo county up to now; the jobs run after it (`seed_demo`) mark what
    /// is overdue now, as they would have.
    pub(crate) async fn seed_demo_cases(&self, rng: &mut StdRng, now: DateTime<Utc>) -> AppResult<DemoCases> {
        let started = std::time::Instant::now();
        let mut rows: Vec<CaseRow> = Vec::new();
        loop {
            let page = self.store.cases_after(rows.last().map_or(0, |r| r.id), 2000).await?;
            let n = page.len();
            rows.extend(page);
            if n < 2000 {
                break;
            }
        }
        let mut report = DemoCases { cases: rows.len() as u64, appeals: 0 };
        let mut writes = Vec::with_capacity(BATCH);
        let mut appeals = Vec::new();
        // The last three weeks' cases cycle through every open state (and closed), so the demo shows each.
        const SPREAD: [Option<CaseState>; 8] = [
            Some(CaseState::Assigned),
            Some(CaseState::Contacted),
            Some(CaseState::Rectifying),
            Some(CaseState::Handled),
            Some(CaseState::Solved),
            Some(CaseState::Escalated),
            None,
            Some(CaseState::Unassigned),
        ];
        let mut recent = 0;
        let mut staged = [false; 2];
        for row in &rows {
            let age = now - row.created_at;
            let mut target = if age < Duration::days(21) && age > Duration::hours(2) {
                recent += 1;
                SPREAD[recent % SPREAD.len()]
            } else {
                None
            };
            let mut plan = self.plan_appeal(rng, row, now);
            // At least one appeal waits at each stage.
            if row.staff_id.is_some() && age > Duration::days(1) && age < Duration::days(8) {
                let stage = if age < Duration::days(3) { 0 } else { 1 };
                if !staged[stage] {
                    staged[stage] = true;
                    plan = AppealPlan::Stop([AppealState::WithUnit, AppealState::WithCenter][stage]);
                    target = None;
                }
            }
            writes.push(self.demo_history(rng, row, now, plan, target));
            if plan != AppealPlan::None {
                appeals.push((row.id, plan));
            }
            if writes.len() == BATCH {
                self.store.write_cases(&writes, now).await?;
                writes.clear();
            }
        }
        self.store.write_cases(&writes, now).await?;
        tracing::info!(
            cases = rows.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "demo case histories written"
        );
        for (case_id, plan) in appeals {
            if self.demo_appeal(rng, case_id, plan).await? {
                report.appeals += 1;
            }
        }
        tracing::info!(
            appeals = report.appeals,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "demo appeals written"
        );
        Ok(report)
    }

    fn plan_appeal(&self, rng: &mut StdRng, row: &CaseRow, now: DateTime<Utc>) -> AppealPlan {
        if row.staff_id.is_none() || rng.random::<f64>() >= 0.08 {
            return AppealPlan::None;
        }
        let age = now - row.created_at;
        // Filed a day after the review; recent ones still wait at a stage, older ones are decided.
        if age < Duration::days(3) {
            AppealPlan::Stop(AppealState::WithUnit)
        } else if age < Duration::days(6) {
            AppealPlan::Stop(AppealState::WithCenter)
        } else {
            let states = [AppealState::Upheld, AppealState::RejectedByCenter];
            AppealPlan::Stop(states[rng.random_range(0..states.len())])
        }
    }

    /// One case's story up to now.
    fn demo_history(
        &self,
        rng: &mut StdRng,
        row: &CaseRow,
        now: DateTime<Utc>,
        plan: AppealPlan,
        target: Option<CaseState>,
    ) -> CaseWrite {
        let mut s = Script {
            app: self,
            now,
            case: domain_case(row),
            row,
            marks: marks_of(&row.fields),
            overdue_at: None,
            target,
            w: CaseWrite::default(),
        };
        let center = CaseRole::HotlineCenter;
        let unit = CaseRole::Unit;
        let mut t = row.created_at + hours(rng, 1, 6);
        if !s.step(t, center, CaseStep::Assign { unit_id: row.org_id, reason: None }, "center") {
            return s.finish();
        }
        // One in ten units is slow to call back (late contact, marked overdue); one in twenty solves at once.
        t += if rng.random::<f64>() < 0.1 { hours(rng, 30, 80) } else { hours(rng, 1, 20) };
        if target.is_none() && rng.random::<f64>() < 0.05 {
            let text = "当场为评价人补办,评价人表示认可。".to_string();
            if !s.step(t, unit, CaseStep::SolveOnSpot { text }, "unit") {
                return s.finish();
            }
        } else {
            if !s.step(t, unit, CaseStep::Contact { text: "已电话联系评价人,了解具体情况。".into() }, "unit")
            {
                return s.finish();
            }
            // An appeal that will be upheld stops the unit's work here: the appeal closes the case.
            if plan == AppealPlan::Stop(AppealState::Upheld)
                || matches!(plan, AppealPlan::Stop(AppealState::WithUnit | AppealState::WithCenter))
            {
                return s.finish();
            }
            t += hours(rng, 2, 30);
            let real = rng.random::<f64>() < 0.8;
            let real = real || target == Some(CaseState::Rectifying);
            let long_term = real && rng.random::<f64>() < 0.15;
            let text = if real {
                FINDINGS[rng.random_range(0..FINDINGS.len())].to_string()
            } else {
                "经核实,该事项须按规定补齐材料,已向评价人解释说明政策依据。".to_string()
            };
            if !s.step(t, unit, CaseStep::Finding { real_problem: real, long_term, text }, "unit") {
                return s.finish();
            }
            // The center agrees the problem cannot be fixed quickly before the unit may reply with a plan.
            if long_term && !s.step(t + hours(rng, 1, 6), center, CaseStep::ApprovePlan, "center") {
                return s.finish();
            }
            if real {
                t += if long_term { hours(rng, 48, 200) } else { hours(rng, 10, 100) };
                let step = if long_term {
                    CaseStep::PlanReplied {
                        text: "需改造排队叫号系统,计划下月底前完成,已向评价人说明。".into()
                    }
                } else {
                    CaseStep::Rectified { text: FIXES[rng.random_range(0..FIXES.len())].to_string() }
                };
                if !s.step(t, unit, step, "unit") {
                    return s.finish();
                }
            }
        }
        t += hours(rng, 4, 48);
        let solved = target != Some(CaseState::Escalated) && rng.random::<f64>() < 0.9;
        let text = if solved {
            "回访评价人,表示问题已解决。"
        } else {
            "回访评价人,表示问题仍未解决。"
        }
        .to_string();
        if !s.step(t, center, CaseStep::FollowUp { solved, text }, "hotline") {
            return s.finish();
        }
        if !solved {
            // Half go round again with the unit, half go up to the county office.
            t += hours(rng, 1, 10);
            if target != Some(CaseState::Escalated) && rng.random::<bool>() {
                let _ = s.step(t, unit, CaseStep::SolveOnSpot { text: "重新办理,已上门为评价人解决。".into() }, "unit")
                    && s.step(
                        t + hours(rng, 4, 30),
                        center,
                        CaseStep::FollowUp { solved: true, text: "二次回访,评价人满意。".into() },
                        "hotline",
                    )
                    && s.step(t + hours(rng, 31, 40), center, CaseStep::Close, "center");
            } else {
                let _ = s.step(t, center, CaseStep::Escalate { reason: "回访仍未解决,提请督办。".into() }, "center")
                    && s.step(t + hours(rng, 24, 120), CaseRole::CountyOffice, CaseStep::Close, "office");
            }
            return s.finish();
        }
        let _ = s.step(t + hours(rng, 1, 8), center, CaseStep::Close, "center");
        s.finish()
    }

    /// Files and decides one demo appeal as planned. `false` when the case did not allow it.
    async fn demo_appeal(&self, rng: &mut StdRng, case_id: i64, plan: AppealPlan) -> AppResult<bool> {
        let AppealPlan::Stop(target) = plan else { return Ok(false) };
        let Some(row) = self.store.case_by_id(case_id).await? else { return Ok(false) };
        let (Some(staff_id), Some(evaluation_id)) = (row.staff_id, row.evaluation_id) else { return Ok(false) };
        let cal = self.calendar();
        let filed_at = row.evaluated_at + hours(rng, 20, 30);
        let new = NewAppeal {
            evaluation_id,
            case_id: Some(case_id),
            staff_id,
            org_id: row.org_id,
            filed_by: "staff".into(),
            reasons: "评价人反映的材料要求系上级文件规定,办理时已一次性告知并当场解释。".into(),
            state: AppealState::WithUnit.as_str(),
            filed_at,
            stage_due_at: stage_deadline(&cal, AppealState::WithUnit, filed_at, self.case_rules.appeal_limits())
                .map(|d| d.at),
        };
        let audit = self.audit(
            &crate::audit::Actor::system(),
            "appeal.file",
            "appeal:",
            json!({ "case_id": case_id, "demo": true }),
        );
        let Some(id) = self.store.insert_appeal(&new, &[], &[], &audit).await? else { return Ok(false) };
        let mut appeal = Appeal { state: AppealState::WithUnit, filed_at, decisions: Vec::new() };
        let mut at = filed_at;
        let mut due = new.stage_due_at;
        let decisions: &[(AppealRole, bool, &str)] = match target {
            AppealState::WithUnit => &[],
            AppealState::WithCenter => &[(AppealRole::Unit, true, "经核实,申诉理由属实,报中心复核。")],
            // Not planned: units give an opinion, the center decides.
            AppealState::RejectedByUnit | AppealState::Withdrawn => &[],
            AppealState::Upheld => &[
                (AppealRole::Unit, true, "经核实,申诉理由属实,报中心复核。"),
                (AppealRole::Center, true, "经调阅窗口录像,工作人员已按规定告知,申诉成立。"),
            ],
            AppealState::RejectedByCenter => &[
                (AppealRole::Unit, false, "经核实,工作人员确未一次性告知,不支持申诉,报中心复核。"),
                (AppealRole::Center, false, "评价人所反映问题确实存在,申诉不成立。"),
            ],
        };
        for (version, (role, uphold, reasons)) in decisions.iter().enumerate() {
            let version = version as i64;
            at += hours(rng, 4, 40);
            if appeal.decide(at, *role, *uphold, reasons).is_err() {
                break;
            }
            let stage_due_at = stage_deadline(&cal, appeal.state, at, self.case_rules.appeal_limits()).map(|d| d.at);
            let mut case = CaseWrite::default();
            if appeal.invalidates() {
                self.close_as_appealed(case_id, id, at, &mut case).await?;
            }
            let w = AppealDecisionWrite {
                appeal_id: id,
                version,
                state: appeal.state.as_str(),
                stage_due_at,
                decision: NewDecision {
                    stage: if *role == AppealRole::Unit { "unit" } else { "center" },
                    upheld: *uphold,
                    lapsed: false,
                    reasons: reasons.to_string(),
                    decided_by: if *role == AppealRole::Unit { "unit" } else { "center" }.into(),
                    due_at: due,
                    at,
                },
                invalidate: appeal.invalidates().then_some(evaluation_id),
                case,
            };
            if !self.store.decide_appeal(&w).await? {
                break;
            }
            due = stage_due_at;
        }
        Ok(true)
    }
}
