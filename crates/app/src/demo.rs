//! The demo county (青山县, fictional): about 30 townships with their villages and communities, about 25
//! county departments, halls with windows and staff, service items in all eight categories, and a year of
//! service records rated through every channel with a believable mix of levels (most good, a few bad, some
//! defaults). Deterministic for a given seed.

use chrono::{DateTime, Duration, Utc};
use hcp_domain::identity::{Applicant, ApplicantIdNumber, ApplicantName, CreditCode, IdNumber, Mobile};
use hcp_domain::indicators::Annex;
use hcp_domain::{ApplicantKind, Category, Channel, HallKind, Level, OrgKind, WindowKind};
use hcp_store::{BulkRecord, NewEvaluation, NewHall, NewItem, NewOrg, NewStaff, NewWindow};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::keys::SealedApplicant;
use crate::records::evaluation_deadline;
use crate::{App, AppResult, secrets};

pub const DEMO_SOURCE_SYSTEM: &str = "青山县一体化政务服务平台";

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub records: u64,
    pub seed: u64,
    /// Make one account per role (with random passwords, reported once).
    pub accounts: bool,
}

/// (username, display name, role, org code, staff number) of the demo accounts.
const DEMO_ACCOUNTS: [(&str, &str, &str, &str, Option<&str>); 7] = [
    ("staff", "演示工作人员", "staff", "510899D01", Some("QS0001")),
    // The unit where most services (and so most bad reviews) happen: the county government service center.
    ("unit", "政务服务中心承办人", "unit_admin", "510899D01", None),
    ("hotline", "热线坐席", "hotline_agent", "510899", None),
    ("center", "中心管理员", "center_admin", "510899", None),
    ("office", "县政府办公室督查员", "county_office", "510899", None),
    ("auditor", "审计员", "auditor", "510899", None),
    ("admin", "系统管理员", "system_admin", "510899", None),
];

#[derive(Debug, Default)]
pub struct DemoReport {
    pub orgs: usize,
    pub windows: usize,
    pub staff: usize,
    pub items: usize,
    pub records: u64,
    pub evaluations: u64,
    /// Evaluation links of recent records nobody has rated yet, to try the page at once.
    pub links: Vec<String>,
    /// An API key for the demo's integrating system, shown once.
    pub api_key: String,
    /// The hall device at the county hall's comprehensive window 1 (its page address, with its secret),
    /// the window's fixed QR code poster, and the kiosk.
    pub device_url: String,
    pub window_poster_url: String,
    pub kiosk_url: String,
    /// (username, password, role) of the demo accounts, shown once.
    pub accounts: Vec<(String, String, String)>,
    /// Bad-review cases, worked to every state, and appeals filed.
    pub cases: u64,
    pub appeals: u64,
    /// Monthly reports published for the past year.
    pub reports: u64,
    /// What the database holds of the features the summary names (rectification orders, integrity flags …).
    pub story: hcp_store::FeatureCounts,
}

const TOWNSHIPS: [&str; 30] = [
    "青山镇",
    "龙泉镇",
    "白鹤镇",
    "石桥镇",
    "金沙镇",
    "桂花乡",
    "柳溪镇",
    "双河镇",
    "新店镇",
    "永安镇",
    "太平镇",
    "文昌镇",
    "三合镇",
    "高坪镇",
    "河口镇",
    "东溪镇",
    "黄桷镇",
    "清水镇",
    "马鞍镇",
    "凤凰镇",
    "红岩乡",
    "大石镇",
    "平安乡",
    "长滩镇",
    "云台镇",
    "碧水镇",
    "鹿鸣乡",
    "桃源镇",
    "宝珠镇",
    "梨园乡",
];

const VILLAGE_STEMS: [&str; 24] = [
    "新民", "红星", "长岭", "团结", "光明", "和平", "建设", "胜利", "五一", "前进", "金龙", "银杏", "桃花", "松林",
    "竹园", "观音", "石龙", "回龙", "油房", "大湾", "堰塘", "柏树", "杨柳", "枣林",
];

