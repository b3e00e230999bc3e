//! `hcp exchange …`: the state of the exchange with the upper level, its rejected items, and resending them.

use hcp_app::App;

use crate::cli::ExchangeCommand;

pub async fn run(app: &App, cmd: ExchangeCommand) -> anyhow::Result<()> {
    let fail = |e: hcp_app::AppError| anyhow::anyhow!(e.message());
    match cmd {
        ExchangeCommand::Status => {
            let status = app.exchange_status().await.map_err(fail)?;
            let health = app.exchange_health_of(&status).await.map_err(fail)?;
            let now = app.now();
            let at = |t: Option<chrono::DateTime<chrono::Utc>>| {
                t.map(hcp_domain::calendar::display_cst).unwrap_or_else(|| "无".into())
            };
            println!("状态:{}", health.state.name_zh());
            println!("说明:{}", health.summary(now));
            println!("上级平台地址:{}", health.url.as_deref().unwrap_or("未配置"));
            println!("最近一次被接收的上报:{}", at(health.last_accepted_at));
            println!("最近一次失败:{}", at(health.last_failure_at));
            println!("失败原因:{}", health.last_error.as_deref().unwrap_or("无"));
            println!("下次重试:{}", at(health.next_retry_at));
            let oldest = health
                .oldest_waiting_at
                .map(|t| format!("{} 分钟", (now - t).num_minutes().max(0)))
                .unwrap_or_else(|| "无".into());
            println!("最早待报项目已等待:{oldest}");
            if health.stalled {
                println!("警告:有数据等待上报超过 30 分钟,期间没有任何上报被接收。");
            }
            println!("类别\t待上报\t发送中\t已接收\t被拒收");
            for k in &status.kinds {
                println!("{}\t{}\t{}\t{}\t{}", k.name, k.waiting, k.sent, k.accepted, k.rejected);
            }
            Ok(())
        }
        ExchangeCommand::List { rejected, conflicts, unmatched, expired, invalid, limit } => {
            let pulled = match (conflicts, unmatched, expired, invalid) {
                (true, ..) => "conflict",
                (_, true, ..) => "unmatched",
                (_, _, true, _) => "expired",
                (.., true) => "invalid",
                _ => {
                    anyhow::ensure!(
                        rejected,
                        "请指明要列出的项目:--rejected、--conflicts、--unmatched、--expired 或 --invalid"
                    );
                    for r in app.exchange_rejected(limit).await.map_err(fail)? {
                        println!("{} {} {} {}", r.kind, r.key(), r.state, one_line(r.reason.as_deref()));
                    }
                    return Ok(());
                }
            };
            for r in app.exchange_pulled(pulled, limit).await.map_err(fail)? {
                println!("pulled {}#{} {} {}", r.project_no, r.assess_number, r.state, one_line(r.reason.as_deref()));
            }
            Ok(())
        }
        ExchangeCommand::Keygen { .. } => unreachable!("keygen needs no database (commands.rs)"),
        ExchangeCommand::Resend { rejected } => {
            anyhow::ensure!(rejected, "请指明要重新上报的项目:--rejected");
            let n = app.exchange_resend_rejected(&hcp_app::audit::Actor::operator()).await.map_err(fail)?;
            println!("已将 {n} 条被拒收的项目重新排队上报(按当前数据重新生成)。");
            Ok(())
        }
    }
}

fn one_line(s: Option<&str>) -> String {
    s.unwrap_or("").replace(['\n', '\r'], " ")
}

/// Creates the county's SM2 key pair in `path` (owner-only), refusing to replace one without `force`, and
/// prints the public key alone on the last line.
pub fn keygen(path: &std::path::Path, force: bool) -> anyhow::Result<()> {
    use std::io::Write;
    if path.exists() && !force {
        anyhow::bail!(
            "本县 SM2 密钥 {} 已存在;替换后省平台用旧公钥加密的数据将无法解开。确需替换请加 --force。",
            path.display()
        );
    }
    let key = hcp_crypto::Sm2SecretKey::generate();
    let tmp = path.with_extension("sm2.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp).map_err(|e| anyhow::anyhow!("无法写入 {}:{e}", tmp.display()))?;
    writeln!(file, "{}", key.to_hex())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path).map_err(|e| anyhow::anyhow!("无法写入 {}:{e}", path.display()))?;
    println!("已生成本县 SM2 密钥对,私钥保存在 {}(仅属主可读,请与数据密钥一同备份)。", path.display());
    println!("请将下面的公钥交给省平台,用于加密回流的评价数据:");
    println!("{}", key.public_key().to_hex());
    Ok(())
}
