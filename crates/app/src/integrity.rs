//! Integrity scans (issue 16 §3): the domain's rules run over a window of business dates, daily by the jobs
//! and on demand (`hcp integrity scan`), their flags saved for the county office's queue. A rescan of the same
//! window finds the same flags; a flag under investigation is left as the office has it.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use hcp_domain::calendar::{business_date, start_of_day};
use hcp_domain::integrity::{Conclusion, Pattern, scan};
use hcp_store::FlagRow;
use serde::Serialize;
use serde_json::json;

use crate::audit::Actor;
use crate::policy::{Action, Principal};
use crate::{App, AppError, AppResult};

/// How much history before a scan's window the rules may read (an evaluator's earlier ratings of a staff
/// member, a device's earlier days).
pub const LOOKBACK_DAYS: i64 = 30;

/// What a scan found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ScanReport {
    pub evaluations: usize,
    pub flags: usize,
    pub new: usize,
    pub updated: usize,
}

/// A flag as the office's queue and the API show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FlagView {
    pub id: i64,
    pub pattern: Pattern,
    pub pattern_name: &'static str,
    pub evaluation_ids: Vec<i64>,
    pub staff_numbers: Vec<String>,
    pub window_codes: Vec<String>,
    pub device_codes: Vec<String>,
    pub score: f64,
    pub explanation: String,
    pub state: String,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    pub found_at: DateTime<Utc>,
    pub version: i64,
    pub investigation_note: Option<String>,
    pub investigated_by: Option<String>,
    pub conclusion: Option<String>,
    pub findings: Option<String>,
    pub concluded_by: Option<String>,
    pub concluded_at: Option<DateTime<Utc>>,
    /// A conclusion that would set evaluations aside, waiting for a second person's confirmation (state
    /// `proposed`).
    pub proposal: Option<ProposalView>,
    /// Who confirmed the conclusion a concluded flag took effect by.
    pub confirmed_by: Option<String>,
}

/// A proposed conclusion (issue 29 §8): one person proposes, another confirms.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProposalView {
    pub conclusion: String,
    pub findings: String,
    /// The evaluations it would set aside.
    pub evaluation_ids: Vec<i64>,
    pub proposed_by: String,
    pub proposed_at: DateTime<Utc>,
}

impl From<FlagRow> for FlagView {
    fn from(f: FlagRow) -> Self {
        FlagView {
            id: f.id,
            pattern: f.pattern,
            pattern_name: f.pattern.name_zh(),
            evaluation_ids: f.evaluation_ids,
            staff_numbers: f.staff_numbers,
            window_codes: f.window_codes,
            device_codes: f.device_codes,
            score: f.score,
            explanation: f.explanation,
            state: f.state,
            first_at: f.first_at,
            last_at: f.last_at,
            found_at: f.found_at,
            version: f.version,
            investigation_note: f.investigation_note,
            investigated_by: f.investigated_by,
            conclusion: f.conclusion,
            findings: f.findings,
            concluded_by: f.concluded_by,
            concluded_at: f.concluded_at,
            proposal: f.proposal.map(|p| ProposalView {
                conclusion: p.conclusion,
                findings: p.findings,
                evaluation_ids: p.evaluation_ids,
                proposed_by: p.by,
                proposed_at: p.at,
            }),
            confirmed_by: f.confirmed_by,
        }
    }
}

/// A flagged window against the county over the flag's months: context, not an accusation.
#[derive(Debug, Clone, Serialize)]
pub struct OutlierContext {
    pub window_code: String,
    pub window_name: String,
    pub period: String,
    /// Active evaluations of the window, and its share of "非常满意".
    pub evaluations: u64,
    pub top_share: f64,
    /// The county's share, and the funnel limits for a window of this size.
    pub county_share: f64,
    pub lower: f64,
    pub upper: f64,
    pub outside: bool,
}

fn flag_not_found(id: i64) -> AppError {
    AppError::not_found("flag_not_found", format!("线索 {id} 不存在。"))
}

