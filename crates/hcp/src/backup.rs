//! `hcp backup DIR`, `hcp backup verify DIR`, `hcp restore DIR` (issue 18 §3). A backup is a directory: a
//! consistent copy of the SQLite database taken while serving (`VACUUM INTO`), the data keys beside it —
//! without them the evaluators' data in the copy cannot be read — the exchange key and audit anchors when
//! there are any, and `manifest.json` with each file's size and SM3. Verify opens a copy of the copy and checks
//! the digests, the keys' fingerprint, the audit chain and the rollups. Restore verifies first and never
//! overwrites a database that holds a county unless told to (and then keeps the old file aside).
//! PostgreSQL is backed up with pg_dump; `hcp backup` says how and keeps the keys.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::Utc;
use hcp_app::keys::{KeySource, Keys};
use hcp_store::{Backend, Store};
use serde::{Deserialize, Serialize};

/// The copy of the database in a backup directory.
pub const DATABASE: &str = "hcp.db";
/// The data keys in a backup directory.
pub const KEYS: &str = "hcp.db.keys";
const EXCHANGE_KEY: &str = "hcp.db.keys.sm2";
const ANCHORS: &str = "hcp.db.keys.anchors";
const MANIFEST: &str = "manifest.json";

#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub program: String,
    pub schema_version: i64,
    pub backend: String,
    pub created_at: chrono::DateTime<Utc>,
    pub files: Vec<ManifestFile>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ManifestFile {
    pub name: String,
    pub bytes: u64,
    pub sm3: String,
}

/// A new, empty directory to write a backup into: refused if it holds anything or cannot be written.
fn fresh_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).with_context(|| format!("无法读取备份目录 {}", dir.display()))?;
        anyhow::ensure!(
            entries.next().is_none(),
            "备份目录 {} 不为空:每次备份请用一个新的空目录(如按日期命名),已有的文件不会被覆盖",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("无法创建备份目录 {}", dir.display()))?;
    owner_only(dir, 0o700)?;
    let probe = dir.join(".hcp-write-test");
    std::fs::write(&probe, b"").with_context(|| format!("备份目录 {} 不可写", dir.display()))?;
    std::fs::remove_file(&probe)?;
    Ok(())
}

fn digest(path: &Path) -> anyhow::Result<ManifestFile> {
    let file = std::fs::File::open(path).with_context(|| format!("无法读取 {}", path.display()))?;
    let bytes = file.metadata()?.len();
    let sm3 = hcp_crypto::sm3_reader(std::io::BufReader::new(file))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(ManifestFile { name, bytes, sm3: hcp_crypto::hex(&sm3) })
}

