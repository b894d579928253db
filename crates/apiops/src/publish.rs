//! `portcullis publish` and `portcullis diff`.
//!
//! Publish applies a folder: named values, backends (single ones before pools) and policy
//! fragments first (documents use them),
//! the service policy, APIs (each imported from its `specification.yaml` with the settings
//! of `apiInformation.json`, then its policies), products (settings, APIs, policy), and
//! subscriptions last (they name APIs and products). Nothing absent from the folder is
//! deleted unless `delete` is set — as APIOps' publisher without a commit to compare. Each
//! write is one management call, so one audit entry per resource.
//!
//! Diff compares the folder (overrides applied) with an extract of the node: the files that
//! publish would add or change, and — those only `--delete` removes — the ones the node has
//! and the folder does not.

use crate::overrides::Overrides;
use crate::remote::Mgmt;
use crate::{ApiOpsError, Artifacts, extract};
use serde_json::{Value, json};

/// What a publish did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Resources written (`apis/orders`, `named values/key`, …).
    pub applied: Vec<String>,
    pub deleted: Vec<String>,
    /// What was not applied: where, and why.
    pub skipped: Vec<(String, String)>,
}

/// Top-level folders and files Portcullis reads.
const KNOWN: [&str; 7] = [
    "policy.xml",
    "backends",
    "apis",
    "products",
    "named values",
    "policy fragments",
    "subscriptions",
];

/// Kinds of APIM Portcullis does not have, with what to say.
fn unsupported(kind: &str) -> String {
    match kind {
        "loggers" | "diagnostics" => {
            format!("{kind}: Portcullis writes its own analytics and traces")
        }
        "gateways" => "gateways: every Portcullis node serves every API".to_owned(),
        "groups" => "groups: Portcullis has no developer portal groups".to_owned(),
        "tags" => "tags: Portcullis does not keep tags on resources".to_owned(),
        "version sets" => "version sets: Portcullis has no API versions".to_owned(),
        "workspaces" => "workspaces: one service is one workspace".to_owned(),
        other => format!("'{other}' is not an APIOps folder Portcullis knows"),
    }
}

fn information(
    files: &Artifacts,
    overrides: &Overrides,
    folder: &str,
    name: &str,
    file: &str,
) -> Result<Value, ApiOpsError> {
    let path = format!("{folder}/{name}/{file}");
    let mut value = files
        .json(&path)?
        .unwrap_or_else(|| json!({ "properties": {} }));
    if value.get("properties").is_none() {
        value = json!({ "properties": value });
    }
    overrides.apply(folder, name, &mut value);
    Ok(value)
}

/// The files of `files` that publish reads, with the overrides applied, and what it skips.
fn effective(
    files: &Artifacts,
    overrides: &Overrides,
) -> Result<(Artifacts, Vec<(String, String)>), ApiOpsError> {
    let mut out = Artifacts::default();
    let mut skipped = Vec::new();
    let mut reported = std::collections::BTreeSet::new();
    for path in files.0.keys() {
        let top = path.split('/').next().unwrap_or_default();
        // Files beside the folders (a README, the extractor's configuration) are not
        // resources.
        if !KNOWN.contains(&top) && path.contains('/') {
            let item = path.splitn(3, '/').take(2).collect::<Vec<_>>().join("/");
            if reported.insert(item.clone()) {
                skipped.push((item, unsupported(top)));
            }
        }
    }
    if let Some(xml) = files.get("policy.xml") {
        out.insert("policy.xml", xml.to_vec());
    }
    for (folder, file) in [
        ("named values", "namedValueInformation.json"),
        ("backends", "backendInformation.json"),
        ("policy fragments", "policyFragmentInformation.json"),
        ("products", "productInformation.json"),
        ("subscriptions", "subscriptionInformation.json"),
        ("apis", "apiInformation.json"),
    ] {
        for name in files.children(folder) {
            let dir = format!("{folder}/{name}");
            if folder == "apis" {
                let other_spec = ["graphql", "wsdl", "wadl", "json"]
                    .iter()
                    .find(|ext| files.get(&format!("{dir}/specification.{ext}")).is_some());
                if name.contains(";rev=") {
                    skipped.push((
                        dir,
                        "API revisions: Portcullis serves one revision of an API".to_owned(),
                    ));
                    continue;
                }
                if let Some(ext) = other_spec {
                    let reason = match *ext {
                        "graphql" => "GraphQL APIs are not supported",
                        "wsdl" => "SOAP (WSDL) APIs are not supported",
                        "wadl" => "WADL descriptions are not supported",
                        _ => "write the specification as specification.yaml (OpenAPI 3)",
                    };
                    skipped.push((dir, reason.to_owned()));
                    continue;
                }
            }
            let info = information(files, overrides, folder, &name, file)?;
            out.insert_json(format!("{dir}/{file}"), &info);
            // The other files of the resource come as they are.
            let prefix = format!("{dir}/");
            for (path, content) in &files.0 {
                if path.starts_with(&prefix) && !path.ends_with(&format!("/{file}")) {
                    out.insert(path.clone(), content.clone());
                }
            }
        }
    }
    Ok((out, skipped))
}

