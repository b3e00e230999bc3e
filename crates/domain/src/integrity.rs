//! Integrity checks (issue 16): the rules that find fake good reviews and malicious bad reviews, as pure
//! functions over what evaluations came with. Each flag is explained to a person and decided by a person.

/// The family of a browser or app from its user-agent line: enough to see a hall pad's one browser rating
/// for hundreds of applicants, or a script, without keeping the whole line.
pub fn user_agent_family(ua: &str) -> &'static str {
    let has = |s: &str| ua.contains(s);
    if has("MicroMessenger") {
        "wechat"
    } else if has("AlipayClient") {
        "alipay"
    } else if has("HarmonyOS") || has("OpenHarmony") {
        "harmony"
    } else if has("Android") {
        "android"
    } else if has("iPhone") || has("iPad") {
        "ios"
    } else if has("Windows") {
        "windows"
    } else if has("Macintosh") || has("Mac OS X") {
        "mac"
    } else if has("Linux") || has("X11") {
        "linux"
    } else if ["curl", "python", "Go-http", "okhttp", "Java/", "wget", "reqwest"].iter().any(|s| ua.contains(s)) {
        "script"
    } else {
        "other"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_of_common_clients() {
        let wx = "Mozilla/5.0 (Linux; Android 12; M2012K11AC) AppleWebKit/537.36 MicroMessenger/8.0.40";
        assert_eq!(user_agent_family(wx), "wechat");
        assert_eq!(user_agent_family("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"), "ios");
        assert_eq!(user_agent_family("Mozilla/5.0 (Linux; Android 10; HarmonyOS; ELS-AN00)"), "harmony");
        assert_eq!(user_agent_family("Mozilla/5.0 (Windows NT 10.0; Win64; x64)"), "windows");
        assert_eq!(user_agent_family("python-requests/2.31"), "script");
        assert_eq!(user_agent_family(""), "other");
    }
}
