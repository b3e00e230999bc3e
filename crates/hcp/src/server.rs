//! The server: build it (database, migrations, listener), then run it until a signal stops it.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use hcp_app::App;
use hcp_app::keys::KeySource;
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub database_url: String,
    pub listen: SocketAddr,
    pub public_url: Option<String>,
    /// Run the background jobs (every minute) in this process.
    pub jobs: bool,
    /// How many pooled connections (readers; the evaluation writer uses one of them).
    pub max_connections: u32,
    /// When a working day closes; `None` is 24:00.
    pub close_of_day: Option<chrono::NaiveTime>,
    /// Where the data keys are.
    pub keys: KeySource,
    /// Reverse proxies whose X-Forwarded-For is trusted.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Who may read `/metrics` (empty: loopback).
    pub metrics_allow: Vec<std::net::IpAddr>,
    /// Count requests and serve `/metrics` (`--no-metrics` turns it off).
    pub metrics: bool,
    /// Rules of cases and appeals.
    pub case_rules: hcp_app::CaseRules,
    /// Limits on what one person may do alone.
    pub safeguards: hcp_app::Safeguards,
    /// Where the daily job appends the audit chain's head (`None`: only to the log).
    pub audit_anchors: Option<std::path::PathBuf>,
    /// Start even if the chain does not match those anchors, with an alert on every administrator's home.
    pub accept_audit_mismatch: bool,
    /// Timeouts and the connection cap of the HTTP listener.
    pub http_limits: crate::listener::Limits,
    /// Where notifications go.
    pub gateway: hcp_app::outbox::Gateway,
    /// How results are ranked, assessed and followed up.
    pub result_rules: hcp_app::ResultRules,
    /// The upper-level 好差评 system, if this county is joined to it, and its codes.
    pub upstream: Option<hcp_app::exchange::UpstreamConfig>,
    pub upstream_codes: hcp_domain::upstream::Codes,
    /// Where nightly backups go (for the go-live checklist; `commands.rs` starts the nightly job).
    pub backup_dir: Option<std::path::PathBuf>,
}

impl ServeConfig {
    pub fn new(database_url: &str, listen: SocketAddr) -> ServeConfig {
        ServeConfig {
            database_url: database_url.into(),
            listen,
            public_url: None,
            jobs: true,
            max_connections: 16,
            close_of_day: None,
            keys: crate::commands::default_key_source(database_url, None),
            trusted_proxies: Vec::new(),
            metrics_allow: Vec::new(),
            metrics: true,
            case_rules: hcp_app::CaseRules::default(),
            safeguards: hcp_app::Safeguards::default(),
            http_limits: crate::listener::Limits::default(),
            audit_anchors: None,
            accept_audit_mismatch: false,
            gateway: hcp_app::outbox::Gateway::Log,
            result_rules: hcp_app::ResultRules::default(),
            upstream: None,
            upstream_codes: hcp_domain::upstream::Codes::builtin(),
            backup_dir: None,
        }
    }
}

pub struct Application {
    listener: TcpListener,
    app: App,
    jobs: bool,
    limits: crate::listener::Limits,
    anchors: Option<std::path::PathBuf>,
    /// The jobs already ran at start (see [`Application::run_jobs_now`]): the scheduler's first round waits.
    jobs_done_at_start: bool,
    database_url: String,
    /// Proxies whose connections carry many clients: not capped per address.
    trusted_proxies: Vec<std::net::IpAddr>,
}

