//! The test harness: a real server on port 0 over a fresh database per test, on SQLite always and on
//! PostgreSQL whenever `HCP_TEST_DATABASE_URL` is set (a fresh database is created in that server).

use std::io::Write;
use std::sync::Once;

use hcp::{Application, ServeConfig};
use hcp_app::App;
use hcp_app::demo::DemoOptions;
use serde_json::{Value, json};
use sqlx::{Connection, Executor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    /// A key for the whole county (the demo's integrating system).
    pub api_key: String,
    pub app: App,
    pub db_url: String,
    /// Where the data keys are (a second instance over the same database needs the same keys).
    pub keys: hcp_app::keys::KeySource,
    _dir: Option<tempfile::TempDir>,
}

static SKIP_NOTICE: Once = Once::new();

/// A database URL for a fresh, empty database of this backend, or `None` when PostgreSQL is not configured.
/// The temp dir (SQLite) must outlive the database.
pub async fn fresh_database(backend: Backend) -> Option<(String, Option<tempfile::TempDir>)> {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("hcp.db").display());
            Some((url, Some(dir)))
        }
        Backend::Postgres => {
            let Ok(base) = std::env::var("HCP_TEST_DATABASE_URL") else {
                SKIP_NOTICE.call_once(|| {
                    // Written past the test harness's capture, so `cargo test` shows it once.
                    let _ = writeln!(
                        std::io::stderr(),
                        "\nNOTE: HCP_TEST_DATABASE_URL is not set: the PostgreSQL half of the suite was skipped \
                         (set it, e.g. postgres://postgres@127.0.0.1:5432/test, to run it).\n"
                    );
                });
                return None;
            };
            let name = format!("hcp_test_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::PgConnection::connect(&base).await.expect("connect to HCP_TEST_DATABASE_URL");
            conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.expect("create test database");
            let (prefix, _) = base.rsplit_once('/').expect("a database URL names its database");
            Some((format!("{prefix}/{name}"), None))
        }
    }
}

/// Starts the server with the demo county's catalog (no records) and a county-wide API key.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// [`spawn_app`] with the server's configuration changed first.
pub async fn spawn_app_with(backend: Backend, configure: impl FnOnce(&mut ServeConfig)) -> Option<TestApp> {
    let (db_url, dir) = fresh_database(backend).await?;
    let mut cfg = ServeConfig::new(&db_url, "127.0.0.1:0".parse().unwrap());
    cfg.jobs = false;
    configure(&mut cfg);
    if backend == Backend::Postgres {
        // SQLite keeps its key file beside the database in the temp dir; PostgreSQL tests keep theirs in memory.
        cfg.keys = hcp_app::keys::KeySource::Text(hcp_crypto::Keyring::generate_text());
    }
    let application = Application::build(&cfg).await.expect("build application");
    let app = application.app().clone();
    let base = format!("http://{}", application.local_addr());
    let report =
        app.seed_demo(&DemoOptions { records: 0, seed: 1, accounts: false }, |_, _| {}).await.expect("seed catalog");
    tokio::spawn(application.run_until_stopped());
    let keys = cfg.keys.clone();
    Some(TestApp { base, http: reqwest::Client::new(), api_key: report.api_key, app, db_url, keys, _dir: dir })
}

/// Runs a test body once per backend: `both_backends!(name, …)` expects `async fn name(app: TestApp)`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await.expect("sqlite");
                super::$name(app).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await {
                    super::$name(app).await;
                }
            }
        }
    )*};
}

/// A valid ID number (GB 11643) for tests.
pub const ID_NUMBER: &str = "11010519491231002X";

/// A record of the demo catalog: 食品经营许可 at comprehensive window 1 of the county hall, staff QS0001.
/// A center administrator over the whole county, to call the use cases as (no account behind it).
pub fn county_center_admin() -> hcp_app::policy::Principal {
    hcp_app::policy::Principal {
        user_id: 0,
        username: "t".into(),
        display_name: "t".into(),
        staff_id: None,
        bindings: vec![hcp_app::policy::Binding {
            role: hcp_app::policy::Role::CenterAdmin,
            org_path: "/".into(),
            org_name: "青山县".into(),
        }],
    }
}

pub fn record_body(number: &str) -> Value {
    let now = chrono::Utc::now();
    json!({
        "record_number": number,
        "item_code": "QS010001",
        "org_code": "510899D01",
        "window_code": "W-510899-C01",
        "staff_number": "QS0001",
        "applicant": { "kind": "person", "name": "张三", "id_number": ID_NUMBER, "mobile": "13812345678" },
        "received_at": (now - chrono::Duration::hours(2)).to_rfc3339(),
        "completed_at": (now - chrono::Duration::hours(1)).to_rfc3339(),
    })
}

impl TestApp {
    /// Starts a second server over the same database and keys (as behind a load balancer); its base URL.
    pub async fn second_instance(&self) -> String {
        let mut cfg = ServeConfig::new(&self.db_url, "127.0.0.1:0".parse().unwrap());
        cfg.jobs = false;
        cfg.keys = self.keys.clone();
        let second = Application::build(&cfg).await.expect("a second instance");
        let base = format!("http://{}", second.local_addr());
        tokio::spawn(second.run_until_stopped());
        base
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn post_json(&self, path: &str, body: &Value, key: Option<&str>) -> (u16, Value) {
        let mut req = self.http.post(self.url(path)).json(body);
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn get_json(&self, path: &str, key: Option<&str>) -> (u16, Value) {
        let mut req = self.http.get(self.url(path));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Registers a record and returns (id, token).
    pub async fn register(&self, body: &Value) -> (i64, String) {
        let (status, v) = self.post_json("/api/v1/service-records", body, Some(&self.api_key)).await;
        assert_eq!(status, 201, "{v}");
        (v["id"].as_i64().unwrap(), v["evaluation_token"].as_str().unwrap().to_string())
    }

    /// The 12345 system registers the ticket of a call about the record (issue 29 §3); the status.
    pub async fn register_ticket(&self, record: i64, ticket: &str) -> (u16, Value) {
        let path = format!("/api/v1/service-records/{record}/hotline-tickets");
        self.post_json(&path, &json!({ "ticket_number": ticket }), Some(&self.api_key)).await
    }

    pub async fn evaluate(&self, token: &str, level: &str, ids: &[&str], comment: Option<&str>) -> (u16, Value) {
        let body = json!({ "token": token, "level": level, "indicator_ids": ids, "staff_indicator_ids": [],
                           "comment": comment, "channel": "qr_code" });
        self.post_json("/api/v1/evaluations", &body, None).await
    }
}
