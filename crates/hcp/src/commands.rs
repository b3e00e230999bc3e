//! What each command does.

use std::io::Write;
use std::time::Duration;

use anyhow::Context;
use hcp_app::App;
use hcp_app::demo::{DemoOptions, DemoReport};
use hcp_app::keys::{KeySource, Keys};
use hcp_store::Store;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{
    ApikeyCommand, AuditCommand, BackupArgs, BackupCommand, CalendarCommand, CatalogCommand, Cli, Command,
    DeviceCommand, ExchangeCommand, ImportCommand, IntegrityCommand, JobsCommand, KeysCommand, PlatformCommand,
    ReportCommand, StatsCommand, UserCommand,
};
use crate::county::{CountyArgs, CountyRules};
use crate::server::{Application, ServeConfig};

/// Opens and migrates the database.
pub async fn open_store(url: &str, max_connections: u32) -> anyhow::Result<Store> {
    let shown = hcp_store::redact_url(url);
    let store = Store::connect(url, max_connections).await.with_context(|| format!("无法连接数据库 {shown}"))?;
    store.migrate().await.with_context(|| format!("数据库 {shown} 迁移失败"))?;
    Ok(store)
}

/// Where the data keys are: `HCP_DATA_KEYS` (the keys themselves), the given file, or the default file —
/// beside the SQLite database, or `hcp-data.keys` in the working directory for PostgreSQL.
pub fn default_key_source(url: &str, file: Option<&std::path::Path>) -> KeySource {
    if let Ok(text) = std::env::var("HCP_DATA_KEYS")
        && !text.trim().is_empty()
    {
        return KeySource::Text(text);
    }
    if let Some(f) = file {
        return KeySource::File(f.to_path_buf());
    }
    match url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        Some(rest) => {
            let path = rest.split('?').next().unwrap_or(rest);
            KeySource::File(format!("{path}.keys").into())
        }
        None => KeySource::File("hcp-data.keys".into()),
    }
}

/// Loads the data keys and checks them against the fingerprint the database records (recording it on first
/// use). A key file is created only on SQLite, for a database without records, so keys are never silently
/// replaced under encrypted data; on PostgreSQL, where several instances share the database, each instance
/// would make its own — `hcp keys init` makes the one file to copy to every instance instead.
pub async fn load_keys(store: &Store, source: &KeySource) -> anyhow::Result<Keys> {
    let fresh = !store.has_records().await?;
    let create = fresh && store.backend() == hcp_store::Backend::Sqlite;
    let keys = match Keys::load(source.clone(), create) {
        Ok(k) => k,
        Err(e)
            if store.backend() == hcp_store::Backend::Postgres
                && matches!(source, KeySource::File(p) if !p.exists()) =>
        {
            return Err(anyhow::anyhow!(
                "{e}。PostgreSQL 上不自动生成数据密钥:请先运行 `hcp keys init` 生成密钥文件,并把同一文件复制到每个实例"
            ));
        }
        Err(e) if !fresh => {
            return Err(anyhow::anyhow!(
                "{e}。数据库中已有加密的评价人信息,必须使用原来的数据密钥(--data-keys-file 或 HCP_DATA_KEYS)"
            ));
        }
        Err(e) => return Err(e.into()),
    };
    check_fingerprint(store, &keys).await?;
    Ok(keys)
}

/// Refuses a key file other than the one the database was sealed with.
async fn check_fingerprint(store: &Store, keys: &Keys) -> anyhow::Result<()> {
    let mine = keys.current().fingerprint();
    let recorded = store.register_key_fingerprint(&mine, chrono::Utc::now()).await?;
    anyhow::ensure!(
        recorded == mine,
        "数据密钥与数据库不符:数据库登记的密钥指纹为 {recorded},本实例密钥文件的指纹为 {mine}。\
         请使用与其他实例相同的密钥文件(--data-keys-file 或 HCP_DATA_KEYS);用错密钥写入的信息其他实例无法读取"
    );
    Ok(())
}

