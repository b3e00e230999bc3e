//! Issue 13 §2: the catalog from files — CSV (UTF-8 or GB18030) and .xlsx — all or nothing, every bad line
//! at once, the same file twice changes nothing, a changed row changes its entry (audited); the CLI prints
//! every reason; the console imports within the administrator's subtree.

use std::process::Command;

use crate::both_backends;
use crate::helpers::TestApp;

both_backends!(
    files_import_all_or_nothing,
    a_workbook_with_a_sheet_per_kind,
    platforms_come_in_by_file,
    cycles_only_when_real_and_no_second_root,
    a_tiny_sparse_sheet_is_refused_and_the_server_stays_up
);

/// Issue 29 §1: a 2 KB workbook with one cell at XFD1048576 (it aborted the server, asking for 549 GB) is a
/// 422 naming the limit, and the server goes on answering.
async fn a_tiny_sparse_sheet_is_refused_and_the_server_stays_up(app: TestApp) {
    crate::console::make_accounts(&app).await;
    let center = crate::console::login(&app, "center").await;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "机构代码").unwrap();
    sheet.write_string(1_048_575, 16_383, "x").unwrap();
    let bytes = book.save_to_buffer().unwrap();
    assert!(bytes.len() < 10_000, "{}", bytes.len());
    let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    let (status, page) = center.post_file("/console/catalog/import", &[], "sparse.xlsx", xlsx, &bytes).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("超出可导入的范围") && page.contains("100000 行"), "{page}");
    let (status, _) = app.get_json("/healthz", None).await;
    assert_eq!(status, 200, "the server is still up");
    let actor = hcp_app::audit::Actor::operator();
    match app.app.import_catalog(&actor, None, "sparse.xlsx", &bytes, &|_, _| {}).await {
        Err(hcp_app::AppError::Invalid(v)) => assert_eq!(v[0].code, "sheet_too_large"),
        other => panic!("{:?}", other.map(|r| r.summary())),
    }
}

/// Issue 28 §3: a real cycle is still named as one; a row under a bad row is told which; on a database with
/// organizations, a row without a parent is refused (only an empty database takes a top-level row).
async fn cycles_only_when_real_and_no_second_root(app: TestApp) {
    let file = "机构代码,名称,类型,上级机构代码
510899A1,甲镇,乡镇,510899A2
510899A2,乙镇,乡镇,510899A1
510899B1,丙镇,镇,510899
510899B2,丁村,村,510899B1
510899B3,戊组,村,510899B2
510899C1,新县,县,
";
    let errors = import(&app, "orgs.csv", file).await.unwrap_err();
    let text = errors.join("\n");
    assert!(text.contains("第 2 行“上级机构代码”:上级关系形成了循环"), "{text}");
    assert!(text.contains("第 3 行“上级机构代码”:上级关系形成了循环"), "{text}");
    assert!(text.contains("第 4 行“类型”"), "{text}");
    assert!(text.contains("第 5 行“上级机构代码”:上级机构“510899B1”在本文件第 4 行,该行有错误"), "{text}");
    assert!(
        text.contains("第 6 行“上级机构代码”:上级机构“510899B2”未能导入:它的上级“510899B1”(本文件第 4 行)有错误"),
        "{text}"
    );
    assert!(text.contains("第 7 行“上级机构代码”:新增机构须填写上级机构代码"), "{text}");
    assert_eq!(errors.len(), 6, "{text}");
    assert!(app.app.store.org_by_code("510899A1").await.unwrap().is_none(), "nothing written");
}

async fn import(app: &TestApp, name: &str, text: &str) -> Result<String, Vec<String>> {
    let actor = hcp_app::audit::Actor::operator();
    match app.app.import_catalog(&actor, None, name, text.as_bytes(), &|_, _| {}).await {
        Ok(r) => Ok(r.summary()),
        Err(hcp_app::AppError::Invalid(v)) => Err(v.into_iter().map(|v| v.message).collect()),
        Err(e) => panic!("{e:?}"),
    }
}

