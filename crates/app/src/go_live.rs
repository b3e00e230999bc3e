//! The go-live checklist (issue 28 §4): `hcp doctor` prints it, and the center's and system administrators'
//! home page shows it. Each line is ✓ or ✗ with what to do, in Chinese; a county is ready when none is ✗.

use std::path::PathBuf;

use chrono::{DateTime, Datelike, Duration, Utc};
use serde::Serialize;

use crate::exchange_health::ExchangeState;
use crate::policy::Role;
use crate::{App, AppResult};

/// What only the running process knows about how it was deployed.
#[derive(Debug, Clone, Default)]
pub struct Deployment {
    /// `--public-url` as given (`None`: unset, the listen address is used).
    pub public_url: Option<String>,
    /// `--backup-dir`, when nightly backups are on.
    pub backup_dir: Option<PathBuf>,
    /// The data key file (`None`: the keys come from `HCP_DATA_KEYS`).
    pub key_file: Option<PathBuf>,
    /// The audit chain did not match its anchors and `serve --accept-audit-mismatch` started anyway: what was
    /// wrong, shown on every administrator's home page (issue 29 §2).
    pub audit_alert: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// A stable code (`top_org`, `accounts`, …).
    pub code: &'static str,
    pub ok: bool,
    /// What is checked, in Chinese.
    pub title: &'static str,
    /// What was found, and when not ok, what to do.
    pub detail: String,
}

impl Check {
    /// `✓ 标题:说明` or `✗ …`, as `hcp doctor` prints it.
    pub fn line(&self) -> String {
        format!("{} {}:{}", if self.ok { "✓" } else { "✗" }, self.title, self.detail)
    }
}

/// Roles a county needs an account for before going live.
const NEEDED_ROLES: [Role; 6] =
    [Role::SystemAdmin, Role::CenterAdmin, Role::HotlineAgent, Role::UnitAdmin, Role::CountyOffice, Role::Auditor];

/// A newer backup than this is recent.
const RECENT_BACKUP: Duration = Duration::hours(48);

fn check(code: &'static str, title: &'static str, ok: bool, detail: impl Into<String>) -> Check {
    Check { code, ok, title, detail: detail.into() }
}

/// Whether an address names this machine itself (phones cannot reach it).
pub fn is_loopback_url(url: &str) -> bool {
    let rest = url.split("://").nth(1).unwrap_or(url);
    let host = if let Some(v6) = rest.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        rest.split(['/', ':']).next().unwrap_or("")
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified())
}

