//! The operators' command line, run as the real binary.

use std::process::{Command, Output};

use crate::helpers::{Backend, fresh_database};

fn hcp(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hcp")).args(args).env_remove("HCP_DATABASE_URL").output().expect("run hcp")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["demo", "--help"],
        vec!["jobs", "run", "--help"],
        vec!["apikey", "create", "--help"],
        vec!["stats", "rebuild", "--help"],
        vec!["stats", "check", "--help"],
        vec!["device", "add", "--help"],
    ] {
        let o = hcp(&args);
        assert!(o.status.success(), "{args:?}");
        assert!(stdout(&o).contains("--database-url"), "{args:?} documents --database-url");
    }
}

/// Issue 28 §6: every command's and option's help in Chinese, with Chinese headings; the county's options
/// only where they apply, so that one file argument does not come with sixty lines.
#[test]
fn help_is_in_chinese_and_short_where_the_command_is() {
    let top = stdout(&hcp(&["--help"]));
    for command in ["init", "doctor", "serve", "catalog", "exchange", "backup"] {
        assert!(top.contains(&format!("  {command} ")), "{command}: {top}");
    }
    assert!(top.contains("上线指南"), "{top}");
    for args in [
        vec!["--help"],
        vec!["init", "--help"],
        vec!["doctor", "--help"],
        vec!["serve", "--help"],
        vec!["catalog", "--help"],
        vec!["catalog", "import", "--help"],
        vec!["catalog", "template", "--help"],
        vec!["user", "create", "--help"],
        vec!["exchange", "status", "--help"],
        vec!["calendar", "add-working-days", "--help"],
        vec!["backup", "--help"],
        vec!["integrity", "scan", "--help"],
    ] {
        let text = stdout(&hcp(&args));
        assert!(text.contains("用法:") && text.contains("显示帮助"), "{args:?}: {text}");
        for english in ["Usage:", "Options:", "Commands:", "Print help", "Arguments:"] {
            assert!(!text.contains(english), "{args:?} shows {english}: {text}");
        }
        // Every option and argument line is followed by a description with Chinese in it.
        let described = text.lines().filter(|l| l.trim_start().starts_with("--") || l.trim_start().starts_with("-h"));
        for line in described {
            let at = text.find(line).unwrap() + line.len();
            let next = text[at..].lines().nth(1).unwrap_or("");
            let chinese = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
            assert!(chinese(line) || chinese(next), "{args:?}: {line} has no Chinese description");
        }
    }
    let import = stdout(&hcp(&["catalog", "import", "--help"]));
    assert!(import.lines().count() < 25, "{import}");
    assert!(!import.contains("--sms-webhook") && !import.contains("--level-weights"), "{import}");
    let serve = stdout(&hcp(&["serve", "--help"]));
    assert!(serve.contains("县里确定的规则") && serve.contains("与省平台对接"), "{serve}");
}

