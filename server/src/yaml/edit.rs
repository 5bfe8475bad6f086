//! Format-preserving edits of one YAML document.
//!
//! The edit is computed as the difference between the document as read and the document as
//! wanted, then applied to the text as small splices at exact locations found with yamlpath
//! (a tree-sitter syntax tree): a changed scalar keeps its quoting style and its line, a new key
//! goes after the last line of its mapping at the mapping's indentation, comments and the rest
//! of the text stay byte for byte. Every result is parsed again and compared with the wanted
//! document; an edit that cannot be made faithfully is refused, never approximated.

use serde_json::Value;
use yamlpath::{Component, Document, Route};

/// Why an edit was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("{path}: cannot be edited in place ({reason})")]
    Unsupported { path: String, reason: String },
    #[error(
        "the edited text would not read back as the intended document ({0}); nothing was changed"
    )]
    Unfaithful(String),
    #[error("the file mixes CRLF and LF line endings; edit it by hand first")]
    MixedLineEndings,
    #[error("the document is nested too deeply to edit")]
    TooDeep,
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

fn path_text(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    if out.is_empty() {
        "(document)".into()
    } else {
        out
    }
}

/// A change to make to the text.
#[derive(Debug, Clone, PartialEq)]
enum Op {
    Replace(Vec<Seg>, Value),
    Add(Vec<Seg>, String, Value),
    Remove(Vec<Seg>),
    Append(Vec<Seg>, Vec<Value>),
}

/// The smallest set of operations turning `old` into `new`.
fn diff(old: &Value, new: &Value, path: &mut Vec<Seg>, out: &mut Vec<Op>) {
    if same(old, new) {
        return;
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) if !a.is_empty() => {
            for (k, va) in a {
                path.push(Seg::Key(k.clone()));
                match b.get(k) {
                    Some(vb) => diff(va, vb, path, out),
                    None => out.push(Op::Remove(path.clone())),
                }
                path.pop();
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    out.push(Op::Add(path.clone(), k.clone(), vb.clone()));
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if !a.is_empty() && a.len() == b.len() => {
            for (i, (va, vb)) in a.iter().zip(b).enumerate() {
                path.push(Seg::Index(i));
                diff(va, vb, path, out);
                path.pop();
            }
        }
        (Value::Array(a), Value::Array(b))
            if !a.is_empty() && b.len() > a.len() && a.iter().zip(b).all(|(x, y)| same(x, y)) =>
        {
            out.push(Op::Append(path.clone(), b[a.len()..].to_vec()));
        }
        _ => out.push(Op::Replace(path.clone(), new.clone())),
    }
}

/// Data equality with numbers compared by value (`1000` equals `1000.0`).
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
                (Some(p), Some(q), _, _) => p == q,
                (_, _, Some(p), Some(q)) => p == q,
                _ => x.as_f64() == y.as_f64(),
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Rewrites `text` (one document, as read into `old`) so it reads as `new`.
pub fn edit_document(text: &str, old: &Value, new: &Value) -> Result<String, EditError> {
    if same(old, new) {
        return Ok(text.to_owned());
    }
    if depth(new) > 40 {
        return Err(EditError::TooDeep);
    }
    let crlf = text.contains("\r\n");
    if crlf && text.replace("\r\n", "").contains('\n') {
        return Err(EditError::MixedLineEndings);
    }
    let mut current = if crlf {
        text.replace("\r\n", "\n")
    } else {
        text.to_owned()
    };
    let mut ops = Vec::new();
    diff(old, new, &mut Vec::new(), &mut ops);
    for op in ops {
        current = std::panic::catch_unwind(|| apply(&current, &op)).map_err(|_| {
            EditError::Unsupported {
                path: "(document)".into(),
                reason: "the YAML locator failed".into(),
            }
        })??;
    }
    let read_back =
        super::parse_document(&current, 1).map_err(|e| EditError::Unfaithful(e.to_string()))?;
    if !same(&read_back, new) {
        return Err(EditError::Unfaithful(
            "a value reads back differently".into(),
        ));
    }
    Ok(if crlf {
        current.replace('\n', "\r\n")
    } else {
        current
    })
}

fn route(path: &[Seg]) -> Route<'_> {
    Route::from(
        path.iter()
            .map(|s| match s {
                Seg::Key(k) => Component::Key(k.as_str().into()),
                Seg::Index(i) => Component::Index(*i),
            })
            .collect::<Vec<_>>(),
    )
}

