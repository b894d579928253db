//! The last cell of a row in a resource table: **Policies**, **Edit** and **Delete**.

use super::confirm;
use leptos::prelude::*;

/// Policies link, Edit and Delete buttons for the row of `label` (their accessible names are
/// "Policies of …", "Edit …", "Delete …"). Delete asks `confirm_delete` first and calls
/// `on_delete` only when the person agrees; it stays disabled while `deleting`.
#[component]
pub fn RowActions(
    label: String,
    policies_href: String,
    confirm_delete: String,
    #[prop(into)] deleting: Signal<bool>,
    on_edit: Callback<()>,
    on_delete: Callback<()>,
) -> impl IntoView {
    view! {
        <td class="row-actions">
            <a class="button secondary small" aria-label=format!("Policies of {label}") href=policies_href>
                "Policies"
            </a>
            <button type="button" class="button secondary small" aria-label=format!("Edit {label}") on:click=move |_| on_edit.run(())>
                "Edit"
            </button>
            <button
                type="button"
                class="button secondary small"
                aria-label=format!("Delete {label}")
                disabled=move || deleting.get()
                on:click=move |_| {
                    if confirm(&confirm_delete) {
                        on_delete.run(());
                    }
                }
            >
                "Delete"
            </button>
        </td>
    }
}
