//! Certificates per service: create or replace (an upload, parsed by the domain), read,
//! delete, with the rules that need the other rows — a certificate a policy names (by id or
//! thumbprint, in a document or a policy fragment) cannot be deleted, and a replacement must
//! leave every document that names it compiling (a certificate without its private key
//! cannot take the place of one that authenticates the gateway). The private key never
//! leaves the store except to the gateway: not in reads, not in the audit log.

use crate::change::{Change, Upsert, begin};
use crate::entity::{certificate, policy_fragment};
use crate::policy_fragments::{documents, scope_of};
use crate::{Actor, Saved, Store, StoreError, services};
use chrono::Utc;
use portcullis_domain::{Certificate, CertificateName, PolicyLibrary, ServiceName};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use std::sync::Arc;

/// A certificate as stored, with where policies name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRecord {
    pub name: CertificateName,
    pub certificate: Arc<Certificate>,
    /// The documents (`API echo`, `All APIs`) and fragments (`fragment f`) that name it.
    pub used_by: Vec<String>,
}

fn resource(service: &ServiceName, name: &CertificateName) -> String {
    format!("/services/{service}/certificates/{name}")
}

/// The audit log's view: what identifies the certificate, never its key.
fn as_json(certificate: &Certificate) -> serde_json::Value {
    serde_json::json!({
        "subject": certificate.subject(),
        "thumbprint": certificate.thumbprint(),
        "expirationDate": certificate.expiration_date(),
        "hasPrivateKey": certificate.has_private_key(),
    })
}

fn parse_row(row: &certificate::Model) -> Result<(CertificateName, Arc<Certificate>), StoreError> {
    let corrupt = |e| StoreError::corrupt(format!("certificate {}", row.name), e);
    Ok((
        CertificateName::parse(&row.name).map_err(corrupt)?,
        Arc::new(Certificate::from_stored(&row.pem).map_err(corrupt)?),
    ))
}

async fn rows(
    db: &impl ConnectionTrait,
    service_id: i64,
) -> Result<Vec<certificate::Model>, StoreError> {
    Ok(certificate::Entity::find()
        .filter(certificate::Column::ServiceId.eq(service_id))
        .order_by_asc(certificate::Column::Name)
        .all(db)
        .await?)
}

/// Whether `text` names the certificate `id` (thumbprint `thumbprint`).
fn names(text: &str, id: &str, thumbprint: &str) -> bool {
    portcullis_domain::certificate::named_in(text)
        .iter()
        .any(|named| named == id || named.eq_ignore_ascii_case(thumbprint))
}

/// Where the service's policies name the certificate: document labels and `fragment <id>`.
async fn users(
    db: &impl ConnectionTrait,
    service_id: i64,
    id: &str,
    thumbprint: &str,
) -> Result<Vec<String>, StoreError> {
    let mut labels = Vec::new();
    for document in documents(db, service_id).await? {
        if names(&document.xml, id, thumbprint) {
            labels.push(scope_of(db, &document).await?.1);
        }
    }
    let fragments = policy_fragment::Entity::find()
        .filter(policy_fragment::Column::ServiceId.eq(service_id))
        .all(db)
        .await?;
    for fragment in fragments {
        if names(&fragment.value, id, thumbprint) {
            labels.push(format!("fragment {}", fragment.name));
        }
    }
    labels.sort();
    Ok(labels)
}

/// A service's fragments, certificates and backends (for compiling documents).
pub(crate) async fn library(
    db: &impl ConnectionTrait,
    service_id: i64,
) -> Result<PolicyLibrary, StoreError> {
    let mut library = PolicyLibrary::new(crate::policy_fragments::map(db, service_id).await?);
    for row in rows(db, service_id).await? {
        let (name, certificate) = parse_row(&row)?;
        library.add_certificate(name.as_str(), certificate);
    }
    crate::backends::add_to(&mut library, db, service_id).await?;
    Ok(library)
}

impl Store {
    pub async fn list_certificates(
        &self,
        service: &ServiceName,
    ) -> Result<Vec<CertificateRecord>, StoreError> {
        let service_row = services::find(&self.db, service).await?;
        let mut records = Vec::new();
        for row in rows(&self.db, service_row.id).await? {
            let (name, certificate) = parse_row(&row)?;
            let used_by = users(
                &self.db,
                service_row.id,
                name.as_str(),
                certificate.thumbprint(),
            )
            .await?;
            records.push(CertificateRecord {
                name,
                certificate,
                used_by,
            });
        }
        Ok(records)
    }