const ORGS: &str = "机构代码,名称,类型,上级机构代码,统一社会信用代码,行政区划代码
510899301,新区村,村,510899300,,510899300201
510899300,新区镇,乡镇,510899,,510899300000
";
const HALLS: &str = "大厅编码,名称,类型,所属机构代码\nH-510899300,新区便民服务中心,便民服务中心,510899300\n";
const WINDOWS: &str =
    "窗口编码,名称,类型,大厅编码,所属机构代码\nW-510899300-01,综合窗口1号,综合窗口,H-510899300,510899300\n";
const STAFF: &str = "工号,姓名,所属机构代码,窗口编码\nQS7001,新同事,510899300,W-510899300-01\n";
const ITEMS: &str = "事项编码,名称,类别,主管机构代码,法定时限,承诺时限,实施编码,业务办理项编码
QS997001,新区事项,公共服务事项,510899300,20,5,11510899MB0000000X2000000000099,
";

async fn files_import_all_or_nothing(app: TestApp) {
    let audits = |app: &TestApp| {
        let store = app.app.store.clone();
        async move { store.audit_entries("catalog.import", 0, 1000).await.unwrap().len() }
    };
    for (name, text) in
        [("orgs.csv", ORGS), ("halls.csv", HALLS), ("windows.csv", WINDOWS), ("staff.csv", STAFF), ("items.csv", ITEMS)]
    {
        let summary = import(&app, name, text).await.unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert!(summary.contains("新增") && !summary.contains("新增 0"), "{name}: {summary}");
    }
    // A child listed before its parent is placed under it.
    let village = app.app.store.org_by_code("510899301").await.unwrap().unwrap();
    assert_eq!(village.parent_code.as_deref(), Some("510899300"));
    assert_eq!(village.area_code.as_deref(), Some("510899300201"));
    assert!(app.app.store.window_by_code("W-510899300-01").await.unwrap().is_some());
    let items = app.app.store.list_items().await.unwrap();
    let item = items.iter().find(|i| i.code == "QS997001").unwrap();
    assert_eq!(item.implementation_code.as_deref(), Some("11510899MB0000000X2000000000099"));
    assert_eq!((item.legal_limit_days, item.promised_limit_days), (Some(20), Some(5)));
    let after_first = audits(&app).await;
    assert_eq!(after_first, 6, "one audit entry per entry added");

    // The same file again changes nothing, and writes no audit entry.
    assert_eq!(import(&app, "orgs.csv", ORGS).await.unwrap(), "机构:新增 0,修改 0,未变 2");
    assert_eq!(import(&app, "items.csv", ITEMS).await.unwrap(), "事项:新增 0,修改 0,未变 1");
    assert_eq!(audits(&app).await, after_first);

    // A changed row changes its entry (a blank optional cell keeps what is stored), audited.
    let changed = ITEMS.replace("新区事项,公共服务事项,510899300,20,5", "新区事项(更名),公共服务事项,510899300,,3");
    assert_eq!(import(&app, "items.csv", &changed).await.unwrap(), "事项:新增 0,修改 1,未变 0");
    let items = app.app.store.list_items().await.unwrap();
    let item = items.iter().find(|i| i.code == "QS997001").unwrap();
    assert_eq!(
        (item.name.as_str(), item.legal_limit_days, item.promised_limit_days),
        ("新区事项(更名)", Some(20), Some(3))
    );
    assert_eq!(audits(&app).await, after_first + 1);

    // A staff member's mobile and ID number: sealed; the same values again are no change; a new one is.
    let staff = "工号,姓名,所属机构代码,窗口编码,手机号,身份证号\nQS7001,新同事,510899300,W-510899300-01,13912345678,11010519491231002X\n";
    assert_eq!(import(&app, "staff.csv", staff).await.unwrap(), "工作人员:新增 0,修改 1,未变 0");
    assert_eq!(import(&app, "staff.csv", staff).await.unwrap(), "工作人员:新增 0,修改 0,未变 1");
    let changed = staff.replace("13912345678", "13912345679");
    assert_eq!(import(&app, "staff.csv", &changed).await.unwrap(), "工作人员:新增 0,修改 1,未变 0");
    let errors = import(&app, "staff.csv", &staff.replace("13912345678", "139")).await.unwrap_err();
    assert!(errors[0].contains("第 2 行“手机号”"), "{errors:#?}");
    let listed = app.app.store.list_staff("/").await.unwrap();
    let s = listed.iter().find(|s| s.staff_number == "QS7001").unwrap();
    assert!(s.has_mobile && s.has_id_number);

    // GB18030, as Excel saves a CSV on a Chinese Windows.
    let (gbk, _, _) = encoding_rs::GB18030.encode("工号,姓名,所属机构代码\nQS7002,老同事,510899300\n");
    let actor = hcp_app::audit::Actor::operator();
    let r = app.app.import_catalog(&actor, None, "staff.csv", &gbk, &|_, _| {}).await.unwrap();
    assert_eq!(r.summary(), "工作人员:新增 1,修改 0,未变 0");

    // Every bad line at once, with its line, column and reason; nothing written.
    let bad = "机构代码,名称,类型,上级机构代码,统一社会信用代码,行政区划代码
510899302,,村,510899300,,
510899303,甲村,星球,510899300,,
510899304,乙村,村,999999,,
510899305,丙村,村,510899300,11510899MB0000000A,5108
510899306,丁村,村,510899306,,
510899300,新区镇,社区,510899,,
510899307,戊村,村,510899300,,
510899307,戊村,村,510899300,,
a b,己村,村,510899300,,
";
    let errors = import(&app, "orgs.csv", bad).await.unwrap_err();
    for expected in [
        "orgs.csv 第 2 行“名称”:请填写名称",
        "orgs.csv 第 3 行“类型”:应为以下之一",
        "orgs.csv 第 4 行“上级机构代码”:上级机构“999999”不存在",
        "orgs.csv 第 5 行“统一社会信用代码”:统一社会信用代码校验位不正确",
        "orgs.csv 第 5 行“行政区划代码”:行政区划代码应为 12 位数字",
        "orgs.csv 第 6 行“上级机构代码”",
        "orgs.csv 第 7 行“类型”:导入不能更改已有机构的类型",
        "orgs.csv 第 9 行“机构代码”:与第 8 行重复",
        "orgs.csv 第 10 行“机构代码”:机构代码须为",
    ] {
        assert!(errors.iter().any(|e| e.starts_with(expected)), "{expected}\n{errors:#?}");
    }
    assert_eq!(errors.len(), 9, "{errors:#?}");
    assert!(app.app.store.org_by_code("510899307").await.unwrap().is_none(), "nothing of a bad file is written");

    // Headers: an unknown column, a missing one, an unknown kind of file.
    let errors = import(&app, "items.csv", "事项编码,名称,类别,主管机构,法定时限\nQS1,x,公共服务事项,510899,1\n")
        .await
        .unwrap_err();
    assert!(errors.iter().any(|e| e.contains("“主管机构”:事项表没有这一列")), "{errors:#?}");
    assert!(errors.iter().any(|e| e.contains("“主管机构代码”:缺少这一必填列")), "{errors:#?}");
    let errors = import(&app, "x.csv", "编号,名称\n1,2\n").await.unwrap_err();
    assert!(errors[0].contains("第一列应为"), "{errors:#?}");
    let errors = import(&app, "x.csv", "").await.unwrap_err();
    assert!(errors[0].contains("空"), "{errors:#?}");

    // References of every other kind, and changes an import may not make.
    let errors = import(
        &app,
        "windows.csv",
        "窗口编码,名称,类型,大厅编码,所属机构代码\nW-X,x,综合窗口,H-NOPE,510899300\nW-510899300-01,y,综合窗口,H-510899300,510899\n",
    )
    .await
    .unwrap_err();
    assert!(errors.iter().any(|e| e.contains("第 2 行“大厅编码”:大厅“H-NOPE”不存在")), "{errors:#?}");
    assert!(errors.iter().any(|e| e.contains("第 3 行“大厅编码”:导入不能更改已有窗口")), "{errors:#?}");
    let errors =
        import(&app, "staff.csv", "工号,姓名,所属机构代码,窗口编码\nQS7003,x,510899300,W-NOPE\n").await.unwrap_err();
    assert!(errors[0].contains("“窗口编码”:窗口“W-NOPE”不存在"), "{errors:#?}");
    let errors = import(
        &app,
        "items.csv",
        "事项编码,名称,类别,主管机构代码,法定时限,承诺时限,实施编码\nQS997002,x,公共服务事项,510899,0,,123\nQS997001,x,公共服务事项,510899,,,\n",
    )
    .await
    .unwrap_err();
    for expected in
        ["“法定时限”:法定时限须为", "“实施编码”:实施编码应为 31 位", "“主管机构代码”:导入不能更改已有事项的主管机构"]
    {
        assert!(errors.iter().any(|e| e.contains(expected)), "{expected}\n{errors:#?}");
    }
}

