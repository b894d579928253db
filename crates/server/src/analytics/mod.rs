//! Analytics: every gateway call is recorded without slowing it, counted per minute into the
//! config database (with a bounded log of recent calls), and exposed to Prometheus.
//!
//! ```text
//!  gateway log phase ─try_send─► bounded channel ─► aggregator task ─► every 2 s: store
//!                                                        └─► Prometheus families (/metrics)
//! ```
//!
//! A full channel drops the record and counts the loss (`portcullis_analytics_dropped_records`):
//! a slow database never slows the gateway.

mod aggregate;
mod metrics;

pub use metrics::Metrics;

use aggregate::Pending;
use portcullis_gateway::calls::{CallRecord, CallSink};
use portcullis_store::Store;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How often counted calls are written to the store.
pub const FLUSH_EVERY: Duration = Duration::from_secs(2);
/// Records waiting for the aggregator at most.
const QUEUE: usize = 65_536;

// Nearly every message is a call; boxing it would cost an allocation per request to shrink
// the rare flush message.
#[allow(clippy::large_enum_variant)]
enum Message {
    Call(CallRecord),
    /// Write everything counted so far, then answer.
    Flush(oneshot::Sender<()>),
}

/// The gateway's side: hands records to the aggregator, never waiting.
pub struct ChannelSink {
    sender: mpsc::Sender<Message>,
    dropped: AtomicU64,
}

impl CallSink for ChannelSink {
    fn record(&self, call: CallRecord) {
        if self.sender.try_send(Message::Call(call)).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A handle on the running aggregator.
#[derive(Clone)]
pub struct Analytics {
    sink: Arc<ChannelSink>,
    metrics: Arc<Metrics>,
}

impl Analytics {
    /// Starts the aggregator task; it writes to `store` until every handle is gone.
    pub fn start(store: Store) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        let metrics = Arc::new(Metrics::default());
        let sink = Arc::new(ChannelSink {
            sender,
            dropped: AtomicU64::new(0),
        });
        tokio::spawn(run(store, receiver, metrics.clone(), Arc::downgrade(&sink)));
        Self { sink, metrics }
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
        if self.sink.sender.send(Message::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

async fn write(store: &Store, pending: &mut Pending) {
    if pending.is_empty() {
        return;
    }
    let (minutes, recent) = pending.take();
    if let Err(error) = store.record_usage(minutes).await {
        tracing::warn!(%error, "analytics: usage not written");
    }
    if let Err(error) = store.record_calls(recent).await {
        tracing::warn!(%error, "analytics: recent calls not written");
    }
}

async fn run(
    store: Store,
    mut receiver: mpsc::Receiver<Message>,
    metrics: Arc<Metrics>,
    sink: std::sync::Weak<ChannelSink>,
) {
    let mut pending = Pending::default();
    let mut ticker = tokio::time::interval(FLUSH_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            message = receiver.recv() => match message {
                Some(Message::Call(call)) => {
                    metrics.observe(&call);
                    pending.add(call);
                }
                Some(Message::Flush(done)) => {
                    write(&store, &mut pending).await;
                    let _ = done.send(());
                }
                None => break,
            },
            _ = ticker.tick() => {
                if let Some(sink) = sink.upgrade() {
                    metrics.dropped(sink.dropped.swap(0, Ordering::Relaxed));
                }
                write(&store, &mut pending).await;
            }
        }
    }
    write(&store, &mut pending).await;
}
