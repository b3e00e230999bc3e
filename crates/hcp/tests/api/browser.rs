//! Issue 6 in a real browser (headless Chromium through WebDriver): the pages as applicants, clerks, hotline
//! agents, the county office and the public use them. Every page is checked for requests to other hosts,
//! and a screenshot of each step is kept in `target/browser-screenshots/`. Skipped, with a note, where
//! Chromium is not installed (see `webdriver.rs`).

use std::time::Duration;

use crate::both_backends;
use crate::helpers::{TestApp, record_body};
use crate::webdriver::Session;

/// How long a page may take to appear after a click.
const WAIT: Duration = Duration::from_secs(10);

const PASSWORD: &str = "correct horse 1";

/// A phone the size of a cheap Android handset.
const PHONE: (u32, u32) = (360, 740);

async fn login(b: &Session, username: &str) {
    b.goto("/login").await;
    b.type_into("#username", username).await;
    b.type_into("#password", PASSWORD).await;
    b.click("form button[type=submit]").await;
    b.wait_for_text("退出", WAIT).await;
}

async fn logout(b: &Session) {
    b.click("nav form button[type=submit]").await;
    b.wait_for_text("用户名", WAIT).await;
}

/// An applicant scans the receipt's QR code on a phone, rates 非常不满意 with criteria and a comment, is
/// thanked; the center assigns the case and it appears in the unit's inbox with its due date.
async fn a_bad_review_from_a_phone_reaches_the_unit(app: TestApp) {
    let Some(b) = Session::start(&app.base, PHONE.0, PHONE.1).await else { return };
    app.app.create_user("center", "中心管理员", PASSWORD, "center_admin", "510899", None).await.unwrap();
    app.app.create_user("dunit", "部门承办人", PASSWORD, "unit_admin", "510899D01", None).await.unwrap();
    let (_, token) = app.register(&record_body("BROWSER-1")).await;

    b.goto(&format!("/e/{token}?c=qr_code")).await;
    let text = b.text().await;
    assert!(text.contains("食品经营许可") && text.contains("QS0001"), "what is being rated: {text}");
    b.assert_fits_width().await;
    b.assert_same_origin().await;
    b.screenshot("phone-1-levels").await;
    b.click("button[value=very_dissatisfied]").await;
    b.wait_for_text("您选择的评价等级:非常不满意", WAIT).await;
    b.screenshot("phone-2-criteria").await;
    // Submitting a bad review with nothing ticked and no comment comes back with the reason, announced.
    b.click("button.primary").await;
    b.wait_for_text("提交未成功", WAIT).await;
    assert!(b.exists("[role=alert]").await, "the error is announced");
    b.screenshot("phone-3-error").await;
    b.click("input[name=indicator_ids]").await;
    b.type_into("#comment", "材料要求说了三次才讲清楚").await;
    b.click("button.primary").await;
    let text = b.wait_for_text("评价成功", WAIT).await;
    assert!(text.contains("1 个工作日内与您联系"), "{text}");
    b.assert_same_origin().await;
    b.screenshot("phone-4-thanks").await;

    // The same link again: a kind explanation, not a form.
    b.goto(&format!("/e/{token}")).await;
    assert!(b.text().await.contains("无法重复评价"));

    login(&b, "center").await;
    b.goto("/console/cases").await;
    b.click("table a[href^='/console/cases/']").await;
    b.click("form:has(input[name=step][value=assign]) button[type=submit]").await;
    b.wait_for_text("待联系", WAIT).await;
    logout(&b).await;
    login(&b, "dunit").await;
    b.goto("/console/cases").await;
    let text = b.wait_for_text("待联系", Duration::from_secs(5)).await;
    assert!(text.contains("食品经营许可"), "{text}");
    b.assert_same_origin().await;
    b.screenshot("unit-inbox").await;
    b.quit().await;
}

both_backends!(a_bad_review_from_a_phone_reaches_the_unit);