fn unsupported(path: &[Seg], reason: impl Into<String>) -> EditError {
    EditError::Unsupported {
        path: path_text(path),
        reason: reason.into(),
    }
}

fn locate(doc: &Document, path: &[Seg]) -> Result<Option<(usize, usize, usize)>, EditError> {
    let feature = doc
        .query_exact(&route(path))
        .map_err(|e| unsupported(path, e.to_string()))?;
    // Block collections' spans can run over the trailing newline; stop at the last character.
    Ok(feature.map(|f| {
        let (start, end) = f.location.byte_span;
        let end = start + doc_text(doc)[start..end].trim_end().len();
        (start, end, f.location.point_span.0.1)
    }))
}

fn doc_text(doc: &Document) -> &str {
    doc.source()
}

fn apply(text: &str, op: &Op) -> Result<String, EditError> {
    let doc = Document::new(text.to_owned()).map_err(|e| unsupported(&[], e.to_string()))?;
    match op {
        Op::Replace(path, value) => replace(text, &doc, path, value),
        Op::Add(path, key, value) => add(text, &doc, path, key, value),
        Op::Remove(path) => remove(text, &doc, path),
        Op::Append(path, items) => append(text, &doc, path, items),
    }
}

fn splice(text: &str, start: usize, end: usize, with: &str) -> String {
    let mut out = String::with_capacity(text.len() + with.len());
    out.push_str(&text[..start]);
    out.push_str(with);
    out.push_str(&text[end..]);
    out
}

fn check_node(path: &[Seg], node: &str) -> Result<(), EditError> {
    if node.starts_with('*') || node.starts_with('&') || node.starts_with('!') {
        return Err(unsupported(
            path,
            "it is an alias, an anchor or a tagged node",
        ));
    }
    Ok(())
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

fn line_end(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |i| at + i)
}

/// Whether the node at `start` sits inside a flow collection (`[...]` or `{...}`).
fn in_flow(text: &str, start: usize) -> bool {
    let mut depth = 0i32;
    for c in text[..start].chars().rev() {
        match c {
            ']' | '}' => depth += 1,
            '[' | '{' if depth == 0 => return true,
            '[' | '{' => depth -= 1,
            _ => {}
        }
    }
    false
}

fn replace(text: &str, doc: &Document, path: &[Seg], value: &Value) -> Result<String, EditError> {
    let Some((start, end, col)) = locate(doc, path)? else {
        // `key:` with no value.
        let key_only = doc
            .query_pretty(&route(path))
            .map_err(|e| unsupported(path, e.to_string()))?;
        let (_, key_end) = key_only.location.byte_span;
        let key_col = key_only.location.point_span.0.1;
        let rendered = match value {
            Value::Object(m) if !m.is_empty() => {
                format!("\n{}", indent_block(&render_block(value), key_col + 2))
            }
            Value::Array(a) if !a.is_empty() => {
                format!("\n{}", indent_block(&render_block(value), key_col + 2))
            }
            _ => format!(" {}", render_scalar(value, "", false)),
        };
        let colon = text[..key_end].rfind(':').map_or(key_end, |i| i + 1);
        return Ok(splice(text, colon, colon, &rendered));
    };
    let node = &text[start..end];
    check_node(path, node)?;
    let flow = node.starts_with('{') || node.starts_with('[') || in_flow(text, start);
    let is_collection = matches!(value, Value::Object(m) if !m.is_empty())
        || matches!(value, Value::Array(a) if !a.is_empty());
    if !is_collection {
        let rendered = if node.starts_with('|') || node.starts_with('>') {
            render_block_scalar(value, node, text, start)
        } else {
            render_scalar(value, node, flow)
        };
        return Ok(splice(text, start, end, &rendered));
    }
    if flow {
        return Ok(splice(text, start, end, &render_flow(value)));
    }
    let was_scalar_on_key_line = !node.contains('\n')
        && !node.starts_with("- ")
        && text[line_start(text, start)..start]
            .trim_end()
            .ends_with(':');
    if was_scalar_on_key_line {
        let ls = line_start(text, start);
        let key_col = text[ls..start].len() - text[ls..start].trim_start().len();
        let block = indent_block(&render_block(value), key_col + 2);
        let colon_end = ls + text[ls..start].trim_end().len();
        return Ok(splice(text, colon_end, end, &format!("\n{block}")));
    }
    let block = indent_block(&render_block(value), col);
    Ok(splice(text, start, end, block.trim_start()))
}

