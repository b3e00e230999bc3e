//! The console for people with accounts (issue 4). Every route is listed in [`routes`] with the policy
//! action it needs, and the test matrix (`tests/api/policy.rs`) runs every role against that same list, so a
//! route added here without an entry in the matrix fails the tests.

pub mod appeals;
pub mod audit;
pub mod calendar;
pub mod cases;
pub mod catalog;
pub mod dashboard;
pub mod evaluations;
pub mod exchange;
pub mod home;
pub mod inspections;
pub mod integrity;
pub mod login;
pub mod outbox;
pub mod password;
pub mod pickers;
pub mod records;
pub mod referrals;
pub mod results;
pub mod upload;

use std::collections::HashMap;

use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use hcp_app::App;
use hcp_app::policy::Principal;

use maud::{Markup, html};

use crate::html::{Frame, page, page_in};

pub const SESSION_COOKIE: &str = "hcp_session";

/// Forms with files: five files of 5 MB and the text fields.
const UPLOAD_LIMIT: usize = hcp_app::attachments::MAX_EVIDENCE * hcp_app::attachments::MAX_BYTES + 64 * 1024;

/// A console route: method, path, handler.
pub struct ConsoleRoute {
    pub method: &'static str,
    pub path: &'static str,
    pub router: MethodRouter<App>,
}

