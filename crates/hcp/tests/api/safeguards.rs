//! Issue 14: no one person does too much alone — contact revealed only for a duty and within a daily quota,
//! hotline evaluations only with the 12345 ticket of a call.

use serde_json::json;

use crate::both_backends;
use crate::cases::{Api, PASSWORD, bad_review};
use crate::console::login;
use crate::helpers::{TestApp, record_body, spawn_app_with};

/// Reveals per person per day in these tests.
const QUOTA: u32 = 3;

async fn reveal_only_for_a_purpose_within_the_daily_quota(app: TestApp) {
    let api = Api::new(&app).await;
    let (record, case) = bad_review(&app, "RV-1").await;
    let reveal = format!("/console/records/{record}/reveal");
    let why = [("reason", "联系评价人核实情况")];

    // Before the case is the unit's, no step of the unit needs the contact.
    let unit = login(&app, "unit").await;
    let (status, html) = unit.post(&reveal, &why).await;
    assert_eq!(status, 403, "{html}");
    assert!(html.contains("联系或回访环节"), "the refusal says when a reveal is possible");
    let (_, page) = unit.get(&format!("/console/records/{record}")).await;
    assert!(!page.contains("/reveal"), "no reveal form without a purpose");

    // Assigned to the unit: the unit may reveal to make contact; the center may not (its step is later).
    assert_eq!(api.step("center", case, json!({ "step": "assign", "unit_code": "510899D01" })).await.0, 200);
    let (status, html) = unit.post(&reveal, &why).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("13812345678"));
    let center = login(&app, "center").await;
    assert_eq!(center.post(&reveal, &why).await.0, 403);

    // Handled: the follow-up is the center's, and the unit's part is over.
    assert_eq!(api.step("unit", case, json!({ "step": "contact", "text": "已电话联系" })).await.0, 200);
    let finding = json!({ "step": "finding", "real_problem": false, "text": "材料清单已告知" });
    assert_eq!(api.step("unit", case, finding).await.0, 200);
    assert_eq!(center.post(&reveal, &why).await.0, 200);
    assert_eq!(unit.post(&reveal, &why).await.0, 403);

    // A hotline agent on a call: only with the ticket of the call, recorded with the reveal.
    let (other, _) = app.register(&record_body("RV-2")).await;
    let agent = login(&app, "hotline").await;
    let call = format!("/console/records/{other}/reveal");
    let (_, page) = agent.get(&format!("/console/records/{other}")).await;
    assert!(page.contains(r#"name="ticket_number""#), "the form asks for the ticket");
    let (status, html) = agent.post(&call, &why).await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("工单编号"));
    let (status, _) = agent.post(&call, &[why[0], ("ticket_number", "12345")]).await;
    assert_eq!(status, 422, "a ticket of the wrong shape");
    // Issue 29 §3: a ticket the 12345 system never registered for this record is no reason.
    let with_ticket = [why[0], ("ticket_number", "gd-20261129-0042")];
    let (status, html) = agent.post(&call, &[why[0], ("ticket_number", "FAKE000001")]).await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("没有登记在该办件上") && !html.contains("13812345678"), "{html}");
    assert_eq!(app.register_ticket(record, "GD-20261129-0042").await.0, 201, "registered for another record");
    assert_eq!(agent.post(&call, &with_ticket).await.0, 422, "a ticket of another record is no reason");
    let (status, v) = app.register_ticket(other, "GD-20261129-0042").await;
    assert_eq!((status, v["code"].as_str()), (409, Some("ticket_other_record")), "{v}");
    assert_eq!(app.register_ticket(other, "GD-20261129-0043").await.0, 201);
    assert_eq!(app.register_ticket(other, "gd-20261129-0043").await.0, 200, "a retry");
    let with_ticket = [with_ticket[0], ("ticket_number", "gd-20261129-0043")];
    assert_eq!(agent.post(&call, &with_ticket).await.0, 200);

    // The quota: 3 a day. Six at once after the first: exactly two more pass.
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let agent = agent.clone();
        let call = call.clone();
        tasks.push(tokio::spawn(async move { agent.post(&call, &with_ticket).await.0 }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 429, 429, 429, 429]);
    let (status, html) = agent.post(&call, &with_ticket).await;
    assert_eq!(status, 429);
    assert!(html.contains("上限") && !html.contains("13812345678"), "refused, nothing shown");

    // Every reveal and every refusal is in the log, with its purpose; the auditor sees the refusals at once.
    let log = app.app.store.audit_entries("applicant.reveal", 0, 100).await.unwrap();
    let of = |action: &str| log.iter().filter(|e| e.action == action).collect::<Vec<_>>();
    assert_eq!(of("applicant.reveal").len(), 5);
    assert_eq!(of("applicant.reveal_refused").len(), 7, "five over the quota, two with unknown tickets");
    let purposes: Vec<bool> = ["case_contact", "case_follow_up", "hotline_call"]
        .iter()
        .map(|p| of("applicant.reveal").iter().any(|e| e.details.contains(p)))
        .collect();
    assert_eq!(purposes, [true, true, true]);
    assert!(of("applicant.reveal").iter().any(|e| e.details.contains("GD-20261129-0043")));
    assert!(of("applicant.reveal_refused").iter().any(|e| e.details.contains("FAKE000001")));
    let auditor = login(&app, "auditor").await;
    let (_, home) = auditor.get("/console").await;
    assert!(home.contains("今日超出查看限额被拒"), "{home}");
    assert!(home.contains("applicant.reveal_refused"));
    // The quota is per person: the unit still has its own.
    let person = format!("user:{}", api_user_id(&app, "hotline").await);
    assert_eq!(app.app.store.reveals_used(&person, &today(&app)).await.unwrap(), 3);
}

