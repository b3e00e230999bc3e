//! Data keys for SM4-GCM and the blind-index key, read from a key file or the environment.
//!
//! Format (a file, or the value of `HCP_DATA_KEYS`), one entry a line, `#` for comments:
//!
//! ```text
//! index = <64 hex digits>        # HMAC-SM3 key of the blind indexes; never rotated with the data keys
//! key k1 = <32 hex digits>       # an SM4 key (128 bits) and its id
//! key k2 = <32 hex digits>       # the last key listed encrypts; every listed key decrypts
//! ```
//!
//! Every ciphertext is stored with the id of its key, so `hcp keys rotate` can add a key, re-encrypt row by
//! row, and retire the old key only when no row uses it.

use aes_gcm::aead::Aead;
use aes_gcm::aead::consts::U12;
use aes_gcm::{AesGcm, KeyInit, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;

use crate::{hex, hmac_sm3, unhex};

type Sm4Gcm = AesGcm<sm4::Sm4, U12>;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("密钥文件第 {line} 行:{reason}")]
    Malformed { line: usize, reason: String },
    #[error("密钥文件中没有数据密钥(key 行)或没有索引密钥(index 行)")]
    Incomplete,
    #[error("数据使用的密钥 {0} 不在密钥文件中")]
    UnknownKey(String),
    #[error("密文已损坏或与密钥不符")]
    Corrupt,
}

struct DataKey {
    id: String,
    cipher: Sm4Gcm,
}

pub struct Keyring {
    keys: Vec<DataKey>,
    index_key: Vec<u8>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        f.debug_struct("Keyring").field("key_ids", &ids).finish_non_exhaustive()
    }
}