/// Every console route. The router is built from this list and the policy matrix test reads it.
pub fn routes() -> Vec<ConsoleRoute> {
    vec![
        ConsoleRoute { method: "GET", path: "/console", router: get(home::show) },
        ConsoleRoute { method: "GET", path: "/console/records", router: get(records::search_form) },
        ConsoleRoute { method: "POST", path: "/console/records", router: post(records::search) },
        ConsoleRoute { method: "GET", path: "/console/records/{id}", router: get(records::show) },
        ConsoleRoute { method: "POST", path: "/console/records/{id}/reveal", router: post(records::reveal) },
        ConsoleRoute {
            method: "POST",
            path: "/console/records/{id}/hotline-evaluation",
            router: post(records::hotline_evaluation),
        },
        ConsoleRoute { method: "GET", path: "/console/evaluations", router: get(evaluations::list) },
        ConsoleRoute { method: "GET", path: "/console/evaluations/{id}", router: get(evaluations::show) },
        ConsoleRoute { method: "GET", path: "/console/cases", router: get(cases::inbox) },
        ConsoleRoute { method: "GET", path: "/console/cases/{id}", router: get(cases::show) },
        ConsoleRoute { method: "POST", path: "/console/cases/{id}/steps", router: post(cases::step) },
        ConsoleRoute {
            method: "POST",
            path: "/console/cases/{id}/attachments",
            router: post(cases::attach).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        },
        ConsoleRoute {
            method: "GET",
            path: "/console/cases/{id}/attachments/{attachment}",
            router: get(cases::attachment),
        },
        ConsoleRoute {
            method: "POST",
            path: "/console/cases/{id}/appeal",
            router: post(cases::appeal).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        },
        ConsoleRoute { method: "GET", path: "/console/appeals", router: get(appeals::queue) },
        ConsoleRoute { method: "GET", path: "/console/appeals/{id}", router: get(appeals::show) },
        ConsoleRoute { method: "POST", path: "/console/appeals/{id}/decision", router: post(appeals::decide) },
        ConsoleRoute { method: "POST", path: "/console/appeals/{id}/withdraw", router: post(appeals::withdraw) },
        ConsoleRoute {
            method: "GET",
            path: "/console/appeals/{id}/evidence/{evidence}",
            router: get(appeals::evidence),
        },
        ConsoleRoute { method: "GET", path: "/console/filing-register", router: get(appeals::register) },
        ConsoleRoute { method: "GET", path: "/console/outbox", router: get(outbox::show) },
        ConsoleRoute { method: "GET", path: "/console/exchange", router: get(exchange::show) },
        ConsoleRoute { method: "POST", path: "/console/exchange/resend", router: post(exchange::resend) },
        ConsoleRoute { method: "GET", path: "/console/dashboard", router: get(dashboard::show) },
        ConsoleRoute { method: "GET", path: "/console/stats", router: get(results::stats) },
        ConsoleRoute { method: "GET", path: "/console/rankings", router: get(results::rankings) },
        ConsoleRoute { method: "GET", path: "/console/reports", router: get(results::reports) },
        ConsoleRoute { method: "POST", path: "/console/reports", router: post(results::generate) },
        ConsoleRoute { method: "GET", path: "/console/reports/{id}", router: get(results::report) },
        ConsoleRoute { method: "POST", path: "/console/reports/{id}/publish", router: post(results::publish) },
        ConsoleRoute { method: "GET", path: "/console/orders", router: get(results::orders) },
        ConsoleRoute { method: "GET", path: "/console/orders/{id}", router: get(results::order) },
        ConsoleRoute { method: "POST", path: "/console/orders/{id}/answer", router: post(results::answer) },
        ConsoleRoute { method: "POST", path: "/console/orders/{id}/review", router: post(results::review) },
        ConsoleRoute { method: "GET", path: "/console/assessment", router: get(results::assessment) },
        ConsoleRoute { method: "GET", path: "/console/catalog", router: get(catalog::show) },
        ConsoleRoute { method: "POST", path: "/console/catalog", router: post(catalog::add) },
        ConsoleRoute { method: "POST", path: "/console/catalog/changes", router: post(catalog::change) },
        ConsoleRoute { method: "POST", path: "/console/catalog/retirements", router: post(catalog::retire) },
        ConsoleRoute { method: "POST", path: "/console/catalog/moves", router: post(catalog::move_org) },
        ConsoleRoute { method: "POST", path: "/console/catalog/roles", router: post(catalog::account_role) },
        ConsoleRoute { method: "POST", path: "/console/catalog/import", router: post(catalog::import) },
        ConsoleRoute { method: "GET", path: "/console/catalog/template.xlsx", router: get(catalog::template) },
        ConsoleRoute { method: "POST", path: "/console/catalog/devices", router: post(catalog::add_device) },
        ConsoleRoute { method: "POST", path: "/console/catalog/platforms", router: post(catalog::add_platform) },
        ConsoleRoute { method: "POST", path: "/console/catalog/devices/revoke", router: post(catalog::revoke_device) },
        ConsoleRoute {
            method: "POST",
            path: "/console/catalog/devices/reactivate",
            router: post(catalog::reactivate_device),
        },
        ConsoleRoute { method: "POST", path: "/console/catalog/accounts", router: post(catalog::add_account) },
        ConsoleRoute {
            method: "POST",
            path: "/console/catalog/accounts/state",
            router: post(catalog::account_state_change),
        },
        ConsoleRoute { method: "POST", path: "/console/catalog/passwords", router: post(catalog::reset_password) },
        ConsoleRoute { method: "GET", path: "/console/audit", router: get(audit::show) },
        ConsoleRoute { method: "GET", path: "/console/integrity", router: get(integrity::list) },
        ConsoleRoute { method: "GET", path: "/console/integrity/{id}", router: get(integrity::show) },
        ConsoleRoute {
            method: "POST",
            path: "/console/integrity/{id}/investigation",
            router: post(integrity::investigate),
        },
        ConsoleRoute { method: "POST", path: "/console/integrity/{id}/conclusion", router: post(integrity::conclude) },
        ConsoleRoute { method: "POST", path: "/console/integrity/{id}/confirmation", router: post(integrity::confirm) },
        ConsoleRoute { method: "GET", path: "/console/referrals", router: get(referrals::list) },
        ConsoleRoute { method: "POST", path: "/console/referrals", router: post(referrals::create) },
        ConsoleRoute { method: "GET", path: "/console/referrals/new", router: get(referrals::new) },
        ConsoleRoute { method: "POST", path: "/console/referrals/{id}/outcome", router: post(referrals::outcome) },
        ConsoleRoute { method: "GET", path: "/console/inspections", router: get(inspections::list) },
        ConsoleRoute { method: "POST", path: "/console/inspections", router: post(inspections::plan) },
        ConsoleRoute { method: "GET", path: "/console/inspections/{id}", router: get(inspections::show) },
        ConsoleRoute {
            method: "POST",
            path: "/console/inspections/{id}/evaluations",
            router: post(inspections::record).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        },
        ConsoleRoute {
            method: "GET",
            path: "/console/inspections/{id}/photos/{photo}",
            router: get(inspections::photo),
        },
        ConsoleRoute { method: "GET", path: "/console/calendar", router: get(calendar::show) },
        ConsoleRoute { method: "POST", path: "/console/calendar", router: post(calendar::import) },
        ConsoleRoute { method: "GET", path: "/console/password", router: get(password::show) },
        ConsoleRoute { method: "POST", path: "/console/password", router: post(password::change) },
        ConsoleRoute { method: "POST", path: "/logout", router: post(login::logout) },
    ]
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

/// A logged-in person on a console page. Without a live session: a redirect to the login page.
pub struct Console {
    pub who: Principal,
    pub csrf: String,
    pub cookie: String,
}

impl FromRequestParts<App> for Console {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let to_login = || Redirect::to("/login").into_response();
        let Some(cookie) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_login());
        };
        match app.session(&cookie).await {
            Ok(Some(s)) => Ok(Console { who: s.principal, csrf: s.csrf, cookie }),
            Ok(None) => Err(to_login()),
            Err(e) => Err(crate::html::error_page(&e)),
        }
    }
}

