//! The real `portcullis` binary: `token create`, `admin add`, and `serve` on port 0 running
//! the README's walkthrough against its own demo flow.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

const BINARY: &str = env!("CARGO_BIN_EXE_portcullis");

fn portcullis(data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(BINARY);
    command
        .env("PORTCULLIS_DATA_DIR", data_dir)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn");
    command
}

/// The first `count` lines a starting server prints, `<what> listening on <url>`, by what.
fn listening(
    lines: &mut std::io::Lines<BufReader<std::process::ChildStdout>>,
    count: usize,
) -> std::collections::HashMap<String, String> {
    lines
        .by_ref()
        .take(count)
        .map(|line| {
            let line = line.unwrap();
            let (what, url) = line.split_once(" listening on ").expect("an address line");
            (what.to_owned(), url.to_owned())
        })
        .collect()
}

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn admin_add_reads_the_password_from_stdin_and_refuses_duplicates() {
    let data = tempfile::tempdir().unwrap();
    let add = |password: &str| {
        let mut child = portcullis(data.path())
            .args(["admin", "add", "--username", "ada", "--password-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        child.wait_with_output().unwrap()
    };
    let first = add("correct horse battery staple");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let second = add("another long password");
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("exists already"));
    let short = portcullis(data.path())
        .args(["admin", "add", "--username", "bob"])
        .output()
        .unwrap();
    assert!(!short.status.success(), "--password-stdin is required");
}

#[tokio::test]
async fn serve_runs_the_walkthrough_end_to_end() {
    let data = tempfile::tempdir().unwrap();
    let token = portcullis(data.path())
        .args(["token", "create", "--name", "cli-test"])
        .output()
        .unwrap();
    assert!(
        token.status.success(),
        "{}",
        String::from_utf8_lossy(&token.stderr)
    );
    let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("pcm_"));

    let mut child = portcullis(data.path())
        .args([
            "serve",
            "--portal-addr",
            "127.0.0.1:0",
            "--gateway-addr",
            "127.0.0.1:0",
            "--demo-addr",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut lines = BufReader::new(stdout).lines();
    let addresses = listening(&mut lines, 3);
    let setup = lines.next().expect("a fourth line").unwrap();
    assert!(
        setup.starts_with("no administrator yet: open http://")
            && setup.contains("/setup and enter the setup code "),
        "{setup}"
    );
    // Keep reading what the server prints next, so its stdout never blocks or breaks.
    std::thread::spawn(move || lines.for_each(drop));
    let (portal, gateway, demo) = (
        &addresses["portal"],
        &addresses["gateway"],
        &addresses["demo flow"],
    );

    let http = reqwest::Client::new();
    let put = |path: &str, body: Value| {
        http.put(format!("{portal}/mgmt{path}"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    assert_eq!(
        put("/services/flowdemo", json!({})).await.unwrap().status(),
        201
    );
    put(
        "/services/flowdemo/apis/calculator",
        json!({ "serviceUrl": demo, "path": "calc" }),
    )
    .await
    .unwrap();
    put(
        "/services/flowdemo/apis/calculator/operations/add",
        json!({ "method": "POST", "urlTemplate": "/" }),
    )
    .await
    .unwrap();
    put(
        "/services/flowdemo/subscriptions/me",
        json!({ "scope": "/apis" }),
    )
    .await
    .unwrap();
    let secrets: Value = http
        .post(format!(
            "{portal}/mgmt/services/flowdemo/subscriptions/me/listSecrets"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let call = http
        .post(format!("{gateway}/calc"))
        .header("host", "flowdemo.localhost")
        .header(
            "Ocp-Apim-Subscription-Key",
            secrets["primaryKey"].as_str().unwrap(),
        )
        .json(&json!({ "a": 1, "b": 2 }))
        .send()
        .await
        .unwrap();
    assert_eq!(call.status(), 200);
    assert_eq!(call.json::<Value>().await.unwrap(), json!({ "sum": 3 }));

    let health: Value = http
        .get(format!("{portal}/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert!(
        data.path().join("portcullis.db").exists(),
        "SQLite lives in the data dir"
    );
    drop(server);
}

/// Starts `serve --role portal` with `data_dir` (and `database_url`, if any); returns the
/// server and the portal's URL.
fn portal_node(data_dir: &std::path::Path, database_url: Option<&str>) -> (Server, String) {
    let mut command = portcullis(data_dir);
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    let mut child = command
        .args(["serve", "--role", "portal", "--portal-addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("a banner line").unwrap();
    let portal = first
        .strip_prefix("portal listening on ")
        .unwrap_or_else(|| panic!("a portal-only node prints its portal first: {first}"))
        .to_owned();
    std::thread::spawn(move || lines.for_each(drop));
    (server, portal)
}

#[tokio::test]
async fn portal_nodes_share_sign_ins() {
    // On PostgreSQL when the tests have one (as in CI); else two processes on one SQLite file.
    let postgres = portcullis_store::testing::postgres().await;
    let database_url = postgres.as_ref().map(|db| db.url.as_str());
    let (first_dir, second_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let second_dir = match database_url {
        Some(_) => second_dir.path(),
        None => first_dir.path(),
    };
    let mut add = portcullis(first_dir.path());
    if let Some(url) = database_url {
        add.env("DATABASE_URL", url);
    }
    let mut add = add
        .args(["admin", "add", "--username", "ada", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"a long enough password\n")
        .unwrap();
    assert!(add.wait().unwrap().success());

    let (_first, first) = portal_node(first_dir.path(), database_url);
    let (_second, second) = portal_node(second_dir, database_url);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // Sign in on the first node, through the sign-in form's own action.
    let page = http
        .get(format!("{first}/sign-in"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let action = page
        .split("action=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the sign-in form's action");
    let signed_in = http
        .post(format!("{first}{action}"))
        .form(&[("username", "ada"), ("password", "a long enough password")])
        .send()
        .await
        .unwrap();
    let cookie = signed_in
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();

    // The second node knows the session; without it, nobody is signed in.
    let services = |cookie: Option<String>| {
        let mut request = http.get(format!("{second}/services"));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    assert!(services(Some(cookie)).await.contains(">ada<"));
    assert!(!services(None).await.contains(">ada<"));
}

/// A node serving portal and gateway on `database_url` (or the data dir's SQLite file);
/// returns it with its portal and gateway URLs.
fn all_in_one_node(
    data_dir: &std::path::Path,
    database_url: Option<&str>,
) -> (Server, String, String) {
    let mut command = portcullis(data_dir);
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    let mut child = command
        .args([
            "serve",
            "--no-demo",
            "--portal-addr",
            "127.0.0.1:0",
            "--gateway-addr",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut lines = BufReader::new(stdout).lines();
    let addresses = listening(&mut lines, 2);
    std::thread::spawn(move || lines.for_each(drop));
    (
        server,
        addresses["portal"].clone(),
        addresses["gateway"].clone(),
    )
}

/// Kills a node with SIGKILL in the middle of a stream of management writes, many times:
/// every write the node acknowledged before it died is there after the restart, and the
/// gateway serves it.
#[tokio::test]
async fn every_write_acknowledged_before_a_sigkill_survives_it() {
    let postgres = portcullis_store::testing::postgres().await;
    let mut databases: Vec<Option<String>> = vec![None];
    databases.extend(postgres.as_ref().map(|db| Some(db.url.clone())));
    for database_url in databases {
        let data = tempfile::tempdir().unwrap();
        let mut token = portcullis(data.path());
        if let Some(url) = &database_url {
            token.env("DATABASE_URL", url);
        }
        let token = token
            .args(["token", "create", "--name", "crash"])
            .output()
            .unwrap();
        assert!(
            token.status.success(),
            "{}",
            String::from_utf8_lossy(&token.stderr)
        );
        let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(5))
            .build()
            .unwrap();
        let mut acknowledged: Vec<String> = Vec::new();
        for round in 0..6 {
            let (server, portal, gateway) = all_in_one_node(data.path(), database_url.as_deref());
            let put = |path: String, body: Value| {
                http.put(format!("{portal}/mgmt/services/svc{path}"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
            };
            if round == 0 {
                assert!(
                    put(String::new(), json!({ "displayName": "Crash" }))
                        .await
                        .unwrap()
                        .status()
                        .is_success()
                );
                // The backend is a closed port: a matched operation answers 502, a missing one 404.
                let api = json!({ "serviceUrl": "http://127.0.0.1:9", "path": "crash", "subscriptionRequired": false });
                assert!(
                    put("/apis/crash".into(), api)
                        .await
                        .unwrap()
                        .status()
                        .is_success()
                );
            }
            // Everything acknowledged so far is there after the restart, and served.
            let listed: Value = http
                .get(format!(
                    "{portal}/mgmt/services/svc/apis/crash/operations?$top=1000"
                ))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let names: std::collections::HashSet<&str> = listed["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|op| op["name"].as_str().unwrap())
                .collect();
            for name in &acknowledged {
                assert!(
                    names.contains(name.as_str()),
                    "round {round}: {name} was acknowledged and is gone"
                );
            }
            if let Some(last) = acknowledged.last() {
                let status = http
                    .get(format!("{gateway}/crash/{last}"))
                    .header("host", "svc.localhost")
                    .send()
                    .await
                    .unwrap()
                    .status();
                assert_eq!(
                    status, 502,
                    "round {round}: the gateway does not serve {last}"
                );
            }
            // A stream of writes, killed with SIGKILL after a while that differs each round.
            let writes = async {
                let mut n = 0;
                loop {
                    let name = format!("r{round}w{n}");
                    let body = json!({ "method": "GET", "urlTemplate": format!("/{name}") });
                    match put(format!("/apis/crash/operations/{name}"), body).await {
                        Ok(response) if response.status().is_success() => acknowledged.push(name),
                        Ok(response) => {
                            let status = response.status();
                            let body = response.text().await.unwrap_or_default();
                            return format!("{name} answered {status}: {body}");
                        }
                        Err(error) => return format!("{name} failed: {error:?}"),
                    }
                    n += 1;
                }
            };
            let kill_after = std::time::Duration::from_millis(150 + 97 * round);
            let mut server = server;
            tokio::select! {
                ended = writes => panic!("the write stream ended before the kill: {ended}"),
                () = tokio::time::sleep(kill_after) => {
                    server.0.kill().unwrap();
                }
            }
            let _ = server.0.wait();
        }
        assert!(
            acknowledged.len() > 6,
            "too few writes to mean anything: {}",
            acknowledged.len()
        );
    }
}

/// `extract`, `diff` and `publish` without a token work on the database itself; exit 2 from
/// diff means "something would change", 1 from publish "something was skipped".
#[test]
fn extract_diff_and_publish_work_on_the_database_directly() {
    let data = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let url = portcullis_server::config::database_url(data.path(), None).unwrap();
        let store = portcullis_store::Store::connect(&url).await.unwrap();
        store
            .put_service(
                &portcullis_store::Actor::System,
                &portcullis_domain::ServiceName::parse("svc").unwrap(),
                portcullis_domain::DisplayName::parse("Service").unwrap(),
                None,
            )
            .await
            .unwrap();
    });
    let sample =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/apiops/tests/sample");
    let run = |args: &[&str]| {
        let output = portcullis(data.path())
            .args(args)
            .args(["--service", "svc"])
            .env_remove("PORTCULLIS_TOKEN")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        (output.status.code(), text)
    };
    let sample_dir = sample.to_str().unwrap();
    let (code, text) = run(&["diff", sample_dir]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("+ apis/echo-api/apiInformation.json"),
        "{text}"
    );
    let (code, text) = run(&["publish", sample_dir]);
    assert_eq!(code, Some(1), "skipped kinds are named: {text}");
    assert!(text.contains("skipped  loggers/appinsights"), "{text}");
    assert!(text.contains("applied  apis/echo-api"), "{text}");
    let out = tempfile::tempdir().unwrap();
    let (code, text) = run(&["extract", "--out", out.path().to_str().unwrap()]);
    assert_eq!(code, Some(0), "{text}");
    let spec =
        std::fs::read_to_string(out.path().join("apis/echo-api/specification.yaml")).unwrap();
    assert!(spec.contains("operationId: get-echo"), "{spec}");
    // What was extracted is what the database holds: no difference.
    let (code, text) = run(&["diff", out.path().to_str().unwrap()]);
    assert_eq!(code, Some(0), "{text}");
}
