use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "apis")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub service_id: i64,
    pub name: String,
    pub display_name: String,
    pub service_url: String,
    pub path: String,
    /// Lowercase `path`: routing is case-insensitive, so uniqueness is too.
    pub path_key: String,
    pub subscription_required: bool,
    pub key_header_name: String,
    pub key_query_param_name: String,
    pub forward_subscription_key: bool,
    pub description: String,
    /// The API's schemas by type name, as JSON (`{}`: none).
    pub schemas: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
