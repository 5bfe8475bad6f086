//! Planning a change: from the requested edits and the repo at the base commit to the new text
//! of every touched file, plus validation. Blocking (reads blobs with gix).

use crate::error::Code;
use crate::repo::{IndexedResource, RepoIndex};
use crate::resources::{Kind, Resource, ResourceKey};
use crate::rules;
use crate::yaml::{self, edit};
use frontend::api::{ChangedResource, EditRequest};
use frontend::validate::{self, Issue, Severity};
use serde_json::Value;
use std::collections::BTreeMap;

/// Where new resources go; `{namespace}` and `{name}` are filled in.
#[derive(Debug, Clone)]
pub struct PathTemplates {
    pub api: String,
    pub policy: String,
    pub oas: String,
}

impl Default for PathTemplates {
    fn default() -> Self {
        Self {
            api: "apis/{namespace}/{name}.yaml".into(),
            policy: "policies/{namespace}/{name}.yaml".into(),
            oas: "oas/{namespace}/{name}.yaml".into(),
        }
    }
}

impl PathTemplates {
    fn path_for(&self, key: &ResourceKey) -> String {
        let template = match key.kind {
            Kind::ApiDefinition => &self.api,
            Kind::SecurityPolicy => &self.policy,
            Kind::TykOasApiDefinition | Kind::ConfigMap => &self.oas,
        };
        let name = if key.kind == Kind::ConfigMap {
            format!("{}-configmap", key.name)
        } else {
            key.name.clone()
        };
        let path = template
            .replace("{namespace}", &key.namespace)
            .replace("{name}", &name);
        path.split('/')
            .map(fit_component)
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// The most bytes a file-system path component may hold (ext4, APFS, NTFS, git checkouts).
const MAX_COMPONENT_BYTES: usize = 255;

/// A path component that fits [`MAX_COMPONENT_BYTES`]: longer ones (a 253-character name plus
/// `.yaml`) keep their start and extension and get `-` and 8 hex digits of the SHA-1 of the
/// whole component, so distinct names stay distinct files.
fn fit_component(component: &str) -> String {
    if component.len() <= MAX_COMPONENT_BYTES {
        return component.to_owned();
    }
    let (stem, ext) = match component.rfind('.') {
        Some(dot) if component.len() - dot <= 16 => component.split_at(dot),
        _ => (component, ""),
    };
    let mut hasher = gix::hash::hasher(gix::hash::Kind::Sha1);
    hasher.update(component.as_bytes());
    let hash = hasher.try_finalize().map_or_else(
        |_| "00000000".to_owned(),
        |id| id.to_hex_with_len(8).to_string(),
    );
    let mut keep = MAX_COMPONENT_BYTES - 1 - hash.len() - ext.len();
    while !stem.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}-{hash}{ext}", &stem[..keep])
}

/// Why a change cannot be planned. `field` says where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct PlanError {
    pub code: Code,
    pub field: String,
    pub message: String,
}

fn bad(code: Code, field: impl Into<String>, message: impl Into<String>) -> PlanError {
    PlanError {
        code,
        field: field.into(),
        message: message.into(),
    }
}

/// The planned result.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Path → (text at base, new text); `None` for absent / deleted.
    pub files: BTreeMap<String, (Option<String>, Option<String>)>,
    pub resources: Vec<ChangedResource>,
    pub issues: Vec<Issue>,
}

/// Reads the files the plan needs at the base commit.
pub trait FileSource {
    fn read(&self, path: &str) -> Result<Option<String>, PlanError>;
}

struct Files<'s> {
    source: &'s dyn FileSource,
    texts: BTreeMap<String, (Option<String>, Option<String>)>,
}

impl Files<'_> {
    fn current(&mut self, path: &str) -> Result<Option<String>, PlanError> {
        if let Some((_, now)) = self.texts.get(path) {
            return Ok(now.clone());
        }
        let base = self.source.read(path)?;
        self.texts
            .insert(path.to_owned(), (base.clone(), base.clone()));
        Ok(base)
    }

    fn set(&mut self, path: &str, text: Option<String>) -> Result<(), PlanError> {
        self.current(path)?;
        if let Some(entry) = self.texts.get_mut(path) {
            entry.1 = text;
        }
        Ok(())
    }
}

