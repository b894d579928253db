//! **Calculate effective policy**: the one document an operation runs, every `<base />`
//! replaced by the scope above, for a caller with or without a product subscription.

use crate::api::policies::{EffectivePolicy, OperationChoice, ProductChoice, ScopeRef};
use crate::components::LoadError;
use leptos::prelude::*;

#[component]
pub fn EffectivePolicyPanel(
    service: Signal<String>,
    scope: ScopeRef,
    operations: Vec<OperationChoice>,
    products: Vec<ProductChoice>,
) -> impl IntoView {
    // Start from the page's own operation, or the first operation of its API.
    let initial = operations
        .iter()
        .position(|o| {
            o.api == scope.api && (scope.operation.is_empty() || o.operation == scope.operation)
        })
        .or_else(|| (!operations.is_empty()).then_some(0));
    let chosen = RwSignal::new(initial.map(|i| i.to_string()).unwrap_or_default());
    let product = RwSignal::new(scope.product.clone());
    let calculate = ServerAction::<EffectivePolicy>::new();
    let operations = StoredValue::new(operations);
    let products = StoredValue::new(products);
    let chosen_operation = move || {
        chosen
            .get()
            .parse::<usize>()
            .ok()
            .and_then(|i| operations.with_value(|ops| ops.get(i).cloned()))
    };
    let on_calculate = move |_| {
        if let Some(operation) = chosen_operation() {
            calculate.dispatch(EffectivePolicy {
                service: service.get_untracked(),
                api: operation.api,
                operation: operation.operation,
                product: product.get_untracked(),
            });
        }
    };
    view! {
        <section class="panel" aria-labelledby="effective-title">
            <h2 id="effective-title">"Effective policy"</h2>
            {move || if operations.with_value(Vec::is_empty) {
                view! { <p>"This service has no operations yet: add one to an API first."</p> }.into_any()
            } else {
                view! {
                    <div class="field-row">
                        <div class="field">
                            <label for="effective-operation">"Operation"</label>
                            <select id="effective-operation" prop:value=move || chosen.get() on:change=move |e| chosen.set(event_target_value(&e))>
                                {operations.with_value(|ops| ops.iter().enumerate().map(|(i, o)| view! { <option value=i.to_string()>{o.label.clone()}</option> }).collect_view())}
                            </select>
                        </div>
                        <div class="field">
                            <label for="effective-product">"Caller's subscription"</label>
                            <select id="effective-product" prop:value=move || product.get() on:change=move |e| product.set(event_target_value(&e))>
                                <option value="">"API or all-APIs key (no product)"</option>
                                {move || {
                                    let api = chosen_operation().map(|o| o.api).unwrap_or_default();
                                    products.with_value(|ps| ps.iter().filter(|p| p.apis.contains(&api)).map(|p| {
                                        view! { <option value=p.name.clone()>{format!("Product: {}", p.display_name)}</option> }
                                    }).collect_view())
                                }}
                            </select>
                        </div>
                    </div>
                    <div class="actions">
                        <button type="button" class="button primary" disabled=move || calculate.pending().get() on:click=on_calculate>
                            {move || if calculate.pending().get() { "Calculating…" } else { "Calculate" }}
                        </button>
                    </div>
                }.into_any()
            }}
            {move || match calculate.value().get() {
                Some(Ok(xml)) => view! { <pre class="code" data-testid="effective-policy">{xml}</pre> }.into_any(),
                Some(Err(error)) => view! { <LoadError error/> }.into_any(),
                None => ().into_any(),
            }}
        </section>
    }
}
