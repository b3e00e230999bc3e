//! Command line. Every command takes `--database-url` (or `HCP_DATABASE_URL`), before or after its own
//! options.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// `hcp --version`: the program's version and the database schema it brings (`hcp migrate` upgrades to it).
static VERSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("{}(数据库结构版本 {})", env!("CARGO_PKG_VERSION"), hcp_store::Store::schema_version())
});

/// 政务服务“好差评”系统 (haochaping): records services, collects one evaluation for each, and keeps the
/// 7-day default.
#[derive(Debug, Parser)]
#[command(name = "hcp", version = VERSION.as_str(), about, long_about = None)]
pub struct Cli {
    /// Database: `sqlite://FILE` (created on first start) or `postgres://USER@HOST/DB`.
    #[arg(long, global = true, env = "HCP_DATABASE_URL", hide_env_values = true, default_value = "sqlite://hcp.db")]
    pub database_url: String,

    /// Data key file (SM4 keys for evaluator data). Default: beside the SQLite file (`hcp.db.keys`), or
    /// `hcp-data.keys` for PostgreSQL. `HCP_DATA_KEYS` may hold the keys themselves instead.
    #[arg(long, global = true, env = "HCP_DATA_KEYS_FILE")]
    pub data_keys_file: Option<std::path::PathBuf>,

    /// When a working day closes for deadlines: 24:00 (default) or the office closing time, e.g. 17:30.
    #[arg(long, global = true, env = "HCP_WORKING_DAY_ENDS", default_value = "24:00", value_parser = parse_close_of_day)]
    pub working_day_ends: CloseOfDay,

    #[command(flatten)]
    pub cases: CaseArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Rules of bad-review cases and appeals, and where notifications go.
#[derive(Debug, Clone, Args)]
pub struct CaseArgs {
    /// URL of the SMS or messaging gateway: each notification is POSTed there as JSON. Without it,
    /// notifications are written to the log (and shown in the console).
    #[arg(long, global = true, env = "HCP_SMS_WEBHOOK")]
    pub sms_webhook: Option<String>,
    /// Assign a bad-review case to the record's unit automatically when the 12345 center has not assigned it
    /// within this many hours (off by default).
    #[arg(long, global = true, env = "HCP_AUTO_ASSIGN_AFTER_HOURS")]
    pub auto_assign_after_hours: Option<u32>,
    /// Working days the 12345 center has to assign a bad review to a unit (0: no limit).
    #[arg(long, global = true, env = "HCP_DISPATCH_DAYS", default_value_t = hcp_domain::case::DEFAULT_DISPATCH_DAYS)]
    pub dispatch_days: u32,
    /// Working days a staff member has to appeal a bad review.
    #[arg(long, global = true, env = "HCP_APPEAL_DAYS", default_value_t = hcp_domain::appeal::DEFAULT_APPEAL_DAYS)]
    pub appeal_days: u32,
    /// Working days of the unit's check of an appeal (stage 1).
    #[arg(long, global = true, env = "HCP_APPEAL_UNIT_DAYS", default_value_t = hcp_domain::appeal::DEFAULT_UNIT_CHECK_DAYS)]
    pub appeal_unit_days: u32,
    /// Working days of the center's review of an appeal (stage 2).
    #[arg(long, global = true, env = "HCP_APPEAL_CENTER_DAYS", default_value_t = hcp_domain::appeal::DEFAULT_CENTER_REVIEW_DAYS)]
    pub appeal_center_days: u32,
    /// Fewer valid evaluations in a period than this: a unit or person is listed, not ranked.
    #[arg(long, global = true, env = "HCP_RANKING_MIN_EVALUATIONS", default_value_t = 20)]
    pub ranking_min_evaluations: u64,
    /// Points of each level for the satisfaction score, from 非常满意 to 非常不满意.
    #[arg(long, global = true, env = "HCP_LEVEL_WEIGHTS", default_value = "100,80,60,40,0", value_parser = hcp_domain::metrics::Weights::parse)]
    pub level_weights: hcp_domain::metrics::Weights,
    /// The bottom group of a monthly ranking: `last:3` (the last three) or `percent:10` (the bottom 10 %).
    #[arg(long, global = true, env = "HCP_BOTTOM_GROUP", default_value = "last:3", value_parser = parse_bottom)]
    pub bottom_group: hcp_domain::ranking::BottomRule,
    /// Consecutive months in the bottom group that bring a rectification order (0: never).
    #[arg(long, global = true, env = "HCP_LOW_MONTHS", default_value_t = 3)]
    pub low_months: u32,
    /// Working days a rectification order gives.
    #[arg(long, global = true, env = "HCP_RECTIFICATION_DAYS", default_value_t = 10)]
    pub rectification_days: u32,
    /// The integrity checks' thresholds the county sets itself, over the defaults of docs/integrity.md:
    /// `burst_size=6,quick_minutes=3`.
    #[arg(long, global = true, env = "HCP_INTEGRITY_THRESHOLDS", default_value = "", value_parser = parse_thresholds)]
    pub integrity_thresholds: hcp_domain::integrity::Thresholds,
    /// The assessment scheme, a JSON file with any of the fields of docs/metrics.md § Assessment (the rest
    /// keep their defaults).
    #[arg(long, global = true, env = "HCP_ASSESSMENT_SCHEME")]
    pub assessment_scheme: Option<std::path::PathBuf>,
}

fn parse_thresholds(s: &str) -> Result<hcp_domain::integrity::Thresholds, String> {
    hcp_domain::integrity::Thresholds::default().with_overrides(s)
}

fn parse_bottom(s: &str) -> Result<hcp_domain::ranking::BottomRule, String> {
    use hcp_domain::ranking::BottomRule;
    let bad = || format!("“{s}”不是有效的末位规则,应为 last:N 或 percent:X(如 last:3、percent:10)");
    let (kind, n) = s.trim().split_once(':').ok_or_else(bad)?;
    let n: u32 = n.trim().parse().map_err(|_| bad())?;
    match kind.trim() {
        "last" if n > 0 => Ok(BottomRule::Last(n)),
        "percent" if (1..=100).contains(&n) => Ok(BottomRule::Percent(n)),
        _ => Err(bad()),
    }
}

impl CaseArgs {
    pub fn rules(&self) -> hcp_app::CaseRules {
        hcp_app::CaseRules {
            auto_assign_after: self.auto_assign_after_hours.map(|h| chrono::Duration::hours(h.into())),
            appeal_days: self.appeal_days,
            unit_check_days: self.appeal_unit_days,
            center_review_days: self.appeal_center_days,
            dispatch_days: self.dispatch_days,
        }
    }

