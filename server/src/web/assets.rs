//! Static files: the wasm bundle (`/pkg`) and the stylesheet and icons (`/assets`), embedded
//! in release builds so the binary runs from any directory.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../site/pkg/"]
#[allow_missing = true]
struct Pkg;

#[derive(RustEmbed)]
#[folder = "../assets/"]
struct Assets;

fn serve<E: RustEmbed>(path: &str, cache: &'static str) -> Response {
    match E::get(path) {
        Some(file) => (
            [
                (header::CONTENT_TYPE, file.metadata.mimetype().to_owned()),
                (header::CACHE_CONTROL, cache.to_owned()),
            ],
            file.data,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

pub async fn get_pkg(Path(path): Path<String>) -> Response {
    serve::<Pkg>(&path, "no-cache")
}

pub async fn get_asset(Path(path): Path<String>) -> Response {
    serve::<Assets>(&path, "no-cache")
}

pub async fn get_favicon() -> Response {
    serve::<Assets>("favicon.svg", "max-age=86400")
}
