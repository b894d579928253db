use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "policies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub service_id: i64,
    /// `global`, `product:<id>`, `api:<id>` or `operation:<id>`: unique per service, which
    /// nullable id columns alone cannot express portably.
    pub scope_key: String,
    pub product_id: Option<i64>,
    pub api_id: Option<i64>,
    pub operation_id: Option<i64>,
    pub xml: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
