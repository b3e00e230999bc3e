//! Issue 13: the exchange with the upper level, against a mock that opens the SM2 envelopes and misbehaves —
//! every item arrives once by key, records before their evaluations, with the contract's codes and types;
//! rejected items are listed and go again once corrected.

use std::time::Duration;

use serde_json::json;

use crate::cases::{Api, bad_review};
use crate::helpers::{Backend, ID_NUMBER, TestApp, record_body, spawn_app_with};
use crate::upper_level::{Fault, UpperLevel};

async fn joined(backend: Backend, mock: &UpperLevel) -> Option<TestApp> {
    let config = mock.config();
    spawn_app_with(backend, move |cfg| cfg.upstream = Some(config)).await
}

/// Pushes until nothing is due or in flight (retries are made due by pushing "later").
async fn push_until_settled(app: &TestApp) {
    for round in 0..80 {
        let later = app.app.now() + chrono::Duration::days(10) + chrono::Duration::hours(2) * (round + 1);
        app.app.push_upstream(later).await.unwrap();
        let status = app.app.exchange_status().await.unwrap();
        let busy: i64 = status.kinds.iter().map(|k| k.sent).sum();
        let waiting: i64 = status.kinds.iter().map(|k| k.waiting).sum();
        let rejected: i64 = status.kinds.iter().map(|k| k.rejected).sum();
        // What waits on a rejected record cannot move until the record is resent.
        if busy == 0 && waiting <= rejected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the queue did not settle: {:?}", app.app.exchange_status().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_every_item_once_in_order_through_faults_sqlite() {
    every_item_once(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_every_item_once_in_order_through_faults_postgres() {
    every_item_once(Backend::Postgres).await;
}

async fn every_item_once(backend: Backend) {
    let mut mock = UpperLevel::start().await;
    let Some(app) = joined(backend, &mock).await else { return };
    let api = Api::new(&app).await;

    // A good review by QR code, a record nobody rates (default), a record the upper level refuses at first.
    let (_, token) = app.register(&record_body("EX-GOOD")).await;
    assert_eq!(app.evaluate(&token, "very_satisfied", &["S111"], None).await.0, 201);
    app.register(&record_body("EX-DEFAULT")).await;
    let (_, token) = app.register(&record_body("EX-REJ")).await;
    assert_eq!(app.evaluate(&token, "satisfied", &[], None).await.0, 201);
    mock.books.lock().unwrap().reject.insert("EX-REJ".into());

    // A bad review rectified and closed (an update with the rectification text).
    let (_, case) = bad_review(&app, "EX-FIXED").await;
    for (who, body) in [
        ("center", json!({ "step": "assign" })),
        ("unit", json!({ "step": "contact", "text": "已电话联系评价人" })),
        ("unit", json!({ "step": "finding", "real_problem": true, "text": "材料清单漏列" })),
        ("unit", json!({ "step": "rectified", "text": "已补充清单并培训窗口人员" })),
        ("hotline", json!({ "step": "follow_up", "solved": true, "text": "评价人表示满意" })),
        ("center", json!({ "step": "close" })),
    ] {
        let (status, v) = api.step(who, case, body).await;
        assert_eq!(status, 200, "{v}");
    }
    // The evaluator's second rating after the rectification (assessNumber 2).
    let sent = app.app.store.case_messages(case).await.unwrap();
    let body =
        &app.app.message_text(sent.iter().rev().find(|m| m.template == "evaluator_replied").expect("a reply")).unwrap();
    let link = &body[body.find("/e2/").expect("a second-rating link")..];
    let res = app.http.post(app.url(link)).form(&[("level", "satisfied")]).send().await.unwrap();
    assert_eq!(res.status(), 200);
    // A bad review appealed and upheld in two stages (an update making it invalid).
    let (_, case) = bad_review(&app, "EX-APPEALED").await;
    let (status, v) =
        api.post("staff", &format!("/api/v1/cases/{case}/appeal"), json!({ "reasons": "评价对象错误" })).await;
    assert_eq!(status, 201, "{v}");
    let decision = format!("/api/v1/appeals/{}/decision", v["id"].as_i64().unwrap());
    assert_eq!(api.post("unit", &decision, json!({ "uphold": true, "reasons": "核实属实" })).await.0, 200);
    assert_eq!(api.post("center", &decision, json!({ "uphold": true, "reasons": "复核成立" })).await.0, 200);
    // A caller rates through the 12345 hotline desk (pf 6).
    let (hotline_record, _) = app.register(&record_body("EX-HOTLINE")).await;
    assert_eq!(app.register_ticket(hotline_record, "GD-20261129-0001").await.0, 201);
    let agent = crate::console::login(&app, "hotline").await;
    let (status, html) = agent
        .post(
            &format!("/console/records/{hotline_record}/hotline-evaluation"),
            &[("level", "satisfied"), ("ticket_number", "GD-20261129-0001")],
        )
        .await;
    assert!(status < 400, "{status}: {html}");
    // The default after 7 days.
    app.app.run_jobs(app.app.now() + chrono::Duration::days(9)).await.unwrap();

    // The upper level misbehaves in every way, then goes away and comes back.
    mock.books.lock().unwrap().faults.extend([
        Fault::Status500,
        Fault::Drop,
        Fault::NotJson,
        Fault::Slow(Duration::from_millis(1500)),
        Fault::DropAfterStore,
    ]);
    push_until_settled(&app).await;
    mock.stop();
    app.app.push_upstream(app.app.now()).await.unwrap();
    mock.restart().await;
    push_until_settled(&app).await;

    // The tally the triggers keep followed every item through waiting, sent, back to waiting, accepted and
    // rejected: it equals a count of the items themselves.
    let counts = app.app.store.upstream_counts().await.unwrap();
    let tallied: Vec<(String, String, i64)> =
        counts.iter().map(|c| (c.kind.clone(), c.state.clone(), c.count)).collect();
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.db_url).await.unwrap();
    let counted: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT kind, state, CAST(COUNT(*) AS BIGINT) FROM upstream_item GROUP BY kind, state ORDER BY kind, state",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(tallied, counted);
    assert!(counts.iter().any(|c| c.state == "accepted") && counts.iter().any(|c| c.state != "accepted"), "{counts:?}");

    {
        let b = mock.books.lock().unwrap();
        assert!(b.violations.is_empty(), "{:?}", b.violations);
        assert!(b.duplicates >= 1, "a lost reply makes a duplicate, counted once");
        let mut keys: Vec<&str> = b.stored.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "evaluation EX-APPEALED#1",
                "evaluation EX-DEFAULT#1",
                "evaluation EX-FIXED#1",
                "evaluation EX-FIXED#2",
                "evaluation EX-GOOD#1",
                "evaluation EX-HOTLINE#1",
                "service EX-APPEALED#1",
                "service EX-DEFAULT#1",
                "service EX-FIXED#1",
                "service EX-GOOD#1",
                "service EX-HOTLINE#1",
                "update EX-APPEALED#1.1",
                "update EX-FIXED#1.1",
            ]
        );
        // The codes of the contract.
        let s = &b.stored["service EX-GOOD#1"];
        assert_eq!(
            (s["proStatus"].as_i64(), s["userProp"].as_i64(), s["proChannel"].as_i64()),
            (Some(3), Some(1), Some(2))
        );
        assert_eq!((s["userPageType"].as_str(), s["certKeyGOV"].as_str()), (Some("111"), Some(ID_NUMBER)));
        assert_eq!((s["userName"].as_str(), s["mobile"].as_str()), (Some("张三"), Some("13812345678")));
        assert_eq!((s["taskType"].as_str(), s["serviceName"].as_str()), (Some("01"), Some("办结")));
        assert_eq!(s["dataSource"].as_str(), Some("165"));
        assert!(!s["proManager"].as_str().unwrap().is_empty(), "the staff member's name: {s}");
        assert_eq!(s["areaCode"].as_str().map(str::len), Some(12));
        // The demo catalog's codes: a valid credit code, a 31-character implementation code and its handling item.
        assert!(hcp_domain::identity::CreditCode::parse("deptCode", s["deptCode"].as_str().unwrap()).is_ok(), "{s}");
        let task_code = s["taskCode"].as_str().unwrap();
        assert_eq!((task_code.len(), s["taskHandleItem"].as_str().unwrap().len()), (31, 33));
        assert!(s["taskHandleItem"].as_str().unwrap().starts_with(task_code));
        assert!(s["acceptDate"].as_str().unwrap().len() == 19 && s["resultDate"].as_str().unwrap().len() == 19);
        let e = &b.stored["evaluation EX-GOOD#1"];
        assert_eq!(
            (e["satisfaction"].as_i64(), e["pf"].as_i64(), e["evalDetail"].as_str()),
            (Some(5), Some(3), Some("S111"))
        );
        assert_eq!(e.get("defaultEvaluation"), None);
        let e = &b.stored["evaluation EX-FIXED#1"];
        assert_eq!((e["satisfaction"].as_i64(), e["writingEvaluation"].as_str()), (Some(1), Some("来回跑了三次")));
        let e = &b.stored["evaluation EX-HOTLINE#1"];
        assert_eq!((e["satisfaction"].as_i64(), e["pf"].as_i64()), (Some(4), Some(6)), "a hotline evaluation");
        let e = &b.stored["evaluation EX-FIXED#2"];
        assert_eq!((e["satisfaction"].as_i64(), e["pf"].as_i64()), (Some(4), Some(7)), "the second rating by SMS link");
        let e = &b.stored["evaluation EX-DEFAULT#1"];
        assert_eq!(
            (e["satisfaction"].as_i64(), e["pf"].as_i64(), e["defaultEvaluation"].as_i64()),
            (Some(3), Some(8), Some(1))
        );
        let u = &b.stored["update EX-FIXED#1.1"];
        assert_eq!(
            (u["effectivEvalua"].as_i64(), u["rectification"].as_str()),
            (Some(1), Some("已补充清单并培训窗口人员"))
        );
        assert_eq!(u["appStatus"], "2");
        let u = &b.stored["update EX-APPEALED#1.1"];
        assert_eq!(u["effectivEvalua"].as_i64(), Some(0));
    }

    // The refused record is listed with the upper level's reason; its evaluation waits with it.
    let rejected = app.app.exchange_rejected(10).await.unwrap();
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!((rejected[0].kind.as_str(), rejected[0].record_number.as_str()), ("service", "EX-REJ"));
    assert!(rejected[0].reason.as_deref().unwrap().contains("统一社会信用代码"), "{rejected:?}");
    let status = app.app.exchange_status().await.unwrap();
    assert_eq!((status.kinds[0].rejected, status.kinds[1].waiting), (1, 1), "{status:?}");

    // The center sees it in the console, with the reason, and resends it once corrected (here: the upper level
    // accepts it now); its evaluation follows.
    let center = crate::console::login(&app, "center").await;
    let (status, html) = center.get("/console/exchange").await;
    assert_eq!(status, 200);
    assert!(html.contains("EX-REJ") && html.contains("统一社会信用代码不能为空"), "{html}");
    assert!(html.contains("/console/exchange/resend"), "{html}");
    assert_eq!(crate::console::login(&app, "unit").await.get("/console/exchange").await.0, 403);
    mock.books.lock().unwrap().reject.clear();
    let (status, html) = center.post("/console/exchange/resend", &[]).await;
    assert_eq!(status, 200);
    assert!(html.contains("已将 1 条被拒收的项目重新排队上报"), "{html}");
    assert_eq!(app.app.store.audit_entries("exchange.resend", 0, 10).await.unwrap().len(), 1);
    push_until_settled(&app).await;
    assert!(mock.stored("service EX-REJ#1").is_some());
    assert_eq!(mock.stored("evaluation EX-REJ#1").unwrap()["satisfaction"], 4);
    assert!(app.app.exchange_rejected(10).await.unwrap().is_empty());
    let b = mock.books.lock().unwrap();
    let pos = |k: &str| b.arrivals.iter().position(|a| a == k).unwrap();
    for p in ["EX-GOOD", "EX-FIXED", "EX-APPEALED", "EX-DEFAULT", "EX-REJ", "EX-HOTLINE"] {
        assert!(pos(&format!("service {p}#1")) < pos(&format!("evaluation {p}#1")), "{p}");
    }
    assert!(b.violations.is_empty(), "{:?}", b.violations);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_is_retried_and_nothing_is_sent_without_an_upper_level() {
    // Without an upper level the queue keeps everything.
    let app = spawn_app_with(Backend::Sqlite, |_| {}).await.unwrap();
    app.register(&record_body("EX-LATER")).await;
    assert_eq!(app.app.push_upstream(app.app.now()).await.unwrap(), Default::default());
    let status = app.app.exchange_status().await.unwrap();
    assert!(!status.configured);
    assert_eq!(status.kinds[0].waiting, 1);

    // A sign the upper level cannot open (someone else's key): 401, retried, nothing stored.
    let mock = UpperLevel::start().await;
    let mut config = mock.config();
    config.public_key = hcp_crypto::Sm2SecretKey::generate().public_key();
    let app = spawn_app_with(Backend::Sqlite, move |cfg| cfg.upstream = Some(config)).await.unwrap();
    app.register(&record_body("EX-401")).await;
    let report = app.app.push_upstream(app.app.now()).await.unwrap();
    assert_eq!((report.accepted, report.retried), (0, 1));
    assert!(mock.books.lock().unwrap().stored.is_empty());
    assert_eq!(app.app.exchange_status().await.unwrap().kinds[0].waiting, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pulls_the_provinces_evaluations_sqlite() {
    pulls_the_provinces_evaluations(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pulls_the_provinces_evaluations_postgres() {
    pulls_the_provinces_evaluations(Backend::Postgres).await;
}

fn provincial(project: &str, satisfaction: i64, detail: &str, comment: &str) -> serde_json::Value {
    provincial_at(project, satisfaction, detail, comment, chrono::Utc::now())
}

/// An evaluation made on a provincial channel at `at` (the wire's time is Beijing time).
fn provincial_at(
    project: &str,
    satisfaction: i64,
    detail: &str,
    comment: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> serde_json::Value {
    let at = (at + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M:%S").to_string();
    json!({ "projectNo": project, "serviceNumber": 1, "assessNumber": 1, "satisfaction": satisfaction, "pf": 2,
            "evalDetail": detail, "writingEvaluation": comment, "assessTime": at })
}

async fn pulls_the_provinces_evaluations(backend: Backend) {
    let mock = UpperLevel::start().await;
    let county = hcp_crypto::Sm2SecretKey::generate();
    let mut config = mock.config();
    config.county_key = Some(county.clone());
    let Some(app) = spawn_app_with(backend, move |cfg| cfg.upstream = Some(config)).await else { return };
    let (p1, _) = app.register(&record_body("P-1")).await;
    app.register(&record_body("P-3")).await;
    let (_, token) = app.register(&record_body("P-RATED")).await;
    assert_eq!(app.evaluate(&token, "very_satisfied", &[], None).await.0, 201);
    {
        let mut b = mock.books.lock().unwrap();
        b.county_key = Some(county.public_key());
        b.provincial = vec![
            provincial("P-1", 1, "S511,P51", "跑了三趟"),
            provincial("P-RATED", 2, "", ""),
            provincial("P-UNKNOWN", 5, "", ""),
            provincial("P-1", 1, "S511", "again"),
            provincial("P-3", 9, "", ""),
        ];
    }
    let report = app.app.pull_upstream(app.app.now()).await.unwrap();
    assert_eq!(
        (report.stored, report.conflicts, report.unmatched, report.invalid, report.known),
        (1, 1, 1, 1, 1),
        "{report:?}"
    );
    // Stored once as the record's evaluation on channel provincial; a bad one opens a case.
    let record = app.app.store.records_by_ids(&[p1]).await.unwrap().pop().expect("P-1");
    let e = record.evaluation.expect("stored");
    assert_eq!((e.channel.as_str(), e.level.as_str()), ("provincial", "very_dissatisfied"));
    assert_eq!((e.indicator_ids.as_str(), e.staff_indicator_ids.as_str()), ("S511", "P51"));
    assert_eq!(e.comment.as_deref(), Some("跑了三趟"));
    assert!(app.app.store.case_of_evaluation(e.id).await.unwrap().is_some(), "a bad review opens a case");
    // Kept aside, with reasons: the local first rating stands; the unknown record waits; bad codes are named.
    let conflicts = app.app.exchange_pulled("conflict", 10).await.unwrap();
    assert_eq!(conflicts.iter().map(|r| r.project_no.as_str()).collect::<Vec<_>>(), ["P-RATED"]);
    let unmatched = app.app.exchange_pulled("unmatched", 10).await.unwrap();
    assert_eq!(unmatched.iter().map(|r| r.project_no.as_str()).collect::<Vec<_>>(), ["P-UNKNOWN"]);
    let invalid = app.app.exchange_pulled("invalid", 10).await.unwrap();
    assert!(invalid[0].reason.as_deref().unwrap().contains("satisfaction"), "{invalid:?}");
    assert!(app.app.exchange_pulled("nonsense", 10).await.is_err());

    // The cursor: "" first, then each reply's next; a second round starts where the first ended.
    assert_eq!(mock.books.lock().unwrap().queries, ["", "2", "4", "5"]);
    // The record arrives: the waiting evaluation is matched on the next round, once.
    app.register(&record_body("P-UNKNOWN")).await;
    let report = app.app.pull_upstream(app.app.now()).await.unwrap();
    assert_eq!((report.stored, report.unmatched), (1, 0), "{report:?}");
    assert_eq!(mock.books.lock().unwrap().queries.last().map(String::as_str), Some("5"));
    assert!(app.app.exchange_pulled("unmatched", 10).await.unwrap().is_empty());

    // Pulled evaluations are not pushed back; the records and the local evaluation are.
    push_until_settled(&app).await;
    {
        let b = mock.books.lock().unwrap();
        assert!(b.stored.contains_key("service P-1#1") && b.stored.contains_key("evaluation P-RATED#1"));
        assert!(!b.stored.contains_key("evaluation P-1#1") && !b.stored.contains_key("evaluation P-UNKNOWN#1"));
        assert!(b.violations.is_empty(), "{:?}", b.violations);
    }
    // They count in the statistics like any other.
    assert!(app.app.store.rollup_mismatches().await.unwrap().is_empty());

    // Issue 29 §4: a first evaluation dated before the service was received, or after its window closed, is
    // kept as invalid with the reason; nothing is stored.
    let now = chrono::Utc::now();
    let mut old = record_body("P-OLD");
    old["received_at"] = json!((now - chrono::Duration::days(12)).to_rfc3339());
    old["completed_at"] = json!((now - chrono::Duration::days(10)).to_rfc3339());
    app.register(&old).await;
    app.register(&record_body("P-NEW")).await;
    mock.books.lock().unwrap().provincial.extend([
        provincial_at("P-OLD", 5, "", "", now - chrono::Duration::hours(1)),
        provincial_at("P-NEW", 5, "", "", now - chrono::Duration::days(3)),
    ]);
    let report = app.app.pull_upstream(app.app.now()).await.unwrap();
    assert_eq!((report.stored, report.invalid), (0, 2), "{report:?}");
    let invalid = app.app.exchange_pulled("invalid", 10).await.unwrap();
    let reason = |p: &str| invalid.iter().find(|r| r.project_no == p).and_then(|r| r.reason.clone()).unwrap();
    assert!(reason("P-OLD").contains("晚于该办件的评价期限"), "{invalid:?}");
    assert!(reason("P-NEW").contains("早于办件受理时间"), "{invalid:?}");

    // A reply larger than the cap, streamed without a length, is refused as it is read: nothing taken, the
    // cursor where it was, and the next round works.
    let cursor = mock.books.lock().unwrap().queries.last().cloned();
    mock.books.lock().unwrap().huge_reply = Some(40 * 1024 * 1024);
    let report = app.app.pull_upstream(app.app.now()).await.unwrap();
    assert_eq!(report, hcp_app::exchange_pull::PullReport::default());
    mock.books.lock().unwrap().huge_reply = None;
    mock.books.lock().unwrap().provincial.push(provincial("P-3B", 5, "", ""));
    let report = app.app.pull_upstream(app.app.now()).await.unwrap();
    assert_eq!(report.unmatched, 1, "{report:?}");
    let queries = mock.books.lock().unwrap().queries.clone();
    assert_eq!(queries[queries.len() - 2], cursor.unwrap(), "asked again from where it was: {queries:?}");

    // An upper level that signs its replies (--upstream-reply-key): an unsigned or wrongly signed reply is not
    // used, a signed one is.
    let signer = hcp_crypto::Sm2SecretKey::generate();
    let mut signed = app.app.clone();
    signed = signed.with_upstream(
        Some({
            let mut c = mock.config();
            c.county_key = Some(county.clone());
            c.reply_key = Some(signer.public_key());
            c
        }),
        hcp_domain::upstream::Codes::builtin(),
    );
    mock.books.lock().unwrap().provincial.push(provincial("P-1B", 5, "", ""));
    let taken = |app: hcp_app::App| async move {
        app.exchange_pulled("unmatched", 100).await.unwrap().iter().any(|r| r.project_no == "P-1B")
    };
    signed.pull_upstream(signed.now()).await.unwrap();
    assert!(!taken(signed.clone()).await, "unsigned: not used");
    mock.books.lock().unwrap().sign_with = Some(hcp_crypto::Sm2SecretKey::generate());
    signed.pull_upstream(signed.now()).await.unwrap();
    assert!(!taken(signed.clone()).await, "signed by another key: not used");
    mock.books.lock().unwrap().sign_with = Some(signer);
    signed.pull_upstream(signed.now()).await.unwrap();
    assert!(taken(signed.clone()).await, "signed by the upper level's key: used");

    // Evaluations of records that never come: at most a cap wait, and none for ever.
    let audit = hcp_store::NewAudit {
        at: now,
        actor: "system".into(),
        action: "evaluation.pulled",
        target: String::new(),
        details: "null".into(),
    };
    let item = |n: usize| hcp_store::PulledItem {
        project_no: format!("P-NEVER-{n}"),
        assess_number: 1,
        item: "{}".into(),
        evaluation: Err("x".into()),
    };
    let waiting = app.app.exchange_pulled("unmatched", 100).await.unwrap().len() as i64;
    let outcome = app.app.store.take_pulled(&item(1), waiting + 1, &audit).await.unwrap();
    assert_eq!(outcome, hcp_store::PullOutcome::Unmatched);
    let outcome = app.app.store.take_pulled(&item(2), waiting + 1, &audit).await.unwrap();
    assert_eq!(outcome, hcp_store::PullOutcome::Expired, "past the cap: kept, not retried");
    let later = now + chrono::Duration::days(hcp_app::exchange_pull::UNMATCHED_DAYS + 1);
    let report = app.app.pull_upstream(later).await.unwrap();
    assert_eq!(report.expired as i64, waiting + 1, "{report:?}");
    assert!(app.app.exchange_pulled("unmatched", 10).await.unwrap().is_empty());
    let expired = app.app.exchange_pulled("expired", 100).await.unwrap();
    assert_eq!(expired.len() as i64, waiting + 2, "listed: {expired:?}");
}

/// `hcp serve` joined to the mock, with its jobs (the exchange worker among them).
async fn serve_joined(db_url: &str, keys_file: &str, mock: &UpperLevel) -> tokio::process::Child {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_hcp"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", db_url, "--data-keys-file", keys_file])
        .args(["--upstream-url", &mock.url, "--upstream-allow-http", "--upstream-public-key", &mock.public_key])
        .args([
            "--upstream-app-mark",
            crate::upper_level::APP_MARK,
            "--upstream-app-word",
            crate::upper_level::APP_WORD,
        ])
        .args(["--upstream-data-source", "165", "--upstream-area-code", "510899000000", "--upstream-timeout", "2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start hcp serve");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    while let Some(line) = lines.next_line().await.unwrap() {
        if line.starts_with("listening on ") {
            // Keep reading stdout so the server never blocks on a full pipe.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return child;
        }
    }
    panic!("hcp serve did not say where it listens");
}

async fn kill_9_mid_push_loses_nothing(backend: Backend) {
    let Some((db_url, _dir)) = crate::helpers::fresh_database(backend).await else { return };
    let keys_dir = tempfile::tempdir().unwrap();
    let keys_file = keys_dir.path().join("hcp.keys");
    let keys_file = keys_file.to_str().unwrap();
    crate::durability::keys_init(&db_url, keys_file);
    // A demo county's history: every record and evaluation is queued like live data.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hcp"))
        .args(["demo", "--records", "1500", "--database-url", &db_url, "--data-keys-file", keys_file])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let store = hcp_store::Store::connect(&db_url, 2).await.unwrap();
    let total: i64 = store.upstream_counts().await.unwrap().iter().map(|c| c.count).sum();
    assert!(total > 2000, "{total}");

    let mock = UpperLevel::start().await;
    mock.books.lock().unwrap().delay = Duration::from_millis(40);
    let mut server = serve_joined(&db_url, keys_file, &mock).await;
    // Killed mid-push: some batches answered, one perhaps stored but unanswered.
    while mock.books.lock().unwrap().stored.len() < 400 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.start_kill().unwrap();
    server.wait().await.unwrap();
    let at_kill = mock.books.lock().unwrap().stored.len();
    assert!((at_kill as i64) < total, "killed before the end");

    mock.books.lock().unwrap().delay = Duration::ZERO;
    let _server = serve_joined(&db_url, keys_file, &mock).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let counts = store.upstream_counts().await.unwrap();
        let accepted: i64 = counts.iter().filter(|c| c.state == "accepted").map(|c| c.count).sum();
        if accepted == total {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not all accepted after the restart: {counts:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let b = mock.books.lock().unwrap();
    assert_eq!(b.stored.len() as i64, total, "every item arrived, once by key");
    assert!(b.violations.is_empty(), "{:?}", &b.violations[..b.violations.len().min(5)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_push_loses_nothing_sqlite() {
    kill_9_mid_push_loses_nothing(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_push_loses_nothing_postgres() {
    kill_9_mid_push_loses_nothing(Backend::Postgres).await;
}

async fn two_instances_share_the_queue(backend: Backend) {
    let mock = UpperLevel::start().await;
    let Some(app) = joined(backend, &mock).await else { return };
    for n in 0..120 {
        let (_, token) = app.register(&record_body(&format!("TWO-{n}"))).await;
        if n % 2 == 0 {
            assert_eq!(app.evaluate(&token, "very_satisfied", &[], None).await.0, 201);
        }
    }
    // A second instance over the same database, with the same keys and upper level.
    let store = hcp_store::Store::connect(&app.db_url, 4).await.unwrap();
    let keys = hcp_app::keys::Keys::load(app.keys.clone(), false).unwrap();
    let other = hcp_app::App::new(store, "http://second", keys)
        .with_upstream(Some(mock.config()), hcp_domain::upstream::Codes::builtin());
    mock.books.lock().unwrap().delay = Duration::from_millis(15);
    let run = |a: hcp_app::App| async move {
        let mut accepted = 0;
        // Both on the real clock: a lease means something only if the instances agree on the time.
        for _ in 0..200 {
            let r = a.push_upstream(a.now()).await.unwrap();
            accepted += r.accepted;
            let s = a.exchange_status().await.unwrap();
            if r == Default::default() && s.kinds.iter().all(|k| k.waiting == 0 && k.sent == 0) {
                return accepted;
            }
        }
        panic!("not settled");
    };
    let (first, second) = tokio::join!(run(app.app.clone()), run(other));
    assert_eq!(first + second, 180);
    assert!(first > 0 && second > 0, "both instances sent a share: {first} and {second}");
    let b = mock.books.lock().unwrap();
    assert_eq!(b.stored.len(), 180, "120 records and 60 evaluations");
    assert_eq!(b.duplicates, 0, "no item was claimed by both instances");
    assert!(b.violations.is_empty(), "{:?}", b.violations);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_the_queue_sqlite() {
    two_instances_share_the_queue(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_the_queue_postgres() {
    two_instances_share_the_queue(Backend::Postgres).await;
}
