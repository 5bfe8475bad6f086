//! Tracks the browser bundle (`site/pkg/`) that release builds embed.
//!
//! rust-embed embeds each file with `include_bytes!`, so cargo already rebuilds when an
//! embedded file changes; it cannot see a file or the folder *appear*, so a release binary
//! built before the bundle existed would keep an empty bundle for ever. Watching the folder
//! (recursively, and while it is missing) closes that gap. Debug builds read the folder at run
//! time and watch nothing, so rebuilding the bundle never recompiles them.

use std::path::PathBuf;

/// The files a browser needs to hydrate the pages (`web::assets::BUNDLE_FILES`).
const BUNDLE_FILES: [&str; 2] = ["frontend_bg.wasm", "frontend.js"];

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    // rust-embed embeds only without debug assertions; the same cfg decides here.
    if std::env::var_os("CARGO_CFG_DEBUG_ASSERTIONS").is_some() {
        return;
    }
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let pkg = manifest_dir.join("../site/pkg");
    // A missing path makes cargo run this script on every build, until the folder exists.
    println!("cargo::rerun-if-changed={}", pkg.display());
    let missing: Vec<&str> = BUNDLE_FILES
        .into_iter()
        .filter(|f| !pkg.join(f).is_file())
        .collect();
    if !missing.is_empty() {
        println!(
            "cargo::warning=no browser bundle in {} (missing {}): this binary will refuse to \
             start without --allow-missing-bundle; build it with ./scripts/release",
            pkg.display(),
            missing.join(", ")
        );
    }
}
