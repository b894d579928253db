//! Paged list answers, as APIM gives them: `{"value": [...], "count": N, "nextLink": URL}`.
//!
//! Every list takes `$top` (1–1000, default 100), `$skip` and a `$filter` over the fields the
//! list names (see [`portcullis_domain::list_query`]). `count` is the number of items that
//! pass the filter; `nextLink` — present while more follow — is the same request for the
//! next page, so a client follows links until there is none.

use crate::mgmt::MgmtError;
use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use portcullis_domain::{ListQuery, Page};
use portcullis_gateway::pipeline::context::CallerTls;
use serde::Serialize;
use serde_json::{Value, json};

/// The list request: its paging parameters (not yet checked against a list's fields) and
/// where it was sent, for the next page's link.
pub struct ListRequest {
    top: Option<String>,
    skip: Option<String>,
    filter: Option<String>,
    /// `http(s)://host/path`, without the query.
    base: String,
}

impl<S: Send + Sync> FromRequestParts<S> for ListRequest {
    type Rejection = MgmtError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let mut request = Self {
            top: None,
            skip: None,
            filter: None,
            base: String::new(),
        };
        for (name, value) in url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
        {
            match name.as_ref() {
                "$top" => request.top = Some(value.into_owned()),
                "$skip" => request.skip = Some(value.into_owned()),
                "$filter" => request.filter = Some(value.into_owned()),
                _ => {}
            }
        }
        // HTTP/2 carries the host in the URI's authority, HTTP/1.1 in `Host`.
        let host = parts
            .uri
            .authority()
            .map(|authority| authority.as_str())
            .or_else(|| {
                parts
                    .headers
                    .get(axum::http::header::HOST)
                    .and_then(|h| h.to_str().ok())
            })
            .unwrap_or("localhost");
        let scheme = match parts.extensions.get::<CallerTls>() {
            Some(_) => "https",
            None => "http",
        };
        request.base = format!("{scheme}://{host}{}", parts.uri.path());
        Ok(request)
    }
}

impl ListRequest {
    /// The query, with a `$filter` over `fields`.
    pub fn query(&self, fields: &[&'static str]) -> Result<ListQuery, MgmtError> {
        Ok(ListQuery::parse(
            self.top.as_deref(),
            self.skip.as_deref(),
            self.filter.as_deref(),
            fields,
        )?)
    }

    /// The answer for `page` of `query`.
    pub fn answer<T: Serialize>(&self, query: &ListQuery, page: Page<T>) -> Json<Value> {
        let next = page.has_more(query).then(|| {
            let mut link = url::form_urlencoded::Serializer::new(String::new());
            link.append_pair("$top", &query.top.to_string());
            link.append_pair("$skip", &(query.skip + page.items.len() as u64).to_string());
            if let Some(filter) = &self.filter {
                link.append_pair("$filter", filter);
            }
            format!("{}?{}", self.base, link.finish())
        });
        let mut answer = json!({ "value": page.items, "count": page.count });
        if let (Some(next), Some(object)) = (next, answer.as_object_mut()) {
            object.insert("nextLink".to_owned(), Value::String(next));
        }
        Json(answer)
    }

    /// Filters and pages a list read whole (the small ones: services, APIs, operations,
    /// products), then answers. A filter field is the item's property of that name, as the
    /// answer shows it.
    pub fn answer_in_memory<T: Serialize>(
        &self,
        fields: &[&'static str],
        items: Vec<T>,
    ) -> Result<Json<Value>, MgmtError> {
        let query = self.query(fields)?;
        let page = query.page(items, |item, field| {
            match serde_json::to_value(item)
                .ok()
                .as_ref()
                .and_then(|v| v.get(field))
            {
                Some(Value::String(text)) => text.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            }
        });
        Ok(self.answer(&query, page))
    }
}
