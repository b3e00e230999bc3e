//! Tables for download (issue 7 §2, §4, §5): CSV for any tool and Excel workbooks (.xlsx) that county offices
//! print and forward (issue 17 §3): a title row, the notes (organization, period, rule, when made), a bold
//! frozen header, columns wide enough for Chinese text, numbers as numbers and rates as percentages, A4
//! landscape with the header repeated on every printed page. Written with `rust_xlsxwriter`.

use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Workbook, XlsxError};

/// One cell: text or a number (a number stays a number in Excel, so it sums and sorts).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    /// A rate as a fraction (0.953): a percentage in Excel ("95.3%"), percent with one decimal in CSV (95.3).
    Percent(f64),
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
        let made = made_note();
        for n in std::iter::once(&self.title).chain(&self.notes).chain(std::iter::once(&made)) {
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
                    Cell::Percent(p) => format_number((p * 1000.0).round() / 10.0),
                    Cell::Empty => csv_field("—"),
                })
                .collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
        out
    }

    /// An Excel workbook with one sheet: the title, the notes, the header (bold, frozen, repeated on every
    /// printed page), then the rows; A4 landscape, one page wide.
    pub fn to_xlsx(&self) -> Result<Vec<u8>, XlsxError> {
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        let name: String = self.title.chars().filter(|c| !"[]:*?/\\'".contains(*c)).take(31).collect();
        sheet.set_name(if name.trim().is_empty() { "Sheet1" } else { name.trim() })?;
        let columns = self.headers.len().max(1) as u16;
        let title = Format::new().set_bold().set_font_size(14);
        let header = Format::new()
            .set_bold()
            .set_text_wrap()
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter)
            .set_background_color(Color::RGB(0xDDEBF7))
            .set_border(FormatBorder::Thin);
        let text = Format::new().set_border(FormatBorder::Thin);
        let number = Format::new().set_border(FormatBorder::Thin).set_num_format("0.##");
        let percent = Format::new().set_border(FormatBorder::Thin).set_num_format("0.0%");
        let empty = Format::new().set_border(FormatBorder::Thin).set_align(FormatAlign::Center);

        sheet.write_string_with_format(0, 0, &self.title, &title)?;
        if columns > 1 {
            sheet.merge_range(0, 0, 0, columns - 1, &self.title, &title)?;
        }
        let mut row: u32 = 1;
        for n in self.notes.iter().chain(std::iter::once(&made_note())) {
            sheet.write_string(row, 0, n)?;
            row += 1;
        }
        let header_row = row;
        for (c, h) in self.headers.iter().enumerate() {
            sheet.write_string_with_format(header_row, c as u16, h, &header)?;
        }
        for cells in &self.rows {
            row += 1;
            for (c, cell) in cells.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(t) => sheet.write_string_with_format(row, c, t, &text)?,
                    Cell::Number(n) => sheet.write_number_with_format(row, c, *n, &number)?,
                    Cell::Percent(p) => sheet.write_number_with_format(row, c, *p, &percent)?,
                    Cell::Empty => sheet.write_string_with_format(row, c, "—", &empty)?,
                };
            }
        }
        for c in 0..self.headers.len() {
            sheet.set_column_width(c as u16, self.column_width(c))?;
        }
        sheet.set_freeze_panes(header_row + 1, 0)?;
        sheet.set_paper_size(9); // A4
        sheet.set_landscape();
        sheet.set_repeat_rows(header_row, header_row)?;
        sheet.set_print_fit_to_pages(1, 0);
        sheet.set_header("&C&A");
        sheet.set_footer("&C第 &P 页,共 &N 页");
        book.save_to_buffer()
    }

    /// A column's width in Excel's units (one per Latin character): a Chinese character takes two; the header
    /// wraps, so it counts at most half; bounded so that one long name does not push the rest off the page.
    fn column_width(&self, c: usize) -> f64 {
        let width = |s: &str| s.chars().map(|ch| if ch.is_ascii() { 1.0 } else { 2.0 }).sum::<f64>();
        let header = self.headers.get(c).map_or(0.0, |h| (width(h) / 2.0).max(6.0));
        let cells = self
            .rows
            .iter()
            .filter_map(|r| r.get(c))
            .map(|cell| match cell {
                Cell::Text(t) => width(t),
                Cell::Number(n) => format_number(*n).len() as f64,
                Cell::Percent(_) => 6.0,
                Cell::Empty => 1.0,
            })
            .fold(0.0, f64::max);
        (header.max(cells) + 2.0).clamp(6.0, 40.0)
    }
}