    pub async fn get_certificate(
        &self,
        service: &ServiceName,
        name: &CertificateName,
    ) -> Result<CertificateRecord, StoreError> {
        let service_row = services::find(&self.db, service).await?;
        let row = certificate::Entity::find()
            .filter(certificate::Column::ServiceId.eq(service_row.id))
            .filter(certificate::Column::Name.eq(name.as_str()))
            .one(&self.db)
            .await?
            .ok_or_else(|| StoreError::not_found("Certificate", name))?;
        let (name, certificate) = parse_row(&row)?;
        let used_by = users(
            &self.db,
            service_row.id,
            name.as_str(),
            certificate.thumbprint(),
        )
        .await?;
        Ok(CertificateRecord {
            name,
            certificate,
            used_by,
        })
    }

    /// The fragments and certificates a service's documents are compiled with.
    pub async fn policy_library(&self, service: &ServiceName) -> Result<PolicyLibrary, StoreError> {
        let service_row = services::find(&self.db, service).await?;
        library(&self.db, service_row.id).await
    }

    /// Creates or replaces a certificate. A replacement must keep every document and
    /// fragment that names the old one compiling.
    pub async fn put_certificate(
        &self,
        actor: &Actor,
        service: &ServiceName,
        name: &CertificateName,
        certificate: Certificate,
    ) -> Result<Saved, StoreError> {
        let _guard = self.write_guard().await;
        let txn = begin(&self.db).await?;
        let service_row = services::find(&txn, service).await?;
        let existing = certificate::Entity::find()
            .filter(certificate::Column::ServiceId.eq(service_row.id))
            .filter(certificate::Column::Name.eq(name.as_str()))
            .one(&txn)
            .await?;
        let mut before = None;
        if let Some(row) = &existing {
            let (_, old) = parse_row(row)?;
            before = Some(Some(as_json(&old)));
            let mut library = library(&txn, service_row.id).await?;
            library.add_certificate(name.as_str(), Arc::new(certificate.clone()));
            let named = crate::named_values::map(&txn, service_row.id).await?;
            for document in documents(&txn, service_row.id).await? {
                if names(&document.xml, name.as_str(), old.thumbprint()) {
                    let (kind, label) = scope_of(&txn, &document).await?;
                    portcullis_domain::policy_fragment::still_compiles(
                        &document.xml,
                        kind,
                        &label,
                        &named,
                        &library,
                    )?;
                }
            }
        }
        let mut active = match existing {
            Some(row) => row.into_active_model(),
            None => certificate::ActiveModel {
                service_id: Set(service_row.id),
                name: Set(name.as_str().to_owned()),
                ..Default::default()
            },
        };
        active.pem = Set(certificate.to_pem());
        active.updated_at = Set(Utc::now());
        active.save(&txn).await?;
        Upsert {
            actor,
            service: Some(service),
            resource: resource(service, name),
            before,
            after: Some(as_json(&certificate)),
            touches_subscriptions: false,
        }
        .commit(txn)
        .await
    }

    /// Deletes a certificate that no policy names.
    pub async fn delete_certificate(
        &self,
        actor: &Actor,
        service: &ServiceName,
        name: &CertificateName,
    ) -> Result<(), StoreError> {
        let _guard = self.write_guard().await;
        let txn = begin(&self.db).await?;
        let service_row = services::find(&txn, service).await?;
        let row = certificate::Entity::find()
            .filter(certificate::Column::ServiceId.eq(service_row.id))
            .filter(certificate::Column::Name.eq(name.as_str()))
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::not_found("Certificate", name))?;
        let (_, found) = parse_row(&row)?;
        let used_by = users(&txn, service_row.id, name.as_str(), found.thumbprint()).await?;
        if !used_by.is_empty() {
            return Err(StoreError::Conflict {
                code: "CertificateInUse",
                message: format!(
                    "The certificate '{name}' is used by the policy at {}; remove it from the policies first.",
                    used_by.join(", ")
                ),
            });
        }
        certificate::Entity::delete_by_id(row.id).exec(&txn).await?;
        Change {
            actor,
            action: "delete",
            service: Some(service),
            resource: resource(service, name),
            before: Some(as_json(&found)),
            after: None,
            touches_subscriptions: false,
        }
        .commit(txn)
        .await?;
        Ok(())
    }
}
