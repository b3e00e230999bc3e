//! From sheets to what a file adds and changes: every cell checked with the rules the console uses, every
//! reference resolved (to the catalog or to the same file), every bad line named with its column and reason —
//! all of them at once, nothing written unless there are none.

use std::collections::{HashMap, HashSet};

use hcp_domain::catalog::{HallKind, OrgKind, WindowKind};
use hcp_domain::identity::{CreditCode, parse_text};
use hcp_domain::upstream::{AreaCode, HandleItemCode, ImplementationCode};
use hcp_domain::{Category, Violation};
use hcp_store::{
    CatalogImport, CatalogSnapshot, HallEntry, ImportOp, ItemEntry, OrgEntry, PlatformEntry, StaffEntry, WindowEntry,
};

use super::LineError;
use super::read::Sheet;
use crate::catalog_admin::{CatalogKind, parse_code, parse_days};
use crate::keys::StaffField;

pub(super) struct Col {
    pub(super) zh: &'static str,
    en: &'static str,
    pub(super) required: bool,
    /// What the column holds and which values it takes, for the template's 说明 sheet.
    pub(super) note: &'static str,
}

const fn col(zh: &'static str, en: &'static str, required: bool, note: &'static str) -> Col {
    Col { zh, en, required, note }
}

const CODE: &str = "1–32 位字母、数字、- 或 _,全县唯一,导入后不能更改";
const ORG_REF: &str = "所属机构的机构代码(本文件“机构”表中或系统中已有)";

const ORG: &[Col] = &[
    col("机构代码", "org_code", true, CODE),
    col("名称", "name", true, "机构全称,不超过 50 个字"),
    col(
        "类型",
        "kind",
        true,
        "县、市、乡镇、村、社区、部门之一(也可写 county、city、township、village、community、department)",
    ),
    col(
        "上级机构代码",
        "parent_code",
        false,
        "新增机构必填;系统中还没有任何机构时,本县(类型为县或市)这一行留空,作为最上级机构",
    ),
    col("统一社会信用代码", "credit_code", false, "18 位,含校验位;对接省平台时需要"),
    col("行政区划代码", "area_code", false, "12 位数字,如 510899000000;对接省平台时需要"),
];
const HALL: &[Col] = &[
    col("大厅编码", "hall_code", true, CODE),
    col("名称", "name", true, "大厅名称,如 青山县政务服务中心"),
    col("类型", "kind", true, "政务服务大厅、便民服务中心、便民服务点之一"),
    col("所属机构代码", "org_code", true, ORG_REF),
];
const WINDOW: &[Col] = &[
    col("窗口编码", "window_code", true, CODE),
    col("名称", "name", true, "窗口名称,如 综合窗口1号"),
    col("类型", "kind", true, "综合窗口、部门专窗之一"),
    col("大厅编码", "hall_code", true, "窗口所在大厅的编码(本文件“大厅”表中或系统中已有)"),
    col("所属机构代码", "org_code", true, ORG_REF),
];
const STAFF: &[Col] = &[
    col("工号", "staff_number", true, CODE),
    col("姓名", "name", true, "工作人员姓名"),
    col("所属机构代码", "org_code", true, ORG_REF),
    col("窗口编码", "window_code", false, "常驻窗口的编码(可空)"),
    col("手机号", "mobile", false, "11 位手机号(可空;加密保存,导入后不再显示)"),
    col("身份证号", "id_number", false, "18 位身份证号码(可空;加密保存,导入后不再显示)"),
];
const ITEM: &[Col] = &[
    col("事项编码", "item_code", true, CODE),
    col("名称", "name", true, "事项名称,不超过 50 个字"),
    col("类别", "category", true, "八类之一,写全称、简称或代码均可,见下方“事项类别”"),
    col("主管机构代码", "org_code", true, ORG_REF),
    col("法定时限", "legal_days", false, "工作日数 1–365(可空)"),
    col("承诺时限", "promised_days", false, "工作日数 1–365(可空)"),
    col("实施编码", "implementation_code", false, "31 位事项实施编码(对接省平台时需要)"),
    col("业务办理项编码", "handle_item_code", false, "33 位业务办理项编码(对接省平台时需要)"),
];

const PLATFORM: &[Col] = &[
    col("平台编码", "platform_code", true, CODE),
    col("名称", "name", true, "平台名称,如 青山县政务服务网"),
    col("运行机构代码", "org_code", true, "运行该平台的机构代码"),
];

/// The columns of each kind, in the order of the documented templates (docs/catalog-import.md).
pub fn columns(kind: CatalogKind) -> Vec<&'static str> {
    cols(kind).iter().map(|c| c.zh).collect()
}

