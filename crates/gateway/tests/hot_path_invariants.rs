//! The hot path's invariants, pinned at the source: a change that breaks one fails here and
//! has to say why in the list below.
//!
//! * **No database on the request path.** The gateway and the policy engine cannot reach the
//!   database: they depend on neither the store nor sea-orm/sqlx. (The server's integration
//!   tests also close the database and then call the gateway.)
//! * **No global lock.** A request may only take locks that are sharded or that only traced
//!   requests take; every `Mutex`/`RwLock` in the gateway and the policy engine must be in
//!   [`ALLOWED_LOCKS`] with its reason, and nothing on the request path blocks a worker.

use std::path::{Path, PathBuf};

/// Files allowed to hold a lock, and why it is not a global one.
const ALLOWED_LOCKS: &[(&str, &str)] = &[
    (
        "policy/src/counters.rs",
        "MemoryCounters: 64 shards by key hash; a lock is held for one counter update",
    ),
    (
        "gateway/src/connection.rs",
        "ConnectionRegistry: 16 shards by connection id, taken when a connection opens and \
         closes (never per request) and, at the connection cap, to take a slot back",
    ),
    (
        "policy/src/catalogue/openid_keys.rs",
        "validate-jwt's provider keys: reads are lock-free (arc-swap); tokio's async mutex is \
         taken only to fetch (a miss, at most every 30 s), and parks the task, not the worker",
    ),
    (
        "policy/src/catalogue/managed_identity.rs",
        "managed-identity tokens: reads are lock-free (arc-swap); tokio's async mutex is taken \
         only to fetch (about once an hour per resource), and parks the task, not the worker",
    ),
    (
        "gateway/src/circuit_breaker.rs",
        "one lock per backend that has a circuit-breaker rule, held to add a call to a window \
         of at most 32 buckets; whether it is open is an atomic read. The board's lock is \
         taken when a snapshot is compiled, never per request",
    ),
    (
        "gateway/src/trace.rs",
        "TraceStore: taken only by traced requests (a signed, expiring debug token)",
    ),
];

/// Dependencies that would let the gateway reach a database.
const DATABASE_CRATES: &[&str] = &["portcullis-store", "sea-orm", "sqlx", "migration"];

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crates/")
        .to_path_buf()
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a readable source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// Numbered source lines before any `#[cfg(test)]` module, comments left out.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    code.lines()
        .enumerate()
        .map(|(n, line)| (n + 1, line.trim()))
        .filter(|(_, line)| !line.starts_with("//"))
}

#[test]
fn the_gateway_cannot_reach_the_database() {
    for manifest in ["gateway/Cargo.toml", "policy/Cargo.toml"] {
        let text = std::fs::read_to_string(crates_dir().join(manifest)).expect("a manifest");
        for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
            let name = line.split(['=', ' ', '.']).next().unwrap_or("").trim();
            assert!(
                !DATABASE_CRATES.contains(&name),
                "{manifest} depends on {name}: the request path must not reach the database"
            );
        }
    }
}

#[test]
fn every_lock_on_the_request_path_is_sharded_or_tracing_only() {
    let mut files = Vec::new();
    for dir in ["gateway/src", "policy/src"] {
        rust_files(&crates_dir().join(dir), &mut files);
    }
    assert!(files.len() > 20, "the sources were found");
    let mut offences = Vec::new();
    for file in &files {
        let relative = file
            .strip_prefix(crates_dir())
            .expect("under crates/")
            .to_string_lossy()
            .replace('\\', "/");
        let allowed = ALLOWED_LOCKS.iter().any(|(path, _)| *path == relative);
        let text = std::fs::read_to_string(file).expect("a readable source file");
        for (number, line) in code_lines(&text) {
            let takes_lock = ["Mutex", "RwLock", "parking_lot"]
                .iter()
                .any(|word| line.contains(word));
            let blocks = [
                "block_on(",
                "std::thread::sleep",
                "blocking_recv",
                "blocking_lock",
            ]
            .iter()
            .any(|word| line.contains(word));
            // The worker threads themselves start their runtimes with block_on.
            let starts_worker = relative == "gateway/src/server.rs" && line.contains("block_on");
            if (takes_lock && !allowed) || (blocks && !starts_worker) {
                offences.push(format!("{relative}:{number}: {line}"));
            }
        }
    }
    assert!(
        offences.is_empty(),
        "locks or blocking calls on the request path (allow a lock only with a reason in \
         ALLOWED_LOCKS):\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_allowed_locks_still_exist() {
    // An entry whose lock is gone should be removed, so that the list stays the truth.
    for (path, reason) in ALLOWED_LOCKS {
        let text = std::fs::read_to_string(crates_dir().join(path)).expect("an allowed file");
        assert!(
            text.contains("Mutex") || text.contains("RwLock"),
            "{path} holds no lock any more ({reason}); remove it from ALLOWED_LOCKS"
        );
    }
}