/// Whether the person may `action` on a flag about this organization (a flag of another county does not
/// exist for them).
fn in_scope(who: &Principal, action: Action, org_path: &str) -> bool {
    who.may(action, Some(crate::policy::Target { org_path, staff_id: None }))
}

/// A conclusion as the office sends it.
#[derive(Debug, Clone, Default)]
pub struct ConclusionInput {
    pub conclusion: String,
    pub findings: String,
    /// The evaluations concerned (of the flag's); all of them when absent.
    pub evaluation_ids: Option<Vec<i64>>,
}

/// Parses a scan or list window's pattern (empty: every pattern).
pub fn parse_pattern(raw: Option<&str>) -> AppResult<Option<Pattern>> {
    match raw.map(str::trim).filter(|p| !p.is_empty()) {
        None => Ok(None),
        Some(p) => Pattern::parse(p).map(Some).ok_or_else(|| {
            AppError::invalid(
                "pattern",
                "invalid_pattern",
                format!("线索类型“{p}”无法识别,可选:{}。", Pattern::codes()),
            )
        }),
    }
}

impl App {
    /// Scans the evaluations of the business dates `from`–`to` (inclusive) and saves the flags.
    pub async fn integrity_scan(&self, actor: &Actor, from: NaiveDate, to: NaiveDate) -> AppResult<ScanReport> {
        if to < from {
            return Err(AppError::invalid("to", "bad_range", "结束日期不能早于开始日期。"));
        }
        if (to - from).num_days() > 366 {
            return Err(AppError::invalid("to", "range_too_long", "一次最多检查一年,请分段检查。"));
        }
        let (start, end) = (start_of_day(from), start_of_day(to + Duration::days(1)));
        let observations = self.store.integrity_observations(start - Duration::days(LOOKBACK_DAYS), end).await?;
        let staff = self.store.staff_identities().await?;
        let thresholds = self.result_rules.integrity;
        let calendar = self.calendar();
        // The rules are CPU work over up to a year of a county: off the async threads.
        let (observations, flags) = tokio::task::spawn_blocking(move || {
            let flags = scan(&observations, &staff, &calendar, start, &thresholds);
            (observations, flags)
        })
        .await
        .map_err(|e| AppError::Internal(hcp_store::StoreError::Corrupt(format!("integrity scan: {e}"))))?;
        let at: HashMap<i64, DateTime<Utc>> = observations.iter().map(|o| (o.evaluation_id, o.at)).collect();
        let in_window = observations.iter().filter(|o| o.at >= start).count();
        let dated: Vec<_> = flags
            .into_iter()
            .map(|f| {
                let times: Vec<DateTime<Utc>> = f.evaluation_ids.iter().filter_map(|id| at.get(id).copied()).collect();
                let first = times.iter().min().copied().unwrap_or(start);
                let last = times.iter().max().copied().unwrap_or(start);
                (f, first, last)
            })
            .collect();
        let audit = self.audit(
            actor,
            "integrity.scan",
            "",
            json!({ "from": from, "to": to, "evaluations": in_window, "flags": dated.len() }),
        );
        let saved = self.store.save_flags(&dated, &audit).await?;
        tracing::info!(%from, %to, flags = dated.len(), new = saved.new, "integrity scan");
        Ok(ScanReport { evaluations: in_window, flags: dated.len(), new: saved.new, updated: saved.updated })
    }

    /// The daily scan: yesterday's evaluations, once (whichever instance claims the day first).
    pub async fn daily_integrity_scan(&self, now: DateTime<Utc>) -> AppResult<Option<ScanReport>> {
        let yesterday = business_date(now) - Duration::days(1);
        if !self.store.claim_scan_day(&yesterday.to_string(), now).await? {
            return Ok(None);
        }
        self.integrity_scan(&Actor::system(), yesterday, yesterday).await.map(Some)
    }

    /// One flag, for the county office and auditors.
    pub async fn integrity_flag(&self, who: &Principal, id: i64) -> AppResult<FlagView> {
        if !who.may(Action::ViewIntegrity, None) {
            return Err(AppError::Forbidden);
        }
        let flag = self.store.flag_by_id(id).await?.filter(|f| in_scope(who, Action::ViewIntegrity, &f.org_path));
        Ok(flag.ok_or_else(|| flag_not_found(id))?.into())
    }