/// `hcp keys init`: makes the data key file for a new database (the way to start on PostgreSQL) and records
/// its fingerprint; refuses when a key file exists or the database has keys already.
async fn keys_init(url: &str, source: &KeySource) -> anyhow::Result<()> {
    let KeySource::File(path) = source else {
        anyhow::bail!(
            "数据密钥已由环境变量 HCP_DATA_KEYS 提供,无需生成;如需新密钥,请去掉该变量并指定 --data-keys-file"
        );
    };
    let store = open_store(url, 2).await?;
    if let Some(fp) = store.key_fingerprint().await? {
        anyhow::bail!("数据库已登记数据密钥(指纹 {fp}):请使用原来的密钥文件,不要重新生成");
    }
    anyhow::ensure!(!path.exists(), "密钥文件 {} 已存在,不会覆盖", path.display());
    let keys = Keys::load(source.clone(), true)?;
    check_fingerprint(&store, &keys).await?;
    println!("已生成数据密钥文件 {}(仅属主可读),指纹 {}。", path.display(), keys.current().fingerprint());
    println!("多实例部署时,请把这一文件原样复制到每个实例(--data-keys-file),或把其内容设为 HCP_DATA_KEYS;");
    println!("并另行妥善备份:丢失后加密的评价人信息无法恢复。指纹不同的实例将拒绝启动。");
    Ok(())
}

/// The county's SM2 key file for the exchange, kept with the data keys: beside the data key file
/// (`hcp.db.keys.sm2`), or `hcp-exchange.sm2` in the working directory when the data keys come from the
/// environment.
pub fn county_key_path(keys: &KeySource) -> std::path::PathBuf {
    match keys {
        KeySource::File(p) => {
            let mut s = p.clone().into_os_string();
            s.push(".sm2");
            s.into()
        }
        KeySource::Text(_) => "hcp-exchange.sm2".into(),
    }
}

/// Where the daily job appends the audit chain's anchors, kept with the data keys: beside the key file
/// (`hcp.db.keys.anchors`), or `hcp-audit.anchors` in the working directory when the keys come from the
/// environment. Copy it off the server now and then: an anchor kept only beside the database guards less.
pub fn anchor_file_path(keys: &KeySource) -> std::path::PathBuf {
    match keys {
        KeySource::File(p) => {
            let mut s = p.clone().into_os_string();
            s.push(".anchors");
            s.into()
        }
        KeySource::Text(_) => "hcp-audit.anchors".into(),
    }
}

/// Opens the database and the use cases, with the calendar as the database holds it; `rules` are the
/// county's, for the commands that apply them (the others run with the defaults, which they never consult).
async fn open_app(url: &str, keys: &KeySource, rules: Option<&CountyArgs>) -> anyhow::Result<App> {
    let rules = rules.map(CountyArgs::checked).transpose()?;
    let store = open_store(url, 4).await?;
    let keys = load_keys(&store, keys).await?;
    let mut app = App::new(store, "http://127.0.0.1:8080", keys);
    if let Some(CountyRules { close_of_day, cases, results, gateway }) = rules {
        app =
            app.with_close_of_day(close_of_day).with_case_rules(cases).with_result_rules(results).with_gateway(gateway);
    }
    app.reload_calendar().await.map_err(|e| anyhow::anyhow!(e.message()))?;
    Ok(app)
}

