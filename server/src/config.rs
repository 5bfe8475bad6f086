//! Configuration: defaults, then an optional TOML file, then `TOLLGATE__SECTION__KEY`
//! environment variables. Loaded once at start; nothing reads the environment afterwards.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The whole configuration tree. `tollgate.example.toml` documents every key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Folder for Tollgate's own files (the SQLite database, the demo repo).
    pub data_dir: PathBuf,
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub repo: RepoConfig,
    /// Where change requests are published and reviewed.
    pub host: HostConfig,
    pub auth: AuthConfig,
    pub changes: ChangesConfig,
    pub validation: ValidationConfig,
    /// Slices of the config repo that clusters follow, by name.
    pub environments: std::collections::BTreeMap<String, EnvironmentConfig>,
    /// The clusters whose live state is compared with Git.
    pub clusters: Vec<ClusterConfig>,
    /// Which groups own which namespaces (`[[ownership]]`).
    pub ownership: Vec<OwnershipConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentConfig {
    /// Repo path prefix holding this environment's manifests (empty: the whole repo).
    #[serde(default)]
    pub path: String,
    /// The branch this environment follows.
    pub branch: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    pub name: String,
    /// A kubeconfig file.
    pub kubeconfig: PathBuf,
    /// The kubeconfig context (default: its current context).
    #[serde(default)]
    pub context: Option<String>,
    /// The environment (from `[environments.<name>]`) this cluster runs.
    pub environment: String,
    /// The GitOps agent that applies the environment to this cluster.
    #[serde(default)]
    pub agent: AgentConfig,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// `argocd` (an Application), `flux` (a Kustomization) or `none`.
    #[serde(default)]
    pub kind: AgentKind,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AgentKind {
    Argocd,
    Flux,
    #[default]
    None,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidationConfig {
    /// CRD files (YAML) whose OpenAPI schemas every edit is checked against, e.g. the Tyk
    /// Operator release's `crds.yaml`.
    pub crd_files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangesConfig {
    /// Approvals (by people other than the author) a change needs before it can be merged.
    pub approvals_required: u32,
    /// Where new resources are written; `{namespace}` and `{name}` are filled in.
    pub api_path: String,
    pub policy_path: String,
    pub oas_path: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address and port to listen on; port 0 picks a free port.
    pub bind: SocketAddr,
    /// The URL people reach Tollgate at, for links in commits and change descriptions.
    /// Empty: `http://<bind>`.
    pub public_url: String,
    /// Seconds a client has to send a request's headers (idle keep-alive connections included).
    pub header_timeout_secs: u64,
    /// Seconds a client has to send a request's body.
    pub body_timeout_secs: u64,
    /// Seconds a connection may stay open without a byte either way (at least 20: event
    /// streams send a keep-alive every 15 s).
    pub idle_timeout_secs: u64,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// Start `tollgate serve`/`demo` even when the binary has no browser bundle (pages then
    /// render but never hydrate). Off: such a binary refuses to start.
    pub allow_missing_bundle: bool,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://...`. Empty: a SQLite file in `data_dir`.
    pub url: String,
    pub max_connections: u32,
}

impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// Hides the password of a URL (`postgres://user:secret@host` → `postgres://user:***@host`).
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepoConfig {
    /// A local git repository, bare or with a work tree. Empty: `<data_dir>/config-repo.git`.
    pub path: PathBuf,
    /// The branch whose head is browsed.
    pub branch: String,
    /// How often to look for a new commit on the branch, in seconds.
    pub poll_interval_secs: u64,
    /// Files larger than this are reported as problems and not read.
    pub max_file_bytes: usize,
    /// Namespace of documents that name none.
    pub default_namespace: String,
}

/// The Git host (`[host]`). Secrets are never printed: `Debug` redacts them.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    /// `local` (changes reviewed and merged in Tollgate), `github`, `gitlab` or `gitea`
    /// (Gitea and Forgejo).
    pub kind: crate::hosts::HostKind,
    /// The host's REST API: `https://api.github.com`, `https://HOST/api/v3` (GitHub
    /// Enterprise), `https://HOST/api/v4` (GitLab), `https://HOST/api/v1` (Gitea/Forgejo).
    pub api_url: String,
    /// `owner/name` (GitLab: `group/subgroup/project`).
    pub repo: String,
    /// Where the mirror fetches from. Empty: `https://HOST/owner/name.git` from `api_url`.
    pub clone_url: String,
    pub token: String,
    pub token_file: PathBuf,
    pub webhook_secret: String,
    pub webhook_secret_file: PathBuf,
    /// `merge`, `squash` or `rebase`.
    pub merge_method: MergeMethod,
    /// GitHub App authentication instead of a token: the App's id, its installation on the
    /// repo's owner, and its private key (PEM).
    pub app_id: String,
    pub installation_id: String,
    pub private_key_file: PathBuf,
    /// How often open change requests and the mirror are polled, in seconds (webhooks make it
    /// immediate; polling is the fallback and backs off while the host is down).
    pub poll_interval_secs: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MergeMethod {
    #[default]
    Merge,
    Squash,
    Rebase,
}

impl std::fmt::Debug for HostConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secret = |s: &str| if s.is_empty() { "" } else { "***" };
        f.debug_struct("HostConfig")
            .field("kind", &self.kind)
            .field("api_url", &redact_url(&self.api_url))
            .field("repo", &self.repo)
            .field("clone_url", &redact_url(&self.clone_url))
            .field("token", &secret(&self.token))
            .field("token_file", &self.token_file)
            .field("webhook_secret", &secret(&self.webhook_secret))
            .field("webhook_secret_file", &self.webhook_secret_file)
            .field("merge_method", &self.merge_method)
            .field("app_id", &self.app_id)
            .field("installation_id", &self.installation_id)
            .field("private_key_file", &self.private_key_file)
            .field("poll_interval_secs", &self.poll_interval_secs)
            .finish()
    }
}

impl HostConfig {
    /// The token: `token`, else the contents of `token_file` (trimmed).
    pub fn token(&self) -> Result<String, ConfigError> {
        secret_value("host.token", &self.token, &self.token_file)
    }

    pub fn webhook_secret(&self) -> Result<String, ConfigError> {
        secret_value(
            "host.webhook_secret",
            &self.webhook_secret,
            &self.webhook_secret_file,
        )
    }

    /// `clone_url`, else `scheme://HOST/<repo>.git` from `api_url`.
    pub fn clone_url(&self) -> String {
        if !self.clone_url.trim().is_empty() {
            return self.clone_url.trim().to_owned();
        }
        let api = self.api_url.trim().trim_end_matches('/');
        let (scheme, rest) = api.split_once("://").unwrap_or(("https", api));
        // The web root is the API's address without its API path, so an instance served under
        // a path (`https://example.com/gitlab/api/v4`) keeps it.
        let root = ["/api/v3", "/api/v4", "/api/v1"]
            .into_iter()
            .find_map(|suffix| rest.strip_suffix(suffix))
            .unwrap_or_else(|| rest.split('/').next().unwrap_or(rest));
        // api.github.com serves github.com's repositories.
        let root = root.strip_prefix("api.").unwrap_or(root);
        format!("{scheme}://{root}/{}.git", self.repo.trim_matches('/'))
    }
}

/// A secret given inline or in a file (the file wins only when the inline value is empty).
fn secret_value(key: &str, inline: &str, file: &Path) -> Result<String, ConfigError> {
    if !inline.is_empty() || file.as_os_str().is_empty() {
        return Ok(inline.to_owned());
    }
    std::fs::read_to_string(file)
        .map(|s| s.trim().to_owned())
        .map_err(|e| ConfigError(format!("{key}_file {}: {e}", file.display())))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Sign in by picking a name, with no password. For demos only.
    pub demo: bool,
    /// People offered on the demo sign-in page: a plain name signs in as an approver with no
    /// groups (as does any other name typed in); a table sets the role and groups.
    pub demo_users: Vec<DemoUser>,
    /// What visitors who are not signed in may do: `none` or `viewer` (e.g. wall screens).
    pub anonymous: Anonymous,
    /// The role of a signed-in user in no group of `roles`.
    pub default_role: crate::auth::Role,
    /// Groups → roles; a user gets the highest role of their groups.
    pub roles: Vec<RoleMapping>,
    /// Mark the session cookie `Secure` (serve over HTTPS).
    pub secure_cookies: bool,
    /// Session lifetime without activity, in hours.
    pub session_hours: u32,
    /// Sessions end this many hours after sign-in, active or not.
    pub session_max_hours: u32,
    /// Login providers (`[[auth.providers]]`), each a button on the sign-in page.
    pub providers: Vec<ProviderConfig>,
    /// The key that seals the Git-host OAuth tokens of people who signed in through the
    /// provider marked `host = true`: 32 bytes as 64 hex digits or base64. Needed only then.
    pub token_key: TokenKey,
    /// A file holding `token_key` (used when `token_key` is empty).
    pub token_key_file: PathBuf,
}

/// `auth.token_key`: `Debug` never shows it.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TokenKey(pub String);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "***" })
    }
}