impl Application {
    /// Connects, migrates and binds; nothing is served until [`Application::run_until_stopped`].
    pub async fn build(cfg: &ServeConfig) -> anyhow::Result<Application> {
        cfg.http_limits.check()?;
        let store = crate::commands::open_store(&cfg.database_url, cfg.max_connections).await?;
        let listener = TcpListener::bind(cfg.listen).await.with_context(|| format!("无法监听 {}", cfg.listen))?;
        let addr = listener.local_addr()?;
        let public_url = cfg.public_url.clone().unwrap_or_else(|| format!("http://{addr}"));
        let keys = crate::commands::load_keys(&store, &cfg.keys).await?;
        store.set_audit_key(keys.current().audit_key());
        let audit_alert = match &cfg.audit_anchors {
            Some(path) => audit_at_start(&store, path, cfg.accept_audit_mismatch).await?,
            None => None,
        };
        let app = App::new(store, &public_url, keys)
            .with_close_of_day(cfg.close_of_day)
            .with_trusted_proxies(cfg.trusted_proxies.clone())
            .with_metrics_allow(cfg.metrics_allow.clone())
            .with_metrics(cfg.metrics)
            .with_case_rules(cfg.case_rules)
            .with_safeguards(cfg.safeguards)
            .with_result_rules(cfg.result_rules.clone())
            .with_gateway(cfg.gateway.clone())
            .with_upstream(cfg.upstream.clone(), cfg.upstream_codes.clone())
            .with_deployment(hcp_app::go_live::Deployment {
                public_url: cfg.public_url.clone(),
                backup_dir: cfg.backup_dir.clone(),
                key_file: match &cfg.keys {
                    KeySource::File(p) => Some(p.clone()),
                    KeySource::Text(_) => None,
                },
                audit_alert: audit_alert.clone(),
            });
        if let Some(alert) = &audit_alert {
            app.note_audit_mismatch_accepted(alert).await.map_err(|e| anyhow::anyhow!(e.message()))?;
        }
        let app =
            if app.store.backend() == hcp_store::Backend::Postgres { app.with_completion_announcements() } else { app };
        // Configured is not connected: the exchange's state is reported once a push was answered (issue 28 §5).
        app.store
            .note_exchange_configured(cfg.upstream.as_ref().map(|u| u.url.as_str()), app.now())
            .await
            .context("无法记录上级平台配置")?;
        match &cfg.upstream {
            Some(up) => tracing::info!(
                url = %up.url,
                app_mark = %up.app_mark,
                "upper-level exchange configured; its state (/console/exchange, hcp exchange status) shows once a push is answered"
            ),
            None => tracing::info!("no upper-level exchange configured: items are kept in the queue"),
        }
        if let Some(warning) = public_url_warning(cfg.public_url.as_deref(), addr) {
            tracing::warn!("{warning}");
            eprintln!("注意:{warning}");
        }
        app.reload_calendar().await.map_err(|e| anyhow::anyhow!("无法读取节假日安排:{}", e.message()))?;
        for w in app.warnings() {
            tracing::warn!(code = w.code, "{}", w.message);
        }
        Ok(Application {
            listener,
            app,
            jobs: cfg.jobs,
            limits: cfg.http_limits,
            anchors: cfg.audit_anchors.clone(),
            jobs_done_at_start: false,
            database_url: cfg.database_url.clone(),
            trusted_proxies: cfg.trusted_proxies.clone(),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    /// Runs the jobs' first round now (the audit anchor, defaults, the clock, notifications), before serving:
    /// `serve --demo` does, so that what the round logs comes before the demo's summary, not after it. The
    /// scheduler then starts with its second round.
    pub async fn run_jobs_now(&mut self) -> anyhow::Result<()> {
        if !self.jobs {
            return Ok(());
        }
        write_anchor(&self.app, self.anchors.as_deref()).await?;
        if self
            .app
            .take_job_lease("jobs", chrono::Duration::seconds(150))
            .await
            .map_err(|e| anyhow::anyhow!(e.message()))?
        {
            self.app.run_jobs(self.app.now()).await.map_err(|e| anyhow::anyhow!(e.message()))?;
        }
        self.jobs_done_at_start = true;
        Ok(())
    }

    /// Serves until Ctrl-C or SIGTERM, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        if self.jobs {
            tokio::spawn(scheduler(self.app.clone(), self.anchors.clone(), self.jobs_done_at_start));
            tokio::spawn(deliverer(self.app.clone()));
            tokio::spawn(exchanger(self.app.clone()));
        }
        // Devices waiting here wake for completions recorded by any instance (PostgreSQL).
        let (url, completions) = (self.database_url.clone(), self.app.completions.clone());
        tokio::spawn(async move { hcp_store::listen_for_completions(&url, || completions.notify_waiters()).await });
        let router = hcp_web::router(self.app.clone());
        let trusted = self.trusted_proxies.clone();
        crate::listener::serve(
            self.listener,
            router,
            self.limits,
            &trusted,
            shutdown_signal(),
            Duration::from_secs(10),
        )
        .await?;
        self.app.store.close().await;
        Ok(())
    }
}

/// Why evaluation links, device addresses and QR posters would not reach people: `--public-url` unset, or
/// naming this machine itself, while the server listens on another interface (issue 28 §5).
pub fn public_url_warning(public_url: Option<&str>, listen: SocketAddr) -> Option<String> {
    match public_url {
        None if !listen.ip().is_loopback() => Some(format!(
            "未设置 --public-url:评价链接、二维码海报和评价器地址将使用 http://{listen},群众手机可能无法打开;\
             请设为本服务在政务内网中的访问地址,如 --public-url http://10.1.2.3:8080"
        )),
        Some(url) if hcp_app::go_live::is_loopback_url(url) && !listen.ip().is_loopback() => Some(format!(
            "--public-url {url} 指向本机(回环地址),群众手机和评价器无法打开评价链接;请设为本服务在政务内网中的访问地址"
        )),
        _ => None,
    }
}

/// Runs the jobs now and then every minute. A failed run is logged and retried at the next tick.
async fn scheduler(app: App, anchors: Option<std::path::PathBuf>, done_at_start: bool) {
    let every = Duration::from_secs(60);
    let first = tokio::time::Instant::now() + if done_at_start { every } else { Duration::ZERO };
    let mut tick = tokio::time::interval_at(first, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut anchored_on = done_at_start.then(|| hcp_domain::calendar::business_date(app.now()));
    loop {
        tick.tick().await;
        let today = hcp_domain::calendar::business_date(app.now());
        if anchored_on != Some(today) {
            match write_anchor(&app, anchors.as_deref()).await {
                Ok(()) => anchored_on = Some(today),
                Err(e) => tracing::error!(error = %e, "writing the audit anchor failed; retrying in a minute"),
            }
        }
        // Another instance may have imported a calendar: pick it up before computing anything.
        if let Err(e) = app.keys.reload() {
            tracing::error!(error = %e, "re-reading the data keys failed; keeping the ones in memory");
        }
        if let Err(e) = app.reload_calendar().await {
            tracing::error!(error = %e, "reloading the calendar failed; keeping the one in memory");
        }
        // One instance runs the jobs at a time: the holder renews its lease each minute; another takes over
        // once it lapses (two missed minutes).
        match app.take_job_lease("jobs", chrono::Duration::seconds(150)).await {
            Ok(true) => {
                let result = app.run_jobs(app.now()).await;
                app.telemetry.job("jobs", result.is_err());
                if let Err(e) = result {
                    tracing::error!(error = %e, "background jobs failed; retrying in a minute");
                }
            }
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "taking the jobs' lease failed; retrying in a minute"),
        }
        if let Err(e) = app.warm_county_themes().await {
            tracing::error!(error = %e, "counting the county's bad-review themes failed; retrying in a minute");
        }
    }
}

/// The audit chain's head, once a day (and at start): to the log and appended to the anchor file, so that a
/// rewrite of the whole chain is caught by `hcp audit verify --anchor`.
/// Checks the audit chain against the anchors beside the keys before serving (issue 29 §2): a shortened,
/// rewritten or downgraded chain stops the start, unless `--accept-audit-mismatch`, which starts with the
/// alert (returned) on every administrator's home page. Only the entries since the last anchor are recomputed.
async fn audit_at_start(
    store: &hcp_store::Store,
    path: &std::path::Path,
    accept: bool,
) -> anyhow::Result<Option<String>> {
    let anchors = crate::audit::anchors_in(path)?;
    // A new, empty database beside the anchors of an earlier one — the demo started afresh after its database
    // was deleted, a county initialised again: an empty county is no quiet forgery, so the old anchors are
    // kept aside, renamed, and said so; the new chain gets anchors of its own.
    if !anchors.is_empty() && store.count_orgs().await? == 0 {
        let stamp = chrono::Utc::now().format("%Y%m%d%H%M%S");
        let aside = std::path::PathBuf::from(format!("{}.before-{stamp}", path.display()));
        std::fs::rename(path, &aside).with_context(|| format!("无法把锚点文件 {} 改名保留", path.display()))?;
        tracing::warn!(kept = %aside.display(), "an empty database beside an earlier chain's anchors: the anchors were kept aside");
        eprintln!("注意:数据库是新建的空库,原审计锚点属于此前的数据库,已改名保留为 {}", aside.display());
        return Ok(None);
    }
    match crate::audit::check_chain(store, &anchors, crate::audit::Depth::SinceLastAnchor).await {
        Ok(_) => Ok(None),
        Err(e) if accept => {
            tracing::error!(anchors = %path.display(), "audit chain does not match its anchors; started anyway (--accept-audit-mismatch): {e}");
            Ok(Some(format!("{e}(服务以 --accept-audit-mismatch 启动;锚点文件 {})", path.display())))
        }
        Err(e) => anyhow::bail!(
            "{e}\n锚点文件:{}。服务未启动。请先用 hcp audit verify 核查、保全证据并报告;如已查明原因、确需先恢复服务,\
             可加 --accept-audit-mismatch 启动(每位管理员的工作台首页将一直显示此警报)。",
            path.display()
        ),
    }
}

async fn write_anchor(app: &App, file: Option<&std::path::Path>) -> anyhow::Result<()> {
    use std::io::Write as _;
    let line = crate::audit::anchor_line(&app.store).await?;
    tracing::info!(anchor = %line, "audit chain anchor");
    if let Some(path) = file {
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(path).with_context(|| format!("无法写入审计锚点文件 {}", path.display()))?;
        writeln!(f, "{line}")?;
    }
    Ok(())
}

/// Delivers notifications every few seconds (the minute job would make a reminder wait too long).
async fn deliverer(app: App) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let result = app.deliver_messages(app.now()).await;
        app.telemetry.job("deliver_messages", result.is_err());
        if let Err(e) = result {
            tracing::error!(error = %e, "delivering notifications failed; retrying");
        }
    }
}

