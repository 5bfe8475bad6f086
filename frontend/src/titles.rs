//! The titles a change request gets by default: they name the action and the resource
//! (`Add API payments/new-api`, `Edit payments/payments-api`, `Delete policy identity/jwt-default`).

/// What a change does to its resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Add,
    Edit,
    Delete,
}

/// How a title names a kind: `API`, `policy`, `OAS API`; another kind as it is spelled.
pub fn noun(kind: &str) -> &str {
    match kind {
        "ApiDefinition" => "API",
        "SecurityPolicy" => "policy",
        "TykOasApiDefinition" => "OAS API",
        other => other,
    }
}

/// The default title of a change that does `verb` to `kind` `namespace/name`. While a new
/// resource has no name yet, it says what is being added (`Add an API`).
pub fn change_title(verb: Verb, kind: &str, namespace: &str, name: &str) -> String {
    let (namespace, name) = (namespace.trim(), name.trim());
    let noun = noun(kind);
    let key = match (namespace, name) {
        (_, "") => None,
        ("", n) => Some(n.to_owned()),
        (ns, n) => Some(format!("{ns}/{n}")),
    };
    match (verb, key) {
        (Verb::Add, None) => {
            let article = if noun.starts_with(['A', 'E', 'I', 'O', 'U']) {
                "an"
            } else {
                "a"
            };
            format!("Add {article} {noun}")
        }
        (Verb::Add, Some(key)) => format!("Add {noun} {key}"),
        (Verb::Edit, key) => format!("Edit {}", key.unwrap_or_else(|| noun.to_owned())),
        (Verb::Delete, key) => format!("Delete {noun} {}", key.unwrap_or_default())
            .trim_end()
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_name_the_resource() {
        let cases = [
            (
                Verb::Add,
                "ApiDefinition",
                "payments",
                "new-api",
                "Add API payments/new-api",
            ),
            (Verb::Add, "ApiDefinition", "payments", "", "Add an API"),
            (Verb::Add, "ApiDefinition", "", "new-api", "Add API new-api"),
            (Verb::Add, "SecurityPolicy", "identity", "", "Add a policy"),
            (
                Verb::Add,
                "SecurityPolicy",
                "identity",
                "gold",
                "Add policy identity/gold",
            ),
            (
                Verb::Add,
                "TykOasApiDefinition",
                "catalog",
                "",
                "Add an OAS API",
            ),
            (
                Verb::Add,
                "TykOasApiDefinition",
                "catalog",
                "books",
                "Add OAS API catalog/books",
            ),
            (
                Verb::Edit,
                "ApiDefinition",
                "payments",
                "payments-api",
                "Edit payments/payments-api",
            ),
            (
                Verb::Edit,
                "SecurityPolicy",
                "identity",
                "jwt-default",
                "Edit identity/jwt-default",
            ),
            (
                Verb::Delete,
                "SecurityPolicy",
                "identity",
                "jwt-default",
                "Delete policy identity/jwt-default",
            ),
            (
                Verb::Delete,
                "ApiDefinition",
                "payments",
                "payments-api",
                "Delete API payments/payments-api",
            ),
            (
                Verb::Delete,
                "ConfigMap",
                "catalog",
                "books-oas",
                "Delete ConfigMap catalog/books-oas",
            ),
            (
                Verb::Add,
                "ApiDefinition",
                " payments ",
                " new-api ",
                "Add API payments/new-api",
            ),
        ];
        for (verb, kind, ns, name, want) in cases {
            assert_eq!(
                change_title(verb, kind, ns, name),
                want,
                "{verb:?} {kind} {ns}/{name}"
            );
        }
    }
}
