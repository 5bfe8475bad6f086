//! The errors services return: a [`Code`] (stable, snake_case on the wire), a message safe to
//! show, optionally the input field at fault and validation findings, and a detail for the log
//! only. The HTTP status of each code is one `match` on the enum ([`Code::status`]); the web
//! layer turns an [`Error`] into the wire's `ApiError` and logs its detail once.

use frontend::api::ApiError;
use frontend::validate::Issue;

/// Every error code Tollgate answers with. The string form is part of the API: never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    // The request itself.
    InvalidJson,
    InvalidQuery,
    InvalidIdempotencyKey,
    InvalidUser,
    UnknownKind,
    // Who is asking.
    Unauthenticated,
    Forbidden,
    NotOwner,
    SelfApproval,
    // What it asks for.
    NotFound,
    NotOpen,
    NotDraft,
    Conflict,
    ApprovalRequired,
    AlreadyExists,
    Stale,
    CheckedOut,
    // What it sends.
    InvalidTitle,
    InvalidDescription,
    InvalidComment,
    NoEdits,
    InvalidEdits,
    InvalidEdit,
    InvalidYaml,
    InvalidResource,
    InvalidPath,
    DuplicateEdit,
    KindMismatch,
    NameMismatch,
    UnknownApiVersion,
    EditRefused,
    UnreadableFile,
    NoChange,
    NotDrifted,
    IdempotencyKeyReused,
    ValidationFailed,
    // Tollgate's own state.
    NotReady,
    Busy,
    DatabaseUnavailable,
    RepoUnavailable,
    // The Git host.
    HostUnavailable,
    HostRefused,
    HostRejected,
    NotMergeable,
    InvalidSignature,
    InvalidWebhook,
    Internal,
}

impl Code {
    /// The code as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidJson => "invalid_json",
            Self::InvalidQuery => "invalid_query",
            Self::InvalidIdempotencyKey => "invalid_idempotency_key",
            Self::InvalidUser => "invalid_user",
            Self::UnknownKind => "unknown_kind",
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden => "forbidden",
            Self::NotOwner => "not_owner",
            Self::SelfApproval => "self_approval",
            Self::NotFound => "not_found",
            Self::NotOpen => "not_open",
            Self::NotDraft => "not_draft",
            Self::Conflict => "conflict",
            Self::ApprovalRequired => "approval_required",
            Self::AlreadyExists => "already_exists",
            Self::Stale => "stale",
            Self::CheckedOut => "checked_out",
            Self::InvalidTitle => "invalid_title",
            Self::InvalidDescription => "invalid_description",
            Self::InvalidComment => "invalid_comment",
            Self::NoEdits => "no_edits",
            Self::InvalidEdits => "invalid_edits",
            Self::InvalidEdit => "invalid_edit",
            Self::InvalidYaml => "invalid_yaml",
            Self::InvalidResource => "invalid_resource",
            Self::InvalidPath => "invalid_path",
            Self::DuplicateEdit => "duplicate_edit",
            Self::KindMismatch => "kind_mismatch",
            Self::NameMismatch => "name_mismatch",
            Self::UnknownApiVersion => "unknown_api_version",
            Self::EditRefused => "edit_refused",
            Self::UnreadableFile => "unreadable_file",
            Self::NoChange => "no_change",
            Self::NotDrifted => "not_drifted",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::ValidationFailed => "validation_failed",
            Self::NotReady => "not_ready",
            Self::Busy => "busy",
            Self::DatabaseUnavailable => "database_unavailable",
            Self::RepoUnavailable => "repo_unavailable",
            Self::HostUnavailable => "host_unavailable",
            Self::HostRefused => "host_refused",
            Self::HostRejected => "host_rejected",
            Self::NotMergeable => "not_mergeable",
            Self::InvalidSignature => "invalid_signature",
            Self::InvalidWebhook => "invalid_webhook",
            Self::Internal => "internal",
        }
    }

    /// The HTTP status the code answers with: the one place this is decided.
    pub fn status(self) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            Self::InvalidJson
            | Self::InvalidQuery
            | Self::InvalidIdempotencyKey
            | Self::InvalidUser
            | Self::UnknownKind => S::BAD_REQUEST,
            Self::Unauthenticated | Self::InvalidSignature => S::UNAUTHORIZED,
            Self::InvalidWebhook => S::BAD_REQUEST,
            Self::NotMergeable => S::CONFLICT,
            Self::HostRejected => S::UNPROCESSABLE_ENTITY,
            // The host answered, but not as it should for this deployment (token, permission,
            // repo): a bad gateway, for the administrator to fix.
            Self::HostRefused => S::BAD_GATEWAY,
            Self::HostUnavailable => S::SERVICE_UNAVAILABLE,
            Self::Forbidden | Self::NotOwner | Self::SelfApproval => S::FORBIDDEN,
            Self::NotFound => S::NOT_FOUND,
            Self::NotOpen
            | Self::NotDraft
            | Self::Conflict
            | Self::ApprovalRequired
            | Self::AlreadyExists
            | Self::Stale
            | Self::CheckedOut => S::CONFLICT,
            Self::InvalidTitle
            | Self::InvalidDescription
            | Self::InvalidComment
            | Self::NoEdits
            | Self::InvalidEdits
            | Self::InvalidEdit
            | Self::InvalidYaml
            | Self::InvalidResource
            | Self::InvalidPath
            | Self::DuplicateEdit
            | Self::KindMismatch
            | Self::NameMismatch
            | Self::UnknownApiVersion
            | Self::EditRefused
            | Self::UnreadableFile
            | Self::NoChange
            | Self::NotDrifted
            | Self::IdempotencyKeyReused
            | Self::ValidationFailed => S::UNPROCESSABLE_ENTITY,
            Self::NotReady | Self::Busy | Self::DatabaseUnavailable | Self::RepoUnavailable => {
                S::SERVICE_UNAVAILABLE
            }
            Self::Internal => S::INTERNAL_SERVER_ERROR,
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A service's refusal or failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Error {
    pub code: Code,
    /// Safe to show: says what is wrong and where, never internals.
    pub message: String,
    /// The input field at fault (`title`, `edits[0].document.spec.proxy`).
    pub field: Option<String>,
    /// Validation findings, for [`Code::ValidationFailed`].
    pub issues: Vec<Issue>,
    /// What went wrong inside (SQL, git), for the log only.
    pub detail: Option<String>,
}

