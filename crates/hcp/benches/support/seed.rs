//! Seeding a benchmark database: the demo catalog and completed records with a known evaluation token each.

use anyhow::Context;
use chrono::Utc;
use hcp_app::App;
use hcp_app::demo::{DEMO_SOURCE_SYSTEM, DemoOptions};
use hcp_store::{BulkRecord, Store};

/// Seeds the demo catalog and `n` completed records with a known token each.
pub async fn seed(url: &str, keys: &std::path::Path, n: usize) -> anyhow::Result<Vec<String>> {
    let store = Store::connect(url, 4).await?;
    store.migrate().await?;
    let keys = hcp_app::keys::Keys::load(hcp_app::keys::KeySource::File(keys.to_path_buf()), false)?;
    let app = App::new(store.clone(), "http://bench", keys);
    app.seed_demo(&DemoOptions { records: 0, seed: 1, accounts: false }, |_, _| {})
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let item = store.item_id_by_code("QS010001").await?.context("demo item")?;
    let org = store.org_by_code("510899D01").await?.context("demo org")?.id;
    let now = Utc::now();
    let done = now - chrono::Duration::hours(1);
    let mut tokens = Vec::with_capacity(n);
    let numbers: Vec<String> = (0..n).map(|i| format!("BENCH{i:09}")).collect();
    let applicant = hcp_domain::identity::Applicant {
        kind: hcp_domain::ApplicantKind::Person,
        name: hcp_domain::identity::ApplicantName::parse("", "张三").expect("valid"),
        id_number: hcp_domain::identity::ApplicantIdNumber::parse(
            "",
            hcp_domain::ApplicantKind::Person,
            "11010519491231002X",
        )
        .expect("valid"),
        mobile: hcp_domain::identity::Mobile::parse("", "13812345678").expect("valid"),
    };
    // Each record's data is bound to its number, so each is sealed on its own.
    let sealed: Vec<_> = numbers.iter().map(|number| app.keys.seal(number, &applicant)).collect();
    for chunk in (0..n).collect::<Vec<_>>().chunks(10_000) {
        let recs: Vec<BulkRecord<'_>> = chunk
            .iter()
            .map(|i| BulkRecord {
                source_system: DEMO_SOURCE_SYSTEM,
                record_number: &numbers[*i],
                item_id: item,
                org_id: org,
                window_id: None,
                staff_id: None,
                platform_id: None,
                applicant_kind: "person",
                applicant: sealed[*i].as_store(),
                received_at: done - chrono::Duration::hours(1),
                completed_at: Some(done),
                default_due_at: Some(hcp_app::records::evaluation_deadline(done)),
                created_at: done,
            })
            .collect();
        let mut invites = Vec::with_capacity(chunk.len());
        for j in 0..chunk.len() {
            let t = hcp_app::secrets::new_token();
            invites.push((j, hcp_app::secrets::hash(&t)));
            tokens.push(t);
        }
        let audit = hcp_store::NewAudit {
            at: Utc::now(),
            actor: "system".into(),
            action: "bench.load",
            target: "service_record:*".into(),
            details: format!(r#"{{"records":{}}}"#, recs.len()),
        };
        store.bulk_insert(&recs, &invites, &[], &audit).await?;
    }
    store.close().await;
    Ok(tokens)
}
