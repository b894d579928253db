//! Policies that decide who may call and how often, through the real gateway.

use crate::helpers::{TestApp, spawn, status_json};
use reqwest::{Method, StatusCode};
use serde_json::json;

const ECHO_POLICY: &str = "/services/svc/apis/echo/policy";

/// The echo API behind product `calc` (subscription required) with a product key and an
/// all-APIs key.
async fn product_setup(app: &TestApp) -> (String, String) {
    app.keyed_echo_api().await;
    app.put(
        "/services/svc/products/calc",
        json!({ "displayName": "Calculator", "subscriptionRequired": true, "state": "published" }),
    )
    .await;
    app.put("/services/svc/products/calc/apis/echo", json!({}))
        .await;
    let product_key = app.subscribe("svc", "calc-sub", "/products/calc").await;
    let all_key = app.subscribe("svc", "all-sub", "/apis").await;
    (product_key, all_key)
}

async fn get(app: &TestApp, path: &str, key: Option<&str>) -> reqwest::Response {
    let mut request = app.gateway(Method::GET, "svc.localhost", path);
    if let Some(key) = key {
        request = request.header("Ocp-Apim-Subscription-Key", key);
    }
    request.send().await.expect("the gateway answers")
}

#[tokio::test]
async fn a_product_ip_filter_forbids_the_caller_only_for_product_keys() {
    let app = spawn().await;
    let (product_key, all_key) = product_setup(&app).await;
    app.policy(
        "/services/svc/products/calc/policy",
        r#"<policies><inbound><base /><ip-filter action="forbid"><address>127.0.0.1</address></ip-filter></inbound></policies>"#,
    )
    .await;

    let response = get(&app, "/echo/sum", Some(&product_key)).await;
    assert_eq!(response.headers()["content-type"], "application/json");
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let (status, body) = status_json(response).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({ "statusCode": 403, "message": "Forbidden", "requestId": request_id })
    );

    // Product policies apply to product subscriptions only, as in APIM.
    let response = get(&app, "/echo/sum", Some(&all_key)).await;
    assert_eq!(response.status(), StatusCode::OK);

    // allow: anything outside the list is refused; a range that holds the caller lets it in.
    app.policy(
        "/services/svc/products/calc/policy",
        r#"<policies><inbound><ip-filter action="allow"><address-range from="10.0.0.0" to="10.255.255.255" /></ip-filter></inbound></policies>"#,
    )
    .await;
    assert_eq!(
        get(&app, "/echo/sum", Some(&product_key)).await.status(),
        StatusCode::FORBIDDEN
    );
    app.policy(
        "/services/svc/products/calc/policy",
        r#"<policies><inbound><ip-filter action="allow"><address>10.0.0.1</address><address-range from="127.0.0.0" to="127.0.0.255" /></ip-filter></inbound></policies>"#,
    )
    .await;
    assert_eq!(
        get(&app, "/echo/sum", Some(&product_key)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn rate_limit_by_key_lets_three_calls_through_and_refuses_the_fourth() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        r#"<policies><inbound><base /><rate-limit-by-key calls="3" renewal-period="60" counter-key="@(context.Request.IpAddress)" remaining-calls-header-name="x-remaining" /></inbound></policies>"#,
    )
    .await;
    for remaining in ["2", "1", "0"] {
        let response = get(&app, "/echo/x", None).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["x-remaining"], remaining);
    }
    let response = get(&app, "/echo/x", None).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((59..=60).contains(&retry_after), "{retry_after}");
    let (_, body) = status_json(response).await;
    assert_eq!(
        body["message"],
        format!("Rate limit is exceeded. Try again in {retry_after} seconds.")
    );
    assert_eq!(body["statusCode"], 429);
    // Refused calls are not counted, and the limit holds for every later call in the window.
    assert_eq!(
        get(&app, "/echo/x", None).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn a_caller_rotating_counter_keys_cannot_grow_the_counters_past_their_budget() {
    // 64 KiB of counters: a few hundred keys.
    let settings = portcullis_gateway::GatewaySettings {
        counter_memory: 64 << 10,
        ..Default::default()
    };
    let app = crate::helpers::spawn_with(portcullis_store::testing::sqlite(), settings).await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        r#"<policies><inbound><base /><rate-limit-by-key calls="2" renewal-period="60" counter-key="@(context.Request.Headers.GetValueOrDefault(&quot;x-caller&quot;, &quot;&quot;))" /></inbound></policies>"#,
    )
    .await;
    let call = |caller: String| {
        app.gateway(Method::GET, "svc.localhost", "/echo/x")
            .header("x-caller", caller)
            .send()
    };
    assert_eq!(call("first".into()).await.unwrap().status(), StatusCode::OK);
    // Each call under a new key, each key a 4 KB header: the store fills and then refuses
    // new keys rather than growing.
    let mut refused = 0;
    for i in 0..2_000 {
        let status = call(format!("{i:04}{}", "k".repeat(4_000)))
            .await
            .unwrap()
            .status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            refused += 1;
        } else {
            assert_eq!(status, StatusCode::OK);
        }
    }
    assert!(refused > 1_000, "{refused} of 2,000 new keys refused");
    // A key counted before the flood is still counted exactly.
    assert_eq!(call("first".into()).await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        call("first".into()).await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn rate_limit_counts_per_subscription() {
    let app = spawn().await;
    let (product_key, _) = product_setup(&app).await;
    let second_key = app.subscribe("svc", "calc-sub-2", "/products/calc").await;
    app.policy(
        "/services/svc/products/calc/policy",
        r#"<policies><inbound><rate-limit calls="2" renewal-period="30" retry-after-header-name="x-wait" /><base /></inbound></policies>"#,
    )
    .await;
    for _ in 0..2 {
        assert_eq!(
            get(&app, "/echo/a", Some(&product_key)).await.status(),
            StatusCode::OK
        );
    }
    let refused = get(&app, "/echo/a", Some(&product_key)).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        refused.headers().contains_key("x-wait"),
        "the configured header carries the wait"
    );
    assert!(!refused.headers().contains_key("retry-after"));
    // Another subscription has its own count.
    assert_eq!(
        get(&app, "/echo/a", Some(&second_key)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn quota_refuses_with_the_time_until_it_is_replenished() {
    let app = spawn().await;
    let (product_key, _) = product_setup(&app).await;
    app.policy(
        "/services/svc/products/calc/policy",
        r#"<policies><inbound><quota calls="1" renewal-period="3600" /><base /></inbound></policies>"#,
    )
    .await;
    assert_eq!(
        get(&app, "/echo/q", Some(&product_key)).await.status(),
        StatusCode::OK
    );
    let response = get(&app, "/echo/q", Some(&product_key)).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3590..=3600).contains(&retry_after), "{retry_after}");
    let (_, body) = status_json(response).await;
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with("Out of call volume quota. Quota will be replenished in 0")
            && message.ends_with('.')
            && (message.contains("01:00:00") || message.contains("00:59:")),
        "{message}"
    );
}

