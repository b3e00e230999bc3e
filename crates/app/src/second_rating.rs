//! The evaluator's second rating after rectification (二次评价, issue 5 §3): the reply to a bad review sends
//! a link; the evaluator rates the result once, stored as round 2 of the record and linked to the first
//! evaluation, which is never changed.

use hcp_domain::{Channel, Level};
use hcp_store::{CaseRow, NewEvaluation, RecordRow};
use serde_json::json;

use crate::audit::Actor;
use crate::cases::step_text;
use crate::views::EvaluationView;
use crate::{App, AppError, AppResult, secrets};

/// What the second-rating page shows.
pub struct SecondRating {
    pub case: CaseRow,
    pub record: RecordRow,
    /// The unit's latest reply (rectification or on-the-spot fix), as written.
    pub reply: String,
    pub existing: Option<EvaluationView>,
}

fn unknown_link() -> AppError {
    AppError::not_found("unknown_token", "评价链接无效:链接可能不完整,或承办单位已再次答复并发送了新链接。")
}

impl App {
    pub async fn second_rating(&self, token: &str) -> AppResult<SecondRating> {
        if !secrets::looks_like_token(token) {
            return Err(unknown_link());
        }
        let case_id = self.store.case_of_second_invite(&secrets::hash(token)).await?.ok_or_else(unknown_link)?;
        let case = self.store.case_by_id(case_id).await?.ok_or_else(unknown_link)?;
        let record_id = case.service_record_id.ok_or_else(unknown_link)?;
        let record = self.store.record_by_id(record_id).await?.ok_or_else(unknown_link)?;
        let reply = self
            .store
            .case_steps(case_id)
            .await?
            .into_iter()
            .rev()
            .find(|s| matches!(s.kind.as_str(), "rectified" | "solve_on_spot"))
            .map(|s| s.text)
            .unwrap_or_default();
        let existing = self.store.second_evaluation(record.id).await?.as_ref().map(EvaluationView::from);
        Ok(SecondRating { case, record, reply, existing })
    }

    /// Records the second rating. One per record: a second submission is refused, saying when it was given.
    pub async fn submit_second_rating(&self, token: &str, level: &str, comment: &str) -> AppResult<EvaluationView> {
        let ctx = self.second_rating(token).await?;
        if let Some(e) = ctx.existing {
            return Err(AppError::conflict(
                "already_evaluated",
                format!("您已于 {} 对整改结果作出评价,感谢您的参与。", hcp_domain::calendar::display_cst(e.created_at)),
            ));
        }
        let level = Level::parse(level)
            .ok_or_else(|| AppError::invalid("level", "level_required", "请选择您对整改结果的评价。"))?;
        let comment = step_text(comment, "意见", false)?;
        if comment.chars().count() > 500 {
            return Err(AppError::invalid("comment", "too_long", "意见不能超过 500 字。"));
        }
        let new = NewEvaluation {
            service_record_id: ctx.record.id,
            round: 2,
            level: level.as_str(),
            channel: Channel::Sms.as_str(),
            indicator_ids: String::new(),
            staff_indicator_ids: String::new(),
            comment: (!comment.is_empty()).then_some(comment),
            is_default: false,
            created_at: self.now(),
            recorded_by: None,
            evidence: None,
        };
        let audit = self.audit(
            &Actor::system(),
            "evaluation.create",
            format!("service_record:{}", ctx.record.id),
            json!({ "round": 2, "level": new.level, "channel": new.channel, "case_id": ctx.case.id }),
        );
        let id = self
            .store
            .insert_second_evaluation(&new, ctx.case.evaluation_id.ok_or_else(unknown_link)?, &audit)
            .await?
            .ok_or_else(|| AppError::conflict("already_evaluated", "您已对整改结果作出评价,感谢您的参与。"))?;
        Ok(EvaluationView::from(&hcp_store::EvaluationRow::from_new(id, &new)))
    }
}
