//! The store against real databases: a fresh SQLite file, and a fresh PostgreSQL database
//! when `PORTCULLIS_TEST_POSTGRES_URL` is set (CI sets it). Every test runs on each engine.

use portcullis_domain::model::{
    ApiSettings, OperationSettings, ProductSettings, SubscriptionSettings,
};
use portcullis_domain::*;
use portcullis_store::{Actor, DeleteProduct, KeySlot, Saved, Store, StoreError, testing};

fn actor() -> Actor {
    Actor::Token("test".into())
}

fn svc(name: &str) -> ServiceName {
    ServiceName::parse(name).unwrap()
}

fn api_settings(path: &str) -> ApiSettings {
    ApiSettings {
        display_name: DisplayName::parse("Calculator").unwrap(),
        service_url: ServiceUrl::parse("http://127.0.0.1:7071").unwrap(),
        path: ApiSuffix::parse(path).unwrap(),
        subscription_required: true,
        key_header_name: KeyHeaderName::default(),
        key_query_param_name: KeyQueryParamName::default(),
        forward_subscription_key: false,
        description: String::new(),
    }
}

fn product_settings(subscription_required: bool) -> ProductSettings {
    ProductSettings {
        display_name: DisplayName::parse("Calculator").unwrap(),
        description: String::new(),
        subscription_required,
        approval_required: false,
        state: ProductState::Published,
    }
}

fn subscription_settings(scope: &str) -> SubscriptionSettings {
    SubscriptionSettings {
        display_name: DisplayName::parse("Tester").unwrap(),
        scope: SubscriptionScope::parse(scope).unwrap(),
        state: SubscriptionState::Active,
    }
}

