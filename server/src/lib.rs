//! Tollgate: GitOps API management for the Tyk Operator.
//!
//! Layers, from the inside out: `yaml` and `resources` are pure domain code; `repo` reads the
//! config repo with gix; `rules` checks resources the same way for an edit and for the whole
//! repo; `catalog` is the read model pages and the API serve; `db` and `auth`
//! hold sessions and users; `web` is the HTTP surface; `app` wires the services together and `serve` runs them over HTTP.

#![recursion_limit = "256"]

pub mod app;
pub mod auth;
pub mod catalog;
pub mod changes;
pub mod clusters;
pub mod config;
pub mod db;
pub mod error;
pub mod history;
pub mod hosts;
pub mod insights;
pub mod markdown;
pub mod repo;
pub mod resources;
pub mod rules;
pub mod serve;
pub mod status;
pub mod sync;
pub mod tasks;
pub mod timeline;
pub mod web;
pub mod yaml;
