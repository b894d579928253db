//! `named_values`: a service's name/value pairs that policy documents reference as
//! `{{displayName}}` (APIM's named values). A secret value is returned only by `listValue`.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000007_named_values"
    }
}

#[derive(DeriveIden)]
enum NamedValues {
    Table,
    Id,
    ServiceId,
    Name,
    DisplayName,
    Value,
    Secret,
    Tags,
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
                    .table(NamedValues::Table)
                    .col(
                        ColumnDef::new(NamedValues::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(NamedValues::ServiceId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(NamedValues::Name).text().not_null())
                    .col(ColumnDef::new(NamedValues::DisplayName).text().not_null())
                    .col(ColumnDef::new(NamedValues::Value).text().not_null())
                    .col(ColumnDef::new(NamedValues::Secret).boolean().not_null())
                    // A JSON array of strings.
                    .col(ColumnDef::new(NamedValues::Tags).text().not_null())
                    .col(
                        ColumnDef::new(NamedValues::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(NamedValues::Table, NamedValues::ServiceId)
                            .to(Services::Table, Services::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (index, column) in [
            ("named_values_service_name", NamedValues::Name),
            (
                "named_values_service_display_name",
                NamedValues::DisplayName,
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(index)
                        .table(NamedValues::Table)
                        .col(NamedValues::ServiceId)
                        .col(column)
                        .unique()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(NamedValues::Table).to_owned())
            .await
    }
}