impl AuthConfig {
    /// The key of `auth.token_key` (or `auth.token_key_file`): 32 bytes, given as 64 hex
    /// digits or as base64. `None` when neither is set.
    pub fn token_key(&self) -> Result<Option<[u8; 32]>, ConfigError> {
        let text = secret_value("auth.token_key", &self.token_key.0, &self.token_key_file)?;
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        use base64::Engine as _;
        let bytes = hex::decode(text)
            .ok()
            .or_else(|| base64::engine::general_purpose::STANDARD.decode(text).ok())
            .unwrap_or_default();
        <[u8; 32]>::try_from(bytes.as_slice()).map(Some).map_err(|_| {
            ConfigError(
                "auth.token_key must be 32 bytes, as 64 hex digits or base64 (e.g. `openssl rand -hex 32`)"
                    .into(),
            )
        })
    }

    /// The provider marked `host = true`: signing in through it lets Tollgate act as the user
    /// on the Git host.
    pub fn host_provider(&self) -> Option<&ProviderConfig> {
        self.providers.iter().find(|p| p.host)
    }
}

/// `[[auth.providers]]`: an OpenID provider, or GitHub's OAuth apps. `Debug` hides the secret.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Shown on the button; the callback path is `/auth/<name>/callback`.
    pub name: String,
    #[serde(default)]
    pub kind: ProviderKind,
    /// OIDC: the issuer URL; discovery is read from `<issuer>/.well-known/openid-configuration`.
    #[serde(default)]
    pub issuer: String,
    pub client_id: String,
    #[serde(default)]
    pub client_secret: String,
    #[serde(default)]
    pub client_secret_file: PathBuf,
    /// OIDC: `openid` is always asked for. GitHub: e.g. `read:user`, `user:email`, `read:org`.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// OIDC: the claim holding the user's groups, in the ID token or else from userinfo.
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// GitHub: the web and API base URLs (GitHub Enterprise: `https://HOST` and
    /// `https://HOST/api/v3`).
    #[serde(default = "default_github_url")]
    pub github_url: String,
    #[serde(default = "default_github_api_url")]
    pub github_api_url: String,
    /// This provider is the configured Git host's own login (kind `github` for a GitHub host;
    /// kind `oidc` with the GitLab or Gitea/Forgejo instance as issuer for those hosts): people
    /// who sign in through it, with repository scope, open their pull requests and post their
    /// approvals on the host as themselves, with their own token (sealed with `auth.token_key`).
    #[serde(default)]
    pub host: bool,
}