/// Issue 15 §4: platforms per organization come in by file like the rest of the catalog.
async fn platforms_come_in_by_file(app: TestApp) {
    let file = "平台编码,名称,运行机构代码\nP-QSWEB,青山县政务服务网,510899D01\nP-QSAPP,青山通办(移动端),510899D01\n";
    assert_eq!(import(&app, "platforms.csv", file).await.unwrap(), "平台:新增 2,修改 0,未变 0");
    assert_eq!(import(&app, "platforms.csv", file).await.unwrap(), "平台:新增 0,修改 0,未变 2");
    let renamed = file.replace("青山通办(移动端)", "青山通办");
    assert_eq!(import(&app, "platforms.csv", &renamed).await.unwrap(), "平台:新增 0,修改 1,未变 1");
    let platforms = app.app.store.list_platforms().await.unwrap();
    assert!(platforms.iter().any(|p| p.code == "P-QSAPP" && p.name == "青山通办"), "{platforms:?}");
    // A record names an imported platform at once.
    let mut body = crate::helpers::record_body("PF-1");
    body["platform_code"] = serde_json::json!("P-QSWEB");
    app.register(&body).await;

    let bad = "平台编码,名称,运行机构代码\nP X,,510899D01\nP-QSWEB,青山县政务服务网,510899\nP-NEW,新平台,999999\n";
    let errors = import(&app, "platforms.csv", bad).await.unwrap_err();
    for expected in [
        "第 2 行“平台编码”",
        "第 2 行“名称”",
        "第 3 行“运行机构代码”:导入不能更改已有平台的运行机构",
        "第 4 行“运行机构代码”:机构“999999”不存在",
    ] {
        assert!(errors.iter().any(|e| e.contains(expected)), "{expected}\n{errors:#?}");
    }
    assert!(app.app.store.platform_id_by_code("P-NEW").await.unwrap().is_none(), "nothing of a bad file");
}

