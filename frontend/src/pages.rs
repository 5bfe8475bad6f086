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
use leptos_router::LazyRoute;

/// The pages whose code the browser loads only when one of them is shown. The wasm bundle is
/// split at each group (a leptos `#[lazy]` function), so the first load of the APIs list and
/// the status board carries none of the forms, YAML editor, change pages or charts. A group
/// loads as its own part plus the parts it shares with other groups (the splitter cuts one per
/// set of groups sharing code), so pages that share most of their code share a group: fewer
/// groups, fewer requests. Each group is written `function / preload { Route => Page, .. }`:
/// the function that shows its pages, and the preload function `#[lazy]` makes for it.
macro_rules! lazy_groups {
    ($($group:ident / $preload:ident { $($route:ident => $page:ident,)* })*) => {
        /// A lazily loaded page, by the [`LazyRoute`] that shows it.
        #[derive(Clone, Copy)]
        enum Lazy {
            $($($route,)*)*
        }

        $(
            // Unit tests link no splitter's loader, so there the groups are plain functions.
            #[cfg_attr(not(test), leptos::lazy)]
            async fn $group(page: Lazy) -> AnyView {
                match page {
                    $(Lazy::$route => view! { <$page/> }.into_any(),)*
                    #[allow(unreachable_patterns)]
                    _ => view! { <NotFound/> }.into_any(),
                }
            }

            $(
                #[doc = concat!("[`", stringify!($page), "`], loaded with its group when first shown.")]
                pub struct $route;

                impl LazyRoute for $route {
                    fn data() -> Self {
                        $route
                    }

                    async fn view(_this: Self) -> AnyView {
                        $group(Lazy::$route).await
                    }

                    /// Loads the group's part. The router waits for this before it hydrates
                    /// the page, so the page hydrates what the server rendered (without it
                    /// the part would still be loading when hydration reached the page).
                    async fn preload() {
                        #[cfg(all(feature = "hydrate", not(test)))]
                        $preload().await;
                    }
                }
            )*
        )*
    };
}

lazy_groups! {
    resource_pages / __preload_resource_pages {
        ApiDetail => ApiDetailPage,
        OasDetail => OasDetailPage,
        PolicyDetail => PolicyDetailPage,
    }
    api_form / __preload_api_form {
        ApiEdit => ApiEditPage,
    }
    policy_form / __preload_policy_form {
        PolicyEdit => PolicyEditPage,
    }
    oas_form / __preload_oas_form {
        OasEdit => OasEditPage,
    }
    yaml_editor / __preload_yaml_editor {
        YamlEdit => YamlEditPage,
    }
    basket_page / __preload_basket_page {
        ChangeBasket => ChangeBasketPage,
    }
    change_pages / __preload_change_pages {
        Changes => ChangesPage,
        Change => ChangePage,
    }
    more_pages / __preload_more_pages {
        Policies => PoliciesPage,
        Problems => ProblemsPage,
        Insights => InsightsPage,
        Activity => ActivityPage,
        Login => LoginPage,
        Tokens => TokensPage,
    }
}

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
