//! The built-in host: change requests are branches of the local config repo, reviewed and
//! merged in Tollgate.
