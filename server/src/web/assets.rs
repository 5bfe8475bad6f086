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

/// A short hex digest of a file's SHA-256, for ETags and content-hashed names.
fn short_hash(hash: &[u8; 32]) -> String {
    hash[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Where the bundle and stylesheet are served, with a content hash in the address so browsers
/// may keep them for a year (`immutable`); the pages link these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetNames {
    /// `pkg/<bundle id>`: the folder the whole bundle is served from (`frontend.js`,
    /// `frontend_bg.wasm`, and the lazily loaded parts with their loader, which find each
    /// other by relative address), or plain `pkg` without a bundle.
    pub pkg_dir: String,
    /// `/assets/tollgate.<hash>.css`.
    pub stylesheet: String,
    /// `/pkg/yaml-editor.<hash>.js`, the YAML editor page's script.
    pub editor: String,
}

impl AssetNames {
    /// The names of what this binary serves now.
    pub fn current() -> Self {
        let files = bundle();
        let pkg_dir = if check_bundle(&files).is_ok() {
            format!("pkg/{}", bundle_id(&files))
        } else {
            "pkg".to_owned()
        };
        let stylesheet = match Assets::get("tollgate.css") {
            Some(css) => format!(
                "/assets/tollgate.{}.css",
                short_hash(&css.metadata.sha256_hash())
            ),
            None => "/assets/tollgate.css".to_owned(),
        };
        let editor = match Pkg::get("yaml-editor.js") {
            Some(js) => format!(
                "/pkg/yaml-editor.{}.js",
                short_hash(&js.metadata.sha256_hash())
            ),
            None => "/pkg/yaml-editor.js".to_owned(),
        };
        Self {
            pkg_dir,
            stylesheet,
            editor,
        }
    }
}

/// The split points of the bundle and, for each, the file holding the parts it needs
/// (`__wasm_split_manifest.json`, written by tools/wasm-split: one bundle per split point),
/// for the preload link of a lazy page a response renders.
pub fn split_manifest() -> Option<std::collections::HashMap<String, Vec<String>>> {
    let file = Pkg::get("__wasm_split_manifest.json")?;
    match serde_json::from_slice(&file.data) {
        Ok(manifest) => Some(manifest),
        Err(e) => {
            tracing::warn!(error = %e, "the bundle's split manifest is unreadable: lazy pages load without preloads");
            None
        }
    }
}

/// The encodings a client accepts, best first, of those Tollgate stores precompressed.
fn accepted(headers: &HeaderMap) -> Vec<(&'static str, &'static str)> {
    let accept = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let takes = |name: &str| {
        accept.split(',').any(|part| {
            let mut it = part.split(';');
            let coding = it.next().unwrap_or("").trim();
            let refused = it.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            coding.eq_ignore_ascii_case(name) && !refused
        })
    };
    [("br", ".br"), ("gzip", ".gz")]
        .into_iter()
        .filter(|(name, _)| takes(name))
        .collect()
}

/// Serves an embedded file with an ETag from its content hash: a browser revalidating its copy
/// (`no-cache`) gets `304 Not Modified` instead of the whole file again. A precompressed copy
/// (`<path>.br`, `<path>.gz`) is served when the client accepts its encoding.
fn serve<E: RustEmbed>(path: &str, cache: &'static str, headers: &HeaderMap) -> Response {
    if path.ends_with(".br") || path.ends_with(".gz") {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    let Some(original) = E::get(path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let mime = original.metadata.mimetype().to_owned();
    let (file, encoding) = accepted(headers)
        .into_iter()
        .find_map(|(name, ext)| E::get(&format!("{path}{ext}")).map(|f| (f, Some(name))))
        .unwrap_or((original, None));
    let etag = format!(
        "\"{}{}\"",
        short_hash(&file.metadata.sha256_hash()),
        encoding.map(|e| format!("-{e}")).unwrap_or_default()
    );
    respond(file.data.into(), &mime, etag, encoding, cache, headers)
}

/// The response for a file: `304 Not Modified` when the client has it (`If-None-Match`).
fn respond(
    data: axum::body::Body,
    mime: &str,
    etag: String,
    encoding: Option<&'static str>,
    cache: &'static str,
    headers: &HeaderMap,
) -> Response {
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let common = [
        (header::ETAG, etag),
        (header::CACHE_CONTROL, cache.to_owned()),
        (header::VARY, "Accept-Encoding".to_owned()),
    ];
    if fresh {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    let mut response = (common, [(header::CONTENT_TYPE, mime.to_owned())], data).into_response();
    if let Some(encoding) = encoding {
        response.headers_mut().insert(
            header::CONTENT_ENCODING,
            axum::http::HeaderValue::from_static(encoding),
        );
    }
    response
}

/// What content-hashed names may be cached for: a year, never revalidated. Debug builds read
/// files from disk as they change, so they are always revalidated.
const IMMUTABLE: &str = if cfg!(debug_assertions) {
    "no-cache"
} else {
    "public, max-age=31536000, immutable"
};

/// The bundle file `path` names under its content-hashed folder (`<bundle id>/<file>`, the id
/// being this binary's); `None` for any other path.
fn hashed_pkg<'a>(path: &'a str, names: &AssetNames) -> Option<&'a str> {
    if format!("/pkg/{path}") == names.editor && names.editor != "/pkg/yaml-editor.js" {
        return Some("yaml-editor.js");
    }
    let id = names.pkg_dir.strip_prefix("pkg/")?;
    let file = path.strip_prefix(id)?.strip_prefix('/')?;
    (!file.is_empty() && !file.contains('/')).then_some(file)
}

pub async fn get_pkg(Path(path): Path<String>, headers: HeaderMap) -> Response {
    static NAMES: std::sync::OnceLock<AssetNames> = std::sync::OnceLock::new();
    let names = NAMES.get_or_init(AssetNames::current);
    match hashed_pkg(&path, names) {
        Some(file) => serve::<Pkg>(file, IMMUTABLE, &headers),
        None => serve::<Pkg>(&path, "no-cache", &headers),
    }
}

pub async fn get_asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    // `tollgate.<hash>.css`: the stylesheet under its content-hashed name.
    if let Some(hash) = path
        .strip_prefix("tollgate.")
        .and_then(|p| p.strip_suffix(".css"))
        && hash.len() == 16
        && hash.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return serve_stylesheet(IMMUTABLE, &headers);
    }
    if path == "tollgate.css" {
        return serve_stylesheet("no-cache", &headers);
    }
    serve::<Assets>(&path, "no-cache", &headers)
}