fn add(
    text: &str,
    doc: &Document,
    path: &[Seg],
    key: &str,
    value: &Value,
) -> Result<String, EditError> {
    let Some((start, end, col)) = locate(doc, path)? else {
        let mut map = serde_json::Map::new();
        map.insert(key.to_owned(), value.clone());
        return replace(text, doc, path, &Value::Object(map));
    };
    let node = &text[start..end];
    check_node(path, node)?;
    let key_text = render_key(key);
    if node.starts_with('{') {
        let close = start
            + node
                .rfind('}')
                .ok_or_else(|| unsupported(path, "unterminated flow mapping"))?;
        let inner = text[start + 1..close].trim();
        let sep = if inner.is_empty() { "" } else { ", " };
        let entry = format!("{sep}{key_text}: {}", render_flow(value));
        let at = start + 1 + text[start + 1..close].trim_end().len();
        return Ok(splice(text, at, at, &entry));
    }
    if in_flow(text, start) {
        return Err(unsupported(path, "a mapping inside a flow collection"));
    }
    let entry = match value {
        Value::Object(m) if !m.is_empty() => {
            format!("{key_text}:\n{}", indent_block(&render_block(value), 2))
        }
        Value::Array(a) if !a.is_empty() => {
            format!("{key_text}:\n{}", indent_block(&render_block(value), 2))
        }
        _ => format!("{key_text}: {}", render_scalar(value, "", false)),
    };
    let at = line_end(text, content_end(text, start, end));
    let insertion = format!("\n{}{}", " ".repeat(col), indent_rest(&entry, col));
    Ok(splice(text, at, at, &insertion))
}