/// Issue 18 §6: `hcp --version` names the schema it brings; `hcp migrate --dry-run` lists what `migrate` would
/// do and changes nothing.
#[tokio::test]
async fn the_version_names_its_schema_and_a_dry_run_changes_nothing() {
    let schema = hcp_store::Store::schema_version();
    assert!(schema >= 17);
    let o = hcp(&["--version"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains(&format!("{}(数据库结构版本 {schema})", env!("CARGO_PKG_VERSION"))), "{}", stdout(&o));

    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some((url, _dir)) = fresh_database(backend).await else { continue };
        let o = hcp(&["migrate", "--dry-run", "--database-url", &url]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let out = stdout(&o);
        assert!(
            out.contains(&format!("将执行 {schema} 项迁移"))
                && out.contains("0001 core")
                && out.contains("0017 integrity")
                && out.contains("0018 inspections"),
            "{out}"
        );
        // Nothing was applied: the same list again.
        assert_eq!(stdout(&hcp(&["migrate", "--dry-run", "--database-url", &url])), out);
        assert!(hcp(&["migrate", "--database-url", &url]).status.success());
        let o = hcp(&["migrate", "--dry-run", "--database-url", &url]);
        assert!(stdout(&o).contains("无需迁移"), "{}", stdout(&o));
    }
}

/// Issue 16 §3: the integrity thresholds are the county's to set; a wrong one is refused before anything runs.
#[test]
fn integrity_thresholds_are_options_and_wrong_ones_are_refused() {
    let o = hcp(&["serve", "--help"]);
    assert!(stdout(&o).contains("--integrity-thresholds"), "{}", stdout(&o));
    for (bad, says) in [("nope=3", "没有名为“nope”的检查阈值"), ("burst_size=0", "burst_size 应为正整数")]
    {
        let o =
            hcp(&["integrity", "scan", "--from", "2026-11-01", "--to", "2026-11-02", "--integrity-thresholds", bad]);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{bad}: {err}");
    }
}

#[tokio::test]
async fn database_url_goes_before_or_after_and_keys_print_alone_on_the_last_line() {
    let (url, _dir) = fresh_database(Backend::Sqlite).await.unwrap();
    assert!(hcp(&["--database-url", &url, "migrate"]).status.success());
    assert!(hcp(&["migrate", "--database-url", &url]).status.success());

    let o = Command::new(env!("CARGO_BIN_EXE_hcp"))
        .args(["apikey", "create", "--name", "不动产登记系统"])
        .env("HCP_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = stdout(&o);
    let last = out.lines().last().unwrap();
    assert!(last.starts_with("hcp_") && !last.contains(' '), "{last}");

    let o = hcp(&["apikey", "create", "--name", "x", "--org", "nowhere", "--database-url", &url]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("不存在"));
}

#[tokio::test]
async fn jobs_run_now_records_defaults_once() {
    let (url, _dir) = fresh_database(Backend::Sqlite).await.unwrap();
    let o = hcp(&["demo", "--records", "2000", "--seed", "7", "--database-url", &url]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout(&o).contains("演示县“青山县”已加载"));

    let later = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let o = hcp(&["jobs", "run", "--now", &later, "--database-url", &url]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = stdout(&o);
    let first: u64 =
        out.lines().next().unwrap().trim_start_matches("默认评价:").trim_end_matches(" 条").parse().unwrap();
    assert!(first > 0, "the demo's newest records were still open");
    let o = hcp(&["jobs", "run", "--now", &later, "--database-url", &url]);
    assert_eq!(stdout(&o).lines().next(), Some("默认评价:0 条"));

    let o = hcp(&["jobs", "run", "--now", "yesterday", "--database-url", &url]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("RFC 3339"));

    let o = hcp(&["demo", "--database-url", &url]);
    assert!(!o.status.success(), "the demo refuses a database that has data");

    // The rollups kept through the demo load, the defaults and the demo's appeals equal a recomputation.
    let o = hcp(&["stats", "check", "--database-url", &url]);
    assert!(o.status.success(), "{}{}", stdout(&o), String::from_utf8_lossy(&o.stderr));
    assert!(stdout(&o).contains("一致"));
    let o = hcp(&["stats", "rebuild", "--database-url", &url]);
    assert!(o.status.success() && stdout(&o).contains("已重算"), "{}", stdout(&o));
}

#[tokio::test]
async fn user_create_makes_the_first_admin() {
    let (url, _dir) = fresh_database(Backend::Sqlite).await.unwrap();
    assert!(hcp(&["demo", "--records", "0", "--database-url", &url]).status.success());
    let run = |args: &[&str], password: &str| {
        Command::new(env!("CARGO_BIN_EXE_hcp"))
            .args(args)
            .env("HCP_DATABASE_URL", &url)
            .env("HCP_NEW_PASSWORD", password)
            .output()
            .unwrap()
    };
    let o = run(
        &["user", "create", "--username", "zhang.wei", "--role", "center_admin", "--org", "510899", "--name", "张伟"],
        "a long password",
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o =
        run(&["user", "create", "--username", "zhang.wei", "--role", "auditor", "--org", "510899"], "a long password");
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("已存在"));
    let o = run(&["user", "create", "--username", "li.na", "--role", "auditor", "--org", "510899"], "short");
    assert!(String::from_utf8_lossy(&o.stderr).contains("至少 10 个字符"));
    let o = run(&["user", "create", "--username", "li.na", "--role", "boss", "--org", "510899"], "a long password");
    assert!(String::from_utf8_lossy(&o.stderr).contains("无法识别"));
}

/// Hall devices from the command line: the address printed once, listed with their window, stopped; a code
/// used twice or an unknown window refused with the reason.
#[tokio::test]
async fn devices_are_added_listed_and_revoked() {
    let (url, _dir) = fresh_database(Backend::Sqlite).await.unwrap();
    let o = hcp(&["demo", "--records", "0", "--database-url", &url]);
    assert!(stdout(&o).contains("/d/"), "the demo prints its device's address");
    let add = |code: &str, window: &str| {
        hcp(&["device", "add", "--code", code, "--name", "二号评价器", "--window", window, "--database-url", &url])
    };
    let o = add("QS-D-C02", "W-510899-C02");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let last = stdout(&o).lines().last().unwrap().to_string();
    assert!(last.contains("/d/") && last.len() > 50, "the address alone on the last line: {last}");
    let o = add("QS-D-C02", "W-510899-C02");
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("已被使用"));
    let o = add("QS-D-C03", "W-NOPE");
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("不存在"));
    let list = stdout(&hcp(&["device", "list", "--database-url", &url]));
    assert!(list.contains("QS-D-C01") && list.contains("QS-D-C02\t二号评价器\tW-510899-C02"), "{list}");
    assert!(hcp(&["device", "revoke", "--code", "QS-D-C02", "--database-url", &url]).status.success());
    assert!(stdout(&hcp(&["device", "list", "--database-url", &url])).contains("已停用"));
    assert!(!hcp(&["device", "revoke", "--code", "QS-D-C02", "--database-url", &url]).status.success());
}

/// The demo county's cases stand in every state, some overdue, with appeals waiting at both stages (issue 5
/// §9) — on SQLite and on PostgreSQL.
#[tokio::test]
async fn the_demo_has_cases_in_every_state() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some((url, _dir)) = fresh_database(backend).await else { continue };
        let o = Command::new(env!("CARGO_BIN_EXE_hcp"))
            .args(["demo", "--records", "30000", "--seed", "11", "--database-url", &url])
            .env("HCP_DATA_KEYS", hcp_crypto::Keyring::generate_text())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(stdout(&o).contains("差评工单"), "{}", stdout(&o));
        let store = hcp_store::Store::connect(&url, 2).await.unwrap();
        // Issue 28 §7: the summary states what the database holds, and the demo shows every feature it names.
        let f = store.feature_counts().await.unwrap();
        let summary = stdout(&o);
        assert!(summary.contains(&format!("下发整改通知 {} 件", f.rectification_orders)), "{f:?}\n{summary}");
        assert!(
            summary.contains(&format!(
                "评价真实性线索 {} 条(已办结 {} 条),调查暗访 {} 次,移送线索 {} 条;经办理平台办理的办件 {} 件",
                f.integrity_flags, f.flags_concluded, f.inspections, f.referrals, f.platform_records
            )),
            "{f:?}\n{summary}"
        );
        assert!(f.rectification_orders > 0, "the weak township ranks last month after month: {f:?}");
        assert!(f.flags_concluded >= 1 && f.integrity_flags > f.flags_concluded, "one concluded, one open: {f:?}");
        assert!(f.inspections >= 1 && f.referrals >= 1 && f.platform_records >= 1, "{f:?}");
        let counts: std::collections::HashMap<String, i64> =
            store.case_state_counts().await.unwrap().into_iter().collect();
        for state in hcp_domain::case::CaseState::ALL {
            assert!(
                counts.get(state.as_str()).copied().unwrap_or(0) > 0,
                "{backend:?}: no {} case in {counts:?}",
                state.as_str()
            );
        }
        let all = store
            .list_cases(&hcp_store::CaseFilter {
                plans_to_approve: false,
                scopes: vec!["/".into()],
                overdue_only: true,
                limit: 500,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(!all.is_empty(), "some cases are overdue");
        // The clock ran after the histories: only a case still waiting can be past the center's dispatch limit.
        let newest = store
            .list_cases(&hcp_store::CaseFilter {
                scopes: vec!["/".into()],
                newest_first: true,
                limit: 500,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(newest.iter().any(|c| c.fields.state == "closed"), "{backend:?}");
        for c in newest.iter().filter(|c| c.fields.dispatch_missed) {
            assert_eq!(c.fields.state, "unassigned", "{backend:?}: case {} marked past the dispatch limit", c.id);
        }
        let open: Vec<_> = store.list_appeals(&["/".into()], None, &["with_unit", "with_center"], 100).await.unwrap();
        assert!(
            open.iter().any(|a| a.state == "with_unit") && open.iter().any(|a| a.state == "with_center"),
            "{open:?}"
        );
        let decided = store.list_appeals(&["/".into()], None, &["upheld"], 100).await.unwrap();
        assert!(!decided.is_empty());
        assert!(store.is_invalidated(decided[0].evaluation_id).await.unwrap());
        // A year of monthly reports, published, and the statistics equal to the rows after all of it.
        let reports = store.list_reports("/", false, 100).await.unwrap();
        assert_eq!(reports.len(), 12, "{backend:?}");
        assert!(reports.iter().all(|r| r.state == "published" && r.kind == "month"));
        assert_eq!(store.rollup_mismatches().await.unwrap(), Vec::<String>::new());
        store.close().await;
    }
}

#[tokio::test]
async fn exchange_keygen_and_bad_upstream_configuration() {
    let (url, dir) = fresh_database(Backend::Sqlite).await.unwrap();
    let dir = dir.unwrap();
    assert!(hcp(&["migrate", "--database-url", &url]).status.success());

    // The county's key pair: the public key alone on the last line; not replaced without --force.
    let o = hcp(&["exchange", "keygen", "--database-url", &url]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = stdout(&o);
    let public = out.lines().last().unwrap().to_string();
    assert!(public.len() == 130 && public.starts_with("04"), "{public}");
    assert!(hcp_crypto::Sm2PublicKey::from_hex(&public).is_ok());
    let key_file = dir.path().join("hcp.db.keys.sm2");
    let secret = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(hcp_crypto::Sm2SecretKey::from_hex(&secret).unwrap().public_key().to_hex(), public);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let o = hcp(&["exchange", "keygen", "--database-url", &url]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--force"));
    let o = hcp(&["exchange", "keygen", "--force", "--database-url", &url]);
    assert!(o.status.success());
    assert_ne!(stdout(&o).lines().last().unwrap(), public);

    // Status and lists on an empty queue; a list needs to be told which.
    let o = hcp(&["exchange", "status", "--database-url", &url]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("状态:未配置"), "{}", stdout(&o));
    assert!(stdout(&o).contains("办件\t0\t0\t0\t0"), "{}", stdout(&o));
    assert!(hcp(&["exchange", "list", "--rejected", "--database-url", &url]).status.success());
    assert!(hcp(&["exchange", "list", "--unmatched", "--database-url", &url]).status.success());
    assert!(!hcp(&["exchange", "list", "--database-url", &url]).status.success());

    // A configuration that cannot work stops serve at start, saying why.
    let serve = |extra: &[&str]| {
        let mut args = vec![
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &url,
            "--upstream-url",
            "http://127.0.0.1:9/hcp",
        ];
        args.extend_from_slice(extra);
        let o = hcp(&args);
        assert!(!o.status.success(), "{extra:?}");
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    // Plain HTTP only when asked for (testing): the envelopes carry applicants' data (issue 29 §4).
    let err = serve(&[]);
    assert!(err.contains("须以 https:// 开头") && err.contains("--upstream-allow-http"), "{err}");
    let full = [
        "--upstream-allow-http",
        "--upstream-app-mark",
        "m",
        "--upstream-app-word",
        "w",
        "--upstream-data-source",
        "165",
    ];
    let err = serve(&[&full[..], &["--upstream-public-key", "04abc"]].concat());
    assert!(err.contains("公钥") && err.contains("130"), "{err}");
    let err = serve(&["--upstream-public-key", &public]);
    // Every missing setting named in one run, not one per restart (issue 28 §4).
    assert!(err.contains("appMark") && err.contains("appWord") && err.contains("dataSource"), "{err}");
    let codes = dir.path().join("codes.json");
    std::fs::write(&codes, r#"{"indicators": {"S111": "501"}}"#).unwrap();
    let codes = codes.display().to_string();
    let err = serve(&[&full[..], &["--upstream-public-key", &public, "--upstream-codes", &codes]].concat());
    assert!(err.contains("缺少评价指标"), "{err}");
    std::fs::write(dir.path().join("hcp.db.keys.sm2"), "not a key").unwrap();
    let err = serve(&[&full[..], &["--upstream-public-key", &public]].concat());
    assert!(err.contains("本县 SM2 密钥文件"), "{err}");
}

/// Issue 15 §5: the numbers the plan leaves open are the county's to set, and a wrong one is refused with the
/// reason (here the level weights, which no other check covers end to end).
#[test]
fn the_countys_numbers_are_options() {
    let o = hcp(&["serve", "--help"]);
    for option in [
        "--level-weights",
        "--ranking-min-evaluations",
        "--bottom-group",
        "--low-months",
        "--rectification-days",
        "--appeal-days",
        "--assessment-scheme",
        "--reveal-quota",
    ] {
        assert!(stdout(&o).contains(option), "{option}");
    }
    // Every mistake at once (issue 28 §4), before anything is opened.
    let o = hcp(&[
        "serve",
        "--level-weights",
        "100,80,90,40,0",
        "--bottom-group",
        "worst:3",
        "--database-url",
        "sqlite:///nonexistent/x.db",
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("配置有 2 处错误") && err.contains("逐级不增") && err.contains("末位规则"), "{err}");
    // The county's numbers are options of the commands that apply them, not of every command.
    let o = hcp(&["migrate", "--level-weights", "100,80,60,40,0", "--database-url", "sqlite:///nonexistent/x.db"]);
    assert!(!o.status.success());
    assert!(!stdout(&hcp(&["catalog", "import", "--help"])).contains("--level-weights"));
}

/// Issue 15 §4: the operator adds and lists platforms from the command line; a bad one is refused with reasons.
#[tokio::test]
async fn platforms_from_the_command_line() {
    let (url, _dir) = fresh_database(Backend::Sqlite).await.unwrap();
    assert!(hcp(&["demo", "--records", "0", "--database-url", &url]).status.success());
    let o = hcp(&[
        "platform",
        "add",
        "--code",
        "P-QS",
        "--name",
        "青山县政务服务网",
        "--org",
        "510899",
        "--database-url",
        &url,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = hcp(&["platform", "add", "--code", "P-QS", "--name", "重复", "--org", "510899", "--database-url", &url]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("已被使用"));
    let o = hcp(&["platform", "add", "--code", "P X", "--name", "x", "--org", "nope", "--database-url", &url]);
    assert!(!o.status.success());
    let list = stdout(&hcp(&["platform", "list", "--database-url", &url]));
    assert!(list.contains("P-QS\t青山县政务服务网") && list.contains("P-SCZWFW"), "{list}");
}

/// Issue 17 §7: `serve --demo` prints its summary (addresses, logins, the API key) last — the demo's
/// notifications are sent to the log before it, not after it.
#[tokio::test]
async fn serve_demo_prints_its_summary_last() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let (url, _dir) = fresh_database(Backend::Sqlite).await.unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_hcp"))
        .args(["serve", "--demo", "--demo-records", "300", "--listen", "127.0.0.1:0", "--database-url", &url])
        .env_remove("HCP_DATABASE_URL")
        .env("HCP_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // stderr is drained all along (a full pipe would stall the server), each line with its own timestamp.
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    let log = tokio::spawn(async move {
        let mut lines = Vec::new();
        while let Ok(Some(l)) = err.next_line().await {
            lines.push(l);
        }
        lines
    });
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stdout = Vec::new();
    while let Some(line) = out.next_line().await.unwrap() {
        let done = line.trim_start().starts_with("hcp_");
        stdout.push(line);
        if done {
            break;
        }
    }
    let printed = chrono::Utc::now();
    let listening = stdout.iter().position(|l| l.starts_with("listening on")).expect("where it listens");
    let summary = stdout.iter().position(|l| l.starts_with("演示县“青山县”已加载")).expect("the summary");
    assert!(listening < summary, "{stdout:?}");
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    child.kill().await.unwrap();
    let lines = log.await.unwrap();
    let at = |l: &String| l.split_whitespace().next()?.parse::<chrono::DateTime<chrono::Utc>>().ok();
    assert!(lines.iter().any(|l| l.contains("audit chain anchor")), "the jobs' first round ran: {lines:?}");
    let after: Vec<&String> = lines.iter().filter(|l| at(l).is_some_and(|t| t >= printed)).collect();
    assert!(after.is_empty(), "logged after the summary: {after:?}");
}
