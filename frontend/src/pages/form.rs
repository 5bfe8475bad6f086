//! What an edit form shows at its fields, and when: a required field's error only once that
//! field was touched or a Preview/Propose was tried (an untouched new form is not a wall of
//! red), every other finding at once, and what the server answered (a preview's issues, a
//! refused proposal's issues or the one field its error names) at the fields it names, until
//! the next edit.

use crate::api::ApiError;
use crate::validate::{Issue, Severity};
use leptos::prelude::*;
use std::collections::BTreeSet;

/// The state a form shares with its fields and its [`super::propose::ProposeBox`] (as context).
#[derive(Debug, Clone, Copy)]
pub(super) struct FormState {
    touched: RwSignal<BTreeSet<String>>,
    attempted: RwSignal<bool>,
    server: RwSignal<Vec<Issue>>,
    /// Counts edits of the document: what was answered before is about an older one.
    revision: RwSignal<u64>,
}

impl FormState {
    /// A fresh state, provided to everything the form renders.
    pub fn provide() -> Self {
        let state = Self {
            touched: RwSignal::new(BTreeSet::new()),
            attempted: RwSignal::new(false),
            server: RwSignal::new(Vec::new()),
            revision: RwSignal::new(0),
        };
        provide_context(state);
        state
    }

    /// Marks a field (a dotted path) as touched: its required-field errors show from now on.
    pub fn touch(&self, field: &str) {
        if !self.touched.with_untracked(|t| t.contains(field)) {
            self.touched.update(|t| {
                t.insert(field.to_owned());
            });
        }
    }

    /// A Preview or Propose was tried: every error shows.
    pub fn attempt(&self) {
        if !self.attempted.get_untracked() {
            self.attempted.set(true);
        }
    }

    /// What the server answered, shown at the fields until the next edit.
    pub fn answer(&self, issues: Vec<Issue>) {
        self.server.set(issues);
    }

    /// The document changed: the server's answer is about another one.
    pub fn edited(&self) {
        if !self.server.with_untracked(Vec::is_empty) {
            self.server.set(Vec::new());
        }
        self.revision.update(|r| *r += 1);
    }

    /// How many times the document was edited (tracked).
    pub fn revision(&self) -> u64 {
        self.revision.get()
    }

    /// What to show at `field`, given the form's own findings (tracked).
    pub fn at(&self, local: &[Issue], field: &str) -> Vec<Issue> {
        let attempted = self.attempted.get();
        self.touched.with(|touched| {
            self.server.with(|server| {
                shown_at(local, server, field, |f| {
                    attempted || touched.iter().any(|t| within(f, t))
                })
            })
        })
    }

    /// Whether some required field's error is not shown yet (tracked).
    pub fn waiting(&self, local: &[Issue]) -> bool {
        let attempted = self.attempted.get();
        !attempted
            && self.touched.with(|touched| {
                local.iter().any(|i| {
                    i.severity == Severity::Error
                        && is_required(i)
                        && !touched.iter().any(|t| within(&i.field, t))
                })
            })
    }

    /// Errors that block proposing: the form's own and the server's others (tracked).
    pub fn errors(&self, local: &[Issue]) -> usize {
        self.server.with(|server| {
            local
                .iter()
                .chain(server.iter().filter(|s| !same_in(local, s)))
                .filter(|i| i.severity == Severity::Error)
                .count()
        })
    }
}

/// The form's state, when the component is inside a form.
pub(super) fn use_form() -> Option<FormState> {
    use_context::<FormState>()
}

/// Whether an issue is about `field` (or an item of it: `spec.allowed_ips[2]`).
pub(super) fn at_field(issue: &Issue, field: &str) -> bool {
    issue.field == field
        || issue
            .field
            .strip_prefix(field)
            .is_some_and(|rest| rest.starts_with('['))
}

/// Whether `field` is `touched` or inside it.
fn within(field: &str, touched: &str) -> bool {
    field
        .strip_prefix(touched)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
}

/// A missing required value: shown only once the field was touched (or proposing was tried).
pub(super) fn is_required(issue: &Issue) -> bool {
    matches!(issue.code.as_str(), "required" | "target_required")
}

fn same_in(list: &[Issue], issue: &Issue) -> bool {
    list.iter()
        .any(|i| i.field == issue.field && i.message == issue.message)
}

/// The findings to show at `field`: the form's own (a required one only when `shows_required`
/// says so for its field), then the server's that the form does not already say.
pub(super) fn shown_at(
    local: &[Issue],
    server: &[Issue],
    field: &str,
    shows_required: impl Fn(&str) -> bool,
) -> Vec<Issue> {
    let mine = local
        .iter()
        .filter(|i| at_field(i, field) && (!is_required(i) || shows_required(&i.field)));
    let theirs = server
        .iter()
        .filter(|s| at_field(s, field) && !same_in(local, s));
    mine.chain(theirs).cloned().collect()
}

