//! `serve` keeps the files it opens owner-only (issue 29 §7): the SQLite database (with its `-wal` and `-shm`),
//! the data keys, the exchange key and the audit anchors. A file another user of the server could read — a
//! database copied in with `cp`, a key file made with a permissive umask — is corrected at start, and the
//! administrator is told which and from what.

use std::path::{Path, PathBuf};

use hcp_app::keys::KeySource;

/// The files `serve` opens for a database at `url` with `keys`, existing or not.
pub fn served_files(url: &str, keys: &KeySource) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(db) = crate::backup::sqlite_file(url) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = db.clone().into_os_string();
            p.push(suffix);
            out.push(PathBuf::from(p));
        }
    }
    if let KeySource::File(p) = keys {
        out.push(p.clone());
    }
    out.push(crate::commands::county_key_path(keys));
    out.push(crate::commands::anchor_file_path(keys));
    out
}

/// Makes every existing file of `paths` readable and writable by its owner only; one line per file changed.
pub fn make_owner_only(paths: &[PathBuf]) -> Vec<String> {
    paths.iter().filter_map(|p| correct(p)).collect()
}

#[cfg(unix)]
fn correct(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        return None;
    }
    match std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
        Ok(()) => Some(format!("已将 {} 的权限从 {mode:o} 改为 600(仅本账户可读写)", path.display())),
        Err(e) => Some(format!("{} 的权限为 {mode:o},其他账户可读,但无法更改:{e}", path.display())),
    }
}

#[cfg(not(unix))]
fn correct(_path: &Path) -> Option<String> {
    None
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn readable_files_are_made_owner_only_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("hcp.db");
        let closed = dir.path().join("hcp.db.keys");
        std::fs::write(&open, "x").unwrap();
        std::fs::write(&closed, "x").unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o600)).unwrap();
        let said = make_owner_only(&[open.clone(), closed.clone(), dir.path().join("absent")]);
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].contains("hcp.db") && said[0].contains("644"), "{said:?}");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&open), mode(&closed)), (0o600, 0o600));
    }
}
