//! `frontend api-key create`: makes a new API key, prints it once, and appends its SHA-256
//! hash (with subject, permissions and expiry) to the API-key file the frontend reads
//! (`global.authorization.apiKeys.file`). The key itself is stored nowhere.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clap::{Args, Subcommand};
use tonic_authz::{Role, api_key_sha256};

/// `frontend api-key ...`.
#[derive(Debug, Args)]
pub struct ApiKeyArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: ApiKeyCommand,
}

/// The API-key subcommands.
#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Creates a key, prints it (once) and appends its hash to the key file.
    Create(CreateArgs),
}

/// `frontend api-key create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// A permission the key grants, `namespace:role` (role read, write, admin or worker).
    /// Repeatable; at least one.
    #[arg(long = "permission", required = true)]
    pub permissions: Vec<String>,
    /// How long the key is valid (`90d`, `12h`); without it the key never expires.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub ttl: Option<Duration>,
    /// The subject calls made with the key are attributed to. Default: `api-key-` and the
    /// first 8 hex digits of the key's hash.
    #[arg(long)]
    pub subject: Option<String>,
    /// The API-key file to append to (created when missing, readable by its owner only).
    #[arg(long)]
    pub file: PathBuf,
}

/// Runs an `api-key` subcommand; returns what to print on standard output (the new key).
///
/// # Errors
/// A permission that is not `namespace:role`, a blank subject, or a file that cannot be
/// written; the message says which.
pub fn run(args: &ApiKeyArgs) -> Result<String, String> {
    match &args.command {
        ApiKeyCommand::Create(create) => self::create(create, SystemTime::now()),
    }
}

fn create(args: &CreateArgs, now: SystemTime) -> Result<String, String> {
    for permission in &args.permissions {
        let known = permission.split_once(':').is_some_and(|(ns, role)| {
            !ns.is_empty() && Role::from_permission_name(role) != Role::UNDEFINED
        });
        if !known {
            return Err(format!(
                "--permission {permission:?}: expected namespace:role with role read, write, admin or worker"
            ));
        }
    }
    let key = new_key();
    let hash = api_key_sha256(&key);
    let subject = args
        .subject
        .clone()
        .unwrap_or_else(|| format!("api-key-{}", &hash[..8]));
    if subject.trim().is_empty() {
        return Err("--subject must not be blank".to_owned());
    }
    let entry = entry_text(
        &hash,
        &subject,
        &args.permissions,
        args.ttl.map(|ttl| now + ttl),
    );
    append(&args.file, &entry)
        .map_err(|e| format!("cannot append to {}: {e}", args.file.display()))?;
    Ok(key)
}

/// 32 random bytes from two version-4 UUIDs (244 random bits), base64url, with a prefix that
/// makes leaked keys easy to search for. Never contains a `.`, so it is never JWT-shaped.
fn new_key() -> String {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    format!("tak_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// One YAML list entry of the key file; strings are JSON-quoted, which YAML reads as is.
fn entry_text(
    hash: &str,
    subject: &str,
    permissions: &[String],
    expires_at: Option<SystemTime>,
) -> String {
    let quote = |s: &str| serde_json::Value::from(s).to_string();
    let permissions: Vec<String> = permissions.iter().map(|p| quote(p)).collect();
    let mut text = format!(
        "- sha256: {hash}\n  subject: {}\n  permissions: [{}]\n",
        quote(subject),
        permissions.join(", ")
    );
    if let Some(at) = expires_at {
        text.push_str(&format!(
            "  expiresAt: {}\n",
            humantime::format_rfc3339_seconds(at)
        ));
    }
    text
}

fn append(path: &Path, entry: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let needs_newline = std::fs::read(path)
        .map(|bytes| bytes.last().is_some_and(|b| *b != b'\n'))
        .unwrap_or(false);
    let mut file = options.open(path)?;
    if needs_newline {
        file.write_all(b"\n")?;
    }
    file.write_all(entry.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_authz::{ApiKeyClaimMapper, AuthInfo, ClaimMapper};

    #[tokio::test]
    async fn created_keys_are_accepted_by_the_mapper_until_they_expire() {
        let dir = std::env::temp_dir().join(format!("api-key-cmd-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("keys.yaml");
        std::fs::write(&file, "# keys\n- sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n  subject: older").expect("seed");
        let args = |perms: &[&str], ttl| CreateArgs {
            permissions: perms.iter().map(|p| (*p).to_owned()).collect(),
            ttl,
            subject: None,
            file: file.clone(),
        };
        let now = SystemTime::now();
        let key = create(
            &args(&["default:write"], Some(Duration::from_secs(90 * 86400))),
            now,
        )
        .expect("created");
        assert!(key.starts_with("tak_") && !key.contains('.'));
        let expired = create(
            &args(&["default:read"], Some(Duration::ZERO)),
            now - Duration::from_secs(5),
        )
        .expect("created");
        assert!(create(&args(&["default:owner"], None), now).is_err());
        let mapper = ApiKeyClaimMapper::builder(&file)
            .build()
            .await
            .expect("file parses");
        assert_eq!(mapper.keys_loaded(), 3);
        let claims = mapper
            .get_claims(&AuthInfo::with_token(format!("Bearer {key}")))
            .await
            .expect("accepted");
        assert_eq!(claims.namespace_role("default"), Role::WRITER);
        assert!(claims.subject().starts_with("api-key-"));
        let refused = mapper
            .get_claims(&AuthInfo::with_token(format!("Bearer {expired}")))
            .await
            .expect_err("expired");
        assert_eq!(refused.message(), "API key is expired");
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