impl App {
    /// Every check, in the order of the go-live guide.
    pub async fn go_live_checks(&self, deployment: &Deployment) -> AppResult<Vec<Check>> {
        let counts = self.store.setup_counts().await?;
        let mut out = Vec::new();
        out.push(if counts.top_orgs.is_empty() {
            check(
                "top_org",
                "本县机构",
                false,
                "还没有最上级机构:运行 hcp init --org-code 代码 --org-name 名称 --admin-username admin(见上线指南第 2 步)",
            )
        } else {
            check("top_org", "本县机构", true, format!("已建立 {}", counts.top_orgs.join("、")))
        });

        let missing: Vec<&Role> =
            NEEDED_ROLES.iter().filter(|r| !counts.roles.iter().any(|h| h == r.as_str())).collect();
        out.push(if missing.is_empty() {
            check(
                "accounts",
                "各角色账号",
                true,
                "系统管理员、中心管理员、12345 热线坐席、承办单位管理员、县政府办公室、审计员均已有账号",
            )
        } else {
            let names: Vec<String> = missing.iter().map(|r| format!("{}({})", r.name_zh(), r.as_str())).collect();
            check(
                "accounts",
                "各角色账号",
                false,
                format!(
                    "还没有账号的角色:{};用 hcp user create --role 角色 或工作台“基础信息管理”创建",
                    names.join("、")
                ),
            )
        });

        let mut lacking = Vec::new();
        for (n, what) in [
            (counts.orgs - counts.top_orgs.len() as i64, "下级机构"),
            (counts.halls, "大厅"),
            (counts.windows, "窗口"),
            (counts.staff, "工作人员"),
            (counts.items, "事项"),
        ] {
            if n <= 0 {
                lacking.push(what);
            }
        }
        out.push(if lacking.is_empty() {
            check(
                "catalog",
                "基础信息",
                true,
                format!(
                    "机构 {} 个,大厅 {} 个,窗口 {} 个,工作人员 {} 人,事项 {} 项",
                    counts.orgs, counts.halls, counts.windows, counts.staff, counts.items
                ),
            )
        } else {
            check(
                "catalog",
                "基础信息",
                false,
                format!("还没有{}:用 hcp catalog template 生成模板,填好后 hcp catalog import 导入", lacking.join("、")),
            )
        });

        out.push(if counts.devices > 0 {
            check("devices", "窗口评价器", true, format!("已登记 {} 台评价器;窗口二维码海报在 /w/窗口编码/poster 打印", counts.devices))
        } else {
            check(
                "devices",
                "窗口评价器",
                false,
                "还没有登记评价器:用 hcp device add 或工作台“基础信息管理”登记,并打印各窗口的二维码海报(/w/窗口编码/poster)",
            )
        });

        out.push(if counts.api_keys > 0 {
            check("api_key", "办件系统接口密钥", true, format!("已有 {} 个接口密钥", counts.api_keys))
        } else {
            check(
                "api_key",
                "办件系统接口密钥",
                false,
                "还没有接口密钥:用 hcp apikey create --name 系统名称 为本县办件系统创建",
            )
        });

        out.push(match deployment.public_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            None => check(
                "public_url",
                "访问地址",
                false,
                "未设置 --public-url:评价链接、二维码和评价器地址会指向监听地址;请设为政务内网中的访问地址,如 http://10.1.2.3:8080",
            ),
            Some(url) if is_loopback_url(url) => check(
                "public_url",
                "访问地址",
                false,
                format!("--public-url {url} 指向本机,群众手机和评价器打不开;请设为政务内网中的访问地址"),
            ),
            Some(url) => check("public_url", "访问地址", true, format!("评价链接和二维码使用 {url}")),
        });

        out.push(match &*self.gateway {
            crate::outbox::Gateway::Webhook { .. } => check("sms", "短信平台", true, "已配置 --sms-webhook"),
            crate::outbox::Gateway::Log => check(
                "sms",
                "短信平台",
                false,
                "未配置 --sms-webhook:差评通知、验证码和回访短信只写入日志,不会发给任何人",
            ),
        });

        let health = self.exchange_health().await?;
        out.push(match (health.state, health.last_accepted_at) {
            (ExchangeState::Unconfigured, _) => check(
                "exchange",
                "省平台对接",
                false,
                "未配置 --upstream-url 等参数:数据在队列中保留,不会上报(见 docs/upstream.md)",
            ),
            (ExchangeState::Failing, _) => check("exchange", "省平台对接", false, health.summary(self.now())),
            (ExchangeState::Ok, None) => check(
                "exchange",
                "省平台对接",
                false,
                "已配置,但还没有一次上报被省平台接收;启动服务、登记一件办件后再检查",
            ),
            (ExchangeState::Ok, Some(_)) => check("exchange", "省平台对接", true, health.summary(self.now())),
        });

        let today = hcp_domain::calendar::business_date(self.now());
        let next = today.year() + 1;
        let cal = self.calendar();
        out.push(if cal.is_year_loaded(next) {
            check("calendar", "次年节假日安排", true, format!("已导入 {next} 年"))
        } else if today.month() == 12 {
            check(
                "calendar",
                "次年节假日安排",
                false,
                format!("尚未导入 {next} 年:国务院办公厅通知发布后用 hcp calendar import 文件 导入(见上线指南)"),
            )
        } else {
            check("calendar", "次年节假日安排", true, format!("{next} 年安排通常在 11 月发布,届时导入;今年已内置"))
        });

        out.push(backups(deployment, self.store.backend() == hcp_store::Backend::Postgres, self.now()));
        out.push(key_file(deployment));
        Ok(out)
    }
}

