//! Issue 6 §2 over HTTP: the window's fixed QR code with its one-time code, the kiosk, hall devices, and the
//! QR code images — including every way they refuse.

use std::time::Duration;

use reqwest::redirect::Policy;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{ID_NUMBER, TestApp, record_body};

const WINDOW: &str = "W-510899-C01";

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().unwrap()
}

async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, String, Option<String>) {
    let res = client().post(app.url(path)).form(form).send().await.unwrap();
    let status = res.status().as_u16();
    let location = res.headers().get("location").map(|v| v.to_str().unwrap().to_string());
    (status, res.text().await.unwrap(), location)
}

fn hidden(html: &str, name: &str) -> String {
    let pat = format!(r#"name="{name}" value=""#);
    let at = html.find(&pat).unwrap_or_else(|| panic!("no {name} in {html}")) + pat.len();
    html[at..].split('"').next().unwrap().to_string()
}

/// The newest text message's six-digit code.
async fn last_code(app: &TestApp) -> String {
    let messages = app.app.store.pending_messages(100).await.unwrap();
    let m = messages.iter().rev().find(|m| m.template == "window_code").expect("a code message");
    assert!(!m.body.contains("13812345678"), "the message body holds no mobile number");
    assert!(m.body.contains("{secret}") && m.secret.is_some(), "the code is sealed, not in the body: {}", m.body);
    let text = app.app.message_text(m).unwrap();
    let at = text.find("验证码为 ").expect("the code in the message") + "验证码为 ".len();
    text[at..at + 6].to_string()
}

async fn the_window_code_lists_the_numbers_records(app: TestApp) {
    // Two records at the window for this number, one elsewhere, one for another number.
    app.register(&record_body("W-1")).await;
    app.register(&record_body("W-2")).await;
    let mut other_window = record_body("W-3");
    other_window["window_code"] = json!("W-510899-C02");
    other_window["staff_number"] = serde_json::Value::Null;
    app.register(&other_window).await;
    let mut other_mobile = record_body("W-4");
    other_mobile["applicant"]["mobile"] = json!("13900001111");
    app.register(&other_mobile).await;

    let res = client().get(app.url(&format!("/w/{WINDOW}"))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("综合窗口1号"));
    assert_eq!(client().get(app.url("/w/NOPE")).send().await.unwrap().status(), 404);

    // A malformed number: the form again with the reason, announced.
    let (status, html, _) = post_form(&app, &format!("/w/{WINDOW}"), &[("mobile", "1381234")]).await;
    assert_eq!(status, 422);
    assert!(html.contains(r#"role="alert""#) && html.contains(r#"aria-invalid="true""#), "{html}");

    let (status, html, _) = post_form(&app, &format!("/w/{WINDOW}"), &[("mobile", "13812345678")]).await;
    assert_eq!(status, 200, "{html}");
    let handle = hidden(&html, "handle");
    let code = last_code(&app).await;
    // A wrong code counts; the right one then still works.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, html, _) =
        post_form(&app, &format!("/w/{WINDOW}/verify"), &[("handle", &handle), ("code", wrong)]).await;
    assert_eq!(status, 422);
    assert!(html.contains("还可以再试 4 次"), "{html}");
    let (status, html, _) =
        post_form(&app, &format!("/w/{WINDOW}/verify"), &[("handle", &handle), ("code", "12ab")]).await;
    assert_eq!(status, 422);
    assert!(html.contains("6 位数字"));
    let (status, html, _) =
        post_form(&app, &format!("/w/{WINDOW}/verify"), &[("handle", &handle), ("code", &code)]).await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(html.matches("?c=qr_code").count(), 2, "the two records at this window: {html}");
    assert!(html.contains("W-1") && html.contains("W-2") && !html.contains("W-3") && !html.contains("W-4"));
    // The links work and are marked as QR-code evaluations.
    let at = html.find("/e/").unwrap();
    let link = html[at..].split('"').next().unwrap().replace("&amp;", "&");
    let token = link[3..].split('?').next().unwrap().to_string();
    let (status, v) = app.evaluate(&token, "satisfied", &[], None).await;
    assert_eq!(status, 201, "{v}");
    // A used code does not work again.
    let (status, html, _) =
        post_form(&app, &format!("/w/{WINDOW}/verify"), &[("handle", &handle), ("code", &code)]).await;
    assert_eq!(status, 410, "{html}");
    // An unknown handle reads the same as an expired one.
    let (status, _, _) = post_form(&app, &format!("/w/{WINDOW}/verify"), &[("handle", "x"), ("code", "123456")]).await;
    assert_eq!(status, 410);

    // A number with nothing here gets the same page and no message.
    let before = app.app.store.pending_messages(100).await.unwrap().len();
    let (status, _, _) = post_form(&app, &format!("/w/{WINDOW}"), &[("mobile", "13700000000")]).await;
    assert_eq!(status, 200);
    assert_eq!(app.app.store.pending_messages(100).await.unwrap().len(), before, "no message to a stranger");

    // Five wrong codes use a code up.
    let (_, html, _) = post_form(&app, &format!("/w/{WINDOW}"), &[("mobile", "13812345678")]).await;
    let handle = hidden(&html, "handle");
    let code = last_code(&app).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        post_form(&app, &format!("/w/{WINDOW}/verify"), &[("handle", &handle), ("code", wrong)]).await;
    }
    let (status, _, _) = post_form(&app, &format!("/w/{WINDOW}/verify"), &[("handle", &handle), ("code", &code)]).await;
    assert_eq!(status, 410, "after five wrong tries the right code no longer works");
    // At most five codes an hour per number.
    for _ in 0..3 {
        post_form(&app, &format!("/w/{WINDOW}"), &[("mobile", "13812345678")]).await;
    }
    let (status, html, _) = post_form(&app, &format!("/w/{WINDOW}"), &[("mobile", "13812345678")]).await;
    assert_eq!(status, 429, "{html}");
    assert!(html.contains("次数过多"));
    // The jobs clear codes older than a day (and with them the hour's count).
    app.app.run_jobs(chrono::Utc::now() + chrono::Duration::days(2)).await.unwrap();
    let (status, _, _) = post_form(&app, &format!("/w/{WINDOW}"), &[("mobile", "13812345678")]).await;
    assert_eq!(status, 200);
}

async fn qr_codes_for_windows_and_records(app: TestApp) {
    let (_, token) = app.register(&record_body("QR-1")).await;
    for (path, kind) in [
        (format!("/w/{WINDOW}/qr.svg"), "image/svg+xml"),
        (format!("/w/{WINDOW}/qr.png"), "image/png"),
        (format!("/e/{token}/qr.svg"), "image/svg+xml"),
        (format!("/e/{token}/qr.png"), "image/png"),
    ] {
        let res = client().get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["content-type"], kind, "{path}");
        let body = res.bytes().await.unwrap();
        if kind == "image/png" {
            assert_eq!(&body[..4], b"\x89PNG");
        } else {
            assert!(body.starts_with(b"<svg"));
        }
    }
    let res = client().get(app.url(&format!("/w/{WINDOW}/poster"))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("<svg") && html.contains(&format!("/w/{WINDOW}")) && html.contains("综合窗口1号"));
    for path in [
        "/w/NOPE/qr.svg".to_string(),
        format!("/w/{WINDOW}/qr.gif"),
        "/e/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/qr.svg".to_string(),
    ] {
        assert_eq!(client().get(app.url(&path)).send().await.unwrap().status(), 404, "{path}");
    }
}

async fn the_kiosk_finds_a_record_by_number_and_id(app: TestApp) {
    app.register(&record_body("K-1")).await;
    let res = client().get(app.url("/kiosk")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let (status, html, _) = post_form(&app, "/kiosk", &[("record_number", "K-1"), ("id_number", "123")]).await;
    assert_eq!(status, 422, "{html}");
    let (status, html, _) =
        post_form(&app, "/kiosk", &[("record_number", "K-1"), ("id_number", "110105194912310029")]).await;
    assert!(status == 404 || status == 422, "another person's ID number: {status} {html}");
    let (status, html, _) = post_form(&app, "/kiosk", &[("record_number", "K-9"), ("id_number", ID_NUMBER)]).await;
    assert_eq!(status, 404, "{html}");
    assert!(html.contains("没有找到该办件") && html.contains(r#"value="K-9""#));
    let (status, _, location) = post_form(&app, "/kiosk", &[("record_number", "K-1"), ("id_number", ID_NUMBER)]).await;
    assert_eq!(status, 303);
    let location = location.unwrap();
    assert!(location.contains("c=kiosk"), "{location}");
    let token = location[3..].split('?').next().unwrap();
    let body = json!({ "token": token, "level": "very_satisfied", "indicator_ids": [], "staff_indicator_ids": [],
                       "channel": "kiosk" });
    let (status, v) = app.post_json("/api/v1/evaluations", &body, None).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["channel"], "kiosk");
    // Rated: the kiosk says so instead of opening the page again.
    let (status, html, _) = post_form(&app, "/kiosk", &[("record_number", "K-1"), ("id_number", ID_NUMBER)]).await;
    assert_eq!(status, 409, "{html}");
}

async fn a_hall_device_gets_what_its_window_completes(app: TestApp) {
    let actor = hcp_app::audit::Actor::operator();
    let (device, secret) = app.app.register_device(&actor, "T-D1", "测试评价器", WINDOW).await.unwrap();
    assert_eq!(device.window_code, WINDOW);
    let err = app.app.register_device(&actor, "T-D1", "again", WINDOW).await.unwrap_err();
    assert_eq!(err.code(), "device_code_taken");
    assert_eq!(app.app.register_device(&actor, "T D2", "x", WINDOW).await.unwrap_err().code(), "device_code");
    assert_eq!(app.app.register_device(&actor, "T-D2", "x", "NOPE").await.unwrap_err().code(), "window_not_found");

    let res = client().get(app.url(&format!("/d/{secret}"))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("/assets/device.js"));
    assert_eq!(client().get(app.url("/d/nope")).send().await.unwrap().status(), 404);

    // A poll waits; a record registered meanwhile as completed answers it at once.
    let poll = {
        let url = app.url(&format!("/d/{secret}/next?after=0"));
        tokio::spawn(async move { client().get(url).send().await.unwrap() })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut body = record_body("D-1");
    body["completed_at"] = json!(chrono::Utc::now().to_rfc3339());
    let (id, _) = app.register(&body).await;
    let res = tokio::time::timeout(Duration::from_secs(5), poll).await.expect("answered at once").unwrap();
    assert_eq!(res.status(), 200);
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["record_id"], id);
    let url = v["url"].as_str().unwrap();
    assert!(url.contains("c=hall_device"), "{url}");
    // Rated on the device: the evaluation says which device it came through, from the link the device
    // fetched (issue 16 §1), with the pad's address masked and its browser's family.
    let token = url.trim_start_matches("/e/").split('?').next().unwrap();
    let res = client()
        .post(app.url(&format!("/e/{token}")))
        .header("user-agent", "Mozilla/5.0 (Linux; Android 10; HarmonyOS; rating pad)")
        .form(&[("level", "very_satisfied"), ("channel", "hall_device"), ("indicator_ids", "S111")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    sqlx::any::install_default_drivers();
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.db_url).await.unwrap();
    let evidence: (Option<String>, Option<String>, Option<String>) = sqlx::query_as(
        "SELECT x.device_code, x.client_address_masked, x.user_agent_family FROM evaluation_context x
         JOIN evaluation e ON e.id = x.evaluation_id WHERE e.service_record_id = $1",
    )
    .bind(id)
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(evidence, (Some("T-D1".to_string()), Some("127.0.0.*".to_string()), Some("harmony".to_string())));
    // After it, nothing new: the next poll (short in this test) finds nothing.
    let next = app.app.device_next(&secret, id, Duration::from_millis(100)).await.unwrap();
    assert!(next.is_none());
    // A record of another window does not reach this device.
    let mut elsewhere = record_body("D-2");
    elsewhere["window_code"] = json!("W-510899-C02");
    elsewhere["staff_number"] = serde_json::Value::Null;
    elsewhere["completed_at"] = json!(chrono::Utc::now().to_rfc3339());
    app.register(&elsewhere).await;
    assert!(app.app.device_next(&secret, id, Duration::from_millis(100)).await.unwrap().is_none());

    app.app.revoke_device(&actor, "T-D1").await.unwrap();
    assert_eq!(client().get(app.url(&format!("/d/{secret}"))).send().await.unwrap().status(), 404);
    let res = client().get(app.url(&format!("/d/{secret}/next"))).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["code"], "device_not_found");
}

both_backends!(
    the_window_code_lists_the_numbers_records,
    qr_codes_for_windows_and_records,
    the_kiosk_finds_a_record_by_number_and_id,
    a_hall_device_gets_what_its_window_completes,
);

/// The evaluation page with everything it loads stays under 100 KB, for slow connections.
async fn the_evaluation_page_is_light(app: TestApp) {
    let (_, token) = app.register(&record_body("LIGHT-1")).await;
    let mut total = 0;
    for path in [
        format!("/e/{token}?c=qr_code"),
        format!("/e/{token}?c=qr_code&level=very_dissatisfied&big=1"),
        "/assets/hcp.css".to_string(),
    ] {
        let res = client().get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        total += res.bytes().await.unwrap().len();
    }
    assert!(total < 100 * 1024, "the two evaluation pages and the style sheet weigh {total} bytes");
}

both_backends!(the_evaluation_page_is_light);

/// Issue 14 §5: the limits of the window code hold when the requests come all at once — 40 code requests for
/// one number send 5 messages, 20 guesses at one code get 5 tries.
async fn window_code_limits_hold_under_parallel_requests(app: TestApp) {
    app.register(&record_body("WP-1")).await;
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let url = app.url(&format!("/w/{WINDOW}"));
        tasks.push(tokio::spawn(async move {
            client().post(url).form(&[("mobile", "13812345678")]).send().await.unwrap().status().as_u16()
        }));
    }
    let mut sent = 0;
    for t in tasks {
        match t.await.unwrap() {
            200 => sent += 1,
            429 => {}
            other => panic!("{other}"),
        }
    }
    assert_eq!(sent, 5);
    let messages = app.app.store.pending_messages(100).await.unwrap();
    assert_eq!(messages.iter().filter(|m| m.template == "window_code").count(), 5, "five text messages");

    // A fresh number for the guesses (the first has used its hour).
    let mut other = record_body("WP-2");
    other["applicant"]["mobile"] = json!("13900002222");
    app.register(&other).await;
    let (status, html, _) = post_form(&app, &format!("/w/{WINDOW}"), &[("mobile", "13900002222")]).await;
    assert_eq!(status, 200, "{html}");
    let handle = hidden(&html, "handle");
    let code = last_code(&app).await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let guess = format!("{:06}", (code.parse::<u32>().unwrap() + 1 + i) % 1_000_000);
        let (url, handle) = (app.url(&format!("/w/{WINDOW}/verify")), handle.clone());
        tasks.push(tokio::spawn(async move {
            let form = [("handle", handle.as_str()), ("code", guess.as_str())];
            client().post(url).form(&form).send().await.unwrap().status().as_u16()
        }));
    }
    let mut compared = 0;
    for t in tasks {
        match t.await.unwrap() {
            422 => compared += 1,
            410 | 429 => {}
            other => panic!("{other}"),
        }
    }
    assert_eq!(compared, 5, "five tries at one code, however many arrive together");
    // The right code is refused now too: the code is spent.
    let (status, _, _) = post_form(&app, &format!("/w/{WINDOW}/verify"), &[("handle", &handle), ("code", &code)]).await;
    assert_ne!(status, 200);
}

both_backends!(window_code_limits_hold_under_parallel_requests);