fn workbook(sheets: &[(&str, &[&[&str]])]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    for (name, rows) in sheets {
        let sheet = book.add_worksheet();
        sheet.set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                // Digits go in as numbers, the way a clerk's Excel stores them.
                match cell.parse::<f64>() {
                    Ok(n) if !cell.is_empty() && cell.len() < 15 => sheet.write_number(r as u32, c as u16, n).unwrap(),
                    _ => sheet.write_string(r as u32, c as u16, *cell).unwrap(),
                };
            }
        }
    }
    book.save_to_buffer().unwrap()
}

async fn a_workbook_with_a_sheet_per_kind(app: TestApp) {
    let book = workbook(&[
        ("说明", &[&["请按表头填写"]]),
        (
            "机构",
            &[
                &["机构代码", "名称", "类型", "上级机构代码", "行政区划代码"],
                &["510899400", "工业园区", "乡镇", "510899", "510899400000"],
            ],
        ),
        (
            "大厅",
            &[
                &["大厅编码", "名称", "类型", "所属机构代码"],
                &["H-510899400", "园区服务中心", "便民服务中心", "510899400"],
            ],
        ),
        (
            "窗口",
            &[
                &["窗口编码", "名称", "类型", "大厅编码", "所属机构代码"],
                &["W-510899400-01", "企业服务窗口", "综合窗口", "H-510899400", "510899400"],
            ],
        ),
        (
            "工作人员",
            &[&["工号", "姓名", "所属机构代码", "窗口编码"], &["QS8001", "园区专员", "510899400", "W-510899400-01"]],
        ),
        (
            "事项",
            &[
                &["事项编码", "名称", "类别", "主管机构代码", "法定时限"],
                &["QS998001", "企业开办", "行政许可", "510899400", "3"],
            ],
        ),
    ]);
    let actor = hcp_app::audit::Actor::operator();
    let r = app.app.import_catalog(&actor, None, "catalog.xlsx", &book, &|_, _| {}).await.unwrap();
    assert_eq!(
        r.summary(),
        "机构:新增 1,修改 0,未变 0;大厅:新增 1,修改 0,未变 0;窗口:新增 1,修改 0,未变 0;工作人员:新增 1,修改 0,未变 0;事项:新增 1,修改 0,未变 0"
    );
    let org = app.app.store.org_by_code("510899400").await.unwrap().unwrap();
    assert_eq!(org.area_code.as_deref(), Some("510899400000"), "a number cell reads as the digits typed");
    // The new window takes a record at once.
    let mut body = crate::helpers::record_body("WB-1");
    body["org_code"] = serde_json::json!("510899400");
    body["window_code"] = serde_json::json!("W-510899400-01");
    body["staff_number"] = serde_json::json!("QS8001");
    body["item_code"] = serde_json::json!("QS998001");
    app.register(&body).await;

    // One bad sheet fails the whole workbook; the sheet is named.
    let book = workbook(&[
        ("机构", &[&["机构代码", "名称", "类型", "上级机构代码"], &["510899401", "二号园区", "乡镇", "510899"]]),
        ("事项", &[&["事项编码", "名称", "类别", "主管机构代码"], &["QS998002", "x", "不存在的类别", "510899401"]]),
    ]);
    let e = app.app.import_catalog(&actor, None, "catalog.xlsx", &book, &|_, _| {}).await.unwrap_err();
    let hcp_app::AppError::Invalid(v) = e else { panic!("{e:?}") };
    assert!(v[0].message.starts_with("事项 第 2 行“类别”"), "{v:?}");
    assert!(app.app.store.org_by_code("510899401").await.unwrap().is_none());
}