/// The document's segment in the current text of its file, found by its key.
fn find_segment(
    text: &str,
    key: &ResourceKey,
    default_ns: &str,
) -> Result<Option<(std::ops::Range<usize>, Value)>, PlanError> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let bom = text.len() - body.len();
    let segments =
        yaml::split(body).map_err(|e| bad(Code::UnreadableFile, key.to_string(), e.to_string()))?;
    for seg in segments {
        let Ok(value) = yaml::parse_document(&body[seg.span.clone()], seg.start_line) else {
            continue;
        };
        if let Ok(Some(r)) = Resource::from_value(&value)
            && r.key(default_ns) == *key
        {
            return Ok(Some((seg.span.start + bom..seg.span.end + bom, value)));
        }
    }
    Ok(None)
}

/// Removes a document and the separator before it (or after it, for the first document).
fn remove_segment(text: &str, span: std::ops::Range<usize>) -> Option<String> {
    let before = &text[..span.start];
    let after = &text[span.end..];
    let rest = if let Some(sep) = before
        .trim_end_matches('\n')
        .rfind("\n---")
        .map(|i| i + 1)
        .or_else(|| before.starts_with("---").then_some(0))
    {
        // Drop from the separator line before the document.
        format!("{}{}", &text[..sep], after)
    } else if let Some(stripped) = after.strip_prefix("---") {
        let next_line = stripped.find('\n').map_or(stripped.len(), |i| i + 1);
        format!("{}{}", before, &stripped[next_line..])
    } else {
        format!("{before}{after}")
    };
    let has_content = rest.lines().any(|l| {
        let t = l.trim();
        !(t.is_empty() || t.starts_with('#') || t == "---" || t == "...")
    });
    has_content.then_some(rest)
}

