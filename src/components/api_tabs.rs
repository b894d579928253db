//! The tabs of an API: its design (settings and operations), the test console, its policies.

use leptos::prelude::*;

#[component]
pub fn ApiTabs(
    service: Signal<String>,
    api: Signal<String>,
    current: &'static str,
) -> impl IntoView {
    let tabs = [("Design", ""), ("Test", "/test"), ("Policies", "/policies")];
    view! {
        <nav class="tabs" aria-label="API">
            {tabs
                .into_iter()
                .map(|(label, suffix)| {
                    let href = move || format!("/services/{}/apis/{}{suffix}", service.get(), api.get());
                    let is_current = label == current;
                    view! {
                        <a href=href class:current=is_current aria-current=if is_current { Some("page") } else { None }>
                            {label}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
    }
}
