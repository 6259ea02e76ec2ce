//! The stylesheet and script, compiled into the binary (the machine may have no internet).

use axum::{http::header, response::IntoResponse};

super::routes! {
    "/static/app.css" => get(css);
    "/static/app.js" => get(js);
}

pub async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.css"),
    )
}

pub async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        // One script: the pages' shortcuts and scan viewer, then the upload forms.
        concat!(
            include_str!("../../static/app.js"),
            include_str!("../../static/upload.js")
        ),
    )
}
