//! The applicant's confirmation of an evaluation a 12345 agent recorded for them (with `--hotline-confirm`):
//! the link in the text message opens what was recorded and two buttons. No script, like the evaluation page.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use hcp_app::App;
use hcp_app::hotline::PendingHotline;
use hcp_domain::calendar::display_cst;

use super::layout::{error_page, esc, page};

/// `GET /h/{token}`
pub async fn show(State(app): State<App>, Path(token): Path<String>) -> Response {
    match app.pending_hotline(&token).await {
        Ok(p) if p.row.outcome.is_some() => page(
            StatusCode::OK,
            "已处理",
            r#"<h2>您已处理过这条评价</h2><p class="notice" role="status">感谢您的参与,无需再次操作。</p>"#,
        ),
        Ok(p) => page(StatusCode::OK, "请确认您的评价", &form(&p, &token)),
        Err(e) => error_page(&e),
    }
}

/// `POST /h/{token}` with `answer=confirm` or `answer=decline`.
pub async fn submit(State(app): State<App>, Path(token): Path<String>, body: Bytes) -> Response {
    let confirmed = form_urlencoded::parse(&body).any(|(k, v)| k == "answer" && v == "confirm");
    match app.answer_hotline(&token, confirmed).await {
        Ok(Some(e)) => page(
            StatusCode::OK,
            "评价已确认",
            &format!(
                r#"<h2>评价已确认,感谢您!</h2><p class="notice" role="status">您的评价“{}”已生效。</p>"#,
                esc(e.level_name)
            ),
        ),
        Ok(None) => page(
            StatusCode::OK,
            "已记录",
            r#"<h2>已记录:这不是您的评价</h2><p class="notice" role="status">这条热线评价不会生效。感谢您的反馈,您仍可通过其他方式对该办件作出评价。</p>"#,
        ),
        Err(e) => error_page(&e),
    }
}

fn form(p: &PendingHotline, token: &str) -> String {
    let comment = p
        .row
        .comment
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(|c| format!("<dt>意见</dt><dd>{}</dd>", esc(c)))
        .unwrap_or_default();
    format!(
        r#"<h2>请确认您的评价</h2>
<p>12345热线在 {at} 记录了您对以下办件的评价。如确为您本人的评价,请点“确认”;如不是,请点“不是我的评价”。</p>
<dl class="facts"><dt>办理事项</dt><dd>{item}</dd><dt>办件编号</dt><dd>{number}</dd><dt>评价</dt><dd>{level}</dd>{comment}</dl>
<form method="post" action="/h/{token}">
<button type="submit" name="answer" value="confirm" class="primary">确认</button>
<button type="submit" name="answer" value="decline">不是我的评价</button></form>
<p class="hint">请在 {until} 前确认,逾期这条评价不会生效。</p>"#,
        at = esc(&display_cst(p.row.created_at)),
        item = esc(&p.record.item_name),
        number = esc(&p.record.record_number),
        level = esc(p.level_name),
        until = esc(&display_cst(p.row.expires_at)),
    )
}