fn parse_date(s: &str) -> anyhow::Result<chrono::NaiveDate> {
    hcp_domain::calendar::parse_date("date", s).map_err(|v| anyhow::anyhow!(v.message))
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let url = cli.database_url;
    let keys = default_key_source(&url, cli.data_keys_file.as_deref());
    match cli.command {
        Command::Init(args) => crate::first_run::init(&url, &keys, args).await,
        Command::Doctor(args) => crate::doctor::run(&url, &keys, &args).await,
        Command::Calendar(cmd) => calendar(&open_app(&url, &keys, None).await?, cmd).await,
        Command::Audit(AuditCommand::Verify { anchor }) => crate::audit::verify(&url, &keys, anchor.as_deref()).await,
        Command::Audit(AuditCommand::Anchor) => {
            let store = crate::audit::open_keyed(&url, &keys).await?;
            println!("{}", crate::audit::anchor_line(&store).await?);
            Ok(())
        }
        Command::Audit(AuditCommand::List { action, after, limit }) => {
            let store = open_store(&url, 2).await?;
            for e in store.audit_entries(&action, after, limit).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    e.seq,
                    hcp_domain::calendar::display_cst(e.at),
                    e.actor,
                    e.action,
                    e.target,
                    e.details
                );
            }
            Ok(())
        }
        Command::Keys(KeysCommand::Init) => keys_init(&url, &keys).await,
        Command::Keys(KeysCommand::Rotate { finish }) => {
            let app = open_app(&url, &keys, None).await?;
            let report = app.rotate_keys(!finish, |_| {}).await.map_err(|e| anyhow::anyhow!(e.message()))?;
            println!(
                "当前数据密钥:{};本次重新加密 {} 条办件、{} 项工作人员信息,仍在旧密钥下 {} 条。",
                report.active_key, report.reencrypted, report.staff_reencrypted, report.remaining
            );
            if report.remaining > 0 {
                println!("其他实例在一分钟内读取新密钥后,请运行 `hcp keys rotate --finish` 处理剩余办件。");
            }
            Ok(())
        }
        Command::Backup(BackupArgs { command: Some(BackupCommand::Verify { dir }), .. }) => {
            let r = crate::backup::verify(&dir).await?;
            println!(
                "备份 {} 完好:{} 个文件的 SM3 摘要与清单一致,审计日志 {} 条完整,统计汇总与逐条重算一致(由 {} 于 {} 制作,数据库结构版本 {})。",
                dir.display(),
                r.manifest.files.len(),
                r.audit_entries,
                r.manifest.program,
                hcp_domain::calendar::display_cst(r.manifest.created_at),
                r.manifest.schema_version
            );
            Ok(())
        }
        Command::Backup(BackupArgs { dir: Some(dir), .. }) => {
            let store = crate::audit::open_keyed(&url, &keys).await?;
            let r = crate::backup::backup(&store, &keys, &dir).await?;
            for f in &r.files {
                println!("{}  {} 字节  SM3 {}", f.name, f.bytes, f.sm3);
            }
            println!(
                "已备份到 {}(用时 {:.1} 秒)。请把整个目录复制到另一台机器或介质保存;密钥文件与数据同样重要。",
                r.dir.display(),
                r.seconds
            );
            if store.backend() == hcp_store::Backend::Postgres {
                println!("{}", crate::backup::postgres_advice(&store, &url, &dir).await?);
            }
            Ok(())
        }
        Command::Backup(BackupArgs { .. }) => {
            anyhow::bail!("请指定一个新的空目录:hcp backup DIR(检查备份:hcp backup verify DIR)")
        }
        Command::Restore { dir, force } => {
            let kept = crate::backup::restore(&url, &keys, &dir, force).await?;
            for k in &kept {
                println!("原文件已改名保留:{}", k.display());
            }
            println!("已从 {} 恢复。启动服务前可运行 hcp audit verify 与 hcp stats check 再次核对。", dir.display());
            Ok(())
        }
        Command::Serve(args) => {
            let cfg = serve_config(&url, keys, &args)?;
            let mut application = Application::build(&cfg).await?;
            // Once built, every file it opens exists (a new database included): owner-only, and said so.
            for line in crate::file_modes::make_owner_only(&crate::file_modes::served_files(&url, &cfg.keys)) {
                tracing::warn!("{line}");
                println!("注意:{line}");
            }
            let app = application.app().clone();
            let mut demo = None;
            if args.demo {
                if app.store.count_orgs().await? == 0 {
                    demo = Some(
                        seed(&app, &DemoOptions { records: args.demo_records, seed: 2020, accounts: true }).await?,
                    );
                    // The demo's notifications go to the log: send them now, so that the summary printed below
                    // is the last thing on the screen rather than buried under them.
                    application.run_jobs_now().await?;
                } else {
                    println!("数据库中已有数据,跳过演示数据加载。");
                }
            }
            if let Some(root) = args.backup_dir.clone() {
                tokio::spawn(crate::backup::nightly(
                    app.store.clone(),
                    cfg.keys.clone(),
                    root,
                    args.backup_keep as usize,
                ));
            }
            let addr = application.local_addr();
            println!("好差评系统已启动:http://{addr}/  (数据库:{})", app.store.backend().name());
            println!("listening on http://{addr}");
            if let Some(report) = &demo {
                print_demo(report);
            }
            std::io::stdout().flush()?;
            application.run_until_stopped().await?;
            Ok(())
        }
        Command::Stats(StatsCommand::Rebuild) => {
            let store = open_store(&url, 2).await?;
            let started = std::time::Instant::now();
            let r = store.rebuild_rollups().await?;
            println!(
                "统计汇总已重算:评价汇总 {} 行,办件汇总 {} 行,分维度汇总 {} 行,用时 {:.1} 秒。",
                r.evaluation_rows,
                r.record_rows,
                r.cut_rows,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Stats(StatsCommand::Check) => {
            let store = open_store(&url, 2).await?;
            let diff = store.rollup_mismatches().await?;
            if diff.is_empty() {
                println!("统计汇总与逐条重算一致。");
                return Ok(());
            }
            for d in diff.iter().take(50) {
                println!("{d}");
            }
            anyhow::bail!("统计汇总有 {} 处与逐条重算不一致;可运行 `hcp stats rebuild` 重算。", diff.len())
        }
        Command::Migrate { dry_run: true } => {
            let shown = hcp_store::redact_url(&url);
            let store = Store::connect(&url, 2).await.with_context(|| format!("无法连接数据库 {shown}"))?;
            let pending = store.pending_migrations().await?;
            if pending.is_empty() {
                println!("数据库已是最新结构(版本 {}),无需迁移。", Store::schema_version());
            } else {
                println!("将执行 {} 项迁移(未作任何更改):", pending.len());
                for (version, description) in &pending {
                    println!("{version:04} {description}");
                }
            }
            Ok(())
        }
        Command::Migrate { dry_run: false } => {
            let store = open_store(&url, 2).await?;
            println!("数据库已是最新结构(版本 {},{})。", Store::schema_version(), store.backend().name());
            Ok(())
        }
        Command::Demo(args) => {
            let app = open_app(&url, &keys, Some(&args.county)).await?;
            anyhow::ensure!(app.store.count_orgs().await? == 0, "数据库不是空的:演示数据只能加载到新数据库。");
            let started = std::time::Instant::now();
            let report = seed(&app, &DemoOptions { records: args.records, seed: args.seed, accounts: true }).await?;
            print_demo(&report);
            println!("用时 {:.1} 秒。", started.elapsed().as_secs_f64());
            Ok(())
        }
        Command::Jobs(JobsCommand::Run { now, county }) => {
            let now = hcp_domain::calendar::parse_instant("now", &now).map_err(|v| anyhow::anyhow!(v.message))?;
            let app = open_app(&url, &keys, Some(&county)).await?;
            let report = app.run_jobs(now).await.map_err(|e| anyhow::anyhow!(e.message()))?;
            println!("默认评价:{} 条", report.default_evaluations);
            println!(
                "工单:自动交办 {} 件,到期提醒 {} 条,逾期督办 {} 件,申诉超期 {} 件;通知:发送 {} 条,失败待重试 {} 条",
                report.clock.auto_assigned,
                report.clock.reminders,
                report.clock.missed,
                report.clock.appeals_overdue,
                report.delivery.delivered,
                report.delivery.failed
            );
            println!(
                "通报:起草上月通报 {} 份;整改通知:超期督办 {} 件",
                report.reports_drafted, report.orders_escalated
            );
            Ok(())
        }
        Command::User(UserCommand::Create { username, name, role, org, staff }) => {
            let password = match std::env::var("HCP_NEW_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    eprint!("请输入“{username}”的初始密码(至少 10 个字符),回车结束:");
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            let app = open_app(&url, &keys, None).await?;
            let display = name.unwrap_or_else(|| username.clone());
            app.create_user(&username, &display, &password, &role, &org, staff.as_deref())
                .await
                .map_err(|e| anyhow::anyhow!(e.message()))?;
            println!("已创建账号 {username}。");
            Ok(())
        }
        Command::Catalog(CatalogCommand::Template { file }) => crate::catalog::template(&file),
        Command::Catalog(CatalogCommand::Import { file }) => {
            let app = open_app(&url, &keys, None).await?;
            crate::catalog::import(&app, &file).await
        }
        Command::Report(ReportCommand::Export { id, dir }) => {
            let app = open_app(&url, &keys, None).await?;
            let files =
                hcp_web::report_bundle::of_report(&app, None, id).await.map_err(|e| anyhow::anyhow!(e.message()))?;
            std::fs::create_dir_all(&dir).with_context(|| format!("无法创建目录 {}", dir.display()))?;
            for f in &files {
                let path = dir.join(f.name);
                std::fs::write(&path, &f.bytes).with_context(|| format!("无法写入 {}", path.display()))?;
                println!("{}", path.display());
            }
            println!("通报 {id} 的发布包已写入 {}:index.html 可直接在浏览器中打开或交门户网站发布。", dir.display());
            Ok(())
        }
        Command::Integrity(IntegrityCommand::Scan { from, to, county }) => {
            let app = open_app(&url, &keys, Some(&county)).await?;
            let date = |field: &str, raw: &str| {
                hcp_domain::calendar::parse_date(field, raw).map_err(|v| anyhow::anyhow!("--{field}: {}", v.message))
            };
            let (from, to) = (date("from", &from)?, date("to", &to)?);
            let r = app
                .integrity_scan(&hcp_app::audit::Actor::operator(), from, to)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
            println!(
                "已检查 {from} 至 {to} 的 {} 条评价:发现线索 {} 条(新增 {},更新 {})。",
                r.evaluations, r.flags, r.new, r.updated
            );
            Ok(())
        }
        Command::Import(ImportCommand::History { file, county }) => {
            let app = open_app(&url, &keys, Some(&county)).await?;
            crate::catalog::import_history(&app, &file).await
        }
        Command::Exchange(ExchangeCommand::Keygen { force }) => crate::exchange::keygen(&county_key_path(&keys), force),
        Command::Exchange(cmd) => {
            let app = open_app(&url, &keys, None).await?;
            crate::exchange::run(&app, cmd).await
        }
        Command::Device(cmd) => {
            let app = open_app(&url, &keys, None).await?;
            device(&app, cmd).await
        }
        Command::Platform(PlatformCommand::Add { code, name, org }) => {
            let app = open_app(&url, &keys, None).await?;
            let p = app
                .add_platform_by(&hcp_app::audit::Actor::operator(), &|_| true, &code, &name, &org)
                .await
                .map_err(|e| anyhow::anyhow!(e.message()))?;
            println!("已登记平台 {}({},{})。", p.code, p.name, p.org_name);
            Ok(())
        }
        Command::Platform(PlatformCommand::List) => {
            let app = open_app(&url, &keys, None).await?;
            for p in app.list_platforms().await.map_err(|e| anyhow::anyhow!(e.message()))? {
                println!("{}\t{}\t{}\t{}", p.code, p.name, p.org_code, p.org_name);
            }
            Ok(())
        }
        Command::Apikey(ApikeyCommand::Create { name, org }) => {
            let app = open_app(&url, &keys, None).await?;
            let key = app.create_api_key(&name, org.as_deref()).await.map_err(|e| anyhow::anyhow!(e.message()))?;
            println!("已为“{name}”创建接口密钥。密钥只显示这一次,请妥善保存:");
            println!("{key}");
            Ok(())
        }
    }
}

/// `serve`'s configuration from its options, every mistake listed at once (issue 28 §4): the county's rules,
/// the exchange, the HTTP limits and the public address are all checked before anything starts.
fn serve_config(url: &str, keys: KeySource, args: &crate::cli::ServeArgs) -> anyhow::Result<ServeConfig> {
    let mut errors = Vec::new();
    let rules = args.county.rules().map_err(|e| errors.extend(e)).ok();
    let upstream = args.upstream.settings(&county_key_path(&keys)).map_err(|e| errors.extend(e)).ok();
    let limits = crate::listener::Limits {
        header_timeout: Duration::from_secs(args.header_timeout),
        request_timeout: Duration::from_secs(args.request_timeout),
        idle_timeout: Duration::from_secs(args.idle_timeout),
        max_connections: args.max_connections,
        max_connections_per_client: args.max_connections_per_client,
    };
    if let Err(e) = limits.check() {
        errors.push(format!("{e}"));
    }
    if let Some(public) = args.public_url.as_deref().map(str::trim).filter(|u| !u.is_empty())
        && !(public.starts_with("http://") || public.starts_with("https://"))
    {
        errors.push(format!("--public-url:访问地址应以 http:// 或 https:// 开头:{public}"));
    }
    if let Some(dir) = &args.backup_dir
        && !dir.is_dir()
    {
        errors.push(format!("--backup-dir:备份目录 {} 不存在或不是目录,请先创建", dir.display()));
    }
    let (Some(rules), Some((upstream, codes)), true) = (rules, upstream, errors.is_empty()) else {
        anyhow::bail!("{}", crate::county::listed(&errors));
    };
    let mut cfg = ServeConfig::new(url, args.listen);
    cfg.audit_anchors = Some(anchor_file_path(&keys));
    cfg.accept_audit_mismatch = args.accept_audit_mismatch;
    cfg.keys = keys;
    cfg.close_of_day = rules.close_of_day;
    cfg.public_url = args.public_url.clone().filter(|u| !u.trim().is_empty());
    cfg.jobs = !args.no_jobs;
    cfg.trusted_proxies = args.trusted_proxy.clone();
    cfg.metrics_allow = args.metrics_allow.clone();
    cfg.metrics = !args.no_metrics;
    cfg.safeguards.reveal_quota = args.reveal_quota;
    cfg.safeguards.hotline_confirm = args.hotline_confirm;
    cfg.http_limits = limits;
    cfg.case_rules = rules.cases;
    cfg.result_rules = rules.results;
    cfg.gateway = rules.gateway;
    cfg.upstream = upstream;
    cfg.upstream_codes = codes;
    cfg.backup_dir = args.backup_dir.clone();
    Ok(cfg)
}

async fn device(app: &App, cmd: DeviceCommand) -> anyhow::Result<()> {
    let actor = hcp_app::audit::Actor::operator();
    match cmd {
        DeviceCommand::Add { code, name, window } => {
            let (d, secret) =
                app.register_device(&actor, &code, &name, &window).await.map_err(|e| anyhow::anyhow!(e.message()))?;
            println!(
                "已登记评价器 {}({},{})。在评价器的浏览器中打开下面的地址(只显示这一次):",
                d.code, d.window_name, d.hall_name
            );
            println!("{}/d/{secret}", app.public_url());
        }
        DeviceCommand::List => {
            for d in app.store.list_devices("/").await? {
                let state = if d.revoked_at.is_some() { "已停用" } else { "在用" };
                println!("{}\t{}\t{}\t{}\t{state}", d.code, d.name, d.window_code, d.window_name);
            }
        }
        DeviceCommand::Revoke { code } => {
            app.revoke_device(&actor, &code).await.map_err(|e| anyhow::anyhow!(e.message()))?;
            println!("已停用评价器 {code}。");
        }
    }
    Ok(())
}

async fn seed(app: &App, opts: &DemoOptions) -> anyhow::Result<DemoReport> {
    let bar = ProgressBar::new(opts.records);
    bar.set_style(
        ProgressStyle::with_template("加载演示办件 {bar:40} {pos}/{len} ({per_sec}, 剩余 {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let report = app
        .seed_demo(opts, |done, _| bar.set_position(done))
        .await
        .map_err(|e| anyhow::anyhow!("加载演示数据失败:{}", e.message()))?;
    bar.finish_and_clear();
    Ok(report)
}

fn print_demo(r: &DemoReport) {
    println!(
        "演示县“青山县”已加载:机构 {} 个,窗口 {} 个,工作人员 {} 人,事项 {} 项,办件 {} 件,评价 {} 条。",
        r.orgs, r.windows, r.staff, r.items, r.records, r.evaluations
    );
    println!("差评工单 {} 件(近期工单处于各个办理阶段,部分逾期),申诉 {} 件。", r.cases, r.appeals);
    let s = &r.story;
    if r.reports > 0 {
        println!("已发布月度通报 {} 份(公众页面 /public),下发整改通知 {} 件。", r.reports, s.rectification_orders);
    }
    if s.integrity_flags > 0 || s.inspections > 0 || s.referrals > 0 {
        println!(
            "评价真实性线索 {} 条(已办结 {} 条),调查暗访 {} 次,移送线索 {} 条;经办理平台办理的办件 {} 件。",
            s.integrity_flags, s.flags_concluded, s.inspections, s.referrals, s.platform_records
        );
    }
    if !r.links.is_empty() {
        println!("可以直接试用的评价链接(尚未评价的近期办件):");
        for l in &r.links {
            println!("  {l}");
        }
    }
    if !r.accounts.is_empty() {
        println!("演示账号(登录 /login;密码只显示这一次):");
        for (user, password, role) in &r.accounts {
            let role_zh = hcp_app::policy::Role::parse(role).map(|r| r.name_zh()).unwrap_or("");
            println!("  {user:<8} {password}  {role_zh}");
        }
    }
    println!("评价渠道:窗口评价器 {}", r.device_url);
    println!("          窗口二维码(打印张贴) {}", r.window_poster_url);
    println!("          自助服务终端 {}", r.kiosk_url);
    println!("演示对接系统的接口密钥(Authorization: Bearer …),只显示这一次:");
    println!("  {}", r.api_key);
}

async fn calendar(app: &App, cmd: CalendarCommand) -> anyhow::Result<()> {
    use hcp_domain::calendar::{DayKind, holiday_name_zh, weekday_zh};
    let cal = app.calendar();
    let provisional_note = |year: i32| {
        if !cal.is_year_loaded(year) {
            eprintln!("注意:{year} 年节假日安排尚未导入,按周一至周五计算(暂定)。");
        }
    };
    match cmd {
        CalendarCommand::Show { year } => {
            if !cal.is_year_loaded(year) {
                println!(
                    "{year} 年节假日安排尚未导入:工作日暂按周一至周五计算。请在国务院办公厅通知发布后用 `hcp calendar import 文件` 导入。"
                );
            }
            let entries = cal.entries_of_year(year);
            for e in &entries {
                let kind = match e.kind {
                    DayKind::Holiday => "放假",
                    DayKind::Workday => "调休上班",
                };
                let local = if cal.is_local(e.date) { "(本县)" } else { "" };
                println!("{} {} {kind} {}{local}", e.date, weekday_zh(e.date), holiday_name_zh(&e.name));
            }
            let count = |k: DayKind| entries.iter().filter(|e| e.kind == k).count();
            println!("{year} 年:放假 {} 天,调休上班 {} 天。", count(DayKind::Holiday), count(DayKind::Workday));
        }
        CalendarCommand::IsWorkingDay { date } => {
            let d = parse_date(&date)?;
            provisional_note(chrono::Datelike::year(&d));
            println!("{}", if cal.is_working_day(d) { "yes" } else { "no" });
        }
        CalendarCommand::AddWorkingDays { date, n } => {
            let d = parse_date(&date)?;
            let (due, provisional) = cal.add_working_days_to_date(d, n);
            if provisional {
                eprintln!("注意:计算涉及尚未导入节假日安排的年份,结果为暂定。");
            }
            println!("{due}");
        }
        CalendarCommand::Import { file, local } => {
            // A year's calendar is a few KB: anything near a megabyte is not one (checked before reading).
            let size = std::fs::metadata(&file).with_context(|| format!("无法读取文件 {}", file.display()))?.len();
            anyhow::ensure!(size <= 1024 * 1024, "{} 超过 1 MB,不是节假日安排文件", file.display());
            let text = std::fs::read_to_string(&file).with_context(|| format!("无法读取文件 {}", file.display()))?;
            let source = if local {
                hcp_app::calendar::CalendarSource::Local
            } else {
                hcp_app::calendar::CalendarSource::National
            };
            let report = app.import_calendar(&text, source).await.map_err(|e| anyhow::anyhow!(e.message()))?;
            let years: Vec<String> = report.years.iter().map(i32::to_string).collect();
            println!(
                "已导入{} {} 年:放假 {} 天,调休上班 {} 天。",
                if local { "本县调整" } else { "" },
                years.join("、"),
                report.holidays,
                report.workdays
            );
        }
    }
    Ok(())
}
