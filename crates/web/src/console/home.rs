use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use hcp_app::App;
use hcp_app::browse::EvaluationQuery;
use hcp_app::cases::Inbox;
use hcp_app::policy::{Action, Role};
use hcp_domain::metrics::{percent, score};

use maud::{Markup, html};

use super::{Console, console_page};

/// A count from a list capped at `cap` rows: "50+" when the cap was reached.
fn count(n: usize, cap: usize) -> String {
    if n >= cap { format!("{cap}+") } else { n.to_string() }
}

/// The numbers that matter to this person's roles, each a link to the list behind it. A number that cannot be
/// read is left out rather than failing the page.
async fn numbers(app: &App, c: &Console) -> Markup {
    let mut tiles: Vec<(String, String, &str, bool)> = Vec::new();
    if c.who.may(Action::ViewRecords, None) {
        // Counted, not listed: a backlog costs its first 50 rows, not a sort of all of them.
        if let Ok(mine) = app.case_inbox_count(&c.who, Inbox::Mine, 50).await {
            tiles.push(("待我办理的差评工单".into(), count(mine as usize, 50), "/console/cases", false));
        }
        if let Ok(late) = app.case_inbox_count(&c.who, Inbox::Overdue, 50).await {
            tiles.push(("逾期工单".into(), count(late as usize, 50), "/console/cases?inbox=overdue", late > 0));
        }
        if let Ok(open) = app.appeal_queue(&c.who, true).await {
            tiles.push(("办理中的申诉".into(), open.len().to_string(), "/console/appeals", false));
        }
        if !c.who.may(Action::ViewStats, None)
            && let Ok(page) = app.browse_evaluations(&c.who, &EvaluationQuery::default()).await
        {
            let bad =
                page.rows.iter().filter(|r| hcp_domain::Level::parse(&r.level).is_some_and(|l| l.is_bad_review()));
            let bad = bad.count();
            tiles.push(("本月收到的评价".into(), count(page.rows.len(), 50), "/console/evaluations", false));
            tiles.push(("其中差评".into(), bad.to_string(), "/console/evaluations?level=dissatisfied", bad > 0));
        }
    }
    if c.who.may(Action::ViewStats, None) {
        let org = super::results::default_org_of(app, c).await;
        let month = hcp_domain::period::Period::month_of(hcp_domain::calendar::business_date(app.now()));
        if let Ok(cut) = app.cut(&c.who, &org, month, None).await {
            let f = &cut.total;
            tiles.push((format!("本月评价({})", cut.org_name), f.evaluations.to_string(), "/console/dashboard", false));
            tiles.push(("本月满意度".into(), score(f.satisfaction), "/console/dashboard", false));
            tiles.push(("本月好评率".into(), percent(f.good_rate), "/console/dashboard", false));
            tiles.push((
                "本月差评".into(),
                f.bad_reviews.to_string(),
                "/console/evaluations?level=very_dissatisfied",
                f.bad_reviews > 0,
            ));
        }
    }
    if [Action::ManageResults, Action::ReportRectification].iter().any(|a| c.who.may(*a, None))
        && let Ok(orders) = app.orders(&c.who).await
    {
        let open = orders.iter().filter(|o| o.state != "accepted").count();
        let late = orders.iter().filter(|o| o.overdue).count();
        tiles.push(("未完成的整改通知".into(), open.to_string(), "/console/orders", late > 0));
    }
    if c.who.may(Action::ViewAudit, None)
        && let Ok(refused) = app.reveal_refusals_today(&c.who).await
    {
        tiles.push((
            "今日超出查看限额被拒".into(),
            refused.to_string(),
            "/console/audit?action=applicant.reveal_refused",
            refused > 0,
        ));
    }
    if c.who.may(Action::ViewAudit, None)
        && let Ok(bursts) = app.reveal_bursts_today(&c.who).await
    {
        tiles.push((
            "今日短时间内大量查看联系方式".into(),
            bursts.to_string(),
            "/console/audit?action=applicant.reveal_burst",
            bursts > 0,
        ));
    }
    if c.who.may(Action::ViewOutbox, None)
        && let Ok(o) = app.outbox_overview(&c.who).await
    {
        tiles.push(("待发送的通知".into(), o.waiting.len().to_string(), "/console/outbox", !o.waiting.is_empty()));
    }
    if tiles.is_empty() {
        return html! {};
    }
    html! {
        ul.tiles {
            @for (label, value, href, alarm) in &tiles {
                li {
                    a href=(href) {
                        span class={ "tile-value" @if *alarm { " late" } } { (value) }
                        span.tile-label { (label) }
                    }
                }
            }
        }
    }
}

