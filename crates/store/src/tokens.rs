//! Management API tokens: bearer secrets for `/mgmt`, stored as SHA-256 hashes.

use crate::entity::management_token;
use crate::{Store, StoreError};
use chrono::Utc;
use portcullis_domain::ValidationError;
use rand::RngCore;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

/// Prefix that makes a leaked token recognisable to secret scanners.
const PREFIX: &str = "pcm_";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub name: String,
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Store {
    /// Creates a token and returns it. This is the only time the token is visible.
    pub async fn create_token(&self, name: &str) -> Result<String, StoreError> {
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
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        Ok(token)
    }

    /// The token's record if `token` is a valid management token.
    pub async fn authenticate_token(&self, token: &str) -> Result<Option<TokenRecord>, StoreError> {
        if !token.starts_with(PREFIX) {
            return Ok(None);
        }
        let row = management_token::Entity::find()
            .filter(management_token::Column::TokenHash.eq(hash(token)))
            .one(&self.db)
            .await?;
        Ok(row.map(|row| TokenRecord { name: row.name }))
    }
}
