//! Issue 5: a bad review worked to the end through the API — assignment, the unit's steps, follow-up,
//! another round, closing; the clock's reminders, overdue marks and escalation; appeals in two stages with the
//! filing register; the outbox with a gateway that fails and one that works; the second rating.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{TestApp, record_body};

pub const PASSWORD: &str = "correct horse 1";

/// One account per role of the case flow. The unit admin and the staff member belong to 510899D01, the
/// department the test records are of.
const ACCOUNTS: [(&str, &str, &str, Option<&str>); 8] = [
    ("staff", "staff", "510899D01", Some("QS0001")),
    ("staff2", "staff", "510899D01", Some("QS0002")),
    ("unit", "unit_admin", "510899D01", None),
    ("otherunit", "unit_admin", "510899101", None),
    ("hotline", "hotline_agent", "510899", None),
    ("center", "center_admin", "510899", None),
    ("office", "county_office", "510899", None),
    ("auditor", "auditor", "510899", None),
];

pub struct Api<'a> {
    app: &'a TestApp,
    tokens: std::collections::HashMap<&'static str, String>,
}

impl<'a> Api<'a> {
    pub async fn new(app: &'a TestApp) -> Api<'a> {
        let mut tokens = std::collections::HashMap::new();
        for (user, role, org, staff) in ACCOUNTS {
            app.app.create_user(user, user, PASSWORD, role, org, staff).await.unwrap();
            let (status, v) =
                app.post_json("/api/v1/sessions", &json!({ "username": user, "password": PASSWORD }), None).await;
            assert_eq!(status, 201, "{v}");
            tokens.insert(user, v["token"].as_str().unwrap().to_string());
        }
        Api { app, tokens }
    }

    /// The session token of one of the accounts.
    pub fn token(&self, who: &str) -> String {
        self.tokens[who].clone()
    }

    pub async fn get(&self, who: &str, path: &str) -> (u16, Value) {
        self.app.get_json(path, Some(&self.tokens[who])).await
    }

    pub async fn post(&self, who: &str, path: &str, body: Value) -> (u16, Value) {
        self.app.post_json(path, &body, Some(&self.tokens[who])).await
    }

    pub async fn step(&self, who: &str, case: i64, body: Value) -> (u16, Value) {
        self.post(who, &format!("/api/v1/cases/{case}/steps"), body).await
    }
}

/// A record served by QS0001 rated "very dissatisfied"; returns (record id, case id).
pub async fn bad_review(app: &TestApp, number: &str) -> (i64, i64) {
    let (record, token) = app.register(&record_body(number)).await;
    let (status, v) = app.evaluate(&token, "very_dissatisfied", &["S511"], Some("来回跑了三次")).await;
    assert_eq!(status, 201, "{v}");
    let e = v["id"].as_i64().unwrap();
    let case = app.app.store.case_of_evaluation(e).await.unwrap().expect("a case");
    (record, case.id)
}

both_backends!(
    the_pages_say_what_is_true,
    a_case_from_assignment_to_close,
    the_clock_reminds_marks_overdue_and_escalates,
    appeals_in_two_stages_with_the_filing_register,
    a_stalled_appeal_reaches_the_center,
    a_failing_gateway_loses_nothing,
    attachments_are_checked_and_downloaded,
    a_county_closure_moves_open_deadlines
);

/// Issue 30 §6: what the pages say matches what the system does — the promise after a bad review states what
/// the clock guarantees, the privacy note stands on the public's pages only and says what the plan says, the
/// channel is named in Chinese, a contact made on time is never shown overdue, and one 督办 is one notice.
async fn the_pages_say_what_is_true(app: TestApp) {
    let api = Api::new(&app).await;
    let (record, token) = app.register(&record_body("WORDS-1")).await;
    let page = app.http.get(app.url(&format!("/e/{token}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("未经您本人同意,您的信息不会提供给第三方;评价依规报送上级“好差评”系统"), "{page}");
    let form =
        [("level", "very_dissatisfied"), ("indicator_ids", "S511"), ("comment", "来回跑了三次"), ("channel", "web")];
    let res = app.http.post(app.url(&format!("/e/{token}"))).form(&form).send().await.unwrap();
    let done = res.text().await.unwrap();
    assert!(done.contains("将在 1 个工作日内把您的意见转交承办单位,承办单位在收到后 1 个工作日内与您联系"), "{done}");
    let login = app.http.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    assert!(!login.contains("实名评价"), "no note to evaluators on staff pages: {login}");
    let center = crate::console::login(&app, "center").await;
    let (_, home) = center.get("/console").await;
    assert!(!home.contains("实名评价"), "{home}");
    let (_, rec) = center.get(&format!("/console/records/{record}")).await;
    assert!(rec.contains("非常不满意(网页,") && !rec.contains("(web,"), "{rec}");

    // Contacted on time; then the clock runs three weeks on: the handling limit passes, the contact stays
    // "on time", and the 督办 to the unit, its supervisor and the county office is one row.
    let e = app.app.store.first_evaluation(record).await.unwrap().unwrap();
    let case = app.app.store.case_of_evaluation(e.id).await.unwrap().unwrap().id;
    assert_eq!(api.step("center", case, json!({ "step": "assign", "unit_code": "510899D01" })).await.0, 200);
    assert_eq!(api.step("unit", case, json!({ "step": "contact", "text": "已电话联系" })).await.0, 200);
    app.app.run_jobs(app.app.now() + chrono::Duration::days(21)).await.unwrap();
    // The jobs, run three weeks ahead, ended every idle session: log in again.
    let center = crate::console::login(&app, "center").await;
    let (status, page) = center.get(&format!("/console/cases/{case}")).await;
    assert_eq!(status, 200, "{page}");
    let (Some(from), Some(to)) = (page.find("<dt>联系评价人"), page.find("<dt>整改反馈")) else {
        panic!("{page}")
    };
    let contact = &page[from..to];
    assert!(contact.contains("完成(按期)") && !contact.contains("已逾期"), "{contact}");
    let notices = &page[page.find("<h2>通知</h2>").unwrap()..];
    assert_eq!(notices.matches("督办:差评工单").count(), 1, "one row for one 督办: {notices}");
    assert!(notices.contains("个)"), "{notices}");
}

async fn a_case_from_assignment_to_close(app: TestApp) {
    let api = Api::new(&app).await;
    let (record, case) = bad_review(&app, "CASE-1").await;
    let path = format!("/api/v1/cases/{case}");

    // The center sees it waiting; the unit does not yet (not assigned); nobody outside sees it at all.
    let (status, v) = api.get("center", "/api/v1/cases?inbox=mine").await;
    assert_eq!(status, 200);
    assert!(v["cases"].as_array().unwrap().iter().any(|c| c["id"] == case), "{v}");
    let (_, v) = api.get("unit", "/api/v1/cases?inbox=mine").await;
    assert!(v["cases"].as_array().unwrap().is_empty(), "{v}");
    assert_eq!(api.get("otherunit", &path).await.0, 404);
    let (status, d) = api.get("center", &path).await;
    assert_eq!(status, 200);
    assert_eq!(d["case"]["state"], "unassigned");
    assert_eq!(d["proposed_unit_code"], "510899D01");
    assert!(d["actions"].as_array().unwrap().contains(&json!("assign")), "{d}");

    // Only the center assigns; an unknown unit and an unknown step are clear 422s.
    assert_eq!(api.step("unit", case, json!({ "step": "assign" })).await.0, 403);
    let (status, v) = api.step("center", case, json!({ "step": "assign", "unit_code": "nope" })).await;
    assert_eq!((status, v["code"].as_str()), (422, Some("unknown_unit")), "{v}");
    let (status, v) = api.step("center", case, json!({ "step": "fly" })).await;
    assert_eq!((status, v["code"].as_str()), (422, Some("unknown_step")));
    let (status, v) = api.step("center", case, json!({ "step": "assign", "oops": 1 })).await;
    assert_eq!((status, v["code"].as_str()), (422, Some("unknown_field")));
    let (status, v) = api.step("center", case, json!({ "step": "assign" })).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["state"], "assigned");
    assert!(v["contact_due_at"].is_string() && v["rectify_due_at"].is_string() && v["reply_due_at"].is_string());
    let version = v["version"].as_i64().unwrap();

    // The unit's inbox has it; steps out of order and empty texts are refused with reasons.
    let (_, v) = api.get("unit", "/api/v1/cases?inbox=mine").await;
    assert_eq!(v["cases"][0]["id"], case);
    let (status, v) = api.step("unit", case, json!({ "step": "rectified", "text": "已整改" })).await;
    assert_eq!((status, v["code"].as_str()), (409, Some("step_not_allowed")), "{v}");
    let (status, v) = api.step("unit", case, json!({ "step": "contact", "text": "  " })).await;
    assert_eq!((status, v["code"].as_str()), (422, Some("text_required")), "{v}");
    let (status, v) = api.step("unit", case, json!({ "step": "follow_up", "solved": true, "text": "x" })).await;
    assert_eq!(status, 403, "{v}");
    let (status, v) =
        api.step("unit", case, json!({ "step": "contact", "text": "已电话联系评价人", "version": version })).await;
    assert_eq!((status, v["state"].as_str()), (200, Some("contacted")), "{v}");
    // A step on a stale page is refused.
    let (status, v) = api
        .step("unit", case, json!({ "step": "finding", "real_problem": true, "text": "x", "version": version }))
        .await;
    assert_eq!((status, v["code"].as_str()), (409, Some("case_changed")));
    let (status, v) = api.step("unit", case, json!({ "step": "finding", "text": "x" })).await;
    assert_eq!((status, v["code"].as_str()), (422, Some("finding_required")));
    let (status, _) =
        api.step("unit", case, json!({ "step": "finding", "real_problem": true, "text": "材料清单漏列" })).await;
    assert_eq!(status, 200);
    let (status, v) = api.step("unit", case, json!({ "step": "rectified", "text": "已补充清单并培训窗口人员" })).await;
    assert_eq!((status, v["state"].as_str()), (200, Some("handled")), "{v}");

    // Follow-up: not solved sends it back for a second round with new deadlines.
    let (status, v) = api.step("center", case, json!({ "step": "close" })).await;
    assert_eq!((status, v["code"].as_str()), (409, Some("follow_up_first")));
    let (status, v) =
        api.step("hotline", case, json!({ "step": "follow_up", "solved": false, "text": "评价人说仍未解决" })).await;
    assert_eq!((status, v["state"].as_str(), v["round"].as_i64()), (200, Some("assigned"), Some(2)), "{v}");
    api.step("unit", case, json!({ "step": "solve_on_spot", "text": "当场为评价人补办" })).await;
    let (status, _) =
        api.step("hotline", case, json!({ "step": "follow_up", "solved": true, "text": "评价人表示满意" })).await;
    assert_eq!(status, 200);
    let (status, v) = api.step("center", case, json!({ "step": "close" })).await;
    assert_eq!((status, v["state"].as_str()), (200, Some("closed")), "{v}");
    let (status, v) = api.step("unit", case, json!({ "step": "contact", "text": "x" })).await;
    assert_eq!((status, v["code"].as_str()), (409, Some("case_closed")));

    // The history: every step with who, when, and whether it met its limit.
    let (_, d) = api.get("staff", &path).await;
    let kinds: Vec<&str> = d["steps"].as_array().unwrap().iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["assign", "contact", "finding", "rectified", "follow_up", "solve_on_spot", "follow_up", "close"]
    );
    assert_eq!(d["steps"][1]["on_time"], true);
    assert_eq!(d["steps"][1]["actor"], "unit");
    assert!(d["actions"].as_array().unwrap().is_empty());

    // Notifications: the staff member (bad review), the unit (assigned, returned), the evaluator (contact,
    // replies). Delivered by the log gateway.
    let templates: Vec<String> =
        d["messages"].as_array().unwrap().iter().map(|m| m["template"].as_str().unwrap().to_string()).collect();
    for t in ["bad_review_staff", "case_assigned", "evaluator_contacted", "evaluator_replied", "case_returned"] {
        assert!(templates.iter().any(|x| x == t), "{t} in {templates:?}");
    }
    let report = app.app.deliver_messages(app.app.now()).await.unwrap();
    assert_eq!(report.delivered as usize, templates.len());
    assert_eq!(app.app.store.pending_messages(100).await.unwrap().len(), 0);

    // The evaluator's second rating, through the link in the reply; the first evaluation is unchanged.
    // Staff never see the link (it is the evaluator's credential); the message sent carries it.
    assert!(!d.to_string().contains("/e2/"));
    let sent = app.app.store.case_messages(case).await.unwrap();
    let reply = sent.iter().rev().find(|m| m.template == "evaluator_replied").unwrap();
    assert!(!reply.body.contains("/e2/") && reply.secret.is_some(), "the link is sealed in the outbox: {}", reply.body);
    let body = &app.app.message_text(reply).unwrap();
    let link = &body[body.find("/e2/").expect("a second-rating link")..];
    let page = app.http.get(app.url(link)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("当场为评价人补办"));
    let res =
        app.http.post(app.url(link)).form(&[("level", "satisfied"), ("comment", "这次办得快")]).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = app.http.post(app.url(link)).form(&[("level", "very_satisfied")]).send().await.unwrap();
    assert_eq!(res.status(), 409);
    let second = app.app.store.second_evaluation(record).await.unwrap().expect("round 2");
    assert_eq!((second.level.as_str(), second.channel.as_str()), ("satisfied", "sms"));
    let first = app.app.store.first_evaluation(record).await.unwrap().unwrap();
    assert_eq!(first.level, "very_dissatisfied");
    assert_eq!(app.http.get(app.url("/e2/not-a-token")).send().await.unwrap().status(), 404);

    // Statistics count the case's steps against the recomputation from the rows (issue 7 §1).
    assert_eq!(app.app.store.rollup_mismatches().await.unwrap(), Vec::<String>::new());
    let today = hcp_domain::calendar::business_date(app.app.now());
    let (status, st) = api.get("center", &format!("/api/v1/stats?org=510899&period={today}")).await;
    assert_eq!(status, 200, "{st}");
    let t = &st["total"];
    assert_eq!((t["bad_reviews"].as_i64(), t["cases_closed"].as_i64()), (Some(1), Some(1)), "{t}");
    assert_eq!(t["rectification_rate"], 1.0);
    assert_eq!(t["follow_up_satisfaction"], 0.5, "one round not solved, the second solved");
}

async fn the_clock_reminds_marks_overdue_and_escalates(app: TestApp) {
    let api = Api::new(&app).await;
    let (_, case) = bad_review(&app, "CLOCK-1").await;
    api.step("center", case, json!({ "step": "assign" })).await;
    let c = app.app.store.case_by_id(case).await.unwrap().unwrap();
    let contact_due = c.fields.contact_due_at.unwrap();

    // Before the due morning nothing happens; on it, a reminder; after the limit, overdue and escalation.
    let r = app.app.run_case_clock(contact_due - chrono::Duration::hours(20)).await.unwrap();
    assert_eq!((r.reminders, r.missed), (0, 0));
    let r = app.app.run_case_clock(contact_due - chrono::Duration::minutes(1)).await.unwrap();
    assert_eq!((r.reminders, r.missed), (1, 0));
    let r = app.app.run_case_clock(contact_due + chrono::Duration::minutes(1)).await.unwrap();
    assert_eq!((r.reminders, r.missed), (0, 1));
    let r = app.app.run_case_clock(contact_due + chrono::Duration::minutes(2)).await.unwrap();
    assert_eq!((r.reminders, r.missed), (0, 0), "each limit once");
    let c = app.app.store.case_by_id(case).await.unwrap().unwrap();
    assert!(c.fields.contact_missed && c.fields.overdue_at.is_some());

    // Overdue shows in the unit's and the county office's overdue lists, and the notices went to the unit,
    // its supervisor and the county.
    let (_, v) = api.get("unit", "/api/v1/cases?inbox=overdue").await;
    assert_eq!(v["cases"][0]["id"], case);
    assert_eq!(v["cases"][0]["overdue"], true);
    let (_, v) = api.get("office", "/api/v1/cases?inbox=overdue").await;
    assert_eq!(v["cases"][0]["id"], case);
    let msgs = app.app.store.case_messages(case).await.unwrap();
    let overdue: Vec<&str> =
        msgs.iter().filter(|m| m.template == "case_overdue").map(|m| m.recipient.as_str()).collect();
    assert!(overdue.contains(&"510899D01") && overdue.contains(&"510899"), "{overdue:?}");
    let steps = app.app.store.case_steps(case).await.unwrap();
    assert!(steps.iter().any(|s| s.kind == "overdue" && s.due_at == Some(contact_due)));

    // Late contact still counts, marked late; a whole working month later the handling limit is missed too.
    let (_, v) = api.step("unit", case, json!({ "step": "contact", "text": "已联系" })).await;
    assert_eq!(v["state"], "contacted");
    let r = app.app.run_case_clock(app.app.now() + chrono::Duration::days(40)).await.unwrap();
    assert_eq!(r.missed, 1);

    // The center may escalate to the county office, which sends it back with instructions or closes it.
    let (status, _) = api.step("center", case, json!({ "step": "escalate", "text": "逾期未整改" })).await;
    assert_eq!(status, 200);
    let (_, v) = api.get("office", "/api/v1/cases?inbox=mine").await;
    assert_eq!(v["cases"][0]["id"], case);
    let (status, v) = api.step("office", case, json!({ "step": "assign", "text": "" })).await;
    assert_eq!((status, v["code"].as_str()), (422, Some("text_required")), "{v}");
    let (status, v) = api.step("office", case, json!({ "step": "assign", "text": "限三个工作日内整改到位" })).await;
    assert_eq!((status, v["state"].as_str(), v["round"].as_i64()), (200, Some("assigned"), Some(2)), "{v}");

    // The automatic assignment rule hands a case the center left alone to the record's unit.
    let (_, case2) = bad_review(&app, "CLOCK-2").await;
    let rules = hcp_app::CaseRules { auto_assign_after: Some(chrono::Duration::hours(2)), ..Default::default() };
    let auto = app.app.clone().with_case_rules(rules);
    let r = auto.run_case_clock(app.app.now()).await.unwrap();
    assert_eq!(r.auto_assigned, 0, "not yet");
    let r = auto.run_case_clock(app.app.now() + chrono::Duration::hours(3)).await.unwrap();
    assert_eq!(r.auto_assigned, 1);
    let c2 = app.app.store.case_by_id(case2).await.unwrap().unwrap();
    assert_eq!((c2.fields.state.as_str(), c2.unit_name.as_deref()), ("assigned", Some(c.org_name.as_str())));
    assert_eq!(app.app.store.rollup_mismatches().await.unwrap(), Vec::<String>::new(), "late steps counted");
}

/// Issue 30 §8 (plan §八): an appeal whose unit never verifies does not stay with the unit: at its limit the
/// clock moves it to the center, which decides; the filing register says the unit let it lapse (no opinion,
/// late). The center's own stage past its limit is reported to the county.
async fn a_stalled_appeal_reaches_the_center(app: TestApp) {
    let api = Api::new(&app).await;
    let (_, case) = bad_review(&app, "LAPSE-1").await;
    let (status, v) =
        api.post("staff", &format!("/api/v1/cases/{case}/appeal"), json!({ "reasons": "评价对象错误" })).await;
    assert_eq!(status, 201, "{v}");
    let appeal = v["id"].as_i64().unwrap();
    let a = app.app.store.appeal_by_id(appeal).await.unwrap().unwrap();
    let late = a.stage_due_at.unwrap() + chrono::Duration::minutes(1);
    assert_eq!(app.app.run_case_clock(late - chrono::Duration::minutes(2)).await.unwrap().appeals_overdue, 0);
    assert_eq!(app.app.run_case_clock(late).await.unwrap().appeals_overdue, 1);
    assert_eq!(app.app.run_case_clock(late).await.unwrap().appeals_overdue, 0, "once");
    let (_, d) = api.get("center", &format!("/api/v1/appeals/{appeal}")).await;
    assert_eq!(d["appeal"]["state"], "with_center", "{d}");
    let entry = &d["decisions"][0];
    assert_eq!((entry["stage"].as_str(), entry["lapsed"].as_bool()), (Some("unit"), Some(true)), "{d}");
    assert!(entry["upheld"].is_null(), "no opinion of the unit: {entry}");
    assert_eq!(
        (entry["result"].as_str(), entry["on_time"].as_bool()),
        (Some("单位逾期未核实,转中心复核"), Some(false))
    );
    let notices = app.app.store.case_messages(case).await.unwrap();
    assert!(notices.iter().any(|m| m.template == "appeal_lapsed" && m.recipient == "510899"), "{notices:?}");
    assert!(notices.iter().any(|m| m.template == "appeal_decided" && m.recipient_kind == "staff"));
    // The unit's chance is over; the center decides.
    let decision = format!("/api/v1/appeals/{appeal}/decision");
    assert_eq!(api.post("unit", &decision, json!({ "uphold": true, "reasons": "补充核实" })).await.0, 403);
    // The center's own stage past its limit: reported to the county once.
    let a = app.app.store.appeal_by_id(appeal).await.unwrap().unwrap();
    let center_late = a.stage_due_at.unwrap() + chrono::Duration::minutes(1);
    assert_eq!(app.app.run_case_clock(center_late).await.unwrap().appeals_overdue, 1);
    let notices = app.app.store.case_messages(case).await.unwrap();
    assert!(notices.iter().any(|m| m.template == "appeal_overdue" && m.recipient == "510899"), "{notices:?}");
    let (status, v) = api.post("center", &decision, json!({ "uphold": false, "reasons": "评价对象无误" })).await;
    assert_eq!((status, v["state"].as_str()), (200, Some("rejected_by_center")), "{v}");
    let day = hcp_domain::calendar::business_date(late).to_string();
    let (_, reg) = api.get("office", &format!("/api/v1/filing-register?from={day}&to={day}")).await;
    let lapsed: Vec<&Value> = reg["decisions"].as_array().unwrap().iter().filter(|e| e["lapsed"] == true).collect();
    assert_eq!(lapsed.len(), 1, "{reg}");
}

async fn appeals_in_two_stages_with_the_filing_register(app: TestApp) {
    let api = Api::new(&app).await;
    let (record, case) = bad_review(&app, "APPEAL-1").await;
    let appeal_path = format!("/api/v1/cases/{case}/appeal");

    // Only the staff member who served appeals, once, with reasons.
    let (status, v) = api.post("staff2", &appeal_path, json!({ "reasons": "不是我办的" })).await;
    assert!(status == 404 || status == 409, "{status} {v}");
    let (status, v) = api.post("unit", &appeal_path, json!({ "reasons": "x" })).await;
    assert!(status == 403 || status == 409, "{status} {v}");
    let (status, v) = api.post("staff", &appeal_path, json!({ "reasons": " " })).await;
    assert_eq!((status, v["code"].as_str()), (422, Some("text_required")));
    let (status, v) =
        api.post("staff", &appeal_path, json!({ "reasons": "评价人所述材料问题系上级规定,已当场解释" })).await;
    assert_eq!((status, v["state"].as_str()), (201, Some("with_unit")), "{v}");
    let appeal = v["id"].as_i64().unwrap();
    let (status, v) = api.post("staff", &appeal_path, json!({ "reasons": "再申诉一次" })).await;
    assert_eq!((status, v["code"].as_str()), (409, Some("already_appealed")));

    // Evidence: the appellant adds files while the unit has not decided; everyone deciding can read them.
    let evidence = |who: &'static str, bytes: &'static [u8]| {
        let req = app
            .http
            .post(app.url(&format!("/api/v1/appeals/{appeal}/evidence?name=scan.pdf")))
            .bearer_auth(&api.tokens[who])
            .body(bytes.to_vec());
        async move {
            let res = req.send().await.unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, v) = evidence("staff", b"%PDF-1.4 scan").await;
    assert_eq!(status, 201, "{v}");
    let eid = v["id"].as_i64().unwrap();
    assert_eq!(evidence("unit", b"%PDF-1.4 x").await.0, 403);
    assert_eq!(evidence("staff", b"GIF89a").await.1["code"], "file_type");
    let (_, d) = api.get("center", &format!("/api/v1/appeals/{appeal}")).await;
    assert_eq!(d["evidence"][0]["file_name"], "scan.pdf");
    let res = app
        .http
        .get(app.url(&format!("/api/v1/appeals/{appeal}/evidence/{eid}")))
        .bearer_auth(&api.tokens["unit"])
        .send()
        .await
        .unwrap();
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"%PDF-1.4 scan");

    // Stage 1: the unit; the center cannot skip it; stage 2: the center upholds.
    let decision = format!("/api/v1/appeals/{appeal}/decision");
    let (status, _) = api.post("center", &decision, json!({ "uphold": true, "reasons": "x" })).await;
    assert_eq!(status, 403);
    let (_, v) = api.get("unit", "/api/v1/appeals?open=true").await;
    assert_eq!(v["appeals"][0]["id"], appeal);
    let (status, v) = api.post("unit", &decision, json!({ "uphold": true, "reasons": "" })).await;
    assert_eq!((status, v["code"].as_str()), (422, Some("text_required")));
    let (status, v) = api.post("unit", &decision, json!({ "uphold": true, "reasons": "核实属实,报中心复核" })).await;
    assert_eq!((status, v["state"].as_str()), (200, Some("with_center")), "{v}");
    assert_eq!(evidence("staff", b"%PDF-1.4 late").await.1["code"], "appeal_decided");
    let (status, _) = api.post("unit", &decision, json!({ "uphold": true, "reasons": "再来" })).await;
    assert_eq!(status, 403);
    let (status, v) = api.post("center", &decision, json!({ "uphold": true, "reasons": "复核成立" })).await;
    assert_eq!((status, v["state"].as_str()), (200, Some("upheld")), "{v}");
    let (status, v) = api.post("center", &decision, json!({ "uphold": false, "reasons": "改主意" })).await;
    assert_eq!((status, v["code"].as_str()), (409, Some("appeal_decided")));

    // Upheld: the evaluation is kept but invalidated, and the case closed as appealed.
    let first = app.app.store.first_evaluation(record).await.unwrap().unwrap();
    assert_eq!(first.level, "very_dissatisfied");
    assert!(app.app.store.is_invalidated(first.id).await.unwrap());
    let c = app.app.store.case_by_id(case).await.unwrap().unwrap();
    assert_eq!(c.fields.state, "closed_as_appealed");

    // A second appeal the unit does not support: it still reaches the center, which decides (plan §八).
    let (record2, case2) = bad_review(&app, "APPEAL-2").await;
    let (_, v) = api.post("staff", &format!("/api/v1/cases/{case2}/appeal"), json!({ "reasons": "有异议" })).await;
    let appeal2 = v["id"].as_i64().unwrap();
    let decision2 = format!("/api/v1/appeals/{appeal2}/decision");
    let (status, v) = api.post("unit", &decision2, json!({ "reasons": "理由不成立" })).await;
    assert_eq!((status, v["code"].as_str()), (422, Some("decision_required")), "{v}");
    let (_, v) = api.post("unit", &decision2, json!({ "supports": false, "reasons": "理由不成立" })).await;
    assert_eq!(v["state"], "with_center", "{v}");
    let (status, v) = api.post("center", &decision2, json!({ "uphold": false, "reasons": "复核不成立" })).await;
    assert_eq!((status, v["state"].as_str()), (200, Some("rejected_by_center")), "{v}");
    let e2 = app.app.store.first_evaluation(record2).await.unwrap().unwrap();
    assert!(!app.app.store.is_invalidated(e2.id).await.unwrap());

    // A third, withdrawn by the appellant after reading the unit's finding; a withdrawal after that is refused.
    let (record3, case3) = bad_review(&app, "APPEAL-3").await;
    let (_, v) = api.post("staff", &format!("/api/v1/cases/{case3}/appeal"), json!({ "reasons": "有异议" })).await;
    let appeal3 = v["id"].as_i64().unwrap();
    let (_, v) = api
        .post("unit", &format!("/api/v1/appeals/{appeal3}/decision"), json!({ "supports": false, "reasons": "不支持" }))
        .await;
    assert_eq!(v["state"], "with_center");
    let withdraw = format!("/api/v1/appeals/{appeal3}/withdraw");
    let (status, v) = api.post("unit", &withdraw, json!({})).await;
    assert_eq!((status, v["code"].as_str()), (403, Some("not_your_appeal")), "{v}");
    let (status, v) = api.post("staff", &withdraw, json!({})).await;
    assert_eq!((status, v["state"].as_str()), (200, Some("withdrawn")), "{v}");
    let (status, v) = api.post("staff", &withdraw, json!({})).await;
    assert_eq!((status, v["code"].as_str()), (409, Some("appeal_decided")), "{v}");
    let (status, _) = api
        .post("center", &format!("/api/v1/appeals/{appeal3}/decision"), json!({ "uphold": true, "reasons": "x" }))
        .await;
    assert_eq!(status, 409, "nothing left to decide");
    let e3 = app.app.store.first_evaluation(record3).await.unwrap().unwrap();
    assert!(!app.app.store.is_invalidated(e3.id).await.unwrap());
    let (status, v) = api.post("staff", &format!("/api/v1/cases/{case3}/appeal"), json!({ "reasons": "再申诉" })).await;
    assert_eq!((status, v["code"].as_str()), (409, Some("already_appealed")), "{v}");

    // The filing register: every decision, for the management body only, as JSON and CSV.
    let today = hcp_domain::calendar::business_date(app.app.now()).to_string();
    let reg = format!("/api/v1/filing-register?from={today}&to={today}");
    assert_eq!(api.get("staff", &reg).await.0, 403);
    assert_eq!(api.get("unit", &reg).await.0, 403);
    let (status, v) = api.get("office", &reg).await;
    assert_eq!(status, 200);
    assert_eq!(v["decisions"].as_array().unwrap().len(), 5, "{v}");
    let (status, v) = api.get("office", &format!("/api/v1/filing-register?from={today}&to=2000-01-01")).await;
    assert_eq!((status, v["code"].as_str()), (422, Some("bad_range")));
    let (status, v) = api.get("office", "/api/v1/filing-register?from=yesterday&to=2026-01-01").await;
    assert_eq!((status, v["code"].as_str()), (422, Some("invalid_date")));
    let csv =
        app.http.get(app.url(&format!("{reg}&format=csv"))).bearer_auth(&api.tokens["center"]).send().await.unwrap();
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.unwrap();
    assert!(text.starts_with("\u{feff}申诉编号"));
    assert!(text.contains("APPEAL-1") && text.contains("申诉成立,评价作废") && text.contains("不支持申诉,报中心复核"));
}

/// A gateway that answers 503 until told to accept, recording what it got.
pub async fn fake_gateway() -> (String, Arc<Mutex<Vec<Value>>>, Arc<std::sync::atomic::AtomicBool>) {
    use axum::routing::post;
    let got = Arc::new(Mutex::new(Vec::new()));
    let up = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (g, u) = (got.clone(), up.clone());
    let router = axum::Router::new().route(
        "/sms",
        post(move |axum::Json(v): axum::Json<Value>| {
            let (g, u) = (g.clone(), u.clone());
            async move {
                if !u.load(std::sync::atomic::Ordering::SeqCst) {
                    return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                }
                g.lock().unwrap().push(v);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, got, up)
}

async fn a_failing_gateway_loses_nothing(app: TestApp) {
    let api = Api::new(&app).await;
    let (_, case) = bad_review(&app, "SMS-1").await;
    api.step("center", case, json!({ "step": "assign" })).await;
    api.step("unit", case, json!({ "step": "contact", "text": "已电话联系" })).await;
    let (url, got, up) = fake_gateway().await;
    let sender = app.app.clone().with_gateway(hcp_app::outbox::Gateway::webhook(&url));
    let now = app.app.now();

    // Down: every message fails, stays, and is put back for later.
    let r = sender.deliver_messages(now).await.unwrap();
    assert_eq!((r.delivered, r.failed), (0, 3));
    let pending = app.app.store.pending_messages(10).await.unwrap();
    assert_eq!(pending.len(), 3);
    assert!(pending.iter().all(|m| m.attempts == 1 && m.last_error.as_deref() == Some("gateway answered 503")));
    // Not due again at once.
    assert_eq!(sender.deliver_messages(now).await.unwrap().failed, 0);
    // The center admin sees what waits and why; nobody else does.
    let admin = |role| hcp_app::policy::Principal {
        user_id: 0,
        username: "ops".into(),
        display_name: "ops".into(),
        staff_id: None,
        bindings: vec![hcp_app::policy::Binding { role, org_path: "/".into(), org_name: "青山县".into() }],
    };
    let o = sender.outbox_overview(&admin(hcp_app::policy::Role::CenterAdmin)).await.unwrap();
    assert_eq!((o.total - o.delivered, o.waiting.len(), o.gateway), (3, 3, "webhook"));
    assert!(o.waiting.iter().all(|m| m.last_error.as_deref() == Some("gateway answered 503")));
    assert!(sender.outbox_overview(&admin(hcp_app::policy::Role::HotlineAgent)).await.is_err());

    // Up again: delivered at the next try, each once, the evaluator's by their mobile.
    up.store(true, std::sync::atomic::Ordering::SeqCst);
    let r = sender.deliver_messages(now + chrono::Duration::minutes(5)).await.unwrap();
    assert_eq!((r.delivered, r.failed), (3, 0));
    assert_eq!(sender.deliver_messages(now + chrono::Duration::hours(5)).await.unwrap().delivered, 0);
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 3);
    let to_evaluator = got.iter().find(|m| m["to_kind"] == "evaluator").expect("evaluator message");
    assert_eq!(to_evaluator["to"], "13812345678");
    assert!(got.iter().any(|m| m["to_kind"] == "unit" && m["to"] == "510899D01"));
    assert!(got.iter().any(|m| m["to_kind"] == "staff" && m["to"] == "QS0001"));
}

async fn attachments_are_checked_and_downloaded(app: TestApp) {
    let api = Api::new(&app).await;
    let (_, case) = bad_review(&app, "FILE-1").await;
    api.step("center", case, json!({ "step": "assign" })).await;
    let url = |name: &str| app.url(&format!("/api/v1/cases/{case}/attachments?name={name}"));
    let send = |name: &'static str, who: &'static str, bytes: Vec<u8>| {
        let req = app.http.post(url(name)).bearer_auth(&api.tokens[who]).body(bytes);
        async move {
            let res = req.send().await.unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let png = b"\x89PNG\r\n\x1a\n0000".to_vec();
    let (status, v) = send("photo.png", "unit", png.clone()).await;
    assert_eq!(status, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    let (status, v) = send("x.png", "unit", b"<html><script>".to_vec()).await;
    assert_eq!((status, v["code"].as_str()), (422, Some("file_type")));
    // Too large: refused before it is all read, so the server closes that connection (a client of its own).
    // The client may still be writing when the answer comes and the connection closes (a reset); it sees the
    // answer within a few tries.
    let mut answer = None;
    for _ in 0..5 {
        let sent = reqwest::Client::new()
            .post(url("big.pdf"))
            .bearer_auth(&api.tokens["unit"])
            .body([b"%PDF-".as_slice(), &vec![0u8; 6 * 1024 * 1024]].concat())
            .send()
            .await;
        if let Ok(res) = sent {
            answer = Some(res);
            break;
        }
    }
    let res = answer.expect("the refusal is answered");
    assert_eq!(res.status(), 413);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "file_too_large");
    assert_eq!(send("p.png", "otherunit", png.clone()).await.0, 404);
    assert_eq!(send("p.png", "staff", png.clone()).await.0, 403);

    let res = app
        .http
        .get(app.url(&format!("/api/v1/cases/{case}/attachments/{id}")))
        .bearer_auth(&api.tokens["staff"])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert_eq!(res.bytes().await.unwrap().to_vec(), png);
    let (_, d) = api.get("unit", &format!("/api/v1/cases/{case}")).await;
    assert_eq!(d["attachments"][0]["file_name"], "photo.png");
}

async fn a_county_closure_moves_open_deadlines(app: TestApp) {
    let api = Api::new(&app).await;
    let (_, case) = bad_review(&app, "CLOSURE-1").await;
    api.step("center", case, json!({ "step": "assign" })).await;
    let before = app.app.store.case_by_id(case).await.unwrap().unwrap();
    // An appeal at the unit and one at the center: their stage limits move too (issue 15 §3).
    let mut appeals = Vec::new();
    for (n, to_center) in [("CLOSURE-A1", false), ("CLOSURE-A2", true)] {
        let (_, c) = bad_review(&app, n).await;
        let (status, v) = api.post("staff", &format!("/api/v1/cases/{c}/appeal"), json!({ "reasons": "有异议" })).await;
        assert_eq!(status, 201, "{v}");
        let id = v["id"].as_i64().unwrap();
        if to_center {
            let decision = json!({ "uphold": true, "reasons": "属实" });
            assert_eq!(api.post("unit", &format!("/api/v1/appeals/{id}/decision"), decision).await.0, 200);
        }
        appeals.push((id, app.app.store.appeal_by_id(id).await.unwrap().unwrap().stage_due_at.unwrap()));
    }
    // The county closes for the next ten days (a typhoon): every open deadline moves past them.
    let today = hcp_domain::calendar::business_date(app.app.now());
    let days: String =
        (1..=10).map(|i| today + chrono::Duration::days(i)).map(|d| format!("{d},holiday,台风停工\n")).collect();
    app.app.import_calendar(&days, hcp_app::calendar::CalendarSource::Local).await.unwrap();
    let after = app.app.store.case_by_id(case).await.unwrap().unwrap();
    assert!(after.fields.contact_due_at.unwrap() > before.fields.contact_due_at.unwrap());
    assert!(
        after.fields.contact_due_at.unwrap() > hcp_domain::calendar::start_of_day(today + chrono::Duration::days(11))
    );
    assert_eq!(after.fields.round_assigned_at, before.fields.round_assigned_at);
    let steps = app.app.store.case_steps(case).await.unwrap();
    assert_eq!(steps.last().unwrap().kind, "recalculated");
    let eleventh = hcp_domain::calendar::start_of_day(today + chrono::Duration::days(11));
    for (id, was) in appeals {
        let now_due = app.app.store.appeal_by_id(id).await.unwrap().unwrap().stage_due_at.unwrap();
        assert!(now_due > was && now_due > eleventh, "appeal {id}: {was} → {now_due}");
    }
    assert_eq!(app.app.store.audit_entries("appeal.deadline", 0, 10).await.unwrap().len(), 2);
    // The same calendar again moves nothing.
    app.app.import_calendar(&days, hcp_app::calendar::CalendarSource::Local).await.unwrap();
    assert_eq!(app.app.store.audit_entries("appeal.deadline", 0, 10).await.unwrap().len(), 2);
}

/// The public portal lists closed bad reviews — the problem in the annex's words, the unit, the handling and
/// its date — and nothing personal, nothing still open.
async fn the_public_sees_handled_bad_reviews_without_personal_data(app: TestApp) {
    let api = Api::new(&app).await;
    let (_, closed) = bad_review(&app, "PUB-1").await;
    let (_, open) = bad_review(&app, "PUB-2").await;
    for (who, body) in [
        ("center", json!({ "step": "assign" })),
        ("unit", json!({ "step": "contact", "text": "已电话联系张三 13812345678" })),
        ("unit", json!({ "step": "finding", "real_problem": true, "text": "唐兴华未一次性告知" })),
        ("unit", json!({ "step": "rectified", "text": "已培训唐兴华" })),
        ("hotline", json!({ "step": "follow_up", "solved": true, "text": "张三表示满意" })),
        ("center", json!({ "step": "close" })),
    ] {
        let (status, v) = api.step(who, closed, body).await;
        assert_eq!(status, 200, "{v}");
    }
    assert_eq!(api.step("center", open, json!({ "step": "assign" })).await.0, 200);

    let res = reqwest::get(app.url("/public/bad-reviews")).await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let s511 = hcp_domain::indicators::Annex::get().text("S511").unwrap();
    assert!(html.contains(s511), "the problem in the annex's words");
    assert!(html.contains("已整改并反馈评价人") && html.contains("经回访评价人认为已解决"), "{html}");
    assert!(html.contains("食品经营许可"));
    assert_eq!(html.matches("<tr>").count(), 2, "the header and the one closed case: {html}");
    for private in ["张三", "13812345678", "唐兴华", "QS0001", "来回跑了三次", "PUB-1", "11010519491231002X"]
    {
        assert!(!html.contains(private), "{private} is on the public page");
    }
    assert!(reqwest::get(app.url("/public")).await.unwrap().text().await.unwrap().contains("/public/bad-reviews"));
    let res = reqwest::get(app.url("/public/bad-reviews?before=x")).await.unwrap();
    assert_eq!(res.status(), 422);
    let res = reqwest::get(app.url(&format!("/public/bad-reviews?before={closed}"))).await.unwrap();
    assert!(res.text().await.unwrap().contains("暂无已办结的差评"));
}

both_backends!(the_public_sees_handled_bad_reviews_without_personal_data);

/// Issue 14 §2: a dispatcher hands a case only to a unit in their own scope.
async fn cases_go_only_to_units_in_the_dispatchers_scope(app: TestApp) {
    app.app.create_user("tcenter", "镇中心", PASSWORD, "center_admin", "510899101", None).await.unwrap();
    let (status, v) =
        app.post_json("/api/v1/sessions", &json!({ "username": "tcenter", "password": PASSWORD }), None).await;
    assert_eq!(status, 201, "{v}");
    let token = v["token"].as_str().unwrap().to_string();
    let mut body = record_body("SCOPE-1");
    body["org_code"] = json!("510899101");
    body["window_code"] = json!("W-510899101-01");
    body["staff_number"] = json!(null);
    let (_, eval_token) = app.register(&body).await;
    let (status, v) = app.evaluate(&eval_token, "very_dissatisfied", &["S511"], Some("等了很久")).await;
    assert_eq!(status, 201, "{v}");
    let case = app.app.store.case_of_evaluation(v["id"].as_i64().unwrap()).await.unwrap().unwrap().id;
    let step = |unit: &'static str| {
        let (app, token) = (&app, token.clone());
        async move {
            app.post_json(
                &format!("/api/v1/cases/{case}/steps"),
                &json!({ "step": "assign", "unit_code": unit }),
                Some(&token),
            )
            .await
        }
    };
    let (status, v) = step("510899D02").await;
    assert_eq!((status, v["code"].as_str()), (422, Some("unknown_unit")), "another unit outside the township: {v}");
    let (status, v) = step("510899101").await;
    assert_eq!(status, 200, "{v}");
}

both_backends!(cases_go_only_to_units_in_the_dispatchers_scope);

both_backends!(inbox_counts_agree_with_the_lists);

/// The console home counts inboxes without listing them (a backlog costs no sort): the count is the list's
/// length, capped.
async fn inbox_counts_agree_with_the_lists(app: TestApp) {
    use hcp_app::cases::Inbox;
    for n in ["CNT-1", "CNT-2", "CNT-3"] {
        bad_review(&app, n).await;
    }
    let center = crate::helpers::county_center_admin();
    for inbox in [Inbox::Mine, Inbox::Overdue, Inbox::All] {
        let listed = app.app.case_inbox(&center, inbox, 0).await.unwrap().len() as i64;
        assert_eq!(app.app.case_inbox_count(&center, inbox, 50).await.unwrap(), listed, "{inbox:?}");
    }
    assert_eq!(app.app.case_inbox_count(&center, Inbox::Mine, 50).await.unwrap(), 3, "three wait for dispatch");
    assert_eq!(app.app.case_inbox_count(&center, Inbox::Mine, 2).await.unwrap(), 2, "counted up to the cap");
    // Someone with no scope has nothing to count.
    let mut nobody = center.clone();
    nobody.bindings.clear();
    assert!(app.app.case_inbox_count(&nobody, Inbox::Mine, 50).await.is_err());
}

both_backends!(an_inbox_reads_each_state_in_its_own_order);

/// An inbox merges one branch per state, each read from the queue index up to the page's end: its pages are
/// those of a full sort of the matching cases (overdue first, next check or creation, id), none twice.
async fn an_inbox_reads_each_state_in_its_own_order(app: TestApp) {
    let api = Api::new(&app).await;
    let mut cases = Vec::new();
    for n in 0..7 {
        cases.push(bad_review(&app, &format!("Q-{n}")).await.1);
    }
    // Some dispatched (another state, another branch), the rest left waiting.
    for case in &cases[..3] {
        let (status, v) = api.step("center", *case, json!({ "step": "assign" })).await;
        assert_eq!(status, 200, "{v}");
    }
    let scopes = vec!["/".to_string()];
    let filter = |limit: i64, offset: i64| hcp_store::CaseFilter {
        scopes: scopes.clone(),
        staff_id: None,
        states: vec!["unassigned".into(), "assigned".into()],
        plans_to_approve: true,
        overdue_only: false,
        newest_first: false,
        limit,
        offset,
    };
    // The expected order, sorted here from every case.
    let all = hcp_store::CaseFilter { newest_first: true, states: Vec::new(), ..filter(500, 0) };
    let mut expected = app.app.store.list_cases(&all).await.unwrap();
    expected.retain(|c| matches!(c.fields.state.as_str(), "unassigned" | "assigned"));
    expected.sort_by_key(|c| (c.fields.overdue_at.is_none(), c.fields.next_check_at.unwrap_or(c.created_at), c.id));
    let expected: Vec<i64> = expected.iter().map(|c| c.id).collect();
    assert_eq!(expected.len(), 7);
    let mut paged = Vec::new();
    for offset in [0, 3, 6] {
        paged.extend(app.app.store.list_cases(&filter(3, offset)).await.unwrap().iter().map(|c| c.id));
    }
    assert_eq!(paged, expected, "three pages of three");
    let whole: Vec<i64> = app.app.store.list_cases(&filter(50, 0)).await.unwrap().iter().map(|c| c.id).collect();
    assert_eq!(whole, expected);
}

both_backends!(the_overdue_list_reads_in_its_own_order);

/// The overdue list merges the cases past a unit's limit (read from their partial index) with those waiting
/// past the center's dispatch limit (from the queue index): its pages are those of a full sort, none twice,
/// and a case within every limit is not on it. Its count adds the two parts up to the console's cap.
async fn the_overdue_list_reads_in_its_own_order(app: TestApp) {
    let api = Api::new(&app).await;
    let mut cases = Vec::new();
    for n in 0..7 {
        cases.push(bad_review(&app, &format!("OD-{n}")).await.1);
    }
    for case in &cases[..3] {
        let (status, v) = api.step("center", *case, json!({ "step": "assign" })).await;
        assert_eq!(status, 200, "{v}");
    }
    // Ten days on: the three assigned ones missed their contact limit, the four others the dispatch limit.
    app.app.run_case_clock(chrono::Utc::now() + chrono::Duration::days(10)).await.unwrap();
    // One more, just filed: within every limit, not overdue.
    let fresh = bad_review(&app, "OD-fresh").await.1;
    let filter = |limit: i64, offset: i64| hcp_store::CaseFilter {
        scopes: vec!["/".to_string()],
        staff_id: None,
        states: Vec::new(),
        plans_to_approve: false,
        overdue_only: true,
        newest_first: false,
        limit,
        offset,
    };
    let all = hcp_store::CaseFilter { newest_first: true, overdue_only: false, ..filter(500, 0) };
    let mut expected = app.app.store.list_cases(&all).await.unwrap();
    expected.retain(|c| c.fields.overdue_at.is_some() || (c.fields.state == "unassigned" && c.fields.dispatch_missed));
    expected.sort_by_key(|c| (c.fields.overdue_at.is_none(), c.fields.next_check_at.unwrap_or(c.created_at), c.id));
    let expected: Vec<i64> = expected.iter().map(|c| c.id).collect();
    assert_eq!(expected.len(), 7, "three past the contact limit, four past the dispatch limit");
    assert!(!expected.contains(&fresh));
    let overdue = app.app.store.list_cases(&filter(50, 0)).await.unwrap();
    assert_eq!(overdue.iter().filter(|c| c.fields.overdue_at.is_some()).count(), 3, "the units' missed limits");
    let mut paged = Vec::new();
    for offset in [0, 3, 6] {
        paged.extend(app.app.store.list_cases(&filter(3, offset)).await.unwrap().iter().map(|c| c.id));
    }
    assert_eq!(paged, expected, "three pages of three");
    assert_eq!(overdue.iter().map(|c| c.id).collect::<Vec<_>>(), expected);
    // The console home's count reads the two parts apart: their sum, up to the cap.
    assert_eq!(app.app.store.count_matching_cases(&filter(50, 0), 50).await.unwrap(), 7);
    assert_eq!(app.app.store.count_matching_cases(&filter(50, 0), 5).await.unwrap(), 5, "capped");
    assert_eq!(app.app.store.count_matching_cases(&filter(50, 0), 2).await.unwrap(), 2, "each part capped too");
}
