//! `/console/catalog`: what the center administers — organizations, halls, windows (with their QR posters),
//! staff, service items, hall devices and accounts — and the forms that add them (issue 6 §3).

use super::CsrfForm;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use hcp_app::catalog_admin::{CatalogForm, CatalogKind, CatalogOverview};
use hcp_app::policy::{Action, Role};
use hcp_app::{App, AppError};
use hcp_domain::Category;
use hcp_domain::catalog::{HallKind, OrgKind, WindowKind};
use maud::{Markup, html};
use serde::Deserialize;

use super::upload::CsrfMultipart;
use super::{Console, FormData, console_page, csrf_field};
use crate::html::{PageResult, hidden, options, pair_options, query, table, text_field};

/// Rows of a catalog list shown per page.
const PAGE_ROWS: usize = 50;

/// What the lists show: rows whose code or name holds `q`, and which page of each list (`?q=&staff_page=2`).
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(flatten)]
    pages: std::collections::HashMap<String, String>,
}

impl ListQuery {
    fn page(&self, key: &str) -> usize {
        self.pages.get(&format!("{key}_page")).and_then(|p| p.parse::<usize>().ok()).unwrap_or(1).max(1)
    }
}

/// A row of a catalog list: the text the search looks in (code and name), and its cells.
struct Row {
    search: String,
    cells: Vec<Markup>,
}

impl Row {
    fn new(code: &str, name: &str, cells: Vec<Markup>) -> Row {
        Row { search: format!("{code}\n{name}").to_lowercase(), cells }
    }
}

/// A cell of plain text.
fn cell(text: &str) -> Markup {
    html! { (text) }
}

/// One list of the catalog: the rows matching the search (by code and name), one page of them, and links to
/// the other pages that keep the search.
fn section(key: &str, title: &str, head: &[&str], rows: Vec<Row>, view: &ListQuery, open: bool) -> Markup {
    let needle = view.q.trim().to_lowercase();
    let total = rows.len();
    let matching: Vec<Row> = rows.into_iter().filter(|r| needle.is_empty() || r.search.contains(&needle)).collect();
    let pages = matching.len().div_ceil(PAGE_ROWS).max(1);
    let page = view.page(key).min(pages);
    let link = |p: usize| {
        let page_key = format!("{key}_page");
        format!("/console/catalog?{}#{key}", query(&[("q", view.q.trim()), (&page_key, &p.to_string())]))
    };
    let count = if needle.is_empty() { total.to_string() } else { format!("{} / {total}", matching.len()) };
    let open = open || (!needle.is_empty() && !matching.is_empty()) || view.pages.contains_key(&format!("{key}_page"));
    html! {
        details id=(key) open[open] {
            summary { strong { (title) } "(" (count) ")" }
            div.scroll tabindex="0" {
                (table(head, html! {
                    @for r in matching.iter().skip((page - 1) * PAGE_ROWS).take(PAGE_ROWS) {
                        tr { @for c in &r.cells { td { (c) } } }
                    }
                }))
            }
            @if pages > 1 {
                p.muted {
                    "第 " (page) "/" (pages) " 页 "
                    @if page > 1 { a href=(link(page - 1)) { "上一页" } }
                    " "
                    @if page < pages { a href=(link(page + 1)) { "下一页" } }
                }
            }
        }
    }
}

/// An account's state and the button that changes it.
fn account_state(c: &Console, a: &hcp_store::AccountRow) -> Markup {
    let (action, button) = if a.disabled { ("enable", "启用") } else { ("disable", "停用") };
    html! {
        @if a.disabled { span.late { "已停用" } } @else if a.locked { span.late { "已锁定" } } @else { "在用" }
        " "
        form.inline method="post" action="/console/catalog/accounts/state" {
            (csrf_field(c))
            (hidden("username", &a.username))
            (hidden("action", action))
            button type="submit" { (button) }
        }
    }
}

/// A field of an "add" form: a text box, or a choice of codes with their Chinese names.
enum Input {
    Text(&'static str, &'static str),
    Choice(&'static str, &'static str, Vec<(&'static str, &'static str)>),
}