fn remove(text: &str, doc: &Document, path: &[Seg]) -> Result<String, EditError> {
    let Some((parent_path, _)) = path.split_last().map(|(l, p)| (p, l)) else {
        return Err(unsupported(path, "cannot remove the document"));
    };
    let parent = locate(doc, parent_path)?;
    if let Some((ps, pe, _)) = parent {
        let parent_text = &text[ps..pe];
        if parent_text.starts_with('{') || parent_text.starts_with('[') {
            // A flow collection: the entry runs from after the previous `,` or the opening
            // bracket to the end of its value.
            let Some((value_start, end, _)) = locate(doc, path)? else {
                return Err(unsupported(path, "empty value in a flow collection"));
            };
            check_node(path, &text[value_start..end])?;
            let entry_start = text[ps..value_start]
                .rfind([',', '{', '['])
                .map_or(value_start, |i| ps + i + 1);
            let start = entry_start
                + (text[entry_start..value_start].len()
                    - text[entry_start..value_start].trim_start().len());
            let after = &text[end..pe];
            if let Some(comma) = after.find(',').filter(|i| after[..*i].trim().is_empty()) {
                let next = end + comma + 1;
                let skip = text[next..pe].len() - text[next..pe].trim_start().len();
                return Ok(splice(text, start, next + skip, ""));
            }
            let before = &text[ps..start];
            if let Some(comma) = before
                .rfind(',')
                .filter(|i| before[i + 1..].trim().is_empty())
            {
                return Ok(splice(text, ps + comma, end, ""));
            }
            return Ok(splice(text, start, end, ""));
        }
    }
    let pretty = doc
        .query_pretty(&route(path))
        .map_err(|e| unsupported(path, e.to_string()))?;
    let (start, end) = pretty.location.byte_span;
    let end = start + text[start..end].trim_end().len();
    check_node(path, &text[start..end])?;
    if in_flow(text, start) {
        return Err(unsupported(
            path,
            "an entry inside a nested flow collection",
        ));
    }
    let ls = line_start(text, start);
    if !text[ls..start].trim().is_empty() {
        return Err(unsupported(
            path,
            "the key shares its line with other syntax",
        ));
    }
    let le = line_end(text, end);
    let cut_end = if le < text.len() { le + 1 } else { le };
    let cut_start = if le >= text.len() && ls > 0 {
        ls - 1
    } else {
        ls
    };
    Ok(splice(text, cut_start, cut_end, ""))
}

fn append(text: &str, doc: &Document, path: &[Seg], items: &[Value]) -> Result<String, EditError> {
    let Some((start, end, col)) = locate(doc, path)? else {
        return Err(unsupported(path, "list not found"));
    };
    let node = &text[start..end];
    check_node(path, node)?;
    if node.starts_with('[') {
        let close = start
            + node
                .rfind(']')
                .ok_or_else(|| unsupported(path, "unterminated flow list"))?;
        let rendered: Vec<String> = items.iter().map(render_flow).collect();
        let at = start + 1 + text[start + 1..close].trim_end().len();
        return Ok(splice(text, at, at, &format!(", {}", rendered.join(", "))));
    }
    if !node.starts_with('-') || in_flow(text, start) {
        return Err(unsupported(path, "not a block list"));
    }
    let mut insertion = String::new();
    for item in items {
        let body = match item {
            Value::Object(m) if !m.is_empty() => indent_rest(&render_block(item), col + 2),
            Value::Array(a) if !a.is_empty() => indent_rest(&render_block(item), col + 2),
            _ => render_scalar(item, "", false),
        };
        insertion.push_str(&format!("\n{}- {}", " ".repeat(col), body));
    }
    let at = line_end(text, content_end(text, start, end));
    Ok(splice(text, at, at, &insertion))
}

/// The end of the last line in `start..end` that is not blank or a comment, so new entries go
/// before a collection's trailing comments.
fn content_end(text: &str, start: usize, end: usize) -> usize {
    let mut at = end;
    loop {
        let ls = line_start(text, at.saturating_sub(1)).max(start);
        let line = text[ls..at].trim();
        if ls <= start || !(line.is_empty() || line.starts_with('#')) {
            return at;
        }
        at = ls.saturating_sub(1).max(start);
    }
}

