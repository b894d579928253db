use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "management_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// Hex SHA-256 of the token. Tokens carry 256 random bits, so a fast hash is enough and
    /// lets every management request be checked with one indexed lookup.
    pub token_hash: String,
    pub created_at: DateTimeUtc,
    /// After this the token no longer authenticates; `None`: it lives until revoked.
    pub expires_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
