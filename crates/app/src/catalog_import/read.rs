//! Reading a catalog file into sheets of text cells: CSV (UTF-8, with or without a BOM, or GB18030 as Excel
//! saves it on a Chinese Windows) or an .xlsx workbook (calamine). Numbers typed into Excel cells come back
//! as the digits a clerk typed (`510899`, not `510899.0`).

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

/// One sheet (or CSV file): its name, header, and rows with their line numbers as a spreadsheet shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    pub name: String,
    pub header: Vec<String>,
    pub rows: Vec<(usize, Vec<String>)>,
}

/// Why a file cannot be read at all.
pub fn read(file_name: &str, bytes: &[u8]) -> Result<Vec<Sheet>, String> {
    if bytes.starts_with(b"PK\x03\x04") {
        read_xlsx(bytes)
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        Err("这是旧版 Excel(.xls)文件,请在 Excel 中另存为 .xlsx 或 CSV 后再导入。".into())
    } else {
        Ok(vec![read_csv(file_name, bytes)?])
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

fn read_xlsx(bytes: &[u8]) -> Result<Vec<Sheet>, String> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).map_err(|e| format!("无法读取 Excel 文件:{e}"))?;
    let mut sheets = Vec::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).map_err(|e| format!("无法读取工作表“{name}”:{e}"))?;
        let first_row = range.start().map_or(0, |(r, _)| r as usize);
        let first_col = range.start().map_or(0, |(_, c)| c as usize);
        let mut header = None;
        let mut rows = Vec::new();
        for (i, row) in range.rows().enumerate() {
            // Columns left of the used range are empty; keep positions as the sheet shows them.
            let mut cells = vec![String::new(); first_col];
            cells.extend(row.iter().map(cell));
            if cells.iter().all(String::is_empty) {
                continue;
            }
            match header {
                None => header = Some(cells),
                Some(_) => rows.push((first_row + i + 1, cells)),
            }
        }
        if let Some(header) = header {
            sheets.push(Sheet { name, header, rows });
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
        assert!(read("x.csv", b"").unwrap_err().contains("空"));
        assert!(read("x.xls", &[0xD0, 0xCF, 0x11, 0xE0, 0, 0]).unwrap_err().contains(".xlsx"));
        assert!(read("x.xlsx", b"PK\x03\x04garbage").unwrap_err().contains("Excel"));
    }

    #[test]
    fn numbers_read_as_typed() {
        assert_eq!(cell(&Data::Float(510899000000.0)), "510899000000");
        assert_eq!(cell(&Data::Float(2.5)), "2.5");
        assert_eq!(cell(&Data::Int(20)), "20");
    }
}