fn choices<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    name: fn(T) -> &'static str,
) -> Vec<(&'static str, &'static str)> {
    all.iter().map(|x| (code(*x), name(*x))).collect()
}

/// The five "add" forms; the one just submitted keeps what was typed (to fix and send again).
fn add_forms(c: &Console, f: &FormData) -> Markup {
    use Input::{Choice, Text};
    let forms: [(&str, &str, Vec<Input>); 5] = [
        (
            "org",
            "机构",
            vec![
                Text("code", "代码"),
                Text("name", "名称"),
                Choice("kind", "类型", choices(OrgKind::ALL, OrgKind::as_str, OrgKind::name_zh)),
                Text("org", "上级机构代码"),
                Text("credit_code", "统一社会信用代码(可空)"),
                Text("area_code", "行政区划代码(12位,可空)"),
            ],
        ),
        (
            "hall",
            "大厅",
            vec![
                Text("code", "编码"),
                Text("name", "名称"),
                Choice("kind", "类型", choices(HallKind::ALL, HallKind::as_str, HallKind::name_zh)),
                Text("org", "所属机构代码"),
            ],
        ),
        (
            "window",
            "窗口",
            vec![
                Text("code", "编码"),
                Text("name", "名称"),
                Choice("kind", "类型", choices(WindowKind::ALL, WindowKind::as_str, WindowKind::name_zh)),
                Text("hall", "大厅编码"),
                Text("org", "所属机构代码"),
            ],
        ),
        (
            "staff",
            "工作人员",
            vec![
                Text("code", "工号"),
                Text("name", "姓名"),
                Text("org", "所属机构代码"),
                Text("window", "窗口编码(可空)"),
                Text("mobile", "手机号(可空)"),
                Text("id_number", "身份证号(可空)"),
            ],
        ),
        (
            "item",
            "事项",
            vec![
                Text("code", "编码"),
                Text("name", "名称"),
                Choice("category", "类别", choices(Category::ALL, Category::as_str, Category::name_zh)),
                Text("org", "主管机构代码"),
                Text("legal_days", "法定时限"),
                Text("promised_days", "承诺时限"),
                Text("implementation_code", "实施编码(31位,可空)"),
                Text("handle_item_code", "业务办理项编码(33位,可空)"),
            ],
        ),
    ];
    html! {
        @for (what, title, inputs) in &forms {
            @let typed = |name: &str| if f.get("what") == *what { f.get(name).to_string() } else { String::new() };
            form.filters method="post" action="/console/catalog" {
                (csrf_field(c))
                (hidden("what", what))
                strong { "新增" (title) } " "
                @for input in inputs {
                    @match input {
                        // Personal data is never echoed back into a page.
                        Text(name @ ("mobile" | "id_number"), label) => { (text_field(name, label, "")) }
                        Text(name, label) => { (text_field(name, label, &typed(name))) }
                        Choice(name, label, options) => {
                            label { (label) " " select name=(name) { (pair_options(options, &typed(name))) } } " "
                        }
                    }
                }
                button type="submit" { "添加" }
            }
        }
    }
}

/// A name, marked when the entry is retired.
fn named(name: &str, retired: bool) -> Markup {
    html! { (name) @if retired { " " small.late { "(已停用)" } } }
}

/// A one-line form of the catalog page: a bold title, an optional explanation, the fields, the button.
fn line_form(c: &Console, action: &str, title: &str, note: Option<&str>, fields: Markup, button: &str) -> Markup {
    html! {
        form.filters method="post" action=(action) {
            (csrf_field(c))
            strong { (title) } @if let Some(n) = note { "(" (n) ")" } " "
            (fields)
            button type="submit" { (button) }
        }
    }
}

/// A labelled `<select>`.
fn select(label: &str, name: &str, options: Markup) -> Markup {
    html! { label { (label) " " select name=(name) { (options) } } " " }
}

