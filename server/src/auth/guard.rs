//! The ownership rules applied to the change flow: who may propose which edits, whose approval
//! counts, whether a change may be merged, and what the change page shows about its owners.
//! The change service stays unaware of people's groups; the web layer calls these around it.

use super::ownership::{Approver, Ownership, check_owner_approvals};
use super::{Role, User, demo_user, role_from_groups};
use crate::app::App;
use crate::error::{Code, Error};
use frontend::api::{ChangeView, EditRequest};

fn ownership(app: &App) -> Ownership<'_> {
    Ownership(&app.config.ownership)
}

fn db_err(e: crate::db::DbError) -> Error {
    Error::new(
        Code::DatabaseUnavailable,
        "the database is unavailable; nothing was changed",
    )
    .detail(e)
}

/// The namespaces a change's edits touch: each edit's own, and the one a new document, YAML
/// text or merge patch moves it to.
pub fn edit_namespaces(edits: &[EditRequest], default_namespace: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut add = |ns: &str| {
        let ns = if ns.is_empty() { default_namespace } else { ns };
        if !out.iter().any(|n: &String| n == ns) {
            out.push(ns.to_owned());
        }
    };
    for e in edits {
        add(&e.namespace);
        let moved = |doc: &serde_json::Value| {
            doc.pointer("/metadata/namespace")
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        if let Some(ns) = e.document.as_ref().and_then(moved) {
            add(&ns);
        }
        if let Some(ns) = e.merge_patch.as_ref().and_then(moved) {
            add(&ns);
        }
        if let Some(text) = &e.yaml {
            for doc in crate::yaml::parse_trusted(text).unwrap_or_default() {
                if let Some(ns) = moved(&doc) {
                    add(&ns);
                }
            }
        }
    }
    out
}

/// An editor proposes only to namespaces their groups own (or nobody owns).
pub fn may_propose(app: &App, user: &User, edits: &[EditRequest]) -> Result<(), Error> {
    let namespaces = edit_namespaces(edits, &app.config.repo.default_namespace);
    ownership(app).may_propose(
        user.role,
        &user.groups,
        namespaces.iter().map(String::as_str),
    )
}

fn namespaces_of(view: &ChangeView) -> Vec<String> {
    let mut out: Vec<String> = view.resources.iter().map(|r| r.namespace.clone()).collect();
    out.sort();
    out.dedup();
    out
}

/// An approver's approval counts only when they own a namespace the change touches (or it
/// touches only open ones).
pub async fn may_approve(app: &App, user: &User, id: i64) -> Result<(), Error> {
    let view = app.changes.view(id).await?;
    ownership(app).may_approve(user.role, &user.groups, &namespaces_of(&view))
}

/// Fills in the owners a change needs and which of them approved.
pub async fn annotate(app: &App, view: &mut ChangeView) -> Result<(), Error> {
    let namespaces = namespaces_of(view);
    let o = ownership(app);
    if namespaces.iter().all(|ns| o.owners(ns).is_empty()) {
        view.owners = Vec::new();
        return Ok(());
    }
    let mut logins = view.approvals.clone();
    logins.dedup();
    let known = app.db.groups_of(&logins).await.map_err(db_err)?;
    let approvers: Vec<Approver> = logins
        .into_iter()
        .zip(known)
        .map(|(login, (provider, groups))| {
            let (role, groups) = if provider.as_deref() == Some("demo") {
                demo_user(&app.config.auth, &login)
            } else {
                (role_from_groups(&app.config.auth, &groups), groups)
            };
            Approver {
                login,
                role,
                groups,
            }
        })
        .collect();
    view.owners = o.approvals(&namespaces, &view.author, &approvers);
    Ok(())
}

/// Merging needs an approval from an owner of every owned namespace the change touches.
pub async fn may_merge(app: &App, id: i64) -> Result<(), Error> {
    let mut view = app.changes.view(id).await?;
    // What the change service refuses anyway (not open, a stale adoption) it says first.
    if view.state != "open" || view.adoption.as_ref().is_some_and(|a| a.stale.is_some()) {
        return Ok(());
    }
    annotate(app, &mut view).await?;
    check_owner_approvals(&view.owners)
}

/// A token's role may be no higher than its maker's.
pub fn may_grant(user: &User, role: Role) -> Result<(), Error> {
    if role > user.role {
        return Err(Error::new(
            Code::Forbidden,
            format!(
                "a token's role can be at most your own ({}), not {role}",
                user.role
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_touch_their_namespace_and_where_they_move_to() {
        let edit = |ns: &str| EditRequest {
            kind: "ApiDefinition".into(),
            namespace: ns.into(),
            name: "x".into(),
            document: None,
            merge_patch: None,
            yaml: None,
            delete: false,
        };
        let mut moved = edit("catalog");
        moved.document = Some(serde_json::json!({"metadata": {"namespace": "payments"}}));
        let mut yaml = edit("");
        yaml.yaml = Some("metadata:\n  name: x\n  namespace: payments-eu\n".into());
        assert_eq!(
            edit_namespaces(&[moved, yaml, edit("catalog")], "default"),
            vec!["catalog", "payments", "default", "payments-eu"]
        );
    }
}
