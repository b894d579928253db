//! Management API tokens: bearer secrets for `/mgmt`, stored as SHA-256 hashes.

use crate::entity::management_token;
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use portcullis_domain::ValidationError;
use rand::RngCore;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use sha2::{Digest, Sha256};

/// Prefix that makes a leaked token recognisable to secret scanners.
const PREFIX: &str = "pcm_";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub name: String,
}

/// A token as `token list` shows it (never the secret, which is not stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenListing {
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Store {
    /// Creates a token that lives until revoked and returns it. This is the only time the
    /// token is visible.
    pub async fn create_token(&self, name: &str) -> Result<String, StoreError> {
        self.create_token_expiring(name, None).await
    }

    /// Creates a token that stops authenticating after `lifetime` (none: until revoked).
    pub async fn create_token_expiring(
        &self,
        name: &str,
        lifetime: Option<chrono::Duration>,
    ) -> Result<String, StoreError> {
        let name = name.trim();
        if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
            return Err(ValidationError::new(
                "name",
                "InvalidTokenName",
                "A token name has 1 to 100 characters and no control characters.",
            )
            .into());
        }
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let token = format!("{PREFIX}{}", hex::encode(secret));
        management_token::ActiveModel {
            name: Set(name.to_owned()),
            token_hash: Set(hash(&token)),
            created_at: Set(Utc::now()),
            expires_at: Set(lifetime.map(|lifetime| Utc::now() + lifetime)),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        Ok(token)
    }

    /// The token's record if `token` is a management token that has not expired or been
    /// revoked.
    pub async fn authenticate_token(&self, token: &str) -> Result<Option<TokenRecord>, StoreError> {
        if !token.starts_with(PREFIX) {
            return Ok(None);
        }
        let row = management_token::Entity::find()
            .filter(management_token::Column::TokenHash.eq(hash(token)))
            .one(&self.db)
            .await?;
        let now = Utc::now();
        Ok(row
            .filter(|row| row.expires_at.is_none_or(|expires| now < expires))
            .map(|row| TokenRecord { name: row.name }))
    }

    /// Every token, oldest first.
    pub async fn list_tokens(&self) -> Result<Vec<TokenListing>, StoreError> {
        Ok(management_token::Entity::find()
            .order_by_asc(management_token::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| TokenListing {
                name: row.name,
                created_at: row.created_at,
                expires_at: row.expires_at,
            })
            .collect())
    }

    /// Revokes every token named `name`; returns how many there were. A revoked token fails
    /// its next request.
    pub async fn revoke_tokens(&self, name: &str) -> Result<u64, StoreError> {
        let deleted = management_token::Entity::delete_many()
            .filter(management_token::Column::Name.eq(name.trim()))
            .exec(&self.db)
            .await?;
        Ok(deleted.rows_affected)
    }
}
