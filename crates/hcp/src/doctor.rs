//! `hcp doctor`: the go-live checklist (issue 28 §4) — one line per check, ✓ or ✗ with what to do; exit 0
//! only when nothing is ✗. It takes `serve`'s options, so it judges the configuration the server will run
//! with; a mistake in them is itself a ✗ line, listed with the rest.

use hcp_app::App;
use hcp_app::keys::KeySource;

use crate::cli::DoctorArgs;
use crate::commands::{county_key_path, load_keys, open_store};

pub async fn run(url: &str, keys: &KeySource, args: &DoctorArgs) -> anyhow::Result<()> {
    let mut lines = Vec::new();
    let store = open_store(url, 2).await?;
    lines.push(format!("✓ 数据库:{}(结构版本 {})", store.backend().name(), hcp_store::Store::schema_version()));
    let loaded = match load_keys(&store, keys).await {
        Ok(k) => k,
        Err(e) => {
            // Without keys nothing else can be opened; on an empty database the first run makes them.
            if store.count_orgs().await? == 0 {
                lines.push(
                    "✗ 本县机构:还没有最上级机构:运行 hcp init --org-code 代码 --org-name 名称 --admin-username admin(同时生成数据密钥)"
                        .into(),
                );
            }
            lines.push(format!("✗ 数据密钥:{e:#}"));
            println!("{}", lines.join("\n"));
            anyhow::bail!("上线检查未通过:数据密钥无法使用。");
        }
    };
    let mut app = App::new(store, "http://127.0.0.1:8080", loaded);
    match args.county.rules() {
        Ok(rules) => {
            app = app
                .with_close_of_day(rules.close_of_day)
                .with_case_rules(rules.cases)
                .with_result_rules(rules.results)
                .with_gateway(rules.gateway);
            lines.push("✓ 县里确定的规则:各项参数有效".into());
        }
        Err(errors) => lines.push(format!("✗ 县里确定的规则:{}", errors.join(";"))),
    }
    match args.upstream.settings(&county_key_path(keys)) {
        Ok((upstream, codes)) => app = app.with_upstream(upstream, codes),
        Err(errors) => lines.push(format!("✗ 省平台对接参数:{}", errors.join(";"))),
    }
    app.reload_calendar().await.map_err(|e| anyhow::anyhow!(e.message()))?;
    let public_url = args.public_url.clone().filter(|u| !u.trim().is_empty());
    let deployment = hcp_app::go_live::Deployment {
        public_url,
        backup_dir: args.backup_dir.clone(),
        key_file: match keys {
            KeySource::File(p) => Some(p.clone()),
            KeySource::Text(_) => None,
        },
        audit_alert: None,
    };
    // The audit chain against the anchors kept beside the keys, as `serve` checks it at start (issue 29 §2).
    let anchors_path = crate::commands::anchor_file_path(keys);
    let anchors = crate::audit::anchors_in(&anchors_path)?;
    match crate::audit::check_chain(&app.store, &anchors, crate::audit::Depth::SinceLastAnchor).await {
        Ok(r) => lines.push(format!(
            "✓ 审计日志:共 {} 条,与 {} 个锚点一致(锚点文件 {})",
            r.entries,
            anchors.len(),
            anchors_path.display()
        )),
        Err(e) => lines.push(format!("✗ 审计日志:{e}")),
    }
    for c in app.go_live_checks(&deployment).await.map_err(|e| anyhow::anyhow!(e.message()))? {
        lines.push(c.line());
    }
    let failed = lines.iter().filter(|l| l.starts_with('✗')).count();
    println!("{}", lines.join("\n"));
    if failed > 0 {
        anyhow::bail!("上线检查:{failed} 项未通过(✗),按每行的说明处理后再运行 hcp doctor。");
    }
    println!("上线检查全部通过。");
    Ok(())
}