/// A field named in an API error, as a path in the edited document:
/// `edits[0].document.spec.proxy` → `spec.proxy`; the metadata (a rename onto an existing
/// resource) → `metadata.name`. Fields outside a document (`edits[0].kind`, `title`) are not
/// the form's fields.
pub(super) fn document_field(field: &str) -> Option<String> {
    let rest = field.strip_prefix("edits[")?;
    let (index, rest) = rest.split_once(']')?;
    if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match rest.strip_prefix(".document")? {
        "" => None,
        ".metadata" => Some("metadata.name".into()),
        path => path.strip_prefix('.').map(str::to_owned),
    }
}

/// What the server's refusal says about the form's fields: the issues it lists, and its error
/// as an issue at the document field it names.
pub(super) fn server_issues(error: &ApiError) -> Vec<Issue> {
    let mut issues = error.issues.clone();
    if let Some(field) = error.field.as_deref().and_then(document_field) {
        issues.push(Issue {
            resource: String::new(),
            field,
            severity: Severity::Error,
            code: error.code.clone(),
            message: error.message.clone(),
        });
    }
    issues
}

/// A form's default change title: a resumed draft keeps its own; an edit names the resource;
/// a new resource is named as its name and namespace are typed.
pub(super) fn title_for(
    kind: &'static str,
    resumed: Option<String>,
    original: Option<&(String, String)>,
    doc: RwSignal<serde_json::Value>,
) -> Signal<String> {
    use crate::titles::{Verb, change_title};
    match (resumed, original) {
        (Some(title), _) => Signal::stored(title),
        (None, Some((ns, name))) => Signal::stored(change_title(Verb::Edit, kind, ns, name)),
        (None, None) => Signal::derive(move || {
            doc.with(|d| {
                let meta = &d["metadata"];
                change_title(
                    Verb::Add,
                    kind,
                    meta["namespace"].as_str().unwrap_or_default(),
                    meta["name"].as_str().unwrap_or_default(),
                )
            })
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(field: &str, code: &str, message: &str) -> Issue {
        Issue {
            resource: "ApiDefinition/default/a".into(),
            field: field.into(),
            severity: Severity::Error,
            code: code.into(),
            message: message.into(),
        }
    }

    #[test]
    fn required_errors_wait_for_their_field() {
        let local = vec![
            issue("metadata.name", "required", "a name is required"),
            issue("spec.proxy.listen_path", "listen_path_taken", "taken"),
        ];
        let untouched = |_: &str| false;
        assert!(shown_at(&local, &[], "metadata.name", untouched).is_empty());
        assert_eq!(
            shown_at(&local, &[], "spec.proxy.listen_path", untouched).len(),
            1,
            "other errors show at once"
        );
        let touched = |f: &str| within(f, "metadata.name");
        assert_eq!(shown_at(&local, &[], "metadata.name", touched).len(), 1);
        // A grant's select touches the grant; its name's error is inside it.
        assert!(within(
            "spec.access_rights_array[0].name",
            "spec.access_rights_array[0]"
        ));
        assert!(!within(
            "spec.access_rights_array[10]",
            "spec.access_rights_array[1]"
        ));
    }

    #[test]
    fn server_issues_land_at_their_field_once() {
        let local = vec![issue(
            "spec.proxy.listen_path",
            "listen_path_taken",
            "taken",
        )];
        let server = vec![
            issue("spec.proxy.listen_path", "listen_path_taken", "taken"),
            issue("spec.proxy.target_url", "schema", "not a URI"),
        ];
        let all = |_: &str| true;
        assert_eq!(
            shown_at(&local, &server, "spec.proxy.listen_path", all).len(),
            1
        );
        let target = shown_at(&local, &server, "spec.proxy.target_url", all);
        assert_eq!(target[0].message, "not a URI");
    }

    #[test]
    fn error_fields_map_to_document_paths() {
        assert_eq!(
            document_field("edits[0].document.spec.proxy").as_deref(),
            Some("spec.proxy")
        );
        assert_eq!(
            document_field("edits[12].document.metadata").as_deref(),
            Some("metadata.name")
        );
        assert_eq!(document_field("edits[0].kind"), None);
        assert_eq!(document_field("edits[0]"), None);
        assert_eq!(document_field("title"), None);
        let mut error = ApiError::new("already_exists", "ApiDefinition/default/b already exists")
            .at("edits[0].document.metadata");
        error.issues = vec![issue("spec.name", "required", "a name")];
        let fields: Vec<String> = server_issues(&error).into_iter().map(|i| i.field).collect();
        assert_eq!(fields, ["spec.name", "metadata.name"]);
    }
}
