use sea_orm::entity::prelude::*;

/// A finished request trace, as the gateway that recorded it wrote it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "traces")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub service: String,
    /// Unix milliseconds.
    pub at_ms: i64,
    /// The trace as JSON.
    pub record: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
