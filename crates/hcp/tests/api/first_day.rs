//! Issue 28: a real county's first day, exactly as docs/上线指南.md says, through the real program on an empty
//! database — init, the template, an import with mistakes reported then fixed, accounts, a device, an API key,
//! a record and its evaluation — with an unreachable upper level reported as failing on the console, in
//! `hcp exchange status` and in `/readyz`, and `hcp doctor` going from ✗ to ✓ along the way.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Backend, fresh_database};
use crate::upper_level::{APP_MARK, APP_WORD, UpperLevel};

struct County {
    url: String,
    keys: String,
    dir: tempfile::TempDir,
}

impl County {
    fn hcp(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_hcp"))
            .args(args)
            .env("HCP_DATABASE_URL", &self.url)
            .env("HCP_DATA_KEYS_FILE", &self.keys)
            .env("HCP_NEW_PASSWORD", "first-day-password")
            .env_remove("HCP_DATA_KEYS")
            .env_remove("HCP_INIT_PASSWORD")
            .current_dir(self.dir.path())
            .output()
            .expect("run hcp")
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The doctor's line of a check, by its title.
fn doctor_line(report: &str, title: &str) -> String {
    report
        .lines()
        .find(|l| l.contains(&format!(" {title}:")))
        .unwrap_or_else(|| panic!("{title}: {report}"))
        .to_string()
}

/// A workbook of the given sheets (name, rows with the header first).
fn workbook(path: &str, sheets: &[(&str, Vec<Vec<&str>>)]) {
    let mut book = rust_xlsxwriter::Workbook::new();
    for (name, rows) in sheets {
        let sheet = book.add_worksheet();
        sheet.set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                sheet.write_string(r as u32, c as u16, *cell).unwrap();
            }
        }
    }
    book.save(path).unwrap();
}

/// The county's catalog; `mistakes` puts three in it (a wrong organization kind — which the township's hall
/// then depends on —, a short mobile number, an unknown category).
fn catalog(path: &str, mistakes: bool) {
    let kind = if mistakes { "镇" } else { "乡镇" };
    let mobile = if mistakes { "1381234" } else { "13812345678" };
    let category = if mistakes { "公共服务事项类" } else { "公共服务" };
    workbook(
        path,
        &[
            (
                "机构",
                vec![
                    vec!["机构代码*", "名称*", "类型*", "上级机构代码"],
                    vec!["510999D01", "绿水县行政审批局", "部门", "510999"],
                    vec!["510999T01", "清河镇", kind, "510999"],
                    vec!["510999T01V01", "柳树村", "村", "510999T01"],
                ],
            ),
            (
                "大厅",
                vec![
                    vec!["大厅编码", "名称", "类型", "所属机构代码"],
                    vec!["H-LS-01", "绿水县政务服务中心", "政务服务大厅", "510999"],
                    vec!["H-LS-T01", "清河镇便民服务中心", "便民服务中心", "510999T01"],
                ],
            ),
            (
                "窗口",
                vec![
                    vec!["窗口编码", "名称", "类型", "大厅编码", "所属机构代码"],
                    vec!["W-LS-C01", "综合窗口1号", "综合窗口", "H-LS-01", "510999"],
                ],
            ),
            (
                "工作人员",
                vec![
                    vec!["工号", "姓名", "所属机构代码", "窗口编码", "手机号"],
                    vec!["LS0001", "王芳", "510999", "W-LS-C01", mobile],
                ],
            ),
            (
                "事项",
                vec![
                    vec!["事项编码", "名称", "类别", "主管机构代码", "承诺时限"],
                    vec!["LS-I-001", "个体工商户设立登记", "行政许可", "510999D01", "5"],
                    vec!["LS-I-002", "城乡居民养老保险参保登记", category, "510999", "1"],
                ],
            ),
        ],
    );
}

/// `hcp serve` on port 0 with `extra` options; its base URL (`http://…`) once it listens.
async fn serve(county: &County, extra: &[&str]) -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_hcp"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .env("HCP_DATABASE_URL", &county.url)
        .env("HCP_DATA_KEYS_FILE", &county.keys)
        .env_remove("HCP_DATA_KEYS")
        .current_dir(county.dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start hcp serve");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    while let Some(line) = lines.next_line().await.unwrap() {
        if let Some(addr) = line.strip_prefix("listening on ") {
            let base = addr.trim().to_string();
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return (child, base);
        }
    }
    panic!("hcp serve did not say where it listens");
}

