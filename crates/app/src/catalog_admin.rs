//! Catalog administration for the center (issue 6 §3): organizations, halls, windows, staff, service items,
//! hall devices and accounts, each within the administrator's scope, each written with its audit entry.

use hcp_domain::catalog::{HallKind, OrgKind, WindowKind};
use hcp_domain::identity::parse_text;
use hcp_domain::{Category, Violation};
use hcp_store::{
    AccountRow, CatalogChange, CatalogEntry, CatalogTable, DeviceRow, HallRow, ItemRow, NewHall, NewItem, NewOrg,
    NewStaff, NewWindow, OrgRow, StaffRow, WindowRow,
};
use serde_json::json;

use crate::audit::Actor;
use crate::policy::{Action, Principal, Role, Target};
use crate::secrets;
use crate::{App, AppError, AppResult};

/// Everything in an administrator's scope, for the catalog page.
#[derive(Debug, Clone)]
pub struct CatalogOverview {
    pub orgs: Vec<OrgRow>,
    pub halls: Vec<HallRow>,
    pub windows: Vec<WindowRow>,
    pub staff: Vec<StaffRow>,
    pub items: Vec<ItemRow>,
    pub devices: Vec<DeviceRow>,
    pub accounts: Vec<AccountRow>,
    /// Platforms run by organizations in scope (issue 15 §4).
    pub platforms: Vec<hcp_store::PlatformRow>,
}

/// A form of the catalog page, as typed. Which fields count depends on what is added.
#[derive(Debug, Clone, Default)]
pub struct CatalogForm {
    pub code: String,
    pub name: String,
    pub kind: String,
    /// The parent organization (a new org), or the organization it belongs to.
    pub org: String,
    pub hall: String,
    pub window: String,
    pub category: String,
    pub legal_days: String,
    pub promised_days: String,
    /// An organization's 统一社会信用代码 and 行政区划代码 (blank: none / unchanged).
    pub credit_code: String,
    pub area_code: String,
    /// An item's 实施编码 and 业务办理项编码 (blank: none / unchanged).
    pub implementation_code: String,
    pub handle_item_code: String,
    /// A staff member's mobile and ID number (blank: none / unchanged); sealed at once, never shown again.
    pub mobile: String,
    pub id_number: String,
}

/// A staff member's mobile and ID number as typed, checked and sealed; `None` where left blank.
fn typed_staff_personal(
    app: &App,
    kind: CatalogKind,
    f: &CatalogForm,
    checks: &mut Checks,
) -> (Option<hcp_store::SealedField>, Option<hcp_store::SealedField>) {
    if kind != CatalogKind::Staff {
        return (None, None);
    }
    let mobile = Some(f.mobile.trim())
        .filter(|s| !s.is_empty())
        .and_then(|m| checks.take(hcp_domain::identity::Mobile::parse("mobile", m)))
        .map(|m| app.keys.seal_staff(f.code.trim(), crate::keys::StaffField::Mobile, m.as_str()));
    let id_number = Some(f.id_number.trim())
        .filter(|s| !s.is_empty())
        .and_then(|n| checks.take(hcp_domain::identity::IdNumber::parse("id_number", n)))
        .map(|n| app.keys.seal_staff(f.code.trim(), crate::keys::StaffField::IdNumber, n.as_str()));
    (mobile, id_number)
}

/// The codes the upper level needs, as typed and checked; `None` where left blank.
#[derive(Debug, Default)]
struct UpperCodes {
    credit_code: Option<String>,
    area_code: Option<String>,
    implementation_code: Option<String>,
    handle_item_code: Option<String>,
}