pub(super) fn cols(kind: CatalogKind) -> &'static [Col] {
    match kind {
        CatalogKind::Org => ORG,
        CatalogKind::Hall => HALL,
        CatalogKind::Window => WINDOW,
        CatalogKind::Staff => STAFF,
        CatalogKind::Item => ITEM,
        CatalogKind::Platform => PLATFORM,
    }
}

/// A header cell as typed: `机构代码*`, `名称(必填)` and `Org_Code` all name their column.
fn normalise(h: &str) -> String {
    let h = h.trim().trim_end_matches(['*', '*']);
    let h = h.split(['(', '(']).next().unwrap_or(h);
    h.trim().to_lowercase()
}

fn names(c: &Col, h: &str) -> bool {
    let h = normalise(h);
    h == c.zh || h == c.en
}

/// The kind of a sheet, from its first column.
fn kind_of(sheet: &Sheet) -> Option<CatalogKind> {
    let first = sheet.header.first()?;
    [
        CatalogKind::Org,
        CatalogKind::Hall,
        CatalogKind::Window,
        CatalogKind::Staff,
        CatalogKind::Item,
        CatalogKind::Platform,
    ]
    .into_iter()
    .find(|k| names(&cols(*k)[0], first))
}

struct Table<'a> {
    sheet: &'a Sheet,
    kind: CatalogKind,
    at: Vec<Option<usize>>,
}

impl Table<'_> {
    fn get<'r>(&self, row: &'r [String], i: usize) -> &'r str {
        self.at[i].and_then(|c| row.get(c)).map_or("", |s| s.trim())
    }

    fn error(&self, line: usize, col: usize, message: impl Into<String>) -> LineError {
        LineError {
            sheet: self.sheet.name.clone(),
            line,
            column: cols(self.kind)[col].zh.to_string(),
            message: message.into(),
        }
    }
}

/// Tables of the file by kind; unknown sheets and columns are errors (a typo would otherwise be ignored).
fn tables<'a>(sheets: &'a [Sheet], errors: &mut Vec<LineError>) -> Vec<Table<'a>> {
    let mut out: Vec<Table<'_>> = Vec::new();
    for sheet in sheets {
        let Some(kind) = kind_of(sheet) else {
            if matches!(sheet.name.trim(), "说明" | "填写说明" | "readme" | "README") {
                continue;
            }
            errors.push(LineError {
                sheet: sheet.name.clone(),
                line: 1,
                column: sheet.header.first().cloned().unwrap_or_default(),
                message: "第一列应为机构代码、大厅编码、窗口编码、工号、事项编码或平台编码之一,以确定导入的类别。"
                    .into(),
            });
            continue;
        };
        if out.iter().any(|t| t.kind == kind) {
            errors.push(LineError {
                sheet: sheet.name.clone(),
                line: 1,
                column: String::new(),
                message: format!("同一文件中有两张{}表,请合并为一张。", kind.name_zh()),
            });
            continue;
        }
        let mut at = vec![None; cols(kind).len()];
        for (i, h) in sheet.header.iter().enumerate() {
            if h.trim().is_empty() {
                continue;
            }
            match cols(kind).iter().position(|c| names(c, h)) {
                Some(c) if at[c].is_none() => at[c] = Some(i),
                Some(_) => errors.push(LineError {
                    sheet: sheet.name.clone(),
                    line: 1,
                    column: h.clone(),
                    message: "该列重复。".into(),
                }),
                None => errors.push(LineError {
                    sheet: sheet.name.clone(),
                    line: 1,
                    column: h.clone(),
                    message: format!("{}表没有这一列;可用的列:{}。", kind.name_zh(), columns(kind).join("、")),
                }),
            }
        }
        for (c, def) in cols(kind).iter().enumerate() {
            if def.required && at[c].is_none() {
                errors.push(LineError {
                    sheet: sheet.name.clone(),
                    line: 1,
                    column: def.zh.into(),
                    message: "缺少这一必填列。".into(),
                });
            }
        }
        out.push(Table { sheet, kind, at });
    }
    out
}

fn coded<T: Copy>(
    raw: &str,
    all: &[T],
    code: fn(T) -> &'static str,
    zh: fn(T) -> &'static str,
) -> Option<&'static str> {
    all.iter().find(|k| code(**k) == raw || zh(**k) == raw).map(|k| code(*k))
}

/// How many entries of each kind a file adds, changes and leaves as they were.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub added: usize,
    pub changed: usize,
    pub unchanged: usize,
}

pub struct Plan {
    pub import: CatalogImport,
    pub counts: Vec<(CatalogKind, Counts)>,
}

