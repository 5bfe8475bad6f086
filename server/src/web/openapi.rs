//! The OpenAPI document of the REST API, generated from the handlers and wire types.

use axum::Json;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Tollgate API", description = "GitOps API management for the Tyk Operator"),
    paths(super::api::list_resources, super::api::get_resource, super::api::list_problems,
        super::api::get_repo_status, super::api::get_session),
    components(schemas(frontend::api::ApiError, frontend::api::ResourceSummary, frontend::api::Grant,
        frontend::api::Limits, frontend::api::Field))
)]
pub struct ApiDoc;

pub async fn get_openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