fn typed_upper_codes(kind: CatalogKind, f: &CatalogForm, checks: &mut Checks) -> UpperCodes {
    use hcp_domain::identity::CreditCode;
    use hcp_domain::upstream::{AreaCode, HandleItemCode, ImplementationCode};
    let given = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    let mut codes = UpperCodes::default();
    match kind {
        CatalogKind::Org => {
            codes.credit_code = given(&f.credit_code)
                .and_then(|c| checks.take(CreditCode::parse("credit_code", &c)))
                .map(|c| c.as_str().to_string());
            codes.area_code = given(&f.area_code)
                .and_then(|c| checks.take(AreaCode::parse("area_code", &c)))
                .map(|c| c.as_str().to_string());
        }
        CatalogKind::Item => {
            codes.implementation_code = given(&f.implementation_code)
                .and_then(|c| checks.take(ImplementationCode::parse("implementation_code", &c)))
                .map(|c| c.as_str().to_string());
            codes.handle_item_code = given(&f.handle_item_code)
                .and_then(|c| checks.take(HandleItemCode::parse("handle_item_code", &c)))
                .map(|c| c.as_str().to_string());
        }
        _ => {}
    }
    codes
}

/// What the catalog page adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogKind {
    Org,
    Hall,
    Window,
    Staff,
    Item,
    /// A platform through which services are delivered (plan §三).
    Platform,
}

impl CatalogKind {
    pub fn parse(s: &str) -> Option<CatalogKind> {
        Some(match s {
            "org" => CatalogKind::Org,
            "hall" => CatalogKind::Hall,
            "window" => CatalogKind::Window,
            "staff" => CatalogKind::Staff,
            "item" => CatalogKind::Item,
            "platform" => CatalogKind::Platform,
            _ => return None,
        })
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            CatalogKind::Org => "机构",
            CatalogKind::Hall => "大厅",
            CatalogKind::Window => "窗口",
            CatalogKind::Staff => "工作人员",
            CatalogKind::Item => "事项",
            CatalogKind::Platform => "平台",
        }
    }
}

/// A code: 1–32 letters, digits, `-` or `_`.
pub(crate) fn parse_code(field: &str, raw: &str, what: &str) -> Result<String, Violation> {
    let code = raw.trim();
    if code.is_empty()
        || code.chars().count() > 32
        || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(Violation::new(field, "invalid_code", format!("{what}须为 1–32 位字母、数字、- 或 _。")));
    }
    Ok(code.to_string())
}

pub(crate) fn parse_days(field: &str, raw: &str, what: &str) -> Result<Option<i64>, Violation> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    match raw.parse::<i64>() {
        Ok(d) if (1..=365).contains(&d) => Ok(Some(d)),
        _ => Err(Violation::new(field, "invalid_days", format!("{what}须为 1–365 之间的整数(工作日)。"))),
    }
}

/// Separation of duties (issue 14 §3): a center administrator manages the accounts of those who serve —
/// staff, unit administrators, hotline agents — in their scope; the accounts that oversee them (center and
/// system administrators, the county office, auditors) only a system administrator creates, resets or disables.
fn may_manage_role(who: &Principal, role: Role) -> bool {
    who.has_role(Role::SystemAdmin) || matches!(role, Role::Staff | Role::UnitAdmin | Role::HotlineAgent)
}

/// Collects every violation of a form at once, so the clerk fixes them in one go.
struct Checks(Vec<Violation>);

impl Checks {
    fn take<T>(&mut self, r: Result<T, Violation>) -> Option<T> {
        r.map_err(|v| self.0.push(v)).ok()
    }
}

/// The kind (organization, hall, window) or category (item) typed in the form, checked; `None` when this kind
/// of entry has none or the field was left blank.
fn typed_kind(kind: CatalogKind, f: &CatalogForm) -> Option<Result<&'static str, Violation>> {
    let raw = if kind == CatalogKind::Item { f.category.trim() } else { f.kind.trim() };
    if raw.is_empty() {
        return None;
    }
    let bad = |field: &str, what: &str| Violation::new(field, "invalid_kind", format!("请选择{what}。"));
    match kind {
        CatalogKind::Org => Some(OrgKind::parse(raw).map(|k| k.as_str()).ok_or_else(|| bad("kind", "机构类型"))),
        CatalogKind::Hall => Some(HallKind::parse(raw).map(|k| k.as_str()).ok_or_else(|| bad("kind", "大厅类型"))),
        CatalogKind::Window => Some(WindowKind::parse(raw).map(|k| k.as_str()).ok_or_else(|| bad("kind", "窗口类型"))),
        CatalogKind::Item => Some(Category::parse(raw).map(|k| k.as_str()).ok_or_else(|| bad("category", "事项类别"))),
        CatalogKind::Staff | CatalogKind::Platform => None,
    }
}

