//! The second rating after rectification (二次评价): the link in the unit's reply opens one short form — what
//! the unit did, the five levels, a comment. No script, like the first evaluation page.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hcp_app::second_rating::SecondRating;
use hcp_app::{App, AppError};
use hcp_domain::Level;
use hcp_domain::calendar::display_cst;
use maud::{Markup, html};

use crate::html::{PageResult, notice, page};

/// `GET /e2/{token}`
pub async fn show(State(app): State<App>, Path(token): Path<String>) -> PageResult {
    let ctx = app.second_rating(&token).await?;
    Ok(match &ctx.existing {
        Some(e) => {
            let body = html! {
                h2 { "您已评价" }
                (notice(&format!("您已于 {} 对整改结果作出评价“{}”,感谢您的参与。", display_cst(e.created_at), e.level_name)))
            };
            page(StatusCode::OK, "已评价", body)
        }
        None => page(StatusCode::OK, "请评价整改结果", form(&ctx, &token, None)),
    })
}

/// `POST /e2/{token}`
pub async fn submit(State(app): State<App>, Path(token): Path<String>, body: Bytes) -> PageResult {
    let (mut level, mut comment) = (String::new(), String::new());
    for (k, v) in form_urlencoded::parse(&body) {
        match &*k {
            "level" => level = v.into_owned(),
            "comment" => comment = v.into_owned(),
            _ => {}
        }
    }
    match app.submit_second_rating(&token, &level, &comment).await {
        Ok(e) => {
            let body = html! {
                h2 { "评价成功,感谢您!" }
                (notice(&format!("您对整改结果的评价“{}”已记录。", e.level_name)))
            };
            Ok(page(StatusCode::OK, "评价成功", body))
        }
        Err(AppError::Invalid(v)) => {
            let ctx = app.second_rating(&token).await?;
            let body = form(&ctx, &token, v.first().map(|v| v.message.as_str()));
            Ok(page(StatusCode::UNPROCESSABLE_ENTITY, "请检查填写内容", body))
        }
        Err(e) => Err(e.into()),
    }
}

fn form(ctx: &SecondRating, token: &str, error: Option<&str>) -> Markup {
    html! {
        @if let Some(m) = error { div.alert role="alert" #errors { p { (m) } } }
        h2 { "请您评价整改结果" }
        dl.facts {
            dt { "办理事项" } dd { (ctx.record.item_name) }
            dt { "承办单位" } dd { (ctx.case.unit_name.as_deref().unwrap_or(&ctx.case.org_name)) }
            dt { "整改情况" } dd { (ctx.reply) }
        }
        form method="post" action={ "/e2/" (token) } {
            fieldset {
                legend { "您对整改结果满意吗?" }
                @for l in Level::ALL {
                    label.choice { input type="radio" name="level" value=(l.as_str()) required; " " span { (l.name_zh()) } }
                }
            }
            label for="comment" { strong { "意见或建议" } "(选填,最多 500 字)" }
            textarea #comment name="comment" maxlength="500" {}
            button.primary type="submit" { "提交评价" }
        }
        p.muted { "您最初的评价保持不变;本次评价单独记录。" }
    }
}
