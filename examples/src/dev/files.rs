//! Reading and writing dev files; private keys are written readable by the owner only.

use std::{fs, io::Write, path::Path};

use super::DevError;

/// Writes `contents` to `path` (creating its directory), owner-only when `secret`.
pub(crate) fn write(path: &Path, contents: &str, secret: bool) -> Result<(), DevError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| DevError::io("create", parent, e))?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options
        .open(path)
        .map_err(|e| DevError::io("write", path, e))?;
    file.write_all(contents.as_bytes())
        .map_err(|e| DevError::io("write", path, e))
}

/// Reads `path` as text; `Ok(None)` when it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<String>, DevError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(DevError::io("read", path, e)),
    }
}
