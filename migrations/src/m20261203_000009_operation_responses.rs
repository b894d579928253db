//! `operations.responses`: what an operation documents about its responses (statuses,
//! content types, examples — see `portcullis_domain::operation_response`), as JSON text.
//! Operations made before this column document none.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000009_operation_responses"
    }
}

#[derive(DeriveIden)]
enum Operations {
    Table,
    Responses,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Operations::Table)
                    .add_column(
                        ColumnDef::new(Operations::Responses)
                            .text()
                            .not_null()
                            .default("[]"),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Operations::Table)
                    .drop_column(Operations::Responses)
                    .to_owned(),
            )
            .await
    }
}
