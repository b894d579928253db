//! Following the changes other nodes commit.
//!
//! With several nodes on one PostgreSQL database, a change saved through one portal must
//! reach every gateway. Each node listens on the store's [`ChangeFeed`] and reloads when it
//! hears a revision newer than the one it serves — within milliseconds of the commit, no
//! polling. When the listening connection is replaced (the database restarted, the network
//! dropped), notifications sent meanwhile are lost, so the node compares the stored revision
//! with its own and catches up. While the database cannot be reached the node keeps serving
//! what it has and tries again, waiting longer each time (up to [`MAX_RETRY_DELAY`]).

use crate::Control;
use portcullis_store::{ChangeFeed, FeedEvent};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// The first wait after the database could not be reached.
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(100);
/// The longest wait between attempts.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(2);

/// Follows other nodes' changes until `stop` completes. Returns at once on SQLite, where
/// this process is the only writer.
pub async fn follow_other_nodes(control: Arc<Control>, stop: impl Future<Output = ()>) {
    tokio::pin!(stop);
    let mut delay = FIRST_RETRY_DELAY;
    loop {
        let feed = tokio::select! {
            feed = control.store().change_feed() => feed,
            () = &mut stop => return,
        };
        match feed {
            Ok(None) => return,
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
            tracing::info!(revision, "config changed on another node; reloaded");
            true
        }
        Err(error) => {
            tracing::warn!(%error, "config reload after another node's change failed");
            false
        }
    }
}
