//! Issue 4 §5: every change of state appends an entry to an SM3 hash chain; a row changed straight in the
//! database is found by `hcp audit verify`.

use std::process::Command;

use hcp_store::ChainCheck;
use sqlx::Connection;

use crate::both_backends;
use crate::helpers::{Backend, TestApp, fresh_database, record_body};

both_backends!(changes_are_chained_and_tampering_is_found);

async fn changes_are_chained_and_tampering_is_found(app: TestApp) {
    let (id, token) = app.register(&record_body("A-1")).await;
    let (status, _) = app.evaluate(&token, "satisfied", &[], None).await;
    assert_eq!(status, 201);
    app.register(&record_body("A-2")).await;
    app.app.run_jobs(chrono::Utc::now() + chrono::Duration::days(9)).await.unwrap();

    let entries = app.app.store.audit_entries("", 0, 100).await.unwrap();
    // The catalog load, the demo key, then our changes in order (besides the monthly report drafts the jobs
    // make: last month's, and — nine days on — this month's).
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).filter(|a| *a != "report.draft").collect();
    assert!(
        actions.ends_with(&["record.register", "evaluation.create", "record.register", "evaluation.default"]),
        "{actions:?}"
    );
    let create = entries.iter().find(|e| e.action == "evaluation.create").unwrap();
    assert_eq!(create.target, format!("service_record:{id}"));
    assert!(create.details.contains(r#""level":"satisfied""#) && create.details.contains(r#""channel":"qr_code""#));
    assert!(
        entries.iter().all(|e| !e.details.contains("13812345678") && !e.details.contains("张三")),
        "no personal data"
    );
    assert!(matches!(app.app.store.verify_audit_chain().await.unwrap(), ChainCheck::Intact { .. }));

    // Someone with database access turns a bad review into a good one in the log.
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&app.db_url).await.unwrap();
    sqlx::query("UPDATE audit_log SET details = replace(details, 'satisfied', 'very_satisfied') WHERE seq = $1")
        .bind(create.seq)
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        app.app.store.verify_audit_chain().await.unwrap(),
        ChainCheck::Broken { seq: create.seq, reason: "content" }
    );
}

#[tokio::test]
async fn concurrent_appends_from_two_instances_keep_one_chain() {
    let Some((url, _dir)) = fresh_database(Backend::Postgres).await else { return };
    let a = hcp_store::Store::connect(&url, 4).await.unwrap();
    a.migrate().await.unwrap();
    let b = hcp_store::Store::connect(&url, 4).await.unwrap();
    let entry = |n: usize| hcp_store::NewAudit {
        at: chrono::Utc::now(),
        actor: "test".into(),
        action: "test.append",
        target: format!("n:{n}"),
        details: "{}".into(),
    };
    let mut tasks = Vec::new();
    for n in 0..40 {
        let s = if n % 2 == 0 { a.clone() } else { b.clone() };
        let e = entry(n);
        tasks.push(tokio::spawn(async move { s.append_audit(&[e.clone(), e]).await.unwrap() }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(a.verify_audit_chain().await.unwrap(), ChainCheck::Intact { entries: 80 });
}

#[tokio::test]
async fn verify_from_the_command_line() {
    let (url, _dir) = fresh_database(Backend::Sqlite).await.unwrap();
    let hcp = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_hcp")).args(args).env("HCP_DATABASE_URL", &url).output().unwrap()
    };
    assert!(hcp(&["demo", "--records", "300"]).status.success());
    let o = hcp(&["audit", "verify"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("SM3 链校验通过"));
    let list = String::from_utf8_lossy(&hcp(&["audit", "list", "--action", "demo."]).stdout).to_string();
    assert!(list.contains("demo.load"), "{list}");

    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq = 2").execute(&mut conn).await.unwrap();
    let o = hcp(&["audit", "verify"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("第 2 条缺失"), "{err}");
}
