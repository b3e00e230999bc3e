//! Group commit for evaluations: one task owns the writing, takes whatever submissions have queued up, and
//! handles them together in one transaction — one query finds every token's record, the window rule is
//! checked, one statement inserts the accepted evaluations — answering each only after the commit. It
//! commits as soon as the queue is empty and never waits on a timer, so a lone submission is not delayed and
//! a burst shares one transaction and one fsync (DESIGN.md measured a fixed batching window at a third of
//! the throughput). On SQLite this also makes check-then-insert atomic: there is one writer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use hcp_domain::evaluation::{WindowRefusal, check_window};
use sqlx::{AnyConnection, Row};
use tokio::sync::{mpsc, oneshot};

use crate::audit::NewAudit;
use crate::evaluations::{EvaluationRow, NewEvaluation, evaluation_from_prefixed, insert_evaluations};
use crate::time::from_ms;
use crate::{Backend, Store, StoreError};

/// The most submissions handled in one transaction (9 parameters each stays under both databases' limits).
const MAX_BATCH: usize = 1000;
/// Submissions waiting for the writer at most: four full batches. Past it a submission is refused with 503
/// (`server_busy`) instead of waiting behind a database that cannot keep up.
const QUEUE: usize = 4 * MAX_BATCH;

/// An evaluator's submission by invitation token; `evaluation.service_record_id` is filled in here.
#[derive(Debug, Clone)]
pub struct TokenSubmission {
    pub token_hash: String,
    pub evaluation: NewEvaluation,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Written and committed: the evaluation is on disk.
    Inserted { id: i64, service_record_id: i64 },
    /// No invitation has this token.
    UnknownToken,
    /// The record cannot take an evaluation now.
    Refused(WindowRefusal),
    /// The record already has its evaluation; nothing was written. The caller compares.
    Existing(Box<EvaluationRow>),
}

type Job = (TokenSubmission, oneshot::Sender<Result<WriteOutcome, StoreError>>);

/// A handle on the writer task; clone it freely. The task ends when the last handle is dropped, after
/// writing what was queued.
#[derive(Clone, Debug)]
pub struct EvaluationWriter {
    tx: mpsc::Sender<Job>,
    stats: std::sync::Arc<Counters>,
}

/// What the writer has done since start (for `/metrics`): batches committed, submissions in them, and the time
/// spent writing and committing them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriterStats {
    pub batches: u64,
    pub submissions: u64,
    pub commit_micros: u64,
    /// Submissions waiting for the writer now.
    pub queued: usize,
}

#[derive(Debug, Default)]
struct Counters {
    batches: AtomicU64,
    submissions: AtomicU64,
    commit_micros: AtomicU64,
}

impl EvaluationWriter {
    pub fn spawn(store: Store) -> EvaluationWriter {
        Self::spawn_with_queue(store, QUEUE)
    }

    /// [`Self::spawn`] with a queue of `capacity` submissions.
    pub fn spawn_with_queue(store: Store, capacity: usize) -> EvaluationWriter {
        let (tx, rx) = mpsc::channel(capacity);
        let stats = std::sync::Arc::new(Counters::default());
        tokio::spawn(run(store, rx, stats.clone()));
        EvaluationWriter { tx, stats }
    }

    pub fn stats(&self) -> WriterStats {
        WriterStats {
            batches: self.stats.batches.load(Ordering::Relaxed),
            submissions: self.stats.submissions.load(Ordering::Relaxed),
            commit_micros: self.stats.commit_micros.load(Ordering::Relaxed),
            queued: self.tx.max_capacity() - self.tx.capacity(),
        }
    }

    /// Handles one submission and returns once its outcome is committed; [`StoreError::Busy`] at once when the
    /// queue is full (a slow or stalled database), so submissions do not pile up without bound.
    pub async fn submit(&self, s: TokenSubmission) -> Result<WriteOutcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.tx.try_send((s, reply)).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => StoreError::Busy,
            mpsc::error::TrySendError::Closed(_) => StoreError::WriterStopped,
        })?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<Job>, stats: std::sync::Arc<Counters>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        let size = batch.len() as u64;
        write_batch(&store, &mut batch).await;
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats.submissions.fetch_add(size, Ordering::Relaxed);
        stats.commit_micros.fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
    }
}