#[tokio::test]
async fn the_cli_imports_with_every_reason_printed() {
    let (url, dir) = crate::helpers::fresh_database(crate::helpers::Backend::Sqlite).await.unwrap();
    let dir = dir.unwrap();
    let hcp = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_hcp")).args(args).env_remove("HCP_DATABASE_URL").output().unwrap()
    };
    assert!(hcp(&["demo", "--records", "0", "--database-url", &url]).status.success());
    // A large file: 3,000 staff members (the progress bar runs on stderr).
    let mut csv = String::from("工号,姓名,所属机构代码\n");
    for i in 0..3000 {
        csv.push_str(&format!("QS5{i:04},职员{i},510899D01\n"));
    }
    let file = dir.path().join("staff.csv");
    std::fs::write(&file, &csv).unwrap();
    let o = hcp(&["catalog", "import", file.to_str().unwrap(), "--database-url", &url]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("工作人员:新增 3000,修改 0,未变 0"));
    let o = hcp(&["catalog", "import", file.to_str().unwrap(), "--database-url", &url]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("新增 0,修改 0,未变 3000"));

    std::fs::write(&file, "工号,姓名,所属机构代码\nQS6001,,510899D01\nQS6002,x,nowhere\n").unwrap();
    let o = hcp(&["catalog", "import", file.to_str().unwrap(), "--database-url", &url]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("staff.csv 第 2 行“姓名”") && err.contains("staff.csv 第 3 行“所属机构代码”"), "{err}");
    assert!(err.contains("有 2 处错误,未导入任何内容"), "{err}");
    // A file far larger than any catalog is refused before it is read (a sparse file: no disk used).
    let huge = dir.path().join("huge.csv");
    std::fs::File::create(&huge).unwrap().set_len(60 * 1024 * 1024).unwrap();
    let o = hcp(&["catalog", "import", huge.to_str().unwrap(), "--database-url", &url]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("超过基础信息文件 50 MB 的上限"), "{err}");
    let o = hcp(&["calendar", "import", huge.to_str().unwrap(), "--database-url", &url]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("超过 1 MB"), "{err}");
}
