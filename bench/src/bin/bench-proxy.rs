//! A reference reverse proxy: the least a Rust proxy on hyper can do, so the benchmark can
//! show how much of the gap to nginx is the HTTP stack and how much is the gateway.
//!
//! ```text
//! bench-proxy 127.0.0.1:18191 127.0.0.1:18181 pooled     # hyper-util's pooled client
//! bench-proxy 127.0.0.1:18192 127.0.0.1:18181 direct     # hyper's connection API, own free list
//! ```
//!
//! Both run one current-thread runtime (the target core is one core), keep backend
//! connections alive, and copy the request head as it came, without any routing, key check
//! or header work — a floor for what forwarding costs, not a product.

use bytes::Bytes;
use http::{Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, combinators::BoxBody};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::cell::RefCell;
use std::convert::Infallible;
use std::rc::Rc;

type ProxyBody = BoxBody<Bytes, hyper::Error>;

/// How the proxy reaches the backend.
#[allow(
    clippy::large_enum_variant,
    reason = "one value per worker thread, made once; boxing would only add a hop per request"
)]
enum Backend {
    /// hyper-util's legacy client: a pool keyed by host, a task per connection.
    Pooled(Client<HttpConnector, Incoming>),
    /// hyper's connection API with a free list of idle senders on this thread.
    Direct(Rc<DirectPool>),
}

struct DirectPool {
    address: String,
    idle: RefCell<Vec<SendRequest<Incoming>>>,
}

impl DirectPool {
    async fn checkout(&self) -> anyhow::Result<SendRequest<Incoming>> {
        loop {
            let Some(mut sender) = self.idle.borrow_mut().pop() else {
                break;
            };
            if sender.ready().await.is_ok() {
                return Ok(sender);
            }
        }
        let stream = tokio::net::TcpStream::connect(&self.address).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::task::spawn_local(async move {
            let _ = connection.await;
        });
        Ok(sender)
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:18191".to_owned());
    let upstream = args.next().unwrap_or_else(|| "127.0.0.1:18181".to_owned());
    let mode = args.next().unwrap_or_else(|| "pooled".to_owned());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let backend = Rc::new(match mode.as_str() {
            "direct" => Backend::Direct(Rc::new(DirectPool {
                address: upstream.clone(),
                idle: RefCell::new(Vec::new()),
            })),
            _ => {
                let mut connector = HttpConnector::new();
                connector.set_nodelay(true);
                Backend::Pooled(
                    Client::builder(TokioExecutor::new())
                        .pool_max_idle_per_host(256)
                        .build(connector),
                )
            }
        });
        let upstream: Rc<str> = upstream.into();
        let listener = tokio::net::TcpListener::bind(&listen).await?;
        println!("listening on {}", listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            let backend = backend.clone();
            let upstream = upstream.clone();
            tokio::task::spawn_local(async move {
                let service = service_fn(move |request| {
                    let backend = backend.clone();
                    let upstream = upstream.clone();
                    async move { Ok::<_, Infallible>(forward(&backend, &upstream, request).await) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
        #[allow(unreachable_code)]
        Ok::<_, anyhow::Error>(())
    })
}

async fn forward(
    backend: &Backend,
    upstream: &str,
    request: Request<Incoming>,
) -> Response<ProxyBody> {
    let (mut parts, body) = request.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let outcome = match backend {
        Backend::Pooled(client) => {
            match format!("http://{upstream}{path}").parse::<Uri>() {
                Ok(uri) => parts.uri = uri,
                Err(_) => return bad_gateway(),
            }
            client
                .request(Request::from_parts(parts, body))
                .await
                .map_err(anyhow::Error::from)
        }
        Backend::Direct(pool) => match pool.checkout().await {
            Ok(mut sender) => {
                if let Ok(uri) = path.parse::<Uri>() {
                    parts.uri = uri;
                }
                let response = sender.send_request(Request::from_parts(parts, body)).await;
                if response.is_ok() {
                    pool.idle.borrow_mut().push(sender);
                }
                response.map_err(anyhow::Error::from)
            }
            Err(error) => Err(error),
        },
    };
    match outcome {
        Ok(response) => response.map(|body| body.boxed()),
        Err(_) => bad_gateway(),
    }
}

fn bad_gateway() -> Response<ProxyBody> {
    let mut response = Response::new(Empty::new().map_err(|never| match never {}).boxed());
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response
}
