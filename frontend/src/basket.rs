//! The change being collected: edits from several forms, added with *Add to change*, kept in
//! the browser (`localStorage`, so it survives navigation and reloads) and proposed together
//! from `/changes/new` as one change request with one commit. While it holds edits, the forms
//! check against the repo *with* them (a policy may grant an API the change creates) and the
//! policy form offers its APIs to grant. Tabs of the same browser share it.

use crate::api::EditRequest;
use crate::validate::Environment;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where the browser keeps the collected change.
#[cfg(feature = "hydrate")]
const STORAGE_KEY: &str = "tollgate.change";

/// The collected edits, at most one per resource (`kind/namespace/name` as the edit names it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Basket {
    pub edits: Vec<EditRequest>,
}

/// A resource a collected edit leaves in the repo, as the grant picker offers it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Collected {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

fn text<'v>(doc: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter()
        .try_fold(doc, |n, k| n.get(*k))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

impl Basket {
    /// Adds `edits`, each replacing the collected edit of the same resource.
    pub fn put(&mut self, edits: Vec<EditRequest>) {
        for edit in edits {
            match self.edits.iter_mut().find(|e| same_resource(e, &edit)) {
                Some(slot) => *slot = edit,
                None => self.edits.push(edit),
            }
        }
    }

    /// Removes the edit at `index` (nothing if there is none).
    pub fn remove(&mut self, index: usize) {
        if index < self.edits.len() {
            self.edits.remove(index);
        }
    }

    /// The resource an edit leaves behind: its document's `namespace/name` (a rename), or
    /// `None` for a deletion or an edit without a document.
    pub fn result_of(edit: &EditRequest) -> Option<Collected> {
        let doc = edit.document.as_ref()?;
        Some(Collected {
            kind: edit.kind.clone(),
            namespace: text(doc, &["metadata", "namespace"])
                .unwrap_or(&edit.namespace)
                .to_owned(),
            name: text(doc, &["metadata", "name"])
                .unwrap_or(&edit.name)
                .to_owned(),
        })
    }

    /// The APIs the collected edits create or keep (what a policy may grant).
    pub fn apis(&self) -> Vec<Collected> {
        self.edits
            .iter()
            .filter(|e| matches!(e.kind.as_str(), "ApiDefinition" | "TykOasApiDefinition"))
            .filter_map(Self::result_of)
            .collect()
    }

    /// `repo` (the validation context of the repo as it is) as it would be with the collected
    /// edits: what each edit replaces or deletes goes, what its document brings comes in.
    pub fn environment(&self, repo: &Environment) -> Environment {
        let mut env = repo.clone();
        for edit in &self.edits {
            env.remove(&edit.kind, &edit.namespace, &edit.name);
            let (Some(doc), Some(to)) = (&edit.document, Self::result_of(edit)) else {
                continue;
            };
            env.remove(&to.kind, &to.namespace, &to.name);
            if to.kind == "TykOasApiDefinition" {
                let document = self.oas_document(doc, &to.namespace);
                env.add_oas(&to.namespace, &to.name, document.as_ref());
            } else {
                env.add(&to.kind, &to.namespace, &to.name, doc);
            }
        }
        env
    }

    /// The OAS document an OAS API's collected ConfigMap holds, if the change has it.
    fn oas_document(&self, cr: &Value, namespace: &str) -> Option<Value> {
        let reference = &cr["spec"]["tykOAS"]["configmapRef"];
        let name = text(reference, &["name"])?;
        let ns = text(reference, &["namespace"]).unwrap_or(namespace);
        let key = text(reference, &["keyName"]).unwrap_or("oas.json");
        self.edits
            .iter()
            .filter(|e| e.kind == "ConfigMap")
            .filter_map(|e| Some((Self::result_of(e)?, e.document.as_ref()?)))
            .find(|(to, _)| to.namespace == ns && to.name == name)
            .and_then(|(_, cm)| serde_json::from_str(cm["data"][key].as_str()?).ok())
    }

    /// A title for the whole change, from what it holds.
    pub fn default_title(&self) -> String {
        let names: Vec<String> = self
            .edits
            .iter()
            .filter(|e| e.kind != "ConfigMap")
            .map(|e| {
                let to = Self::result_of(e);
                let (ns, name) = to
                    .as_ref()
                    .map_or((e.namespace.as_str(), e.name.as_str()), |t| {
                        (t.namespace.as_str(), t.name.as_str())
                    });
                format!("{ns}/{name}")
            })
            .collect();
        match names.as_slice() {
            [] => "Change".to_owned(),
            [one] => format!("Change {one}"),
            [first, .., last] if names.len() > 3 => {
                format!("Change {first}, {last} and {} more", names.len() - 2)
            }
            [init @ .., last] => format!("Change {} and {last}", init.join(", ")),
        }
    }
}

