pub mod account;
pub mod manage;
pub mod not_found;
pub mod sign_in;
