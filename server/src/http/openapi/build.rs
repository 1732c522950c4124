//! The OpenAPI document built from [`OPERATIONS`]: parameters, bodies,
//! answers (each row's errors plus the ones every call can get), security
//! schemes and tags.

use std::collections::BTreeMap;

use axum::http::header;

use latchkey_shared::admin::{self};
use latchkey_shared::api::{self, CSRF_HEADER, SESSION_COOKIE};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{OperationBuilder, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ComponentsBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    Content, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, RefOr, Required, ResponsesBuilder,
};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use crate::MAX_BODY_BYTES;

use super::operations::*;

fn path_parameter(param: PathParam) -> Option<Parameter> {
    let (name, schema, description): (&str, RefOr<Schema>, &str) = match param {
        PathParam::None => return None,
        PathParam::UserId => ("id", i64::schema(), "The user's id"),
        PathParam::NoticeId => ("id", i64::schema(), "The notice's id"),
        PathParam::ApiKeyId => ("id", i64::schema(), "The API key's id"),
        PathParam::DomainSlug => ("slug", string(), "The domain's short name"),
        PathParam::FlowId => (
            "id",
            string(),
            "The flow id `POST /api/self-service/flows` answered",
        ),
    };
    Some(
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .description(Some(description))
            .schema(Some(schema))
            .build(),
    )
}

fn query_parameters(query: Query) -> Vec<Parameter> {
    match query {
        Query::None => Vec::new(),
        Query::UserSearch => vec![ParameterBuilder::new()
            .name("q")
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some(
                "Part of a user name or display name (case-insensitive); empty lists everyone",
            ))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .max_length(Some(100)),
            ))
            .build()],
        Query::Audit => admin::AuditQuery::into_params(|| Some(ParameterIn::Query)),
    }
}

fn header_parameter(name: &str, required: bool, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(if required {
            Required::True
        } else {
            Required::False
        })
        .description(Some(description))
        .schema(Some(string()))
        .build()
}

fn json_content(schema: RefOr<Schema>) -> Content {
    Content::new(Some(schema))
}

