//! Reading a catalog file into sheets of text cells: CSV (UTF-8, with or without a BOM, or GB18030 as Excel
//! saves it on a Chinese Windows) or an .xlsx workbook (calamine). Numbers typed into Excel cells come back
//! as the digits a clerk typed (`510899`, not `510899.0`).
//!
//! Every byte is the uploader's (issue 29 §1): a workbook is bounded before it is read — the declared
//! uncompressed sizes of its parts, then its cells streamed one by one with caps on rows, columns and cells —
//! so a 2 KB sheet with one cell at XFD1048576 is refused, not expanded into a grid of 17 billion cells.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{Data, DataRef, Reader, Xlsx};

/// Rows of one sheet at most (a county's catalog is thousands; its biggest import, staff, tens of thousands).
pub const MAX_ROWS: u32 = 100_000;
/// Columns at most (the widest kind has eight).
pub const MAX_COLUMNS: u32 = 50;
/// Cells with a value in a workbook at most.
pub const MAX_CELLS: usize = 2_000_000;
/// Uncompressed bytes of a workbook's parts at most, as its zip directory declares them.
pub const MAX_UNCOMPRESSED: u64 = 200 * 1024 * 1024;
/// Bytes of a catalog file given to `hcp catalog import` at most (a county's CSV is a few MB), checked before it
/// is read.
pub const MAX_FILE_BYTES: u64 = 50 * 1024 * 1024;

/// Why a file cannot be read: a stable code (`unreadable_file`, `file_too_large`, `sheet_too_large`) and a
/// message for the clerk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub code: &'static str,
    pub message: String,
}

impl From<String> for Unreadable {
    fn from(message: String) -> Unreadable {
        Unreadable { code: "unreadable_file", message }
    }
}

impl From<&str> for Unreadable {
    fn from(message: &str) -> Unreadable {
        Unreadable::from(message.to_string())
    }
}

/// One sheet (or CSV file): its name, header, and rows with their line numbers as a spreadsheet shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    pub name: String,
    pub header: Vec<String>,
    pub rows: Vec<(usize, Vec<String>)>,
}

/// The file's sheets, or why it cannot be read at all.
pub fn read(file_name: &str, bytes: &[u8]) -> Result<Vec<Sheet>, Unreadable> {
    if bytes.starts_with(b"PK\x03\x04") {
        read_xlsx(bytes)
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        Err("这是旧版 Excel(.xls)文件,请在 Excel 中另存为 .xlsx 或 CSV 后再导入。".into())
    } else {
        Ok(vec![read_csv(file_name, bytes).map_err(Unreadable::from)?])
    }
}

fn text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
    }
}

fn read_csv(file_name: &str, bytes: &[u8]) -> Result<Sheet, String> {
    let text = text(bytes);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut header = None;
    let mut rows = Vec::new();
    // Line numbers as an editor shows them, blank lines included (the reader skips those when counting):
    // counted from each record's byte offset, incrementally.
    let (mut at, mut line) = (0usize, 1usize);
    for record in reader.records() {
        let record = record.map_err(|e| format!("CSV 格式有误:{e}"))?;
        let mut start = record.position().map_or(at, |p| p.byte() as usize).min(text.len());
        line += text.as_bytes()[at.min(start)..start].iter().filter(|b| **b == b'\n').count();
        // A record's position may be that of the blank lines skipped before it.
        while let Some(b @ (b'\n' | b'\r')) = text.as_bytes().get(start) {
            line += usize::from(*b == b'\n');
            start += 1;
        }
        at = start;
        let cells: Vec<String> = record.iter().map(|c| c.trim().to_string()).collect();
        if cells.iter().all(String::is_empty) {
            continue;
        }
        match header {
            None => header = Some(cells),
            Some(_) => rows.push((line, cells)),
        }
    }
    let header = header.ok_or("文件是空的:第一行应为表头。")?;
    Ok(Sheet { name: file_name.to_string(), header, rows })
}

fn cell_ref(d: &DataRef<'_>) -> String {
    match d {
        DataRef::Empty => String::new(),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.trim().to_string(),
        DataRef::SharedString(s) => s.trim().to_string(),
        DataRef::Int(i) => cell(&Data::Int(*i)),
        DataRef::Float(f) => cell(&Data::Float(*f)),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(d) => d.to_string(),
        DataRef::Error(e) => format!("#{e:?}"),
    }
}

fn cell(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::DateTime(d) => d.to_string(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

fn too_large(code: &'static str, message: String) -> Unreadable {
    Unreadable { code, message }
}

/// The declared uncompressed size of every part, before any is inflated.
fn check_parts(bytes: &[u8]) -> Result<(), Unreadable> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| format!("无法读取 Excel 文件:{e}"))?;
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let part = zip.by_index_raw(i).map_err(|e| format!("无法读取 Excel 文件:{e}"))?;
        total = total.saturating_add(part.size());
    }
    if total > MAX_UNCOMPRESSED {
        return Err(too_large(
            "file_too_large",
            format!(
                "文件解压后超过 {} MB,不予读取;基础信息文件通常不到 10 MB,请检查文件或分成几个文件导入。",
                MAX_UNCOMPRESSED / 1024 / 1024
            ),
        ));
    }
    Ok(())
}

