//! `hcp catalog import`: the catalog from a CSV file or an .xlsx workbook; `hcp import history`: an earlier
//! system's records and evaluations. Both all or nothing, every bad line printed, a progress bar for large
//! files.

use hcp_app::{App, AppError};

/// `hcp catalog import FILE`
pub async fn import(app: &App, file: &std::path::Path) -> anyhow::Result<()> {
    let max = hcp_app::catalog_import::read::MAX_FILE_BYTES;
    let size = std::fs::metadata(file).map_err(|e| anyhow::anyhow!("无法读取 {}:{e}", file.display()))?.len();
    anyhow::ensure!(
        size <= max,
        "{} 有 {} MB,超过基础信息文件 {} MB 的上限,请核对文件",
        file.display(),
        size >> 20,
        max >> 20
    );
    let bytes = std::fs::read(file).map_err(|e| anyhow::anyhow!("无法读取 {}:{e}", file.display()))?;
    let name = file_name(file);
    let bar = progress_bar();
    let progress = |done: usize, total: usize| advance(&bar, done, total);
    let actor = hcp_app::audit::Actor::operator();
    let result = app.import_catalog(&actor, None, &name, &bytes, &progress).await;
    finish(&name, &bar, result.map(|r| format!("{}。", r.summary())))
}

/// `hcp import history FILE.jsonl`
pub async fn import_history(app: &App, file: &std::path::Path) -> anyhow::Result<()> {
    // Read line by line, each bounded (issue 29 §1): a hostile file never makes the whole of it one string.
    let reader = std::fs::File::open(file).map_err(|e| anyhow::anyhow!("无法读取 {}:{e}", file.display()))?;
    let lines = hcp_app::history::BoundedLines::new(std::io::BufReader::new(reader));
    let name = file_name(file);
    let bar = progress_bar();
    let progress = |done: usize, total: usize| advance(&bar, done, total);
    let actor = hcp_app::audit::Actor::operator();
    let result = app.import_history_lines(&actor, &name, lines, &progress).await;
    finish(&name, &bar, result.map(|r| r.summary()))
}

fn file_name(file: &std::path::Path) -> String {
    file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Prints what an import did, or every bad line and a failing exit.
fn finish(name: &str, bar: &indicatif::ProgressBar, result: Result<String, AppError>) -> anyhow::Result<()> {
    bar.finish_and_clear();
    match result {
        Ok(summary) => {
            println!("已导入 {name}:{summary}");
            Ok(())
        }
        Err(AppError::Invalid(violations)) => {
            for v in &violations {
                eprintln!("{}", v.message);
            }
            anyhow::bail!("{name} 有 {} 处错误,未导入任何内容;请修正后重新导入。", violations.len())
        }
        Err(e) => anyhow::bail!("{}", e.message()),
    }
}

/// A bar on stderr, shown once a file is large enough to wait for.
fn progress_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::hidden();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} 条 {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

fn advance(bar: &indicatif::ProgressBar, done: usize, total: usize) {
    if total >= 1000 && bar.is_hidden() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    }
    bar.set_length(total as u64);
    bar.set_position(done as u64);
}

/// `hcp catalog template FILE.xlsx`: the import template with its 说明 sheet.
pub fn template(file: &std::path::Path) -> anyhow::Result<()> {
    let bytes = hcp_app::catalog_import::template_xlsx().map_err(|e| anyhow::anyhow!("无法生成模板:{e}"))?;
    std::fs::write(file, bytes).map_err(|e| anyhow::anyhow!("无法写入 {}:{e}", file.display()))?;
    println!(
        "已生成导入模板 {}:每类信息一张表,附两行示例;“说明”表列出各列含义和可填的值。填好后运行 hcp catalog import {}。",
        file.display(),
        file.display()
    );
    Ok(())
}
