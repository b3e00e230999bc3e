//! A county's first run (issue 28 §1): `hcp init` makes the top-level organization and its first system
//! administrator on an empty database, every field checked at once, both written or neither. A city that runs
//! several counties adds another top-level county with `--another`.

use hcp_domain::OrgKind;
use hcp_domain::identity::{CreditCode, parse_text};
use hcp_domain::upstream::AreaCode;
use serde_json::json;

use crate::accounts::{argon2_work, check_password, hash_password, parse_username};
use crate::audit::Actor;
use crate::catalog_admin::parse_code;
use crate::policy::Role;
use crate::{App, AppError, AppResult};

/// What `hcp init` asks for, as typed.
#[derive(Debug, Clone)]
pub struct InitCounty {
    pub org_code: String,
    pub org_name: String,
    /// `county` or `city` (or 县, 市).
    pub org_kind: String,
    pub area_code: Option<String>,
    pub credit_code: Option<String>,
    pub admin_username: String,
    /// The administrator's name as the console shows it (default: the username).
    pub admin_name: Option<String>,
    pub admin_password: String,
    /// Add a top-level county beside the one(s) already there (a city's database).
    pub another: bool,
}

/// What was made.
#[derive(Debug, Clone)]
pub struct InitReport {
    pub org_id: i64,
    pub org_name: String,
    pub admin_username: String,
}

impl App {
    /// Makes a new top-level organization with its first system administrator. Every field is checked before
    /// anything is written, and every mistake is reported together; refused when the database holds an
    /// organization already (unless `another`, which only adds a county).
    pub async fn init_county(&self, actor: &Actor, req: &InitCounty) -> AppResult<InitReport> {
        let mut errors = Vec::new();
        let mut keep = |r: Result<String, hcp_domain::Violation>| r.map_err(|v| errors.push(v)).ok();
        let code = keep(parse_code("org_code", &req.org_code, "机构代码"));
        let name = keep(parse_text("org_name", &req.org_name, 50, "机构名称"));
        let area = match req.area_code.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Some(None),
            Some(a) => keep(AreaCode::parse("area_code", a).map(|c| c.as_str().to_string())).map(Some),
        };
        let credit = match req.credit_code.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Some(None),
            Some(c) => keep(CreditCode::parse("credit_code", c).map(|c| c.as_str().to_string())).map(Some),
        };
        let display = req.admin_name.clone().unwrap_or_else(|| req.admin_username.trim().to_string());
        let display = keep(parse_text("admin_name", &display, 50, "管理员姓名"));
        let kind = OrgKind::parse(req.org_kind.trim())
            .or_else(|| OrgKind::ALL.iter().copied().find(|k| k.name_zh() == req.org_kind.trim()))
            .filter(|k| k.may_be_top_level());
        match kind {
            None => errors.push(hcp_domain::Violation::new(
                "org_kind",
                "invalid_org_kind",
                format!("机构类型“{}”不能作为最上级机构,应为 county(县)或 city(市)。", req.org_kind.trim()),
            )),
            Some(OrgKind::City) if req.another => errors.push(hcp_domain::Violation::new(
                "org_kind",
                "invalid_org_kind",
                "--another 只能再增加一个县级机构(county)。",
            )),
            Some(_) => {}
        }
        let username = parse_username("admin_username", &req.admin_username).map_err(|e| errors.extend(violations(e)));
        if let Err(e) = check_password("admin_password", &req.admin_password) {
            errors.extend(violations(e));
        }
        let (Some(code), Some(name), Some(area), Some(credit), Some(display), Some(kind), Ok(username), true) =
            (code, name, area, credit, display, kind, username, errors.is_empty())
        else {
            return Err(AppError::Invalid(errors));
        };
        let present = self.store.count_orgs().await?;
        if present > 0 && !req.another {
            return Err(not_empty(present));
        }
        let pw = req.admin_password.clone();
        let hash = argon2_work(move || hash_password(&pw)).await?;
        let org = hcp_store::NewOrg {
            code: &code,
            name: &name,
            kind: kind.as_str(),
            parent_id: None,
            credit_code: credit.as_deref(),
            area_code: area.as_deref(),
        };
        let admin = hcp_store::FirstAdmin {
            username: &username,
            display_name: &display,
            password_hash: &hash,
            role: Role::SystemAdmin.as_str(),
        };
        let audit = self.audit(
            actor,
            "org.init",
            "",
            json!({ "org": code, "kind": kind.as_str(), "admin": username, "another": req.another }),
        );
        match self.store.init_top_org(&org, &admin, !req.another, &audit).await? {
            hcp_store::FirstRun::Created { org_id, .. } => {
                Ok(InitReport { org_id, org_name: name, admin_username: username })
            }
            hcp_store::FirstRun::NotEmpty(n) => Err(not_empty(n)),
            hcp_store::FirstRun::CodeTaken => {
                Err(AppError::conflict("org_code_taken", format!("机构代码 {code} 已被使用,请换一个。")))
            }
            hcp_store::FirstRun::UsernameTaken => {
                Err(AppError::conflict("username_taken", format!("用户名 {username} 已存在。")))
            }
        }
    }
}

fn not_empty(n: i64) -> AppError {
    AppError::conflict(
        "already_initialized",
        format!(
            "数据库中已有 {n} 个机构,不能再次初始化。新增下级机构请用“基础信息管理”或 `hcp catalog import`;\
             市级同一数据库再增加一个县,请加 --another。"
        ),
    )
}

fn violations(e: AppError) -> Vec<hcp_domain::Violation> {
    match e {
        AppError::Invalid(v) => v,
        other => vec![hcp_domain::Violation::new("", other.code(), other.message())],
    }
}
