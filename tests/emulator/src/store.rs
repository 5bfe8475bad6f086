//! The emulated cluster's state: registered types, objects, and the event log watches read.

use crate::fields;
use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// A resource type the emulator serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeInfo {
    pub group: String,
    pub version: String,
    pub plural: String,
    pub kind: String,
    pub namespaced: bool,
    pub status_subresource: bool,
}

impl TypeInfo {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// A change, as a watch reports it.
#[derive(Debug, Clone)]
pub struct Event {
    pub rv: u64,
    pub group: String,
    pub plural: String,
    pub namespace: String,
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub kind: &'static str,
    pub object: Value,
}

/// An error as the API server reports it (a `Status` object).
#[derive(Debug, Clone)]
pub struct ApiErr {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
}

impl ApiErr {
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
        }
    }

    pub fn status(&self) -> Value {
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": self.message, "reason": self.reason, "code": self.code})
    }
}

type Key = (String, String, String, String);

struct Inner {
    rv: u64,
    uid: u64,
    types: BTreeMap<(String, String), TypeInfo>,
    objects: BTreeMap<Key, Value>,
    log: VecDeque<Arc<Event>>,
    /// Watches from resource versions at or below this get `410 Gone`.
    compacted: u64,
}

/// The whole state of one emulated cluster.
pub struct Store {
    inner: Mutex<Inner>,
    tx: broadcast::Sender<Arc<Event>>,
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

/// How many events the log keeps before compacting.
const LOG_LIMIT: usize = 10_000;

/// Now, to the second, as the API server writes times (RFC 3339).
pub(crate) fn now() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// RFC 6902 JSON patch; a malformed or failing patch is `422 Invalid`, as the API server has it.
fn json_patch(target: &mut Value, ops: &Value) -> Result<(), ApiErr> {
    let bad = |m: String| ApiErr::new(422, "Invalid", m);
    let patch: json_patch::Patch = serde_json::from_value(ops.clone())
        .map_err(|e| bad(format!("the JSON patch does not read: {e}")))?;
    json_patch::patch(target, &patch).map_err(|e| bad(e.to_string()))
}

/// Deep merge for server-side apply: mappings merge, everything else is replaced.
fn apply_merge(target: &mut Value, applied: &Value) {
    match (target, applied) {
        (Value::Object(t), Value::Object(a)) => {
            for (k, v) in a {
                match t.get_mut(k) {
                    Some(tv) if tv.is_object() && v.is_object() => apply_merge(tv, v),
                    _ => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (t, a) => *t = a.clone(),
    }
}

/// How a PATCH body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    Merge,
    Json,
    Apply,
}

impl Store {
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(4096);
        let store = Self {
            inner: Mutex::new(Inner {
                rv: 1,
                uid: 0,
                types: BTreeMap::new(),
                objects: BTreeMap::new(),
                log: VecDeque::new(),
                compacted: 0,
            }),
            tx,
        };
        for (group, version, plural, kind, namespaced) in [
            ("", "v1", "configmaps", "ConfigMap", true),
            ("", "v1", "secrets", "Secret", true),
            ("", "v1", "namespaces", "Namespace", false),
            (
                "apiextensions.k8s.io",
                "v1",
                "customresourcedefinitions",
                "CustomResourceDefinition",
                false,
            ),
        ] {
            store.register(TypeInfo {
                group: group.into(),
                version: version.into(),
                plural: plural.into(),
                kind: kind.into(),
                namespaced,
                status_subresource: false,
            });
        }
        store
    }

    /// Registers the Tyk Operator's kinds and the GitOps agents' objects without their CRD
    /// files (the emulator does not validate schemas), so the demo needs nothing beside the
    /// binary.
    pub fn register_builtin_crds(&self) {
        for (group, version, plural, kind) in [
            ("tyk.tyk.io", "v1alpha1", "apidefinitions", "ApiDefinition"),
            (
                "tyk.tyk.io",
                "v1alpha1",
                "securitypolicies",
                "SecurityPolicy",
            ),
            (
                "tyk.tyk.io",
                "v1alpha1",
                "tykoasapidefinitions",
                "TykOasApiDefinition",
            ),
            ("argoproj.io", "v1alpha1", "applications", "Application"),
            (
                "kustomize.toolkit.fluxcd.io",
                "v1",
                "kustomizations",
                "Kustomization",
            ),
        ] {
            self.register(TypeInfo {
                group: group.into(),
                version: version.into(),
                plural: plural.into(),
                kind: kind.into(),
                namespaced: true,
                status_subresource: true,
            });
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn register(&self, t: TypeInfo) {
        self.lock()
            .types
            .insert((t.group.clone(), t.plural.clone()), t);
    }

    /// Registers the types a CRD object defines (its storage version, or the first).
    pub fn register_crd(&self, crd: &Value) -> Result<(), String> {
        let mut inner = self.lock();
        self.register_crd_locked(&mut inner, crd)
    }

    pub fn types(&self) -> Vec<TypeInfo> {
        self.lock().types.values().cloned().collect()
    }

    pub fn type_for(&self, group: &str, version: &str, plural: &str) -> Option<TypeInfo> {
        self.lock()
            .types
            .get(&(group.to_owned(), plural.to_owned()))
            .filter(|t| t.version == version)
            .cloned()
    }

    pub fn resource_version(&self) -> u64 {
        self.lock().rv
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }

    /// Forgets the event log: watches from any earlier resource version get `410 Gone`.
    pub fn compact(&self) {
        let mut inner = self.lock();
        inner.compacted = inner.rv;
        inner.log.clear();
    }

    pub fn list(&self, t: &TypeInfo, namespace: Option<&str>) -> (Vec<Value>, u64) {
        let inner = self.lock();
        let items = inner
            .objects
            .iter()
            .filter(|((g, p, ns, _), _)| {
                *g == t.group && *p == t.plural && namespace.is_none_or(|n| n == ns)
            })
            .map(|(_, v)| v.clone())
            .collect();
        (items, inner.rv)
    }

    pub fn get(&self, t: &TypeInfo, namespace: &str, name: &str) -> Option<Value> {
        self.lock()
            .objects
            .get(&(
                t.group.clone(),
                t.plural.clone(),
                namespace.to_owned(),
                name.to_owned(),
            ))
            .cloned()
    }

    /// Events after `rv` for a type (and namespace); `Err` when `rv` was compacted away.
    pub fn events_since(
        &self,
        t: &TypeInfo,
        namespace: Option<&str>,
        rv: u64,
    ) -> Result<Vec<Arc<Event>>, ApiErr> {
        let inner = self.lock();
        if rv < inner.compacted {
            return Err(ApiErr::new(
                410,
                "Expired",
                format!("too old resource version: {rv} ({})", inner.compacted),
            ));
        }
        Ok(inner
            .log
            .iter()
            .filter(|e| {
                e.rv > rv
                    && e.group == t.group
                    && e.plural == t.plural
                    && namespace.is_none_or(|n| n == e.namespace)
            })
            .cloned()
            .collect())
    }

    fn commit(
        &self,
        inner: &mut Inner,
        t: &TypeInfo,
        key: Key,
        mut obj: Value,
        kind: &'static str,
    ) -> Value {
        inner.rv += 1;
        let rv = inner.rv;
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        if kind == "DELETED" {
            inner.objects.remove(&key);
        } else {
            inner.objects.insert(key.clone(), obj.clone());
        }
        let event = Arc::new(Event {
            rv,
            group: t.group.clone(),
            plural: t.plural.clone(),
            namespace: key.2.clone(),
            kind,
            object: obj.clone(),
        });
        inner.log.push_back(Arc::clone(&event));
        if inner.log.len() > LOG_LIMIT
            && let Some(old) = inner.log.pop_front()
        {
            inner.compacted = old.rv;
        }
        let _ = self.tx.send(event);
        if t.kind == "CustomResourceDefinition" && kind != "DELETED" {
            let _ = self.register_crd_locked(inner, &obj);
        }
        obj
    }

    fn register_crd_locked(&self, inner: &mut Inner, crd: &Value) -> Result<(), String> {
        let spec = &crd["spec"];
        let versions = spec["versions"].as_array().ok_or("CRD without versions")?;
        let version = versions
            .iter()
            .find(|v| v["storage"] == true)
            .or_else(|| versions.first())
            .ok_or("no versions")?;
        let t = TypeInfo {
            group: spec["group"].as_str().ok_or("no group")?.into(),
            version: version["name"].as_str().unwrap_or("v1").into(),
            plural: spec["names"]["plural"].as_str().ok_or("no plural")?.into(),
            kind: spec["names"]["kind"].as_str().ok_or("no kind")?.into(),
            namespaced: spec["scope"].as_str() != Some("Cluster"),
            status_subresource: version["subresources"]["status"].is_object(),
        };
        inner.types.insert((t.group.clone(), t.plural.clone()), t);
        Ok(())
    }

    fn key(t: &TypeInfo, namespace: &str, name: &str) -> Key {
        (
            t.group.clone(),
            t.plural.clone(),
            if t.namespaced {
                namespace.to_owned()
            } else {
                String::new()
            },
            name.to_owned(),
        )
    }

    /// POST: creates a new object.
    pub fn create(
        &self,
        t: &TypeInfo,
        namespace: &str,
        mut obj: Value,
        manager: &str,
        operation: &str,
    ) -> Result<Value, ApiErr> {
        let name = obj["metadata"]["name"]
            .as_str()
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| ApiErr::new(422, "Invalid", "metadata.name: Required value"))?;
        let mut inner = self.lock();
        let key = Self::key(t, namespace, &name);
        if inner.objects.contains_key(&key) {
            return Err(ApiErr::new(
                409,
                "AlreadyExists",
                format!("{}.{} \"{name}\" already exists", t.plural, t.group),
            ));
        }
        inner.uid += 1;
        obj["apiVersion"] = json!(t.api_version());
        obj["kind"] = json!(t.kind);
        if t.namespaced {
            obj["metadata"]["namespace"] = json!(namespace);
        }
        obj["metadata"]["uid"] = json!(format!("00000000-0000-4000-8000-{:012}", inner.uid));
        obj["metadata"]["creationTimestamp"] = json!(now());
        obj["metadata"]["generation"] = json!(1);
        if let Some(map) = obj["metadata"].as_object_mut() {
            map.remove("managedFields");
            map.remove("resourceVersion");
        }
        let owned = fields::fields_of(&obj);
        fields::record(&mut obj, manager, operation, None, &owned);
        Ok(self.commit(&mut inner, t, key, obj, "ADDED"))
    }

    /// PUT: replaces an object, if `resourceVersion` (when given) still matches.
    pub fn update(
        &self,
        t: &TypeInfo,
        namespace: &str,
        name: &str,
        mut obj: Value,
        manager: &str,
        status_only: bool,
    ) -> Result<Value, ApiErr> {
        let mut inner = self.lock();
        let key = Self::key(t, namespace, name);
        let old = inner.objects.get(&key).cloned().ok_or_else(|| {
            ApiErr::new(
                404,
                "NotFound",
                format!("{}.{} \"{name}\" not found", t.plural, t.group),
            )
        })?;
        if let Some(rv) = obj["metadata"]["resourceVersion"].as_str()
            && Some(rv) != old["metadata"]["resourceVersion"].as_str()
        {
            return Err(ApiErr::new(
                409,
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on {}.{} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                    t.plural, t.group
                ),
            ));
        }
        if status_only {
            let mut merged = old.clone();
            merged["status"] = obj["status"].take();
            obj = merged;
        } else {
            obj["status"] = old["status"].clone();
        }
        self.finish_write(&mut inner, t, key, old, obj, manager, "Update", status_only)
    }

    /// PATCH: merge, JSON or apply patches; apply creates the object when missing.
    #[expect(clippy::too_many_arguments)]
    pub fn patch(
        &self,
        t: &TypeInfo,
        namespace: &str,
        name: &str,
        kind: PatchKind,
        body: &Value,
        manager: &str,
        status_only: bool,
    ) -> Result<Value, ApiErr> {
        let key = Self::key(t, namespace, name);
        let old = self.lock().objects.get(&key).cloned();
        let Some(old) = old else {
            if kind == PatchKind::Apply {
                let mut obj = body.clone();
                obj["metadata"]["name"] = json!(name);
                return self.create(t, namespace, obj, manager, "Apply");
            }
            return Err(ApiErr::new(
                404,
                "NotFound",
                format!("{}.{} \"{name}\" not found", t.plural, t.group),
            ));
        };
        let mut new = old.clone();
        match kind {
            PatchKind::Merge => json_patch::merge(&mut new, body),
            PatchKind::Json => json_patch(&mut new, body)?,
            PatchKind::Apply => apply_merge(&mut new, body),
        }
        if status_only {
            let mut only = old.clone();
            only["status"] = new["status"].clone();
            new = only;
        } else if kind != PatchKind::Apply || body.get("status").is_none() {
            new["status"] = old["status"].clone();
        }
        for field in ["name", "namespace", "uid", "creationTimestamp"] {
            new["metadata"][field] = old["metadata"][field].clone();
        }
        let mut inner = self.lock();
        if kind == PatchKind::Apply {
            let owned = fields::fields_of(body);
            return self.finish_owned(
                &mut inner,
                t,
                key,
                old,
                new,
                manager,
                "Apply",
                status_only,
                &owned,
            );
        }
        self.finish_write(&mut inner, t, key, old, new, manager, "Update", status_only)
    }

    #[expect(clippy::too_many_arguments)]
    fn finish_write(
        &self,
        inner: &mut Inner,
        t: &TypeInfo,
        key: Key,
        old: Value,
        new: Value,
        manager: &str,
        operation: &str,
        status_only: bool,
    ) -> Result<Value, ApiErr> {
        let owned = fields::changed_fields(&old, &new);
        self.finish_owned(
            inner,
            t,
            key,
            old,
            new,
            manager,
            operation,
            status_only,
            &owned,
        )
    }

    #[expect(clippy::too_many_arguments)]
    fn finish_owned(
        &self,
        inner: &mut Inner,
        t: &TypeInfo,
        key: Key,
        old: Value,
        mut new: Value,
        manager: &str,
        operation: &str,
        status_only: bool,
        owned: &Value,
    ) -> Result<Value, ApiErr> {
        new["metadata"]["managedFields"] = old["metadata"]["managedFields"].clone();
        fields::record(
            &mut new,
            manager,
            operation,
            status_only.then_some("status"),
            owned,
        );
        if old["spec"] != new["spec"] || old["data"] != new["data"] {
            let generation = old["metadata"]["generation"].as_i64().unwrap_or(1);
            new["metadata"]["generation"] = json!(generation + 1);
        }
        // A deletion waits for its finalizers; the last one removed completes it.
        let finalizers_left = new["metadata"]["finalizers"]
            .as_array()
            .is_some_and(|f| !f.is_empty());
        if !new["metadata"]["deletionTimestamp"].is_null() && !finalizers_left {
            return Ok(self.commit(inner, t, key, new, "DELETED"));
        }
        if new == old {
            return Ok(old);
        }
        Ok(self.commit(inner, t, key, new, "MODIFIED"))
    }

    /// DELETE: removes the object, or marks it for deletion while finalizers remain.
    pub fn delete(&self, t: &TypeInfo, namespace: &str, name: &str) -> Result<Value, ApiErr> {
        let mut inner = self.lock();
        let key = Self::key(t, namespace, name);
        let mut obj = inner.objects.get(&key).cloned().ok_or_else(|| {
            ApiErr::new(
                404,
                "NotFound",
                format!("{}.{} \"{name}\" not found", t.plural, t.group),
            )
        })?;
        if obj["metadata"]["finalizers"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
        {
            if obj["metadata"]["deletionTimestamp"].is_null() {
                obj["metadata"]["deletionTimestamp"] = json!(now());
                return Ok(self.commit(&mut inner, t, key, obj, "MODIFIED"));
            }
            return Ok(obj);
        }
        Ok(self.commit(&mut inner, t, key, obj, "DELETED"))
    }
}
