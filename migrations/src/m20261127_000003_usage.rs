//! Analytics: per-minute usage aggregates and a bounded log of recent calls. Rows name
//! services, APIs and the rest by name (not id), so history outlives renames and deletions.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000003_usage"
    }
}

#[derive(DeriveIden)]
enum UsageMinute {
    Table,
    Id,
    Service,
    Minute,
    Api,
    Operation,
    Product,
    Subscription,
    Calls,
    Success,
    Blocked,
    Failed,
    Other,
    Bytes,
    TotalMsSum,
    BackendMsSum,
    BackendCalls,
    TotalHistogram,
    BackendHistogram,
}

#[derive(DeriveIden)]
enum RecentCall {
    Table,
    Id,
    Service,
    AtMs,
    Method,
    Path,
    Api,
    Operation,
    Product,
    Subscription,
    Status,
    TotalMs,
    BackendMs,
    Bytes,
    Ip,
    RequestId,
}

fn id<T: IntoIden + 'static>(column: T) -> ColumnDef {
    ColumnDef::new(column)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn text<T: IntoIden + 'static>(column: T) -> ColumnDef {
    ColumnDef::new(column).text().not_null().to_owned()
}

fn count<T: IntoIden + 'static>(column: T) -> ColumnDef {
    ColumnDef::new(column).big_integer().not_null().to_owned()
}

fn real<T: IntoIden + 'static>(column: T) -> ColumnDef {
    ColumnDef::new(column).double().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UsageMinute::Table)
                    .col(id(UsageMinute::Id))
                    .col(text(UsageMinute::Service))
                    .col(count(UsageMinute::Minute))
                    .col(text(UsageMinute::Api))
                    .col(text(UsageMinute::Operation))
                    .col(text(UsageMinute::Product))
                    .col(text(UsageMinute::Subscription))
                    .col(count(UsageMinute::Calls))
                    .col(count(UsageMinute::Success))
                    .col(count(UsageMinute::Blocked))
                    .col(count(UsageMinute::Failed))
                    .col(count(UsageMinute::Other))
                    .col(count(UsageMinute::Bytes))
                    .col(real(UsageMinute::TotalMsSum))
                    .col(real(UsageMinute::BackendMsSum))
                    .col(count(UsageMinute::BackendCalls))
                    .col(text(UsageMinute::TotalHistogram))
                    .col(text(UsageMinute::BackendHistogram))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("usage_minute_service_minute")
                    .table(UsageMinute::Table)
                    .col(UsageMinute::Service)
                    .col(UsageMinute::Minute)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RecentCall::Table)
                    .col(id(RecentCall::Id))
                    .col(text(RecentCall::Service))
                    .col(count(RecentCall::AtMs))
                    .col(text(RecentCall::Method))
                    .col(text(RecentCall::Path))
                    .col(text(RecentCall::Api))
                    .col(text(RecentCall::Operation))
                    .col(text(RecentCall::Product))
                    .col(text(RecentCall::Subscription))
                    .col(ColumnDef::new(RecentCall::Status).integer().not_null())
                    .col(real(RecentCall::TotalMs))
                    .col(ColumnDef::new(RecentCall::BackendMs).double().null())
                    .col(count(RecentCall::Bytes))
                    .col(text(RecentCall::Ip))
                    .col(text(RecentCall::RequestId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("recent_call_service_id")
                    .table(RecentCall::Table)
                    .col(RecentCall::Service)
                    .col(RecentCall::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RecentCall::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(UsageMinute::Table).to_owned())
            .await
    }
}