fn default_scopes() -> Vec<String> {
    ["openid", "profile", "email", "groups"]
        .map(String::from)
        .to_vec()
}

fn default_groups_claim() -> String {
    "groups".into()
}

fn default_github_url() -> String {
    "https://github.com".into()
}

fn default_github_api_url() -> String {
    "https://api.github.com".into()
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &if self.client_secret.is_empty() {
                    ""
                } else {
                    "***"
                },
            )
            .field("client_secret_file", &self.client_secret_file)
            .field("scopes", &self.scopes)
            .field("groups_claim", &self.groups_claim)
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl ProviderConfig {
    /// The client secret: inline, else the contents of `client_secret_file`.
    pub fn client_secret(&self) -> Result<String, ConfigError> {
        secret_value(
            &format!("auth.providers.{}.client_secret", self.name),
            &self.client_secret,
            &self.client_secret_file,
        )
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    #[default]
    Oidc,
    Github,
}

/// An entry of `auth.demo_users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DemoUser {
    /// A name: an approver with no groups.
    Name(String),
    Entry {
        name: String,
        #[serde(default = "approver")]
        role: crate::auth::Role,
        #[serde(default)]
        groups: Vec<String>,
    },
}

fn approver() -> crate::auth::Role {
    crate::auth::Role::Approver
}

