//! Evaluator data at rest (R11.2, issue 4 §3): sealed with SM4-GCM under the active data key, found by
//! HMAC-SM3 blind indexes, opened only to mask it or for a recorded duty. Keys come from `HCP_DATA_KEYS` or
//! a key file; every instance re-reads the file every minute, so a key added by `hcp keys rotate` reaches all.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use hcp_crypto::{KeyError, Keyring};
use hcp_domain::ApplicantKind;
use hcp_domain::identity::Applicant;
use hcp_store::{EncryptedApplicant, RecordRow, ReencryptedApplicant};

use crate::{App, AppError, AppResult};

const NAME: &str = "applicant.name";
const ID_NUMBER: &str = "applicant.id_number";
const MOBILE: &str = "applicant.mobile";
/// Namespaces of the blind indexes, shared by evaluators and staff.
const MOBILE_INDEX: &str = "mobile";
const ID_NUMBER_INDEX: &str = "id_number";

/// Associated data binding a ciphertext to its table, row (by its natural key, known before the row has an id)
/// and field (issue 14 §8): a sealed value copied to another row or column no longer opens.
fn bound(table: &str, row: &str, field: &str) -> String {
    format!("{table}\u{1f}{row}\u{1f}{field}")
}

/// Opens a value sealed with row-bound associated data, or — written before values were bound — with the
/// field's name alone. `hcp keys rotate` re-seals the latter bound.
fn open_bound(ring: &Keyring, key_id: &str, aad: &str, legacy: &str, enc: &str) -> Result<String, KeyError> {
    match ring.decrypt(key_id, aad, enc) {
        Err(KeyError::Corrupt) => ring.decrypt(key_id, legacy, enc),
        other => other,
    }
}

/// A staff member's sealed personal field (issue 13 §1): sealed like an applicant's, indexed in the same
/// namespace, so the integrity checks can find staff among evaluators without either in clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffField {
    Mobile,
    IdNumber,
}

impl StaffField {
    /// The field's name in the ciphertext's associated data.
    fn name(self) -> &'static str {
        match self {
            StaffField::Mobile => "staff.mobile",
            StaffField::IdNumber => "staff.id_number",
        }
    }

    /// The ciphertext's associated data: the field of this staff member (issue 14 §8).
    fn aad(self, staff_number: &str) -> String {
        bound("staff", staff_number, self.name())
    }

    /// The blind index's namespace: the evaluators' own.
    fn index(self) -> &'static str {
        match self {
            StaffField::Mobile => MOBILE_INDEX,
            StaffField::IdNumber => ID_NUMBER_INDEX,
        }
    }
}