/// APIM properties that mean nothing to Portcullis (or are always so here) and go without
/// a word: revision bookkeeping, the protocols (the gateway's listeners decide), types.
const QUIET: [&str; 6] = [
    "apiRevision",
    "isCurrent",
    "protocols",
    "type",
    "apiType",
    "terms",
];

/// The properties of `folder`'s kind that Portcullis takes, noting the others in `report`.
fn taken(folder: &str, name: &str, properties: &Value, report: &mut Report) -> Value {
    let keys = crate::properties_of(folder);
    let mut out = serde_json::Map::new();
    let mut ignored = Vec::new();
    if let Some(map) = properties.as_object() {
        for (key, value) in map {
            if keys.contains(&key.as_str()) {
                out.insert(key.clone(), value.clone());
            } else if !QUIET.contains(&key.as_str()) {
                ignored.push(key.clone());
            }
        }
    }
    if !ignored.is_empty() {
        report.skipped.push((
            format!("{folder}/{name}"),
            format!(
                "applied without {} (not Portcullis properties)",
                ignored.join(", ")
            ),
        ));
    }
    Value::Object(out)
}

fn text(files: &Artifacts, path: &str) -> Option<String> {
    files.text(path)
}

async fn put_policy(remote: &Mgmt, path: &str, xml: String) -> Result<(), ApiOpsError> {
    remote
        .put(path, &json!({ "format": "xml", "value": xml }))
        .await
        .map(|_| ())
}

/// The first `{#VARIABLE#}` left in `value`, by name.
fn unfilled_token(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => {
            let start = text.find("{#")?;
            let end = text[start..].find("#}")?;
            Some(text[start + 2..start + end].to_owned())
        }
        Value::Object(map) => map.values().find_map(unfilled_token),
        Value::Array(items) => items.iter().find_map(unfilled_token),
        _ => None,
    }
}