fn same_resource(a: &EditRequest, b: &EditRequest) -> bool {
    a.kind == b.kind && a.namespace == b.namespace && a.name == b.name
}

/// The collected change, shared by the header, the forms and `/changes/new`. On the server
/// and until the app hydrated it is empty and not `loaded`; then it is read from storage.
#[derive(Debug, Clone, Copy)]
pub struct BasketState {
    basket: RwSignal<Basket>,
    loaded: RwSignal<bool>,
}

impl BasketState {
    /// Creates the state for the app and reads the stored change once the whole page has
    /// hydrated (so the server's page and the browser's first render agree, lazily loaded
    /// pages included: their part may arrive after the app's own effects ran).
    pub fn provide() -> Self {
        let state = Self {
            basket: RwSignal::new(Basket::default()),
            loaded: RwSignal::new(false),
        };
        provide_context(state);
        #[cfg(feature = "hydrate")]
        {
            let read = move || {
                state.basket.set(load());
                state.loaded.set(true);
                // What another tab collects or proposes shows here too.
                let basket = state.basket;
                let _ = leptos::leptos_dom::helpers::window_event_listener(
                    leptos::ev::storage,
                    move |ev| {
                        if ev.key().is_none_or(|key| key == STORAGE_KEY) {
                            basket.set(load());
                        }
                    },
                );
            };
            let hydrated = document()
                .body()
                .is_some_and(|body| body.has_attribute("data-hydrated"));
            if hydrated {
                read();
            } else {
                let once = StoredValue::new(Some(read));
                let _ = leptos::leptos_dom::helpers::window_event_listener_untyped(
                    crate::HYDRATED_EVENT,
                    move |_| {
                        if let Some(read) = once.try_update_value(Option::take).flatten() {
                            read();
                        }
                    },
                );
            }
        }
        state
    }

    /// Whether the stored change was read (tracked).
    pub fn loaded(&self) -> bool {
        self.loaded.get()
    }

    /// Reads the collected change (tracked).
    pub fn with<R>(&self, f: impl FnOnce(&Basket) -> R) -> R {
        self.basket.with(f)
    }

    /// Reads the collected change without tracking it.
    pub fn with_untracked<R>(&self, f: impl FnOnce(&Basket) -> R) -> R {
        self.basket.with_untracked(f)
    }

    /// How many edits it holds (tracked).
    pub fn len(&self) -> usize {
        self.basket.with(|b| b.edits.len())
    }

    /// Whether it holds nothing (tracked).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Changes it and stores the result.
    pub fn update(&self, f: impl FnOnce(&mut Basket)) {
        self.basket.update(f);
        self.basket.with_untracked(store);
    }

    /// `repo` with the collected edits, recomputed when they change.
    pub fn context(&self, repo: Environment) -> Memo<Environment> {
        let basket = self.basket;
        Memo::new(move |_| basket.with(|b| b.environment(&repo)))
    }
}

/// The app's collected change.
pub fn use_basket() -> BasketState {
    use_context::<BasketState>().unwrap_or_else(BasketState::provide)
}