/// County departments; the first one runs the comprehensive windows, the second the hotline.
const DEPARTMENTS: [&str; 26] = [
    "县政务服务和公共资源交易中心",
    "县“12345”政务服务中心",
    "县发展和改革局",
    "县教育局",
    "县公安局",
    "县民政局",
    "县司法局",
    "县财政局",
    "县人力资源和社会保障局",
    "县自然资源局",
    "县生态环境局",
    "县住房和城乡建设局",
    "县交通运输局",
    "县水利局",
    "县农业农村局",
    "县商务局",
    "县文化广播电视和旅游局",
    "县卫生健康局",
    "县退役军人事务局",
    "县应急管理局",
    "县市场监督管理局",
    "县医疗保障局",
    "县林业局",
    "国家税务总局青山县税务局",
    "县不动产登记中心",
    "县住房公积金管理中心",
];

/// A demo service item: name, category, owning department (index into DEPARTMENTS), legal and promised
/// limits in working days.
type DemoItem = (&'static str, Category, usize, Option<i64>, Option<i64>);

const ITEMS: &[DemoItem] = &[
    ("食品经营许可", Category::Licensing, 20, Some(20), Some(5)),
    ("药品零售企业经营许可", Category::Licensing, 20, Some(30), Some(15)),
    ("建筑工程施工许可证核发", Category::Licensing, 11, Some(15), Some(7)),
    ("道路货物运输经营许可", Category::Licensing, 12, Some(20), Some(10)),
    ("取水许可", Category::Licensing, 13, Some(45), Some(20)),
    ("公共场所卫生许可", Category::Licensing, 17, Some(20), Some(5)),
    ("娱乐场所经营许可", Category::Licensing, 16, Some(20), Some(10)),
    ("林木采伐许可证核发", Category::Licensing, 22, Some(20), Some(5)),
    ("排污许可", Category::Licensing, 10, Some(30), Some(15)),
    ("燃气经营许可", Category::Licensing, 11, Some(20), Some(10)),
    ("烟花爆竹经营(零售)许可", Category::Licensing, 19, Some(30), Some(10)),
    ("城乡居民最低生活保障金给付", Category::Payment, 5, Some(30), Some(20)),
    ("特困人员救助供养金给付", Category::Payment, 5, Some(30), Some(20)),
    ("失业保险金申领", Category::Payment, 8, Some(15), Some(5)),
    ("高龄津贴发放", Category::Payment, 5, Some(20), Some(10)),
    ("临时救助金给付", Category::Payment, 5, Some(15), Some(7)),
    ("优抚对象抚恤补助金给付", Category::Payment, 18, Some(20), Some(10)),
    ("不动产登记", Category::Confirmation, 24, Some(30), Some(5)),
    ("户口迁移登记", Category::Confirmation, 4, Some(20), Some(3)),
    ("居民身份证申领", Category::Confirmation, 4, Some(60), Some(20)),
    ("社会保险参保登记", Category::Confirmation, 8, Some(5), Some(1)),
    ("基本医疗保险参保登记", Category::Confirmation, 21, Some(5), Some(1)),
    ("婚姻登记", Category::Confirmation, 5, Some(1), Some(1)),
    ("退役士兵身份确认", Category::Confirmation, 18, Some(20), Some(10)),
    ("林木林地权属争议裁决", Category::Adjudication, 22, Some(180), Some(90)),
    ("土地权属争议调处", Category::Adjudication, 9, Some(180), Some(90)),
    ("水事纠纷裁决", Category::Adjudication, 13, Some(90), Some(60)),
    ("见义勇为人员奖励", Category::Reward, 4, Some(60), Some(30)),
    ("安全生产举报奖励", Category::Reward, 19, Some(60), Some(30)),
    ("优秀教师表彰奖励", Category::Reward, 3, Some(60), Some(30)),
    ("建设工程竣工验收备案", Category::OtherPower, 11, Some(15), Some(5)),
    ("农村宅基地审批", Category::OtherPower, 14, Some(20), Some(15)),
    ("占用挖掘公路审批", Category::OtherPower, 12, Some(20), Some(10)),
    ("社会保障卡申领", Category::PublicService, 8, Some(20), Some(1)),
    ("住房公积金提取", Category::PublicService, 25, Some(5), Some(1)),
    ("异地就医备案", Category::PublicService, 21, Some(5), Some(1)),
    ("就业失业登记", Category::PublicService, 8, Some(5), Some(1)),
    ("增值税发票申领", Category::PublicService, 23, Some(5), Some(1)),
    ("纳税申报", Category::PublicService, 23, Some(1), Some(1)),
    ("义务教育转学", Category::PublicService, 3, Some(15), Some(5)),
    ("老年人优待证办理", Category::PublicService, 5, Some(10), Some(1)),
    ("农村危房改造申请", Category::PublicService, 11, Some(30), Some(20)),
    ("12345热线诉求办理", Category::Hotline, 1, Some(15), Some(5)),
    ("12345热线政策咨询", Category::Hotline, 1, Some(5), Some(1)),
];

/// Departments with their own window in the county hall (部门专窗).
const HALL_DEPARTMENTS: [usize; 12] = [4, 5, 8, 9, 11, 12, 17, 20, 21, 23, 24, 25];

const SURNAMES: [&str; 30] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗",
    "高", "梁", "郑", "谢", "宋", "唐", "许", "韩", "冯", "邓", "欧阳",
];
const GIVEN: [&str; 40] = [
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
    "秀兰", "霞", "平", "刚", "桂英", "建华", "文", "华", "红", "玉兰", "志强", "海燕", "春梅", "德明", "小红", "国庆",
    "建国", "淑珍", "晓东", "雪梅", "兴华", "子涵",
];
const ENTERPRISES: [&str; 12] = [
    "青山县绿源农业开发有限公司",
    "青山县宏达建筑工程有限公司",
    "青山县顺通物流有限公司",
    "青山县好邻居超市",
    "青山县康泰大药房",
    "青山县龙泉酒业有限公司",
    "青山县山水旅游开发有限公司",
    "青山县鑫源建材经营部",
    "青山县红岩茶业专业合作社",
    "青山县安居房地产开发有限公司",
    "青山县明德培训学校",
    "青山县百味餐饮店",
];
const COMPLAINTS: [&str; 8] = [
    "排队等了两个多小时,窗口只开了一个。",
    "材料清单上没写要户口本复印件,跑了两趟。",
    "工作人员态度不好,问了两遍都不耐烦。",
    "说好五个工作日办结,拖了半个月才通知。",
    "网上说可以全程网办,结果还是要到现场交材料。",
    "自助机坏了没人管,只能重新排队。",
    "不同窗口说法不一样,来回跑了好几次。",
    "电话一直打不通,不知道办到哪一步了。",
];