/// Makes a file or folder of a backup the owner's only (issue 29 §7): a copy of the database holds what the
/// database holds, and its folder holds the keys.
fn owner_only(path: &Path, mode: u32) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("无法设置 {} 的权限", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// Writes `bytes` readable by the owner only (keys).
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).with_context(|| format!("无法写入 {}", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

/// The key files that go with the database: the data keys (required), the exchange key and the anchors.
fn key_files(keys: &KeySource) -> anyhow::Result<Vec<(&'static str, Vec<u8>)>> {
    let mut out = Vec::new();
    match keys {
        KeySource::Text(t) => out.push((KEYS, t.as_bytes().to_vec())),
        KeySource::File(p) => out.push((
            KEYS,
            std::fs::read(p)
                .with_context(|| format!("无法读取数据密钥文件 {}:没有它,备份中的评价人信息无法读取", p.display()))?,
        )),
    }
    for (name, path) in
        [(EXCHANGE_KEY, crate::commands::county_key_path(keys)), (ANCHORS, crate::commands::anchor_file_path(keys))]
    {
        if path.exists() {
            out.push((name, std::fs::read(&path).with_context(|| format!("无法读取 {}", path.display()))?));
        }
    }
    Ok(out)
}

/// What a backup wrote.
#[derive(Debug)]
pub struct BackupReport {
    pub dir: PathBuf,
    pub files: Vec<ManifestFile>,
    pub seconds: f64,
}

/// Takes a backup of the database at `store` (already open, perhaps serving) into the new directory `dir`.
pub async fn backup(store: &Store, keys: &KeySource, dir: &Path) -> anyhow::Result<BackupReport> {
    let started = std::time::Instant::now();
    fresh_dir(dir)?;
    let version = store.server_version().await?;
    let mut files = Vec::new();
    if store.backend() == Backend::Sqlite {
        let db = dir.join(DATABASE);
        store.backup_into(&db).await.with_context(|| format!("无法写入数据库副本 {}", db.display()))?;
        owner_only(&db, 0o600)?;
        files.push(digest(&db)?);
    }
    for (name, bytes) in key_files(keys)? {
        let path = dir.join(name);
        write_private(&path, &bytes)?;
        files.push(digest(&path)?);
    }
    let manifest = Manifest {
        program: format!("hcp {}", env!("CARGO_PKG_VERSION")),
        schema_version: Store::schema_version(),
        backend: match store.backend() {
            Backend::Sqlite => format!("sqlite {version}"),
            Backend::Postgres => format!("postgresql {version}"),
        },
        created_at: Utc::now(),
        files,
    };
    write_private(&dir.join(MANIFEST), serde_json::to_string_pretty(&manifest)?.as_bytes())?;
    Ok(BackupReport { dir: dir.to_path_buf(), files: manifest.files, seconds: started.elapsed().as_secs_f64() })
}

/// What a verification found good.
#[derive(Debug)]
pub struct VerifyReport {
    pub manifest: Manifest,
    pub audit_entries: i64,
}

fn read_manifest(dir: &Path) -> anyhow::Result<Manifest> {
    let path = dir.join(MANIFEST);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("{} 不是备份目录:没有 {MANIFEST}", dir.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} 已损坏,无法读取", path.display()))
}

/// Checks a backup directory: every file's size and SM3 against the manifest; then, on a scratch copy of the
/// database, the keys' fingerprint, the audit chain and the rollups.
pub async fn verify(dir: &Path) -> anyhow::Result<VerifyReport> {
    verify_against(dir, None).await
}

/// [`verify`], and the copy's audit chain also against the anchors in `live_anchors` (the file beside the
/// server's keys): a restore must not quietly put back a chain shorter than, or different from, what was
/// anchored since (issue 29 §2).
async fn verify_against(dir: &Path, live_anchors: Option<&Path>) -> anyhow::Result<VerifyReport> {
    let manifest = read_manifest(dir)?;
    for f in &manifest.files {
        let path = dir.join(&f.name);
        anyhow::ensure!(path.exists(), "备份文件 {} 缺失", path.display());
        let now = digest(&path)?;
        anyhow::ensure!(
            now.bytes == f.bytes && now.sm3 == f.sm3,
            "备份文件 {} 已损坏:SM3 摘要与清单不符(清单 {},实际 {})",
            path.display(),
            f.sm3,
            now.sm3
        );
    }
    anyhow::ensure!(manifest.files.iter().any(|f| f.name == KEYS), "备份中没有数据密钥 {KEYS}:评价人信息将无法读取");
    if !manifest.files.iter().any(|f| f.name == DATABASE) {
        // A PostgreSQL backup: the dump is pg_dump's to check; the keys are here and intact.
        return Ok(VerifyReport { manifest, audit_entries: 0 });
    }
    let scratch = tempfile::tempdir()?;
    let copy = scratch.path().join(DATABASE);
    std::fs::copy(dir.join(DATABASE), &copy)?;
    let url = format!("sqlite://{}", copy.display());
    let store = crate::commands::open_store(&url, 2).await.context("备份中的数据库无法打开")?;
    let keys = Keys::load(KeySource::File(dir.join(KEYS)), false)?;
    let recorded = store.key_fingerprint().await?;
    anyhow::ensure!(
        recorded.as_deref().is_none_or(|fp| fp == keys.current().fingerprint()),
        "备份中的数据密钥与数据库不符(数据库登记 {},密钥文件 {})",
        recorded.unwrap_or_default(),
        keys.current().fingerprint()
    );
    store.set_audit_key(keys.current().audit_key());
    // The chain against the anchors saved with the copy: downgraded, shortened or rewritten is refused.
    let anchors = crate::audit::anchors_in(&dir.join(ANCHORS))?;
    let audit_entries = crate::audit::check_chain(&store, &anchors, crate::audit::Depth::Full)
        .await
        .map_err(|e| anyhow::anyhow!("备份中的{e}"))?
        .entries;
    if let Some(path) = live_anchors {
        let live = crate::audit::anchors_in(path)?;
        crate::audit::check_chain(&store, &live, crate::audit::Depth::SinceLastAnchor).await.map_err(|e| {
            anyhow::anyhow!(
                "备份与本机的锚点文件 {} 不符:{e}\n如确要恢复到较早的备份(例如数据库损毁后),请先停止服务,再加 --force:现有锚点文件将改名保留,换用备份中的锚点。",
                path.display()
            )
        })?;
    }
    let mismatches = store.rollup_mismatches().await?;
    anyhow::ensure!(mismatches.is_empty(), "备份中的统计汇总与逐条重算不一致:{}", mismatches.join(";"));
    store.close().await;
    Ok(VerifyReport { manifest, audit_entries })
}

/// The SQLite file a `sqlite://` URL names.
pub(crate) fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    Some(PathBuf::from(rest.split('?').next().unwrap_or(rest)))
}

/// Restores a verified backup into the SQLite database `url` names (and its keys where `keys` says). A
/// database that holds a county is kept unless `force`, and then moved aside, never deleted.
pub async fn restore(url: &str, keys: &KeySource, dir: &Path, force: bool) -> anyhow::Result<Vec<PathBuf>> {
    let Some(target) = sqlite_file(url) else {
        anyhow::bail!(
            "PostgreSQL 的数据请用 pg_restore 从 pg_dump 的备份恢复;恢复后把备份目录中的 {KEYS} 放回原处(--data-keys-file)"
        );
    };
    let live_anchors = crate::commands::anchor_file_path(keys);
    let check_live = (!force && live_anchors.exists()).then_some(live_anchors.as_path());
    let report = verify_against(dir, check_live).await?;
    anyhow::ensure!(
        report.manifest.files.iter().any(|f| f.name == DATABASE),
        "{} 是 PostgreSQL 的备份(只有密钥):请用 pg_restore 恢复数据库",
        dir.display()
    );
    let KeySource::File(key_path) = keys else {
        anyhow::bail!(
            "数据密钥由环境变量 HCP_DATA_KEYS 提供:请把备份中的 {KEYS} 的内容设为该变量后再启动,不需要恢复密钥文件"
        );
    };
    let mut kept = Vec::new();
    if target.exists() {
        let store = Store::connect(url, 1).await?;
        let holds = store.holds_data().await?;
        store.close().await;
        anyhow::ensure!(
            !holds || force,
            "数据库 {} 已有数据,不会覆盖。确认要用备份替换它,请先停止服务,再加 --force(原文件将改名保留)",
            target.display()
        );
        let stamp = Utc::now().format("%Y%m%d%H%M%S");
        for path in [target.clone(), suffixed(&target, "-wal"), suffixed(&target, "-shm"), key_path.clone()] {
            if path.exists() {
                let aside = suffixed(&path, &format!(".before-restore-{stamp}"));
                std::fs::rename(&path, &aside).with_context(|| format!("无法把 {} 改名保留", path.display()))?;
                kept.push(aside);
            }
        }
    }
    if force && live_anchors.exists() {
        // The anchors belong to the chain being replaced: kept aside, and the backup's take their place.
        let aside = suffixed(&live_anchors, &format!(".before-restore-{}", Utc::now().format("%Y%m%d%H%M%S")));
        std::fs::rename(&live_anchors, &aside)
            .with_context(|| format!("无法把 {} 改名保留", live_anchors.display()))?;
        kept.push(aside);
    }
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let backup_keys = std::fs::read(dir.join(KEYS))?;
    if key_path.exists() {
        // A key file left where the restored database's keys go: it must be the same one, or the database
        // could not be read (the server refuses to start on a fingerprint mismatch).
        anyhow::ensure!(
            std::fs::read(key_path)? == backup_keys,
            "密钥文件 {} 已存在且与备份中的不同:请把它移走后再恢复(不会覆盖密钥文件)",
            key_path.display()
        );
    }
    std::fs::copy(dir.join(DATABASE), &target).with_context(|| format!("无法写入 {}", target.display()))?;
    owner_only(&target, 0o600)?;
    if !key_path.exists() {
        write_private(key_path, &backup_keys)?;
    }
    for (name, path) in
        [(EXCHANGE_KEY, crate::commands::county_key_path(keys)), (ANCHORS, crate::commands::anchor_file_path(keys))]
    {
        if dir.join(name).exists() && !path.exists() {
            write_private(&path, &std::fs::read(dir.join(name))?)?;
        }
    }
    Ok(kept)
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    s.into()
}

/// Keeps the newest `keep` backups under `root` (directories with a manifest, named so that they sort by
/// time) and removes the rest.
pub fn prune(root: &Path, keep: usize) -> anyhow::Result<Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join(MANIFEST).exists())
        .collect();
    dirs.sort();
    let mut removed = Vec::new();
    while dirs.len() > keep {
        let old = dirs.remove(0);
        std::fs::remove_dir_all(&old)?;
        removed.push(old);
    }
    Ok(removed)
}