/// Plans `edits` against the index and files at the base commit.
pub fn plan(
    index: &RepoIndex,
    source: &dyn FileSource,
    edits: &[EditRequest],
    settings: &super::ChangeSettings,
    default_ns: &str,
) -> Result<Plan, PlanError> {
    let templates = &settings.templates;
    if edits.is_empty() {
        return Err(bad(
            Code::NoEdits,
            "edits",
            "a change needs at least one edit",
        ));
    }
    let mut files = Files {
        source,
        texts: BTreeMap::new(),
    };
    let mut resources = Vec::new();
    let mut issues = Vec::new();
    // The documents after the change, for validation: key → Some(doc) or None (deleted).
    let mut after = rules::After::new();
    let mut seen = Vec::new();

    for (i, e) in edits.iter().enumerate() {
        let field = format!("edits[{i}]");
        let kind = Kind::parse(&e.kind).ok_or_else(|| {
            bad(
                Code::UnknownKind,
                format!("{field}.kind"),
                format!("unknown kind `{}`", e.kind),
            )
        })?;
        let key = ResourceKey::new(kind, &e.namespace, &e.name);
        if seen.contains(&key) {
            return Err(bad(
                Code::DuplicateEdit,
                field,
                format!("{key} is edited twice in this change"),
            ));
        }
        seen.push(key.clone());
        let modes = usize::from(e.document.is_some())
            + usize::from(e.merge_patch.is_some())
            + usize::from(e.yaml.is_some())
            + usize::from(e.delete);
        if modes != 1 {
            return Err(bad(
                Code::InvalidEdit,
                field,
                "give exactly one of `document`, `merge_patch`, `yaml` or `delete: true`",
            ));
        }
        let existing: Option<&IndexedResource> = index.get(&key);

        if e.delete {
            let existing = existing
                .ok_or_else(|| bad(Code::NotFound, &field, format!("{key} does not exist")))?;
            delete_doc(&mut files, existing, &key, default_ns)?;
            after.insert(key.clone(), None);
            resources.push(changed(&key, "delete", &existing.path));
            continue;
        }

        let new_doc = match (&e.document, &e.merge_patch) {
            (Some(doc), _) => doc.clone(),
            (None, None) if e.yaml.is_some() => {
                let text = e.yaml.as_deref().unwrap_or_default();
                let docs = yaml::read_all(text.as_bytes(), yaml::DEFAULT_MAX_FILE_BYTES).map_err(
                    |err| bad(Code::InvalidYaml, format!("{field}.yaml"), err.to_string()),
                )?;
                match <[yaml::Document; 1]>::try_from(docs) {
                    Ok([d]) => d.value,
                    Err(_) => {
                        return Err(bad(
                            Code::InvalidYaml,
                            format!("{field}.yaml"),
                            "give exactly one YAML document",
                        ));
                    }
                }
            }
            (None, Some(patch)) => {
                let existing = existing.ok_or_else(|| {
                    bad(
                        Code::NotFound,
                        &field,
                        format!("{key} does not exist, so it cannot be patched"),
                    )
                })?;
                let mut doc = existing
                    .resource
                    .to_value()
                    .map_err(|e| bad(Code::InvalidResource, &field, e.message))?;
                json_patch::merge(&mut doc, patch);
                doc
            }
            (None, None) => return Err(bad(Code::InvalidEdit, field, "nothing to do")),
        };
        let new_kind = Kind::of_document(&new_doc);
        if new_kind != Some(kind) {
            return Err(bad(
                Code::KindMismatch,
                format!("{field}.document"),
                format!("the document must be a {kind} (apiVersion and kind)"),
            ));
        }
        if let Some(version) = new_doc["apiVersion"].as_str()
            && kind != Kind::ConfigMap
            && version != crate::resources::TYK_API_VERSION
        {
            return Err(bad(
                Code::UnknownApiVersion,
                format!("{field}.document.apiVersion"),
                format!(
                    "Tollgate does not know {version}; use {}",
                    crate::resources::TYK_API_VERSION
                ),
            ));
        }
        let typed = Resource::from_value(&new_doc)
            .map_err(|e| {
                bad(
                    Code::InvalidResource,
                    format!("{field}.document"),
                    e.message,
                )
            })?
            .ok_or_else(|| {
                bad(
                    Code::InvalidResource,
                    format!("{field}.document"),
                    "not a managed resource",
                )
            })?;
        let new_key = typed.key(default_ns);

        match existing {
            Some(existing) if new_key == key => {
                let path = existing.path.to_string();
                let text = files
                    .current(&path)?
                    .ok_or_else(|| bad(Code::Conflict, &field, format!("{path} is gone")))?;
                let (span, old_value) =
                    find_segment(&text, &key, default_ns)?.ok_or_else(|| {
                        bad(
                            Code::Conflict,
                            &field,
                            format!("{key} is no longer in {path}"),
                        )
                    })?;
                let new_segment = edit::edit_document(&text[span.clone()], &old_value, &new_doc)
                    .map_err(|err| {
                        bad(
                            Code::EditRefused,
                            format!("{field} ({path})"),
                            err.to_string(),
                        )
                    })?;
                let new_text = format!(
                    "{}{}{}",
                    &text[..span.start],
                    new_segment,
                    &text[span.end..]
                );
                files.set(&path, Some(new_text))?;
                resources.push(changed(&key, "update", &path));
            }
            Some(existing) => {
                // Rename or namespace move: Tyk sees a new object.
                if index.get(&new_key).is_some() || after.get(&new_key).is_some_and(Option::is_some)
                {
                    return Err(bad(
                        Code::AlreadyExists,
                        format!("{field}.document.metadata"),
                        format!("{new_key} already exists"),
                    ));
                }
                delete_doc(&mut files, existing, &key, default_ns)?;
                let path = create_doc(&mut files, &new_key, &new_doc, templates, &field)?;
                after.insert(key.clone(), None);
                resources.push(changed(&key, "delete", &existing.path));
                resources.push(changed(&new_key, "rename", &path));
                issues.push(Issue {
                    resource: new_key.to_string(),
                    field: "metadata.name".into(),
                    severity: Severity::Warning,
                    code: "renamed".into(),
                    message: format!(
                        "renaming {}/{} to {}/{} makes Tyk see a new object: it gets a new id, and keys issued for the old one stop working",
                        key.namespace, key.name, new_key.namespace, new_key.name
                    ),
                });
            }
            None => {
                if new_key != key {
                    return Err(bad(
                        Code::NameMismatch,
                        format!("{field}.document.metadata"),
                        format!("{key} does not exist; the document names {new_key}"),
                    ));
                }
                let path = create_doc(&mut files, &key, &new_doc, templates, &field)?;
                resources.push(changed(&key, "create", &path));
            }
        }
        after.insert(new_key, Some(new_doc));
    }

    // Validation: each new document, then the environment after the change.
    for (key, doc) in &after {
        let Some(doc) = doc else { continue };
        let file = resources
            .iter()
            .rev()
            .find(|r| {
                r.kind == key.kind.as_str() && r.namespace == key.namespace && r.name == key.name
            })
            .map(|r| r.path.as_str())
            .or_else(|| index.get(key).map(|r| &*r.path))
            .unwrap_or_default();
        issues.extend(rules::validate_document(
            index,
            &after,
            &settings.schemas,
            key,
            file,
            doc,
        ));
    }
    let mut touched: Vec<String> = resources
        .iter()
        .map(|r| format!("{}/{}/{}", r.kind, r.namespace, r.name))
        .collect();
    touched.extend(rules::configmap_readers(index, &after));
    issues.extend(validate::validate_environment(
        &rules::environment(index, &after),
        &touched,
    ));
    issues.sort_by(|a, b| {
        (a.severity == Severity::Warning, &a.resource, &a.field).cmp(&(
            b.severity == Severity::Warning,
            &b.resource,
            &b.field,
        ))
    });

    let files = files
        .texts
        .into_iter()
        .filter(|(_, (old, new))| old != new)
        .collect();
    Ok(Plan {
        files,
        resources,
        issues,
    })
}