/// A store with service `flowdemo` holding API `calculator` (suffix `calc`).
async fn seeded(store: &Store) {
    let service = svc("flowdemo");
    store
        .put_service(
            &actor(),
            &service,
            DisplayName::parse("Flow demo").unwrap(),
            None,
        )
        .await
        .unwrap();
    store
        .put_api(
            &actor(),
            &service,
            &ApiName::parse("calculator").unwrap(),
            api_settings("calc"),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn first_service_is_default_and_the_flag_moves() {
    for db in testing::all().await {
        let store = db.store().await;
        let name = |n| DisplayName::parse(n).unwrap();
        assert_eq!(
            store
                .put_service(&actor(), &svc("one"), name("One"), None)
                .await
                .unwrap(),
            Saved::Created
        );
        store
            .put_service(&actor(), &svc("two"), name("Two"), None)
            .await
            .unwrap();
        assert!(
            store
                .get_service(&svc("one"))
                .await
                .unwrap()
                .settings
                .is_default,
            "{}",
            db.label
        );
        assert!(
            !store
                .get_service(&svc("two"))
                .await
                .unwrap()
                .settings
                .is_default
        );

        store
            .put_service(&actor(), &svc("two"), name("Two"), Some(true))
            .await
            .unwrap();
        assert!(
            !store
                .get_service(&svc("one"))
                .await
                .unwrap()
                .settings
                .is_default
        );

        store.delete_service(&actor(), &svc("two")).await.unwrap();
        assert!(
            store
                .get_service(&svc("one"))
                .await
                .unwrap()
                .settings
                .is_default
        );
        assert!(matches!(
            store.get_service(&svc("two")).await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(store.list_services().await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn url_suffixes_are_unique_without_regard_to_case() {
    for db in testing::all().await {
        let store = db.store().await;
        seeded(&store).await;
        let service = svc("flowdemo");
        let other = ApiName::parse("other").unwrap();
        let err = store
            .put_api(&actor(), &service, &other, api_settings("CALC"))
            .await
            .unwrap_err();
        let StoreError::Invalid(err) = err else {
            panic!("{}: {err:?}", db.label)
        };
        assert_eq!((err.field.as_str(), err.code), ("path", "PathInUse"));
        assert!(err.message.contains("calculator"));
        // Re-saving the owner with its own suffix is an update, not a collision.
        let saved = store
            .put_api(
                &actor(),
                &service,
                &ApiName::parse("calculator").unwrap(),
                api_settings("Calc"),
            )
            .await
            .unwrap();
        assert_eq!(saved, Saved::Updated);
        assert!(
            store.list_apis(&service).await.unwrap().len() == 1,
            "nothing was saved"
        );
    }
}

#[tokio::test]
async fn operations_with_the_same_method_and_shape_are_refused() {
    for db in testing::all().await {
        let store = db.store().await;
        seeded(&store).await;
        let (service, api) = (svc("flowdemo"), ApiName::parse("calculator").unwrap());
        let op = |template: &str, method: &str| OperationSettings {
            display_name: DisplayName::parse("Op").unwrap(),
            method: HttpMethod::parse(method).unwrap(),
            url_template: UrlTemplate::parse(template).unwrap(),
            responses: Vec::new(),
            description: String::new(),
            template_parameters: Vec::new(),
            request: Default::default(),
        };
        store
            .put_operation(
                &actor(),
                &service,
                &api,
                &OperationName::parse("get-user").unwrap(),
                op("/users/{id}", "GET"),
            )
            .await
            .unwrap();
        let err = store
            .put_operation(
                &actor(),
                &service,
                &api,
                &OperationName::parse("get-user-2").unwrap(),
                op("/Users/{name}", "get"),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Invalid(ref e) if e.code == "OperationExists"),
            "{err:?}"
        );
        store
            .put_operation(
                &actor(),
                &service,
                &api,
                &OperationName::parse("put-user").unwrap(),
                op("/users/{id}", "PUT"),
            )
            .await
            .unwrap();
        assert_eq!(
            store.list_operations(&service, &api).await.unwrap().len(),
            2,
            "{}",
            db.label
        );
    }
}

#[tokio::test]
async fn products_link_apis_and_guard_their_subscriptions() {
    for db in testing::all().await {
        let store = db.store().await;
        seeded(&store).await;
        let service = svc("flowdemo");
        let api = ApiName::parse("calculator").unwrap();
        let (open_a, open_b) = (
            ProductName::parse("open-a").unwrap(),
            ProductName::parse("open-b").unwrap(),
        );
        store
            .put_product(&actor(), &service, &open_a, product_settings(false))
            .await
            .unwrap();
        store
            .put_product(&actor(), &service, &open_b, product_settings(true))
            .await
            .unwrap();
        store
            .link_product_api(&actor(), &service, &open_a, &api)
            .await
            .unwrap();
        store
            .link_product_api(&actor(), &service, &open_b, &api)
            .await
            .unwrap();
        // Opening the second product would put the API in two open products.
        let err = store
            .put_product(&actor(), &service, &open_b, product_settings(false))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Invalid(ref e) if e.code == "OpenProductConflict"),
            "{err:?}"
        );
        assert_eq!(
            store.get_product(&service, &open_b).await.unwrap().apis,
            vec![api.clone()]
        );

        let sid = SubscriptionName::parse("tester").unwrap();
        store
            .put_subscription(
                &actor(),
                &service,
                &sid,
                subscription_settings("/products/open-b"),
            )
            .await
            .unwrap();
        let err = store
            .delete_product(
                &actor(),
                &service,
                &open_b,
                DeleteProduct::KeepSubscriptions,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Conflict {
                    code: "ProductHasSubscriptions",
                    ..
                }
            ),
            "{err:?}"
        );
        store
            .delete_product(
                &actor(),
                &service,
                &open_b,
                DeleteProduct::DeleteSubscriptions,
            )
            .await
            .unwrap();
        assert!(
            store.list_subscriptions(&service).await.unwrap().is_empty(),
            "{}",
            db.label
        );

        store
            .unlink_product_api(&actor(), &service, &open_a, &api)
            .await
            .unwrap();
        assert!(
            store
                .get_product(&service, &open_a)
                .await
                .unwrap()
                .apis
                .is_empty()
        );
        assert!(matches!(
            store
                .unlink_product_api(&actor(), &service, &open_a, &api)
                .await,
            Err(StoreError::NotFound(_))
        ));
    }
}

#[tokio::test]
async fn subscriptions_get_keys_keep_them_and_regenerate_one() {
    for db in testing::all().await {
        let store = db.store().await;
        seeded(&store).await;
        let service = svc("flowdemo");
        let sid = SubscriptionName::parse("tester").unwrap();
        store
            .put_subscription(
                &actor(),
                &service,
                &sid,
                subscription_settings("/apis/calculator"),
            )
            .await
            .unwrap();
        let first = store.get_subscription(&service, &sid).await.unwrap();
        assert_ne!(first.primary_key, first.secondary_key);

        let mut suspended = subscription_settings("/apis");
        suspended.state = SubscriptionState::Suspended;
        store
            .put_subscription(&actor(), &service, &sid, suspended)
            .await
            .unwrap();
        let second = store.get_subscription(&service, &sid).await.unwrap();
        assert_eq!(
            second.primary_key, first.primary_key,
            "an update keeps the keys"
        );
        assert_eq!(second.settings.scope, SubscriptionScope::AllApis);
        assert_eq!(second.settings.state, SubscriptionState::Suspended);

        store
            .regenerate_key(&actor(), &service, &sid, KeySlot::Primary)
            .await
            .unwrap();
        let third = store.get_subscription(&service, &sid).await.unwrap();
        assert_ne!(third.primary_key, first.primary_key);
        assert_eq!(third.secondary_key, first.secondary_key, "{}", db.label);

        let err = store
            .put_subscription(
                &actor(),
                &service,
                &SubscriptionName::parse("x").unwrap(),
                subscription_settings("/products/nope"),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Invalid(ref e) if e.field == "scope"),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn deleting_an_api_takes_its_operations_links_and_scoped_subscriptions() {
    for db in testing::all().await {
        let store = db.store().await;
        seeded(&store).await;
        let service = svc("flowdemo");
        let api = ApiName::parse("calculator").unwrap();
        let product = ProductName::parse("p").unwrap();
        store
            .put_product(&actor(), &service, &product, product_settings(true))
            .await
            .unwrap();
        store
            .link_product_api(&actor(), &service, &product, &api)
            .await
            .unwrap();
        store
            .put_subscription(
                &actor(),
                &service,
                &SubscriptionName::parse("api-key").unwrap(),
                subscription_settings("/apis/calculator"),
            )
            .await
            .unwrap();
        store
            .put_subscription(
                &actor(),
                &service,
                &SubscriptionName::parse("all-key").unwrap(),
                subscription_settings("/apis"),
            )
            .await
            .unwrap();
        store
            .put_policy(
                &actor(),
                &service,
                &PolicyScope::Api(api.clone()),
                PolicyXml::parse("<policies/>", &PolicyScope::Global).unwrap(),
            )
            .await
            .unwrap();
        store.delete_api(&actor(), &service, &api).await.unwrap();
        let subscriptions = store.list_subscriptions(&service).await.unwrap();
        assert_eq!(subscriptions.len(), 1, "{}", db.label);
        assert_eq!(subscriptions[0].name.as_str(), "all-key");
        assert!(
            store
                .get_product(&service, &product)
                .await
                .unwrap()
                .apis
                .is_empty()
        );
        let model = store.load_config().await.unwrap();
        assert!(model.services[0].apis.is_empty());
        assert!(model.services[0].policies.is_empty());
    }
}

#[tokio::test]
async fn every_write_is_audited_and_bumps_the_revision() {
    for db in testing::all().await {
        let store = db.store().await;
        let before = store.revision().await.unwrap();
        seeded(&store).await;
        let service = svc("flowdemo");
        let sid = SubscriptionName::parse("tester").unwrap();
        store
            .put_subscription(
                &Actor::Admin("ada".into()),
                &service,
                &sid,
                subscription_settings("/apis"),
            )
            .await
            .unwrap();
        store
            .regenerate_key(&actor(), &service, &sid, KeySlot::Secondary)
            .await
            .unwrap();
        assert_eq!(store.revision().await.unwrap(), before + 4, "{}", db.label);

        let log = store.list_audit(&service, None, 100).await.unwrap();
        let actions: Vec<_> = log
            .iter()
            .map(|e| (e.action.as_str(), e.resource.as_str()))
            .collect();
        assert_eq!(
            actions,
            vec![
                (
                    "regenerateSecondaryKey",
                    "/services/flowdemo/subscriptions/tester"
                ),
                ("create", "/services/flowdemo/subscriptions/tester"),
                ("create", "/services/flowdemo/apis/calculator"),
                ("create", "/services/flowdemo"),
            ]
        );
        assert_eq!(log[1].actor, "admin:ada");
        assert_eq!(log[2].after.as_ref().unwrap()["path"], "calc");
        let keys = store.get_subscription(&service, &sid).await.unwrap();
        let text = serde_json::to_string(&log).unwrap();
        assert!(
            !text.contains(keys.primary_key.expose()),
            "keys never reach the audit log"
        );

        let filtered = store
            .list_audit(&service, Some("/services/flowdemo/apis"), 100)
            .await
            .unwrap();
        assert_eq!(filtered.len(), 1);

        // An update records what it replaced.
        let mut renamed = api_settings("calc2");
        renamed.subscription_required = false;
        store
            .put_api(
                &actor(),
                &service,
                &ApiName::parse("calculator").unwrap(),
                renamed,
            )
            .await
            .unwrap();
        let latest = &store.list_audit(&service, None, 1).await.unwrap()[0];
        assert_eq!(latest.before.as_ref().unwrap()["path"], "calc");
        assert_eq!(latest.after.as_ref().unwrap()["path"], "calc2");
        assert_eq!(
            latest.after.as_ref().unwrap()["subscriptionRequired"],
            false
        );
    }
}

#[tokio::test]
async fn load_config_returns_the_whole_model() {
    for db in testing::all().await {
        let store = db.store().await;
        seeded(&store).await;
        let service = svc("flowdemo");
        let api = ApiName::parse("calculator").unwrap();
        let op = OperationName::parse("add").unwrap();
        store
            .put_operation(
                &actor(),
                &service,
                &api,
                &op,
                OperationSettings {
                    display_name: DisplayName::parse("Add").unwrap(),
                    method: HttpMethod::parse("POST").unwrap(),
                    url_template: UrlTemplate::parse("/").unwrap(),
                    responses: Vec::new(),
                    description: String::new(),
                    template_parameters: Vec::new(),
                    request: Default::default(),
                },
            )
            .await
            .unwrap();
        let product = ProductName::parse("calc").unwrap();
        store
            .put_product(&actor(), &service, &product, product_settings(true))
            .await
            .unwrap();
        store
            .link_product_api(&actor(), &service, &product, &api)
            .await
            .unwrap();
        store
            .put_subscription(
                &actor(),
                &service,
                &SubscriptionName::parse("s").unwrap(),
                subscription_settings("/products/calc"),
            )
            .await
            .unwrap();
        store
            .put_policy(
                &actor(),
                &service,
                &PolicyScope::Operation(api.clone(), op.clone()),
                PolicyXml::parse(
                    "<policies><inbound><base/></inbound></policies>",
                    &PolicyScope::Global,
                )
                .unwrap(),
            )
            .await
            .unwrap();

        let model = store.load_config().await.unwrap();
        assert_eq!(
            model.revision,
            store.revision().await.unwrap(),
            "{}",
            db.label
        );
        let loaded = &model.services[0];
        assert_eq!(loaded.apis[0].operations[0].name, op);
        assert_eq!(loaded.products[0].apis, vec![api.clone()]);
        assert_eq!(
            loaded.subscriptions[0].settings.scope,
            SubscriptionScope::Product(product.clone())
        );
        assert_eq!(loaded.policies[0].scope, PolicyScope::Operation(api, op));
    }
}

#[tokio::test]
async fn a_reader_holding_the_subscriptions_reads_them_again_only_after_they_change() {
    use portcullis_domain::model::SubscriptionsRead::{All, UnchangedSinceGrantsRevision};
    for db in testing::all().await {
        let store = db.store().await;
        seeded(&store).await;
        let service = svc("flowdemo");
        let api = ApiName::parse("calculator").unwrap();
        store
            .put_subscription(
                &actor(),
                &service,
                &SubscriptionName::parse("alice").unwrap(),
                subscription_settings("/apis/calculator"),
            )
            .await
            .unwrap();
        let full = store.load_config().await.unwrap();
        assert_eq!(full.subscriptions, All, "{}", db.label);
        assert_eq!(full.grants_revision, full.revision);
        assert_eq!(full.services[0].subscriptions.len(), 1);
        let held = full.grants_revision;
        // What a reader holding subscriptions as of `revision` (`None`: none) is handed: the
        // model, and the names of the subscriptions streamed to it.
        let read_since = async |revision: Option<i64>| {
            let mut streamed = Vec::new();
            let model = store
                .load_config_streaming(revision, &mut |service, subscription| {
                    streamed.push(format!("{service}/{}", subscription.name));
                })
                .await
                .unwrap();
            assert!(model.services.iter().all(|s| s.subscriptions.is_empty()));
            (model, streamed)
        };
        let (model, streamed) = read_since(None).await;
        assert_eq!(model.subscriptions, All);
        assert_eq!(streamed, ["flowdemo/alice"]);

        // Policies, operations and new APIs leave the subscriptions as they were.
        store
            .put_policy(
                &actor(),
                &service,
                &PolicyScope::Api(api.clone()),
                PolicyXml::parse("<policies/>", &PolicyScope::Global).unwrap(),
            )
            .await
            .unwrap();
        store
            .put_api(
                &actor(),
                &service,
                &ApiName::parse("other").unwrap(),
                api_settings("other"),
            )
            .await
            .unwrap();
        let (light, streamed) = read_since(Some(held)).await;
        assert_eq!(light.subscriptions, UnchangedSinceGrantsRevision);
        assert_eq!((light.grants_revision, light.revision), (held, held + 2));
        assert!(streamed.is_empty());
        assert_eq!(light.services[0].apis.len(), 2);
        assert_eq!(light.services[0].policies.len(), 1);

        // A reader holding older subscriptions gets them all.
        let (older, streamed) = read_since(Some(held - 1)).await;
        assert_eq!(older.subscriptions, All);
        assert_eq!(streamed, ["flowdemo/alice"]);

        // A key regenerated, and an API deleted (its subscriptions go with it): both count.
        store
            .regenerate_key(
                &actor(),
                &service,
                &SubscriptionName::parse("alice").unwrap(),
                KeySlot::Primary,
            )
            .await
            .unwrap();
        let (after_key, streamed) = read_since(Some(held)).await;
        assert_eq!(after_key.subscriptions, All);
        assert_eq!(streamed, ["flowdemo/alice"]);
        assert_eq!(after_key.grants_revision, after_key.revision);
        store.delete_api(&actor(), &service, &api).await.unwrap();
        let (after_delete, streamed) = read_since(Some(after_key.grants_revision)).await;
        assert_eq!(after_delete.subscriptions, All);
        assert!(streamed.is_empty());
    }
}

#[tokio::test]
async fn policies_are_stored_per_scope() {
    for db in testing::all().await {
        let store = db.store().await;
        seeded(&store).await;
        let service = svc("flowdemo");
        let scope = PolicyScope::Global;
        assert_eq!(store.get_policy(&service, &scope).await.unwrap(), None);
        let xml =
            PolicyXml::parse("<policies><inbound/></policies>", &PolicyScope::Global).unwrap();
        assert_eq!(
            store
                .put_policy(&actor(), &service, &scope, xml.clone())
                .await
                .unwrap(),
            Saved::Created
        );
        assert_eq!(
            store.get_policy(&service, &scope).await.unwrap(),
            Some(xml),
            "{}",
            db.label
        );
        store
            .delete_policy(&actor(), &service, &scope)
            .await
            .unwrap();
        assert_eq!(store.get_policy(&service, &scope).await.unwrap(), None);
        let missing = PolicyScope::Product(ProductName::parse("nope").unwrap());
        assert!(matches!(
            store.get_policy(&service, &missing).await,
            Err(StoreError::NotFound(_))
        ));
    }
}

#[tokio::test]
async fn tokens_expire_and_can_be_revoked() {
    for db in testing::all().await {
        let store = db.store().await;
        let lasting = store.create_token("lasting").await.unwrap();
        let expired = store
            .create_token_expiring("short", Some(chrono::Duration::milliseconds(-1)))
            .await
            .unwrap();
        let dated = store
            .create_token_expiring("dated", Some(chrono::Duration::days(30)))
            .await
            .unwrap();
        let authenticates = |token: String| {
            let store = store.clone();
            async move { store.authenticate_token(&token).await.unwrap().is_some() }
        };
        assert!(authenticates(lasting.clone()).await, "{}", db.label);
        assert!(
            !authenticates(expired).await,
            "{}: an expired token",
            db.label
        );
        assert!(authenticates(dated).await, "{}", db.label);

        let listed = store.list_tokens().await.unwrap();
        let names: Vec<_> = listed.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["lasting", "short", "dated"], "{}", db.label);
        assert!(listed[0].expires_at.is_none());
        assert!(
            listed[2]
                .expires_at
                .is_some_and(|at| at > chrono::Utc::now())
        );

        assert_eq!(store.revoke_tokens("lasting").await.unwrap(), 1);
        assert!(
            !authenticates(lasting).await,
            "{}: a revoked token",
            db.label
        );
        assert_eq!(store.revoke_tokens("nobody").await.unwrap(), 0);
    }
}

#[tokio::test]
async fn tokens_and_administrators() {
    for db in testing::all().await {
        let store = db.store().await;
        let token = store.create_token("ci").await.unwrap();
        assert!(token.starts_with("pcm_") && token.len() == 68);
        assert_eq!(
            store
                .authenticate_token(&token)
                .await
                .unwrap()
                .unwrap()
                .name,
            "ci"
        );
        assert_eq!(store.authenticate_token("pcm_0000").await.unwrap(), None);
        assert_eq!(store.authenticate_token("").await.unwrap(), None);

        store
            .add_admin("ada", "correct horse battery")
            .await
            .unwrap();
        assert!(
            store
                .verify_admin("ada", "correct horse battery")
                .await
                .unwrap()
        );
        assert!(
            !store
                .verify_admin("ada", "wrong horse battery")
                .await
                .unwrap()
        );
        assert!(
            !store
                .verify_admin("bob", "correct horse battery")
                .await
                .unwrap()
        );
        assert!(matches!(
            store.add_admin("ada", "another long password").await,
            Err(StoreError::Invalid(ref e)) if e.code == "UsernameTaken"
        ));
        assert!(matches!(
            store.add_admin("bob", "short").await,
            Err(StoreError::Invalid(ref e)) if e.field == "password"
        ));
        assert_eq!(store.admin_count().await.unwrap(), 1, "{}", db.label);
    }
}

#[tokio::test]
async fn reopening_a_database_keeps_everything() {
    let db = testing::sqlite();
    {
        let store = db.store().await;
        seeded(&store).await;
        store.close().await.unwrap();
    }
    let store = db.store().await;
    assert_eq!(store.list_apis(&svc("flowdemo")).await.unwrap().len(), 1);
}

#[tokio::test]
async fn sessions_survive_reopening_and_expire() {
    use tower_sessions_core::session::{Id, Record};
    use tower_sessions_core::session_store::SessionStore;
    for db in testing::all().await {
        let store = db.store().await;
        let sessions = store.session_records();
        let mut live = Record {
            id: Id::default(),
            data: [("admin".to_owned(), serde_json::json!("ada"))]
                .into_iter()
                .collect(),
            expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
        };
        sessions.create(&mut live).await.unwrap();
        let mut stale = Record {
            id: Id::default(),
            data: Default::default(),
            expiry_date: time::OffsetDateTime::now_utc() - time::Duration::seconds(1),
        };
        sessions.create(&mut stale).await.unwrap();

        let reopened = db.store().await.session_records();
        let loaded = reopened
            .load(&live.id)
            .await
            .unwrap()
            .expect("the live session");
        assert_eq!(loaded.data["admin"], "ada", "{}", db.label);
        assert!(
            reopened.load(&stale.id).await.unwrap().is_none(),
            "expired sessions do not load"
        );
        assert_eq!(reopened.delete_expired().await.unwrap(), 1);

        live.data.insert("admin".into(), serde_json::json!("bob"));
        reopened.save(&live).await.unwrap();
        assert_eq!(
            reopened.load(&live.id).await.unwrap().unwrap().data["admin"],
            "bob"
        );
        reopened.delete(&live.id).await.unwrap();
        assert!(reopened.load(&live.id).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn nodes_starting_together_on_a_new_database_migrate_once() {
    let Some(db) = testing::postgres().await else {
        eprintln!("skipped: PORTCULLIS_TEST_POSTGRES_URL is not set");
        return;
    };
    // Three nodes open the same empty database at the same moment.
    let (first, second, third) = tokio::join!(
        Store::connect(&db.url),
        Store::connect(&db.url),
        Store::connect(&db.url)
    );
    for opened in [first, second, third] {
        let store = opened.expect("every node opens the database");
        assert_eq!(store.revision().await.unwrap(), 0);
    }
}

fn operation_settings(method: &str, template: &str) -> OperationSettings {
    OperationSettings {
        display_name: DisplayName::parse("Add").unwrap(),
        method: HttpMethod::parse(method).unwrap(),
        url_template: UrlTemplate::parse(template).unwrap(),
        responses: Vec::new(),
        description: String::new(),
        template_parameters: Vec::new(),
        request: Default::default(),
    }
}

#[tokio::test]
async fn renaming_an_operation_keeps_its_policy_in_one_write() {
    for db in testing::all().await {
        let store = db.store().await;
        seeded(&store).await;
        let service = svc("flowdemo");
        let api = ApiName::parse("calculator").unwrap();
        let old = OperationName::parse("add").unwrap();
        let new = OperationName::parse("add-numbers").unwrap();
        store
            .put_operation(
                &actor(),
                &service,
                &api,
                &old,
                operation_settings("GET", "/add"),
            )
            .await
            .unwrap();
        let scope = |name: &OperationName| PolicyScope::Operation(api.clone(), name.clone());
        let xml = PolicyXml::parse(
            "<policies><inbound><base /><set-header name=\"x-kept\" exists-action=\"override\"><value>1</value></set-header></inbound></policies>",
            &scope(&old),
        )
        .unwrap();
        store
            .put_policy(&actor(), &service, &scope(&old), xml.clone())
            .await
            .unwrap();
        let revision = store.revision().await.unwrap();

        let saved = store
            .rename_operation(
                &actor(),
                &service,
                &api,
                &old,
                &new,
                operation_settings("POST", "/add/{a}"),
            )
            .await
            .unwrap();
        assert_eq!(saved, Saved::Updated, "{}", db.label);
        assert_eq!(
            store.revision().await.unwrap(),
            revision + 1,
            "{}",
            db.label
        );
        assert_eq!(
            store.get_policy(&service, &scope(&new)).await.unwrap(),
            Some(xml),
            "{}: the policy went with the rename",
            db.label
        );
        let renamed = store.get_operation(&service, &api, &new).await.unwrap();
        assert_eq!(renamed.settings.url_template.as_str(), "/add/{a}");
        assert!(store.get_operation(&service, &api, &old).await.is_err());
        let audit = store.list_audit(&service, None, 1).await.unwrap();
        assert_eq!(audit[0].action, "rename", "{}", db.label);
        assert_eq!(audit[0].before.as_ref().unwrap()["name"], "add");

        // A rename onto a name in use, or of an operation that is gone, changes nothing.
        store
            .put_operation(
                &actor(),
                &service,
                &api,
                &old,
                operation_settings("GET", "/other"),
            )
            .await
            .unwrap();
        let revision = store.revision().await.unwrap();
        let taken = store
            .rename_operation(
                &actor(),
                &service,
                &api,
                &old,
                &new,
                operation_settings("GET", "/x"),
            )
            .await;
        assert!(
            matches!(&taken, Err(StoreError::Invalid(e)) if e.field == "name"),
            "{taken:?}"
        );
        let gone = OperationName::parse("gone").unwrap();
        let missing = store
            .rename_operation(
                &actor(),
                &service,
                &api,
                &gone,
                &gone.clone(),
                operation_settings("GET", "/y"),
            )
            .await;
        assert!(
            missing.is_ok(),
            "renaming onto the same name is a plain save: {missing:?}"
        );
        assert_eq!(
            store.revision().await.unwrap(),
            revision + 1,
            "{}",
            db.label
        );
    }
}

#[tokio::test]
async fn creating_a_name_that_exists_is_refused_not_replaced() {
    for db in testing::all().await {
        let store = db.store().await;
        seeded(&store).await;
        let service = svc("flowdemo");
        let api = ApiName::parse("calculator").unwrap();
        let name = OperationName::parse("add").unwrap();
        store
            .create_operation(
                &actor(),
                &service,
                &api,
                &name,
                operation_settings("GET", "/add"),
            )
            .await
            .unwrap();
        let again = store
            .create_operation(
                &actor(),
                &service,
                &api,
                &name,
                operation_settings("GET", "/sum"),
            )
            .await;
        assert!(
            matches!(&again, Err(StoreError::Invalid(e)) if e.field == "name"),
            "{again:?}"
        );
        let kept = store.get_operation(&service, &api, &name).await.unwrap();
        assert_eq!(kept.settings.url_template.as_str(), "/add", "{}", db.label);

        let refused = |result: Result<Saved, StoreError>| matches!(&result, Err(StoreError::Invalid(e)) if e.field == "name");
        let revision = store.revision().await.unwrap();
        assert!(refused(
            store
                .create_service(
                    &actor(),
                    &service,
                    DisplayName::parse("Again").unwrap(),
                    None
                )
                .await
        ));
        assert!(refused(
            store
                .create_api(&actor(), &service, &api, api_settings("elsewhere"))
                .await
        ));
        let sid = SubscriptionName::parse("tester").unwrap();
        store
            .create_subscription(&actor(), &service, &sid, subscription_settings("/apis"))
            .await
            .unwrap();
        assert!(refused(
            store
                .create_subscription(&actor(), &service, &sid, subscription_settings("/apis"))
                .await
        ));
        assert_eq!(
            store.revision().await.unwrap(),
            revision + 1,
            "{}",
            db.label
        );
        assert_eq!(
            store
                .get_service(&service)
                .await
                .unwrap()
                .settings
                .display_name
                .as_str(),
            "Flow demo"
        );

        let product = ProductName::parse("starter").unwrap();
        store
            .save_product_with_apis(
                &actor(),
                &service,
                &product,
                true,
                product_settings(true),
                &[],
            )
            .await
            .unwrap();
        let again = store
            .save_product_with_apis(
                &actor(),
                &service,
                &product,
                true,
                product_settings(false),
                &[],
            )
            .await;
        assert!(
            matches!(&again, Err(StoreError::Invalid(e)) if e.field == "name"),
            "{again:?}"
        );
    }
}

#[tokio::test]
async fn a_product_and_its_apis_are_saved_in_one_write() {
    for db in testing::all().await {
        let store = db.store().await;
        seeded(&store).await;
        let service = svc("flowdemo");
        let calculator = ApiName::parse("calculator").unwrap();
        let other = ApiName::parse("other").unwrap();
        store
            .put_api(&actor(), &service, &other, api_settings("other"))
            .await
            .unwrap();
        let product = ProductName::parse("starter").unwrap();
        let revision = store.revision().await.unwrap();
        store
            .save_product_with_apis(
                &actor(),
                &service,
                &product,
                true,
                product_settings(true),
                std::slice::from_ref(&calculator),
            )
            .await
            .unwrap();
        assert_eq!(
            store.revision().await.unwrap(),
            revision + 1,
            "{}",
            db.label
        );
        // Swap the API: one revision, one audit entry with both lists.
        store
            .save_product_with_apis(
                &actor(),
                &service,
                &product,
                false,
                product_settings(true),
                std::slice::from_ref(&other),
            )
            .await
            .unwrap();
        assert_eq!(
            store.revision().await.unwrap(),
            revision + 2,
            "{}",
            db.label
        );
        assert_eq!(
            store.get_product(&service, &product).await.unwrap().apis,
            std::slice::from_ref(&other)
        );
        let audit = store.list_audit(&service, None, 1).await.unwrap();
        assert_eq!(
            audit[0].before.as_ref().unwrap()["apis"],
            serde_json::json!(["calculator"])
        );
        assert_eq!(
            audit[0].after.as_ref().unwrap()["apis"],
            serde_json::json!(["other"])
        );

        // A save that breaks a rule changes nothing at all: an open product may not share
        // an API with another open product.
        let open = ProductName::parse("open").unwrap();
        store
            .save_product_with_apis(
                &actor(),
                &service,
                &open,
                true,
                product_settings(false),
                std::slice::from_ref(&other),
            )
            .await
            .unwrap();
        let revision = store.revision().await.unwrap();
        let refused = store
            .save_product_with_apis(
                &actor(),
                &service,
                &product,
                false,
                product_settings(false),
                &[calculator.clone(), other.clone()],
            )
            .await;
        assert!(
            matches!(refused, Err(StoreError::Invalid(_))),
            "{refused:?}"
        );
        assert_eq!(store.revision().await.unwrap(), revision, "{}", db.label);
        let kept = store.get_product(&service, &product).await.unwrap();
        assert_eq!(kept.apis, [other], "{}", db.label);
        assert!(kept.settings.subscription_required);
    }
}

#[tokio::test]
async fn a_create_that_loses_a_race_is_told_so_without_database_internals() {
    for db in testing::all().await {
        let store = db.store().await;
        // Twelve creates of one name at once: one wins; the others learn that the name is
        // taken — whether the store's own check saw the winner or the unique index did.
        let attempts = (0..12).map(|i| {
            let store = store.clone();
            async move {
                store
                    .create_service(
                        &actor(),
                        &svc("raced"),
                        DisplayName::parse(format!("Raced {i}")).unwrap(),
                        None,
                    )
                    .await
            }
        });
        let outcomes = futures_util::future::join_all(attempts).await;
        let won = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
        assert_eq!(won, 1, "{}: {outcomes:?}", db.label);
        for lost in outcomes.into_iter().filter_map(Result::err) {
            let message = match &lost {
                StoreError::Conflict { message, .. } => message.clone(),
                StoreError::Invalid(error) => error.message.clone(),
                other => panic!("{}: unexpected {other:?}", db.label),
            };
            for internal in ["UNIQUE", "constraint", "duplicate key", "idx_", "service."] {
                assert!(
                    !message.contains(internal),
                    "{}: {message:?} shows the database's words",
                    db.label
                );
            }
        }
    }
}

#[tokio::test]
async fn the_local_copy_holds_everything_the_gateway_loads() {
    for db in testing::all().await {
        let store = db.store().await;
        seeded(&store).await;
        let service = svc("flowdemo");
        store
            .put_named_value(
                &actor(),
                &service,
                &NamedValueName::parse("tenant").unwrap(),
                NamedValueSettings::parse("Tenant", "contoso", true, vec!["t".into()]).unwrap(),
            )
            .await
            .unwrap();
        let fragment = "<fragment><set-header name=\"x-tenant\" exists-action=\"override\">\
                        <value>{{Tenant}}</value></set-header></fragment>";
        let named = store.named_value_map(&service).await.unwrap();
        store
            .put_policy_fragment(
                &actor(),
                &service,
                &PolicyFragmentName::parse("tenant").unwrap(),
                PolicyFragmentSettings::parse(fragment, "", FragmentFormat::Xml, &named).unwrap(),
            )
            .await
            .unwrap();
        let policy =
            "<policies><inbound><include-fragment fragment-id=\"tenant\" /></inbound></policies>";
        let fragments = store.fragment_map(&service).await.unwrap();
        store
            .put_policy(
                &actor(),
                &service,
                &PolicyScope::Global,
                PolicyXml::parse_in(policy, &PolicyScope::Global, &named, &fragments).unwrap(),
            )
            .await
            .unwrap();
        store
            .put_subscription(
                &actor(),
                &service,
                &SubscriptionName::parse("all").unwrap(),
                subscription_settings("/apis"),
            )
            .await
            .unwrap();

        let pem = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../domain/tests/certificates/rsa.pem"
        ))
        .unwrap();
        store
            .put_certificate(
                &actor(),
                &service,
                &portcullis_domain::CertificateName::parse("signer").unwrap(),
                portcullis_domain::Certificate::parse_upload(&pem, None).unwrap(),
            )
            .await
            .unwrap();

        let copy = testing::sqlite();
        let target = copy.store().await;
        let copied = store.copy_config_to(&target).await.unwrap();
        assert_eq!(copied, store.revision().await.unwrap(), "{}", db.label);
        let source = store.load_config().await.unwrap();
        let served = target.load_config().await.unwrap();
        assert_eq!(
            format!("{served:?}"),
            format!("{source:?}"),
            "{}: the copy loads as the original",
            db.label
        );
        assert_eq!(served.services[0].named_values.len(), 1, "{}", db.label);
        assert_eq!(
            served.services[0].library.fragments.len(),
            1,
            "{}",
            db.label
        );
        let certificates: Vec<_> = served.services[0]
            .library
            .certificates()
            .map(|(id, c)| (id.to_owned(), c.thumbprint().to_owned()))
            .collect();
        assert_eq!(
            certificates,
            [(
                "signer".to_owned(),
                "37274B61590E0F5C7578D9423CDB6439DDADD670".to_owned()
            )],
            "{}",
            db.label
        );
    }
}
