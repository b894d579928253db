use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "operations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub api_id: i64,
    pub name: String,
    pub display_name: String,
    pub method: String,
    pub url_template: String,
    /// The documented responses as JSON (`[]`: none).
    pub responses: String,
    pub description: String,
    /// JSON: the URL template's parameters (`[]`: none documented).
    pub template_parameters: String,
    /// JSON: query parameters, headers and representations (`{}`: none documented).
    pub request: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
