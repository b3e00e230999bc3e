//! `hcp init`: a new county on an empty database — its top-level organization, its first system
//! administrator and, on PostgreSQL, the data key file (issue 28 §1).

use hcp_app::App;
use hcp_app::keys::{KeySource, Keys};

use crate::cli::InitArgs;
use crate::commands::{load_keys, open_store};

/// Every message of an error (an invalid request lists each field), one per line.
pub fn all_messages(e: hcp_app::AppError) -> anyhow::Error {
    match e {
        hcp_app::AppError::Invalid(v) if v.len() > 1 => anyhow::anyhow!(
            "有 {} 处错误:\n{}",
            v.len(),
            v.iter().map(|v| format!("  {}", v.message)).collect::<Vec<_>>().join("\n")
        ),
        e => anyhow::anyhow!(e.message()),
    }
}

pub async fn init(url: &str, keys: &KeySource, args: InitArgs) -> anyhow::Result<()> {
    let store = open_store(url, 2).await?;
    let present = store.count_orgs().await?;
    if present > 0 && !args.another {
        anyhow::bail!(
            "数据库中已有 {present} 个机构,不能再次初始化。新增下级机构请用“基础信息管理”或 `hcp catalog import`;\
             市级同一数据库再增加一个县,请加 --another。"
        );
    }
    // PostgreSQL makes no key file by itself (several instances share the database): the first run does.
    let mut made_keys = None;
    if store.backend() == hcp_store::Backend::Postgres
        && store.key_fingerprint().await?.is_none()
        && let KeySource::File(path) = keys
        && !path.exists()
    {
        Keys::load(keys.clone(), true)?;
        made_keys = Some(path.clone());
    }
    let loaded = load_keys(&store, keys).await?;
    let app = App::new(store, "http://127.0.0.1:8080", loaded);
    let given = std::env::var("HCP_INIT_PASSWORD").ok().filter(|p| !p.is_empty());
    let password = given.clone().unwrap_or_else(|| hcp_app::secrets::new_token()[..16].to_string());
    let request = hcp_app::first_run::InitCounty {
        org_code: args.org_code,
        org_name: args.org_name,
        org_kind: args.org_kind,
        area_code: args.area_code,
        credit_code: args.credit_code,
        admin_username: args.admin_username,
        admin_name: args.admin_name,
        admin_password: password.clone(),
        another: args.another,
    };
    let report = app.init_county(&hcp_app::audit::Actor::operator(), &request).await.map_err(all_messages)?;
    if let Some(path) = made_keys {
        println!(
            "已生成数据密钥文件 {}(仅属主可读)。多实例部署时请把同一文件复制到每个实例,并另行妥善备份。",
            path.display()
        );
    }
    println!("已建立“{}”(机构代码 {}),系统管理员账号 {}。", report.org_name, request.org_code, report.admin_username);
    println!(
        "下一步:hcp catalog template 基础信息.xlsx,填好后 hcp catalog import 基础信息.xlsx;然后 hcp doctor 检查。"
    );
    if given.is_none() {
        println!("系统管理员的初始密码只显示这一次,请登录 /login 后在“修改密码”中更换:");
        println!("初始密码:{password}");
    }
    Ok(())
}
