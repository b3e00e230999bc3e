//! Tables for download (issue 7 §2, §4, §5): CSV for any tool and Excel workbooks (.xlsx) for the county
//! office. The workbook is written here (a zip of a few XML parts, stored without compression): a closed
//! network has no converter service, and a spreadsheet library would weigh more than the whole format we use.

use std::fmt::Write as _;

/// One cell: text or a number (a number stays a number in Excel, so it sums and sorts).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<u64> for Cell {
    fn from(n: u64) -> Cell {
        Cell::Number(n as f64)
    }
}

impl From<Option<f64>> for Cell {
    /// A rate or score; without a denominator the cell stays empty (“—” in CSV), never 0.
    fn from(v: Option<f64>) -> Cell {
        v.map_or(Cell::Empty, Cell::Number)
    }
}

/// A titled table with a header row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub title: String,
    /// Lines printed above the header (the period, the rule of a ranking …).
    pub notes: Vec<String>,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// A CSV field: every cell quoted; a leading = + - @ is defused so that a spreadsheet never runs it.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() };
    format!("\"{}\"", s.replace('"', "\"\""))
}

impl Table {
    /// CSV, UTF-8 with a byte-order mark so that Excel reads the Chinese right. Notes come first, one per line.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("\u{feff}");
        for n in std::iter::once(&self.title).chain(&self.notes) {
            out.push_str(&csv_field(n));
            out.push_str("\r\n");
        }
        out.push_str(&self.headers.iter().map(|h| csv_field(h)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
        for row in &self.rows {
            let cells: Vec<String> = row
                .iter()
                .map(|c| match c {
                    Cell::Text(s) => csv_field(s),
                    Cell::Number(n) => format_number(*n),
                    Cell::Empty => csv_field("—"),
                })
                .collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
        out
    }

    /// An Excel workbook with one sheet: the title, the notes, the header in bold, then the rows.
    pub fn to_xlsx(&self) -> Vec<u8> {
        let mut sheet = String::from(concat!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
            r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#
        ));
        let mut r = 0;
        let mut row = |cells: &[Cell], style: u8, sheet: &mut String| {
            r += 1;
            let _ = write!(sheet, r#"<row r="{r}">"#);
            for (c, cell) in cells.iter().enumerate() {
                let at = format!("{}{r}", column_name(c));
                let s = if style > 0 { format!(r#" s="{style}""#) } else { String::new() };
                match cell {
                    Cell::Text(t) => {
                        let _ = write!(sheet, r#"<c r="{at}" t="inlineStr"{s}><is><t>{}</t></is></c>"#, xml_escape(t));
                    }
                    Cell::Number(n) => {
                        let _ = write!(sheet, r#"<c r="{at}"{s}><v>{}</v></c>"#, format_number(*n));
                    }
                    Cell::Empty => {}
                }
            }
            sheet.push_str("</row>");
        };
        row(&[Cell::Text(self.title.clone())], 1, &mut sheet);
        for n in &self.notes {
            row(&[Cell::Text(n.clone())], 0, &mut sheet);
        }
        let headers: Vec<Cell> = self.headers.iter().map(|h| Cell::Text(h.clone())).collect();
        row(&headers, 1, &mut sheet);
        for cells in &self.rows {
            row(cells, 0, &mut sheet);
        }
        sheet.push_str("</sheetData></worksheet>");
        let sheet_name =
            xml_escape(&self.title.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect::<String>());
        let workbook = format!(
            concat!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
                r#"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" "#,
                r#"xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">"#,
                r#"<sheets><sheet name="{}" sheetId="1" r:id="rId1"/></sheets></workbook>"#
            ),
            if sheet_name.is_empty() { "Sheet1".to_string() } else { sheet_name }
        );
        let parts: [(&str, &[u8]); 6] = [
            ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
            ("_rels/.rels", ROOT_RELS.as_bytes()),
            ("xl/workbook.xml", workbook.as_bytes()),
            ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.as_bytes()),
            ("xl/styles.xml", STYLES.as_bytes()),
            ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
        ];
        zip_stored(&parts)
    }
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { format!("{n}") }
}

/// A, B, … Z, AA, AB …
fn column_name(mut i: usize) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    name.reverse();
    String::from_utf8(name).expect("ASCII")
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // Control characters are not allowed in XML 1.0; a stray one must not break the workbook.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

const CONTENT_TYPES: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
    r#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">"#,
    r#"<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>"#,
    r#"<Default Extension="xml" ContentType="application/xml"/>"#,
    r#"<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>"#,
    r#"<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#,
    r#"<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>"#,
    r#"</Types>"#
);
const ROOT_RELS: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
    r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
    r#"<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>"#,
    r#"</Relationships>"#
);
const WORKBOOK_RELS: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
    r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
    r#"<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>"#,
    r#"<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>"#,
    r#"</Relationships>"#
);
/// Style 0 plain, style 1 bold (title and header).
const STYLES: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
    r#"<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#,
    r#"<fonts count="2"><font><sz val="11"/><name val="宋体"/></font><font><b/><sz val="11"/><name val="宋体"/></font></fonts>"#,
    r#"<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>"#,
    r#"<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>"#,
    r#"<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>"#,
    r#"<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>"#,
    r#"<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>"#,
    r#"<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>"#,
    r#"</styleSheet>"#
);

