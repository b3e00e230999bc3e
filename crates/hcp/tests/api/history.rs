//! Issue 16 §2: `hcp import history` — an earlier system's records and evaluations with their original times,
//! all or nothing, every bad line named; written as if live (rollups, cases without notices, the audit chain,
//! what each evaluation came with).

use std::process::Command;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::both_backends;
use crate::cases::Api;
use crate::helpers::{ID_NUMBER, TestApp};

both_backends!(a_history_comes_in_as_if_live, a_bad_history_is_refused_whole);

fn line(number: &str, completed: DateTime<Utc>, evaluation: Value) -> String {
    json!({
        "record_number": number,
        "item_code": "QS010001",
        "org_code": "510899D01",
        "window_code": "W-510899-C01",
        "staff_number": "QS0001",
        "applicant": { "kind": "person", "name": "张三", "id_number": ID_NUMBER, "mobile": "13812345678" },
        "received_at": (completed - Duration::hours(3)).to_rfc3339(),
        "completed_at": completed.to_rfc3339(),
        "evaluation": evaluation,
    })
    .to_string()
}

async fn import(app: &TestApp, text: &str) -> Result<hcp_app::history::HistoryReport, Vec<String>> {
    let actor = hcp_app::audit::Actor::operator();
    match app.app.import_history(&actor, "history.jsonl", text, &|_, _| {}).await {
        Ok(r) => Ok(r),
        Err(hcp_app::AppError::Invalid(v)) => Err(v.into_iter().map(|v| v.message).collect()),
        Err(e) => panic!("{e:?}"),
    }
}

async fn a_history_comes_in_as_if_live(app: TestApp) {
    Api::new(&app).await; // the accounts, the hotline agent among them
    let done = Utc::now() - Duration::days(40);
    let lines = [
        line(
            "H-1",
            done,
            json!({ "level": "very_satisfied", "indicator_ids": ["S111"], "channel": "kiosk",
                    "created_at": (done + Duration::minutes(2)).to_rfc3339(), "device_code": "K-510899-01",
                    "client_address": "10.20.30.41" }),
        ),
        line(
            "H-2",
            done,
            json!({ "level": "dissatisfied", "comment": "材料清单不清楚,跑了三趟", "channel": "hotline",
                    "created_at": (done + Duration::days(2)).to_rfc3339(), "agent_username": "hotline" }),
        ),
        line("H-3", done, Value::Null),
        line(
            "H-4",
            done - Duration::days(1),
            json!({ "level": "satisfied", "staff_indicator_ids": ["P21"], "channel": "qr_code",
                    "created_at": done.to_rfc3339(), "comment": null, "indicator_ids": null }),
        ),
    ];
    let before = app.app.store.pending_messages(1000).await.unwrap().len();
    let report = import(&app, &(lines.join("\n") + "\n")).await.unwrap();
    assert_eq!((report.records, report.evaluations, report.bad_reviews), (4, 3, 1));
    assert_eq!(report.summary(), "导入办件 4 件,评价 3 条,其中差评 1 条(已生成差评工单)。");

    // Original times; rollups as if live; the chain intact.
    let (_, h1) = record(&app, "H-1").await;
    let e1 = app.app.store.first_evaluation(h1).await.unwrap().unwrap();
    assert_eq!(e1.created_at.timestamp(), (done + Duration::minutes(2)).timestamp());
    assert_eq!(app.app.store.rollup_mismatches().await.unwrap(), Vec::<String>::new());
    assert!(matches!(app.app.store.verify_audit_chain().await.unwrap(), hcp_store::audit::ChainCheck::Intact { .. }));
    assert_eq!(app.app.store.audit_entries("evaluation.import", 0, 10).await.unwrap().len(), 3);
    assert_eq!(app.app.store.audit_entries("history.import", 0, 10).await.unwrap().len(), 1);
    // Not reported upward again: the earlier system reported its own history.
    let queued = app.app.store.upstream_counts().await.unwrap();
    assert!(queued.iter().all(|c| c.kind != "evaluation" || c.count == 0), "{queued:?}");

    // What the evaluation came with: the device, the address only masked and blind-indexed.
    sqlx::any::install_default_drivers();
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.db_url).await.unwrap();
    let (device, masked, idx): (Option<String>, Option<String>, Option<String>) = sqlx::query_as(
        "SELECT device_code, client_address_masked, client_address_idx FROM evaluation_context WHERE evaluation_id = $1",
    )
    .bind(e1.id)
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!((device.as_deref(), masked.as_deref()), (Some("K-510899-01"), Some("10.20.30.*")));
    assert!(idx.is_some_and(|i| !i.contains("10.20.30.41")));

    // The bad review has its case, unassigned, nobody notified of what happened weeks ago, and the center's
    // dispatch clock runs from the import, not from the bad review.
    let (_, h2) = record(&app, "H-2").await;
    let e2 = app.app.store.first_evaluation(h2).await.unwrap().unwrap();
    assert_eq!(e2.channel, "hotline");
    let case = app.app.store.case_of_evaluation(e2.id).await.unwrap().expect("a case");
    assert_eq!(app.app.store.pending_messages(1000).await.unwrap().len(), before, "no notices");
    assert_eq!(app.app.run_case_clock(Utc::now() + Duration::minutes(5)).await.unwrap().dispatch_missed, 0);
    let later = app.app.run_case_clock(Utc::now() + Duration::days(5)).await.unwrap();
    assert_eq!(later.dispatch_missed, 1, "late from the import on");
    assert!(app.app.store.case_by_id(case.id).await.unwrap().unwrap().fields.dispatch_missed);

    // The unrated one gets its default from the next job run (its 7 days are long over).
    let (_, h3) = record(&app, "H-3").await;
    app.app.run_jobs(Utc::now()).await.unwrap();
    assert!(app.app.store.first_evaluation(h3).await.unwrap().is_some_and(|e| e.is_default));

    // The same file again: every line is already stored.
    let errors = import(&app, &lines.join("\n")).await.unwrap_err();
    assert_eq!(errors.len(), 4, "{errors:#?}");
    assert!(errors[0].starts_with("第 1 行 record_number: 办件编号“H-1”已在系统中"), "{errors:#?}");
}