/// Pushes the upstream queue every two seconds (a round sends everything due, batch by batch) and pulls the
/// province's evaluations every `--upstream-pull-every`.
async fn exchanger(app: App) {
    let Some(up) = app.upstream.clone() else { return };
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_pull: Option<tokio::time::Instant> = None;
    loop {
        tick.tick().await;
        let pushed = app.push_upstream(app.now()).await;
        app.telemetry.job("upstream_push", pushed.is_err());
        match pushed {
            Ok(r) if r != hcp_app::exchange::PushReport::default() => {
                tracing::info!(
                    accepted = r.accepted,
                    duplicates = r.duplicates,
                    rejected = r.rejected,
                    retried = r.retried,
                    "pushed to the upper level"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "pushing to the upper level failed; retrying"),
        }
        if last_pull.is_none_or(|t| t.elapsed() >= up.config.pull_every) {
            last_pull = Some(tokio::time::Instant::now());
            let pulled = app.pull_upstream(app.now()).await;
            app.telemetry.job("upstream_pull", pulled.is_err());
            match pulled {
                Ok(r) if r != hcp_app::exchange_pull::PullReport::default() => {
                    tracing::info!(
                        stored = r.stored,
                        conflicts = r.conflicts,
                        unmatched = r.unmatched,
                        invalid = r.invalid,
                        "pulled from the upper level"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "pulling from the upper level failed; retrying"),
            }
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("stopping: finishing requests in flight");
}

#[cfg(test)]
mod tests {
    use super::public_url_warning;

    #[test]
    fn a_public_address_phones_cannot_reach_is_warned_about() {
        let open: std::net::SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let local: std::net::SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert!(public_url_warning(None, open).unwrap().contains("未设置 --public-url"));
        assert!(public_url_warning(Some("http://127.0.0.1:8080"), open).unwrap().contains("指向本机"));
        assert!(public_url_warning(Some("http://localhost/"), open).is_some());
        assert!(public_url_warning(Some("http://10.1.2.3:8080"), open).is_none());
        // A server only this machine reaches (a trial, or behind nginx) needs no other address.
        assert!(public_url_warning(None, local).is_none());
    }
}
