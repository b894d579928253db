//! Analytics in the config database: per-minute usage rows and the recent-calls log. These
//! are data, not configuration: no audit entry, no revision bump, no snapshot reload.

use crate::entity::{recent_call, usage_minute};
use crate::{Store, StoreError};
use portcullis_domain::usage::{Histogram, RecentCall, UsageCounts, UsageKey};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    Statement, TransactionTrait,
};

/// Rows per INSERT: well under SQLite's limit of bound values per statement.
const ROWS_PER_INSERT: usize = 500;

/// How many recent calls are kept per service.
pub const RECENT_CALLS_KEPT: i64 = 1000;

fn count(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn uncount(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// Which recent calls to list.
#[derive(Debug, Clone, Default)]
pub struct RecentFilter {
    /// `success`, `blocked`, `failed` or `other`; `None`: all.
    pub class: Option<portcullis_domain::usage::StatusClass>,
    pub subscription: Option<String>,
    pub limit: u64,
}

impl Store {
    /// Adds aggregated minutes. A minute may be written in several parts (every flush adds
    /// one); readers sum them.
    pub async fn record_usage(&self, rows: Vec<(UsageKey, UsageCounts)>) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let models = rows
            .into_iter()
            .map(|(key, counts)| usage_minute::ActiveModel {
                service: Set(key.service),
                minute: Set(key.minute),
                api: Set(key.api),
                operation: Set(key.operation),
                product: Set(key.product),
                subscription: Set(key.subscription),
                calls: Set(count(counts.calls)),
                success: Set(count(counts.success)),
                blocked: Set(count(counts.blocked)),
                failed: Set(count(counts.failed)),
                other: Set(count(counts.other)),
                bytes: Set(count(counts.bytes)),
                total_ms_sum: Set(counts.total_ms_sum),
                backend_ms_sum: Set(counts.backend_ms_sum),
                backend_calls: Set(count(counts.backend_calls)),
                total_histogram: Set(counts.total.encode()),
                backend_histogram: Set(counts.backend.encode()),
                ..Default::default()
            });
        let models: Vec<_> = models.collect();
        let _guard = self.write_guard().await;
        // All rows or none: the caller keeps a batch that failed and writes it again, which
        // must not count the rows of a half-written batch twice.
        let txn = self.db.begin().await?;
        for chunk in models.chunks(ROWS_PER_INSERT) {
            usage_minute::Entity::insert_many(chunk.to_vec())
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Usage of `service` in the minutes `from..to` (unix minutes, `to` exclusive), one entry
    /// per stored part.
    pub async fn usage(
        &self,
        service: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<(UsageKey, UsageCounts)>, StoreError> {
        let rows = usage_minute::Entity::find()
            .filter(usage_minute::Column::Service.eq(service))
            .filter(usage_minute::Column::Minute.gte(from))
            .filter(usage_minute::Column::Minute.lt(to))
            .order_by_asc(usage_minute::Column::Minute)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                (
                    UsageKey {
                        service: row.service,
                        minute: row.minute,
                        api: row.api,
                        operation: row.operation,
                        product: row.product,
                        subscription: row.subscription,
                    },
                    UsageCounts {
                        calls: uncount(row.calls),
                        success: uncount(row.success),
                        blocked: uncount(row.blocked),
                        failed: uncount(row.failed),
                        other: uncount(row.other),
                        bytes: uncount(row.bytes),
                        total_ms_sum: row.total_ms_sum,
                        backend_ms_sum: row.backend_ms_sum,
                        backend_calls: uncount(row.backend_calls),
                        total: Histogram::decode(&row.total_histogram),
                        backend: Histogram::decode(&row.backend_histogram),
                    },
                )
            })
            .collect())
    }

    /// Appends calls to the recent log and keeps only the newest [`RECENT_CALLS_KEPT`] per
    /// service.
    pub async fn record_calls(&self, calls: Vec<RecentCall>) -> Result<(), StoreError> {
        if calls.is_empty() {
            return Ok(());
        }
        let mut services: Vec<String> = calls.iter().map(|c| c.service.clone()).collect();
        services.sort();
        services.dedup();
        let models = calls.into_iter().map(|call| recent_call::ActiveModel {
            service: Set(call.service),
            at_ms: Set(call.at_ms),
            method: Set(call.method),
            path: Set(call.path),
            api: Set(call.api),
            operation: Set(call.operation),
            product: Set(call.product),
            subscription: Set(call.subscription),
            status: Set(i32::from(call.status)),
            total_ms: Set(call.total_ms),
            backend_ms: Set(call.backend_ms),
            bytes: Set(count(call.bytes)),
            ip: Set(call.ip),
            request_id: Set(call.request_id),
            ..Default::default()
        });
        let models: Vec<_> = models.collect();
        let _guard = self.write_guard().await;
        let txn = self.db.begin().await?;
        for chunk in models.chunks(ROWS_PER_INSERT) {
            recent_call::Entity::insert_many(chunk.to_vec())
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        let backend = self.db.get_database_backend();
        for service in services {
            // The id of the oldest call to keep; everything older goes.
            let keep_from = recent_call::Entity::find()
                .select_only()
                .column(recent_call::Column::Id)
                .filter(recent_call::Column::Service.eq(service.as_str()))
                .order_by_desc(recent_call::Column::Id)
                .offset(u64::try_from(RECENT_CALLS_KEPT - 1).unwrap_or(0))
                .limit(1)
                .into_tuple::<i64>()
                .one(&self.db)
                .await?;
            if let Some(keep_from) = keep_from {
                let sql = match backend {
                    sea_orm::DatabaseBackend::Postgres => {
                        "DELETE FROM recent_call WHERE service = $1 AND id < $2"
                    }
                    _ => "DELETE FROM recent_call WHERE service = ? AND id < ?",
                };
                self.db
                    .execute(Statement::from_sql_and_values(
                        backend,
                        sql,
                        [service.clone().into(), keep_from.into()],
                    ))
                    .await?;
            }
        }
        Ok(())
    }

    /// The newest recent calls of `service`, newest first.
    pub async fn recent_calls(
        &self,
        service: &str,
        filter: &RecentFilter,
    ) -> Result<Vec<RecentCall>, StoreError> {
        use portcullis_domain::usage::StatusClass;
        let mut query =
            recent_call::Entity::find().filter(recent_call::Column::Service.eq(service));
        if let Some(subscription) = &filter.subscription {
            query = query.filter(recent_call::Column::Subscription.eq(subscription.as_str()));
        }
        query = match filter.class {
            None => query,
            Some(StatusClass::Success) => query.filter(recent_call::Column::Status.lt(400)),
            Some(StatusClass::Blocked) => {
                query.filter(recent_call::Column::Status.is_in([401, 403, 429]))
            }
            Some(StatusClass::Failed) => query.filter(
                sea_orm::Condition::any()
                    .add(recent_call::Column::Status.eq(400))
                    .add(recent_call::Column::Status.gte(500)),
            ),
            Some(StatusClass::Other) => query
                .filter(recent_call::Column::Status.gte(400))
                .filter(recent_call::Column::Status.lt(500))
                .filter(recent_call::Column::Status.is_not_in([400, 401, 403, 429])),
        };
        let rows = query
            .order_by_desc(recent_call::Column::Id)
            .limit(filter.limit.max(1))
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| RecentCall {
                service: row.service,
                at_ms: row.at_ms,
                method: row.method,
                path: row.path,
                api: row.api,
                operation: row.operation,
                product: row.product,
                subscription: row.subscription,
                status: u16::try_from(row.status).unwrap_or(0),
                total_ms: row.total_ms,
                backend_ms: row.backend_ms,
                bytes: uncount(row.bytes),
                ip: row.ip,
                request_id: row.request_id,
            })
            .collect())
    }
}
