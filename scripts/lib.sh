#!/usr/bin/env bash
# Shared setup for the README commands. Every step is idempotent: safe to run twice.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
WASM_BINDGEN_VERSION="0.2.130"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# The wasm target and a wasm-bindgen CLI matching the pinned library version. Both come from
# the Rust and crates.io registries; cargo-leptos is not used, so nothing is downloaded from
# GitHub.
setup_rust() {
    if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
        say "Adding the wasm32-unknown-unknown target"
        rustup target add wasm32-unknown-unknown
    fi
    if ! grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | grep -q "\"$WASM_BINDGEN_VERSION\""; then
        echo "Cargo.lock must pin wasm-bindgen $WASM_BINDGEN_VERSION (the CLI version below)" >&2
        exit 1
    fi
    if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
        say "Installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
        # No --locked: its lockfile pins a crate missing from the registry index.
        cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
    fi
}

# npm packages: binaryen (wasm-opt >= 116; Debian's is too old), esbuild, CodeMirror and yaml
# (the YAML editor's bundle), playwright-core and axe-core (the accessibility checks of the
# browser tests), oidc-provider and jose (the OpenID provider of the sign-in tests).
setup_npm() {
    if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -d node_modules/playwright-core ] \
        || [ ! -f node_modules/axe-core/axe.min.js ] || [ ! -x node_modules/.bin/esbuild ] \
        || [ ! -d node_modules/@codemirror/merge ] || [ ! -d node_modules/yaml ] \
        || [ ! -d node_modules/oidc-provider ]; then
        say "Installing npm packages"
        npm ci --no-audit --no-fund
    fi
}

# Builds the hydration bundle into site/pkg: wasm (size-optimised profile) split at its lazy
# pages, JS glue, wasm-opt, the parts of each lazy page packed into one bundle for its first
# load (see tools/wasm-split), precompressed copies.
#
# The pages marked `#[lazy_route]` (forms, YAML editor, change page, charts...) are split out
# of the main module with the splitter cargo-leptos uses (tools/wasm-split), so the lists and
# the status board load only what they need. The splitter needs the linker's relocations
# (--emit-relocs, set for the wasm target in .cargo/config.toml); wasm-bindgen then keeps the
# linker's exports the parts link against.
build_wasm() {
    say "Building the browser bundle (wasm, split at its lazy pages)"
    cargo build -p frontend --lib --target wasm32-unknown-unknown --no-default-features \
        --features hydrate --profile wasm-release
    cargo build -p tollgate-wasm-split --release --quiet
    local out="$CARGO_TARGET_DIR/site-pkg" split="$CARGO_TARGET_DIR/site-split" f
    rm -rf "$out" "$split"
    mkdir -p "$out" site/pkg
    "$CARGO_TARGET_DIR/release/tollgate-wasm-split" \
        "$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/frontend.wasm" "$split"
    wasm-bindgen --target web --keep-lld-exports --no-demangle --out-name frontend \
        --out-dir "$out" --no-typescript "$split/frontend_split.wasm"
    cp "$split"/split_*.wasm "$split"/__wasm_split.js "$split"/__wasm_split_parts.json "$out"/
    cp "$split"/chunk_*.wasm "$out"/ 2>/dev/null || true
    # The JS glue and the parts' loader, minified (their exports keep their names).
    for f in "$out"/frontend.js "$out"/__wasm_split.js; do
        node_modules/.bin/esbuild "$f" --minify --format=esm --target=es2020 --log-level=warning \
            --log-override:duplicate-object-key=silent --allow-overwrite --outfile="$f"
    done
    # Every part optimised for size, as many at once as there are cores. wasm-opt's notes on
    # the parts' name sections (a subsection it does not know) are dropped; its errors are not.
    printf '%s\0' "$out"/*.wasm | xargs -0 -n 1 -P "$(nproc)" sh -c '
        said=$(node_modules/.bin/wasm-opt -Oz --enable-bulk-memory \
            --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
            "$0" -o "$0" 2>&1) || { echo "wasm-opt $0: $said" >&2; exit 255; }
        printf "%s\n" "$said" | grep -v -e "unknown name subsection" -e "^$" >&2 || true'
    # Each split point's parts packed into one file, which a lazy page's first load fetches.
    "$CARGO_TARGET_DIR/release/tollgate-wasm-split" --bundle "$out"

    # Precompressed copies (brotli, gzip) for clients that accept them: the server sends these
    # instead of compressing the bundle on every request.
    compress "$out"/*.wasm "$out"/*.js
    # Only changed files are replaced: a release build embeds site/pkg and is rebuilt when a
    # file in it is touched (server/build.rs), so an unchanged bundle costs no rebuild. Parts a
    # new build no longer has are removed.
    for f in site/pkg/*; do
        case "${f##*/}" in yaml-editor.js*) continue ;; esac
        [ -e "$out/${f##*/}" ] || rm -rf "$f"
    done
    for f in "$out"/*; do
        if [ -d "$f" ]; then
            rm -rf "site/pkg/${f##*/}" && cp -r "$f" site/pkg/
        elif ! cmp -s "$f" "site/pkg/${f##*/}"; then
            cp "$f" site/pkg/
        fi
    done
    build_editor
}

# Bundles the YAML editor (CodeMirror 6 and the `yaml` parser, from npm) into
# site/pkg/yaml-editor.js with esbuild, plus precompressed copies. Only the YAML editor page
# loads it.
build_editor() {
    say "Building the YAML editor (CodeMirror)"
    local out="$CARGO_TARGET_DIR/site-editor" f
    rm -rf "$out"
    mkdir -p "$out" site/pkg
    node_modules/.bin/esbuild frontend/js/yaml-editor.js --bundle --minify --format=esm \
        --target=es2020 --legal-comments=none --log-level=warning --outfile="$out/yaml-editor.js"
    compress "$out/yaml-editor.js"
    for f in "$out"/*; do
        cmp -s "$f" "site/pkg/${f##*/}" || cp "$f" site/pkg/
    done
}

# Writes brotli (quality 11) and gzip (level 9) copies of each file beside it.
compress() {
    node -e '
        const fs = require("fs"), zlib = require("zlib");
        for (const f of process.argv.slice(1)) {
            const data = fs.readFileSync(f);
            fs.writeFileSync(f + ".br", zlib.brotliCompressSync(data, { params: {
                [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
                [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length } }));
            fs.writeFileSync(f + ".gz", zlib.gzipSync(data, { level: 9 }));
        }' "$@"
}

# Lists the bundle's files with their sizes: raw, brotli, gzip. What each page loads of them is
# measured in the browser by tests/browser/payload.mjs.
payload_report() {
    local f
    for f in site/pkg/*.wasm site/pkg/*.js; do
        [ -f "$f.br" ] || continue
        echo "bundle ${f##*/}: $(wc -c < "$f") bytes, brotli $(wc -c < "$f.br"), gzip $(wc -c < "$f.gz")"
    done
}

# Debian's Chromium for the browser tests (never a downloaded browser).
setup_chromium() {
    if [ ! -x /usr/bin/chromium ]; then
        say "Installing Chromium from Debian"
        local sudo=""
        [ "$(id -u)" = 0 ] || sudo="sudo"
        $sudo apt-get update -q
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium
    fi
}