/// A window of the demo catalog, with the staff who serve at it.
struct DemoWindow {
    id: i64,
    org_id: i64,
    staff: Vec<(i64, String)>,
    /// Index into DEPARTMENTS for a department window; None for comprehensive and township windows.
    department: Option<usize>,
    level: WindowLevel,
}

#[derive(PartialEq, Clone, Copy)]
enum WindowLevel {
    County,
    Township,
    Village,
}

struct Catalog {
    /// The township whose own center serves worse than the rest: it ranks at the bottom month after month,
    /// so the demo's reports issue rectification orders as real ones would.
    weak_org: i64,
    windows: Vec<DemoWindow>,
    items: Vec<(i64, usize, Category)>,
    dept_org: Vec<i64>,
    orgs: usize,
    staff: usize,
}

fn person_name(rng: &mut StdRng) -> String {
    format!("{}{}", SURNAMES[rng.random_range(0..SURNAMES.len())], GIVEN[rng.random_range(0..GIVEN.len())])
}

fn id_number(rng: &mut StdRng) -> String {
    let year = rng.random_range(1940..=2005);
    let month = rng.random_range(1..=12);
    let day = rng.random_range(1..=28);
    let first = format!("510899{year:04}{month:02}{day:02}{:03}", rng.random_range(0..1000));
    let check = IdNumber::check_char(&first) as char;
    format!("{first}{check}")
}

/// A credit code of a government body (registration authority 1, kind 1: 机关), as the catalog keeps for
/// the upper level.
fn agency_credit_code(rng: &mut StdRng) -> String {
    credit_code_with(rng, "11510899")
}

fn credit_code(rng: &mut StdRng, org: bool) -> String {
    credit_code_with(rng, if org { "52510899" } else { "91510899" })
}

fn credit_code_with(rng: &mut StdRng, prefix: &str) -> String {
    const A: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let mut s = String::from(prefix);
    for _ in 0..9 {
        s.push(A[rng.random_range(0..A.len())] as char);
    }
    let check = CreditCode::check_char(&s) as char;
    s.push(check);
    s
}

fn mobile(rng: &mut StdRng) -> String {
    const P: [&str; 8] = ["135", "138", "139", "150", "158", "177", "182", "199"];
    format!("{}{:08}", P[rng.random_range(0..P.len())], rng.random_range(0..100_000_000u32))
}

