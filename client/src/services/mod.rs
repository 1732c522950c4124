pub mod api;
pub mod storage;
