//! The command line: `serve`, `admin add`, `token create|list|revoke`.

use crate::portal;
use clap::{Args, Parser, Subcommand};
use portcullis::server::{PortalState, SetupCode, SignInThrottle};
use portcullis_gateway::GatewaySettings;
use portcullis_gateway::connection::ConnectionTimeouts;
use portcullis_gateway::redis_counters::{CounterFailure, RedisSettings, SLOT_LEASE};
use portcullis_gateway::tls::TlsFiles;
use portcullis_server::config::{HttpsListener, Role};
use portcullis_server::{Application, ServeConfig, config};
use portcullis_store::Store;
use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "portcullis",
    version,
    about = "Self-hosted API management: a gateway and its admin portal in one binary."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the portal and management API, the gateway and (unless --no-demo) the demo flow.
    Serve(Box<ServeArgs>),
    /// Manage portal administrators.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Manage management API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Write a service as a folder in Azure APIOps' layout.
    Extract(crate::apiops_cli::ExtractArgs),
    /// Apply an APIOps folder to a service (creates and updates; deletes with --delete).
    Publish(crate::apiops_cli::PublishArgs),
    /// Print what publish would change; exit status 2 when something would.
    Diff(crate::apiops_cli::DiffArgs),
}

#[derive(Args)]
pub(crate) struct DatabaseArgs {
    /// Directory for the embedded SQLite database (portcullis.db).
    #[arg(long, env = "PORTCULLIS_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// Database URL; a postgres:// URL switches the store to PostgreSQL.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
}

impl DatabaseArgs {
    fn url(&self) -> anyhow::Result<String> {
        Ok(config::database_url(
            &self.data_dir,
            self.database_url.as_deref(),
        )?)
    }

