//! The numbers the plan leaves to the county (`--level-weights`, `--appeal-days` …), on the commands that
//! apply them: `serve`, `jobs run`, `demo`, `doctor`, `integrity scan` and `import history`. Every option is
//! read as typed and checked together, so one run lists every mistake (issue 28 §4) instead of one per
//! restart.

use clap::Args;

/// 县里确定的规则(实施方案未给出具体数值的,默认值只是起点)
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "县里确定的规则")]
pub struct CountyArgs {
    /// 工作日期限截止时刻:24:00(默认)或下班时间,如 17:30
    #[arg(long, env = "HCP_WORKING_DAY_ENDS", default_value = "24:00")]
    pub working_day_ends: String,
    /// 短信/消息平台地址:每条通知以 JSON POST 过去,失败自动重试;不设则只写入日志(页面显示“仅记录日志”)
    #[arg(long, env = "HCP_SMS_WEBHOOK")]
    pub sms_webhook: Option<String>,
    /// 差评工单中心在此小时数内未交办的,自动交办办件所属单位(默认不启用)
    #[arg(long, env = "HCP_AUTO_ASSIGN_AFTER_HOURS")]
    pub auto_assign_after_hours: Option<u32>,
    /// “12345”政务服务中心交办差评工单的时限(工作日,0 为不限)
    #[arg(long, env = "HCP_DISPATCH_DAYS", default_value_t = hcp_domain::case::DEFAULT_DISPATCH_DAYS)]
    pub dispatch_days: u32,
    /// 收到差评(或工单办结)后可申诉的工作日数
    #[arg(long, env = "HCP_APPEAL_DAYS", default_value_t = hcp_domain::appeal::DEFAULT_APPEAL_DAYS)]
    pub appeal_days: u32,
    /// 申诉单位初步核实的期限(工作日)
    #[arg(long, env = "HCP_APPEAL_UNIT_DAYS", default_value_t = hcp_domain::appeal::DEFAULT_UNIT_CHECK_DAYS)]
    pub appeal_unit_days: u32,
    /// 申诉中心复核的期限(工作日)
    #[arg(long, env = "HCP_APPEAL_CENTER_DAYS", default_value_t = hcp_domain::appeal::DEFAULT_CENTER_REVIEW_DAYS)]
    pub appeal_center_days: u32,
    /// 统计期内有效评价少于此数的单位或个人只列出、不参与排名
    #[arg(long, env = "HCP_RANKING_MIN_EVALUATIONS", default_value_t = 20)]
    pub ranking_min_evaluations: u64,
    /// 通报的发文单位(如“青山县人民政府办公室”;默认为通报所属机构的名称)
    #[arg(long, env = "HCP_REPORT_ISSUER")]
    pub report_issuer: Option<String>,
    /// 通报文号的前缀,发布时编号为“前缀〔年份〕序号号”(如 青府办通 → 青府办通〔2026〕3号);不设则不编文号
    #[arg(long, env = "HCP_REPORT_NUMBER_PREFIX")]
    pub report_number_prefix: Option<String>,
    /// 满意度得分中非常满意至非常不满意各等级的分值(0–100,逐级不增)
    #[arg(long, env = "HCP_LEVEL_WEIGHTS", default_value = "100,80,60,40,0")]
    pub level_weights: String,
    /// 月度排名的末位范围:last:N(倒数 N 名)或 percent:X(后 X%)
    #[arg(long, env = "HCP_BOTTOM_GROUP", default_value = "last:3")]
    pub bottom_group: String,
    /// 连续多少个月处于末位即下发整改通知(0 为不下发)
    #[arg(long, env = "HCP_LOW_MONTHS", default_value_t = 3)]
    pub low_months: u32,
    /// 整改通知的期限(工作日)
    #[arg(long, env = "HCP_RECTIFICATION_DAYS", default_value_t = 10)]
    pub rectification_days: u32,
    /// 虚假好评、恶意差评检查的阈值,如 burst_size=6,quick_minutes=3(名称见 docs/integrity.md,未写的取默认值)
    #[arg(long, env = "HCP_INTEGRITY_THRESHOLDS", default_value = "")]
    pub integrity_thresholds: String,
    /// 绩效考核方案:JSON 文件,字段见 docs/metrics.md(未写的取默认值)
    #[arg(long, env = "HCP_ASSESSMENT_SCHEME")]
    pub assessment_scheme: Option<std::path::PathBuf>,
}

/// The county's rules, checked.
#[derive(Debug, Clone)]
pub struct CountyRules {
    /// When a working day closes; `None` is 24:00.
    pub close_of_day: Option<chrono::NaiveTime>,
    pub cases: hcp_app::CaseRules,
    pub results: hcp_app::ResultRules,
    pub gateway: hcp_app::outbox::Gateway,
}

