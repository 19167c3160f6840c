//! TODO
pub mod jinja;
