//! Who people are and what they may do: the signed-in [`User`], their [`Role`], the
//! permission every route needs ([`Need`]), namespace ownership, and the checks on what a
//! sign-in form sends (login names, where to go afterwards). No HTTP here: the session routes
//! and the one access middleware live in `web::session` and `web::access`.

pub mod audit;
pub mod github;
pub mod guard;
pub mod host_tokens;
pub mod oidc;
pub mod ownership;
pub mod tokens;

use crate::config::{Anonymous, AuthConfig, Config, ConfigError, DemoUser};
use crate::error::{Code, Error};
pub use frontend::api::Role;
use serde::{Deserialize, Serialize};

/// A signed-in person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub login: String,
    /// How they signed in (`demo`, a provider's name, `token`).
    pub provider: String,
    /// Their groups, as the provider (or the demo configuration) said at sign-in.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Their role; recomputed from the configuration on every request ([`role_of`]).
    #[serde(default)]
    pub role: Role,
}

/// Whether sign-in through `provider` is on: a session is only as good as the way it was
/// signed in, so turning a method off ends its sessions.
pub fn enabled(auth: &AuthConfig, provider: &str) -> bool {
    match provider {
        "demo" => auth.demo,
        // A token is checked on each request (unexpired, unrevoked) and capped by its owner.
        "token" => true,
        name => auth.providers.iter().any(|p| p.name == name),
    }
}

/// The demo person named `login`: a configured entry's role and groups, else an approver with
/// no groups (so a trial needs no role setup).
pub fn demo_user(auth: &AuthConfig, login: &str) -> (Role, Vec<String>) {
    auth.demo_users
        .iter()
        .find(|u| u.name().eq_ignore_ascii_case(login))
        .map_or((Role::Approver, Vec::new()), |u| match u {
            DemoUser::Name(_) => (Role::Approver, Vec::new()),
            DemoUser::Entry { role, groups, .. } => (*role, groups.clone()),
        })
}

/// The role of a user who signed in through a provider with `groups`: the highest role mapped
/// from any of their groups, else `auth.default_role`.
pub fn role_from_groups(auth: &AuthConfig, groups: &[String]) -> Role {
    auth.roles
        .iter()
        .filter(|m| groups.iter().any(|g| g == &m.group))
        .map(|m| m.role)
        .max()
        .unwrap_or(auth.default_role)
}

/// The role `user` has under the current configuration (a token's role is fixed when it is
/// made and capped by its owner's role at use).
pub fn role_of(auth: &AuthConfig, user: &User) -> Role {
    match user.provider.as_str() {
        "demo" => demo_user(auth, &user.login).0,
        _ => role_from_groups(auth, &user.groups),
    }
}

/// What visitors who are not signed in may do.
pub fn anonymous_role(auth: &AuthConfig) -> Option<Role> {
    match auth.anonymous {
        Anonymous::None => None,
        Anonymous::Viewer => Some(Role::Viewer),
    }
}

/// The permission a route needs. Every route of the router names one, in one table
/// (`web::access`); a request is let through or refused there, before any handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Need {
    /// Anyone: health, assets, sign-in, the OpenAPI document, the session itself.
    Public,
    /// Someone signed in, whatever the role (their own tokens, sign-out).
    SignedIn,
    /// Read everything: viewer (or anonymous, when `auth.anonymous = "viewer"`).
    Read,
    /// Propose and comment: editor.
    Propose,
    /// Approve and merge: approver.
    Approve,
    /// Adopt drift, the audit log, everyone's tokens: admin.
    Admin,
}

impl Need {
    /// The least role that has this permission (`None`: no role needed).
    pub fn least_role(self) -> Option<Role> {
        match self {
            Self::Public | Self::SignedIn => None,
            Self::Read => Some(Role::Viewer),
            Self::Propose => Some(Role::Editor),
            Self::Approve => Some(Role::Approver),
            Self::Admin => Some(Role::Admin),
        }
    }

    /// Lets `role` (of a signed-in user when `signed_in`) through, or says why not: 401 for
    /// someone not signed in, 403 for someone whose role is too low.
    pub fn check(self, signed_in: bool, role: Option<Role>) -> Result<(), Error> {
        if self == Self::Public {
            return Ok(());
        }
        if self == Self::SignedIn && signed_in {
            return Ok(());
        }
        let least = self.least_role();
        if let (Some(least), Some(role)) = (least, role)
            && role >= least
        {
            return Ok(());
        }
        if !signed_in {
            return Err(Error::new(Code::Unauthenticated, "sign in first"));
        }
        let what = match self {
            Self::Propose => "propose changes and comment",
            Self::Approve => "approve and merge changes",
            Self::Admin => "do this",
            _ => "see this",
        };
        Err(Error::new(
            Code::Forbidden,
            format!(
                "your role ({}) may not {what}; it needs the {} role",
                role.map_or("none", Role::as_str),
                least.map_or("signed-in", Role::as_str)
            ),
        ))
    }
}

