//! The one integration test binary: corpus, repo index, database, HTTP.

mod corpus;
mod db;
mod http;
mod index;
mod support;