async fn write_batch(store: &Store, batch: &mut Vec<Job>) {
    let subs: Vec<TokenSubmission> = batch.iter().map(|(s, _)| s.clone()).collect();
    match handle(store, &subs).await {
        Ok(outcomes) => {
            for ((_, reply), outcome) in batch.drain(..).zip(outcomes) {
                let _ = reply.send(Ok(outcome));
            }
        }
        Err(err) if batch.len() == 1 => {
            if let Some((_, reply)) = batch.pop() {
                let _ = reply.send(Err(err));
            }
        }
        Err(err) => {
            // One bad row must not sink the others: handle them one by one, each with its own answer.
            tracing::warn!(error = %err, size = batch.len(), "evaluation batch failed; retrying one by one");
            for job in std::mem::take(batch) {
                let mut single = vec![job];
                Box::pin(write_batch(store, &mut single)).await;
            }
        }
    }
}

/// What the batch found for one token.
struct Found {
    record_id: i64,
    completed_at: Option<DateTime<Utc>>,
    closes_at: Option<DateTime<Utc>>,
    evaluation: Option<EvaluationRow>,
    /// The hall device that fetched the link, if one did.
    device_code: Option<String>,
}

async fn lookup(
    conn: &mut AnyConnection,
    backend: Backend,
    hashes: &[&str],
) -> Result<HashMap<String, Found>, StoreError> {
    let mut sql = String::from(
        "SELECT v.token_hash, v.device_code, r.id AS record_id, r.completed_at, r.default_due_at,
            e.id AS e_id, e.service_record_id AS e_service_record_id, e.level AS e_level, e.channel AS e_channel,
            e.indicator_ids AS e_indicator_ids, e.staff_indicator_ids AS e_staff_indicator_ids,
            e.comment AS e_comment, e.is_default AS e_is_default, e.created_at AS e_created_at
         FROM evaluation_invite v
         JOIN service_record r ON r.id = v.service_record_id
         LEFT JOIN evaluation e ON e.service_record_id = r.id AND e.round = 1
         WHERE v.token_hash IN ",
    );
    crate::sql::push_tuple(&mut sql, backend, 1, hashes.len());
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for h in hashes {
        q = q.bind(*h);
    }
    let mut found = HashMap::with_capacity(hashes.len());
    for r in q.fetch_all(&mut *conn).await? {
        found.insert(
            r.try_get::<String, _>("token_hash")?,
            Found {
                record_id: r.try_get("record_id")?,
                completed_at: r.try_get::<Option<i64>, _>("completed_at")?.map(from_ms),
                closes_at: r.try_get::<Option<i64>, _>("default_due_at")?.map(from_ms),
                evaluation: evaluation_from_prefixed(&r)?,
                device_code: r.try_get("device_code")?,
            },
        );
    }
    Ok(found)
}

/// The whole batch in one transaction; outcomes in input order.
async fn handle(store: &Store, subs: &[TokenSubmission]) -> Result<Vec<WriteOutcome>, StoreError> {
    let mut tx = store.begin_write().await?;
    let mut hashes: Vec<&str> = subs.iter().map(|s| s.token_hash.as_str()).collect();
    hashes.sort_unstable();
    hashes.dedup();
    let found = lookup(&mut tx, store.backend, &hashes).await?;

    // Decide each submission; the first accepted one for a record wins, later ones in the batch (a double
    // tap) see it as the existing evaluation, exactly as if they had come a moment later.
    enum Plan {
        Done(WriteOutcome),
        Insert(usize),
        SameRecordAs(usize),
    }
    let mut rows: Vec<NewEvaluation> = Vec::new();
    let mut plans = Vec::with_capacity(subs.len());
    for s in subs {
        let plan = match found.get(&s.token_hash) {
            None => Plan::Done(WriteOutcome::UnknownToken),
            Some(f) => match (&f.evaluation, check_window(f.completed_at, f.closes_at, s.evaluation.created_at)) {
                (Some(e), _) => Plan::Done(WriteOutcome::Existing(Box::new(e.clone()))),
                (None, Err(refusal)) => Plan::Done(WriteOutcome::Refused(refusal)),
                (None, Ok(())) => match rows.iter().position(|r| r.service_record_id == f.record_id) {
                    Some(first) => Plan::SameRecordAs(first),
                    None => {
                        let mut row = NewEvaluation { service_record_id: f.record_id, ..s.evaluation.clone() };
                        if let Some(device) = &f.device_code {
                            row.evidence.get_or_insert_with(Default::default).device_code = Some(device.clone());
                        }
                        rows.push(row);
                        Plan::Insert(rows.len() - 1)
                    }
                },
            },
        };
        plans.push(plan);
    }
    let inserted = insert_evaluations(&mut tx, store.backend, &rows).await?;
    let bad = crate::evaluations::bad_review_ids(&rows, &inserted);
    let mut audit: Vec<NewAudit> = rows
        .iter()
        .filter_map(|r| {
            inserted.get(&r.service_record_id).map(|id| evaluation_audit(r, *id, "evaluator", "evaluation.create"))
        })
        .collect();
    audit.extend(crate::cases::open_cases(&mut tx, store.backend, &bad).await?);
    crate::audit::append(&mut tx, &store.chain(), &audit).await?;
    tx.commit().await?;

    let mut outcomes = Vec::with_capacity(plans.len());
    for plan in plans {
        outcomes.push(match plan {
            Plan::Done(outcome) => outcome,
            Plan::Insert(i) => match inserted.get(&rows[i].service_record_id) {
                Some(id) => WriteOutcome::Inserted { id: *id, service_record_id: rows[i].service_record_id },
                None => existing_after_race(store, rows[i].service_record_id).await?,
            },
            Plan::SameRecordAs(i) => match inserted.get(&rows[i].service_record_id) {
                Some(id) => WriteOutcome::Existing(Box::new(EvaluationRow::from_new(*id, &rows[i]))),
                None => existing_after_race(store, rows[i].service_record_id).await?,
            },
        });
    }
    Ok(outcomes)
}

