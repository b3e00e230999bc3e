//! SM2 public-key encryption (GM/T 0003.4, GB/T 32918.4) for the exchange with the upper-level 好差评
//! system: every envelope's `sign` and `params` are encrypted under the province's public key, and what the
//! province sends back is encrypted under the county's. The wire form is the one the issue fixes: C1C3C2,
//! C1 an uncompressed point with its `04` prefix, all of it hex.
//!
//! Replies of an upper level that signs them are checked with SM2 signatures (GM/T 0003.2, r‖s in hex, the
//! default distinguishing identifier of GM/T 0009 unless the parties agree on another).
//!
//! The curve arithmetic is RustCrypto's `sm2`; this module only fixes the encoding and turns its errors into
//! ones an operator can act on.

use sm2::elliptic_curve::common::getrandom::SysRng;
use sm2::elliptic_curve::{Generate, NonZeroScalar};
use sm2::pke::{DecryptingKey, EncryptingKey, Mode};

use crate::{hex, unhex};

/// The distinguishing identifier GM/T 0009 prescribes when the parties agree on no other.
pub const DEFAULT_DISTID: &str = "1234567812345678";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Sm2Error {
    #[error("SM2 公钥应为 04 开头的 130 位十六进制字符(未压缩的曲线点)")]
    PublicKeyFormat,
    #[error("SM2 公钥不是 SM2 曲线上的点")]
    PublicKeyPoint,
    #[error("SM2 私钥应为 64 位十六进制字符,且在曲线阶之内")]
    SecretKeyFormat,
    #[error("密文不是十六进制")]
    CiphertextHex,
    #[error("密文无法用本方私钥解开(格式不符或不是发给本方的)")]
    Decrypt,
    #[error("无法加密:{0}")]
    Encrypt(String),
}

/// An SM2 public key: the upper level's (we encrypt to it) or the county's own (given to the province).
#[derive(Clone)]
pub struct Sm2PublicKey {
    key: EncryptingKey,
}

impl std::fmt::Debug for Sm2PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sm2PublicKey({})", self.to_hex())
    }
}

impl Sm2PublicKey {
    /// Reads `04` + X + Y in hex (either case), the form the province hands out.
    pub fn from_hex(s: &str) -> Result<Self, Sm2Error> {
        let s = s.trim();
        if s.len() != 130 || !s.starts_with("04") {
            return Err(Sm2Error::PublicKeyFormat);
        }
        let bytes = unhex(s).ok_or(Sm2Error::PublicKeyFormat)?;
        let point = sm2::PublicKey::from_sec1_bytes(&bytes).map_err(|_| Sm2Error::PublicKeyPoint)?;
        Ok(Sm2PublicKey { key: EncryptingKey::new_with_mode(point, Mode::C1C3C2) })
    }

    /// `04` + X + Y, lower-case hex.
    pub fn to_hex(&self) -> String {
        hex(&self.key.to_sec1_bytes())
    }

    /// Whether `signature_hex` (r‖s, 64 bytes in hex) is this key's SM2 signature of `msg`.
    pub fn verify_hex(&self, msg: &[u8], signature_hex: &str) -> bool {
        use sm2::dsa::signature::Verifier;
        let Some(bytes) = unhex(signature_hex.trim()) else { return false };
        let Ok(signature) = sm2::dsa::Signature::from_slice(&bytes) else { return false };
        let Ok(key) = sm2::dsa::VerifyingKey::from_sec1_bytes(DEFAULT_DISTID, &self.key.to_sec1_bytes()) else {
            return false;
        };
        key.verify(msg, &signature).is_ok()
    }

    /// Encrypts `msg` (C1C3C2, C1 uncompressed) and answers lower-case hex. An empty message has no SM2
    /// ciphertext; callers never send one (a batch is never empty, a sign never blank).
    pub fn encrypt_hex(&self, msg: &[u8]) -> Result<String, Sm2Error> {
        let bytes = self.key.encrypt(&mut SysRng, msg).map_err(|e| Sm2Error::Encrypt(e.to_string()))?;
        Ok(hex(&bytes))
    }
}

/// The county's SM2 private key, which opens what the province encrypts to the county. Its `Debug` prints
/// only the public half.
#[derive(Clone)]
pub struct Sm2SecretKey {
    key: DecryptingKey,
}

impl std::fmt::Debug for Sm2SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sm2SecretKey(public {})", self.public_key().to_hex())
    }
}

