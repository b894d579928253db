//! Traces for portals on other nodes: the gateway hands each finished trace over without
//! waiting, and a background task writes it to the shared database, where the portal's
//! console finds it by id when the call went through another node's gateway.

use portcullis_gateway::trace::{SharedTrace, TraceSink};
use portcullis_store::Store;
use tokio::sync::mpsc;

/// Traces waiting to be written; past this many (a flood of traced calls) new ones are
/// only kept by the gateway that recorded them.
const QUEUE: usize = 256;

pub struct SharedTraces {
    queue: mpsc::Sender<SharedTrace>,
}

impl SharedTraces {
    /// Starts the writer task over `store`.
    pub fn start(store: Store) -> Self {
        let (queue, mut traces) = mpsc::channel::<SharedTrace>(QUEUE);
        tokio::spawn(async move {
            while let Some(trace) = traces.recv().await {
                let record = match serde_json::to_string(&trace) {
                    Ok(record) => record,
                    Err(error) => {
                        tracing::warn!(%error, "a trace could not be encoded");
                        continue;
                    }
                };
                if let Err(error) = store
                    .save_trace(&trace.id, &trace.service, trace.at_ms, record)
                    .await
                {
                    tracing::warn!(%error, id = trace.id, "a trace could not be shared");
                }
            }
        });
        Self { queue }
    }
}

impl TraceSink for SharedTraces {
    fn share(&self, trace: SharedTrace) {
        if self.queue.try_send(trace).is_err() {
            tracing::debug!("trace queue full; the trace stays with this node");
        }
    }
}