fn page_html(
    c: &Console,
    o: &CatalogOverview,
    f: &FormData,
    notice: Markup,
    view: &ListQuery,
    retired: &hcp_app::lifecycle::Retired,
) -> Markup {
    let orgs: Vec<Row> = o
        .orgs
        .iter()
        .map(|x| {
            Row::new(
                &x.code,
                &x.name,
                vec![
                    cell(&x.code),
                    named(&x.name, retired.orgs.contains(&x.code)),
                    cell(OrgKind::parse(&x.kind).map(OrgKind::name_zh).unwrap_or("")),
                    cell(x.parent_code.as_deref().unwrap_or("")),
                    cell(x.credit_code.as_deref().unwrap_or("—")),
                    cell(x.area_code.as_deref().unwrap_or("—")),
                ],
            )
        })
        .collect();
    let halls: Vec<Row> = o
        .halls
        .iter()
        .map(|h| {
            Row::new(
                &h.code,
                &h.name,
                vec![
                    cell(&h.code),
                    named(&h.name, retired.halls.contains(&h.code)),
                    cell(HallKind::parse(&h.kind).map(HallKind::name_zh).unwrap_or("")),
                    cell(&h.org_name),
                ],
            )
        })
        .collect();
    let windows: Vec<Row> = o
        .windows
        .iter()
        .map(|w| {
            Row::new(
                &w.code,
                &w.name,
                vec![
                    cell(&w.code),
                    named(&w.name, retired.windows.contains(&w.code)),
                    cell(&w.hall_name),
                    cell(&w.org_name),
                    html! { a href={ "/w/" (w.code) "/poster" } { "打印" } },
                ],
            )
        })
        .collect();
    let on_file = |b: bool| if b { "已登记" } else { "—" };
    let staff: Vec<Row> = o
        .staff
        .iter()
        .map(|s| {
            Row::new(
                &s.staff_number,
                &s.name,
                vec![
                    cell(&s.staff_number),
                    named(&s.name, retired.staff.contains(&s.staff_number)),
                    cell(&s.org_name),
                    cell(s.window_name.as_deref().unwrap_or("—")),
                    cell(&format!("{} / {}", on_file(s.has_mobile), on_file(s.has_id_number))),
                ],
            )
        })
        .collect();
    let days = |d: Option<i64>| d.map_or("—".to_string(), |d| d.to_string());
    let items: Vec<Row> = o
        .items
        .iter()
        .map(|i| {
            Row::new(
                &i.code,
                &i.name,
                vec![
                    cell(&i.code),
                    named(&i.name, retired.items.contains(&i.code)),
                    cell(Category::parse(&i.category).map(Category::name_zh).unwrap_or("")),
                    cell(&i.org_code),
                    cell(&format!("{} / {}", days(i.legal_limit_days), days(i.promised_limit_days))),
                    cell(i.implementation_code.as_deref().unwrap_or("—")),
                    cell(i.handle_item_code.as_deref().unwrap_or("—")),
                ],
            )
        })
        .collect();
    let devices: Vec<Row> = o
        .devices
        .iter()
        .map(|d| {
            let (path, label) = match d.revoked_at {
                None => ("revoke", "停用"),
                Some(_) => ("reactivate", "重新启用(换新地址)"),
            };
            Row::new(
                &d.code,
                &d.name,
                vec![
                    cell(&d.code),
                    cell(&d.name),
                    cell(&format!("{}({})", d.window_name, d.window_code)),
                    cell(if d.revoked_at.is_some() { "已停用" } else { "在用" }),
                    html! {
                        form.inline method="post" action={ "/console/catalog/devices/" (path) } {
                            (csrf_field(c)) (hidden("code", &d.code)) button type="submit" { (label) }
                        }
                    },
                ],
            )
        })
        .collect();
    let accounts: Vec<Row> = o
        .accounts
        .iter()
        .map(|a| {
            Row::new(
                &a.username,
                &a.display_name,
                vec![
                    cell(&a.username),
                    cell(&a.display_name),
                    cell(Role::parse(&a.role).map(Role::name_zh).unwrap_or("")),
                    cell(&a.org_name),
                    account_state(c, a),
                ],
            )
        })
        .collect();
    let platforms: Vec<Row> = o
        .platforms
        .iter()
        .map(|p| {
            Row::new(
                &p.code,
                &p.name,
                vec![cell(&p.code), cell(&p.name), cell(&format!("{}({})", p.org_name, p.org_code))],
            )
        })
        .collect();
    let roles = options(&Role::ALL, None, Role::as_str, Role::name_zh);
    let no_change = html! { option value="" { "不变" } };
    let change_fields = html! {
        (select("类别", "what", pair_options(
            &[("org", "机构"), ("hall", "大厅"), ("window", "窗口"), ("staff", "工作人员"), ("item", "事项"), ("platform", "平台")],
            "",
        )))
        (text_field("code", "编码或工号", ""))
        (text_field("name", "新名称", ""))
        (select("大厅/窗口类型", "kind", html! {
            (no_change)
            optgroup label="大厅" { (options(HallKind::ALL, None, HallKind::as_str, HallKind::name_zh)) }
            optgroup label="窗口" { (options(WindowKind::ALL, None, WindowKind::as_str, WindowKind::name_zh)) }
        }))
        (select("事项类别", "category", html! { (no_change) (options(Category::ALL, None, Category::as_str, Category::name_zh)) }))
        (text_field("org", "工作人员的新机构代码", ""))
        (text_field("window", "工作人员的新窗口编码", ""))
        (text_field("legal_days", "法定时限", ""))
        (text_field("promised_days", "承诺时限", ""))
        (text_field("credit_code", "机构的统一社会信用代码", ""))
        (text_field("area_code", "机构的行政区划代码", ""))
        (text_field("implementation_code", "事项的实施编码", ""))
        (text_field("handle_item_code", "事项的业务办理项编码", ""))
        (text_field("mobile", "工作人员的手机号", ""))
        (text_field("id_number", "工作人员的身份证号", ""))
    };
    let password = |label: &str| html! { label { (label) " " input name="password" type="password" autocomplete="new-password"; } " " };
    html! {
        h2 { "基础信息管理" }
        (notice)
        (add_forms(c, f))
        (line_form(c, "/console/catalog/changes", "修改(留空的项目不变)", None, change_fields, "保存修改"))
        (line_form(c, "/console/catalog/retirements", "停用或重新启用",
            Some("停用后不能再登记办件、不在选择列表中,历史记录和统计保留"),
            html! {
                (select("类别", "what", pair_options(
                    &[("window", "窗口"), ("staff", "工作人员"), ("item", "事项"), ("hall", "大厅"), ("org", "机构")], "")))
                (text_field("code", "编码或工号", ""))
                (select("操作", "action", pair_options(&[("retire", "停用"), ("reactivate", "重新启用")], "")))
            },
            "确定"))
        (line_form(c, "/console/catalog/moves", "调整机构隶属", Some("连同其下级、办件和统计一起调整"),
            html! { (text_field("code", "机构代码", "")) (text_field("org", "新的上级机构代码", "")) }, "调整"))
        form.filters method="post" action="/console/catalog/import" enctype="multipart/form-data" {
            (csrf_field(c))
            strong { "从文件导入(CSV 或 Excel)" } " "
            label { "文件 " input type="file" name="file" accept=".csv,.xlsx"; } " "
            button type="submit" { "导入" } " "
            a href="/console/catalog/template.xlsx" download { "下载导入模板(含填写说明)" } " "
            details {
                summary { "文件格式" }
                p {
                    "CSV 文件每个一类(由第一列确定类别),Excel 工作簿每类一张工作表;第一行为表头。全部行无误才导入;重复导入同一文件不会改动;修改过的行更新相应条目(留空的可选项保持不变)。"
                }
                ul { @for (kind, cols) in hcp_app::catalog_import::template_headers() { li { (kind) ":" (cols.join(",")) } } }
            }
        }
        (line_form(c, "/console/catalog/devices", "登记评价器", None,
            html! { (text_field("code", "设备编号", "")) (text_field("name", "名称", "")) (text_field("window", "窗口编码", "")) },
            "登记"))
        (line_form(c, "/console/catalog/platforms", "登记办理平台", Some("如政务服务网、移动端应用;办件以平台编码注明经由的平台"),
            html! { (text_field("code", "平台编码", "")) (text_field("name", "平台名称", "")) (text_field("org", "运行机构代码", "")) },
            "登记"))
        (line_form(c, "/console/catalog/accounts", "新建账号", None,
            html! {
                (text_field("username", "用户名", "")) (text_field("display_name", "姓名", ""))
                (password("初始密码")) (select("角色", "role", roles.clone()))
                (text_field("org", "机构代码", "")) (text_field("staff", "工号(工作人员填写)", ""))
            },
            "创建"))
        (line_form(c, "/console/catalog/roles", "账号的角色", Some("一个账号可有多个角色,各管一个范围"),
            html! {
                (text_field("username", "用户名", "")) (select("角色", "role", roles)) (text_field("org", "机构代码", ""))
                (select("操作", "action", pair_options(&[("add", "授予"), ("remove", "撤销")], "")))
            },
            "确定"))
        (line_form(c, "/console/catalog/passwords", "重置密码(并解除锁定)", None,
            html! { (text_field("username", "用户名", "")) (password("新密码")) }, "重置"))
        form.filters method="get" action="/console/catalog" role="search" {
            label for="q" { "查找(编码、工号、用户名或名称)" } " "
            input #q name="q" type="search" value=(view.q);
            " " button type="submit" { "查找" }
        }
        (section("orgs", "机构", &["代码", "名称", "类型", "上级", "统一社会信用代码", "行政区划代码"], orgs, view, false))
        (section("halls", "大厅", &["编码", "名称", "类型", "所属机构"], halls, view, false))
        (section("windows", "窗口", &["编码", "名称", "大厅", "所属机构", "评价二维码"], windows, view, false))
        (section("staff", "工作人员", &["工号", "姓名", "所属机构", "窗口", "手机号/身份证号"], staff, view, false))
        (section("items", "事项", &["编码", "名称", "类别", "机构", "法定/承诺时限", "实施编码", "业务办理项编码"], items, view, false))
        (section("devices", "评价器", &["编号", "名称", "窗口", "状态", ""], devices, view, true))
        (section("platforms", "办理平台", &["编码", "名称", "运行机构"], platforms, view, false))
        (section("accounts", "账号", &["用户名", "姓名", "角色", "机构", ""], accounts, view, false))
    }
}

