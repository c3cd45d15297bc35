//! Where dev mode keeps its files, and the name of each one.
//!
//! The default directory is `target/tonic-authz-dev/` under the workspace root, so a
//! `cargo clean` wipes it and it never lands in version control. The workspace root is known
//! at compile time (this crate sits one level below it); when that path no longer exists (the
//! binary was copied elsewhere) the current directory's `target/` is used instead.

use std::path::{Path, PathBuf};

/// The files of one dev directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevDir {
    root: PathBuf,
}

impl DevDir {
    /// The dev directory at `root` (nothing is created until something is written).
    pub fn new(root: impl Into<PathBuf>) -> DevDir {
        DevDir { root: root.into() }
    }

    /// The default: `<workspace>/target/tonic-authz-dev`, or `./target/tonic-authz-dev` when
    /// the workspace this binary was built from is gone.
    pub fn default_location() -> DevDir {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let base = if workspace.join("Cargo.toml").is_file() {
            workspace
        } else {
            PathBuf::from(".")
        };
        let root = base.join("target").join("tonic-authz-dev");
        // Prefer a clean absolute path in what we print; fall back to the joined one.
        let root = std::path::absolute(&root).unwrap_or(root);
        DevDir::new(normalize(&root))
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The dev CA certificate (PEM): trusted by clients for the server, and by the server for
    /// client certificates.
    pub fn ca_cert(&self) -> PathBuf {
        self.root.join("ca.pem")
    }

    /// The dev CA private key (PEM).
    pub fn ca_key(&self) -> PathBuf {
        self.root.join("ca.key")
    }

    /// The server certificate for `localhost` and `127.0.0.1` (PEM).
    pub fn server_cert(&self) -> PathBuf {
        self.root.join("server.pem")
    }

    /// The server private key (PEM).
    pub fn server_key(&self) -> PathBuf {
        self.root.join("server.key")
    }

    /// The ordinary client certificate (PEM): identifies the connection, grants nothing.
    pub fn client_cert(&self) -> PathBuf {
        self.root.join("client.pem")
    }

    /// The ordinary client private key (PEM).
    pub fn client_key(&self) -> PathBuf {
        self.root.join("client.key")
    }

    /// The admin client certificate (PEM): system admin without a token.
    pub fn admin_cert(&self) -> PathBuf {
        self.root.join("admin-client.pem")
    }

    /// The admin client private key (PEM).
    pub fn admin_key(&self) -> PathBuf {
        self.root.join("admin-client.key")
    }

    /// The JWT signing key (EC P-256, PKCS#8 PEM).
    pub fn signing_key(&self) -> PathBuf {
        self.root.join("jwt-signing.key")
    }

    /// Where the ready-made token named `name` is written.
    pub fn token(&self, name: &str) -> PathBuf {
        self.root.join("tokens").join(format!("{name}.jwt"))
    }
}

/// Drops `.` and resolves `..` lexically, so printed paths are the short ones.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_under_the_workspace_target() {
        let dir = DevDir::default_location();
        assert!(dir.root().is_absolute());
        assert!(dir.root().ends_with("target/tonic-authz-dev"));
        let workspace = dir
            .root()
            .parent()
            .and_then(Path::parent)
            .unwrap_or(dir.root());
        assert!(workspace.join("Cargo.toml").is_file());
        assert!(workspace.join("examples").is_dir());
        assert_eq!(dir.token("reader"), dir.root().join("tokens/reader.jwt"));
    }
}
