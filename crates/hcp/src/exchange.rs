//! `hcp exchange …`: the state of the exchange with the upper level, its rejected items, and resending them.

use hcp_app::App;

use crate::cli::ExchangeCommand;

pub async fn run(app: &App, cmd: ExchangeCommand) -> anyhow::Result<()> {
    let fail = |e: hcp_app::AppError| anyhow::anyhow!(e.message());
    match cmd {
        ExchangeCommand::Status => {
            let status = app.exchange_status().await.map_err(fail)?;
            let now = app.now();
            for k in &status.kinds {
                let oldest = k
                    .oldest_waiting
                    .map(|t| format!(" oldest_waiting={}s", (now - t).num_seconds().max(0)))
                    .unwrap_or_default();
                println!(
                    "{} waiting={} sent={} accepted={} rejected={}{oldest}",
                    k.kind, k.waiting, k.sent, k.accepted, k.rejected
                );
            }
            Ok(())
        }
        ExchangeCommand::List { rejected, limit } => {
            anyhow::ensure!(rejected, "请指明要列出的项目:--rejected");
            for r in app.exchange_rejected(limit).await.map_err(fail)? {
                println!("{} {} {} {}", r.kind, key(&r), r.state, r.reason.as_deref().unwrap_or("").replace('\n', " "));
            }
            Ok(())
        }
        ExchangeCommand::Resend { rejected } => {
            anyhow::ensure!(rejected, "请指明要重新上报的项目:--rejected");
            let n = app.exchange_resend_rejected(&hcp_app::audit::Actor::operator()).await.map_err(fail)?;
            println!("已将 {n} 条被拒收的项目重新排队上报(按当前数据重新生成)。");
            Ok(())
        }
    }
}

/// The item's key as the upper level knows it: projectNo#serviceNumber or #assessNumber[.updateNumber].
fn key(r: &hcp_store::UpstreamListRow) -> String {
    match r.kind.as_str() {
        "service" => format!("{}#1", r.record_number),
        "update" => format!("{}#{}.{}", r.record_number, r.round, r.update_number),
        _ => format!("{}#{}", r.record_number, r.round),
    }
}
