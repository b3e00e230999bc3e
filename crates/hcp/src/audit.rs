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

/// The head as one line: `seq <n> <hex> keyed-from <m>` — with where the keyed chain starts, so that the file
/// kept with the key (outside the database) knows it even if the database's marker is cleared (issue 29 §2).
pub async fn anchor_line(store: &Store) -> anyhow::Result<String> {
    let (seq, hash) = store.audit_head().await?;
    Ok(match store.audit_keyed_from().await? {
        Some(m) => format!("seq {seq} {hash} keyed-from {m}"),
        None => format!("seq {seq} {hash}"),
    })
}

/// One anchor of a file.
#[derive(Debug, PartialEq, Eq)]
pub struct Anchor {
    seq: i64,
    hash: String,
    /// Where the keyed chain starts, on lines written since issue 29 (older lines have none).
    keyed_from: Option<i64>,
}

/// Reads a file of `seq <n> <hex> [keyed-from <m>]` lines (blank lines and `#` comments skipped); a malformed
/// line is named.
fn read_anchors(text: &str) -> anyhow::Result<Vec<Anchor>> {
    let hex = |h: &str| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit());
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let parsed = match words.as_slice() {
            ["seq", n, hash] if hex(hash) => {
                n.parse::<i64>().ok().map(|seq| Anchor { seq, hash: hash.to_ascii_lowercase(), keyed_from: None })
            }
            ["seq", n, hash, "keyed-from", m] if hex(hash) => match (n.parse::<i64>(), m.parse::<i64>()) {
                (Ok(seq), Ok(m)) => Some(Anchor { seq, hash: hash.to_ascii_lowercase(), keyed_from: Some(m) }),
                _ => None,
            },
            _ => None,
        };
        out.push(parsed.ok_or_else(|| {
            anyhow::anyhow!("锚点文件第 {} 行格式不对,应为“seq 序号 64位十六进制 keyed-from 序号”", i + 1)
        })?);
    }
    Ok(out)
}

/// The anchors of a file; none when it does not exist yet (a county's first start).
pub fn anchors_in(path: &Path) -> anyhow::Result<Vec<Anchor>> {
    match std::fs::read_to_string(path) {
        Ok(text) => read_anchors(&text).with_context(|| format!("锚点文件 {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("无法读取锚点文件 {}", path.display())),
    }
}

/// How much of the chain to recompute: all of it (`hcp audit verify`, backups), or from the last anchor on
/// (the server at start: cheap however long the log is; the anchor vouches for what comes before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    Full,
    SinceLastAnchor,
}

/// What a check found intact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainReport {
    pub entries: i64,
    pub keyed_from: i64,
}

/// Checks the chain against the anchors kept outside the database (issue 29 §2): the keyed marker is there and
/// where the anchors say it starts (a writer without the key cannot clear it to recompute plain hashes), the
/// chain reaches the last anchor (not shortened), every anchored entry has the anchored hash (not rewritten),
/// and the entries recompute. The error says what is wrong, in words for the county's administrator.
pub async fn check_chain(store: &Store, anchors: &[Anchor], depth: Depth) -> anyhow::Result<ChainReport> {
    let Some(keyed_from) = store.audit_keyed_from().await? else {
        anyhow::bail!("审计日志的密钥标记被清除(每个数据库都有此标记):有人可能绕过密钥改写了日志,请立即报告。");
    };
    if let Some(m) = anchors.iter().filter_map(|a| a.keyed_from).find(|m| *m != keyed_from) {
        anyhow::bail!(
            "审计日志的密钥链起点与锚点记录不符(锚点:自第 {m} 条起,数据库:自第 {keyed_from} 条起):日志可能被降级改写,请立即报告。"
        );
    }
    let (head, _) = store.audit_head().await?;
    let last = anchors.iter().max_by_key(|a| a.seq);
    if let Some(last) = last
        && last.seq > head
    {
        anyhow::bail!(
            "审计日志比锚点短:锚点已记到第 {} 条,日志只到第 {head} 条。日志被截短或整体替换,请立即报告。",
            last.seq
        );
    }
    for a in anchors {
        match store.audit_hash_at(a.seq).await? {
            Some(h) if h == a.hash => {}
            Some(_) => {
                anyhow::bail!("审计日志第 {} 条与锚点不符:日志在锚点之后被整体改写(链本身虽自洽),请立即报告。", a.seq)
            }
            None => anyhow::bail!("锚点指向第 {} 条,但日志中没有该条:日志被截短或重写,请立即报告。", a.seq),
        }
    }
    let check = match (depth, last) {
        (Depth::SinceLastAnchor, Some(a)) => store.verify_audit_chain_after(a.seq, a.hash.clone()).await?,
        _ => store.verify_audit_chain().await?,
    };
    match check {
        ChainCheck::Intact { entries, .. } => Ok(ChainReport { entries, keyed_from }),
        ChainCheck::Broken { seq, reason } => {
            let why = match reason {
                "missing" => "缺失",
                "link" => "与前一条的链接不符",
                _ => "内容与其校验值不符",
            };
            anyhow::bail!("审计日志第 {seq} 条{why}:日志可能被篡改,请立即报告。")
        }
    }
}

/// `hcp audit verify`: the whole chain, against the anchors of `--anchor FILE` or else of the file `serve`
/// writes beside the keys — no argument needed.
pub async fn verify(url: &str, keys: &KeySource, anchor: Option<&Path>) -> anyhow::Result<()> {
    let path = anchor.map_or_else(|| crate::commands::anchor_file_path(keys), Path::to_path_buf);
    if anchor.is_some() && !path.exists() {
        anyhow::bail!("无法读取锚点文件 {}:文件不存在", path.display());
    }
    let anchors = anchors_in(&path)?;
    let store = open_keyed(url, keys).await?;
    let report = check_chain(&store, &anchors, Depth::Full).await?;
    println!("审计日志完整:共 {} 条,HMAC-SM3 链校验通过。", report.entries);
    if report.keyed_from > 1 {
        println!("其中第 1–{} 条写于启用密钥链之前,为 SM3 链;请以当时保存的锚点核对。", report.keyed_from - 1);
    }
    if anchors.is_empty() {
        println!("未找到锚点({}):无法核对日志是否被截短。请定期把锚点文件复制到服务器以外保存。", path.display());
    } else {
        println!("{} 个锚点均与日志一致({})。", anchors.len(), path.display());
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
        let anchor = |seq, keyed_from| Anchor { seq, hash: h.clone(), keyed_from };
        assert_eq!(a, [anchor(12, None), anchor(40, None)]);
        let a = read_anchors(&format!("seq 41 {h} keyed-from 7\n")).unwrap();
        assert_eq!(a, [anchor(41, Some(7))]);
        assert!(read_anchors(&format!("seq 41 {h} keyed-from x\n")).is_err());
        let err = read_anchors(&format!("seq 1 {h}\nseq x {h}\n")).unwrap_err().to_string();
        assert!(err.contains("第 2 行"), "{err}");
        assert!(read_anchors("seq 1 abc").is_err());
    }
}
