//! Generated scans for demo data: small but real files of the types the hall sends.
//! A PDF form with a signature box, and BMP images laid out like an ID card and a photo.

/// A one-page A4 PDF with a title, labelled lines and a signature box (Helvetica, ASCII text).
pub fn form_pdf(title: &str, lines: &[&str]) -> Vec<u8> {
    let mut content = String::from("0.2 w\n");
    content.push_str(&format!(
        "BT /F1 18 Tf 60 780 Td ({}) Tj ET\n",
        pdf_escape(title)
    ));
    for (i, l) in lines.iter().enumerate() {
        let y = 730 - 34 * i as i32;
        content.push_str(&format!(
            "BT /F1 11 Tf 60 {y} Td ({}) Tj ET\n",
            pdf_escape(l)
        ));
        content.push_str(&format!("60 {} m 535 {} l S\n", y - 8, y - 8));
    }
    content.push_str("BT /F1 11 Tf 330 190 Td (Signature / Qian Ming) Tj ET\n330 90 205 90 re S\n");
    // A handwritten-looking stroke in the signature box.
    content.push_str("1 w 345 120 m 370 160 390 100 410 140 c 430 175 450 105 480 135 c S\n");
    let objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_vec(),
        format!("<< /Length {} >>\nstream\n{content}endstream", content.len()).into_bytes(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
    ];
    pdf(&objects)
}

/// A one-page A4 PDF holding one JPEG image over the whole page: what a scanner's "scan to PDF"
/// sends.
pub fn image_pdf(jpeg: &[u8], width: u32, height: u32) -> Vec<u8> {
    let content = "q 595 0 0 842 0 0 cm /Im1 Do Q\n";
    let mut objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /XObject << /Im1 5 0 R >> >> >>".to_vec(),
        format!("<< /Length {} >>\nstream\n{content}endstream", content.len()).into_bytes(),
    ];
    let mut image = format!(
        "<< /Type /XObject /Subtype /Image /Width {width} /Height {height} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode /Length {} >>\nstream\n",
        jpeg.len()
    )
    .into_bytes();
    image.extend_from_slice(jpeg);
    image.extend_from_slice(b"\nendstream");
    objects.push(image);
    pdf(&objects)
}

/// A PDF file of these objects (numbered from 1, the first the catalog): header, bodies,
/// cross-reference table and trailer.
fn pdf(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(o);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn pdf_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('(', "\\(")
        .replace(')', "\\)")
}

/// A 24-bit BMP canvas.
pub struct Canvas {
    w: usize,
    h: usize,
    px: Vec<[u8; 3]>,
}

impl Canvas {
    pub fn new(w: usize, h: usize, rgb: [u8; 3]) -> Self {
        Self {
            w,
            h,
            px: vec![rgb; w * h],
        }
    }

    pub fn rect(&mut self, x: usize, y: usize, w: usize, h: usize, rgb: [u8; 3]) {
        for yy in y..(y + h).min(self.h) {
            for xx in x..(x + w).min(self.w) {
                self.px[yy * self.w + xx] = rgb;
            }
        }
    }

    pub fn bmp(&self) -> Vec<u8> {
        let row = (self.w * 3).div_ceil(4) * 4;
        let size = 54 + row * self.h;
        let mut out = Vec::with_capacity(size);
        out.extend_from_slice(b"BM");
        out.extend_from_slice(&(size as u32).to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&54u32.to_le_bytes());
        out.extend_from_slice(&40u32.to_le_bytes());
        out.extend_from_slice(&(self.w as i32).to_le_bytes());
        out.extend_from_slice(&(self.h as i32).to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&24u16.to_le_bytes());
        out.extend_from_slice(&[0; 24]);
        for y in (0..self.h).rev() {
            let start = out.len();
            for x in 0..self.w {
                let [r, g, b] = self.px[y * self.w + x];
                out.extend_from_slice(&[b, g, r]);
            }
            out.resize(start + row, 0);
        }
        out
    }
}

/// An ID card's layout: photo on the right (front) or emblem on the left (back), text lines.
pub fn id_card(front: bool, seed: u64) -> Vec<u8> {
    let mut c = Canvas::new(428, 270, [236, 242, 248]);
    c.rect(0, 0, 428, 6, [120, 150, 190]);
    let tone = (seed % 40) as u8;
    if front {
        c.rect(290, 40, 110, 140, [200 - tone, 190 - tone, 185]);
        c.rect(318, 62, 54, 60, [150, 120, 100]);
        for (i, w) in [120usize, 90, 200, 160, 240].iter().enumerate() {
            c.rect(30, 40 + i * 30, *w, 10, [70, 70, 80]);
        }
        c.rect(30, 220, 330, 14, [40, 40, 50]);
    } else {
        c.rect(30, 30, 70, 70, [200, 60, 50]);
        c.rect(130, 50, 250, 16, [60, 60, 70]);
        c.rect(130, 190, 220, 10, [70, 70, 80]);
        c.rect(130, 220, 260, 10, [70, 70, 80]);
    }
    c.bmp()
}

/// A face-like liveness frame.
pub fn liveness_photo(seed: u64) -> Vec<u8> {
    let mut c = Canvas::new(240, 320, [210, 215, 220]);
    let tone = (seed % 30) as u8;
    c.rect(70, 70, 100, 130, [225 - tone, 190 - tone, 170 - tone]);
    c.rect(95, 115, 15, 8, [40, 40, 40]);
    c.rect(130, 115, 15, 8, [40, 40, 40]);
    c.rect(105, 165, 30, 6, [150, 80, 80]);
    c.rect(40, 210, 160, 110, [60, 80, 120]);
    c.bmp()
}

#[cfg(test)]
mod tests {
    use crate::domain::scan::{MediaType, sniff};

    #[test]
    fn generated_files_are_what_they_claim() {
        assert_eq!(
            sniff(&super::form_pdf("Application form", &["Name: Zhang San"])),
            Ok(MediaType::Pdf)
        );
        assert_eq!(sniff(&super::id_card(true, 1)), Ok(MediaType::Bmp));
        assert_eq!(sniff(&super::liveness_photo(1)), Ok(MediaType::Bmp));
    }
}
