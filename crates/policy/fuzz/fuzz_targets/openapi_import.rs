//! An OpenAPI import of any text: never a panic, never unbounded work. Whatever imports is
//! exported and imported again (the round trip must not fail on a document the importer
//! accepted).

#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_openapi::{ExportFormat, ImportOptions, import};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(api) = import(text, &ImportOptions::default()) else {
        return;
    };
    let Ok(settings) = sample_settings() else {
        return;
    };
    let operations: Vec<_> = api.operations.clone();
    let exported = portcullis_openapi::export(
        &portcullis_openapi::export::ApiToExport {
            settings: &settings,
            schemas: &api.schemas,
            operations: &operations,
            gateway_url: "https://svc.example.com",
        },
        ExportFormat::OpenApi3Json,
    );
    let again = import(&exported, &ImportOptions::default());
    assert!(again.is_ok(), "an export does not import: {again:?}\n{exported}");
});

fn sample_settings()
-> Result<portcullis_domain::model::ApiSettings, portcullis_domain::ValidationError> {
    use portcullis_domain::*;
    Ok(model::ApiSettings {
        display_name: DisplayName::parse("Fuzz")?,
        description: String::new(),
        service_url: ServiceUrl::parse("https://backend.example.com")?,
        path: ApiSuffix::parse("fuzz")?,
        subscription_required: true,
        key_header_name: KeyHeaderName::default(),
        key_query_param_name: KeyQueryParamName::default(),
        forward_subscription_key: false,
    })
}
