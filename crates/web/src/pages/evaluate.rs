//! The evaluation page behind every link and QR code (R5.1, R5.2): first the five levels as large buttons,
//! then that level's criteria from the annex, a comment box and submit. Two short pages and no script, so
//! it works on a cheap phone on a slow connection and with a screen reader.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use hcp_app::evaluations::EvaluationInput;
use hcp_app::{App, AppError};
use hcp_domain::calendar::{closing_date, display_cst, display_date};
use hcp_domain::indicators::Annex;
use hcp_domain::{Channel, Level, Violation};
use hcp_store::RecordRow;
use serde::Deserialize;

use maud::{Markup, html};

use crate::extract::ClientIp;
use crate::html::{Frame, PageResult, page_in};

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
    Frame { big, kiosk, idle_seconds: kiosk.then_some(if done { 8 } else { 90 }), ..Frame::default() }
}

/// The query string that keeps the channel and the type size across the pages.
fn carry(channel: Channel, big: bool) -> String {
    format!("c={}{}", channel.as_str(), if big { "&big=1" } else { "" })
}

/// The link that switches between large and standard type.
fn mode_switch(token: &str, channel: Channel, big: bool, level: Option<Level>) -> Markup {
    let level = level.map(|l| format!("&level={}", l.as_str())).unwrap_or_default();
    html! {
        p.modebar {
            a href={ "/e/" (token) "?" (carry(channel, !big)) (level) } {
                @if big { "标准字号" } @else { "大字模式(适老)" }
            }
        }
    }
}

fn channel_of(raw: Option<&str>) -> Channel {
    raw.and_then(Channel::parse).filter(|c| c.is_self_service()).unwrap_or(Channel::Web)
}

/// `GET /e/{token}`: the page an evaluator opens.
pub async fn show(State(app): State<App>, Path(token): Path<String>, Query(q): Query<PageQuery>) -> PageResult {
    let rec = app.record_for_token(&token).await?;
    if let Some(refusal) = app.evaluation_refusal(&rec) {
        return Err(refusal.into());
    }
    let channel = channel_of(q.c.as_deref());
    let big = q.big.as_deref() == Some("1");
    let frame = frame(channel, big, false);
    let body = match q.level.as_deref().and_then(Level::parse) {
        None => choose_level(&rec, &token, channel, big),
        Some(level) => criteria_form(&rec, &token, &FormState { level, channel, big, ..FormState::default() }, &[]),
    };
    Ok(page_in(StatusCode::OK, "请您评价", body, frame))
}