impl Error {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
            issues: Vec::new(),
            detail: None,
        }
    }

    /// The field at fault.
    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// What the log gets besides the message.
    pub fn detail(mut self, detail: impl std::fmt::Display) -> Self {
        self.detail = Some(detail.to_string());
        self
    }

    /// A failure inside Tollgate: a generic message for people, the detail for the log.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self::new(Code::Internal, "internal error").detail(detail)
    }
}

/// The wire form, for pages rendered on the server (the REST layer adds the request id).
impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let mut out = ApiError::new(e.code.as_str(), e.message);
        out.field = e.field;
        out.issues = e.issues;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_snake_case_and_unique() {
        let all = [
            Code::InvalidJson,
            Code::InvalidQuery,
            Code::InvalidIdempotencyKey,
            Code::InvalidUser,
            Code::UnknownKind,
            Code::Unauthenticated,
            Code::Forbidden,
            Code::NotOwner,
            Code::SelfApproval,
            Code::NotFound,
            Code::NotOpen,
            Code::NotDraft,
            Code::Conflict,
            Code::ApprovalRequired,
            Code::AlreadyExists,
            Code::Stale,
            Code::CheckedOut,
            Code::InvalidTitle,
            Code::InvalidDescription,
            Code::InvalidComment,
            Code::NoEdits,
            Code::InvalidEdits,
            Code::InvalidEdit,
            Code::InvalidYaml,
            Code::InvalidResource,
            Code::InvalidPath,
            Code::DuplicateEdit,
            Code::KindMismatch,
            Code::NameMismatch,
            Code::UnknownApiVersion,
            Code::EditRefused,
            Code::UnreadableFile,
            Code::NoChange,
            Code::NotDrifted,
            Code::IdempotencyKeyReused,
            Code::ValidationFailed,
            Code::NotReady,
            Code::Busy,
            Code::DatabaseUnavailable,
            Code::RepoUnavailable,
            Code::HostUnavailable,
            Code::HostRefused,
            Code::HostRejected,
            Code::NotMergeable,
            Code::InvalidSignature,
            Code::InvalidWebhook,
            Code::Internal,
        ];
        let mut seen = std::collections::HashSet::new();
        for code in all {
            let s = code.as_str();
            assert!(s.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{s}");
            assert!(seen.insert(s), "{s} twice");
        }
        assert_eq!(Code::Stale.status(), http::StatusCode::CONFLICT);
        assert_eq!(
            Code::ValidationFailed.status(),
            http::StatusCode::UNPROCESSABLE_ENTITY
        );
    }

    #[test]
    fn the_wire_form_keeps_code_field_and_issues_but_not_the_detail() {
        let e = Error::new(Code::InvalidTitle, "the title must be one line")
            .at("title")
            .detail("SELECT * FROM secrets");
        let wire = ApiError::from(e);
        assert_eq!(wire.code, "invalid_title");
        assert_eq!(wire.field.as_deref(), Some("title"));
        assert!(
            !serde_json::to_string(&wire)
                .unwrap_or_default()
                .contains("SELECT")
        );
    }
}