/// CRC-32 (IEEE 802.3, as zip uses it).
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A zip archive of the parts, stored (method 0), with UTF-8 names.
fn zip_stored(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    // 1980-01-01 00:00 in DOS time: the parts carry no meaningful time.
    let (time, date) = (0u16, (1 << 5) | 1u16);
    for (name, data) in parts {
        let offset = out.len() as u32;
        let crc = crc32(data);
        let size = data.len() as u32;
        let header = |sig: u32, central: bool, buf: &mut Vec<u8>| {
            buf.extend_from_slice(&sig.to_le_bytes());
            if central {
                buf.extend_from_slice(&20u16.to_le_bytes()); // made by
            }
            buf.extend_from_slice(&20u16.to_le_bytes()); // needed to extract
            buf.extend_from_slice(&(1u16 << 11).to_le_bytes()); // flags: UTF-8 names
            buf.extend_from_slice(&0u16.to_le_bytes()); // stored
            buf.extend_from_slice(&time.to_le_bytes());
            buf.extend_from_slice(&date.to_le_bytes());
            buf.extend_from_slice(&crc.to_le_bytes());
            buf.extend_from_slice(&size.to_le_bytes());
            buf.extend_from_slice(&size.to_le_bytes());
            buf.extend_from_slice(&(name.len() as u16).to_le_bytes());
            buf.extend_from_slice(&0u16.to_le_bytes()); // extra
            if central {
                buf.extend_from_slice(&0u16.to_le_bytes()); // comment
                buf.extend_from_slice(&0u16.to_le_bytes()); // disk
                buf.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
                buf.extend_from_slice(&0u32.to_le_bytes()); // external attributes
                buf.extend_from_slice(&offset.to_le_bytes());
            }
            buf.extend_from_slice(name.as_bytes());
        };
        header(0x0403_4b50, false, &mut out);
        out.extend_from_slice(data);
        header(0x0201_4b50, true, &mut central);
    }
    let central_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]); // this disk, disk with the directory
    out.extend_from_slice(&(parts.len() as u16).to_le_bytes());
    out.extend_from_slice(&(parts.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_of_the_check_string() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn columns_are_named_like_excel() {
        assert_eq!([0, 25, 26, 27, 51, 52, 701, 702].map(column_name), ["A", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]);
    }

    fn table() -> Table {
        Table {
            title: "2026年11月 <满意度>".into(),
            notes: vec!["按满意度排名".into()],
            headers: vec!["单位".into(), "满意度".into(), "差评率".into()],
            rows: vec![
                vec!["=HYPERLINK(\"x\")".into(), Cell::Number(95.5), Cell::Empty],
                vec!["青山镇 & 河西".into(), Cell::Number(90.0), Cell::Number(0.02)],
            ],
        }
    }

    #[test]
    fn csv_is_excel_safe() {
        let csv = table().to_csv();
        assert!(csv.starts_with('\u{feff}'));
        assert!(csv.contains("\"'=HYPERLINK(\"\"x\"\")\",95.5,\"—\""));
        assert!(csv.contains("\"青山镇 & 河西\",90,0.02"));
    }

    /// Reads the stored zip back by its central directory and checks every part's CRC and offsets.
    #[test]
    fn the_workbook_is_a_valid_zip_with_escaped_xml() {
        let z = table().to_xlsx();
        let eocd = z.len() - 22;
        assert_eq!(&z[eocd..eocd + 4], &0x0605_4b50u32.to_le_bytes());
        let u16_at = |i: usize| u16::from_le_bytes([z[i], z[i + 1]]) as usize;
        let u32_at = |i: usize| u32::from_le_bytes([z[i], z[i + 1], z[i + 2], z[i + 3]]) as usize;
        let (count, mut at) = (u16_at(eocd + 10), u32_at(eocd + 16));
        assert_eq!(count, 6);
        let mut sheet = String::new();
        for _ in 0..count {
            assert_eq!(u32_at(at), 0x0201_4b50);
            let (crc, size, name_len, offset) = (u32_at(at + 16), u32_at(at + 20), u16_at(at + 28), u32_at(at + 42));
            let name = std::str::from_utf8(&z[at + 46..at + 46 + name_len]).unwrap().to_string();
            assert_eq!(u32_at(offset), 0x0403_4b50);
            let data_at = offset + 30 + u16_at(offset + 26);
            let data = &z[data_at..data_at + size];
            assert_eq!(crc32(data) as usize, crc, "{name}");
            if name == "xl/worksheets/sheet1.xml" {
                sheet = String::from_utf8(data.to_vec()).unwrap();
            }
            at += 46 + name_len;
        }
        assert!(sheet.contains("2026年11月 &lt;满意度&gt;"));
        assert!(sheet.contains(r#"<c r="B4"><v>95.5</v></c>"#), "{sheet}");
        assert!(sheet.contains("青山镇 &amp; 河西"));
    }
}
