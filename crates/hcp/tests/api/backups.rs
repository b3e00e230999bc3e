//! Issue 18 §3: `hcp backup`, `hcp backup verify`, `hcp restore` as an operator runs them — a copy taken
//! while evaluations are being written is consistent; a damaged copy, a used directory, a database with data
//! are refused with the reason and nothing is overwritten; PostgreSQL is told to use pg_dump.

use std::path::Path;
use std::process::{Command, Output};

use crate::helpers::{Backend, fresh_database, record_body, spawn_app};

fn hcp(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hcp"))
        .args(args)
        .env_remove("HCP_DATABASE_URL")
        .env_remove("HCP_DATA_KEYS")
        .output()
        .expect("run hcp")
}

fn out(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn back_up_verify_and_restore_with_the_refusals() {
    let (url, dir) = fresh_database(Backend::Sqlite).await.unwrap();
    let dir = dir.unwrap();
    assert!(hcp(&["demo", "--records", "200", "--database-url", &url]).status.success());
    let b = dir.path().join("backup-1");
    let b = b.to_str().unwrap();

    let o = hcp(&["backup", b, "--database-url", &url]);
    assert!(o.status.success(), "{}", out(&o));
    assert_eq!(names(Path::new(b)), ["hcp.db", "hcp.db.keys", "manifest.json"]);
    // Owner-only, folder and every file (issue 29 §7): the copy holds what the database holds, and the keys.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(Path::new(b)), 0o700);
        for f in names(Path::new(b)) {
            assert_eq!(mode(&Path::new(b).join(&f)), 0o600, "{f}");
        }
    }
    // The same directory again: refused, nothing touched.
    let o = hcp(&["backup", b, "--database-url", &url]);
    assert!(!o.status.success());
    assert!(out(&o).contains("不为空"), "{}", out(&o));
    let o = hcp(&["backup", "/proc/hcp-backup", "--database-url", &url]);
    assert!(!o.status.success());
    assert!(out(&o).contains("无法创建备份目录"), "{}", out(&o));
    let o = hcp(&["backup", "--database-url", &url]);
    assert!(!o.status.success() && out(&o).contains("请指定"), "{}", out(&o));

    let o = hcp(&["backup", "verify", b]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("完好"), "{}", out(&o));

    // Restoring over the database it came from: refused without --force.
    let o = hcp(&["restore", b, "--database-url", &url]);
    assert!(!o.status.success());
    assert!(out(&o).contains("已有数据"), "{}", out(&o));

    // Into a new place: the database and its keys, and the copy is whole.
    let target = format!("sqlite://{}", dir.path().join("restored/hcp.db").display());
    let o = hcp(&["restore", b, "--database-url", &target]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(dir.path().join("restored/hcp.db.keys").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let restored = std::fs::metadata(dir.path().join("restored/hcp.db")).unwrap().permissions().mode();
        assert_eq!(restored & 0o777, 0o600, "a restored database is the owner's only");
    }
    for check in [["stats", "check"], ["audit", "verify"]] {
        let o = hcp(&[check[0], check[1], "--database-url", &target]);
        assert!(o.status.success(), "{check:?}: {}", out(&o));
    }

    // A damaged copy: refused by verify and by restore, which writes nothing.
    let damaged = dir.path().join("backup-damaged");
    std::fs::create_dir(&damaged).unwrap();
    for f in names(Path::new(b)) {
        std::fs::copy(Path::new(b).join(&f), damaged.join(&f)).unwrap();
    }
    let mut bytes = std::fs::read(damaged.join("hcp.db")).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xFF;
    std::fs::write(damaged.join("hcp.db"), bytes).unwrap();
    let o = hcp(&["backup", "verify", damaged.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(out(&o).contains("已损坏"), "{}", out(&o));
    let elsewhere = format!("sqlite://{}", dir.path().join("never/hcp.db").display());
    let o = hcp(&["restore", damaged.to_str().unwrap(), "--database-url", &elsewhere]);
    assert!(!o.status.success() && out(&o).contains("已损坏"), "{}", out(&o));
    assert!(!dir.path().join("never").exists());

    // Issue 29 §2: the database gone, its anchors left — a backup older than the last anchor is a shorter chain:
    // refused, unless --force, which keeps the anchors aside.
    let o = Command::new(env!("CARGO_BIN_EXE_hcp"))
        .args(["user", "create", "--username", "late.one", "--role", "auditor", "--org", "510899"])
        .args(["--database-url", &url])
        .env("HCP_NEW_PASSWORD", "a long password")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out(&o));
    let anchor = hcp(&["audit", "anchor", "--database-url", &url]);
    std::fs::create_dir(dir.path().join("again")).unwrap();
    std::fs::write(dir.path().join("again/hcp.db.keys.anchors"), &anchor.stdout).unwrap();
    let again = format!("sqlite://{}", dir.path().join("again/hcp.db").display());
    let o = hcp(&["restore", b, "--database-url", &again]);
    assert!(!o.status.success() && out(&o).contains("比锚点短") && out(&o).contains("--force"), "{}", out(&o));
    assert!(!dir.path().join("again/hcp.db").exists(), "nothing written");
    let o = hcp(&["restore", b, "--database-url", &again, "--force"]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(names(&dir.path().join("again")).iter().any(|n| n.starts_with("hcp.db.keys.anchors.before-restore-")));

    // With --force over the original: the old files are kept aside, renamed.
    let o = hcp(&["restore", b, "--database-url", &url, "--force"]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(names(dir.path()).iter().any(|n| n.starts_with("hcp.db.before-restore-")), "{:?}", names(dir.path()));
    assert!(hcp(&["stats", "check", "--database-url", &url]).status.success());
}

/// A backup taken while evaluations are being written is one instant's database: its rollups equal a
/// recomputation and its audit chain holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_serving_is_consistent() {
    let app = std::sync::Arc::new(spawn_app(Backend::Sqlite).await.unwrap());
    let writer = {
        let app = app.clone();
        tokio::spawn(async move {
            for i in 0..60 {
                let (_, token) = app.register(&record_body(&format!("BK-{i}"))).await;
                let level = if i % 7 == 0 { "very_dissatisfied" } else { "satisfied" };
                assert_eq!(app.evaluate(&token, level, &[], Some("备份期间的评价")).await.0, 201);
            }
        })
    };
    let root = tempfile::tempdir().unwrap();
    let mut taken = Vec::new();
    for n in 0..3 {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        let dir = root.path().join(format!("b{n}"));
        hcp::backup::backup(&app.app.store, &app.keys, &dir).await.unwrap();
        taken.push(dir);
    }
    writer.await.unwrap();
    for dir in &taken {
        let r = hcp::backup::verify(dir).await.unwrap_or_else(|e| panic!("{}: {e:#}", dir.display()));
        assert!(r.audit_entries > 0);
    }
    // The nightly keeps the newest N.
    let removed = hcp::backup::prune(root.path(), 2).unwrap();
    assert_eq!(removed, [root.path().join("b0")]);
}

/// PostgreSQL: the keys are kept and the operator is told how to use pg_dump (with the server's version).
#[tokio::test]
async fn postgres_is_told_to_use_pg_dump() {
    let Some((url, _)) = fresh_database(Backend::Postgres).await else { return };
    let root = tempfile::tempdir().unwrap();
    let keys = root.path().join("pg.keys");
    let keys = keys.to_str().unwrap();
    assert!(hcp(&["keys", "init", "--database-url", &url, "--data-keys-file", keys]).status.success());
    let b = root.path().join("b");
    let o = hcp(&["backup", b.to_str().unwrap(), "--database-url", &url, "--data-keys-file", keys]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("pg_dump --format=custom"), "{}", out(&o));
    assert_eq!(names(&b), ["hcp.db.keys", "manifest.json"]);
    assert!(hcp(&["backup", "verify", b.to_str().unwrap()]).status.success());
    let o = hcp(&["restore", b.to_str().unwrap(), "--database-url", &url, "--data-keys-file", keys]);
    assert!(!o.status.success() && out(&o).contains("pg_restore"), "{}", out(&o));
}
