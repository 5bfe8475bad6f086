//! The one integration test binary: corpus, repo index, database, HTTP.

// Test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod actions;
mod bundle;
mod change_list;
mod changes;
mod corpus;
mod db;
mod edits;
mod emulator;
mod forms;
mod grants;
mod history;
mod hosts;
mod hostuser;
mod http;
mod index;
mod insights;
mod oidc;
mod pages;
mod postgres;
mod rules;
mod several;
mod status;
mod store;
mod support;
mod timeline;
mod trust;