fn pick_level(rng: &mut StdRng) -> Level {
    let x: f64 = rng.random();
    match x {
        x if x < 0.72 => Level::VerySatisfied,
        x if x < 0.91 => Level::Satisfied,
        x if x < 0.97 => Level::BasicallySatisfied,
        x if x < 0.99 => Level::Dissatisfied,
        _ => Level::VeryDissatisfied,
    }
}

fn pick_channel(rng: &mut StdRng, at_window: bool) -> Channel {
    let x: f64 = rng.random();
    if !at_window {
        return if x < 0.5 {
            Channel::App
        } else if x < 0.85 {
            Channel::Web
        } else {
            Channel::Sms
        };
    }
    match x {
        x if x < 0.38 => Channel::HallDevice,
        x if x < 0.63 => Channel::QrCode,
        x if x < 0.75 => Channel::App,
        x if x < 0.84 => Channel::Web,
        x if x < 0.91 => Channel::Kiosk,
        x if x < 0.96 => Channel::Sms,
        _ => Channel::Hotline,
    }
}

/// The window of the demo's hall device: comprehensive window 1 of the county hall.
pub const DEMO_DEVICE_WINDOW: &str = "W-510899-C01";

impl App {
    /// Seeds the demo county into an empty database. `progress(done, total)` is called after each chunk.
    pub async fn seed_demo(&self, opts: &DemoOptions, progress: impl Fn(u64, u64)) -> AppResult<DemoReport> {
        let now = self.now();
        let mut rng = StdRng::seed_from_u64(opts.seed);
        let cat = self.seed_catalog(&mut rng).await?;
        let mut report = DemoReport {
            orgs: cat.orgs,
            windows: cat.windows.len(),
            staff: cat.staff,
            items: cat.items.len(),
            ..DemoReport::default()
        };
        report.api_key = self.create_api_key(DEMO_SOURCE_SYSTEM, None).await?;
        let (_, secret) = self
            .register_device(&crate::audit::Actor::system(), "QS-D-C01", "综合窗口1号评价器", DEMO_DEVICE_WINDOW)
            .await?;
        report.device_url = format!("{}/d/{secret}", self.public_url());
        report.window_poster_url = format!("{}/w/{DEMO_DEVICE_WINDOW}/poster", self.public_url());
        report.kiosk_url = format!("{}/kiosk", self.public_url());
        if opts.accounts {
            for (username, name, role, org, staff) in DEMO_ACCOUNTS {
                let password = crate::secrets::new_token()[..12].to_string();
                self.create_user(username, name, &password, role, org, staff).await?;
                report.accounts.push((username.to_string(), password, role.to_string()));
            }
        }

        // Large transactions on SQLite: the random blind-index keys dirty index pages all over, and each commit
        // writes every dirty page once, so fewer, bigger commits write far less. PostgreSQL slows down inside
        // a long transaction that upserts the same rollup rows again and again: smaller ones there.
        let chunk_size: u64 = if self.store.backend() == hcp_store::Backend::Postgres { 5_000 } else { 50_000 };
        let year_ms = Duration::days(365).num_milliseconds();
        // Records arrive in time order, so numbers and ids grow with time as in a real system.
        let mut offsets: Vec<i64> = (0..opts.records).map(|_| rng.random_range(0..year_ms)).collect();
        offsets.sort_unstable_by(|a, b| b.cmp(a));
        let mut done = 0u64;
        let mut open_links = Vec::new();
        for chunk in offsets.chunks(chunk_size as usize) {
            let mut owned: Vec<OwnedRecord> = Vec::with_capacity(chunk.len());
            let mut evals: Vec<(usize, NewEvaluation)> = Vec::with_capacity(chunk.len());
            for (i, off) in chunk.iter().enumerate() {
                let seq = done + i as u64 + 1;
                let rec = self.demo_record(&mut rng, &cat, now - Duration::milliseconds(*off), seq);
                if let Some(e) = demo_evaluation(&mut rng, &rec, now, cat.weak_org) {
                    evals.push((i, e));
                }
                owned.push(rec);
            }
            // Invitations for the newest records that are still open, so the demo has links to try.
            let mut invites = Vec::new();
            if done + chunk.len() as u64 == opts.records {
                for (i, r) in owned.iter().enumerate().rev() {
                    if open_links.len() >= 5 {
                        break;
                    }
                    let open = r.default_due_at.is_some_and(|d| d > now) && !evals.iter().any(|(j, _)| *j == i);
                    if open {
                        let token = secrets::new_token();
                        invites.push((i, secrets::hash(&token)));
                        open_links.push(self.evaluation_url(&token));
                    }
                }
            }
            let borrowed: Vec<BulkRecord<'_>> = owned.iter().map(OwnedRecord::borrow).collect();
            let audit = self.audit(
                &crate::audit::Actor::system(),
                "demo.load",
                "service_record:*",
                serde_json::json!({ "records": borrowed.len(), "evaluations": evals.len() }),
            );
            self.store.bulk_insert(&borrowed, &invites, &evals, &audit).await?;
            done += chunk.len() as u64;
            // A load grows the tables faster than autovacuum looks: without fresh statistics PostgreSQL
            // plans the rollups' id lookups as scans of "tiny" tables, and each batch gets slower. Statistics
            // go stale fastest while the tables are young: look each time they have doubled, then every 250,000.
            let batches = done / chunk_size;
            if batches.is_power_of_two() || done.is_multiple_of(250_000) {
                self.store.analyze().await?;
            }
            report.evaluations += evals.len() as u64;
            progress(done, opts.records);
        }
        report.records = done;
        report.links = open_links;
        tracing::info!(records = done, "demo records written");
        let cases = self.seed_demo_cases(&mut rng, now).await?;
        // PostgreSQL: the clock's and the case lists' plans need the cases' numbers (planned for an empty table,
        // the clock's read of the next 200 of 250,000 waiting cases took 4.4 s).
        self.store.analyze().await?;
        // Notices of past bad reviews went out when they happened.
        self.store.mark_history_delivered(now - Duration::days(1), self.gateway.via()).await?;
        // Windows that closed before now get their default evaluations and the clock marks what is overdue
        // now, exactly as the jobs do — after the histories, so the clock judges each case by its story (run
        // before, it marked every case of the year past the center's dispatch limit, one write each: an hour
        // at ten million).
        report.evaluations += self.run_jobs(now).await?.default_evaluations;
        report.cases = cases.cases;
        report.appeals = cases.appeals;
        if opts.records > 0 {
            report.reports = self.demo_reports(12).await?;
            if opts.accounts {
                self.seed_demo_story().await?;
            }
            self.store.mark_history_delivered(now - Duration::days(1), self.gateway.via()).await?;
        }
        report.story = self.store.feature_counts().await?;
        Ok(report)
    }

