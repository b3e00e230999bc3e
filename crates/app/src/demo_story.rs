//! The demo's last chapter (issue 28 §7): what a newcomer should find in every part of the console — records
//! delivered through a platform, bad reviews whose comments the integrity checks flag (one concluded by the
//! county office, one still open), a 暗访 visit with a finding, a referred clue — made through the same use
//! cases as in real life; the summary prints the counts read back from the database (`Store::feature_counts`).

use chrono::Duration;
use hcp_domain::calendar::business_date;

use crate::audit::Actor;
use crate::demo::DEMO_SOURCE_SYSTEM;
use crate::{App, AppResult};

impl App {
    /// Adds the story on top of the demo's year (needs the demo accounts: the county office acts in it).
    pub(crate) async fn seed_demo_story(&self) -> AppResult<()> {
        let Some(row) = self.store.user_by_username("office").await? else { return Ok(()) };
        let office = self.principal_of(row).await?;
        let client =
            crate::clients::ApiClient { key_id: 0, source_system: DEMO_SOURCE_SYSTEM.into(), scope_path: None };
        let now = self.now();
        let stamp = |d: Duration| (now - d).to_rfc3339();
        // Two services delivered online through the county's platforms, rated with abusive comments.
        let stories = [
            ("QS-STORY-0001", "P-SCZWFW", "你们这个破窗口办事拖拉,你等着,饶不了你们!"),
            ("QS-STORY-0002", "P-TFTB", "什么垃圾服务,滚蛋吧,材料退回三次"),
        ];
        let mut evaluations = Vec::new();
        for (number, platform, comment) in stories {
            let input = crate::records::RecordInput {
                record_number: number.into(),
                item_code: "QS010001".into(),
                org_code: "510899D01".into(),
                window_code: None,
                staff_number: None,
                applicant_kind: "person".into(),
                applicant_name: "王小明".into(),
                applicant_id_number: "11010519491231002X".into(),
                applicant_mobile: "13912345678".into(),
                received_at: stamp(Duration::hours(5)),
                completed_at: Some(stamp(Duration::hours(4))),
                platform_code: Some(platform.into()),
            };
            let registered = match self.register_record(&client, &input).await? {
                crate::records::Registration::Created(r) | crate::records::Registration::Repeated(r) => r,
            };
            let submitted = self
                .submit_evaluation(&crate::evaluations::EvaluationInput {
                    token: registered.evaluation_token,
                    level: "very_dissatisfied".into(),
                    indicator_ids: Vec::new(),
                    staff_indicator_ids: Vec::new(),
                    comment: Some(comment.into()),
                    channel: "app".into(),
                })
                .await?;
            evaluations.push(submitted.evaluation.id);
        }

        // The integrity checks over the last month find them; the county office concludes one, the auditor confirms.
        let today = business_date(now);
        self.integrity_scan(&Actor::system(), today - Duration::days(30), today).await?;
        let flags = self.integrity_flags(&office, today - Duration::days(31), today, None).await?;
        if let Some(first) = flags.iter().find(|f| f.state == "open") {
            self.open_investigation(&office, first.id, "演示:调取评价记录和办件材料核查。").await?;
            self.conclude_flag(
                &office,
                first.id,
                &crate::integrity::ConclusionInput {
                    conclusion: "malicious_bad".into(),
                    findings: "演示:经核查,办件材料齐全、办理及时,评价意见含威胁言语,认定为恶意差评。".into(),
                    evaluation_ids: None,
                },
            )
            .await?;
            // Four eyes (issue 29 §8): the auditor confirms the office's proposal before anything is set aside.
            if let Some(row) = self.store.user_by_username("auditor").await? {
                let auditor = self.principal_of(row).await?;
                self.confirm_conclusion(&auditor, first.id, true, Some("演示:核查材料完整,同意认定。")).await?;
            }
        }

        // A referral of the other clue, and a 暗访 visit at the county hall's window 1 with a finding.
        if let Some(&evaluation_id) = evaluations.last() {
            self.refer(
                &office,
                &crate::referrals::ReferralInput {
                    subject_kind: "evaluation".into(),
                    subject_id: evaluation_id,
                    body: "县纪委监委".into(),
                    reference: "青府办移〔2026〕1号(演示)".into(),
                    referred_on: today.to_string(),
                },
            )
            .await?;
        }
        let visit = self
            .plan_inspection(
                &office,
                &crate::inspections::InspectionPlan {
                    window_code: crate::demo::DEMO_DEVICE_WINDOW.into(),
                    from: today.to_string(),
                    to: today.to_string(),
                    inspector: "office".into(),
                },
            )
            .await?;
        self.record_inspection(
            &office,
            visit.id,
            &crate::inspections::InspectionInput {
                level: "basically_satisfied".into(),
                findings: "演示:窗口一次性告知不到位,未提供书面清单;已当场提醒。".into(),
                staff_number: Some("QS0001".into()),
                ..Default::default()
            },
            &[],
        )
        .await?;
        Ok(())
    }
}
