//! The management API of a running node, as the commands use it.

use crate::ApiOpsError;
use serde_json::Value;
use std::time::Duration;

/// A node's management API for one service.
pub struct Mgmt {
    http: reqwest::Client,
    /// `http://host:port/mgmt/services/<service>`.
    base: String,
    token: String,
}

impl Mgmt {
    /// `mgmt_url` is the portal's address (`http://127.0.0.1:3000`), with or without `/mgmt`.
    pub fn new(mgmt_url: &str, token: &str, service: &str) -> Result<Self, ApiOpsError> {
        let root = mgmt_url.trim_end_matches('/').trim_end_matches("/mgmt");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| ApiOpsError::Remote(e.to_string()))?;
        Ok(Self {
            http,
            base: format!("{root}/mgmt/services/{service}"),
            token: token.to_owned(),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends one request; the status and the body's text.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(reqwest::StatusCode, String), ApiOpsError> {
        let failed = |e: reqwest::Error| ApiOpsError::Remote(format!("{method} {path}: {e}"));
        let mut request = self
            .http
            .request(method.clone(), self.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(failed)?;
        let status = response.status();
        let text = response.text().await.map_err(failed)?;
        Ok((status, text))
    }

    /// Sends one request that must succeed; the body's text.
    async fn expect_success(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<String, ApiOpsError> {
        let (status, text) = self.send(method.clone(), path, body).await?;
        if !status.is_success() {
            return Err(ApiOpsError::Remote(format!(
                "{method} {path} → {status}: {text}"
            )));
        }
        Ok(text)
    }

    /// `GET`: `None` on 404.
    pub async fn get(&self, path: &str) -> Result<Option<Value>, ApiOpsError> {
        let (status, text) = self.send(reqwest::Method::GET, path, None).await?;
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(ApiOpsError::Remote(format!(
                "GET {path} → {status}: {text}"
            )));
        }
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| ApiOpsError::Remote(format!("GET {path}: not JSON: {e}")))
    }

    /// `GET` as text (an export).
    pub async fn get_text(&self, path: &str) -> Result<String, ApiOpsError> {
        self.expect_success(reqwest::Method::GET, path, None).await
    }

    /// Every item of a collection, following `nextLink`.
    pub async fn list(&self, path: &str) -> Result<Vec<Value>, ApiOpsError> {
        let mut items = Vec::new();
        let mut skip = 0;
        loop {
            let page = self
                .get(&format!("{path}?$top=1000&$skip={skip}"))
                .await?
                .unwrap_or_default();
            let values = page["value"].as_array().cloned().unwrap_or_default();
            let count = values.len();
            items.extend(values);
            if count == 0 || page.get("nextLink").is_none() {
                return Ok(items);
            }
            skip += count;
        }
    }

    pub async fn put(&self, path: &str, body: &Value) -> Result<Value, ApiOpsError> {
        let text = self
            .expect_success(reqwest::Method::PUT, path, Some(body))
            .await?;
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `DELETE`; one already gone is fine.
    pub async fn delete(&self, path: &str) -> Result<(), ApiOpsError> {
        let (status, text) = self.send(reqwest::Method::DELETE, path, None).await?;
        if !status.is_success() && status != reqwest::StatusCode::NOT_FOUND {
            return Err(ApiOpsError::Remote(format!(
                "DELETE {path} → {status}: {text}"
            )));
        }
        Ok(())
    }
}