/// Indents every line by `col` spaces.
fn indent_block(block: &str, col: usize) -> String {
    let pad = " ".repeat(col);
    block
        .lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Indents every line but the first.
fn indent_rest(block: &str, col: usize) -> String {
    let pad = " ".repeat(col);
    let mut lines = block.lines();
    let mut out = lines.next().unwrap_or_default().to_owned();
    for l in lines {
        out.push('\n');
        if !l.is_empty() {
            out.push_str(&pad);
        }
        out.push_str(l);
    }
    out
}

fn serializer_options() -> serde_saphyr::SerializerOptions {
    serde_saphyr::ser_options! { compact_list_indent: false, folded_wrap_chars: 100_000, min_fold_chars: 100_000 }
}

/// A collection in block style, as new canonical text.
pub fn render_block(value: &Value) -> String {
    serde_saphyr::to_string_with_options(value, serializer_options())
        .unwrap_or_else(|_| serde_json::to_string(value).unwrap_or_default())
        .trim_end()
        .to_owned()
}

/// A whole new document in the canonical layout.
pub fn render_document(value: &Value) -> String {
    let mut text = render_block(value);
    text.push('\n');
    text
}

/// A value in flow style, on one line.
fn render_flow(value: &Value) -> String {
    match value {
        Value::Object(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", render_key(k), render_flow(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(render_flow).collect::<Vec<_>>().join(", ")
        ),
        _ => render_scalar(value, "", true),
    }
}

fn render_key(key: &str) -> String {
    let plain = render_scalar(&Value::String(key.to_owned()), "", true);
    if plain.starts_with('\'') {
        serde_json::to_string(key).unwrap_or_default()
    } else {
        plain
    }
}

/// A scalar in the style of the text it replaces (`existing`; empty for new text).
fn render_scalar(value: &Value, existing: &str, flow: bool) -> String {
    let s = match value {
        Value::String(s) => s,
        Value::Null => return "null".into(),
        Value::Object(_) => return "{}".into(),
        Value::Array(_) => return "[]".into(),
        other => return other.to_string(),
    };
    let double = || serde_json::to_string(s).unwrap_or_default();
    let single = || format!("'{}'", s.replace('\'', "''"));
    if s.contains('\n') || s.chars().any(char::is_control) {
        return double();
    }
    if existing.starts_with('"') {
        return double();
    }
    if existing.starts_with('\'') {
        return single();
    }
    if plain_reads_back(s, flow) {
        return s.clone();
    }
    let rendered =
        serde_saphyr::to_string_with_options(value, serializer_options()).unwrap_or_default();
    let rendered = rendered.trim_end();
    if rendered.is_empty() || rendered.contains('\n') {
        return double();
    }
    if rendered.starts_with('"') || rendered.starts_with('\'') {
        return rendered.to_owned();
    }
    if (flow && rendered.contains([',', '[', ']', '{', '}']))
        || rendered.contains(" #")
        || rendered.contains(": ")
    {
        return single();
    }
    rendered.to_owned()
}

/// Whether `s` written plain reads back (as kubectl reads it) as the same string.
fn plain_reads_back(s: &str, flow: bool) -> bool {
    if s.is_empty() || s.trim() != s || s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    if flow && s.contains([',', '[', ']', '{', '}']) {
        return false;
    }
    if s.starts_with([
        '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@',
        '`',
    ]) {
        return false;
    }
    matches!(super::parse_document(&format!("v: {s}\n"), 1), Ok(v) if v["v"].as_str() == Some(s))
}

/// A block scalar (`|`, `>`) replaced, as a literal block at the same indentation.
fn render_block_scalar(value: &Value, node: &str, text: &str, start: usize) -> String {
    let Value::String(s) = value else {
        return render_scalar(value, "", false);
    };
    if !s.contains('\n') {
        return render_scalar(value, "", false);
    }
    // Indentation of the existing content lines, or the key's plus two.
    let content_indent = node
        .lines()
        .nth(1)
        .map(|l| l.len() - l.trim_start().len())
        .filter(|n| *n > 0)
        .unwrap_or_else(|| {
            let ls = line_start(text, start);
            text[ls..start].len() - text[ls..start].trim_start().len() + 2
        });
    let trailing = s.len() - s.trim_end_matches('\n').len();
    let chomp = match trailing {
        0 => "-",
        1 => "",
        _ => "+",
    };
    if s.starts_with(' ') {
        // Would need an indentation indicator relative to the parent; one line is clearer.
        return render_scalar(value, "\"", false);
    }
    let body: Vec<String> = s
        .trim_end_matches('\n')
        .split('\n')
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{}{l}", " ".repeat(content_indent))
            }
        })
        .collect();
    let mut out = format!("|{chomp}\n{}", body.join("\n"));
    for _ in 1..trailing {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests;
