//! Issue 18 §1: the OpenAPI document is made from the handlers, describes every route the API serves, names
//! its problem codes, is served with an offline reference page, and every change of it shows in review
//! (the snapshot).

use serde_json::Value;

use crate::helpers::{Backend, spawn_app};

async fn document() -> (crate::helpers::TestApp, Value) {
    let app = spawn_app(Backend::Sqlite).await.expect("sqlite");
    let res = app.http.get(app.url("/api/v1/openapi.json")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let doc: Value = res.json().await.unwrap();
    (app, doc)
}

/// Every operation of the document, as (method, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((method.to_uppercase(), path.clone(), op.clone()));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_is_described_and_every_description_is_routed() {
    let (app, doc) = document().await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    let ops = operations(&doc);
    assert!(ops.len() >= 49, "{} operations", ops.len());
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"").skip(1).map(|r| &r[..r.find('"').unwrap()]) {
        let (kind, name) = reference.strip_prefix("#/components/").unwrap().split_once('/').unwrap();
        assert!(doc["components"][kind].get(name).is_some(), "{reference} is not in the document");
    }
    let mut ids: Vec<&str> = Vec::new();
    let tags: Vec<&str> = doc["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    for (method, path, op) in &ops {
        let at = format!("{method} {path}");
        assert!(path.starts_with("/api/v1/"), "{at}");
        assert!(!op["summary"].as_str().unwrap_or("").is_empty(), "{at} has no summary");
        let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{at} has no operationId"));
        assert!(!ids.contains(&id), "{at}: operationId {id} is used twice");
        ids.push(id);
        let tag = op["tags"][0].as_str().unwrap_or_else(|| panic!("{at} has no tag"));
        assert!(tags.contains(&tag), "{at}: tag {tag} is not declared");
        let responses = op["responses"].as_object().unwrap();
        assert!(responses.keys().any(|s| s.starts_with('2')), "{at} has no success answer");
        for shared in ["500", "503"] {
            assert!(responses.contains_key(shared), "{at} lacks {shared}");
        }
        if path.contains('{') {
            assert!(responses.contains_key("404"), "{at} lacks 404");
        }
        if op.get("security").is_some() {
            assert!(responses.contains_key("401") && responses.contains_key("403"), "{at} lacks 401/403");
        }
        // Documented means served: without credentials the route answers for itself (401, 422 …), never the
        // API's fallback (404 `not_found`, 405 `method_not_allowed`).
        let url = app.url(&path.replace("{id}", "1").replace(['{', '}'], ""));
        let req = if method == "GET" { app.http.get(&url) } else { app.http.post(&url).json(&serde_json::json!({})) };
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert_ne!(status, 405, "{at} is documented but not routed");
        assert_ne!(body["code"], "not_found", "{at} is documented but not routed");
        assert_ne!(body["code"], "method_not_allowed", "{at} is documented but not routed");
    }
}

#[test]
fn the_api_router_has_no_route_without_a_description() {
    // Routes reach the API only through `routes!(handler)`, which takes the path from the handler's
    // `#[utoipa::path]`: a plain `.route(` would serve a path the document does not know.
    let api = include_str!("../../../web/src/api.rs");
    assert!(!api.contains(".route("), "crates/web/src/api.rs adds a route without a description");
    let lib = include_str!("../../../web/src/lib.rs");
    let nested: Vec<&str> = lib.lines().filter(|l| l.contains(".nest(")).collect();
    assert_eq!(nested, [r"        .nest(api::PREFIX, api)"], "the API is nested once, from api::routes()");
    assert!(!lib.contains("\"/api/v1/"), "crates/web/src/lib.rs routes an API path outside api::routes()");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn problems_and_credentials_are_in_the_document() {
    let (app, doc) = document().await;
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["api_key"]["scheme"], "bearer");
    assert_eq!(schemes["session"]["scheme"], "bearer");
    let problem = &doc["components"]["schemas"]["Problem"];
    for field in ["type", "title", "status", "detail", "code", "instance", "errors"] {
        assert!(problem["properties"].get(field).is_some(), "Problem lacks {field}: {problem}");
    }
    let codes: Vec<&str> =
        problem["properties"]["code"]["enum"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    for code in ["invalid_level", "already_evaluated", "database_unavailable", "request_timeout", "case_changed"] {
        assert!(codes.contains(&code), "{code} is not documented");
    }
    // A problem answered by the running API carries a documented code.
    let res = app.http.post(app.url("/api/v1/evaluations")).json(&serde_json::json!({"token": "x"})).send().await;
    let body: Value = res.unwrap().json().await.unwrap();
    assert!(codes.contains(&body["code"].as_str().unwrap()), "{body}");
    // The evaluation endpoint documents its body and its answer.
    let op = &doc["paths"]["/api/v1/evaluations"]["post"];
    assert_eq!(
        op["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/NewEvaluation"
    );
    assert_eq!(
        op["responses"]["201"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/EvaluationView"
    );
    assert_eq!(op["responses"]["422"]["$ref"], "#/components/responses/Unprocessable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_page_is_served_from_the_binary() {
    let app = spawn_app(Backend::Sqlite).await.expect("sqlite");
    let res = app.http.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    // Nothing from the internet: every script and stylesheet is served by hcp itself.
    for needle in ["src=\"http", "href=\"http", "//cdn", "unpkg.com", "jsdelivr"] {
        assert!(!html.contains(needle), "{needle} in {html}");
    }
    for asset in ["swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-initializer.js"]
    {
        let res = app.http.get(app.url(&format!("/api/docs/{asset}"))).send().await.unwrap();
        assert_eq!(res.status(), 200, "{asset}");
        let text = res.text().await.unwrap();
        assert!(text.len() > 100, "{asset}");
        if asset == "swagger-initializer.js" {
            assert!(text.contains("/api/v1/openapi.json"), "{text}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contract_matches_its_snapshot() {
    // A change of any path, body, answer or code shows in review as a change of
    // tests/api/snapshots/api__openapi__contract.snap (`cargo insta review`, or INSTA_UPDATE=always).
    let (_app, mut doc) = document().await;
    doc["info"]["version"] = Value::String("[version]".into());
    insta::assert_json_snapshot!("contract", doc);
}