/// An item's legal and promised limits as typed (blank: none).
fn typed_days(kind: CatalogKind, f: &CatalogForm, checks: &mut Checks) -> (Option<i64>, Option<i64>) {
    if kind != CatalogKind::Item {
        return (None, None);
    }
    (
        checks.take(parse_days("legal_days", &f.legal_days, "法定时限")).flatten(),
        checks.take(parse_days("promised_days", &f.promised_days, "承诺时限")).flatten(),
    )
}

impl App {
    /// The subtree this person administers (the first of their center or system admin bindings).
    pub(crate) fn catalog_scope(&self, who: &Principal) -> AppResult<String> {
        who.bindings
            .iter()
            .find(|b| matches!(b.role, Role::CenterAdmin | Role::SystemAdmin))
            .map(|b| b.org_path.clone())
            .ok_or(AppError::Forbidden)
    }

    pub async fn catalog_overview(&self, who: &Principal) -> AppResult<CatalogOverview> {
        let scope = self.catalog_scope(who)?;
        let orgs = self.store.list_orgs(&scope).await?;
        let codes: std::collections::HashSet<&str> = orgs.iter().map(|o| o.code.as_str()).collect();
        let items =
            self.store.list_items().await?.into_iter().filter(|i| codes.contains(i.org_code.as_str())).collect();
        Ok(CatalogOverview {
            halls: self.store.list_halls(&scope).await?,
            windows: self.store.list_windows(&scope).await?,
            staff: self.store.list_staff(&scope).await?,
            items,
            devices: self.store.list_devices(&scope).await?,
            accounts: self.store.list_accounts(&scope, self.now()).await?,
            platforms: self
                .store
                .list_platforms()
                .await?
                .into_iter()
                .filter(|p| p.org_path.starts_with(&scope))
                .collect(),
            orgs,
        })
    }

    /// An organization this person administers, by code (`field` names the form field for the message).
    async fn managed_org(&self, who: &Principal, field: &str, code: &str) -> AppResult<OrgRow> {
        let code = code.trim();
        let missing =
            || AppError::invalid(field, "org_not_found", format!("机构代码“{code}”不存在或不在您的管理范围内。"));
        let org = self.store.org_by_code(code).await?.ok_or_else(missing)?;
        if !who.may(Action::ManageCatalog, Some(Target { org_path: &org.path, staff_id: None })) {
            return Err(missing());
        }
        Ok(org)
    }

    /// A window in the administrator's `scope`, by code; one elsewhere reads as not existing.
    async fn managed_window(&self, scope: &str, code: &str) -> AppResult<WindowRow> {
        let code = code.trim();
        match self.store.window_by_code(code).await? {
            Some(w) if w.org_path.starts_with(scope) => Ok(w),
            _ => Err(AppError::invalid("window", "window_not_found", format!("窗口编码“{code}”不存在。"))),
        }
    }