/// A hall device at the county hall's window 1 shows the record its window completes, the applicant rates on
/// the touch screen, and the device goes back to its idle screen.
async fn a_hall_device_shows_what_its_window_completes(app: TestApp) {
    let Some(b) = Session::start(&app.base, 1024, 768).await else { return };
    let actor = hcp_app::audit::Actor::operator();
    let (_, secret) = app.app.register_device(&actor, "B-D1", "浏览器测试评价器", "W-510899-C01").await.unwrap();
    b.goto(&format!("/d/{secret}")).await;
    b.wait_for_text("欢迎办理业务", WAIT).await;
    b.screenshot("device-1-idle").await;
    let mut body = record_body("DEVICE-1");
    body["completed_at"] = serde_json::json!(chrono::Utc::now().to_rfc3339());
    let (id, _) = app.register(&body).await;
    b.wait_for_text("您对本次服务满意吗", WAIT).await;
    b.assert_same_origin().await;
    b.screenshot("device-2-record").await;
    b.click("button[value=very_satisfied]").await;
    b.wait_for_text("您选择的评价等级:非常满意", WAIT).await;
    b.click("button.primary").await;
    b.wait_for_text("评价成功", WAIT).await;
    b.screenshot("device-3-thanks").await;
    let e = app.app.store.first_evaluation(id).await.unwrap().expect("recorded");
    assert_eq!(e.channel, "hall_device");
    // Left alone, the thank-you goes back to the idle screen, which does not show the same record again.
    b.wait_for_text("欢迎办理业务", Duration::from_secs(20)).await;
    assert!(b.current_url().await.ends_with(&format!("/d/{secret}")));
    b.quit().await;
}

