//! `policy_fragments`: a service's reusable pieces of policy that documents include with
//! `<include-fragment fragment-id="…"/>` (APIM's policy fragments).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000008_policy_fragments"
    }
}

#[derive(DeriveIden)]
enum PolicyFragments {
    Table,
    Id,
    ServiceId,
    Name,
    Description,
    Format,
    Value,
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
                    .table(PolicyFragments::Table)
                    .col(
                        ColumnDef::new(PolicyFragments::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(PolicyFragments::ServiceId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(PolicyFragments::Name).text().not_null())
                    .col(
                        ColumnDef::new(PolicyFragments::Description)
                            .text()
                            .not_null(),
                    )
                    // `xml` or `rawxml`.
                    .col(ColumnDef::new(PolicyFragments::Format).text().not_null())
                    .col(ColumnDef::new(PolicyFragments::Value).text().not_null())
                    .col(
                        ColumnDef::new(PolicyFragments::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(PolicyFragments::Table, PolicyFragments::ServiceId)
                            .to(Services::Table, Services::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("policy_fragments_service_name")
                    .table(PolicyFragments::Table)
                    .col(PolicyFragments::ServiceId)
                    .col(PolicyFragments::Name)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PolicyFragments::Table).to_owned())
            .await
    }
}