impl CountyArgs {
    /// Every rule checked; every mistake named (in Chinese, with its option), not only the first.
    pub fn rules(&self) -> Result<CountyRules, Vec<String>> {
        let mut errors = Vec::new();
        fn keep<T>(errors: &mut Vec<String>, flag: &str, r: Result<T, String>) -> Option<T> {
            r.map_err(|e| errors.push(format!("{flag}:{e}"))).ok()
        }
        let e = &mut errors;
        let close = keep(e, "--working-day-ends", parse_close_of_day(&self.working_day_ends));
        let weights = keep(e, "--level-weights", hcp_domain::metrics::Weights::parse(&self.level_weights));
        let bottom = keep(e, "--bottom-group", parse_bottom(&self.bottom_group));
        let integrity = keep(
            e,
            "--integrity-thresholds",
            hcp_domain::integrity::Thresholds::default().with_overrides(&self.integrity_thresholds),
        );
        let scheme = keep(e, "--assessment-scheme", self.scheme());
        let gateway = keep(e, "--sms-webhook", self.gateway());
        let (Some(close), Some(weights), Some(bottom), Some(integrity), Some(scheme), Some(gateway)) =
            (close, weights, bottom, integrity, scheme, gateway)
        else {
            return Err(errors);
        };
        Ok(CountyRules {
            close_of_day: close,
            cases: hcp_app::CaseRules {
                auto_assign_after: self.auto_assign_after_hours.map(|h| chrono::Duration::hours(h.into())),
                appeal_days: self.appeal_days,
                unit_check_days: self.appeal_unit_days,
                center_review_days: self.appeal_center_days,
                dispatch_days: self.dispatch_days,
            },
            results: hcp_app::ResultRules {
                weights,
                min_evaluations: self.ranking_min_evaluations,
                scheme,
                bottom,
                consecutive_months: self.low_months,
                rectification_days: self.rectification_days,
                integrity,
                report_issuer: self
                    .report_issuer
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
                report_number_prefix: self
                    .report_number_prefix
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            },
            gateway,
        })
    }

    /// The rules, or one error listing every mistake.
    pub fn checked(&self) -> anyhow::Result<CountyRules> {
        self.rules().map_err(|errors| anyhow::anyhow!("{}", listed(&errors)))
    }

    fn scheme(&self) -> Result<hcp_domain::assessment::Scheme, String> {
        let Some(path) = &self.assessment_scheme else { return Ok(hcp_domain::assessment::Scheme::default()) };
        let text = std::fs::read_to_string(path).map_err(|e| format!("无法读取考核方案 {}:{e}", path.display()))?;
        let scheme: hcp_domain::assessment::Scheme =
            serde_json::from_str(&text).map_err(|e| format!("考核方案 {} 格式不正确:{e}", path.display()))?;
        scheme.check().map_err(|e| e.to_string())?;
        Ok(scheme)
    }

    fn gateway(&self) -> Result<hcp_app::outbox::Gateway, String> {
        match self.sms_webhook.as_deref().map(str::trim) {
            None | Some("") => Ok(hcp_app::outbox::Gateway::Log),
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                Ok(hcp_app::outbox::Gateway::webhook(url))
            }
            Some(url) => Err(format!("短信平台地址应以 http:// 或 https:// 开头:{url}")),
        }
    }
}

/// Mistakes as the operator reads them: a count, then one per line.
pub fn listed(errors: &[String]) -> String {
    let mut out = format!("配置有 {} 处错误,请全部改正后再启动:", errors.len());
    for (i, e) in errors.iter().enumerate() {
        out.push_str(&format!("\n  {}. {e}", i + 1));
    }
    out
}

fn parse_close_of_day(s: &str) -> Result<Option<chrono::NaiveTime>, String> {
    if s.trim() == "24:00" {
        return Ok(None);
    }
    chrono::NaiveTime::parse_from_str(s.trim(), "%H:%M")
        .map(Some)
        .map_err(|_| format!("时间“{s}”格式不正确,应为 HH:MM(如 17:30)或 24:00"))
}

fn parse_bottom(s: &str) -> Result<hcp_domain::ranking::BottomRule, String> {
    use hcp_domain::ranking::BottomRule;
    let bad = || format!("“{s}”不是有效的末位规则,应为 last:N 或 percent:X(如 last:3、percent:10)");
    let (kind, n) = s.trim().split_once(':').ok_or_else(bad)?;
    let n: u32 = n.trim().parse().map_err(|_| bad())?;
    match kind.trim() {
        "last" if n > 0 => Ok(BottomRule::Last(n)),
        "percent" if (1..=100).contains(&n) => Ok(BottomRule::Percent(n)),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        county: CountyArgs,
    }

    #[test]
    fn every_mistake_at_once() {
        let t = T::parse_from([
            "t",
            "--working-day-ends",
            "25:99",
            "--level-weights",
            "1,2",
            "--bottom-group",
            "worst",
            "--sms-webhook",
            "sms.local",
        ]);
        let errors = t.county.rules().unwrap_err();
        assert_eq!(errors.len(), 4, "{errors:?}");
        let text = listed(&errors);
        assert!(text.starts_with("配置有 4 处错误"), "{text}");
        for flag in ["--working-day-ends", "--level-weights", "--bottom-group", "--sms-webhook"] {
            assert!(text.contains(flag), "{flag}: {text}");
        }
    }

    #[test]
    fn defaults_are_valid() {
        let rules = T::parse_from(["t"]).county.rules().unwrap();
        assert_eq!(rules.close_of_day, None);
        assert_eq!(rules.results, hcp_app::ResultRules::default());
        assert_eq!(parse_close_of_day("17:30").unwrap(), Some(chrono::NaiveTime::from_hms_opt(17, 30, 0).unwrap()));
    }
}
