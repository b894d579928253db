//! `config_revision.grants_revision`: the revision of the last change that touched
//! subscriptions, so that a reload after any other change can skip reading them.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000004_grants_revision"
    }
}

#[derive(DeriveIden)]
enum ConfigRevision {
    Table,
    GrantsRevision,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ConfigRevision::Table)
                    .add_column(
                        ColumnDef::new(ConfigRevision::GrantsRevision)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        // Existing installations: treat every change so far as one that touched them.
        manager
            .get_connection()
            .execute_unprepared("UPDATE config_revision SET grants_revision = revision")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ConfigRevision::Table)
                    .drop_column(ConfigRevision::GrantsRevision)
                    .to_owned(),
            )
            .await
    }
}
