//! Finding and reading records, revealing a contact for a duty, recording a caller's evaluation.

use super::CsrfForm;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use hcp_app::evaluations::EvaluationInput;
use hcp_app::hotline::HotlineOutcome;
use hcp_app::reveal::{RevealAccess, RevealPurpose, RevealRequest};
use hcp_app::views::RecordView;
use hcp_app::{App, AppError};
use hcp_domain::Level;
use hcp_domain::calendar::display_cst;

use super::{Console, FormData, console_page, csrf_field, csrf_refusal};
use crate::pages::layout::{error_page, esc};

fn row(r: &RecordView) -> String {
    let evaluation = r
        .evaluation
        .as_ref()
        .map(|e| format!("{}{}", e.level_name, if e.is_default { "(默认)" } else { "" }))
        .unwrap_or_else(|| "未评价".into());
    format!(
        r#"<tr><td><a href="/console/records/{id}">{number}</a></td><td>{item}</td><td>{org}</td><td>{name}</td><td>{mobile}</td><td>{evaluation}</td></tr>"#,
        id = r.id,
        number = esc(&r.record_number),
        item = esc(&r.item.name),
        org = esc(&r.org.name),
        name = esc(&r.applicant.name),
        mobile = esc(&r.applicant.mobile),
        evaluation = esc(&evaluation),
    )
}

/// `GET /console/records`: the search form.
pub async fn search_form(State(app): State<App>, c: Console) -> Response {
    search_page(&app, &c, "", "").await
}

/// `POST /console/records`: a search. By POST, so a mobile number never appears in a URL or a log.
pub async fn search(State(app): State<App>, CsrfForm { console: c, form }: CsrfForm) -> Response {
    search_page(&app, &c, form.get("mobile"), form.get("record_number")).await
}

async fn search_page(app: &App, c: &Console, mobile: &str, record_number: &str) -> Response {
    let found = match app.find_records(&c.who, mobile, record_number).await {
        Ok(f) => f,
        Err(e) => return error_page(&e),
    };
    let rows: String = found.iter().map(row).collect();
    let result = if mobile.is_empty() && record_number.is_empty() {
        String::new()
    } else if found.is_empty() {
        r#"<p class="notice" role="status">没有找到符合条件的办件。</p>"#.to_string()
    } else {
        format!(
            r#"<table><thead><tr><th>办件编号</th><th>事项</th><th>机构</th><th>申请人</th><th>手机</th><th>评价</th></tr></thead><tbody>{rows}</tbody></table>"#
        )
    };
    let body = format!(
        r#"<h2>查找办件</h2>
<form method="post" action="/console/records">{csrf}
<p><label for="mobile">申请人手机号</label><br><input id="mobile" name="mobile" value="{m}" inputmode="numeric"></p>
<p><label for="record_number">或办件编号</label><br><input id="record_number" name="record_number" value="{n}"></p>
<button type="submit" class="primary">查找</button>
</form>{result}"#,
        m = esc(mobile),
        n = esc(record_number),
        csrf = csrf_field(c),
    );
    console_page(c, StatusCode::OK, "查找办件", &body)
}

fn record_id(raw: &str) -> Result<i64, AppError> {
    raw.parse::<i64>().map_err(|_| AppError::not_found("record_not_found", format!("办件“{raw}”不存在。")))
}

/// A form posted about one record: its CSRF token checked and the record id parsed, or the page to answer.
fn posted(c: &Console, body: &[u8], raw_id: &str) -> Result<(FormData, i64), Box<Response>> {
    let form = FormData::parse(body);
    if let Some(r) = csrf_refusal(c, &form) {
        return Err(Box::new(r));
    }
    let id = record_id(raw_id).map_err(|e| Box::new(error_page(&e)))?;
    Ok((form, id))
}

fn detail(app_page: &hcp_app::console::RecordPage, c: &Console, extra: &str) -> String {
    let r = &app_page.view;
    let evaluation = match &r.evaluation {
        Some(e) => format!(
            "{}({}{},{})",
            e.level_name,
            e.channel,
            if e.is_default { ",默认" } else { "" },
            display_cst(e.created_at)
        ),
        None => "未评价".into(),
    };
    let mut body = format!(
        r#"<h2>办件 {number}</h2>
<dl class="facts"><dt>事项</dt><dd>{item}</dd><dt>机构</dt><dd>{org}</dd><dt>申请人</dt><dd>{name}</dd>
<dt>证件号码</dt><dd>{idn}</dd><dt>手机</dt><dd>{mobile}</dd><dt>评价</dt><dd>{evaluation}</dd></dl>{extra}"#,
        number = esc(&r.record_number),
        item = esc(&r.item.name),
        org = esc(&r.org.name),
        name = esc(&r.applicant.name),
        idn = esc(&r.applicant.id_number),
        mobile = esc(&r.applicant.mobile),
        evaluation = esc(&evaluation),
    );
    let ticket_field = r#"<p><label for="ticket_number">本次来电的12345工单编号</label><br><input id="ticket_number" name="ticket_number" required maxlength="40" autocomplete="off"></p>"#;
    let reveal_form = |why: &str, ticket: &str| {
        format!(
            r#"<form method="post" action="/console/records/{id}/reveal">{csrf}<p class="hint">{why}</p>{ticket}
<p><label for="reason">查看完整联系方式的原因(将被记录)</label><br><input id="reason" name="reason" required></p>
<button type="submit">查看完整信息</button></form>"#,
            id = r.id,
            csrf = csrf_field(c),
            why = esc(why),
        )
    };
    match &app_page.reveal {
        RevealAccess::Case(RevealPurpose::CaseContact { .. }) => {
            body.push_str(&reveal_form(
                "您正在办理该办件的差评工单,可查看评价人联系方式以便联系。每次查看均被记录,每人每天有次数上限。",
                "",
            ));
        }
        RevealAccess::Case(_) => {
            body.push_str(&reveal_form(
                "该差评工单待回访,可查看评价人联系方式以便回访。每次查看均被记录,每人每天有次数上限。",
                "",
            ));
        }
        RevealAccess::OnCall => body.push_str(&reveal_form(
            "仅在接听该办件申请人的来电时查看,并填写本次来电的12345工单编号。每次查看均被记录,每人每天有次数上限。",
            ticket_field,
        )),
        RevealAccess::None => {}
    }
    if app_page.may_rate_by_phone {
        let options: String = Level::ALL
            .iter()
            .map(|l| {
                format!(
                    r#"<label class="choice"><input type="radio" name="level" value="{}" required> {}</label>"#,
                    l.as_str(),
                    l.name_zh()
                )
            })
            .collect();
        body.push_str(&format!(
            r#"<h2>记录来电评价(12345热线)</h2><form method="post" action="/console/records/{id}/hotline-evaluation">{csrf}
<p><label for="hotline_ticket">本次来电的12345工单编号</label><br><input id="hotline_ticket" name="ticket_number" required maxlength="40" autocomplete="off"></p>
<fieldset><legend>来电人的评价</legend>{options}</fieldset>
<p><label for="comment">来电人意见</label><br><textarea id="comment" name="comment" maxlength="500"></textarea></p>
<button type="submit" class="primary">记录评价</button></form>"#,
            id = r.id,
            csrf = csrf_field(c)
        ));
    }
    body
}