    pub(crate) async fn store(&self) -> anyhow::Result<Store> {
        Ok(Store::connect(&self.url()?).await?)
    }
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// What this node serves: `all` (the portal, the management API and the gateway),
    /// `gateway` (no portal listener) or `portal` (no gateway listener; the test console
    /// calls the gateway at --gateway-addr). Nodes of one deployment share a PostgreSQL
    /// DATABASE_URL.
    #[arg(long, env = "PORTCULLIS_ROLE", default_value = "all")]
    role: Role,
    /// Address of the portal and the management API.
    #[arg(long, env = "PORTCULLIS_PORTAL_ADDR", default_value = "127.0.0.1:3000")]
    portal_addr: SocketAddr,
    /// Address of the gateway (for `--role portal`: where a gateway can be reached).
    #[arg(
        long,
        env = "PORTCULLIS_GATEWAY_ADDR",
        default_value = "127.0.0.1:8080"
    )]
    gateway_addr: SocketAddr,
    /// Also serve the gateway over HTTPS (HTTP/2 and HTTP/1.1) on this address, with the
    /// certificate of --tls-cert/--tls-key (and --tls-cert-dir by host name).
    #[arg(long, env = "PORTCULLIS_GATEWAY_HTTPS_ADDR")]
    gateway_https_addr: Option<SocketAddr>,
    /// Serve the portal and management API over HTTPS only, with the same certificates (its
    /// session cookie is then `Secure`).
    #[arg(long, env = "PORTCULLIS_PORTAL_HTTPS")]
    portal_https: bool,
    /// The TLS certificate chain (PEM) of the HTTPS listeners. Replaced files are served
    /// within seconds, without a restart.
    #[arg(long, env = "PORTCULLIS_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "PORTCULLIS_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// A directory of `<host>.pem` + `<host>.key` pairs, chosen by the host name the caller
    /// asks for (SNI); `_.example.com.pem` serves every `*.example.com`. Others get
    /// --tls-cert.
    #[arg(long, env = "PORTCULLIS_TLS_CERT_DIR")]
    tls_cert_dir: Option<PathBuf>,
    /// Address of the demo flow.
    #[arg(long, env = "PORTCULLIS_DEMO_ADDR", default_value = "127.0.0.1:7071")]
    demo_addr: SocketAddr,
    /// Also serve `/healthz` and `/metrics` alone on this address — for `--role gateway`,
    /// which has no portal listener to serve them.
    #[arg(long = "ops-addr", env = "PORTCULLIS_OPS_ADDR")]
    operations_addr: Option<SocketAddr>,
    /// Do not run the demo flow (only `--role all` runs it).
    #[arg(long)]
    no_demo: bool,
    /// Extra domain under which services are addressed (`<service>.<domain>`); `localhost`
    /// is always one. Repeat for several.
    #[arg(
        long = "base-domain",
        env = "PORTCULLIS_BASE_DOMAIN",
        value_delimiter = ','
    )]
    base_domains: Vec<String>,
    /// A proxy or load balancer in front of the gateway (address or CIDR range) whose
    /// `X-Forwarded-For` is believed for `ip-filter` and `context.Request.IpAddress`. Repeat
    /// for several; without one the caller is always the socket peer.
    #[arg(
        long = "trusted-proxy",
        env = "PORTCULLIS_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = parse_network
    )]
    trusted_proxies: Vec<ipnet::IpNet>,
    /// Do not record calls for analytics and `/metrics` (for measuring what recording costs).
    #[arg(long, env = "PORTCULLIS_NO_ANALYTICS")]
    no_analytics: bool,
    /// Threads serving gateway traffic, each with its own runtime, like nginx's worker
    /// processes; 0 (the default) means one per CPU core this process may use.
    #[arg(long, env = "PORTCULLIS_GATEWAY_WORKERS", default_value_t = 0)]
    gateway_workers: usize,
    /// Redis for rate-limit, quota and concurrency counters shared by every gateway node
    /// (`redis://host:6379`); without it each node counts in its own memory.
    #[arg(long, env = "REDIS_URL")]
    redis_url: Option<String>,
    /// When Redis cannot be reached: `open` lets calls through uncounted (logged and counted
    /// in /metrics), `closed` refuses them with 503.
    #[arg(long, env = "PORTCULLIS_REDIS_FAILURE", default_value = "open")]
    redis_failure: CounterFailure,
    /// Milliseconds a call waits for a Redis counter decision before the failure mode
    /// applies.
    #[arg(long, env = "PORTCULLIS_REDIS_TIMEOUT_MS", default_value_t = 250)]
    redis_timeout_ms: u64,
    /// Put before every Redis key, so several deployments can share one Redis.
    #[arg(
        long,
        env = "PORTCULLIS_REDIS_KEY_PREFIX",
        default_value = "portcullis"
    )]
    redis_key_prefix: String,
    /// Seconds to wait for a backend's response head.
    #[arg(long, env = "PORTCULLIS_BACKEND_TIMEOUT", default_value_t = 300)]
    backend_timeout: u64,
    /// Seconds a caller has to send a whole request head, from its first byte (from accept
    /// for a new connection); then it gets 408 and the connection is closed.
    #[arg(long, env = "PORTCULLIS_HEADER_READ_TIMEOUT", default_value_t = 30)]
    header_read_timeout: u64,
    /// Seconds a kept-alive caller connection may sit idle between requests.
    #[arg(long, env = "PORTCULLIS_KEEP_ALIVE_TIMEOUT", default_value_t = 75)]
    keep_alive_timeout: u64,
    /// Seconds the gateway waits for the next part of a request body; then 408.
    #[arg(long, env = "PORTCULLIS_BODY_READ_TIMEOUT", default_value_t = 60)]
    body_read_timeout: u64,
    /// Caller connections open at once. At the cap, a new caller takes the slot of the
    /// connection that has waited longest for a request (idle or sending its head slowly).
    #[arg(long, env = "PORTCULLIS_MAX_CONNECTIONS", default_value_t = 10_000)]
    max_connections: usize,
    /// MiB the in-memory rate-limit and quota counters may hold (about 5,000 keys per MiB).
    /// When full, calls under a counter key not seen yet get 429 until idle keys leave.
    #[arg(long, env = "PORTCULLIS_COUNTER_MEMORY_MIB", default_value_t = 64)]
    counter_memory_mib: usize,
    /// MiB the internal cache of `cache-store-value` may hold; the least used values go
    /// first when it is full. With `REDIS_URL`, values go to Redis unless a policy says
    /// `caching-type="internal"`.
    #[arg(long, env = "PORTCULLIS_CACHE_MEMORY_MIB", default_value_t = 64)]
    cache_memory_mib: usize,
    /// Where `authentication-managed-identity` gets tokens: Azure's instance metadata
    /// service by default (on an Azure VM or container host with a managed identity).
    #[arg(
        long,
        env = "PORTCULLIS_IDENTITY_ENDPOINT",
        default_value = portcullis_gateway::settings::AZURE_IMDS_TOKEN_ENDPOINT
    )]
    identity_endpoint: axum::http::Uri,
    /// Where `validate-azure-ad-token` finds Entra ID tenants (another cloud's authority,
    /// e.g. `https://login.microsoftonline.us`).
    #[arg(
        long,
        env = "PORTCULLIS_ENTRA_AUTHORITY",
        default_value = portcullis_gateway::settings::ENTRA_AUTHORITY
    )]
    entra_authority: axum::http::Uri,
    /// A PEM file of certificate authorities to trust for backend TLS besides the public
    /// web's (backends with certificates from an internal CA).
    #[arg(long, env = "PORTCULLIS_BACKEND_CA_FILE")]
    backend_ca_file: Option<std::path::PathBuf>,
    /// Mark the portal's session cookie `Secure` (serve the portal over https, e.g. behind a
    /// TLS-terminating proxy).
    #[arg(long, env = "PORTCULLIS_SECURE_COOKIES")]
    secure_cookies: bool,
    /// The setup code for creating the first administrator in the portal; random when unset.
    #[arg(long, env = "PORTCULLIS_SETUP_CODE", hide_env_values = true)]
    setup_code: Option<String>,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an administrator; the password is read from standard input.
    Add {
        #[arg(long)]
        username: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a management API token and print it (it is shown only once).
    Create {
        #[arg(long)]
        name: String,
        /// The token stops working after this many days (default: until revoked).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3650))]
        expires_in_days: Option<u32>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List the management API tokens: names, when made, when they expire.
    List {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Revoke every token of this name: their next request is refused.
    Revoke {
        #[arg(long)]
        name: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let outcome = match cli.command {
        Command::Extract(args) => return crate::apiops_cli::run_extract(args).await,
        Command::Publish(args) => return crate::apiops_cli::run_publish(args).await,
        Command::Diff(args) => return crate::apiops_cli::run_diff(args).await,
        Command::Serve(args) => serve(*args).await,
        Command::Admin {
            command:
                AdminCommand::Add {
                    username,
                    password_stdin,
                    database,
                },
        } => add_admin(&username, password_stdin, &database).await,
        Command::Token {
            command:
                TokenCommand::Create {
                    name,
                    expires_in_days,
                    database,
                },
        } => create_token(&name, expires_in_days, &database).await,
        Command::Token {
            command: TokenCommand::List { database },
        } => list_tokens(&database).await,
        Command::Token {
            command: TokenCommand::Revoke { name, database },
        } => revoke_tokens(&name, &database).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn")
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// The certificates of the HTTPS listeners, when any is asked for: both files must be given.
fn tls_files(args: &ServeArgs) -> anyhow::Result<Option<TlsFiles>> {
    let wanted = args.gateway_https_addr.is_some() || args.portal_https;
    match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Ok(Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            by_host_dir: args.tls_cert_dir.clone(),
        })),
        (None, None) if !wanted => Ok(None),
        (None, _) => anyhow::bail!(
            "HTTPS needs a certificate: give --tls-cert (and --tls-key) or PORTCULLIS_TLS_CERT"
        ),
        (_, None) => anyhow::bail!(
            "HTTPS needs the certificate's private key: give --tls-key or PORTCULLIS_TLS_KEY"
        ),
    }
}

/// An address (`10.0.0.7`) or a CIDR range (`10.0.0.0/8`).
fn parse_network(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("'{text}' is not an IP address or CIDR range"))
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let tls_files = tls_files(&args)?;
    let mut gateway = GatewaySettings {
        backend_timeout: Duration::from_secs(args.backend_timeout.max(1)),
        timeouts: ConnectionTimeouts {
            header_read: Duration::from_secs(args.header_read_timeout.max(1)),
            keep_alive: Duration::from_secs(args.keep_alive_timeout.max(1)),
            body_read: Duration::from_secs(args.body_read_timeout.max(1)),
        },
        max_connections: args.max_connections.max(1),
        trusted_proxies: args.trusted_proxies,
        workers: args.gateway_workers,
        counter_memory: args.counter_memory_mib.max(1).saturating_mul(1 << 20),
        cache_memory: args.cache_memory_mib.max(1).saturating_mul(1 << 20),
        identity_endpoint: args.identity_endpoint,
        entra_authority: args.entra_authority,
        backend_roots: match &args.backend_ca_file {
            Some(file) => portcullis_gateway::settings::read_roots(file)
                .map_err(|e| anyhow::anyhow!("--backend-ca-file: {e}"))?,
            None => Vec::new(),
        },
        ..GatewaySettings::default()
    };
    gateway.base_domains.extend(
        args.base_domains
            .into_iter()
            .filter(|d| !d.trim().is_empty()),
    );
    let role = args.role;
    let database_url = args.database.url()?;
    // A node on a shared database keeps the last configuration it served on local disk.
    let local_copy = (database_url.starts_with("postgres:")
        || database_url.starts_with("postgresql:"))
    .then(|| args.database.data_dir.join("last-known-good.db"));
    if local_copy.is_some() {
        std::fs::create_dir_all(&args.database.data_dir)?;
    }
    let config = ServeConfig {
        role,
        database_url,
        local_copy,
        portal_addr: args.portal_addr,
        gateway_addr: args.gateway_addr,
        demo_addr: (!args.no_demo && role == Role::All).then_some(args.demo_addr),
        operations_addr: args.operations_addr,
        gateway_https: args.gateway_https_addr.and_then(|addr| {
            Some(HttpsListener {
                addr,
                certificates: tls_files.clone()?,
            })
        }),
        portal_tls: tls_files.clone().filter(|_| args.portal_https),
        gateway,
        redis: args
            .redis_url
            .filter(|url| !url.trim().is_empty())
            .map(|url| RedisSettings {
                url,
                key_prefix: args.redis_key_prefix,
                timeout: Duration::from_millis(args.redis_timeout_ms.max(1)),
                failure: args.redis_failure,
                slot_lease: SLOT_LEASE,
            }),
        analytics: !args.no_analytics,
    };
    let app = Application::build(config).await?;
    let gateway_addr = app.gateway_addr().unwrap_or(args.gateway_addr);
    let mut banner = String::new();
    if let Some(gateway) = app.gateway_addr() {
        banner.push_str(&format!("gateway listening on http://{gateway}\n"));
    }
    if let Some(gateway) = app.gateway_https_addr() {
        banner.push_str(&format!("gateway listening on https://{gateway}\n"));
    }
    if let Some(demo) = app.demo_addr() {
        banner.push_str(&format!("demo flow listening on http://{demo}\n"));
    }
    if let Some(operations) = app.operations_addr() {
        banner.push_str(&format!(
            "health and metrics listening on http://{operations}\n"
        ));
    }
    let Some(portal_addr) = app.portal_addr() else {
        print_banner(&banner);
        return app.run_until(shutdown_signal()).await;
    };
    let state = PortalState {
        control: app.control().clone(),
        gateway: app.gateway().clone(),
        gateway_addr,
        gateway_port: gateway_addr.port(),
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?,
        setup_code: Arc::new(SetupCode::new(args.setup_code)?),
        sign_in_throttle: Arc::new(SignInThrottle::default()),
    };
    let needs_administrator = app.control().store().admin_count().await? == 0;
    let portal_scheme = if app.portal_is_https() {
        "https"
    } else {
        "http"
    };
    let app = app.with_portal_routes(portal::routes(
        state.clone(),
        portal::CookiePolicy {
            secure: args.secure_cookies || args.portal_https,
        },
    )?);
    banner.insert_str(
        0,
        &format!("portal listening on {portal_scheme}://{portal_addr}\n"),
    );
    if needs_administrator && let Some(code) = state.setup_code.current() {
        banner.push_str(&format!(
            "no administrator yet: open {portal_scheme}://{portal_addr}/setup and enter the setup code {code}\n"
        ));
    }
    print_banner(&banner);
    let sessions = state.control.store().session_records();
    tokio::spawn(async move {
        let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every_hour.tick().await;
            if let Err(error) = sessions.delete_expired().await {
                tracing::warn!(%error, "expired sessions could not be removed");
            }
        }
    });
    app.run_until(shutdown_signal()).await
}