fn build_operation(
    o: &Operation,
    components: &mut Vec<(String, RefOr<Schema>)>,
) -> utoipa::openapi::path::Operation {
    let mut b = OperationBuilder::new()
        .operation_id(Some(o.id))
        .tag(o.tag)
        .summary(Some(o.summary));
    let mut parameters: Vec<Parameter> = path_parameter(o.param).into_iter().collect();
    parameters.extend(query_parameters(o.query));
    if o.method != Method::Get && o.body.is_none() {
        parameters.push(header_parameter(
            CSRF_HEADER,
            true,
            "Any value: a request that changes something without a JSON body must carry it \
             (cross-site protection)",
        ));
    }
    if matches!(o.success, Success::JsonWithEtag(_)) {
        parameters.push(header_parameter(
            header::IF_NONE_MATCH.as_str(),
            false,
            "The `ETag` of the copy the client has: 304 if it is still current",
        ));
    }
    if !parameters.is_empty() {
        b = b.parameters(Some(parameters));
    }
    if let Some(body) = o.body {
        b = b.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content("application/json", json_content(body(components)))
                .build(),
        ));
    }

    let mut responses = ResponsesBuilder::new();
    let cookie = |description: &str| {
        HeaderBuilder::new()
            .schema(string())
            .description(Some(description))
            .build()
    };
    let ok = match o.success {
        Success::Json(status, schema) => (
            status,
            ResponseBuilder::new()
                .description(if status == 201 { "Created" } else { "OK" })
                .content("application/json", json_content(schema(components))),
        ),
        Success::JsonSettingCookie(schema) => (
            200,
            ResponseBuilder::new()
                .description("Signed in")
                .content("application/json", json_content(schema(components)))
                .header(
                    "Set-Cookie",
                    cookie(&format!(
                        "`{SESSION_COOKIE}`: the session (HttpOnly, SameSite=Strict)"
                    )),
                ),
        ),
        Success::JsonWithEtag(schema) => {
            responses = responses.response(
                "304",
                ResponseBuilder::new()
                    .description("Not modified: the client's copy (`If-None-Match`) is current")
                    .build(),
            );
            (
                200,
                ResponseBuilder::new()
                    .description("OK")
                    .content("application/json", json_content(schema(components)))
                    .header("ETag", cookie("A strong tag of the content")),
            )
        }
        Success::NoContent => (204, ResponseBuilder::new().description("Done")),
        Success::NoContentClearingCookie => (
            204,
            ResponseBuilder::new().description("Signed out").header(
                "Set-Cookie",
                cookie(&format!("`{SESSION_COOKIE}`, cleared")),
            ),
        ),
        Success::Text => (
            200,
            ResponseBuilder::new()
                .description("OK")
                .content("text/plain", Content::new(Some(string()))),
        ),
        Success::Csv => (
            200,
            ResponseBuilder::new()
                .description("CSV, one event a line (an attachment)")
                .content("text/csv", Content::new(Some(string()))),
        ),
        Success::Document => (
            200,
            ResponseBuilder::new().description("This document").content(
                "application/json",
                json_content(ObjectBuilder::new().schema_type(Type::Object).into()),
            ),
        ),
    };
    responses = responses.response(ok.0.to_string(), ok.1.build());
    for (status, reasons) in o.error_statuses() {
        let mut r = ResponseBuilder::new()
            .description(reasons.join("; "))
            .content(
                "application/json",
                json_content(Ref::from_schema_name(api::ApiError::name()).into()),
            );
        if status == 503 {
            r = r.header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(i64::schema())
                    .description(Some("Seconds to wait"))
                    .build(),
            );
        }
        responses = responses.response(status.to_string(), r.build());
    }
    b = b.responses(responses.build());

    match o.access {
        Access::Public => {}
        Access::OptionalSession => {
            b = b.securities(Some([
                SecurityRequirement::default(),
                SecurityRequirement::new("session", Vec::<String>::new()),
            ]))
        }
        Access::AnySession | Access::SignedIn | Access::Staff | Access::Admin => {
            b = b.security(SecurityRequirement::new("session", Vec::<String>::new()))
        }
        Access::ApiKey => b = b.security(SecurityRequirement::new("api_key", Vec::<String>::new())),
    }
    b.build()
}

/// The whole description.
pub fn document() -> OpenApi {
    let mut components: Vec<(String, RefOr<Schema>)> = Vec::new();
    json::<api::ApiError>(&mut components);
    let mut paths = Paths::new();
    for o in OPERATIONS {
        let operation = build_operation(o, &mut components);
        paths.add_path_operation(o.path, vec![o.method.http()], operation);
    }
    let schemas: BTreeMap<String, RefOr<Schema>> = components.into_iter().collect();
    let components = ComponentsBuilder::new()
        .schemas_from_iter(schemas)
        .security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "The session cookie `POST /api/session` sets",
            ))),
        )
        .security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key an administrator created (`lk_…`), for the portal",
                    ))
                    .build(),
            ),
        )
        .build();
    let tag = |name: &str, description: &str| {
        TagBuilder::new()
            .name(name)
            .description(Some(description))
            .build()
    };
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Latchkey API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(description()))
                .build(),
        )
        .paths(paths)
        .components(Some(components))
        .tags(Some([
            tag("public", "No session needed"),
            tag("session", "Sign in, sign out, change the password"),
            tag(
                "self-service",
                "Security questions: enrolment, Unlock Account and Forgot Password",
            ),
            tag(
                "staff",
                "Local Registration Authorities (and administrators): users of their domains",
            ),
            tag(
                "admin",
                "Administrators: configuration, audit log, API keys, roles",
            ),
            tag("portal", "The organisation's portal, with an API key"),
        ]))
        .build()
}

fn description() -> String {
    format!(
        "Self-service password management. Every request that changes something \
         (`POST`, `PUT`, `DELETE`) sends a JSON body (`Content-Type: application/json`) or the \
         `{CSRF_HEADER}` header, else 403. Bodies are at most {} KiB. Every error is an \
         `ApiError` body with a stable `code`; a 500 carries a `request_id` for the Help Desk.",
        MAX_BODY_BYTES / 1024
    )
}
