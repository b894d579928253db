//! The frame around every signed-in page: header with the user and **Sign out**, and — inside
//! a service — the side navigation. [`Protected`] sends visitors without a session to sign-in,
//! and tells one whose session ends while a page is open (see `errors`).

use super::{LoadError, SessionEnded};
use crate::api::auth::{SetupStatus, SignOut, current_admin, setup_state};
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;

/// The signed-in administrator's name, for components below [`Protected`].
#[derive(Clone, Debug)]
pub struct SignedIn(pub String);

#[component]
pub fn Protected(children: ChildrenFn) -> impl IntoView {
    let admin = Resource::new(
        || (),
        |_| async { (current_admin().await, setup_state().await) },
    );
    let location = use_location();
    let sign_in_here = move || {
        format!(
            "/sign-in?next={}",
            urlencode(&location.pathname.get_untracked())
        )
    };
    let session_ended = RwSignal::new(false);
    provide_context(SessionEnded(session_ended));
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match admin.await {
                    (Ok(Some(name)), _) => {
                        provide_context(SignedIn(name.clone()));
                        view! {
                            <Header name ended=session_ended/>
                            <Show when=move || session_ended.get()>
                                <p class="session-ended" role="alert">
                                    "Your session has ended, so this page can no longer load or save anything. "
                                    <a href=sign_in_here>"Sign in again"</a>
                                    " to go on; you come back to this page."
                                </p>
                            </Show>
                            {children.with_value(|children| children())}
                        }
                            .into_any()
                    }
                    (Ok(None), Ok(SetupStatus::NeedsAdministrator)) => {
                        view! { <Redirect path="/setup"/> }.into_any()
                    }
                    (Ok(None), _) => view! { <Redirect path=sign_in_here()/> }.into_any(),
                    (Err(error), _) => {
                        view! { <LoadError error/> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

fn urlencode(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The top bar. Once the session has ended (`ended`) it no longer names the administrator
/// or offers Sign out; the banner under it offers to sign in again.
#[component]
fn Header(name: String, ended: RwSignal<bool>) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    let name = StoredValue::new(name);
    view! {
        <header class="topbar">
            <a class="brand" href="/services">
                <span class="brand-mark" aria-hidden="true"></span>
                "Portcullis"
            </a>
            <nav class="topnav" aria-label="Main">
                <a href="/services">"Services"</a>
            </nav>
            <div class="user">
                <Show when=move || !ended.get() fallback=|| view! { <span class="user-name">"Signed out"</span> }>
                    <span class="user-name">{name.get_value()}</span>
                    <ActionForm action=sign_out>
                        <button type="submit" class="button secondary small">"Sign out"</button>
                    </ActionForm>
                </Show>
            </div>
        </header>
    }
}

/// A service page: breadcrumbs, the side navigation, and the content.
#[component]
pub fn ServiceFrame(
    /// The service's name (from the URL).
    service: Signal<String>,
    /// Which side navigation entry is current.
    current: &'static str,
    children: Children,
) -> impl IntoView {
    let entries = [
        ("Overview", ""),
        ("APIs", "/apis"),
        ("Products", "/products"),
        ("Subscriptions", "/subscriptions"),
        ("Policies", "/policies"),
        ("Policy fragments", "/policy-fragments"),
        ("Named values", "/named-values"),
        ("Backends", "/backends"),
        ("Certificates", "/certificates"),
        ("Analytics", "/analytics"),
        ("Audit log", "/audit"),
    ];
    view! {
        <div class="service-layout">
            <aside class="sidenav">
                <p class="sidenav-title">{move || service.get()}</p>
                <nav aria-label="Service">
                    <ul>
                        {entries
                            .into_iter()
                            .map(|(label, suffix)| {
                                let href = move || format!("/services/{}{suffix}", service.get());
                                let is_current = label == current;
                                view! {
                                    <li>
                                        <a
                                            href=href
                                            class:current=is_current
                                            aria-current=if is_current { Some("page") } else { None }
                                        >
                                            {label}
                                        </a>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </nav>
            </aside>
            <section class="content">
                <nav class="breadcrumbs" aria-label="Breadcrumbs">
                    <a href="/services">"Services"</a>
                    " / "
                    <a href=move || format!("/services/{}", service.get())>{move || service.get()}</a>
                    " / "
                    <span>{current}</span>
                </nav>
                {children()}
            </section>
        </div>
    }
}