    /// The flag's windows against the county over the months of its evaluations (funnel-plot limits).
    pub async fn outlier_context(&self, who: &Principal, flag: &FlagView) -> AppResult<Vec<OutlierContext>> {
        if !who.may(Action::ViewIntegrity, None) {
            return Err(AppError::Forbidden);
        }
        let (from, to) = (business_date(flag.first_at), business_date(flag.last_at));
        let period = hcp_domain::period::Period::range(
            hcp_domain::period::Period::month_of(from).from,
            hcp_domain::period::Period::month_of(to).to,
        );
        let active = |t: &hcp_domain::metrics::Tally| t.evaluations() - t.defaults;
        let top = |t: &hcp_domain::metrics::Tally| t.count(hcp_domain::Level::VerySatisfied);
        // One cut per county, however many of its windows the flag names.
        let mut cuts: HashMap<String, crate::stats::Cut> = HashMap::new();
        let mut out = Vec::new();
        for code in &flag.window_codes {
            let Some(window) = self.store.window_by_code(code).await? else { continue };
            // The county: the top of the window's organization path (`/1/5/` → `/1/`).
            let root_path = window.org_path.split('/').nth(1).map(|first| format!("/{first}/")).unwrap_or_default();
            if !cuts.contains_key(&root_path) {
                let Some(county_code) = self.store.org_code_by_path(&root_path).await? else { continue };
                let Some(county) = self.store.org_by_code(&county_code).await? else { continue };
                let cut = self.cut_of(&county, period, Some(crate::stats::By::Window)).await?;
                cuts.insert(root_path.clone(), cut);
            }
            let cut = &cuts[&root_path];
            let (county_n, county_top) = (active(&cut.total_tally), top(&cut.total_tally));
            if county_n == 0 {
                continue;
            }
            let p0 = county_top as f64 / county_n as f64;
            let Some(line) = cut.lines.iter().find(|l| l.key == window.id.to_string()) else { continue };
            let Some(point) = hcp_domain::integrity::funnel(p0, top(&line.tally), active(&line.tally)) else {
                continue;
            };
            out.push(OutlierContext {
                window_code: window.code.clone(),
                window_name: format!("{} {}", window.hall_name, window.name),
                period: period.label_zh(),
                evaluations: point.n,
                top_share: point.share,
                county_share: p0,
                lower: point.lower,
                upper: point.upper,
                outside: point.outside,
            });
        }
        Ok(out)
    }

    /// The county office opens the investigation of an open flag.
    pub async fn open_investigation(&self, who: &Principal, id: i64, note: &str) -> AppResult<FlagView> {
        if !who.may(Action::InvestigateIntegrity, None) {
            return Err(AppError::Forbidden);
        }
        let flag = self.store.flag_by_id(id).await?;
        let flag = flag
            .filter(|f| in_scope(who, Action::InvestigateIntegrity, &f.org_path))
            .ok_or_else(|| flag_not_found(id))?;
        let note =
            hcp_domain::identity::parse_text("note", note, 500, "调查说明").map_err(|v| AppError::Invalid(vec![v]))?;
        if flag.state != "open" {
            return Err(AppError::conflict("flag_not_open", "该线索已在调查或已办结,不能重复立案。"));
        }
        let audit = self.audit(
            &Actor::user(&who.username),
            "integrity.investigate",
            format!("integrity_flag:{id}"),
            json!({ "pattern": flag.pattern.as_str() }),
        );
        if !self.store.open_investigation(id, &note, &who.username, &audit).await? {
            return Err(AppError::conflict("flag_not_open", "该线索已在调查或已办结,不能重复立案。"));
        }
        Ok(self.store.flag_by_id(id).await?.ok_or_else(|| flag_not_found(id))?.into())
    }

