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
    // The catalog load, the demo key, then our changes in order (besides what the jobs make by the calendar:
    // the monthly report drafts — last month's, and nine days on this month's — and the daily integrity scan).
    let actions: Vec<&str> =
        entries.iter().map(|e| e.action.as_str()).filter(|a| *a != "report.draft" && *a != "integrity.scan").collect();
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
    // Both instances hold the same data keys, so the same audit key.
    a.set_audit_key([7; 32]);
    b.set_audit_key([7; 32]);
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
    assert_eq!(a.verify_audit_chain().await.unwrap(), ChainCheck::Intact { entries: 80, keyed_from: 1 });
    // Without the key nothing can be appended to (or verified on) a keyed chain.
    let c = hcp_store::Store::connect(&url, 1).await.unwrap();
    assert!(c.append_audit(&[entry(99)]).await.is_err());
    assert!(c.verify_audit_chain().await.is_err());
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
    assert!(String::from_utf8_lossy(&o.stdout).contains("HMAC-SM3 链校验通过"));
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

/// The attack of issue 14: a copy of the database rewritten — one reveal turned into another action — and the
/// chain recomputed. Without the key the recomputed chain does not verify; a rewrite that also unkeys the chain
/// passes the chain check but not the anchors kept outside.
#[tokio::test]
async fn a_forged_chain_is_caught_by_the_key_and_the_anchor() {
    let (url, dir) = fresh_database(Backend::Sqlite).await.unwrap();
    let hcp = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_hcp")).args(args).env("HCP_DATABASE_URL", &url).output().unwrap()
    };
    assert!(hcp(&["demo", "--records", "50"]).status.success());
    let o = hcp(&["audit", "anchor"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let line = String::from_utf8_lossy(&o.stdout).trim().to_string();
    let words: Vec<&str> = line.split(' ').collect();
    assert_eq!((words.len(), words[0], words[2].len(), words[3]), (5, "seq", 64, "keyed-from"), "{line}");
    let anchor_file = dir.as_ref().unwrap().path().join("anchors.txt");
    std::fs::write(&anchor_file, format!("{line}\n")).unwrap();
    let anchor = anchor_file.to_str().unwrap();
    let o = hcp(&["audit", "verify", "--anchor", anchor]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("1 个锚点均与日志一致"));

    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    // Rewrite entry 3 and recompute every hash from there with SM3, as one could without the key.
    rewrite(&mut conn).await;
    let o = hcp(&["audit", "verify"]);
    assert!(!o.status.success(), "a chain recomputed without the key does not verify");
    assert!(String::from_utf8_lossy(&o.stderr).contains("第 1 条"), "{}", String::from_utf8_lossy(&o.stderr));

    // The forger also clears the keyed marker (issue 29 §2: this passed with a soft note): every database has
    // the marker, so its absence alone fails …
    sqlx::query("UPDATE audit_head SET mac_from = NULL").execute(&mut conn).await.unwrap();
    let o = hcp(&["audit", "verify"]);
    assert!(!o.status.success(), "a downgraded chain does not verify");
    assert!(String::from_utf8_lossy(&o.stderr).contains("密钥标记被清除"), "{}", String::from_utf8_lossy(&o.stderr));
    // … and marking the whole chain as written before keying contradicts the anchor's record of where the keyed
    // chain starts.
    sqlx::query("UPDATE audit_head SET mac_from = seq + 1").execute(&mut conn).await.unwrap();
    let o = hcp(&["audit", "verify", "--anchor", anchor]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("密钥链起点与锚点记录不符"), "{err}");
    // With an anchor line of the old shape (no keyed-from), the anchored hash catches it.
    std::fs::write(&anchor_file, format!("{}\n", words[..3].join(" "))).unwrap();
    let o = hcp(&["audit", "verify", "--anchor", anchor]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("与锚点不符"), "{err}");
}

/// Issue 29 §2: `hcp audit verify` finds the anchors `serve` keeps beside the keys without being told, and a
/// chain cut short after its last anchor — the newest entries deleted, the head fixed — is refused.
#[tokio::test]
async fn a_shortened_chain_is_caught_by_the_anchors_beside_the_keys() {
    let (url, dir) = fresh_database(Backend::Sqlite).await.unwrap();
    let hcp = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_hcp")).args(args).env("HCP_DATABASE_URL", &url).output().unwrap()
    };
    assert!(hcp(&["demo", "--records", "50"]).status.success());
    let o = hcp(&["audit", "verify"]);
    let said = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success() && said.contains("未找到锚点"), "{said}");
    // What serve writes at start and daily, beside the keys.
    let anchors = dir.as_ref().unwrap().path().join("hcp.db.keys.anchors");
    let line = String::from_utf8_lossy(&hcp(&["audit", "anchor"]).stdout).to_string();
    std::fs::write(&anchors, &line).unwrap();
    let o = hcp(&["audit", "verify"]);
    let said = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success() && said.contains("1 个锚点均与日志一致"), "{said}");

    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    shorten(&mut conn, 3).await;
    let o = hcp(&["audit", "verify"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("审计日志比锚点短"), "{err}");
    // serve refuses to start on it, and says how to proceed.
    let o = hcp(&["serve", "--listen", "127.0.0.1:0", "--no-jobs"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("比锚点短") && err.contains("--accept-audit-mismatch"), "{err}");
    let o = hcp(&["doctor"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("✗ 审计日志"), "{}", String::from_utf8_lossy(&o.stdout));
}

/// Deletes the newest `n` entries and points the head at the one before, as a writer without the key can.
async fn shorten(conn: &mut sqlx::AnyConnection, n: i64) {
    let (head,): (i64,) = sqlx::query_as("SELECT seq FROM audit_head").fetch_one(&mut *conn).await.unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq > $1").bind(head - n).execute(&mut *conn).await.unwrap();
    let (hash,): (String,) =
        sqlx::query_as("SELECT hash FROM audit_log WHERE seq = $1").bind(head - n).fetch_one(&mut *conn).await.unwrap();
    sqlx::query("UPDATE audit_head SET seq = $1, last_hash = $2")
        .bind(head - n)
        .bind(hash)
        .execute(&mut *conn)
        .await
        .unwrap();
}

both_backends!(the_server_checks_its_chain_against_the_anchors_at_start);

/// Issue 29 §2: the server refuses to start on a downgraded or shortened chain; with `--accept-audit-mismatch`
/// it starts, records that it did, and every administrator's home page carries the alert.
async fn the_server_checks_its_chain_against_the_anchors_at_start(app: TestApp) {
    crate::console::make_accounts(&app).await;
    app.register(&record_body("AN-1")).await;
    let dir = tempfile::tempdir().unwrap();
    let anchors = dir.path().join("anchors");
    let line = hcp::audit::anchor_line(&app.app.store).await.unwrap();
    std::fs::write(&anchors, format!("{line}\n")).unwrap();
    let build = |accept: bool| {
        let mut cfg = hcp::ServeConfig::new(&app.db_url, "127.0.0.1:0".parse().unwrap());
        cfg.jobs = false;
        cfg.keys = app.keys.clone();
        cfg.audit_anchors = Some(anchors.clone());
        cfg.accept_audit_mismatch = accept;
        async move { hcp::Application::build(&cfg).await }
    };
    let refused = |r: anyhow::Result<hcp::Application>| r.err().map(|e| format!("{e:#}")).unwrap_or_default();
    assert!(build(false).await.is_ok(), "an intact chain starts");
    app.register(&record_body("AN-2")).await;
    assert!(build(false).await.is_ok(), "entries after the last anchor are checked and fine");

    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&app.db_url).await.unwrap();
    let (keyed_from,): (i64,) = sqlx::query_as("SELECT mac_from FROM audit_head").fetch_one(&mut conn).await.unwrap();
    sqlx::query("UPDATE audit_head SET mac_from = NULL").execute(&mut conn).await.unwrap();
    assert!(refused(build(false).await).contains("密钥标记被清除"));
    sqlx::query("UPDATE audit_head SET mac_from = seq + 1").execute(&mut conn).await.unwrap();
    assert!(refused(build(false).await).contains("密钥链起点与锚点记录不符"));
    sqlx::query("UPDATE audit_head SET mac_from = $1").bind(keyed_from).execute(&mut conn).await.unwrap();
    assert!(build(false).await.is_ok());
    let anchored: i64 = line.split(' ').nth(1).unwrap().parse().unwrap();
    let (head,): (i64,) = sqlx::query_as("SELECT seq FROM audit_head").fetch_one(&mut conn).await.unwrap();
    shorten(&mut conn, head - anchored + 2).await;
    let why = refused(build(false).await);
    assert!(why.contains("比锚点短") && why.contains("--accept-audit-mismatch"), "{why}");

    let started = build(true).await.expect("starts when told to");
    let alert = started.app().deployment.audit_alert.clone().expect("the alert");
    assert!(alert.contains("比锚点短"), "{alert}");
    let base = format!("http://{}", started.local_addr());
    tokio::spawn(started.run_until_stopped());
    let log = app.app.store.audit_entries("audit.mismatch_accepted", 0, 10).await.unwrap();
    assert_eq!(log.len(), 1, "the start on a mismatched chain is itself in the log");
    for who in ["admin", "auditor", "office", "center"] {
        let b = crate::console::login_at(&base, who, crate::cases::PASSWORD).await;
        let (_, home) = b.get("/console").await;
        assert!(home.contains("审计日志警报") && home.contains("比锚点短"), "{who}: {home}");
    }
    let staff = crate::console::login_at(&base, "unit", crate::cases::PASSWORD).await;
    assert!(!staff.get("/console").await.1.contains("审计日志警报"), "units are not administrators");
}

/// Turns entry 3 into another action and recomputes every hash with plain SM3.
async fn rewrite(conn: &mut sqlx::AnyConnection) {
    sqlx::query("UPDATE audit_log SET action = 'applicant.view' WHERE seq = 3").execute(&mut *conn).await.unwrap();
    let rows: Vec<(i64, i64, String, String, String, String)> =
        sqlx::query_as("SELECT seq, at, actor, action, target, details FROM audit_log ORDER BY seq")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    let mut prev = "0".repeat(64);
    for (seq, at, actor, action, target, details) in rows {
        let h = hcp_store::audit::entry_hash(None, &prev, seq, at, &actor, &action, &target, &details);
        sqlx::query("UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3")
            .bind(&prev)
            .bind(&h)
            .bind(seq)
            .execute(&mut *conn)
            .await
            .unwrap();
        prev = h;
    }
    sqlx::query("UPDATE audit_head SET last_hash = $1").bind(prev).execute(&mut *conn).await.unwrap();
}

/// `serve` writes the head to the anchor file beside the data keys when it starts (and daily after), and keeps
/// the files it opens owner-only.
#[tokio::test]
async fn serve_writes_the_daily_anchor_beside_the_keys() {
    let (url, dir) = fresh_database(Backend::Sqlite).await.unwrap();
    let keys = dir.as_ref().unwrap().path().join("hcp.db.keys");
    let db = dir.as_ref().unwrap().path().join("hcp.db");
    // Issue 29 §7: a database copied in readable by every user of the server is made owner-only, and said so.
    let made =
        Command::new(env!("CARGO_BIN_EXE_hcp")).args(["demo", "--records", "20", "--database-url", &url]).output();
    assert!(made.unwrap().status.success());
    let stdout_file = dir.as_ref().unwrap().path().join("serve.out");
    #[cfg(unix)]
    let modes = |p: &std::path::Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777).unwrap_or(0)
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(modes(&db), 0o644);
    }
    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_hcp"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", &url])
        .stdout(std::fs::File::create(&stdout_file).unwrap())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let anchors = std::path::PathBuf::from(format!("{}.anchors", keys.display()));
    let mut text = String::new();
    for _ in 0..100 {
        text = std::fs::read_to_string(&anchors).unwrap_or_default();
        if text.starts_with("seq ") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut said = String::new();
    for _ in 0..100 {
        said = std::fs::read_to_string(&stdout_file).unwrap_or_default();
        if said.contains("listening on") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    server.kill().await.unwrap();
    assert!(text.starts_with("seq ") && text.ends_with('\n'), "{text:?}");
    #[cfg(unix)]
    {
        assert_eq!((modes(&anchors), modes(&db), modes(&keys)), (0o600, 0o600, 0o600));
        assert!(said.contains("的权限从 644 改为 600"), "{said}");
    }
    let o = Command::new(env!("CARGO_BIN_EXE_hcp"))
        .args(["audit", "verify", "--anchor", anchors.to_str().unwrap()])
        .env("HCP_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// A database deleted and started afresh (the demo reset, a county initialised again) beside the anchors of the
/// earlier one starts: an empty county is no quiet forgery. The old anchors are kept aside, not lost.
#[tokio::test]
async fn an_empty_database_starts_beside_an_earlier_chains_anchors() {
    let (url, dir) = fresh_database(Backend::Sqlite).await.unwrap();
    let dir = dir.unwrap();
    let anchors = dir.path().join("old.anchors");
    std::fs::write(&anchors, format!("seq 500 {} keyed-from 1\n", "ab".repeat(32))).unwrap();
    let mut cfg = hcp::ServeConfig::new(&url, "127.0.0.1:0".parse().unwrap());
    cfg.jobs = false;
    cfg.audit_anchors = Some(anchors.clone());
    let started = hcp::Application::build(&cfg).await.expect("an empty database starts");
    assert!(started.app().deployment.audit_alert.is_none());
    assert!(!anchors.exists(), "the earlier chain's anchors are moved aside");
    let kept: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("old.anchors.before-"))
        .collect();
    assert_eq!(kept.len(), 1, "kept, renamed");
}