fn read_xlsx(bytes: &[u8]) -> Result<Vec<Sheet>, Unreadable> {
    check_parts(bytes)?;
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| format!("无法读取 Excel 文件:{e}"))?;
    let mut sheets = Vec::new();
    let mut cells_seen = 0usize;
    for name in book.sheet_names() {
        let mut reader = book.worksheet_cells_reader(&name).map_err(|e| format!("无法读取工作表“{name}”:{e}"))?;
        // Cells streamed in order, kept only where they hold something, each checked against the caps before
        // it is stored: a sheet's declared size is never allocated.
        let mut rows: BTreeMap<u32, Vec<String>> = BTreeMap::new();
        while let Some(c) = reader.next_cell().map_err(|e| format!("无法读取工作表“{name}”:{e}"))? {
            let text = cell_ref(c.get_value());
            if text.is_empty() {
                continue;
            }
            let (r, col) = c.get_position();
            // Row 0 is the header: MAX_ROWS rows of data below it.
            if r > MAX_ROWS || col >= MAX_COLUMNS {
                return Err(too_large(
                    "sheet_too_large",
                    format!(
                        "工作表“{name}”超出可导入的范围(第 {} 行第 {} 列有内容;最多 {MAX_ROWS} 行、{MAX_COLUMNS} 列),请删除多余的内容或分成几个文件。",
                        r + 1,
                        col + 1
                    ),
                ));
            }
            cells_seen += 1;
            if cells_seen > MAX_CELLS {
                return Err(too_large(
                    "sheet_too_large",
                    format!("工作簿中有内容的单元格超过 {MAX_CELLS} 个,请分成几个文件导入。"),
                ));
            }
            let row = rows.entry(r).or_default();
            if row.len() <= col as usize {
                row.resize(col as usize + 1, String::new());
            }
            row[col as usize] = text;
        }
        let mut header = None;
        let mut lines = Vec::new();
        for (r, cells) in rows {
            match header {
                None => header = Some(cells),
                // Line numbers as the sheet shows them.
                Some(_) => lines.push((r as usize + 1, cells)),
            }
        }
        if let Some(header) = header {
            sheets.push(Sheet { name, header, rows: lines });
        }
    }
    if sheets.is_empty() {
        return Err("工作簿中没有数据。".into());
    }
    Ok(sheets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_in_utf8_with_bom_or_gb18030() {
        let utf8 = "\u{feff}机构代码,名称\n510899,青山县\n\n510899D01,\"县发展改革局\"\n";
        let s = read("orgs.csv", utf8.as_bytes()).unwrap().remove(0);
        assert_eq!(s.header, ["机构代码", "名称"]);
        assert_eq!(
            s.rows,
            vec![(2, vec!["510899".into(), "青山县".into()]), (4, vec!["510899D01".into(), "县发展改革局".into()])]
        );
        let (gbk, _, _) = encoding_rs::GB18030.encode("机构代码,名称\n510899,青山县\n");
        let s = read("orgs.csv", &gbk).unwrap().remove(0);
        assert_eq!(s.rows[0].1[1], "青山县");
    }

    #[test]
    fn unreadable_files_say_why() {
        assert!(read("x.csv", b"").unwrap_err().message.contains("空"));
        assert!(read("x.xls", &[0xD0, 0xCF, 0x11, 0xE0, 0, 0]).unwrap_err().message.contains(".xlsx"));
        assert!(read("x.xlsx", b"PK\x03\x04garbage").unwrap_err().message.contains("Excel"));
    }

    fn book(cells: &[(u32, u16, &str)]) -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (r, c, text) in cells {
            sheet.write_string(*r, *c, *text).unwrap();
        }
        book.save_to_buffer().unwrap()
    }

    /// Issue 29 §1: a tiny sheet with a cell at the far corner is refused by its content's position, without
    /// allocating the grid between (the test would abort the process otherwise).
    #[test]
    fn a_sparse_sheet_is_refused_not_expanded() {
        let bytes = book(&[(0, 0, "机构代码"), (1_048_575, 16_383, "x")]);
        assert!(bytes.len() < 10_000);
        let e = read("sparse.xlsx", &bytes).unwrap_err();
        assert_eq!(e.code, "sheet_too_large");
        assert!(e.message.contains("第 1048576 行第 16384 列"), "{}", e.message);
        let e = read("wide.xlsx", &book(&[(0, 0, "机构代码"), (20_000, 999, "x")])).unwrap_err();
        assert_eq!(e.code, "sheet_too_large");
    }

    #[test]
    fn cells_keep_their_positions_and_empty_rows_are_skipped() {
        let bytes = book(&[(0, 1, "机构代码"), (0, 2, "名称"), (3, 1, "510899"), (3, 2, "青山县")]);
        let s = read("x.xlsx", &bytes).unwrap().remove(0);
        assert_eq!(s.header, ["", "机构代码", "名称"]);
        assert_eq!(s.rows, vec![(4, vec!["".into(), "510899".into(), "青山县".into()])]);
    }

    #[test]
    fn numbers_read_as_typed() {
        assert_eq!(cell(&Data::Float(510899000000.0)), "510899000000");
        assert_eq!(cell(&Data::Float(2.5)), "2.5");
        assert_eq!(cell(&Data::Int(20)), "20");
    }
}
