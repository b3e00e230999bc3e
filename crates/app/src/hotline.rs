//! Evaluations taken by 12345 hotline agents (R5.1, issue 14 §4). Each carries the ticket of the call behind it,
//! and a ticket carries one evaluation, so an agent cannot use up a waiting record's evaluation with no call
//! behind it without leaving a ticket that can be checked. With `--hotline-confirm` the evaluation counts only
//! once the applicant confirms it through a link sent by text message; until then it waits, and a refusal or
//! silence leaves the record to be rated another way (or by default).

use chrono::{DateTime, Utc};
use hcp_domain::evaluation::Submission;
use hcp_domain::identity::TicketNumber;
use hcp_domain::{Channel, Level};
use hcp_store::{HotlineInsert, HotlinePendingRow, NewEvaluation, NewHotlinePending, NewMessage, RecordRow};
use serde::Serialize;
use serde_json::json;

use crate::audit::Actor;
use crate::evaluations::EvaluationInput;
use crate::policy::{Action, Principal};
use crate::views::EvaluationView;
use crate::{App, AppError, AppResult, secrets};

/// Days an applicant has to confirm a hotline evaluation.
pub const CONFIRM_DAYS: i64 = 7;

/// What became of a hotline agent's evaluation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum HotlineOutcome {
    /// Recorded: it counts now.
    Recorded { evaluation: EvaluationView },
    /// Waiting for the applicant's confirmation by text message, until `expires_at`.
    AwaitingConfirmation { ticket_number: String, expires_at: DateTime<Utc> },
}

/// A waiting hotline evaluation as its confirmation page shows it.
#[derive(Debug, Clone)]
pub struct PendingHotline {
    pub row: HotlinePendingRow,
    pub record: RecordRow,
    pub level_name: &'static str,
}

fn unknown_link() -> AppError {
    AppError::not_found("unknown_token", "确认链接无效:链接可能不完整,请核对短信中的链接。")
}

fn ticket_used(ticket: &TicketNumber) -> AppError {
    AppError::conflict(
        "ticket_used",
        format!("12345工单 {} 已记录过一次评价,一次来电只能记录一次评价。", ticket.as_str()),
    )
}

fn texted_today() -> AppError {
    AppError::conflict(
        "hotline_texted_today",
        "今天已就该办件给申请人发过确认短信,每个办件每天只发一条;请明天再记录,或请申请人自行评价。",
    )
}

fn already_evaluated() -> AppError {
    AppError::conflict("already_evaluated", "该办件已评价过,每次服务只能评价一次。")
}

impl App {
    /// A caller's rating taken by a hotline agent (R5.1), recorded with the channel `hotline`, the agent and the
    /// 12345 ticket of the call.
    pub async fn record_hotline_evaluation(
        &self,
        who: &Principal,
        id: i64,
        ticket_number: &str,
        input: &EvaluationInput,
    ) -> AppResult<HotlineOutcome> {
        let rec = self.record_for(who, id, Action::RecordHotlineEvaluation).await?;
        let ticket = TicketNumber::parse("ticket_number", ticket_number);
        let sub = Submission::parse_by_agent(input.raw());
        let (ticket, sub) = match (ticket, sub) {
            (Ok(t), Ok(s)) => (t, s),
            (t, s) => {
                let mut v: Vec<_> = t.err().into_iter().collect();
                v.extend(s.err().unwrap_or_default());
                return Err(AppError::Invalid(v));
            }
        };
        self.registered_ticket(&ticket, rec.id).await?;
        if let Some(refusal) = self.evaluation_refusal(&rec) {
            return Err(refusal);
        }
        let new = self.new_evaluation(rec.id, &sub, Some(who.username.clone()));
        if self.safeguards.hotline_confirm {
            return self.hold_for_confirmation(who, &rec, &ticket, &new).await;
        }
        let audit = self.audit(
            &Actor::user(&who.username),
            "evaluation.create",
            format!("service_record:{id}"),
            json!({ "round": 1, "level": new.level, "channel": new.channel, "recorded_by": who.username,
                    "ticket_number": ticket.as_str() }),
        );
        match self.store.insert_hotline_evaluation(&new, ticket.as_str(), &audit).await? {
            HotlineInsert::Written(eid) => Ok(HotlineOutcome::Recorded {
                evaluation: EvaluationView::from(&hcp_store::EvaluationRow::from_new(eid, &new)),
            }),
            HotlineInsert::AlreadyEvaluated => Err(already_evaluated()),
            HotlineInsert::TicketUsed => Err(ticket_used(&ticket)),
            HotlineInsert::Pending => Err(hotline_pending()),
            HotlineInsert::TextedToday => Err(texted_today()),
        }
    }

