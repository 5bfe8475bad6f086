//! Splits the browser bundle at its lazy-loaded functions (leptos' `#[lazy]` and
//! `#[lazy_route]`), with the splitter cargo-leptos uses (`wasm_split_cli_support`), and packs
//! each split point's parts into one file for a page's first load:
//!
//!     tollgate-wasm-split <frontend.wasm> <out-dir>
//!     tollgate-wasm-split --bundle <out-dir>
//!
//! The first form takes the wasm rustc linked with `--emit-relocs`, before wasm-bindgen, and
//! writes to `<out-dir>`:
//! - `frontend_split.wasm`, the main module, for wasm-bindgen (`--keep-lld-exports`);
//! - `split_*.wasm` and `chunk_*.wasm`, the lazily loaded parts;
//! - `__wasm_split.js`, the loader the main module imports; it fetches parts relative to its
//!   own address and imports `./frontend.js`, so the bundle is served from one folder;
//! - `__wasm_split_parts.json`: each split point's name → the parts it needs.
//!
//! The second form runs once the parts are optimised (wasm-opt). For each split point it writes
//! `bundle_<split point>.wasm`, a wasm module holding nothing but the split point's parts, one
//! custom section each, and `__wasm_split_manifest.json`, each split point → its bundle, which
//! the server turns into the preload link of a lazy page it renders.
//!
//! Why bundles: the splitter cuts one part per set of split points sharing code, so a form
//! page needs some forty parts. Compressed one by one they come to about a third more bytes
//! than compressed together, plus forty requests. On a page's first load the loader takes the
//! parts from the bundle the page preloads (one request, one compressed stream); a part no
//! preloaded bundle holds, as on a page reached later by navigation, is fetched alone, so a
//! part already loaded is never fetched again.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const MAIN: &str = "frontend_split.wasm";
const LOADER: &str = "./__wasm_split.js";
const MANIFEST: &str = "__wasm_split_manifest.json";
const PARTS: &str = "__wasm_split_parts.json";

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let done = match args.as_slice() {
        [flag, dir] if flag.as_os_str() == "--bundle" => bundle(dir),
        [input, out_dir] => split(input, out_dir),
        _ => {
            eprintln!(
                "usage: tollgate-wasm-split <frontend.wasm> <out-dir>\n       tollgate-wasm-split --bundle <out-dir>"
            );
            return ExitCode::from(2);
        }
    };
    match done {
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
    let manifest: Parts = split.prefetch_map.into_iter().collect();
    let json = serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())?;
    std::fs::write(out_dir.join(PARTS), json)
        .map_err(|e| format!("cannot write the list of parts: {e}"))?;
    let loader = out_dir.join(LOADER.trim_start_matches("./"));
    let js = std::fs::read_to_string(&loader)
        .map_err(|e| format!("cannot read {}: {e}", loader.display()))?;
    let js = load_from_bundles(&js, &manifest)?;
    std::fs::write(&loader, js).map_err(|e| format!("cannot write {}: {e}", loader.display()))?;
    println!(
        "split {} into the main module and {} lazily loaded parts ({} split points)",
        input.display(),
        split.split_modules.len(),
        manifest.len()
    );
    Ok(())
}

/// Each split point → the parts it needs (file stems: `chunk_3`, `split_api_form_…`).
type Parts = BTreeMap<String, Vec<String>>;

fn bundle_name(split_point: &str) -> String {
    format!("bundle_{split_point}")
}

/// Writes each split point's bundle and the manifest naming them (see the module's notes).
fn bundle(dir: &Path) -> Result<(), String> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let parts: Parts = serde_json::from_slice(&read(PARTS)?)
        .map_err(|e| format!("{PARTS} is not a list of parts: {e}"))?;
    let mut manifest = Parts::new();
    for (split_point, needed) in &parts {
        let mut sections = Vec::with_capacity(needed.len());
        for part in needed {
            sections.push((part.as_str(), read(&format!("{part}.wasm"))?));
        }
        let name = bundle_name(split_point);
        let path = dir.join(format!("{name}.wasm"));
        std::fs::write(&path, custom_sections(&sections))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        manifest.insert(split_point.clone(), vec![name]);
    }
    let json = serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())?;
    std::fs::write(dir.join(MANIFEST), json)
        .map_err(|e| format!("cannot write the manifest: {e}"))?;
    println!(
        "packed the parts of {} split points into one bundle each",
        parts.len()
    );
    Ok(())
}

/// A wasm module of nothing but custom sections, `(name, contents)` each: what the browser's
/// `WebAssembly.Module.customSections` reads back.
fn custom_sections(sections: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = b"\0asm\x01\0\0\0".to_vec();
    for (name, contents) in sections {
        let mut body = Vec::with_capacity(name.len() + contents.len() + 5);
        leb128(&mut body, name.len());
        body.extend_from_slice(name.as_bytes());
        body.extend_from_slice(contents);
        out.push(0);
        leb128(&mut out, body.len());
        out.extend_from_slice(&body);
    }
    out
}