/// 256 random bits as hex: CSRF tokens, API token secrets.
pub fn random_token() -> String {
    use rand::RngCore as _;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks the access settings at start-up.
pub fn check_config(config: &Config) -> Result<(), ConfigError> {
    for u in &config.auth.demo_users {
        valid_login(u.name()).map_err(|_| {
            ConfigError(format!(
                "auth.demo_users: `{}` is not a valid login name",
                u.name()
            ))
        })?;
    }
    for m in &config.auth.roles {
        if m.group.trim().is_empty() {
            return Err(ConfigError("auth.roles: every entry needs a group".into()));
        }
    }
    for (i, o) in config.ownership.iter().enumerate() {
        if o.namespaces.is_empty() || o.groups.is_empty() {
            return Err(ConfigError(format!(
                "ownership[{i}]: needs at least one namespace and one group"
            )));
        }
    }
    let mut names = std::collections::BTreeSet::new();
    for p in &config.auth.providers {
        let ok = !p.name.is_empty()
            && p.name.len() <= 32
            && p.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok || p.name == "demo" || p.name == "logout" || !names.insert(p.name.clone()) {
            return Err(ConfigError(format!(
                "auth.providers: `{}` must be a unique name of letters, digits, - and _ (not demo or logout)",
                p.name
            )));
        }
        if p.kind == crate::config::ProviderKind::Oidc
            && !(p.issuer.starts_with("https://") || p.issuer.starts_with("http://"))
        {
            return Err(ConfigError(format!(
                "auth.providers.{}: issuer must be an http(s) URL",
                p.name
            )));
        }
        if p.client_id.is_empty() {
            return Err(ConfigError(format!(
                "auth.providers.{}: client_id is needed",
                p.name
            )));
        }
        p.client_secret()?;
    }
    check_host_provider(config)?;
    if config.auth.session_hours == 0 || config.auth.session_max_hours == 0 {
        return Err(ConfigError(
            "auth.session_hours and auth.session_max_hours must be at least 1".into(),
        ));
    }
    Ok(())
}

/// The scopes that let a user's token open pull requests and review on a host of `kind`
/// (any one of them).
pub fn repo_scopes(kind: crate::hosts::HostKind) -> &'static [&'static str] {
    use crate::hosts::HostKind;
    match kind {
        HostKind::Github => &["repo", "public_repo"],
        HostKind::Gitlab => &["api"],
        HostKind::Gitea => &["write:repository"],
        HostKind::Local => &[],
    }
}

/// The provider marked `host = true` must be the configured host's own login, ask for a scope
/// that lets the user's token open pull requests, and have a key to seal the tokens with.
fn check_host_provider(config: &Config) -> Result<(), ConfigError> {
    use crate::config::ProviderKind;
    use crate::hosts::HostKind;
    let linked: Vec<_> = config.auth.providers.iter().filter(|p| p.host).collect();
    let Some(p) = linked.first() else {
        return Ok(());
    };
    let name = &p.name;
    if linked.len() > 1 {
        return Err(ConfigError(
            "auth.providers: only one provider may have host = true".into(),
        ));
    }
    let fits = matches!(
        (config.host.kind, p.kind),
        (HostKind::Github, ProviderKind::Github)
            | (HostKind::Gitlab | HostKind::Gitea, ProviderKind::Oidc)
    );
    if !fits {
        return Err(ConfigError(format!(
            "auth.providers.{name}: host = true needs the Git host's own login: kind = \"github\" for host.kind = \"github\", kind = \"oidc\" (the instance as issuer) for gitlab or gitea; host.kind is \"{}\"",
            config.host.kind.as_str()
        )));
    }
    let wanted = repo_scopes(config.host.kind);
    if !github::scopes(p)
        .iter()
        .any(|s| wanted.contains(&s.as_str()))
    {
        return Err(ConfigError(format!(
            "auth.providers.{name}: host = true needs a repository scope in `scopes` ({})",
            wanted.join(" or ")
        )));
    }
    if config.auth.token_key()?.is_none() {
        return Err(ConfigError(format!(
            "auth.providers.{name}: host = true needs auth.token_key (or auth.token_key_file): 32 bytes that seal the users' host tokens"
        )));
    }
    Ok(())
}

