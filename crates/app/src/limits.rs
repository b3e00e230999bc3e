//! Rate limits that protect evaluation links from guessing (issue 4 §6). A link's token is 256 random bits,
//! so guessing cannot succeed; the limit keeps a guesser from loading the server. Only failures count —
//! a hall device behind one address may send hundreds of real evaluations a day. In memory, per instance.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Unknown tokens tolerated from one address within [`WINDOW`].
pub const UNKNOWN_TOKENS_PER_WINDOW: u32 = 30;
pub const WINDOW: Duration = Duration::from_secs(600);

#[derive(Debug, Default)]
pub struct TokenGuessLimit {
    seen: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl TokenGuessLimit {
    /// Whether this address has used up its failures.
    pub fn blocked(&self, ip: IpAddr) -> bool {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.get(&ip).is_some_and(|(start, n)| start.elapsed() < WINDOW && *n >= UNKNOWN_TOKENS_PER_WINDOW)
    }

    /// Counts one unknown token from this address.
    pub fn failed(&self, ip: IpAddr) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() > 100_000 {
            seen.retain(|_, (start, _)| start.elapsed() < WINDOW);
        }
        let entry = seen.entry(ip).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let store_free = |peer: &str, xff: Option<&str>, trusted: &[&str]| {
            let trusted: Vec<IpAddr> = trusted.iter().map(|t| t.parse().unwrap()).collect();
            crate::client_ip_via(&trusted, peer.parse().unwrap(), xff)
        };
        assert_eq!(
            store_free("10.0.0.9", Some("1.2.3.4"), &[]).to_string(),
            "10.0.0.9",
            "untrusted peers are taken as they are"
        );
        assert_eq!(
            store_free("10.0.0.9", Some("6.6.6.6, 1.2.3.4"), &["10.0.0.9"]).to_string(),
            "1.2.3.4",
            "the proxy's own entry"
        );
        assert_eq!(store_free("10.0.0.9", Some("garbage"), &["10.0.0.9"]).to_string(), "10.0.0.9");
        // Two header lines joined: the client's own line first, the proxy's last (issue 14 §7).
        assert_eq!(store_free("10.0.0.9", Some("6.6.6.6,1.2.3.4"), &["10.0.0.9"]).to_string(), "1.2.3.4");
        // Chained proxies: their own entries are skipped, the rightmost untrusted address is the client.
        assert_eq!(
            store_free("10.0.0.9", Some("6.6.6.6, 1.2.3.4, 10.0.0.8"), &["10.0.0.9", "10.0.0.8"]).to_string(),
            "1.2.3.4"
        );
        assert_eq!(store_free("10.0.0.9", Some("10.0.0.8"), &["10.0.0.9", "10.0.0.8"]).to_string(), "10.0.0.9");
    }

    #[test]
    fn blocks_after_the_allowance_and_only_that_address() {
        let l = TokenGuessLimit::default();
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..UNKNOWN_TOKENS_PER_WINDOW {
            assert!(!l.blocked(a));
            l.failed(a);
        }
        assert!(l.blocked(a));
        assert!(!l.blocked(b));
    }
}
