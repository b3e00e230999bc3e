//! `/console/catalog`: what the center administers — organizations, halls, windows (with their QR posters),
//! staff, service items, hall devices and accounts — and the forms that add them (issue 6 §3).

use super::CsrfForm;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hcp_app::catalog_admin::{CatalogForm, CatalogKind, CatalogOverview};
use hcp_app::policy::{Action, Role};
use hcp_app::{App, AppError};
use hcp_domain::catalog::{HallKind, OrgKind, WindowKind};
use hcp_domain::{Category, Violation};
use serde::Deserialize;

use super::results::options;
use super::{Console, FormData, console_page, csrf_field, csrf_refusal};
use crate::pages::layout::{error_page, esc};

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

/// One list of the catalog: the rows matching the search (by their first two cells: code and name), one page of
/// them, and links to the other pages that keep the search.
fn section(key: &str, title: &str, head: &[&str], rows: Vec<Vec<String>>, view: &ListQuery, open: bool) -> String {
    let needle = esc(view.q.trim()).to_lowercase();
    let total = rows.len();
    let matching: Vec<Vec<String>> = rows
        .into_iter()
        .filter(|r| needle.is_empty() || r.iter().take(2).any(|c| c.to_lowercase().contains(&needle)))
        .collect();
    let pages = matching.len().div_ceil(PAGE_ROWS).max(1);
    let page = view.page(key).min(pages);
    let th: String = head.iter().map(|h| format!("<th>{}</th>", esc(h))).collect();
    let body: String = matching
        .iter()
        .skip((page - 1) * PAGE_ROWS)
        .take(PAGE_ROWS)
        .map(|r| format!("<tr>{}</tr>", r.iter().map(|c| format!("<td>{c}</td>")).collect::<String>()))
        .collect();
    let link = |p: usize, text: &str| {
        let q: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("q", view.q.trim())
            .append_pair(&format!("{key}_page"), &p.to_string())
            .finish();
        format!(r#"<a href="/console/catalog?{}#{key}">{text}</a>"#, esc(&q))
    };
    let pager = if pages > 1 {
        let prev = if page > 1 { link(page - 1, "上一页") } else { String::new() };
        let next = if page < pages { link(page + 1, "下一页") } else { String::new() };
        format!(r#"<p class="muted">第 {page}/{pages} 页 {prev} {next}</p>"#)
    } else {
        String::new()
    };
    let count = if needle.is_empty() { total.to_string() } else { format!("{} / {total}", matching.len()) };
    let open = open || (!needle.is_empty() && !matching.is_empty()) || view.pages.contains_key(&format!("{key}_page"));
    format!(
        r#"<details id="{key}"{}><summary><strong>{}</strong>({count})</summary><div class="scroll" tabindex="0"><table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table></div>{pager}</details>"#,
        if open { " open" } else { "" },
        esc(title)
    )
}

fn field(name: &str, label: &str, value: &str) -> String {
    format!(r#"<label>{label} <input name="{name}" value="{}"></label> "#, esc(value))
}

/// An account's state and the button that changes it.
fn account_state(c: &Console, a: &hcp_store::AccountRow) -> String {
    let (state, action, button) = if a.disabled {
        (r#"<span class="late">已停用</span>"#, "enable", "启用")
    } else if a.locked {
        (r#"<span class="late">已锁定</span>"#, "disable", "停用")
    } else {
        ("在用", "disable", "停用")
    };
    format!(
        r#"{state} <form method="post" action="/console/catalog/accounts/state" class="inline">{}<input type="hidden" name="username" value="{}"><input type="hidden" name="action" value="{action}"><button type="submit">{button}</button></form>"#,
        csrf_field(c),
        esc(&a.username)
    )
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
fn add_forms(c: &Console, f: &FormData) -> String {
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
    let mut out = String::new();
    for (what, title, inputs) in forms {
        let typed = |name: &str| if f.get("what") == what { f.get(name).to_string() } else { String::new() };
        let fields: String = inputs
            .iter()
            .map(|input| match input {
                // Personal data is never echoed back into a page.
                Text(name @ ("mobile" | "id_number"), label) => field(name, label, ""),
                Text(name, label) => field(name, label, &typed(name)),
                Choice(name, label, options) => {
                    let chosen = typed(name);
                    let opts: String = options
                        .iter()
                        .map(|(code, text)| {
                            let sel = if *code == chosen { " selected" } else { "" };
                            format!(r#"<option value="{code}"{sel}>{text}</option>"#)
                        })
                        .collect();
                    format!(r#"<label>{label} <select name="{name}">{opts}</select></label> "#)
                }
            })
            .collect();
        out.push_str(&format!(
            r#"<form method="post" action="/console/catalog" class="filters">{csrf}<input type="hidden" name="what" value="{what}"><strong>新增{title}</strong> {fields}<button type="submit">添加</button></form>
"#,
            csrf = csrf_field(c),
        ));
    }
    out
}

/// A name, marked when the entry is retired.
fn named(name: &str, retired: bool) -> String {
    if retired { format!(r#"{} <small class="late">(已停用)</small>"#, esc(name)) } else { esc(name) }
}

fn page_html(
    c: &Console,
    o: &CatalogOverview,
    f: &FormData,
    notice: &str,
    view: &ListQuery,
    retired: &hcp_app::lifecycle::Retired,
) -> String {
    let orgs = (
        &["代码", "名称", "类型", "上级", "统一社会信用代码", "行政区划代码"],
        o.orgs
            .iter()
            .map(|x| {
                vec![
                    esc(&x.code),
                    named(&x.name, retired.orgs.contains(&x.code)),
                    esc(OrgKind::parse(&x.kind).map(OrgKind::name_zh).unwrap_or("")),
                    esc(x.parent_code.as_deref().unwrap_or("")),
                    esc(x.credit_code.as_deref().unwrap_or("—")),
                    esc(x.area_code.as_deref().unwrap_or("—")),
                ]
            })
            .collect(),
    );
    let halls = (
        &["编码", "名称", "类型", "所属机构"],
        o.halls
            .iter()
            .map(|h| {
                vec![
                    esc(&h.code),
                    named(&h.name, retired.halls.contains(&h.code)),
                    esc(HallKind::parse(&h.kind).map(HallKind::name_zh).unwrap_or("")),
                    esc(&h.org_name),
                ]
            })
            .collect(),
    );
    let windows = (
        &["编码", "名称", "大厅", "所属机构", "评价二维码"],
        o.windows
            .iter()
            .map(|w| {
                vec![
                    esc(&w.code),
                    named(&w.name, retired.windows.contains(&w.code)),
                    esc(&w.hall_name),
                    esc(&w.org_name),
                    format!(r#"<a href="/w/{}/poster">打印</a>"#, esc(&w.code)),
                ]
            })
            .collect(),
    );
    let staff = (
        &["工号", "姓名", "所属机构", "窗口", "手机号/身份证号"],
        o.staff
            .iter()
            .map(|s| {
                let on_file = |b: bool| if b { "已登记" } else { "—" };
                vec![
                    esc(&s.staff_number),
                    named(&s.name, retired.staff.contains(&s.staff_number)),
                    esc(&s.org_name),
                    esc(s.window_name.as_deref().unwrap_or("—")),
                    format!("{} / {}", on_file(s.has_mobile), on_file(s.has_id_number)),
                ]
            })
            .collect(),
    );
    let items = (
        &["编码", "名称", "类别", "机构", "法定/承诺时限", "实施编码", "业务办理项编码"],
        o.items
            .iter()
            .map(|i| {
                vec![
                    esc(&i.code),
                    named(&i.name, retired.items.contains(&i.code)),
                    esc(Category::parse(&i.category).map(Category::name_zh).unwrap_or("")),
                    esc(&i.org_code),
                    format!(
                        "{} / {}",
                        i.legal_limit_days.map(|d| d.to_string()).unwrap_or("—".into()),
                        i.promised_limit_days.map(|d| d.to_string()).unwrap_or("—".into())
                    ),
                    esc(i.implementation_code.as_deref().unwrap_or("—")),
                    esc(i.handle_item_code.as_deref().unwrap_or("—")),
                ]
            })
            .collect(),
    );
    let devices = (
        &["编号", "名称", "窗口", "状态", ""],
        o.devices
            .iter()
            .map(|d| {
                let (path, label) = match d.revoked_at {
                    None => ("revoke", "停用"),
                    Some(_) => ("reactivate", "重新启用(换新地址)"),
                };
                let action = format!(
                    r#"<form method="post" action="/console/catalog/devices/{path}" class="inline">{}<input type="hidden" name="code" value="{}"><button type="submit">{label}</button></form>"#,
                    csrf_field(c),
                    esc(&d.code)
                );
                vec![
                    esc(&d.code),
                    esc(&d.name),
                    format!("{}({})", esc(&d.window_name), esc(&d.window_code)),
                    if d.revoked_at.is_some() { "已停用".into() } else { "在用".into() },
                    action,
                ]
            })
            .collect(),
    );
    let accounts = (
        &["用户名", "姓名", "角色", "机构", ""],
        o.accounts
            .iter()
            .map(|a| {
                vec![
                    esc(&a.username),
                    esc(&a.display_name),
                    esc(Role::parse(&a.role).map(Role::name_zh).unwrap_or("")),
                    esc(&a.org_name),
                    account_state(c, a),
                ]
            })
            .collect(),
    );
    let platforms = (
        &["编码", "名称", "运行机构"],
        o.platforms
            .iter()
            .map(|p| vec![esc(&p.code), esc(&p.name), format!("{}({})", esc(&p.org_name), esc(&p.org_code))])
            .collect(),
    );
    let search = format!(
        r#"<form method="get" action="/console/catalog" class="filters" role="search"><label for="q">查找(编码、工号、用户名或名称)</label> <input id="q" name="q" type="search" value="{}"> <button type="submit">查找</button></form>"#,
        esc(&view.q)
    );
    let roles: String =
        Role::ALL.iter().map(|r| format!(r#"<option value="{}">{}</option>"#, r.as_str(), r.name_zh())).collect();
    format!(
        r#"<h2>基础信息管理</h2>{notice}
{add_forms}
<form method="post" action="/console/catalog/changes" class="filters">{csrf}<strong>修改(留空的项目不变)</strong> <label>类别 <select name="what"><option value="org">机构</option><option value="hall">大厅</option><option value="window">窗口</option><option value="staff">工作人员</option><option value="item">事项</option><option value="platform">平台</option></select></label> {ccode}{cname}<label>大厅/窗口类型 <select name="kind"><option value="">不变</option>{any_kind}</select></label> <label>事项类别 <select name="category"><option value="">不变</option>{categories}</select></label> {corg}{cwindow}{clegal}{cpromised}{ccredit}{carea}{cimpl}{chandle}{cmobile}{cid}<button type="submit">保存修改</button></form>
<form method="post" action="/console/catalog/retirements" class="filters">{csrf}<strong>停用或重新启用</strong>(停用后不能再登记办件、不在选择列表中,历史记录和统计保留) <label>类别 <select name="what"><option value="window">窗口</option><option value="staff">工作人员</option><option value="item">事项</option><option value="hall">大厅</option><option value="org">机构</option></select></label> {rcode}<label>操作 <select name="action"><option value="retire">停用</option><option value="reactivate">重新启用</option></select></label> <button type="submit">确定</button></form>
<form method="post" action="/console/catalog/moves" class="filters">{csrf}<strong>调整机构隶属</strong>(连同其下级、办件和统计一起调整) {mcode}{morg}<button type="submit">调整</button></form>
<form method="post" action="/console/catalog/import" enctype="multipart/form-data" class="filters">{csrf}<strong>从文件导入(CSV 或 Excel)</strong> <label>文件 <input type="file" name="file" accept=".csv,.xlsx"></label> <button type="submit">导入</button> <details><summary>文件格式</summary><p>CSV 文件每个一类(由第一列确定类别),Excel 工作簿每类一张工作表;第一行为表头。全部行无误才导入;重复导入同一文件不会改动;修改过的行更新相应条目(留空的可选项保持不变)。</p><ul>{import_columns}</ul></details></form>
<form method="post" action="/console/catalog/devices" class="filters">{csrf}<strong>登记评价器</strong> {dcode}{dname}{dwindow}<button type="submit">登记</button></form>
<form method="post" action="/console/catalog/platforms" class="filters">{csrf}<strong>登记办理平台</strong>(如政务服务网、移动端应用;办件以平台编码注明经由的平台) {pcode}{pname}{porg}<button type="submit">登记</button></form>
<form method="post" action="/console/catalog/accounts" class="filters">{csrf}<strong>新建账号</strong> {uname}{udisplay}<label>初始密码 <input name="password" type="password" autocomplete="new-password"></label> <label>角色 <select name="role">{roles}</select></label> {uorg}{ustaff}<button type="submit">创建</button></form>
<form method="post" action="/console/catalog/roles" class="filters">{csrf}<strong>账号的角色</strong>(一个账号可有多个角色,各管一个范围) {gname}<label>角色 <select name="role">{roles}</select></label> {gorg}<label>操作 <select name="action"><option value="add">授予</option><option value="remove">撤销</option></select></label> <button type="submit">确定</button></form>
<form method="post" action="/console/catalog/passwords" class="filters">{csrf}<strong>重置密码(并解除锁定)</strong> {rname}<label>新密码 <input name="password" type="password" autocomplete="new-password"></label> <button type="submit">重置</button></form>
{search}{s1}{s2}{s3}{s4}{s5}{s6}{s8}{s7}"#,
        add_forms = add_forms(c, f),
        import_columns = hcp_app::catalog_import::template_headers()
            .iter()
            .map(|(kind, cols)| format!("<li>{}:{}</li>", esc(kind), esc(&cols.join(","))))
            .collect::<String>(),
        csrf = csrf_field(c),
        dcode = field("code", "设备编号", ""),
        dname = field("name", "名称", ""),
        dwindow = field("window", "窗口编码", ""),
        pcode = field("code", "平台编码", ""),
        pname = field("name", "平台名称", ""),
        porg = field("org", "运行机构代码", ""),
        uname = field("username", "用户名", ""),
        rname = field("username", "用户名", ""),
        ccode = field("code", "编码或工号", ""),
        rcode = field("code", "编码或工号", ""),
        mcode = field("code", "机构代码", ""),
        gname = field("username", "用户名", ""),
        gorg = field("org", "机构代码", ""),
        morg = field("org", "新的上级机构代码", ""),
        cname = field("name", "新名称", ""),
        corg = field("org", "工作人员的新机构代码", ""),
        cwindow = field("window", "工作人员的新窗口编码", ""),
        clegal = field("legal_days", "法定时限", ""),
        cpromised = field("promised_days", "承诺时限", ""),
        ccredit = field("credit_code", "机构的统一社会信用代码", ""),
        carea = field("area_code", "机构的行政区划代码", ""),
        cimpl = field("implementation_code", "事项的实施编码", ""),
        chandle = field("handle_item_code", "事项的业务办理项编码", ""),
        cmobile = field("mobile", "工作人员的手机号", ""),
        cid = field("id_number", "工作人员的身份证号", ""),
        any_kind = {
            let halls: String = HallKind::ALL
                .iter()
                .map(|k| format!(r#"<option value="{}">{}</option>"#, k.as_str(), k.name_zh()))
                .collect();
            let windows: String = WindowKind::ALL
                .iter()
                .map(|k| format!(r#"<option value="{}">{}</option>"#, k.as_str(), k.name_zh()))
                .collect();
            format!(r#"<optgroup label="大厅">{halls}</optgroup><optgroup label="窗口">{windows}</optgroup>"#)
        },
        categories = options(Category::ALL, None, Category::as_str, Category::name_zh),
        udisplay = field("display_name", "姓名", ""),
        uorg = field("org", "机构代码", ""),
        ustaff = field("staff", "工号(工作人员填写)", ""),
        s1 = section("orgs", "机构", orgs.0, orgs.1, view, false),
        s2 = section("halls", "大厅", halls.0, halls.1, view, false),
        s3 = section("windows", "窗口", windows.0, windows.1, view, false),
        s4 = section("staff", "工作人员", staff.0, staff.1, view, false),
        s5 = section("items", "事项", items.0, items.1, view, false),
        s6 = section("devices", "评价器", devices.0, devices.1, view, true),
        s8 = section("platforms", "办理平台", platforms.0, platforms.1, view, false),
        s7 = section("accounts", "账号", accounts.0, accounts.1, view, false),
    )
}

async fn render(app: &App, c: &Console, status: StatusCode, form: &FormData, notice: &str) -> Response {
    render_view(app, c, status, form, notice, &ListQuery::default()).await
}

async fn render_view(
    app: &App,
    c: &Console,
    status: StatusCode,
    form: &FormData,
    notice: &str,
    view: &ListQuery,
) -> Response {
    let overview = async { Ok::<_, AppError>((app.catalog_overview(&c.who).await?, app.retired().await?)) }.await;
    match overview {
        Ok((o, retired)) => console_page(c, status, "基础信息管理", &page_html(c, &o, form, notice, view, &retired)),
        Err(e) => error_page(&e),
    }
}

/// 403 for anyone who administers no part of the catalog.
fn gate(c: &Console) -> Option<Response> {
    (!c.who.may(Action::ManageCatalog, None)).then(|| error_page(&AppError::Forbidden))
}

fn alert(e: &AppError) -> String {
    let items: String = match e {
        AppError::Invalid(vs) => vs.iter().map(|v: &Violation| format!("<li>{}</li>", esc(&v.message))).collect(),
        other => format!("<li>{}</li>", esc(&other.message())),
    };
    format!(r#"<div class="alert" role="alert"><p>未能保存:</p><ul>{items}</ul></div>"#)
}

/// What an outcome shows: a notice on success, the form again with the reasons otherwise.
async fn outcome(app: &App, c: &Console, form: &FormData, result: Result<String, AppError>) -> Response {
    match result {
        Ok(notice) => {
            render(
                app,
                c,
                StatusCode::OK,
                &FormData::parse(b""),
                &format!(r#"<p class="notice" role="status">{notice}</p>"#),
            )
            .await
        }
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. })) => {
            render(app, c, crate::error::status_of(&e), form, &alert(&e)).await
        }
        Err(e) => error_page(&e),
    }
}

/// `GET /console/catalog?q=&staff_page=`: the forms and the lists, searched and paged.
pub async fn show(State(app): State<App>, c: Console, Query(view): Query<ListQuery>) -> Response {
    if let Some(r) = gate(&c) {
        return r;
    }
    render_view(&app, &c, StatusCode::OK, &FormData::parse(b""), "", &view).await
}

/// `POST /console/catalog`: adds one organization, hall, window, staff member or item.
pub async fn add(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> Response {
    if let Some(r) = gate(&c) {
        return r;
    }
    let result = match CatalogKind::parse(form.get("what")) {
        None => Err(AppError::invalid("what", "invalid_kind", "请选择要新增的类别。")),
        Some(kind) => {
            let f = catalog_form(&form);
            app.add_to_catalog(&c.who, kind, &f).await.map(|code| format!("已新增{}“{}”。", kind.name_zh(), esc(&code)))
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
pub async fn retire(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> Response {
    if let Some(r) = gate(&c) {
        return r;
    }
    let result = match (CatalogKind::parse(form.get("what")), form.get("action")) {
        (None, _) => Err(AppError::invalid("what", "invalid_kind", "请选择要停用或启用的类别。")),
        (Some(kind), action @ ("retire" | "reactivate")) => {
            app.set_catalog_retired(&c.who, kind, form.get("code"), action == "retire").await.map(|m| esc(&m))
        }
        _ => Err(AppError::invalid("action", "invalid_action", "请选择“停用”或“重新启用”。")),
    };
    outcome(&app, &c, &form, result).await
}

/// `POST /console/catalog/moves`: moves an organization (and its subtree) under another parent.
pub async fn move_org(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> Response {
    if let Some(r) = gate(&c) {
        return r;
    }
    let result = app.move_org(&c.who, form.get("code"), form.get("org")).await.map(|m| esc(&m));
    outcome(&app, &c, &form, result).await
}

/// `POST /console/catalog/roles`: gives an account another role, or takes one away.
pub async fn account_role(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> Response {
    if let Some(r) = gate(&c) {
        return r;
    }
    let add = form.get("action") != "remove";
    let result = app
        .change_account_role(&c.who, form.get("username"), form.get("role"), form.get("org"), add)
        .await
        .map(|m| esc(&m));
    outcome(&app, &c, &form, result).await
}

/// `POST /console/catalog/changes`: changes the fields given of one entry.
pub async fn change(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> Response {
    if let Some(r) = gate(&c) {
        return r;
    }
    let result = match CatalogKind::parse(form.get("what")) {
        None => Err(AppError::invalid("what", "invalid_kind", "请选择要修改的类别。")),
        Some(kind) => app
            .change_catalog(&c.who, kind, &catalog_form(&form))
            .await
            .map(|code| format!("已修改{}“{}”。", kind.name_zh(), esc(&code))),
    };
    outcome(&app, &c, &form, result).await
}

/// `POST /console/catalog/import` (multipart): a CSV file or an .xlsx workbook, all or nothing, every bad line
/// listed.
pub async fn import(
    State(app): State<App>,
    c: Console,
    m: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    if let Some(r) = gate(&c) {
        return r;
    }
    let posted = match super::cases::read_multipart(m).await {
        Ok(p) => p,
        Err(e) => return outcome(&app, &c, &FormData::parse(b""), Err(e)).await,
    };
    if let Some(r) = csrf_refusal(&c, &posted.form) {
        return r;
    }
    let result = match posted.files.iter().find(|(name, _)| name == "file") {
        None => Err(AppError::invalid("file", "no_file", "请选择要导入的 CSV 或 Excel(.xlsx)文件。")),
        Some((_, f)) => app
            .import_catalog_by(&c.who, &f.file_name, &f.bytes)
            .await
            .map(|r| format!("已导入“{}”:{}。", esc(&f.file_name), esc(&r.summary()))),
    };
    outcome(&app, &c, &FormData::parse(b""), result).await
}

/// `POST /console/catalog/devices`: registers a hall device; its address is shown once.
pub async fn add_device(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> Response {
    if let Some(r) = gate(&c) {
        return r;
    }
    let result =
        app.add_device(&c.who, form.get("code"), form.get("name"), form.get("window")).await.map(|(d, url)| {
            format!(
                "已登记评价器“{}”({})。请在评价器的浏览器中打开下面的地址(只显示这一次,请勿外传):<br><code>{}</code>",
                esc(&d.code),
                esc(&d.window_name),
                esc(&url)
            )
        });
    outcome(&app, &c, &form, result).await
}

/// `POST /console/catalog/platforms`: registers a platform run by an organization in scope.
pub async fn add_platform(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> Response {
    if let Some(r) = gate(&c) {
        return r;
    }
    let result = app
        .add_platform(&c.who, form.get("code"), form.get("name"), form.get("org"))
        .await
        .map(|p| format!("已登记平台“{}”({})。", esc(&p.name), esc(&p.code)));
    outcome(&app, &c, &form, result).await
}

/// `POST /console/catalog/devices/revoke`
pub async fn revoke_device(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> Response {
    if let Some(r) = gate(&c) {
        return r;
    }
    let code = form.get("code");
    let result = app.stop_device(&c.who, code).await.map(|()| format!("已停用评价器“{}”。", esc(code)));
    match result {
        Err(e @ AppError::NotFound { .. }) => error_page(&e),
        r => outcome(&app, &c, &form, r).await,
    }
}

/// `POST /console/catalog/devices/reactivate`: a stopped device back in use under a new address, shown once (the
/// old one stays dead, in case the device was stopped because it was lost).
pub async fn reactivate_device(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> Response {
    if let Some(r) = gate(&c) {
        return r;
    }
    let result = app.restart_device(&c.who, form.get("code")).await.map(|(d, url)| {
        format!(
            "已重新启用评价器“{}”({})。原地址已失效;请在评价器的浏览器中打开新地址(只显示这一次,请勿外传):<br><code>{}</code>",
            esc(&d.code),
            esc(&d.window_name),
            esc(&url)
        )
    });
    match result {
        Err(e @ AppError::NotFound { .. }) => error_page(&e),
        r => outcome(&app, &c, &form, r).await,
    }
}

/// `POST /console/catalog/accounts`
pub async fn add_account(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> Response {
    if let Some(r) = gate(&c) {
        return r;
    }
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
            format!("已创建账号“{}”。请把初始密码当面告知本人,首次登录后修改。", esc(form.get("username").trim()))
        });
    outcome(&app, &c, &form, result).await
}

/// `POST /console/catalog/passwords`: a new password for an account in scope, which also lifts a lock.
pub async fn reset_password(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> Response {
    if let Some(r) = gate(&c) {
        return r;
    }
    let username = form.get("username").trim().to_string();
    let result = app.reset_password_by(&c.who, &username, form.get("password")).await.map(|()| {
        format!("已重置账号“{}”的密码并解除锁定,其已登录的会话均已退出。请把新密码当面告知本人。", esc(&username))
    });
    outcome(&app, &c, &form, result).await
}

/// `POST /console/catalog/accounts/state`: disables an account (sessions end at once) or enables it again.
pub async fn account_state_change(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> Response {
    if let Some(r) = gate(&c) {
        return r;
    }
    let username = form.get("username").trim().to_string();
    let result = match form.get("action") {
        "disable" => app
            .set_account_enabled_by(&c.who, &username, false)
            .await
            .map(|()| format!("已停用账号“{}”,其已登录的会话均已退出。", esc(&username))),
        "enable" => app
            .set_account_enabled_by(&c.who, &username, true)
            .await
            .map(|()| format!("已启用账号“{}”。", esc(&username))),
        _ => Err(AppError::invalid("action", "invalid_action", "请选择停用或启用。")),
    };
    outcome(&app, &c, &form, result).await
}