/// Applies the folder `files` to the service behind `remote`.
pub async fn publish(
    remote: &Mgmt,
    files: &Artifacts,
    overrides: &Overrides,
    delete: bool,
) -> Result<Report, ApiOpsError> {
    let (files, skipped) = effective(files, overrides)?;
    let mut report = Report {
        skipped,
        ..Report::default()
    };
    let current = extract(remote).await?;

    // Display names of the named values left out, so what uses them is left out too.
    let mut skipped_values: Vec<String> = Vec::new();
    for name in files.children("named values") {
        let path = format!("named values/{name}/namedValueInformation.json");
        let info = files.json(&path)?.unwrap_or_default();
        let properties = taken("named values", &name, &info["properties"], &mut report);
        let secret = properties["secret"].as_bool().unwrap_or(false);
        if secret && properties.get("value").is_none() {
            if current.get(&path).is_some() {
                continue; // the node keeps its secret value
            }
            report.skipped.push((
                format!("named values/{name}"),
                "a secret without a value: give it in an override file ({#VARIABLE#} reads the environment)".to_owned(),
            ));
            skipped_values.push(
                properties["displayName"]
                    .as_str()
                    .unwrap_or(&name)
                    .to_owned(),
            );
            continue;
        }
        remote
            .put(&format!("/namedValues/{name}"), &properties)
            .await?;
        report.applied.push(format!("named values/{name}"));
    }
    // Single backends first: a pool names them.
    let mut backends = Vec::new();
    for name in files.children("backends") {
        let path = format!("backends/{name}/backendInformation.json");
        let info = files.json(&path)?.unwrap_or_default();
        let mut properties = taken("backends", &name, &info["properties"], &mut report);
        if let Some(credentials) = properties.get_mut("credentials") {
            crate::overrides::fill_tokens(credentials);
        }
        if let Some(token) = properties.get("credentials").and_then(unfilled_token) {
            report.skipped.push((
                format!("backends/{name}"),
                format!("a credential without a value: set the environment variable {token} or give it in an override file"),
            ));
            continue;
        }
        let credentials = properties
            .get("credentials")
            .map(Value::to_string)
            .unwrap_or_default();
        if let Some(value) = skipped_values
            .iter()
            .find(|v| credentials.contains(&format!("{{{{{v}}}}}")))
        {
            report.skipped.push((
                format!("backends/{name}"),
                format!("its credentials use the named value {{{{{value}}}}}, which was skipped"),
            ));
            continue;
        }
        let is_pool = properties["type"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("pool"));
        backends.push((is_pool, name, properties));
    }
    backends.sort_by_key(|(is_pool, _, _)| *is_pool);
    for (_, name, properties) in backends {
        // A pool whose member was skipped would be refused: skip it too, saying why.
        let missing = properties["pool"]["services"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|member| member["id"].as_str())
            .map(|id| id.rsplit('/').next().unwrap_or(id).to_owned())
            .find(|member| {
                report
                    .skipped
                    .iter()
                    .any(|(item, _)| *item == format!("backends/{member}"))
            });
        if let Some(member) = missing {
            report.skipped.push((
                format!("backends/{name}"),
                format!("its member backends/{member} was skipped"),
            ));
            continue;
        }
        remote
            .put(&format!("/backends/{name}"), &properties)
            .await?;
        report.applied.push(format!("backends/{name}"));
    }
    for name in files.children("policy fragments") {
        let dir = format!("policy fragments/{name}");
        let info = files
            .json(&format!("{dir}/policyFragmentInformation.json"))?
            .unwrap_or_default();
        let mut body = taken("policy fragments", &name, &info["properties"], &mut report);
        body["value"] =
            Value::String(text(&files, &format!("{dir}/policy.xml")).unwrap_or_default());
        remote
            .put(&format!("/policyFragments/{name}"), &body)
            .await?;
        report.applied.push(dir);
    }
    if let Some(xml) = text(&files, "policy.xml") {
        put_policy(remote, "/policy", xml).await?;
        report.applied.push("policy.xml".to_owned());
    }
    for name in files.children("apis") {
        let dir = format!("apis/{name}");
        let info = files
            .json(&format!("{dir}/apiInformation.json"))?
            .unwrap_or_default();
        let properties = &taken("apis", &name, &info["properties"], &mut report);
        let mut body = json!({});
        for key in [
            "displayName",
            "description",
            "path",
            "serviceUrl",
            "subscriptionRequired",
            "forwardSubscriptionKey",
        ] {
            if let Some(value) = properties.get(key) {
                body[key] = value.clone();
            }
        }
        if let Some(names) = properties.get("subscriptionKeyParameterNames") {
            body["subscriptionKeyHeaderName"] = names["header"].clone();
            body["subscriptionKeyQueryParamName"] = names["query"].clone();
        }
        if let Some(spec) = text(&files, &format!("{dir}/specification.yaml")) {
            body["format"] = "openapi".into();
            body["value"] = spec.into();
            body["removeMissingOperations"] = delete.into();
        }
        remote.put(&format!("/apis/{name}"), &body).await?;
        report.applied.push(dir.clone());
        if let Some(xml) = text(&files, &format!("{dir}/policy.xml")) {
            put_policy(remote, &format!("/apis/{name}/policy"), xml).await?;
        } else if delete && current.get(&format!("{dir}/policy.xml")).is_some() {
            remote.delete(&format!("/apis/{name}/policy")).await?;
        }
        for operation in files.children(&format!("{dir}/operations")) {
            if let Some(xml) = text(&files, &format!("{dir}/operations/{operation}/policy.xml")) {
                put_policy(
                    remote,
                    &format!("/apis/{name}/operations/{operation}/policy"),
                    xml,
                )
                .await?;
            }
        }
        if delete {
            for operation in current.children(&format!("{dir}/operations")) {
                let path = format!("{dir}/operations/{operation}/policy.xml");
                if files.get(&path).is_none() {
                    remote
                        .delete(&format!("/apis/{name}/operations/{operation}/policy"))
                        .await?;
                }
            }
        }
    }
    for name in files.children("products") {
        let dir = format!("products/{name}");
        let info = files
            .json(&format!("{dir}/productInformation.json"))?
            .unwrap_or_default();
        let body = taken("products", &name, &info["properties"], &mut report);
        remote.put(&format!("/products/{name}"), &body).await?;
        for api in files.children(&format!("{dir}/apis")) {
            remote
                .put(&format!("/products/{name}/apis/{api}"), &json!({}))
                .await?;
        }
        if delete {
            for api in current.children(&format!("{dir}/apis")) {
                if files
                    .get(&format!("{dir}/apis/{api}/productApiInformation.json"))
                    .is_none()
                {
                    remote
                        .delete(&format!("/products/{name}/apis/{api}"))
                        .await?;
                }
            }
        }
        if let Some(xml) = text(&files, &format!("{dir}/policy.xml")) {
            put_policy(remote, &format!("/products/{name}/policy"), xml).await?;
        }
        report.applied.push(dir);
    }
    for name in files.children("subscriptions") {
        let dir = format!("subscriptions/{name}");
        let info = files
            .json(&format!("{dir}/subscriptionInformation.json"))?
            .unwrap_or_default();
        let body = taken("subscriptions", &name, &info["properties"], &mut report);
        remote.put(&format!("/subscriptions/{name}"), &body).await?;
        report.applied.push(dir);
    }
    if delete {
        // Dependents first: subscriptions, products, APIs, then what documents use.
        for (folder, path) in [
            ("subscriptions", "/subscriptions"),
            ("products", "/products"),
            ("apis", "/apis"),
            ("policy fragments", "/policyFragments"),
            ("backends", "/backends"),
            ("named values", "/namedValues"),
        ] {
            let wanted = files.children(folder);
            for name in current.children(folder) {
                if !wanted.contains(&name) {
                    let query = if folder == "products" {
                        "?deleteSubscriptions=true"
                    } else {
                        ""
                    };
                    remote.delete(&format!("{path}/{name}{query}")).await?;
                    report.deleted.push(format!("{folder}/{name}"));
                }
            }
        }
    }
    Ok(report)
}

