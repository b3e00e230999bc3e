//! Appeals against bad reviews (R8, issue 5 §5): the staff member who served files within the appeal window;
//! the unit checks (stage 1), the center reviews (stage 2); upheld invalidates the evaluation (kept, never
//! deleted, out of statistics) and closes the case as appealed. Every decision enters the filing register
//! (备案), which the management body lists and exports.

use chrono::{DateTime, Utc};
use hcp_domain::appeal::{Appeal, AppealContext, AppealRole, AppealState, stage_deadline};
use hcp_domain::calendar::{display_cst, display_deadline};
use hcp_domain::case::{CaseRole, CaseState, CaseStep};
use hcp_store::{
    AppealDecisionWrite, AppealRow, CaseWrite, DecisionRow, NewAppeal, NewCaseStep, NewDecision, NewMessage,
};
use serde::Serialize;
use serde_json::json;

use crate::attachments::{MAX_EVIDENCE, Upload, check_upload};
use crate::audit::Actor;
use crate::cases::{domain_case, fields_after, marks_of, refusal, step_text, unit_message};
use crate::policy::{Action, Principal, Target};
use crate::{App, AppError, AppResult};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AppealView {
    pub id: i64,
    pub case_id: Option<i64>,
    pub evaluation_id: i64,
    pub service_record_id: i64,
    pub record_number: String,
    pub staff_name: String,
    pub org_name: String,
    pub level: String,
    pub reasons: String,
    pub state: String,
    pub state_name: &'static str,
    pub filed_by: String,
    pub filed_at: DateTime<Utc>,
    pub stage_due_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl AppealView {
    pub fn from_row(a: &AppealRow) -> AppealView {
        AppealView {
            id: a.id,
            case_id: a.case_id,
            evaluation_id: a.evaluation_id,
            service_record_id: a.record_id,
            record_number: a.record_number.clone(),
            staff_name: a.staff_name.clone(),
            org_name: a.org_name.clone(),
            level: a.level.clone(),
            reasons: a.reasons.clone(),
            state: a.state.clone(),
            state_name: AppealState::parse(&a.state).map(|s| s.name_zh()).unwrap_or(""),
            filed_by: a.filed_by.clone(),
            filed_at: a.filed_at,
            stage_due_at: a.stage_due_at,
            version: a.version,
        }
    }
}

/// An appeal with its decisions, and what this person may decide.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AppealDetail {
    pub appeal: AppealView,
    pub evidence: Vec<crate::cases::AttachmentView>,
    pub decisions: Vec<DecisionView>,
    pub may_decide: bool,
    /// The appellant, until the center decides.
    pub may_withdraw: bool,
}

/// One entry of the filing register.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DecisionView {
    pub appeal_id: i64,
    pub stage: String,
    pub stage_name: &'static str,
    /// The stage's opinion; none when the unit let its limit pass (`lapsed`).
    pub upheld: Option<bool>,
    /// The unit did not verify within its limit: the appeal went to the center by itself (plan §八).
    pub lapsed: bool,
    pub result: &'static str,
    pub reasons: String,
    pub decided_by: String,
    pub due_at: Option<DateTime<Utc>>,
    pub on_time: Option<bool>,
    pub at: DateTime<Utc>,
    pub record_number: String,
    pub org_name: String,
    pub staff_name: String,
    pub level: String,
    pub appeal_state: String,
}

impl DecisionView {
    pub fn from_row(d: &DecisionRow) -> DecisionView {
        let unit = d.stage == "unit";
        DecisionView {
            appeal_id: d.appeal_id,
            stage: d.stage.clone(),
            stage_name: if unit { "单位初步核实" } else { "中心复核" },
            upheld: (!d.lapsed).then_some(d.upheld),
            lapsed: d.lapsed,
            result: match (unit, d.upheld) {
                _ if d.lapsed => "单位逾期未核实,转中心复核",
                (true, true) => "支持申诉,报中心复核",
                (true, false) => "不支持申诉,报中心复核",
                (false, true) => "申诉成立,评价作废",
                (false, false) => "申诉不成立,评价维持",
            },
            reasons: d.reasons.clone(),
            decided_by: d.decided_by.clone(),
            due_at: d.due_at,
            on_time: d.due_at.map(|due| d.at <= due),
            at: d.at,
            record_number: d.record_number.clone(),
            org_name: d.org_name.clone(),
            staff_name: d.staff_name.clone(),
            level: d.level.clone(),
            appeal_state: d.appeal_state.clone(),
        }
    }
}

