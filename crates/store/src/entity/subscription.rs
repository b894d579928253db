use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subscriptions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub service_id: i64,
    pub name: String,
    pub display_name: String,
    /// `all`, `product` or `api`; the matching id column is set for the last two.
    pub scope_kind: String,
    pub scope_product_id: Option<i64>,
    pub scope_api_id: Option<i64>,
    pub state: String,
    pub primary_key: String,
    pub secondary_key: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
