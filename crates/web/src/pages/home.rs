use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hcp_app::App;
use maud::html;

use crate::html::page;

/// `GET /`: what this server is and where to go.
pub async fn home(State(app): State<App>) -> Response {
    let body = html! {
        @for w in app.warnings() { p.alert role="alert" { (w.message) } }
        h2 { "系统运行正常" }
        p { "本系统记录每一次政务服务,收集办事群众的评价(非常满意、满意、基本满意、不满意、非常不满意),7 个自然日内未评价的按“基本满意”计。" }
        ul {
            li { a href="/public" { "“好差评”结果公开(各单位满意度排名、通报、差评整改情况)" } }
            li { a href="/kiosk" { "自助评价(输入手机号或办件编号)" } }
            li { a href="/login" { "工作人员登录(工作台)" } }
            li { a href="/api/v1/indicators" { "评价指标(接口)" } }
            li { a href="/api/docs/" { "接口文档(OpenAPI)" } }
            li { a href="/healthz" { "运行状态" } }
        }
        p.muted { "数据库:" (app.store.backend().name()) }
    };
    page(StatusCode::OK, "首页", body)
}