/// `GET /console`: the numbers for this person, what they can do, and what operators must act on.
pub async fn show(State(app): State<App>, c: Console) -> Response {
    let mut links: Vec<(&str, &str)> = Vec::new();
    let mut link = |action: Action, href: &'static str, text: &'static str| {
        if c.who.may(action, None) {
            links.push((href, text));
        }
    };
    link(Action::ViewRecords, "/console/records", "查找办件、记录来电评价(按手机号或办件编号)");
    link(Action::ViewRecords, "/console/evaluations", "评价查询(按期间、机构、窗口、人员、事项、渠道、等级筛选)");
    link(Action::ViewRecords, "/console/cases", "差评工单(待我办理、逾期)");
    link(Action::ViewRecords, "/console/appeals", "申诉");
    link(Action::ViewFilingRegister, "/console/filing-register", "申诉处理备案");
    link(Action::ViewStats, "/console/dashboard", "数据看板(图表)");
    link(Action::ViewStats, "/console/stats", "统计分析(任意期间、任意维度,导出 Excel)");
    link(Action::ViewStats, "/console/rankings", "排名");
    link(Action::ViewStats, "/console/reports", "通报");
    link(Action::ViewAssessment, "/console/assessment", "绩效考核");
    link(Action::ManageCatalog, "/console/catalog", "机构、窗口、人员、事项、评价器和账号");
    link(Action::ViewOutbox, "/console/outbox", "通知发送情况");
    link(Action::ManageExchange, "/console/exchange", "与省平台对接(上报、被拒收、回流)");
    link(Action::ViewIntegrity, "/console/integrity", "评价真实性线索(虚假好评、恶意差评的核查)");
    link(Action::ViewInspections, "/console/inspections", "调查暗访(安排、录入暗访评价)");
    let refers = if c.who.may(Action::ViewReferrals, None) { Action::ViewReferrals } else { Action::ReferClue };
    link(refers, "/console/referrals", "线索移交(移交有关部门的违纪违法线索及处理结果)");
    link(Action::ViewAudit, "/console/audit", "审计日志");
    link(Action::ImportCalendar, "/console/calendar", "节假日安排");
    if [Action::ManageResults, Action::ReportRectification, Action::ViewAssessment].iter().any(|a| c.who.may(*a, None))
    {
        links.push(("/console/orders", "整改通知(连续排名靠后)"));
    }
    // The center's and system administrators see what the operators must act on, and the go-live checklist.
    let operator = c.who.has_role(Role::CenterAdmin) || c.who.has_role(Role::SystemAdmin);
    let (warnings, checks) = if operator {
        let warnings = app.connection_warnings().await.unwrap_or_else(|e| {
            tracing::error!(error = %e, "home: the operators' warnings could not be read");
            app.warnings()
        });
        let checks = app
            .go_live_checks(&app.deployment)
            .await
            .map_err(|e| tracing::error!(error = %e, "home: the go-live checklist could not be read"))
            .ok();
        (warnings, checks)
    } else {
        (Vec::new(), None)
    };
    // Issue 29 §2: a chain that does not match its anchors, accepted at start, is every administrator's alarm.
    let administrator =
        [Role::SystemAdmin, Role::CenterAdmin, Role::CountyOffice, Role::Auditor].iter().any(|r| c.who.has_role(*r));
    let audit_alert = app.deployment.audit_alert.as_deref().filter(|_| administrator);
    let body = html! {
        h2 { "工作台" }
        @if let Some(alert) = audit_alert {
            p.alert role="alert" { strong { "审计日志警报:" } (alert) }
        }
        @if operator {
            @for w in &warnings { p.alert role="alert" { (w.message) } }
            @if let Some(checks) = &checks {
                @let failed = checks.iter().filter(|c| !c.ok).count();
                details #go-live open[failed > 0] {
                    summary {
                        "上线检查:"
                        @if failed == 0 { "全部通过" } @else { (failed) " 项未通过" }
                        "(同 hcp doctor)"
                    }
                    ul {
                        @for ch in checks {
                            li { @if ch.ok { "✓ " } @else { span.late { "✗ " } } strong { (ch.title) } ":" (ch.detail) }
                        }
                    }
                }
            }
        } @else if c.who.may(Action::ImportCalendar, None) {
            @for w in app.warnings() { p.alert role="alert" { (w.message) } }
        }
        (numbers(&app, &c).await)
        ul { @for (href, text) in &links { li { a href=(href) { (text) } } } }
    };
    console_page(&c, StatusCode::OK, "工作台", body)
}