    /// The rules of results, with the assessment scheme read from its file (refused whole if wrong).
    pub fn result_rules(&self) -> anyhow::Result<hcp_app::ResultRules> {
        let scheme = match &self.assessment_scheme {
            None => hcp_domain::assessment::Scheme::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("无法读取考核方案 {}:{e}", path.display()))?;
                let scheme: hcp_domain::assessment::Scheme = serde_json::from_str(&text)
                    .map_err(|e| anyhow::anyhow!("考核方案 {} 格式不正确:{e}", path.display()))?;
                scheme.check().map_err(|e| anyhow::anyhow!("{e}"))?;
                scheme
            }
        };
        Ok(hcp_app::ResultRules {
            weights: self.level_weights,
            min_evaluations: self.ranking_min_evaluations,
            scheme,
            bottom: self.bottom_group,
            consecutive_months: self.low_months,
            rectification_days: self.rectification_days,
            integrity: self.integrity_thresholds,
        })
    }

    pub fn gateway(&self) -> hcp_app::outbox::Gateway {
        match &self.sms_webhook {
            Some(url) if !url.trim().is_empty() => hcp_app::outbox::Gateway::webhook(url.trim()),
            _ => hcp_app::outbox::Gateway::Log,
        }
    }
}

/// `None`: working days end at 24:00.
#[derive(Debug, Clone, Copy)]
pub struct CloseOfDay(pub Option<chrono::NaiveTime>);

