//! The demo flow: what a low-code flow's "When an HTTP request is received" URL does in the
//! README's walkthrough, so that it runs with nothing else installed.
//!
//! `POST /` with `{"a": 1, "b": 2}` answers `200 {"sum": 3}`. Bad JSON, missing or
//! non-numeric fields answer 400 with a message saying which; other methods 405.

use axum::Router;
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Number, Value, json};

pub fn router() -> Router {
    Router::new().route("/", post(add))
}

fn bad_request(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({ "error": message })),
    )
        .into_response()
}

async fn add(body: Bytes) -> Response {
    let value: Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(error) => {
            return bad_request(format!(
                "The body must be JSON like {{\"a\": 1, \"b\": 2}}: {error}."
            ));
        }
    };
    let operand = |name: &str| -> Result<Number, String> {
        match value.get(name) {
            Some(Value::Number(n)) => Ok(n.clone()),
            Some(other) => Err(format!(
                "The field \"{name}\" must be a number, not {other}."
            )),
            None => Err(format!(
                "The field \"{name}\" is missing; send {{\"a\": 1, \"b\": 2}}."
            )),
        }
    };
    let (a, b) = match (operand("a"), operand("b")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(message), _) | (_, Err(message)) => return bad_request(message),
    };
    let sum = match (a.as_i64(), b.as_i64()) {
        (Some(a), Some(b)) => a.checked_add(b).map(Number::from),
        _ => None,
    }
    .or_else(|| Number::from_f64(a.as_f64().unwrap_or(f64::NAN) + b.as_f64().unwrap_or(f64::NAN)));
    match sum {
        Some(sum) => (
            [(header::CONTENT_TYPE, "application/json")],
            json!({ "sum": sum }).to_string(),
        )
            .into_response(),
        None => bad_request("The sum is not a finite number.".into()),
    }
}