#[tokio::test]
async fn quota_by_key_counts_per_key_and_prints_days() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        r#"<policies><inbound><quota-by-key calls="2" renewal-period="172800" counter-key="@(context.Request.Headers.GetValueOrDefault(&quot;x-tenant&quot;, &quot;anonymous&quot;))" /></inbound></policies>"#,
    )
    .await;
    let call = |tenant: &'static str| {
        app.gateway(Method::GET, "svc.localhost", "/echo/t")
            .header("x-tenant", tenant)
            .send()
    };
    for _ in 0..2 {
        assert_eq!(call("alpha").await.unwrap().status(), StatusCode::OK);
    }
    let (status, body) = status_json(call("alpha").await.unwrap()).await;
    assert_eq!(status, 403);
    assert_eq!(
        body["message"],
        "Out of call volume quota. Quota will be replenished in 2.00:00:00."
    );
    assert_eq!(call("beta").await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn check_header_refuses_missing_or_unlisted_values() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        r#"<policies><inbound><check-header name="x-tenant" failed-check-httpcode="400" failed-check-error-message="Tenant missing or unknown" ignore-case="true"><value>alpha</value><value>beta</value></check-header></inbound></policies>"#,
    )
    .await;
    let (status, body) = status_json(get(&app, "/echo/c", None).await).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (400, Some("Tenant missing or unknown"))
    );
    let send = |value: &'static str| {
        app.gateway(Method::GET, "svc.localhost", "/echo/c")
            .header("x-tenant", value)
            .send()
    };
    assert_eq!(
        send("gamma").await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(send("ALPHA").await.unwrap().status(), StatusCode::OK);
}