/// Everything about an organization the checks need: known from the catalog or from this file.
struct KnownOrg {
    parent: Option<String>,
    /// The stored path; `None` for an organization this file adds.
    path: Option<String>,
}

struct Planner<'a> {
    snap: &'a CatalogSnapshot,
    keys: &'a crate::keys::Keys,
    scope: Option<&'a str>,
    file: &'a str,
    errors: Vec<LineError>,
    orgs: HashMap<String, KnownOrg>,
    /// Rows of this file with an error, by code: (sheet, line) — organizations, halls and windows, which
    /// other rows refer to.
    bad_orgs: HashMap<String, (String, usize)>,
    bad_halls: HashMap<String, (String, usize)>,
    bad_windows: HashMap<String, (String, usize)>,
}

impl Planner<'_> {
    /// Whether an organization (of the catalog or of this file) lies in the importer's subtree.
    fn in_scope(&self, code: &str) -> bool {
        let Some(scope) = self.scope else { return true };
        let mut at = code;
        for _ in 0..64 {
            match self.orgs.get(at) {
                Some(KnownOrg { path: Some(p), .. }) => return p.starts_with(scope),
                Some(KnownOrg { parent: Some(p), path: None }) => at = p,
                _ => return false,
            }
        }
        false
    }

    fn details(&self, line: usize, code: &str, op: ImportOp) -> String {
        serde_json::json!({ "file": self.file, "line": line, "code": code,
                            "op": if op == ImportOp::Add { "add" } else { "change" } })
        .to_string()
    }
}

fn take<T>(errors: &mut Vec<LineError>, t: &Table<'_>, line: usize, col: usize, r: Result<T, Violation>) -> Option<T> {
    r.map_err(|v| errors.push(t.error(line, col, v.message))).ok()
}

fn optional<T>(
    errors: &mut Vec<LineError>,
    t: &Table<'_>,
    row: &[String],
    line: usize,
    col: usize,
    parse: impl Fn(&str) -> Result<T, Violation>,
) -> Option<Option<T>> {
    let raw = t.get(row, col);
    if raw.is_empty() {
        return Some(None);
    }
    take(errors, t, line, col, parse(raw)).map(Some)
}

fn count(counts: &mut Counts, op: Option<ImportOp>) {
    match op {
        Some(ImportOp::Add) => counts.added += 1,
        Some(ImportOp::Change) => counts.changed += 1,
        None => counts.unchanged += 1,
    }
}

/// Plans a file against the catalog. `scope` is the importer's subtree path (`None`: the whole catalog).
pub fn plan(
    file: &str,
    sheets: &[Sheet],
    snap: &CatalogSnapshot,
    keys: &crate::keys::Keys,
    scope: Option<&str>,
) -> Result<Plan, Vec<LineError>> {
    let mut errors = Vec::new();
    let tables = tables(sheets, &mut errors);
    let mut p = Planner {
        snap,
        keys,
        scope,
        file,
        errors,
        orgs: HashMap::new(),
        bad_orgs: HashMap::new(),
        bad_halls: HashMap::new(),
        bad_windows: HashMap::new(),
    };
    for (code, o) in &snap.orgs {
        p.orgs.insert(code.clone(), KnownOrg { parent: o.parent_code.clone(), path: Some(o.path.clone()) });
    }
    let table = |k: CatalogKind| tables.iter().find(|t| t.kind == k);
    let mut import = CatalogImport::default();
    let mut counts = Vec::new();
    if let Some(t) = table(CatalogKind::Org) {
        counts.push((CatalogKind::Org, plan_orgs(&mut p, t, &mut import)));
    }
    // Codes of halls and windows in this file, for the references of the sheets after them.
    let mut new_halls: HashMap<String, String> = HashMap::new();
    if let Some(t) = table(CatalogKind::Hall) {
        counts.push((CatalogKind::Hall, plan_halls(&mut p, t, &mut import, &mut new_halls)));
    }
    let mut new_windows: HashSet<String> = HashSet::new();
    if let Some(t) = table(CatalogKind::Window) {
        counts.push((CatalogKind::Window, plan_windows(&mut p, t, &mut import, &new_halls, &mut new_windows)));
    }
    if let Some(t) = table(CatalogKind::Staff) {
        counts.push((CatalogKind::Staff, plan_staff(&mut p, t, &mut import, &new_windows)));
    }
    if let Some(t) = table(CatalogKind::Item) {
        counts.push((CatalogKind::Item, plan_items(&mut p, t, &mut import)));
    }
    if let Some(t) = table(CatalogKind::Platform) {
        counts.push((CatalogKind::Platform, plan_platforms(&mut p, t, &mut import)));
    }
    if tables.is_empty() && p.errors.is_empty() {
        p.errors.push(LineError {
            sheet: file.to_string(),
            line: 1,
            column: String::new(),
            message: "文件中没有可导入的表。".into(),
        });
    }
    if p.errors.is_empty() { Ok(Plan { import, counts }) } else { Err(p.errors) }
}