/// Where the keys come from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// The key text itself (from `HCP_DATA_KEYS`).
    Text(String),
    /// A key file (`--data-keys-file`, or beside the SQLite database by default).
    File(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum KeyLoadError {
    #[error("{0}")]
    Key(#[from] KeyError),
    #[error("无法读写密钥文件 {path}:{source}")]
    Io { path: String, source: std::io::Error },
    #[error("数据密钥来自环境变量 HCP_DATA_KEYS,无法自动添加新密钥:请在其中追加一行“{0}”后重新运行")]
    NotAFile(String),
}

/// The keyring in use and where it came from.
#[derive(Debug)]
pub struct Keys {
    source: KeySource,
    ring: RwLock<Arc<Keyring>>,
}

fn read(source: &KeySource) -> Result<Keyring, KeyLoadError> {
    match source {
        KeySource::Text(t) => Ok(Keyring::parse(t)?),
        KeySource::File(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| KeyLoadError::Io { path: p.display().to_string(), source: e })?;
            Ok(Keyring::parse(&text)?)
        }
    }
}

/// Writes a new key file readable by its owner only; refuses to overwrite one.
fn create_key_file(path: &Path) -> Result<(), KeyLoadError> {
    use std::io::Write;
    let io = |e| KeyLoadError::Io { path: path.display().to_string(), source: e };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = match opts.open(path) {
        Ok(f) => f,
        // Another process created it a moment ago: use that one.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(io(e)),
    };
    f.write_all(Keyring::generate_text().as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)
}

impl Keys {
    /// Loads the keys; with `create_if_missing`, a missing key file is created with fresh keys (first start).
    pub fn load(source: KeySource, create_if_missing: bool) -> Result<Keys, KeyLoadError> {
        if let KeySource::File(p) = &source
            && create_if_missing
            && !p.exists()
        {
            create_key_file(p)?;
            tracing::warn!(path = %p.display(), "created a new data key file: back it up; without it evaluator data cannot be read");
        }
        let ring = read(&source)?;
        Ok(Keys { source, ring: RwLock::new(Arc::new(ring)) })
    }

    /// Keys for tests and tools: fresh random keys held in memory.
    pub fn generate() -> Keys {
        Keys::load(KeySource::Text(Keyring::generate_text()), false).expect("generated keys parse")
    }

    pub fn current(&self) -> Arc<Keyring> {
        self.ring.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Re-reads the source (a key added to the file elsewhere becomes usable here).
    pub fn reload(&self) -> Result<(), KeyLoadError> {
        let ring = read(&self.source)?;
        *self.ring.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(ring);
        Ok(())
    }

    /// Appends a new data key to the key file; it becomes the active key. Returns its id.
    pub fn add_key(&self) -> Result<String, KeyLoadError> {
        let line = self.current().new_key_line();
        let KeySource::File(path) = &self.source else {
            return Err(KeyLoadError::NotAFile(line.trim().to_string()));
        };
        use std::io::Write;
        let io = |e| KeyLoadError::Io { path: path.display().to_string(), source: e };
        let mut f = std::fs::OpenOptions::new().append(true).open(path).map_err(io)?;
        f.write_all(line.as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)?;
        self.reload()?;
        Ok(self.current().active_id().to_string())
    }
}

/// An applicant's data sealed for storage.
#[derive(Debug, Clone)]
pub struct SealedApplicant {
    key_id: String,
    name_enc: String,
    id_number_enc: String,
    mobile_enc: String,
    id_number_idx: String,
    mobile_idx: String,
}

impl SealedApplicant {
    pub fn as_store(&self) -> EncryptedApplicant<'_> {
        EncryptedApplicant {
            key_id: &self.key_id,
            name_enc: &self.name_enc,
            id_number_enc: &self.id_number_enc,
            mobile_enc: &self.mobile_enc,
            id_number_idx: &self.id_number_idx,
            mobile_idx: &self.mobile_idx,
        }
    }
}

/// An applicant's data in clear: only in memory, only to mask it or for a recorded duty.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainApplicant {
    pub kind: ApplicantKind,
    pub name: String,
    pub id_number: String,
    pub mobile: String,
}

impl std::fmt::Debug for PlainApplicant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Personal data never reaches a log through Debug.
        f.debug_struct("PlainApplicant").field("kind", &self.kind).finish_non_exhaustive()
    }
}

/// The blind index of a mobile (normalized) or ID number (upper case), for searches.
pub fn mobile_index(ring: &Keyring, mobile: &str) -> String {
    ring.blind_index(MOBILE_INDEX, mobile)
}

pub fn id_number_index(ring: &Keyring, id_number: &str) -> String {
    ring.blind_index(ID_NUMBER_INDEX, id_number)
}

/// The network an address belongs to for the integrity checks: /24 for IPv4, /48 for IPv6 (a hall's Wi-Fi,
/// a household's line).
fn network_of(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
    }
}

/// An address as people may see it: the host part hidden (10.1.2.*, 240e:1:2::*).
pub fn mask_address(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.*")
        }
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::*", s[0], s[1], s[2])
        }
    }
}

impl Keys {
    /// A client address as a blind index (never kept in clear): what the evaluation context stores, and what
    /// the shared limit on guessed links counts by.
    pub fn address_index(&self, address: std::net::IpAddr) -> String {
        self.current().blind_index("client_address", &address.to_string())
    }