    /// The county office concludes a flag under investigation (409 `investigation_required` before one is
    /// opened). A conclusion that sets nothing aside takes effect at once; a fake or malicious one, which sets its
    /// evaluations (or those named) aside, is only proposed: it takes effect when a second person confirms it
    /// (`confirm_conclusion`, issue 29 §8). Set aside means kept, out of every figure from then on, reported
    /// upward as invalid; published reports stay frozen.
    pub async fn conclude_flag(&self, who: &Principal, id: i64, input: &ConclusionInput) -> AppResult<FlagView> {
        if !who.may(Action::InvestigateIntegrity, None) {
            return Err(AppError::Forbidden);
        }
        let flag = self.store.flag_by_id(id).await?;
        let flag = flag
            .filter(|f| in_scope(who, Action::InvestigateIntegrity, &f.org_path))
            .ok_or_else(|| flag_not_found(id))?;
        let mut v = Vec::new();
        let conclusion = Conclusion::parse(input.conclusion.trim());
        if conclusion.is_none() {
            v.push(hcp_domain::Violation::new(
                "conclusion",
                "invalid_conclusion",
                format!("结论“{}”无法识别,可选:{}。", input.conclusion.trim(), Conclusion::codes()),
            ));
        }
        let findings = hcp_domain::identity::parse_text("findings", &input.findings, 2000, "调查结论说明")
            .map_err(|e| v.push(e))
            .ok();
        let ids = match &input.evaluation_ids {
            None => flag.evaluation_ids.clone(),
            Some(ids) => {
                if ids.is_empty() || ids.iter().any(|id| !flag.evaluation_ids.contains(id)) {
                    v.push(hcp_domain::Violation::new(
                        "evaluation_ids",
                        "not_of_flag",
                        "所列评价须是该线索涉及的评价(留空则为全部)。",
                    ));
                }
                ids.clone()
            }
        };
        let (Some(conclusion), Some(findings)) = (conclusion, findings) else { return Err(AppError::Invalid(v)) };
        if !v.is_empty() {
            return Err(AppError::Invalid(v));
        }
        flag_open_to_conclusion(&flag.state)?;
        let now = self.now();
        let actor = Actor::user(&who.username);
        if conclusion.invalidates() {
            let audit = self.audit(
                &actor,
                "integrity.propose",
                format!("integrity_flag:{id}"),
                json!({ "conclusion": conclusion.as_str(), "evaluation_ids": ids }),
            );
            let proposal = hcp_store::FlagProposal {
                conclusion: conclusion.as_str().to_string(),
                findings,
                evaluation_ids: ids,
                by: who.username.clone(),
                at: now,
            };
            if !self.store.propose_conclusion(id, &proposal, flag.version, &audit).await? {
                return Err(moved_meanwhile());
            }
        } else {
            let audit = self.audit(
                &actor,
                "integrity.conclude",
                format!("integrity_flag:{id}"),
                json!({ "conclusion": conclusion.as_str(), "evaluation_ids": [] }),
            );
            let c = hcp_store::FlagConclusion {
                conclusion: conclusion.as_str(),
                findings: &findings,
                by: &who.username,
                at: now,
                invalidate: &[],
                from_state: "investigating",
                version: flag.version,
                confirmed_by: None,
            };
            if self.store.conclude_flag(id, &c, &audit).await?.is_none() {
                return Err(moved_meanwhile());
            }
        }
        Ok(self.store.flag_by_id(id).await?.ok_or_else(|| flag_not_found(id))?.into())
    }