    /// Adds an organization, hall, window, staff member or service item; returns its code.
    pub async fn add_to_catalog(&self, who: &Principal, kind: CatalogKind, f: &CatalogForm) -> AppResult<String> {
        let scope = self.catalog_scope(who)?;
        let mut checks = Checks(Vec::new());
        let code_what = if kind == CatalogKind::Staff { "工号" } else { "编码" };
        let code = checks.take(parse_code("code", &f.code, code_what));
        let name = checks.take(parse_text("name", &f.name, 50, "名称"));
        let kind_code = match (typed_kind(kind, f), kind) {
            (_, CatalogKind::Staff | CatalogKind::Platform) => Some(""),
            (Some(typed), _) => checks.take(typed),
            (None, CatalogKind::Item) => {
                checks.take(Err(Violation::new("category", "invalid_kind", "请选择事项类别。")))
            }
            (None, _) => checks.take(Err(Violation::new("kind", "invalid_kind", "请选择类型。"))),
        };
        let (legal, promised) = typed_days(kind, f, &mut checks);
        let upper = typed_upper_codes(kind, f, &mut checks);
        let (mobile, id_number) = typed_staff_personal(self, kind, f, &mut checks);
        if !checks.0.is_empty() {
            return Err(AppError::Invalid(checks.0));
        }
        let (code, name, kind_code) = (code.expect("checked"), name.expect("checked"), kind_code.expect("checked"));
        let org = self.managed_org(who, "org", &f.org).await?;
        let hall = match kind {
            CatalogKind::Window => {
                let hall = self.store.hall_by_code(f.hall.trim()).await?.filter(|(_, path)| path.starts_with(&scope));
                let (id, _) = hall.ok_or_else(|| {
                    AppError::invalid("hall", "hall_not_found", format!("大厅编码“{}”不存在。", f.hall.trim()))
                })?;
                Some(id)
            }
            _ => None,
        };
        let window = match kind {
            CatalogKind::Staff if !f.window.trim().is_empty() => Some(self.managed_window(&scope, &f.window).await?),
            _ => None,
        };
        let entry = match kind {
            // Platforms have their own table and audit action (`App::add_platform`).
            CatalogKind::Platform => return Ok(self.add_platform(who, &code, &name, &org.code).await?.code),
            CatalogKind::Org => CatalogEntry::Org(NewOrg {
                code: &code,
                name: &name,
                kind: kind_code,
                parent_id: Some(org.id),
                credit_code: upper.credit_code.as_deref(),
                area_code: upper.area_code.as_deref(),
            }),
            CatalogKind::Hall => {
                CatalogEntry::Hall(NewHall { code: &code, name: &name, kind: kind_code, org_id: org.id })
            }
            CatalogKind::Window => CatalogEntry::Window(NewWindow {
                code: &code,
                name: &name,
                kind: kind_code,
                hall_id: hall.expect("a window's hall"),
                org_id: org.id,
            }),
            CatalogKind::Staff => CatalogEntry::Staff(NewStaff {
                staff_number: &code,
                name: &name,
                org_id: org.id,
                window_id: window.as_ref().map(|w| w.id),
                mobile: mobile.as_ref(),
                id_number: id_number.as_ref(),
            }),
            CatalogKind::Item => CatalogEntry::Item(NewItem {
                code: &code,
                name: &name,
                category: kind_code,
                org_id: org.id,
                legal_limit_days: legal,
                promised_limit_days: promised,
                implementation_code: upper.implementation_code.as_deref(),
                handle_item_code: upper.handle_item_code.as_deref(),
            }),
        };
        let audit = self.audit(
            &Actor::user(&who.username),
            "catalog.add",
            "",
            json!({ "kind": format!("{kind:?}").to_lowercase(), "code": code, "org": org.code }),
        );
        match self.store.add_catalog_entry(&entry, &audit).await? {
            Some(_) => Ok(code),
            None => Err(AppError::conflict(
                "code_taken",
                format!("{}{code_what}“{code}”已被使用,请换一个。", kind.name_zh()),
            )),
        }
    }