mod jwt {
    use super::*;
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};

    const SECRET: &[u8] = b"secret-key-for-tests";
    const SECRET_BASE64: &str = "c2VjcmV0LWtleS1mb3ItdGVzdHM=";

    fn now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    fn hs256(claims: serde_json::Value, secret: &[u8]) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret),
        )
        .unwrap()
    }

    async fn call(app: &TestApp, token: Option<&str>) -> (u16, serde_json::Value) {
        let mut request = app.gateway(Method::GET, "svc.localhost", "/echo/jwt");
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        status_json(request.send().await.unwrap()).await
    }

    #[tokio::test]
    async fn validate_jwt_with_a_shared_secret() {
        let app = spawn().await;
        app.echo_api().await;
        app.policy(
            ECHO_POLICY,
            &format!(
                r#"<policies><inbound><validate-jwt header-name="Authorization" require-scheme="Bearer">
                <issuer-signing-keys><key>{SECRET_BASE64}</key></issuer-signing-keys>
                <audiences><audience>api://portcullis</audience></audiences>
                <required-claims><claim name="role" match="any"><value>admin</value><value>ops</value></claim></required-claims>
                </validate-jwt></inbound></policies>"#
            ),
        )
        .await;
        let good = json!({ "aud": "api://portcullis", "exp": now() + 600, "role": "ops" });
        assert_eq!(call(&app, Some(&hs256(good.clone(), SECRET))).await.0, 200);

        let (status, body) = call(&app, None).await;
        assert_eq!(
            (status, body["message"].as_str()),
            (401, Some("JWT not present."))
        );
        let (status, body) = call(&app, Some(&hs256(good.clone(), b"another-secret"))).await;
        assert_eq!(
            (status, body["message"].as_str()),
            (
                401,
                Some("JWT Validation Failed: Signature validation failed.")
            )
        );
        let expired = json!({ "aud": "api://portcullis", "exp": now() - 600, "role": "ops" });
        let (status, body) = call(&app, Some(&hs256(expired, SECRET))).await;
        assert_eq!(
            (status, body["message"].as_str()),
            (401, Some("JWT Validation Failed: JWT Expired."))
        );
        let other_audience = json!({ "aud": "api://other", "exp": now() + 600, "role": "ops" });
        assert_eq!(
            call(&app, Some(&hs256(other_audience, SECRET))).await.0,
            401
        );
        let wrong_role = json!({ "aud": "api://portcullis", "exp": now() + 600, "role": "guest" });
        let (status, body) = call(&app, Some(&hs256(wrong_role, SECRET))).await;
        assert_eq!(
            (status, body["message"].as_str()),
            (
                401,
                Some("JWT Validation Failed: Claim value mismatch: role.")
            )
        );
        assert_eq!(call(&app, Some("not-a-token")).await.0, 401);
    }

    /// `output-token-variable-name` holds a `Jwt`, as in APIM: scripts read its claims.
    #[tokio::test]
    async fn the_validated_token_is_a_jwt_in_its_variable() {
        let app = spawn().await;
        app.echo_api().await;
        app.policy(
            ECHO_POLICY,
            &format!(
                r#"<policies><inbound><validate-jwt header-name="Authorization" output-token-variable-name="jwt">
                <issuer-signing-keys><key>{SECRET_BASE64}</key></issuer-signing-keys>
                </validate-jwt>
                <set-header name="x-subject" exists-action="override"><value>@(((Jwt)context.Variables["jwt"]).Subject)</value></set-header>
                <set-header name="x-role" exists-action="override"><value>@(((Jwt)context.Variables["jwt"]).Claims.GetValueOrDefault("role", "none"))</value></set-header>
                </inbound></policies>"#
            ),
        )
        .await;
        let token = hs256(
            json!({ "sub": "ada", "role": "ops", "exp": now() + 600 }),
            SECRET,
        );
        let response = app
            .gateway(Method::GET, "svc.localhost", "/echo/jwt")
            .header("Authorization", format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        let (status, echo) = status_json(response).await;
        assert_eq!(status, 200, "{echo}");
        assert_eq!(echo["headers"]["x-subject"], "ada");
        assert_eq!(echo["headers"]["x-role"], "ops");
    }

    #[tokio::test]
    async fn validate_jwt_with_an_rsa_public_key() {
        let app = spawn().await;
        app.echo_api().await;
        let public = include_str!("fixtures/test-only-rsa-public.pem");
        app.policy(
            ECHO_POLICY,
            &format!(
                r#"<policies><inbound><validate-jwt failed-validation-httpcode="403" failed-validation-error-message="Go away">
                <issuer-signing-keys><key>{public}</key></issuer-signing-keys>
                <issuers><issuer>https://issuer.example</issuer></issuers>
                </validate-jwt></inbound></policies>"#
            ),
        )
        .await;
        let private =
            EncodingKey::from_rsa_pem(include_bytes!("fixtures/test-only-rsa-private.pem"))
                .unwrap();
        let claims = json!({ "iss": "https://issuer.example", "exp": now() + 600 });
        let token = encode(&Header::new(Algorithm::RS256), &claims, &private).unwrap();
        assert_eq!(call(&app, Some(&token)).await.0, 200);
        // A token signed with a shared secret is not accepted by an RSA key.
        let (status, body) = call(&app, Some(&hs256(claims, SECRET))).await;
        assert_eq!((status, body["message"].as_str()), (403, Some("Go away")));
    }

    /// A stand-in OpenID Connect provider on loopback: its metadata names the issuer and
    /// its key set (the test-only RSA key, `kid` test-only-key-1); it counts the fetches.
    async fn spawn_provider() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let fetches = std::sync::Arc::new(AtomicUsize::new(0));
        let counted = fetches.clone();
        let metadata = json!({ "issuer": "https://login.example/tenant/v2.0", "jwks_uri": format!("{base}/discovery/keys") });
        let app = axum::Router::new()
            .route(
                "/tenant/v2.0/.well-known/openid-configuration",
                axum::routing::get(move || {
                    counted.fetch_add(1, Ordering::SeqCst);
                    let metadata = metadata.clone();
                    async move { axum::Json(metadata) }
                }),
            )
            .route(
                "/discovery/keys",
                axum::routing::get(|| async {
                    (
                        [("content-type", "application/json")],
                        include_str!("fixtures/test-only-jwks.json"),
                    )
                }),
            );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (
            format!("{base}/tenant/v2.0/.well-known/openid-configuration"),
            fetches,
        )
    }

    fn rs256(claims: serde_json::Value, kid: Option<&str>) -> String {
        let private =
            EncodingKey::from_rsa_pem(include_bytes!("fixtures/test-only-rsa-private.pem"))
                .unwrap();
        let mut header = Header::new(Algorithm::RS256);
        header.kid = kid.map(str::to_owned);
        encode(&header, &claims, &private).unwrap()
    }

    /// `<openid-config>` as on APIM's validate-jwt page (Microsoft Entra ID): the keys and
    /// the issuer come from the provider's metadata, fetched once and kept.
    #[tokio::test]
    async fn validate_jwt_with_an_openid_provider() {
        let app = spawn().await;
        app.echo_api().await;
        let (metadata_url, fetches) = spawn_provider().await;
        app.policy(
            ECHO_POLICY,
            &format!(
                r#"<policies><inbound><validate-jwt header-name="Authorization" failed-validation-httpcode="401" failed-validation-error-message="Unauthorized. Access token is missing or invalid.">
                <openid-config url="{metadata_url}" />
                <audiences><audience>00001111-aaaa-2222-bbbb-3333cccc4444</audience></audiences>
                <required-claims><claim name="scp" match="any"><value>orders.read</value></claim></required-claims>
                </validate-jwt></inbound></policies>"#
            ),
        )
        .await;
        let good = json!({
            "iss": "https://login.example/tenant/v2.0",
            "aud": "00001111-aaaa-2222-bbbb-3333cccc4444",
            "exp": now() + 600,
            "scp": "orders.read",
        });
        for _ in 0..3 {
            let (status, body) =
                call(&app, Some(&rs256(good.clone(), Some("test-only-key-1")))).await;
            assert_eq!(status, 200, "{body}");
        }
        assert_eq!(
            fetches.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "fetched once, then kept"
        );
        // A token without kid is checked against every key.
        assert_eq!(call(&app, Some(&rs256(good.clone(), None))).await.0, 200);
        // Another issuer than the provider's is refused.
        let mut other_issuer = good.clone();
        other_issuer["iss"] = json!("https://evil.example/");
        let (status, body) = call(&app, Some(&rs256(other_issuer, None))).await;
        assert_eq!(status, 401, "{body}");
        // A key the provider does not publish: refused, and the provider is not asked again
        // within 30 s however many such tokens come.
        for _ in 0..3 {
            assert_eq!(
                call(&app, Some(&rs256(good.clone(), Some("made-up"))))
                    .await
                    .0,
                401
            );
        }
        assert_eq!(fetches.load(std::sync::atomic::Ordering::SeqCst), 1);
        // A shared-secret token is not accepted by an RSA provider.
        assert_eq!(call(&app, Some(&hs256(good, SECRET))).await.0, 401);
    }

    /// `validate-azure-ad-token` (APIM's "Validate that audience and claim are correct",
    /// with the tenant and client id as named values) against the stand-in provider as the
    /// Entra authority: v2.0 and v1.0 tokens of the tenant from an allowed client pass.
    #[tokio::test]
    async fn validate_azure_ad_token_checks_tenant_client_and_audience() {
        let (metadata_url, _) = spawn_provider().await;
        let authority = metadata_url.split("/tenant/").next().unwrap().to_owned();
        let settings = portcullis_gateway::GatewaySettings {
            entra_authority: authority.parse().unwrap(),
            ..portcullis_gateway::GatewaySettings::default()
        };
        let app = crate::helpers::spawn_with(portcullis_store::testing::sqlite(), settings).await;
        app.echo_api().await;
        for (name, value) in [
            ("aad-tenant-id", "tenant"),
            ("aad-client-application-id", "client-1"),
        ] {
            app.put(
                &format!("/services/svc/namedValues/{name}"),
                json!({ "displayName": name, "value": value }),
            )
            .await;
        }
        let example =
            include_str!("../../../policy/tests/apim_docs/validate-azure-ad-token-policy__2.xml");
        app.policy(
            ECHO_POLICY,
            &format!("<policies><inbound><base />{example}</inbound></policies>"),
        )
        .await;
        let v2 = json!({
            "iss": "https://login.example/tenant/v2.0",
            "aud": "svc.localhost",
            "azp": "client-1",
            "ctry": "US",
            "exp": now() + 600,
        });
        let (status, body) = call(&app, Some(&rs256(v2.clone(), Some("test-only-key-1")))).await;
        assert_eq!(status, 200, "{body}");
        let mut v1 = v2.clone();
        v1["iss"] = json!("https://sts.windows.net/tenant/");
        v1.as_object_mut().unwrap().remove("azp");
        v1["appid"] = json!("client-1");
        assert_eq!(call(&app, Some(&rs256(v1, None))).await.0, 200);
        let mut other_client = v2.clone();
        other_client["azp"] = json!("client-2");
        let (status, body) = call(&app, Some(&rs256(other_client, None))).await;
        assert_eq!(status, 401);
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("client-application-ids"),
            "{body}"
        );
        let mut other_country = v2.clone();
        other_country["ctry"] = json!("FR");
        assert_eq!(call(&app, Some(&rs256(other_country, None))).await.0, 401);
        let mut other_audience = v2;
        other_audience["aud"] = json!("elsewhere");
        assert_eq!(call(&app, Some(&rs256(other_audience, None))).await.0, 401);
    }

    /// A provider that cannot be reached refuses the call (401), never lets it through.
    #[tokio::test]
    async fn validate_jwt_refuses_when_the_provider_is_away() {
        let app = spawn().await;
        app.echo_api().await;
        let closed = crate::helpers::closed_port().await;
        app.policy(
            ECHO_POLICY,
            &format!(
                r#"<policies><inbound><validate-jwt header-name="Authorization">
                <openid-config url="http://{closed}/.well-known/openid-configuration" />
                </validate-jwt></inbound></policies>"#
            ),
        )
        .await;
        let token = rs256(
            json!({ "iss": "x", "exp": now() + 600 }),
            Some("test-only-key-1"),
        );
        let (status, body) = call(&app, Some(&token)).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(
            body["message"],
            "JWT Validation Failed: the signing keys could not be obtained."
        );
    }
}

