//! `certificates`: a service's certificates (APIM's `…/certificates/{id}`), each stored as
//! the PEM text of its chain and, when uploaded with one, its private key.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000010_certificates"
    }
}

#[derive(DeriveIden)]
enum Certificates {
    Table,
    Id,
    ServiceId,
    Name,
    Pem,
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
                    .table(Certificates::Table)
                    .col(
                        ColumnDef::new(Certificates::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Certificates::ServiceId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Certificates::Name).text().not_null())
                    .col(ColumnDef::new(Certificates::Pem).text().not_null())
                    .col(
                        ColumnDef::new(Certificates::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Certificates::Table, Certificates::ServiceId)
                            .to(Services::Table, Services::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("certificates_service_name")
                    .table(Certificates::Table)
                    .col(Certificates::ServiceId)
                    .col(Certificates::Name)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Certificates::Table).to_owned())
            .await
    }
}
