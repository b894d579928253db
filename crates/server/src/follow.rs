//! Following the changes other nodes commit.
//!
//! With several nodes on one PostgreSQL database, a change saved through one portal must
//! reach every gateway. Each node listens on the store's [`ChangeFeed`] and reloads when it
//! hears a revision newer than the one it serves — within milliseconds of the commit, no
//! polling. When the listening connection is replaced (the database restarted, the network
//! dropped), notifications sent meanwhile are lost, so the node compares the stored revision
//! with its own and catches up. While the database cannot be reached the node keeps serving
//! what it has and tries again, waiting longer each time (up to [`MAX_RETRY_DELAY`]).
//!
//! On SQLite there is no feed, but there may still be a commit this node did not publish: a
//! write given up on after its timeout that committed after all, or another process (a
//! `portcullis` command, a second node on the same file) writing to the database. The node
//! reads the stored revision every [`SQLITE_POLL_INTERVAL`] — one single-row query — and
//! reloads when it moved, so it converges on the store's revision on its own.

use crate::Control;
use portcullis_store::{ChangeFeed, FeedEvent};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// The first wait after the database could not be reached.
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(100);
/// The longest wait between attempts.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(2);
/// How often a node on SQLite compares the stored revision with the one it serves.
pub const SQLITE_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Follows other nodes' changes until `stop` completes: by the change feed on PostgreSQL, by
/// reading the revision every [`SQLITE_POLL_INTERVAL`] on SQLite.
pub async fn follow_other_nodes(control: Arc<Control>, stop: impl Future<Output = ()>) {
    tokio::pin!(stop);
    let mut delay = FIRST_RETRY_DELAY;
    loop {
        let feed = tokio::select! {
            feed = control.store().change_feed() => feed,
            () = &mut stop => return,
        };
        match feed {
            Ok(None) => {
                tokio::select! {
                    () = poll_revision(&control) => {}
                    () = &mut stop => {}
                }
                return;
            }
            Ok(Some(feed)) => {
                delay = FIRST_RETRY_DELAY;
                tokio::select! {
                    () = listen(&control, feed) => {}
                    () = &mut stop => return,
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for config changes; retrying");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = &mut stop => return,
        }
        delay = (delay * 2).min(MAX_RETRY_DELAY);
    }
}

/// Catches up every [`SQLITE_POLL_INTERVAL`], for ever.
async fn poll_revision(control: &Control) {
    loop {
        tokio::time::sleep(SQLITE_POLL_INTERVAL).await;
        catch_up(control).await;
    }
}

/// Catches up once, then reloads on every newer revision heard. Returns when the feed or
/// a reload fails, so that the caller waits, listens again and catches up.
async fn listen(control: &Control, mut feed: ChangeFeed) {
    if !catch_up(control).await {
        return;
    }
    loop {
        match feed.next().await {
            Ok(FeedEvent::Changed(revision)) => {
                if revision > control.snapshots().current().revision && !reload(control).await {
                    return;
                }
            }
            Ok(FeedEvent::Reconnected) => {
                tracing::info!("config change feed reconnected; catching up");
                if !catch_up(control).await {
                    return;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "config change feed lost");
                return;
            }
        }
    }
}

/// Reloads if the stored revision is not the one served; `false` if that failed.
async fn catch_up(control: &Control) -> bool {
    match control.store().revision().await {
        Ok(stored) if stored != control.snapshots().current().revision => reload(control).await,
        Ok(_) => true,
        Err(error) => {
            tracing::warn!(%error, "cannot read the config revision");
            false
        }
    }
}

/// Loads and serves the stored configuration; `false` if that failed.
async fn reload(control: &Control) -> bool {
    match control.try_publish().await {
        Ok(revision) => {
            tracing::info!(revision, "config changed in the store; reloaded");
            true
        }
        Err(error) => {
            tracing::warn!(%error, "config reload after a change in the store failed");
            false
        }
    }
}
