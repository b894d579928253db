//! `portcullis extract`, `publish` and `diff`: configuration as code in Azure APIOps' folder
//! layout (see `portcullis_apiops`), against a running node's management API (`--token`),
//! or — without a token — against the database itself (`--data-dir`, `--database-url`):
//! the command then serves the same management API on a loopback port of its own, under a
//! token it makes and revokes, so every write is checked and audited as a node's would be.
//! A node on the same SQLite file notices within a second (it polls the revision); nodes
//! on PostgreSQL hear the commit at once.
//!
//! Exit status: 0 when everything was done (diff: no difference), 1 when publish skipped
//! something it does not know (each named), 2 when diff found a difference, 3 on failure.

use clap::Args;
use portcullis_apiops::overrides::Overrides;
use portcullis_apiops::remote::Mgmt;
use portcullis_apiops::{Artifacts, diff, extract, publish};
use std::path::PathBuf;
use std::process::ExitCode;

/// Where the configuration is.
#[derive(Args)]
pub struct Remote {
    /// The node's portal address (its management API is under /mgmt); used with --token.
    #[arg(
        long,
        env = "PORTCULLIS_MGMT_URL",
        default_value = "http://127.0.0.1:3000"
    )]
    mgmt_url: String,
    /// A management token (`portcullis token create`). Without one, the database is opened
    /// directly (--data-dir / --database-url).
    #[arg(long, env = "PORTCULLIS_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The service (an APIM instance's worth of APIs).
    #[arg(long, env = "PORTCULLIS_SERVICE", default_value = "flowdemo")]
    service: String,
    #[command(flatten)]
    database: crate::cli::DatabaseArgs,
}

/// The management API this command serves itself over the database (no --token).
struct Local {
    store: portcullis_store::Store,
    token_name: String,
    server: tokio::task::JoinHandle<()>,
}

impl Local {
    async fn close(self) {
        if let Err(error) = self.store.revoke_tokens(&self.token_name).await {
            eprintln!(
                "warning: the command's token {} was not revoked: {error}",
                self.token_name
            );
        }
        self.server.abort();
    }
}

impl Remote {
    /// The management API to talk to, and the local one to close when done.
    async fn connect(&self) -> anyhow::Result<(Mgmt, Option<Local>)> {
        if let Some(token) = &self.token {
            return Ok((Mgmt::new(&self.mgmt_url, token, &self.service)?, None));
        }
        use portcullis_gateway::SnapshotHandle;
        use portcullis_gateway::settings::GatewaySettings;
        let store = self.database.store().await?;
        let control = std::sync::Arc::new(portcullis_server::Control::new(
            store.clone(),
            std::sync::Arc::new(SnapshotHandle::new(GatewaySettings::default())),
        ));
        control.try_publish().await?;
        let urls = portcullis_server::mgmt::GatewayUrls::of(&[], None, None);
        let router = portcullis_server::mgmt::router(control).layer(axum::Extension(urls));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        let token_name = format!("apiops-cli-{}", std::process::id());
        let token = store.create_token(&token_name).await?;
        let remote = Mgmt::new(&format!("http://{addr}"), &token, &self.service)?;
        Ok((
            remote,
            Some(Local {
                store,
                token_name,
                server,
            }),
        ))
    }
}

/// Runs `work` against the configuration `remote` names, closing a local API afterwards.
async fn with_remote<T>(
    remote: &Remote,
    work: impl AsyncFnOnce(&Mgmt) -> Result<T, portcullis_apiops::ApiOpsError>,
) -> anyhow::Result<T> {
    let (mgmt, local) = remote.connect().await?;
    let outcome = work(&mgmt).await;
    if let Some(local) = local {
        local.close().await;
    }
    Ok(outcome?)
}

#[derive(Args)]
pub struct ExtractArgs {
    #[command(flatten)]
    remote: Remote,
    /// The folder to write (made if missing; files of the same names are replaced).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
pub struct PublishArgs {
    #[command(flatten)]
    remote: Remote,
    /// The folder to apply.
    dir: PathBuf,
    /// Also delete what the node has and the folder does not.
    #[arg(long)]
    delete: bool,
    /// Per-environment overrides (APIOps' configuration.<env>.yaml), merged over the folder.
    #[arg(long = "override")]
    override_file: Option<PathBuf>,
    /// Apply only what this git commit changed in the folder, and delete what it deleted
    /// (APIOps' COMMIT_ID).
    #[arg(long, env = "COMMIT_ID")]
    commit: Option<String>,
}

#[derive(Args)]
pub struct DiffArgs {
    #[command(flatten)]
    remote: Remote,
    /// The folder to compare.
    dir: PathBuf,
    #[arg(long = "override")]
    override_file: Option<PathBuf>,
}

fn failed(error: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {error:#}");
    ExitCode::from(3)
}

fn overrides(file: Option<&PathBuf>) -> Result<Overrides, String> {
    match file {
        None => Ok(Overrides::default()),
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("{}: {e}", path.display()))
            .and_then(|text| Overrides::parse(&text).map_err(|e| e.to_string())),
    }
}

pub async fn run_extract(args: ExtractArgs) -> ExitCode {
    let out = args.out.clone();
    let outcome = with_remote(&args.remote, async |remote: &Mgmt| {
        let files = extract(remote).await?;
        files.write(&out)?;
        Ok(files.0.len())
    });
    match outcome.await {
        Ok(count) => {
            println!("extracted {count} files to {}", args.out.display());
            ExitCode::SUCCESS
        }
        Err(error) => failed(error),
    }
}

pub async fn run_publish(args: PublishArgs) -> ExitCode {
    let overrides = match overrides(args.override_file.as_ref()) {
        Ok(overrides) => overrides,
        Err(error) => return failed(error),
    };
    let (dir, delete, commit) = (args.dir.clone(), args.delete, args.commit.clone());
    let outcome = with_remote(&args.remote, async |remote: &Mgmt| {
        let files = Artifacts::read(&dir)?;
        match &commit {
            Some(rev) => {
                let changes = portcullis_apiops::commit_changes(&dir, rev)?;
                portcullis_apiops::publish_commit(remote, &files, &overrides, &changes).await
            }
            None => publish(remote, &files, &overrides, delete).await,
        }
    });
    match outcome.await {
        Ok(report) => {
            for applied in &report.applied {
                println!("applied  {applied}");
            }
            for deleted in &report.deleted {
                println!("deleted  {deleted}");
            }
            for (item, reason) in &report.skipped {
                println!("skipped  {item}: {reason}");
            }
            if report.skipped.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(error) => failed(error),
    }
}

pub async fn run_diff(args: DiffArgs) -> ExitCode {
    let overrides = match overrides(args.override_file.as_ref()) {
        Ok(overrides) => overrides,
        Err(error) => return failed(error),
    };
    let dir = args.dir.clone();
    let outcome = with_remote(&args.remote, async |remote: &Mgmt| {
        let files = Artifacts::read(&dir)?;
        diff(remote, &files, &overrides).await
    });
    match outcome.await {
        Ok((changes, skipped)) => {
            for change in &changes {
                println!("{change}");
            }
            for (item, reason) in &skipped {
                println!("skipped  {item}: {reason}");
            }
            if changes.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            }
        }
        Err(error) => failed(error),
    }
}
