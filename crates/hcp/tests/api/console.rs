//! Issue 4: accounts, the one policy, and the console — run as a real browser would, with cookies and forms.

use reqwest::redirect::Policy;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{ID_NUMBER, TestApp, record_body};

const PASSWORD: &str = "correct horse 1";

/// The demo's roles, one account each (as `hcp demo` makes them).
const ACCOUNTS: [(&str, &str, &str, Option<&str>); 7] = [
    ("staff", "staff", "510899D01", Some("QS0001")),
    ("unit", "unit_admin", "510899101", None),
    ("hotline", "hotline_agent", "510899", None),
    ("center", "center_admin", "510899", None),
    ("office", "county_office", "510899", None),
    ("auditor", "auditor", "510899", None),
    ("admin", "system_admin", "510899", None),
];

#[derive(Clone)]
pub struct Browser {
    http: reqwest::Client,
    base: String,
    cookie: String,
    csrf: String,
}

fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find_map(|v| {
        let first = v.split(';').next()?;
        let (k, val) = first.split_once('=')?;
        (k == name && !val.is_empty()).then(|| val.to_string())
    })
}

fn hidden_csrf(html: &str) -> String {
    let at = html.find(r#"name="csrf" value=""#).expect("a csrf field") + r#"name="csrf" value=""#.len();
    html[at..].split('"').next().unwrap().to_string()
}

async fn try_login(app: &TestApp, username: &str, password: &str) -> (u16, Option<Browser>) {
    try_login_at(&app.base, username, password).await
}

/// Logs in to a server at `base` (one started as a process, say).
pub async fn login_at(base: &str, username: &str, password: &str) -> Browser {
    let (status, b) = try_login_at(base, username, password).await;
    assert_eq!(status, 303, "{username} logs in");
    b.unwrap()
}

async fn try_login_at(base: &str, username: &str, password: &str) -> (u16, Option<Browser>) {
    let url = |path: &str| format!("{base}{path}");
    let http = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    let form = http.get(url("/login")).send().await.unwrap();
    let login_cookie = set_cookie(&form, "hcp_login_csrf").unwrap();
    let token = hidden_csrf(&form.text().await.unwrap());
    let res = http
        .post(url("/login"))
        .header("cookie", format!("hcp_login_csrf={login_cookie}"))
        .form(&[("csrf", token.as_str()), ("username", username), ("password", password)])
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let Some(cookie) = set_cookie(&res, "hcp_session") else {
        return (status, None);
    };
    let page =
        http.get(url("/console/password")).header("cookie", format!("hcp_session={cookie}")).send().await.unwrap();
    let csrf = hidden_csrf(&page.text().await.unwrap());
    (status, Some(Browser { http, base: base.to_string(), cookie, csrf }))
}

pub async fn login(app: &TestApp, username: &str) -> Browser {
    let (status, b) = try_login(app, username, PASSWORD).await;
    assert_eq!(status, 303, "{username} logs in");
    b.unwrap()
}

impl Browser {
    pub async fn get(&self, path: &str) -> (u16, String) {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", format!("hcp_session={}", self.cookie))
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }

    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let mut form: Vec<(&str, &str)> = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", format!("hcp_session={}", self.cookie))
            .form(&form)
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }

    /// A multipart form (uploads), built by hand: the CSRF token, the fields, and one small PNG as `file`.
    async fn post_multipart(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        self.post_file(path, fields, "p.png", "image/png", b"\x89PNG\r\n\x1a\n0000").await
    }

    /// Posts a multipart form with one file in the part `file`.
    pub async fn post_file(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file_name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> (u16, String) {
        let boundary = "hcpboundary7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        let mut part = |name: &str, value: &str| {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        };
        part("csrf", &self.csrf);
        for (k, v) in fields {
            part(k, v);
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", format!("hcp_session={}", self.cookie))
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body)
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }
}

pub async fn make_accounts(app: &TestApp) {
    for (user, role, org, staff) in ACCOUNTS {
        app.app.create_user(user, user, PASSWORD, role, org, staff).await.unwrap();
    }
}

/// A completed record of 青山镇 (the unit admin's scope) or of 龙泉镇 (outside it).
async fn record_in(app: &TestApp, n: &str, township: &str) -> i64 {
    let mut body = record_body(n);
    body["org_code"] = json!(township);
    body["window_code"] = json!(format!("W-{township}-01"));
    body["staff_number"] = serde_json::Value::Null;
    app.register(&body).await.0
}

/// A bad review (with its case) on a record of that township; its evaluation id.
async fn evaluation_in(app: &TestApp, n: &str, township: &str) -> i64 {
    let mut body = record_body(n);
    body["org_code"] = json!(township);
    body["window_code"] = json!(format!("W-{township}-01"));
    body["staff_number"] = serde_json::Value::Null;
    let (_, token) = app.register(&body).await;
    let (status, v) = app.evaluate(&token, "dissatisfied", &["S411"], Some("等了很久")).await;
    assert_eq!(status, 201, "{v}");
    v["id"].as_i64().unwrap()
}

/// A bad review's case on a record of that township, with one attachment (put there by the center).
async fn case_in(app: &TestApp, n: &str, township: &str) -> (i64, i64) {
    let evaluation = evaluation_in(app, n, township).await;
    let case = app.app.store.case_of_evaluation(evaluation).await.unwrap().unwrap().id;
    let token = api_token(app, "center").await;
    let res = app
        .http
        .post(app.url(&format!("/api/v1/cases/{case}/attachments?name=p.png")))
        .bearer_auth(token)
        .body(b"\x89PNG\r\n\x1a\n0000".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let attachment = res.json::<serde_json::Value>().await.unwrap()["id"].as_i64().unwrap();
    (case, attachment)
}

async fn api_token(app: &TestApp, user: &str) -> String {
    let (status, v) = app.post_json("/api/v1/sessions", &json!({ "username": user, "password": PASSWORD }), None).await;
    assert_eq!(status, 201, "{v}");
    v["token"].as_str().unwrap().to_string()
}

/// An appeal by the staff member of a bad review of their own service (510899D01), waiting for the unit,
/// with one evidence file: (appeal id, evidence id).
async fn appeal_of_staff(app: &TestApp, n: &str) -> (i64, i64) {
    let (_, token) = app.register(&record_body(n)).await;
    let (_, v) = app.evaluate(&token, "dissatisfied", &["S411"], Some("等了很久")).await;
    let case = app.app.store.case_of_evaluation(v["id"].as_i64().unwrap()).await.unwrap().unwrap().id;
    let staff = api_token(app, "staff").await;
    let (status, v) =
        app.post_json(&format!("/api/v1/cases/{case}/appeal"), &json!({ "reasons": "与事实不符" }), Some(&staff)).await;
    assert_eq!(status, 201, "{v}");
    let appeal = v["id"].as_i64().unwrap();
    let res = app
        .http
        .post(app.url(&format!("/api/v1/appeals/{appeal}/evidence?name=scan.pdf")))
        .bearer_auth(&staff)
        .body(b"%PDF-1.4 test".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    (appeal, res.json::<serde_json::Value>().await.unwrap()["id"].as_i64().unwrap())
}

/// A mystery-shopper visit of the township's window planned today for the county office's account; recorded
/// with a photo when `photo` (then the photo's id is returned too).
async fn inspection_in(app: &TestApp, township: &str, photo: bool) -> (i64, i64) {
    let office = api_token(app, "office").await;
    let today = hcp_domain::calendar::business_date(chrono::Utc::now()).to_string();
    let plan = json!({ "window_code": format!("W-{township}-01"), "from": today, "to": today, "inspector": "office" });
    let (status, v) = app.post_json("/api/v1/inspections", &plan, Some(&office)).await;
    assert_eq!(status, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    if !photo {
        return (id, 0);
    }
    let b = login(app, "office").await;
    let fields = [("level", "satisfied"), ("findings", "着装规范,一次告知")];
    let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'];
    let (status, body) = b
        .post_file(&format!("/console/inspections/{id}/evaluations"), &fields, "window.jpg", "image/jpeg", &jpeg)
        .await;
    assert_eq!(status, 303, "{body}");
    let (_, v) = app.get_json(&format!("/api/v1/inspections/{id}"), Some(&office)).await;
    (id, v["photos"][0]["id"].as_i64().expect("the photo is kept"))
}

/// A draft report of the township (made by the county office).
async fn report_in(app: &TestApp, township: &str) -> i64 {
    let office = api_token(app, "office").await;
    let month = hcp_domain::period::Period::month_of(hcp_domain::calendar::business_date(chrono::Utc::now())).code();
    let (status, v) =
        app.post_json("/api/v1/reports", &json!({ "org": township, "period": month }), Some(&office)).await;
    assert_eq!(status, 201, "{v}");
    v["id"].as_i64().unwrap()
}

/// An open rectification order of the township.
async fn order_in(app: &TestApp, n: &str, township: &str) -> i64 {
    let org = app.app.store.org_by_code(township).await.unwrap().unwrap();
    sqlx::any::install_default_drivers();
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.db_url).await.unwrap();
    let due = (chrono::Utc::now() + chrono::Duration::days(14)).timestamp_millis();
    sqlx::query_scalar(
        "INSERT INTO rectification_order (subject, subject_id, subject_name, org_id, periods, last_period, reason,
            state, due_at, created_at)
         VALUES ('unit', $1, $2, $1, '2026-10', $3, '连续排名靠后', 'open', $4, $4) RETURNING id",
    )
    .bind(org.id)
    .bind(org.name)
    .bind(n.to_string())
    .bind(due)
    .fetch_one(&mut db)
    .await
    .unwrap()
}

const IN: &str = "510899101";
const OUT: &str = "510899102";

both_backends!(
    a_case_worked_through_the_console_pages,
    every_role_against_every_console_route,
    login_lockout_and_sessions,
    reveals_are_recorded_and_output_is_escaped
);

/// The matrix: for every console route, what each role gets inside its scope and outside it (IDOR).
/// Order of roles: staff, unit, hotline, center, office, auditor, admin.
async fn every_role_against_every_console_route(app: TestApp) {
    make_accounts(&app).await;
    type Row = (&'static str, &'static str, [u16; 7], [u16; 7]);
    let matrix: Vec<Row> = vec![
        ("GET", "/console", [200; 7], [200; 7]),
        ("GET", "/console/records", [200, 200, 200, 200, 200, 403, 403], [200, 200, 200, 200, 200, 403, 403]),
        ("POST", "/console/records", [200, 200, 200, 200, 200, 403, 403], [200, 200, 200, 200, 200, 403, 403]),
        ("GET", "/console/records/{id}", [404, 200, 200, 200, 200, 404, 404], [404, 404, 200, 200, 200, 404, 404]),
        (
            "POST",
            "/console/records/{id}/reveal",
            // No case of the record: only a hotline agent on a call (with its ticket) has a purpose.
            [404, 403, 200, 403, 403, 404, 404],
            [404, 404, 200, 403, 403, 404, 404],
        ),
        (
            "POST",
            "/console/records/{id}/hotline-evaluation",
            [404, 403, 201, 403, 403, 404, 404],
            [404, 404, 201, 403, 403, 404, 404],
        ),
        ("GET", "/console/evaluations", [200, 200, 200, 200, 200, 403, 403], [200, 200, 200, 200, 200, 403, 403]),
        // The records have no staff member: staff see none of them.
        ("GET", "/console/evaluations/{id}", [404, 200, 200, 200, 200, 404, 404], [404, 404, 200, 200, 200, 404, 404]),
        ("GET", "/console/cases", [200, 200, 200, 200, 200, 403, 403], [200, 200, 200, 200, 200, 403, 403]),
        ("GET", "/console/cases/{id}", [404, 200, 200, 200, 200, 404, 404], [404, 404, 200, 200, 200, 404, 404]),
        ("POST", "/console/cases/{id}/steps", [404, 403, 303, 303, 403, 404, 404], [404, 404, 303, 303, 403, 404, 404]),
        (
            "POST",
            "/console/cases/{id}/attachments",
            [404, 403, 303, 303, 303, 404, 404],
            [404, 404, 303, 303, 303, 404, 404],
        ),
        (
            "GET",
            "/console/cases/{id}/attachments/{attachment}",
            [404, 200, 200, 200, 200, 404, 404],
            [404, 404, 200, 200, 200, 404, 404],
        ),
        (
            "POST",
            "/console/cases/{id}/appeal",
            [404, 409, 409, 409, 409, 404, 404],
            [404, 404, 409, 409, 409, 404, 404],
        ),
        ("GET", "/console/appeals", [200, 200, 200, 200, 200, 200, 403], [200, 200, 200, 200, 200, 200, 403]),
        // Appeals are of the staff member's own records (510899D01), outside the unit admin's township.
        ("GET", "/console/appeals/{id}", [200, 404, 200, 200, 200, 200, 404], [200, 404, 200, 200, 200, 200, 404]),
        (
            "POST",
            "/console/appeals/{id}/decision",
            [403, 404, 403, 403, 403, 403, 404],
            [403, 404, 403, 403, 403, 403, 404],
        ),
        // Only the appellant withdraws.
        (
            "POST",
            "/console/appeals/{id}/withdraw",
            [303, 404, 403, 403, 403, 403, 404],
            [303, 404, 403, 403, 403, 403, 404],
        ),
        (
            "GET",
            "/console/appeals/{id}/evidence/{evidence}",
            [200, 404, 200, 200, 200, 200, 404],
            [200, 404, 200, 200, 200, 200, 404],
        ),
        ("GET", "/console/filing-register", [403, 403, 403, 200, 200, 200, 403], [403, 403, 403, 200, 200, 200, 403]),
        ("GET", "/console/outbox", [403, 403, 403, 200, 403, 403, 200], [403, 403, 403, 200, 403, 403, 200]),
        ("GET", "/console/dashboard", [403, 200, 200, 200, 200, 200, 403], [403, 200, 200, 200, 200, 200, 403]),
        ("GET", "/console/stats", [403, 200, 200, 200, 200, 200, 403], [403, 200, 200, 200, 200, 200, 403]),
        ("GET", "/console/rankings", [403, 200, 200, 200, 200, 200, 403], [403, 200, 200, 200, 200, 200, 403]),
        ("GET", "/console/reports", [403, 200, 200, 200, 200, 200, 403], [403, 200, 200, 200, 200, 200, 403]),
        ("POST", "/console/reports", [403, 403, 403, 403, 303, 403, 403], [403, 403, 403, 403, 303, 403, 403]),
        // Drafts are the county office's alone.
        ("GET", "/console/reports/{id}", [403, 404, 404, 404, 200, 404, 403], [403, 404, 404, 404, 200, 404, 403]),
        (
            "POST",
            "/console/reports/{id}/publish",
            [403, 403, 403, 403, 303, 403, 403],
            [403, 403, 403, 403, 303, 403, 403],
        ),
        ("GET", "/console/orders", [403, 200, 403, 403, 200, 200, 403], [403, 200, 403, 403, 200, 200, 403]),
        ("GET", "/console/orders/{id}", [403, 200, 403, 403, 200, 200, 403], [403, 404, 403, 403, 200, 200, 403]),
        (
            "POST",
            "/console/orders/{id}/answer",
            [403, 303, 403, 403, 403, 403, 403],
            [403, 404, 403, 403, 403, 403, 403],
        ),
        // An open order has nothing to review yet.
        (
            "POST",
            "/console/orders/{id}/review",
            [403, 403, 403, 403, 409, 403, 403],
            [403, 403, 403, 403, 409, 403, 403],
        ),
        ("GET", "/console/assessment", [403, 200, 403, 403, 200, 200, 403], [403, 200, 403, 403, 200, 200, 403]),
        ("GET", "/console/catalog", [403, 403, 403, 200, 403, 403, 200], [403, 403, 403, 200, 403, 403, 200]),
        ("POST", "/console/catalog", [403, 403, 403, 200, 403, 403, 200], [403, 403, 403, 200, 403, 403, 200]),
        ("POST", "/console/catalog/changes", [403, 403, 403, 200, 403, 403, 200], [403, 403, 403, 200, 403, 403, 200]),
        ("POST", "/console/catalog/import", [403, 403, 403, 200, 403, 403, 200], [403, 403, 403, 200, 403, 403, 200]),
        (
            "GET",
            "/console/catalog/template.xlsx",
            [403, 403, 403, 200, 403, 403, 200],
            [403, 403, 403, 200, 403, 403, 200],
        ),
        (
            "POST",
            "/console/catalog/retirements",
            [403, 403, 403, 422, 403, 403, 422],
            [403, 403, 403, 422, 403, 403, 422],
        ),
        ("POST", "/console/catalog/moves", [403, 403, 403, 422, 403, 403, 422], [403, 403, 403, 422, 403, 403, 422]),
        ("POST", "/console/catalog/roles", [403, 403, 403, 422, 403, 403, 422], [403, 403, 403, 422, 403, 403, 422]),
        ("GET", "/console/exchange", [403, 403, 403, 200, 403, 403, 200], [403, 403, 403, 200, 403, 403, 200]),
        // Integrity flags: the county office and auditors (the id here is a record's, no flag: 404).
        ("GET", "/console/integrity", [403, 403, 403, 403, 200, 200, 403], [403, 403, 403, 403, 200, 200, 403]),
        ("GET", "/console/integrity/{id}", [403, 403, 403, 403, 404, 404, 403], [403, 403, 403, 403, 404, 404, 403]),
        (
            "POST",
            "/console/integrity/{id}/investigation",
            [403, 403, 403, 403, 404, 403, 403],
            [403, 403, 403, 403, 404, 403, 403],
        ),
        (
            "POST",
            "/console/integrity/{id}/conclusion",
            [403, 403, 403, 403, 404, 403, 403],
            [403, 403, 403, 403, 404, 403, 403],
        ),
        (
            "POST",
            "/console/integrity/{id}/confirmation",
            [403, 403, 403, 403, 404, 404, 403],
            [403, 403, 403, 403, 404, 404, 403],
        ),
        // Clue referral (issue 30 §3): the center and the county office refer, auditors read; others: no page.
        ("GET", "/console/referrals", [404, 404, 404, 200, 200, 200, 404], [404, 404, 404, 200, 200, 200, 404]),
        ("GET", "/console/referrals/new", [404, 404, 404, 200, 200, 403, 404], [404, 404, 404, 200, 200, 403, 404]),
        ("POST", "/console/referrals", [404, 404, 404, 422, 422, 403, 404], [404, 404, 404, 422, 422, 403, 404]),
        (
            "POST",
            "/console/referrals/{id}/outcome",
            [404, 404, 404, 404, 404, 404, 404],
            [404, 404, 404, 404, 404, 404, 404],
        ),
        ("POST", "/console/exchange/resend", [403, 403, 403, 200, 403, 403, 200], [403, 403, 403, 200, 403, 403, 200]),
        ("POST", "/console/catalog/devices", [403, 403, 403, 200, 403, 403, 200], [403, 403, 403, 200, 403, 403, 200]),
        (
            "POST",
            "/console/catalog/platforms",
            [403, 403, 403, 200, 403, 403, 200],
            [403, 403, 403, 200, 403, 403, 200],
        ),
        (
            "POST",
            "/console/catalog/devices/revoke",
            [403, 403, 403, 404, 403, 403, 404],
            [403, 403, 403, 404, 403, 403, 404],
        ),
        (
            "POST",
            "/console/catalog/devices/reactivate",
            [403, 403, 403, 404, 403, 403, 404],
            [403, 403, 403, 404, 403, 403, 404],
        ),
        ("POST", "/console/catalog/accounts", [403, 403, 403, 200, 403, 403, 200], [403, 403, 403, 200, 403, 403, 200]),
        (
            "POST",
            "/console/catalog/accounts/state",
            [403, 403, 403, 422, 403, 403, 422],
            [403, 403, 403, 422, 403, 403, 422],
        ),
        (
            "POST",
            "/console/catalog/passwords",
            [403, 403, 403, 422, 403, 403, 422],
            [403, 403, 403, 422, 403, 403, 422],
        ),
        ("GET", "/console/audit", [403, 403, 403, 403, 403, 200, 403], [403, 403, 403, 403, 403, 200, 403]),
        // Mystery-shopper visits: planned by the county office, recorded by the account it names (the office's
        // here), read by auditors; nobody else learns that a visit exists (404).
        ("GET", "/console/inspections", [403, 403, 403, 403, 200, 200, 403], [403, 403, 403, 403, 200, 200, 403]),
        ("POST", "/console/inspections", [403, 403, 403, 403, 303, 403, 403], [403, 403, 403, 403, 303, 403, 403]),
        ("GET", "/console/inspections/{id}", [404, 404, 404, 404, 200, 200, 404], [404, 404, 404, 404, 200, 200, 404]),
        (
            "POST",
            "/console/inspections/{id}/evaluations",
            [404, 404, 404, 404, 303, 403, 404],
            [404, 404, 404, 404, 303, 403, 404],
        ),
        (
            "GET",
            "/console/inspections/{id}/photos/{photo}",
            [404, 404, 404, 404, 200, 200, 404],
            [404, 404, 404, 404, 200, 200, 404],
        ),
        ("GET", "/console/calendar", [403, 403, 403, 200, 403, 403, 403], [403, 403, 403, 200, 403, 403, 403]),
        ("POST", "/console/calendar", [403, 403, 403, 200, 403, 403, 403], [403, 403, 403, 200, 403, 403, 403]),
        ("GET", "/console/password", [200; 7], [200; 7]),
        ("POST", "/console/password", [422; 7], [422; 7]),
        ("POST", "/logout", [303; 7], [303; 7]),
    ];
    // A route without a row fails here: the matrix must grow with the console.
    for r in hcp_web::console::routes() {
        assert!(
            matrix.iter().any(|(m, p, _, _)| *m == r.method && *p == r.path),
            "no policy matrix entry for {} {}",
            r.method,
            r.path
        );
    }
    assert_eq!(matrix.len(), hcp_web::console::routes().len());

    let month = hcp_domain::period::Period::month_of(hcp_domain::calendar::business_date(chrono::Utc::now())).code();
    let today = hcp_domain::calendar::business_date(chrono::Utc::now()).to_string();
    let mut n = 0;
    for (i, (user, ..)) in ACCOUNTS.iter().enumerate() {
        let b = login(&app, user).await;
        for (method, path, inside, outside) in &matrix {
            for (scope, expected) in [(IN, inside[i]), (OUT, outside[i])] {
                n += 1;
                let path = if path.starts_with("/console/appeals/") {
                    let (appeal, evidence) = appeal_of_staff(&app, &format!("M-{n}")).await;
                    path.replace("{id}", &appeal.to_string()).replace("{evidence}", &evidence.to_string())
                } else if path.starts_with("/console/inspections/") {
                    let (id, photo) = inspection_in(&app, scope, path.contains("{photo}")).await;
                    path.replace("{id}", &id.to_string()).replace("{photo}", &photo.to_string())
                } else if path.starts_with("/console/reports/") {
                    path.replace("{id}", &report_in(&app, scope).await.to_string())
                } else if path.starts_with("/console/orders/") {
                    path.replace("{id}", &order_in(&app, &format!("M-{n}"), scope).await.to_string())
                } else if path.starts_with("/console/evaluations/") {
                    path.replace("{id}", &evaluation_in(&app, &format!("M-{n}"), scope).await.to_string())
                } else if path.starts_with("/console/cases/") {
                    let (case, attachment) = case_in(&app, &format!("M-{n}"), scope).await;
                    path.replace("{id}", &case.to_string()).replace("{attachment}", &attachment.to_string())
                } else {
                    let id = record_in(&app, &format!("M-{n}"), scope).await;
                    // The 12345 system registered the call about the record (issue 29 §3).
                    assert_eq!(app.register_ticket(id, &format!("GD-MATRIX-{n}")).await.0, 201);
                    path.replace("{id}", &id.to_string())
                };
                let code = format!("MX{n}");
                let window = format!("W-{scope}-01");
                let ticket = &format!("GD-MATRIX-{n}");
                let fields: Vec<(&str, &str)> = match path.as_str() {
                    "/console/catalog" => vec![("what", "staff"), ("code", &code), ("name", "测试"), ("org", scope)],
                    "/console/catalog/devices" => vec![("code", &code), ("name", "测试评价器"), ("window", &window)],
                    "/console/catalog/platforms" => vec![("code", &code), ("name", "测试平台"), ("org", scope)],
                    "/console/catalog/changes" => vec![("what", "window"), ("code", &window), ("name", "改名窗口")],
                    "/console/catalog/devices/revoke" | "/console/catalog/devices/reactivate" => {
                        vec![("code", "NOPE")]
                    }
                    "/console/catalog/retirements" => vec![("what", "item"), ("code", "NOPE"), ("action", "retire")],
                    "/console/catalog/moves" => vec![("code", scope), ("org", "NOPE")],
                    "/console/catalog/roles" => vec![("username", "nope"), ("role", "unit_admin"), ("org", scope)],
                    "/console/catalog/accounts" => vec![
                        ("username", &code),
                        ("display_name", "测试"),
                        ("password", "correct horse 9"),
                        ("role", "unit_admin"),
                        ("org", scope),
                    ],
                    "/console/records" => vec![("record_number", "M-1")],
                    p if p.ends_with("/reveal") => {
                        vec![("reason", "1个工作日内联系评价人"), ("ticket_number", ticket)]
                    }
                    p if p.ends_with("/hotline-evaluation") => vec![("level", "satisfied"), ("ticket_number", ticket)],
                    p if p.ends_with("/steps") => vec![("step", "assign")],
                    p if p.ends_with("/appeal") => vec![("reasons", "评价与事实不符")],
                    p if p.ends_with("/decision") => vec![("uphold", "false"), ("reasons", "理由不成立")],
                    "/console/calendar" => vec![("csv", "2027-01-01,holiday,元旦")],
                    "/console/reports" => vec![("org", scope), ("period", month.as_str())],
                    "/console/inspections" => {
                        vec![("window_code", &window), ("from", &today), ("to", &today), ("inspector", "office")]
                    }
                    p if p.ends_with("/evaluations") => vec![("level", "very_satisfied"), ("findings", "服务规范")],
                    p if p.ends_with("/answer") => vec![("report", "已整改")],
                    "/console/password" => vec![("old_password", "wrong password"), ("new_password", "another one 2")],
                    _ => vec![],
                };
                if *path == *"/logout" {
                    continue; // checked last, below
                }
                let (status, body) = if *method == "GET" {
                    b.get(&path).await
                } else if path == "/console/catalog/import" {
                    let csv = format!("工号,姓名,所属机构代码\n{code},测试,{scope}\n");
                    b.post_file(&path, &[], "staff.csv", "text/csv", csv.as_bytes()).await
                } else if path.ends_with("/attachments") || path.ends_with("/appeal") || path.ends_with("/evaluations")
                {
                    b.post_multipart(&path, &fields).await
                } else {
                    b.post(&path, &fields).await
                };
                assert_eq!(status, expected, "{user} {method} {path} ({scope}): {}", &body[..body.len().min(300)]);
            }
        }
        let (status, _) = b.post("/logout", &[]).await;
        assert_eq!(status, 303);
        let (status, _) = b.get("/console").await;
        assert_eq!(status, 303, "after logout the session is gone");
    }

    // Nobody logged in: every console route sends to the login page.
    let anon = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    for r in hcp_web::console::routes() {
        let url = app.url(&r.path.replace("{id}", "1"));
        let res = if r.method == "GET" { anon.get(url).send().await } else { anon.post(url).send().await }.unwrap();
        assert_eq!(res.status().as_u16(), 303, "{} {}", r.method, r.path);
        assert_eq!(res.headers()["location"], "/login");
    }

    // Every console form without the CSRF token is refused before its handler runs (issue 17 §8: forms
    // take their fields through `CsrfForm`; multipart forms check the token they carry), whoever sends it.
    let center = login(&app, "center").await;
    for r in hcp_web::console::routes().iter().filter(|r| r.method == "POST") {
        let url = app.url(&r.path.replace("{id}", "1"));
        let cookie = format!("hcp_session={}", center.cookie);
        let urlencoded = center.http.post(&url).header("cookie", &cookie).form(&[("code", "X")]).send().await.unwrap();
        let multipart = center
            .http
            .post(&url)
            .header("cookie", &cookie)
            .header("content-type", "multipart/form-data; boundary=b0")
            .body("--b0\r\nContent-Disposition: form-data; name=\"code\"\r\n\r\nX\r\n--b0--\r\n")
            .send()
            .await
            .unwrap();
        let refused = |res: reqwest::Response| async move { (res.status().as_u16(), res.text().await.unwrap()) };
        let (a, b) = (refused(urlencoded).await, refused(multipart).await);
        assert!(
            [&a, &b].iter().any(|(status, body)| *status == 403 && body.contains("CSRF")),
            "POST {} without the token: {} / {}",
            r.path,
            a.0,
            b.0
        );
    }

    // A form without the CSRF token is refused.
    let b = login(&app, "unit").await;
    let id = record_in(&app, "CSRF-1", IN).await;
    let res = b
        .http
        .post(app.url(&format!("/console/records/{id}/reveal")))
        .header("cookie", format!("hcp_session={}", b.cookie))
        .form(&[("reason", "1个工作日内联系评价人")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    // R6.1: an agent who served the record cannot rate it.
    app.app.create_user("agent2", "agent2", PASSWORD, "hotline_agent", "510899", Some("QS0003")).await.unwrap();
    let mut body = record_body("OWN-1");
    body["staff_number"] = json!("QS0003");
    let (own, _) = app.register(&body).await;
    let b = login(&app, "agent2").await;
    let (status, _) =
        b.post(&format!("/console/records/{own}/hotline-evaluation"), &[("level", "very_satisfied")]).await;
    assert_eq!(status, 403);
    let stored = app.app.store.first_evaluation(own).await.unwrap();
    assert!(stored.is_none());
}

async fn login_lockout_and_sessions(app: TestApp) {
    make_accounts(&app).await;
    let (status, b) = try_login(&app, "unit", "nope nope nope").await;
    assert_eq!((status, b.is_none()), (422, true));
    let (status, _) = try_login(&app, "nobody", "nope nope nope").await;
    assert_eq!(status, 422, "an unknown user looks the same as a wrong password");
    for _ in 0..4 {
        try_login(&app, "unit", "still wrong!").await;
    }
    let (status, b) = try_login(&app, "unit", PASSWORD).await;
    assert_eq!((status, b.is_none()), (429, true), "locked after 5 failures, even with the right password");

    // The hotline agent logs in fine, sees records; a password change ends the session.
    let b = login(&app, "hotline").await;
    let (status, _) = b.post("/console/password", &[("old_password", PASSWORD), ("new_password", "short")]).await;
    assert_eq!(status, 422);
    let (status, _) =
        b.post("/console/password", &[("old_password", PASSWORD), ("new_password", "a brand new one")]).await;
    assert_eq!(status, 303);
    let (status, _) = b.get("/console").await;
    assert_eq!(status, 303, "sessions end with a password change");
    let (status, _) = try_login(&app, "hotline", "a brand new one").await;
    assert_eq!(status, 303);

    // A session idle for more than 30 minutes is over.
    let b = login(&app, "office").await;
    assert_eq!(b.get("/console").await.0, 200);
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.db_url).await.unwrap();
    sqlx::query("UPDATE user_session SET last_seen_at = last_seen_at - 1860000").execute(&mut conn).await.unwrap();
    assert_eq!(b.get("/console").await.0, 303, "idle timeout");
    let b = login(&app, "office").await;
    sqlx::query("UPDATE user_session SET last_seen_at = last_seen_at - 1860000").execute(&mut conn).await.unwrap();
    let report = app.app.run_jobs(chrono::Utc::now()).await.unwrap();
    assert!(report.sessions_ended >= 1, "the job ends idle sessions too");
    assert_eq!(b.get("/console").await.0, 303);

    // Too many failures from one address lock the address.
    for i in 0..20 {
        try_login(&app, &format!("ghost{i}"), "wrong password").await;
    }
    let (status, _) = try_login(&app, "center", PASSWORD).await;
    assert_eq!(status, 429);
    let audit = app.app.store.audit_entries("login.", 0, 1000).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "login.failure") && audit.iter().any(|e| e.action == "login.success"));
}

async fn reveals_are_recorded_and_output_is_escaped(app: TestApp) {
    make_accounts(&app).await;
    let mut body = record_body("X-1");
    body["org_code"] = json!(IN);
    body["window_code"] = json!("W-510899101-01");
    body["staff_number"] = serde_json::Value::Null;
    body["applicant"]["name"] = json!("<script>alert(1)</script>'; DROP TABLE evaluation; --");
    let (id, token) = app.register(&body).await;
    let (status, _) =
        app.evaluate(&token, "dissatisfied", &[], Some("<img src=x onerror=alert(1)> '); DELETE FROM org; --")).await;
    assert_eq!(status, 201);

    // The unit may reveal only once the case is its own to work (issue 14 §1).
    let unit = login(&app, "unit").await;
    let (status, _) = unit.post(&format!("/console/records/{id}/reveal"), &[("reason", "1个工作日内联系评价人")]).await;
    assert_eq!(status, 403, "no case step of the unit needs the contact yet");
    let first = app.app.store.first_evaluation(id).await.unwrap().unwrap();
    let case = app.app.store.case_of_evaluation(first.id).await.unwrap().unwrap().id;
    let center = login(&app, "center").await;
    let (status, _) =
        center.post(&format!("/console/cases/{case}/steps"), &[("step", "assign"), ("unit_code", IN)]).await;
    assert_eq!(status, 303);
    let (status, html) = unit.post("/console/records", &[("mobile", "13812345678")]).await;
    assert_eq!(status, 200);
    assert!(html.contains("<td>138****5678</td>"), "found by the blind index, masked in the list");
    assert!(html.contains(&format!("/console/records/{id}")));
    let (_, html) = unit.get(&format!("/console/records/{id}")).await;
    assert!(html.contains("&lt;*") && !html.contains("<script>"), "masked and escaped");
    let (status, _) = unit.post(&format!("/console/records/{id}/reveal"), &[("reason", "短")]).await;
    assert_eq!(status, 422, "a reason is required");
    let (status, html) =
        unit.post(&format!("/console/records/{id}/reveal"), &[("reason", "1个工作日内联系评价人")]).await;
    assert_eq!(status, 200);
    assert!(html.contains("13812345678"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !html.contains("<script>"), "escaped");
    let reveals = app.app.store.audit_entries("applicant.reveal", 0, 10).await.unwrap();
    assert_eq!(reveals.len(), 1);
    assert_eq!(reveals[0].actor, "user:unit");
    assert_eq!(reveals[0].target, format!("service_record:{id}"));
    assert!(reveals[0].details.contains("1个工作日内联系评价人") && !reveals[0].details.contains("13812345678"));
    assert!(reveals[0].details.contains(r#""purpose":"case_contact""#), "{}", reveals[0].details);

    // The auditor reads the log with a filter; the comment with markup shows harmless there too.
    let auditor = login(&app, "auditor").await;
    let (status, html) = auditor.get("/console/audit?action=applicant.").await;
    assert_eq!(status, 200);
    assert!(html.contains("applicant.reveal") && !html.contains("record.register"));
    assert!(app.app.store.count_orgs().await.unwrap() > 0, "the SQL in the comment was only text");
    let stored = app.app.store.first_evaluation(id).await.unwrap().unwrap();
    assert!(stored.comment.unwrap().contains("DELETE FROM org"));
}

/// The pages as people use them: the center assigns from the case page, the unit's inbox shows the due date,
/// a step without text comes back with the reason, the staff member appeals with evidence, the unit decides,
/// the county office reads and exports the filing register.
async fn a_case_worked_through_the_console_pages(app: TestApp) {
    make_accounts(&app).await;
    app.app.create_user("dunit", "部门承办人", PASSWORD, "unit_admin", "510899D01", None).await.unwrap();
    let (_, token) = app.register(&record_body("PAGE-1")).await;
    let (_, v) = app.evaluate(&token, "very_dissatisfied", &["S511"], Some("<b>来回跑</b>")).await;
    let case = app.app.store.case_of_evaluation(v["id"].as_i64().unwrap()).await.unwrap().unwrap().id;
    let page = format!("/console/cases/{case}");

    let center = login(&app, "center").await;
    let (status, html) = center.get("/console/cases").await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!(r#"href="/console/cases/{case}""#)) && html.contains("待交办"));
    let (status, html) = center.get(&page).await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"value="assign""#) && html.contains("510899D01"), "assign form with the proposed unit");
    assert!(html.contains("&lt;b&gt;来回跑&lt;/b&gt;"), "the comment is escaped");
    let (status, _) = center.post(&format!("{page}/steps"), &[("step", "assign"), ("unit_code", "510899D01")]).await;
    assert_eq!(status, 303);

    let unit = login(&app, "dunit").await;
    let (_, html) = unit.get("/console/cases").await;
    assert!(html.contains("待联系") && html.contains("剩余") || html.contains("今天到期"), "{html}");
    let (_, html) = unit.get(&page).await;
    assert!(html.contains(r#"value="contact""#) && html.contains(r#"value="solve_on_spot""#));
    assert!(!html.contains(r#"value="assign""#), "the unit does not assign");
    let (status, html) = unit.post(&format!("{page}/steps"), &[("step", "contact"), ("text", "")]).await;
    assert_eq!(status, 422);
    assert!(html.contains("请填写联系情况") && html.contains(r#"role="alert""#));
    let (status, _) =
        unit.post(&format!("{page}/steps"), &[("step", "contact"), ("text", "已电话联系\r\n评价人")]).await;
    assert_eq!(status, 303);
    let (status, html) = unit.post(&format!("{page}/steps"), &[("step", "contact"), ("text", "again")]).await;
    assert_eq!(status, 409);
    assert!(html.contains("待核实"), "the refusal names the state");
    let (status, _) = unit.post_multipart(&format!("{page}/attachments"), &[]).await;
    assert_eq!(status, 303);
    let (_, html) = unit.get(&page).await;
    assert!(html.contains("p.png") && html.contains("联系评价人"));

    // The staff member appeals with a file; the unit passes it on; the register lists it.
    let staff = login(&app, "staff").await;
    let (status, _) = staff.post_multipart(&format!("{page}/appeal"), &[("reasons", "已按规定一次性告知")]).await;
    assert_eq!(status, 303);
    let (status, html) = staff.get("/console/appeals").await;
    assert_eq!(status, 200);
    let appeal: i64 = html.split("/console/appeals/").nth(1).unwrap().split('"').next().unwrap().parse().unwrap();
    let (status, html) = unit.get(&format!("/console/appeals/{appeal}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("支持申诉(报中心复核)") && html.contains("不支持申诉(仍报中心复核"));
    assert!(html.contains("p.png"), "the evidence sent with the appeal is listed");
    let evidence = html.split("/evidence/").nth(1).unwrap().split('"').next().unwrap();
    let (status, body) = unit.get(&format!("/console/appeals/{appeal}/evidence/{evidence}")).await;
    assert_eq!((status, body.starts_with("\u{FFFD}PNG")), (200, true));
    let (status, html) = unit.post(&format!("/console/appeals/{appeal}/decision"), &[("reasons", "属实")]).await;
    assert_eq!(status, 422, "a decision needs a conclusion");
    assert!(html.contains("请选择处理结论"));
    let (status, _) =
        unit.post(&format!("/console/appeals/{appeal}/decision"), &[("uphold", "true"), ("reasons", "属实")]).await;
    assert_eq!(status, 303);
    let office = login(&app, "office").await;
    let (status, html) = office.get("/console/filing-register").await;
    assert_eq!(status, 200);
    assert!(html.contains("PAGE-1") && html.contains("支持申诉,报中心复核"));
    let (status, csv) = office.get("/console/filing-register?format=csv").await;
    assert_eq!(status, 200);
    assert!(csv.contains("PAGE-1"));
}

/// The evaluations list: scope, every filter, paging, bad filters answered with the reason; the detail with
/// criteria texts and the case history.
async fn evaluations_are_listed_filtered_and_paged(app: TestApp) {
    make_accounts(&app).await;
    // 55 good reviews at the county hall, one bad one in 青山镇 (the unit admin's township).
    for i in 0..55 {
        let (_, token) = app.register(&record_body(&format!("L-{i}"))).await;
        let level = if i % 5 == 0 { "satisfied" } else { "very_satisfied" };
        let (status, _) = app.evaluate(&token, level, &[], None).await;
        assert_eq!(status, 201);
    }
    let bad = evaluation_in(&app, "L-BAD", IN).await;

    let center = login(&app, "center").await;
    let (status, html) = center.get("/console/evaluations").await;
    assert_eq!(status, 200);
    assert_eq!(html.matches(r#"<a href="/console/evaluations/"#).count(), 50, "a page of 50");
    assert!(html.contains(&format!(r#"href="/console/evaluations/{bad}""#)), "newest first");
    let at = html.find("/console/evaluations?").expect("a next-page link");
    let next = html[at..].split('"').next().unwrap().replace("&amp;", "&");
    let (status, html) = center.get(&next).await;
    assert_eq!(status, 200);
    assert_eq!(html.matches(r#"<a href="/console/evaluations/"#).count(), 6, "the rest");
    assert!(!html.contains("下一页"));

    for (query, expected) in [
        ("level=very_dissatisfied", 0),
        ("level=dissatisfied", 1),
        ("level=satisfied", 11),
        ("org=510899101", 1),
        ("window=W-510899-C01", 55),
        ("staff=QS0001", 55),
        ("item=QS010001", 56),
        ("channel=qr_code", 56),
        ("channel=hotline", 0),
        ("default=yes", 0),
        ("invalidated=no&level=dissatisfied", 1),
        ("invalidated=yes", 0),
        ("period=2020-01", 0),
    ] {
        let (status, html) = center.get(&format!("/console/evaluations?{query}")).await;
        assert_eq!(status, 200, "{query}");
        let rows = html.matches(r#"<a href="/console/evaluations/"#).count();
        assert_eq!(rows, expected.min(50), "{query}");
    }
    for (query, message) in [
        ("level=awful", "评价等级"),
        ("period=2026-13", "无法识别"),
        ("org=NOPE", "机构"),
        ("staff=X9", "工号"),
        ("default=maybe", "是"),
        ("before=abc", "翻页"),
        ("channel=fax", "渠道"),
    ] {
        let (status, html) = center.get(&format!("/console/evaluations?{query}")).await;
        assert_eq!(status, 422, "{query}");
        assert!(html.contains(r#"role="alert""#) && html.contains(message), "{query}: {html}");
    }

    // The unit admin of 青山镇 sees only its own; another township's code is refused, not emptied.
    let unit = login(&app, "unit").await;
    let (_, html) = unit.get("/console/evaluations").await;
    assert_eq!(html.matches(r#"<a href="/console/evaluations/"#).count(), 1);
    let (status, _) = unit.get(&format!("/console/evaluations?org={OUT}")).await;
    assert_eq!(status, 422);
    // Staff see the evaluations of their own services.
    let staff = login(&app, "staff").await;
    let (_, html) = staff.get("/console/evaluations").await;
    assert_eq!(html.matches(r#"<a href="/console/evaluations/"#).count(), 50);
    assert!(!html.contains(&format!(r#"href="/console/evaluations/{bad}""#)));

    let (status, html) = center.get(&format!("/console/evaluations/{bad}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("等了很久") && html.contains("差评工单") && html.contains("办理记录"), "{html}");
    let s411 = hcp_domain::indicators::Annex::get().text("S411").unwrap();
    assert!(html.contains(&esc_for_test(s411)), "criteria as text");
    assert!(!html.contains("13812345678"), "the mobile is masked");
    let (status, _) = center.get("/console/evaluations/999999").await;
    assert_eq!(status, 404);
    let (status, _) = center.get("/console/evaluations/abc").await;
    assert_eq!(status, 404);
}

fn esc_for_test(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

both_backends!(evaluations_are_listed_filtered_and_paged);

/// The center administers its catalog: every kind of entry, all reasons at once for a bad form, a used
/// code, another county's organization; a device registered and stopped; an account that then logs in.
async fn the_center_manages_its_catalog(app: TestApp) {
    make_accounts(&app).await;
    let center = login(&app, "center").await;
    let (status, html) = center.get("/console/catalog").await;
    assert_eq!(status, 200);
    assert!(html.contains("W-510899-C01") && html.contains("/w/W-510899-C01/poster"), "windows with their posters");
    assert!(html.contains("办理平台") && html.contains("P-SCZWFW"), "the demo's platforms are listed");
    // A platform added from the page; a used code and an unknown organization come back with the reasons.
    let platform = [("code", "P-QSAPP"), ("name", "青山县移动端"), ("org", "510899")];
    let (status, html) = center.post("/console/catalog/platforms", &platform).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("已登记平台") && html.contains("P-QSAPP"));
    let (status, html) = center.post("/console/catalog/platforms", &platform).await;
    assert_eq!(status, 409);
    assert!(html.contains("已被使用"));
    let (status, html) =
        center.post("/console/catalog/platforms", &[("code", "P-X"), ("name", "外县"), ("org", "999999")]).await;
    assert_eq!(status, 422);
    assert!(html.contains("不在您的管理范围内"));
    // Renamed through the change form like any entry.
    let (status, html) = center
        .post("/console/catalog/changes", &[("what", "platform"), ("code", "P-QSAPP"), ("name", "青山通办")])
        .await;
    assert_eq!(status, 200, "{html}");
    let (_, html) = center.get("/console/catalog").await;
    assert!(html.contains("青山通办") && !html.contains("青山县移动端"), "renamed");

    let adds: [&[(&str, &str)]; 5] = [
        &[("what", "org"), ("code", "510899199"), ("name", "新区管委会"), ("kind", "township"), ("org", "510899")],
        &[
            ("what", "hall"),
            ("code", "H-NEW"),
            ("name", "新区便民服务中心"),
            ("kind", "service_center"),
            ("org", "510899199"),
        ],
        &[
            ("what", "window"),
            ("code", "W-NEW-01"),
            ("name", "新区综合窗口"),
            ("kind", "comprehensive"),
            ("hall", "H-NEW"),
            ("org", "510899199"),
        ],
        &[("what", "staff"), ("code", "QS9001"), ("name", "新同事"), ("org", "510899199"), ("window", "W-NEW-01")],
        &[
            ("what", "item"),
            ("code", "QS990001"),
            ("name", "新区事项"),
            ("category", "public_service"),
            ("org", "510899199"),
            ("legal_days", "20"),
            ("promised_days", "5"),
        ],
    ];
    for fields in adds {
        let (status, html) = center.post("/console/catalog", fields).await;
        assert_eq!(status, 200, "{fields:?}: {html}");
        assert!(html.contains("已新增"), "{html}");
    }
    assert!(app.app.store.window_by_code("W-NEW-01").await.unwrap().is_some());
    // The new window takes records and evaluations at once.
    let mut body = record_body("NEW-1");
    body["org_code"] = json!("510899199");
    body["window_code"] = json!("W-NEW-01");
    body["staff_number"] = json!("QS9001");
    body["item_code"] = json!("QS990001");
    let (_, token) = app.register(&body).await;
    assert_eq!(app.evaluate(&token, "satisfied", &[], None).await.0, 201);

    // Everything wrong at once: every reason listed; the typed values stay in the form.
    let (status, html) =
        center.post("/console/catalog", &[("what", "item"), ("code", "a b"), ("name", ""), ("legal_days", "0")]).await;
    assert_eq!(status, 422);
    for reason in ["编码须为", "名称", "事项类别", "法定时限"] {
        assert!(html.contains(reason), "{reason}: {html}");
    }
    let (status, html) = center
        .post("/console/catalog", &[("what", "staff"), ("code", "QS9001"), ("name", "重复"), ("org", "510899199")])
        .await;
    assert_eq!(status, 409, "{html}");
    assert!(html.contains("已被使用") && html.contains(r#"value="重复""#));
    let (status, _) = center
        .post("/console/catalog", &[("what", "staff"), ("code", "QS9002"), ("name", "外县"), ("org", "999999")])
        .await;
    assert_eq!(status, 422);
    let (status, _) = center.post("/console/catalog", &[("what", "planet")]).await;
    assert_eq!(status, 422);

    // The upper level's codes (issue 13): checked on input, every reason at once, then stored and changed.
    let (status, html) = center
        .post(
            "/console/catalog",
            &[
                ("what", "org"),
                ("code", "510899198"),
                ("name", "新区二"),
                ("kind", "township"),
                ("org", "510899"),
                ("credit_code", "11510899MB0000000A"),
                ("area_code", "5108991"),
            ],
        )
        .await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("校验位不正确") && html.contains("行政区划代码应为 12 位数字"), "{html}");
    let (status, html) = center
        .post(
            "/console/catalog/changes",
            &[("what", "item"), ("code", "QS990001"), ("implementation_code", "1151089900"), ("handle_item_code", "x")],
        )
        .await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("实施编码应为 31 位") && html.contains("业务办理项编码应为 33 位"), "{html}");
    let implementation = "11510899MB0000000X2000000000099";
    let credit = {
        let first = "11510899MB0000000";
        format!("{first}{}", hcp_domain::identity::CreditCode::check_char(first) as char)
    };
    for fields in [
        &[("what", "item"), ("code", "QS990001"), ("implementation_code", implementation)][..],
        &[("what", "org"), ("code", "510899199"), ("credit_code", &credit), ("area_code", "510899199000")][..],
    ] {
        let (status, html) = center.post("/console/catalog/changes", fields).await;
        assert_eq!(status, 200, "{fields:?}: {html}");
    }
    // Found by code (the lists are paged: a new entry may be past the first page).
    let (_, html) = center.get("/console/catalog?q=QS990001").await;
    assert!(html.contains(implementation), "{html}");
    let (_, html) = center.get("/console/catalog?q=510899199").await;
    assert!(html.contains(&credit) && html.contains("510899199000"), "{html}");
    // A staff member's mobile and ID number: checked, sealed, never shown again (only that they are on file).
    let (status, html) = center
        .post(
            "/console/catalog/changes",
            &[("what", "staff"), ("code", "QS9001"), ("mobile", "12345"), ("id_number", "11010519491231002Y")],
        )
        .await;
    assert_eq!(status, 422, "{html}");
    assert!(!html.contains("11010519491231002Y"), "personal data is not echoed");
    let (status, html) = center
        .post(
            "/console/catalog/changes",
            &[("what", "staff"), ("code", "QS9001"), ("mobile", "13912345678"), ("id_number", ID_NUMBER)],
        )
        .await;
    assert_eq!(status, 200, "{html}");
    assert!(!html.contains("13912345678") && !html.contains(ID_NUMBER), "values are never shown");
    assert!(html.contains("已登记 / 已登记"), "{html}");
    let org = app.app.store.org_by_code("510899199").await.unwrap().unwrap();
    assert_eq!((org.credit_code.as_deref(), org.area_code.as_deref()), (Some(credit.as_str()), Some("510899199000")));

    // A device: its address shown once, then it works; stopped, it does not.
    let (status, html) = center
        .post("/console/catalog/devices", &[("code", "NEW-D1"), ("name", "新区评价器"), ("window", "W-NEW-01")])
        .await;
    assert_eq!(status, 200, "{html}");
    let at = html.find("/d/").expect("the device address");
    let path = html[at..].split('<').next().unwrap().to_string();
    assert_eq!(reqwest::get(app.url(&path)).await.unwrap().status(), 200);
    let (status, _) =
        center.post("/console/catalog/devices", &[("code", "NEW-D1"), ("name", "again"), ("window", "W-NEW-01")]).await;
    assert_eq!(status, 409);
    let (status, _) = center.post("/console/catalog/devices/revoke", &[("code", "NEW-D1")]).await;
    assert_eq!(status, 200);
    assert_eq!(reqwest::get(app.url(&path)).await.unwrap().status(), 404);
    // Reactivated, it gets a new address shown once; the old one stays dead. Twice is refused.
    let (status, html) = center.post("/console/catalog/devices/reactivate", &[("code", "NEW-D1")]).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("原地址已失效"), "{html}");
    let at = html.find("/d/").expect("the new device address");
    let new_path = html[at..].split('<').next().unwrap().to_string();
    assert_ne!(new_path, path);
    assert_eq!(reqwest::get(app.url(&new_path)).await.unwrap().status(), 200);
    assert_eq!(reqwest::get(app.url(&path)).await.unwrap().status(), 404);
    let (status, _) = center.post("/console/catalog/devices/reactivate", &[("code", "NEW-D1")]).await;
    assert_eq!(status, 404, "a device in use is not reactivated");
    let (status, _) = center.post("/console/catalog/devices/revoke", &[("code", "NEW-D1")]).await;
    assert_eq!(status, 200);
    assert_eq!(reqwest::get(app.url(&new_path)).await.unwrap().status(), 404);
    // Not while its window is retired: the window first.
    let retire = [("what", "window"), ("code", "W-NEW-01"), ("action", "retire")];
    let (status, html) = center.post("/console/catalog/retirements", &retire).await;
    assert_eq!(status, 200, "{html}");
    let (status, html) = center.post("/console/catalog/devices/reactivate", &[("code", "NEW-D1")]).await;
    assert_eq!(status, 409, "{html}");
    assert!(html.contains("请先恢复窗口"), "{html}");
    let reactivate = [("what", "window"), ("code", "W-NEW-01"), ("action", "reactivate")];
    assert_eq!(center.post("/console/catalog/retirements", &reactivate).await.0, 200);
    assert_eq!(center.post("/console/catalog/devices/reactivate", &[("code", "NEW-D1")]).await.0, 200);

    // An account, which then logs in; a center admin cannot make a system admin; a weak password is refused.
    let (status, html) = center
        .post(
            "/console/catalog/accounts",
            &[
                ("username", "xinqu"),
                ("display_name", "新区管理员"),
                ("password", PASSWORD),
                ("role", "unit_admin"),
                ("org", "510899199"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{html}");
    let xinqu = login(&app, "xinqu").await;
    let (status, _) = xinqu.get("/console/cases").await;
    assert_eq!(status, 200);
    let (status, html) = center
        .post(
            "/console/catalog/accounts",
            &[
                ("username", "root2"),
                ("display_name", "x"),
                ("password", PASSWORD),
                ("role", "system_admin"),
                ("org", "510899"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("只有系统管理员"));
    let (status, _) = center
        .post(
            "/console/catalog/accounts",
            &[("username", "weak"), ("display_name", "x"), ("password", "123"), ("role", "staff"), ("org", "510899")],
        )
        .await;
    assert_eq!(status, 422);
    // Separation of duties (issue 14 §3): the accounts that oversee the center are the system administrator's
    // to make and to reset; and one staff member has one account.
    for role in ["auditor", "county_office", "center_admin"] {
        let (status, html) = center
            .post(
                "/console/catalog/accounts",
                &[
                    ("username", "overseer"),
                    ("display_name", "x"),
                    ("password", PASSWORD),
                    ("role", role),
                    ("org", "510899"),
                ],
            )
            .await;
        assert_eq!(status, 422, "{role}");
        assert!(html.contains("只有系统管理员可以创建"), "{role}: {html}");
    }
    let (status, html) =
        center.post("/console/catalog/passwords", &[("username", "auditor"), ("password", "taken over 77")]).await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("只有系统管理员"), "{html}");
    assert!(try_login(&app, "auditor", PASSWORD).await.1.is_some(), "the auditor's password stands");
    let shadow = [
        ("username", "shadow"),
        ("display_name", "影子账号"),
        ("password", PASSWORD),
        ("role", "staff"),
        ("org", "510899D01"),
        ("staff", "QS0001"),
    ];
    let (status, html) = center.post("/console/catalog/accounts", &shadow).await;
    assert_eq!(status, 409, "QS0001 has the account `staff` already: {html}");
    assert!(html.contains("一名工作人员只能有一个账号"), "{html}");
    let admin = login(&app, "admin").await;
    let (status, html) = admin
        .post(
            "/console/catalog/accounts",
            &[
                ("username", "auditor2"),
                ("display_name", "审计员二"),
                ("password", PASSWORD),
                ("role", "auditor"),
                ("org", "510899"),
            ],
        )
        .await;
    assert_eq!(status, 200, "the system administrator may: {html}");

    // Changes: a staff member moves to another window and is renamed; an item's limits; nothing given, or an
    // entry of another county, is refused with the reason.
    let (status, html) = center
        .post(
            "/console/catalog/changes",
            &[("what", "staff"), ("code", "QS9001"), ("name", "新同事(已改名)"), ("window", "W-510899-C01")],
        )
        .await;
    assert_eq!(status, 200, "{html}");
    let staff = app.app.store.list_staff("/").await.unwrap().into_iter().find(|s| s.staff_number == "QS9001").unwrap();
    assert_eq!((staff.name.as_str(), staff.window_name.as_deref()), ("新同事(已改名)", Some("综合窗口1号")));
    let (status, _) = center
        .post("/console/catalog/changes", &[("what", "item"), ("code", "QS990001"), ("promised_days", "3")])
        .await;
    assert_eq!(status, 200);
    let item = app.app.store.list_items().await.unwrap().into_iter().find(|i| i.code == "QS990001").unwrap();
    assert_eq!((item.legal_limit_days, item.promised_limit_days), (Some(20), Some(3)), "blank stays, given changes");
    let (status, html) = center.post("/console/catalog/changes", &[("what", "item"), ("code", "QS990001")]).await;
    assert_eq!(status, 422);
    assert!(html.contains("至少填写一项"));
    let (status, _) =
        center.post("/console/catalog/changes", &[("what", "window"), ("code", "NOPE"), ("name", "x")]).await;
    assert_eq!(status, 422);
    let (status, _) =
        center.post("/console/catalog/changes", &[("what", "window"), ("code", "W-NEW-01"), ("kind", "planet")]).await;
    assert_eq!(status, 422);

    // A locked-out account: the administrator resets its password, which lifts the lock.
    for _ in 0..5 {
        try_login(&app, "xinqu", "wrong password 1").await;
    }
    assert_eq!(try_login(&app, "xinqu", PASSWORD).await.1.map(|_| ()), None, "locked");
    let (status, html) =
        center.post("/console/catalog/passwords", &[("username", "xinqu"), ("password", "a new secret 22")]).await;
    assert_eq!(status, 200, "{html}");
    assert!(try_login(&app, "xinqu", "a new secret 22").await.1.is_some(), "unlocked with the new password");
    let (status, _) =
        center.post("/console/catalog/passwords", &[("username", "admin"), ("password", "a new secret 22")]).await;
    assert_eq!(status, 422, "a system administrator's password is not the center's to reset");
    let (status, _) = center.post("/console/catalog/passwords", &[("username", "xinqu"), ("password", "1")]).await;
    assert_eq!(status, 422, "a weak password");

    // Someone leaves: the account is disabled, its open session ends, login says why; enabled again, it works.
    let xinqu = try_login(&app, "xinqu", "a new secret 22").await.1.expect("logged in");
    let (status, _) = xinqu.get("/console").await;
    assert_eq!(status, 200);
    let (status, html) =
        center.post("/console/catalog/accounts/state", &[("username", "xinqu"), ("action", "disable")]).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("已停用"));
    let (status, _) = xinqu.get("/console").await;
    assert_eq!(status, 303, "the session ended");
    let (status, _) = try_login(&app, "xinqu", "a new secret 22").await;
    assert_eq!(status, 422, "the login form again, with the reason");
    let (_, v) =
        app.post_json("/api/v1/sessions", &json!({ "username": "xinqu", "password": "a new secret 22" }), None).await;
    assert_eq!(v["code"], "account_disabled");
    let (status, _) =
        center.post("/console/catalog/accounts/state", &[("username", "center"), ("action", "disable")]).await;
    assert_eq!(status, 422, "not one's own account");
    let (status, _) =
        center.post("/console/catalog/accounts/state", &[("username", "xinqu"), ("action", "enable")]).await;
    assert_eq!(status, 200);
    assert!(try_login(&app, "xinqu", "a new secret 22").await.1.is_some());

    // Every addition is in the audit log, by the administrator.
    let entries = app.app.store.audit_entries("catalog.add", 0, 100).await.unwrap();
    assert_eq!(entries.len(), 5);
    assert_eq!(
        app.app.store.audit_entries("catalog.change", 0, 100).await.unwrap().len(),
        6,
        "five changes and the platform renamed"
    );
    assert!(entries.iter().all(|e| e.actor == "user:center"));
}

both_backends!(the_center_manages_its_catalog);

/// Issue 17 §7: the catalog's lists are searched by code or name and paged, from the URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_lists_are_searched_and_paged() {
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await.unwrap();
    make_accounts(&app).await;
    let b = login(&app, "center").await;
    let (status, page) = b.get("/console/catalog?q=%E7%BB%BC%E5%90%88%E7%AA%97%E5%8F%A31%E5%8F%B7").await;
    assert_eq!(status, 200);
    // 综合窗口1号: one window of all, its section opened, the other windows not listed.
    assert!(page.contains(r#"<details id="windows" open>"#), "{page}");
    assert!(page.contains("W-510899-C01") && !page.contains("W-510899-C02"), "{page}");
    assert!(page.contains(r#"value="综合窗口1号""#), "the search box keeps what was typed");
    // Paged: the staff list shows 50 a page, the second page from the URL.
    let (_, all) = b.get("/console/catalog").await;
    let staff_total: usize = all
        .split(r#"<details id="staff">"#)
        .nth(1)
        .and_then(|s| s.split("(").nth(1))
        .and_then(|s| s.split(')').next())
        .and_then(|n| n.parse().ok())
        .expect("the staff count");
    if staff_total > 50 {
        let (_, p2) = b.get("/console/catalog?staff_page=2").await;
        assert!(p2.contains(r#"<details id="staff" open>"#) && p2.contains("第 2/"), "{p2}");
    }
    let (status, _) = b.get("/console/catalog?staff_page=abc&q=%3Cscript%3E").await;
    assert_eq!(status, 200, "a bad page number or an odd search is no error");
}

/// Issue 17 §1: the filter forms pick organizations (as a tree), windows, staff and items from lists limited
/// to the person's scope and narrowed by a chosen organization, and show the chosen entry's name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pickers_are_scoped_and_narrowed() {
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await.unwrap();
    make_accounts(&app).await;
    let datalist = |page: &str, id: &str| -> String {
        let start = page.find(&format!(r#"<datalist id="{id}">"#)).unwrap_or_else(|| panic!("{id} in {page}"));
        let rest = &page[start..];
        rest[..rest.find("</datalist>").unwrap()].to_string()
    };
    // The county's center: every organization, indented by depth; every window.
    let center = login(&app, "center").await;
    let (_, page) = center.get("/console/evaluations").await;
    let orgs = datalist(&page, "pick-org");
    assert!(orgs.contains(r#"<option value="510899">青山县"#), "{orgs}");
    assert!(orgs.contains(r#"<option value="510899101">　"#), "a township is indented under the county: {orgs}");
    assert!(datalist(&page, "pick-window").contains("W-510899-C01"));
    // A township's unit admin: its own tree only.
    let unit = login(&app, "unit").await;
    let (_, page) = unit.get("/console/evaluations").await;
    let orgs = datalist(&page, "pick-org");
    assert!(orgs.contains(r#"value="510899101""#) && !orgs.contains(r#"value="510899D01""#), "{orgs}");
    assert!(!datalist(&page, "pick-window").contains("W-510899-C01"));
    // Choosing an organization narrows the windows and staff, and its name shows beside the field.
    let (_, page) = center.get("/console/evaluations?org=510899101").await;
    let windows = datalist(&page, "pick-window");
    assert!(windows.contains("W-510899101-01") && !windows.contains("W-510899-C01"), "{windows}");
    assert!(page.contains(r#"value="510899101" list="pick-org""#), "the filter stays in the URL's terms");
    assert!(page.contains(r#"<small class="muted">青山"#), "{page}");
    // The statistics, rankings, dashboard and assessment pages pick the organization the same way.
    for path in ["/console/stats", "/console/rankings", "/console/dashboard"] {
        let (status, page) = center.get(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(page.contains(r#"list="pick-org""#) && datalist(&page, "pick-org").contains("510899101"), "{path}");
        // A name typed instead of the code (Enter without choosing from the list) finds the organization.
        let (status, page) = center.get(&format!("{path}?org=%E9%9D%92%E5%B1%B1%E9%95%87")).await;
        assert_eq!(status, 200, "{path}: {page}");
        assert!(page.contains(r#"value="510899101" list="pick-org""#), "{path} resolves 青山镇: {page}");
    }
    let office = login(&app, "office").await;
    let (_, page) = office.get("/console/assessment").await;
    assert!(page.contains(r#"list="pick-org""#), "{page}");
}

/// Issue 17 §2: retiring and reactivating catalog entries — gone from registration and the pickers, history
/// kept, refused while still in use, every change audited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_entries_are_retired_and_reactivated() {
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await.unwrap();
    make_accounts(&app).await;
    let center = login(&app, "center").await;
    let retire = |what: &'static str, code: &'static str, action: &'static str| {
        let center = &center;
        async move {
            center.post("/console/catalog/retirements", &[("what", what), ("code", code), ("action", action)]).await
        }
    };
    // A record at window 2 before: its figures stay.
    let mut body = crate::helpers::record_body("RET-1");
    body["window_code"] = json!("W-510899-C02");
    let (_, token) = app.register(&body).await;
    assert_eq!(app.evaluate(&token, "satisfied", &[], None).await.0, 201);
    let (status, page) = retire("window", "W-510899-C02", "retire").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("已停用") && page.contains("综合窗口2号 <small class=\"late\">(已停用)</small>"), "{page}");
    // No new records at it; the reason is named.
    body["record_number"] = json!("RET-2");
    let (status, v) = app.post_json("/api/v1/service-records", &body, Some(&app.api_key)).await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["errors"][0]["code"], "retired");
    assert_eq!(v["errors"][0]["field"], "window_code");
    // Gone from the pickers; its past evaluation still found by its code.
    let (_, page) = center.get("/console/evaluations").await;
    assert!(!page.contains(r#"<option value="W-510899-C02">"#), "retired windows are not offered");
    let (_, page) = center.get("/console/evaluations?window=W-510899-C02").await;
    assert!(page.contains(r#"<a href="/console/evaluations/"#), "{page}");
    // Twice, or something unknown: refused with the reason.
    let (status, page) = retire("window", "W-510899-C02", "retire").await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("已经停用"));
    let (status, _) = retire("window", "W-NOPE", "retire").await;
    assert_eq!(status, 422);
    // Still in use: a window with a device, a staff member with an open case.
    let (status, page) = retire("window", "W-510899-C01", "retire").await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("在用的评价器"), "{page}");
    crate::cases::bad_review(&app, "RET-BAD").await;
    let (status, page) = retire("staff", "QS0001", "retire").await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("未办结的差评工单"), "{page}");
    // Reactivated: records are taken again.
    let (status, _) = retire("window", "W-510899-C02", "reactivate").await;
    assert_eq!(status, 200);
    body["record_number"] = json!("RET-3");
    let (status, v) = app.post_json("/api/v1/service-records", &body, Some(&app.api_key)).await;
    assert_eq!(status, 201, "{v}");
    let audit = app.app.store.audit_entries("catalog.", 0, 100).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"catalog.retire") && actions.contains(&"catalog.reactivate"), "{actions:?}");
    assert_eq!(app.app.store.rollup_mismatches().await.unwrap(), Vec::<String>::new());
}

both_backends!(an_organization_moves_with_its_records);

/// Issue 17 §2: an organization moved under another parent takes its records and figures with it; scopes
/// follow the tree; the figures still equal a recomputation; moving under its own descendant is refused.
async fn an_organization_moves_with_its_records(app: TestApp) {
    make_accounts(&app).await;
    let center = login(&app, "center").await;
    // A record of a village of township 101, rated.
    let mut body = crate::helpers::record_body("MOVE-1");
    body["org_code"] = json!("510899101201");
    body["window_code"] = serde_json::Value::Null;
    body["staff_number"] = serde_json::Value::Null;
    let (id, token) = app.register(&body).await;
    assert_eq!(app.evaluate(&token, "very_satisfied", &[], None).await.0, 201);
    let unit = login(&app, "unit").await; // the admin of township 101
    assert_eq!(unit.get(&format!("/console/records/{id}")).await.0, 200);

    let (status, page) = center.post("/console/catalog/moves", &[("code", "510899101"), ("org", "510899101201")]).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("它自己或它的下级"), "{page}");
    let (status, page) = center.post("/console/catalog/moves", &[("code", "510899101201"), ("org", "510899102")]).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("已调整"), "{page}");
    let moved = app.app.store.org_by_code("510899101201").await.unwrap().unwrap();
    let parent = app.app.store.org_by_code("510899102").await.unwrap().unwrap();
    assert!(moved.path.starts_with(&parent.path) && moved.parent_code.as_deref() == Some("510899102"));
    // Township 101's admin no longer sees it; the figures of 102 now hold the evaluation; all still consistent.
    assert_eq!(unit.get(&format!("/console/records/{id}")).await.0, 404);
    let token = api_token(&app, "center").await;
    let today = hcp_domain::calendar::business_date(app.app.now());
    let stats = |org: &str| format!("/api/v1/stats?org={org}&from={today}&to={today}");
    let (_, v) = app.get_json(&stats("510899102"), Some(&token)).await;
    assert_eq!(v["total"]["evaluations"], 1, "{v}");
    let (_, v) = app.get_json(&stats("510899101"), Some(&token)).await;
    assert_eq!(v["total"]["evaluations"], 0, "{v}");
    assert_eq!(app.app.store.rollup_mismatches().await.unwrap(), Vec::<String>::new());
    let audit = app.app.store.audit_entries("catalog.move", 0, 10).await.unwrap();
    assert_eq!(audit.len(), 1);
}

/// Issue 17 §2: an account holds several roles, each over its own subtree; granted and taken away by the
/// center, audited; an auditor acts in nothing else; an unknown role, a staff role without a staff number, the
/// last role: refused with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_holds_several_roles() {
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await.unwrap();
    make_accounts(&app).await;
    app.app.create_user("multi", "multi", PASSWORD, "unit_admin", IN, None).await.unwrap();
    let center = login(&app, "center").await;
    let role = |user: &'static str, role: &'static str, org: &'static str, action: &'static str| {
        let center = &center;
        async move {
            center
                .post("/console/catalog/roles", &[("username", user), ("role", role), ("org", org), ("action", action)])
                .await
        }
    };
    let other = record_in(&app, "MR-2", OUT).await;
    let own = record_in(&app, "MR-1", IN).await;
    let multi = login(&app, "multi").await;
    assert_eq!(multi.get(&format!("/console/records/{other}")).await.0, 404);
    let (status, page) = role("multi", "unit_admin", OUT, "add").await;
    assert_eq!(status, 200, "{page}");
    // Roles are read at every request: the same session now covers both townships.
    assert_eq!(multi.get(&format!("/console/records/{other}")).await.0, 200);
    assert_eq!(multi.get(&format!("/console/records/{own}")).await.0, 200);
    assert_eq!(role("multi", "unit_admin", OUT, "add").await.0, 409, "the same role twice is one");
    // A hotline agent sees citizens' numbers: only an account linked to a staff number (a real person) may be
    // one (issue 29 §3), and made in the console only with one.
    let (status, page) = role("multi", "hotline_agent", OUT, "add").await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("须关联工作人员工号"), "{page}");
    let admin_of_center = crate::helpers::county_center_admin();
    let made = app.app.add_account(&admin_of_center, "agent9", "坐席", PASSWORD, "hotline_agent", IN, None).await;
    assert_eq!(made.unwrap_err().code(), "hotline_needs_staff");
    app.app.create_user("linked", "linked", PASSWORD, "unit_admin", IN, Some("QS0004")).await.unwrap();
    // Five parallel grants of one new role: one written, four told it is held.
    let grants = futures_util::future::join_all((0..5).map(|_| role("linked", "hotline_agent", OUT, "add"))).await;
    let mut statuses: Vec<u16> = grants.iter().map(|(s, _)| *s).collect();
    statuses.sort();
    assert_eq!(statuses, [200, 409, 409, 409, 409]);
    assert_eq!(role("linked", "hotline_agent", OUT, "remove").await.0, 200);
    let (status, _) = role("multi", "unit_admin", IN, "remove").await;
    assert_eq!(status, 200);
    assert_eq!(multi.get(&format!("/console/records/{own}")).await.0, 404);
    let (status, page) = role("multi", "unit_admin", OUT, "remove").await;
    assert_eq!(status, 409, "never the last role: {page}");
    // The center grants no overseeing role; and an auditor's account takes no other role.
    let (status, page) = role("multi", "auditor", IN, "add").await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("只有系统管理员"), "{page}");
    // The center changes no overseer's roles (issue 29 §3); the system administrator may, within the rules.
    let (status, page) = role("auditor", "unit_admin", IN, "add").await;
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("只有系统管理员可以更改"), "{page}");
    let admin = login(&app, "admin").await;
    let (status, page) = admin
        .post(
            "/console/catalog/roles",
            &[("username", "auditor"), ("role", "unit_admin"), ("org", IN), ("action", "add")],
        )
        .await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("审计员账号不能兼任其他角色"), "{page}");
    // Nobody grants a role to themselves: not the center (it made itself a hotline agent and a unit
    // administrator), not the system administrator.
    for (who, browser) in [("center", &center), ("admin", &admin)] {
        let (status, page) = browser
            .post(
                "/console/catalog/roles",
                &[("username", who), ("role", "hotline_agent"), ("org", IN), ("action", "add")],
            )
            .await;
        assert_eq!(status, 403, "{who}: {page}");
        assert!(page.contains("不能给自己授予角色"), "{page}");
    }
    // Nor does the center change another center administrator's roles.
    app.app.create_user("center2", "center2", PASSWORD, "center_admin", "510899", None).await.unwrap();
    let (status, page) = role("center2", "unit_admin", IN, "add").await;
    assert_eq!(status, 403, "{page}");
    assert_eq!(role("multi", "emperor", IN, "add").await.0, 422);
    let (status, page) = role("multi", "staff", IN, "add").await;
    assert_eq!(status, 422);
    assert!(page.contains("关联了工号"), "{page}");
    let audit = app.app.store.audit_entries("user.role_", 0, 10).await.unwrap();
    assert_eq!(audit.len(), 4);
}

/// Issue 17 §6: what bad reviews say, grouped per unit, item and criterion for the month, on the dashboard
/// (each linking to the unit's evaluations of the item) and in the monthly report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_review_themes_reach_the_dashboard_and_the_report() {
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await.unwrap();
    make_accounts(&app).await;
    let comments = ["排队等了两个小时,叫号系统故障", "又是排队,唐兴华不理人", "材料清单写得不清楚"];
    for (n, comment) in comments.iter().enumerate() {
        let (_, token) = app.register(&crate::helpers::record_body(&format!("TH-{n}"))).await;
        assert_eq!(app.evaluate(&token, "dissatisfied", &["S411"], Some(comment)).await.0, 201);
    }
    let (_, token) = app.register(&crate::helpers::record_body("TH-OK")).await;
    assert_eq!(app.evaluate(&token, "very_satisfied", &[], None).await.0, 201);
    let text = hcp_domain::indicators::Annex::get().text("S411").unwrap();
    let center = login(&app, "center").await;
    let (status, page) = center.get("/console/dashboard?org=510899").await;
    assert_eq!(status, 200);
    assert!(page.contains("本月差评反映的主要问题"), "{page}");
    assert!(page.contains(&format!("{text}(3 条,较上月 +3)")), "{page}");
    // Per unit: the records' own organization names the theme and is what its link lists.
    assert!(page.contains("/console/evaluations?org=510899D01&amp;item="), "{page}");
    let office = api_token(&app, "office").await;
    let month = hcp_domain::period::Period::month_of(hcp_domain::calendar::business_date(chrono::Utc::now())).code();
    let (status, v) =
        app.post_json("/api/v1/reports", &json!({ "org": "510899", "period": month }), Some(&office)).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["body"]["themes"][0]["count"], 3, "{v}");
    assert_eq!(v["body"]["themes"][0]["text"], text);
    assert_eq!(v["body"]["themes"][0]["kind"], "criterion");
    assert_eq!(v["body"]["themes"][0]["unit_code"], "510899D01");
    let unit = v["body"]["themes"][0]["unit_name"].as_str().unwrap().to_string();
    assert!(!unit.is_empty() && page.contains(&format!("{unit} · 事项 ")), "{page}");

    // The comments' words (jieba): 排队 in two of the three; a word of one comment only (唐兴华) is no theme.
    assert!(page.contains("差评评论中的高频词"), "{page}");
    assert!(page.contains("评论提到“排队”(2 条,较上月 +2)"), "{page}");
    assert!(!page.contains("唐兴华"), "{page}");
    let words = v["body"]["themes"].as_array().unwrap().iter().filter(|t| t["kind"] == "word").count();
    assert!(words >= 1, "{v}");
    // Its link lists exactly the evaluations whose comment says it.
    let at = page.find("comment=").expect("a word's link");
    let href = &page[page[..at].rfind("href=\"").unwrap() + 6..at + page[at..].find('"').unwrap()];
    let (status, list) = center.get(&href.replace("&amp;", "&")).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list.matches("<td><a href=\"/console/evaluations/").count(), 2, "{list}");
    // The public report shows the annex's criteria, never the comments' words.
    let id = v["id"].as_i64().unwrap();
    let (status, _) = app.post_json(&format!("/api/v1/reports/{id}/publish"), &json!({}), Some(&office)).await;
    assert_eq!(status, 200);
    let public = reqwest::get(app.url(&format!("/public/reports/{id}"))).await.unwrap().text().await.unwrap();
    assert!(public.contains(text) && !public.contains("评论提到"), "{public}");
}

/// The county's themes of the month are counted in the background (the scheduler's warm-up each minute), so
/// its dashboard does not wait for them: counted once, not again while fresh, and what the dashboard shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_countys_themes_are_counted_before_anyone_asks() {
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await.unwrap();
    make_accounts(&app).await;
    let bad = |n: &'static str| {
        let app = &app;
        async move {
            let (_, token) = app.register(&crate::helpers::record_body(n)).await;
            assert_eq!(app.evaluate(&token, "dissatisfied", &["S411"], Some("材料清单写得不清楚")).await.0, 201);
        }
    };
    bad("TW-1").await;
    let text = hcp_domain::indicators::Annex::get().text("S411").unwrap();
    let warm = app.app.warm_county_themes().await.unwrap().expect("counted at the first warm-up");
    assert!(warm.themes.iter().any(|t| t.text == text && t.count == 1), "{:?}", warm.themes);
    assert!(app.app.warm_county_themes().await.unwrap().is_none(), "fresh: not counted again");
    // A bad review after the warm-up: the dashboard shows the warmed count, read without counting.
    bad("TW-2").await;
    let center = login(&app, "center").await;
    let (status, page) = center.get("/console/dashboard?org=510899").await;
    assert_eq!(status, 200);
    assert!(page.contains(&format!("{text}(1 条")), "{page}");
}
