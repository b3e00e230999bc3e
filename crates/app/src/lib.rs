//! Use cases of 好差评: one function per thing a user or an integrating system does. Each takes its rules
//! from `hcp-domain` and its rows from `hcp-store`, and answers with a view or an [`AppError`].
#![forbid(unsafe_code)]

pub mod accounts;
pub mod appeals;
pub mod assessment;
pub mod attachments;
pub mod audit;
pub mod browse;
pub mod calendar;
pub mod call_tickets;
pub mod case_clock;
pub mod cases;
pub mod catalog;
pub mod catalog_admin;
pub mod catalog_import;
pub mod channels;
pub mod clients;
pub mod console;
pub mod demo;
mod demo_cases;
pub mod demo_story;
pub mod error;
pub mod evaluations;
pub mod exchange;
pub mod exchange_health;
pub mod exchange_pull;
pub mod export;
pub mod first_run;
pub mod go_live;
pub mod history;
pub mod hotline;
pub mod inspections;
pub mod integrity;
pub mod jobs;
pub mod keys;
pub mod lifecycle;
pub mod limits;
pub mod outbox;
pub mod pickers;
pub mod platforms;
pub mod policy;
pub mod public;
pub mod records;
pub mod rectification;
pub mod referrals;
pub mod reports;
pub mod reveal;
pub mod second_rating;
pub mod secrets;
pub mod stats;
pub mod telemetry;
pub mod themes;
pub mod views;

use std::sync::{Arc, RwLock};

use chrono::{DateTime, NaiveTime, Utc};
pub use error::{AppError, AppResult};
use hcp_domain::calendar::Calendar;
use hcp_store::{EvaluationWriter, Store};

/// Everything a use case needs; cheap to clone into every request.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    writer: EvaluationWriter,
    /// Base of the links given to evaluators (`https://hcp.county.gov.cn`), without a trailing slash.
    public_url: Arc<str>,
    /// Replaced whole on reload; readers take a snapshot (see `calendar.rs`).
    calendar: Arc<RwLock<Arc<Calendar>>>,
    /// When a working day closes for deadlines; `None` is 24:00 (issue 3 §4).
    close_of_day: Option<NaiveTime>,
    /// Data keys for evaluator data (see `keys.rs`).
    pub keys: Arc<keys::Keys>,
    /// Reverse proxies whose `X-Forwarded-For` names the real client (for per-address limits).
    trusted_proxies: Arc<[std::net::IpAddr]>,
    /// Where notifications go (see `outbox.rs`).
    pub gateway: Arc<outbox::Gateway>,
    /// The configurable limits of cases and appeals.
    pub case_rules: CaseRules,
    /// The county's limits on what one person may do alone (issue 14).
    pub safeguards: Safeguards,
    /// How results are scored, ranked, assessed and followed up (issue 7).
    pub result_rules: Arc<ResultRules>,
    /// Woken whenever a completion is recorded — by this instance, or by another one over the same PostgreSQL
    /// (LISTEN/NOTIFY) — so hall devices waiting on their window look at once (and every few seconds anyway).
    pub completions: Arc<tokio::sync::Notify>,
    /// How often a waiting device looks even unwoken: often where nothing announces other instances'
    /// completions, seldom where PostgreSQL does (see [`App::with_completion_announcements`]).
    pub device_look_every: std::time::Duration,
    /// The upper-level 好差评 system, when configured (see `exchange.rs`); without it the queue only grows.
    pub upstream: Option<Arc<exchange::Upstream>>,
    /// The upper level's channel and indicator codes (built-in unless a codes file is given).
    pub codes: Arc<hcp_domain::upstream::Codes>,
    /// Counters for `/metrics` (issue 18 §2).
    pub telemetry: telemetry::Telemetry,
    /// This instance among several over one database (the holder of job leases).
    pub instance_id: Arc<str>,
    /// Addresses allowed to read `/metrics` (`--metrics-allow`; loopback by default).
    pub metrics_allow: Arc<[std::net::IpAddr]>,
    /// The dashboard's bad-review themes, counted lately (see `themes.rs`).
    theme_cache: Arc<themes::ThemeCache>,
    /// How this process was deployed, for the go-live checklist on the administrators' home page.
    pub deployment: Arc<go_live::Deployment>,
}

