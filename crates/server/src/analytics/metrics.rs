//! The Prometheus endpoint's numbers: request counts and latency histograms labelled by
//! service, API, operation, product and status class. Updated by the aggregator task, never
//! on the request path.

use portcullis_domain::usage::StatusClass;
use portcullis_gateway::calls::CallRecord;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    service: String,
    api: String,
    operation: String,
    product: String,
    status_class: String,
}

fn latency_buckets() -> impl Iterator<Item = f64> {
    [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    ]
    .into_iter()
}

/// A label set by the snapshot's shared names: looking one up allocates nothing.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct SeriesKey {
    service: Arc<str>,
    api: Option<Arc<str>>,
    operation: Option<Arc<str>>,
    product: Option<Arc<str>>,
    class: StatusClass,
}

/// The three series of one label set (each a shared handle into its family).
#[derive(Clone)]
struct Series {
    requests: Counter,
    duration: Histogram,
    backend_duration: Histogram,
}

/// The registry and the families the aggregator updates.
pub struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<CallLabels, Counter>,
    duration: Family<CallLabels, Histogram>,
    backend_duration: Family<CallLabels, Histogram>,
    dropped: Counter,
    series: Mutex<HashMap<SeriesKey, Series>>,
    /// Where the shared counters' failure count is read when the metrics are rendered.
    counter_failures: Mutex<Option<FailureSource>>,
}

/// Reads a running count kept elsewhere (the Redis counters keep theirs in an atomic).
type FailureSource = (Counter, Box<dyn Fn() -> u64 + Send + Sync>);

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("portcullis");
        let requests = Family::<CallLabels, Counter>::default();
        let duration = Family::<CallLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(latency_buckets())
        });
        let backend_duration = Family::<CallLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(latency_buckets())
        });
        let dropped = Counter::default();
        registry.register(
            "gateway_requests",
            "Calls answered by the gateway",
            requests.clone(),
        );
        registry.register(
            "gateway_request_duration_seconds",
            "Time from the request to the response head, in the gateway",
            duration.clone(),
        );
        registry.register(
            "gateway_backend_duration_seconds",
            "Time the backend took to answer (calls that reached it)",
            backend_duration.clone(),
        );
        registry.register(
            "analytics_dropped_records",
            "Call records dropped because the aggregator fell behind",
            dropped.clone(),
        );
        Self {
            registry: Mutex::new(registry),
            requests,
            duration,
            backend_duration,
            dropped,
            series: Mutex::new(HashMap::new()),
            counter_failures: Mutex::new(None),
        }
    }
}

impl Metrics {
    pub fn observe(&self, call: &CallRecord) {
        let key = SeriesKey {
            service: call.service.clone(),
            api: call.api.clone(),
            operation: call.operation.clone(),
            product: call.product.clone(),
            class: StatusClass::of(call.status),
        };
        let mut series = self
            .series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let series = series.entry(key).or_insert_with_key(|key| {
            let labels = CallLabels {
                service: key.service.to_string(),
                api: key.api.as_deref().unwrap_or_default().to_owned(),
                operation: key.operation.as_deref().unwrap_or_default().to_owned(),
                product: key.product.as_deref().unwrap_or_default().to_owned(),
                status_class: key.class.as_str().to_owned(),
            };
            Series {
                requests: self.requests.get_or_create(&labels).clone(),
                duration: self.duration.get_or_create(&labels).clone(),
                backend_duration: self.backend_duration.get_or_create(&labels).clone(),
            }
        });
        series.requests.inc();
        series.duration.observe(call.total.as_secs_f64());
        if let Some(backend) = call.backend {
            series.backend_duration.observe(backend.as_secs_f64());
        }
    }

    pub fn dropped(&self, count: u64) {
        self.dropped.inc_by(count);
    }

    /// Reports `failures` (a running count) as `portcullis_counter_store_failures_total`:
    /// rate-limit, quota and concurrency decisions the shared counters could not make.
    pub fn follow_counter_failures(&self, failures: impl Fn() -> u64 + Send + Sync + 'static) {
        let counter = Counter::default();
        self.registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .register(
                "counter_store_failures",
                "Counter decisions Redis could not make (answered by the failure mode)",
                counter.clone(),
            );
        *self
            .counter_failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((counter, Box::new(failures)));
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        if let Some((counter, failures)) = &*self
            .counter_failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
        {
            counter.inc_by(failures().saturating_sub(counter.get()));
        }
        let mut text = String::new();
        let registry = self
            .registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if prometheus_client::encoding::text::encode(&mut text, &registry).is_err() {
            text.clear();
        }
        text
    }
}