    /// Keeps the evaluation waiting and texts the applicant a link to confirm it.
    async fn hold_for_confirmation(
        &self,
        who: &Principal,
        rec: &RecordRow,
        ticket: &TicketNumber,
        new: &NewEvaluation,
    ) -> AppResult<HotlineOutcome> {
        let now = self.now();
        let token = secrets::new_token();
        let expires_at = now + chrono::Duration::days(CONFIRM_DAYS);
        let pending = NewHotlinePending {
            service_record_id: rec.id,
            ticket_number: ticket.as_str().to_string(),
            token_hash: secrets::hash(&token),
            level: new.level,
            indicator_ids: new.indicator_ids.clone(),
            staff_indicator_ids: new.staff_indicator_ids.clone(),
            comment: new.comment.clone(),
            recorded_by: who.username.clone(),
            created_at: now,
            expires_at,
            day_start: hcp_domain::calendar::start_of_day(hcp_domain::calendar::business_date(now)),
        };
        let level = Level::parse(new.level).map(Level::name_zh).unwrap_or_default();
        let recipient = rec.id.to_string();
        let message = NewMessage {
            recipient_kind: "evaluator",
            recipient: recipient.clone(),
            recipient_key_id: None,
            template: "hotline_confirm",
            body: format!(
                "【好差评】12345热线记录了您对“{}”的评价“{level}”。如确为您本人的评价,请在 {CONFIRM_DAYS} 天内点击确认:{};如不是,请点开链接选择“不是我的评价”。",
                rec.item_name,
                crate::outbox::SECRET
            ),
            secret: Some(self.keys.seal_secret(
                "hotline_confirm",
                &recipient,
                &format!("{}/h/{token}", self.public_url()),
            )),
            case_id: None,
            at: now,
        };
        let audit = self.audit(
            &Actor::user(&who.username),
            "evaluation.hotline_pending",
            format!("service_record:{}", rec.id),
            json!({ "level": new.level, "ticket_number": ticket.as_str(), "recorded_by": who.username }),
        );
        match self.store.insert_hotline_pending(&pending, &message, &audit).await? {
            HotlineInsert::Written(_) => {
                Ok(HotlineOutcome::AwaitingConfirmation { ticket_number: ticket.as_str().to_string(), expires_at })
            }
            HotlineInsert::AlreadyEvaluated => Err(already_evaluated()),
            HotlineInsert::TicketUsed => Err(ticket_used(ticket)),
            HotlineInsert::Pending => Err(hotline_pending()),
            HotlineInsert::TextedToday => Err(texted_today()),
        }
    }

    /// The waiting evaluation behind a confirmation link.
    pub async fn pending_hotline(&self, token: &str) -> AppResult<PendingHotline> {
        if !secrets::looks_like_token(token) {
            return Err(unknown_link());
        }
        let row = self.store.hotline_pending_by_token(&secrets::hash(token)).await?.ok_or_else(unknown_link)?;
        let record = self.store.record_by_id(row.service_record_id).await?.ok_or_else(unknown_link)?;
        let level_name = Level::parse(&row.level).map(Level::name_zh).unwrap_or_default();
        Ok(PendingHotline { row, record, level_name })
    }

    /// The applicant's answer: confirmed, the evaluation counts from now; declined, it never does.
    pub async fn answer_hotline(&self, token: &str, confirmed: bool) -> AppResult<Option<EvaluationView>> {
        let p = self.pending_hotline(token).await?;
        if let Some(outcome) = &p.row.outcome {
            let what = if outcome == "confirmed" { "已确认" } else { "已选择“不是我的评价”" };
            return Err(AppError::conflict("already_answered", format!("您已处理过这条评价({what}),无需再次操作。")));
        }
        let now = self.now();
        if now >= p.row.expires_at {
            return Err(AppError::Gone {
                code: "confirmation_expired",
                message: format!("确认期限({CONFIRM_DAYS} 天)已过,这条热线评价不再生效。"),
                details: Default::default(),
            });
        }
        let actor = Actor::channel("hotline_confirm");
        let target = format!("service_record:{}", p.record.id);
        if !confirmed {
            let audit = self.audit(
                &actor,
                "evaluation.hotline_declined",
                target,
                json!({ "ticket_number": p.row.ticket_number }),
            );
            return match self.store.decide_hotline_pending(p.row.id, None, now, &audit).await? {
                Some(_) => Ok(None),
                None => Err(AppError::conflict("already_answered", "您已处理过这条评价,无需再次操作。")),
            };
        }
        if let Some(refusal) = self.evaluation_refusal(&p.record) {
            return Err(refusal);
        }
        let new = NewEvaluation {
            service_record_id: p.record.id,
            round: 1,
            level: Level::parse(&p.row.level).map(Level::as_str).unwrap_or(Level::DEFAULT.as_str()),
            channel: Channel::Hotline.as_str(),
            indicator_ids: p.row.indicator_ids.clone(),
            staff_indicator_ids: p.row.staff_indicator_ids.clone(),
            comment: p.row.comment.clone(),
            is_default: false,
            created_at: now,
            recorded_by: Some(p.row.recorded_by.clone()),
            evidence: None,
        };
        let audit = self.audit(
            &actor,
            "evaluation.create",
            target,
            json!({ "round": 1, "level": new.level, "channel": new.channel, "recorded_by": p.row.recorded_by,
                    "ticket_number": p.row.ticket_number, "confirmed_by_applicant": true }),
        );
        match self.store.decide_hotline_pending(p.row.id, Some(&new), now, &audit).await? {
            Some(Some(eid)) => Ok(Some(EvaluationView::from(&hcp_store::EvaluationRow::from_new(eid, &new)))),
            Some(None) => Err(already_evaluated()),
            None => Err(AppError::conflict("already_answered", "您已处理过这条评价,无需再次操作。")),
        }
    }
}

/// 409 `hotline_pending`: the record's hotline evaluation already waits for the applicant's confirmation.
fn hotline_pending() -> AppError {
    AppError::conflict(
        "hotline_pending",
        "该办件已有一条热线评价在等待申请人短信确认,确认或过期前不能再记录,也不会再发短信。",
    )
}
