//! Deleting an API that policies still grant: the rules refuse the delete alone (the grant
//! would point at nothing), so the delete offers one change that also removes the grant from
//! each policy.

use crate::api::{CreateChangeRequest, EditRequest};
use crate::data;
use crate::titles::{Verb, change_title};
use crate::ui::ErrorBox;
use crate::validate::Environment;
use leptos::prelude::*;
use serde_json::Value;

/// The policies (`namespace`, `name`) that grant the API `kind` `namespace/name`, once each.
pub fn granting_policies(
    env: &Environment,
    kind: &str,
    namespace: &str,
    name: &str,
) -> Vec<(String, String)> {
    let mut policies: Vec<(String, String)> = env
        .grants
        .iter()
        .filter(|g| g.api_kind == kind && g.api_namespace == namespace && g.api_name == name)
        .map(|g| (g.policy_namespace.clone(), g.policy_name.clone()))
        .collect();
    policies.sort();
    policies.dedup();
    policies
}

/// `policy` (a `SecurityPolicy` in `policy_namespace`) without its grants of the API `kind`
/// `namespace/name`; a grant without a namespace is in the policy's, without a kind an
/// `ApiDefinition`. `None` when it grants nothing of the kind.
pub fn without_grant(
    policy: &Value,
    policy_namespace: &str,
    kind: &str,
    namespace: &str,
    name: &str,
) -> Option<Value> {
    let grants = policy["spec"]["access_rights_array"].as_array()?;
    let grants_it = |g: &Value| {
        g["name"].as_str() == Some(name)
            && g["namespace"].as_str().unwrap_or(policy_namespace) == namespace
            && g["kind"].as_str().unwrap_or("ApiDefinition") == kind
    };
    if !grants.iter().any(grants_it) {
        return None;
    }
    let kept: Vec<Value> = grants.iter().filter(|g| !grants_it(g)).cloned().collect();
    let mut policy = policy.clone();
    policy["spec"]["access_rights_array"] = Value::Array(kept);
    Some(policy)
}

/// The change that deletes the API and removes its grants from `policies` (their documents).
pub fn delete_with_grants(
    kind: &str,
    namespace: &str,
    name: &str,
    policies: &[(String, String, Value)],
) -> CreateChangeRequest {
    let mut edits = vec![EditRequest {
        kind: kind.to_owned(),
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        document: None,
        merge_patch: None,
        yaml: None,
        delete: true,
    }];
    for (ns, policy, doc) in policies {
        if let Some(document) = without_grant(doc, ns, kind, namespace, name) {
            edits.push(EditRequest {
                kind: "SecurityPolicy".to_owned(),
                namespace: ns.clone(),
                name: policy.clone(),
                document: Some(document),
                merge_patch: None,
                yaml: None,
                delete: false,
            });
        }
    }
    let names: Vec<String> = policies
        .iter()
        .map(|(ns, n, _)| format!("{ns}/{n}"))
        .collect();
    CreateChangeRequest {
        title: format!(
            "{} and its grant in {}",
            change_title(Verb::Delete, kind, namespace, name),
            names.join(", ")
        ),
        description: String::new(),
        edits,
    }
}

/// Next to *Propose delete*: the policies that grant the API, and a button that proposes the
/// delete together with removing those grants.
#[component]
pub(super) fn RemoveGrants(kind: String, namespace: String, name: String) -> impl IntoView {
    let context = Resource::new(|| (), |_| data::validation_context());
    let failed = RwSignal::new(None::<crate::api::ApiError>);
    let proposing = crate::client::Action::new();
    let loading = RwSignal::new(false);
    let navigate = leptos_router::hooks::use_navigate();
    let key = (kind, namespace, name);
    view! {
        <Suspense fallback=|| ()>
            {move || context.get().and_then(Result::ok).map(|env| {
                let (kind, namespace, name) = key.clone();
                let policies = granting_policies(&env, &kind, &namespace, &name);
                (!policies.is_empty()).then(|| {
                    let listed = policies.iter().map(|(ns, n)| format!("{ns}/{n}")).collect::<Vec<_>>().join(", ");
                    let navigate = navigate.clone();
                    let propose = move |_| {
                        let (kind, namespace, name, policies) = (kind.clone(), namespace.clone(), name.clone(), policies.clone());
                        let navigate = navigate.clone();
                        loading.set(true);
                        leptos::task::spawn_local(async move {
                            let mut docs = Vec::new();
                            for (ns, n) in policies {
                                match data::detail("SecurityPolicy".into(), ns.clone(), n.clone()).await {
                                    Ok(d) => docs.push((ns, n, d.document)),
                                    Err(e) => {
                                        loading.set(false);
                                        failed.set(Some(e));
                                        return;
                                    }
                                }
                            }
                            loading.set(false);
                            let request = delete_with_grants(&kind, &namespace, &name, &docs);
                            proposing.run(crate::client::create_change(&request), move |answer| match answer {
                                Ok(c) => navigate(&format!("/changes/{}", c.id), Default::default()),
                                Err(e) => failed.set(Some(e)),
                            });
                        });
                    };
                    view! {
                        <p class="note" id="granted-note">{format!("Granted by {listed}: deleting it alone is refused while a policy grants it.")}</p>
                        <button type="button" id="delete-with-grants" class="danger" disabled=move || loading.get() || proposing.busy() on:click=propose>"Also remove the grant"</button>
                    }
                })
            })}
        </Suspense>
        {move || failed.get().map(|error| view! { <ErrorBox error/> })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn removing_a_grant_keeps_the_others() {
        let policy = json!({"spec": {"access_rights_array": [
            {"name": "payments-api", "namespace": "payments", "kind": "ApiDefinition"},
            {"name": "refunds", "namespace": "payments", "kind": "ApiDefinition", "versions": ["Default"]},
            {"name": "refunds"},
            {"name": "refunds", "namespace": "catalog"},
        ]}});
        let kept = without_grant(&policy, "payments", "ApiDefinition", "payments", "refunds")
            .expect("grants it");
        assert_eq!(
            kept["spec"]["access_rights_array"],
            json!([
                {"name": "payments-api", "namespace": "payments", "kind": "ApiDefinition"},
                {"name": "refunds", "namespace": "catalog"},
            ])
        );
        assert_eq!(
            without_grant(&policy, "payments", "ApiDefinition", "payments", "invoices"),
            None
        );
        let request = delete_with_grants(
            "ApiDefinition",
            "payments",
            "refunds",
            &[("payments".into(), "payments-standard".into(), policy)],
        );
        assert_eq!(
            request.title,
            "Delete API payments/refunds and its grant in payments/payments-standard"
        );
        assert_eq!(request.edits.len(), 2);
        assert!(request.edits[0].delete);
        assert_eq!(request.edits[1].name, "payments-standard");
    }
}