    /// Changes an entry in this person's scope: the fields given replace the stored ones, blank ones stay.
    /// Names for every kind; a hall's or window's kind, an item's category and limits; a staff member's
    /// organization and window.
    pub async fn change_catalog(&self, who: &Principal, kind: CatalogKind, f: &CatalogForm) -> AppResult<String> {
        let scope = self.catalog_scope(who)?;
        let table = crate::lifecycle::table_of(kind);
        let code = f.code.trim().to_string();
        let what = if kind == CatalogKind::Staff { "工号" } else { "编码" };
        let missing = || {
            AppError::invalid(
                "code",
                "not_found",
                format!("{}{what}“{code}”不存在或不在您的管理范围内。", kind.name_zh()),
            )
        };
        match self.store.catalog_entry_path(table, &code).await? {
            Some(path) if path.starts_with(&scope) => {}
            _ => return Err(missing()),
        }
        let given = |v: &str| Some(v.trim()).filter(|v| !v.is_empty()).map(str::to_string);
        let mut checks = Checks(Vec::new());
        let name = given(&f.name).and_then(|n| checks.take(parse_text("name", &n, 50, "名称")));
        // An organization's kind does not change (a township stays a township).
        let kind_code =
            if kind == CatalogKind::Org { None } else { typed_kind(kind, f).and_then(|typed| checks.take(typed)) };
        let (legal, promised) = typed_days(kind, f, &mut checks);
        let upper = typed_upper_codes(kind, f, &mut checks);
        let (mobile, id_number) = typed_staff_personal(self, kind, f, &mut checks);
        if !checks.0.is_empty() {
            return Err(AppError::Invalid(checks.0));
        }
        let (mut org_id, mut window_id) = (None, None);
        if kind == CatalogKind::Staff {
            if let Some(org) = given(&f.org) {
                org_id = Some(self.managed_org(who, "org", &org).await?.id);
            }
            if let Some(w) = given(&f.window) {
                window_id = Some(self.managed_window(&scope, &w).await?.id);
            }
        }
        let change = CatalogChange {
            name: name.as_deref(),
            kind: kind_code,
            org_id,
            window_id,
            legal_limit_days: legal,
            promised_limit_days: promised,
            credit_code: upper.credit_code.as_deref(),
            area_code: upper.area_code.as_deref(),
            implementation_code: upper.implementation_code.as_deref(),
            handle_item_code: upper.handle_item_code.as_deref(),
            staff_mobile: mobile.as_ref(),
            staff_id_number: id_number.as_ref(),
        };
        if change == CatalogChange::default() {
            return Err(AppError::invalid("name", "nothing_to_change", "请至少填写一项要修改的内容(留空的项目不变)。"));
        }
        let audit = self.audit(
            &Actor::user(&who.username),
            "catalog.change",
            "",
            json!({ "kind": format!("{kind:?}").to_lowercase(), "code": code, "name": change.name,
                    "kind_or_category": change.kind, "legal_days": legal, "promised_days": promised,
                    "credit_code": change.credit_code, "area_code": change.area_code,
                    "implementation_code": change.implementation_code, "handle_item_code": change.handle_item_code,
                    "mobile_changed": mobile.is_some(), "id_number_changed": id_number.is_some() }),
        );
        if !self.store.change_catalog_entry(table, &code, &change, &audit).await? {
            return Err(missing());
        }
        Ok(code)
    }

    /// Registers a hall device at a window this person administers; returns the device and its address.
    pub async fn add_device(
        &self,
        who: &Principal,
        code: &str,
        name: &str,
        window: &str,
    ) -> AppResult<(DeviceRow, String)> {
        self.managed_window(&self.catalog_scope(who)?, window).await?;
        let (device, secret) = self.register_device(&Actor::user(&who.username), code, name, window).await?;
        Ok((device, format!("{}/d/{secret}", self.public_url())))
    }

    /// Stops a device of a window this person administers.
    pub async fn stop_device(&self, who: &Principal, code: &str) -> AppResult<()> {
        let scope = self.catalog_scope(who)?;
        let in_scope = self.store.list_devices(&scope).await?.iter().any(|d| d.code == code && d.revoked_at.is_none());
        if !in_scope {
            return Err(AppError::not_found("device_not_found", format!("设备“{code}”不存在或已停用。")));
        }
        self.revoke_device(&Actor::user(&who.username), code).await
    }

    /// Puts a stopped device of a window this person administers back in use, under a new address (shown
    /// once). Refused while its window is retired: the window is to be reactivated first.
    pub async fn restart_device(&self, who: &Principal, code: &str) -> AppResult<(DeviceRow, String)> {
        let scope = self.catalog_scope(who)?;
        let stopped =
            self.store.list_devices(&scope).await?.into_iter().find(|d| d.code == code && d.revoked_at.is_some());
        let Some(device) = stopped else {
            return Err(AppError::not_found("device_not_found", format!("没有已停用的评价器“{code}”。")));
        };
        if self.store.retired_codes(CatalogTable::Window).await?.contains(&device.window_code) {
            return Err(AppError::conflict(
                "retired",
                format!("评价器“{code}”所在的窗口“{}”已撤销,请先恢复窗口再启用评价器。", device.window_name),
            ));
        }
        let secret = secrets::new_token();
        let target = format!("hall_device:{}", device.id);
        let audit = self.audit(&Actor::user(&who.username), "device.reactivate", &target, json!({ "code": code }));
        if !self.store.reactivate_device(device.id, &secrets::hash(&secret), &audit).await? {
            return Err(AppError::not_found("device_not_found", format!("没有已停用的评价器“{code}”。")));
        }
        Ok((device, format!("{}/d/{secret}", self.public_url())))
    }

