//! Submitting the one evaluation of a service record (R5.2, R7) and what the evaluation page shows.

use hcp_domain::calendar::{closing_date, display_cst, display_date};
use hcp_domain::evaluation::{RawSubmission, Submission, WindowRefusal, check_window, join_ids};
use hcp_domain::{Channel, Level};
use hcp_store::{EvaluationRow, NewEvaluation, RecordRow, TokenSubmission, WriteOutcome};
use serde_json::json;

use crate::views::EvaluationView;
use crate::{App, AppError, AppResult, secrets};

/// An evaluation as submitted, before validation.
#[derive(Debug, Clone, Default)]
pub struct EvaluationInput {
    pub token: String,
    pub level: String,
    pub indicator_ids: Vec<String>,
    pub staff_indicator_ids: Vec<String>,
    pub comment: Option<String>,
    pub channel: String,
}

impl EvaluationInput {
    /// The fields the domain validates.
    pub fn raw(&self) -> RawSubmission<'_> {
        RawSubmission {
            level: &self.level,
            indicator_ids: &self.indicator_ids,
            staff_indicator_ids: &self.staff_indicator_ids,
            comment: self.comment.as_deref(),
            channel: &self.channel,
        }
    }
}

#[derive(Debug)]
pub struct Submitted {
    pub evaluation: EvaluationView,
    /// True when this was the same submission sent again: nothing new was written.
    pub replayed: bool,
}

fn unknown_token() -> AppError {
    AppError::not_found("unknown_token", "评价链接无效:链接可能不完整或已被替换,请重新扫码或向窗口工作人员索取。")
}

impl App {
    /// The record behind an evaluation link, for the evaluation page.
    pub async fn record_for_token(&self, token: &str) -> AppResult<RecordRow> {
        if !secrets::looks_like_token(token) {
            return Err(unknown_token());
        }
        self.store.record_by_token_hash(&secrets::hash(token)).await?.ok_or_else(unknown_token)
    }

    /// Why this record cannot be evaluated now, if it cannot.
    pub fn evaluation_refusal(&self, rec: &RecordRow) -> Option<AppError> {
        if let Some(e) = &rec.evaluation {
            return Some(already_evaluated(e));
        }
        check_window(rec.completed_at, rec.default_due_at, self.now()).err().map(refusal)
    }

    /// Submits an evaluation from a client address, counting unknown tokens against the address's allowance;
    /// the address and the browser's family are kept with it for the integrity checks (issue 16 §1).
    pub async fn submit_evaluation_from(
        &self,
        ip: std::net::IpAddr,
        user_agent: Option<&str>,
        input: &EvaluationInput,
    ) -> AppResult<Submitted> {
        if self.guesses_blocked(ip).await? {
            return Err(AppError::TooMany {
                code: "too_many_unknown_tokens",
                message: "来自您网络的无效评价链接过多,请 10 分钟后再试。".into(),
            });
        }
        let evidence = self.keys.evidence(Some(ip), None, user_agent);
        let result = self.submit_evaluation_with(input, Some(evidence)).await;
        if matches!(&result, Err(AppError::NotFound { code: "unknown_token", .. })) {
            self.guess_failed(ip).await?;
        }
        result
    }

    /// Records the evaluation of the record behind `input.token`. The same submission sent again answers
    /// with the first result; a different one is refused (409) saying when and how the record was rated.
    pub async fn submit_evaluation(&self, input: &EvaluationInput) -> AppResult<Submitted> {
        self.submit_evaluation_with(input, None).await
    }

    async fn submit_evaluation_with(
        &self,
        input: &EvaluationInput,
        evidence: Option<hcp_store::EvaluationEvidence>,
    ) -> AppResult<Submitted> {
        let sub = Submission::parse(input.raw()).map_err(AppError::Invalid)?;
        if !secrets::looks_like_token(&input.token) {
            return Err(unknown_token());
        }
        // The record is found by the writer from the token.
        let new = NewEvaluation { evidence, ..self.new_evaluation(0, &sub, None) };
        let submission = TokenSubmission { token_hash: secrets::hash(&input.token), evaluation: new.clone() };
        match self.writer.submit(submission).await? {
            WriteOutcome::Inserted { id, service_record_id } => {
                tracing::debug!(evaluation_id = id, record_id = service_record_id, "evaluation recorded");
                let evaluation = EvaluationRow::from_new(id, &NewEvaluation { service_record_id, ..new });
                Ok(Submitted { evaluation: EvaluationView::from(&evaluation), replayed: false })
            }
            WriteOutcome::UnknownToken => Err(unknown_token()),
            WriteOutcome::Refused(r) => Err(refusal(r)),
            WriteOutcome::Existing(existing) => replay_or_refuse(&existing, &sub),
        }
    }
}

impl App {
    /// The row of a validated first-round evaluation of a record, made now.
    pub(crate) fn new_evaluation(
        &self,
        record_id: i64,
        sub: &Submission,
        recorded_by: Option<String>,
    ) -> NewEvaluation {
        NewEvaluation {
            service_record_id: record_id,
            round: 1,
            level: sub.level.as_str(),
            channel: sub.channel.as_str(),
            indicator_ids: join_ids(&sub.indicator_ids),
            staff_indicator_ids: join_ids(&sub.staff_indicator_ids),
            comment: sub.comment.clone(),
            is_default: false,
            created_at: self.now(),
            recorded_by,
            evidence: None,
        }
    }
}

fn refusal(r: WindowRefusal) -> AppError {
    match r {
        WindowRefusal::Closed { closed_at } => AppError::Gone {
            code: "evaluation_window_closed",
            message: format!(
                "该办件的评价期已于 {} 24:00 结束(办结后 7 个自然日内可评价),未评价的按“基本满意”计。",
                display_date(closing_date(closed_at))
            ),
            details: json!({ "closed_at": closed_at }).as_object().cloned().unwrap_or_default(),
        },
    }
}

fn same_submission(e: &EvaluationRow, s: &Submission) -> bool {
    !e.is_default
        && e.level == s.level.as_str()
        && e.channel == s.channel.as_str()
        && e.indicator_ids == join_ids(&s.indicator_ids)
        && e.staff_indicator_ids == join_ids(&s.staff_indicator_ids)
        && e.comment == s.comment
}

fn replay_or_refuse(existing: &EvaluationRow, sub: &Submission) -> AppResult<Submitted> {
    if same_submission(existing, sub) {
        return Ok(Submitted { evaluation: EvaluationView::from(existing), replayed: true });
    }
    Err(already_evaluated(existing))
}

fn already_evaluated(e: &EvaluationRow) -> AppError {
    let details = json!({ "evaluated_at": e.created_at, "channel": e.channel, "is_default": e.is_default })
        .as_object()
        .cloned()
        .unwrap_or_default();
    if e.is_default {
        let closed = display_date(closing_date(e.created_at));
        return AppError::Gone {
            code: "evaluation_window_closed",
            message: format!(
                "该办件的评价期已于 {closed} 24:00 结束(办结后 7 个自然日内可评价),已按“{}”默认评价。",
                Level::DEFAULT.name_zh()
            ),
            details,
        };
    }
    let channel = Channel::parse(&e.channel).map(Channel::name_zh).unwrap_or("其他渠道");
    AppError::Conflict {
        code: "already_evaluated",
        message: format!(
            "该办件已于 {} 通过“{channel}”评价过。每次服务只能评价一次,感谢您的参与。",
            display_cst(e.created_at)
        ),
        details,
    }
}
