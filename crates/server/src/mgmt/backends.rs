//! `/mgmt/services/{service}/backends/{id}` (APIM's backends): `PUT` with APIM's properties
//! (`url`, `protocol`, `type`, `credentials`, `tls`, `circuitBreaker`, `pool`, flat or in
//! `{"properties": …}`); reads give them back as written, with who uses the backend and, for
//! a backend with a circuit-breaker rule, the breaker's state on this node
//! (`circuitBreakerState`). `POST …/backends/{id}/reset` closes an open breaker.

use crate::mgmt::body::{JsonBody, name, saved_status};
use crate::mgmt::paging::ListRequest;
use crate::mgmt::{MgmtError, MgmtState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use portcullis_domain::backend::BackendContract;
use portcullis_domain::{BackendName, BackendSettings, ServiceName};
use portcullis_gateway::circuit_breaker::{BreakerBoard, BreakerState};
use portcullis_store::{Actor, BackendRecord};
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendView {
    id: String,
    name: BackendName,
    #[serde(flatten)]
    properties: BackendContract,
    /// The policies (`API echo`), fragments and pools (`pool p`) that name it.
    used_by: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    circuit_breaker_state: Option<BreakerView>,
}

/// A breaker as the portal shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BreakerView {
    /// `closed` or `open`.
    state: &'static str,
    /// Failures and calls in the current interval (closed).
    failures: u32,
    calls: u32,
    /// Seconds until it closes (open).
    #[serde(skip_serializing_if = "Option::is_none")]
    open_for_seconds: Option<u64>,
    /// Times it tripped since this node started.
    trips: u64,
}

/// The state of `service`'s `backend` breaker on this node.
pub fn breaker_view(board: &BreakerBoard, service: &str, backend: &str) -> Option<BreakerView> {
    let breaker = board.get(service, backend)?;
    let trips = breaker.trips();
    Some(match breaker.state() {
        BreakerState::Closed { failures, calls } => BreakerView {
            state: "closed",
            failures,
            calls,
            open_for_seconds: None,
            trips,
        },
        BreakerState::Open { remaining } => BreakerView {
            state: "open",
            failures: 0,
            calls: 0,
            open_for_seconds: Some(remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0)),
            trips,
        },
    })
}

fn view(control: &MgmtState, service: &ServiceName, record: BackendRecord) -> BackendView {
    let state = record.settings.breaker().and_then(|_| {
        breaker_view(
            control.snapshots().breakers(),
            service.as_str(),
            record.name.as_str(),
        )
    });
    BackendView {
        id: format!("/services/{service}/backends/{}", record.name),
        properties: record.settings.contract().clone(),
        used_by: record.used_by,
        circuit_breaker_state: state,
        name: record.name,
    }
}

fn names(service: String, backend: String) -> Result<(ServiceName, BackendName), MgmtError> {
    Ok((
        name("service", service, ServiceName::parse)?,
        name("name", backend, BackendName::parse)?,
    ))
}

pub async fn list(
    State(control): State<MgmtState>,
    Path(service): Path<String>,
    list: ListRequest,
) -> Result<Json<serde_json::Value>, MgmtError> {
    let service = name("service", service, ServiceName::parse)?;
    let records = control.store().list_backends(&service).await?;
    list.answer_in_memory(
        &["name", "title", "url"],
        records
            .into_iter()
            .map(|r| view(&control, &service, r))
            .collect(),
    )
}

pub async fn get(
    State(control): State<MgmtState>,
    Path((service, backend)): Path<(String, String)>,
) -> Result<Json<BackendView>, MgmtError> {
    let (service, backend) = names(service, backend)?;
    let record = control.store().get_backend(&service, &backend).await?;
    Ok(Json(view(&control, &service, record)))
}

pub async fn put(
    State(control): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, backend)): Path<(String, String)>,
    JsonBody(body): JsonBody<BackendContract>,
) -> Result<(StatusCode, Json<BackendView>), MgmtError> {
    let (service, backend) = names(service, backend)?;
    let settings = BackendSettings::parse(&backend, body)?;
    let saved = control
        .write(
            control
                .store()
                .put_backend(&actor, &service, &backend, settings),
        )
        .await?;
    let record = control.store().get_backend(&service, &backend).await?;
    Ok((saved_status(saved), Json(view(&control, &service, record))))
}

pub async fn delete(
    State(control): State<MgmtState>,
    Extension(actor): Extension<Actor>,
    Path((service, backend)): Path<(String, String)>,
) -> Result<StatusCode, MgmtError> {
    let (service, backend) = names(service, backend)?;
    control
        .write(control.store().delete_backend(&actor, &service, &backend))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Closes the backend's breaker on this node (and, with Redis, clears the shared trip).
pub async fn reset(
    State(control): State<MgmtState>,
    Path((service, backend)): Path<(String, String)>,
) -> Result<StatusCode, MgmtError> {
    let (service, backend) = names(service, backend)?;
    control.store().get_backend(&service, &backend).await?;
    if let Some(breaker) = control
        .snapshots()
        .breakers()
        .get(service.as_str(), backend.as_str())
    {
        breaker.reset();
    }
    Ok(StatusCode::NO_CONTENT)
}
