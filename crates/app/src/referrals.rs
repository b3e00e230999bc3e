//! Clue referral (issue 16 §6, plan §十二 "对评价人反映的工作人员涉嫌违纪、违法等信息或线索,转有关部门依纪依法处理"):
//! the center or the county office records that an evaluation, case or flag went to the body that handles it
//! (which body, its reference, when), and later the outcome. Referrals are seen by the county office, auditors
//! and whoever referred it — never by the staff member concerned, other units or the public. Comments that
//! mention bribes or obstruction are suggested, never referred by the program.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use hcp_domain::calendar::{parse_date, start_of_day};
use hcp_domain::identity::parse_text;
use hcp_domain::integrity::{ReferralSubject, misconduct_terms};
use hcp_store::{NewReferral, ReferralRow};
use serde::Serialize;
use serde_json::json;

use crate::audit::Actor;
use crate::policy::{Action, Principal, Target};
use crate::{App, AppError, AppResult};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReferralView {
    pub id: i64,
    pub subject_kind: String,
    pub subject_id: i64,
    /// The body it went to (县纪委监委, 公安局 …).
    pub body: String,
    pub reference: String,
    pub referred_on: String,
    pub referred_by: String,
    pub created_at: DateTime<Utc>,
    pub outcome: Option<String>,
    pub outcome_by: Option<String>,
    pub outcome_at: Option<DateTime<Utc>>,
}

impl From<ReferralRow> for ReferralView {
    fn from(r: ReferralRow) -> Self {
        ReferralView {
            id: r.id,
            subject_kind: r.subject_kind,
            subject_id: r.subject_id,
            body: r.receiving_body,
            reference: r.reference,
            referred_on: r.referred_on,
            referred_by: r.referred_by,
            created_at: r.created_at,
            outcome: r.outcome,
            outcome_by: r.outcome_by,
            outcome_at: r.outcome_at,
        }
    }
}

/// A referral as sent.
#[derive(Debug, Clone, Default)]
pub struct ReferralInput {
    pub subject_kind: String,
    pub subject_id: i64,
    pub body: String,
    pub reference: String,
    pub referred_on: String,
}

/// An evaluation whose comment suggests misconduct, for someone to decide whether to refer it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Suggestion {
    pub evaluation_id: i64,
    pub record_number: String,
    pub terms: Vec<&'static str>,
    pub evaluated_at: DateTime<Utc>,
}

fn referral_not_found(id: i64) -> AppError {
    AppError::not_found("referral_not_found", format!("移送记录 {id} 不存在。"))
}

impl App {
    /// `POST /api/v1/referrals`: the center or the county office records a referral.
    pub async fn refer(&self, who: &Principal, input: &ReferralInput) -> AppResult<ReferralView> {
        if !who.may(Action::ReferClue, None) {
            return Err(AppError::Forbidden);
        }
        let mut v = Vec::new();
        let kind = ReferralSubject::parse(input.subject_kind.trim());
        if kind.is_none() {
            v.push(hcp_domain::Violation::new(
                "subject_kind",
                "invalid_subject",
                format!("移送对象类型应为:{}。", ReferralSubject::codes()),
            ));
        }
        let body = parse_text("body", &input.body, 100, "接收单位").map_err(|e| v.push(e)).ok();
        let reference = parse_text("reference", &input.reference, 100, "移送文号").map_err(|e| v.push(e)).ok();
        let on = parse_date("referred_on", &input.referred_on).map_err(|e| v.push(e)).ok();
        if let Some(on) = on
            && on > hcp_domain::calendar::business_date(self.now())
        {
            v.push(hcp_domain::Violation::new("referred_on", "date_in_future", "移送日期不能晚于今天。"));
        }
        // A subject outside one's subtree is, for this person, no subject at all.
        let path = match kind {
            Some(k) => self
                .store
                .referral_subject_path(k.as_str(), input.subject_id)
                .await?
                .filter(|p| who.may(Action::ReferClue, Some(Target { org_path: p, staff_id: None }))),
            None => None,
        };
        if let (Some(k), None) = (kind, &path) {
            v.push(hcp_domain::Violation::new(
                "subject_id",
                "subject_not_found",
                format!("{} {} 不存在。", k.name_zh(), input.subject_id),
            ));
        }
        let (Some(kind), Some(body), Some(reference), Some(on), Some(path), true) =
            (kind, body, reference, on, path, v.is_empty())
        else {
            return Err(AppError::Invalid(v));
        };
        let now = self.now();
        let referred_on = on.to_string();
        let new = NewReferral {
            subject_kind: kind.as_str(),
            subject_id: input.subject_id,
            receiving_body: &body,
            reference: &reference,
            referred_on: &referred_on,
            referred_by: &who.username,
            org_path: &path,
            at: now,
        };
        let audit = self.audit(
            &Actor::user(&who.username),
            "referral.create",
            "",
            json!({ "subject_kind": kind.as_str(), "subject_id": input.subject_id, "body": body }),
        );
        let id = self.store.insert_referral(&new, &audit).await?;
        Ok(self.store.referral_by_id(id).await?.ok_or_else(|| referral_not_found(id))?.into())
    }

