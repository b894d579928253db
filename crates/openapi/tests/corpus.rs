//! The import and export on public documents from several projects (see
//! `tests/corpus/SOURCES.md`): each imports with the operations it describes, reports what
//! it cannot keep, and exports to documents that import again as the same API.

use portcullis_domain::model::{ApiSettings, OperationConfig};
use portcullis_domain::{ApiSuffix, DisplayName, KeyHeaderName, KeyQueryParamName, ServiceUrl};
use portcullis_openapi::export::ApiToExport;
use portcullis_openapi::{ExportFormat, ImportOptions, import};

/// Each document, the operations it describes (counted by hand from the file) and a part of
/// a reason that must be among the skipped items (if any).
const CORPUS: &[(&str, usize, Option<&str>)] = &[
    ("oai__petstore-expanded.json", 4, Some("response 'default'")),
    ("oai__uber.json", 5, Some("response 'default'")),
    ("oai__petstore-minimal.yaml", 1, None),
    // `securityDefinitions: {}` (empty) is not worth a word.
    ("apis-guru__swagger.yaml", 2, None),
    ("oai__api-with-examples.yaml", 2, None),
    ("oai__petstore.yaml", 3, Some("response 'default'")),
    ("oai__uspto.yaml", 3, None),
    ("oai__link-example.yaml", 6, None),
    ("oai__callback-example.yaml", 1, Some("callbacks")),
    ("swagger-petstore__openapi.yaml", 19, Some("security")),
    ("redoc__openapi.yaml", 20, Some("cookie parameter")),
    ("apis-guru__openapi.yaml", 2, None),
    ("oai__webhook-example.yaml", 1, Some("webhooks")),
    ("oai__non-oauth-scopes.json", 1, Some("security schemes")),
    ("redoc__museum.yaml", 8, Some("security requirements")),
];

fn read(file: &str) -> String {
    let path = format!("{}/tests/corpus/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn every_document_imports_with_its_operations_and_says_what_it_skipped() {
    for (file, operations, reason) in CORPUS {
        let api = import(&read(file), &ImportOptions::default())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(
            api.operations.len(),
            *operations,
            "{file}: {:?}\nskipped: {:#?}",
            api.operations
                .iter()
                .map(|o| o.name.as_str())
                .collect::<Vec<_>>(),
            api.skipped
        );
        if reason.is_none() {
            assert!(api.skipped.is_empty(), "{file}: {:#?}", api.skipped);
        }
        if let Some(reason) = reason {
            assert!(
                api.skipped.iter().any(|s| s.reason.contains(reason)),
                "{file}: nothing skipped for {reason}: {:#?}",
                api.skipped
            );
        }
        assert!(!api.display_name.is_empty(), "{file}");
    }
}

#[test]
fn names_follow_apims_rules_on_real_documents() {
    let api = import(
        &read("oai__petstore-expanded.json"),
        &ImportOptions::default(),
    )
    .unwrap();
    let names: Vec<_> = api.operations.iter().map(|o| o.name.as_str()).collect();
    // `find pet by id` → `find-pet-by-id`; `findPets` → `findpets`.
    assert!(names.contains(&"find-pet-by-id"), "{names:?}");
    assert!(names.contains(&"findpets"), "{names:?}");
    let uber = import(&read("oai__uber.json"), &ImportOptions::default()).unwrap();
    let names: Vec<_> = uber.operations.iter().map(|o| o.name.as_str()).collect();
    assert!(
        names.contains(&"get-products"),
        "no operationId: method and path: {names:?}"
    );
    let display: Vec<_> = uber
        .operations
        .iter()
        .map(|o| o.settings.display_name.as_str())
        .collect();
    assert!(
        display.contains(&"Product Types"),
        "the summary: {display:?}"
    );
    assert_eq!(uber.service_url.as_deref(), Some("https://api.uber.com/v1"));
    let examples = import(
        &read("oai__api-with-examples.yaml"),
        &ImportOptions::default(),
    )
    .unwrap();
    let first = &examples.operations[0].settings.responses[0];
    assert_eq!(first.status_code, 200);
    assert!(!first.representations[0].examples.is_empty(), "{first:?}");
}

#[test]
fn a_document_that_refers_to_other_files_is_refused_naming_them() {
    let error = import(&read("oai__swagger.json"), &ImportOptions::default()).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("Pet.json"), "{message}");
    assert!(message.contains("parameters.json"), "{message}");
}

#[test]
fn exports_of_every_document_import_as_the_same_api() {
    let settings = ApiSettings {
        display_name: DisplayName::parse("Exported").unwrap(),
        description: String::new(),
        service_url: ServiceUrl::parse("https://backend.example.com").unwrap(),
        path: ApiSuffix::parse("things").unwrap(),
        subscription_required: true,
        key_header_name: KeyHeaderName::default(),
        key_query_param_name: KeyQueryParamName::default(),
        forward_subscription_key: false,
    };
    for (file, _, _) in CORPUS {
        let imported = import(&read(file), &ImportOptions::default()).unwrap();
        let operations: Vec<OperationConfig> = imported.operations.clone();
        let api = ApiToExport {
            settings: &settings,
            schemas: &imported.schemas,
            operations: &operations,
            gateway_url: "https://svc.example.com",
        };
        for format in [ExportFormat::OpenApi3Json, ExportFormat::OpenApi3Yaml] {
            let text = portcullis_openapi::export(&api, format);
            let again = import(&text, &ImportOptions::default())
                .unwrap_or_else(|e| panic!("{file} {format:?}: {e}\n{text}"));
            assert_eq!(again.schemas, imported.schemas, "{file} {format:?}");
            assert_eq!(
                again.operations.len(),
                operations.len(),
                "{file} {format:?}"
            );
            for (a, b) in again.operations.iter().zip(&operations) {
                assert_eq!(a.name, b.name, "{file} {format:?}");
                assert_eq!(a.settings, b.settings, "{file} {format:?}: {}", b.name);
            }
        }
        // Swagger 2.0 keeps less (one example per media type, one schema per body), but
        // every operation, its template and its parameters.
        let text = portcullis_openapi::export(&api, ExportFormat::Swagger2Json);
        let again = import(&text, &ImportOptions::default())
            .unwrap_or_else(|e| panic!("{file} swagger: {e}\n{text}"));
        for (a, b) in again.operations.iter().zip(&operations) {
            assert_eq!(a.name, b.name, "{file} swagger");
            assert_eq!(
                a.settings.url_template, b.settings.url_template,
                "{file} swagger"
            );
            assert_eq!(
                a.settings.template_parameters, b.settings.template_parameters,
                "{file} swagger"
            );
            assert_eq!(
                a.settings.request.query_parameters, b.settings.request.query_parameters,
                "{file} swagger"
            );
        }
    }
}