impl DemoUser {
    pub fn name(&self) -> &str {
        match self {
            Self::Name(name) | Self::Entry { name, .. } => name,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Anonymous {
    #[default]
    None,
    Viewer,
}

/// `[[auth.roles]]`: members of `group` get `role`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleMapping {
    pub group: String,
    pub role: crate::auth::Role,
}

/// `[[ownership]]`: namespaces (globs, `*` any run of characters) owned by groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnershipConfig {
    pub namespaces: Vec<String>,
    pub groups: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            server: ServerConfig {
                bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
                public_url: String::new(),
                header_timeout_secs: 10,
                body_timeout_secs: 30,
                idle_timeout_secs: 60,
                max_connections: 4096,
                allow_missing_bundle: false,
            },
            database: DatabaseConfig {
                url: String::new(),
                max_connections: 10,
            },
            repo: RepoConfig {
                path: PathBuf::new(),
                branch: "main".into(),
                poll_interval_secs: 2,
                max_file_bytes: crate::yaml::DEFAULT_MAX_FILE_BYTES,
                default_namespace: "default".into(),
            },
            host: HostConfig {
                kind: crate::hosts::HostKind::Local,
                api_url: String::new(),
                repo: String::new(),
                clone_url: String::new(),
                token: String::new(),
                token_file: PathBuf::new(),
                webhook_secret: String::new(),
                webhook_secret_file: PathBuf::new(),
                merge_method: MergeMethod::Merge,
                app_id: String::new(),
                installation_id: String::new(),
                private_key_file: PathBuf::new(),
                poll_interval_secs: 30,
            },
            auth: AuthConfig {
                demo: false,
                demo_users: vec![
                    DemoUser::Entry {
                        name: "alice".into(),
                        role: crate::auth::Role::Editor,
                        groups: vec!["team-payments".into()],
                    },
                    DemoUser::Entry {
                        name: "bob".into(),
                        role: crate::auth::Role::Approver,
                        groups: vec!["team-payments".into()],
                    },
                    DemoUser::Entry {
                        name: "carol".into(),
                        role: crate::auth::Role::Viewer,
                        groups: Vec::new(),
                    },
                    DemoUser::Entry {
                        name: "dana".into(),
                        role: crate::auth::Role::Admin,
                        groups: vec!["platform-team".into()],
                    },
                ],
                anonymous: Anonymous::None,
                default_role: crate::auth::Role::Viewer,
                roles: Vec::new(),
                secure_cookies: false,
                session_hours: 24 * 7,
                session_max_hours: 24 * 30,
                providers: Vec::new(),
                token_key: TokenKey::default(),
                token_key_file: PathBuf::new(),
            },
            validation: ValidationConfig::default(),
            environments: std::collections::BTreeMap::new(),
            clusters: Vec::new(),
            ownership: Vec::new(),
            changes: ChangesConfig {
                approvals_required: 1,
                api_path: "apis/{namespace}/{name}.yaml".into(),
                policy_path: "policies/{namespace}/{name}.yaml".into(),
                oas_path: "oas/{namespace}/{name}.yaml".into(),
            },
        }
    }
}

/// A configuration that cannot be used, with the key at fault.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

