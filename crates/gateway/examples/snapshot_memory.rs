//! Where a compiled snapshot's memory goes at the large benchmark size (1,000 APIs × 10
//! operations, 100,000 subscriptions): live heap bytes counted by a wrapping allocator.
//!
//! `cargo run --release -p portcullis-gateway --example snapshot_memory`

#[path = "../benches/large_model.rs"]
mod large_model;

use portcullis_gateway::grants::GrantTable;
use portcullis_gateway::{GatewaySettings, Snapshot};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, counting the bytes currently allocated.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on to the system allocator unchanged; only a counter is
// updated beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract is System's contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live_mib() -> f64 {
    LIVE.load(Ordering::Relaxed) as f64 / (1024.0 * 1024.0)
}

fn main() {
    let (apis, subscriptions) = (1000, 100_000);
    let before = live_mib();
    let (model, _key) = large_model::model(apis, subscriptions);
    let with_model = live_mib();
    let grants = GrantTable::build(&model.services[0].subscriptions);
    let with_grants = live_mib();
    drop(grants);
    let snapshot = Snapshot::compile(&model, &GatewaySettings::default());
    let with_snapshot = live_mib();
    drop(model);
    let snapshot_only = live_mib();
    println!("{apis} APIs x 10 operations, {subscriptions} subscriptions (live heap, MiB)");
    println!(
        "  model (as read from the store) {:>7.1}",
        with_model - before
    );
    println!(
        "  key tables                     {:>7.1}",
        with_grants - with_model
    );
    println!(
        "  whole snapshot                 {:>7.1}",
        snapshot_only - before
    );
    println!(
        "  snapshot without key tables    {:>7.1}",
        snapshot_only - before - (with_grants - with_model)
    );
    println!(
        "  peak while compiling           {:>7.1}",
        with_snapshot - before
    );
    drop(snapshot);
}