#[cfg(feature = "hydrate")]
fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The stored change (none when storage is off or holds something unreadable).
#[cfg(feature = "hydrate")]
fn load() -> Basket {
    storage()
        .and_then(|s| s.get_item(STORAGE_KEY).ok()?)
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

fn store(basket: &Basket) {
    #[cfg(feature = "hydrate")]
    if let Some(storage) = storage() {
        // A full or disabled storage keeps the change for this page only.
        let _ = if basket.edits.is_empty() {
            storage.remove_item(STORAGE_KEY)
        } else {
            match serde_json::to_string(basket) {
                Ok(text) => storage.set_item(STORAGE_KEY, &text),
                Err(_) => Ok(()),
            }
        };
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = basket;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc_edit(kind: &str, ns: &str, name: &str, doc: Value) -> EditRequest {
        EditRequest {
            kind: kind.into(),
            namespace: ns.into(),
            name: name.into(),
            document: Some(doc),
            merge_patch: None,
            yaml: None,
            delete: false,
        }
    }

    fn api(ns: &str, name: &str, listen_path: &str) -> EditRequest {
        doc_edit(
            "ApiDefinition",
            ns,
            name,
            json!({"kind": "ApiDefinition", "metadata": {"name": name, "namespace": ns},
                   "spec": {"proxy": {"listen_path": listen_path}}}),
        )
    }

    fn policy(ns: &str, name: &str, grants: &str) -> EditRequest {
        doc_edit(
            "SecurityPolicy",
            ns,
            name,
            json!({"kind": "SecurityPolicy", "metadata": {"name": name, "namespace": ns},
                   "spec": {"access_rights_array": [{"name": grants, "namespace": ns, "kind": "ApiDefinition"}]}}),
        )
    }

    #[test]
    fn an_edit_replaces_the_one_of_the_same_resource() {
        let mut basket = Basket::default();
        basket.put(vec![api("shop", "orders", "/a/")]);
        basket.put(vec![policy("shop", "gold", "orders")]);
        basket.put(vec![api("shop", "orders", "/b/")]);
        assert_eq!(basket.edits.len(), 2);
        assert_eq!(
            basket.edits[0]
                .document
                .as_ref()
                .map(|d| &d["spec"]["proxy"]["listen_path"]),
            Some(&json!("/b/")),
            "replaced in place"
        );
        basket.remove(0);
        basket.remove(7);
        assert_eq!(basket.edits.len(), 1);
        assert_eq!(basket.edits[0].kind, "SecurityPolicy");
    }

    #[test]
    fn the_context_holds_the_collected_resources() {
        let mut repo = Environment::default();
        repo.add(
            "ApiDefinition",
            "shop",
            "old",
            &json!({"spec": {"proxy": {"listen_path": "/old/"}}}),
        );
        let mut basket = Basket::default();
        // A new API, and a rename of `old` to `older`.
        basket.put(vec![api("shop", "orders", "/orders/")]);
        basket.put(vec![doc_edit(
            "ApiDefinition",
            "shop",
            "old",
            json!({"metadata": {"name": "older", "namespace": "shop"}}),
        )]);
        let env = basket.environment(&repo);
        let names: Vec<&str> = env.apis.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["orders", "older"]);
        // A policy granting the collected API is fine; one granting the renamed-away one is not.
        let fine = crate::validate::validate_in_context(
            &env,
            "SecurityPolicy",
            None,
            "default",
            &json!({"metadata": {"name": "gold", "namespace": "shop"},
                    "spec": {"access_rights_array": [{"name": "orders", "namespace": "shop"}]}}),
        );
        assert_eq!(fine, []);
        let missing = crate::validate::validate_in_context(
            &env,
            "SecurityPolicy",
            None,
            "default",
            &json!({"metadata": {"name": "gold", "namespace": "shop"},
                    "spec": {"access_rights_array": [{"name": "old", "namespace": "shop"}]}}),
        );
        assert_eq!(
            missing.iter().map(|i| i.code.as_str()).collect::<Vec<_>>(),
            ["missing_api"]
        );
        assert_eq!(
            basket.apis(),
            [
                Collected {
                    kind: "ApiDefinition".into(),
                    namespace: "shop".into(),
                    name: "orders".into()
                },
                Collected {
                    kind: "ApiDefinition".into(),
                    namespace: "shop".into(),
                    name: "older".into()
                }
            ]
        );
    }

    #[test]
    fn a_collected_oas_api_brings_its_listen_path() {
        let mut basket = Basket::default();
        basket.put(vec![
            doc_edit(
                "TykOasApiDefinition",
                "shop",
                "pets",
                json!({"metadata": {"name": "pets", "namespace": "shop"},
                       "spec": {"tykOAS": {"configmapRef": {"name": "pets-oas", "keyName": "oas.json"}}}}),
            ),
            doc_edit(
                "ConfigMap",
                "shop",
                "pets-oas",
                json!({"metadata": {"name": "pets-oas", "namespace": "shop"},
                       "data": {"oas.json": r#"{"x-tyk-api-gateway": {"server": {"listenPath": {"value": "/pets/"}}}}"#}}),
            ),
        ]);
        let env = basket.environment(&Environment::default());
        assert_eq!(env.apis.len(), 1);
        assert_eq!(env.apis[0].listen_path.as_deref(), Some("/pets/"));
        assert_eq!(basket.default_title(), "Change shop/pets");
    }

    #[test]
    fn titles_name_what_the_change_holds() {
        let mut basket = Basket::default();
        assert_eq!(basket.default_title(), "Change");
        basket.put(vec![
            api("shop", "orders", "/o/"),
            policy("shop", "gold", "orders"),
        ]);
        assert_eq!(basket.default_title(), "Change shop/orders and shop/gold");
        basket.put(vec![api("a", "b", "/b/"), api("c", "d", "/d/")]);
        assert_eq!(basket.default_title(), "Change shop/orders, c/d and 2 more");
    }
}
