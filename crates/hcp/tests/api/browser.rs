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