/// What to do for a PostgreSQL database: pg_dump, of a version not older than the server's.
pub async fn postgres_advice(store: &Store, url: &str, dir: &Path) -> anyhow::Result<String> {
    let server = store.server_version().await?;
    let major =
        |v: &str| v.split(|c: char| !c.is_ascii_digit()).find(|s| !s.is_empty()).and_then(|s| s.parse::<u32>().ok());
    let tool = std::process::Command::new("pg_dump").arg("--version").output().ok().filter(|o| o.status.success());
    let tool_version = tool.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let check = match (&tool_version, major(&server)) {
        (None, _) => "本机没有找到 pg_dump,请安装与服务器同一主版本的 PostgreSQL 客户端。".to_string(),
        (Some(t), Some(s)) if major(t.rsplit(' ').next().unwrap_or("")).is_some_and(|m| m < s) => {
            format!("本机的 {t} 比服务器({server})旧,无法备份:请安装 {s} 或更新版本的 pg_dump。")
        }
        (Some(t), _) => format!("本机的 {t} 可以备份服务器 {server}。"),
    };
    Ok(format!(
        "PostgreSQL 的数据请用 pg_dump 备份(上面只备份了密钥):\n  pg_dump --format=custom --file {}/hcp.dump '{}'\n{check}\n恢复:pg_restore --clean --dbname '<数据库地址>' {}/hcp.dump,并把本目录的 {KEYS} 放回 --data-keys-file 所指位置。",
        dir.display(),
        hcp_store::redact_url(url),
        dir.display()
    ))
}

