//! Administrators: who may sign in to the portal. Passwords are kept as argon2id hashes.

use crate::entity::administrator;
use crate::{Store, StoreError};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::Utc;
use portcullis_domain::ValidationError;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use std::sync::OnceLock;

pub const MIN_PASSWORD_CHARS: usize = 10;

fn check_username(username: &str) -> Result<(), ValidationError> {
    let valid = !username.is_empty()
        && username.len() <= 64
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._@-".contains(c));
    if valid {
        Ok(())
    } else {
        Err(ValidationError::new(
            "username",
            "InvalidUsername",
            "A user name has 1 to 64 letters, digits, '.', '_', '@' or '-'.",
        ))
    }
}

/// The hash of a random password, verified when the user does not exist so that unknown
/// names cost as much time as known ones.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(salt.as_str().as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .unwrap_or_default()
    })
}

/// Password checks (Argon2id) run at once, at most: two per core is enough to keep the
/// cores busy; more would only add memory.
static PASSWORD_CHECKS: std::sync::LazyLock<tokio::sync::Semaphore> =
    std::sync::LazyLock::new(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        tokio::sync::Semaphore::new(2 * cores)
    });

impl Store {
    /// Adds an administrator. Fails if the name is taken or the password is shorter than
    /// [`MIN_PASSWORD_CHARS`].
    pub async fn add_admin(&self, username: &str, password: &str) -> Result<(), StoreError> {
        check_username(username)?;
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(ValidationError::new(
                "password",
                "WeakPassword",
                format!("A password has at least {MIN_PASSWORD_CHARS} characters."),
            )
            .into());
        }
        let taken = administrator::Entity::find()
            .filter(administrator::Column::Username.eq(username))
            .one(&self.db)
            .await?
            .is_some();
        if taken {
            return Err(ValidationError::new(
                "username",
                "UsernameTaken",
                format!("An administrator named '{username}' exists already."),
            )
            .into());
        }
        let password = password.to_owned();
        // Hashing is deliberately slow; keep it off the async workers.
        let hash = tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut rand::rngs::OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
        })
        .await
        .map_err(|e| StoreError::Corrupt(format!("password hashing stopped: {e}")))?
        .map_err(|e| StoreError::Corrupt(format!("password hashing failed: {e}")))?;
        administrator::ActiveModel {
            username: Set(username.to_owned()),
            password_hash: Set(hash),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    /// True when `username` exists and `password` is theirs. Unknown names take as long as
    /// wrong passwords, so the answer time does not reveal which names exist.
    pub async fn verify_admin(&self, username: &str, password: &str) -> Result<bool, StoreError> {
        let row = administrator::Entity::find()
            .filter(administrator::Column::Username.eq(username))
            .one(&self.db)
            .await?;
        let (stored, exists) = match row {
            Some(row) => (Some(row.password_hash), true),
            None => (None, false),
        };
        let password = password.to_owned();
        // Each check holds about 19 MiB for a few hundred milliseconds: a flood of sign-ins
        // must queue here, not take the process's memory and blocking threads.
        let _turn = PASSWORD_CHECKS
            .acquire()
            .await
            .map_err(|e| StoreError::Corrupt(format!("password check stopped: {e}")))?;
        let matches = tokio::task::spawn_blocking(move || {
            let hash = stored.unwrap_or_else(|| decoy_hash().to_owned());
            PasswordHash::new(&hash)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
        .map_err(|e| StoreError::Corrupt(format!("password check stopped: {e}")))?;
        Ok(exists && matches)
    }

    pub async fn admin_count(&self) -> Result<u64, StoreError> {
        Ok(administrator::Entity::find().count(&self.db).await?)
    }
}
