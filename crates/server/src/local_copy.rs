//! The last known good configuration, kept in a local file by nodes on PostgreSQL.
//!
//! After the node's snapshot changes, a background task copies the configuration from the
//! shared database into `last-known-good.db` (SQLite) in the node's data directory. If the
//! node later starts while PostgreSQL is away, it serves that copy instead of refusing to
//! start, and follows the database again once it is back (see [`crate::follow`]). Copies
//! run one at a time; a burst of changes ends in one copy of the newest revision.

use portcullis_store::{Store, StoreError};
use std::path::{Path, PathBuf};
use tokio::sync::watch;

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
                let revision = *requests.borrow_and_update();
                if revision <= copied {
                    continue;
                }
                match copy(&store, &path).await {
                    Ok(revision) => {
                        tracing::debug!(revision, path = %path.display(), "local copy saved");
                        copied = revision;
                    }
                    Err(error) => tracing::warn!(
                        %error,
                        path = %path.display(),
                        "the local copy of the configuration could not be saved"
                    ),
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

async fn copy(store: &Store, path: &Path) -> Result<i64, StoreError> {
    let target = open(path).await?;
    let revision = store.copy_config_to(&target).await;
    target.close().await?;
    revision
}

/// Opens (creating if needed) the local copy at `path`.
pub async fn open(path: &Path) -> Result<Store, StoreError> {
    Store::connect(&format!("sqlite://{}?mode=rwc", path.display())).await
}
