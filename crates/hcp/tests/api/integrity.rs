//! Issue 16 §3–4 (first part): the integrity scan over an imported history finds each pattern injected and
//! leaves the benign look-alikes alone; the county office and auditors read the flags, nobody else; a rescan
//! finds the same flags; the daily job scans yesterday once.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::both_backends;
use crate::cases::Api;
use crate::helpers::TestApp;

both_backends!(the_scan_finds_what_was_injected_and_nothing_benign);

/// A valid ID number for evaluator `n` (GB 11643 check character).
fn id_number(n: u32) -> String {
    let first17 = format!("110105199001{:02}{:03}", 1 + n / 900 % 28, n % 900 + 100);
    let check = hcp_domain::identity::IdNumber::check_char(&first17) as char;
    format!("{first17}{check}")
}

fn mobile(n: u32) -> String {
    format!("139{:08}", n)
}

struct History {
    lines: Vec<String>,
    next: u32,
    /// The window and client address of the next lines.
    window: &'static str,
    address: Option<&'static str>,
    /// Minutes from receipt to completion of the next lines.
    handling: i64,
}

impl History {
    #[expect(clippy::too_many_arguments, reason = "a test's line builder, every field named at the call")]
    fn add(
        &mut self,
        evaluator: u32,
        staff: &str,
        completed: DateTime<Utc>,
        rated: DateTime<Utc>,
        level: &str,
        comment: Option<&str>,
        device: Option<&str>,
        criteria: &[&str],
    ) {
        self.next += 1;
        let channel = if device.is_some() { "kiosk" } else { "qr_code" };
        self.lines.push(
            json!({
                "record_number": format!("INT-{}", self.next),
                "item_code": "QS010001",
                "org_code": "510899D01",
                "window_code": self.window,
                "staff_number": staff,
                "applicant": { "kind": "person", "name": "评价人", "id_number": id_number(evaluator),
                               "mobile": mobile(evaluator) },
                "received_at": (completed - Duration::minutes(self.handling)).to_rfc3339(),
                "completed_at": completed.to_rfc3339(),
                "evaluation": { "level": level, "indicator_ids": criteria, "comment": comment, "channel": channel,
                                "created_at": rated.to_rfc3339(), "device_code": device,
                                "client_address": self.address },
            })
            .to_string(),
        );
    }
}

