//! Evaluator data at rest (R11.2, issue 4 §3): encrypted with SM4-GCM, found by blind index, rotated
//! without downtime, and never readable from the database in clear.

use std::process::Command;

use hcp_app::App;
use hcp_app::keys::{KeySource, Keys};
use sqlx::{Connection, Row};

use crate::both_backends;
use crate::helpers::{Backend, ID_NUMBER, TestApp, fresh_database, record_body};

both_backends!(personal_data_is_not_in_the_database_in_clear);

async fn personal_data_is_not_in_the_database_in_clear(app: TestApp) {
    let (id, _) = app.register(&record_body("P-1")).await;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&app.db_url).await.unwrap();
    let row = sqlx::query(
        "SELECT applicant_key_id, applicant_name_enc, applicant_id_number_enc, applicant_mobile_enc,
                applicant_id_number_idx, applicant_mobile_idx
         FROM service_record WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let columns: Vec<String> = (0..6).map(|i| row.try_get::<String, _>(i).unwrap()).collect();
    assert_eq!(columns[0], "k1");
    for c in &columns {
        assert!(!c.contains("张三") && !c.contains(ID_NUMBER) && !c.contains("13812345678"), "{c}");
    }
    let rec = app.app.store.record_by_id(id).await.unwrap().unwrap();
    let plain = app.app.keys.open(&rec).unwrap();
    assert_eq!(
        (plain.name.as_str(), plain.id_number.as_str(), plain.mobile.as_str()),
        ("张三", ID_NUMBER, "13812345678")
    );
    assert!(!format!("{plain:?}").contains("张三"), "Debug never shows personal data");
    let ring = app.app.keys.current();
    assert_eq!(rec.applicant_mobile_idx, hcp_app::keys::mobile_index(&ring, "13812345678"));
    assert_eq!(rec.applicant_id_number_idx, hcp_app::keys::id_number_index(&ring, ID_NUMBER));
}

fn hcp(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hcp")).args(args).env_remove("HCP_DATA_KEYS").output().unwrap()
}

#[tokio::test]
async fn keys_rotate_re_encrypts_everything_and_old_data_stays_readable() {
    let (url, dir) = fresh_database(Backend::Sqlite).await.unwrap();
    let o = hcp(&["demo", "--records", "1200", "--database-url", &url]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let key_file = dir.as_ref().unwrap().path().join("hcp.db.keys");
    let before = std::fs::read_to_string(&key_file).unwrap();
    assert!(before.contains("key k1"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
        // The database and its WAL are the owner's only too (issue 14 §8).
        for name in ["hcp.db", "hcp.db-wal"] {
            let path = dir.as_ref().unwrap().path().join(name);
            if path.exists() {
                assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600, "{name}");
            }
        }
    }

    let o = hcp(&["keys", "rotate", "--database-url", &url]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        // The demo's 1,200 records and the two of its story (issue 28 §7).
        out.contains("当前数据密钥:k2") && out.contains("重新加密 1202 条") && out.contains("旧密钥下 0 条"),
        "{out}"
    );
    let after = std::fs::read_to_string(&key_file).unwrap();
    assert!(after.starts_with(&before) && after.contains("key k2"), "the old key stays until removed");

    let store = hcp_store::Store::connect(&url, 2).await.unwrap();
    assert_eq!(store.applicant_key_counts().await.unwrap(), vec![("k2".to_string(), 1202)]);
    // Staff members' mobiles and ID numbers (issue 13) went under the new key too.
    assert!(out.contains("项工作人员信息") && !out.contains("、0 项工作人员信息"), "{out}");
    assert!(store.staff_fields_not_under("k2").await.unwrap().is_empty());
    let app = App::new(store, "", Keys::load(KeySource::File(key_file.clone()), false).unwrap());
    let rec = app.store.record_by_id(1).await.unwrap().unwrap();
    let plain = app.keys.open(&rec).unwrap();
    assert_eq!(plain.mobile.len(), 11);

    // Without its keys, a database with records refuses to start rather than make new ones.
    std::fs::rename(&key_file, key_file.with_extension("moved")).unwrap();
    let o = hcp(&["jobs", "run", "--now", "2026-01-01T00:00:00+08:00", "--database-url", &url]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("必须使用原来的数据密钥"));
    assert!(!key_file.exists(), "no new key file was made");
}
