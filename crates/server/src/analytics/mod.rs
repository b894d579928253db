//! Analytics: every gateway call is recorded without slowing it, counted per minute into the
//! config database (with a bounded log of recent calls), and exposed to Prometheus.
//!
//! ```text
//!  gateway log phase ─push─► bounded lock-free queue ◄─drain every 50 ms─ aggregator task
//!                                                         ├─► Prometheus families (/metrics)
//!                                                         └─► every 2 s: the store
//! ```
//!
//! Recording is one push onto a queue: no lock, no allocation, and no task woken per call
//! (the aggregator drains in batches). A full queue drops the record and counts the loss
//! (`portcullis_analytics_dropped_records`): a slow database never slows the gateway.

mod aggregate;
mod metrics;

pub use metrics::Metrics;

use aggregate::Pending;
use crossbeam_queue::ArrayQueue;
use portcullis_domain::usage::{RecentCall, UsageCounts, UsageKey};
use portcullis_gateway::calls::{CallRecord, CallSink};
use portcullis_store::Store;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How often counted calls are written to the store.
pub const FLUSH_EVERY: Duration = Duration::from_secs(2);
/// How often the aggregator drains the queue.
const DRAIN_EVERY: Duration = Duration::from_millis(50);
/// Records waiting for the aggregator at most: 50 ms of 160k calls/s. The buffer is
/// allocated whole and every slot is touched as the ring turns, so it costs ~2 MB of RSS.
const QUEUE: usize = 8_192;

/// The gateway's side: pushes records onto the queue, never waiting.
pub struct QueueSink {
    queue: ArrayQueue<CallRecord>,
    dropped: AtomicU64,
}

impl CallSink for QueueSink {
    fn record(&self, call: CallRecord) {
        if self.queue.push(call).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A handle on the running aggregator.
#[derive(Clone)]
pub struct Analytics {
    sink: Arc<QueueSink>,
    metrics: Arc<Metrics>,
    /// Asks the aggregator to write everything now; answered when done.
    flushes: mpsc::Sender<oneshot::Sender<()>>,
}

impl Analytics {
    /// Starts the aggregator task; it writes to `store` until every handle is gone.
    pub fn start(store: Store) -> Self {
        let (flushes, requests) = mpsc::channel(16);
        let metrics = Arc::new(Metrics::default());
        let sink = Arc::new(QueueSink {
            queue: ArrayQueue::new(QUEUE),
            dropped: AtomicU64::new(0),
        });
        tokio::spawn(run(store, sink.clone(), requests, metrics.clone()));
        Self {
            sink,
            metrics,
            flushes,
        }
    }

    pub fn sink(&self) -> Arc<dyn CallSink> {
        self.sink.clone()
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Writes everything recorded so far to the store (tests, and shutdown).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.flushes.send(done).await.is_ok() {
            let _ = wait.await;
        }
    }
}

/// Moves every queued record into the counts.
fn drain(sink: &QueueSink, metrics: &Metrics, pending: &mut Pending) {
    while let Some(call) = sink.queue.pop() {
        metrics.observe(&call);
        pending.add(call);
    }
    metrics.dropped(sink.dropped.swap(0, Ordering::Relaxed));
}

/// What a failed write left to write again. Bounded: past [`MAX_UNWRITTEN_ROWS`] minute rows
/// the oldest are dropped (and counted in the log); of the recent calls only the newest
/// [`portcullis_store::RECENT_CALLS_KEPT`] are ever kept anyway.
#[derive(Debug, Default)]
struct Unwritten {
    minutes: Vec<(UsageKey, UsageCounts)>,
    recent: Vec<RecentCall>,
}

/// Minute rows kept for a database that is away: a day of 70 distinct keys a minute.
const MAX_UNWRITTEN_ROWS: usize = 100_000;

/// Writes what was counted, with whatever an earlier write could not save. Each store write
/// is one transaction, so a batch is saved whole or kept whole for the next attempt.
async fn write(store: &Store, pending: &mut Pending, unwritten: &mut Unwritten) {
    if !pending.is_empty() {
        let (minutes, recent) = pending.take();
        unwritten.minutes.extend(minutes);
        unwritten.recent.extend(recent);
    }
    if !unwritten.minutes.is_empty() {
        match store.record_usage(unwritten.minutes.clone()).await {
            Ok(()) => unwritten.minutes.clear(),
            Err(error) => {
                let excess = unwritten.minutes.len().saturating_sub(MAX_UNWRITTEN_ROWS);
                unwritten.minutes.drain(..excess);
                tracing::warn!(%error, kept = unwritten.minutes.len(), dropped = excess,
                    "analytics: usage not written; kept for the next write");
            }
        }
    }
    if !unwritten.recent.is_empty() {
        let kept = usize::try_from(portcullis_store::RECENT_CALLS_KEPT).unwrap_or(1000);
        let excess = unwritten.recent.len().saturating_sub(kept);
        unwritten.recent.drain(..excess);
        match store.record_calls(unwritten.recent.clone()).await {
            Ok(()) => unwritten.recent.clear(),
            Err(error) => {
                tracing::warn!(%error, "analytics: recent calls not written; kept for the next write");
            }
        }
    }
}

async fn run(
    store: Store,
    sink: Arc<QueueSink>,
    mut flushes: mpsc::Receiver<oneshot::Sender<()>>,
    metrics: Arc<Metrics>,
) {
    let mut pending = Pending::default();
    let mut unwritten = Unwritten::default();
    let mut ticker = tokio::time::interval(DRAIN_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_write = tokio::time::Instant::now();
    loop {
        tokio::select! {
            request = flushes.recv() => {
                drain(&sink, &metrics, &mut pending);
                write(&store, &mut pending, &mut unwritten).await;
                last_write = tokio::time::Instant::now();
                match request {
                    Some(done) => { let _ = done.send(()); }
                    None => break,
                }
            }
            _ = ticker.tick() => {
                drain(&sink, &metrics, &mut pending);
                if last_write.elapsed() >= FLUSH_EVERY {
                    write(&store, &mut pending, &mut unwritten).await;
                    last_write = tokio::time::Instant::now();
                }
            }
        }
    }
}
