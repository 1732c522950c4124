//! `GET /api/openapi.json`: the OpenAPI 3.1 description of the API, generated
//! with utoipa.
//!
//! Every request and response schema is derived (`utoipa::ToSchema`, reading
//! the serde attributes) from the types in `latchkey-shared`, compiled with
//! its `openapi` feature for the server only. Every operation is one row of
//! [`OPERATIONS`], built from the same path constants the routers use; the
//! error answers of a row follow from what it declares (a JSON body, a path
//! id, who may call it) plus the ones its handler adds. The integration tests
//! check that the rows and the routers agree both ways (`tests/api/openapi.rs`).

use std::sync::OnceLock;

use axum::http::header;
use axum::routing::get;
use axum::Router;
use latchkey_shared::admin::paths as admin_paths;

use crate::state::AppState;

mod build;
mod operations;

pub use build::document;
pub use operations::*;

pub fn router() -> Router<AppState> {
    Router::new().route(
        admin_paths::OPENAPI,
        get(|| async {
            (
                [(header::CONTENT_TYPE, "application/json")],
                document_json().as_str(),
            )
        }),
    )
}

/// The document as served (built once).
pub fn document_json() -> &'static String {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| document().to_json().unwrap_or_else(|_| "{}".to_owned()))
}
