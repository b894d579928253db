//! What APIs and operations document (filled by an OpenAPI import, written by an export):
//! `apis.description` and `apis.schemas` (the API's schemas by type name, JSON), and
//! `operations.description`, `operations.template_parameters` and `operations.request`
//! (JSON in APIM's shape; see `portcullis_domain::operation_contract`). Rows made before
//! document nothing.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000011_api_contracts"
    }
}

#[derive(DeriveIden)]
enum Apis {
    Table,
    Description,
    Schemas,
}

#[derive(DeriveIden)]
enum Operations {
    Table,
    Description,
    TemplateParameters,
    Request,
}

fn text(column: impl IntoIden, default: &str) -> ColumnDef {
    ColumnDef::new(column)
        .text()
        .not_null()
        .default(default)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for column in [text(Apis::Description, ""), text(Apis::Schemas, "{}")] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Apis::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [
            text(Operations::Description, ""),
            text(Operations::TemplateParameters, "[]"),
            text(Operations::Request, "{}"),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Operations::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Apis::Description, Apis::Schemas] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Apis::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [
            Operations::Description,
            Operations::TemplateParameters,
            Operations::Request,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Operations::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
