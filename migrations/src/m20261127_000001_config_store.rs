//! The first schema: services and everything inside them, administrators, management tokens,
//! the audit log and the config revision counter.
//!
//! Every child row references its parent with `ON DELETE CASCADE`, so deleting a service or an
//! API removes what hangs off it in the same statement. Names are unique per parent; the
//! lowercase API URL suffix is unique per service, which is what routing needs.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000001_config_store"
    }
}

#[derive(DeriveIden)]
enum Services {
    Table,
    Id,
    Name,
    DisplayName,
    IsDefault,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Apis {
    Table,
    Id,
    ServiceId,
    Name,
    DisplayName,
    ServiceUrl,
    Path,
    PathKey,
    SubscriptionRequired,
    KeyHeaderName,
    KeyQueryParamName,
    ForwardSubscriptionKey,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Operations {
    Table,
    Id,
    ApiId,
    Name,
    DisplayName,
    Method,
    UrlTemplate,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
    ServiceId,
    Name,
    DisplayName,
    Description,
    SubscriptionRequired,
    ApprovalRequired,
    State,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ProductApis {
    Table,
    ProductId,
    ApiId,
}

#[derive(DeriveIden)]
enum Subscriptions {
    Table,
    Id,
    ServiceId,
    Name,
    DisplayName,
    ScopeKind,
    ScopeProductId,
    ScopeApiId,
    State,
    PrimaryKey,
    SecondaryKey,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Policies {
    Table,
    Id,
    ServiceId,
    ScopeKey,
    ProductId,
    ApiId,
    OperationId,
    Xml,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Administrators {
    Table,
    Id,
    Username,
    PasswordHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ManagementTokens {
    Table,
    Id,
    Name,
    TokenHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    Actor,
    Action,
    Service,
    Resource,
    Before,
    After,
}

#[derive(DeriveIden)]
enum ConfigRevision {
    Table,
    Id,
    Revision,
}

fn id<T: IntoIden + 'static>(column: T) -> ColumnDef {
    ColumnDef::new(column)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn timestamp<T: IntoIden + 'static>(column: T) -> ColumnDef {
    ColumnDef::new(column)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn text<T: IntoIden + 'static>(column: T) -> ColumnDef {
    ColumnDef::new(column).text().not_null().to_owned()
}

fn flag<T: IntoIden + 'static>(column: T) -> ColumnDef {
    ColumnDef::new(column).boolean().not_null().to_owned()
}

fn parent<T: IntoIden + 'static>(column: T) -> ColumnDef {
    ColumnDef::new(column).big_integer().not_null().to_owned()
}

fn cascade(
    from_table: impl IntoIden + 'static,
    from: impl IntoIden + 'static,
    to_table: impl IntoIden + 'static,
    to: impl IntoIden + 'static,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from)
        .to(to_table, to)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn unique(
    name: &str,
    table: impl IntoIden + 'static,
    columns: &[&'static str],
) -> IndexCreateStatement {
    let mut index = Index::create().name(name).table(table).unique().to_owned();
    for column in columns {
        index.col(Alias::new(*column));
    }
    index
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Services::Table)
                    .col(id(Services::Id))
                    .col(text(Services::Name).unique_key())
                    .col(text(Services::DisplayName))
                    .col(flag(Services::IsDefault))
                    .col(timestamp(Services::CreatedAt))
                    .col(timestamp(Services::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Apis::Table)
                    .col(id(Apis::Id))
                    .col(parent(Apis::ServiceId))
                    .col(text(Apis::Name))
                    .col(text(Apis::DisplayName))
                    .col(text(Apis::ServiceUrl))
                    .col(text(Apis::Path))
                    .col(text(Apis::PathKey))
                    .col(flag(Apis::SubscriptionRequired))
                    .col(text(Apis::KeyHeaderName))
                    .col(text(Apis::KeyQueryParamName))
                    .col(flag(Apis::ForwardSubscriptionKey))
                    .col(timestamp(Apis::CreatedAt))
                    .col(timestamp(Apis::UpdatedAt))
                    .foreign_key(&mut cascade(
                        Apis::Table,
                        Apis::ServiceId,
                        Services::Table,
                        Services::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(
                "apis_service_name",
                Apis::Table,
                &["service_id", "name"],
            ))
            .await?;
        manager
            .create_index(unique(
                "apis_service_path",
                Apis::Table,
                &["service_id", "path_key"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Operations::Table)
                    .col(id(Operations::Id))
                    .col(parent(Operations::ApiId))
                    .col(text(Operations::Name))
                    .col(text(Operations::DisplayName))
                    .col(text(Operations::Method))
                    .col(text(Operations::UrlTemplate))
                    .col(timestamp(Operations::CreatedAt))
                    .col(timestamp(Operations::UpdatedAt))
                    .foreign_key(&mut cascade(
                        Operations::Table,
                        Operations::ApiId,
                        Apis::Table,
                        Apis::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(
                "operations_api_name",
                Operations::Table,
                &["api_id", "name"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Products::Table)
                    .col(id(Products::Id))
                    .col(parent(Products::ServiceId))
                    .col(text(Products::Name))
                    .col(text(Products::DisplayName))
                    .col(text(Products::Description))
                    .col(flag(Products::SubscriptionRequired))
                    .col(flag(Products::ApprovalRequired))
                    .col(text(Products::State))
                    .col(timestamp(Products::CreatedAt))
                    .col(timestamp(Products::UpdatedAt))
                    .foreign_key(&mut cascade(
                        Products::Table,
                        Products::ServiceId,
                        Services::Table,
                        Services::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(
                "products_service_name",
                Products::Table,
                &["service_id", "name"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProductApis::Table)
                    .col(parent(ProductApis::ProductId))
                    .col(parent(ProductApis::ApiId))
                    .primary_key(
                        Index::create()
                            .col(ProductApis::ProductId)
                            .col(ProductApis::ApiId),
                    )
                    .foreign_key(&mut cascade(
                        ProductApis::Table,
                        ProductApis::ProductId,
                        Products::Table,
                        Products::Id,
                    ))
                    .foreign_key(&mut cascade(
                        ProductApis::Table,
                        ProductApis::ApiId,
                        Apis::Table,
                        Apis::Id,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Subscriptions::Table)
                    .col(id(Subscriptions::Id))
                    .col(parent(Subscriptions::ServiceId))
                    .col(text(Subscriptions::Name))
                    .col(text(Subscriptions::DisplayName))
                    .col(text(Subscriptions::ScopeKind))
                    .col(
                        ColumnDef::new(Subscriptions::ScopeProductId)
                            .big_integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Subscriptions::ScopeApiId)
                            .big_integer()
                            .null(),
                    )
                    .col(text(Subscriptions::State))
                    .col(text(Subscriptions::PrimaryKey))
                    .col(text(Subscriptions::SecondaryKey))
                    .col(timestamp(Subscriptions::CreatedAt))
                    .col(timestamp(Subscriptions::UpdatedAt))
                    .foreign_key(&mut cascade(
                        Subscriptions::Table,
                        Subscriptions::ServiceId,
                        Services::Table,
                        Services::Id,
                    ))
                    .foreign_key(&mut cascade(
                        Subscriptions::Table,
                        Subscriptions::ScopeProductId,
                        Products::Table,
                        Products::Id,
                    ))
                    .foreign_key(&mut cascade(
                        Subscriptions::Table,
                        Subscriptions::ScopeApiId,
                        Apis::Table,
                        Apis::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(
                "subscriptions_service_name",
                Subscriptions::Table,
                &["service_id", "name"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Policies::Table)
                    .col(id(Policies::Id))
                    .col(parent(Policies::ServiceId))
                    .col(text(Policies::ScopeKey))
                    .col(ColumnDef::new(Policies::ProductId).big_integer().null())
                    .col(ColumnDef::new(Policies::ApiId).big_integer().null())
                    .col(ColumnDef::new(Policies::OperationId).big_integer().null())
                    .col(text(Policies::Xml))
                    .col(timestamp(Policies::UpdatedAt))
                    .foreign_key(&mut cascade(
                        Policies::Table,
                        Policies::ServiceId,
                        Services::Table,
                        Services::Id,
                    ))
                    .foreign_key(&mut cascade(
                        Policies::Table,
                        Policies::ProductId,
                        Products::Table,
                        Products::Id,
                    ))
                    .foreign_key(&mut cascade(
                        Policies::Table,
                        Policies::ApiId,
                        Apis::Table,
                        Apis::Id,
                    ))
                    .foreign_key(&mut cascade(
                        Policies::Table,
                        Policies::OperationId,
                        Operations::Table,
                        Operations::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(unique(
                "policies_service_scope",
                Policies::Table,
                &["service_id", "scope_key"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Administrators::Table)
                    .col(id(Administrators::Id))
                    .col(text(Administrators::Username).unique_key())
                    .col(text(Administrators::PasswordHash))
                    .col(timestamp(Administrators::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ManagementTokens::Table)
                    .col(id(ManagementTokens::Id))
                    .col(text(ManagementTokens::Name))
                    .col(text(ManagementTokens::TokenHash).unique_key())
                    .col(timestamp(ManagementTokens::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(id(AuditLog::Id))
                    .col(timestamp(AuditLog::At))
                    .col(text(AuditLog::Actor))
                    .col(text(AuditLog::Action))
                    .col(ColumnDef::new(AuditLog::Service).text().null())
                    .col(text(AuditLog::Resource))
                    .col(ColumnDef::new(AuditLog::Before).json().null())
                    .col(ColumnDef::new(AuditLog::After).json().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_log_service_at")
                    .table(AuditLog::Table)
                    .col(AuditLog::Service)
                    .col(AuditLog::At)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ConfigRevision::Table)
                    .col(
                        ColumnDef::new(ConfigRevision::Id)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ConfigRevision::Revision)
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(ConfigRevision::Table)
                    .columns([ConfigRevision::Id, ConfigRevision::Revision])
                    .values_panic([1.into(), 0.into()])
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ConfigRevision::Table.into_iden(),
            AuditLog::Table.into_iden(),
            ManagementTokens::Table.into_iden(),
            Administrators::Table.into_iden(),
            Policies::Table.into_iden(),
            Subscriptions::Table.into_iden(),
            ProductApis::Table.into_iden(),
            Products::Table.into_iden(),
            Operations::Table.into_iden(),
            Apis::Table.into_iden(),
            Services::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
