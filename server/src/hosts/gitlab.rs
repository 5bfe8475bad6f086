//! stub
#[derive(Debug)]
pub struct Gitlab;