fn seen_twice(seen: &mut HashMap<String, usize>, t: &Table<'_>, code: &str, line: usize) -> Option<LineError> {
    seen.insert(code.to_string(), line).map(|first| t.error(line, 0, format!("与第 {first} 行重复。")))
}

/// Codes of a table's rows that have an error (code → line), so that a row referring to one of them is told
/// where the trouble is rather than that the code does not exist.
fn bad_rows(errors: &[LineError], t: &Table<'_>) -> HashMap<String, usize> {
    let lines: HashSet<usize> = errors.iter().filter(|e| e.sheet == t.sheet.name).map(|e| e.line).collect();
    t.sheet
        .rows
        .iter()
        .filter(|(line, _)| lines.contains(line))
        .map(|(line, row)| (t.get(row, 0).to_string(), *line))
        .filter(|(code, _)| !code.is_empty())
        .collect()
}

/// "X 在本文件第 N 行,该行有错误" for a reference to a bad row of the same file (another sheet named).
fn in_bad_row(t: &Table<'_>, what: &str, code: &str, bad: &(String, usize)) -> String {
    let sheet = if bad.0 == t.sheet.name { String::new() } else { format!("“{}”表", bad.0) };
    format!("{what}“{code}”在本文件{sheet}第 {} 行,该行有错误;请先修正该行。", bad.1)
}