fn changed(key: &ResourceKey, action: &str, path: &str) -> ChangedResource {
    ChangedResource {
        kind: key.kind.as_str().into(),
        namespace: key.namespace.clone(),
        name: key.name.clone(),
        action: action.into(),
        path: path.into(),
    }
}

fn delete_doc(
    files: &mut Files<'_>,
    existing: &IndexedResource,
    key: &ResourceKey,
    default_ns: &str,
) -> Result<(), PlanError> {
    let path = existing.path.to_string();
    let text = files
        .current(&path)?
        .ok_or_else(|| bad(Code::Conflict, key.to_string(), format!("{path} is gone")))?;
    let (span, _) = find_segment(&text, key, default_ns)?.ok_or_else(|| {
        bad(
            Code::Conflict,
            key.to_string(),
            format!("{key} is no longer in {path}"),
        )
    })?;
    files.set(&path, remove_segment(&text, span))
}

fn create_doc(
    files: &mut Files<'_>,
    key: &ResourceKey,
    doc: &Value,
    templates: &PathTemplates,
    field: &str,
) -> Result<String, PlanError> {
    let path = templates.path_for(key);
    if path
        .split('/')
        .any(|p| p.is_empty() || p == ".." || p == ".")
    {
        return Err(bad(
            Code::InvalidPath,
            field,
            format!("the file path `{path}` is not valid"),
        ));
    }
    let text = edit::render_document(doc);
    match files.current(&path)? {
        None => files.set(&path, Some(text))?,
        Some(existing) => {
            let sep = if existing.ends_with('\n') { "" } else { "\n" };
            files.set(&path, Some(format!("{existing}{sep}---\n{text}")))?;
        }
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        json_patch::merge(&mut doc, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(doc, json!({"a": "z", "c": {"d": "e"}}));
        let mut doc = json!({"a": [1, 2]});
        json_patch::merge(&mut doc, &json!({"a": [3], "n": {"x": 1}}));
        assert_eq!(doc, json!({"a": [3], "n": {"x": 1}}));
    }

    #[test]
    fn long_names_make_file_names_that_fit() {
        let templates = PathTemplates::default();
        let long = "a".repeat(253);
        let path = templates.path_for(&ResourceKey::new(Kind::ApiDefinition, "ns", &long));
        let file = path.rsplit('/').next().unwrap_or_default();
        assert_eq!(file.len(), 255, "{path}");
        assert!(
            path.starts_with("apis/ns/aaaa") && path.ends_with(".yaml"),
            "{path}"
        );
        // Names that differ only past the cut still get different files.
        let other = format!("{}b", "a".repeat(252));
        let other = templates.path_for(&ResourceKey::new(Kind::ApiDefinition, "ns", &other));
        assert_ne!(path, other);
        // Short names are untouched; a ConfigMap's suffix counts too.
        assert_eq!(
            templates.path_for(&ResourceKey::new(Kind::ApiDefinition, "ns", "httpbin")),
            "apis/ns/httpbin.yaml"
        );
        let cm = templates.path_for(&ResourceKey::new(Kind::ConfigMap, "ns", &long));
        assert!(cm.rsplit('/').all(|c| c.len() <= 255), "{cm}");
    }

    #[test]
    fn removing_a_document_keeps_the_others() {
        let text = "# head\na: 1\n---\nb: 2\n--- # three\nc: 3\n";
        let b = text.find("b: 2").unwrap_or(0);
        assert_eq!(
            remove_segment(text, b..b + 5).as_deref(),
            Some("# head\na: 1\n--- # three\nc: 3\n")
        );
        let a = text.find("a: 1").unwrap_or(0);
        assert_eq!(
            remove_segment(text, 0..a + 5).as_deref(),
            Some("b: 2\n--- # three\nc: 3\n")
        );
        assert_eq!(
            remove_segment("a: 1\n", 0..5),
            None,
            "the file goes when its last document does"
        );
    }
}
