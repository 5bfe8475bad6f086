//! Who people are: the signed-in [`User`], which sign-in methods are on, and the checks on
//! what a sign-in form sends (login names, where to go afterwards). No HTTP here: the session
//! routes and middleware live in `web::session`.
//!
//! Real OAuth2/OIDC sign-in and roles plug in here later: each method is a `provider`.

use crate::error::{Code, Error};
use serde::{Deserialize, Serialize};

/// A signed-in person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub login: String,
    /// How they signed in (`demo`, later `oidc`, `github`...).
    pub provider: String,
}

/// Whether sign-in through `provider` is on: a session is only as good as the way it was
/// signed in, so turning a method off ends its sessions.
pub fn enabled(auth: &crate::config::AuthConfig, provider: &str) -> bool {
    match provider {
        "demo" => auth.demo,
        _ => false,
    }
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