fn plan_orgs(p: &mut Planner<'_>, t: &Table<'_>, import: &mut CatalogImport) -> Counts {
    let mut counts = Counts::default();
    let mut seen = HashMap::new();
    let mut rows = Vec::new();
    for (line, row) in &t.sheet.rows {
        let line = *line;
        let e = &mut p.errors;
        let code = take(e, t, line, 0, parse_code("code", t.get(row, 0), "机构代码"));
        let name = take(e, t, line, 1, parse_text("name", t.get(row, 1), 50, "名称"));
        let kind = OrgKind::ALL.iter().copied().find(|k| k.as_str() == t.get(row, 2) || k.name_zh() == t.get(row, 2));
        if kind.is_none() {
            e.push(t.error(
                line,
                2,
                format!("应为以下之一:{}。", OrgKind::ALL.iter().map(|k| k.name_zh()).collect::<Vec<_>>().join("、")),
            ));
        }
        let parent = Some(t.get(row, 3)).filter(|s| !s.is_empty()).map(str::to_string);
        let credit =
            optional(e, t, row, line, 4, |s| CreditCode::parse("credit_code", s).map(|c| c.as_str().to_string()));
        let area = optional(e, t, row, line, 5, |s| AreaCode::parse("area_code", s).map(|c| c.as_str().to_string()));
        let (Some(code), Some(name), Some(kind), Some(credit), Some(area)) = (code, name, kind, credit, area) else {
            continue;
        };
        if let Some(err) = seen_twice(&mut seen, t, &code, line) {
            p.errors.push(err);
            continue;
        }
        rows.push((line, code, name, kind, parent, credit, area));
    }
    // Every row's code and parent as typed, good or bad, to follow a new organization's chain of parents.
    let typed: HashMap<String, (usize, Option<String>)> = t
        .sheet
        .rows
        .iter()
        .map(|(line, row)| {
            (t.get(row, 0).to_string(), (*line, Some(t.get(row, 3)).filter(|s| !s.is_empty()).map(str::to_string)))
        })
        .collect();
    // Organizations this file adds join the known tree, so their children (in any order) find them.
    for (_, code, _, _, parent, _, _) in &rows {
        if !p.snap.orgs.contains_key(code) {
            p.orgs.insert(code.clone(), KnownOrg { parent: parent.clone(), path: None });
        }
    }
    // On an empty database, one county or city without a parent starts the tree (issue 28 §1).
    let may_add_root = p.snap.orgs.is_empty() && p.scope.is_none();
    let mut root: Option<usize> = None;
    let mut adds = Vec::new();
    for (line, code, name, kind, parent, credit, area) in rows {
        match p.snap.orgs.get(&code) {
            Some(stored) => {
                if stored.kind != kind.as_str() {
                    p.errors.push(t.error(line, 2, "导入不能更改已有机构的类型。"));
                    continue;
                }
                if parent.is_some() && parent != stored.parent_code {
                    p.errors.push(t.error(line, 3, "导入不能移动已有机构(更改上级);如需调整请联系系统管理员。"));
                    continue;
                }
                if !p.in_scope(&code) {
                    p.errors.push(t.error(line, 0, "该机构不在您的管理范围内。"));
                    continue;
                }
                let entry = OrgEntry {
                    code: code.clone(),
                    name,
                    kind: kind.as_str().to_string(),
                    parent_code: stored.parent_code.clone(),
                    path: stored.path.clone(),
                    credit_code: credit.or_else(|| stored.credit_code.clone()),
                    area_code: area.or_else(|| stored.area_code.clone()),
                };
                let op = (entry != *stored).then_some(ImportOp::Change);
                count(&mut counts, op);
                if let Some(op) = op {
                    let details = p.details(line, &code, op);
                    import.orgs.push((op, entry, details));
                }
            }
            None => {
                let entry = OrgEntry {
                    code: code.clone(),
                    name,
                    kind: kind.as_str().to_string(),
                    parent_code: parent.clone(),
                    path: String::new(),
                    credit_code: credit,
                    area_code: area,
                };
                let Some(parent) = parent else {
                    if !may_add_root {
                        p.errors.push(t.error(line, 3, "新增机构须填写上级机构代码。"));
                    } else if !kind.may_be_top_level() {
                        p.errors.push(t.error(
                            line,
                            3,
                            "系统中还没有机构:最上级机构的类型应为“县”或“市”,其余机构须填写上级机构代码(也可先用 `hcp init` 建立本县)。",
                        ));
                    } else if let Some(first) = root {
                        p.errors.push(t.error(
                            line,
                            3,
                            format!("最上级机构只能有一个(第 {first} 行已是最上级);其余机构须填写上级机构代码。"),
                        ));
                    } else {
                        root = Some(line);
                        adds.push((line, entry));
                    }
                    continue;
                };
                if parent == code {
                    p.errors.push(t.error(line, 3, "上级机构不能是它自己。"));
                } else if !p.snap.orgs.contains_key(&parent) && !typed.contains_key(&parent) {
                    p.errors.push(t.error(line, 3, format!("上级机构“{parent}”不存在(本文件和系统中都没有)。")));
                } else {
                    adds.push((line, entry));
                }
            }
        }
    }
    // Parents before children: each pass adds those whose parent is stored or already added.
    let mut placed: HashSet<String> = HashSet::new();
    while !adds.is_empty() {
        let (ready, waiting): (Vec<_>, Vec<_>) = adds.into_iter().partition(|(_, e)| match e.parent_code.as_deref() {
            None => true,
            Some(parent) => p.snap.orgs.contains_key(parent) || placed.contains(parent),
        });
        if ready.is_empty() {
            let bad = bad_rows(&p.errors, t);
            for (line, e) in waiting {
                let message = why_not_placed(t, &e.code, &typed, &bad, p.snap);
                p.errors.push(t.error(line, 3, message));
            }
            break;
        }
        for (line, e) in ready {
            if !p.in_scope(&e.code) {
                p.errors.push(t.error(line, 3, "上级机构不在您的管理范围内。"));
                continue;
            }
            placed.insert(e.code.clone());
            count(&mut counts, Some(ImportOp::Add));
            let details = p.details(line, &e.code, ImportOp::Add);
            import.orgs.push((ImportOp::Add, e, details));
        }
        adds = waiting;
    }
    p.bad_orgs = bad_rows(&p.errors, t).into_iter().map(|(c, l)| (c, (t.sheet.name.clone(), l))).collect();
    counts
}

/// Why a new organization could not be placed under its parent: the chain of parents in this file reaches
/// a row with an error (named), or comes back to itself (a real cycle).
fn why_not_placed(
    t: &Table<'_>,
    code: &str,
    typed: &HashMap<String, (usize, Option<String>)>,
    bad: &HashMap<String, usize>,
    snap: &CatalogSnapshot,
) -> String {
    let mut seen = HashSet::from([code.to_string()]);
    let mut at = typed.get(code).and_then(|(_, p)| p.clone());
    let direct = at.clone().unwrap_or_default();
    while let Some(parent) = at {
        if let Some(line) = bad.get(&parent) {
            return if parent == direct {
                in_bad_row(t, "上级机构", &parent, &(t.sheet.name.clone(), *line))
            } else {
                format!("上级机构“{direct}”未能导入:它的上级“{parent}”(本文件第 {line} 行)有错误;请先修正该行。")
            };
        }
        if snap.orgs.contains_key(&parent) || !seen.insert(parent.clone()) {
            break;
        }
        at = typed.get(&parent).and_then(|(_, p)| p.clone());
    }
    "上级关系形成了循环(上级机构最终又指向本行)。".into()
}