/// Checks a login name: 1 to 64 characters of letters, digits, `.`, `_`, `-`.
pub fn valid_login(name: &str) -> Result<&str, Error> {
    let name = name.trim();
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(name)
    } else {
        Err(Error::new(
            Code::InvalidUser,
            "user must be 1 to 64 letters, digits, dots, dashes or underscores",
        )
        .at("user"))
    }
}

/// Only a same-origin path, so the form cannot redirect elsewhere: one leading `/`, and no
/// backslash, whitespace or control character anywhere. Browsers drop tabs and newlines from
/// URLs and read `\` as `/`, so `/\t/evil.example` or `/\\evil` would otherwise become
/// `//evil.example`, another origin; a newline would also make the `Location` header invalid.
/// Percent-encoded bytes (`/%09/evil`) stay a path and are fine.
pub fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p
                    .chars()
                    .any(|c| c == '\\' || c.is_whitespace() || c.is_control()) =>
        {
            p
        }
        _ => "/",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_order_and_needs() {
        assert!(Role::Admin > Role::Approver && Role::Approver > Role::Editor);
        assert!(Role::Editor > Role::Viewer);
        assert!(Need::Read.check(false, Some(Role::Viewer)).is_ok());
        let e = Need::Read.check(false, None).err().map(|e| e.code);
        assert_eq!(e, Some(Code::Unauthenticated));
        let e = Need::Approve.check(true, Some(Role::Editor)).err();
        assert_eq!(e.as_ref().map(|e| e.code), Some(Code::Forbidden));
        assert!(e.is_some_and(|e| e.message.contains("approver")));
        assert!(Need::SignedIn.check(true, Some(Role::Viewer)).is_ok());
        assert!(Need::SignedIn.check(false, Some(Role::Viewer)).is_err());
        assert!(Need::Admin.check(true, Some(Role::Admin)).is_ok());
    }

    #[test]
    fn demo_users_and_group_mappings_give_roles() {
        let mut auth = Config::default().auth;
        assert_eq!(
            demo_user(&auth, "Alice"),
            (Role::Editor, vec!["team-payments".into()])
        );
        assert_eq!(demo_user(&auth, "carol").0, Role::Viewer);
        assert_eq!(demo_user(&auth, "zed"), (Role::Approver, vec![]));
        auth.demo_users.push(DemoUser::Name("dan".into()));
        assert_eq!(demo_user(&auth, "dan"), (Role::Approver, vec![]));
        auth.roles = vec![
            crate::config::RoleMapping {
                group: "ops".into(),
                role: Role::Editor,
            },
            crate::config::RoleMapping {
                group: "platform".into(),
                role: Role::Admin,
            },
        ];
        assert_eq!(role_from_groups(&auth, &["x".into()]), Role::Viewer);
        assert_eq!(
            role_from_groups(&auth, &["ops".into(), "platform".into()]),
            Role::Admin
        );
    }

    #[test]
    fn login_names_are_checked() {
        assert!(valid_login("alice").is_ok());
        assert!(valid_login(" bob.smith-2 ").is_ok());
        assert!(valid_login("").is_err());
        assert!(valid_login("<script>").is_err());
        assert!(valid_login(&"a".repeat(65)).is_err());
    }

    #[test]
    fn redirects_stay_local() {
        assert_eq!(local_path(Some("/apis?q=x")), "/apis?q=x");
        assert_eq!(local_path(Some("//evil.example")), "/");
        assert_eq!(local_path(Some("https://evil.example")), "/");
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn redirects_refuse_what_browsers_would_turn_into_another_origin() {
        for next in [
            "/\t/evil.example",
            "/\n/evil",
            "/\r\n/evil",
            "\\/evil",
            "/\\evil",
            "//evil",
            "https://evil",
            "/ /evil",
            "/\u{0}/evil",
            "/\u{a0}/evil",
            "",
            "evil",
        ] {
            assert_eq!(local_path(Some(next)), "/", "{next:?}");
        }
        // Percent-encoded, a tab is just a path segment.
        assert_eq!(local_path(Some("/%09/evil")), "/%09/evil");
        assert_eq!(
            local_path(Some("/apis/new?kind=x&next=%2F")),
            "/apis/new?kind=x&next=%2F"
        );
    }
}
