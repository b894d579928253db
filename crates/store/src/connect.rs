//! Opening the database and running migrations.

use crate::StoreError;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, MutexGuard};

/// A handle on the config database. Cheap to clone; all clones share one pool.
#[derive(Clone)]
pub struct Store {
    pub(crate) db: DatabaseConnection,
    /// Serialises writers inside this process. SQLite allows one writer at a time anyway, and
    /// a read-then-write transaction that loses a race would fail with "database is locked";
    /// queueing here makes concurrent management calls wait instead of fail.
    writes: Arc<Mutex<()>>,
    /// Set once the schema is known to be current: at connect, or — for a store opened while
    /// the database was away ([`Store::connect_lazy`]) — the first time it is reached.
    migrated: Arc<tokio::sync::OnceCell<()>>,
}

/// The PostgreSQL advisory lock nodes take to migrate one at a time (any fixed number;
/// this one spells "pcul").
const MIGRATION_LOCK: i64 = 0x7063_756c;

/// Several nodes starting at once on a new database would all create the same tables; the
/// first to take the lock migrates, the others wait and then find nothing left to do.
async fn migrate_holding_the_lock(db: &DatabaseConnection) -> Result<(), StoreError> {
    use sea_orm::sqlx;
    let unreachable = |error: sqlx::Error| StoreError::Unavailable(error.to_string());
    let mut lock = db
        .get_postgres_connection_pool()
        .acquire()
        .await
        .map_err(unreachable)?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *lock)
        .await
        .map_err(unreachable)?;
    let migrated = Migrator::up(db, None).await;
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *lock)
        .await;
    migrated?;
    unlocked.map_err(unreachable)?;
    Ok(())
}

impl Store {
    /// Connects to `url` (`sqlite://…` or `postgres://…`) and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let store = Self::open(url, false).await?;
        store.ensure_migrated().await?;
        Ok(store)
    }

    /// A store whose connections are opened when first needed, for a node that starts while
    /// the database is away: every call fails with [`StoreError::Unavailable`] until it is
    /// back. The schema is brought up to date on first contact ([`Store::ensure_migrated`]).
    pub async fn connect_lazy(url: &str) -> Result<Self, StoreError> {
        Self::open(url, true).await
    }

    async fn open(url: &str, lazy: bool) -> Result<Self, StoreError> {
        let mut options = ConnectOptions::new(url.to_owned());
        options.connect_lazy(lazy);
        options
            .sqlx_logging(false)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(30));
        if url.starts_with("sqlite:") {
            // SQLite's page cache is per connection (2 MiB by default); the file is in the
            // OS page cache anyway, so 1 MiB each keeps eight connections from holding 16 MiB
            // once a reload or analytics flush has passed through each of them.
            options
                .max_connections(8)
                .min_connections(1)
                .map_sqlx_sqlite_opts(|sqlite| sqlite.pragma("cache_size", "-1024"));
        } else {
            // A server that is down must not hold a management call for long: waiting for a
            // connection gives up after a few seconds and the caller hears why.
            options
                .max_connections(16)
                .connect_timeout(Duration::from_secs(5))
                .acquire_timeout(Duration::from_secs(5));
        }
        let db = Database::connect(options).await?;
        Ok(Self {
            db,
            writes: Arc::new(Mutex::new(())),
            migrated: Arc::new(tokio::sync::OnceCell::new()),
        })
    }

    /// Brings the schema up to date, once per store (later calls return at once).
    pub async fn ensure_migrated(&self) -> Result<(), StoreError> {
        self.migrated
            .get_or_try_init(|| async {
                if self.db.get_database_backend() == DbBackend::Sqlite {
                    // WAL lets the gateway's reloads read while a writer commits; it is a
                    // property of the database file, so setting it once per start is enough.
                    self.db
                        .execute_unprepared("PRAGMA journal_mode=WAL;")
                        .await?;
                }
                if self.db.get_database_backend() == DbBackend::Postgres {
                    migrate_holding_the_lock(&self.db).await
                } else {
                    Ok(Migrator::up(&self.db, None).await?)
                }
            })
            .await?;
        Ok(())
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    pub(crate) async fn write_guard(&self) -> MutexGuard<'_, ()> {
        self.writes.lock().await
    }

    /// The revision of the newest committed change.
    pub async fn revision(&self) -> Result<i64, StoreError> {
        use crate::entity::config_revision;
        use sea_orm::EntityTrait;
        Ok(config_revision::Entity::find_by_id(1)
            .one(&self.db)
            .await?
            .map_or(0, |row| row.revision))
    }

    pub async fn close(self) -> Result<(), StoreError> {
        Ok(self.db.close().await?)
    }
}
