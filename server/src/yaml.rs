//! Reading YAML the way `kubectl` reads it, with budgets.
//!
//! Files from the config repo are untrusted. This module splits a multi-document stream with
//! apimachinery's rule (a line starting with `---` followed only by blanks or a comment), then
//! parses each document on its own with serde-saphyr under tight budgets, with YAML 1.1 scalars
//! (`yes`/`on` are booleans, `012` is octal) and `<<` merge keys applied, as kubectl does.
//! Documents come out as `serde_json::Value`, the same data kubectl would send to the API server.

pub mod edit;

use serde_json::Value;

/// Largest file the reader accepts. etcd caps objects at about 1.5 MiB, so a bigger manifest
/// could never be applied anyway.
pub const DEFAULT_MAX_FILE_BYTES: usize = 1_572_864;

/// One document of a YAML stream, with its place in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// Index among the non-empty documents of the file, counted from 0 as kubectl counts them.
    pub index: usize,
    /// 1-based line of the document's first line in the file.
    pub line: u32,
    /// Byte range of the document's text in the file (separator lines excluded).
    pub span: std::ops::Range<usize>,
    /// The parsed data.
    pub value: Value,
}

/// Why a file or a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YamlError {
    #[error("file is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("file is not valid UTF-8 (first bad byte at offset {offset})")]
    NotUtf8 { offset: usize },
    #[error("line {line}: invalid document separator `{text}` (kubectl rejects it too)")]
    BadSeparator { line: u32, text: String },
    #[error("line {line}: {message}")]
    Syntax {
        line: u32,
        column: u32,
        message: String,
    },
}

impl YamlError {
    /// 1-based line the error points at, when it points at one.
    pub fn line(&self) -> Option<u32> {
        match self {
            Self::BadSeparator { line, .. } | Self::Syntax { line, .. } => Some(*line),
            Self::TooLarge { .. } | Self::NotUtf8 { .. } => None,
        }
    }
}

/// A document's raw text before parsing: where it sits in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// 1-based line of the document's first content (after leading comments).
    pub line: u32,
    /// 1-based line where the segment's text starts.
    pub start_line: u32,
    pub span: std::ops::Range<usize>,
}

