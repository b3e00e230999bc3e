use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hcp_app::App;

use super::layout::{esc, page};

/// `GET /`: what this server is and where to go.
pub async fn home(State(app): State<App>) -> Response {
    let db = app.store.backend().name();
    let warnings: String =
        app.warnings().iter().map(|w| format!(r#"<p class="alert" role="alert">{}</p>"#, esc(&w.message))).collect();
    let body = format!(
        r#"{warnings}<h2>系统运行正常</h2>
<p>本系统记录每一次政务服务,收集办事群众的评价(非常满意、满意、基本满意、不满意、非常不满意),7 个自然日内未评价的按“基本满意”计。</p>
<ul>
<li><a href="/public">“好差评”结果公开(各单位满意度排名、通报、差评整改情况)</a></li>
<li><a href="/kiosk">自助评价(输入手机号或办件编号)</a></li>
<li><a href="/login">工作人员登录(工作台)</a></li>
<li><a href="/api/v1/indicators">评价指标(接口)</a></li>
<li><a href="/healthz">运行状态</a></li>
</ul>
<p class="muted">数据库:{}</p>"#,
        esc(db)
    );
    page(StatusCode::OK, "首页", &body)
}
