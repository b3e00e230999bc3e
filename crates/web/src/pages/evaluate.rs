//! The evaluation page behind every link and QR code (R5.1, R5.2): first the five levels as large buttons,
//! then that level's criteria from the annex, a comment box and submit. Two short pages and no script, so
//! it works on a cheap phone on a slow connection and with a screen reader.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hcp_app::evaluations::EvaluationInput;
use hcp_app::{App, AppError};
use hcp_domain::calendar::{closing_date, display_cst, display_date};
use hcp_domain::indicators::Annex;
use hcp_domain::{Channel, Level, Violation};
use hcp_store::RecordRow;
use serde::Deserialize;

use super::layout::{Frame, error_page, esc, page_in};
use crate::extract::ClientIp;

#[derive(Deserialize)]
pub struct PageQuery {
    level: Option<String>,
    /// The channel the link was opened from (`qr_code` on printed receipts, `hall_device`, `kiosk` …).
    c: Option<String>,
    /// `1`: large type (适老化).
    big: Option<String>,
}

/// The frame of the evaluation pages: hall devices and kiosks get the touch layout and go back to their
/// idle screen when left alone (after the thank-you, sooner).
fn frame(channel: Channel, big: bool, done: bool) -> Frame {
    let kiosk = matches!(channel, Channel::HallDevice | Channel::Kiosk);
    Frame { big, kiosk, idle_seconds: kiosk.then_some(if done { 8 } else { 90 }), wide: false }
}

/// The query string that keeps the channel and the type size across the pages.
fn carry(channel: Channel, big: bool) -> String {
    format!("c={}{}", channel.as_str(), if big { "&amp;big=1" } else { "" })
}

/// The link that switches between large and standard type.
fn mode_switch(token: &str, channel: Channel, big: bool, level: Option<Level>) -> String {
    let level = level.map(|l| format!("&amp;level={}", l.as_str())).unwrap_or_default();
    format!(
        r#"<p class="modebar"><a href="/e/{token}?{q}{level}">{text}</a></p>"#,
        token = esc(token),
        q = carry(channel, !big),
        text = if big { "标准字号" } else { "大字模式(适老)" },
    )
}

fn channel_of(raw: Option<&str>) -> Channel {
    raw.and_then(Channel::parse).filter(|c| c.is_self_service()).unwrap_or(Channel::Web)
}

/// `GET /e/{token}`: the page an evaluator opens.
pub async fn show(State(app): State<App>, Path(token): Path<String>, Query(q): Query<PageQuery>) -> Response {
    let rec = match app.record_for_token(&token).await {
        Ok(r) => r,
        Err(e) => return error_page(&e),
    };
    if let Some(refusal) = app.evaluation_refusal(&rec) {
        return error_page(&refusal);
    }
    let channel = channel_of(q.c.as_deref());
    let big = q.big.as_deref() == Some("1");
    let frame = frame(channel, big, false);
    match q.level.as_deref().and_then(Level::parse) {
        None => page_in(StatusCode::OK, "请您评价", &choose_level(&rec, &token, channel, big), frame),
        Some(level) => {
            let form = FormState { level, channel, big, ..FormState::default() };
            page_in(StatusCode::OK, "请您评价", &criteria_form(&rec, &token, &form, &[]), frame)
        }
    }
}

