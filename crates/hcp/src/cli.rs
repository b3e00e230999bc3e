//! Command line. Every command takes `--database-url` (or `HCP_DATABASE_URL`), before or after its own
//! options.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{ArgAction, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::county::CountyArgs;

/// `hcp --version`: the program's version and the database schema it brings (`hcp migrate` upgrades to it).
static VERSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("{}(数据库结构版本 {})", env!("CARGO_PKG_VERSION"), hcp_store::Store::schema_version())
});

/// How every help page is laid out: Chinese headings around clap's lists.
const HELP_TEMPLATE: &str = "{about-with-newline}\n用法:{usage}\n\n{all-args}{after-help}";

/// 政务服务“好差评”系统:登记每一次政务服务,让办事群众和企业评价一次,差评整改、申诉、统计、排名、通报和考核。
#[derive(Debug, Parser)]
#[command(
    name = "hcp",
    version = VERSION.as_str(),
    disable_help_flag = true,
    disable_version_flag = true,
    disable_help_subcommand = true,
    subcommand_help_heading = "命令",
    subcommand_value_name = "命令",
    after_help = "新县上线请按 docs/上线指南.md 的步骤进行:hcp init → hcp catalog template → hcp catalog import → hcp user create → hcp doctor → hcp serve。\n每个命令都可加 --help 查看说明,如 hcp catalog import --help。"
)]
pub struct Cli {
    /// 显示帮助
    #[arg(short = 'h', long = "help", action = ArgAction::Help, global = true)]
    help: Option<bool>,
    /// 显示程序版本和它所带的数据库结构版本
    #[arg(short = 'V', long = "version", action = ArgAction::Version)]
    version: Option<bool>,

    /// 数据库:sqlite://文件(首次启动自动创建)或 postgres://用户@主机/库
    #[arg(long, global = true, env = "HCP_DATABASE_URL", hide_env_values = true, default_value = "sqlite://hcp.db")]
    pub database_url: String,