    async fn seed_catalog(&self, rng: &mut StdRng) -> AppResult<Catalog> {
        let now = self.now();
        // The upper level's codes come from their own generator, so adding them left the rest of the demo
        // county (names, numbers) as it was for a seed.
        let mut code_rng = StdRng::seed_from_u64(510_899);
        let s = &self.store;
        let county = s
            .insert_org(
                &NewOrg {
                    code: "510899",
                    name: "青山县",
                    kind: OrgKind::County.as_str(),
                    parent_id: None,
                    credit_code: Some(&agency_credit_code(&mut code_rng)),
                    area_code: Some("510899000000"),
                },
                now,
            )
            .await?;
        let mut orgs = 1;
        let mut weak_org = 0;
        let mut staff_count = 0;
        let mut dept_org = Vec::new();
        let mut dept_credit = Vec::new();
        for (i, name) in DEPARTMENTS.iter().enumerate() {
            let code = format!("510899D{:02}", i + 1);
            dept_credit.push(agency_credit_code(&mut code_rng));
            dept_org.push(
                s.insert_org(
                    &NewOrg {
                        code: &code,
                        name,
                        kind: OrgKind::Department.as_str(),
                        parent_id: Some(county),
                        credit_code: dept_credit.last().map(String::as_str),
                        area_code: Some("510899000000"),
                    },
                    now,
                )
                .await?,
            );
            orgs += 1;
        }
        let mut windows = Vec::new();
        let mut staff_seq = 0;
        let mut add_staff =
            async |rng: &mut StdRng, org_id: i64, window_id: i64, n: usize| -> AppResult<Vec<(i64, String)>> {
                let mut v = Vec::new();
                for _ in 0..n {
                    staff_seq += 1;
                    let number = format!("QS{staff_seq:04}");
                    let name = person_name(rng);
                    // Plausible personal data from the staff number alone (the seeded generator stays as it was).
                    let mobile = format!("139{:08}", 51_089_900 + staff_seq);
                    let first17 =
                        format!("5108991985{:02}{:02}{:03}", staff_seq % 12 + 1, staff_seq % 28 + 1, staff_seq % 1000);
                    let id_number =
                        format!("{first17}{}", hcp_domain::identity::IdNumber::check_char(&first17) as char);
                    let mobile = self.keys.seal_staff(&number, crate::keys::StaffField::Mobile, &mobile);
                    let id_number = self.keys.seal_staff(&number, crate::keys::StaffField::IdNumber, &id_number);
                    let id = s
                        .insert_staff(&NewStaff {
                            staff_number: &number,
                            name: &name,
                            org_id,
                            window_id: Some(window_id),
                            mobile: Some(&mobile),
                            id_number: Some(&id_number),
                        })
                        .await?;
                    v.push((id, number));
                }
                Ok(v)
            };

        // The county hall: comprehensive windows run by the center, and department windows.
        let hall = s
            .insert_hall(&NewHall {
                code: "H-510899",
                name: "青山县政务服务中心",
                kind: HallKind::Hall.as_str(),
                org_id: dept_org[0],
            })
            .await?;
        for n in 1..=8 {
            let code = format!("W-510899-C{n:02}");
            let name = format!("综合窗口{n}号");
            let id = s
                .insert_window(&NewWindow {
                    code: &code,
                    name: &name,
                    kind: WindowKind::Comprehensive.as_str(),
                    hall_id: hall,
                    org_id: dept_org[0],
                })
                .await?;
            let st = add_staff(rng, dept_org[0], id, 2).await?;
            windows.push(DemoWindow {
                id,
                org_id: dept_org[0],
                staff: st,
                department: None,
                level: WindowLevel::County,
            });
        }
        for d in HALL_DEPARTMENTS {
            let code = format!("W-510899-D{:02}", d + 1);
            let name = format!("{}专窗", DEPARTMENTS[d].trim_start_matches('县'));
            let id = s
                .insert_window(&NewWindow {
                    code: &code,
                    name: &name,
                    kind: WindowKind::Department.as_str(),
                    hall_id: hall,
                    org_id: dept_org[d],
                })
                .await?;
            let n = rng.random_range(1..=3);
            let st = add_staff(rng, dept_org[d], id, n).await?;
            windows.push(DemoWindow {
                id,
                org_id: dept_org[d],
                staff: st,
                department: Some(d),
                level: WindowLevel::County,
            });
        }
        for n in 1..=4 {
            s.insert_kiosk(&format!("K-510899-{n:02}"), &format!("自助服务终端{n}号"), hall).await?;
        }
        s.insert_platform("P-SCZWFW", "四川政务服务网", dept_org[0]).await?;
        s.insert_platform("P-TFTB", "天府通办移动端", dept_org[0]).await?;

        // Townships, each with a service center, and their villages and community with service points.
        for (t, tname) in TOWNSHIPS.iter().enumerate() {
            let tcode = format!("510899{:03}", 100 + t + 1);
            let township = s
                .insert_org(
                    &NewOrg {
                        code: &tcode,
                        name: tname,
                        kind: OrgKind::Township.as_str(),
                        parent_id: Some(county),
                        credit_code: Some(&agency_credit_code(&mut code_rng)),
                        area_code: Some(&format!("{tcode}000")),
                    },
                    now,
                )
                .await?;
            orgs += 1;
            if t + 1 == TOWNSHIPS.len() {
                weak_org = township;
            }
            let center = s
                .insert_hall(&NewHall {
                    code: &format!("H-{tcode}"),
                    name: &format!("{tname}便民服务中心"),
                    kind: HallKind::ServiceCenter.as_str(),
                    org_id: township,
                })
                .await?;
            for n in 1..=3 {
                let id = s
                    .insert_window(&NewWindow {
                        code: &format!("W-{tcode}-{n:02}"),
                        name: &format!("综合窗口{n}号"),
                        kind: WindowKind::Comprehensive.as_str(),
                        hall_id: center,
                        org_id: township,
                    })
                    .await?;
                let st = add_staff(rng, township, id, 1).await?;
                windows.push(DemoWindow {
                    id,
                    org_id: township,
                    staff: st,
                    department: None,
                    level: WindowLevel::Township,
                });
            }
            s.insert_kiosk(&format!("K-{tcode}"), &format!("{tname}自助服务终端"), center).await?;
            let stem = tname.trim_end_matches(['镇', '乡']);
            let villages = rng.random_range(5..=10);
            for v in 0..=villages {
                let (vname, kind) = if v == 0 {
                    (format!("{stem}社区"), OrgKind::Community)
                } else {
                    (format!("{}村", VILLAGE_STEMS[(t * 7 + v * 3) % VILLAGE_STEMS.len()]), OrgKind::Village)
                };
                let vcode = format!("{tcode}{:03}", 200 + v);
                let village = s
                    .insert_org(
                        &NewOrg {
                            code: &vcode,
                            name: &vname,
                            kind: kind.as_str(),
                            parent_id: Some(township),
                            credit_code: None,
                            area_code: Some(&vcode),
                        },
                        now,
                    )
                    .await?;
                orgs += 1;
                let point = s
                    .insert_hall(&NewHall {
                        code: &format!("H-{vcode}"),
                        name: &format!("{vname}便民服务点"),
                        kind: HallKind::ServicePoint.as_str(),
                        org_id: village,
                    })
                    .await?;
                let id = s
                    .insert_window(&NewWindow {
                        code: &format!("W-{vcode}"),
                        name: "代办窗口",
                        kind: WindowKind::Comprehensive.as_str(),
                        hall_id: point,
                        org_id: village,
                    })
                    .await?;
                let st = add_staff(rng, village, id, 1).await?;
                windows.push(DemoWindow {
                    id,
                    org_id: village,
                    staff: st,
                    department: None,
                    level: WindowLevel::Village,
                });
            }
        }
        staff_count += windows.iter().map(|w| w.staff.len()).sum::<usize>();

        let mut items = Vec::new();
        for (i, (name, category, dept, legal, promised)) in ITEMS.iter().enumerate() {
            let code =
                format!("QS{:02}{:04}", Category::ALL.iter().position(|c| c == category).unwrap_or(0) + 1, i + 1);
            // 实施编码: the implementing body's credit code, the national type, a serial (31); one handling item.
            let implementation =
                format!("{}{}{:011}", dept_credit[*dept], hcp_domain::upstream::task_type(*category), i + 1);
            let handle = format!("{implementation}01");
            let id = s
                .insert_item(&NewItem {
                    code: &code,
                    name,
                    category: category.as_str(),
                    org_id: dept_org[*dept],
                    legal_limit_days: *legal,
                    promised_limit_days: *promised,
                    implementation_code: Some(&implementation),
                    handle_item_code: Some(&handle),
                })
                .await?;
            items.push((id, *dept, *category));
        }
        Ok(Catalog { weak_org, windows, items, dept_org, orgs, staff: staff_count })
    }