/// Decodes bytes as UTF-8 within the size limit; a leading BOM is dropped.
pub fn decode(bytes: &[u8], limit: usize) -> Result<&str, YamlError> {
    if bytes.len() > limit {
        return Err(YamlError::TooLarge {
            size: bytes.len(),
            limit,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| YamlError::NotUtf8 {
        offset: e.valid_up_to(),
    })?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// Splits a stream into document segments with kubectl's rule. Segments holding only blanks,
/// comments or `...` are skipped, so indexes match kubectl's and serde-saphyr's numbering.
pub fn split(text: &str) -> Result<Vec<Segment>, YamlError> {
    let mut segments = Vec::new();
    let mut start = 0usize;
    let mut start_line = 1u32;
    let mut offset = 0usize;
    for (line_no, line) in (1u32..).zip(text.split_inclusive('\n')) {
        let content = line.trim_end_matches(['\n', '\r']);
        if let Some(rest) = content.strip_prefix("---") {
            let after = rest.trim_start_matches([' ', '\t']);
            let is_separator =
                after.is_empty() || (after.starts_with('#') && rest.len() != after.len());
            if !is_separator {
                return Err(YamlError::BadSeparator {
                    line: line_no,
                    text: truncate(content, 40),
                });
            }
            push_segment(&mut segments, text, start..offset, start_line);
            start = offset + line.len();
            start_line = line_no + 1;
        }
        offset += line.len();
    }
    push_segment(&mut segments, text, start..text.len(), start_line);
    Ok(segments)
}

fn push_segment(out: &mut Vec<Segment>, text: &str, span: std::ops::Range<usize>, line: u32) {
    let body = &text[span.clone()];
    // Report the line of the first content, not of a leading comment.
    let first_content = body.lines().position(|l| {
        let t = l.trim();
        !(t.is_empty() || t.starts_with('#') || t == "...")
    });
    if let Some(skipped) = first_content {
        out.push(Segment {
            line: line + u32::try_from(skipped).unwrap_or(0),
            start_line: line,
            span,
        });
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// Parses one document with kubectl's reading and the budgets. `first_line` is the document's
/// line in its file, so errors point at the file's line.
pub fn parse_document(text: &str, first_line: u32) -> Result<Value, YamlError> {
    parse_with(text, first_line, false)
}

/// Like [`parse_document`] with room for large trusted files (CRDs nest deeply).
pub fn parse_trusted(text: &str) -> Result<Vec<Value>, YamlError> {
    let mut out = Vec::new();
    for seg in split(text)? {
        let value = parse_with(&text[seg.span.clone()], seg.start_line, true)?;
        if !value.is_null() {
            out.push(value);
        }
    }
    Ok(out)
}

fn parse_with(text: &str, first_line: u32, trusted: bool) -> Result<Value, YamlError> {
    let scale = if trusted { 16 } else { 1 };
    let options = serde_saphyr::options! {
        legacy_octal_numbers: true,
        // A tag (`!!python/object`, `!secret`) would otherwise be dropped without a word, and
        // the data read would not be what the author meant.
        reject_unsupported_tags: true,
        with_snippet: false,
        budget: serde_saphyr::budget! {
            max_depth: if trusted { 200 } else { 48 },
            max_nodes: 200_000 * scale,
            max_events: 400_000 * scale,
            max_aliases: 500,
            max_anchors: 500,
            max_documents: 2,
            max_total_scalar_bytes: DEFAULT_MAX_FILE_BYTES * 2 * scale,
            max_reader_input_bytes: Some(DEFAULT_MAX_FILE_BYTES * scale),
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 20_000,
            max_replay_stack_depth: 16,
            max_alias_expansions_per_anchor: 200,
        },
    };
    serde_saphyr::from_str_with_options::<Value>(text, options).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| {
                (
                    u32::try_from(l.line()).unwrap_or(u32::MAX),
                    u32::try_from(l.column()).unwrap_or(0),
                )
            })
            .unwrap_or((1, 0));
        YamlError::Syntax {
            line: first_line.saturating_add(line.saturating_sub(1)),
            column,
            message: clean_message(&e.to_string()),
        }
    })
}

/// serde-saphyr prefixes messages with their location; the location is reported separately.
fn clean_message(message: &str) -> String {
    let first = message.lines().next().unwrap_or(message).trim();
    let stripped = match first.split_once(": ") {
        Some((head, rest)) if head.starts_with("line ") => rest,
        _ => first,
    };
    let mut out = truncate(stripped, 300);
    if out.starts_with("unsupported tag") {
        out.push_str(
            " (Kubernetes objects hold plain data: only YAML's own tags such as !!str are read)",
        );
    }
    out
}

/// Reads every document of a file. File-level problems (size, encoding, a bad separator) fail
/// the whole file; each document is parsed on its own, so one broken document does not hide the
/// others (kubectl reads them one by one too).
pub fn read_stream(
    bytes: &[u8],
    limit: usize,
) -> Result<Vec<Result<Document, YamlError>>, YamlError> {
    let text = decode(bytes, limit)?;
    let bom = bytes.len() - text.len();
    let mut docs = Vec::new();
    for (index, seg) in split(text)?.into_iter().enumerate() {
        match parse_document(&text[seg.span.clone()], seg.start_line) {
            Ok(Value::Null) => {}
            Ok(value) => docs.push(Ok(Document {
                index,
                line: seg.line,
                span: seg.span.start + bom..seg.span.end + bom,
                value,
            })),
            Err(e) => docs.push(Err(e)),
        }
    }
    Ok(docs)
}

/// Like [`read_stream`], but fails on the first broken document.
pub fn read_all(bytes: &[u8], limit: usize) -> Result<Vec<Document>, YamlError> {
    read_stream(bytes, limit)?.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values(text: &str) -> Vec<Value> {
        match read_all(text.as_bytes(), DEFAULT_MAX_FILE_BYTES) {
            Ok(docs) => docs.into_iter().map(|d| d.value).collect(),
            Err(e) => panic!("unexpected error: {e}"),
        }
    }

    #[test]
    fn yaml_1_1_scalars_read_as_kubectl_reads_them() {
        let v =
            values("a: yes\nb: off\nc: 012\nd: 0x1F\ne: 1_000\nf: '012'\ng: 2024-01-02\nh: ~\n");
        assert_eq!(
            v,
            vec![
                json!({"a": true, "b": false, "c": 10, "d": 31, "e": 1000, "f": "012", "g": "2024-01-02", "h": null})
            ]
        );
    }

    #[test]
    fn merge_keys_are_applied() {
        let v = values("base: &b {rate: 1, per: 2}\nlimit:\n  <<: *b\n  per: 5\n");
        assert_eq!(v[0]["limit"], json!({"rate": 1, "per": 5}));
    }

    #[test]
    fn streams_split_like_kubectl() {
        let text = "# lead comment\n---\na: 1\n--- # second\nb: 2\n---\n# only a comment\n---\n\n...\n---\nc: 3\n";
        let docs = read_all(text.as_bytes(), 1 << 20).unwrap_or_default();
        let lines: Vec<u32> = docs.iter().map(|d| d.line).collect();
        assert_eq!(docs.len(), 3);
        assert_eq!(lines, vec![3, 5, 12]);
        assert_eq!(&text[docs[1].span.clone()], "b: 2\n");
        assert_eq!(docs[2].index, 2);
    }

    #[test]
    fn separator_with_content_is_refused() {
        let err = read_all(b"a: 1\n--- {b: 2}\n", 1 << 20).err();
        assert!(
            matches!(err, Some(YamlError::BadSeparator { line: 2, .. })),
            "{err:?}"
        );
        assert!(read_all(b"a: 1\n----\n", 1 << 20).is_err());
    }

    #[test]
    fn syntax_error_points_at_the_file_line() {
        let err = read_all(b"a: 1\n---\nb: 2\nc: [1, 2\nd: 3\n", 1 << 20).err();
        match err {
            Some(YamlError::Syntax { line, .. }) => assert!((4..=6).contains(&line), "line {line}"),
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn tags_are_refused_with_their_line() {
        for (text, tag) in [
            (
                "a: 1\nb: !!python/object:os.system [ls]\n",
                "!!python/object:os.system",
            ),
            ("a: 1\nb:\n  c: !secret token\n", "!secret"),
            ("a: 1\nb: !custom\n  c: 1\n", "!custom"),
        ] {
            match read_all(text.as_bytes(), 1 << 20).err() {
                Some(YamlError::Syntax { line, message, .. }) => {
                    assert!((2..=3).contains(&line), "{text:?}: line {line}");
                    assert!(message.contains(tag), "{message}");
                }
                other => panic!("{text:?}: expected a refusal, got {other:?}"),
            }
        }
        // YAML's own tags keep their meaning.
        assert_eq!(values("a: !!str 012\n"), vec![json!({"a": "012"})]);
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let err = read_all(b"a: 1\na: 2\n", 1 << 20).err();
        assert!(
            matches!(err, Some(YamlError::Syntax { line: 2, .. })),
            "{err:?}"
        );
    }

    #[test]
    fn alias_bomb_fails_fast_without_eating_memory() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let started = std::time::Instant::now();
        let err = read_all(text.as_bytes(), 1 << 20).err();
        assert!(matches!(err, Some(YamlError::Syntax { .. })), "{err:?}");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = "[".repeat(10_000);
        assert!(read_all(text.as_bytes(), 1 << 20).is_err());
        let mut block = String::new();
        for i in 0..300 {
            block.push_str(&" ".repeat(i));
            block.push_str("k:\n");
        }
        assert!(read_all(block.as_bytes(), 1 << 20).is_err());
    }

    #[test]
    fn size_and_encoding_limits() {
        assert_eq!(
            read_all(&[b'a'; 100], 10).err(),
            Some(YamlError::TooLarge {
                size: 100,
                limit: 10
            })
        );
        assert_eq!(
            read_all(b"a: \xff\n", 100).err(),
            Some(YamlError::NotUtf8 { offset: 3 })
        );
        assert_eq!(values("\u{feff}a: 1\n"), vec![json!({"a": 1})]);
    }
}
