//! TLS for PostgreSQL with rustls, the stack reqwest already uses: the connector that checks a
//! server's certificate as `sslmode` asks (see [`Verify`]), and the words for a certificate that
//! does not pass.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::settings::{Invalid, RootCerts, Verify};

/// The connector for `verify`, its root certificates read now: a missing or unreadable file is
/// a setting to fix before connecting.
pub(crate) fn connector(verify: &Verify) -> Result<MakeRustlsConnect, Invalid> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let (roots, name) = match verify {
        Verify::Nothing => (None, false),
        Verify::Chain { roots, name } => (Some(Arc::new(root_store(roots)?)), *name),
    };
    let verifier = Verifier {
        roots,
        name,
        provider: provider.clone(),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(Invalid::Tls)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

fn root_store(roots: &RootCerts) -> Result<RootCertStore, Invalid> {
    let mut store = RootCertStore::empty();
    match roots {
        RootCerts::File(path) => {
            let unreadable = |error| Invalid::RootCertFile {
                path: path.clone(),
                error,
            };
            let certificates = CertificateDer::pem_file_iter(path)
                .map_err(|error| unreadable(pem_io_error(error)))?;
            for certificate in certificates {
                let certificate = certificate.map_err(|error| unreadable(pem_io_error(error)))?;
                store
                    .add(certificate)
                    .map_err(|error| unreadable(std::io::Error::other(error)))?;
            }
            if store.is_empty() {
                return Err(Invalid::NoCertificates(path.clone()));
            }
        }
        RootCerts::System => {
            let found = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(found.certs);
            if store.is_empty() {
                let reasons: Vec<String> = found.errors.iter().map(ToString::to_string).collect();
                let reasons = if reasons.is_empty() {
                    "none found".to_string()
                } else {
                    reasons.join("; ")
                };
                return Err(Invalid::SystemRoots(reasons));
            }
        }
    }
    Ok(store)
}

fn pem_io_error(error: rustls::pki_types::pem::Error) -> std::io::Error {
    match error {
        rustls::pki_types::pem::Error::Io(error) => error,
        other => std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{other:?}")),
    }
}

/// Checks a server's certificate against `roots` (not at all without them), and its names
/// against the host's with `name`; the handshake's signatures are always checked, so that the
/// certificate checked is the server's own.
#[derive(Debug)]
struct Verifier {
    roots: Option<Arc<RootCertStore>>,
    name: bool,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(roots) = &self.roots {
            let certificate = ParsedCertificate::try_from(end_entity)?;
            rustls::client::verify_server_cert_signed_by_trust_anchor(
                &certificate,
                roots,
                intermediates,
                now,
                self.provider.signature_verification_algorithms.all,
            )?;
            if self.name {
                rustls::client::verify_server_name(&certificate, server_name)?;
            }
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// What failed in the TLS handshake under `error`, in a few words, when it did: the
/// certificate's flaw (unknown issuer, name mismatch, expired...) first, then rustls's account.
pub(crate) fn failure(error: &tokio_postgres::Error) -> Option<String> {
    let rustls_error = rustls_error(error)?;
    let flaw = match rustls_error {
        rustls::Error::InvalidCertificate(flaw) => match flaw {
            CertificateError::UnknownIssuer => "unknown issuer",
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                "name mismatch"
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => "expired",
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "not valid yet"
            }
            CertificateError::Revoked => "revoked",
            _ => "invalid certificate",
        },
        _ => return Some(format!("TLS handshake failed: {rustls_error}")),
    };
    Some(format!(
        "the server's certificate does not verify ({flaw}): {rustls_error}"
    ))
}

/// The rustls error somewhere in `error`'s causes: tokio-rustls hands it over inside an
/// `io::Error`, whose `source` skips it.
fn rustls_error(error: &tokio_postgres::Error) -> Option<&rustls::Error> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(current) = cause {
        if let Some(found) = current.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        let inner = current
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|inner| inner as &(dyn std::error::Error + 'static));
        cause = inner.or_else(|| current.source());
    }
    None
}