    /// An administrator sets a new password for an account whose every role lies in their scope (a forgotten
    /// password, a lock-out): the lock is lifted and the account's sessions end. Not for system administrators
    /// unless by one.
    pub async fn reset_password_by(&self, who: &Principal, username: &str, password: &str) -> AppResult<()> {
        let user = self.managed_account(who, username, "重置管理员、县政府办公室和审计员账号的密码").await?;
        crate::accounts::check_password("password", password)?;
        let pw = password.to_string();
        let hash = crate::accounts::argon2_work(move || crate::accounts::hash_password(&pw)).await?;
        let audit = self.audit(&Actor::user(&who.username), "password.reset", format!("user:{}", user.id), json!({}));
        self.store.set_password(user.id, &hash, &audit).await?;
        Ok(())
    }

    /// An account whose every role lies in this person's scope; a system administrator's only for another.
    async fn managed_account(&self, who: &Principal, username: &str, what: &str) -> AppResult<hcp_store::UserRow> {
        let scope = self.catalog_scope(who)?;
        let username = username.trim().to_lowercase();
        let missing =
            || AppError::invalid("username", "unknown_user", format!("账号“{username}”不存在或不在您的管理范围内。"));
        let user = self.store.user_by_username(&username).await?.ok_or_else(missing)?;
        let bindings = self.store.bindings_of(user.id).await?;
        if bindings.is_empty() || !bindings.iter().all(|b| b.org_path.starts_with(&scope)) {
            return Err(missing());
        }
        if bindings.iter().any(|b| Role::parse(&b.role).is_none_or(|r| !may_manage_role(who, r))) {
            return Err(AppError::invalid("username", "role_not_allowed", format!("只有系统管理员可以{what}。")));
        }
        Ok(user)
    }

    /// Disables an account in scope (login refused, sessions ended at once) or enables it again. Nobody
    /// disables their own account.
    pub async fn set_account_enabled_by(&self, who: &Principal, username: &str, enabled: bool) -> AppResult<()> {
        let user = self.managed_account(who, username, "停用或启用管理员、县政府办公室和审计员账号").await?;
        if user.id == who.user_id {
            return Err(AppError::invalid("username", "own_account", "不能停用自己的账号。"));
        }
        let (action, at) = if enabled { ("user.enable", None) } else { ("user.disable", Some(self.now())) };
        let audit = self.audit(&Actor::user(&who.username), action, format!("user:{}", user.id), json!({}));
        self.store.set_account_disabled(user.id, at, &audit).await?;
        Ok(())
    }