/// `POST /e/{token}`: the submitted form.
pub async fn submit(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> PageResult {
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
            let bad = Level::parse(&done.evaluation.level).is_some_and(Level::is_bad_review);
            let body = html! {
                h2 { "评价成功,感谢您!" }
                p.notice role="status" {
                    "您对本次服务的评价“" (done.evaluation.level_name) "”已于 " (display_cst(done.evaluation.created_at)) " 记录。"
                    @if bad { (bad_review_promise(app.case_rules.dispatch_days)) }
                }
                p.muted { "每次服务只能评价一次。" }
            };
            Ok(page_in(StatusCode::OK, "评价成功", body, frame(form.channel, form.big, true)))
        }
        Err(AppError::Invalid(violations)) => {
            let rec = app.record_for_token(&token).await?;
            Ok(page_in(
                StatusCode::UNPROCESSABLE_ENTITY,
                "请检查填写内容",
                criteria_form(&rec, &token, &form, &violations),
                frame(form.channel, form.big, false),
            ))
        }
        Err(e) => Err(e.into()),
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

fn facts(rec: &RecordRow) -> Markup {
    let mut rows: Vec<(&str, String)> = vec![("办理事项", rec.item_name.clone()), ("办理机构", rec.org_name.clone())];
    if let Some(w) = &rec.window_name {
        rows.push(("服务窗口", w.clone()));
    }
    if let Some(p) = &rec.platform_name {
        rows.push(("办理平台", p.clone()));
    }
    if let (Some(name), Some(number)) = (&rec.staff_name, &rec.staff_number) {
        rows.push(("工作人员", format!("{name}(工号 {number})")));
    }
    match rec.completed_at {
        Some(done) => rows.push(("办结时间", display_cst(done))),
        // Plan §五: a service received can be rated at once, also while it is still being handled.
        None => rows.push(("办理状态", "办理中(现在即可评价,办结后 7 天内仍可评价)".to_string())),
    }
    if let Some(due) = rec.default_due_at {
        rows.push(("评价截止", format!("{} 24:00", display_date(closing_date(due)))));
    }
    html! { dl.facts { @for (k, v) in &rows { dt { (k) } dd { (v) } } } }
}

/// The hidden fields that keep the channel and the type size.
fn carried_fields(channel: Channel, big: bool) -> Markup {
    html! {
        input type="hidden" name="c" value=(channel.as_str());
        @if big { input type="hidden" name="big" value="1"; }
    }
}

fn choose_level(rec: &RecordRow, token: &str, channel: Channel, big: bool) -> Markup {
    html! {
        (mode_switch(token, channel, big, None))
        (facts(rec))
        form method="get" action={ "/e/" (token) } {
            (carried_fields(channel, big))
            fieldset {
                legend { "您对本次服务满意吗?请选择一项" }
                div.levels {
                    @for l in Level::ALL {
                        button type="submit" name="level" value=(l.as_str()) class=[l.is_bad_review().then_some("bad")] {
                            (l.name_zh())
                        }
                    }
                }
            }
        }
        p.muted { "未在评价截止前评价的,按“基本满意”计。" }
    }
}

fn criteria_form(rec: &RecordRow, token: &str, form: &FormState, errors: &[Violation]) -> Markup {
    let lc = Annex::get().for_level(form.level);
    // The service criteria in the annex's order, one fieldset per dimension.
    let mut dimensions: Vec<(&str, Vec<&hcp_domain::indicators::ServiceCriterion>)> = Vec::new();
    for c in &lc.service_criteria {
        match dimensions.last_mut() {
            Some((dim, list)) if *dim == c.dimension_name => list.push(c),
            _ => dimensions.push((&c.dimension_name, vec![c])),
        }
    }
    let hint = if form.level.is_bad_review() {
        "请至少勾选一项具体问题,或在下方写明情况,以便承办单位整改。"
    } else {
        "以下为可选项,可直接提交。"
    };
    html! {
        @if !errors.is_empty() {
            div.alert role="alert" #errors {
                p { "提交未成功:" }
                ul { @for e in errors { li { (e.message) } } }
            }
        }
        (mode_switch(token, form.channel, form.big, Some(form.level)))
        (facts(rec))
        p {
            "您选择的评价等级:" strong { (form.level.name_zh()) } " "
            a href={ "/e/" (token) "?" (carry(form.channel, form.big)) } { "重新选择" }
        }
        form method="post" action={ "/e/" (token) } {
            input type="hidden" name="level" value=(form.level.as_str());
            input type="hidden" name="channel" value=(form.channel.as_str());
            @if form.big { input type="hidden" name="big" value="1"; }
            p.muted { (hint) }
            h2 { "对办理事项的评价" }
            @for (dim, criteria) in &dimensions {
                fieldset {
                    legend { (dim) }
                    @for c in criteria {
                        (checkbox("indicator_ids", &c.id, &format!("{}:{}", c.sub_dimension_name, c.text), &form.indicator_ids))
                    }
                }
            }
            h2 { "对工作人员的评价" }
            fieldset {
                legend { "工作人员" }
                @for c in &lc.staff_criteria {
                    (checkbox("staff_indicator_ids", &c.id, &c.text, &form.staff_indicator_ids))
                }
            }
            label for="comment" { strong { "意见或建议" } "(选填,最多 500 字)" }
            textarea #comment name="comment" maxlength="500" { (form.comment) }
            button.primary type="submit" { "提交评价" }
        }
    }
}

fn checkbox(name: &str, id: &str, text: &str, checked: &[String]) -> Markup {
    html! {
        label.choice {
            input type="checkbox" name=(name) value=(id) checked[checked.iter().any(|c| c == id)];
            " " span { (text) }
        }
    }
}

/// `GET /e/{token}/qr.svg` and `/e/{token}/qr.png`: the record's QR code for its receipt, leading to this
/// page marked as a QR-code evaluation. Only for a link that exists.
pub async fn qr_image(State(app): State<App>, Path((token, file)): Path<(String, String)>) -> PageResult {
    app.record_for_token(&token).await?;
    let url = format!("{}?c=qr_code", app.evaluation_url(&token));
    Ok(super::window::image(&url, &file, "评价二维码"))
}

/// What the case clock guarantees after a bad review, in the applicant's words: the 12345 center assigns it
/// within `--dispatch-days` working days, and the unit contacts the evaluator within 1 working day of that
/// (issue 30 §6: the page promised contact in 1 day while the clock allowed dispatch first).
fn bad_review_promise(dispatch_days: u32) -> String {
    if dispatch_days == 0 {
        "“12345”政务服务中心将把您的意见转交承办单位,承办单位在收到后 1 个工作日内与您联系。".to_string()
    } else {
        format!(
            "“12345”政务服务中心将在 {dispatch_days} 个工作日内把您的意见转交承办单位,承办单位在收到后 1 个工作日内与您联系。"
        )
    }
}
