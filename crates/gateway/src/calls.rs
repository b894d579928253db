//! What the gateway tells analytics about each call. The log phase hands a [`CallRecord`] to
//! a [`CallSink`], which must not block: the server's sink puts it on a bounded channel and
//! drops it (counting the loss) when the aggregator falls behind, so recording never slows
//! a request.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// One finished call (its response head sent; the body may still be streaming).
#[derive(Debug, Clone)]
pub struct CallRecord {
    pub at: SystemTime,
    pub service: Arc<str>,
    pub api: Option<Arc<str>>,
    pub operation: Option<Arc<str>>,
    pub product: Option<Arc<str>>,
    pub subscription: Option<Arc<str>>,
    pub method: http::Method,
    /// The request's path, for the recent-calls log. A copy: the request's `Uri` shares the
    /// connection's read buffer, and 1,000s of queued records holding it would pin as many
    /// buffers (measured: ~15 MB of RSS under load).
    pub path: Box<str>,
    pub status: u16,
    pub total: Duration,
    pub backend: Option<Duration>,
    /// The response body's declared length (`Content-Length` or a body the gateway made).
    pub bytes: u64,
    pub ip: IpAddr,
    pub request_id: String,
}

/// Where call records go. Implementations must return at once.
pub trait CallSink: Send + Sync {
    fn record(&self, call: CallRecord);
}