    /// What an evaluation came with, from the client's address (blind-indexed and masked, never kept in
    /// clear), the device it came through and the browser it was sent from.
    pub fn evidence(
        &self,
        address: Option<std::net::IpAddr>,
        device_code: Option<&str>,
        user_agent: Option<&str>,
    ) -> hcp_store::EvaluationEvidence {
        let ring = self.current();
        hcp_store::EvaluationEvidence {
            client_address_idx: address.map(|ip| self.address_index(ip)),
            client_network_idx: address.map(|ip| ring.blind_index("client_network", &network_of(ip))),
            client_address_masked: address.map(mask_address),
            device_code: device_code.map(str::to_string),
            user_agent_family: user_agent.map(hcp_domain::integrity::user_agent_family).map(str::to_string),
        }
    }

    /// Seals a staff member's validated mobile or ID number under the active key, bound to the staff number.
    pub fn seal_staff(&self, staff_number: &str, field: StaffField, value: &str) -> hcp_store::SealedField {
        let ring = self.current();
        hcp_store::SealedField {
            key_id: ring.active_id().to_string(),
            enc: ring.encrypt(&field.aad(staff_number), value),
            idx: ring.blind_index(field.index(), value),
        }
    }

    /// The blind index a staff member's value would have (to tell whether a stored sealed value is the same).
    pub fn staff_index(&self, field: StaffField, value: &str) -> String {
        self.current().blind_index(field.index(), value)
    }

    /// Seals a message's secret (a window code, a second-rating link) for the outbox, bound to the message's
    /// template and recipient.
    pub fn seal_secret(&self, template: &str, recipient: &str, value: &str) -> hcp_store::SealedSecret {
        let ring = self.current();
        hcp_store::SealedSecret {
            key_id: ring.active_id().to_string(),
            enc: ring.encrypt(&bound("outbox", &format!("{template}:{recipient}"), "secret"), value),
        }
    }

    /// Opens a message's secret when the message is sent.
    pub fn open_secret(&self, m: &hcp_store::MessageRow, s: &hcp_store::SealedSecret) -> Result<String, KeyError> {
        let aad = bound("outbox", &format!("{}:{}", m.template, m.recipient), "secret");
        match self.current().decrypt(&s.key_id, &aad, &s.enc) {
            Err(KeyError::UnknownKey(_)) => {
                let _ = self.reload();
                self.current().decrypt(&s.key_id, &aad, &s.enc)
            }
            other => other,
        }
    }

    /// Seals a validated applicant under the active key, each field bound to the record (by its number, unique
    /// county-wide).
    pub fn seal(&self, record_number: &str, a: &Applicant) -> SealedApplicant {
        let ring = self.current();
        let aad = |field: &str| bound("service_record", record_number, field);
        SealedApplicant {
            key_id: ring.active_id().to_string(),
            name_enc: ring.encrypt(&aad(NAME), a.name.as_str()),
            id_number_enc: ring.encrypt(&aad(ID_NUMBER), a.id_number.as_str()),
            mobile_enc: ring.encrypt(&aad(MOBILE), a.mobile.as_str()),
            id_number_idx: id_number_index(&ring, a.id_number.as_str()),
            mobile_idx: mobile_index(&ring, a.mobile.as_str()),
        }
    }

    fn open_with(&self, ring: &Keyring, r: &RecordRow) -> Result<PlainApplicant, KeyError> {
        let open = |field: &str, enc: &str| {
            open_bound(ring, &r.applicant_key_id, &bound("service_record", &r.record_number, field), field, enc)
        };
        Ok(PlainApplicant {
            kind: ApplicantKind::parse(&r.applicant_kind).unwrap_or(ApplicantKind::Person),
            name: open(NAME, &r.applicant_name_enc)?,
            id_number: open(ID_NUMBER, &r.applicant_id_number_enc)?,
            mobile: open(MOBILE, &r.applicant_mobile_enc)?,
        })
    }

