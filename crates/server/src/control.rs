//! The control plane: the single door through which configuration changes.
//!
//! Management API handlers and portal server functions call the store through
//! [`Control::write`], which awaits the write and then publishes a fresh snapshot to the
//! gateway before returning — when the caller hears "saved", the next gateway request already
//! sees the change.

use crate::local_copy::LocalCopy;
use portcullis_gateway::grants::GrantTableBuilder;
use portcullis_gateway::{GrantsOutdated, SnapshotHandle};
use portcullis_store::{Store, StoreError};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How long a configuration write may wait for the database.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Control {
    store: Store,
    snapshots: Arc<SnapshotHandle>,
    local_copy: Option<LocalCopy>,
}

impl Control {
    pub fn new(store: Store, snapshots: Arc<SnapshotHandle>) -> Self {
        Self {
            store,
            snapshots,
            local_copy: None,
        }
    }

    /// Keeps a copy of every configuration served in a local file (see [`LocalCopy`]).
    pub fn keep_local_copy(mut self, copy: LocalCopy) -> Self {
        self.local_copy = Some(copy);
        self
    }

    /// For reads, and to build the write futures handed to [`Control::write`].
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn snapshots(&self) -> &Arc<SnapshotHandle> {
        &self.snapshots
    }

    /// Awaits a store write; if it committed, publishes the new configuration. A write the
    /// database leaves unanswered for [`WRITE_TIMEOUT`] is given up on, so the caller hears
    /// of it instead of waiting for the network to time out.
    pub async fn write<T>(
        &self,
        change: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let value = tokio::time::timeout(WRITE_TIMEOUT, change)
            .await
            .map_err(|_| StoreError::Unanswered(WRITE_TIMEOUT))??;
        self.publish().await;
        Ok(value)
    }

    /// Reloads the configuration and swaps the gateway's snapshot. A failed reload (the
    /// database went away between commit and read) is retried in the background; the
    /// gateway keeps serving the previous snapshot meanwhile.
    pub async fn publish(&self) {
        if let Err(error) = self.try_publish().await {
            tracing::error!(%error, "config reload failed; retrying in the background");
            let store = self.store.clone();
            let snapshots = self.snapshots.clone();
            let local_copy = self.local_copy.clone();
            tokio::spawn(async move {
                let mut delay = Duration::from_millis(100);
                loop {
                    tokio::time::sleep(delay).await;
                    match reload(&store, &snapshots).await {
                        Ok(revision) => {
                            tracing::info!(revision, "config reload recovered");
                            if let Some(copy) = &local_copy {
                                copy.served(revision);
                            }
                            break;
                        }
                        Err(error) => tracing::error!(%error, "config reload failed again"),
                    }
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            });
        }
    }

    /// Loads and publishes once; returns the revision now served.
    pub async fn try_publish(&self) -> Result<i64, StoreError> {
        let revision = reload(&self.store, &self.snapshots).await?;
        if let Some(copy) = &self.local_copy {
            copy.served(revision);
        }
        Ok(revision)
    }

    /// Publishes the configuration held by `saved` (the local copy) instead of the store's:
    /// for a node that starts while its database is away.
    pub async fn publish_from(&self, saved: &Store) -> Result<i64, StoreError> {
        reload(saved, &self.snapshots).await
    }
}

/// Reads the configuration and swaps it in.
///
/// Subscriptions are read only when some changed since the ones the gateway holds (a policy
/// or API change at 100,000 subscriptions reloads in milliseconds, not seconds), and then
/// each row becomes its compact key-table entry as it arrives. If another reload swapped the
/// gateway's tables meanwhile, it reads them all.
async fn reload(store: &Store, snapshots: &SnapshotHandle) -> Result<i64, StoreError> {
    let held = snapshots.current().grants_revision;
    let revision = match read_and_publish(store, snapshots, held).await? {
        Ok(revision) => revision,
        Err(outdated) => {
            tracing::debug!(%outdated, "subscriptions changed meanwhile; reading them all");
            read_and_publish(store, snapshots, None)
                .await?
                .unwrap_or_else(|_| snapshots.current().revision)
        }
    };
    release_freed_memory();
    Ok(revision)
}

async fn read_and_publish(
    store: &Store,
    snapshots: &SnapshotHandle,
    held_grants: Option<i64>,
) -> Result<Result<i64, GrantsOutdated>, StoreError> {
    let mut tables: HashMap<String, GrantTableBuilder> = HashMap::new();
    let model = store
        .load_config_streaming(held_grants, &mut |service, subscription| {
            tables
                .entry(service.as_str().to_owned())
                .or_default()
                .add(&subscription);
        })
        .await?;
    let tables = tables
        .into_iter()
        .map(|(service, table)| (service, table.finish()))
        .collect();
    Ok(snapshots.publish_with_tables(&model, tables))
}

/// A reload builds a new model and snapshot and frees the old ones (tens of MB when it
/// read 100,000 subscriptions); glibc keeps freed pages in its per-thread arenas,
/// so without this the resident size ratchets up with every write. `malloc_trim` hands the
/// free pages back to the system.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the process' own allocator; it is
    // safe to call at any time from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}