#[tokio::test]
async fn limit_concurrency_refuses_a_second_request_in_flight() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        r#"<policies><backend><limit-concurrency key="@(context.Api.Name)" max-count="1"><forward-request timeout="2" /></limit-concurrency></backend></policies>"#,
    )
    .await;
    let first = get(&app, "/echo/hang", None);
    let second = get(&app, "/echo/hang", None);
    let (first, second) = tokio::join!(first, second);
    let mut statuses = [first.status().as_u16(), second.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [429, 504]);
    // The slot is given back: the next call gets through to the backend again.
    assert_eq!(get(&app, "/echo/fine", None).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn cors_answers_preflights_before_the_key_check_and_decorates_responses() {
    let app = spawn().await;
    let (_, all_key) = product_setup(&app).await;
    app.policy(
        ECHO_POLICY,
        r#"<policies><inbound><cors allow-credentials="true">
            <allowed-origins><origin>https://app.example.com</origin></allowed-origins>
            <allowed-methods preflight-result-max-age="600"><method>GET</method><method>PUT</method></allowed-methods>
            <allowed-headers><header>ocp-apim-subscription-key</header><header>content-type</header></allowed-headers>
            <expose-headers><header>x-request-id</header></expose-headers>
        </cors><base /></inbound></policies>"#,
    )
    .await;
    let preflight = |origin: &'static str, method: &'static str| {
        app.gateway(Method::OPTIONS, "svc.localhost", "/echo/anything")
            .header("Origin", origin)
            .header("Access-Control-Request-Method", method)
            .header(
                "Access-Control-Request-Headers",
                "Ocp-Apim-Subscription-Key",
            )
            .send()
    };
    // No key, no OPTIONS operation: the preflight is still answered.
    let response = preflight("https://app.example.com", "PUT").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(headers["access-control-allow-credentials"], "true");
    assert_eq!(headers["access-control-allow-methods"], "GET, PUT");
    assert_eq!(
        headers["access-control-allow-headers"],
        "Ocp-Apim-Subscription-Key"
    );
    assert_eq!(headers["access-control-max-age"], "600");
    // Unmatched origin or method: an empty 200 without CORS headers.
    for (origin, method) in [
        ("https://evil.example", "GET"),
        ("https://app.example.com", "DELETE"),
    ] {
        let response = preflight(origin, method).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            !response
                .headers()
                .contains_key("access-control-allow-origin")
        );
    }
    // A simple request gets the headers on the backend's response.
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/simple")
        .header("Origin", "https://app.example.com")
        .header("Ocp-Apim-Subscription-Key", &all_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(
        response.headers()["access-control-expose-headers"],
        "x-request-id"
    );
    // The backend's own Vary is kept, with Origin added.
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/vary")
        .header("Origin", "https://app.example.com")
        .header("Ocp-Apim-Subscription-Key", &all_key)
        .send()
        .await
        .unwrap();
    let vary: Vec<&str> = response
        .headers()
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(vary, ["Accept-Encoding", "Origin"]);
}

#[tokio::test]
async fn an_invalid_document_is_refused_at_save_and_the_old_one_stays_live() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        r#"<policies><inbound><ip-filter action="forbid"><address>127.0.0.1</address></ip-filter></inbound></policies>"#,
    )
    .await;
    let (status, body) = app
        .mgmt(
            Method::PUT,
            ECHO_POLICY,
            Some(json!({ "value": "<policies>\n  <inbound>\n    <ip-filter action=\"allow\" />\n    <rate-limit calls=\"many\" renewal-period=\"60\" />\n  </inbound>\n</policies>" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "InvalidPolicy");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("Line 3, column 5: "), "{message}");
    let details = body["error"]["details"].as_array().unwrap();
    assert_eq!(details.len(), 2, "{body}");
    assert!(
        details[1]["message"]
            .as_str()
            .unwrap()
            .starts_with("Line 4, column 24: calls"),
        "{body}"
    );
    // The forbidding document is still the one enforced.
    assert_eq!(
        get(&app, "/echo/x", None).await.status(),
        StatusCode::FORBIDDEN
    );
    let (_, stored) = app.mgmt(Method::GET, ECHO_POLICY, None).await;
    assert!(stored["value"].as_str().unwrap().contains("forbid"));
}

#[tokio::test]
async fn on_error_reshapes_the_error_response() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        r#"<policies>
            <inbound><ip-filter action="forbid"><address>127.0.0.1</address></ip-filter></inbound>
            <on-error><set-header name="x-blocked" exists-action="override"><value>@(context.Request.IpAddress)</value></set-header></on-error>
        </policies>"#,
    )
    .await;
    let response = get(&app, "/echo/x", None).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(response.headers()["x-blocked"], "127.0.0.1");

    app.policy(
        ECHO_POLICY,
        r#"<policies>
            <inbound><set-variable name="n" value="@(int.Parse(&quot;not a number&quot;))" /></inbound>
            <on-error><return-response><set-status code="503" reason="Later" /><set-body>try again later</set-body></return-response></on-error>
        </policies>"#,
    )
    .await;
    let response = get(&app, "/echo/x", None).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.text().await.unwrap(), "try again later");
}