impl ConfigError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl Config {
    /// Loads `base` (the defaults, or the demo's defaults), then `file`, then the environment.
    pub fn load(base: Config, file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(base));
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError(format!(
                    "config file {} does not exist",
                    file.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        figment = figment.merge(Env::prefixed("TOLLGATE__").split("__"));
        let config: Config = figment.extract().map_err(|e| ConfigError(e.to_string()))?;
        config.resolved()
    }

    /// Fills the values derived from `data_dir` and checks the rest.
    fn resolved(mut self) -> Result<Self, ConfigError> {
        if self.repo.path.as_os_str().is_empty() {
            self.repo.path = self.data_dir.join("config-repo.git");
        }
        if self.server.public_url.trim().is_empty() {
            self.server.public_url = format!("http://{}", self.server.bind);
        }
        for (key, template) in [
            ("changes.api_path", &self.changes.api_path),
            ("changes.policy_path", &self.changes.policy_path),
            ("changes.oas_path", &self.changes.oas_path),
        ] {
            if !template.contains("{name}") || template.starts_with('/') || template.contains("..")
            {
                return Err(ConfigError(format!(
                    "{key} must be a relative path containing {{name}}, got `{template}`"
                )));
            }
        }
        if self.database.url.trim().is_empty() {
            self.database.url = format!("sqlite://{}", self.data_dir.join("tollgate.db").display());
        }
        if !(self.database.url.starts_with("sqlite:")
            || self.database.url.starts_with("postgres://")
            || self.database.url.starts_with("postgresql://"))
        {
            return Err(ConfigError(format!(
                "database.url must start with sqlite:, postgres:// or postgresql://, got `{}`",
                redact_url(&self.database.url)
            )));
        }
        let mut names = std::collections::BTreeSet::new();
        for c in &self.clusters {
            if c.name.trim().is_empty() || !names.insert(c.name.clone()) {
                return Err(ConfigError(format!(
                    "clusters: every cluster needs a unique name (`{}`)",
                    c.name
                )));
            }
            if !self.environments.contains_key(&c.environment) {
                return Err(ConfigError(format!(
                    "clusters.{}: environment `{}` is not defined under [environments]",
                    c.name, c.environment
                )));
            }
            if c.agent.kind != AgentKind::None
                && (c.agent.namespace.is_empty() || c.agent.name.is_empty())
            {
                return Err(ConfigError(format!(
                    "clusters.{}: the agent needs a namespace and a name",
                    c.name
                )));
            }
        }
        if self.repo.branch.trim().is_empty() {
            return Err(ConfigError("repo.branch must not be empty".into()));
        }
        if self.repo.poll_interval_secs == 0 {
            return Err(ConfigError(
                "repo.poll_interval_secs must be at least 1".into(),
            ));
        }
        if self.host.kind != crate::hosts::HostKind::Local {
            let kind = self.host.kind.as_str();
            if !(self.host.api_url.starts_with("https://")
                || self.host.api_url.starts_with("http://"))
            {
                return Err(ConfigError(format!(
                    "host.api_url must be an http:// or https:// URL for host.kind = \"{kind}\", got `{}`",
                    redact_url(&self.host.api_url)
                )));
            }
            let parts: Vec<&str> = self.host.repo.split('/').collect();
            if parts.len() < 2 || parts.iter().any(|p| p.trim().is_empty()) {
                return Err(ConfigError(format!(
                    "host.repo must be owner/name for host.kind = \"{kind}\", got `{}`",
                    self.host.repo
                )));
            }
            let app = !self.host.app_id.is_empty();
            if app && self.host.kind != crate::hosts::HostKind::Github {
                return Err(ConfigError(
                    "host.app_id: GitHub App authentication is for host.kind = \"github\" only"
                        .into(),
                ));
            }
            if app
                && (self.host.installation_id.is_empty()
                    || self.host.private_key_file.as_os_str().is_empty())
            {
                return Err(ConfigError(
                    "host.app_id needs host.installation_id and host.private_key_file".into(),
                ));
            }
            if !app && self.host.token()?.is_empty() {
                return Err(ConfigError(format!(
                    "host.token (or host.token_file, or TOLLGATE__HOST__TOKEN) is needed for host.kind = \"{kind}\""
                )));
            }
        }
        if self.host.poll_interval_secs == 0 {
            return Err(ConfigError(
                "host.poll_interval_secs must be at least 1".into(),
            ));
        }
        crate::auth::check_config(&self)?;
        if self.database.max_connections == 0 {
            return Err(ConfigError(
                "database.max_connections must be at least 1".into(),
            ));
        }
        Ok(self)
    }

    /// The demo's defaults: data in `data_dir`, the demo sign-in on.
    pub fn demo(data_dir: PathBuf) -> Self {
        let mut config = Self {
            data_dir,
            ..Self::default()
        };
        config.auth.demo = true;
        // The demo's people: alice (editor) and bob (approver) are the payments team, carol
        // reads; visitors may look around before signing in.
        config.auth.anonymous = Anonymous::Viewer;
        config.ownership = vec![OwnershipConfig {
            namespaces: vec!["payments".into(), "payments-*".into()],
            groups: vec!["team-payments".into()],
        }];
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_environment_override_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.toml");
        std::fs::write(&file, "data_dir = \"/srv/tg\"\n[server]\nbind = \"0.0.0.0:9000\"\n[repo]\nbranch = \"prod\"\n").unwrap();
        #[allow(clippy::result_large_err)]
        figment::Jail::expect_with(|jail| {
            jail.set_env("TOLLGATE__REPO__BRANCH", "release");
            jail.set_env("TOLLGATE__SERVER__ALLOW_MISSING_BUNDLE", "true");
            let c = Config::load(Config::default(), Some(&file)).map_err(|e| e.to_string())?;
            assert_eq!(c.server.bind.port(), 9000);
            assert_eq!(c.repo.branch, "release");
            assert_eq!(c.repo.path, PathBuf::from("/srv/tg/config-repo.git"));
            assert_eq!(c.database.url, "sqlite:///srv/tg/tollgate.db");
            assert!(!c.auth.demo);
            assert!(c.server.allow_missing_bundle);
            Ok(())
        });
    }

    #[test]
    fn host_secrets_come_inline_or_from_files_and_clone_urls_follow_the_api() {
        let dir = tempfile::tempdir().unwrap();
        let token_file = dir.path().join("token");
        std::fs::write(&token_file, "ghp_from_file\n").unwrap();
        let secret_file = dir.path().join("secret");
        std::fs::write(&secret_file, "  hook-secret \n").unwrap();
        let mut host = HostConfig {
            token_file: token_file.clone(),
            webhook_secret_file: secret_file,
            ..Config::default().host
        };
        assert_eq!(host.token().unwrap(), "ghp_from_file");
        assert_eq!(host.webhook_secret().unwrap(), "hook-secret");
        host.token = "inline".into();
        assert_eq!(host.token().unwrap(), "inline", "an inline value wins");
        host.token.clear();
        host.token_file = dir.path().join("missing");
        let err = host.token().unwrap_err().to_string();
        assert!(
            err.contains("host.token_file") && err.contains("missing"),
            "{err}"
        );

        host.repo = "acme/config".into();
        for (api, clone) in [
            (
                "https://api.github.com",
                "https://github.com/acme/config.git",
            ),
            (
                "https://ghe.example.com/api/v3/",
                "https://ghe.example.com/acme/config.git",
            ),
            (
                "https://example.com/gitlab/api/v4",
                "https://example.com/gitlab/acme/config.git",
            ),
            (
                "http://127.0.0.1:3000/api/v1",
                "http://127.0.0.1:3000/acme/config.git",
            ),
        ] {
            host.api_url = api.into();
            assert_eq!(host.clone_url(), clone, "{api}");
        }
        host.clone_url = "ssh://git@example.com/acme/config.git".into();
        assert_eq!(host.clone_url(), "ssh://git@example.com/acme/config.git");
    }

    #[test]
    fn unknown_keys_and_bad_urls_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.toml");
        std::fs::write(&file, "[repo]\nbrnach = \"x\"\n").unwrap();
        let err = Config::load(Config::default(), Some(&file))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("brnach"), "{err}");
        std::fs::write(&file, "[database]\nurl = \"mysql://u:pw@h/db\"\n").unwrap();
        let err = Config::load(Config::default(), Some(&file))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("database.url") && err.contains("u:***@h") && !err.contains("pw"),
            "{err}"
        );
    }

    #[test]
    fn example_config_lists_every_key_with_its_default() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tollgate.example.toml");
        let example: serde_json::Value = Figment::from(Toml::file_exact(&path)).extract().unwrap();
        let defaults = serde_json::to_value(Config::default()).unwrap();
        let mut example = example;
        // Derived paths are written empty in the example ("use the default").
        example["repo"]["path"] = defaults["repo"]["path"].clone();
        example["server"]["public_url"] = defaults["server"]["public_url"].clone();
        assert_eq!(example, defaults);
    }
}