    /// 数据密钥文件(加密评价人信息的 SM4 密钥)。默认在 SQLite 文件旁(hcp.db.keys),PostgreSQL 为 hcp-data.keys;
    /// 也可用环境变量 HCP_DATA_KEYS 直接给出密钥内容
    #[arg(long, global = true, env = "HCP_DATA_KEYS_FILE")]
    pub data_keys_file: Option<std::path::PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

/// The command line, with every help page in Chinese: the same template, headings and help flag on every
/// command (clap's own words — "Usage", "Options" — would otherwise show through).
pub fn command() -> clap::Command {
    fn chinese(c: clap::Command) -> clap::Command {
        c.help_template(HELP_TEMPLATE)
            .subcommand_help_heading("命令")
            .subcommand_value_name("命令")
            .disable_help_subcommand(true)
            .mut_args(|a| if a.get_help_heading().is_none() { a.help_heading("选项") } else { a })
            .mut_subcommands(chinese)
    }
    chinese(Cli::command())
}

/// Parses the process's arguments (exits with clap's message on a mistake).
pub fn parse() -> Cli {
    let matches = command().get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// 新县第一次运行:在空数据库上建立本县(最上级机构)和第一个系统管理员
    Init(InitArgs),
    /// 上线检查:逐项列出 ✓ 或 ✗ 及改正方法;全部 ✓ 时退出码为 0
    Doctor(Box<DoctorArgs>),
    /// 启动网页服务和后台任务(默认评价、工单时限、通知、上报省平台)
    Serve(Box<ServeArgs>),
    /// 创建或升级数据库结构后退出
    Migrate {
        /// 只列出将执行的迁移,不作任何更改
        #[arg(long)]
        dry_run: bool,
    },
    /// 向空数据库加载演示县“青山县”(虚构),用于试用和培训
    Demo(DemoArgs),
    /// 按给定时间运行一次后台任务
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// 对接系统(办件系统等)的接口密钥
    #[command(subcommand)]
    Apikey(ApikeyCommand),
    /// 工作台账号
    #[command(subcommand)]
    User(UserCommand),
    /// 数据密钥(加密评价人信息)
    #[command(subcommand)]
    Keys(KeysCommand),
    /// 防篡改的审计日志
    #[command(subcommand)]
    Audit(AuditCommand),
    /// 工作日历:法定节假日和调休上班日
    #[command(subcommand)]
    Calendar(CalendarCommand),
    /// 统计汇总的核对与重算
    #[command(subcommand)]
    Stats(StatsCommand),
    /// 窗口评价器
    #[command(subcommand)]
    Device(DeviceCommand),
    /// 办理平台(政务服务网、移动端应用等)
    #[command(subcommand)]
    Platform(PlatformCommand),
    /// 与省级“好差评”系统对接
    #[command(subcommand)]
    Exchange(ExchangeCommand),
    /// 基础信息(机构、大厅、窗口、工作人员、事项、平台):导入模板和导入
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// 导入旧系统的数据
    #[command(subcommand)]
    Import(ImportCommand),
    /// 检查虚假好评、恶意差评
    #[command(subcommand)]
    Integrity(IntegrityCommand),
    /// 通报:导出已发布通报的发布包(供门户网站、移动端发布)
    #[command(subcommand)]
    Report(ReportCommand),
    /// 备份数据库和数据密钥到一个新的空目录(服务运行中也可);hcp backup verify 目录 核对备份
    Backup(BackupArgs),
    /// 从 hcp backup 的备份恢复(先核对;目标库已有数据时须加 --force)
    Restore {
        /// 备份目录
        dir: std::path::PathBuf,
        /// 替换已有数据的数据库(先停止服务;原文件改名保留)
        #[arg(long)]
        force: bool,
    },
}

/// `hcp init`
#[derive(Debug, Args)]
pub struct InitArgs {
    /// 本县(或本市)的机构代码,如 510899;1–32 位字母、数字、- 或 _
    #[arg(long)]
    pub org_code: String,
    /// 机构名称,如 青山县
    #[arg(long)]
    pub org_name: String,
    /// 机构类型:county(县)或 city(市)
    #[arg(long, default_value = "county")]
    pub org_kind: String,
    /// 12 位行政区划代码,如 510899000000(对接省平台时需要)
    #[arg(long)]
    pub area_code: Option<String>,
    /// 18 位统一社会信用代码(对接省平台时需要)
    #[arg(long)]
    pub credit_code: Option<String>,
    /// 第一个系统管理员的用户名,如 admin;3–32 位小写字母、数字或 . _ -
    #[arg(long)]
    pub admin_username: String,
    /// 系统管理员的姓名(默认同用户名)
    #[arg(long)]
    pub admin_name: Option<String>,
    /// 在已有县的数据库上再增加一个县(市级多县共用一个数据库时)
    #[arg(long)]
    pub another: bool,
}

/// `hcp doctor`
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// 服务对外的访问地址(同 serve --public-url)
    #[arg(long, env = "HCP_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// 服务的监听地址(同 serve --listen)
    #[arg(long, env = "HCP_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// 自动备份目录(同 serve --backup-dir)
    #[arg(long, env = "HCP_BACKUP_DIR")]
    pub backup_dir: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub county: CountyArgs,
    #[command(flatten)]
    pub upstream: UpstreamArgs,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BackupArgs {
    #[command(subcommand)]
    pub command: Option<BackupCommand>,
    /// 存放备份的新的空目录
    pub dir: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// 核对备份:各文件的 SM3 摘要、数据密钥、审计链和统计汇总
    Verify {
        /// 备份目录
        dir: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum IntegrityCommand {
    /// 检查办件日期在 FROM–TO(含)之间的评价,把线索交县政府办公室核查;再次检查得到相同线索
    Scan {
        /// 起始日期,如 2026-11-01
        #[arg(long)]
        from: String,
        /// 截止日期(含),如 2026-11-30
        #[arg(long)]
        to: String,
        #[command(flatten)]
        county: CountyArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// 导入旧系统的办件和评价(每行一个 JSON 对象,保留原时间;全部无误才导入,格式见 docs/history-import.md)
    History {
        /// .jsonl 文件
        file: std::path::PathBuf,
        #[command(flatten)]
        county: CountyArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// 从 CSV 或 Excel 文件导入基础信息(全部无误才导入,每处错误都列出;格式见 docs/catalog-import.md)
    Import {
        /// CSV 文件(一类信息)或 .xlsx 工作簿(每类一张表)
        file: std::path::PathBuf,
    },
    /// 生成导入模板(.xlsx):每类一张表,附示例行和“说明”表(各列含义和可填的值)
    Template {
        /// 要生成的文件,如 基础信息模板.xlsx
        file: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExchangeCommand {
    /// 对接状态:未配置、正常或连接失败,最近一次成功上报、最近的错误,各类数据的待报、已接收、被拒数量
    Status,
    /// 逐条列出:被拒收的、与本系统冲突的、暂无对应办件的或代码无法识别的
    List {
        /// 省平台拒收的项目及原因
        #[arg(long, group = "which")]
        rejected: bool,
        /// 省平台回流、但本系统已有评价的(以首次评价为准)
        #[arg(long, group = "which")]
        conflicts: bool,
        /// 省平台回流、本系统(暂时)没有对应办件的
        #[arg(long, group = "which")]
        unmatched: bool,
        /// 省平台回流、超过 30 天或超过上限仍无对应办件、已不再自动匹配的
        #[arg(long, group = "which")]
        expired: bool,
        /// 省平台回流、代码无法识别的
        #[arg(long, group = "which")]
        invalid: bool,
        /// 最多列出的条数
        #[arg(long, default_value_t = 200)]
        limit: i64,
    },
    /// 按修正后的数据重新上报被拒收的项目
    Resend {
        /// 重新上报被拒收的项目
        #[arg(long)]
        rejected: bool,
    },
    /// 生成本县 SM2 密钥对(省平台用公钥加密回流数据);最后一行单独打印公钥
    Keygen {
        /// 替换已有密钥(省平台用旧公钥加密的数据将无法解开)
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// 登记评价器并绑定窗口;打印评价器浏览器应打开的地址(只显示一次)
    Add {
        /// 评价器编码,如 QS-D-C02
        #[arg(long)]
        code: String,
        /// 便于识别的名称,如 综合窗口2号评价器
        #[arg(long)]
        name: String,
        /// 窗口编码,如 W-510899-C02
        #[arg(long)]
        window: String,
    },
    /// 列出评价器及其窗口
    List,
    /// 停用评价器:其地址立即失效
    Revoke {
        /// 评价器编码
        #[arg(long)]
        code: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PlatformCommand {
    /// 登记办理平台及其运行机构
    Add {
        /// 平台编码,如 P-QSZWFW;办件以 platform_code 指明
        #[arg(long)]
        code: String,
        /// 平台名称,如 青山县政务服务网
        #[arg(long)]
        name: String,
        /// 运行该平台的机构代码
        #[arg(long)]
        org: String,
    },
    /// 列出办理平台
    List,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// 把已发布的通报导出到目录:index.html(单一文件、无脚本、无外部资源、可打印)、report.json(数据)、
    /// report.xlsx;不含任何个人姓名、号码或评价意见,可直接交门户网站发布
    Export {
        /// 通报编号(工作台“通报”列表中的编号)
        id: i64,
        /// 写入的目录(不存在则创建)
        dir: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum StatsCommand {
    /// 按逐条评价、作废和办件重算统计汇总(恢复后或修复时)
    Rebuild,
    /// 把统计汇总与逐条重算比对;不一致时列出差异并以退出码 1 结束
    Check,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// 创建账号并授予一个角色,管辖一个机构及其下级。密码取自环境变量 HCP_NEW_PASSWORD,否则从标准输入读取
    Create {
        /// 用户名:3–32 位小写字母、数字或 . _ -,如 zhang.wei
        #[arg(long)]
        username: String,
        /// 角色:staff(工作人员)、unit_admin(承办单位管理员)、hotline_agent(12345热线坐席)、
        /// center_admin(政务服务中心管理员)、county_office(县政府办公室)、auditor(审计员)、system_admin(系统管理员)
        #[arg(long)]
        role: String,
        /// 角色管辖的机构代码(全县范围的角色填本县代码)
        #[arg(long)]
        org: String,
        /// 姓名,工作台中显示(默认同用户名)
        #[arg(long)]
        name: Option<String>,
        /// 工号(在窗口服务的工作人员)
        #[arg(long)]
        staff: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// 从第一条起重算审计链(HMAC-SM3,密钥随数据密钥保存),指出第一条不符的记录(退出码 1)
    Verify {
        /// 锚点文件(hcp audit anchor 打印、服务每天追加的“seq 序号 校验值”行):每个锚点都须仍在链中
        #[arg(long)]
        anchor: Option<std::path::PathBuf>,
    },
    /// 打印审计链当前的锚点“seq 序号 校验值”,请另行保存
    Anchor,
    /// 按顺序列出审计记录(从旧到新)
    List {
        /// 只列出以此开头的操作,如 evaluation.、calendar.import
        #[arg(long, default_value = "")]
        action: String,
        /// 只列出此序号之后的记录
        #[arg(long, default_value_t = 0)]
        after: i64,
        /// 最多列出的条数
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// 为新数据库生成数据密钥文件并登记指纹(PostgreSQL 必需;hcp init 也会生成);多实例复制同一文件
    Init,
    /// 新增数据密钥并分批重新加密全部评价人信息,服务不中断;之后再运行一次 --finish 处理其他实例期间写入的
    Rotate {
        /// 不新增密钥,只重新加密仍在旧密钥下的信息
        #[arg(long)]
        finish: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// 列出某年的放假和调休上班日
    Show {
        /// 年份,如 2026
        year: i32,
    },
    /// 某日是工作日则打印 yes,否则 no
    IsWorkingDay {
        /// 日期,如 2026-02-14
        date: String,
    },
    /// 打印“DATE 之后第 N 个工作日”的日期(当天不计)
    AddWorkingDays {
        /// 起算日期,如 2026-09-30
        date: String,
        /// 工作日数
        n: u32,
    },
    /// 导入节假日安排(格式同 cn-holidays.csv:日期,kind,名称);文件有误则整体拒绝
    Import {
        /// CSV 文件
        file: std::path::PathBuf,
        /// 文件是本县的临时调整(停止办公或加班),不是国务院办公厅通知
        #[arg(long)]
        local: bool,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// 监听地址;对内网开放用 0.0.0.0:8080
    #[arg(long, env = "HCP_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// 评价链接、二维码和评价器地址中使用的访问地址,应为群众手机和评价器能访问的地址,如 http://10.1.2.3:8080
    /// (默认 http://监听地址)
    #[arg(long, env = "HCP_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// 数据库为空时先加载演示县
    #[arg(long)]
    pub demo: bool,
    /// 演示县的办件数(与 --demo 一起用)
    #[arg(long, default_value_t = 50_000)]
    pub demo_records: u64,
    /// 本实例不运行后台任务(多实例时由其他实例运行)
    #[arg(long)]
    pub no_jobs: bool,
    /// 前置反向代理的地址,来自它的请求按 X-Forwarded-For 识别真实客户端(可重复,环境变量中用逗号分隔)
    #[arg(long, env = "HCP_TRUSTED_PROXY", value_delimiter = ',')]
    pub trusted_proxy: Vec<std::net::IpAddr>,
    /// 每人每天查看评价人完整联系方式的次数上限;超出即拒绝,并在审计员首页提示
    #[arg(long, env = "HCP_REVEAL_QUOTA", default_value_t = hcp_app::reveal::DEFAULT_REVEAL_QUOTA)]
    pub reveal_quota: u32,
    /// 12345 坐席记录的来电评价须经申请人点击短信链接确认(7 天内)后才生效
    #[arg(long, env = "HCP_HOTLINE_CONFIRM")]
    pub hotline_confirm: bool,
    /// 审计日志与密钥旁的锚点文件不符(被截短、改写或降级)时仍启动服务;每位管理员的工作台首页将一直显示警报。
    /// 仅在查明原因、确需先恢复服务时使用
    #[arg(long, env = "HCP_ACCEPT_AUDIT_MISMATCH")]
    pub accept_audit_mismatch: bool,
    /// 请求头须在此秒数内收齐(也是连接上等待下一个请求的最长时间)
    #[arg(long, env = "HCP_HEADER_TIMEOUT", default_value_t = 10)]
    pub header_timeout: u64,
    /// 请求须在此秒数内应答,否则返回 503 request_timeout
    #[arg(long, env = "HCP_REQUEST_TIMEOUT", default_value_t = 60)]
    pub request_timeout: u64,
    /// 连接上无任何数据往来超过此秒数即断开(须大于 --request-timeout)
    #[arg(long, env = "HCP_IDLE_TIMEOUT", default_value_t = 90)]
    pub idle_timeout: u64,
    /// 同时打开的连接上限;超出时新连接立即得到 503 server_busy
    #[arg(long, env = "HCP_MAX_CONNECTIONS", default_value_t = 1000)]
    pub max_connections: usize,
    /// 同一客户端地址同时打开的连接上限(前置代理 --trusted-proxy 的连接不按地址计);超出时新连接立即得到 503
    #[arg(long, env = "HCP_MAX_CONNECTIONS_PER_CLIENT", default_value_t = 100)]
    pub max_connections_per_client: usize,
    /// 可读取 /metrics 的地址(逗号分隔;默认仅本机)。经可信反向代理时按真实客户端地址判断
    #[arg(long, env = "HCP_METRICS_ALLOW", value_delimiter = ',')]
    pub metrics_allow: Vec<std::net::IpAddr>,
    /// 不统计请求、不提供 /metrics
    #[arg(long, env = "HCP_NO_METRICS")]
    pub no_metrics: bool,
    /// 每天 02:30(北京时间)在此目录下按日期新建一份备份(SQLite)
    #[arg(long, env = "HCP_BACKUP_DIR")]
    pub backup_dir: Option<std::path::PathBuf>,
    /// --backup-dir 下保留最近多少份备份(更早的删除)
    #[arg(long, env = "HCP_BACKUP_KEEP", default_value_t = 14, value_parser = clap::value_parser!(u32).range(1..))]
    pub backup_keep: u32,
    #[command(flatten)]
    pub county: CountyArgs,
    #[command(flatten)]
    pub upstream: UpstreamArgs,
}

/// 与省级“好差评”系统对接(不设 --upstream-url 则不上报,数据在队列中保留;见 docs/upstream.md)
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "与省平台对接")]
pub struct UpstreamArgs {
    /// 省平台接口的基础地址,须为 https://;数据发往 {地址}/service、{地址}/evaluation 等
    #[arg(long, env = "HCP_UPSTREAM_URL")]
    pub upstream_url: Option<String>,
    /// 允许以 http:// 连接省平台(仅供联调测试;报文含群众个人信息,正式对接须用 https://)
    #[arg(long, env = "HCP_UPSTREAM_ALLOW_HTTP")]
    pub upstream_allow_http: bool,
    /// appMark:省平台分配给本系统的标识
    #[arg(long, env = "HCP_UPSTREAM_APP_MARK")]
    pub upstream_app_mark: Option<String>,
    /// appWord:与 appMark 一同分配的口令(不写入日志)
    #[arg(long, env = "HCP_UPSTREAM_APP_WORD", hide_env_values = true)]
    pub upstream_app_word: Option<String>,
    /// 省平台的 SM2 公钥,以 04 开头的 130 位十六进制
    #[arg(long, env = "HCP_UPSTREAM_PUBLIC_KEY")]
    pub upstream_public_key: Option<String>,
    /// 省平台对答复签名时,其验签 SM2 公钥(04 开头的 130 位十六进制):每个答复须在 HTTP 头 Sign 中带有对答复正文的
    /// SM2 签名,缺失或不符即不采用(按失败重试)。省平台不签名时不填
    #[arg(long, env = "HCP_UPSTREAM_REPLY_KEY")]
    pub upstream_reply_key: Option<String>,
    /// dataSource:省平台分配给本系统的数据来源代码
    #[arg(long, env = "HCP_UPSTREAM_DATA_SOURCE")]
    pub upstream_data_source: Option<String>,
    /// 机构未填行政区划代码时使用的 12 位 areaCode
    #[arg(long, env = "HCP_UPSTREAM_AREA_CODE")]
    pub upstream_area_code: Option<String>,
    /// 等待省平台答复的秒数,超时即算失败并重试
    #[arg(long, env = "HCP_UPSTREAM_TIMEOUT", default_value_t = 10)]
    pub upstream_timeout: u64,
    /// 失败后重试的最长间隔(秒)
    #[arg(long, env = "HCP_UPSTREAM_RETRY_MAX", default_value_t = 3600)]
    pub upstream_retry_max: u64,
    /// 查询省平台渠道评价(回流)的间隔秒数
    #[arg(long, env = "HCP_UPSTREAM_PULL_EVERY", default_value_t = 300)]
    pub upstream_pull_every: u64,
    /// 省平台代码对照 JSON 文件:{"pf": {"web": 1, …}, "indicators": {"S111": "…", …}}
    #[arg(long, env = "HCP_UPSTREAM_CODES")]
    pub upstream_codes: Option<std::path::PathBuf>,
}

/// The exchange as configured, checked.
pub type UpstreamSettings = (Option<hcp_app::exchange::UpstreamConfig>, hcp_domain::upstream::Codes);

impl UpstreamArgs {
    /// The configuration, checked whole: every malformed key, missing setting or bad file is named, not only
    /// the first. `county_key` is the county's own SM2 key file (from `hcp exchange keygen`); without it
    /// nothing is pulled, and a malformed one is an error.
    pub fn settings(&self, county_key: &std::path::Path) -> Result<UpstreamSettings, Vec<String>> {
        let mut errors = Vec::new();
        let codes = match &self.upstream_codes {
            None => Some(hcp_domain::upstream::Codes::builtin()),
            Some(path) => match std::fs::read_to_string(path) {
                Err(e) => {
                    errors.push(format!("--upstream-codes:无法读取上级平台代码对照文件 {}:{e}", path.display()));
                    None
                }
                Ok(text) => hcp_domain::upstream::Codes::parse(&text)
                    .map_err(|e| errors.push(format!("--upstream-codes:{}:{e}", path.display())))
                    .ok(),
            },
        };
        let Some(url) = self.upstream_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) else {
            return match codes {
                Some(codes) if errors.is_empty() => Ok((None, codes)),
                _ => Err(errors),
            };
        };
        if url.starts_with("http://") && !self.upstream_allow_http {
            errors.push(format!(
                "--upstream-url:上级平台地址须以 https:// 开头(报文含群众个人信息):{url};仅联调测试时可加 --upstream-allow-http"
            ));
        } else if !(url.starts_with("http://") || url.starts_with("https://")) {
            errors.push(format!("--upstream-url:上级平台地址应以 https:// 开头:{url}"));
        }
        let mut need = |v: &Option<String>, flag: &str, what: &str| -> Option<String> {
            let v = v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
            if v.is_none() {
                errors.push(format!("{flag}:配置了上级平台地址,但缺少{what}"));
            }
            v
        };
        let app_mark = need(&self.upstream_app_mark, "--upstream-app-mark", "appMark");
        let app_word = need(&self.upstream_app_word, "--upstream-app-word", "appWord");
        let key = need(&self.upstream_public_key, "--upstream-public-key", "上级平台的 SM2 公钥");
        let data_source = need(&self.upstream_data_source, "--upstream-data-source", "dataSource");
        let public_key = key.and_then(|k| {
            hcp_crypto::Sm2PublicKey::from_hex(&k)
                .map_err(|e| errors.push(format!("--upstream-public-key:上级平台公钥有误:{e}")))
                .ok()
        });
        let reply_key = match self.upstream_reply_key.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Some(None),
            Some(k) => hcp_crypto::Sm2PublicKey::from_hex(k)
                .map(Some)
                .map_err(|e| errors.push(format!("--upstream-reply-key:省平台验签公钥有误:{e}")))
                .ok(),
        };
        let area_code = match self.upstream_area_code.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Some(None),
            Some(a) => hcp_domain::upstream::AreaCode::parse("upstream_area_code", a)
                .map(|c| Some(c.as_str().to_string()))
                .map_err(|v| errors.push(format!("--upstream-area-code:{}", v.message)))
                .ok(),
        };
        if self.upstream_timeout == 0 {
            errors.push("--upstream-timeout:应大于 0 秒".into());
        }
        if self.upstream_retry_max < 5 {
            errors.push("--upstream-retry-max:应至少 5 秒".into());
        }
        if self.upstream_pull_every == 0 {
            errors.push("--upstream-pull-every:应大于 0 秒".into());
        }
        let county_key = match std::fs::read_to_string(county_key) {
            Ok(text) => hcp_crypto::Sm2SecretKey::from_hex(text.trim())
                .map(Some)
                .map_err(|e| errors.push(format!("本县 SM2 密钥文件 {} 有误:{e}", county_key.display())))
                .ok(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::warn!(file = %county_key.display(), "no county SM2 key: evaluations made on the province's channels are not pulled until `hcp exchange keygen`");
                Some(None)
            }
            Err(e) => {
                errors.push(format!("无法读取本县 SM2 密钥文件 {}:{e}", county_key.display()));
                None
            }
        };
        let (
            Some(codes),
            Some(app_mark),
            Some(app_word),
            Some(public_key),
            Some(data_source),
            Some(area_code),
            Some(county_key),
            Some(reply_key),
            true,
        ) = (codes, app_mark, app_word, public_key, data_source, area_code, county_key, reply_key, errors.is_empty())
        else {
            return Err(errors);
        };
        let config = hcp_app::exchange::UpstreamConfig {
            url: url.trim_end_matches('/').to_string(),
            app_mark,
            app_word,
            public_key,
            data_source,
            area_code,
            timeout: std::time::Duration::from_secs(self.upstream_timeout),
            retry_max: std::time::Duration::from_secs(self.upstream_retry_max),
            pull_every: std::time::Duration::from_secs(self.upstream_pull_every),
            county_key,
            reply_key,
        };
        Ok((Some(config), codes))
    }
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// 办件数(近一年,分布在最近 365 天)
    #[arg(long, default_value_t = 50_000)]
    pub records: u64,
    /// 随机种子:相同种子生成相同的县
    #[arg(long, default_value_t = 2020)]
    pub seed: u64,
    #[command(flatten)]
    pub county: CountyArgs,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// 按给定时间运行一次全部后台任务后退出
    Run {
        /// 运行所按的时间,RFC 3339 格式,如 2026-03-09T00:00:00+08:00
        #[arg(long)]
        now: String,
        #[command(flatten)]
        county: CountyArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApikeyCommand {
    /// 创建接口密钥;密钥只在最后一行单独打印一次,系统只保存其摘要
    Create {
        /// 对接系统的名称(办件按系统和办件编号区分)
        #[arg(long)]
        name: String,
        /// 只允许为此机构及其下级登记办件(默认全县)
        #[arg(long)]
        org: Option<String>,
    },
}

/// Parses the command line, runs the command, and turns an error into a message and exit code 1.
pub fn main() -> ExitCode {
    let cli = parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("错误:无法启动运行时:{e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(crate::commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("错误:{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HCP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let fmt = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // `HCP_LOG_FORMAT=json`: one JSON object per line, with the request's id in its span (for a log collector).
    if std::env::var("HCP_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        fmt.json().with_current_span(true).with_span_list(false).init();
    } else {
        fmt.init();
    }
}