/// `POST /e/{token}`: the submitted form.
pub async fn submit(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let form = FormState::parse(&body);
    let input = EvaluationInput {
        token: token.clone(),
        level: form.level.as_str().to_string(),
        indicator_ids: form.indicator_ids.clone(),
        staff_indicator_ids: form.staff_indicator_ids.clone(),
        comment: Some(form.comment.clone()),
        channel: form.channel.as_str().to_string(),
    };
    match app.submit_evaluation_from(ip, crate::extract::user_agent(&headers), &input).await {
        Ok(done) => {
            let when = display_cst(done.evaluation.created_at);
            let body = format!(
                r#"<h2>评价成功,感谢您!</h2>
<p class="notice" role="status">您对本次服务的评价“{}”已于 {} 记录。{}</p>
<p class="muted">每次服务只能评价一次。您的个人信息将被严格保密。</p>"#,
                esc(done.evaluation.level_name),
                esc(&when),
                if Level::parse(&done.evaluation.level).is_some_and(Level::is_bad_review) {
                    "我们会转交承办单位,1 个工作日内与您联系。"
                } else {
                    ""
                }
            );
            page_in(StatusCode::OK, "评价成功", &body, frame(form.channel, form.big, true))
        }
        Err(AppError::Invalid(violations)) => match app.record_for_token(&token).await {
            Ok(rec) => page_in(
                StatusCode::UNPROCESSABLE_ENTITY,
                "请检查填写内容",
                &criteria_form(&rec, &token, &form, &violations),
                frame(form.channel, form.big, false),
            ),
            Err(e) => error_page(&e),
        },
        Err(e) => error_page(&e),
    }
}

/// What the form carried, kept to show it again with the errors.
struct FormState {
    level: Level,
    indicator_ids: Vec<String>,
    staff_indicator_ids: Vec<String>,
    comment: String,
    channel: Channel,
    big: bool,
}

impl Default for FormState {
    fn default() -> Self {
        FormState {
            level: Level::VerySatisfied,
            indicator_ids: Vec::new(),
            staff_indicator_ids: Vec::new(),
            comment: String::new(),
            channel: Channel::Web,
            big: false,
        }
    }
}

impl FormState {
    fn parse(body: &[u8]) -> FormState {
        let mut f = FormState::default();
        let mut level = None;
        for (k, v) in form_urlencoded::parse(body) {
            match &*k {
                "level" => level = Level::parse(&v),
                "indicator_ids" => f.indicator_ids.push(v.into_owned()),
                "staff_indicator_ids" => f.staff_indicator_ids.push(v.into_owned()),
                "comment" => f.comment = v.into_owned(),
                "channel" => f.channel = channel_of(Some(&v)),
                "big" => f.big = v == "1",
                _ => {}
            }
        }
        // A form without a level cannot come from our page; treat it as the first level and let the
        // criteria checks speak, rather than failing with a bare error.
        f.level = level.unwrap_or(f.level);
        f
    }
}