impl App {
    /// What the center's and system administrators must act on now (issue 28 §5), besides the calendar: the
    /// exchange stalled or failing, messages going only to the log, links pointing at this machine.
    pub async fn connection_warnings(&self) -> AppResult<Vec<crate::calendar::Warning>> {
        let mut out = self.warnings();
        let health = self.exchange_health().await?;
        if health.stalled {
            out.push(crate::calendar::Warning {
                code: "exchange_stalled",
                message: format!(
                    "与省平台对接:有数据等待上报超过 30 分钟,期间没有任何上报被接收。{}",
                    health.summary(self.now())
                ),
            });
        } else if health.state == ExchangeState::Failing {
            out.push(crate::calendar::Warning {
                code: "exchange_failing",
                message: format!("与省平台对接{}", health.summary(self.now())),
            });
        }
        if matches!(&*self.gateway, crate::outbox::Gateway::Log) {
            out.push(crate::calendar::Warning {
                code: "sms_unconfigured",
                message: "未配置短信平台(--sms-webhook):通知、验证码和回访短信仅记录日志,没有发给任何人。".into(),
            });
        }
        let public = self.deployment.public_url.as_deref().unwrap_or(self.public_url());
        if is_loopback_url(public) {
            out.push(crate::calendar::Warning {
                code: "public_url_loopback",
                message: format!(
                    "评价链接和二维码使用 {public},群众手机和评价器打不开;请用 --public-url 设为政务内网中的访问地址。"
                ),
            });
        }
        Ok(out)
    }
}

fn backups(d: &Deployment, postgres: bool, now: DateTime<Utc>) -> Check {
    let Some(dir) = &d.backup_dir else {
        let how = if postgres { "PostgreSQL 请另行安排 pg_dump,并" } else { "" };
        return check(
            "backups",
            "备份",
            false,
            format!("未设置 --backup-dir:{how}启动时加 --backup-dir /备份目录,服务每天 02:30 自动备份"),
        );
    };
    let newest = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join("manifest.json").is_file())
        .filter_map(|e| e.path().join("manifest.json").metadata().ok()?.modified().ok())
        .max();
    match newest {
        Some(t) if now - DateTime::<Utc>::from(t) <= RECENT_BACKUP => check(
            "backups",
            "备份",
            true,
            format!(
                "{} 中最近一份备份于 {}",
                dir.display(),
                hcp_domain::calendar::display_cst(DateTime::<Utc>::from(t))
            ),
        ),
        Some(_) => {
            check("backups", "备份", false, format!("{} 中最近一份备份已超过 48 小时,请检查自动备份", dir.display()))
        }
        None => check(
            "backups",
            "备份",
            false,
            format!("{} 中还没有备份:先手动运行一次 hcp backup {}/首次备份", dir.display(), dir.display()),
        ),
    }
}

fn key_file(d: &Deployment) -> Check {
    let Some(path) = &d.key_file else {
        return check("keys", "数据密钥", true, "由环境变量 HCP_DATA_KEYS 提供");
    };
    match std::fs::metadata(path) {
        Err(e) => check("keys", "数据密钥", false, format!("无法读取密钥文件 {}:{e}", path.display())),
        Ok(meta) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = meta.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    return check(
                        "keys",
                        "数据密钥",
                        false,
                        format!(
                            "密钥文件 {} 其他用户可读(权限 {mode:o}):运行 chmod 600 {}",
                            path.display(),
                            path.display()
                        ),
                    );
                }
            }
            let _ = meta;
            check("keys", "数据密钥", true, format!("{} 仅属主可读;请与数据库一同备份", path.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_addresses_are_recognised() {
        for url in ["http://127.0.0.1:8080", "http://localhost/", "http://[::1]:8080", "http://0.0.0.0:8080"] {
            assert!(is_loopback_url(url), "{url}");
        }
        for url in ["http://10.1.2.3:8080", "https://hcp.county.gov.cn"] {
            assert!(!is_loopback_url(url), "{url}");
        }
    }
}