/// The fixed QR code of a window on the smallest phone, in large type: the mobile number, the code from the
/// text message, the list, the rating.
async fn the_window_code_on_a_small_phone_in_large_type(app: TestApp) {
    let Some(b) = Session::start(&app.base, 320, 640).await else { return };
    let (id, _) = app.register(&record_body("WINDOW-1")).await;
    b.goto("/w/W-510899-C01").await;
    b.assert_fits_width().await;
    b.type_into("#mobile", "13812345678").await;
    b.click("button.primary").await;
    b.wait_for_text("输入短信验证码", WAIT).await;
    let messages = app.app.store.pending_messages(10).await.unwrap();
    let body = &app.app.message_text(messages.iter().find(|m| m.template == "window_code").unwrap()).unwrap();
    let at = body.find("验证码为 ").unwrap() + "验证码为 ".len();
    b.type_into("#code", &body[at..at + 6]).await;
    b.screenshot("window-1-code").await;
    b.click("button.primary").await;
    b.wait_for_text("您在本窗口待评价的办件", WAIT).await;
    b.assert_fits_width().await;
    b.screenshot("window-2-list").await;
    b.click("ul.records a").await;
    b.wait_for_text("大字模式", WAIT).await;
    b.click(".modebar a").await;
    b.wait_for_text("标准字号", WAIT).await;
    let size = b.script("return getComputedStyle(document.documentElement).fontSize", serde_json::json!([])).await;
    assert_eq!(size, "26px", "large type");
    b.assert_fits_width().await;
    b.assert_same_origin().await;
    b.screenshot("window-3-large-type").await;
    // With the keyboard: Enter on a level.
    b.press_enter("button[value=satisfied]").await;
    b.wait_for_text("您选择的评价等级:满意", WAIT).await;
    assert!(b.source().await.contains(r#"name="big" value="1""#), "large type carries on");
    b.click("button.primary").await;
    b.wait_for_text("评价成功", WAIT).await;
    let e = app.app.store.first_evaluation(id).await.unwrap().expect("recorded");
    assert_eq!(e.channel, "qr_code");
    b.quit().await;
}

/// A hotline agent finds the caller's record by mobile and records the rating; a bad one without a reason
/// comes back with the reason.
async fn the_hotline_desk_records_a_call(app: TestApp) {
    let Some(b) = Session::start(&app.base, 1280, 900).await else { return };
    app.app.create_user("agent", "话务员小李", PASSWORD, "hotline_agent", "510899", None).await.unwrap();
    let (id, _) = app.register(&record_body("CALL-1")).await;
    assert_eq!(app.register_ticket(id, "GD-20261129-0007").await.0, 201);
    login(&b, "agent").await;
    b.goto("/console/records").await;
    b.type_into("#mobile", "13812345678").await;
    b.click("button.primary").await;
    b.wait_for_text("CALL-1", WAIT).await;
    b.click("a[href^='/console/records/']").await;
    b.wait_for_text("记录来电评价", WAIT).await;
    b.type_into("#hotline_ticket", "GD-20261129-0007").await;
    b.click("input[name=level][value=dissatisfied]").await;
    b.click("form[action$='hotline-evaluation'] button.primary").await;
    b.wait_for_text("未能记录", WAIT).await;
    b.screenshot("hotline-1-reason-needed").await;
    b.type_into("#hotline_ticket", "GD-20261129-0007").await;
    b.click("input[name=level][value=dissatisfied]").await;
    b.type_into("#comment", "来电反映窗口人员态度生硬").await;
    b.click("form[action$='hotline-evaluation'] button.primary").await;
    let text = b.wait_for_text("已记录来电评价", WAIT).await;
    assert!(text.contains("话务员小李") && text.contains("GD-20261129-0007"), "{text}");
    b.assert_same_origin().await;
    b.screenshot("hotline-2-recorded").await;
    let e = app.app.store.first_evaluation(id).await.unwrap().expect("recorded");
    assert_eq!((e.channel.as_str(), e.level.as_str()), ("hotline", "dissatisfied"));
    b.quit().await;
}

both_backends!(
    a_hall_device_shows_what_its_window_completes,
    the_window_code_on_a_small_phone_in_large_type,
    the_hotline_desk_records_a_call,
);

/// The county office's dashboard draws its four charts on the server; in the browser every label fits inside
/// its chart (the text widths the server estimated hold with a real CJK font).
async fn the_dashboard_renders_its_charts(app: TestApp) {
    let Some(b) = Session::start(&app.base, 1280, 1000).await else { return };
    app.app.create_user("office", "县政府办", PASSWORD, "county_office", "510899", None).await.unwrap();
    for (i, level) in
        ["very_satisfied", "satisfied", "very_satisfied", "dissatisfied", "basically_satisfied"].iter().enumerate()
    {
        let (_, token) = app.register(&record_body(&format!("DASH-{i}"))).await;
        let ids: &[&str] = if *level == "dissatisfied" { &["S411"] } else { &[] };
        assert_eq!(app.evaluate(&token, level, ids, None).await.0, 201);
    }
    login(&b, "office").await;
    b.goto("/console/dashboard").await;
    b.wait_for_text("评价等级分布", WAIT).await;
    let charts = b.script("return document.querySelectorAll('figure.chart svg').length", serde_json::json!([])).await;
    assert_eq!(charts, 4);
    // Every text of every chart lies inside its chart's drawing area.
    let outside = b
        .script(
            "const out = [];
             for (const svg of document.querySelectorAll('figure.chart svg')) {
               const vb = svg.viewBox.baseVal;
               for (const t of svg.querySelectorAll('text')) {
                 const r = t.getBBox();
                 if (r.x < -1 || r.x + r.width > vb.width + 1) out.push(t.textContent + ' ' + r.x + '+' + r.width + '>' + vb.width);
               }
             }
             return out;",
            serde_json::json!([]),
        )
        .await;
    assert_eq!(outside, serde_json::json!([]), "labels outside their charts");
    let text = b.text().await;
    assert!(text.contains("非常满意") && text.contains("各单位差评率") && text.contains("二维码"), "{text}");
    b.assert_same_origin().await;
    b.screenshot("dashboard").await;
    b.quit().await;
}

/// The public portal, as anyone sees it: published reports and handled bad reviews, no personal data.
async fn the_public_portal_shows_no_personal_data(app: TestApp) {
    let Some(b) = Session::start(&app.base, PHONE.0, PHONE.1).await else { return };
    let (_, token) = app.register(&record_body("PUBLIC-1")).await;
    assert_eq!(app.evaluate(&token, "very_dissatisfied", &["S511"], Some("张三说窗口唐兴华态度差")).await.0, 201);
    b.goto("/public").await;
    b.wait_for_text("评价结果公开", WAIT).await;
    b.click("a[href='/public/bad-reviews']").await;
    b.wait_for_text("差评整改公示", WAIT).await;
    b.assert_fits_width().await;
    b.assert_same_origin().await;
    let text = b.text().await;
    for private in ["张三", "13812345678", "唐兴华", "QS0001", "PUBLIC-1"] {
        assert!(!text.contains(private), "{private} on the public portal");
    }
    b.screenshot("public-bad-reviews").await;
    b.quit().await;
}

/// The kiosk in the hall: record number and ID number, a wrong one refused with the reason, the rating in the
/// touch layout, and back to the kiosk's first screen when left alone.
async fn the_kiosk_finds_the_record_and_returns_to_its_start(app: TestApp) {
    let Some(b) = Session::start(&app.base, 1024, 768).await else { return };
    let (id, _) = app.register(&record_body("KIOSK-1")).await;
    b.goto("/kiosk").await;
    b.type_into("#record_number", "KIOSK-1").await;
    b.type_into("#id_number", "123").await;
    b.click("button.primary").await;
    b.wait_for_text("身份证号码应为 18 位", WAIT).await;
    assert!(b.exists("[role=alert]").await);
    b.screenshot("kiosk-1-refused").await;
    b.type_into("#id_number", crate::helpers::ID_NUMBER).await;
    b.click("button.primary").await;
    b.wait_for_text("您对本次服务满意吗", WAIT).await;
    b.click("button[value=satisfied]").await;
    b.wait_for_text("您选择的评价等级:满意", WAIT).await;
    b.click("button.primary").await;
    b.wait_for_text("评价成功", WAIT).await;
    assert_eq!(app.app.store.first_evaluation(id).await.unwrap().unwrap().channel, "kiosk");
    b.wait_for_text("评价您办理的业务", Duration::from_secs(20)).await;
    b.assert_same_origin().await;
    b.quit().await;
}

/// The same evaluation page on a PC: the five levels side by side in one row.
async fn the_evaluation_page_at_desktop_width(app: TestApp) {
    let Some(b) = Session::start(&app.base, 1366, 768).await else { return };
    let (id, token) = app.register(&record_body("PC-1")).await;
    b.goto(&format!("/e/{token}")).await;
    let tops = b
        .script(
            "return [...document.querySelectorAll('.levels button')].map(x => x.getBoundingClientRect().top)",
            serde_json::json!([]),
        )
        .await;
    let tops: Vec<f64> = tops.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert_eq!(tops.len(), 5);
    assert!(tops.iter().all(|t| (t - tops[0]).abs() < 1.0), "one row: {tops:?}");
    b.screenshot("pc-1-levels").await;
    b.click("button[value=basically_satisfied]").await;
    b.wait_for_text("您选择的评价等级:基本满意", WAIT).await;
    b.click("button.primary").await;
    b.wait_for_text("评价成功", WAIT).await;
    b.assert_same_origin().await;
    assert_eq!(app.app.store.first_evaluation(id).await.unwrap().unwrap().channel, "web");
    b.quit().await;
}

both_backends!(
    the_evaluation_page_at_desktop_width,
    the_dashboard_renders_its_charts,
    the_public_portal_shows_no_personal_data,
    the_kiosk_finds_the_record_and_returns_to_its_start
);

/// Issue 17 §4: axe-core finds no serious or critical violation on any kind of page — the evaluation steps
/// (and large type), the window code, the kiosk, a hall device, login, each kind of console page, the public
/// portal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_page_passes_axe() {
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await.unwrap();
    let Some(b) = Session::start(&app.base, PHONE.0, PHONE.1).await else { return };
    for (user, role, org) in [
        ("center", "center_admin", "510899"),
        ("office", "county_office", "510899"),
        ("dunit", "unit_admin", "510899D01"),
    ] {
        app.app.create_user(user, user, PASSWORD, role, org, None).await.unwrap();
    }
    let (_, token) = app.register(&record_body("AXE-1")).await;
    let (_, bad) = app.register(&record_body("AXE-2")).await;
    app.evaluate(&bad, "very_dissatisfied", &[], Some("等了很久")).await;
    let actor = hcp_app::audit::Actor::operator();
    let (_, secret) = app.app.register_device(&actor, "AXE-D1", "无障碍测试评价器", "W-510899-C01").await.unwrap();
    let mut failures = Vec::new();
    let mut check = async |path: String| {
        b.goto(&path).await;
        if let Some(v) = b.axe().await
            && !v.is_empty()
        {
            failures.push(format!("{path}: {v:?}"));
        }
    };
    for path in [
        "/".to_string(),
        "/public".into(),
        "/public/bad-reviews".into(),
        "/login".into(),
        "/kiosk".into(),
        "/w/W-510899-C01".into(),
        format!("/e/{token}"),
        format!("/e/{token}?level=dissatisfied&c=qr_code"),
        format!("/e/{token}?big=1"),
        format!("/e/{token}?level=satisfied&big=1"),
        format!("/d/{secret}"),
    ] {
        check(path).await;
    }
    login(&b, "center").await;
    for path in [
        "/console",
        "/console/records",
        "/console/evaluations",
        "/console/cases?inbox=all",
        "/console/cases/1",
        "/console/appeals",
        "/console/stats",
        "/console/rankings",
        "/console/dashboard",
        "/console/reports",
        "/console/catalog",
        "/console/calendar",
        "/console/outbox",
        "/console/password",
    ] {
        check(path.to_string()).await;
    }
    logout(&b).await;
    login(&b, "office").await;
    for path in ["/console/integrity", "/console/inspections", "/console/assessment", "/console/orders"] {
        check(path.to_string()).await;
    }
    assert!(failures.is_empty(), "serious or critical accessibility violations:\n{}", failures.join("\n"));
    b.quit().await;
}

/// Issue 17 §4, 适老化: the evaluation page in large type — text at least 18 px, touch targets at least
/// 60×60 px — and still usable at 200% zoom on a 320-px phone (a 160-px-wide layout: nothing wider than it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_type_meets_the_elderly_friendly_guidance() {
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await.unwrap();
    let (_, token) = app.register(&record_body("OLD-1")).await;
    for (width, path) in [(320, format!("/e/{token}?big=1")), (160, format!("/e/{token}?big=1"))] {
        let Some(b) = Session::start(&app.base, width, 640).await else { return };
        b.goto(&path).await;
        let inner = b.script("return window.innerWidth", serde_json::json!([])).await.as_f64().unwrap();
        assert!(inner <= f64::from(width) + 1.0, "the layout is {inner}px wide, not {width}px");
        let smallest = b
            .script(
                "const sizes = [...document.querySelectorAll('main *')]
                   .filter(e => e.offsetParent !== null && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
                   .map(e => parseFloat(getComputedStyle(e).fontSize));
                 return Math.min(...sizes);",
                serde_json::json!([]),
            )
            .await
            .as_f64()
            .unwrap();
        assert!(smallest >= 18.0, "{width}px: text as small as {smallest}px");
        let buttons = b
            .script(
                "return [...document.querySelectorAll('.levels button')].map(x => { const r = x.getBoundingClientRect(); return [r.width, r.height]; })",
                serde_json::json!([]),
            )
            .await;
        for wh in buttons.as_array().unwrap() {
            let (w, h) = (wh[0].as_f64().unwrap(), wh[1].as_f64().unwrap());
            assert!(w >= 60.0 && h >= 60.0, "{width}px: a level button of {w}×{h}");
        }
        b.assert_fits_width().await;
        b.screenshot(&format!("large-type-{width}")).await;
        b.quit().await;
    }
}

/// The API reference (issue 18 §1) renders from the Swagger UI embedded in the binary, under the pages' content
/// security policy, with nothing fetched from another host.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_reference_renders_offline() {
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await.expect("sqlite");
    let Some(b) = Session::start(&app.base, 1280, 1000).await else { return };
    b.goto("/api/docs/").await;
    b.wait_for_text("好差评 haochaping API", WAIT).await;
    let text = b.wait_for_text("提交评价", WAIT).await;
    for tag in ["办件", "差评整改", "申诉", "统计与排名"] {
        assert!(text.contains(tag), "{tag} missing from the reference: {text}");
    }
    b.assert_same_origin().await;
    b.screenshot("api-docs").await;
    b.quit().await;
}