fn facts(rec: &RecordRow) -> String {
    let mut s = String::from(r#"<dl class="facts">"#);
    let mut row = |k: &str, v: &str| s.push_str(&format!("<dt>{}</dt><dd>{}</dd>", esc(k), esc(v)));
    row("办理事项", &rec.item_name);
    row("办理机构", &rec.org_name);
    if let Some(w) = &rec.window_name {
        row("服务窗口", w);
    }
    if let Some(p) = &rec.platform_name {
        row("办理平台", p);
    }
    if let (Some(name), Some(number)) = (&rec.staff_name, &rec.staff_number) {
        row("工作人员", &format!("{name}(工号 {number})"));
    }
    match rec.completed_at {
        Some(done) => row("办结时间", &display_cst(done)),
        // Plan §五: a service received can be rated at once, also while it is still being handled.
        None => row("办理状态", "办理中(现在即可评价,办结后 7 天内仍可评价)"),
    }
    if let Some(due) = rec.default_due_at {
        row("评价截止", &format!("{} 24:00", display_date(closing_date(due))));
    }
    s.push_str("</dl>");
    s
}

fn choose_level(rec: &RecordRow, token: &str, channel: Channel, big: bool) -> String {
    let mut buttons = String::new();
    for l in Level::ALL {
        buttons.push_str(&format!(
            r#"<button type="submit" name="level" value="{}"{}>{}</button>"#,
            l.as_str(),
            if l.is_bad_review() { r#" class="bad""# } else { "" },
            esc(l.name_zh())
        ));
    }
    format!(
        r#"{switch}{facts}
<form method="get" action="/e/{token}">
<input type="hidden" name="c" value="{channel}">{big}
<fieldset><legend>您对本次服务满意吗?请选择一项</legend>
<div class="levels">{buttons}</div>
</fieldset>
</form>
<p class="muted">未在评价截止前评价的,按“基本满意”计。</p>"#,
        switch = mode_switch(token, channel, big, None),
        facts = facts(rec),
        token = esc(token),
        channel = channel.as_str(),
        big = if big { r#"<input type="hidden" name="big" value="1">"# } else { "" },
    )
}

fn criteria_form(rec: &RecordRow, token: &str, form: &FormState, errors: &[Violation]) -> String {
    let lc = Annex::get().for_level(form.level);
    let mut alert = String::new();
    if !errors.is_empty() {
        alert.push_str(r#"<div class="alert" role="alert" id="errors"><p>提交未成功:</p><ul>"#);
        for e in errors {
            alert.push_str(&format!("<li>{}</li>", esc(&e.message)));
        }
        alert.push_str("</ul></div>");
    }
    let mut service = String::new();
    let mut current_dim = "";
    for c in &lc.service_criteria {
        if c.dimension_name != current_dim {
            if !current_dim.is_empty() {
                service.push_str("</fieldset>");
            }
            current_dim = &c.dimension_name;
            service.push_str(&format!("<fieldset><legend>{}</legend>", esc(current_dim)));
        }
        service.push_str(&checkbox(
            "indicator_ids",
            &c.id,
            &format!("{}:{}", c.sub_dimension_name, c.text),
            &form.indicator_ids,
        ));
    }
    if !current_dim.is_empty() {
        service.push_str("</fieldset>");
    }
    let staff: String = lc
        .staff_criteria
        .iter()
        .map(|c| checkbox("staff_indicator_ids", &c.id, &c.text, &form.staff_indicator_ids))
        .collect();
    let hint = if form.level.is_bad_review() {
        "请至少勾选一项具体问题,或在下方写明情况,以便承办单位整改。"
    } else {
        "以下为可选项,可直接提交。"
    };
    format!(
        r#"{alert}{switch}{facts}
<p>您选择的评价等级:<strong>{level}</strong> <a href="/e/{token}?{carry}">重新选择</a></p>
<form method="post" action="/e/{token}">
<input type="hidden" name="level" value="{level_code}">
<input type="hidden" name="channel" value="{channel}">{big}
<p class="muted">{hint}</p>
<h2>对办理事项的评价</h2>
{service}
<h2>对工作人员的评价</h2>
<fieldset><legend>工作人员</legend>{staff}</fieldset>
<label for="comment"><strong>意见或建议</strong>(选填,最多 500 字)</label>
<textarea id="comment" name="comment" maxlength="500">{comment}</textarea>
<button type="submit" class="primary">提交评价</button>
</form>"#,
        switch = mode_switch(token, form.channel, form.big, Some(form.level)),
        carry = carry(form.channel, form.big),
        big = if form.big { r#"<input type="hidden" name="big" value="1">"# } else { "" },
        facts = facts(rec),
        level = esc(form.level.name_zh()),
        level_code = form.level.as_str(),
        token = esc(token),
        channel = form.channel.as_str(),
        comment = esc(&form.comment),
    )
}

fn checkbox(name: &str, id: &str, text: &str, checked: &[String]) -> String {
    format!(
        r#"<label class="choice"><input type="checkbox" name="{name}" value="{id}"{}> <span>{}</span></label>"#,
        if checked.iter().any(|c| c == id) { " checked" } else { "" },
        esc(text),
        id = esc(id),
    )
}

/// `GET /e/{token}/qr.svg` and `/e/{token}/qr.png`: the record's QR code for its receipt, leading to this
/// page marked as a QR-code evaluation. Only for a link that exists.
pub async fn qr_image(State(app): State<App>, Path((token, file)): Path<(String, String)>) -> Response {
    if let Err(e) = app.record_for_token(&token).await {
        return error_page(&e);
    }
    let url = format!("{}?c=qr_code", app.evaluation_url(&token));
    super::window::image(&url, &file, "评价二维码")
}
