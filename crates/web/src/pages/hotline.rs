//! The applicant's confirmation of an evaluation a 12345 agent recorded for them (with `--hotline-confirm`):
//! the link in the text message opens what was recorded and two buttons. No script, like the evaluation page.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hcp_app::App;
use hcp_app::hotline::PendingHotline;
use hcp_domain::calendar::display_cst;
use maud::{Markup, html};

use crate::html::{PageResult, notice, page};

/// `GET /h/{token}`
pub async fn show(State(app): State<App>, Path(token): Path<String>) -> PageResult {
    let p = app.pending_hotline(&token).await?;
    Ok(if p.row.outcome.is_some() {
        let body = html! { h2 { "您已处理过这条评价" } (notice("感谢您的参与,无需再次操作。")) };
        page(StatusCode::OK, "已处理", body)
    } else {
        page(StatusCode::OK, "请确认您的评价", form(&p, &token))
    })
}

/// `POST /h/{token}` with `answer=confirm` or `answer=decline`.
pub async fn submit(State(app): State<App>, Path(token): Path<String>, body: Bytes) -> PageResult {
    let confirmed = form_urlencoded::parse(&body).any(|(k, v)| k == "answer" && v == "confirm");
    Ok(match app.answer_hotline(&token, confirmed).await? {
        Some(e) => {
            let body = html! { h2 { "评价已确认,感谢您!" } (notice(&format!("您的评价“{}”已生效。", e.level_name))) };
            page(StatusCode::OK, "评价已确认", body)
        }
        None => {
            let body = html! {
                h2 { "已记录:这不是您的评价" }
                (notice("这条热线评价不会生效。感谢您的反馈,您仍可通过其他方式对该办件作出评价。"))
            };
            page(StatusCode::OK, "已记录", body)
        }
    })
}

fn form(p: &PendingHotline, token: &str) -> Markup {
    let comment = p.row.comment.as_deref().filter(|c| !c.is_empty());
    html! {
        h2 { "请确认您的评价" }
        p {
            "12345热线在 " (display_cst(p.row.created_at))
            " 记录了您对以下办件的评价。如确为您本人的评价,请点“确认”;如不是,请点“不是我的评价”。"
        }
        dl.facts {
            dt { "办理事项" } dd { (p.record.item_name) }
            dt { "办件编号" } dd { (p.record.record_number) }
            dt { "评价" } dd { (p.level_name) }
            @if let Some(c) = comment { dt { "意见" } dd { (c) } }
        }
        form method="post" action={ "/h/" (token) } {
            button.primary type="submit" name="answer" value="confirm" { "确认" }
            " "
            button type="submit" name="answer" value="decline" { "不是我的评价" }
        }
        p.hint { "请在 " (display_cst(p.row.expires_at)) " 前确认,逾期这条评价不会生效。" }
    }
}