async fn post(http: &reqwest::Client, url: String, body: &Value, key: Option<&str>) -> (u16, Value) {
    let mut req = http.post(url).json(body);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_goes_live_from_an_empty_database_sqlite() {
    goes_live(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_goes_live_from_an_empty_database_postgres() {
    goes_live(Backend::Postgres).await;
}

async fn goes_live(backend: Backend) {
    let Some((url, _db_dir)) = fresh_database(backend).await else { return };
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("county.keys").display().to_string();
    let county = County { url, keys, dir };

    // Before anything: the doctor says what is missing, and fails.
    let o = county.hcp(&["doctor"]);
    assert!(!o.status.success());
    assert!(doctor_line(&out(&o), "本县机构").starts_with('✗'), "{}", out(&o));

    // Step 2: the county and its first administrator (and, on PostgreSQL, the data keys).
    let o = county.hcp(&[
        "init",
        "--org-code",
        "510999",
        "--org-name",
        "绿水县",
        "--org-kind",
        "county",
        "--area-code",
        "510999000000",
        "--admin-username",
        "admin",
        "--admin-name",
        "刘明",
    ]);
    assert!(o.status.success(), "{}{}", out(&o), err(&o));
    let password = out(&o).lines().find_map(|l| l.strip_prefix("初始密码:")).expect("the password line").to_string();
    assert!(password.len() >= 10);
    assert!(Path::new(&county.keys).exists(), "the data key file is made on both databases");
    let again = county.hcp(&["init", "--org-code", "X1", "--org-name", "又一个县", "--admin-username", "admin2"]);
    assert!(!again.status.success());
    assert!(err(&again).contains("已有 1 个机构"), "{}", err(&again));
    let o = county.hcp(&["doctor"]);
    assert!(doctor_line(&out(&o), "本县机构").starts_with('✓'), "{}", out(&o));
    assert!(doctor_line(&out(&o), "基础信息").starts_with('✗'), "{}", out(&o));

    // Step 3: the template, then the catalog — three mistakes, each reported, nothing written; then fixed.
    let template = county.path("模板.xlsx");
    assert!(county.hcp(&["catalog", "template", &template]).status.success());
    assert!(std::fs::metadata(&template).unwrap().len() > 3000);
    let file = county.path("绿水县基础信息.xlsx");
    catalog(&file, true);
    let o = county.hcp(&["catalog", "import", &file]);
    assert!(!o.status.success());
    let report = err(&o);
    for says in [
        "机构 第 3 行“类型”:应为以下之一",
        "机构 第 4 行“上级机构代码”:上级机构“510999T01”在本文件第 3 行,该行有错误",
        "大厅 第 3 行“所属机构代码”:机构“510999T01”在本文件“机构”表第 3 行,该行有错误",
        "工作人员 第 2 行“手机号”",
        "事项 第 3 行“类别”:应为以下之一(写全称、简称或代码均可)",
    ] {
        assert!(report.contains(says), "{says}\n{report}");
    }
    assert!(!report.contains("循环") && !report.contains("本文件和系统中都没有"), "{report}");
    catalog(&file, false);
    let o = county.hcp(&["catalog", "import", &file]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("机构:新增 3"), "{}", out(&o));

    // Step 4: an account per role.
    for (user, role, org) in [
        ("center", "center_admin", "510999"),
        ("hotline", "hotline_agent", "510999"),
        ("unit", "unit_admin", "510999T01"),
        ("office", "county_office", "510999"),
        ("auditor", "auditor", "510999"),
    ] {
        let o = county.hcp(&["user", "create", "--username", user, "--role", role, "--org", org]);
        assert!(o.status.success(), "{user}: {}", err(&o));
    }
    // Steps 6–7: a device at the window, and a key for the county's 办件 system.
    let o = county.hcp(&["device", "add", "--code", "LS-D-01", "--name", "综合窗口1号评价器", "--window", "W-LS-C01"]);
    assert!(o.status.success(), "{}", err(&o));
    let o = county.hcp(&["apikey", "create", "--name", "绿水县办件系统"]);
    assert!(o.status.success(), "{}", err(&o));
    let api_key = out(&o).lines().last().unwrap().trim().to_string();
    let o = county.hcp(&["doctor"]);
    for title in ["各角色账号", "基础信息", "窗口评价器", "办件系统接口密钥"] {
        assert!(doctor_line(&out(&o), title).starts_with('✓'), "{title}: {}", out(&o));
    }
    for title in ["访问地址", "短信平台", "省平台对接", "备份"] {
        assert!(doctor_line(&out(&o), title).starts_with('✗'), "{title}: {}", out(&o));
    }

    // The upper level is configured but unreachable: a closed port.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/hcp", l.local_addr().unwrap())
    };
    let mock = UpperLevel::start().await;
    let upstream = |url: &str| -> Vec<String> {
        [
            "--upstream-url",
            url,
            // The mock upper level speaks plain HTTP; a real one must be https:// (issue 29 §4).
            "--upstream-allow-http",
            "--upstream-public-key",
            &mock.public_key,
            "--upstream-app-mark",
            APP_MARK,
            "--upstream-app-word",
            APP_WORD,
            "--upstream-data-source",
            "165",
            "--upstream-timeout",
            "2",
            "--upstream-retry-max",
            "5",
            "--upstream-area-code",
            "510999000000",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let failing = upstream(&closed);
    let args: Vec<&str> = failing.iter().map(String::as_str).collect();
    let (mut server, base) = serve(&county, &args).await;
    let http = reqwest::Client::new();
    let base_url = base.clone();

    // A record from the 办件 system, and its evaluation.
    let now = chrono::Utc::now();
    let record = json!({
        "record_number": "LS20261208001",
        "item_code": "LS-I-001",
        "org_code": "510999",
        "window_code": "W-LS-C01",
        "staff_number": "LS0001",
        "applicant": { "kind": "person", "name": "张三", "id_number": crate::helpers::ID_NUMBER, "mobile": "13812345678" },
        "received_at": (now - chrono::Duration::hours(2)).to_rfc3339(),
        "completed_at": (now - chrono::Duration::hours(1)).to_rfc3339(),
    });
    let (status, v) = post(&http, format!("{base_url}/api/v1/service-records"), &record, Some(&api_key)).await;
    assert_eq!(status, 201, "{v}");
    let token = v["evaluation_token"].as_str().unwrap().to_string();
    let body = json!({ "token": token, "level": "very_satisfied", "indicator_ids": [], "staff_indicator_ids": [],
                       "channel": "qr_code" });
    let (status, v) = post(&http, format!("{base_url}/api/v1/evaluations"), &body, None).await;
    assert_eq!(status, 201, "{v}");

    // The failure is told everywhere, with its reason, never "已对接".
    let mut ready = Value::Null;
    for _ in 0..100 {
        ready = http.get(format!("{base_url}/readyz")).send().await.unwrap().json().await.unwrap();
        if ready["exchange"] == "failing" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(ready["exchange"], "failing", "{ready}");
    assert_eq!(ready["database"], "ok", "{ready}");
    assert!(ready["exchange_note"].as_str().unwrap().contains("无法连接上级平台"), "{ready}");
    let status = county.hcp(&["exchange", "status"]);
    assert!(out(&status).contains("状态:连接失败"), "{}", out(&status));
    assert!(out(&status).contains("失败原因:无法连接上级平台"), "{}", out(&status));
    let browser = crate::console::login_at(&base_url, "center", "first-day-password").await;
    let (code, page) = browser.get("/console/exchange").await;
    assert_eq!(code, 200);
    assert!(page.contains("连接失败") && !page.contains("已对接"), "{page}");
    let (_, home) = browser.get("/console").await;
    assert!(home.contains("上线检查") && home.contains("未配置短信平台"), "{home}");
    let (_, template) = browser.get("/console/catalog/template.xlsx").await;
    assert!(template.starts_with("PK"), "the console offers the same template");
    let admin = crate::console::login_at(&base_url, "admin", &password).await;
    assert_eq!(admin.get("/console").await.0, 200, "the first administrator logs in with the printed password");
    server.kill().await.unwrap();

    // The last steps: the real upper level, the SMS gateway, the public address, next year's calendar, a
    // backup — and the doctor has nothing left to say.
    let joined = upstream(&mock.url);
    let args: Vec<&str> = joined.iter().map(String::as_str).collect();
    let (mut server, base) = serve(&county, &args).await;
    let mut accepted = Value::Null;
    for _ in 0..300 {
        accepted = http.get(format!("{base}/readyz")).send().await.unwrap().json().await.unwrap();
        if accepted["exchange"] == "ok" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(accepted["exchange"], "ok", "{accepted}");
    server.kill().await.unwrap();
    let year = county.path("2027.csv");
    std::fs::write(&year, "2027-01-01,holiday,元旦\n").unwrap();
    assert!(county.hcp(&["calendar", "import", &year]).status.success());
    let backups = county.path("备份");
    std::fs::create_dir(&backups).unwrap();
    let o = county.hcp(&["backup", &format!("{backups}/首次备份")]);
    assert!(o.status.success(), "{}", err(&o));
    let mut doctor = vec!["doctor", "--public-url", "http://10.1.2.3:8080", "--sms-webhook", "http://10.1.2.4/sms"];
    doctor.extend(["--backup-dir", &backups]);
    doctor.extend(args.iter());
    let o = county.hcp(&doctor);
    assert!(o.status.success(), "{}{}", out(&o), err(&o));
    assert!(!out(&o).contains('✗'), "{}", out(&o));
    assert!(out(&o).contains("上线检查全部通过"), "{}", out(&o));
}

/// Issue 28 §1: a city's database holds the city and, with `--another`, its counties; a second first run is
/// refused with the reason, and every mistake of a run is named at once, nothing written.
#[tokio::test]
async fn a_city_adds_its_counties_with_another() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some((url, _db_dir)) = fresh_database(backend).await else { continue };
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("city.keys").display().to_string();
        let city = County { url, keys, dir };
        let o = city.hcp(&[
            "init",
            "--org-code",
            "bad code",
            "--org-name",
            "",
            "--org-kind",
            "乡镇",
            "--area-code",
            "51",
            "--admin-username",
            "A",
        ]);
        assert!(!o.status.success());
        let e = err(&o);
        for says in ["机构代码", "机构名称", "不能作为最上级机构", "用户名"] {
            assert!(e.contains(says), "{says}: {e}");
        }
        let o = city.hcp(&[
            "init",
            "--org-code",
            "5108",
            "--org-name",
            "青山市",
            "--org-kind",
            "city",
            "--admin-username",
            "admin",
        ]);
        assert!(o.status.success(), "{}", err(&o));
        let again =
            city.hcp(&["init", "--org-code", "510899", "--org-name", "青山县", "--admin-username", "county.admin"]);
        assert!(!again.status.success() && err(&again).contains("--another"), "{}", err(&again));
        let o = city.hcp(&[
            "init",
            "--another",
            "--org-code",
            "510899",
            "--org-name",
            "青山县",
            "--admin-username",
            "county.admin",
        ]);
        assert!(o.status.success(), "{}", err(&o));
        let o = city.hcp(&[
            "init",
            "--another",
            "--org-code",
            "5109",
            "--org-name",
            "又一市",
            "--org-kind",
            "city",
            "--admin-username",
            "x.admin",
        ]);
        assert!(!o.status.success() && err(&o).contains("--another 只能再增加一个县级机构"), "{}", err(&o));
        let o = city.hcp(&[
            "init",
            "--another",
            "--org-code",
            "510899",
            "--org-name",
            "重名县",
            "--admin-username",
            "y.admin",
        ]);
        assert!(!o.status.success() && err(&o).contains("已被使用"), "{}", err(&o));
        let o = city.hcp(&["doctor"]);
        assert!(doctor_line(&out(&o), "本县机构").contains("青山市、青山县"), "{}", out(&o));
    }
}