fn leb128(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// What the splitter's loader does to fetch and instantiate one part (wasm_split_cli_support
/// 0.2.4, pinned): the three lines after `const src = fetch(new URL("./`.
const FETCH_PART: [&str; 3] = [
    "const src = fetch(new URL(\"./",
    "src.catch(() => {});",
    "return async (imports) => (WebAssembly.instantiateStreaming(src, imports));",
];

/// How the splitter's loader starts the loader of a split point, around its name; the
/// statement ends with the split point's dependencies: `, [__chunk_1, __chunk_2]));`.
const SPLIT_EXPORT: [&str; 2] = [
    "export const __wasm_split_load_",
    " = wrapAsyncCb(makeLoad(() => {",
];

/// Loads the parts through [`PART_FROM_BUNDLE`]: every part the splitter's loader fetches
/// alone is asked of `__part(name)` instead, and the loader of each split point is wrapped in
/// `__inGroup(name, parts, ..)`. Fails when the loader does not read as the pinned splitter
/// writes it, or when a part of `parts` is never loaded, rather than ship a loader that
/// ignores the bundles.
fn load_from_bundles(js: &str, parts: &Parts) -> Result<String, String> {
    // First every fetch of a part, then every split point's loader.
    let mut fetches = Vec::new();
    let mut rewritten = BTreeSet::new();
    let mut lines = js.lines();
    while let Some(line) = lines.next() {
        let code = line.trim_start();
        let Some(rest) = code.strip_prefix(FETCH_PART[0]) else {
            fetches.push(line.to_owned());
            continue;
        };
        let name = rest
            .split_once(".wasm\"")
            .map(|(name, _)| name)
            .filter(|name| !name.is_empty() && !name.contains(['"', '\\', '/']))
            .ok_or_else(|| format!("the loader fetches a part in an unknown way: {line}"))?;
        for expected in &FETCH_PART[1..] {
            if lines.next().map(str::trim) != Some(*expected) {
                return Err(format!(
                    "the loader's fetch of {name} is not followed by `{expected}`"
                ));
            }
        }
        let indent = &line[..line.len() - code.len()];
        fetches.push(format!("{indent}return __part(\"{name}\");"));
        rewritten.insert(name.to_owned());
    }
    if let Some(missing) = parts.values().flatten().find(|p| !rewritten.contains(*p)) {
        return Err(format!("the loader never fetches the part {missing}"));
    }

    let mut out = String::with_capacity(js.len() + PART_FROM_BUNDLE.len());
    let mut helper_added = false;
    let mut wrapped = BTreeSet::new();
    let mut open: Option<&str> = None;
    for line in &fetches {
        let code = line.trim();
        if let Some(name) = code
            .strip_prefix(SPLIT_EXPORT[0])
            .and_then(|rest| rest.strip_suffix(SPLIT_EXPORT[1]))
        {
            let needed = parts.get(name).ok_or_else(|| {
                format!("the loader loads a split point {name} the splitter did not list")
            })?;
            out.push_str(&format!(
                "export const __wasm_split_load_{name} = __inGroup(\"{name}\", {}, wrapAsyncCb(makeLoad(() => {{\n",
                needed.len()
            ));
            open = Some(name);
            continue;
        }
        if let Some(name) = open
            && let Some(deps) = code
                .strip_prefix(", [")
                .and_then(|d| d.strip_suffix("]));"))
        {
            out.push_str(&format!(", [{deps}])));\n"));
            wrapped.insert(name);
            open = None;
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if !helper_added && code.starts_with("import ") {
            out.push_str(PART_FROM_BUNDLE);
            helper_added = true;
        }
    }
    if !helper_added {
        return Err("the loader imports nothing: not the splitter's loader".into());
    }
    if let Some(name) = parts.keys().find(|k| !wrapped.contains(k.as_str())) {
        return Err(format!(
            "the loader of the split point {name} is not where it was expected"
        ));
    }
    Ok(out)
}

/// `__part(name)`: how a part is fetched.
/// - On a page that preloads bundles (the server adds the link to a lazy page it renders):
///   from the bundle that holds the part.
/// - Else, as a split point loads (`__inGroup` says which, and how many parts it needs; the
///   loader asks for every part not loaded yet at once): from the split point's bundle when
///   more than half of its parts are missing, as when the APIs list opens its first form; else
///   alone, so parts already loaded are not fetched again.
/// - Alone also when a bundle cannot be loaded.
const PART_FROM_BUNDLE: &str = r#"
const __opened = new Map();
function __open(url) {
    let module = __opened.get(url.href);
    if (module === undefined) {
        module = fetch(url)
            .then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(new Error(`HTTP ${r.status}`))))
            .then((bytes) => WebAssembly.compile(bytes));
        module.catch((e) => console.warn(`${url} did not load (${e}): its parts are fetched alone`));
        __opened.set(url.href, module);
    }
    return module;
}
let __preloaded;
function __preloadedBundles() {
    __preloaded ??= [...document.querySelectorAll('link[rel="preload"][href*="/bundle_"][href$=".wasm"]')]
        .map((link) => __open(new URL(link.href)));
    return __preloaded;
}
let __group;
function __inGroup(name, parts, load) {
    return (...args) => {
        __group = { name, parts, missing: [] };
        try {
            return load(...args);
        } finally {
            __group = undefined;
        }
    };
}
function __alone(name) {
    const src = fetch(new URL(`./${name}.wasm`, import.meta.url));
    src.catch(() => {});
    return (imports) => WebAssembly.instantiateStreaming(src, imports);
}
async function __find(bundles, name) {
    for (const bundle of bundles) {
        const module = await bundle.catch(() => undefined);
        const [bytes] = module ? WebAssembly.Module.customSections(module, name) : [];
        if (bytes) return bytes;
    }
    return undefined;
}
function __part(name) {
    let bundles;
    if (__preloadedBundles().length > 0) {
        bundles = Promise.resolve(__preloaded);
    } else if (__group !== undefined) {
        const group = __group;
        group.missing.push(name);
        group.bundles ??= Promise.resolve().then(() => (group.missing.length * 2 > group.parts
            ? [__open(new URL(`./bundle_${group.name}.wasm`, import.meta.url))]
            : []));
        bundles = group.bundles;
    } else {
        return __alone(name);
    }
    // A part no bundle holds starts loading as soon as that is known, beside its dependencies.
    const found = bundles.then((list) => __find(list, name));
    const alone = found.then((bytes) => (bytes ? undefined : __alone(name)));
    return async (imports) => {
        const load = await alone;
        return load ? load(imports) : WebAssembly.instantiate(await found, imports);
    };
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    const LOADER_JS: &str = r#"import { initSync } from "./frontend.js";

function makeLoad(fetcher, deps) { return fetcher; }
const __chunk_1 = makeLoad(() => {
    const src = fetch(new URL("./chunk_1.wasm", import.meta.url));
    src.catch(() => {});
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, []);
export const __wasm_split_load_form_1 = wrapAsyncCb(makeLoad(() => {
    const src = fetch(new URL("./split_form_1.wasm", import.meta.url));
    src.catch(() => {});
    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
}
, [__chunk_1]));
"#;

    fn parts() -> Parts {
        Parts::from([(
            "form_1".into(),
            vec!["chunk_1".into(), "split_form_1".into()],
        )])
    }

    #[test]
    fn every_part_is_asked_of_the_bundles() {
        let js = load_from_bundles(LOADER_JS, &parts()).unwrap();
        assert!(!js.contains("instantiateStreaming(src, imports))"), "{js}");
        assert!(
            js.contains("    return __part(\"chunk_1\");\n}\n, []);"),
            "{js}"
        );
        assert!(js.contains("return __part(\"split_form_1\");"), "{js}");
        // The helper comes after the import, which must stay first.
        assert!(js.starts_with(
            "import { initSync } from \"./frontend.js\";\n\nconst __opened = new Map();\n"
        ));
    }

    #[test]
    fn a_loader_not_written_as_expected_is_refused() {
        let changed = LOADER_JS.replace("src.catch(() => {});", "src.catch(console.error);");
        let err = load_from_bundles(&changed, &parts()).unwrap_err();
        assert!(err.contains("chunk_1 is not followed by"), "{err}");
        let mut more = parts();
        more.get_mut("form_1").unwrap().push("chunk_9".into());
        let err = load_from_bundles(LOADER_JS, &more).unwrap_err();
        assert_eq!(err, "the loader never fetches the part chunk_9");
        let unended = LOADER_JS.replace(", [__chunk_1]));", ", [__chunk_1]);");
        let err = load_from_bundles(&unended, &parts()).unwrap_err();
        assert_eq!(
            err,
            "the loader of the split point form_1 is not where it was expected"
        );
    }

    #[test]
    fn a_bundle_is_a_wasm_module_of_custom_sections() {
        let big = vec![7u8; 200];
        let wasm = custom_sections(&[("a", vec![1, 2]), ("chunk_12", big.clone())]);
        assert_eq!(&wasm[..8], b"\0asm\x01\0\0\0");
        // Section 0, size 4: name "a", then its contents.
        assert_eq!(&wasm[8..14], &[0, 4, 1, b'a', 1, 2]);
        // Size 209 = 1 + 8 + 200, as LEB128 (0xd1 0x01).
        assert_eq!(&wasm[14..17], &[0, 0xd1, 0x01]);
        assert_eq!(&wasm[17..26], b"\x08chunk_12");
        assert_eq!(&wasm[26..], &big[..]);
    }
}
