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

/// The files a browser needs to hydrate the pages; without them pages render but stay inert.
pub const BUNDLE_FILES: [&str; 2] = ["frontend_bg.wasm", "frontend.js"];

/// One file of the browser bundle this binary serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleFile {
    pub name: String,
    pub bytes: usize,
    pub sha256: [u8; 32],
}

/// The browser bundle this binary serves: embedded in release builds, read from `site/pkg/`
/// at run time in debug builds.
pub fn bundle() -> Vec<BundleFile> {
    let mut files: Vec<BundleFile> = Pkg::iter()
        .filter_map(|name| {
            let file = Pkg::get(&name)?;
            Some(BundleFile {
                name: name.into_owned(),
                bytes: file.data.len(),
                sha256: file.metadata.sha256_hash(),
            })
        })
        .collect();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    files
}

/// A binary without its browser bundle: pages would render but never hydrate.
#[derive(Debug, thiserror::Error)]
#[error(
    "this tollgate binary has no browser bundle (missing {missing}): pages would render but \
     never hydrate. {how} To start anyway, pass --allow-missing-bundle or set \
     server.allow_missing_bundle = true.",
    missing = .missing.join(", ")
)]
pub struct MissingBundle {
    pub missing: Vec<&'static str>,
    how: &'static str,
}

/// Checks that `files` hold the whole bundle ([`BUNDLE_FILES`]), and names what is missing.
pub fn check_bundle(files: &[BundleFile]) -> Result<(), MissingBundle> {
    let missing: Vec<&'static str> = BUNDLE_FILES
        .into_iter()
        .filter(|name| !files.iter().any(|f| f.name == *name && f.bytes > 0))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let how = if cfg!(debug_assertions) {
        "This debug build reads site/pkg/ at run time: build the bundle there with \
         `bash -c 'source scripts/lib.sh && build_wasm'`, or build a standalone binary with \
         `./scripts/release`."
    } else {
        "Build the standalone binary, bundle included, with `./scripts/release`."
    };
    Err(MissingBundle { missing, how })
}

/// A short id of the bundle: FNV-1a (64 bits) over each file's name and SHA-256, printed by
/// `tollgate check-bundle` and at start to tell which bundle a binary has.
pub fn bundle_id(files: &[BundleFile]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for f in files {
        for b in f.name.bytes().chain([0]).chain(f.sha256) {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, bytes: usize) -> BundleFile {
        BundleFile {
            name: name.into(),
            bytes,
            sha256: [bytes as u8; 32],
        }
    }

    #[test]
    fn a_whole_bundle_passes_the_check() {
        let files = [file("frontend.js", 10), file("frontend_bg.wasm", 20)];
        assert!(check_bundle(&files).is_ok());
    }

    #[test]
    fn a_missing_or_empty_file_is_named_with_the_command_that_builds_it() {
        let err = check_bundle(&[]).unwrap_err();
        assert_eq!(err.missing, ["frontend_bg.wasm", "frontend.js"]);
        let text = err.to_string();
        assert!(
            text.contains("missing frontend_bg.wasm, frontend.js")
                && text.contains("./scripts/release")
                && text.contains("--allow-missing-bundle")
                && text.contains("server.allow_missing_bundle"),
            "{text}"
        );
        let err =
            check_bundle(&[file("frontend.js", 10), file("frontend_bg.wasm", 0)]).unwrap_err();
        assert_eq!(err.missing, ["frontend_bg.wasm"]);
    }

    #[test]
    fn the_bundle_id_follows_the_content() {
        let a = [file("frontend.js", 10), file("frontend_bg.wasm", 20)];
        let b = [file("frontend.js", 10), file("frontend_bg.wasm", 21)];
        assert_eq!(bundle_id(&a), bundle_id(&a.clone()));
        assert_ne!(bundle_id(&a), bundle_id(&b));
        assert_eq!(bundle_id(&a).len(), 16);
    }
}
