//! Group commit for evaluations: one task owns the writing, takes whatever submissions have queued up,
//! writes them in one transaction and answers each only after the commit. It commits as soon as the queue
//! is empty and never waits on a timer, so a lone submission is not delayed and a burst shares one fsync
//! (DESIGN.md measured a fixed batching window at a third of the throughput).

use tokio::sync::{mpsc, oneshot};

use crate::evaluations::{NewEvaluation, insert_evaluations};
use crate::{Store, StoreError};

/// The most evaluations written in one statement (9 parameters each stays under both databases' limits).
const MAX_BATCH: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Written and committed: the evaluation is on disk.
    Inserted { id: i64 },
    /// The record already has an evaluation of that round; nothing was written. Read it to compare.
    AlreadyEvaluated,
}

type Job = (NewEvaluation, oneshot::Sender<Result<WriteOutcome, StoreError>>);

/// A handle on the writer task; clone it freely. The task ends when the last handle is dropped, after
/// writing what was queued.
#[derive(Clone, Debug)]
pub struct EvaluationWriter {
    tx: mpsc::Sender<Job>,
}

impl EvaluationWriter {
    pub fn spawn(store: Store) -> EvaluationWriter {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(store, rx));
        EvaluationWriter { tx }
    }

    /// Writes one evaluation and returns once it is committed (or known to exist already).
    pub async fn write(&self, e: NewEvaluation) -> Result<WriteOutcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.tx.send((e, reply)).await.map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        write_batch(&store, &mut batch).await;
    }
}

async fn write_batch(store: &Store, batch: &mut Vec<Job>) {
    // Two submissions for the same record in one batch (a double tap): the first goes in, the others are
    // answered as "already evaluated" and compared by the caller, exactly as if they came a moment later.
    let mut rows: Vec<NewEvaluation> = Vec::with_capacity(batch.len());
    let mut writes: Vec<bool> = Vec::with_capacity(batch.len());
    for (e, _) in batch.iter() {
        let dup = rows.iter().any(|r| r.service_record_id == e.service_record_id && r.round == e.round);
        if !dup {
            rows.push(e.clone());
        }
        writes.push(!dup);
    }
    match commit(store, &rows).await {
        Ok(inserted) => {
            for ((e, reply), wrote) in batch.drain(..).zip(writes) {
                let id = inserted.iter().find(|(rid, _)| *rid == e.service_record_id).map(|(_, id)| *id);
                let outcome = match (wrote, id) {
                    (true, Some(id)) => WriteOutcome::Inserted { id },
                    _ => WriteOutcome::AlreadyEvaluated,
                };
                let _ = reply.send(Ok(outcome));
            }
        }
        Err(err) if batch.len() == 1 => {
            if let Some((_, reply)) = batch.pop() {
                let _ = reply.send(Err(err));
            }
        }
        Err(err) => {
            // One bad row must not sink the others: write them one by one, each with its own answer.
            tracing::warn!(error = %err, size = batch.len(), "evaluation batch failed; retrying one by one");
            for job in std::mem::take(batch) {
                let mut single = vec![job];
                Box::pin(write_batch(store, &mut single)).await;
            }
        }
    }
}

async fn commit(store: &Store, rows: &[NewEvaluation]) -> Result<Vec<(i64, i64)>, StoreError> {
    let mut tx = store.begin_write().await?;
    let inserted = insert_evaluations(&mut tx, rows).await?;
    tx.commit().await?;
    Ok(inserted)
}
