//! The rules every resource is checked by, the same in an edit and in the repo: the CRD schemas
//! (configured files and each cluster's own), the shared rules of `frontend::validate` (required
//! fields, enums, the operator's webhook rules) and the cross-resource rules (unique listen
//! paths per domain, references that must exist).
//!
//! An edit checks the documents it touches against the repo as it would be after it; the repo
//! check runs once per index and reports what fails as problems with file and line.

use crate::repo::{Problem, ProblemKind, RepoIndex};
use crate::resources::{Kind, ResourceKey, SchemaSources};
use crate::yaml;
use frontend::validate::{self, Environment, Issue, Severity};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Documents after a change: key → `Some(doc)`, or `None` when deleted.
pub type After = HashMap<ResourceKey, Option<Value>>;

/// The schema and per-kind rules for one document living at `file`. A ConfigMap is checked
/// through the OAS APIs that read it.
pub fn validate_document(
    index: &RepoIndex,
    after: &After,
    schemas: &SchemaSources,
    key: &ResourceKey,
    file: &str,
    doc: &Value,
) -> Vec<Issue> {
    let id = key.to_string();
    let mut issues = schemas.validate(key.kind, &id, file, doc);
    match key.kind {
        Kind::ApiDefinition => issues.extend(validate::validate_api(&id, doc)),
        Kind::SecurityPolicy => issues.extend(validate::validate_policy(&id, doc)),
        Kind::TykOasApiDefinition => issues.extend(validate::validate_oas(
            &id,
            doc,
            oas_document(index, after, key, doc).as_ref(),
        )),
        Kind::ConfigMap => {
            // The OAS APIs that read this ConfigMap, as they will be.
            for r in index.of_kind(Kind::TykOasApiDefinition) {
                if after.contains_key(&r.key) {
                    continue;
                }
                let Ok(cr) = r.resource.to_value() else {
                    continue;
                };
                let cm_ref = &cr["spec"]["tykOAS"]["configmapRef"];
                if cm_ref["name"].as_str() == Some(key.name.as_str())
                    && cm_ref["namespace"].as_str().unwrap_or(&r.key.namespace) == key.namespace
                {
                    issues.extend(validate::validate_oas(
                        &r.key.to_string(),
                        &cr,
                        oas_document(index, after, &r.key, &cr).as_ref(),
                    ));
                }
            }
        }
    }
    issues
}

/// The OAS APIs (`Kind/ns/name`) the change does not edit but whose ConfigMap it does: their
/// listen path changes with it, so the cross-resource rules count them as touched.
pub fn configmap_readers(index: &RepoIndex, after: &After) -> Vec<String> {
    let edited: Vec<&ResourceKey> = after.keys().filter(|k| k.kind == Kind::ConfigMap).collect();
    if edited.is_empty() {
        return Vec::new();
    }
    index
        .of_kind(Kind::TykOasApiDefinition)
        .filter(|r| !after.contains_key(&r.key))
        .filter(|r| {
            let Ok(cr) = r.resource.to_value() else {
                return false;
            };
            let cm_ref = &cr["spec"]["tykOAS"]["configmapRef"];
            edited.iter().any(|k| {
                cm_ref["name"].as_str() == Some(k.name.as_str())
                    && cm_ref["namespace"].as_str().unwrap_or(&r.key.namespace) == k.namespace
            })
        })
        .map(|r| r.key.to_string())
        .collect()
}

/// The OAS document a `TykOasApiDefinition` points at, after the change.
pub fn oas_document(
    index: &RepoIndex,
    after: &After,
    key: &ResourceKey,
    cr: &Value,
) -> Option<Value> {
    let cm_ref = &cr["spec"]["tykOAS"]["configmapRef"];
    let cm_key = ResourceKey::new(
        Kind::ConfigMap,
        cm_ref["namespace"].as_str().unwrap_or(&key.namespace),
        cm_ref["name"].as_str()?,
    );
    let cm = match after.get(&cm_key) {
        Some(doc) => doc.clone()?,
        None => index.get(&cm_key)?.resource.to_value().ok()?,
    };
    let text = cm["data"][cm_ref["keyName"].as_str()?].as_str()?.to_owned();
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        serde_json::from_str(trimmed).ok()
    } else {
        yaml::parse_document(&text, 1).ok()
    }
}

/// The managed documents of the repo as they would be after the change.
fn documents(index: &RepoIndex, after: &After) -> BTreeMap<ResourceKey, Value> {
    let mut docs: BTreeMap<ResourceKey, Value> = BTreeMap::new();
    for r in index.resources() {
        if r.key.kind != Kind::ConfigMap
            && let Ok(v) = r.resource.to_value()
        {
            docs.insert((*r.key).clone(), v);
        }
    }
    for (key, doc) in after {
        match doc {
            Some(doc) => docs.insert(key.clone(), doc.clone()),
            None => docs.remove(key),
        };
    }
    docs
}

