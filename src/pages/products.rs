//! A service's **Products**: the list, **Add product**, and editing one (fields and APIs).

use crate::api::apis::name_from_display_name;
use crate::api::products::{ApiChoice, DeleteProduct, ProductSummary, SaveProduct, products_page};
use crate::components::{
    FormError, Interactive, LoadError, Protected, RowActions, SaveNotice, SaveState, ServiceFrame,
    TextField, form_feedback,
};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn ProductsPage() -> impl IntoView {
    let params = use_params_map();
    let service = Signal::derive(move || params.read().get("service").unwrap_or_default());
    view! {
        <Protected>
            <ServiceFrame service current="Products">
                <Products service/>
            </ServiceFrame>
        </Protected>
    }
}

/// The product form's contents; `original` is set while editing.
#[derive(Clone, Copy)]
struct ProductForm {
    open: RwSignal<bool>,
    original: RwSignal<String>,
    display_name: RwSignal<String>,
    name: RwSignal<String>,
    name_edited: RwSignal<bool>,
    description: RwSignal<String>,
    subscription_required: RwSignal<bool>,
    approval_required: RwSignal<bool>,
    published: RwSignal<bool>,
    apis: RwSignal<Vec<String>>,
}

impl ProductForm {
    fn new() -> Self {
        Self {
            open: RwSignal::new(false),
            original: RwSignal::new(String::new()),
            display_name: RwSignal::new(String::new()),
            name: RwSignal::new(String::new()),
            name_edited: RwSignal::new(false),
            description: RwSignal::new(String::new()),
            subscription_required: RwSignal::new(true),
            approval_required: RwSignal::new(false),
            published: RwSignal::new(false),
            apis: RwSignal::new(Vec::new()),
        }
    }

    fn start_new(&self) {
        self.original.set(String::new());
        self.display_name.set(String::new());
        self.name.set(String::new());
        self.name_edited.set(false);
        self.description.set(String::new());
        self.subscription_required.set(true);
        self.approval_required.set(false);
        self.published.set(false);
        self.apis.set(Vec::new());
        self.open.set(true);
    }

    fn start_edit(&self, product: &ProductSummary) {
        self.original.set(product.name.clone());
        self.display_name.set(product.display_name.clone());
        self.name.set(product.name.clone());
        self.name_edited.set(true);
        self.description.set(product.description.clone());
        self.subscription_required
            .set(product.subscription_required);
        self.approval_required.set(product.approval_required);
        self.published.set(product.published);
        self.apis.set(product.apis.clone());
        self.open.set(true);
    }
}

#[component]
fn Products(service: Signal<String>) -> impl IntoView {
    let save = ServerAction::<SaveProduct>::new();
    let remove = ServerAction::<DeleteProduct>::new();
    let saves = SaveState::new();
    let data = Resource::new(
        move || (service.get(), saves.successes()),
        |(service, _)| products_page(service),
    );
    let form = ProductForm::new();
    Effect::new(move |_| {
        if let Some(Ok(errors)) = save.value().get()
            && errors.is_empty()
        {
            form.open.set(false);
            saves.succeeded();
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(None)) = remove.value().get() {
            saves.succeeded();
        }
    });
    let remove_message = move || match remove.value().get() {
        Some(Ok(Some(message))) => Some(message),
        Some(Err(error)) => Some(crate::components::error_text(&error)),
        _ => None,
    };
    view! {
        <Interactive>
            <div class="page-head">
                <h1>"Products"</h1>
                <button type="button" class="button primary" on:click=move |_| form.start_new()>"Add product"</button>
            </div>
            <p class="lead">"A product bundles APIs; subscriptions to it open them all."</p>
            <SaveNotice saving=Signal::derive(move || save.pending().get() || remove.pending().get()) state=saves/>
            <FormError message=Signal::derive(remove_message)/>
            <Suspense fallback=|| view! { <p class="loading">"Loading products…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(data) => {
                            let apis = data.apis.clone();
                            view! {
                                <Show when=move || form.open.get()>
                                    <ProductEditor service form save apis=apis.clone()/>
                                </Show>
                                <ProductTable service products=data.products form remove/>
                            }
                                .into_any()
                        }
                        Err(error) => view! { <LoadError error/> }.into_any(),
                    }
                })}
            </Suspense>
        </Interactive>
    }
}

