//! The second rating after rectification (二次评价): the link in the unit's reply opens one short form — what
//! the unit did, the five levels, a comment. No script, like the first evaluation page.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use hcp_app::second_rating::SecondRating;
use hcp_app::{App, AppError};
use hcp_domain::Level;
use hcp_domain::calendar::display_cst;

use super::layout::{error_page, esc, page};

/// `GET /e2/{token}`
pub async fn show(State(app): State<App>, Path(token): Path<String>) -> Response {
    match app.second_rating(&token).await {
        Ok(ctx) => match &ctx.existing {
            Some(e) => page(
                StatusCode::OK,
                "已评价",
                &format!(
                    r#"<h2>您已评价</h2><p class="notice" role="status">您已于 {} 对整改结果作出评价“{}”,感谢您的参与。</p>"#,
                    esc(&display_cst(e.created_at)),
                    esc(e.level_name)
                ),
            ),
            None => page(StatusCode::OK, "请评价整改结果", &form(&ctx, &token, None)),
        },
        Err(e) => error_page(&e),
    }
}

/// `POST /e2/{token}`
pub async fn submit(State(app): State<App>, Path(token): Path<String>, body: Bytes) -> Response {
    let (mut level, mut comment) = (String::new(), String::new());
    for (k, v) in form_urlencoded::parse(&body) {
        match &*k {
            "level" => level = v.into_owned(),
            "comment" => comment = v.into_owned(),
            _ => {}
        }
    }
    match app.submit_second_rating(&token, &level, &comment).await {
        Ok(e) => page(
            StatusCode::OK,
            "评价成功",
            &format!(
                r#"<h2>评价成功,感谢您!</h2><p class="notice" role="status">您对整改结果的评价“{}”已记录。</p>"#,
                esc(e.level_name)
            ),
        ),
        Err(AppError::Invalid(v)) => match app.second_rating(&token).await {
            Ok(ctx) => page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "请检查填写内容",
                &form(&ctx, &token, v.first().map(|v| v.message.as_str())),
            ),
            Err(e) => error_page(&e),
        },
        Err(e) => error_page(&e),
    }
}

fn form(ctx: &SecondRating, token: &str, error: Option<&str>) -> String {
    let alert = error
        .map(|m| format!(r#"<div class="alert" role="alert" id="errors"><p>{}</p></div>"#, esc(m)))
        .unwrap_or_default();
    let choices: String = Level::ALL
        .iter()
        .map(|l| {
            format!(
                r#"<label class="choice"><input type="radio" name="level" value="{}" required> <span>{}</span></label>"#,
                l.as_str(),
                esc(l.name_zh())
            )
        })
        .collect();
    format!(
        r#"{alert}<h2>请您评价整改结果</h2>
<dl class="facts"><dt>办理事项</dt><dd>{item}</dd><dt>承办单位</dt><dd>{unit}</dd><dt>整改情况</dt><dd>{reply}</dd></dl>
<form method="post" action="/e2/{token}">
<fieldset><legend>您对整改结果满意吗?</legend>{choices}</fieldset>
<label for="comment"><strong>意见或建议</strong>(选填,最多 500 字)</label>
<textarea id="comment" name="comment" maxlength="500"></textarea>
<button type="submit" class="primary">提交评价</button>
</form>
<p class="muted">您最初的评价保持不变;本次评价单独记录。</p>"#,
        item = esc(&ctx.record.item_name),
        unit = esc(ctx.case.unit_name.as_deref().unwrap_or(&ctx.case.org_name)),
        reply = esc(&ctx.reply),
        token = esc(token),
    )
}
