use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "recent_call")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub service: String,
    /// Unix milliseconds.
    pub at_ms: i64,
    pub method: String,
    pub path: String,
    pub api: String,
    pub operation: String,
    pub product: String,
    pub subscription: String,
    pub status: i32,
    pub total_ms: f64,
    pub backend_ms: Option<f64>,
    pub bytes: i64,
    pub ip: String,
    pub request_id: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