fn parse_close_of_day(s: &str) -> Result<CloseOfDay, String> {
    if s == "24:00" {
        return Ok(CloseOfDay(None));
    }
    chrono::NaiveTime::parse_from_str(s, "%H:%M")
        .map(|t| CloseOfDay(Some(t)))
        .map_err(|_| format!("时间“{s}”格式不正确,应为 HH:MM(如 17:30)或 24:00"))
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server and the background jobs.
    Serve(Box<ServeArgs>),
    /// Create or upgrade the database schema, then exit.
    Migrate {
        /// Only list the migrations this database has not had yet; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Load the demo county (青山县, fictional) into an empty database.
    Demo(DemoArgs),
    /// Background jobs (the 7-day default evaluation).
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// API keys for integrating systems.
    #[command(subcommand)]
    Apikey(ApikeyCommand),
    /// Accounts for people (the console).
    #[command(subcommand)]
    User(UserCommand),
    /// Data keys for evaluator data.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The working-day calendar: holidays and adjusted working days (调休).
    #[command(subcommand)]
    Calendar(CalendarCommand),
    /// The statistics rollups.
    #[command(subcommand)]
    Stats(StatsCommand),
    /// Hall devices (评价器) bound to windows.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Platforms through which services are delivered (政务服务网, 移动端应用 …).
    #[command(subcommand)]
    Platform(PlatformCommand),
    /// The exchange with the upper-level (provincial) 好差评 system.
    #[command(subcommand)]
    Exchange(ExchangeCommand),
    /// The catalog (organizations, halls, windows, staff, service items).
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Data from an earlier system.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Checks for fake good reviews and malicious bad reviews.
    #[command(subcommand)]
    Integrity(IntegrityCommand),
    /// Back up the database (a consistent copy while serving) with its data keys into a new empty directory;
    /// `hcp backup verify DIR` checks one.
    Backup(BackupArgs),
    /// Restore a backup made by `hcp backup` (verified first; never over a database with data unless --force).
    Restore {
        /// The backup directory.
        dir: std::path::PathBuf,
        /// Replace a database that holds data (stop the server first; the old files are kept, renamed).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BackupArgs {
    #[command(subcommand)]
    pub command: Option<BackupCommand>,
    /// A new, empty directory for the backup.
    pub dir: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Check a backup: every file's SM3 against the manifest, the keys, the audit chain and the rollups.
    Verify {
        /// The backup directory.
        dir: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum IntegrityCommand {
    /// Run the checks over the evaluations of business dates FROM–TO (inclusive; earlier history is read as
    /// context) and save the flags for the county office; a rescan finds the same flags.
    Scan {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Service records with their evaluations and original times, one JSON object per line (docs/history-import.md):
    /// all or nothing, every bad line printed as `第 N 行 <field>: <reason>`.
    History {
        /// The .jsonl file.
        file: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Import a CSV file (one kind, named by its first column) or an .xlsx workbook (one sheet per kind):
    /// all or nothing, every bad line reported; columns in docs/catalog-import.md.
    Import {
        /// The file.
        file: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExchangeCommand {
    /// Counts per kind (waiting, sent, accepted, rejected) and the oldest waiting item's age.
    Status,
    /// One line per item: kind, key, state, reason.
    List {
        /// Items the upper level rejected, with its reasons.
        #[arg(long, group = "which")]
        rejected: bool,
        /// Evaluations pulled from the province for records already rated here (the first rating stands).
        #[arg(long, group = "which")]
        conflicts: bool,
        /// Evaluations pulled from the province for records this system does not have (yet).
        #[arg(long, group = "which")]
        unmatched: bool,
        /// Pulled evaluations whose codes could not be read.
        #[arg(long, group = "which")]
        invalid: bool,
        /// At most this many lines.
        #[arg(long, default_value_t = 200)]
        limit: i64,
    },
    /// Send the rejected items again, built from the data as corrected since.
    Resend {
        #[arg(long)]
        rejected: bool,
    },
    /// Create the county's SM2 key pair (the province encrypts what it sends back with the public key);
    /// prints the public key alone on the last line.
    Keygen {
        /// Replace an existing key (what the province encrypted to the old one can no longer be opened).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Register a device at a window; prints the address to open on the device, once.
    Add {
        /// The device's code, e.g. QS-D-C02.
        #[arg(long)]
        code: String,
        /// A name people recognise, e.g. 综合窗口2号评价器.
        #[arg(long)]
        name: String,
        /// The window's code, e.g. W-510899-C02.
        #[arg(long)]
        window: String,
    },
    /// List the devices and their windows.
    List,
    /// Stop a device: its address no longer works.
    Revoke {
        #[arg(long)]
        code: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PlatformCommand {
    /// Add a platform, run by an organization.
    Add {
        /// The platform's code, e.g. P-QSZWFW; records name it as `platform_code`.
        #[arg(long)]
        code: String,
        /// Its name, e.g. 青山县政务服务网.
        #[arg(long)]
        name: String,
        /// The code of the organization that runs it.
        #[arg(long)]
        org: String,
    },
    /// List the platforms.
    List,
}

#[derive(Debug, Subcommand)]
pub enum StatsCommand {
    /// Recompute the rollups from the evaluations, invalidations and records (after a restore, or to repair).
    Rebuild,
    /// Compare the rollups with a full recomputation; exit 1 and list the differences if they disagree.
    Check,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account with a role over an organization and everything under it. The password is read
    /// from `HCP_NEW_PASSWORD` or, without it, from standard input.
    Create {
        #[arg(long)]
        username: String,
        /// staff, unit_admin, hotline_agent, center_admin, county_office, auditor or system_admin.
        #[arg(long)]
        role: String,
        /// The organization code the role covers (the county's code for county-wide roles).
        #[arg(long)]
        org: String,
        /// The person's name as shown in the console (default: the username).
        #[arg(long)]
        name: Option<String>,
        /// The staff number, if the person serves at a window.
        #[arg(long)]
        staff: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the chain (HMAC-SM3 under the key kept with the data keys) from the first entry; name the
    /// first entry that does not match (exit 1).
    Verify {
        /// A file of anchors (`seq <n> <hex>` lines, as `hcp audit anchor` prints and the daily job writes):
        /// each must still be in the chain, or the whole chain was rewritten.
        #[arg(long)]
        anchor: Option<std::path::PathBuf>,
    },
    /// Print the head of the chain as one line `seq <n> <hex>`, to keep outside the database.
    Anchor,
    /// Print entries in order, oldest first.
    List {
        /// Only actions starting with this (e.g. `evaluation.`, `calendar.import`).
        #[arg(long, default_value = "")]
        action: String,
        /// Only entries after this sequence number.
        #[arg(long, default_value_t = 0)]
        after: i64,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make the data key file for a new database and record its fingerprint there (required on PostgreSQL,
    /// where no instance makes one by itself); then copy the same file to every instance.
    Init,
    /// Add a new data key to the key file and re-encrypt every record under it, in batches, while the
    /// service runs. Other instances pick the new key up within a minute; run it again with `--finish` to
    /// re-encrypt records they wrote meanwhile. The old key stays in the file until you remove it.
    Rotate {
        /// Do not add a key: only re-encrypt what is still under an older one.
        #[arg(long)]
        finish: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// List the holidays and adjusted working days of a year.
    Show {
        /// The year, e.g. 2026.
        year: i32,
    },
    /// Print `yes` if DATE (YYYY-MM-DD) is a working day, `no` otherwise.
    IsWorkingDay { date: String },
    /// Print the date (YYYY-MM-DD) on which "N working days after DATE" falls (DATE itself does not count).
    AddWorkingDays { date: String, n: u32 },
    /// Load a calendar file (the format of cn-holidays.csv: date,kind,name). A bad file changes nothing.
    Import {
        /// The CSV file.
        file: std::path::PathBuf,
        /// The file holds the county's own closures and openings, not a State Council notice.
        #[arg(long)]
        local: bool,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "HCP_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Base URL of evaluation links as evaluators reach this server (default: http://LISTEN).
    #[arg(long, env = "HCP_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Load the demo county first if the database is empty.
    #[arg(long)]
    pub demo: bool,
    /// Records the demo loads with `--demo`.
    #[arg(long, default_value_t = 50_000)]
    pub demo_records: u64,
    /// Do not run background jobs in this process (another instance runs them).
    #[arg(long)]
    pub no_jobs: bool,
    /// Address of a reverse proxy in front of this server whose X-Forwarded-For is trusted (repeatable,
    /// or comma-separated in the environment).
    #[arg(long, env = "HCP_TRUSTED_PROXY", value_delimiter = ',')]
    pub trusted_proxy: Vec<std::net::IpAddr>,
    /// Full contact reveals one person may make per day; past it reveals are refused and the auditor sees it.
    #[arg(long, env = "HCP_REVEAL_QUOTA", default_value_t = hcp_app::reveal::DEFAULT_REVEAL_QUOTA)]
    pub reveal_quota: u32,
    /// A hotline agent's evaluation counts only once the applicant confirms it through a link sent by text
    /// message (within 7 days).
    #[arg(long, env = "HCP_HOTLINE_CONFIRM")]
    pub hotline_confirm: bool,
    /// Seconds a client has to send a request's head (also the longest wait for the next request on an open
    /// connection).
    #[arg(long, env = "HCP_HEADER_TIMEOUT", default_value_t = 10)]
    pub header_timeout: u64,
    /// Seconds within which a request is answered; past it the answer is 503 `request_timeout`.
    #[arg(long, env = "HCP_REQUEST_TIMEOUT", default_value_t = 60)]
    pub request_timeout: u64,
    /// Seconds a connection may stay without any byte moving before it is closed (more than --request-timeout).
    #[arg(long, env = "HCP_IDLE_TIMEOUT", default_value_t = 90)]
    pub idle_timeout: u64,
    /// Open connections at most; past it a new one is answered 503 `server_busy` at once.
    #[arg(long, env = "HCP_MAX_CONNECTIONS", default_value_t = 1000)]
    pub max_connections: usize,
    /// Addresses allowed to read `/metrics` (comma-separated; default loopback only). Behind a trusted proxy
    /// the real client's address counts.
    #[arg(long, env = "HCP_METRICS_ALLOW", value_delimiter = ',')]
    pub metrics_allow: Vec<std::net::IpAddr>,
    /// Neither count requests nor serve `/metrics` (the counting costs no measurable throughput — see
    /// docs/performance.md — but an operator without a collector may leave it off).
    #[arg(long, env = "HCP_NO_METRICS")]
    pub no_metrics: bool,
    /// Take a backup every night at 02:30 (UTC+8) into a new dated directory under this one (SQLite).
    #[arg(long, env = "HCP_BACKUP_DIR")]
    pub backup_dir: Option<std::path::PathBuf>,
    /// How many nightly backups to keep under --backup-dir (older ones are removed).
    #[arg(long, env = "HCP_BACKUP_KEEP", default_value_t = 14, value_parser = clap::value_parser!(u32).range(1..))]
    pub backup_keep: u32,
    #[command(flatten)]
    pub upstream: UpstreamArgs,
}

/// The upper-level (provincial) 好差评 system. Without `--upstream-url` nothing is sent and the queue is
/// kept; see docs/upstream.md.
#[derive(Debug, Clone, Args)]
pub struct UpstreamArgs {
    /// Base URL of the upper level's interface; items go to `{URL}/service`, `{URL}/evaluation` …
    #[arg(long, env = "HCP_UPSTREAM_URL")]
    pub upstream_url: Option<String>,
    /// appMark: this system's id at the upper level.
    #[arg(long, env = "HCP_UPSTREAM_APP_MARK")]
    pub upstream_app_mark: Option<String>,
    /// appWord: the shared secret issued with the appMark (never logged).
    #[arg(long, env = "HCP_UPSTREAM_APP_WORD", hide_env_values = true)]
    pub upstream_app_word: Option<String>,
    /// The upper level's SM2 public key, hex `04…` (130 characters).
    #[arg(long, env = "HCP_UPSTREAM_PUBLIC_KEY")]
    pub upstream_public_key: Option<String>,
    /// dataSource: the code the upper level assigned to this system.
    #[arg(long, env = "HCP_UPSTREAM_DATA_SOURCE")]
    pub upstream_data_source: Option<String>,
    /// areaCode (12 digits) of records whose organization has none.
    #[arg(long, env = "HCP_UPSTREAM_AREA_CODE")]
    pub upstream_area_code: Option<String>,
    /// Seconds to wait for an answer before the batch counts as failed (and is retried).
    #[arg(long, env = "HCP_UPSTREAM_TIMEOUT", default_value_t = 10)]
    pub upstream_timeout: u64,
    /// The longest pause, in seconds, between retries of a failed batch.
    #[arg(long, env = "HCP_UPSTREAM_RETRY_MAX", default_value_t = 3600)]
    pub upstream_retry_max: u64,
    /// Seconds between two queries for evaluations made on the province's channels.
    #[arg(long, env = "HCP_UPSTREAM_PULL_EVERY", default_value_t = 300)]
    pub upstream_pull_every: u64,
    /// JSON file of the upper level's codes: `{"pf": {"web": 1, …}, "indicators": {"S111": "…", …}}`.
    #[arg(long, env = "HCP_UPSTREAM_CODES")]
    pub upstream_codes: Option<std::path::PathBuf>,
}

impl UpstreamArgs {
    /// The configuration, checked whole: a malformed key, a missing setting or a bad codes file stops `serve`
    /// with the reason.
    /// `county_key` is the county's own SM2 key file (from `hcp exchange keygen`); without it nothing is
    /// pulled, and a malformed one stops `serve`.
    pub fn config(
        &self,
        county_key: &std::path::Path,
    ) -> anyhow::Result<(Option<hcp_app::exchange::UpstreamConfig>, hcp_domain::upstream::Codes)> {
        use anyhow::{Context, anyhow, bail};
        let codes = match &self.upstream_codes {
            None => hcp_domain::upstream::Codes::builtin(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("无法读取上级平台代码对照文件 {}", path.display()))?;
                hcp_domain::upstream::Codes::parse(&text).map_err(|e| anyhow!("{}:{e}", path.display()))?
            }
        };
        let Some(url) = self.upstream_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok((None, codes));
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            bail!("上级平台地址 --upstream-url 应以 http:// 或 https:// 开头:{url}");
        }
        let need = |v: &Option<String>, flag: &str, what: &str| -> anyhow::Result<String> {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .ok_or_else(|| anyhow!("配置了上级平台地址,但缺少{what}({flag})"))
        };
        let app_mark = need(&self.upstream_app_mark, "--upstream-app-mark", "appMark")?;
        let app_word = need(&self.upstream_app_word, "--upstream-app-word", "appWord")?;
        let key = need(&self.upstream_public_key, "--upstream-public-key", "上级平台的 SM2 公钥")?;
        let public_key = hcp_crypto::Sm2PublicKey::from_hex(&key)
            .map_err(|e| anyhow!("上级平台公钥 --upstream-public-key 有误:{e}"))?;
        let data_source = need(&self.upstream_data_source, "--upstream-data-source", "dataSource")?;
        let area_code = match self.upstream_area_code.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(a) => Some(
                hcp_domain::upstream::AreaCode::parse("upstream_area_code", a)
                    .map_err(|v| anyhow!("--upstream-area-code:{}", v.message))?
                    .as_str()
                    .to_string(),
            ),
        };
        anyhow::ensure!(self.upstream_timeout > 0, "--upstream-timeout 应大于 0 秒");
        anyhow::ensure!(self.upstream_retry_max >= 5, "--upstream-retry-max 应至少 5 秒");
        anyhow::ensure!(self.upstream_pull_every > 0, "--upstream-pull-every 应大于 0 秒");
        let county_key = match std::fs::read_to_string(county_key) {
            Ok(text) => Some(
                hcp_crypto::Sm2SecretKey::from_hex(text.trim())
                    .map_err(|e| anyhow!("本县 SM2 密钥文件 {} 有误:{e}", county_key.display()))?,
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::warn!(file = %county_key.display(), "no county SM2 key: evaluations made on the province's channels are not pulled until `hcp exchange keygen`");
                None
            }
            Err(e) => bail!("无法读取本县 SM2 密钥文件 {}:{e}", county_key.display()),
        };
        let config = hcp_app::exchange::UpstreamConfig {
            url: url.trim_end_matches('/').to_string(),
            app_mark,
            app_word,
            public_key,
            data_source,
            area_code,
            timeout: std::time::Duration::from_secs(self.upstream_timeout),
            retry_max: std::time::Duration::from_secs(self.upstream_retry_max),
            pull_every: std::time::Duration::from_secs(self.upstream_pull_every),
            county_key,
        };
        Ok((Some(config), codes))
    }
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many service records (a year's worth, spread over the last 365 days).
    #[arg(long, default_value_t = 50_000)]
    pub records: u64,
    /// Random seed: the same seed gives the same county.
    #[arg(long, default_value_t = 2020)]
    pub seed: u64,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Run every job once, as of the given time, and exit.
    Run {
        /// The time to run as, RFC 3339 (e.g. 2026-03-09T00:00:00+08:00).
        #[arg(long)]
        now: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApikeyCommand {
    /// Create a key; it is printed once, alone on the last line, and only its hash is kept.
    Create {
        /// The integrating system's name (records are unique per system and record number).
        #[arg(long)]
        name: String,
        /// Limit the key to this organization and everything under it (default: the whole county).
        #[arg(long)]
        org: Option<String>,
    },
}

/// Parses the command line, runs the command, and turns an error into a message and exit code 1.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("错误:无法启动运行时:{e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(crate::commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("错误:{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HCP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let fmt = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // `HCP_LOG_FORMAT=json`: one JSON object per line, with the request's id in its span (for a log collector).
    if std::env::var("HCP_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        fmt.json().with_current_span(true).with_span_list(false).init();
    } else {
        fmt.init();
    }
}
