use crate::both_backends;
use crate::helpers::TestApp;

both_backends!(health_and_indicators, catalog_lists_the_demo_county);

/// R7.1, R7.2, RA: the five levels in order, with their criteria and exact texts.
async fn health_and_indicators(app: TestApp) {
    let (status, health) = app.get_json("/healthz", None).await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");

    let (status, v) = app.get_json("/api/v1/indicators", None).await;
    assert_eq!(status, 200);
    let levels = v["levels"].as_array().unwrap();
    let names: Vec<&str> = levels.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]);
    let bad: Vec<bool> = levels.iter().map(|l| l["bad_review"].as_bool().unwrap()).collect();
    assert_eq!(bad, [false, false, false, true, true]);
    assert_eq!(levels[0]["level"], "very_satisfied");
    for l in levels {
        assert_eq!(l["service_criteria"].as_array().unwrap().len(), 9);
    }
    assert_eq!(levels[0]["service_criteria"][0]["id"], "S111");
    assert_eq!(levels[0]["service_criteria"][0]["dimension"], "standardisation");
    assert_eq!(levels[0]["service_criteria"][0]["sub_dimension_name"], "办事场所");
    assert_eq!(levels[0]["service_criteria"][0]["text"], "该事项在网上政务综合大厅办理");
    assert_eq!(levels[4]["staff_criteria"][2]["text"], "对办事材料不能一次告知或者告知不清晰、不具体");
}

/// R3, R4.1: the catalog as integrators see it, each entry with its code.
async fn catalog_lists_the_demo_county(app: TestApp) {
    let (status, orgs) = app.get_json("/api/v1/orgs", Some(&app.api_key)).await;
    assert_eq!(status, 200);
    let orgs = orgs["items"].as_array().unwrap();
    let count = |kind: &str| orgs.iter().filter(|o| o["kind"] == kind).count();
    assert_eq!(count("county"), 1);
    assert_eq!(count("township"), 30);
    assert!(count("department") >= 25);
    assert!(count("village") >= 150);
    assert!(orgs.iter().all(|o| o["code"].is_string()));

    let (status, items) = app.get_json("/api/v1/service-items", Some(&app.api_key)).await;
    assert_eq!(status, 200);
    let items = items["items"].as_array().unwrap();
    let mut categories: Vec<&str> = items.iter().map(|i| i["category"].as_str().unwrap()).collect();
    categories.sort();
    categories.dedup();
    assert_eq!(categories.len(), 8, "all eight categories of R4.1");
    assert!(items.iter().any(|i| i["code"] == "QS010001" && i["name"] == "食品经营许可"));

    let (status, _) = app.get_json("/api/v1/orgs", None).await;
    assert_eq!(status, 401);
}