/// What publish would change: `+ path` (added), `~ path` (changed), `- path` (only on the
/// node; removed with `--delete`), and what it would skip.
pub async fn diff(
    remote: &Mgmt,
    files: &Artifacts,
    overrides: &Overrides,
) -> Result<(Vec<String>, Vec<(String, String)>), ApiOpsError> {
    let (mut files, skipped) = effective(files, overrides)?;
    // A node never shows a secret's value: compare secrets without theirs.
    for name in files.children("named values") {
        let path = format!("named values/{name}/namedValueInformation.json");
        if let Some(mut info) = files.json(&path)?
            && info["properties"]["secret"] == Value::Bool(true)
            && let Some(properties) = info["properties"].as_object_mut()
        {
            properties.remove("value");
            files.insert_json(path, &info);
        }
    }
    let current = extract(remote).await?;
    let mut changes = Vec::new();
    for (path, content) in &files.0 {
        match current.get(path) {
            None => changes.push(format!("+ {path}")),
            Some(existing) if existing != content.as_slice() => changes.push(format!("~ {path}")),
            Some(_) => {}
        }
    }
    for path in current.0.keys() {
        if files.get(path).is_none() {
            changes.push(format!("- {path}"));
        }
    }
    Ok((changes, skipped))
}

/// What one git commit changed in the folder (paths relative to it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitChanges {
    /// Added or modified files.
    pub changed: std::collections::BTreeSet<String>,
    /// Deleted files.
    pub deleted: std::collections::BTreeSet<String>,
}

/// The resource folder a file belongs to: `apis/orders` for `apis/orders/policy.xml`,
/// `policy.xml` for the service policy.
fn resource_of(path: &str) -> String {
    let parts: Vec<&str> = path.splitn(3, '/').collect();
    match parts.as_slice() {
        [top, name, _] => format!("{top}/{name}"),
        _ => path.to_owned(),
    }
}