/// The configurable rules of results (issue 7 §1, §3, §5, §6).
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRules {
    /// Points per level for the satisfaction score.
    pub weights: hcp_domain::metrics::Weights,
    /// Fewer valid evaluations in a period: listed, not ranked.
    pub min_evaluations: u64,
    pub scheme: hcp_domain::assessment::Scheme,
    /// The bottom group of a monthly staff or unit ranking (R12.1) …
    pub bottom: hcp_domain::ranking::BottomRule,
    /// … for this many consecutive months gets a rectification order …
    pub consecutive_months: u32,
    /// … due in this many working days.
    pub rectification_days: u32,
    /// The integrity checks' numbers (issue 16 §3): rankings are fair only if fake ratings are set aside, and
    /// what counts as suspicious is the county's to tune (`--integrity-thresholds`).
    pub integrity: hcp_domain::integrity::Thresholds,
    /// Who issues the published reports (`--report-issuer`; the report's organization when unset).
    pub report_issuer: Option<String>,
    /// The 文号 prefix of published reports (`--report-number-prefix`): `{prefix}〔{year}〕{n}号`.
    pub report_number_prefix: Option<String>,
}

impl Default for ResultRules {
    fn default() -> Self {
        ResultRules {
            weights: hcp_domain::metrics::Weights::default(),
            min_evaluations: 20,
            scheme: hcp_domain::assessment::Scheme::default(),
            bottom: hcp_domain::ranking::BottomRule::Last(3),
            consecutive_months: 3,
            rectification_days: 10,
            integrity: hcp_domain::integrity::Thresholds::default(),
            report_issuer: None,
            report_number_prefix: None,
        }
    }
}

/// The county's limits on what one person may do alone (issue 14), each an option of `serve`.
#[derive(Debug, Clone, Copy)]
pub struct Safeguards {
    /// Full contact reveals per person and business day (`--reveal-quota`).
    pub reveal_quota: u32,
    /// A hotline agent's evaluation counts only once the applicant confirms it by text message
    /// (`--hotline-confirm`).
    pub hotline_confirm: bool,
}

impl Default for Safeguards {
    fn default() -> Self {
        Safeguards { reveal_quota: reveal::DEFAULT_REVEAL_QUOTA, hotline_confirm: false }
    }
}

/// The configurable rules of cases and appeals (issue 5 §1, §5).
#[derive(Debug, Clone, Copy)]
pub struct CaseRules {
    /// Assign a case to the record's unit automatically when the center has not acted this long; `None` off.
    pub auto_assign_after: Option<chrono::Duration>,
    /// Working days a staff member has to appeal a bad review (R8).
    pub appeal_days: u32,
    /// Working days of the unit's check (stage 1) and of the center's review (stage 2).
    pub unit_check_days: u32,
    pub center_review_days: u32,
    /// Working days the 12345 center has to assign a bad review (0: no limit; issue 15 §3).
    pub dispatch_days: u32,
}

impl CaseRules {
    pub fn appeal_limits(&self) -> hcp_domain::appeal::StageLimits {
        hcp_domain::appeal::StageLimits {
            unit_check_days: self.unit_check_days,
            center_review_days: self.center_review_days,
        }
    }
}

impl Default for CaseRules {
    fn default() -> Self {
        CaseRules {
            auto_assign_after: None,
            appeal_days: hcp_domain::appeal::DEFAULT_APPEAL_DAYS,
            unit_check_days: hcp_domain::appeal::DEFAULT_UNIT_CHECK_DAYS,
            center_review_days: hcp_domain::appeal::DEFAULT_CENTER_REVIEW_DAYS,
            dispatch_days: hcp_domain::case::DEFAULT_DISPATCH_DAYS,
        }
    }
}

impl App {
    /// Wires the use cases; starts the evaluation writer, so call it inside the runtime. The calendar is the
    /// bundled one until [`App::reload_calendar`] adds what the database holds.
    pub fn new(store: Store, public_url: &str, keys: keys::Keys) -> App {
        // The audit chain's key comes with the data keys, before anything can be appended.
        store.set_audit_key(keys.current().audit_key());
        let writer = EvaluationWriter::spawn(store.clone());
        App {
            keys: Arc::new(keys),
            trusted_proxies: Arc::from(Vec::new()),
            store,
            writer,
            public_url: public_url.trim_end_matches('/').into(),
            calendar: Arc::new(RwLock::new(Arc::new(Calendar::bundled()))),
            close_of_day: None,
            gateway: Arc::new(outbox::Gateway::Log),
            case_rules: CaseRules::default(),
            safeguards: Safeguards::default(),
            result_rules: Arc::new(ResultRules::default()),
            completions: Arc::default(),
            device_look_every: std::time::Duration::from_secs(2),
            upstream: None,
            codes: Arc::default(),
            telemetry: telemetry::Telemetry::default(),
            instance_id: secrets::new_token().chars().take(12).collect::<String>().into(),
            metrics_allow: Arc::from(vec![
                std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
                std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
            ]),
            theme_cache: Arc::default(),
            deployment: Arc::default(),
        }
    }

    /// How this process was deployed (`--public-url`, `--backup-dir`, the key file), for the checklist.
    pub fn with_deployment(mut self, deployment: go_live::Deployment) -> App {
        self.deployment = Arc::new(deployment);
        self
    }

