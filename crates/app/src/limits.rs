//! Rate limits that protect evaluation links from guessing (issue 4 §6). A link's token is 256 random bits,
//! so guessing cannot succeed; the limit keeps a guesser from loading the server. Only failures count —
//! a hall device behind one address may send hundreds of real evaluations a day. Counted in the database, so that every instance shares the allowance (issue 18 §5).

use std::net::IpAddr;

use chrono::Duration;

use crate::{App, AppResult};

/// Unknown tokens tolerated from one address within [`WINDOW`].
pub const UNKNOWN_TOKENS_PER_WINDOW: u32 = 30;
pub const WINDOW: Duration = Duration::minutes(10);

impl App {
    /// Whether this address has used up its failures (counted by every instance over the database).
    pub(crate) async fn guesses_blocked(&self, ip: IpAddr) -> AppResult<bool> {
        let idx = self.keys.address_index(ip);
        Ok(self.store.token_guesses_blocked(&idx, self.now() - WINDOW, UNKNOWN_TOKENS_PER_WINDOW).await?)
    }

    /// Counts one unknown token (or wrong window code) from this address.
    pub(crate) async fn guess_failed(&self, ip: IpAddr) -> AppResult<()> {
        let (idx, now) = (self.keys.address_index(ip), self.now());
        Ok(self.store.token_guess_failed(&idx, now, now - WINDOW).await?)
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
}
