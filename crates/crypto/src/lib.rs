//! 国密 (Chinese national cryptography) for 好差评, as a Chinese government system must use it:
//! SM3 for hashes (the audit chain), HMAC-SM3 for blind indexes (finding a record by mobile or ID number
//! without storing either in clear), SM4-GCM for evaluator data at rest (R11.2).
#![forbid(unsafe_code)]

mod keyring;
mod sm2;

pub use keyring::{KeyError, Keyring};
pub use sm2::{Sm2Error, Sm2PublicKey, Sm2SecretKey};

use hmac::{Hmac, KeyInit, Mac};
use sm3::{Digest, Sm3};

/// SM3 of `data` (GB/T 32905-2016).
pub fn sm3(data: &[u8]) -> [u8; 32] {
    Sm3::digest(data).into()
}

/// SM3 of everything `r` yields, read in pieces (a backup's database file may be larger than memory).
pub fn sm3_reader(mut r: impl std::io::Read) -> std::io::Result<[u8; 32]> {
    let mut h = Sm3::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match r.read(&mut buf)? {
            0 => return Ok(h.finalize().into()),
            n => h.update(&buf[..n]),
        }
    }
}

/// Lower-case hex (what the upper level's envelopes carry; a 100-item batch is ~100 KB of it, so no
/// formatting machinery per byte).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// Bytes of hex in either case; `None` for an odd length or a character that is not a hex digit.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let s = s.as_bytes();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.chunks_exact(2).map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?)).collect()
}

/// HMAC-SM3 of `data` under `key`.
pub fn hmac_sm3(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sm3> as KeyInit>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sm3_of_a_reader_equals_sm3_of_the_bytes() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        assert_eq!(sm3_reader(&data[..]).unwrap(), sm3(&data));
    }

    /// GB/T 32905-2016, appendix A, examples 1 and 2.
    #[test]
    fn sm3_published_vectors() {
        assert_eq!(hex(&sm3(b"abc")), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
        let sixty_four = b"abcd".repeat(16);
        assert_eq!(hex(&sm3(&sixty_four)), "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732");
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(unhex(&hex(&[0, 1, 254, 255])), Some(vec![0, 1, 254, 255]));
        assert_eq!(unhex("0g"), None);
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("AbfF"), Some(vec![0xab, 0xff]));
    }
}