impl Keyring {
    pub fn parse(text: &str) -> Result<Keyring, KeyError> {
        let mut keys = Vec::new();
        let mut index_key = None;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let bad = |reason: &str| KeyError::Malformed { line: i + 1, reason: reason.to_string() };
            let (left, value) = line.split_once('=').ok_or_else(|| bad("应为“index = …”或“key 编号 = …”"))?;
            let value = unhex(value.trim()).ok_or_else(|| bad("密钥应为十六进制"))?;
            let words: Vec<&str> = left.split_whitespace().collect();
            match words.as_slice() {
                ["index"] => {
                    if value.len() != 32 {
                        return Err(bad("索引密钥应为 64 位十六进制(256 位)"));
                    }
                    index_key = Some(value);
                }
                ["key", id] => {
                    if value.len() != 16 {
                        return Err(bad("SM4 密钥应为 32 位十六进制(128 位)"));
                    }
                    if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') || id.len() > 32 {
                        return Err(bad("密钥编号只能含字母、数字、- 和 _"));
                    }
                    if keys.iter().any(|k: &DataKey| k.id == *id) {
                        return Err(bad("密钥编号重复"));
                    }
                    let cipher = Sm4Gcm::new_from_slice(&value).map_err(|_| bad("SM4 密钥长度不正确"))?;
                    keys.push(DataKey { id: id.to_string(), cipher });
                }
                _ => return Err(bad("应为“index = …”或“key 编号 = …”")),
            }
        }
        match (keys.is_empty(), index_key) {
            (false, Some(index_key)) => Ok(Keyring { keys, index_key }),
            _ => Err(KeyError::Incomplete),
        }
    }

    /// A new key file's text: a random index key and one random data key `k1`.
    pub fn generate_text() -> String {
        format!(
            "# hcp data keys: keep this file secret and backed up; without it evaluator data cannot be read.\n\
             index = {}\nkey k1 = {}\n",
            hex(&random::<32>()),
            hex(&random::<16>())
        )
    }

    /// A line adding a new data key after the existing ones (it becomes the active key).
    pub fn new_key_line(&self) -> String {
        let mut n = self.keys.len() + 1;
        while self.keys.iter().any(|k| k.id == format!("k{n}")) {
            n += 1;
        }
        format!("key k{n} = {}\n", hex(&random::<16>()))
    }

    /// The id of the key that encrypts.
    pub fn active_id(&self) -> &str {
        &self.keys.last().expect("a keyring has at least one key").id
    }

    /// Encrypts `plain` under the active key; `field` is bound in as associated data, so a value cannot be
    /// moved to another column unnoticed. Output: base64 of nonce ‖ ciphertext ‖ tag.
    pub fn encrypt(&self, field: &str, plain: &str) -> String {
        let key = self.keys.last().expect("a keyring has at least one key");
        let nonce = random::<12>();
        let ct = key
            .cipher
            .encrypt(
                &Nonce::<U12>::from(nonce),
                aes_gcm::aead::Payload { msg: plain.as_bytes(), aad: field.as_bytes() },
            )
            .expect("SM4-GCM encryption of a short text cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        STANDARD.encode(out)
    }

    pub fn decrypt(&self, key_id: &str, field: &str, stored: &str) -> Result<String, KeyError> {
        let key = self.keys.iter().find(|k| k.id == key_id).ok_or_else(|| KeyError::UnknownKey(key_id.into()))?;
        let bytes = STANDARD.decode(stored).map_err(|_| KeyError::Corrupt)?;
        if bytes.len() < 12 + 16 {
            return Err(KeyError::Corrupt);
        }
        let (nonce, ct) = bytes.split_at(12);
        let plain = key
            .cipher
            .decrypt(
                &Nonce::<U12>::try_from(nonce).map_err(|_| KeyError::Corrupt)?,
                aes_gcm::aead::Payload { msg: ct, aad: field.as_bytes() },
            )
            .map_err(|_| KeyError::Corrupt)?;
        String::from_utf8(plain).map_err(|_| KeyError::Corrupt)
    }

    /// The key of the audit chain's HMAC-SM3 (issue 14 §6), derived from the index key: outside the database
    /// like the data keys, and never rotated (the chain must stay verifiable from its first entry). The leading
    /// 0x01 keeps the derivation apart from every blind index, whose input starts with a kind's name.
    pub fn audit_key(&self) -> [u8; 32] {
        hmac_sm3(&self.index_key, b"\x01hcp audit chain key v1")
    }

    /// A short fingerprint of the key file (of its never-rotated index key), recorded in the database so that an
    /// instance started with another key file refuses to run instead of sealing data nobody else can read.
    /// Reveals nothing of the key: 64 bits of an HMAC with its own label.
    pub fn fingerprint(&self) -> String {
        hex(&hmac_sm3(&self.index_key, b"\x02hcp data keys fingerprint v1")[..8])
    }

    /// The blind index of a value: HMAC-SM3 under the index key, its first 128 bits in hex. Equal values
    /// give equal indexes, so a search by mobile or ID number is an equality lookup; the value itself cannot
    /// be read back. 128 bits keep accidental collisions out of reach while halving the database index.
    pub fn blind_index(&self, kind: &str, value: &str) -> String {
        let mut data = kind.as_bytes().to_vec();
        data.push(0);
        data.extend_from_slice(value.as_bytes());
        hex(&hmac_sm3(&self.index_key, &data)[..16])
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::rng().fill_bytes(&mut b);
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use sm4::cipher::BlockCipherEncrypt;

    /// GB/T 32907-2016, appendix A, example 1.
    #[test]
    fn sm4_published_vector() {
        let key = unhex("0123456789abcdeffedcba9876543210").unwrap();
        let cipher = sm4::Sm4::new_from_slice(&key).unwrap();
        let mut block = sm4::cipher::Block::<sm4::Sm4>::try_from(key.as_slice()).unwrap();
        cipher.encrypt_block(&mut block);
        assert_eq!(hex(&block), "681edf34d206965e86b3e94f536e4246");
    }

    fn ring() -> Keyring {
        Keyring::parse(&Keyring::generate_text()).unwrap()
    }

    #[test]
    fn wrong_field_or_tampering_is_detected() {
        let r = ring();
        let c = r.encrypt("mobile", "13812345678");
        assert_eq!(r.decrypt("k1", "mobile", &c).unwrap(), "13812345678");
        assert_eq!(r.decrypt("k1", "name", &c), Err(KeyError::Corrupt));
        assert_eq!(r.decrypt("k9", "mobile", &c), Err(KeyError::UnknownKey("k9".into())));
        let mut bytes = STANDARD.decode(&c).unwrap();
        bytes[20] ^= 1;
        assert_eq!(r.decrypt("k1", "mobile", &STANDARD.encode(bytes)), Err(KeyError::Corrupt));
    }

    #[test]
    fn rotation_keeps_old_keys_readable() {
        let text = Keyring::generate_text();
        let old = Keyring::parse(&text).unwrap();
        let c = old.encrypt("name", "张三");
        let new = Keyring::parse(&format!("{text}{}", old.new_key_line())).unwrap();
        assert_eq!(new.active_id(), "k2");
        assert_eq!(new.decrypt("k1", "name", &c).unwrap(), "张三");
        assert_eq!(new.blind_index("mobile", "1"), old.blind_index("mobile", "1"), "indexes survive rotation");
    }

    #[test]
    fn malformed_files_name_the_line() {
        assert_eq!(Keyring::parse("").unwrap_err(), KeyError::Incomplete);
        let e = Keyring::parse("index = 00\n").unwrap_err();
        assert!(matches!(e, KeyError::Malformed { line: 1, .. }));
        let e = Keyring::parse(&format!("index = {}\nkey a b = 00\n", "0".repeat(64))).unwrap_err();
        assert!(matches!(e, KeyError::Malformed { line: 2, .. }));
        assert!(format!("{:?}", ring()).contains("k1") && !format!("{:?}", ring()).contains("index ="));
    }

    proptest! {
        #[test]
        fn encryption_round_trips(s in "\\PC{0,60}", field in "[a-z_]{1,12}") {
            let r = ring();
            let c = r.encrypt(&field, &s);
            prop_assert_eq!(r.decrypt("k1", &field, &c).unwrap(), s.clone());
            prop_assert_ne!(r.encrypt(&field, &s), c, "a fresh nonce each time");
        }

        #[test]
        fn blind_indexes_are_stable_and_distinct(a in "1[3-9][0-9]{9}", b in "1[3-9][0-9]{9}") {
            let r = ring();
            prop_assert_eq!(r.blind_index("mobile", &a), r.blind_index("mobile", &a));
            prop_assert_eq!(r.blind_index("mobile", &a) == r.blind_index("mobile", &b), a == b);
            prop_assert_ne!(r.blind_index("mobile", &a), r.blind_index("id_number", &a));
        }
    }
}
