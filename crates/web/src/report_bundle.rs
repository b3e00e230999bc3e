//! A published report as a folder a portal team can post on the open internet (issue 30 §4, plan §十 "通过
//! 苍溪县人民政府门户网站、移动端政务服务应用等渠道向社会发布"): `index.html` — one file, its style inside, no
//! script, no external asset, charts drawn as SVG, print-ready — `report.json` with the figures and
//! `report.xlsx`. It holds what the public page holds and no more: units' figures, never a person's name,
//! number or comment (only the annex's criteria among the themes).

use hcp_app::reports::ReportView;
use hcp_app::{App, AppError};
use hcp_domain::calendar::display_cst;
use hcp_domain::metrics::score;
use maud::{DOCTYPE, Markup, html};

use crate::charts::{Bar, bars};

/// One file of the bundle.
pub struct BundleFile {
    pub name: &'static str,
    pub bytes: Vec<u8>,
}

/// The three files of a published report; a draft is 409 `report_not_published`.
pub fn bundle(r: &ReportView) -> Result<Vec<BundleFile>, AppError> {
    if r.state != "published" {
        return Err(AppError::conflict("report_not_published", "只有已发布的通报可以导出发布包。"));
    }
    let xlsx =
        r.table().to_xlsx().map_err(|e| AppError::invalid("report", "export_failed", format!("无法生成 Excel:{e}")))?;
    Ok(vec![
        BundleFile { name: "index.html", bytes: page(r).into_string().into_bytes() },
        BundleFile { name: "report.json", bytes: json(r).into_bytes() },
        BundleFile { name: "report.xlsx", bytes: xlsx },
    ])
}

/// The figures as data: the report's body with only the annex's criteria among the themes.
pub fn json(r: &ReportView) -> String {
    let mut body = r.body.clone();
    body.themes.retain(|t| t.kind == hcp_domain::themes::ThemeKind::Criterion);
    let doc = serde_json::json!({
        "title": r.title(),
        "issuer": body.issuer,
        "number": r.number,
        "version": r.version,
        "published_at": r.published_at,
        "correction_note": r.note,
        "report": body,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// The page: self-contained, readable offline and on paper.
pub fn page(r: &ReportView) -> Markup {
    let ranked: Vec<Bar> = r
        .body
        .lines
        .iter()
        .filter(|l| l.rank.is_some())
        .map(|l| Bar {
            label: l.name.clone(),
            value: l.figures.satisfaction.unwrap_or(0.0),
            text: score(l.figures.satisfaction),
            bad: l.bottom,
        })
        .collect();
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (r.title()) }
                style { (maud::PreEscaped(crate::pages::assets::CSS)) }
            }
            body {
                header { h1 { (r.title()) } }
                main #main {
                    @if let Some(t) = r.published_at { p.muted { "发布于 " (display_cst(t)) "(第 " (r.version) " 版)" } }
                    (crate::pages::public::report_content(r))
                    @if !ranked.is_empty() { (bars("各单位满意度(参与排名的单位)", &ranked)) }
                }
                footer { "数据来源:政务服务“好差评”系统。" }
            }
        }
    }
}

/// The bundle of report `id`, for whoever may see it.
pub async fn of_report(
    app: &App,
    who: Option<&hcp_app::policy::Principal>,
    id: i64,
) -> Result<Vec<BundleFile>, AppError> {
    bundle(&app.report(who, id).await?)
}
