//! QR codes drawn by the program (issue 6 §2): SVG for pages and print, PNG for receipts printed by other
//! systems. The encoder is the `qrcode` crate without its image features; the PNG is written here (stored
//! deflate blocks: a QR code is a few hundred bytes of pixels, compression would not pay for a dependency).

use maud::{Markup, html};
use qrcode::{Color, EcLevel, QrCode};

/// The dark modules of the code for `text`, row by row, with its width. Level M survives a smudged print.
fn modules(text: &str) -> (usize, Vec<bool>) {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .or_else(|_| QrCode::new(text.as_bytes()))
        .expect("a link is far below a QR code's capacity");
    let width = code.width();
    (width, code.to_colors().into_iter().map(|c| c == Color::Dark).collect())
}

/// Quiet zone around the code, in modules (the standard asks for four).
const QUIET: usize = 4;

/// An SVG of the code, scaled by its viewer; `label` is read by screen readers. Every element is closed, so
/// the same markup is a well-formed `image/svg+xml` file.
pub fn svg(text: &str, label: &str) -> Markup {
    let (w, dark) = modules(text);
    let size = w + 2 * QUIET;
    let mut path = String::new();
    for y in 0..w {
        let mut x = 0;
        while x < w {
            if dark[y * w + x] {
                let start = x;
                while x < w && dark[y * w + x] {
                    x += 1;
                }
                path.push_str(&format!("M{} {}h{}v1h-{}z", start + QUIET, y + QUIET, x - start, x - start));
            } else {
                x += 1;
            }
        }
    }
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {size} {size}")) shape-rendering="crispEdges" role="img"
            aria-label=(label) {
            rect width=(size) height=(size) fill="#fff" {}
            path d=(path) fill="#000" {}
        }
    }
}

/// A grey-scale PNG of the code, `scale` pixels per module.
pub fn png(text: &str, scale: usize) -> Vec<u8> {
    let (w, dark) = modules(text);
    let side = (w + 2 * QUIET) * scale;
    let mut raw = Vec::with_capacity((side + 1) * side);
    for py in 0..side {
        raw.push(0); // filter: none
        let my = (py / scale).checked_sub(QUIET).filter(|&m| m < w);
        for px in 0..side {
            let mx = (px / scale).checked_sub(QUIET).filter(|&m| m < w);
            let is_dark = matches!((mx, my), (Some(x), Some(y)) if dark[y * w + x]);
            raw.push(if is_dark { 0 } else { 255 });
        }
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&(side as u32).to_be_bytes());
    ihdr.extend_from_slice(&(side as u32).to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit grey, deflate, adaptive filter, no interlace
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &zlib_stored(&raw));
    chunk(&mut out, b"IEND", &[]);
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(data);
    out.extend_from_slice(&crc_input);
    out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
}

/// A zlib stream of stored (uncompressed) deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = if data.is_empty() { vec![&[]] } else { data.chunks(65_535).collect() };
    let last = blocks.len() - 1;
    for (i, block) in blocks.iter().enumerate() {
        out.push(u8::from(i == last));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

/// CRC-32 (ISO-HDLC, as PNG chunks carry it).
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_draws_the_finder_patterns() {
        let s = svg("http://127.0.0.1:8080/w/W-510899-C01", "二维码").into_string();
        assert!(s.starts_with("<svg") && s.contains(r#"aria-label="二维码""#));
        assert!(s.ends_with("</path></svg>"), "every element closed: a well-formed XML file");
        // The top-left finder pattern's first row: seven dark modules from the quiet zone's edge.
        assert!(s.contains("M4 4h7v1h-7z"), "{s}");
    }

    #[test]
    fn png_is_a_well_formed_image() {
        let p = png("http://127.0.0.1:8080/e/abc", 4);
        assert_eq!(&p[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&p[12..16], b"IHDR");
        let side = u32::from_be_bytes(p[16..20].try_into().unwrap()) as usize;
        assert_eq!(side % 4, 0);
        // Every chunk's CRC checks out.
        let mut at = 8;
        while at < p.len() {
            let len = u32::from_be_bytes(p[at..at + 4].try_into().unwrap()) as usize;
            let body = &p[at + 4..at + 8 + len];
            let crc = u32::from_be_bytes(p[at + 8 + len..at + 12 + len].try_into().unwrap());
            assert_eq!(crc32(body), crc);
            at += 12 + len;
        }
        assert_eq!(at, p.len());
    }

    #[test]
    fn zlib_blocks_split_at_64k_and_carry_adler() {
        let data = vec![7u8; 70_000];
        let z = zlib_stored(&data);
        assert_eq!(z.len(), 2 + (5 + 65_535) + (5 + 4_465) + 4);
        assert_eq!(z[2], 0, "first block is not last");
        assert_eq!(z[2 + 5 + 65_535], 1, "second block is last");
    }
}
