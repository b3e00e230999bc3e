use serde_json::json;

use crate::both_backends;
use crate::helpers::{TestApp, record_body};

both_backends!(
    one_evaluation_per_record,
    bad_reviews_need_a_reason_of_their_level,
    unknown_tokens_are_refused,
    simultaneous_retries_record_one_evaluation,
    the_evaluation_page_end_to_end,
    guessing_tokens_is_slowed_down,
    guesses_are_counted_by_every_instance_together,
    every_bad_review_opens_a_case,
);

/// Issue 5 §1 (R9.1): a bad review opens its case at once, in the same transaction; nothing else does.
async fn every_bad_review_opens_a_case(app: TestApp) {
    let (_, good) = app.register(&record_body("C-1")).await;
    let (_, bad) = app.register(&record_body("C-2")).await;
    let (status, g) = app.evaluate(&good, "very_satisfied", &[], None).await;
    assert_eq!(status, 201);
    let (status, b) = app.evaluate(&bad, "very_dissatisfied", &["S511"], Some("来回跑了三次")).await;
    assert_eq!(status, 201);
    let (status, _) = app.evaluate(&bad, "very_dissatisfied", &["S511"], Some("来回跑了三次")).await;
    assert_eq!(status, 201, "a retry");
    assert!(app.app.store.case_of_evaluation(g["id"].as_i64().unwrap()).await.unwrap().is_none());
    let case = app.app.store.case_of_evaluation(b["id"].as_i64().unwrap()).await.unwrap().expect("a case");
    assert_eq!(case.fields.state, "unassigned");
    assert_eq!(app.app.store.count_cases().await.unwrap(), 1, "the retry opened nothing");
    let org = app.app.store.org_by_code("510899D01").await.unwrap().unwrap();
    assert_eq!(case.org_id, org.id, "the record's org is proposed");
    let opened = app.app.store.audit_entries("case.open", 0, 10).await.unwrap();
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].target, format!("case:{}", case.id));
    assert!(matches!(app.app.store.verify_audit_chain().await.unwrap(), hcp_store::ChainCheck::Intact { .. }));
}

/// Issue 4 §6: an address that sends many unknown tokens is refused for a while (429), even with a real one.
async fn guessing_tokens_is_slowed_down(app: TestApp) {
    let (_, token) = app.register(&record_body("G-1")).await;
    for i in 0..hcp_app::limits::UNKNOWN_TOKENS_PER_WINDOW {
        let guess = format!("{:A>43}", i);
        let (status, _) = app.evaluate(&guess, "satisfied", &[], None).await;
        assert_eq!(status, 404);
    }
    let (status, v) = app.evaluate(&token, "satisfied", &[], None).await;
    assert_eq!(status, 429, "{v}");
    assert_eq!(v["code"], "too_many_unknown_tokens");
    let page = app.http.post(app.url(&format!("/e/{token}"))).form(&[("level", "satisfied")]).send().await.unwrap();
    assert_eq!(page.status(), 429);
}

/// Issue 18 §5: two servers over one database share the allowance of unknown tokens — a guesser alternating
/// between them (as behind a load balancer) is stopped after the same number of guesses as on one, even in
/// parallel.
async fn guesses_are_counted_by_every_instance_together(app: TestApp) {
    let other = app.second_instance().await;
    let bases = [app.base.clone(), other];
    let (_, token) = app.register(&record_body("G2-1")).await;
    let guesses = futures_util::future::join_all((0..hcp_app::limits::UNKNOWN_TOKENS_PER_WINDOW).map(|i| {
        let (http, base) = (app.http.clone(), bases[i as usize % 2].clone());
        async move {
            let body = json!({ "token": format!("{:B>43}", i), "level": "satisfied", "channel": "qr_code" });
            http.post(format!("{base}/api/v1/evaluations")).json(&body).send().await.unwrap().status().as_u16()
        }
    }))
    .await;
    assert!(guesses.iter().all(|s| *s == 404), "{guesses:?}");
    for base in &bases {
        let body = json!({ "token": token, "level": "satisfied", "channel": "qr_code" });
        let res = app.http.post(format!("{base}/api/v1/evaluations")).json(&body).send().await.unwrap();
        assert_eq!(res.status(), 429, "{base} knows of the other's guesses");
    }
}

/// R5.2: one evaluation per record; a retry answers with the first result; a different one gets 409.
async fn one_evaluation_per_record(app: TestApp) {
    let (id, token) = app.register(&record_body("E-1")).await;
    let (status, first) = app.evaluate(&token, "very_satisfied", &["S111", "S113"], Some("很好")).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["level"], "very_satisfied");
    assert_eq!(first["level_name"], "非常满意");
    assert_eq!(first["channel"], "qr_code");
    assert_eq!(first["is_default"], false);

    // A network retry: same submission, criteria in another order.
    let (status, again) = app.evaluate(&token, "very_satisfied", &["S113", "S111"], Some("很好")).await;
    assert_eq!(status, 201);
    assert_eq!(again["id"], first["id"]);

    let (status, v) = app.evaluate(&token, "dissatisfied", &["S411"], None).await;
    assert_eq!(status, 409);
    assert_eq!(v["code"], "already_evaluated");
    assert_eq!(v["channel"], "qr_code");
    assert!(v["detail"].as_str().unwrap().contains("二维码"));
    assert!(v["evaluated_at"].is_string());

    let (_, rec) = app.get_json(&format!("/api/v1/service-records/{id}"), Some(&app.api_key)).await;
    assert_eq!(rec["evaluation"]["level"], "very_satisfied");
    assert_eq!(rec["evaluation"]["channel"], "qr_code");
    assert_eq!(rec["evaluation"]["is_default"], false);
}