/// Who may see an appeal: those who may see the record it is about, and the management body.
fn may_see(who: &Principal, a: &AppealRow) -> bool {
    let t = Target { org_path: &a.org_path, staff_id: Some(a.staff_id) };
    who.may(Action::ViewRecords, Some(t)) || who.may(Action::ViewFilingRegister, Some(t))
}

fn appeal_not_found(id: i64) -> AppError {
    AppError::not_found("appeal_not_found", format!("申诉 {id} 不存在。"))
}

fn appeal_changed() -> AppError {
    AppError::conflict("appeal_changed", "申诉已被他人处理,请刷新页面查看最新情况。")
}

fn staff_message(
    number: &str,
    case_id: Option<i64>,
    template: &'static str,
    body: String,
    at: DateTime<Utc>,
) -> NewMessage {
    NewMessage {
        recipient_kind: "staff",
        recipient: number.to_string(),
        recipient_key_id: None,
        template,
        body,
        secret: None,
        case_id,
        at,
    }
}

impl App {
    /// A staff member appeals the bad review of a case about their own service.
    pub async fn file_appeal(
        &self,
        who: &Principal,
        case_id: i64,
        reasons: &str,
        evidence: &[Upload],
    ) -> AppResult<AppealView> {
        let row = self.case_for(who, case_id).await?;
        let target = Target { org_path: &row.org_path, staff_id: row.staff_id };
        if !who.may(Action::FileAppeal, Some(target)) {
            return Err(AppError::conflict("not_your_review", "只能对自己经办业务收到的差评提出申诉。"));
        }
        let (Some(staff_id), Some(appellant)) = (row.staff_id, who.staff_id) else {
            return Err(AppError::Forbidden);
        };
        // A mystery-shopper visit's finding is the county office's own check, not an applicant's review: it
        // is answered by working the case, not appealed (issue 16 §5).
        let Some(evaluation_id) = row.evaluation_id else {
            return Err(AppError::conflict("inspection_not_appealable", "调查暗访发现的问题不能申诉,请按工单整改。"));
        };
        let reasons = step_text(reasons, "申诉理由", true)?;
        if evidence.len() > MAX_EVIDENCE {
            return Err(AppError::invalid(
                "evidence",
                "too_many_files",
                format!("证明材料最多 {MAX_EVIDENCE} 个文件。"),
            ));
        }
        let now = self.now();
        let ctx = AppealContext {
            evaluated_at: row.evaluated_at,
            is_bad_review: hcp_domain::Level::parse(&row.level).is_some_and(|l| l.is_bad_review()),
            served_by: Some(staff_id),
            appellant,
            appealed_before: row.appeal_state.is_some(),
            appeal_days: self.case_rules.appeal_days,
            case_closed_at: self.case_closed_at(&row).await?,
        };
        let appeal = Appeal::file(&self.calendar(), now, ctx, &reasons).map_err(refusal)?;
        let files = evidence.iter().map(|u| check_upload(u, &who.username, now)).collect::<AppResult<Vec<_>>>()?;
        let due = stage_deadline(&self.calendar(), appeal.state, now, self.case_rules.appeal_limits()).map(|d| d.at);
        let new = NewAppeal {
            evaluation_id,
            case_id: Some(row.id),
            staff_id,
            org_id: row.org_id,
            filed_by: who.username.clone(),
            reasons: reasons.clone(),
            state: appeal.state.as_str(),
            filed_at: now,
            stage_due_at: due,
        };
        let mut messages = Vec::new();
        if let Some(org) = self.store.org_by_id(row.org_id).await? {
            let body = format!(
                "【好差评】工作人员{}对办件 {} 的差评提出申诉,请于 {} 前完成初步核实。",
                row.staff_name.as_deref().unwrap_or(""),
                row.record_number,
                due.map(display_deadline).unwrap_or_default()
            );
            messages.push(unit_message(&org, Some(row.id), "appeal_filed", body, now));
        }
        let audit = self.audit(
            &Actor::user(&who.username),
            "appeal.file",
            "appeal:",
            json!({ "case_id": row.id, "evaluation_id": row.evaluation_id, "evidence": files.len() }),
        );
        let id = self
            .store
            .insert_appeal(&new, &files, &messages, &audit)
            .await?
            .ok_or_else(|| AppError::conflict("already_appealed", "该评价已申诉过,不能再次申诉。"))?;
        let a = self.store.appeal_by_id(id).await?.ok_or_else(|| appeal_not_found(id))?;
        Ok(AppealView::from_row(&a))
    }

