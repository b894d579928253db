//! Certificates as OpenSSL writes them (see `tests/certificates/README.md`): every form an
//! upload may take gives the same certificate.

use base64::Engine as _;
use portcullis_domain::Certificate;

const THUMBPRINT: &str = "37274B61590E0F5C7578D9423CDB6439DDADD670";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/certificates/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn base64(name: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(fixture(name))
}

fn text(name: &str) -> String {
    String::from_utf8(fixture(name)).unwrap()
}

#[test]
fn openssl_pfx_files_open_in_both_encryptions() {
    for file in ["openssl-aes.pfx", "openssl-legacy.pfx"] {
        let certificate = Certificate::parse_upload(&base64(file), Some("Portcullis-1"))
            .unwrap_or_else(|e| panic!("{file}: {e:?}"));
        assert_eq!(certificate.thumbprint(), THUMBPRINT, "{file}");
        assert!(certificate.has_private_key(), "{file}");
        assert!(
            certificate.subject().contains("openssl-client.example"),
            "{file}: {}",
            certificate.subject()
        );
        let wrong = Certificate::parse_upload(&base64(file), Some("nope")).unwrap_err();
        assert_eq!(wrong.field, "password", "{file}: {wrong:?}");
    }
}

#[test]
fn pem_in_both_key_forms_and_a_cer_file_give_the_same_certificate() {
    for key in ["rsa.key", "rsa-pkcs1.key"] {
        let upload = format!("{}{}", text("rsa.pem"), text(key));
        let certificate = Certificate::parse_upload(&upload, None).unwrap();
        assert_eq!(certificate.thumbprint(), THUMBPRINT, "{key}");
        assert!(certificate.has_private_key(), "{key}");
        let stored = Certificate::from_pem(&certificate.to_pem()).unwrap();
        assert_eq!(stored, certificate, "{key}");
    }
    let cer = Certificate::parse_upload(&base64("rsa.cer"), None).unwrap();
    assert_eq!(cer.thumbprint(), THUMBPRINT);
    assert!(!cer.has_private_key());
    let alone = Certificate::parse_upload(&text("rsa.pem"), None).unwrap();
    assert_eq!(alone.thumbprint(), THUMBPRINT);
    assert!(matches!(
        alone.info("x").public_key,
        portcullis_policy::library::PublicKey::Rsa(_)
    ));
}

#[test]
fn both_pfx_encryptions_store_the_same_text() {
    let aes = Certificate::parse_upload(&base64("openssl-aes.pfx"), Some("Portcullis-1")).unwrap();
    let legacy =
        Certificate::parse_upload(&base64("openssl-legacy.pfx"), Some("Portcullis-1")).unwrap();
    assert_eq!(aes.to_pem(), legacy.to_pem());
}