/// The stylesheet and its brotli (quality 11) and gzip (level 9) copies, made once per content
/// (a debug build reads the file from disk as it is edited). The bundle's files are compressed
/// when it is built; the stylesheet is edited in place, so it is compressed here, once.
fn stylesheet_copies() -> Option<std::sync::Arc<StylesheetCopies>> {
    use std::io::Write;
    static COPIES: std::sync::Mutex<Option<std::sync::Arc<StylesheetCopies>>> =
        std::sync::Mutex::new(None);
    let file = Assets::get("tollgate.css")?;
    let hash = file.metadata.sha256_hash();
    let mut copies = COPIES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(done) = copies.as_ref().filter(|c| c.hash == hash) {
        return Some(done.clone());
    }
    let mut br = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        size_hint: file.data.len(),
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &file.data[..], &mut br, &params).ok()?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&file.data).ok()?;
    let made = std::sync::Arc::new(StylesheetCopies {
        hash,
        plain: file.data.into_owned().into(),
        br: br.into(),
        gz: gz.finish().ok()?.into(),
    });
    *copies = Some(made.clone());
    Some(made)
}

struct StylesheetCopies {
    hash: [u8; 32],
    plain: axum::body::Bytes,
    br: axum::body::Bytes,
    gz: axum::body::Bytes,
}

