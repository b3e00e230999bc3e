//! The JSON API under `/api/v1`: its routes and its OpenAPI 3.1 document come from the same handler
//! annotations (`#[utoipa::path]`), so a route cannot be served without being described (issue 18 §1).
//! The document is served at `/api/v1/openapi.json`, its reference page at `/api/docs` (assets embedded in
//! the binary: a county intranet has no internet).

use axum::Router;
use hcp_app::App;
use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::controllers::{
    appeals, cases, catalog, evaluations, hotline, indicators, inspections, integrity, platforms, referrals, results,
    service_records, sessions, stats,
};
use crate::error::Problem;
use crate::problems::PROBLEM_CODES;

/// Where the API lives; the document's paths include it.
pub const PREFIX: &str = "/api/v1";
/// Where the document is served.
pub const DOCUMENT_PATH: &str = "/api/v1/openapi.json";
/// Where the reference page is served.
pub const DOCS_PATH: &str = "/api/docs";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "好差评 haochaping API",
        description = "政务服务“好差评”系统的接口:业务系统登记办件并取得评价链接,申请人提交评价,\
                       12345 中心与责任单位办理差评,县政府办出具通报与考核。\n\n\
                       认证:业务系统用接口密钥(`Authorization: Bearer hcp_…`);工作人员用 `POST /api/v1/sessions` \
                       取得的会话令牌,角色与范围同控制台。\n\n\
                       出错时一律返回 `application/problem+json`(RFC 9457):`code` 是稳定的机器代码(见 Problem \
                       的 `code` 列表),`detail` 是给人看的中文说明,`field` 指出有误的字段,`instance` 是本次请求的\
                       编号(日志中相同)。",
        license(name = "MIT OR Apache-2.0"),
    ),
    components(schemas(Problem, hcp_app::cases::Inbox)),
    tags(
        (name = "办件", description = "业务系统登记办件、登记办结(接口密钥)"),
        (name = "评价", description = "申请人的评价与 12345 热线代录"),
        (name = "差评整改", description = "差评案件的分派、联系、整改、回访与办结"),
        (name = "申诉", description = "工作人员对差评的两级申诉与备案"),
        (name = "统计与排名", description = "任一维度的统计与排名"),
        (name = "通报与考核", description = "通报、整改通知与绩效考核"),
        (name = "诚信核查", description = "刷好评、恶意差评的线索与核查"),
        (name = "调查暗访", description = "县政府办安排、暗访员记录的暗访评价"),
        (name = "问题线索移送", description = "移送纪检监察等机关的问题线索"),
        (name = "目录", description = "评价指标、组织机构、事项、窗口与平台"),
        (name = "登录", description = "工作人员取得会话令牌"),
    ),
)]
struct ApiDoc;

/// The API's routes (paths relative to [`PREFIX`]) and their document (paths with it).
pub fn routes() -> (Router<App>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(indicators::list))
        .routes(routes!(catalog::orgs))
        .routes(routes!(catalog::items))
        .routes(routes!(catalog::windows))
        .routes(routes!(platforms::list, platforms::create))
        .routes(routes!(integrity::flags))
        .routes(routes!(integrity::investigate))
        .routes(routes!(integrity::conclude))
        .routes(routes!(integrity::confirm))
        .routes(routes!(inspections::list, inspections::create))
        .routes(routes!(inspections::get))
        .routes(routes!(inspections::evaluate))
        .routes(routes!(inspections::add_photo))
        .routes(routes!(inspections::photo))
        .routes(routes!(referrals::list, referrals::create))
        .routes(routes!(referrals::suggestions))
        .routes(routes!(referrals::outcome))
        .routes(routes!(service_records::create))
        .routes(routes!(service_records::get))
        .routes(routes!(service_records::complete))
        .routes(routes!(hotline::create))
        .routes(routes!(hotline::register_ticket))
        .routes(routes!(evaluations::create))
        .routes(routes!(sessions::create))
        .routes(routes!(cases::list))
        .routes(routes!(cases::get))
        .routes(routes!(cases::step))
        .routes(routes!(cases::attach))
        .routes(routes!(cases::attachment))
        .routes(routes!(cases::appeal))
        .routes(routes!(appeals::list))
        .routes(routes!(appeals::get))
        .routes(routes!(appeals::decide))
        .routes(routes!(appeals::withdraw))
        .routes(routes!(appeals::add_evidence))
        .routes(routes!(appeals::evidence))
        .routes(routes!(appeals::register))
        .routes(routes!(stats::get))
        .routes(routes!(stats::rankings))
        .routes(routes!(results::list, results::create))
        .routes(routes!(results::get))
        .routes(routes!(results::publish))
        .routes(routes!(results::orders))
        .routes(routes!(results::order))
        .routes(routes!(results::answer))
        .routes(routes!(results::review))
        .routes(routes!(results::assessment))
        .split_for_parts();
    complete(&mut doc);
    (router, doc)
}