/// R7.2, RA: a bad review names a criterion of its own level or says something.
async fn bad_reviews_need_a_reason_of_their_level(app: TestApp) {
    let (_, token) = app.register(&record_body("E-2")).await;
    let (status, v) = app.evaluate(&token, "very_dissatisfied", &[], None).await;
    assert_eq!(status, 422);
    assert_eq!(v["code"], "bad_review_needs_reason");

    let (status, v) = app.evaluate(&token, "dissatisfied", &["S111"], None).await;
    assert_eq!(status, 422);
    assert_eq!(v["code"], "criterion_level_mismatch");
    assert_eq!(v["field"], "indicator_ids");

    let body = json!({ "token": token, "level": "dissatisfied", "indicator_ids": [],
                       "staff_indicator_ids": ["P41"], "channel": "hall_device" });
    let (status, v) = app.post_json("/api/v1/evaluations", &body, None).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["staff_indicator_ids"], json!(["P41"]));
    assert_eq!(v["channel"], "hall_device");
}

async fn unknown_tokens_are_refused(app: TestApp) {
    let fake = "A".repeat(43);
    for token in [fake.as_str(), "short", ""] {
        let (status, v) = app.evaluate(token, "satisfied", &[], None).await;
        assert_eq!(status, 404, "{token}");
        assert_eq!(v["code"], "unknown_token");
    }
    let res = app.http.get(app.url(&format!("/e/{fake}"))).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("链接无效"));
}

/// A double tap sends the same submission many times at once: one evaluation, every answer the same.
async fn simultaneous_retries_record_one_evaluation(app: TestApp) {
    let (id, token) = app.register(&record_body("E-3")).await;
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let http = app.http.clone();
        let url = app.url("/api/v1/evaluations");
        let body = json!({ "token": token, "level": "satisfied", "channel": "app" });
        tasks.push(tokio::spawn(async move {
            let res = http.post(url).json(&body).send().await.unwrap();
            (res.status().as_u16(), res.json::<serde_json::Value>().await.unwrap())
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        let (status, v) = t.await.unwrap();
        assert_eq!(status, 201, "{v}");
        ids.push(v["id"].as_i64().unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
    let stored = app.app.store.first_evaluation(id).await.unwrap().unwrap();
    assert_eq!(stored.id, ids[0]);
    assert_eq!(app.app.store.count_evaluations().await.unwrap(), 1);
}

/// The page an applicant opens from the link: choose a level, its criteria, submit, thank you.
async fn the_evaluation_page_end_to_end(app: TestApp) {
    let (id, token) = app.register(&record_body("E-4")).await;
    let page = app.http.get(app.url(&format!("/e/{token}?c=qr_code"))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("default-src 'self'"));
    let html = page.text().await.unwrap();
    for name in ["非常满意", "满意", "基本满意", "不满意", "非常不满意"] {
        assert!(html.contains(&format!(">{name}</button>")), "{name}");
    }

    let step2 = app.http.get(app.url(&format!("/e/{token}?level=dissatisfied&c=qr_code"))).send().await.unwrap();
    let html = step2.text().await.unwrap();
    assert!(html.contains("该事项需要到部门专业实体大厅办理"), "criteria of the chosen level");
    assert!(!html.contains("该事项在网上政务综合大厅办理"), "not those of another level");

    let form = app.http.post(app.url(&format!("/e/{token}")));
    let res = form.form(&[("level", "dissatisfied"), ("channel", "qr_code")]).send().await.unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("role=\"alert\"") && html.contains("请至少勾选一项"));

    let res = app
        .http
        .post(app.url(&format!("/e/{token}")))
        .body("level=dissatisfied&channel=qr_code&indicator_ids=S411&indicator_ids=S432&comment=%E6%8E%92%E9%98%9F%E5%A4%AA%E4%B9%85")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("评价成功"));
    let stored = app.app.store.first_evaluation(id).await.unwrap().unwrap();
    assert_eq!(stored.level, "dissatisfied");
    assert_eq!(stored.channel, "qr_code");
    assert_eq!(stored.indicator_ids, "S411,S432");
    assert_eq!(stored.comment.as_deref(), Some("排队太久"));

    let again = app.http.get(app.url(&format!("/e/{token}"))).send().await.unwrap();
    assert_eq!(again.status(), 409);
    assert!(again.text().await.unwrap().contains("评价过"));
}

/// Issue 14 §7: behind a trusted proxy, a client cannot choose its address with an X-Forwarded-For line of
/// its own: every line is read and the rightmost address the proxy did not add is the client's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoofed_forwarded_for_line_does_not_dodge_the_limit() {
    let app = crate::helpers::spawn_app_with(crate::helpers::Backend::Sqlite, |cfg| {
        cfg.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await
    .unwrap();
    let guess = |i: usize, lines: Vec<&'static str>| {
        let mut req = app
            .http
            .post(app.url("/api/v1/evaluations"))
            .json(&json!({ "token": format!("{:B>43}", i), "level": "satisfied", "channel": "qr_code" }));
        for l in lines {
            req = req.header("x-forwarded-for", l);
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    // The attacker's own line changes every time; the proxy's line (the last) says 203.0.113.7.
    let spoofs = ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"];
    for i in 0..hcp_app::limits::UNKNOWN_TOKENS_PER_WINDOW as usize {
        assert_eq!(guess(i, vec![spoofs[i % 4], "203.0.113.7"]).await, 404);
    }
    assert_eq!(guess(999, vec!["9.9.9.9", "203.0.113.7"]).await, 429, "counted against the real address");
    assert_eq!(guess(1000, vec!["203.0.113.8"]).await, 404, "another client is not affected");
}