async fn record(app: &TestApp, number: &str) -> (String, i64) {
    sqlx::any::install_default_drivers();
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.db_url).await.unwrap();
    let id: i64 = sqlx::query_scalar("SELECT id FROM service_record WHERE record_number = $1")
        .bind(number)
        .fetch_one(&mut db)
        .await
        .unwrap();
    (number.to_string(), id)
}

async fn a_bad_history_is_refused_whole(app: TestApp) {
    let done = Utc::now() - Duration::days(10);
    let ok = |n: &str| line(n, done, Value::Null);
    let mut unknown = json!({});
    if let Value::Object(m) = &mut unknown {
        m.insert("x".into(), json!(1));
    }
    let eval = |extra: Value| {
        let mut e = json!({ "level": "satisfied", "staff_indicator_ids": ["P21"], "channel": "qr_code",
                            "created_at": (done + Duration::hours(1)).to_rfc3339() });
        if let (Value::Object(e), Value::Object(x)) = (&mut e, extra) {
            e.extend(x);
        }
        e
    };
    let mut wrong_org: Value = serde_json::from_str(&ok("B-6")).unwrap();
    wrong_org["org_code"] = json!("999999");
    wrong_org["item_code"] = json!("NOPE");
    let lines = [
        ok("B-1"),
        ok("B-1"),
        "{not json".to_string(),
        line("B-4", done, eval(json!({ "created_at": (done - Duration::hours(1)).to_rfc3339() }))),
        line("B-5", done, eval(json!({ "channel": "system" }))),
        wrong_org.to_string(),
        line("B-7", done, eval(json!({ "device_code": "NO-SUCH-DEVICE", "client_address": "300.1.1.1" }))),
        line("B-8", done, eval(json!({ "created_at": (done + Duration::days(9)).to_rfc3339() }))),
        r#"{"record_number": "B-9"}"#.to_string(),
        line("B-10", done, eval(json!({ "agent_username": "hotline" }))),
        json!({ "record_number": "B-11", "surprise": true }).to_string(),
        // Issue 29 §8: only a hotline agent may be named as the agent — not a system administrator.
        line("B-12", done, eval(json!({ "channel": "hotline", "agent_username": "admin" }))),
        // Issue 29 §1: a line past the bound is refused without being held.
        format!("{{\"record_number\": \"{}\"}}", "x".repeat(100_000)),
    ];
    let errors = import(&app, &lines.join("\n")).await.unwrap_err();
    for expected in [
        "第 2 行 record_number: 办件编号“B-1”与第 1 行重复",
        "第 3 行 -: 不是一个有效的 JSON 对象",
        "第 4 行 evaluation.created_at: 评价时间早于办结时间",
        "第 5 行 evaluation.channel:",
        "第 6 行 org_code: 机构代码“999999”不存在",
        "第 6 行 item_code:",
        "第 7 行 evaluation.device_code: 评价设备“NO-SUCH-DEVICE”未登记",
        "第 7 行 evaluation.client_address:",
        "第 8 行 evaluation.created_at: 评价时间超出办结后 7 个自然日的评价期",
        "第 9 行 item_code: 缺少该字段",
        "第 10 行 evaluation.agent_username:",
        "第 11 行 surprise: 不认识的字段",
        "第 12 行 evaluation.agent_username: “admin”不是12345热线坐席的账号",
        "第 13 行 -: 该行超过 64 KB",
    ] {
        assert!(errors.iter().any(|e| e.starts_with(expected)), "{expected}\n{errors:#?}");
    }
    assert!(!errors.iter().any(|e| e.starts_with("第 1 行")), "the first B-1 is fine: {errors:#?}");
    let count: i64 = {
        sqlx::any::install_default_drivers();
        let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.db_url).await.unwrap();
        sqlx::query_scalar("SELECT COUNT(*) FROM service_record WHERE record_number LIKE 'B-%'")
            .fetch_one(&mut db)
            .await
            .unwrap()
    };
    assert_eq!(count, 0, "nothing half-imported");
    assert!(import(&app, "\n\n").await.unwrap_err()[0].contains("没有办件"));
}

