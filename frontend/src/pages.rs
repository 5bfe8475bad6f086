//! The pages, one file each.

mod activity;
mod api_detail;
mod api_edit;
mod apis;
mod basket;
mod changes;
mod delete_grants;
mod draft;
mod form;
mod history;
mod insights;
mod login;
mod oas_edit;
mod policies;
mod policy_detail;
mod policy_edit;
mod problems;
mod propose;
mod status;
mod tokens;
mod yaml_edit;

pub use activity::ActivityPage;
pub use api_detail::{ApiDetailPage, OasDetailPage};
pub use api_edit::ApiEditPage;
pub use apis::ApisPage;
pub use basket::{BasketLink, ChangeBasketPage};
pub use changes::{ChangePage, ChangesPage};
pub use insights::InsightsPage;
pub use login::LoginPage;
pub use oas_edit::OasEditPage;
pub use policies::PoliciesPage;
pub use policy_detail::PolicyDetailPage;
pub use policy_edit::PolicyEditPage;
pub use problems::ProblemsPage;
pub use status::StatusPage;
pub use tokens::TokensPage;
pub use yaml_edit::YamlEditPage;

use leptos::prelude::*;
use leptos_meta::Title;

/// Page size of lists.
pub const PAGE_SIZE: usize = 50;

/// Answers the page being rendered on the server with `404 Not Found`.
pub fn not_found_status() {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    not_found_status();
    view! {
        <Title text="Not found"/>
        <h1>"Page not found"</h1>
        <p>"There is nothing here. Go to the " <a href="/apis">"APIs"</a> "."</p>
    }
}