    /// Whether requests are counted and `/metrics` served (`serve --no-metrics` turns both off).
    pub fn with_metrics(mut self, enabled: bool) -> App {
        self.telemetry.enabled = enabled;
        self
    }

    /// Who may read `/metrics`, besides nobody else.
    pub fn with_metrics_allow(mut self, allow: Vec<std::net::IpAddr>) -> App {
        if !allow.is_empty() {
            self.metrics_allow = Arc::from(allow);
        }
        self
    }

    /// A record was completed: devices waiting on this instance look at once, and the other instances are told
    /// (PostgreSQL), so their devices look at once too. An announcement that fails only delays those devices
    /// until their next look.
    pub(crate) fn completed(&self) {
        self.completions.notify_waiters();
        if self.store.backend() != hcp_store::Backend::Postgres {
            return;
        }
        let store = self.store.clone();
        tokio::spawn(async move {
            if let Err(e) = store.announce_completion().await {
                tracing::warn!(error = %e, "announcing a completion to the other instances failed");
            }
        });
    }

    /// Other instances' completions are announced (PostgreSQL LISTEN/NOTIFY): devices need look only now and
    /// then by themselves, as a safety net.
    pub fn with_completion_announcements(mut self) -> App {
        self.device_look_every = std::time::Duration::from_secs(10);
        self
    }

    /// The evaluation writer's counters since start.
    pub fn writer_stats(&self) -> hcp_store::WriterStats {
        self.writer.stats()
    }

    pub fn with_result_rules(mut self, rules: ResultRules) -> App {
        self.result_rules = Arc::new(rules);
        self
    }

    /// Sends notifications through this gateway instead of the log.
    pub fn with_gateway(mut self, gateway: outbox::Gateway) -> App {
        self.gateway = Arc::new(gateway);
        self
    }

    /// Joins the upper level: the exchange worker pushes the queue there, with these codes.
    pub fn with_upstream(
        mut self,
        upstream: Option<exchange::UpstreamConfig>,
        codes: hcp_domain::upstream::Codes,
    ) -> App {
        self.upstream = upstream.map(|c| Arc::new(exchange::Upstream::new(c)));
        self.codes = Arc::new(codes);
        self
    }

    pub fn with_safeguards(mut self, safeguards: Safeguards) -> App {
        self.safeguards = safeguards;
        self
    }

    pub fn with_case_rules(mut self, rules: CaseRules) -> App {
        self.case_rules = rules;
        self
    }

    /// Names the reverse proxies in front of this server: a request from one of them is attributed to the
    /// last address its `X-Forwarded-For` header names, so lockouts and limits apply per real client.
    pub fn with_trusted_proxies(mut self, proxies: Vec<std::net::IpAddr>) -> App {
        self.trusted_proxies = Arc::from(proxies);
        self
    }

    /// The client's address: the peer, or what a trusted proxy says the client was.
    pub fn client_ip(&self, peer: std::net::IpAddr, forwarded_for: Option<&str>) -> std::net::IpAddr {
        client_ip_via(&self.trusted_proxies, peer, forwarded_for)
    }

    /// Sets when a working day closes (e.g. 17:30); deadlines end then instead of at 24:00.
    pub fn with_close_of_day(mut self, close: Option<NaiveTime>) -> App {
        self.close_of_day = close;
        let cal = (*self.calendar()).clone().with_close_of_day(close);
        self.calendar = Arc::new(RwLock::new(Arc::new(cal)));
        self
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The time of the system, to the millisecond (what the database keeps, so that an answer given now and
    /// the same row read back later agree); one place, so every use case reads the same clock.
    pub fn now(&self) -> DateTime<Utc> {
        let now = Utc::now();
        DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
    }

    /// The evaluation link for a token.
    pub fn evaluation_url(&self, token: &str) -> String {
        format!("{}/e/{}", self.public_url, token)
    }
}

/// The client's address given the trusted proxies. `forwarded_for` is every `X-Forwarded-For` line joined
/// with commas (a client may send its own line; the proxy appends to the last): reading from the right, the
/// entries trusted proxies added are skipped, and the first address that is not a trusted proxy is the
/// client's (anything left of it is whatever the client claimed). An entry that is not an address, where the
/// proxy should have written one, leaves the peer.
pub fn client_ip_via(
    trusted: &[std::net::IpAddr],
    peer: std::net::IpAddr,
    forwarded_for: Option<&str>,
) -> std::net::IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let Some(list) = forwarded_for else { return peer };
    for entry in list.rsplit(',').map(str::trim).filter(|e| !e.is_empty()) {
        match entry.parse::<std::net::IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return ip,
            Err(_) => return peer,
        }
    }
    peer
}