/// An organization reference of a row: known and in the importer's scope.
fn org_ref(p: &mut Planner<'_>, t: &Table<'_>, line: usize, col: usize, code: &str) -> bool {
    if let Some(bad) = p.bad_orgs.get(code) {
        let message = in_bad_row(t, "机构", code, bad);
        p.errors.push(t.error(line, col, message));
        false
    } else if !p.orgs.contains_key(code) {
        p.errors.push(t.error(line, col, format!("机构“{code}”不存在(本文件和系统中都没有)。")));
        false
    } else if !p.in_scope(code) {
        p.errors.push(t.error(line, col, format!("机构“{code}”不在您的管理范围内。")));
        false
    } else {
        true
    }
}

fn plan_halls(
    p: &mut Planner<'_>,
    t: &Table<'_>,
    import: &mut CatalogImport,
    new_halls: &mut HashMap<String, String>,
) -> Counts {
    let mut counts = Counts::default();
    let mut seen = HashMap::new();
    for (line, row) in &t.sheet.rows {
        let line = *line;
        let e = &mut p.errors;
        let code = take(e, t, line, 0, parse_code("code", t.get(row, 0), "大厅编码"));
        let name = take(e, t, line, 1, parse_text("name", t.get(row, 1), 50, "名称"));
        let kind = coded(t.get(row, 2), HallKind::ALL, HallKind::as_str, HallKind::name_zh);
        if kind.is_none() {
            e.push(t.error(
                line,
                2,
                format!("应为以下之一:{}。", HallKind::ALL.iter().map(|k| k.name_zh()).collect::<Vec<_>>().join("、")),
            ));
        }
        let org = t.get(row, 3).to_string();
        let org_ok = org_ref(p, t, line, 3, &org);
        let (Some(code), Some(name), Some(kind), true) = (code, name, kind, org_ok) else { continue };
        if let Some(err) = seen_twice(&mut seen, t, &code, line) {
            p.errors.push(err);
            continue;
        }
        let entry = HallEntry { code: code.clone(), name, kind: kind.to_string(), org_code: org.clone() };
        let op = match p.snap.halls.get(&code) {
            Some(stored) if stored.org_code != org => {
                p.errors.push(t.error(line, 3, "导入不能更改已有大厅的所属机构。"));
                continue;
            }
            Some(stored) => (entry != *stored).then_some(ImportOp::Change),
            None => {
                new_halls.insert(code.clone(), org);
                Some(ImportOp::Add)
            }
        };
        count(&mut counts, op);
        if let Some(op) = op {
            let details = p.details(line, &code, op);
            import.halls.push((op, entry, details));
        }
    }
    p.bad_halls = bad_rows(&p.errors, t).into_iter().map(|(c, l)| (c, (t.sheet.name.clone(), l))).collect();
    counts
}

fn plan_windows(
    p: &mut Planner<'_>,
    t: &Table<'_>,
    import: &mut CatalogImport,
    new_halls: &HashMap<String, String>,
    new_windows: &mut HashSet<String>,
) -> Counts {
    let mut counts = Counts::default();
    let mut seen = HashMap::new();
    for (line, row) in &t.sheet.rows {
        let line = *line;
        let e = &mut p.errors;
        let code = take(e, t, line, 0, parse_code("code", t.get(row, 0), "窗口编码"));
        let name = take(e, t, line, 1, parse_text("name", t.get(row, 1), 50, "名称"));
        let kind = coded(t.get(row, 2), WindowKind::ALL, WindowKind::as_str, WindowKind::name_zh);
        if kind.is_none() {
            e.push(t.error(
                line,
                2,
                format!(
                    "应为以下之一:{}。",
                    WindowKind::ALL.iter().map(|k| k.name_zh()).collect::<Vec<_>>().join("、")
                ),
            ));
        }
        let hall = t.get(row, 3).to_string();
        let hall_ok = p.snap.halls.contains_key(&hall) || new_halls.contains_key(&hall);
        if !hall_ok {
            let message = match p.bad_halls.get(&hall) {
                Some(bad) => in_bad_row(t, "大厅", &hall, bad),
                None => format!("大厅“{hall}”不存在(本文件和系统中都没有)。"),
            };
            p.errors.push(t.error(line, 3, message));
        }
        let org = t.get(row, 4).to_string();
        let org_ok = org_ref(p, t, line, 4, &org);
        let (Some(code), Some(name), Some(kind), true, true) = (code, name, kind, hall_ok, org_ok) else { continue };
        if let Some(err) = seen_twice(&mut seen, t, &code, line) {
            p.errors.push(err);
            continue;
        }
        let entry = WindowEntry { code: code.clone(), name, kind: kind.to_string(), hall_code: hall, org_code: org };
        let op = match p.snap.windows.get(&code) {
            Some(stored) if stored.hall_code != entry.hall_code || stored.org_code != entry.org_code => {
                p.errors.push(t.error(line, 3, "导入不能更改已有窗口的大厅或所属机构。"));
                continue;
            }
            Some(stored) => (entry != *stored).then_some(ImportOp::Change),
            None => {
                new_windows.insert(code.clone());
                Some(ImportOp::Add)
            }
        };
        count(&mut counts, op);
        if let Some(op) = op {
            let details = p.details(line, &code, op);
            import.windows.push((op, entry, details));
        }
    }
    p.bad_windows = bad_rows(&p.errors, t).into_iter().map(|(c, l)| (c, (t.sheet.name.clone(), l))).collect();
    counts
}