    /// When the case was closed, if it is: the appeal window also runs from then (plan §八).
    async fn case_closed_at(&self, row: &hcp_store::CaseRow) -> AppResult<Option<DateTime<Utc>>> {
        if !CaseState::parse(&row.fields.state).is_some_and(|s| s.is_closed()) {
            return Ok(None);
        }
        let steps = self.store.case_steps(row.id).await?;
        Ok(steps.iter().rev().find(|s| s.kind == "close" || s.kind == "close_as_appealed").map(|s| s.at))
    }

    /// The appellant withdraws the appeal, having read the unit's finding, before the center decides.
    pub async fn withdraw_appeal(&self, who: &Principal, id: i64) -> AppResult<AppealView> {
        let a = self.appeal_for(who, id).await?;
        if a.filed_by != who.username {
            return Err(AppError::denied("not_your_appeal", "只有提出申诉的本人可以撤回申诉。"));
        }
        let state = AppealState::parse(&a.state).ok_or_else(|| appeal_not_found(id))?;
        let mut appeal = Appeal { state, filed_at: a.filed_at, decisions: Vec::new() };
        appeal.withdraw().map_err(refusal)?;
        let now = self.now();
        let mut messages = Vec::new();
        if let Some(org) = self.store.org_by_id(a.org_id).await? {
            let body = format!("【好差评】工作人员已撤回对办件 {} 差评的申诉。", a.record_number);
            messages.push(unit_message(&org, a.case_id, "appeal_withdrawn", body, now));
        }
        let audit = self.audit(
            &Actor::user(&who.username),
            "appeal.withdraw",
            format!("appeal:{id}"),
            json!({ "from_state": a.state }),
        );
        if !self.store.withdraw_appeal(id, a.version, &messages, &audit).await? {
            return Err(appeal_changed());
        }
        let a = self.store.appeal_by_id(id).await?.ok_or_else(|| appeal_not_found(id))?;
        Ok(AppealView::from_row(&a))
    }

    async fn appeal_for(&self, who: &Principal, id: i64) -> AppResult<AppealRow> {
        let a = self.store.appeal_by_id(id).await?.ok_or_else(|| appeal_not_found(id))?;
        if may_see(who, &a) { Ok(a) } else { Err(appeal_not_found(id)) }
    }

    fn may_decide(&self, who: &Principal, a: &AppealRow) -> Option<AppealRole> {
        let t = Some(Target { org_path: &a.org_path, staff_id: Some(a.staff_id) });
        match AppealState::parse(&a.state)? {
            AppealState::WithUnit if who.may(Action::CheckAppeal, t) => Some(AppealRole::Unit),
            AppealState::WithCenter if who.may(Action::ReviewAppeal, t) => Some(AppealRole::Center),
            _ => None,
        }
    }