async fn render(app: &App, c: &Console, status: StatusCode, form: &FormData, notice: Markup) -> PageResult {
    render_view(app, c, status, form, notice, &ListQuery::default()).await
}

async fn render_view(
    app: &App,
    c: &Console,
    status: StatusCode,
    form: &FormData,
    notice: Markup,
    view: &ListQuery,
) -> PageResult {
    let o = app.catalog_overview(&c.who).await?;
    let retired = app.retired().await?;
    Ok(console_page(c, status, "基础信息管理", page_html(c, &o, form, notice, view, &retired)))
}

/// Forbidden for anyone who administers no part of the catalog.
fn gate(c: &Console) -> Result<(), AppError> {
    super::gate(c, &[Action::ManageCatalog])
}

fn refusal(e: &AppError) -> Markup {
    html! {
        div.alert role="alert" {
            p { "未能保存:" }
            ul {
                @match e {
                    AppError::Invalid(vs) => { @for v in vs { li { (v.message) } } }
                    other => { li { (other.message()) } }
                }
            }
        }
    }
}

/// What an outcome shows: a notice on success, the form again with the reasons otherwise.
async fn outcome(app: &App, c: &Console, form: &FormData, result: Result<Markup, AppError>) -> PageResult {
    match result {
        Ok(done) => {
            let notice = html! { p.notice role="status" { (done) } };
            render(app, c, StatusCode::OK, &FormData::parse(b""), notice).await
        }
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. })) => {
            render(app, c, crate::error::status_of(&e), form, refusal(&e)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A plain-text outcome.
fn said(text: String) -> Markup {
    html! { (text) }
}

/// A device's address, shown once after registering or reactivating it.
fn device_address(text: &str, url: &str) -> Markup {
    html! { (text) br; code { (url) } }
}

/// `GET /console/catalog?q=&staff_page=`: the forms and the lists, searched and paged.
pub async fn show(State(app): State<App>, c: Console, Query(view): Query<ListQuery>) -> PageResult {
    gate(&c)?;
    render_view(&app, &c, StatusCode::OK, &FormData::parse(b""), html! {}, &view).await
}

/// `POST /console/catalog`: adds one organization, hall, window, staff member or item.
pub async fn add(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> PageResult {
    gate(&c)?;
    let result = match CatalogKind::parse(form.get("what")) {
        None => Err(AppError::invalid("what", "invalid_kind", "请选择要新增的类别。")),
        Some(kind) => {
            let f = catalog_form(&form);
            app.add_to_catalog(&c.who, kind, &f).await.map(|code| said(format!("已新增{}“{}”。", kind.name_zh(), code)))
        }
    };
    outcome(&app, &c, &form, result).await
}

/// The catalog form's fields, as typed.
fn catalog_form(form: &FormData) -> CatalogForm {
    CatalogForm {
        code: form.get("code").into(),
        name: form.get("name").into(),
        kind: form.get("kind").into(),
        org: form.get("org").into(),
        hall: form.get("hall").into(),
        window: form.get("window").into(),
        category: form.get("category").into(),
        legal_days: form.get("legal_days").into(),
        promised_days: form.get("promised_days").into(),
        credit_code: form.get("credit_code").into(),
        area_code: form.get("area_code").into(),
        implementation_code: form.get("implementation_code").into(),
        handle_item_code: form.get("handle_item_code").into(),
        mobile: form.get("mobile").into(),
        id_number: form.get("id_number").into(),
    }
}

/// `POST /console/catalog/retirements`: retires or reactivates one entry.
pub async fn retire(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> PageResult {
    gate(&c)?;
    let result = match (CatalogKind::parse(form.get("what")), form.get("action")) {
        (None, _) => Err(AppError::invalid("what", "invalid_kind", "请选择要停用或启用的类别。")),
        (Some(kind), action @ ("retire" | "reactivate")) => {
            app.set_catalog_retired(&c.who, kind, form.get("code"), action == "retire").await.map(said)
        }
        _ => Err(AppError::invalid("action", "invalid_action", "请选择“停用”或“重新启用”。")),
    };
    outcome(&app, &c, &form, result).await
}

/// `POST /console/catalog/moves`: moves an organization (and its subtree) under another parent.
pub async fn move_org(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> PageResult {
    gate(&c)?;
    let result = app.move_org(&c.who, form.get("code"), form.get("org")).await.map(said);
    outcome(&app, &c, &form, result).await
}

/// `POST /console/catalog/roles`: gives an account another role, or takes one away.
pub async fn account_role(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> PageResult {
    gate(&c)?;
    let add = form.get("action") != "remove";
    let result =
        app.change_account_role(&c.who, form.get("username"), form.get("role"), form.get("org"), add).await.map(said);
    outcome(&app, &c, &form, result).await
}

/// `POST /console/catalog/changes`: changes the fields given of one entry.
pub async fn change(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> PageResult {
    gate(&c)?;
    let result = match CatalogKind::parse(form.get("what")) {
        None => Err(AppError::invalid("what", "invalid_kind", "请选择要修改的类别。")),
        Some(kind) => app
            .change_catalog(&c.who, kind, &catalog_form(&form))
            .await
            .map(|code| said(format!("已修改{}“{}”。", kind.name_zh(), code))),
    };
    outcome(&app, &c, &form, result).await
}

/// `POST /console/catalog/import` (multipart): a CSV file or an .xlsx workbook, all or nothing, every bad line
/// listed.
pub async fn import(State(app): State<App>, CsrfMultipart { console: c, posted }: CsrfMultipart) -> PageResult {
    gate(&c)?;
    let result = match posted {
        Err(e) => Err(e),
        Ok(posted) => match posted.files.iter().find(|(name, _)| name == "file") {
            None => Err(AppError::invalid("file", "no_file", "请选择要导入的 CSV 或 Excel(.xlsx)文件。")),
            Some((_, f)) => app
                .import_catalog_by(&c.who, &f.file_name, &f.bytes)
                .await
                .map(|r| said(format!("已导入“{}”:{}。", f.file_name, r.summary()))),
        },
    };
    outcome(&app, &c, &FormData::parse(b""), result).await
}

/// `GET /console/catalog/template.xlsx`: the import template with its 说明 sheet (as `hcp catalog template`).
pub async fn template(c: Console) -> PageResult {
    gate(&c)?;
    let bytes = hcp_app::catalog_import::template_xlsx().map_err(|e| {
        AppError::Internal(hcp_store::StoreError::Corrupt(format!("the import template could not be written: {e}")))
    })?;
    Ok(crate::controllers::download::xlsx_download("基础信息导入模板.xlsx", bytes))
}

/// `POST /console/catalog/devices`: registers a hall device; its address is shown once.
pub async fn add_device(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> PageResult {
    gate(&c)?;
    let result =
        app.add_device(&c.who, form.get("code"), form.get("name"), form.get("window")).await.map(|(d, url)| {
            let text = format!(
                "已登记评价器“{}”({})。请在评价器的浏览器中打开下面的地址(只显示这一次,请勿外传):",
                d.code, d.window_name
            );
            device_address(&text, &url)
        });
    outcome(&app, &c, &form, result).await
}

/// `POST /console/catalog/platforms`: registers a platform run by an organization in scope.
pub async fn add_platform(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> PageResult {
    gate(&c)?;
    let result = app
        .add_platform(&c.who, form.get("code"), form.get("name"), form.get("org"))
        .await
        .map(|p| said(format!("已登记平台“{}”({})。", p.name, p.code)));
    outcome(&app, &c, &form, result).await
}

/// `POST /console/catalog/devices/revoke`
pub async fn revoke_device(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> PageResult {
    gate(&c)?;
    let code = form.get("code");
    match app.stop_device(&c.who, code).await.map(|()| said(format!("已停用评价器“{code}”。"))) {
        Err(e @ AppError::NotFound { .. }) => Err(e.into()),
        r => outcome(&app, &c, &form, r).await,
    }
}

/// `POST /console/catalog/devices/reactivate`: a stopped device back in use under a new address, shown once (the
/// old one stays dead, in case the device was stopped because it was lost).
pub async fn reactivate_device(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> PageResult {
    gate(&c)?;
    let result = app.restart_device(&c.who, form.get("code")).await.map(|(d, url)| {
        let text = format!(
            "已重新启用评价器“{}”({})。原地址已失效;请在评价器的浏览器中打开新地址(只显示这一次,请勿外传):",
            d.code, d.window_name
        );
        device_address(&text, &url)
    });
    match result {
        Err(e @ AppError::NotFound { .. }) => Err(e.into()),
        r => outcome(&app, &c, &form, r).await,
    }
}

/// `POST /console/catalog/accounts`
pub async fn add_account(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> PageResult {
    gate(&c)?;
    let staff = Some(form.get("staff").trim()).filter(|s| !s.is_empty());
    let result = app
        .add_account(
            &c.who,
            form.get("username"),
            form.get("display_name"),
            form.get("password"),
            form.get("role"),
            form.get("org"),
            staff,
        )
        .await
        .map(|_| {
            said(format!("已创建账号“{}”。请把初始密码当面告知本人,首次登录后修改。", form.get("username").trim()))
        });
    outcome(&app, &c, &form, result).await
}

/// `POST /console/catalog/passwords`: a new password for an account in scope, which also lifts a lock.
pub async fn reset_password(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> PageResult {
    gate(&c)?;
    let username = form.get("username").trim().to_string();
    let result = app.reset_password_by(&c.who, &username, form.get("password")).await.map(|()| {
        said(format!("已重置账号“{username}”的密码并解除锁定,其已登录的会话均已退出。请把新密码当面告知本人。"))
    });
    outcome(&app, &c, &form, result).await
}

/// `POST /console/catalog/accounts/state`: disables an account (sessions end at once) or enables it again.
pub async fn account_state_change(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> PageResult {
    gate(&c)?;
    let username = form.get("username").trim().to_string();
    let result = match form.get("action") {
        "disable" => app
            .set_account_enabled_by(&c.who, &username, false)
            .await
            .map(|()| said(format!("已停用账号“{username}”,其已登录的会话均已退出。"))),
        "enable" => app
            .set_account_enabled_by(&c.who, &username, true)
            .await
            .map(|()| said(format!("已启用账号“{username}”。"))),
        _ => Err(AppError::invalid("action", "invalid_action", "请选择停用或启用。")),
    };
    outcome(&app, &c, &form, result).await
}