/// `serve --backup-dir DIR`: a backup every night at 02:30 (UTC+8) into `DIR/YYYYMMDD-HHMMSS`, keeping the
/// newest `keep`. A failure is logged and tried again the next night; serving goes on.
pub async fn nightly(store: Store, keys: KeySource, root: PathBuf, keep: usize) {
    loop {
        let now = Utc::now();
        let today = hcp_domain::calendar::business_date(now);
        let at = |d: chrono::NaiveDate| hcp_domain::calendar::start_of_day(d) + chrono::Duration::minutes(150);
        let next = if at(today) > now { at(today) } else { at(today + chrono::Duration::days(1)) };
        tokio::time::sleep((next - now).to_std().unwrap_or_default()).await;
        let name = hcp_domain::calendar::business_date(Utc::now()).format("%Y%m%d").to_string()
            + &Utc::now().format("-%H%M%S").to_string();
        match backup(&store, &keys, &root.join(&name)).await {
            Ok(r) => {
                tracing::info!(dir = %r.dir.display(), seconds = r.seconds, "nightly backup written");
                match prune(&root, keep) {
                    Ok(removed) if !removed.is_empty() => tracing::info!(?removed, "old backups removed"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "old backups could not be removed"),
                }
            }
            Err(e) => tracing::error!(error = %e, "nightly backup failed"),
        }
    }
}