/// Where everything listens, on stdout. Best effort: a closed stdout (a supervisor that
/// stopped reading) must not stop the server.
fn print_banner(banner: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(banner.as_bytes()).and_then(|()| out.flush());
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

async fn add_admin(
    username: &str,
    password_stdin: bool,
    database: &DatabaseArgs,
) -> anyhow::Result<()> {
    if !password_stdin {
        anyhow::bail!(
            "pass the password on standard input with --password-stdin, e.g. `echo \"$PW\" | portcullis admin add --username ada --password-stdin`"
        );
    }
    let mut password = String::new();
    std::io::stdin().lock().read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']);
    database
        .store()
        .await?
        .add_admin(username, password)
        .await?;
    println!("administrator '{username}' created");
    Ok(())
}

async fn create_token(
    name: &str,
    expires_in_days: Option<u32>,
    database: &DatabaseArgs,
) -> anyhow::Result<()> {
    let lifetime = expires_in_days.map(|days| chrono::Duration::days(i64::from(days)));
    let token = database
        .store()
        .await?
        .create_token_expiring(name, lifetime)
        .await?;
    println!("{token}");
    Ok(())
}

async fn list_tokens(database: &DatabaseArgs) -> anyhow::Result<()> {
    let tokens = database.store().await?.list_tokens().await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{:<32} {:<20} EXPIRES", "NAME", "CREATED")?;
    let now = chrono::Utc::now();
    for token in tokens {
        let expires = match token.expires_at {
            None => "never".to_owned(),
            Some(at) if at <= now => format!("{} (expired)", at.format("%Y-%m-%d %H:%M")),
            Some(at) => at.format("%Y-%m-%d %H:%M").to_string(),
        };
        writeln!(
            out,
            "{:<32} {:<20} {expires}",
            token.name,
            token.created_at.format("%Y-%m-%d %H:%M")
        )?;
    }
    Ok(())
}

async fn revoke_tokens(name: &str, database: &DatabaseArgs) -> anyhow::Result<()> {
    match database.store().await?.revoke_tokens(name).await? {
        0 => anyhow::bail!("no token is named '{name}'"),
        1 => println!("token '{name}' revoked"),
        n => println!("{n} tokens named '{name}' revoked"),
    }
    Ok(())
}
