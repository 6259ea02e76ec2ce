//! The five scans of an application and the file types the hall may send, told by content.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScanKind {
    ApplicationForm,
    EsealForm,
    IdFront,
    IdBack,
    LivenessPhoto,
}

impl ScanKind {
    pub const ALL: [ScanKind; 5] = [
        ScanKind::ApplicationForm,
        ScanKind::EsealForm,
        ScanKind::IdFront,
        ScanKind::IdBack,
        ScanKind::LivenessPhoto,
    ];

    /// The multipart part name (intake-api.md).
    pub fn code(self) -> &'static str {
        match self {
            ScanKind::ApplicationForm => "application_form",
            ScanKind::EsealForm => "eseal_form",
            ScanKind::IdFront => "id_front",
            ScanKind::IdBack => "id_back",
            ScanKind::LivenessPhoto => "liveness_photo",
        }
    }

    pub fn parse(s: &str) -> Option<ScanKind> {
        Self::ALL.into_iter().find(|k| k.code() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            ScanKind::ApplicationForm => "申请表",
            ScanKind::EsealForm => "电子印章采集表",
            ScanKind::IdFront => "身份证人像面",
            ScanKind::IdBack => "身份证国徽面",
            ScanKind::LivenessPhoto => "活体照片",
        }
    }
}

/// 2 MiB, the hall's and our limit per file.
pub const MAX_SCAN_BYTES: usize = 2 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    Jpeg,
    Png,
    Bmp,
    Gif,
    Pdf,
}

impl MediaType {
    pub fn mime(self) -> &'static str {
        match self {
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
            MediaType::Bmp => "image/bmp",
            MediaType::Gif => "image/gif",
            MediaType::Pdf => "application/pdf",
        }
    }
    pub fn from_mime(s: &str) -> Option<MediaType> {
        [
            MediaType::Jpeg,
            MediaType::Png,
            MediaType::Bmp,
            MediaType::Gif,
            MediaType::Pdf,
        ]
        .into_iter()
        .find(|m| m.mime() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SniffError {
    #[error("the file is empty")]
    Empty,
    #[error("the file's header is cut short; send a whole JPEG, PNG, BMP, GIF or PDF")]
    Truncated,
    #[error("the content is not JPEG, PNG, BMP, GIF or PDF")]
    Unknown,
}

/// Types a file by its first bytes, whatever its name or declared type says. The header must
/// be complete: a JPEG needs its SOI and a whole first segment, a PNG its signature and IHDR,
/// a BMP its file header, a GIF its logical screen descriptor.
pub fn sniff(b: &[u8]) -> Result<MediaType, SniffError> {
    if b.is_empty() {
        return Err(SniffError::Empty);
    }
    let has = |prefix: &[u8]| b.len() >= prefix.len() && &b[..prefix.len()] == prefix;
    let starts = |prefix: &[u8]| {
        let n = prefix.len().min(b.len());
        b[..n] == prefix[..n]
    };
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if starts(&[0xFF, 0xD8, 0xFF]) {
        // SOI, then a marker and (for all but standalone markers) a length that fits the file.
        if b.len() < 4 || b[3] < 0xC0 || b[3] == 0xFF {
            return Err(SniffError::Truncated);
        }
        if b.len() < 6 {
            return Err(SniffError::Truncated);
        }
        let seg = usize::from(u16::from_be_bytes([b[4], b[5]]));
        return if seg >= 2 && b.len() >= 4 + seg {
            Ok(MediaType::Jpeg)
        } else {
            Err(SniffError::Truncated)
        };
    }
    if starts(PNG) {
        // Signature, IHDR length and type: 16 bytes, then 17 of IHDR data and CRC.
        return if has(PNG) && b.len() >= 33 && &b[12..16] == b"IHDR" {
            Ok(MediaType::Png)
        } else {
            Err(SniffError::Truncated)
        };
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return if b.len() >= 13 {
            Ok(MediaType::Gif)
        } else {
            Err(SniffError::Truncated)
        };
    }
    if starts(b"%PDF-") {
        return if b.len() >= 8 {
            Ok(MediaType::Pdf)
        } else {
            Err(SniffError::Truncated)
        };
    }
    if has(b"BM") && b.len() >= 2 {
        // BITMAPFILEHEADER (14 bytes) + the info header's size field; the pixel data offset must lie inside.
        if b.len() < 18 {
            return Err(SniffError::Truncated);
        }
        let offset = u32::from_le_bytes([b[10], b[11], b[12], b[13]]) as usize;
        let dib = u32::from_le_bytes([b[14], b[15], b[16], b[17]]);
        return if [12, 40, 52, 56, 64, 108, 124].contains(&dib)
            && offset >= 14 + dib as usize
            && offset <= b.len()
        {
            Ok(MediaType::Bmp)
        } else {
            Err(SniffError::Unknown)
        };
    }
    Err(SniffError::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_by_content() {
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
        jpeg.extend_from_slice(&[0u8; 14]);
        assert_eq!(sniff(&jpeg), Ok(MediaType::Jpeg));
        assert_eq!(sniff(&jpeg[..2]), Err(SniffError::Truncated));
        assert_eq!(sniff(&jpeg[..10]), Err(SniffError::Truncated));
        assert_eq!(sniff(b""), Err(SniffError::Empty));
        assert_eq!(sniff(b"%PDF-1.7\n"), Ok(MediaType::Pdf));
        assert_eq!(
            sniff(b"GIF89a\x01\x00\x01\x00\x00\x00\x00"),
            Ok(MediaType::Gif)
        );
        assert_eq!(sniff(b"PK\x03\x04 a zip"), Err(SniffError::Unknown));
        assert_eq!(
            sniff(b"hello, I am a text file named photo.jpg"),
            Err(SniffError::Unknown)
        );
        let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
        png.extend_from_slice(&[0u8; 17]);
        assert_eq!(sniff(&png), Ok(MediaType::Png));
        assert_eq!(sniff(&png[..20]), Err(SniffError::Truncated));
        let mut bmp = b"BM".to_vec();
        bmp.extend_from_slice(&[0; 8]);
        bmp.extend_from_slice(&54u32.to_le_bytes());
        bmp.extend_from_slice(&40u32.to_le_bytes());
        bmp.resize(60, 0);
        assert_eq!(sniff(&bmp), Ok(MediaType::Bmp));
        assert_eq!(sniff(b"BMW is a car"), Err(SniffError::Truncated));
    }
}
