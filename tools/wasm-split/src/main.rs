//! Splits the browser bundle at its lazy-loaded functions (leptos' `#[lazy]` and
//! `#[lazy_route]`), with the splitter cargo-leptos uses (`wasm_split_cli_support`):
//!
//!     tollgate-wasm-split <frontend.wasm> <out-dir>
//!
//! The input is the wasm rustc linked with `--emit-relocs`, before wasm-bindgen. Written to
//! `<out-dir>`:
//! - `frontend_split.wasm`, the main module, for wasm-bindgen (`--keep-lld-exports`);
//! - `split_*.wasm` and `chunk_*.wasm`, the lazily loaded parts;
//! - `__wasm_split.js`, the loader the main module imports; it fetches parts relative to its
//!   own address and imports `./frontend.js`, so the bundle is served from one folder;
//! - `__wasm_split_manifest.json`: each split point's name → the parts it needs, which the
//!   server turns into preload links for the lazy pages it renders.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const MAIN: &str = "frontend_split.wasm";
const LOADER: &str = "./__wasm_split.js";
const MANIFEST: &str = "__wasm_split_manifest.json";

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [input, out_dir] = args.as_slice() else {
        eprintln!("usage: tollgate-wasm-split <frontend.wasm> <out-dir>");
        return ExitCode::from(2);
    };
    match split(input, out_dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tollgate-wasm-split: {e}");
            ExitCode::FAILURE
        }
    }
}

fn split(input: &Path, out_dir: &Path) -> Result<(), String> {
    let wasm = std::fs::read(input).map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    std::fs::create_dir_all(out_dir)
        .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    let main_out = out_dir.join(MAIN);
    let mut options = wasm_split_cli_support::Options::new(&wasm);
    options.output_dir = out_dir;
    options.main_out_path = &main_out;
    options.main_module = "./frontend.js";
    options.link_name = LOADER;
    let split = wasm_split_cli_support::transform(options).map_err(|e| {
        format!(
            "cannot split {} (was it linked with -Clink-args=--emit-relocs?): {e:#}",
            input.display()
        )
    })?;
    // Sorted, so an unchanged bundle gives a byte-identical manifest.
    let manifest: std::collections::BTreeMap<_, _> = split.prefetch_map.into_iter().collect();
    let json = serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())?;
    std::fs::write(out_dir.join(MANIFEST), json)
        .map_err(|e| format!("cannot write the manifest: {e}"))?;
    println!(
        "split {} into the main module and {} lazily loaded parts ({} split points)",
        input.display(),
        split.split_modules.len(),
        manifest.len()
    );
    Ok(())
}