/// Forbidden unless the person may do one of these actions somewhere: a page's first check, before any read.
pub fn gate(c: &Console, actions: &[hcp_app::policy::Action]) -> Result<(), hcp_app::AppError> {
    if actions.iter().any(|a| c.who.may(*a, None)) { Ok(()) } else { Err(hcp_app::AppError::Forbidden) }
}

/// A submitted form: every value of every field.
pub struct FormData(HashMap<String, Vec<String>>);

impl FormData {
    pub fn parse(body: &[u8]) -> FormData {
        let mut m: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in form_urlencoded::parse(body) {
            m.entry(k.into_owned()).or_default().push(v.into_owned());
        }
        FormData(m)
    }

    pub fn get(&self, k: &str) -> &str {
        self.0.get(k).and_then(|v| v.first()).map(String::as_str).unwrap_or("")
    }

    pub fn all(&self, k: &str) -> Vec<String> {
        self.0.get(k).cloned().unwrap_or_default()
    }

    /// Replaces a field's value (a typed name resolved to its code).
    pub fn set(&mut self, k: &str, v: &str) {
        self.0.insert(k.to_string(), vec![v.to_string()]);
    }
}

/// Every console form carries the session's CSRF token; a form without it is refused (403).
/// `Some(refusal)` when the token is missing or wrong.
fn csrf_refusal(c: &Console, form: &FormData) -> Option<Response> {
    let sent = form.get("csrf");
    if !sent.is_empty() && hcp_app::secrets::same(sent.as_bytes(), c.csrf.as_bytes()) {
        return None;
    }
    let body = html! {
        h2 { "请求无效" }
        p.notice { "页面已过期或来源不明(CSRF 校验未通过)。请返回重新打开页面后再提交。" }
    };
    Some(page(StatusCode::FORBIDDEN, "请求无效", body))
}

/// A submitted console form whose CSRF token has been checked: a handler that takes its form this way cannot
/// forget the check (a form without the token is answered 403 before the handler runs). Forms with files
/// have [`upload::CsrfMultipart`].
pub struct CsrfForm {
    pub console: Console,
    pub form: FormData,
}

impl FromRequest<App> for CsrfForm {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, app: &App) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let console = Console::from_request_parts(&mut parts, app).await?;
        let req = axum::extract::Request::from_parts(parts, body);
        let body = axum::body::Bytes::from_request(req, app).await.map_err(IntoResponse::into_response)?;
        let form = FormData::parse(&body);
        match csrf_refusal(&console, &form) {
            Some(refusal) => Err(refusal),
            None => Ok(CsrfForm { console, form }),
        }
    }
}

/// The hidden field every form carries.
pub fn csrf_field(c: &Console) -> Markup {
    crate::html::csrf_field(&c.csrf)
}

/// The console's main places, each shown to whoever may use it.
const MENU: [(hcp_app::policy::Action, &str, &str); 11] = {
    use hcp_app::policy::Action::*;
    [
        (ViewRecords, "/console/records", "查找办件"),
        (ViewRecords, "/console/evaluations", "评价查询"),
        (ViewRecords, "/console/cases", "差评工单"),
        (ViewRecords, "/console/appeals", "申诉"),
        (ViewStats, "/console/dashboard", "数据看板"),
        (ViewStats, "/console/stats", "统计分析"),
        (ManageCatalog, "/console/catalog", "基础信息"),
        (ViewIntegrity, "/console/integrity", "真实性线索"),
        (ViewReferrals, "/console/referrals", "线索移交"),
        (ViewInspections, "/console/inspections", "调查暗访"),
        (ViewAudit, "/console/audit", "审计日志"),
    ]
};

/// A console page: the person, the menu, a logout button, the body.
pub fn console_page(c: &Console, status: StatusCode, title: &str, body: Markup) -> Response {
    let roles: Vec<String> = c.who.bindings.iter().map(|b| format!("{}({})", b.role.name_zh(), b.org_name)).collect();
    let frame = html! {
        nav.muted aria-label="工作台" {
            (c.who.display_name) " · " (roles.join("、")) br;
            a href="/console" { "首页" }
            @for (action, href, text) in &MENU {
                @if c.who.may(*action, None) { " · " a href=(href) { (text) } }
            }
            " · " a href="/console/password" { "修改密码" }
            form.inline method="post" action="/logout" { (csrf_field(c)) button type="submit" { "退出" } }
        }
        (body)
    };
    page_in(status, title, frame, Frame { wide: true, staff: true, ..Frame::default() })
}
