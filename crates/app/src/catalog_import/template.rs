//! The import template (issue 28 §3): one sheet per kind with its columns and two example rows, and a 说明
//! sheet with each column's meaning and the allowed values — so a county fills in a file the import takes
//! without reading any other document. The examples form a valid first import on an empty database (a
//! county, a township under it, their halls, windows, staff, items and platforms); the test proves it.

use hcp_domain::Category;
use hcp_domain::catalog::{HallKind, OrgKind, WindowKind};
use rust_xlsxwriter::{Color, Format, FormatBorder, Workbook, XlsxError};

use super::plan::cols;
use crate::catalog_admin::CatalogKind;

/// The kinds in the order a first import needs them (parents before what refers to them).
const KINDS: [CatalogKind; 6] = [
    CatalogKind::Org,
    CatalogKind::Hall,
    CatalogKind::Window,
    CatalogKind::Staff,
    CatalogKind::Item,
    CatalogKind::Platform,
];

fn examples(kind: CatalogKind) -> [&'static [&'static str]; 2] {
    match kind {
        CatalogKind::Org => [
            &["510899", "青山县", "县", "", "", "510899000000"],
            &["510899T01", "城关镇", "乡镇", "510899", "", "510899100000"],
        ],
        CatalogKind::Hall => [
            &["H-510899-01", "青山县政务服务中心", "政务服务大厅", "510899"],
            &["H-510899-T01", "城关镇便民服务中心", "便民服务中心", "510899T01"],
        ],
        CatalogKind::Window => [
            &["W-510899-C01", "综合窗口1号", "综合窗口", "H-510899-01", "510899"],
            &["W-510899-T01", "城关镇综合窗口", "综合窗口", "H-510899-T01", "510899T01"],
        ],
        CatalogKind::Staff => [
            &["S0001", "张三", "510899", "W-510899-C01", "", ""],
            &["S0002", "李四", "510899T01", "W-510899-T01", "", ""],
        ],
        CatalogKind::Item => [
            &["I-0001", "个体工商户设立登记", "行政许可", "510899", "20", "5", "", ""],
            &["I-0002", "城乡居民基本养老保险参保登记", "公共服务", "510899T01", "", "1", "", ""],
        ],
        CatalogKind::Platform => {
            [&["P-QSZWFW", "青山县政务服务网", "510899"], &["P-QSAPP", "青山县移动端政务服务应用", "510899"]]
        }
    }
}