fn plan_staff(p: &mut Planner<'_>, t: &Table<'_>, import: &mut CatalogImport, new_windows: &HashSet<String>) -> Counts {
    let mut counts = Counts::default();
    let mut seen = HashMap::new();
    for (line, row) in &t.sheet.rows {
        let line = *line;
        let e = &mut p.errors;
        let number = take(e, t, line, 0, parse_code("code", t.get(row, 0), "工号"));
        let name = take(e, t, line, 1, parse_text("name", t.get(row, 1), 50, "姓名"));
        let org = t.get(row, 2).to_string();
        let org_ok = org_ref(p, t, line, 2, &org);
        let window = Some(t.get(row, 3)).filter(|s| !s.is_empty()).map(str::to_string);
        let window_ok = match &window {
            Some(w) if !p.snap.windows.contains_key(w) && !new_windows.contains(w) => {
                let message = match p.bad_windows.get(w) {
                    Some(bad) => in_bad_row(t, "窗口", w, bad),
                    None => format!("窗口“{w}”不存在(本文件和系统中都没有)。"),
                };
                p.errors.push(t.error(line, 3, message));
                false
            }
            _ => true,
        };
        let mobile = optional(&mut p.errors, t, row, line, 4, |s| {
            hcp_domain::identity::Mobile::parse("mobile", s).map(|m| m.as_str().to_string())
        });
        let id_number = optional(&mut p.errors, t, row, line, 5, |s| {
            hcp_domain::identity::IdNumber::parse("id_number", s).map(|n| n.as_str().to_string())
        });
        let (Some(number), Some(name), true, true, Some(mobile), Some(id_number)) =
            (number, name, org_ok, window_ok, mobile, id_number)
        else {
            continue;
        };
        // Sealed values are compared by their blind index: the same number typed again is no change.
        let stored = p.snap.staff.get(&number);
        let keys = p.keys;
        let seal = |value: Option<String>, field: StaffField, kept: Option<&hcp_store::SealedField>| {
            value.map(|v| match kept {
                Some(k) if k.idx == keys.staff_index(field, &v) => k.clone(),
                _ => keys.seal_staff(&number, field, &v),
            })
        };
        let mobile = seal(mobile, StaffField::Mobile, stored.and_then(|s| s.mobile.as_ref()));
        let id_number = seal(id_number, StaffField::IdNumber, stored.and_then(|s| s.id_number.as_ref()));
        if let Some(err) = seen_twice(&mut seen, t, &number, line) {
            p.errors.push(err);
            continue;
        }
        let op = match p.snap.staff.get(&number) {
            Some(stored) if !p.in_scope(&stored.org_code) => {
                p.errors.push(t.error(line, 0, "该工作人员不在您的管理范围内。"));
                continue;
            }
            Some(stored) => {
                let entry = StaffEntry {
                    staff_number: number.clone(),
                    name,
                    org_code: org,
                    window_code: window.or_else(|| stored.window_code.clone()),
                    mobile: mobile.or_else(|| stored.mobile.clone()),
                    id_number: id_number.or_else(|| stored.id_number.clone()),
                };
                let op = (entry != *stored).then_some(ImportOp::Change);
                if let Some(op) = op {
                    let details = p.details(line, &number, op);
                    import.staff.push((op, entry, details));
                }
                op
            }
            None => {
                let entry = StaffEntry {
                    staff_number: number.clone(),
                    name,
                    org_code: org,
                    window_code: window,
                    mobile,
                    id_number,
                };
                let details = p.details(line, &number, ImportOp::Add);
                import.staff.push((ImportOp::Add, entry, details));
                Some(ImportOp::Add)
            }
        };
        count(&mut counts, op);
    }
    counts
}