    /// Whether this person sees every referral (the county office, auditors) or only their own.
    fn sees_all_referrals(who: &Principal) -> bool {
        who.may(Action::ViewReferrals, None)
    }

    /// `GET /api/v1/referrals`: all of them for the county office and auditors; one's own for whoever referred.
    pub async fn referrals(&self, who: &Principal) -> AppResult<Vec<ReferralView>> {
        let all = Self::sees_all_referrals(who);
        if !all && !who.may(Action::ReferClue, None) {
            return Err(AppError::Forbidden);
        }
        let rows = self.store.list_referrals(if all { None } else { Some(&who.username) }).await?;
        Ok(rows
            .into_iter()
            .filter(|r| {
                r.referred_by == who.username
                    || who.may(Action::ViewReferrals, Some(Target { org_path: &r.org_path, staff_id: None }))
            })
            .map(ReferralView::from)
            .collect())
    }

    /// `POST /api/v1/referrals/{id}/outcome`: what the receiving body decided, recorded once by whoever
    /// referred it or the county office.
    pub async fn record_outcome(&self, who: &Principal, id: i64, outcome: &str) -> AppResult<ReferralView> {
        let r = self.store.referral_by_id(id).await?.ok_or_else(|| referral_not_found(id))?;
        let own = r.referred_by == who.username && who.may(Action::ReferClue, None);
        let office = who.may(Action::InvestigateIntegrity, Some(Target { org_path: &r.org_path, staff_id: None }));
        if !own && !office {
            // Nobody else learns that the referral exists.
            return Err(referral_not_found(id));
        }
        let outcome = parse_text("outcome", outcome, 1000, "处理结果").map_err(|v| AppError::Invalid(vec![v]))?;
        let audit = self.audit(&Actor::user(&who.username), "referral.outcome", format!("referral:{id}"), json!({}));
        if !self.store.record_referral_outcome(id, &outcome, &who.username, &audit).await? {
            return Err(AppError::conflict("outcome_recorded", "该移送已登记处理结果。"));
        }
        Ok(self.store.referral_by_id(id).await?.ok_or_else(|| referral_not_found(id))?.into())
    }

    /// `GET /api/v1/referrals/suggestions?from=&to=`: evaluations whose comments mention bribes, gifts or
    /// deliberate obstruction, in the person's scope — for a person to decide; nothing is referred by itself.
    pub async fn referral_suggestions(&self, who: &Principal, from: &str, to: &str) -> AppResult<Vec<Suggestion>> {
        if !who.may(Action::ReferClue, None) {
            return Err(AppError::Forbidden);
        }
        let mut v = Vec::new();
        let from: Option<NaiveDate> = parse_date("from", from).map_err(|e| v.push(e)).ok();
        let to: Option<NaiveDate> = parse_date("to", to).map_err(|e| v.push(e)).ok();
        let (Some(from), Some(to)) = (from, to) else { return Err(AppError::Invalid(v)) };
        let rows = self.store.commented_evaluations(start_of_day(from), start_of_day(to + Duration::days(1))).await?;
        Ok(rows
            .into_iter()
            .filter(|r| who.may(Action::ReferClue, Some(Target { org_path: &r.org_path, staff_id: None })))
            .filter_map(|r| {
                let terms = misconduct_terms(&r.comment);
                (!terms.is_empty()).then_some(Suggestion {
                    evaluation_id: r.evaluation_id,
                    record_number: r.record_number,
                    terms,
                    evaluated_at: r.created_at,
                })
            })
            .collect())
    }
}
