//! The last known good configuration, kept in a local file by nodes on PostgreSQL.
//!
//! After the node's snapshot changes, a background task copies the configuration from the
//! shared database into `last-known-good.db` (SQLite) in the node's data directory — into a
//! fresh file first, renamed over the old copy once complete. If the node later starts while
//! PostgreSQL is away, it serves that copy instead of refusing to start, and follows the
//! database again once it is back (see [`crate::follow`]). Copies run one at a time; a burst
//! of changes ends in one copy of the newest revision, and a failed copy is retried until
//! one succeeds.

use portcullis_store::{Store, StoreError};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::watch;

/// The pause before the first retry of a failed copy; it doubles up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(100);
/// The longest pause between retries of a failed copy.
const RETRY_MAX: Duration = Duration::from_secs(5);

/// Asks for copies; cheap to clone.
#[derive(Clone)]
pub struct LocalCopy {
    wanted: watch::Sender<i64>,
}

impl LocalCopy {
    /// Starts the task that copies from `store` into the file at `path`.
    pub fn start(store: Store, path: PathBuf) -> Self {
        let (wanted, mut requests) = watch::channel(0);
        tokio::spawn(async move {
            let mut copied = 0;
            while requests.changed().await.is_ok() {
                // A failed copy (the file busy, the database away) is retried with a growing
                // pause until it succeeds: no later change may come to trigger another one.
                let mut pause = RETRY_FIRST;
                loop {
                    let revision = *requests.borrow_and_update();
                    if revision <= copied {
                        break;
                    }
                    match copy(&store, &path).await {
                        Ok(revision) => {
                            tracing::debug!(revision, path = %path.display(), "local copy saved");
                            copied = revision;
                        }
                        Err(error) => {
                            tracing::warn!(
                                %error,
                                path = %path.display(),
                                retry_in_ms = pause.as_millis() as u64,
                                "the local copy of the configuration could not be saved"
                            );
                            tokio::time::sleep(pause).await;
                            pause = (pause * 2).min(RETRY_MAX);
                        }
                    }
                }
            }
        });
        Self { wanted }
    }

    /// The node now serves `revision`: copy it (if no newer copy is under way).
    pub fn served(&self, revision: i64) {
        self.wanted.send_if_modified(|wanted| {
            let newer = revision > *wanted;
            if newer {
                *wanted = revision;
            }
            newer
        });
    }
}

/// Why a copy was not saved.
#[derive(Debug, thiserror::Error)]
enum CopyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{action} {path}: {source}")]
    File {
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
}

/// Copies the configuration into a fresh file beside `path`, then renames it over `path`:
/// a reader finds the previous copy or the new one, whole, never one half written, and a
/// copy cut short (a crash, a full disk) leaves the previous one in place.
async fn copy(store: &Store, path: &Path) -> Result<i64, CopyError> {
    let fresh = sibling(path, ".partial");
    remove_database_files(&fresh).await?;
    let target = open(&fresh).await?;
    let copied = store.copy_config_to(&target).await;
    // Closing the last connection moves the write-ahead log into the file and deletes it:
    // the file alone is then the whole copy, safe to rename.
    target.close().await?;
    let revision = copied?;
    let log = sibling(&fresh, "-wal");
    if log.exists() {
        return Err(CopyError::File {
            action: "the new copy still has a write-ahead log at",
            path: log.display().to_string(),
            source: std::io::Error::other("not merged into the file on close"),
        });
    }
    // A log left by a process that crashed with the previous copy open would be read
    // against the new file.
    for suffix in ["-wal", "-shm"] {
        remove_if_present(&sibling(path, suffix)).await?;
    }
    tokio::fs::rename(&fresh, path)
        .await
        .map_err(|source| CopyError::File {
            action: "cannot move the new copy to",
            path: path.display().to_string(),
            source,
        })?;
    Ok(revision)
}

/// `path` with `suffix` added to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Removes an SQLite database at `path` with its log files, if there is one.
async fn remove_database_files(path: &Path) -> Result<(), CopyError> {
    remove_if_present(path).await?;
    for suffix in ["-wal", "-shm", "-journal"] {
        remove_if_present(&sibling(path, suffix)).await?;
    }
    Ok(())
}

async fn remove_if_present(path: &Path) -> Result<(), CopyError> {
    match tokio::fs::remove_file(path).await {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(CopyError::File {
            action: "cannot remove",
            path: path.display().to_string(),
            source,
        }),
    }
}

/// Opens (creating if needed) the local copy at `path`.
pub async fn open(path: &Path) -> Result<Store, StoreError> {
    Store::connect(&format!("sqlite://{}?mode=rwc", path.display())).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_domain::{DisplayName, ServiceName};
    use portcullis_store::{Actor, testing};
    use std::time::Instant;

    #[tokio::test]
    async fn a_copy_that_failed_is_retried_without_another_change() {
        let db = testing::sqlite();
        let store = db.store().await;
        store
            .put_service(
                &Actor::System,
                &ServiceName::parse("flowdemo").expect("a name"),
                DisplayName::parse("Flow demo").expect("a display name"),
                None,
            )
            .await
            .expect("a service");
        let revision = store.revision().await.expect("the revision");
        let dir = tempfile::tempdir().expect("a directory");
        let path = dir.path().join("last-known-good.db");
        // A directory where the copy should go: every copy fails until it is gone.
        std::fs::create_dir(&path).expect("the obstacle");

        let local = LocalCopy::start(store, path.clone());
        local.served(revision);
        tokio::time::sleep(Duration::from_millis(300)).await;
        std::fs::remove_dir(&path).expect("the obstacle removed");

        let started = Instant::now();
        loop {
            let copied = saved_revision(&path).await;
            if copied == revision {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the failed copy was retried"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The revision in the copy at `path`; 0 while there is none.
    async fn saved_revision(path: &Path) -> i64 {
        if !path.is_file() {
            return 0;
        }
        let copy = open(path).await.expect("a saved copy opens");
        let revision = copy.revision().await.expect("a saved copy has a revision");
        copy.close().await.expect("the copy closes");
        revision
    }
}
