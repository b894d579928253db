//! The `portcullis` binary (filled in by the server crate).

fn main() {}