    fn demo_record(&self, rng: &mut StdRng, cat: &Catalog, received_at: DateTime<Utc>, seq: u64) -> OwnedRecord {
        let (item_id, dept, category) = cat.items[rng.random_range(0..cat.items.len())];
        // Where it was handled: the department's own window, a comprehensive window, a township center,
        // a village service point — or online / by the hotline with no window at all.
        let x: f64 = rng.random();
        let online = category == Category::Hotline || x < 0.12;
        let window = if online {
            None
        } else {
            let own: Vec<&DemoWindow> = cat.windows.iter().filter(|w| w.department == Some(dept)).collect();
            let pool: Vec<&DemoWindow> = match rng.random_range(0..100) {
                0..45 if !own.is_empty() => own,
                0..65 => {
                    cat.windows.iter().filter(|w| w.level == WindowLevel::County && w.department.is_none()).collect()
                }
                65..92 => cat.windows.iter().filter(|w| w.level == WindowLevel::Township).collect(),
                _ => cat.windows.iter().filter(|w| w.level == WindowLevel::Village).collect(),
            };
            Some(pool[rng.random_range(0..pool.len())])
        };
        let (org_id, window_id, staff_id) = match window {
            Some(w) => {
                let (sid, _) = &w.staff[rng.random_range(0..w.staff.len())];
                (w.org_id, Some(w.id), Some(*sid))
            }
            None => (cat.dept_org[dept], None, None),
        };
        let kind_roll: f64 = rng.random();
        let (kind, name, idn) = if kind_roll < 0.85 {
            (ApplicantKind::Person, person_name(rng), id_number(rng))
        } else if kind_roll < 0.97 {
            (
                ApplicantKind::Enterprise,
                ENTERPRISES[rng.random_range(0..ENTERPRISES.len())].to_string(),
                credit_code(rng, false),
            )
        } else {
            (
                ApplicantKind::Organization,
                format!("{}村股份经济合作社", VILLAGE_STEMS[rng.random_range(0..VILLAGE_STEMS.len())]),
                credit_code(rng, true),
            )
        };
        let took = match rng.random_range(0..10) {
            0..6 => Duration::minutes(rng.random_range(5..90)),
            6..9 => Duration::hours(rng.random_range(2..96)),
            _ => Duration::days(rng.random_range(4..20)),
        };
        let completed_at = (received_at + took).min(self.now());
        let date = hcp_domain::calendar::business_date(received_at).format("%Y%m%d");
        let applicant = Applicant {
            kind,
            name: ApplicantName::parse("", &name).expect("demo names are valid"),
            id_number: ApplicantIdNumber::parse("", kind, &idn).expect("demo numbers carry their check digit"),
            mobile: Mobile::parse("", &mobile(rng)).expect("demo mobiles are valid"),
        };
        let record_number = format!("QS{date}{seq:08}");
        OwnedRecord {
            applicant: self.keys.seal(&record_number, &applicant),
            record_number,
            item_id,
            org_id,
            window_id,
            staff_id,
            kind,
            received_at,
            completed_at,
            default_due_at: Some(evaluation_deadline(completed_at)),
        }
    }
}