    /// Gives an account another role over an organization of the administrator's scope (`add`), or takes one
    /// away (never the last). An auditor's account holds no other role: who reads the log must not also act.
    pub async fn change_account_role(
        &self,
        who: &Principal,
        username: &str,
        role: &str,
        org_code: &str,
        add: bool,
    ) -> AppResult<String> {
        let scope = self.catalog_scope(who)?;
        let username = username.trim().to_lowercase();
        let user = self.store.user_by_username(&username).await?;
        let bindings = match &user {
            Some(u) => self.store.bindings_of(u.id).await?,
            None => Vec::new(),
        };
        let (Some(user), true) = (user, bindings.iter().all(|b| b.org_path.starts_with(&scope))) else {
            return Err(AppError::invalid(
                "username",
                "unknown_user",
                format!("账号“{username}”不存在或不在您的管理范围内。"),
            ));
        };
        let parsed = Role::parse(role.trim()).ok_or_else(|| {
            let all: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
            AppError::invalid("role", "invalid_role", format!("角色“{role}”无法识别,可选:{}。", all.join(", ")))
        })?;
        if !may_manage_role(who, parsed) {
            return Err(AppError::invalid(
                "role",
                "role_not_allowed",
                format!("只有系统管理员可以授予或撤销“{}”角色。", parsed.name_zh()),
            ));
        }
        // Nobody grants themselves a role (issue 29 §3): a center administrator made itself a hotline agent and
        // a unit administrator, then revealed phone numbers and recorded evaluations under those hats.
        if add && user.id == who.user_id {
            return Err(AppError::denied("self_grant", "不能给自己授予角色,请由另一位管理员办理。"));
        }
        // The accounts that oversee others are the system administrator's to change, not their peers'.
        let overseer = |r: &str| {
            Role::parse(r).is_some_and(|r| {
                matches!(r, Role::CenterAdmin | Role::CountyOffice | Role::Auditor | Role::SystemAdmin)
            })
        };
        if !who.has_role(Role::SystemAdmin) && bindings.iter().any(|b| overseer(&b.role)) {
            return Err(AppError::denied(
                "overseer_account",
                "只有系统管理员可以更改中心管理员、县政府办公室、审计员或系统管理员账号的角色。",
            ));
        }
        let org = self.managed_org(who, "org", org_code).await?;
        if add {
            let auditor = |r: &str| r == Role::Auditor.as_str();
            if auditor(parsed.as_str()) != bindings.iter().all(|b| auditor(&b.role)) {
                return Err(AppError::conflict(
                    "auditor_alone",
                    "审计员账号不能兼任其他角色,其他账号也不能兼任审计员:查看审计日志的人不能同时办理业务。",
                ));
            }
            if parsed == Role::Staff && user.staff_id.is_none() {
                return Err(AppError::invalid("role", "staff_needs_link", "“工作人员”角色只能授予关联了工号的账号。"));
            }
            if parsed == Role::HotlineAgent && user.staff_id.is_none() {
                return Err(hotline_needs_staff());
            }
        }
        let audit = self.audit(
            &Actor::user(&who.username),
            if add { "user.role_add" } else { "user.role_remove" },
            format!("user:{}", user.id),
            json!({ "username": username, "role": parsed.as_str(), "org": org.code }),
        );
        let done = if add {
            self.store.add_binding(user.id, parsed.as_str(), org.id, &audit).await?
        } else {
            self.store.remove_binding(user.id, parsed.as_str(), org.id, &audit).await?
        };
        match (done, add) {
            (true, true) => Ok(format!("已授予“{username}”{}({})角色。", parsed.name_zh(), org.name)),
            (true, false) => Ok(format!("已撤销“{username}”的{}({})角色。", parsed.name_zh(), org.name)),
            (false, true) => Err(AppError::conflict("role_held", "该账号已有这一角色。")),
            (false, false) => {
                Err(AppError::conflict("role_not_held", "该账号没有这一角色,或这是它唯一的角色(请改为停用账号)。"))
            }
        }
    }

    /// An account created by an administrator, over an organization in their scope. A center administrator
    /// cannot create system administrators.
    #[expect(clippy::too_many_arguments, reason = "the account form's fields")]
    pub async fn add_account(
        &self,
        who: &Principal,
        username: &str,
        display_name: &str,
        password: &str,
        role: &str,
        org_code: &str,
        staff_number: Option<&str>,
    ) -> AppResult<i64> {
        self.catalog_scope(who)?;
        self.managed_org(who, "org", org_code).await?;
        if Role::parse(role) == Some(Role::HotlineAgent) && staff_number.is_none_or(|n| n.trim().is_empty()) {
            return Err(hotline_needs_staff());
        }
        if let Some(r) = Role::parse(role)
            && !may_manage_role(who, r)
        {
            return Err(AppError::invalid(
                "role",
                "role_not_allowed",
                format!("只有系统管理员可以创建“{}”账号。", r.name_zh()),
            ));
        }
        self.create_user_as(&Actor::user(&who.username), username, display_name, password, role, org_code, staff_number)
            .await
    }
}

/// A hotline agent sees citizens' numbers on calls: the account must be a real person in the catalog (a staff
/// number), so that the daily quota is that person's and an administrator cannot multiply it with made-up
/// accounts (issue 29 §3).
fn hotline_needs_staff() -> AppError {
    AppError::invalid(
        "staff",
        "hotline_needs_staff",
        "12345热线坐席账号须关联工作人员工号(实名):查看联系方式的限额按人计算。请先在基础信息中登记该坐席,再填写其工号。",
    )
}
