//! The audit log: filters, and the CSV export ([`crate::settings::audit_log`]).

use axum::body::Body;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use latchkey_shared::admin::{AuditPage, AuditQuery};

use super::super::Answer;
use crate::error::AppResult;
use crate::http::auth::AdminCaller;
use crate::http::extract::ApiQuery;
use crate::settings::audit_log;

pub async fn page(a: AdminCaller, ApiQuery(q): ApiQuery<AuditQuery>) -> Answer<AuditPage> {
    Ok(Json(audit_log::page(&a.state, &q).await?))
}

pub async fn csv(
    a: AdminCaller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> AppResult<impl IntoResponse> {
    let csv = audit_log::csv(&a.state, &q).await?;
    let disposition = format!("attachment; filename=\"{}\"", csv.filename);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from(csv.body),
    ))
}