/// The environment after the change, for the cross-resource rules.
pub fn environment(index: &RepoIndex, after: &After) -> Environment {
    let mut env = Environment::default();
    for (key, doc) in &documents(index, after) {
        add_to_environment(&mut env, index, after, key, doc);
    }
    env
}

/// Adds what one document brings to the environment (the same code the browser runs); an OAS
/// API brings the listen path of the document its ConfigMap holds after the change.
fn add_to_environment(
    env: &mut Environment,
    index: &RepoIndex,
    after: &After,
    key: &ResourceKey,
    doc: &Value,
) {
    if key.kind == Kind::TykOasApiDefinition {
        let document = oas_document(index, after, key, doc);
        env.add_oas(&key.namespace, &key.name, document.as_ref());
    } else {
        env.add(key.kind.as_str(), &key.namespace, &key.name, doc);
    }
}

/// One resource's share of the repo check: its own errors and what it adds to the environment.
#[derive(Debug)]
struct Part {
    errors: Vec<Issue>,
    environment: Environment,
}

/// Every managed resource of the repo checked with the rules an edit gets, each error a problem
/// at the resource's file and line. Built once per index; a resource the previous index
/// already checked (the same shared document, so the same file and text) is not serialised or
/// checked again unless the CRD schemas changed, so a one-file commit costs the cross-resource
/// rules (hash lookups) plus that file. OAS APIs are always re-checked: they read a ConfigMap.
#[derive(Debug, Default)]
pub struct RepoCheck {
    /// By the address of the indexed resource (alive as long as the index holding it).
    parts: HashMap<usize, Arc<Part>>,
    schemas: Vec<usize>,
    problems: Vec<Problem>,
    /// The repo's environment: what the browser checks edits against before proposing.
    environment: Arc<Environment>,
    /// Resources serialised and checked afresh (not taken over from the previous check).
    checked: usize,
}

impl RepoCheck {
    /// Checks `index`, reusing what `previous` found for resources it shares. `previous` must
    /// have been built from an index that is still alive (its resources' addresses are keys).
    pub fn new(index: &RepoIndex, schemas: &SchemaSources, previous: Option<&RepoCheck>) -> Self {
        let fingerprint = schemas.fingerprint();
        let reusable = previous.filter(|p| p.schemas == fingerprint);
        let mut parts = HashMap::new();
        let mut environment = Environment::default();
        let mut issues = Vec::new();
        let mut checked = 0;
        for r in index.resources() {
            if r.key.kind == Kind::ConfigMap {
                continue;
            }
            let address = Arc::as_ptr(&r.resource) as usize;
            let reused = reusable
                .filter(|_| r.key.kind != Kind::TykOasApiDefinition)
                .and_then(|p| p.parts.get(&address));
            let part = match reused {
                Some(part) => Arc::clone(part),
                None => {
                    let Ok(doc) = r.resource.to_value() else {
                        continue;
                    };
                    checked += 1;
                    let mut part = Part {
                        errors: validate_document(
                            index,
                            &After::new(),
                            schemas,
                            &r.key,
                            &r.path,
                            &doc,
                        ),
                        environment: Environment::default(),
                    };
                    part.errors.retain(|i| i.severity == Severity::Error);
                    add_to_environment(&mut part.environment, index, &After::new(), &r.key, &doc);
                    Arc::new(part)
                }
            };
            issues.extend(part.errors.iter().cloned());
            environment.extend(&part.environment);
            parts.insert(address, part);
        }
        issues.extend(validate::validate_whole_environment(&environment));
        Self {
            parts,
            schemas: fingerprint,
            problems: problems(index, issues),
            environment: Arc::new(environment),
            checked,
        }
    }

    /// How many resources this check serialised and checked afresh.
    pub fn checked(&self) -> usize {
        self.checked
    }

    /// Every API, policy and grant of the repo, as the cross-resource rules see them.
    pub fn environment(&self) -> &Arc<Environment> {
        &self.environment
    }

    /// The problems found, in path and line order.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

/// Checks every managed resource of the repo with the rules an edit gets, and reports each
/// error as a problem at the resource's file and line.
pub fn check_repo(index: &RepoIndex, schemas: &SchemaSources) -> Vec<Problem> {
    RepoCheck::new(index, schemas, None).problems
}

/// Errors as problems at their resource's file and line.
fn problems(index: &RepoIndex, issues: Vec<Issue>) -> Vec<Problem> {
    let mut problems: Vec<Problem> = issues
        .into_iter()
        .filter(|i| i.severity == Severity::Error)
        .filter_map(|issue| {
            let mut parts = issue.resource.splitn(3, '/');
            let (kind, ns, name) = (parts.next()?, parts.next()?, parts.next()?);
            let at = index.get(&ResourceKey::new(Kind::parse(kind)?, ns, name))?;
            Some(Problem {
                path: at.path.to_string(),
                line: Some(at.line),
                kind: ProblemKind::Invalid,
                message: format!(
                    "{kind} {ns}/{name}: {}: {} ({})",
                    issue.field, issue.message, issue.code
                ),
            })
        })
        .collect();
    problems.sort();
    problems.dedup();
    problems
}