impl Sm2SecretKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Self {
        let secret = sm2::SecretKey::generate();
        Sm2SecretKey { key: DecryptingKey::new_with_mode(secret.to_nonzero_scalar(), Mode::C1C3C2) }
    }

    /// Reads the 32-byte scalar in hex.
    pub fn from_hex(s: &str) -> Result<Self, Sm2Error> {
        let bytes = unhex(s.trim()).ok_or(Sm2Error::SecretKeyFormat)?;
        if bytes.len() != 32 {
            return Err(Sm2Error::SecretKeyFormat);
        }
        let scalar = NonZeroScalar::<sm2::Sm2>::try_from(bytes.as_slice()).map_err(|_| Sm2Error::SecretKeyFormat)?;
        Ok(Sm2SecretKey { key: DecryptingKey::new_with_mode(scalar, Mode::C1C3C2) })
    }

    /// The scalar in lower-case hex, for the key file.
    pub fn to_hex(&self) -> String {
        hex(&self.key.to_bytes())
    }

    pub fn public_key(&self) -> Sm2PublicKey {
        Sm2PublicKey { key: self.key.encrypting_key().clone() }
    }

    /// Signs `msg` (SM2, r‖s in lower-case hex): what an upper level that signs its replies does; the tests'
    /// stand-in for one uses it.
    pub fn sign_hex(&self, msg: &[u8]) -> String {
        use sm2::dsa::signature::Signer;
        let secret = sm2::SecretKey::from_slice(&self.key.to_bytes()).expect("a valid key's own scalar");
        let key = sm2::dsa::SigningKey::new(DEFAULT_DISTID, &secret).expect("the default distinguishing id");
        let signature: sm2::dsa::Signature = key.sign(msg);
        hex(&signature.to_bytes())
    }

    /// Opens a C1C3C2 ciphertext given in hex (either case).
    pub fn decrypt_hex(&self, ciphertext: &str) -> Result<Vec<u8>, Sm2Error> {
        let bytes = unhex(ciphertext.trim()).ok_or(Sm2Error::CiphertextHex)?;
        self.key.decrypt(&bytes).map_err(|_| Sm2Error::Decrypt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_a_changed_message_does_not() {
        let key = Sm2SecretKey::generate();
        let sig = key.sign_hex(b"{\"code\":\"200\"}");
        assert_eq!(sig.len(), 128);
        assert!(key.public_key().verify_hex(b"{\"code\":\"200\"}", &sig));
        assert!(!key.public_key().verify_hex(b"{\"code\":\"201\"}", &sig));
        assert!(!Sm2SecretKey::generate().public_key().verify_hex(b"{\"code\":\"200\"}", &sig));
        assert!(!key.public_key().verify_hex(b"x", "not hex"));
    }

    /// GM/T 0003.5-2012 Annex C (= GB/T 32918.5-2016): the encryption example on the recommended curve,
    /// message "encryption standard", here in the C1C3C2 order the exchange uses.
    const D: &str = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8";
    const PUBLIC: &str = "0409F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020\
                          CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13";
    const C1: &str = "0404EBFC718E8D1798620432268E77FEB6415E2EDE0E073C0F4F640ECD2E149A73\
                      E858F9D81E5430A57B36DAAB8F950A3C64E6EE6A63094D99283AFF767E124DF0";
    const C3: &str = "59983C18F809E262923C53AEC295D30383B54E39D609D160AFCB1908D0BD8766";
    const C2: &str = "21886CA989CA9C7D58087307CA93092D651EFA";

    #[test]
    fn standard_example_decrypts() {
        let key = Sm2SecretKey::from_hex(D).unwrap();
        assert_eq!(key.public_key().to_hex(), PUBLIC.to_lowercase());
        let ciphertext = format!("{C1}{C3}{C2}");
        assert_eq!(key.decrypt_hex(&ciphertext).unwrap(), b"encryption standard");
        assert_eq!(key.decrypt_hex(&ciphertext.to_lowercase()).unwrap(), b"encryption standard");
        // The old C1C2C3 order does not open: the order is part of the contract.
        assert_eq!(key.decrypt_hex(&format!("{C1}{C2}{C3}")), Err(Sm2Error::Decrypt));
    }

    #[test]
    fn encrypts_to_uncompressed_c1c3c2_in_lower_case() {
        let key = Sm2SecretKey::from_hex(D).unwrap();
        let public = Sm2PublicKey::from_hex(PUBLIC).unwrap();
        let msg = "[{\"projectNo\":\"办件1\"}]".as_bytes();
        let c = public.encrypt_hex(msg).unwrap();
        assert!(c.starts_with("04"));
        assert_eq!(c.len(), 2 * (65 + 32 + msg.len()));
        assert_eq!(c, c.to_lowercase());
        assert_eq!(key.decrypt_hex(&c).unwrap(), msg);
        // Randomised: the same message twice gives two ciphertexts.
        assert_ne!(public.encrypt_hex(msg).unwrap(), c);
    }

    #[test]
    fn generated_keys_round_trip_through_hex() {
        let key = Sm2SecretKey::generate();
        let again = Sm2SecretKey::from_hex(&key.to_hex()).unwrap();
        assert_eq!(again.public_key().to_hex(), key.public_key().to_hex());
        let public = Sm2PublicKey::from_hex(&key.public_key().to_hex().to_uppercase()).unwrap();
        assert_eq!(key.decrypt_hex(&public.encrypt_hex(b"x").unwrap()).unwrap(), b"x");
        assert!(!format!("{key:?}").contains(&key.to_hex()));
    }

    #[test]
    fn malformed_keys_are_named() {
        assert_eq!(Sm2PublicKey::from_hex("04abc").unwrap_err(), Sm2Error::PublicKeyFormat);
        assert_eq!(Sm2PublicKey::from_hex(&format!("03{}", &PUBLIC[2..])).unwrap_err(), Sm2Error::PublicKeyFormat);
        let off_curve = format!("{}{}", &PUBLIC[..128], "00");
        assert_eq!(Sm2PublicKey::from_hex(&off_curve).unwrap_err(), Sm2Error::PublicKeyPoint);
        assert_eq!(Sm2SecretKey::from_hex("zz").unwrap_err(), Sm2Error::SecretKeyFormat);
        assert_eq!(Sm2SecretKey::from_hex(&"0".repeat(64)).unwrap_err(), Sm2Error::SecretKeyFormat);
        let key = Sm2SecretKey::generate();
        assert_eq!(key.decrypt_hex("xyz").unwrap_err(), Sm2Error::CiphertextHex);
        assert_eq!(key.decrypt_hex("0400").unwrap_err(), Sm2Error::Decrypt);
    }
}
