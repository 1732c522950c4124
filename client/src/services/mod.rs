pub mod api;
pub mod factors;
pub mod json;
pub mod requests;
pub mod self_service;
pub mod storage;
pub mod strength;