/// Issue 29 §3: ten reveals by one person within ten minutes alert the auditor, once per burst; the quota and
/// the alert follow the person (the staff member an account is linked to).
async fn a_burst_of_reveals_alerts_the_auditor(app: TestApp) {
    crate::console::make_accounts(&app).await;
    app.app.create_user("agent7", "话务员小王", PASSWORD, "hotline_agent", "510899", Some("QS0005")).await.unwrap();
    let (record, _) = app.register(&record_body("BURST-1")).await;
    assert_eq!(app.register_ticket(record, "GD-BURST-0001").await.0, 201);
    let agent = login(&app, "agent7").await;
    let call = format!("/console/records/{record}/reveal");
    let form = [("reason", "来电人核实办件进度"), ("ticket_number", "GD-BURST-0001")];
    for _ in 0..hcp_app::reveal::BURST_REVEALS + 2 {
        assert_eq!(agent.post(&call, &form).await.0, 200);
    }
    let alerts = app.app.store.audit_entries("applicant.reveal_burst", 0, 10).await.unwrap();
    assert_eq!(alerts.len(), 1, "one alert for the burst: {alerts:?}");
    assert_eq!(alerts[0].actor, "user:agent7");
    // A scripted burst in parallel, by another person: alerted too, though the count runs past the threshold
    // between the checks.
    app.app.create_user("agent8", "话务员小赵", PASSWORD, "hotline_agent", "510899", Some("QS0006")).await.unwrap();
    let script = login(&app, "agent8").await;
    let tries = futures_util::future::join_all((0..hcp_app::reveal::BURST_REVEALS + 4).map(|_| {
        let (script, call) = (script.clone(), call.clone());
        async move { script.post(&call, &form).await.0 }
    }))
    .await;
    assert!(tries.iter().all(|s| *s == 200), "{tries:?}");
    let alerts = app.app.store.audit_entries("applicant.reveal_burst", 0, 10).await.unwrap();
    assert!(alerts.iter().any(|a| a.actor == "user:agent8"), "{alerts:?}");
    let staff = app.app.store.staff_id_by_number("QS0005").await.unwrap().unwrap();
    assert_eq!(app.app.store.reveals_used(&format!("staff:{staff}"), &today(&app)).await.unwrap(), 12);
    let auditor = login(&app, "auditor").await;
    let (_, home) = auditor.get("/console").await;
    assert!(home.contains("今日短时间内大量查看联系方式"), "{home}");
}