struct OwnedRecord {
    record_number: String,
    item_id: i64,
    org_id: i64,
    window_id: Option<i64>,
    staff_id: Option<i64>,
    kind: ApplicantKind,
    applicant: SealedApplicant,
    received_at: DateTime<Utc>,
    completed_at: DateTime<Utc>,
    default_due_at: Option<DateTime<Utc>>,
}

impl OwnedRecord {
    fn borrow(&self) -> BulkRecord<'_> {
        BulkRecord {
            source_system: DEMO_SOURCE_SYSTEM,
            record_number: &self.record_number,
            item_id: self.item_id,
            org_id: self.org_id,
            window_id: self.window_id,
            staff_id: self.staff_id,
            platform_id: None,
            applicant_kind: self.kind.as_str(),
            applicant: self.applicant.as_store(),
            received_at: self.received_at,
            completed_at: Some(self.completed_at),
            default_due_at: self.default_due_at,
            created_at: self.received_at,
        }
    }
}

/// Most applicants rate within a day or two; about one in eight never does (a default follows).
fn demo_evaluation(rng: &mut StdRng, rec: &OwnedRecord, now: DateTime<Utc>, weak_org: i64) -> Option<NewEvaluation> {
    if rng.random::<f64>() < 0.13 {
        return None;
    }
    let delay = if rng.random::<f64>() < 0.8 {
        Duration::minutes(rng.random_range(0..30))
    } else {
        Duration::hours(rng.random_range(1..160))
    };
    let at = rec.completed_at + delay;
    if at >= now || rec.default_due_at.is_some_and(|d| at >= d) {
        return None;
    }
    let level = match pick_level(rng) {
        // The weak township's own center: fewer delighted applicants (no more bad reviews, no extra draws).
        Level::VerySatisfied | Level::Satisfied if rec.org_id == weak_org => Level::BasicallySatisfied,
        level => level,
    };
    let lc = Annex::get().for_level(level);
    let mut indicator_ids = Vec::new();
    let mut staff_ids = Vec::new();
    let mut comment = None;
    if level.is_bad_review() || rng.random::<f64>() < 0.35 {
        for _ in 0..rng.random_range(1..=2) {
            indicator_ids.push(lc.service_criteria[rng.random_range(0..lc.service_criteria.len())].id.clone());
        }
        if rec.staff_id.is_some() && rng.random::<f64>() < 0.6 {
            staff_ids.push(lc.staff_criteria[rng.random_range(0..lc.staff_criteria.len())].id.clone());
        }
    }
    indicator_ids.sort();
    indicator_ids.dedup();
    if level.is_bad_review() {
        comment = Some(COMPLAINTS[rng.random_range(0..COMPLAINTS.len())].to_string());
    } else if rng.random::<f64>() < 0.05 {
        comment = Some("办事效率高,服务热情,点赞!".to_string());
    }
    Some(NewEvaluation {
        service_record_id: 0,
        round: 1,
        level: level.as_str(),
        channel: pick_channel(rng, rec.window_id.is_some()).as_str(),
        indicator_ids: indicator_ids.join(","),
        staff_indicator_ids: staff_ids.join(","),
        comment,
        is_default: false,
        created_at: at,
        recorded_by: None,
        evidence: None,
    })
}
