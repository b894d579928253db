//! `backends`: a service's backends (APIM's `…/backends/{id}`), each stored as the JSON of
//! its properties as written (URL, credentials, TLS checks, circuit breaker, pool).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000012_backends"
    }
}

#[derive(DeriveIden)]
enum Backends {
    Table,
    Id,
    ServiceId,
    Name,
    Settings,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Services {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Backends::Table)
                    .col(
                        ColumnDef::new(Backends::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Backends::ServiceId).big_integer().not_null())
                    .col(ColumnDef::new(Backends::Name).text().not_null())
                    .col(ColumnDef::new(Backends::Settings).text().not_null())
                    .col(
                        ColumnDef::new(Backends::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Backends::Table, Backends::ServiceId)
                            .to(Services::Table, Services::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("backends_service_name")
                    .table(Backends::Table)
                    .col(Backends::ServiceId)
                    .col(Backends::Name)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Backends::Table).to_owned())
            .await
    }
}
