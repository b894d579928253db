//! Fresh databases for tests: a new SQLite file per test, and — when
//! `PORTCULLIS_TEST_POSTGRES_URL` names a PostgreSQL server (an admin URL such as
//! `postgres://postgres:pw@127.0.0.1:5432/postgres`) — a new PostgreSQL database per test too.
//! With `PORTCULLIS_REQUIRE_POSTGRES=1` (as in CI) a missing server fails the test instead of
//! quietly testing SQLite alone.

use crate::Store;
use sea_orm::{ConnectionTrait, Database};

/// One empty database; dropped (PostgreSQL) or deleted (SQLite) when this value goes.
pub struct TestDatabase {
    pub label: &'static str,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    pub async fn store(&self) -> Store {
        Store::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("{}: cannot open the test database: {e}", self.label))
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.postgres.take() {
            // Best effort, on a thread of its own: Drop cannot be async and may run inside a
            // runtime.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(runtime) = runtime {
                    runtime.block_on(async {
                        if let Ok(admin) = Database::connect(&admin_url).await {
                            let _ = admin
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                                ))
                                .await;
                        }
                    });
                }
            })
            .join();
        }
    }
}

/// A fresh SQLite database in a temporary directory.
pub fn sqlite() -> TestDatabase {
    let dir = tempfile::tempdir().expect("a temporary directory for the test database");
    let url = format!("sqlite://{}/portcullis.db?mode=rwc", dir.path().display());
    TestDatabase {
        label: "sqlite",
        url,
        _dir: Some(dir),
        postgres: None,
    }
}

/// A fresh PostgreSQL database, or `None` when no server is configured (and none is required).
pub async fn postgres() -> Option<TestDatabase> {
    let admin_url = match std::env::var("PORTCULLIS_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            if std::env::var("PORTCULLIS_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                panic!("PORTCULLIS_REQUIRE_POSTGRES=1 but PORTCULLIS_TEST_POSTGRES_URL is not set");
            }
            return None;
        }
    };
    let name = format!("portcullis_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at PORTCULLIS_TEST_POSTGRES_URL: {e}"));
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("CREATE DATABASE for a test");
    let _ = admin.close().await;
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(base, _)| base);
    Some(TestDatabase {
        label: "postgres",
        url: format!("{base}/{name}"),
        _dir: None,
        postgres: Some((admin_url.clone(), name)),
    })
}

/// Every engine available to this test run: SQLite, plus PostgreSQL when configured.
pub async fn all() -> Vec<TestDatabase> {
    let mut databases = vec![sqlite()];
    databases.extend(postgres().await);
    databases
}