/// Issue 17 §1 in the browser: the center types names, not codes — an organization ("青山镇") and a window
/// ("综合窗口1号", a name several townships share, made one by the organization) — presses Enter and gets that
/// window's evaluations, the chosen names beside the fields; a township's administrator is offered only their
/// own subtree.
async fn the_pickers_find_by_name_and_keep_to_the_scope(app: TestApp) {
    let Some(b) = Session::start(&app.base, 1280, 1000).await else { return };
    app.app.create_user("center", "中心", PASSWORD, "center_admin", "510899", None).await.unwrap();
    app.app.create_user("qingshan", "青山镇管理员", PASSWORD, "unit_admin", "510899101", None).await.unwrap();
    for (n, org, window, level) in [
        ("PICK-1", "510899101", "W-510899101-01", "satisfied"),
        ("PICK-2", "510899102", "W-510899102-01", "dissatisfied"),
        ("PICK-3", "510899D01", "W-510899-C01", "very_satisfied"),
    ] {
        let mut body = record_body(n);
        body["org_code"] = serde_json::json!(org);
        body["window_code"] = serde_json::json!(window);
        body["staff_number"] = serde_json::Value::Null;
        let (_, token) = app.register(&body).await;
        let ids: &[&str] = if level == "dissatisfied" { &["S411"] } else { &[] };
        assert_eq!(app.evaluate(&token, level, ids, None).await.0, 201);
    }

    login(&b, "center").await;
    b.goto("/console/evaluations").await;
    b.wait_for_text("评价查询", WAIT).await;
    let rows = "return document.querySelectorAll('table tbody tr').length";
    assert_eq!(b.script(rows, serde_json::json!([])).await, 3);
    b.type_into("input[name=org]", "青山镇").await;
    b.type_into("input[name=window]", "综合窗口1号").await;
    b.press_enter("input[name=window]").await;
    b.wait_for_text("综合窗口1号(青山镇)", WAIT).await;
    assert_eq!(b.script(rows, serde_json::json!([])).await, 1);
    let fields = b
        .script(
            "return ['org', 'window'].map(n => document.querySelector(`input[name=${n}]`).value)",
            serde_json::json!([]),
        )
        .await;
    assert_eq!(fields, serde_json::json!(["510899101", "W-510899101-01"]), "the names became codes");
    let table = b.script("return document.querySelector('table tbody').innerText", serde_json::json!([])).await;
    let table = table.as_str().unwrap();
    assert!(table.contains("青山镇") && !table.contains("不满意"), "only 青山镇's window: {table}");
    b.screenshot("pickers-by-name").await;
    logout(&b).await;

    // A township's administrator: the organization tree is their subtree only.
    login(&b, "qingshan").await;
    b.goto("/console/evaluations").await;
    b.wait_for_text("评价查询", WAIT).await;
    let orgs = b
        .script("return [...document.querySelectorAll('#pick-org option')].map(o => o.value)", serde_json::json!([]))
        .await;
    let orgs: Vec<&str> = orgs.as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(!orgs.is_empty() && orgs.iter().all(|o| o.starts_with("510899101")), "{orgs:?}");
    let windows = b
        .script("return [...document.querySelectorAll('#pick-window option')].map(o => o.value)", serde_json::json!([]))
        .await;
    assert!(windows.as_array().unwrap().iter().all(|w| w.as_str().unwrap().contains("510899101")), "{windows}");
    assert_eq!(b.script(rows, serde_json::json!([])).await, 1, "their own evaluations only");
    b.type_into("input[name=org]", "龙泉镇").await;
    b.press_enter("input[name=org]").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!b.text().await.contains("W-510899102"), "another township stays out of reach");
    b.quit().await;
}

both_backends!(the_pickers_find_by_name_and_keep_to_the_scope);