/// The answers every operation shares, by what it takes: a body, a query, a path id, a credential.
const SHARED: &[(&str, &str, &str)] = &[
    ("400", "BadRequest", "请求格式错误(JSON 无法解析、请求体无法读取)"),
    ("401", "Unauthorized", "缺少有效的接口密钥或会话令牌"),
    ("403", "Forbidden", "角色或范围不允许此操作"),
    ("404", "NotFound", "编号不存在,或不在您的范围内"),
    ("413", "PayloadTooLarge", "请求内容过大"),
    ("415", "UnsupportedMediaType", "内容类型不支持(JSON 请求体须为 application/json)"),
    ("422", "Unprocessable", "请求内容有误:`errors` 逐项列出字段与原因"),
    ("500", "InternalError", "系统内部错误(原因只记入日志)"),
    ("503", "Unavailable", "数据库暂时不可用或处理超时;按 `Retry-After` 稍后重试,已确认的评价不会丢失"),
];

/// Adds the prefix to every path, the security schemes, the problem codes, and the shared answers.
fn complete(doc: &mut utoipa::openapi::OpenApi) {
    doc.paths.paths =
        std::mem::take(&mut doc.paths.paths).into_iter().map(|(p, i)| (format!("{PREFIX}{p}"), i)).collect();
    let components = doc.components.get_or_insert_with(Default::default);
    let bearer = |what: &str| {
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some(what)).build())
    };
    components.add_security_scheme("api_key", bearer("业务系统的接口密钥(hcp_…),由系统管理员在控制台签发"));
    components.add_security_scheme(
        "session",
        bearer("工作人员的会话令牌(POST /api/v1/sessions),闲置 30 分钟或 12 小时后失效"),
    );
    if let Some(RefOr::T(utoipa::openapi::schema::Schema::Object(problem))) = components.schemas.get_mut("Problem") {
        let codes = ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("稳定的机器代码;客户端据此判断"))
            .enum_values(Some(PROBLEM_CODES.iter().copied()))
            .build();
        problem.properties.insert("code".into(), codes.into());
    }
    for (_, name, text) in SHARED {
        let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
        let response = ResponseBuilder::new().description(*text).content("application/problem+json", content).build();
        components.responses.insert((*name).into(), RefOr::T(response));
    }
    for item in doc.paths.paths.values_mut() {
        for op in [&mut item.get, &mut item.post].into_iter().flatten() {
            add_shared_answers(op);
        }
    }
}

fn add_shared_answers(op: &mut Operation) {
    let params = op.parameters.as_deref().unwrap_or_default();
    let is_in = |place: ParameterIn| params.iter().any(|p| matches!(p, RefOr::T(p) if p.parameter_in == place));
    let (has_path, has_query) = (is_in(ParameterIn::Path), is_in(ParameterIn::Query));
    let has_json = matches!(&op.request_body, Some(RefOr::T(b)) if b.content.contains_key("application/json"));
    let has_file = op.request_body.is_some() && !has_json;
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let wanted = [
        ("400", has_json || has_file),
        ("401", secured),
        ("403", secured),
        ("404", has_path),
        ("413", has_json || has_file),
        ("415", has_json),
        ("422", has_json || has_query || has_file),
        ("500", true),
        ("503", true),
    ];
    for (status, want) in wanted {
        if !want || op.responses.responses.contains_key(status) {
            continue;
        }
        let name = SHARED.iter().find(|(s, _, _)| *s == status).map(|(_, n, _)| *n).expect("a shared answer");
        op.responses.responses.insert(status.into(), RefOr::Ref(Ref::from_response_name(name)));
    }
}

/// The reference page and the document, to merge into the program's router.
pub fn docs(doc: utoipa::openapi::OpenApi) -> utoipa_swagger_ui::SwaggerUi {
    utoipa_swagger_ui::SwaggerUi::new(DOCS_PATH).url(DOCUMENT_PATH, doc)
}
