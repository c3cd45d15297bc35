//! What dev mode prints at start: where it listens, where the certificates are, ready-made
//! tokens and `temporal` CLI commands to paste.

use std::{fmt::Write as _, net::SocketAddr, path::Path};

use super::{DevSetup, ReadyToken};

/// The start-up guide for a dev Frontend listening on `addr`, trusting the embedded issuer
/// at the URL `issuer` (through discovery).
pub fn guide(
    addr: SocketAddr,
    setup: &DevSetup,
    issuer: &str,
    tokens: &[ReadyToken],
    namespaces: &[String],
) -> String {
    let dir = setup.dir();
    let address = if addr.ip().is_unspecified() {
        format!("127.0.0.1:{}", addr.port())
    } else {
        addr.to_string()
    };
    let token = |name: &str| {
        tokens
            .iter()
            .find(|t| t.name == name)
            .map_or_else(String::new, |t| t.token.clone())
    };
    let tls = format!(
        "--address {address} --tls-ca-path {} --tls-cert-path {} --tls-key-path {} --tls-server-name localhost",
        shell(&dir.ca_cert()),
        shell(&dir.client_cert()),
        shell(&dir.client_key()),
    );
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "\ntonic-authz dev Frontend: mutual TLS + JWT + Temporal's default authorizer"
    );
    let _ = writeln!(
        out,
        "  address        {address} (TLS server name: localhost)"
    );
    let _ = writeln!(out, "  namespaces     {}", namespaces.join(", "));
    let _ = writeln!(out, "  dev directory  {}", dir.root().display());
    let _ = writeln!(out, "  CA             {}", dir.ca_cert().display());
    let _ = writeln!(
        out,
        "  client cert    {}  key {}",
        dir.client_cert().display(),
        dir.client_key().display()
    );
    let _ = writeln!(
        out,
        "  admin cert     {}  key {}  (system admin without a token)",
        dir.admin_cert().display(),
        dir.admin_key().display()
    );
    let _ = writeln!(
        out,
        "  token issuer   {issuer} (OpenID discovery: {issuer}{})",
        tonic_authz::DISCOVERY_PATH
    );
    let _ = writeln!(
        out,
        "\nTokens (valid 24h, also in {}):",
        dir.root().join("tokens").display()
    );
    for t in tokens {
        let _ = writeln!(out, "  {:<15} {}", t.label, t.token);
    }
    let _ = writeln!(
        out,
        "  more:           cargo run -p tonic-authz-examples --bin frontend -- token --permission default:read --ttl 1h"
    );
    let _ = writeln!(out, "\nWith the temporal CLI:");
    let _ = writeln!(out, "  # describe the default namespace (system admin)");
    let _ = writeln!(
        out,
        "  temporal operator namespace describe -n default {tls} --api-key {}",
        token("admin")
    );
    let _ = writeln!(out, "  # start a workflow (default writer)");
    let _ = writeln!(
        out,
        "  temporal workflow start -n default --type Hello --task-queue hello {tls} --api-key {}",
        token("writer")
    );
    let _ = writeln!(
        out,
        "  # list workflows (default reader); `workflow start` with this token is refused"
    );
    let _ = writeln!(
        out,
        "  temporal workflow list -n default {tls} --api-key {}",
        token("reader")
    );
    out
}

/// A path as one shell word (quoted when it holds anything unusual).
fn shell(path: &Path) -> String {
    let text = path.display().to_string();
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:@%".contains(c));
    if plain {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_with_spaces_are_quoted() {
        assert_eq!(shell(Path::new("/a/b.pem")), "/a/b.pem");
        assert_eq!(
            shell(Path::new("/my dir/it's.pem")),
            r"'/my dir/it'\''s.pem'"
        );
    }
}