fn plan_items(p: &mut Planner<'_>, t: &Table<'_>, import: &mut CatalogImport) -> Counts {
    let mut counts = Counts::default();
    let mut seen = HashMap::new();
    for (line, row) in &t.sheet.rows {
        let line = *line;
        let e = &mut p.errors;
        let code = take(e, t, line, 0, parse_code("code", t.get(row, 0), "事项编码"));
        let name = take(e, t, line, 1, parse_text("name", t.get(row, 1), 50, "名称"));
        let category = Category::from_text(t.get(row, 2)).map(Category::as_str);
        if category.is_none() {
            e.push(t.error(
                line,
                2,
                format!(
                        "应为以下之一(写全称、简称或代码均可):{}。",
                        Category::ALL
                            .iter()
                            .map(|k| format!("{}({})", k.name_zh(), k.short_zh()))
                            .collect::<Vec<_>>()
                            .join("、")
                    ),
            ));
        }
        let legal = take(e, t, line, 4, parse_days("legal_days", t.get(row, 4), "法定时限"));
        let promised = take(e, t, line, 5, parse_days("promised_days", t.get(row, 5), "承诺时限"));
        let implementation = optional(e, t, row, line, 6, |s| {
            ImplementationCode::parse("implementation_code", s).map(|c| c.as_str().to_string())
        });
        let handle = optional(e, t, row, line, 7, |s| {
            HandleItemCode::parse("handle_item_code", s).map(|c| c.as_str().to_string())
        });
        let org = t.get(row, 3).to_string();
        let org_ok = org_ref(p, t, line, 3, &org);
        let (
            Some(code),
            Some(name),
            Some(category),
            Some(legal),
            Some(promised),
            Some(implementation),
            Some(handle),
            true,
        ) = (code, name, category, legal, promised, implementation, handle, org_ok)
        else {
            continue;
        };
        if let Some(err) = seen_twice(&mut seen, t, &code, line) {
            p.errors.push(err);
            continue;
        }
        let op = match p.snap.items.get(&code) {
            Some(stored) if stored.org_code != org => {
                p.errors.push(t.error(line, 3, "导入不能更改已有事项的主管机构。"));
                continue;
            }
            Some(stored) => {
                let entry = ItemEntry {
                    code: code.clone(),
                    name,
                    category: category.to_string(),
                    org_code: org,
                    legal_limit_days: legal.or(stored.legal_limit_days),
                    promised_limit_days: promised.or(stored.promised_limit_days),
                    implementation_code: implementation.or_else(|| stored.implementation_code.clone()),
                    handle_item_code: handle.or_else(|| stored.handle_item_code.clone()),
                };
                let op = (entry != *stored).then_some(ImportOp::Change);
                if let Some(op) = op {
                    let details = p.details(line, &code, op);
                    import.items.push((op, entry, details));
                }
                op
            }
            None => {
                let entry = ItemEntry {
                    code: code.clone(),
                    name,
                    category: category.to_string(),
                    org_code: org,
                    legal_limit_days: legal,
                    promised_limit_days: promised,
                    implementation_code: implementation,
                    handle_item_code: handle,
                };
                let details = p.details(line, &code, ImportOp::Add);
                import.items.push((ImportOp::Add, entry, details));
                Some(ImportOp::Add)
            }
        };
        count(&mut counts, op);
    }
    counts
}

fn plan_platforms(p: &mut Planner<'_>, t: &Table<'_>, import: &mut CatalogImport) -> Counts {
    let mut counts = Counts::default();
    let mut seen = HashMap::new();
    for (line, row) in &t.sheet.rows {
        let line = *line;
        let e = &mut p.errors;
        let code = take(e, t, line, 0, parse_code("code", t.get(row, 0), "平台编码"));
        let name = take(e, t, line, 1, parse_text("name", t.get(row, 1), 50, "名称"));
        let org = t.get(row, 2).to_string();
        let org_ok = org_ref(p, t, line, 2, &org);
        let (Some(code), Some(name), true) = (code, name, org_ok) else { continue };
        if let Some(err) = seen_twice(&mut seen, t, &code, line) {
            p.errors.push(err);
            continue;
        }
        let entry = PlatformEntry { code: code.clone(), name, org_code: org };
        let op = match p.snap.platforms.get(&code) {
            Some(stored) if stored.org_code != entry.org_code => {
                p.errors.push(t.error(line, 2, "导入不能更改已有平台的运行机构。"));
                continue;
            }
            Some(stored) => (entry != *stored).then_some(ImportOp::Change),
            None => Some(ImportOp::Add),
        };
        count(&mut counts, op);
        if let Some(op) = op {
            let details = p.details(line, &code, op);
            import.platforms.push((op, entry, details));
        }
    }
    counts
}
