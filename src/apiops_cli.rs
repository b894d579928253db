//! `portcullis extract`, `publish` and `diff`: configuration as code in Azure APIOps' folder
//! layout, against a running node's management API (see `portcullis_apiops`).
//!
//! Exit status: 0 when everything was done (diff: no difference), 1 when publish skipped
//! something it does not know (each named), 2 when diff found a difference, 3 on failure.

use clap::Args;
use portcullis_apiops::overrides::Overrides;
use portcullis_apiops::remote::Mgmt;
use portcullis_apiops::{Artifacts, diff, extract, publish};
use std::path::PathBuf;
use std::process::ExitCode;

/// Where the node is.
#[derive(Args)]
pub struct Remote {
    /// The node's portal address (its management API is under /mgmt).
    #[arg(
        long,
        env = "PORTCULLIS_MGMT_URL",
        default_value = "http://127.0.0.1:3000"
    )]
    mgmt_url: String,
    /// A management token (`portcullis token create`).
    #[arg(long, env = "PORTCULLIS_TOKEN", hide_env_values = true)]
    token: String,
    /// The service (an APIM instance's worth of APIs).
    #[arg(long, env = "PORTCULLIS_SERVICE", default_value = "flowdemo")]
    service: String,
}

impl Remote {
    fn connect(&self) -> Result<Mgmt, portcullis_apiops::ApiOpsError> {
        Mgmt::new(&self.mgmt_url, &self.token, &self.service)
    }
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
    eprintln!("error: {error}");
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
    let outcome = async {
        let remote = args.remote.connect()?;
        let files = extract(&remote).await?;
        files.write(&args.out)?;
        Ok::<_, portcullis_apiops::ApiOpsError>(files.0.len())
    };
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
    let outcome = async {
        let remote = args.remote.connect()?;
        let files = Artifacts::read(&args.dir)?;
        publish(&remote, &files, &overrides, args.delete).await
    };
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
    let outcome = async {
        let remote = args.remote.connect()?;
        let files = Artifacts::read(&args.dir)?;
        diff(&remote, &files, &overrides).await
    };
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