/// `publish` for one commit, as APIOps' publisher with `COMMIT_ID`: only the resources whose
/// files the commit added or changed are applied (each whole: an API's specification and
/// policies together), and the resources whose information file it deleted are deleted —
/// nothing else is touched.
pub async fn publish_commit(
    remote: &Mgmt,
    files: &Artifacts,
    overrides: &Overrides,
    changes: &CommitChanges,
) -> Result<Report, ApiOpsError> {
    let touched: std::collections::BTreeSet<String> =
        changes.changed.iter().map(|p| resource_of(p)).collect();
    let mut selected = Artifacts::default();
    for (path, content) in &files.0 {
        if touched.contains(&resource_of(path)) {
            selected.insert(path.clone(), content.clone());
        }
    }
    let mut report = publish(remote, &selected, overrides, false).await?;
    // Deleted resources: their information file went (policies: the document went).
    let gone = |suffix: &str| {
        changes
            .deleted
            .iter()
            .filter(|p| p.ends_with(suffix) && files.get(p).is_none())
            .map(|p| resource_of(p))
            .collect::<Vec<_>>()
    };
    for (suffix, path) in [
        ("/subscriptionInformation.json", "/subscriptions"),
        ("/productInformation.json", "/products"),
        ("/apiInformation.json", "/apis"),
        ("/policyFragmentInformation.json", "/policyFragments"),
        ("/backendInformation.json", "/backends"),
        ("/namedValueInformation.json", "/namedValues"),
    ] {
        for resource in gone(suffix) {
            let Some((_, name)) = resource.split_once('/') else {
                continue;
            };
            let query = if path == "/products" {
                "?deleteSubscriptions=true"
            } else {
                ""
            };
            remote.delete(&format!("{path}/{name}{query}")).await?;
            report.deleted.push(resource);
        }
    }
    for deleted in &changes.deleted {
        if !deleted.ends_with("policy.xml") || files.get(deleted).is_some() {
            continue;
        }
        let parts: Vec<&str> = deleted.split('/').collect();
        let path = match parts.as_slice() {
            ["policy.xml"] => Some("/policy".to_owned()),
            ["apis", api, "policy.xml"] if files.children("apis").contains(&(*api).to_owned()) => {
                Some(format!("/apis/{api}/policy"))
            }
            ["apis", api, "operations", op, "policy.xml"]
                if files.children("apis").contains(&(*api).to_owned()) =>
            {
                Some(format!("/apis/{api}/operations/{op}/policy"))
            }
            ["products", product, "policy.xml"]
                if files.children("products").contains(&(*product).to_owned()) =>
            {
                Some(format!("/products/{product}/policy"))
            }
            _ => None,
        };
        if let Some(path) = path {
            remote.delete(&path).await?;
            report.deleted.push(deleted.clone());
        }
    }
    Ok(report)
}

/// What commit `rev` changed under `dir` (a folder inside a git work tree), by asking git.
pub fn commit_changes(dir: &std::path::Path, rev: &str) -> Result<CommitChanges, ApiOpsError> {
    let git = |args: &[&str]| -> Result<String, ApiOpsError> {
        let output = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()?;
        if !output.status.success() {
            return Err(ApiOpsError::Artifact {
                path: dir.display().to_string(),
                message: format!(
                    "git {}: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let prefix = git(&["rev-parse", "--show-prefix"])?.trim().to_owned();
    // `--root` lists a first commit's files as added.
    // `-z`: NUL-separated `status`, `path` pairs, no quoting of unusual names.
    let listing = git(&[
        "diff-tree",
        "--root",
        "--no-commit-id",
        "--name-status",
        "--no-renames",
        "-r",
        "-z",
        rev,
    ])?;
    let mut changes = CommitChanges::default();
    let mut fields = listing.split('\0').filter(|f| !f.is_empty());
    while let (Some(status), Some(path)) = (fields.next(), fields.next()) {
        let Some(relative) = path.strip_prefix(&prefix) else {
            continue; // outside the folder
        };
        if status.starts_with('D') {
            changes.deleted.insert(relative.to_owned());
        } else {
            changes.changed.insert(relative.to_owned());
        }
    }
    Ok(changes)
}