    /// Whether this person has a stake in the appeal (issue 14 §3): they filed it, or could have acted as the
    /// account that did (they created it or reset its password), or — at the center's stage — they decided the
    /// unit's stage or could have acted as the account that did. Then the decision is someone else's, so that no
    /// one person can file an appeal and see it through.
    async fn has_stake(&self, who: &Principal, a: &AppealRow, role: AppealRole) -> AppResult<bool> {
        let me = Actor::user(&who.username).as_str().to_string();
        let mut accounts = vec![a.filed_by.clone()];
        if role == AppealRole::Center {
            let decisions = self.store.appeal_decisions(a.id).await?;
            accounts.extend(decisions.into_iter().filter(|d| d.stage == "unit").map(|d| d.decided_by));
        }
        for account in &accounts {
            if *account == who.username || self.store.account_controllers(account).await?.contains(&me) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    pub async fn appeal_detail(&self, who: &Principal, id: i64) -> AppResult<AppealDetail> {
        let a = self.appeal_for(who, id).await?;
        let decisions = self.store.appeal_decisions(id).await?;
        let evidence = self.store.appeal_evidence(id).await?;
        let may_decide = match self.may_decide(who, &a) {
            Some(role) => !self.has_stake(who, &a, role).await?,
            None => false,
        };
        let may_withdraw = a.filed_by == who.username && AppealState::parse(&a.state).is_some_and(AppealState::is_open);
        Ok(AppealDetail {
            evidence: evidence.iter().map(crate::cases::AttachmentView::from_row).collect(),
            may_decide,
            may_withdraw,
            appeal: AppealView::from_row(&a),
            decisions: decisions.iter().map(DecisionView::from_row).collect(),
        })
    }

    /// One evidence file, for someone who may see the appeal.
    pub async fn appeal_evidence_file(
        &self,
        who: &Principal,
        appeal_id: i64,
        evidence_id: i64,
    ) -> AppResult<(String, String, Vec<u8>)> {
        self.appeal_for(who, appeal_id).await?;
        self.store
            .appeal_evidence_data(appeal_id, evidence_id)
            .await?
            .ok_or_else(|| AppError::not_found("attachment_not_found", "附件不存在。"))
    }

    /// The appellant adds evidence while the unit has not decided yet.
    pub async fn add_evidence(&self, who: &Principal, appeal_id: i64, upload: &Upload) -> AppResult<i64> {
        let a = self.appeal_for(who, appeal_id).await?;
        if a.filed_by != who.username {
            return Err(AppError::Forbidden);
        }
        if a.state != AppealState::WithUnit.as_str() {
            return Err(AppError::conflict("appeal_decided", "单位已作出核实意见,不能再补充证明材料。"));
        }
        if self.store.appeal_evidence(appeal_id).await?.len() >= MAX_EVIDENCE {
            return Err(AppError::invalid("file", "too_many_files", format!("证明材料最多 {MAX_EVIDENCE} 个文件。")));
        }
        let now = self.now();
        let e = check_upload(upload, &who.username, now)?;
        let audit = self.audit(
            &Actor::user(&who.username),
            "appeal.evidence",
            format!("appeal:{appeal_id}"),
            json!({ "file_name": e.file_name, "content_type": e.content_type, "size": e.data.len(), "sm3": e.sm3 }),
        );
        Ok(self.store.insert_evidence(appeal_id, &e, &audit).await?)
    }

    /// The appeal of a case, if one was filed and this person may see it.
    pub async fn appeal_of_case(&self, who: &Principal, case_evaluation_id: i64) -> AppResult<Option<AppealView>> {
        match self.store.appeal_of_evaluation(case_evaluation_id).await? {
            Some(a) => Ok(may_see(who, &a).then(|| AppealView::from_row(&a))),
            None => Ok(None),
        }
    }

    /// A stage's decision: the unit passes to the center or rejects; the center upholds or rejects.
    pub async fn decide_appeal(
        &self,
        who: &Principal,
        id: i64,
        uphold: bool,
        reasons: &str,
        version: Option<i64>,
    ) -> AppResult<AppealView> {
        let a = self.appeal_for(who, id).await?;
        if version.is_some_and(|v| v != a.version) {
            return Err(appeal_changed());
        }
        let state = AppealState::parse(&a.state).ok_or_else(|| appeal_not_found(id))?;
        let Some(role) = self.may_decide(who, &a) else {
            return Err(if state.is_open() {
                AppError::Forbidden
            } else {
                AppError::conflict("appeal_decided", format!("申诉已处理完毕(“{}”)。", state.name_zh()))
            });
        };
        if self.has_stake(who, &a, role).await? {
            return Err(AppError::denied(
                "appeal_conflict_of_interest",
                "您与此申诉有利害关系(申诉由您或您创建、重置过密码的账号提出,或您已作出单位初步核实意见),不能作出此决定,请由其他人员处理。",
            ));
        }
        let reasons = step_text(reasons, "处理意见", true)?;
        let now = self.now();
        let mut appeal = Appeal { state, filed_at: a.filed_at, decisions: Vec::new() };
        appeal.decide(now, role, uphold, &reasons).map_err(refusal)?;
        let stage = if role == AppealRole::Unit { "unit" } else { "center" };
        let stage_due_at =
            stage_deadline(&self.calendar(), appeal.state, now, self.case_rules.appeal_limits()).map(|d| d.at);
        let mut case_write = CaseWrite::default();
        let staff_number = self.staff_number(a.staff_id).await?;
        let result = match (appeal.state, uphold) {
            (AppealState::WithCenter, true) => "单位初步核实后支持申诉,已报中心复核",
            (AppealState::WithCenter, false) => "单位初步核实后不支持申诉,已报中心复核;您可在中心复核前撤回申诉",
            (AppealState::Upheld, _) => "中心复核成立,该差评已作废",
            _ => "中心复核不成立,该差评维持",
        };
        let body = format!("【好差评】您对办件 {} 差评的申诉:{}。意见:{}", a.record_number, result, reasons);
        case_write.messages.push(staff_message(&staff_number, a.case_id, "appeal_decided", body, now));
        if appeal.invalidates()
            && let Some(case_id) = a.case_id
        {
            self.close_as_appealed(case_id, id, now, &mut case_write).await?;
        }
        case_write.audit.push(self.audit(
            &Actor::user(&who.username),
            "appeal.decide",
            format!("appeal:{id}"),
            json!({ "stage": stage, "upheld": uphold, "state": appeal.state.as_str() }),
        ));
        let w = AppealDecisionWrite {
            appeal_id: id,
            version: a.version,
            state: appeal.state.as_str(),
            stage_due_at,
            decision: NewDecision {
                stage,
                upheld: uphold,
                lapsed: false,
                reasons,
                decided_by: who.username.clone(),
                due_at: a.stage_due_at,
                at: now,
            },
            invalidate: appeal.invalidates().then_some(a.evaluation_id),
            case: case_write,
        };
        if !self.store.decide_appeal(&w).await? {
            return Err(appeal_changed());
        }
        let a = self.store.appeal_by_id(id).await?.ok_or_else(|| appeal_not_found(id))?;
        Ok(AppealView::from_row(&a))
    }

    /// The unit let its verification limit pass: the appeal goes to the center by itself (issue 30 §8, plan
    /// §八 gives the 复核 to the center), entered in the filing register as "单位逾期未核实" — late against the
    /// unit — with the center's own limit from now; the appellant, the center and the county office are told.
    /// `false` when the appeal changed meanwhile.
    pub(crate) async fn lapse_unit_stage(&self, a: &AppealRow, now: DateTime<Utc>) -> AppResult<bool> {
        let Some(state) = AppealState::parse(&a.state) else { return Ok(false) };
        let mut appeal = Appeal { state, filed_at: a.filed_at, decisions: Vec::new() };
        if appeal.lapse_unit_stage().is_err() {
            return Ok(false);
        }
        let stage_due_at =
            stage_deadline(&self.calendar(), appeal.state, now, self.case_rules.appeal_limits()).map(|d| d.at);
        let mut case_write = CaseWrite::default();
        let staff_number = self.staff_number(a.staff_id).await?;
        let body = format!(
            "【好差评】您对办件 {} 差评的申诉:单位未在期限内初步核实,已转“12345”政务服务中心复核。",
            a.record_number
        );
        case_write.messages.push(staff_message(&staff_number, a.case_id, "appeal_decided", body, now));
        let notice = format!(
            "【好差评】申诉 {}(办件 {},工作人员{})单位逾期未初步核实,已转中心复核,请于 {} 前作出复核决定。",
            a.id,
            a.record_number,
            a.staff_name,
            stage_due_at.map(hcp_domain::calendar::display_deadline).unwrap_or_default()
        );
        for org in self.supervisors_of(a.org_id).await?.into_iter().filter(|o| o.parent_code.is_none()) {
            case_write.messages.push(crate::cases::unit_message(&org, a.case_id, "appeal_lapsed", notice.clone(), now));
        }
        case_write.audit.push(self.audit(
            &Actor::system(),
            "appeal.unit_lapsed",
            format!("appeal:{}", a.id),
            json!({ "due_at": a.stage_due_at, "state": appeal.state.as_str() }),
        ));
        let w = AppealDecisionWrite {
            appeal_id: a.id,
            version: a.version,
            state: appeal.state.as_str(),
            stage_due_at,
            decision: NewDecision {
                stage: "unit",
                upheld: false,
                lapsed: true,
                reasons: "单位逾期未核实,转中心复核".into(),
                decided_by: "system".into(),
                due_at: a.stage_due_at,
                at: now,
            },
            invalidate: None,
            case: case_write,
        };
        Ok(self.store.decide_appeal(&w).await?)
    }

    async fn staff_number(&self, staff_id: i64) -> AppResult<String> {
        Ok(self.store.staff_number_of(staff_id).await?.unwrap_or_default())
    }

    /// Closes the case of an upheld appeal (the state machine's system step), inside the decision's write.
    pub(crate) async fn close_as_appealed(
        &self,
        case_id: i64,
        appeal_id: i64,
        now: DateTime<Utc>,
        w: &mut CaseWrite,
    ) -> AppResult<()> {
        let Some(row) = self.store.case_by_id(case_id).await? else { return Ok(()) };
        let mut case = domain_case(&row);
        if case.apply(&self.calendar(), now, CaseRole::System, CaseStep::CloseAsAppealed).is_err() {
            return Ok(()); // closed already: the invalidation stands on its own
        }
        let fields = fields_after(&case, &row.fields, marks_of(&row.fields));
        w.update = Some((case_id, row.version, fields.clone()));
        w.steps.push((
            case_id,
            NewCaseStep {
                round: fields.round,
                kind: "close_as_appealed",
                role: "system",
                actor: "system".into(),
                text: "申诉成立,差评作废,工单办结。".into(),
                detail: json!({ "appeal_id": appeal_id }).to_string(),
                due_at: None,
                at: now,
            },
        ));
        w.audit.push(self.audit(
            &Actor::system(),
            "case.step",
            format!("case:{case_id}"),
            json!({ "step": "close_as_appealed", "role": "system", "state": case.state.as_str(), "appeal_id": appeal_id }),
        ));
        Ok(())
    }

    /// Appeals for this person: waiting for their decision (`open`), or all they may see.
    pub async fn appeal_queue(&self, who: &Principal, open_only: bool) -> AppResult<Vec<AppealView>> {
        use crate::policy::Role;
        let mut scopes: Vec<String> = who.record_scopes().into_iter().map(String::from).collect();
        for b in &who.bindings {
            if b.role == Role::Auditor {
                scopes.push(b.org_path.clone());
            }
        }
        let staff = who.has_role(Role::Staff).then_some(who.staff_id).flatten();
        if scopes.is_empty() && staff.is_none() {
            return Err(AppError::Forbidden);
        }
        let mut states: Vec<&str> = Vec::new();
        if open_only {
            if who.has_role(Role::UnitAdmin) {
                states.push("with_unit");
            }
            if who.has_role(Role::CenterAdmin) {
                states.push("with_center");
            }
            if states.is_empty() {
                states.extend(["with_unit", "with_center"]);
            }
        }
        let rows = self.store.list_appeals(&scopes, staff, &states, 200).await?;
        Ok(rows.iter().map(AppealView::from_row).collect())
    }

    /// The filing register between two business dates (inclusive), for the management body.
    pub async fn filing_register(
        &self,
        who: &Principal,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> AppResult<Vec<DecisionView>> {
        if !who.may(Action::ViewFilingRegister, None) {
            return Err(AppError::Forbidden);
        }
        if to < from {
            return Err(AppError::invalid("to", "bad_range", "结束日期不能早于开始日期。"));
        }
        let start = hcp_domain::calendar::start_of_day(from);
        let end = hcp_domain::calendar::start_of_day(to + chrono::Duration::days(1));
        let rows = self.store.filing_register(start, end, 10_000).await?;
        Ok(rows.iter().map(DecisionView::from_row).collect())
    }
}

/// The filing register as CSV (UTF-8 with a byte-order mark, so Excel opens the Chinese right).
pub fn register_csv(rows: &[DecisionView]) -> String {
    let mut out = String::from(
        "\u{feff}申诉编号,办件编号,单位,工作人员,评价等级,阶段,结论,意见,处理人,期限,处理时间,是否按期,申诉状态\r\n",
    );
    for d in rows {
        let level = hcp_domain::Level::parse(&d.level).map(|l| l.name_zh()).unwrap_or("");
        let state = AppealState::parse(&d.appeal_state).map(|s| s.name_zh()).unwrap_or("");
        let fields = [
            d.appeal_id.to_string(),
            d.record_number.clone(),
            d.org_name.clone(),
            d.staff_name.clone(),
            level.to_string(),
            d.stage_name.to_string(),
            d.result.to_string(),
            d.reasons.clone(),
            d.decided_by.clone(),
            d.due_at.map(display_deadline).unwrap_or_default(),
            display_cst(d.at),
            match d.on_time {
                Some(true) => "是".into(),
                Some(false) => "否".into(),
                None => String::new(),
            },
            state.to_string(),
        ];
        out.push_str(&fields.iter().map(|f| crate::export::csv_field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}
