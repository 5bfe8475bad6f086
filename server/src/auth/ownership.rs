//! Namespace ownership (`[[ownership]]`): which groups own which namespaces, who may propose a
//! change to a namespace, and whether a change has an approval from an owner of every
//! namespace it touches. Pure: the web layer gives it the people and the change.
//!
//! A namespace no rule names is open: every editor may propose to it and any approver's
//! approval counts. Admins count as owners of every namespace.

use super::Role;
use crate::config::OwnershipConfig;
use crate::error::{Code, Error};
use frontend::api::OwnerApproval;

pub use frontend::api::glob;

/// Someone whose approval may count: their login, role and groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approver {
    pub login: String,
    pub role: Role,
    pub groups: Vec<String>,
}

/// The ownership rules.
#[derive(Debug, Clone, Copy)]
pub struct Ownership<'a>(pub &'a [OwnershipConfig]);

impl Ownership<'_> {
    /// The groups owning `namespace`, sorted; empty when nobody owns it.
    pub fn owners(&self, namespace: &str) -> Vec<String> {
        let mut groups: Vec<String> = self
            .0
            .iter()
            .filter(|o| o.namespaces.iter().any(|p| glob(p, namespace)))
            .flat_map(|o| o.groups.iter().cloned())
            .collect();
        groups.sort();
        groups.dedup();
        groups
    }

    /// Whether someone with `role` and `groups` owns `namespace` (open namespaces: everyone).
    pub fn owns(&self, role: Role, groups: &[String], namespace: &str) -> bool {
        let owners = self.owners(namespace);
        role == Role::Admin || owners.is_empty() || owners.iter().any(|o| groups.contains(o))
    }

    /// An editor proposes only to namespaces their groups own (or nobody owns).
    pub fn may_propose<'n>(
        &self,
        role: Role,
        groups: &[String],
        namespaces: impl IntoIterator<Item = &'n str>,
    ) -> Result<(), Error> {
        for ns in namespaces {
            if !self.owns(role, groups, ns) {
                return Err(refusal(
                    ns,
                    &self.owners(ns),
                    "only its owners may propose changes to it",
                ));
            }
        }
        Ok(())
    }

    /// An approval counts only from an owner: of at least one owned namespace the change
    /// touches, when it touches any.
    pub fn may_approve(
        &self,
        role: Role,
        groups: &[String],
        namespaces: &[String],
    ) -> Result<(), Error> {
        let owned: Vec<&String> = namespaces
            .iter()
            .filter(|ns| !self.owners(ns).is_empty())
            .collect();
        if role == Role::Admin
            || owned.is_empty()
            || owned.iter().any(|ns| self.owns(role, groups, ns))
        {
            return Ok(());
        }
        let ns = owned[0];
        Err(refusal(
            ns,
            &self.owners(ns),
            "only its owners may approve changes to it",
        ))
    }

    /// For each owned namespace among `namespaces`: its owner groups and which approvers
    /// (other than `author`) own it.
    pub fn approvals(
        &self,
        namespaces: &[String],
        author: &str,
        approvers: &[Approver],
    ) -> Vec<OwnerApproval> {
        let mut unique: Vec<&String> = namespaces.iter().collect();
        unique.sort();
        unique.dedup();
        unique
            .into_iter()
            .filter_map(|ns| {
                let groups = self.owners(ns);
                (!groups.is_empty()).then(|| OwnerApproval {
                    namespace: ns.clone(),
                    approved_by: approvers
                        .iter()
                        .filter(|a| !a.login.eq_ignore_ascii_case(author))
                        .filter(|a| self.owns(a.role, &a.groups, ns))
                        .map(|a| a.login.clone())
                        .collect(),
                    groups,
                })
            })
            .collect()
    }
}

/// Merging needs every owned namespace approved by one of its owners.
pub fn check_owner_approvals(needed: &[OwnerApproval]) -> Result<(), Error> {
    match needed.iter().find(|o| o.approved_by.is_empty()) {
        None => Ok(()),
        Some(o) => Err(Error::new(
            Code::ApprovalRequired,
            format!(
                "namespace `{}` needs an approval from an owner ({}) who is not the author",
                o.namespace,
                o.groups.join(", ")
            ),
        )),
    }
}

fn refusal(namespace: &str, groups: &[String], what: &str) -> Error {
    Error::new(
        Code::NotOwner,
        format!(
            "namespace `{namespace}` is owned by {}; {what}, and you are in none of these groups",
            groups.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Vec<OwnershipConfig> {
        vec![
            OwnershipConfig {
                namespaces: vec!["payments".into(), "payments-*".into()],
                groups: vec!["team-payments".into()],
            },
            OwnershipConfig {
                namespaces: vec!["*-shared".into()],
                groups: vec!["platform".into()],
            },
        ]
    }

    #[test]
    fn globs() {
        assert!(glob("payments", "payments"));
        assert!(!glob("payments", "payments-eu"));
        assert!(glob("payments-*", "payments-eu"));
        assert!(glob("*", ""));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("a*b*c", "axxbyy"));
        assert!(glob("*-shared", "payments-shared"));
    }

    #[test]
    fn owners_propose_and_approve() {
        let rules = rules();
        let o = Ownership(&rules);
        let team = vec!["team-payments".to_owned()];
        assert_eq!(o.owners("payments-eu"), team);
        assert_eq!(
            o.owners("payments-shared"),
            vec!["platform".to_owned(), "team-payments".to_owned()]
        );
        assert!(o.owners("catalog").is_empty());
        assert!(
            o.may_propose(Role::Editor, &team, ["payments", "catalog"])
                .is_ok()
        );
        let e = o
            .may_propose(Role::Editor, &[], ["catalog", "payments"])
            .err();
        let e = e
            .map(|e| (e.code, e.message))
            .unwrap_or((Code::Internal, String::new()));
        assert_eq!(e.0, Code::NotOwner);
        assert!(
            e.1.contains("`payments`") && e.1.contains("team-payments"),
            "{}",
            e.1
        );
        assert!(o.may_propose(Role::Admin, &[], ["payments"]).is_ok());
        assert!(
            o.may_approve(Role::Approver, &[], &["catalog".into()])
                .is_ok()
        );
        assert!(
            o.may_approve(Role::Approver, &[], &["payments".into()])
                .is_err()
        );
        assert!(
            o.may_approve(Role::Approver, &team, &["payments".into()])
                .is_ok()
        );
    }

    #[test]
    fn merging_needs_an_owner_of_every_namespace_who_is_not_the_author() {
        let rules = rules();
        let o = Ownership(&rules);
        let person = |login: &str, role, groups: &[&str]| Approver {
            login: login.into(),
            role,
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        };
        let ns = vec!["payments".to_owned(), "catalog".to_owned()];
        let none = o.approvals(&ns, "alice", &[person("dave", Role::Approver, &[])]);
        assert_eq!(none.len(), 1);
        assert!(none[0].approved_by.is_empty());
        assert!(check_owner_approvals(&none).is_err());
        // The author's own approval never counts.
        let own = o.approvals(
            &ns,
            "alice",
            &[person("ALICE", Role::Approver, &["team-payments"])],
        );
        assert!(check_owner_approvals(&own).is_err());
        let ok = o.approvals(
            &ns,
            "alice",
            &[person("bob", Role::Approver, &["team-payments"])],
        );
        assert_eq!(ok[0].approved_by, vec!["bob".to_owned()]);
        assert!(check_owner_approvals(&ok).is_ok());
    }
}