#[tokio::test]
async fn the_cli_imports_history_and_prints_every_bad_line() {
    let (url, dir) = crate::helpers::fresh_database(crate::helpers::Backend::Sqlite).await.unwrap();
    let dir = dir.unwrap();
    let hcp = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_hcp")).args(args).env_remove("HCP_DATABASE_URL").output().unwrap()
    };
    assert!(hcp(&["demo", "--records", "0", "--database-url", &url]).status.success());
    let done = Utc::now() - Duration::days(3);
    let text: String = (0..2000)
        .map(|i| {
            let level = if i % 10 == 0 { "dissatisfied" } else { "very_satisfied" };
            let criteria = if i % 10 == 0 { "S411" } else { "S111" };
            let e = json!({ "level": level, "indicator_ids": [criteria], "channel": "qr_code",
                            "created_at": (done + Duration::minutes(i)).to_rfc3339() });
            line(&format!("CLI-{i}"), done, e) + "\n"
        })
        .collect();
    let file = dir.path().join("history.jsonl");
    std::fs::write(&file, &text).unwrap();
    let o = hcp(&["import", "history", file.to_str().unwrap(), "--database-url", &url]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("导入办件 2000 件,评价 2000 条,其中差评 200 条"), "{out}");
    // The integrity scan over it, from the command line.
    let day = hcp_domain::calendar::business_date(done).to_string();
    let o = hcp(&["integrity", "scan", "--from", &day, "--to", &day, "--database-url", &url]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("条评价:发现线索"), "{}", String::from_utf8_lossy(&o.stdout));
    let o = hcp(&["integrity", "scan", "--from", &day, "--to", "2020-01-01", "--database-url", &url]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("结束日期不能早于开始日期"));

    // A bad line, a line of 5 MB without an end and a line that is not UTF-8, read one bounded line at a time.
    let mut bytes =
        (line("CLI-1", done, Value::Null) + "\n" + &line("CLI-X", done, json!({ "level": "nope" }))).into_bytes();
    bytes.extend_from_slice(b"\n\xff\xfe not text\n");
    bytes.extend(std::iter::repeat_n(b'{', 5 * 1024 * 1024));
    std::fs::write(&file, bytes).unwrap();
    let o = hcp(&["import", "history", file.to_str().unwrap(), "--database-url", &url]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("第 1 行 record_number: 办件编号“CLI-1”已在系统中"), "{err}");
    assert!(err.contains("第 2 行 channel: 缺少该字段") || err.contains("第 2 行 evaluation"), "{err}");
    assert!(err.contains("第 3 行 -: 该行不是 UTF-8 文本"), "{err}");
    assert!(err.contains("第 4 行 -: 该行超过 64 KB"), "{err}");
    assert!(err.contains("未导入任何内容"), "{err}");
}
