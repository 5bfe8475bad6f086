//! Line diffs of changed files, with context, for review pages and the API.

use frontend::api::{DiffLine, FileDiff};
use similar::{ChangeTag, TextDiff};

/// Lines of unchanged context kept around each change.
const CONTEXT: usize = 3;

pub fn file_diff(path: &str, old: Option<&str>, new: Option<&str>) -> FileDiff {
    let status = match (old, new) {
        (None, Some(_)) => "added",
        (Some(_), None) => "deleted",
        _ => "modified",
    };
    let diff = TextDiff::from_lines(old.unwrap_or_default(), new.unwrap_or_default());
    let mut lines = Vec::new();
    for (i, group) in diff.grouped_ops(CONTEXT).iter().enumerate() {
        if i > 0 {
            lines.push(DiffLine {
                kind: "skip".into(),
                old_line: None,
                new_line: None,
                text: String::new(),
            });
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let kind = match change.tag() {
                    ChangeTag::Equal => "context",
                    ChangeTag::Insert => "added",
                    ChangeTag::Delete => "removed",
                };
                lines.push(DiffLine {
                    kind: kind.into(),
                    old_line: change
                        .old_index()
                        .map(|n| u32::try_from(n + 1).unwrap_or(u32::MAX)),
                    new_line: change
                        .new_index()
                        .map(|n| u32::try_from(n + 1).unwrap_or(u32::MAX)),
                    text: change.value().trim_end_matches(['\n', '\r']).to_owned(),
                });
            }
        }
    }
    FileDiff {
        path: path.to_owned(),
        status: status.into(),
        lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_changed_line_shows_as_one_removal_and_one_addition() {
        let old = "a: 1\nb: 2\nc: 3\n";
        let new = "a: 1\nb: 20\nc: 3\n";
        let d = file_diff("f.yaml", Some(old), Some(new));
        let changed: Vec<_> = d
            .lines
            .iter()
            .filter(|l| l.kind != "context")
            .map(|l| (l.kind.as_str(), l.text.as_str()))
            .collect();
        assert_eq!(changed, vec![("removed", "b: 2"), ("added", "b: 20")]);
        assert_eq!(d.status, "modified");
    }
}