/// The template workbook.
pub fn template_xlsx() -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let header = Format::new().set_bold().set_background_color(Color::RGB(0xDDEBF7)).set_border(FormatBorder::Thin);
    let required = header.clone().set_font_color(Color::RGB(0xC00000));
    let text = Format::new().set_num_format("@").set_border(FormatBorder::Thin);
    let bold = Format::new().set_bold();
    let title = Format::new().set_bold().set_font_size(14);

    let guide = book.add_worksheet();
    guide.set_name("说明")?;
    guide.set_column_width(0, 18)?;
    guide.set_column_width(1, 8)?;
    guide.set_column_width(2, 90)?;
    guide.write_string_with_format(0, 0, "基础信息导入模板 · 填写说明", &title)?;
    let general = [
        "1. 每张表一类信息,表头(第一行)不要改动;带 * 的列必填。各表顺序不限,不用的表可以删除。",
        "2. 示例行请替换为本县的实际数据;代码列请按文本填写(本模板已设为文本格式,不会丢失开头的 0)。",
        "3. 系统中还没有机构时,“机构”表中本县(类型为县或市)一行的“上级机构代码”留空,作为最上级机构;其余机构都须填写上级。",
        "4. 全部无误才导入;有错时列出每一处错误(表名、行号、列名和原因),改正后重新导入即可。重复导入同一文件不会重复新增。",
        "5. 导入命令:hcp catalog import 文件.xlsx;也可在工作台“基础信息管理”→“从文件导入”上传(中心管理员、系统管理员)。",
    ];
    let mut row = 2u32;
    for line in general {
        guide.write_string(row, 0, line)?;
        row += 1;
    }
    for kind in KINDS {
        row += 1;
        guide.write_string_with_format(row, 0, format!("“{}”表", kind.name_zh()), &bold)?;
        row += 1;
        for (c, h) in ["列名", "必填", "说明"].iter().enumerate() {
            guide.write_string_with_format(row, c as u16, *h, &header)?;
        }
        for col in cols(kind) {
            row += 1;
            guide.write_string(row, 0, col.zh)?;
            guide.write_string(row, 1, if col.required { "是" } else { "" })?;
            guide.write_string(row, 2, col.note)?;
        }
    }
    let mut values = |name: &str, pairs: Vec<(String, String)>, row: &mut u32| -> Result<(), XlsxError> {
        *row += 2;
        guide.write_string_with_format(*row, 0, name, &bold)?;
        for (zh, code) in pairs {
            *row += 1;
            guide.write_string(*row, 0, &zh)?;
            guide.write_string(*row, 2, &code)?;
        }
        Ok(())
    };
    let codes = |all: &[(&str, &str)]| all.iter().map(|(z, c)| ((*z).to_string(), format!("代码 {c}"))).collect();
    let org: Vec<_> = OrgKind::ALL.iter().map(|k| (k.name_zh(), k.as_str())).collect();
    values("机构类型", codes(&org), &mut row)?;
    let hall: Vec<_> = HallKind::ALL.iter().map(|k| (k.name_zh(), k.as_str())).collect();
    values("大厅类型", codes(&hall), &mut row)?;
    let window: Vec<_> = WindowKind::ALL.iter().map(|k| (k.name_zh(), k.as_str())).collect();
    values("窗口类型", codes(&window), &mut row)?;
    let categories = Category::ALL
        .iter()
        .map(|c| (c.name_zh().to_string(), format!("简称 {},代码 {}", c.short_zh(), c.as_str())))
        .collect();
    values("事项类别(八类,写全称、简称或代码均可)", categories, &mut row)?;

    for kind in KINDS {
        let sheet = book.add_worksheet();
        sheet.set_name(kind.name_zh())?;
        for (c, col) in cols(kind).iter().enumerate() {
            let c = c as u16;
            let name = if col.required { format!("{}*", col.zh) } else { col.zh.to_string() };
            sheet.write_string_with_format(0, c, &name, if col.required { &required } else { &header })?;
            sheet.set_column_width(c, (col.zh.chars().count() as f64 * 2.2).max(14.0))?;
            sheet.set_column_format(c, &text)?;
        }
        for (r, example) in examples(kind).iter().enumerate() {
            for (c, cell) in example.iter().enumerate() {
                if !cell.is_empty() {
                    sheet.write_string_with_format(r as u32 + 1, c as u16, *cell, &text)?;
                }
            }
        }
        sheet.set_freeze_panes(1, 0)?;
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_fill_every_column_of_their_sheet() {
        for kind in KINDS {
            for example in examples(kind) {
                assert_eq!(example.len(), cols(kind).len(), "{kind:?}");
            }
        }
    }

    #[test]
    fn the_template_reads_back_with_its_instructions_and_six_kinds() {
        let bytes = template_xlsx().unwrap();
        let sheets = super::super::read::read("模板.xlsx", &bytes).unwrap();
        let names: Vec<&str> = sheets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["说明", "机构", "大厅", "窗口", "工作人员", "事项", "平台"]);
        let org = &sheets[1];
        assert_eq!(org.header[0], "机构代码*");
        assert_eq!(org.rows[0].1[0], "510899", "codes stay text");
        let guide: Vec<String> = sheets[0].rows.iter().flat_map(|(_, r)| r.clone()).collect();
        for must in ["公共服务事项", "公共服务", "public_service", "便民服务点", "部门专窗", "社区"]
        {
            assert!(guide.iter().any(|c| c.contains(must)), "{must}");
        }
    }
}
