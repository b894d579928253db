//! The two policy forms: **Restrict caller IPs** and **Limit call rate per key**. Each
//! writes the same XML a person could type, into the inbound section, replacing an earlier
//! one of its kind.

use crate::api::FieldErrors;
use crate::components::TextField;
use crate::policy_text::{COUNTER_KEYS, ip_filter_xml, rate_limit_xml, replace_or_insert};
use leptos::prelude::*;

#[component]
pub fn IpFilterForm(
    text: RwSignal<String>,
    notice: RwSignal<Option<String>>,
    panel_open: Callback<bool>,
) -> impl IntoView {
    let action = RwSignal::new("allow".to_owned());
    let entries = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let apply = move |_| match ip_filter_xml(&action.get_untracked(), &entries.get_untracked()) {
        Ok(xml) => {
            text.update(|t| *t = replace_or_insert(t, "inbound", "ip-filter", &xml));
            notice.set(Some(
                "Restrict caller IPs: written to <inbound>. Save to make it live.".into(),
            ));
            panel_open.run(false);
        }
        Err(message) => error.set(Some(message)),
    };
    view! {
        <section class="panel" aria-labelledby="ip-form-title">
            <h2 id="ip-form-title">"Restrict caller IPs"</h2>
            <fieldset class="field">
                <legend>"Mode"</legend>
                <label class="check">
                    <input type="radio" name="ip-mode" value="allow" prop:checked=move || action.get() == "allow" on:change=move |_| action.set("allow".into())/>
                    "Allow only the addresses below"
                </label>
                <label class="check">
                    <input type="radio" name="ip-mode" value="forbid" prop:checked=move || action.get() == "forbid" on:change=move |_| action.set("forbid".into())/>
                    "Forbid the addresses below"
                </label>
            </fieldset>
            <div class="field" class:invalid=move || error.get().is_some()>
                <label for="ip-entries">"Addresses and ranges"</label>
                <textarea
                    id="ip-entries"
                    rows="4"
                    aria-describedby="ip-entries-hint ip-entries-error"
                    prop:value=move || entries.get()
                    on:input=move |event| {
                        error.set(None);
                        entries.set(event_target_value(&event));
                    }
                ></textarea>
                <p class="hint" id="ip-entries-hint">"One per line: an address (203.0.113.7) or a range (10.0.0.1-10.0.0.255). IPv6 works too."</p>
                <p class="field-error" id="ip-entries-error" role="alert">{move || error.get()}</p>
            </div>
            <div class="actions">
                <button type="button" class="button primary" on:click=apply>"Apply"</button>
                <button type="button" class="button secondary" on:click=move |_| panel_open.run(false)>"Cancel"</button>
            </div>
        </section>
    }
}

#[component]
pub fn RateLimitForm(
    text: RwSignal<String>,
    notice: RwSignal<Option<String>>,
    panel_open: Callback<bool>,
) -> impl IntoView {
    let calls = RwSignal::new("3".to_owned());
    let period = RwSignal::new("60".to_owned());
    let key = RwSignal::new("ip".to_owned());
    let custom = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::default());
    let apply = move |_| match rate_limit_xml(
        &calls.get_untracked(),
        &period.get_untracked(),
        &key.get_untracked(),
        &custom.get_untracked(),
    ) {
        Ok(xml) => {
            text.update(|t| *t = replace_or_insert(t, "inbound", "rate-limit-by-key", &xml));
            notice.set(Some(
                "Limit call rate per key: written to <inbound>. Save to make it live.".into(),
            ));
            panel_open.run(false);
        }
        Err((field, message)) => errors.set(FieldErrors::one(field, message)),
    };
    view! {
        <section class="panel" aria-labelledby="rate-form-title">
            <h2 id="rate-form-title">"Limit call rate per key"</h2>
            <div class="field-row">
                <TextField label="Calls" name="calls" kind="number" errors value=calls on_input=Callback::new(move |v| calls.set(v))/>
                <TextField
                    label="Renewal period (seconds)"
                    name="period"
                    kind="number"
                    errors
                    value=period
                    on_input=Callback::new(move |v| period.set(v))
                />
            </div>
            <div class="field">
                <label for="counter-key">"Counter key"</label>
                <select id="counter-key" prop:value=move || key.get() on:change=move |event| key.set(event_target_value(&event))>
                    {COUNTER_KEYS.iter().map(|(value, label, _)| view! { <option value=*value>{*label}</option> }).collect_view()}
                </select>
                <p class="hint">"Calls are counted per value of the key, across every scope that uses it."</p>
            </div>
            <Show when=move || key.get() == "custom">
                <TextField
                    label="Expression"
                    name="custom"
                    errors
                    hint="For example @(context.Request.Headers.GetValueOrDefault(\"x-client\", \"\"))"
                    value=custom
                    on_input=Callback::new(move |v| custom.set(v))
                />
            </Show>
            <div class="actions">
                <button type="button" class="button primary" on:click=apply>"Apply"</button>
                <button type="button" class="button secondary" on:click=move |_| panel_open.run(false)>"Cancel"</button>
            </div>
        </section>
    }
}