/// Another process evaluated the record between our lookup and our insert: answer with what it wrote.
async fn existing_after_race(store: &Store, record_id: i64) -> Result<WriteOutcome, StoreError> {
    match store.first_evaluation(record_id).await? {
        Some(e) => Ok(WriteOutcome::Existing(Box::new(e))),
        None => Err(StoreError::Corrupt("an evaluation conflicted but is not there".into())),
    }
}

/// The audit entry of a recorded evaluation (no personal data: ids, level, channel).
pub(crate) fn evaluation_audit(e: &NewEvaluation, id: i64, actor: &str, action: &'static str) -> NewAudit {
    NewAudit {
        at: e.created_at,
        actor: actor.to_string(),
        action,
        target: format!("service_record:{}", e.service_record_id),
        details: format!(
            r#"{{"evaluation_id":{id},"round":{},"level":"{}","channel":"{}"}}"#,
            e.round, e.level, e.channel
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submission(n: usize) -> TokenSubmission {
        TokenSubmission {
            token_hash: format!("no-such-token-{n}"),
            evaluation: NewEvaluation {
                service_record_id: 0,
                round: 1,
                level: "satisfied",
                channel: "web",
                indicator_ids: String::new(),
                staff_indicator_ids: String::new(),
                comment: None,
                is_default: false,
                created_at: Utc::now(),
                recorded_by: None,
                evidence: None,
            },
        }
    }

    /// A stalled database (another connection holds SQLite's write lock): the queue fills, and the next
    /// submission is refused at once with `Busy` instead of waiting; those queued are answered once it moves.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_refuses_at_once_and_the_queued_are_answered_later() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("writer.db").display());
        let store = Store::connect(&url, 4).await.unwrap();
        store.migrate().await.unwrap();
        let mut blocker = store.pool.acquire().await.unwrap();
        sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut *blocker).await.unwrap();

        let writer = EvaluationWriter::spawn_with_queue(store.clone(), 2);
        // The first is taken into a batch (and waits for the lock); two more fill the queue.
        let mut waiting = Vec::new();
        for n in 0..3 {
            let w = writer.clone();
            waiting.push(tokio::spawn(async move { w.submit(submission(n)).await }));
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(writer.stats().queued, 2);
        let started = std::time::Instant::now();
        let refused = writer.submit(submission(9)).await;
        assert!(matches!(refused, Err(StoreError::Busy)), "{refused:?}");
        assert!(refused.unwrap_err().is_unavailable());
        assert!(started.elapsed() < std::time::Duration::from_secs(1), "refused at once");

        sqlx::raw_sql("COMMIT").execute(&mut *blocker).await.unwrap();
        drop(blocker);
        for w in waiting {
            assert_eq!(w.await.unwrap().unwrap(), WriteOutcome::UnknownToken);
        }
    }
}
