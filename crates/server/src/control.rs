//! The control plane: the single door through which configuration changes.
//!
//! Management API handlers and portal server functions call the store through
//! [`Control::write`], which awaits the write and then publishes a fresh snapshot to the
//! gateway before returning — when the caller hears "saved", the next gateway request already
//! sees the change.

use portcullis_domain::model::ConfigModel;
use portcullis_gateway::SnapshotHandle;
use portcullis_store::{Store, StoreError};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub struct Control {
    store: Store,
    snapshots: Arc<SnapshotHandle>,
}

impl Control {
    pub fn new(store: Store, snapshots: Arc<SnapshotHandle>) -> Self {
        Self { store, snapshots }
    }

    /// For reads, and to build the write futures handed to [`Control::write`].
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn snapshots(&self) -> &Arc<SnapshotHandle> {
        &self.snapshots
    }

    /// Awaits a store write; if it committed, publishes the new configuration.
    pub async fn write<T>(
        &self,
        change: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let value = change.await?;
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
            tokio::spawn(async move {
                let mut delay = Duration::from_millis(100);
                loop {
                    tokio::time::sleep(delay).await;
                    match store.load_config().await {
                        Ok(model) => {
                            publish_full(&snapshots, &model);
                            tracing::info!(revision = model.revision, "config reload recovered");
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
    ///
    /// The read skips subscriptions when none changed since the ones the gateway holds (a
    /// policy or API change at 100,000 subscriptions reloads in milliseconds, not seconds);
    /// if another reload swapped the gateway's tables meanwhile, it reads them all.
    pub async fn try_publish(&self) -> Result<i64, StoreError> {
        let model = match self.snapshots.current().grants_revision {
            Some(held) => self.store.load_config_since(held).await?,
            None => self.store.load_config().await?,
        };
        let revision = match self.snapshots.publish(&model) {
            Ok(revision) => revision,
            Err(outdated) => {
                tracing::debug!(%outdated, "subscriptions changed meanwhile; reading them all");
                drop(model);
                let model = self.store.load_config().await?;
                self.publish_full(&model)
            }
        };
        release_freed_memory();
        Ok(revision)
    }

    /// Publishes a model read with all its subscriptions (which the gateway never refuses).
    fn publish_full(&self, model: &ConfigModel) -> i64 {
        publish_full(&self.snapshots, model)
    }
}

fn publish_full(snapshots: &SnapshotHandle, model: &ConfigModel) -> i64 {
    snapshots
        .publish(model)
        .unwrap_or_else(|_| snapshots.current().revision)
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