#[component]
fn ProductTable(
    service: Signal<String>,
    products: Vec<ProductSummary>,
    form: ProductForm,
    remove: ServerAction<DeleteProduct>,
) -> impl IntoView {
    if products.is_empty() {
        return view! {
            <div class="empty"><p>"No products yet. " <strong>"Add product"</strong> " bundles APIs for subscribers."</p></div>
        }
            .into_any();
    }
    view! {
        <Interactive>
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Display name"</th>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Subscription"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"APIs"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {products
                        .into_iter()
                        .map(|product| {
                            let edit_target = product.clone();
                            let name = product.name.clone();
                            let message = format!(
                                "Delete the product '{}'? Its subscriptions are deleted with it and their keys stop working.",
                                product.display_name
                            );
                            view! {
                                <tr>
                                    <td>{product.display_name.clone()}</td>
                                    <td><code>{product.name.clone()}</code></td>
                                    <td>{if product.subscription_required { "required" } else { "not required" }}</td>
                                    <td>{if product.published { "Published" } else { "Not published" }}</td>
                                    <td>{if product.apis.is_empty() { "—".to_owned() } else { product.apis.join(", ") }}</td>
                                    <RowActions
                                        label=product.display_name.clone()
                                        policies_href=format!("/services/{}/products/{}/policies", service.get_untracked(), product.name)
                                        confirm_delete=message
                                        deleting=remove.pending()
                                        on_edit=Callback::new(move |()| form.start_edit(&edit_target))
                                        on_delete=Callback::new(move |()| {
                                            remove.dispatch(DeleteProduct {
                                                service: service.get_untracked(),
                                                product: name.clone(),
                                                with_subscriptions: true,
                                            });
                                        })
                                    />
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </Interactive>
    }
        .into_any()
}

#[component]
fn ProductEditor(
    service: Signal<String>,
    form: ProductForm,
    save: ServerAction<SaveProduct>,
    apis: Vec<ApiChoice>,
) -> impl IntoView {
    let (errors, message) = form_feedback(save, &["subscription_required"]);
    let apis_error = move || errors.get().get("apis");
    let editing = move || !form.original.get().is_empty();
    view! {
        <section class="panel" aria-labelledby="product-title">
            <h2 id="product-title">{move || if editing() { "Edit product" } else { "Add product" }}</h2>
            <ActionForm action=save>
                <input type="hidden" name="service" prop:value=move || service.get()/>
                <input type="hidden" name="original" prop:value=move || form.original.get()/>
                <input type="hidden" name="apis" prop:value=move || form.apis.get().join(",")/>
                <TextField
                    label="Display name"
                    name="display_name"
                    errors
                    required=true
                    value=form.display_name
                    on_input=Callback::new(move |text: String| {
                        if !form.name_edited.get_untracked() {
                            form.name.set(name_from_display_name(&text));
                        }
                        form.display_name.set(text);
                    })
                />
                <TextField
                    label="Name"
                    name="name"
                    errors
                    value=form.name
                    on_input=Callback::new(move |text: String| {
                        form.name_edited.set(true);
                        form.name.set(text);
                    })
                />
                <div class="field">
                    <label for="description">"Description"</label>
                    <textarea
                        id="description"
                        name="description"
                        rows="3"
                        prop:value=move || form.description.get()
                        on:input=move |event| form.description.set(event_target_value(&event))
                    ></textarea>
                    <p class="field-error" role="alert">{move || errors.get().get("description")}</p>
                </div>
                <label class="check">
                    <input
                        type="checkbox"
                        name="subscription_required"
                        prop:checked=move || form.subscription_required.get()
                        on:change=move |event| form.subscription_required.set(event_target_checked(&event))
                    />
                    "Requires subscription"
                </label>
                <label class="check">
                    <input
                        type="checkbox"
                        name="approval_required"
                        prop:checked=move || form.approval_required.get()
                        on:change=move |event| form.approval_required.set(event_target_checked(&event))
                    />
                    "Requires approval"
                </label>
                <label class="check">
                    <input
                        type="checkbox"
                        name="published"
                        prop:checked=move || form.published.get()
                        on:change=move |event| form.published.set(event_target_checked(&event))
                    />
                    "Published"
                </label>
                <fieldset class="apis">
                    <legend>"APIs"</legend>
                    {if apis.is_empty() {
                        view! { <p class="hint">"This service has no APIs yet."</p> }.into_any()
                    } else {
                        apis.into_iter()
                            .map(|api| {
                                let name = api.name.clone();
                                let checked = {
                                    let name = name.clone();
                                    move || form.apis.get().contains(&name)
                                };
                                view! {
                                    <label class="check">
                                        <input
                                            type="checkbox"
                                            prop:checked=checked
                                            on:change=move |event| {
                                                let on = event_target_checked(&event);
                                                form.apis.update(|apis| {
                                                    apis.retain(|a| a != &name);
                                                    if on {
                                                        apis.push(name.clone());
                                                    }
                                                });
                                            }
                                        />
                                        {api.display_name}
                                    </label>
                                }
                            })
                            .collect_view()
                            .into_any()
                    }}
                    <p class="field-error" role="alert">{apis_error}</p>
                </fieldset>
                <FormError message/>
                <div class="actions">
                    <button type="submit" class="button primary" disabled=move || save.pending().get()>
                        {move || match (save.pending().get(), editing()) {
                            (true, _) => "Saving…",
                            (false, true) => "Save",
                            (false, false) => "Create",
                        }}
                    </button>
                    <button type="button" class="button secondary" on:click=move |_| form.open.set(false)>
                        "Cancel"
                    </button>
                </div>
            </ActionForm>
        </section>
    }
}
