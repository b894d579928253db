//! Measures propagation: how long after a management API write returns the gateway's
//! answers change. It alternates an API's policy between forbidding and allowing the caller's
//! IP (`ip-filter`) and, after each write returns, calls the gateway until the answer flips
//! (403 ↔ 200). Prints percentiles of the write round trip and of the propagation delay.
//!
//! ```text
//! bench-propagation MGMT_POLICY_URL TOKEN GATEWAY_URL HOST [CHANGES]
//! ```

use anyhow::{Context, bail};
use std::time::{Duration, Instant};

const FORBID: &str = r#"<policies><inbound><base /><ip-filter action="forbid"><address>127.0.0.1</address></ip-filter></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"#;
const ALLOW: &str = r#"<policies><inbound><base /><ip-filter action="allow"><address-range from="127.0.0.0" to="127.255.255.255" /></ip-filter></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"#;

/// Longest we wait for one change to show before calling the run failed.
const GIVE_UP: Duration = Duration::from_secs(10);

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [policy_url, token, gateway_url, host, rest @ ..] = args.as_slice() else {
        bail!("usage: bench-propagation MGMT_POLICY_URL TOKEN GATEWAY_URL HOST [CHANGES]");
    };
    let changes: usize = rest.first().map_or(Ok(100), |n| n.parse())?;
    let management = reqwest::Client::new();
    let gateway = reqwest::Client::new();
    let mut writes = Vec::with_capacity(changes);
    let mut delays = Vec::with_capacity(changes);
    for change in 0..changes {
        let (document, expected) = if change % 2 == 0 {
            (FORBID, 403)
        } else {
            (ALLOW, 200)
        };
        let started = Instant::now();
        let written = management
            .put(policy_url)
            .bearer_auth(token)
            .json(&serde_json::json!({ "format": "xml", "value": document }))
            .send()
            .await
            .context("the policy write")?;
        if !written.status().is_success() {
            bail!("the policy write answered {}", written.status());
        }
        let returned = Instant::now();
        writes.push(returned - started);
        loop {
            let status = gateway
                .get(gateway_url)
                .header("host", host)
                .send()
                .await
                .context("a gateway call")?
                .status()
                .as_u16();
            if status == expected {
                delays.push(returned.elapsed());
                break;
            }
            if returned.elapsed() > GIVE_UP {
                bail!("change {change}: still {status} after {GIVE_UP:?}");
            }
        }
    }
    println!("write_ms {}", summary(&mut writes));
    println!("propagation_ms {}", summary(&mut delays));
    Ok(())
}

/// `p50 p99 max` in milliseconds.
fn summary(samples: &mut [Duration]) -> String {
    samples.sort();
    let at = |q: f64| {
        let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[index].as_secs_f64() * 1000.0
    };
    format!("{:.3} {:.3} {:.3}", at(0.5), at(0.99), at(1.0))
}