/// `GET /console/records/{id}`
pub async fn show(State(app): State<App>, c: Console, Path(id): Path<String>) -> Response {
    let page = match record_id(&id) {
        Ok(id) => app.record_page(&c.who, id).await,
        Err(e) => Err(e),
    };
    match page {
        Ok(p) => console_page(&c, StatusCode::OK, "办件", &detail(&p, &c, "")),
        Err(e) => error_page(&e),
    }
}

/// `POST /console/records/{id}/reveal`: the full data, once, with the reason recorded.
pub async fn reveal(State(app): State<App>, c: Console, Path(id): Path<String>, body: Bytes) -> Response {
    let (form, id) = match posted(&c, &body, &id) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let req =
        RevealRequest { reason: form.get("reason").to_string(), ticket_number: form.get("ticket_number").to_string() };
    match app.reveal_contact(&c.who, id, &req).await {
        Ok(plain) => {
            let body = format!(
                r#"<h2>评价人联系方式</h2><p class="notice" role="status">本次查看已记录(查看人、时间、原因)。请仅用于履行职责,不得提供给第三方。</p>
<dl class="facts"><dt>姓名</dt><dd>{}</dd><dt>证件号码</dt><dd>{}</dd><dt>手机</dt><dd>{}</dd></dl>
<p><a href="/console/records/{id}">返回办件</a></p>"#,
                esc(&plain.name),
                esc(&plain.id_number),
                esc(&plain.mobile)
            );
            let mut res = console_page(&c, StatusCode::OK, "评价人联系方式", &body);
            res.headers_mut()
                .insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => error_page(&e),
    }
}

/// `POST /console/records/{id}/hotline-evaluation`
pub async fn hotline_evaluation(State(app): State<App>, c: Console, Path(id): Path<String>, body: Bytes) -> Response {
    let (form, id) = match posted(&c, &body, &id) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let input = EvaluationInput {
        token: String::new(),
        level: form.get("level").to_string(),
        indicator_ids: form.all("indicator_ids"),
        staff_indicator_ids: form.all("staff_indicator_ids"),
        comment: Some(form.get("comment").to_string()),
        channel: "hotline".into(),
    };
    match app.record_hotline_evaluation(&c.who, id, form.get("ticket_number"), &input).await {
        Ok(HotlineOutcome::Recorded { evaluation: e }) => {
            let body = format!(
                r#"<h2>已记录来电评价</h2><p class="notice" role="status">评价“{}”已记录,渠道:12345热线,工单编号:{},记录人:{}。</p><p><a href="/console/records/{id}">返回办件</a></p>"#,
                esc(e.level_name),
                esc(&form.get("ticket_number").trim().to_ascii_uppercase()),
                esc(&c.who.display_name)
            );
            console_page(&c, StatusCode::CREATED, "已记录", &body)
        }
        Ok(HotlineOutcome::AwaitingConfirmation { ticket_number, expires_at }) => {
            let body = format!(
                r#"<h2>已发送确认短信</h2><p class="notice" role="status">来电评价已记录(工单编号:{}),并已向申请人发送确认短信。申请人在 {} 前确认后评价生效;未确认则不计入。</p><p><a href="/console/records/{id}">返回办件</a></p>"#,
                esc(&ticket_number),
                esc(&display_cst(expires_at)),
            );
            console_page(&c, StatusCode::ACCEPTED, "待确认", &body)
        }
        // A level missing or a bad review without its reason: the record again, with the reason on top.
        Err(e @ AppError::Invalid(_)) => match app.record_page(&c.who, id).await {
            Ok(p) => {
                let alert = crate::pages::layout::alert(&format!("未能记录:{}", e.message()), None);
                console_page(&c, StatusCode::UNPROCESSABLE_ENTITY, "办件", &format!("{alert}{}", detail(&p, &c, "")))
            }
            Err(e) => error_page(&e),
        },
        Err(e) => error_page(&e),
    }
}
