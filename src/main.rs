//! The `portcullis` binary: parses the command line and hands over to [`cli`].

#[cfg(feature = "ssr")]
mod apiops_cli;
#[cfg(feature = "ssr")]
mod cli;
#[cfg(feature = "ssr")]
mod portal;

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    cli::main().await
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The binary is built with the `ssr` feature only (cargo-leptos does this); the `hydrate`
    // build of this crate is the browser bundle and has no `main`.
}