    /// A second person — another county-office account or an auditor, with no stake in the proposal — confirms
    /// a proposed conclusion (it takes effect: the evaluations are set aside) or rejects it (the flag returns to
    /// investigation). The proposer, or whoever could act as the proposer's account, is 403
    /// `conflict_of_interest`.
    pub async fn confirm_conclusion(
        &self,
        who: &Principal,
        id: i64,
        confirm: bool,
        note: Option<&str>,
    ) -> AppResult<FlagView> {
        if !who.may(Action::ConfirmIntegrity, None) {
            return Err(AppError::Forbidden);
        }
        let flag = self.store.flag_by_id(id).await?;
        let flag =
            flag.filter(|f| in_scope(who, Action::ConfirmIntegrity, &f.org_path)).ok_or_else(|| flag_not_found(id))?;
        let Some(proposal) = flag.proposal.clone().filter(|_| flag.state == "proposed") else {
            return Err(AppError::conflict("no_proposal", "该线索没有待确认的结论。"));
        };
        if self.has_stake_in(who, &proposal.by).await? {
            return Err(AppError::denied(
                "conflict_of_interest",
                "该结论由您提出(或由您创建、重置过密码的账号提出,或提出人能以您的账号操作),须由另一名县政务服务管理办公室人员或审计员确认。",
            ));
        }
        let note = match note.map(str::trim).filter(|n| !n.is_empty()) {
            None if !confirm => {
                return Err(AppError::invalid("note", "text_required", "退回结论时请写明理由。"));
            }
            None => None,
            Some(n) => Some(hcp_domain::identity::parse_text("note", n, 500, "确认意见")?),
        };
        let actor = Actor::user(&who.username);
        let target = format!("integrity_flag:{id}");
        if !confirm {
            let audit = self.audit(
                &actor,
                "integrity.proposal_rejected",
                target,
                json!({ "conclusion": proposal.conclusion, "proposed_by": proposal.by, "note": note }),
            );
            if !self.store.reject_proposal(id, flag.version, &audit).await? {
                return Err(moved_meanwhile());
            }
        } else {
            let audit = self.audit(
                &actor,
                "integrity.conclude",
                target,
                json!({ "conclusion": proposal.conclusion, "evaluation_ids": proposal.evaluation_ids,
                        "proposed_by": proposal.by, "confirmed_by": who.username, "note": note }),
            );
            let c = hcp_store::FlagConclusion {
                conclusion: &proposal.conclusion,
                findings: &proposal.findings,
                by: &proposal.by,
                at: self.now(),
                invalidate: &proposal.evaluation_ids,
                from_state: "proposed",
                version: flag.version,
                confirmed_by: Some(&who.username),
            };
            if self.store.conclude_flag(id, &c, &audit).await?.is_none() {
                return Err(moved_meanwhile());
            }
        }
        Ok(self.store.flag_by_id(id).await?.ok_or_else(|| flag_not_found(id))?.into())
    }

    /// Whether this person is, or could act as, the account `other` — or `other` could act as theirs.
    async fn has_stake_in(&self, who: &Principal, other: &str) -> AppResult<bool> {
        if other == who.username {
            return Ok(true);
        }
        let me = Actor::user(&who.username).as_str().to_string();
        let them = Actor::user(other).as_str().to_string();
        Ok(self.store.account_controllers(other).await?.contains(&me)
            || self.store.account_controllers(&who.username).await?.contains(&them))
    }

    /// `GET /api/v1/integrity/flags`: the county office's queue and the auditors' view.
    pub async fn integrity_flags(
        &self,
        who: &Principal,
        from: NaiveDate,
        to: NaiveDate,
        pattern: Option<Pattern>,
    ) -> AppResult<Vec<FlagView>> {
        if !who.may(Action::ViewIntegrity, None) {
            return Err(AppError::Forbidden);
        }
        if to < from {
            return Err(AppError::invalid("to", "bad_range", "结束日期不能早于开始日期。"));
        }
        let flags = self.store.list_flags(start_of_day(from), start_of_day(to + Duration::days(1)), pattern).await?;
        Ok(flags
            .into_iter()
            .filter(|f| in_scope(who, Action::ViewIntegrity, &f.org_path))
            .map(FlagView::from)
            .collect())
    }
}

/// Whether a flag in this state may be concluded now.
fn flag_open_to_conclusion(state: &str) -> AppResult<()> {
    match state {
        "investigating" => Ok(()),
        "open" => Err(AppError::conflict("investigation_required", "请先立案核查,再提出核查结论。")),
        "proposed" => Err(AppError::conflict(
            "conclusion_proposed",
            "该线索已有待确认的结论,请等待另一名人员确认或退回后再提出。",
        )),
        _ => Err(AppError::conflict("flag_concluded", "该线索已办结。")),
    }
}

fn moved_meanwhile() -> AppError {
    AppError::conflict("flag_changed", "该线索刚被他人处理过,请刷新页面后查看最新状态。")
}
