//! Metrics for operators (issue 18 §2), in the Prometheus/OpenMetrics text format at `/metrics`: requests by
//! route template and status with their latency, the evaluation writer's batches and commit time, the
//! notification and exchange queues, job runs and failures, the connection pool, cases by state and overdue.
//! Counters are kept as things happen; queue and case figures are read from the database at each scrape.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::{App, AppResult};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    /// The route's template (`/api/v1/cases/{id}`), never the path itself: ids would make a series each.
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    job: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GatewayLabels {
    gateway: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

fn latency() -> Histogram {
    // 1 ms … 16 s: pages answer in milliseconds, an import or export may take seconds.
    Histogram::new([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 16.0])
}

/// The counters kept while serving; cheap to clone (shared).
#[derive(Clone, Debug)]
pub struct Telemetry {
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram, fn() -> Histogram>,
    job_runs: Family<JobLabels, Counter>,
    job_failures: Family<JobLabels, Counter>,
    /// `false` with `serve --no-metrics`: nothing is counted and `/metrics` is not served.
    pub enabled: bool,
}

impl Default for Telemetry {
    fn default() -> Self {
        Telemetry {
            requests: Family::default(),
            durations: Family::new_with_constructor(latency),
            job_runs: Family::default(),
            job_failures: Family::default(),
            enabled: true,
        }
    }
}

impl Telemetry {
    /// One answered request.
    pub fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        if !self.enabled {
            return;
        }
        let (method, route) = (method.to_string(), route.to_string());
        self.requests.get_or_create(&RequestLabels { method: method.clone(), route: route.clone(), status }).inc();
        self.durations.get_or_create(&RouteLabels { method, route }).observe(seconds);
    }

    /// One run of a background job, and whether it failed.
    pub fn job(&self, job: &str, failed: bool) {
        let labels = JobLabels { job: job.to_string() };
        self.job_runs.get_or_create(&labels).inc();
        if failed {
            self.job_failures.get_or_create(&labels).inc();
        }
    }
}

fn gauge(registry: &mut Registry, name: &str, help: &str, value: i64) {
    let g = Gauge::<i64>::default();
    g.set(value);
    registry.register(name, help, g);
}

impl App {
    /// The metrics text for one scrape.
    pub async fn metrics_text(&self) -> AppResult<String> {
        let t = &self.telemetry;
        let mut r = Registry::with_prefix("hcp");
        r.register("http_requests", "HTTP requests answered, by route template and status", t.requests.clone());
        r.register("http_request_duration_seconds", "Time to answer, by route template", t.durations.clone());
        r.register("job_runs", "Background job runs", t.job_runs.clone());
        r.register("job_failures", "Background job runs that failed", t.job_failures.clone());

        let w = self.writer_stats();
        let counter = |n: u64| {
            let c = Counter::<u64>::default();
            c.inc_by(n);
            c
        };
        r.register("writer_batches", "Evaluation batches committed by the group-commit writer", counter(w.batches));
        r.register(
            "evaluations_written",
            "Evaluations submitted through the writer (batch sizes: this / batches)",
            counter(w.submissions),
        );
        let commit = prometheus_client::metrics::counter::Counter::<f64, std::sync::atomic::AtomicU64>::default();
        commit.inc_by(w.commit_micros as f64 / 1e6);
        r.register("writer_commit_seconds", "Time spent writing and committing batches", commit);
        gauge(&mut r, "writer_queued", "Submissions waiting for the writer", w.queued as i64);

        let (size, idle) = self.store.pool_use();
        gauge(&mut r, "db_pool_connections", "Database connections open in this instance", i64::from(size));
        gauge(&mut r, "db_pool_idle", "Of those, idle", idle as i64);

        let now = self.now();
        let waiting = Family::<GatewayLabels, Gauge>::default();
        let oldest = Family::<GatewayLabels, Gauge>::default();
        let sms = self.store.outbox_backlog().await?;
        let gw = |g: &str| GatewayLabels { gateway: g.to_string() };
        waiting.get_or_create(&gw("sms")).set(sms.waiting);
        oldest.get_or_create(&gw("sms")).set(sms.oldest.map_or(0, |o| (now - o).num_seconds().max(0)));
        let (mut up_waiting, mut up_oldest) = (0, None);
        for c in self.store.upstream_counts().await? {
            if c.state == "waiting" {
                up_waiting += c.count;
                up_oldest = match (up_oldest, c.oldest) {
                    (Some(a), Some(b)) => Some(std::cmp::min(a, b)),
                    (a, b) => a.or(b),
                };
            }
        }
        waiting.get_or_create(&gw("upstream")).set(up_waiting);
        oldest.get_or_create(&gw("upstream")).set(up_oldest.map_or(0, |o| (now - o).num_seconds().max(0)));
        r.register(
            "outbox_waiting",
            "Items not yet delivered, per gateway (sms: notifications; upstream: the province)",
            waiting,
        );
        r.register("outbox_oldest_age_seconds", "Age of the oldest item not yet delivered, per gateway", oldest);

        // The exchange's state (issue 28 §5): 1 on the current one of unconfigured, ok, failing.
        let health = self.exchange_health().await?;
        let exchange = Family::<StateLabels, Gauge>::default();
        for state in [
            crate::exchange_health::ExchangeState::Unconfigured,
            crate::exchange_health::ExchangeState::Ok,
            crate::exchange_health::ExchangeState::Failing,
        ] {
            exchange
                .get_or_create(&StateLabels { state: state.as_str().to_string() })
                .set(i64::from(health.state == state));
        }
        r.register("exchange_state", "The exchange with the upper level: 1 on its current state", exchange);
        gauge(
            &mut r,
            "exchange_last_accepted_timestamp_seconds",
            "When the upper level last answered a push (0: never)",
            health.last_accepted_at.map_or(0, |t| t.timestamp()),
        );
        gauge(
            &mut r,
            "exchange_stalled",
            "1 when items wait over 30 minutes and nothing was accepted meanwhile",
            i64::from(health.stalled),
        );

        let cases = Family::<StateLabels, Gauge>::default();
        for (state, n) in self.store.case_state_counts().await? {
            cases.get_or_create(&StateLabels { state }).set(n);
        }
        r.register("cases", "Bad-review cases by state", cases);
        gauge(
            &mut r,
            "cases_overdue",
            "Open cases past one of their limits (逾期)",
            self.store.overdue_open_cases().await?,
        );

        let mut out = String::new();
        encode(&mut out, &r)
            .map_err(|e| crate::AppError::Internal(hcp_store::StoreError::Corrupt(format!("metrics: {e}"))))?;
        Ok(out)
    }
}