both_backends!(a_burst_of_reveals_alerts_the_auditor);

async fn api_user_id(app: &TestApp, username: &str) -> i64 {
    app.app.store.user_by_username(username).await.unwrap().unwrap().id
}

fn today(app: &TestApp) -> String {
    hcp_domain::calendar::business_date(app.app.now()).to_string()
}

async fn hotline_evaluations_carry_their_ticket(app: TestApp) {
    let api = Api::new(&app).await;
    let mut records = Vec::new();
    for n in 0..7 {
        records.push(app.register(&record_body(&format!("HT-{n}"))).await.0);
    }
    let path = |id: i64| format!("/api/v1/service-records/{id}/hotline-evaluation");
    let (status, v) =
        api.post("hotline", &path(records[0]), json!({ "level": "satisfied", "ticket_number": "" })).await;
    assert_eq!((status, v["code"].as_str()), (422, Some("ticket_required")), "{v}");
    let (status, v) = api.post("hotline", &path(records[0]), json!({ "level": "satisfied" })).await;
    assert_eq!(status, 422, "a body without the ticket: {v}");
    let (status, v) = api.post("hotline", &path(records[0]), json!({ "level": "nope", "ticket_number": "x" })).await;
    assert_eq!(status, 422);
    let codes: Vec<&str> = v["errors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["invalid_ticket_number", "invalid_level"], "every reason at once: {v}");

    let ok = json!({ "level": "satisfied", "ticket_number": "GD-1129-0001" });
    // Issue 29 §3: a ticket the 12345 system did not register for the record uses nothing up.
    let (status, v) = api.post("hotline", &path(records[0]), ok.clone()).await;
    assert_eq!((status, v["code"].as_str()), (422, Some("unknown_ticket")), "{v}");
    assert!(app.app.store.first_evaluation(records[0]).await.unwrap().is_none());
    assert_eq!(app.register_ticket(records[0], "GD-1129-0001").await.0, 201);
    let (status, v) = api.post("hotline", &path(records[0]), ok.clone()).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!((v["state"].as_str(), v["evaluation"]["channel"].as_str()), (Some("recorded"), Some("hotline")));
    // The same call cannot rate another record: the ticket is registered for one record only (compared as the
    // hotline writes it).
    let again = json!({ "level": "very_satisfied", "ticket_number": "gd-1129-0001" });
    let (status, v) = api.post("hotline", &path(records[1]), again).await;
    assert_eq!((status, v["code"].as_str()), (422, Some("unknown_ticket")), "{v}");
    assert!(app.app.store.first_evaluation(records[1]).await.unwrap().is_none(), "nothing half-written");
    assert_eq!(app.app.store.hotline_ticket_of(records[0]).await.unwrap().as_deref(), Some("GD-1129-0001"));
    // Roles that take no calls may not record one.
    assert_eq!(api.post("unit", &path(records[1]), ok.clone()).await.0, 403);
    assert_eq!(
        api.post("center", &path(records[1]), json!({ "level": "satisfied", "ticket_number": "GD-9" })).await.0,
        403
    );

    // Five ratings of one record at once on its registered ticket: exactly one is written.
    assert_eq!(app.register_ticket(records[2], "GD-1129-0002").await.0, 201);
    let mut tasks = Vec::new();
    for &id in &[records[2]; 5] {
        let (base, http, token) = (app.base.clone(), app.http.clone(), api.token("hotline"));
        tasks.push(tokio::spawn(async move {
            http.post(format!("{base}/api/v1/service-records/{id}/hotline-evaluation"))
                .bearer_auth(token)
                .json(&json!({ "level": "very_satisfied", "ticket_number": "GD-1129-0002" }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409, 409, 409, 409]);
    let mut written = 0;
    for &id in &records[2..] {
        written += usize::from(app.app.store.first_evaluation(id).await.unwrap().is_some());
    }
    assert_eq!(written, 1);
}

mod quota {
    use super::*;
    use crate::helpers::Backend;

    async fn run(backend: Backend) {
        let Some(app) = spawn_app_with(backend, |cfg| cfg.safeguards.reveal_quota = QUOTA).await else { return };
        reveal_only_for_a_purpose_within_the_daily_quota(app).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        run(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        run(Backend::Postgres).await;
    }
}

both_backends!(hotline_evaluations_carry_their_ticket);

/// The attack of the issue: one center admin makes an account for a staff member who had none, files the
/// appeal through it, has a unit account of their making pass it, and would uphold it themselves.
async fn one_person_cannot_see_an_appeal_through(app: TestApp) {
    let api = Api::new(&app).await;
    app.app.create_user("center2", "另一位中心管理员", PASSWORD, "center_admin", "510899", None).await.unwrap();
    let mut body = record_body("COI-1");
    body["staff_number"] = json!("QS0003");
    let (_, token) = app.register(&body).await;
    let (status, v) = app.evaluate(&token, "very_dissatisfied", &["S511"], Some("来回跑")).await;
    assert_eq!(status, 201, "{v}");
    let case = app.app.store.case_of_evaluation(v["id"].as_i64().unwrap()).await.unwrap().unwrap().id;

    let center = login(&app, "center").await;
    for (username, role, staff) in [("shadow", "staff", "QS0003"), ("shadowunit", "unit_admin", "")] {
        let fields = [
            ("username", username),
            ("display_name", "影子账号"),
            ("password", "correct horse 9"),
            ("role", role),
            ("org", "510899D01"),
            ("staff", staff),
        ];
        let (status, html) = center.post("/console/catalog/accounts", &fields).await;
        assert!(status < 400, "{status}: {html}");
    }
    let session = |username: &'static str| {
        let app = &app;
        async move {
            let body = json!({ "username": username, "password": "correct horse 9" });
            let (status, v) = app.post_json("/api/v1/sessions", &body, None).await;
            assert_eq!(status, 201, "{v}");
            v["token"].as_str().unwrap().to_string()
        }
    };
    let (shadow, shadowunit) = (session("shadow").await, session("shadowunit").await);
    let (status, v) = app
        .post_json(&format!("/api/v1/cases/{case}/appeal"), &json!({ "reasons": "评价对象错误" }), Some(&shadow))
        .await;
    assert_eq!(status, 201, "{v}");
    let appeal = format!("/api/v1/appeals/{}", v["id"].as_i64().unwrap());
    let decision = format!("{appeal}/decision");
    let pass = json!({ "uphold": true, "reasons": "核实属实" });
    assert_eq!(app.post_json(&decision, &pass, Some(&shadowunit)).await.0, 200);

    // The creator of both accounts may not decide the center's stage; the page says so before they try.
    let (status, v) = api.get("center", &appeal).await;
    assert_eq!((status, v["may_decide"].as_bool()), (200, Some(false)), "{v}");
    let uphold = json!({ "uphold": true, "reasons": "复核成立" });
    let (status, v) = api.post("center", &decision, uphold.clone()).await;
    assert_eq!((status, v["code"].as_str()), (403, Some("appeal_conflict_of_interest")), "{v}");
    let (_, v) = api.get("center", &appeal).await;
    assert_eq!(v["appeal"]["state"], "with_center", "nothing changed: {v}");

    // Another center admin, with no part in it, decides.
    let token = token_of(&app, "center2").await;
    let (status, v) = app.get_json(&appeal, Some(&token)).await;
    assert_eq!((status, v["may_decide"].as_bool()), (200, Some(true)), "{v}");
    let reject = json!({ "uphold": false, "reasons": "申诉理由不成立" });
    assert_eq!(app.post_json(&decision, &reject, Some(&token)).await.0, 200);

    // Whoever reset a staff member's password has no say on that person's appeals either.
    let (_, token) = {
        let mut body = record_body("COI-2");
        body["staff_number"] = json!("QS0003");
        app.register(&body).await
    };
    let (_, v) = app.evaluate(&token, "very_dissatisfied", &["S511"], Some("来回跑")).await;
    let case = app.app.store.case_of_evaluation(v["id"].as_i64().unwrap()).await.unwrap().unwrap().id;
    let (status, v) = app
        .post_json(&format!("/api/v1/cases/{case}/appeal"), &json!({ "reasons": "评价对象错误" }), Some(&shadow))
        .await;
    assert_eq!(status, 201, "{v}");
    let decision = format!("/api/v1/appeals/{}/decision", v["id"].as_i64().unwrap());
    let (status, html) = login(&app, "center2")
        .await
        .post("/console/catalog/passwords", &[("username", "shadow"), ("password", "correct horse 8")])
        .await;
    assert!(status < 400, "{status}: {html}");
    assert_eq!(app.post_json(&decision, &pass, Some(&shadowunit)).await.0, 200);
    let (status, v) = app.post_json(&decision, &uphold, Some(&token_of(&app, "center2").await)).await;
    assert_eq!((status, v["code"].as_str()), (403, Some("appeal_conflict_of_interest")), "{v}");
    let audit = app.app.store.audit_entries("appeal.decide", 0, 100).await.unwrap();
    assert_eq!(audit.len(), 3, "only the decisions taken are in the log");
}

async fn token_of(app: &TestApp, username: &str) -> String {
    let body = json!({ "username": username, "password": PASSWORD });
    app.post_json("/api/v1/sessions", &body, None).await.1["token"].as_str().unwrap().to_string()
}

both_backends!(one_person_cannot_see_an_appeal_through);

/// Issue 14 §5: a name nobody holds answers exactly as an account does — wrong five times, then locked — so
/// the login form does not tell which names exist.
async fn unknown_and_locked_names_answer_alike(app: TestApp) {
    app.app.create_user("realone", "真实账号", PASSWORD, "unit_admin", "510899D01", None).await.unwrap();
    let mut answers = Vec::new();
    for name in ["realone", "ghost"] {
        let mut seen = Vec::new();
        for i in 0..6 {
            let body = json!({ "username": name, "password": format!("wrong password {i}") });
            let (status, v) = app.post_json("/api/v1/sessions", &body, None).await;
            seen.push((status, v["code"].as_str().unwrap_or_default().to_string(), v["detail"].clone()));
        }
        answers.push(seen);
    }
    assert_eq!(answers[0], answers[1], "the same answers for a real and an unknown name");
    assert_eq!(answers[0][4].0, 422);
    assert_eq!((answers[0][5].0, answers[0][5].1.as_str()), (429, "account_locked"));
}

both_backends!(unknown_and_locked_names_answer_alike);

/// Issue 14 §8: one key file per database. PostgreSQL makes none by itself (`hcp keys init` does, once), and an
/// instance started with another key file refuses to run instead of sealing data the others cannot read.
async fn one_key_file_per_database(backend: crate::helpers::Backend) {
    let Some((db_url, _dir)) = crate::helpers::fresh_database(backend).await else { return };
    let keys_dir = tempfile::tempdir().unwrap();
    let file = |name: &str| keys_dir.path().join(name).to_str().unwrap().to_string();
    let hcp = |args: &[&str], keys: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_hcp"))
            .args(args)
            .args(["--database-url", &db_url, "--data-keys-file", keys])
            .env_remove("HCP_DATA_KEYS")
            .output()
            .unwrap()
    };
    let (keys, other) = (file("hcp.keys"), file("other.keys"));
    if backend == crate::helpers::Backend::Postgres {
        let o = hcp(&["demo", "--records", "0"], &keys);
        assert!(!o.status.success());
        assert!(String::from_utf8_lossy(&o.stderr).contains("hcp keys init"), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(!std::path::Path::new(&keys).exists(), "no key file made behind the operator's back");
    }
    let o = hcp(&["keys", "init"], &keys);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("指纹"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&keys).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let o = hcp(&["keys", "init"], &other);
    assert!(!o.status.success(), "a second key file for the same database is refused");
    assert!(String::from_utf8_lossy(&o.stderr).contains("已登记"), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(hcp(&["demo", "--records", "20"], &keys).status.success());

    std::fs::write(&other, hcp_crypto::Keyring::generate_text()).unwrap();
    let o = hcp(&["serve", "--listen", "127.0.0.1:0"], &other);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("数据密钥与数据库不符") && err.contains("指纹"), "{err}");
}

mod key_files {
    use crate::helpers::Backend;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::one_key_file_per_database(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::one_key_file_per_database(Backend::Postgres).await;
    }
}

/// Issue 14 §8: a sealed value is bound to its row and field — swapped between two records it no longer
/// opens (nobody reads one person's data as another's); values sealed before the binding still open, and a
/// rotation seals them bound.
async fn sealed_values_are_bound_to_their_row(app: TestApp) {
    let (a, _) = app.register(&record_body("AAD-1")).await;
    let mut other = record_body("AAD-2");
    other["applicant"]["mobile"] = json!("13900003333");
    let (b, _) = app.register(&other).await;
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.db_url).await.unwrap();
    let mobile_of = |id: i64| {
        sqlx::query_scalar::<_, String>("SELECT applicant_mobile_enc FROM service_record WHERE id = $1").bind(id)
    };
    let (ma, mb) = (mobile_of(a).fetch_one(&mut conn).await.unwrap(), mobile_of(b).fetch_one(&mut conn).await.unwrap());
    let set = "UPDATE service_record SET applicant_mobile_enc = $1 WHERE id = $2";
    sqlx::query(set).bind(&mb).bind(a).execute(&mut conn).await.unwrap();
    let rec = app.app.store.record_by_id(a).await.unwrap().unwrap();
    assert!(app.app.keys.open(&rec).is_err(), "another record's mobile does not open here");
    // Moved to another column of the same row, it does not open either.
    sqlx::query(set).bind(&ma).bind(a).execute(&mut conn).await.unwrap();
    let set_name = "UPDATE service_record SET applicant_name_enc = $1 WHERE id = $2";
    let name_b: String = sqlx::query_scalar("SELECT applicant_name_enc FROM service_record WHERE id = $1")
        .bind(b)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    sqlx::query(set_name).bind(&mb).bind(b).execute(&mut conn).await.unwrap();
    let rec_b = app.app.store.record_by_id(b).await.unwrap().unwrap();
    assert!(app.app.keys.open(&rec_b).is_err());
    sqlx::query(set_name).bind(&name_b).bind(b).execute(&mut conn).await.unwrap();
    let rec = app.app.store.record_by_id(a).await.unwrap().unwrap();
    assert_eq!(app.app.keys.open(&rec).unwrap().mobile, "13812345678", "put back, it opens again");

    // A value sealed the old way (the field's name alone) still opens.
    let ring = app.app.keys.current();
    let legacy = ring.encrypt("applicant.mobile", "13700004444");
    sqlx::query(set).bind(&legacy).bind(a).execute(&mut conn).await.unwrap();
    let rec = app.app.store.record_by_id(a).await.unwrap().unwrap();
    assert_eq!(app.app.keys.open(&rec).unwrap().mobile, "13700004444");
    if matches!(app.keys, hcp_app::keys::KeySource::File(_)) {
        app.app.rotate_keys(true, |_| {}).await.unwrap();
        let resealed = mobile_of(a).fetch_one(&mut conn).await.unwrap();
        let rec = app.app.store.record_by_id(a).await.unwrap().unwrap();
        assert_eq!(app.app.keys.open(&rec).unwrap().mobile, "13700004444");
        let ring = app.app.keys.current();
        assert!(ring.decrypt(&rec.applicant_key_id, "applicant.mobile", &resealed).is_err(), "now bound");
    }
}

both_backends!(sealed_values_are_bound_to_their_row);

/// Issue 14 §8: a window code waits in the outbox sealed — not in the stored body, not on the operators'
/// page — and reaches the gateway whole.
async fn codes_wait_sealed_in_the_outbox(app: TestApp) {
    let _api = Api::new(&app).await;
    app.register(&record_body("SEAL-1")).await;
    let res = app.http.post(app.url("/w/W-510899-C01")).form(&[("mobile", "13812345678")]).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let pending = app.app.store.pending_messages(10).await.unwrap();
    let m = pending.iter().find(|m| m.template == "window_code").expect("a code message");
    let text = app.app.message_text(m).unwrap();
    let at = text.find("验证码为 ").unwrap() + "验证码为 ".len();
    let code = &text[at..at + 6];
    assert!(!m.body.contains(code), "not in the stored body: {}", m.body);
    let center = login(&app, "center").await;
    let (status, html) = center.get("/console/outbox").await;
    assert_eq!(status, 200);
    assert!(html.contains("〔已隐藏〕") && !html.contains(code), "the operators' page hides it");

    let (url, got, up) = crate::cases::fake_gateway().await;
    up.store(true, std::sync::atomic::Ordering::SeqCst);
    let sender = app.app.clone().with_gateway(hcp_app::outbox::Gateway::webhook(&url));
    sender.deliver_messages(app.app.now()).await.unwrap();
    let got = got.lock().unwrap().clone();
    let sent = got.iter().find(|m| m["template"] == "window_code").expect("sent");
    assert!(sent["text"].as_str().unwrap().contains(code), "{sent}");
    assert!(!sent["text"].as_str().unwrap().contains("{secret}"));
}

both_backends!(codes_wait_sealed_in_the_outbox);

/// `--hotline-confirm`: the agent's evaluation waits for the applicant, who confirms (it counts, a bad one
/// opens its case) or declines (it never counts) through the link in a text message.
async fn hotline_evaluations_wait_for_the_applicant(app: TestApp) {
    let api = Api::new(&app).await;
    let (a, _) = app.register(&record_body("HC-1")).await;
    let (b, _) = app.register(&record_body("HC-2")).await;
    let path = |id: i64| format!("/api/v1/service-records/{id}/hotline-evaluation");
    for (record, ticket) in [(a, "GD-HC-0001"), (a, "GD-HC-0009"), (b, "GD-HC-0002")] {
        assert_eq!(app.register_ticket(record, ticket).await.0, 201);
    }
    let bad = json!({ "level": "dissatisfied", "comment": "来电反映窗口人员态度生硬", "ticket_number": "GD-HC-0001" });
    let (status, v) = api.post("hotline", &path(a), bad).await;
    assert_eq!((status, v["state"].as_str()), (202, Some("awaiting_confirmation")), "{v}");
    assert!(app.app.store.first_evaluation(a).await.unwrap().is_none(), "nothing counts yet");
    let (_, again) =
        api.post("hotline", &path(b), json!({ "level": "satisfied", "ticket_number": "GD-HC-0001" })).await;
    assert_eq!(again["code"], "unknown_ticket", "the call was about another record");
    // Issue 29 §3: a second evaluation of the same record while the first waits — another ticket, another
    // text message to the citizen — is refused (twelve in a row each sent one).
    let (status, v) =
        api.post("hotline", &path(a), json!({ "level": "very_satisfied", "ticket_number": "GD-HC-0009" })).await;
    assert_eq!((status, v["code"].as_str()), (409, Some("hotline_pending")), "{v}");
    let texts = app.app.store.pending_messages(50).await.unwrap();
    let to_a = texts.iter().filter(|m| m.template == "hotline_confirm" && m.recipient == a.to_string()).count();
    assert_eq!(to_a, 1, "one text message for the record");

    let link_of = |record: i64| {
        let app = &app;
        async move {
            let pending = app.app.store.pending_messages(50).await.unwrap();
            let m = pending
                .iter()
                .rev()
                .find(|m| m.template == "hotline_confirm" && m.recipient == record.to_string())
                .expect("a confirmation message");
            assert!(!m.body.contains("/h/"), "the link is sealed: {}", m.body);
            let text = app.app.message_text(m).unwrap();
            text[text.find("/h/").unwrap()..].split([';', '(']).next().unwrap().to_string()
        }
    };
    let link = link_of(a).await;
    let res = app.http.get(app.url(&link)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("不满意") && html.contains("HC-1") && !html.contains("13812345678"), "{html}");
    let res = app.http.post(app.url(&link)).form(&[("answer", "confirm")]).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let e = app.app.store.first_evaluation(a).await.unwrap().expect("confirmed: it counts");
    assert_eq!((e.channel.as_str(), e.level.as_str()), ("hotline", "dissatisfied"));
    assert!(app.app.store.case_of_evaluation(e.id).await.unwrap().is_some(), "a bad review opens its case");
    let res = app.http.post(app.url(&link)).form(&[("answer", "confirm")]).send().await.unwrap();
    assert_eq!(res.status(), 409, "answered once");

    // Declined: it never counts.
    let (status, _) =
        api.post("hotline", &path(b), json!({ "level": "very_satisfied", "ticket_number": "GD-HC-0002" })).await;
    assert_eq!(status, 202);
    let link = link_of(b).await;
    let res = app.http.post(app.url(&link)).form(&[("answer", "decline")]).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("不会生效"));
    assert!(app.app.store.first_evaluation(b).await.unwrap().is_none());
    // Declined, the record may be rated again — but the applicant gets at most one text a day about it.
    assert_eq!(app.register_ticket(b, "GD-HC-0003").await.0, 201);
    let (status, v) =
        api.post("hotline", &path(b), json!({ "level": "satisfied", "ticket_number": "GD-HC-0003" })).await;
    assert_eq!((status, v["code"].as_str()), (409, Some("hotline_texted_today")), "{v}");
    let log = app.app.store.audit_entries("evaluation.hotline", 0, 10).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["evaluation.hotline_pending", "evaluation.hotline_pending", "evaluation.hotline_declined"]);
    assert_eq!(app.http.get(app.url("/h/not-a-token")).send().await.unwrap().status(), 404);

    // Answered from two phones at once (confirm and decline): one answer wins, the others are told it came
    // late, and the evaluation counts at most once.
    let (c, _) = app.register(&record_body("HC-3")).await;
    for n in 0..5 {
        assert_eq!(app.register_ticket(c, &format!("GD-HC-003{n}")).await.0, 201);
    }
    // Five agents at once on one record: one waits for the applicant, four are told it already does.
    let tries = futures_util::future::join_all((0..5).map(|n| {
        let (api, path) = (&api, path(c));
        async move {
            let ticket = format!("GD-HC-003{n}");
            api.post("hotline", &path, json!({ "level": "satisfied", "ticket_number": ticket })).await.0
        }
    }))
    .await;
    let mut tries = tries;
    tries.sort_unstable();
    assert_eq!(tries, [202, 409, 409, 409, 409]);
    let url = app.url(&link_of(c).await);
    let answers = futures_util::future::join_all(["decline", "confirm", "confirm", "decline"].map(|answer| {
        let (http, url) = (app.http.clone(), url.clone());
        async move { http.post(&url).form(&[("answer", answer)]).send().await.unwrap().status().as_u16() }
    }))
    .await;
    let mut statuses = answers.clone();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409, 409, 409], "{answers:?}");
    let counted = app.app.store.count_evaluations().await.unwrap();
    let c_counts = app.app.store.first_evaluation(c).await.unwrap().is_some();
    assert_eq!(counted, 1 + i64::from(c_counts), "a counts; c at most once");
    let answers_logged = app.app.store.audit_entries("evaluation.hotline", 0, 20).await.unwrap().len();
    // Before: two pending, one declined; now one pending and, if declined, the refusal (a confirmation is
    // logged as the evaluation itself).
    assert_eq!(answers_logged, if c_counts { 4 } else { 5 }, "one answer logged, whichever won");
}

mod hotline_confirm {
    use crate::helpers::{Backend, spawn_app_with};

    async fn run(backend: Backend) {
        let Some(app) = spawn_app_with(backend, |cfg| cfg.safeguards.hotline_confirm = true).await else { return };
        super::hotline_evaluations_wait_for_the_applicant(app).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        run(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        run(Backend::Postgres).await;
    }
}
