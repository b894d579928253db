use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_minute")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub service: String,
    /// Unix minutes (seconds / 60).
    pub minute: i64,
    pub api: String,
    pub operation: String,
    pub product: String,
    pub subscription: String,
    pub calls: i64,
    pub success: i64,
    pub blocked: i64,
    pub failed: i64,
    pub other: i64,
    pub bytes: i64,
    pub total_ms_sum: f64,
    pub backend_ms_sum: f64,
    pub backend_calls: i64,
    /// Counts per latency bucket, as a JSON array.
    pub total_histogram: String,
    pub backend_histogram: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