#[tokio::test]
async fn an_expression_that_fails_at_run_time_is_a_500() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        r#"<policies><inbound><set-header name="x-n" exists-action="override"><value>@((string)context.Variables["missing"])</value></set-header></inbound></policies>"#,
    )
    .await;
    let (status, body) = status_json(get(&app, "/echo/x", None).await).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (500, Some("Internal server error"))
    );
}

#[tokio::test]
async fn ip_filter_believes_forwarded_for_only_from_trusted_proxies() {
    let forbid = r#"<policies><inbound><ip-filter action="forbid"><address>203.0.113.7</address></ip-filter></inbound></policies>"#;
    let call = |app: &TestApp, forwarded_for: &'static str| {
        app.gateway(Method::GET, "svc.localhost", "/echo/x")
            .header("X-Forwarded-For", forwarded_for)
            .send()
    };

    // Without trusted proxies a caller cannot pick its address.
    let app = spawn().await;
    app.echo_api().await;
    app.policy(ECHO_POLICY, forbid).await;
    assert_eq!(
        call(&app, "203.0.113.7").await.unwrap().status(),
        StatusCode::OK
    );

    // Behind a trusted proxy (here: loopback) the right-most untrusted entry is the caller.
    let settings = portcullis_gateway::GatewaySettings {
        trusted_proxies: vec!["127.0.0.0/8".parse().unwrap()],
        ..Default::default()
    };
    let app = crate::helpers::spawn_with(portcullis_store::testing::sqlite(), settings).await;
    app.echo_api().await;
    app.policy(ECHO_POLICY, forbid).await;
    assert_eq!(
        call(&app, "203.0.113.7").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&app, "203.0.113.7, 198.51.100.1")
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        call(&app, "198.51.100.1, 203.0.113.7, 127.0.0.9")
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_proxy_hop_is_forwarded_and_the_caller_recorded() {
    let settings = portcullis_gateway::GatewaySettings {
        trusted_proxies: vec!["127.0.0.0/8".parse().unwrap()],
        ..Default::default()
    };
    let app = crate::helpers::spawn_with(portcullis_store::testing::sqlite(), settings).await;
    app.echo_api().await;
    let response = app
        .gateway(Method::GET, "svc.localhost", "/echo/x")
        .header("X-Forwarded-For", "198.51.100.1")
        .send()
        .await
        .unwrap();
    let (status, seen) = crate::helpers::status_json(response).await;
    assert_eq!(status, 200);
    // The load balancer's hop (the socket peer, 127.0.0.1) is added, not the caller again.
    assert_eq!(
        seen["headers"]["x-forwarded-for"],
        "198.51.100.1, 127.0.0.1"
    );
    // Analytics records the caller, not the proxy.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let recent = app
            .app
            .control
            .store()
            .recent_calls(
                "svc",
                &portcullis_store::RecentFilter {
                    limit: 10,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        if let Some(call) = recent.first() {
            assert_eq!(call.ip, "198.51.100.1");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the call was not recorded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// `rate-limit` with per-API and per-operation limits inside (APIM's rate-limit page): a
/// call counts against the policy's limit, its API's and its operation's, and the first
/// that is full refuses it.
#[tokio::test]
async fn nested_rate_limits_count_per_api_and_per_operation() {
    let app = spawn().await;
    let (product_key, _) = product_setup(&app).await;
    app.policy(
        "/services/svc/products/calc/policy",
        r#"<policies><inbound><base />
            <rate-limit calls="10" renewal-period="60">
                <api name="echo" calls="3" renewal-period="60">
                    <operation name="post-all" calls="1" renewal-period="60" />
                </api>
                <api name="elsewhere" calls="1" renewal-period="60" />
            </rate-limit>
        </inbound></policies>"#,
    )
    .await;
    let post = || {
        app.gateway(Method::POST, "svc.localhost", "/echo/p")
            .header("Ocp-Apim-Subscription-Key", &product_key)
            .send()
    };
    assert_eq!(post().await.unwrap().status(), StatusCode::OK);
    // The operation's limit (1) is full; the API has counted 2.
    assert_eq!(
        post().await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        get(&app, "/echo/g", Some(&product_key)).await.status(),
        StatusCode::OK
    );
    // The API's limit (3) is full; another API's limit never applied.
    let refused = get(&app, "/echo/g", Some(&product_key)).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
}

/// A nested element that names nothing, or has no limit, is refused at save time.
#[tokio::test]
async fn nested_limits_are_checked_when_saved() {
    let app = spawn().await;
    product_setup(&app).await;
    for (document, says) in [
        (
            r#"<rate-limit calls="5" renewal-period="60"><api calls="1" renewal-period="60" /></rate-limit>"#,
            "needs a name or an id",
        ),
        (
            r#"<rate-limit calls="5" renewal-period="60"><api name="echo" renewal-period="60" /></rate-limit>"#,
            "needs calls",
        ),
        (
            r#"<rate-limit calls="5" renewal-period="60"><api name="echo" calls="1" renewal-period="60" bandwidth="5" /></rate-limit>"#,
            "bandwidth",
        ),
        (
            r#"<quota renewal-period="60"><api name="echo" calls="1" renewal-period="60" /></quota>"#,
            "needs calls or bandwidth",
        ),
    ] {
        let (status, body) = app
            .mgmt(
                Method::PUT,
                "/services/svc/products/calc/policy",
                Some(json!({ "format": "xml", "value": format!("<policies><inbound>{document}</inbound></policies>") })),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{document}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{document}: {body}");
    }
}

/// `quota` with `bandwidth` (kilobytes of request and response bodies): the call that uses
/// the quota up is served whole; the next is refused with APIM's bandwidth message. A
/// nested per-operation quota counts only that operation's calls.
#[tokio::test]
async fn bandwidth_quotas_count_the_bytes_of_each_call() {
    let app = spawn().await;
    let (product_key, _) = product_setup(&app).await;
    app.policy(
        "/services/svc/products/calc/policy",
        r#"<policies><inbound><base />
            <quota bandwidth="3" renewal-period="3600">
                <api name="echo"><operation name="post-all" calls="1" renewal-period="3600" /></api>
            </quota>
        </inbound></policies>"#,
    )
    .await;
    // 2 KiB out: within 3 KiB.
    let first = get(&app, "/echo/large/2048", Some(&product_key)).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.bytes().await.unwrap().len(), 2048);
    // The nested operation quota: one POST.
    let post = || {
        app.gateway(Method::POST, "svc.localhost", "/echo/p")
            .header("Ocp-Apim-Subscription-Key", &product_key)
            .send()
    };
    assert_eq!(post().await.unwrap().status(), StatusCode::OK);
    assert_eq!(post().await.unwrap().status(), StatusCode::FORBIDDEN);
    // Another 2 KiB: 4 KiB in all, over the quota, but this call was allowed when it came.
    let second = get(&app, "/echo/large/2048", Some(&product_key)).await;
    assert_eq!(second.status(), StatusCode::OK);
    assert_eq!(second.bytes().await.unwrap().len(), 2048);
    // The bytes are added once the response is over; the next call is refused.
    let mut refused = None;
    for _ in 0..50 {
        let response = get(&app, "/echo/small", Some(&product_key)).await;
        if response.status() == StatusCode::FORBIDDEN {
            refused = Some(response);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let refused = refused.expect("the bandwidth quota refuses once it is used up");
    assert!(refused.headers().contains_key("retry-after"));
    let (_, body) = status_json(refused).await;
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("Out of bandwidth quota. Quota will be replenished in "),
        "{message}"
    );
}

/// An `increment-condition` that reads the response (APIM's rate-limit-by-key example counts
/// only successful calls) is decided once the response is known: failures do not use up
/// the limit, and a full limit refuses every call.
#[tokio::test]
async fn increment_conditions_on_the_response_count_after_it() {
    let app = spawn().await;
    app.echo_api().await;
    app.policy(
        ECHO_POLICY,
        r#"<policies><inbound><rate-limit-by-key calls="2" renewal-period="60"
            increment-condition="@(context.Response.StatusCode == 200)"
            counter-key="@(context.Request.IpAddress)" remaining-calls-header-name="x-left" /><base /></inbound></policies>"#,
    )
    .await;
    for _ in 0..3 {
        let response = get(&app, "/echo/counted/rl/missing", None).await;
        assert_eq!(
            response.status(),
            StatusCode::NOT_FOUND,
            "a 404 is not counted"
        );
    }
    let first = get(&app, "/echo/fine", None).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers()["x-left"], "1");
    assert_eq!(get(&app, "/echo/fine", None).await.status(), StatusCode::OK);
    assert_eq!(
        get(&app, "/echo/fine", None).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        get(&app, "/echo/counted/rl/missing", None).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a full limit refuses whatever the call would answer"
    );

    // The same for quota-by-key.
    app.policy(
        ECHO_POLICY,
        r#"<policies><inbound><quota-by-key calls="1" renewal-period="3600"
            increment-condition="@(context.Response.StatusCode &lt; 400)"
            counter-key="quota-by-response" /><base /></inbound></policies>"#,
    )
    .await;
    for _ in 0..2 {
        assert_eq!(
            get(&app, "/echo/counted/q/missing", None).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(get(&app, "/echo/fine", None).await.status(), StatusCode::OK);
    assert_eq!(
        get(&app, "/echo/fine", None).await.status(),
        StatusCode::FORBIDDEN
    );
}
