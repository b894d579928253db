//! `management_tokens.expires_at`: a management API token may be given a lifetime; after it
//! the token no longer authenticates. Tokens made before this column have none.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000006_token_expiry"
    }
}

#[derive(DeriveIden)]
enum ManagementTokens {
    Table,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ManagementTokens::Table)
                    .add_column(
                        ColumnDef::new(ManagementTokens::ExpiresAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ManagementTokens::Table)
                    .drop_column(ManagementTokens::ExpiresAt)
                    .to_owned(),
            )
            .await
    }
}
