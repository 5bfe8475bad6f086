//! Links between pages: a resource to its page, a commit to what made it.

use crate::data::encode;
use leptos::prelude::*;

/// The page of a resource: APIs, policies and OAS APIs have one; ConfigMaps do not.
pub fn resource_href(kind: &str, namespace: &str, name: &str) -> Option<String> {
    let section = match kind {
        "ApiDefinition" => "apis",
        "SecurityPolicy" => "policies",
        "TykOasApiDefinition" => "oas",
        _ => return None,
    };
    Some(format!("/{section}/{}/{}", encode(namespace), encode(name)))
}

/// The form that edits a resource, where it has one.
pub fn form_href(kind: &str, namespace: &str, name: &str) -> Option<String> {
    resource_href(kind, namespace, name).map(|page| format!("{page}/edit"))
}

/// `namespace/name`, linked to the resource's page when it has one.
#[component]
pub fn ResourceLink(kind: String, namespace: String, name: String) -> impl IntoView {
    let text = format!("{namespace}/{name}");
    match resource_href(&kind, &namespace, &name) {
        Some(href) => view! { <a class="resource-link" href=href>{text}</a> }.into_any(),
        None => view! { <span>{text}</span> }.into_any(),
    }
}

/// A commit's short sha, with the full sha as its title (there is no commit page).
#[component]
pub fn CommitSha(sha: String) -> impl IntoView {
    let short: String = sha.chars().take(7).collect();
    view! { <code class="sha" title=sha>{short}</code> }
}

#[cfg(test)]
mod tests {
    use super::{form_href, resource_href};

    #[test]
    fn each_kind_links_to_its_section() {
        assert_eq!(
            resource_href("ApiDefinition", "a", "b").as_deref(),
            Some("/apis/a/b")
        );
        assert_eq!(
            resource_href("SecurityPolicy", "a", "b").as_deref(),
            Some("/policies/a/b")
        );
        assert_eq!(
            form_href("TykOasApiDefinition", "a", "b").as_deref(),
            Some("/oas/a/b/edit")
        );
        assert_eq!(resource_href("ConfigMap", "a", "b"), None);
    }
}