/// When the file was made, for the office that forwards it.
fn made_note() -> String {
    format!("制表时间:{}", hcp_domain::calendar::display_cst(chrono::Utc::now()))
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { format!("{n}") }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use calamine::{Data, Reader, Xlsx};

    use super::*;

    fn table() -> Table {
        Table {
            title: "青山县 2026年11月 <满意度>".into(),
            notes: vec!["统计期:2026-11-01 至 2026-11-30".into(), "按满意度排名".into()],
            headers: vec!["单位".into(), "满意度".into(), "差评率(%)".into(), "评价数".into()],
            rows: vec![
                vec!["=HYPERLINK(\"x\")".into(), Cell::Number(95.5), Cell::Empty, Cell::from(12u64)],
                vec![
                    "青山镇人民政府便民服务中心 & 河西".into(),
                    Cell::Number(90.0),
                    Cell::Percent(0.0213),
                    7u64.into(),
                ],
            ],
        }
    }

    #[test]
    fn csv_is_excel_safe() {
        let csv = table().to_csv();
        assert!(csv.starts_with('\u{feff}'));
        assert!(csv.contains("\"制表时间:"), "{csv}");
        assert!(csv.contains("\"'=HYPERLINK(\"\"x\"\")\",95.5,\"—\",12"), "{csv}");
        assert!(csv.contains("\"青山镇人民政府便民服务中心 & 河西\",90,2.1,7"), "{csv}");
    }

    /// Read back with a reader crate: values and types where they belong; then the parts that carry the
    /// formats (percent, frozen header, A4 landscape, repeated header row).
    #[test]
    fn the_workbook_reads_back_with_its_formats() {
        let bytes = table().to_xlsx().unwrap();
        let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.clone())).unwrap();
        let name = book.sheet_names()[0].clone();
        assert_eq!(name, "青山县 2026年11月 <满意度>");
        let range = book.worksheet_range(&name).unwrap();
        assert_eq!(range.get_value((0, 0)), Some(&Data::String("青山县 2026年11月 <满意度>".into())));
        assert_eq!(range.get_value((1, 0)), Some(&Data::String("统计期:2026-11-01 至 2026-11-30".into())));
        assert!(matches!(range.get_value((3, 0)), Some(Data::String(s)) if s.starts_with("制表时间:")));
        assert_eq!(range.get_value((4, 2)), Some(&Data::String("差评率(%)".into())));
        // A formula-looking name stays text; numbers are numbers; a rate is the fraction (shown as 2.1%).
        assert_eq!(range.get_value((5, 0)), Some(&Data::String("=HYPERLINK(\"x\")".into())));
        assert_eq!(range.get_value((5, 1)), Some(&Data::Float(95.5)));
        assert_eq!(range.get_value((5, 2)), Some(&Data::String("—".into())));
        assert_eq!(range.get_value((6, 2)), Some(&Data::Float(0.0213)));
        assert_eq!(range.get_value((6, 3)), Some(&Data::Float(7.0)));

        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut part = |name: &str| {
            let mut s = String::new();
            zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
            s
        };
        let styles = part("xl/styles.xml");
        assert!(styles.contains(r#"formatCode="0.0%""#), "{styles}");
        let sheet = part("xl/worksheets/sheet1.xml");
        assert!(
            sheet.contains(r#"<pane ySplit="5" topLeftCell="A6" activePane="bottomLeft" state="frozen"/>"#),
            "{sheet}"
        );
        assert!(sheet.contains(r#"paperSize="9""#) && sheet.contains(r#"orientation="landscape""#), "{sheet}");
        assert!(sheet.contains(r#"<col min="1" max="1" width="#), "{sheet}");
        let workbook = part("xl/workbook.xml");
        assert!(workbook.contains("_xlnm.Print_Titles"), "{workbook}");
    }

    #[test]
    fn chinese_columns_are_wider_than_latin_ones() {
        let t = table();
        assert!(t.column_width(0) > t.column_width(1), "{} {}", t.column_width(0), t.column_width(1));
        assert!(t.column_width(0) <= 40.0);
    }
}