async fn the_scan_finds_what_was_injected_and_nothing_benign(app: TestApp) {
    let api = Api::new(&app).await;
    // A staff member whose own mobile is on file (the catalog import's staff file takes it).
    let staff_file =
        format!("工号,姓名,所属机构代码,窗口编码,手机号\nQS7777,自评者,510899D01,W-510899-C01,{}\n", mobile(7777));
    app.app
        .import_catalog(&hcp_app::audit::Actor::operator(), None, "staff.csv", staff_file.as_bytes(), &|_, _| {})
        .await
        .unwrap();
    // Midnight (Beijing time) three days ago: every "day + hours" below falls within one business day whatever
    // the hour the test runs (at 05:40 UTC, now − 3 days + 10 h crossed midnight and split the fabricated
    // records over two days).
    let day = hcp_domain::calendar::start_of_day(hcp_domain::calendar::business_date(Utc::now()) - Duration::days(3));
    let mut h = History { lines: Vec::new(), next: 0, window: "W-510899-C01", address: None, handling: 30 };
    // Benign: 30 applicants rated on the kiosk a minute after their service (staff helping on the pad).
    for i in 0..30 {
        let done = day + Duration::minutes(i * 7);
        h.add(
            100 + i as u32,
            "QS0001",
            done,
            done + Duration::minutes(1),
            "very_satisfied",
            None,
            Some("K-510899-01"),
            &["S111"],
        );
    }
    // Benign: a real wave — eight different people dissatisfied with QS0001 on one afternoon.
    for i in 0..8 {
        let done = day + Duration::hours(5) + Duration::minutes(i * 5);
        h.add(
            200 + i as u32,
            "QS0001",
            done,
            done + Duration::minutes(3),
            "dissatisfied",
            Some("系统故障,排队两小时"),
            None,
            &["S411"],
        );
    }
    // self_rating: QS7777 rates their own service with their own mobile.
    let done = day + Duration::hours(2);
    h.add(7777, "QS7777", done, done + Duration::minutes(2), "very_satisfied", None, None, &["S111"]);
    // device_takeover: six top ratings on the kiosk within ten minutes, for services of the morning.
    for i in 0..6 {
        let done = day + Duration::minutes(10 * i);
        h.add(
            300 + i as u32,
            "QS0001",
            done,
            day + Duration::hours(6) + Duration::minutes(i * 2),
            "very_satisfied",
            None,
            Some("K-510899-01"),
            &["S111"],
        );
    }
    // revenge: one evaluator rates QS7777 badly three times; ten others are content.
    for i in 0..10 {
        let done = day + Duration::hours(3) + Duration::minutes(i * 3);
        h.add(400 + i as u32, "QS7777", done, done + Duration::minutes(2), "satisfied", None, None, &["S211"]);
    }
    for i in 0..3 {
        let done = day + Duration::hours(4) + Duration::minutes(i * 20);
        h.add(999, "QS7777", done, done + Duration::minutes(2), "very_dissatisfied", Some("态度不好"), None, &["S511"]);
    }
    // abusive_text: a threat in a comment.
    let done = day + Duration::hours(7);
    h.add(
        500,
        "QS0001",
        done,
        done + Duration::minutes(2),
        "very_dissatisfied",
        Some("办个证这么难,你等着,饶不了你"),
        None,
        &["S511"],
    );
    // coordinated_bad_reviews: five people from one address against QS0002, whom ten others rate well.
    for i in 0..10 {
        let done = day + Duration::hours(8) + Duration::minutes(i * 3);
        h.add(600 + i as u32, "QS0002", done, done + Duration::minutes(2), "satisfied", None, None, &["S211"]);
    }
    h.address = Some("10.9.9.9");
    for i in 0..5 {
        let done = day + Duration::hours(9) + Duration::minutes(i * 4);
        h.add(
            700 + i as u32,
            "QS0002",
            done,
            done + Duration::minutes(2),
            "dissatisfied",
            Some("不满意"),
            None,
            &["S411"],
        );
    }
    h.address = None;
    // fabricated_records: eight two-minute "services" at another window, rated top at once, by two "applicants".
    (h.window, h.handling) = ("W-510899-C02", 2);
    for i in 0..8 {
        let done = day + Duration::hours(10) + Duration::minutes(i * 6);
        h.add(800 + (i % 2) as u32, "", done, done + Duration::minutes(1), "very_satisfied", None, None, &["S111"]);
    }
    let actor = hcp_app::audit::Actor::operator();
    app.app.import_history(&actor, "integrity.jsonl", &h.lines.join("\n"), &|_, _| {}).await.unwrap();

    let d = hcp_domain::calendar::business_date(day);
    let (from, to) = (d - Duration::days(1), d + Duration::days(1));
    let report = app.app.integrity_scan(&actor, from, to).await.unwrap();
    assert_eq!(report.evaluations, h.lines.len());
    let url = format!("/api/v1/integrity/flags?from={from}&to={to}");
    let (status, v) = api.get("office", &url).await;
    assert_eq!(status, 200, "{v}");
    let flags = v["flags"].as_array().unwrap();
    let patterns: Vec<&str> = flags.iter().map(|f| f["pattern"].as_str().unwrap()).collect();
    let mut sorted = patterns.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        ["abusive_text", "coordinated_bad_reviews", "device_takeover", "fabricated_records", "revenge", "self_rating"],
        "{v:#}"
    );
    let flag = |p: &str| flags.iter().find(|f| f["pattern"] == p).unwrap().clone();
    assert_eq!(flag("device_takeover")["evaluation_ids"].as_array().unwrap().len(), 6);
    assert_eq!(flag("device_takeover")["device_codes"], json!(["K-510899-01"]));
    assert_eq!(flag("revenge")["evaluation_ids"].as_array().unwrap().len(), 3);
    assert_eq!(flag("self_rating")["staff_numbers"], json!(["QS7777"]));
    let explanation = flag("self_rating")["explanation"].as_str().unwrap().to_string();
    assert!(explanation.contains("本人给自己经办的业务") && !explanation.contains(&mobile(7777)), "{explanation}");
    for f in flags {
        let score = f["score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&score) && f["state"] == "open", "{f}");
    }

    // Who sees them: the county office and auditors; not the center, units, staff or the hotline.
    assert_eq!(api.get("auditor", &url).await.0, 200);
    for who in ["center", "unit", "staff", "hotline"] {
        assert_eq!(api.get(who, &url).await.0, 403, "{who}");
    }
    assert_eq!(app.get_json(&url, None).await.0, 401);
    // An office bound elsewhere (a township) sees none of these, not even that they exist.
    app.app
        .create_user("office2", "乡镇督查", crate::cases::PASSWORD, "county_office", "510899101", None)
        .await
        .unwrap();
    let (_, t) = app
        .post_json("/api/v1/sessions", &json!({ "username": "office2", "password": crate::cases::PASSWORD }), None)
        .await;
    let elsewhere = t["token"].as_str().unwrap().to_string();
    let (status, theirs) = app.get_json(&url, Some(&elsewhere)).await;
    assert_eq!((status, theirs["flags"].as_array().map(Vec::len)), (200, Some(0)), "{theirs}");
    let investigate = format!("/api/v1/integrity/flags/{}/investigation", flags[0]["id"]);
    let (status, _) = app.post_json(&investigate, &json!({ "note": "x" }), Some(&elsewhere)).await;
    assert_eq!(status, 404);
    let (status, one) = api.get("office", &format!("{url}&pattern=revenge")).await;
    assert_eq!((status, one["flags"].as_array().map(Vec::len)), (200, Some(1)));
    let (status, bad) = api.get("office", &format!("{url}&pattern=fraud")).await;
    assert_eq!((status, bad["code"].as_str()), (422, Some("invalid_pattern")));
    let (status, bad) = api.get("office", "/api/v1/integrity/flags?from=2026-13-01&to=x").await;
    assert_eq!(status, 422, "{bad}");
    let fields: Vec<&str> = bad["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["from", "to"]);

    // The same window again: the same flags, nothing new.
    let again = app.app.integrity_scan(&actor, from, to).await.unwrap();
    assert_eq!((again.flags, again.new, again.updated), (report.flags, 0, 0));
    let (_, v2) = api.get("office", &url).await;
    assert_eq!(v2, v);
    let flags = v["flags"].as_array().unwrap();
    let flag = |p: &str| flags.iter().find(|f| f["pattern"] == p).unwrap().clone();

    // The office investigates and concludes; a fake or malicious conclusion sets the evaluations aside.
    let (fake, revenge, abusive) =
        (flag("self_rating")["id"].clone(), flag("revenge")["id"].clone(), flag("abusive_text")["id"].clone());
    let path = |id: &serde_json::Value, what: &str| format!("/api/v1/integrity/flags/{id}/{what}");
    let note = json!({ "note": "调取窗口录像并电话核实评价人" });
    assert_eq!(api.post("auditor", &path(&revenge, "investigation"), note.clone()).await.0, 403, "auditors look on");
    assert_eq!(api.post("center", &path(&revenge, "investigation"), note.clone()).await.0, 403);
    let (status, opened) = api.post("office", &path(&revenge, "investigation"), note.clone()).await;
    assert_eq!((status, opened["state"].as_str()), (200, Some("investigating")), "{opened}");
    let (status, again) = api.post("office", &path(&revenge, "investigation"), note.clone()).await;
    assert_eq!((status, again["code"].as_str()), (409, Some("flag_not_open")));
    assert_eq!(api.post("office", "/api/v1/integrity/flags/999999/investigation", note.clone()).await.0, 404);
    assert_eq!(api.post("office", "/api/v1/integrity/flags/x/investigation", note).await.0, 404);
    let (status, bad) =
        api.post("office", &path(&fake, "conclusion"), json!({ "conclusion": "guilty", "findings": " " })).await;
    assert_eq!(status, 422, "{bad}");
    let fields: Vec<&str> = bad["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["conclusion", "findings"], "every reason at once");

    let range = format!("from={from}&to={to}");
    let (_, before) = api.get("office", &format!("/api/v1/stats?org=510899&{range}")).await;
    let n = |v: &serde_json::Value, k: &str| v["total"][k].as_i64().unwrap();
    let body = json!({ "conclusion": "fake_good", "findings": "经核实,系工作人员本人用自己的手机评价" });
    // Issue 29 §8: no conclusion without an opened investigation, and voiding needs a second person.
    let (status, v) = api.post("office", &path(&fake, "conclusion"), body.clone()).await;
    assert_eq!((status, v["code"].as_str()), (409, Some("investigation_required")), "{v}");
    assert_eq!(api.post("office", &path(&fake, "investigation"), json!({ "note": "核对评价手机号" })).await.0, 200);
    let (status, proposed) = api.post("office", &path(&fake, "conclusion"), body.clone()).await;
    assert_eq!((status, proposed["state"].as_str()), (200, Some("proposed")), "{proposed}");
    assert_eq!(proposed["proposal"]["proposed_by"], "office");
    assert!(proposed["conclusion"].is_null(), "not concluded yet: {proposed}");
    let (_, waiting) = api.get("office", &format!("/api/v1/stats?org=510899&{range}")).await;
    assert_eq!(n(&waiting, "evaluations"), n(&before, "evaluations"), "nothing set aside on one person's word");
    let (status, v) = api.post("office", &path(&fake, "conclusion"), body.clone()).await;
    assert_eq!((status, v["code"].as_str()), (409, Some("conclusion_proposed")), "{v}");
    let yes = json!({ "confirm": true });
    let (status, v) = api.post("office", &path(&fake, "confirmation"), yes.clone()).await;
    assert_eq!((status, v["code"].as_str()), (403, Some("conflict_of_interest")), "{v}");
    for who in ["center", "unit", "staff", "hotline"] {
        assert_eq!(api.post(who, &path(&fake, "confirmation"), yes.clone()).await.0, 403, "{who}");
    }
    let (status, v) = app.post_json(&path(&fake, "confirmation"), &yes, Some(&elsewhere)).await;
    assert_eq!(status, 404, "an office bound elsewhere: {v}");
    let (status, done) = api.post("auditor", &path(&fake, "confirmation"), yes.clone()).await;
    assert_eq!(
        (status, done["state"].as_str(), done["conclusion"].as_str(), done["confirmed_by"].as_str()),
        (200, Some("concluded"), Some("fake_good"), Some("auditor")),
        "{done}"
    );
    assert_eq!(done["concluded_by"], "office", "the proposer concluded; the auditor confirmed");
    assert_eq!(api.post("office", &path(&fake, "conclusion"), body).await.1["code"], "flag_concluded");
    let (status, v) = api.post("auditor", &path(&fake, "confirmation"), yes.clone()).await;
    assert_eq!((status, v["code"].as_str()), (409, Some("no_proposal")), "{v}");
    let (_, after) = api.get("office", &format!("/api/v1/stats?org=510899&{range}")).await;
    assert_eq!(n(&after, "evaluations"), n(&before, "evaluations") - 1, "out of every figure");
    assert_eq!(n(&after, "invalidated"), n(&before, "invalidated") + 1);
    assert_eq!(n(&after, "appeals_upheld"), n(&before, "appeals_upheld"), "not an appeal");
    assert_eq!(app.app.store.rollup_mismatches().await.unwrap(), Vec::<String>::new());

    // Only the flag's own evaluations; a subset is set aside alone; a cleared flag sets nothing aside.
    let ids = flag("revenge")["evaluation_ids"].as_array().unwrap().clone();
    let (status, v) = api
        .post(
            "office",
            &path(&revenge, "conclusion"),
            json!({ "conclusion": "malicious_bad", "findings": "x", "evaluation_ids": [1] }),
        )
        .await;
    assert_eq!((status, v["code"].as_str()), (422, Some("not_of_flag")), "{v}");
    let subset = json!({ "conclusion": "malicious_bad", "findings": "评价人承认因私怨反复差评", "evaluation_ids": [ids[0], ids[1]] });
    assert_eq!(api.post("office", &path(&revenge, "conclusion"), subset.clone()).await.0, 200);
    // The second person may send it back, with a reason; then confirm the new proposal. Another county-office
    // account confirms as well as an auditor.
    let (status, v) = api.post("auditor", &path(&revenge, "confirmation"), json!({ "confirm": false })).await;
    assert_eq!((status, v["code"].as_str()), (422, Some("text_required")), "{v}");
    let back = json!({ "confirm": false, "note": "缺少评价人书面陈述" });
    let (status, v) = api.post("auditor", &path(&revenge, "confirmation"), back).await;
    assert_eq!((status, v["state"].as_str()), (200, Some("investigating")), "{v}");
    assert!(v["proposal"].is_null(), "{v}");
    assert_eq!(api.post("office", &path(&revenge, "conclusion"), subset).await.0, 200);
    app.app.create_user("office3", "督查员乙", crate::cases::PASSWORD, "county_office", "510899", None).await.unwrap();
    let (_, t) = app
        .post_json("/api/v1/sessions", &json!({ "username": "office3", "password": crate::cases::PASSWORD }), None)
        .await;
    let colleague = t["token"].as_str().unwrap().to_string();
    let (status, v) = app.post_json(&path(&revenge, "confirmation"), &yes, Some(&colleague)).await;
    assert_eq!((status, v["confirmed_by"].as_str()), (200, Some("office3")), "{v}");
    // A conclusion that sets nothing aside takes effect at once (after an investigation).
    let cleared = json!({ "conclusion": "cleared", "findings": "评价人情绪激动,但所反映问题属实" });
    assert_eq!(api.post("office", &path(&abusive, "investigation"), json!({ "note": "电话回访" })).await.0, 200);
    let (status, v) = api.post("office", &path(&abusive, "conclusion"), cleared).await;
    assert_eq!((status, v["state"].as_str()), (200, Some("concluded")), "{v}");
    let (_, last) = api.get("office", &format!("/api/v1/stats?org=510899&{range}")).await;
    assert_eq!(n(&last, "invalidated"), n(&before, "invalidated") + 3);
    assert_eq!(app.app.store.rollup_mismatches().await.unwrap(), Vec::<String>::new());
    let log = app.app.store.audit_entries("integrity.", 0, 50).await.unwrap();
    assert_eq!(log.iter().filter(|e| e.action == "integrity.conclude").count(), 3);
    assert_eq!(log.iter().filter(|e| e.action == "integrity.propose").count(), 3);
    assert_eq!(log.iter().filter(|e| e.action == "integrity.proposal_rejected").count(), 1);
    // A rescan leaves concluded flags as the office left them.
    app.app.integrity_scan(&actor, from, to).await.unwrap();
    let (_, v3) = api.get("office", &format!("{url}&pattern=self_rating")).await;
    assert_eq!(v3["flags"][0]["state"], "concluded");

    // The same through the console: the queue, a flag's page, an investigation and a conclusion.
    let office = crate::console::login(&app, "office").await;
    let (status, html) = office.get(&format!("/console/integrity?from={from}&to={to}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("虚构办件刷评") && html.contains("组织刷差评") && html.contains("已办结"), "{html}");
    let fabricated = flag("fabricated_records")["id"].as_i64().unwrap();
    let page = format!("/console/integrity/{fabricated}");
    let (status, html) = office.get(&page).await;
    assert_eq!(status, 200);
    assert!(html.contains("立案核查") && html.contains("W-510899-C02"), "{html}");
    assert!(!html.contains("提交结论"), "an open flag is investigated before it is concluded");
    // Beside it, the window against the county (funnel limits): context, not a finding.
    assert!(html.contains("同期对比") && html.contains("正常波动范围") && html.contains("100.0%"), "{html}");
    let (status, _) = office.post(&format!("{page}/investigation"), &[("note", "调取窗口办件材料")]).await;
    assert_eq!(status, 303);
    let (_, html) = office.get(&page).await;
    assert!(html.contains("提交结论") && !html.contains("立案核查</button>"), "{html}");
    let (status, html) = office.post(&format!("{page}/conclusion"), &[("conclusion", "fake_good")]).await;
    assert_eq!(status, 422, "findings required");
    assert!(html.contains("调查结论说明"), "{html}");
    let (status, _) = office
        .post(&format!("{page}/conclusion"), &[("conclusion", "referred"), ("findings", "已移送纪检监察机关")])
        .await;
    assert_eq!(status, 303);
    let (_, html) = office.get(&page).await;
    assert!(html.contains("移送有关部门") && !html.contains("立案核查</button>"), "{html}");
    let auditor = crate::console::login(&app, "auditor").await;
    let (status, html) = auditor.get(&page).await;
    assert_eq!(status, 200);
    assert!(!html.contains("<form method=\"post\" action=\"/console/integrity"), "auditors have no forms");
    // Four eyes in the console: the office proposes, the auditor confirms on the flag's page.
    let coordinated = flag("coordinated_bad_reviews")["id"].as_i64().unwrap();
    let page = format!("/console/integrity/{coordinated}");
    assert_eq!(office.post(&format!("{page}/investigation"), &[("note", "调取评价记录")]).await.0, 303);
    let propose = [("conclusion", "malicious_bad"), ("findings", "同一时段多人按统一话术差评,经核实系组织所为")];
    assert_eq!(office.post(&format!("{page}/conclusion"), &propose).await.0, 303);
    let (_, html) = office.get(&page).await;
    assert!(
        html.contains("结论待确认") && html.contains("须由另一名") && !html.contains("确认结论</button>"),
        "{html}"
    );
    let (_, html) = auditor.get(&page).await;
    assert!(html.contains("确认结论</button>") && html.contains("退回</button>"), "{html}");
    assert_eq!(auditor.post(&format!("{page}/confirmation"), &[("confirm", "true"), ("note", "同意")]).await.0, 303);
    let (_, html) = auditor.get(&page).await;
    assert!(html.contains("已办结") && html.contains("恶意差评"), "{html}");
    let (status, _) = office.get("/console/integrity?from=nope").await;
    assert_eq!(status, 422);

    // The daily job scans yesterday, once (the server's own job loop may have been first).
    app.app.run_jobs(Utc::now()).await.unwrap();
    assert!(app.app.run_jobs(Utc::now()).await.unwrap().integrity.is_none());
    let yesterday = (hcp_domain::calendar::business_date(Utc::now()) - Duration::days(1)).to_string();
    let scans = app.app.store.audit_entries("integrity.scan", 0, 20).await.unwrap();
    let daily = scans.iter().filter(|e| e.actor == "system" && e.details.contains(&yesterday)).count();
    assert_eq!(daily, 1, "{scans:#?}");
}

both_backends!(clues_are_referred_and_seen_only_by_those_who_may);

/// Issue 16 §6: a comment mentioning a bribe is suggested, a person refers it, the outcome comes later; the
/// staff member concerned, units and the hotline never see referrals.
async fn clues_are_referred_and_seen_only_by_those_who_may(app: TestApp) {
    let api = Api::new(&app).await;
    let (_, token) = app.register(&crate::helpers::record_body("REF-1")).await;
    let (status, e) = app.evaluate(&token, "very_dissatisfied", &["S511"], Some("窗口人员暗示要交好处费才给办")).await;
    assert_eq!(status, 201, "{e}");
    let evaluation = e["id"].as_i64().unwrap();
    let today = hcp_domain::calendar::business_date(Utc::now());
    let (status, s) = api.get("center", &format!("/api/v1/referrals/suggestions?from={today}&to={today}")).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["suggestions"][0]["evaluation_id"], evaluation);
    assert_eq!(s["suggestions"][0]["terms"], json!(["好处费"]));
    assert_eq!(api.get("unit", &format!("/api/v1/referrals/suggestions?from={today}&to={today}")).await.0, 403);
    let (_, none) = api.get("center", "/api/v1/referrals").await;
    assert_eq!(none["referrals"], json!([]), "nothing is referred by the program");

    let referral = json!({ "subject_kind": "evaluation", "subject_id": evaluation, "body": "县纪委监委",
                           "reference": "青政办移〔2026〕3号", "referred_on": today.to_string() });
    for who in ["staff", "unit", "hotline", "auditor"] {
        assert_eq!(api.post(who, "/api/v1/referrals", referral.clone()).await.0, 403, "{who}");
    }
    let (status, r) = api.post("center", "/api/v1/referrals", referral).await;
    assert_eq!(status, 201, "{r}");
    let id = r["id"].as_i64().unwrap();
    let (status, bad) = api
        .post(
            "office",
            "/api/v1/referrals",
            json!({ "subject_kind": "evaluation", "subject_id": 999999, "body": " ", "reference": "x",
                    "referred_on": (today + Duration::days(2)).to_string() }),
        )
        .await;
    assert_eq!(status, 422, "{bad}");
    let fields: Vec<&str> = bad["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["body", "referred_on", "subject_id"], "every reason at once");

    // Who sees it: the one who referred, the county office, auditors; never the staff member or units.
    for who in ["center", "office", "auditor"] {
        let (status, v) = api.get(who, "/api/v1/referrals").await;
        assert_eq!((status, v["referrals"].as_array().map(Vec::len)), (200, Some(1)), "{who}");
    }
    for who in ["staff", "staff2", "unit", "otherunit", "hotline"] {
        assert_eq!(api.get(who, "/api/v1/referrals").await.0, 403, "{who}");
    }
    app.app
        .create_user("center2", "另一位中心管理员", crate::cases::PASSWORD, "center_admin", "510899", None)
        .await
        .unwrap();
    let (_, t) = app
        .post_json("/api/v1/sessions", &json!({ "username": "center2", "password": crate::cases::PASSWORD }), None)
        .await;
    let (_, v) = app.get_json("/api/v1/referrals", t["token"].as_str()).await;
    assert_eq!(v["referrals"], json!([]), "another center admin does not see it");

    let outcome = format!("/api/v1/referrals/{id}/outcome");
    assert_eq!(api.post("staff", &outcome, json!({ "outcome": "x" })).await.0, 404, "not even that it exists");
    let (status, done) = api.post("center", &outcome, json!({ "outcome": "已立案调查" })).await;
    assert_eq!((status, done["outcome"].as_str()), (200, Some("已立案调查")));
    let (status, again) = api.post("office", &outcome, json!({ "outcome": "again" })).await;
    assert_eq!((status, again["code"].as_str()), (409, Some("outcome_recorded")));
    let log = app.app.store.audit_entries("referral.", 0, 10).await.unwrap();
    assert_eq!(log.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["referral.create", "referral.outcome"]);
}

/// Issue 30 §3: clue referral in the console — a "移交线索" link on the case page, the form filled in from it,
/// the list with its outcome recorded once; staff and units find no such page.
async fn clues_are_referred_in_the_console(app: TestApp) {
    crate::console::make_accounts(&app).await;
    let (_, case) = crate::cases::bad_review(&app, "REF-C1").await;
    let office = crate::console::login(&app, "office").await;
    let (status, page) = office.get(&format!("/console/cases/{case}")).await;
    assert_eq!(status, 200);
    let link = format!("/console/referrals/new?kind=case&amp;id={case}");
    assert!(page.contains(&link), "{page}");
    let (status, form) = office.get(&format!("/console/referrals/new?kind=case&id={case}")).await;
    assert_eq!(status, 200);
    assert!(
        form.contains(&format!(r#"value="{case}""#)) && form.contains(r#"<option value="case" selected"#),
        "{form}"
    );
    let today = hcp_domain::calendar::business_date(Utc::now()).to_string();
    let fields = [
        ("subject_kind", "case"),
        ("subject_id", &case.to_string()),
        ("body", "县纪委监委"),
        ("reference", "青府办移〔2026〕9号"),
        ("referred_on", today.as_str()),
    ];
    let (status, _) = office.post("/console/referrals", &fields).await;
    assert_eq!(status, 303);
    let (status, list) = office.get("/console/referrals").await;
    assert_eq!(status, 200);
    assert!(list.contains("县纪委监委") && list.contains("青府办移〔2026〕9号") && list.contains("差评工单"), "{list}");
    let id = app.app.store.list_referrals(None).await.unwrap()[0].id;
    let outcome = format!("/console/referrals/{id}/outcome");
    assert_eq!(office.post(&outcome, &[("outcome", "已立案审查")]).await.0, 303);
    let (status, again) = office.post(&outcome, &[("outcome", "改一下")]).await;
    assert_eq!(status, 409, "recorded once: {again}");
    let (_, list) = office.get("/console/referrals").await;
    assert!(list.contains("已立案审查") && !list.contains("改一下"), "{list}");
    let (status, bad) = office.post("/console/referrals", &[("subject_kind", "case"), ("subject_id", "999999")]).await;
    assert_eq!(status, 422, "every reason at once: {bad}");
    let auditor = crate::console::login(&app, "auditor").await;
    assert!(auditor.get("/console/referrals").await.1.contains("已立案审查"));
    for who in ["staff", "unit"] {
        let b = crate::console::login(&app, who).await;
        assert_eq!(b.get("/console/referrals").await.0, 404, "{who}");
    }
    let log = app.app.store.audit_entries("referral.", 0, 10).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["referral.create", "referral.outcome"]);
}

both_backends!(clues_are_referred_in_the_console);
