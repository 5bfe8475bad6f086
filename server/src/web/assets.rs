//! Static files: the wasm bundle (`/pkg`) and the stylesheet and icons (`/assets`), embedded
//! in release builds so the binary runs from any directory.

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../site/pkg/"]
#[allow_missing = true]
struct Pkg;

#[derive(RustEmbed)]
#[folder = "../assets/"]
struct Assets;

/// Serves an embedded file with an ETag from its content hash: a browser revalidating its copy
/// (`no-cache`) gets `304 Not Modified` instead of the whole bundle again.
fn serve<E: RustEmbed>(path: &str, cache: &'static str, headers: &HeaderMap) -> Response {
    let Some(file) = E::get(path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let hash = file.metadata.sha256_hash();
    let etag = format!(
        "\"{}\"",
        hash[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let common = [
        (header::ETAG, etag),
        (header::CACHE_CONTROL, cache.to_owned()),
    ];
    if fresh {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    (
        common,
        [(header::CONTENT_TYPE, file.metadata.mimetype().to_owned())],
        file.data,
    )
        .into_response()
}

pub async fn get_pkg(Path(path): Path<String>, headers: HeaderMap) -> Response {
    serve::<Pkg>(&path, "no-cache", &headers)
}

pub async fn get_asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    serve::<Assets>(&path, "no-cache", &headers)
}

pub async fn get_favicon(headers: HeaderMap) -> Response {
    serve::<Assets>("favicon.svg", "max-age=86400", &headers)
}
