//! What several nodes need to share for the test console's traces: the key trace tokens are
//! signed with (`cluster_keys`), so a token the portal issues opens traces on every gateway,
//! and the finished traces (`traces`), so the portal can show one another node recorded.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000005_shared_traces"
    }
}

#[derive(DeriveIden)]
enum ClusterKeys {
    Table,
    Name,
    Secret,
}

#[derive(DeriveIden)]
enum Traces {
    Table,
    Id,
    Service,
    AtMs,
    Record,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ClusterKeys::Table)
                    .col(
                        ColumnDef::new(ClusterKeys::Name)
                            .text()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ClusterKeys::Secret).text().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Traces::Table)
                    .col(ColumnDef::new(Traces::Id).text().not_null().primary_key())
                    .col(ColumnDef::new(Traces::Service).text().not_null())
                    .col(ColumnDef::new(Traces::AtMs).big_integer().not_null())
                    .col(ColumnDef::new(Traces::Record).text().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("traces_at_ms")
                    .table(Traces::Table)
                    .col(Traces::AtMs)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Traces::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ClusterKeys::Table).to_owned())
            .await
    }
}
