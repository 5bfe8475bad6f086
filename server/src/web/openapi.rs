//! The OpenAPI document of the REST API, generated from the handlers and wire types.

use axum::Json;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tollgate API",
        description = "GitOps API management for the Tyk Operator"
    ),
    paths(
        super::api::list_resources,
        super::api::get_resource,
        super::api::list_problems,
        super::api::get_validation_context,
        super::api::get_repo_status,
        super::api::get_session,
        super::changes::create_change,
        super::changes::preview_change,
        super::changes::list_changes,
        super::changes::get_change,
        super::changes::discard_change,
        super::changes::approve_change,
        super::changes::merge_change,
        super::changes::close_change,
        super::changes::rebase_change,
        super::changes::comment_change,
        super::changes::resource_changes,
        super::changes::post_hook,
        super::status::get_status,
        super::status::adopt_drift,
        super::history::get_history,
        super::history::get_resource_at,
        super::history::restore,
        super::history::get_history_status,
        super::timeline::get_live,
        super::timeline::list_activity,
        super::insights::get_insights,
        super::tokens::create_token,
        super::tokens::list_tokens,
        super::tokens::revoke_token,
        super::audit::list_audit
    ),
    components(schemas(
        frontend::api::ApiError,
        frontend::api::ResourceSummary,
        frontend::api::Grant,
        frontend::api::Limits,
        frontend::api::Field,
        frontend::api::EditRequest,
        frontend::api::FileDiff,
        frontend::api::DiffLine,
        frontend::api::ChangeEvent,
        frontend::api::ChangedResource,
        frontend::validate::Issue,
        frontend::validate::Severity,
        frontend::validate::ApiRef,
        frontend::validate::PolicyRef,
        frontend::validate::GrantRef,
        frontend::validate::DefaultPolicyRef,
        frontend::api::StatusCell,
        frontend::api::StatusRow,
        frontend::api::ClusterInfo,
        frontend::api::DriftView,
        frontend::api::StateCount,
        frontend::api::HostHealth,
        frontend::api::HostRequest,
        frontend::api::HostReview,
        frontend::api::HostCheck,
        frontend::api::history::FieldChange,
        frontend::api::history::HistoryEntry,
        frontend::api::history::PullRequestRef,
        frontend::api::history::RestoreWarning,
        frontend::api::timeline::LiveIn,
        frontend::api::timeline::LiveAt,
        frontend::api::timeline::ActivityItem,
        frontend::api::ChangeRef,
        frontend::api::ResourceRef,
        frontend::api::Role,
        frontend::api::insights::InsightsReport,
        frontend::api::insights::WeekStat,
        frontend::api::insights::ClusterDrift,
        frontend::api::insights::DriftEpisodeView,
        frontend::api::insights::ChangeLeadTime,
        frontend::api::insights::ClusterLive,
        frontend::api::OwnerApproval,
        frontend::api::OwnershipRule,
        crate::auth::audit::AuditEntry
    ))
)]
pub struct ApiDoc;

pub async fn get_openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