/// [`serve`] for the stylesheet, from its compressed copies.
fn serve_stylesheet(cache: &'static str, headers: &HeaderMap) -> Response {
    let Some(copies) = stylesheet_copies() else {
        return serve::<Assets>("tollgate.css", cache, headers);
    };
    let (data, encoding) = accepted(headers)
        .into_iter()
        .find_map(|(name, _)| match name {
            "br" => Some((copies.br.clone(), Some(name))),
            "gzip" => Some((copies.gz.clone(), Some(name))),
            _ => None,
        })
        .unwrap_or((copies.plain.clone(), None));
    let etag = format!(
        "\"{}{}\"",
        short_hash(&copies.hash),
        encoding.map(|e| format!("-{e}")).unwrap_or_default()
    );
    respond(data.into(), "text/css", etag, encoding, cache, headers)
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

    #[tokio::test]
    async fn the_stylesheet_is_served_compressed_at_its_best() {
        let plain = Assets::get("tollgate.css")
            .expect("the stylesheet")
            .data
            .to_vec();
        let ask = |accept: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_ENCODING, accept.parse().unwrap());
            serve_stylesheet(IMMUTABLE, &headers)
        };
        let body = |r: Response| async move {
            axum::body::to_bytes(r.into_body(), usize::MAX)
                .await
                .unwrap()
                .to_vec()
        };

        let br = ask("gzip, deflate, br, zstd");
        assert_eq!(br.headers()[header::CONTENT_ENCODING], "br");
        assert_eq!(br.headers()[header::CONTENT_TYPE], "text/css");
        let etag = br.headers()[header::ETAG].to_str().unwrap().to_owned();
        let compressed = body(br).await;
        let mut unpacked = Vec::new();
        brotli::BrotliDecompress(&mut &compressed[..], &mut unpacked).unwrap();
        assert_eq!(unpacked, plain);
        assert!(
            compressed.len() * 4 < plain.len(),
            "quality 11: {} bytes",
            compressed.len()
        );

        let gz = ask("gzip");
        assert_eq!(gz.headers()[header::CONTENT_ENCODING], "gzip");
        let mut unpacked = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(&body(gz).await[..]),
            &mut unpacked,
        )
        .unwrap();
        assert_eq!(unpacked, plain);

        let identity = ask("identity");
        assert!(identity.headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(body(identity).await, plain);

        let mut again = HeaderMap::new();
        again.insert(header::ACCEPT_ENCODING, "br".parse().unwrap());
        again.insert(header::IF_NONE_MATCH, etag.parse().unwrap());
        assert_eq!(
            serve_stylesheet(IMMUTABLE, &again).status(),
            StatusCode::NOT_MODIFIED
        );
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
    fn hashed_bundle_names_map_to_the_files_and_nothing_else() {
        let names = AssetNames {
            pkg_dir: "pkg/0123456789abcdef".into(),
            stylesheet: "/assets/tollgate.0011223344556677.css".into(),
            editor: "/pkg/yaml-editor.8899aabbccddeeff.js".into(),
        };
        assert_eq!(
            hashed_pkg("yaml-editor.8899aabbccddeeff.js", &names),
            Some("yaml-editor.js")
        );
        assert_eq!(hashed_pkg("yaml-editor.0000000000000000.js", &names), None);
        for file in [
            "frontend.js",
            "frontend_bg.wasm",
            "__wasm_split.js",
            "split___ApiEdit_View_1.wasm",
            "chunk_3.wasm",
        ] {
            assert_eq!(
                hashed_pkg(&format!("0123456789abcdef/{file}"), &names),
                Some(file)
            );
        }
        assert_eq!(hashed_pkg("ffffffffffffffff/frontend.js", &names), None);
        assert_eq!(hashed_pkg("0123456789abcdef/", &names), None);
        assert_eq!(hashed_pkg("0123456789abcdef/a/frontend.js", &names), None);
        assert_eq!(hashed_pkg("0123456789abcdeffrontend.js", &names), None);
        assert_eq!(hashed_pkg("frontend.js", &names), None);
        let unbundled = AssetNames {
            pkg_dir: "pkg".into(),
            ..names
        };
        assert_eq!(hashed_pkg("0123456789abcdef/frontend.js", &unbundled), None);
    }

    #[test]
    fn encodings_follow_accept_encoding() {
        let mut h = HeaderMap::new();
        assert!(accepted(&h).is_empty());
        h.insert(
            header::ACCEPT_ENCODING,
            "gzip, deflate, br".parse().unwrap(),
        );
        assert_eq!(accepted(&h), [("br", ".br"), ("gzip", ".gz")]);
        h.insert(header::ACCEPT_ENCODING, "br;q=0, gzip".parse().unwrap());
        assert_eq!(accepted(&h), [("gzip", ".gz")]);
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
