//! stub
#[derive(Debug)]
pub struct Gitea;
