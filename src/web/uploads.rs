//! The desks' file uploads (bills, issued invoices, tracking, the calendar): one reader of the
//! form's `file` part that tells what went wrong — over the route's limit, a body that broke off,
//! no file, a format the import does not read — in the reader's language. The upload forms
//! (`views::components::upload_form`) and `static/upload.js` are the other half.

use crate::exchange::formats::Formats;
use crate::views::texts::Locale;
use axum::extract::{
    Multipart,
    multipart::{MultipartError, MultipartRejection},
};

/// The file sent.
pub struct Upload {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Why an upload was not taken; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadError {
    /// Over the route's limit, in bytes.
    TooLarge { limit: usize },
    /// The body is not a readable multipart form (cut off, or not multipart at all).
    Broken { detail: String },
    /// The form has no file, or an empty one.
    NoFile,
    /// The file's name says a format the import does not read.
    WrongType { name: String, formats: Formats },
}

impl UploadError {
    /// The message for the page, in the reader's language; it always says nothing changed.
    pub fn message(&self, l: Locale) -> String {
        match (self, l) {
            (UploadError::TooLarge { limit }, Locale::Zh) => format!(
                "文件超过 {} MiB 上限，未作任何更改。请拆分后分次上传。",
                limit / (1024 * 1024)
            ),
            (UploadError::TooLarge { limit }, Locale::En) => format!(
                "The file is over the {} MiB limit; nothing was changed. Split it and upload the parts.",
                limit / (1024 * 1024)
            ),
            (UploadError::Broken { detail }, Locale::Zh) => {
                format!("上传未能完整读取（发送中断或表单损坏：{detail}），未作任何更改。请重试。")
            }
            (UploadError::Broken { detail }, Locale::En) => format!(
                "The upload could not be read whole (cut off or a broken form: {detail}); nothing was changed. Try again."
            ),
            (UploadError::NoFile, Locale::Zh) => "请选择文件（未收到文件，或文件为空）。".into(),
            (UploadError::NoFile, Locale::En) => {
                "Choose a file (none was sent, or it is empty).".into()
            }
            (UploadError::WrongType { name, formats }, Locale::Zh) => format!(
                "不支持“{name}”的文件格式，未作任何更改。此处可导入：{}。",
                formats.listed()
            ),
            (UploadError::WrongType { name, formats }, Locale::En) => format!(
                "“{name}” is not a format read here; nothing was changed. This import reads {}.",
                formats.listed()
            ),
        }
    }
}

/// Whether a length limit (the client's, or the route's) cut the body off; the limit's error
/// may sit several sources deep. The intake API's uploads ask it too.
pub(crate) fn cut_off(e: &MultipartError) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cur = err.source();
    }
    false
}

fn broken(e: MultipartError, limit: usize) -> UploadError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE || cut_off(&e) {
        UploadError::TooLarge { limit }
    } else {
        UploadError::Broken {
            detail: e.body_text(),
        }
    }
}

/// Reads the form's `file` part (other parts are skipped); the route's body limit is the
/// import's (`formats.limit`).
pub async fn read(
    mp: Result<Multipart, MultipartRejection>,
    formats: Formats,
) -> Result<Upload, UploadError> {
    read_with_field(mp, formats, "").await.map(|(_, f)| f)
}

/// [`read`], and the text of one more field (`field`, at most 200 bytes kept), if sent.
pub async fn read_with_field(
    mp: Result<Multipart, MultipartRejection>,
    formats: Formats,
    field_name: &str,
) -> Result<(Option<String>, Upload), UploadError> {
    let limit = formats.limit;
    let mut value = None;
    let mut mp = mp.map_err(|e| UploadError::Broken {
        detail: e.body_text(),
    })?;
    let mut file = None;
    while let Some(field) = mp.next_field().await.map_err(|e| broken(e, limit))? {
        if !field_name.is_empty() && field.name() == Some(field_name) {
            let text = field.text().await.map_err(|e| broken(e, limit))?;
            value = Some(text.chars().take(200).collect::<String>());
            continue;
        }
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("").to_owned();
        let bytes = field.bytes().await.map_err(|e| broken(e, limit))?;
        file = Some(Upload {
            name,
            bytes: bytes.to_vec(),
        });
    }
    let file = file
        .filter(|f| !f.bytes.is_empty())
        .ok_or(UploadError::NoFile)?;
    if !formats.admits(&file.name) {
        return Err(UploadError::WrongType {
            name: file.name,
            formats,
        });
    }
    Ok((value, file))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::formats::TRACKING;
    use axum::extract::FromRequest;

    async fn read_body(body: &'static [u8]) -> Result<Upload, UploadError> {
        let req = axum::http::Request::builder()
            .header("content-type", "multipart/form-data; boundary=X")
            .body(axum::body::Body::from(body))
            .unwrap();
        let mp = Multipart::from_request(req, &()).await;
        read(mp, TRACKING).await
    }

    #[tokio::test]
    async fn each_failure_is_named() {
        let ok = b"--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.csv\"\r\n\r\nabc\r\n--X--\r\n";
        let up = read_body(ok).await.unwrap();
        assert_eq!(
            (up.name.as_str(), up.bytes.as_slice()),
            ("t.csv", &b"abc"[..])
        );
        let cut =
            b"--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.csv\"\r\n\r\nabc";
        assert!(matches!(
            read_body(cut).await,
            Err(UploadError::Broken { .. })
        ));
        let empty = b"--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\"\r\n\r\n\r\n--X--\r\n";
        assert_eq!(read_body(empty).await.err(), Some(UploadError::NoFile));
        let pdf = b"--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.pdf\"\r\n\r\n%PDF\r\n--X--\r\n";
        let e = read_body(pdf).await.err().unwrap();
        assert!(e.message(Locale::Zh).contains("此处可导入：.csv / .xlsx"));
        assert_eq!(
            UploadError::TooLarge { limit: 64 << 20 }.message(Locale::Zh),
            "文件超过 64 MiB 上限，未作任何更改。请拆分后分次上传。"
        );
    }
}
