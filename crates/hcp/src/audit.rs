//! `hcp audit verify [--anchor FILE]` and `hcp audit anchor` (issue 14 §6). The chain is keyed (HMAC-SM3
//! under a key kept with the data keys), so a database writer cannot recompute it; anchors — the head printed
//! now and then and kept outside the database — catch a rewrite by someone who holds the key file too, or of
//! the part of the chain written before it was keyed.

use std::path::Path;

use anyhow::Context;
use hcp_app::keys::{KeySource, Keys};
use hcp_store::{ChainCheck, Store};

/// The store with the audit key from the data keys (never creating a key file).
pub async fn open_keyed(url: &str, keys: &KeySource) -> anyhow::Result<Store> {
    let store = crate::commands::open_store(url, 2).await?;
    let keys = Keys::load(keys.clone(), false).map_err(|e| {
        anyhow::anyhow!("{e}。审计日志以数据密钥派生的密钥校验,请提供原来的数据密钥(--data-keys-file 或 HCP_DATA_KEYS)")
    })?;
    store.set_audit_key(keys.current().audit_key());
    Ok(store)
}

/// The head as one line: `seq <n> <hex>`.
pub async fn anchor_line(store: &Store) -> anyhow::Result<String> {
    let (seq, hash) = store.audit_head().await?;
    Ok(format!("seq {seq} {hash}"))
}

/// One anchor of a file.
#[derive(Debug, PartialEq, Eq)]
struct Anchor {
    seq: i64,
    hash: String,
}

/// Reads a file of `seq <n> <hex>` lines (blank lines and `#` comments skipped); a malformed line is named.
fn read_anchors(text: &str) -> anyhow::Result<Vec<Anchor>> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let parsed = match words.as_slice() {
            ["seq", n, hash] if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
                n.parse::<i64>().ok().map(|seq| Anchor { seq, hash: hash.to_ascii_lowercase() })
            }
            _ => None,
        };
        out.push(parsed.ok_or_else(|| anyhow::anyhow!("锚点文件第 {} 行格式不对,应为“seq 序号 64位十六进制”", i + 1))?);
    }
    Ok(out)
}

pub async fn verify(url: &str, keys: &KeySource, anchor: Option<&Path>) -> anyhow::Result<()> {
    let anchors = match anchor {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("无法读取锚点文件 {}", p.display()))?;
            read_anchors(&text)?
        }
        None => Vec::new(),
    };
    let store = open_keyed(url, keys).await?;
    let (entries, keyed_from) = match store.verify_audit_chain().await? {
        ChainCheck::Intact { entries, keyed_from } => (entries, keyed_from),
        ChainCheck::Broken { seq, reason } => {
            let why = match reason {
                "missing" => "缺失",
                "link" => "与前一条的链接不符",
                _ => "内容与其校验值不符",
            };
            anyhow::bail!("审计日志第 {seq} 条{why}:日志可能被篡改,请立即报告。")
        }
    };
    for a in &anchors {
        match store.audit_hash_at(a.seq).await? {
            Some(h) if h == a.hash => {}
            Some(_) => {
                anyhow::bail!("审计日志第 {} 条与锚点不符:日志在锚点之后被整体改写(链本身虽自洽),请立即报告。", a.seq)
            }
            None => anyhow::bail!("锚点指向第 {} 条,但日志中没有该条:日志被截短或重写,请立即报告。", a.seq),
        }
    }
    println!("审计日志完整:共 {entries} 条,HMAC-SM3 链校验通过。");
    if keyed_from > 1 {
        println!("其中第 1–{} 条写于启用密钥链之前,为 SM3 链;请以当时保存的锚点核对。", keyed_from - 1);
    }
    if !anchors.is_empty() {
        println!("{} 个锚点均与日志一致。", anchors.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_read_and_bad_lines_named() {
        let h = "ab".repeat(32);
        let text = format!("# daily anchors\nseq 12 {h}\n\nseq 40 {}  # noon\n", h.to_uppercase());
        let a = read_anchors(&text).unwrap();
        assert_eq!(a, [Anchor { seq: 12, hash: h.clone() }, Anchor { seq: 40, hash: h.clone() }]);
        let err = read_anchors(&format!("seq 1 {h}\nseq x {h}\n")).unwrap_err().to_string();
        assert!(err.contains("第 2 行"), "{err}");
        assert!(read_anchors("seq 1 abc").is_err());
    }
}