    /// Opens a record's applicant data. A key this instance does not know yet (rotated elsewhere) makes it
    /// re-read the key source once.
    pub fn open(&self, r: &RecordRow) -> AppResult<PlainApplicant> {
        let first = self.open_with(&self.current(), r);
        let result = match first {
            Err(KeyError::UnknownKey(_)) => {
                self.reload().map_err(|e| internal(&e.to_string()))?;
                self.open_with(&self.current(), r)
            }
            other => other,
        };
        result.map_err(|e| {
            tracing::error!(record_id = r.id, error = %e, "cannot open evaluator data");
            internal(&e.to_string())
        })
    }
}

fn internal(msg: &str) -> AppError {
    AppError::Internal(hcp_store::StoreError::Corrupt(msg.to_string()))
}

#[derive(Debug, Default, serde::Serialize)]
pub struct RotationReport {
    pub active_key: String,
    pub reencrypted: u64,
    /// Records still under another key (written meanwhile by an instance that had not reloaded yet).
    pub remaining: u64,
    /// Staff mobiles and ID numbers re-encrypted.
    pub staff_reencrypted: u64,
}

impl App {
    /// `hcp keys rotate`: adds a data key (unless `add_key` is false: finish an earlier rotation) and
    /// re-encrypts every record under it, 500 per transaction, while the service runs.
    pub async fn rotate_keys(&self, add_key: bool, progress: impl Fn(u64)) -> AppResult<RotationReport> {
        if add_key {
            self.keys.add_key().map_err(|e| internal(&e.to_string()))?;
        }
        let ring = self.keys.current();
        let active = ring.active_id().to_string();
        let mut report = RotationReport { active_key: active.clone(), ..Default::default() };
        loop {
            let batch = self.store.applicants_not_under(&active, 500).await?;
            if batch.is_empty() {
                break;
            }
            let mut rows = Vec::with_capacity(batch.len());
            for s in &batch {
                let aad = |field: &str| bound("service_record", &s.record_number, field);
                let open = |field: &str, v: &str| {
                    open_bound(&ring, &s.key_id, &aad(field), field, v).map_err(|e| internal(&e.to_string()))
                };
                rows.push(ReencryptedApplicant {
                    record_id: s.record_id,
                    old_key_id: s.key_id.clone(),
                    name_enc: ring.encrypt(&aad(NAME), &open(NAME, &s.name_enc)?),
                    id_number_enc: ring.encrypt(&aad(ID_NUMBER), &open(ID_NUMBER, &s.id_number_enc)?),
                    mobile_enc: ring.encrypt(&aad(MOBILE), &open(MOBILE, &s.mobile_enc)?),
                });
            }
            let changed = self.store.store_reencrypted(&active, &rows).await?;
            report.reencrypted += changed;
            progress(report.reencrypted);
            if changed == 0 {
                break;
            }
        }
        // Staff members' mobiles and ID numbers go under the new key too.
        for (staff_id, number, field, old_key, enc) in self.store.staff_fields_not_under(&active).await? {
            // `field` names the store's column pair: `mobile_*` or `id_number_*`.
            let f = if field == "mobile" { StaffField::Mobile } else { StaffField::IdNumber };
            let plain =
                open_bound(&ring, &old_key, &f.aad(&number), f.name(), &enc).map_err(|e| internal(&e.to_string()))?;
            if self
                .store
                .store_staff_reencrypted(staff_id, field, &old_key, &active, &ring.encrypt(&f.aad(&number), &plain))
                .await?
            {
                report.staff_reencrypted += 1;
            }
        }
        report.remaining =
            self.store.applicant_key_counts().await?.iter().filter(|(k, _)| *k != active).map(|(_, n)| *n as u64).sum();
        let audit = self.audit(
            &crate::audit::Actor::operator(),
            "keys.rotate",
            format!("data_key:{active}"),
            serde_json::json!({ "added_key": add_key, "reencrypted": report.reencrypted, "remaining": report.remaining }),
        );
        self.store.append_audit(&[audit]).await?;
        tracing::info!(active_key = %active, reencrypted = report.reencrypted, "data keys rotated");
        Ok(report)
    }
}
