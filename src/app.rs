//! The portal's HTML shell and its routes.

use crate::pages::analytics::AnalyticsPage;
use crate::pages::api::ApiPage;
use crate::pages::apis::ApisPage;
use crate::pages::audit::AuditPage;
use crate::pages::backends::BackendsPage;
use crate::pages::certificates::CertificatesPage;
use crate::pages::console::ConsolePage;
use crate::pages::named_values::NamedValuesPage;
use crate::pages::policy::PolicyPage;
use crate::pages::policy_fragments::PolicyFragmentsPage;
use crate::pages::products::ProductsPage;
use crate::pages::service_overview::ServiceOverviewPage;
use crate::pages::services::ServicesPage;
use crate::pages::setup::SetupPage;
use crate::pages::sign_in::SignInPage;
use crate::pages::subscriptions::SubscriptionsPage;
use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::{ParamSegment, StaticSegment};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
                // After the app, so that hydration (which starts at the body's first node)
                // never meets it.
                <noscript>
                    <p class="noscript" role="alert">
                        "The Portcullis portal needs JavaScript and WebAssembly: allow them for this site to use it. (The gateway does not need them.)"
                    </p>
                </noscript>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/portcullis.css"/>
        <Title text="Portcullis"/>
        <Router>
            <Routes fallback=|| view! { <NotFound/> }>
                <Route path=StaticSegment("") view=|| view! { <Redirect path="/services"/> }/>
                <Route path=StaticSegment("sign-in") view=SignInPage/>
                <Route path=StaticSegment("setup") view=SetupPage/>
                <Route path=StaticSegment("services") view=ServicesPage/>
                <Route path=(StaticSegment("services"), ParamSegment("service")) view=ServiceOverviewPage/>
                <Route
                    path=(StaticSegment("services"), ParamSegment("service"), StaticSegment("audit"))
                    view=AuditPage
                />
                <Route
                    path=(StaticSegment("services"), ParamSegment("service"), StaticSegment("apis"))
                    view=ApisPage
                />
                <Route
                    path=(StaticSegment("services"), ParamSegment("service"), StaticSegment("products"))
                    view=ProductsPage
                />
                <Route
                    path=(StaticSegment("services"), ParamSegment("service"), StaticSegment("named-values"))
                    view=NamedValuesPage
                />
                <Route
                    path=(StaticSegment("services"), ParamSegment("service"), StaticSegment("backends"))
                    view=BackendsPage
                />
                <Route
                    path=(StaticSegment("services"), ParamSegment("service"), StaticSegment("certificates"))
                    view=CertificatesPage
                />
                <Route
                    path=(StaticSegment("services"), ParamSegment("service"), StaticSegment("policy-fragments"))
                    view=PolicyFragmentsPage
                />
                <Route
                    path=(StaticSegment("services"), ParamSegment("service"), StaticSegment("subscriptions"))
                    view=SubscriptionsPage
                />
                <Route
                    path=(
                        StaticSegment("services"),
                        ParamSegment("service"),
                        StaticSegment("apis"),
                        ParamSegment("api"),
                    )
                    view=ApiPage
                />
                <Route
                    path=(StaticSegment("services"), ParamSegment("service"), StaticSegment("policies"))
                    view=PolicyPage
                />
                <Route
                    path=(StaticSegment("services"), ParamSegment("service"), StaticSegment("analytics"))
                    view=AnalyticsPage
                />
                <Route
                    path=(
                        StaticSegment("services"),
                        ParamSegment("service"),
                        StaticSegment("apis"),
                        ParamSegment("api"),
                        StaticSegment("test"),
                    )
                    view=ConsolePage
                />
                <Route
                    path=(
                        StaticSegment("services"),
                        ParamSegment("service"),
                        StaticSegment("products"),
                        ParamSegment("product"),
                        StaticSegment("policies"),
                    )
                    view=PolicyPage
                />
                <Route
                    path=(
                        StaticSegment("services"),
                        ParamSegment("service"),
                        StaticSegment("apis"),
                        ParamSegment("api"),
                        StaticSegment("policies"),
                    )
                    view=PolicyPage
                />
                <Route
                    path=(
                        StaticSegment("services"),
                        ParamSegment("service"),
                        StaticSegment("apis"),
                        ParamSegment("api"),
                        StaticSegment("operations"),
                        ParamSegment("operation"),
                        StaticSegment("policies"),
                    )
                    view=PolicyPage
                />
            </Routes>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <main class="page">
            <h1>"Page not found"</h1>
            <p><a href="/services">"Back to the services"</a></p>
        </main>
    }
}
