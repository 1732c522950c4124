//! The OpenAPI description (`GET /api/openapi.json`): it lists exactly the
//! operations the routers serve, its schemas are complete enough for a
//! generator to build valid bodies, and each operation lists the statuses its
//! handler can answer.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use latchkey_server::http::openapi::document_json;
use latchkey_shared::admin::paths;
use latchkey_shared::api::{ApiError, CSRF_HEADER};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{new_client, spawn_app, Backend, TestApp};
use crate::staff::administrator;

both_backends!(
    the_openapi_description_lists_only_real_routes,
    methods_and_paths_not_listed_are_not_routed,
    anonymous_and_administrator_requests_get_only_listed_statuses,
);

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

fn document() -> Value {
    serde_json::from_str(document_json()).expect("the document is JSON")
}

/// `(method, path, operation)` of every operation in the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            out.push((method.clone(), path.clone(), op.clone()));
        }
    }
    out
}

/// The path with its parameters filled in with plausible values.
fn concrete(path: &str) -> String {
    path.replace("{id}", "1").replace("{slug}", "partners")
}

fn request(client: &reqwest::Client, method: &str, url: &str) -> reqwest::RequestBuilder {
    let m = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).expect("method");
    client.request(m, url)
}

/// Statuses an operation lists.
fn listed_statuses(op: &Value) -> BTreeSet<u16> {
    op["responses"]
        .as_object()
        .expect("responses")
        .keys()
        .map(|k| k.parse().expect("numeric status"))
        .collect()
}

/// The schema `$ref` points to.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unexpected reference {r}"));
            let target = &doc["components"]["schemas"][name];
            assert!(target.is_object(), "reference {r} resolves");
            target
        }
        None => schema,
    }
}

// ---------------------------------------------------------------- the document itself

#[test]
fn the_document_is_openapi_3_1_with_unique_operation_ids_and_both_security_schemes() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "Latchkey API");
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["session"]["type"], "apiKey");
    assert_eq!(schemes["session"]["in"], "cookie");
    assert_eq!(schemes["session"]["name"], "latchkey_session");
    assert_eq!(schemes["api_key"]["type"], "http");
    assert_eq!(schemes["api_key"]["scheme"], "bearer");
    let tags: BTreeSet<&str> = doc["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .map(|t| t["name"].as_str().expect("tag name"))
        .collect();
    let mut ids = BTreeSet::new();
    for (method, path, op) in operations(&doc) {
        let id = op["operationId"].as_str().expect("operationId");
        assert!(ids.insert(id.to_owned()), "operationId {id} is unique");
        assert!(
            op["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{method} {path} has a summary"
        );
        let op_tags = op["tags"].as_array().expect("tags");
        assert_eq!(op_tags.len(), 1, "{method} {path} has one tag");
        assert!(
            tags.contains(op_tags[0].as_str().unwrap()),
            "{method} {path}'s tag is described"
        );
    }
    assert_eq!(
        doc["paths"][paths::PORTAL_VERIFY]["post"]["security"],
        json!([{ "api_key": [] }])
    );
    assert_eq!(
        doc["paths"][paths::ADMIN_DOMAINS]["get"]["security"],
        json!([{ "session": [] }])
    );
}

/// Fails on a schema that says nothing (`{}`, or only a description), and
/// on a `$ref` that does not resolve, anywhere under `schema`.
fn assert_typed(doc: &Value, schema: &Value, at: &str) {
    let obj = schema
        .as_object()
        .unwrap_or_else(|| panic!("{at}: a schema is an object"));
    if obj.contains_key("$ref") {
        resolve(doc, schema);
        return;
    }
    let says_something = ["type", "oneOf", "anyOf", "allOf", "enum", "const"]
        .iter()
        .any(|k| obj.contains_key(*k));
    assert!(says_something, "{at} is an untyped schema: {schema}");
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (name, p) in props {
            assert_typed(doc, p, &format!("{at}.{name}"));
        }
    }
    if let Some(required) = obj.get("required").and_then(Value::as_array) {
        for r in required {
            let r = r.as_str().expect("required names");
            assert!(
                obj.get("properties").is_some_and(|p| p.get(r).is_some()),
                "{at}: required {r} is a property"
            );
        }
    }
    if let Some(items) = obj.get("items") {
        assert_typed(doc, items, &format!("{at}[]"));
    }
    for k in ["oneOf", "anyOf", "allOf"] {
        if let Some(list) = obj.get(k).and_then(Value::as_array) {
            for (i, s) in list.iter().enumerate() {
                assert_typed(doc, s, &format!("{at}.{k}[{i}]"));
            }
        }
    }
}

#[test]
fn no_schema_in_the_document_is_empty_and_every_reference_resolves() {
    let doc = document();
    for (name, schema) in doc["components"]["schemas"].as_object().expect("schemas") {
        assert_typed(&doc, schema, name);
    }
    for (method, path, op) in operations(&doc) {
        for p in op["parameters"].as_array().into_iter().flatten() {
            assert_typed(
                &doc,
                &p["schema"],
                &format!("{method} {path} {}", p["name"]),
            );
        }
        for (status, r) in op["responses"].as_object().expect("responses") {
            for (ct, c) in r["content"].as_object().into_iter().flatten() {
                assert_typed(
                    &doc,
                    &c["schema"],
                    &format!("{method} {path} {status} {ct}"),
                );
            }
        }
        if let Some(body) = op.get("requestBody") {
            assert_typed(
                &doc,
                &body["content"]["application/json"]["schema"],
                &format!("{method} {path} body"),
            );
        }
    }
    // The error body, with its code and details.
    let err = &doc["components"]["schemas"]["ApiError"];
    assert_eq!(err["required"], json!(["code", "message"]));
    let codes = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .expect("ErrorCode is an enum");
    for c in [
        "bad_request",
        "policy_changed",
        "flow_expired",
        "busy",
        "account_locked",
    ] {
        assert!(codes.contains(&json!(c)), "ErrorCode lists {c}");
    }
    let details = doc["components"]["schemas"]["ErrorDetails"]["oneOf"]
        .as_array()
        .expect("ErrorDetails is a oneOf");
    let kinds: BTreeSet<&str> = details
        .iter()
        .map(|d| {
            d["properties"]["kind"]["enum"][0]
                .as_str()
                .expect("kind tag")
        })
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["password_report", "policy", "retry_after"])
    );
}

#[test]
fn every_request_body_is_an_object_with_required_and_typed_properties() {
    let doc = document();
    let mut bodies = 0;
    for (method, path, op) in operations(&doc) {
        let Some(body) = op.get("requestBody") else {
            continue;
        };
        bodies += 1;
        assert_eq!(
            body["required"], true,
            "{method} {path}: the body is required"
        );
        let schema = resolve(&doc, &body["content"]["application/json"]["schema"]);
        assert_eq!(schema["type"], "object", "{method} {path}: an object");
        let required = schema["required"]
            .as_array()
            .unwrap_or_else(|| panic!("{method} {path}: lists required fields"));
        assert!(!required.is_empty(), "{method} {path}: requires fields");
        let props = schema["properties"].as_object().expect("properties");
        for (name, p) in props {
            assert_typed(&doc, p, &format!("{method} {path} body.{name}"));
        }
    }
    assert!(bodies >= 20, "only {bodies} request bodies");
    // Serde attributes are reflected: defaults are optional, tags are required.
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["DomainCreate"]["required"], json!(["slug", "name"]));
    assert!(schemas["PasswordPolicy"]["required"].is_null());
    assert_eq!(schemas["EnrolRequest"]["required"], json!(["answers"]));
    assert_eq!(
        schemas["SignInRequest"]["properties"]["password"]["format"],
        "password"
    );
    let finish = schemas["FinishResponse"]["oneOf"]
        .as_array()
        .expect("oneOf");
    assert!(finish
        .iter()
        .all(|v| v["required"].as_array().unwrap().contains(&json!("next"))));
}

#[test]
fn every_operation_lists_the_statuses_its_handler_can_answer() {
    let doc = document();
    let hashing = [
        "sign_in",
        "change_password",
        "staff_reauth",
        "enrol",
        "issue_temporary_password",
        "portal_verify",
        "answer_questions",
        "choose_new_password",
        "remove_authenticator",
        "remove_address",
        "set_up_authenticator",
        "change_address",
    ];
    let mut seen_hashing: BTreeSet<String> = BTreeSet::new();
    for (method, path, op) in operations(&doc) {
        let id = op["operationId"].as_str().unwrap();
        let statuses = listed_statuses(&op);
        let has = |s: u16| statuses.contains(&s);
        for (status, r) in op["responses"].as_object().unwrap() {
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    r["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ApiError",
                    "{method} {path} {status} is an ApiError"
                );
                assert!(
                    r["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{method} {path} {status} says when"
                );
            }
        }
        assert!(has(500), "{method} {path} lists 500");
        if op.get("requestBody").is_some() {
            for s in [400, 413, 415] {
                assert!(has(s), "{method} {path} has a body: lists {s}");
            }
        }
        if method != "get" {
            assert!(
                has(403),
                "{method} {path} changes something: lists 403 (CSRF)"
            );
        }
        if op["security"] == json!([{ "session": [] }]) {
            assert!(has(401), "{method} {path} needs a session: lists 401");
        }
        let busy = &op["responses"]["503"];
        if hashing.contains(&id) {
            seen_hashing.insert(id.to_owned());
            assert!(has(503), "{id} hashes a password: lists 503");
            assert!(
                busy["description"]
                    .as_str()
                    .is_some_and(|d| d.contains("hashed")),
                "{id}: the hashing queue is one reason for its 503"
            );
        }
        if ["get_openapi", "get_health_live"].contains(&id) {
            assert!(!has(503), "{id} asks nothing of the database: no 503");
        } else {
            assert!(has(503), "{id} asks the database: lists 503");
            assert!(
                busy["description"]
                    .as_str()
                    .is_some_and(|d| d.contains("database cannot serve")),
                "{id}: a database that cannot serve is one reason for its 503"
            );
            assert!(
                busy["headers"]["Retry-After"].is_object(),
                "{id}: Retry-After"
            );
        }
        if path.starts_with("/api/self-service/flows/") {
            assert!(has(410), "{id}: a flow can expire (410)");
        }
        let success: Vec<u16> = statuses.iter().copied().filter(|s| *s < 400).collect();
        let expected = match id {
            "create_domain" | "create_notice" | "create_api_key" => vec![201],
            "send_test_mail" => vec![202],
            "sign_out" | "delete_notice" | "revoke_api_key" | "lift_throttle" => vec![204],
            "get_bootstrap" => vec![200, 304],
            _ => vec![200],
        };
        assert_eq!(success, expected, "{id}: success statuses");
    }
    assert_eq!(
        seen_hashing.len(),
        hashing.len(),
        "every hashing operation is listed"
    );
    let statuses = |method: &str, path: &str| listed_statuses(&doc["paths"][path][method]);
    assert!(statuses("post", "/api/password/change").is_superset(&BTreeSet::from([409, 422, 423])));
    assert!(statuses("post", "/api/self-service/flows/{id}/password").contains(&409));
    assert!(statuses("post", "/api/self-service/flows/{id}/identify")
        .is_superset(&BTreeSet::from([422, 429])));
    assert!(statuses("post", "/api/session").is_superset(&BTreeSet::from([401, 423, 503])));
    assert!(statuses("get", paths::STAFF_USER).contains(&404));
    assert!(statuses("put", "/api/enrolment").contains(&423));
}

#[test]
fn every_path_parameter_is_declared_with_its_type() {
    let doc = document();
    for (method, path, op) in operations(&doc) {
        let in_path: BTreeSet<&str> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        let declared: BTreeMap<&str, &Value> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "path")
            .map(|p| (p["name"].as_str().unwrap(), p))
            .collect();
        assert_eq!(
            in_path,
            declared.keys().copied().collect(),
            "{method} {path}: path parameters"
        );
        for (name, p) in declared {
            assert_eq!(p["required"], true, "{method} {path} {name}");
            let expected = if name == "id" && !path.starts_with("/api/self-service/") {
                json!({ "type": "integer", "format": "int64" })
            } else {
                json!({ "type": "string" })
            };
            assert_eq!(p["schema"], expected, "{method} {path} {name}: type");
        }
        let query: BTreeMap<&str, &Value> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
            .map(|p| (p["name"].as_str().unwrap(), &p["schema"]["type"]))
            .collect();
        let expected: BTreeMap<&str, Value> = if path == paths::STAFF_USERS {
            BTreeMap::from([("q", json!("string"))])
        } else if path == paths::ADMIN_AUDIT || path == paths::ADMIN_AUDIT_CSV {
            BTreeMap::from([
                ("user", json!("string")),
                ("domain", json!("string")),
                ("kind", json!("string")),
                ("from", json!("integer")),
                ("to", json!("integer")),
                ("limit", json!("integer")),
            ])
        } else {
            BTreeMap::new()
        };
        assert_eq!(
            query,
            expected.iter().map(|(k, v)| (*k, v)).collect(),
            "{method} {path}: query parameters"
        );
    }
}

// ---------------------------------------------------------------- the routers' source

/// The `.rs` files under `dir`, in its subdirectories too.
fn sources(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a source directory") {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// `NAME → "/api/…"` of every path constant in `shared/src`.
fn path_constants() -> BTreeMap<String, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/src");
    let mut out = BTreeMap::new();
    for path in sources(&dir) {
        let src = std::fs::read_to_string(path).unwrap();
        for line in src.lines() {
            let Some(rest) = line.trim().strip_prefix("pub const ") else {
                continue;
            };
            let Some((name, value)) = rest.split_once(": &str = \"") else {
                continue;
            };
            let Some(value) = value.strip_suffix("\";") else {
                continue;
            };
            if value.starts_with("/api") {
                let old = out.insert(name.to_owned(), value.to_owned());
                assert!(
                    old.is_none_or(|o| o == value),
                    "path constant {name} has one value"
                );
            }
        }
    }
    out
}

/// The text of the parenthesised group starting at `open` (which is `(`).
fn group(src: &str, open: usize) -> &str {
    let mut depth = 0;
    for (i, c) in src[open..].char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return &src[open + 1..open + i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced parentheses");
}

/// Identifiers called at the top level of `expr`: `post(a).get(b)` → post, get.
fn top_level_calls(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut ident = String::new();
    for c in expr.chars() {
        match c {
            '(' if depth == 0 => {
                out.push(std::mem::take(&mut ident));
                depth += 1;
            }
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            c if depth == 0 && (c.is_alphanumeric() || c == '_') => ident.push(c),
            _ if depth == 0 => ident.clear(),
            _ => {}
        }
    }
    out
}

/// Every `.rs` file under `dir`, its subdirectories included.
fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a readable directory") {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// `(method, path)` of every `.route(…)` in `server/src/http/routes` and
/// `server/src/http/openapi` (the document's own route), but the
/// `test-hooks` feature's and the JSON 404 of unknown `/api` paths.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let consts = path_constants();
    let http = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let files = [http.join("routes"), http.join("openapi")]
        .iter()
        .flat_map(|dir| rust_files(dir))
        .collect::<Vec<_>>();
    let mut out = BTreeSet::new();
    for file in files {
        if file.file_name().is_some_and(|n| n == "test_hooks.rs") {
            continue;
        }
        let src = std::fs::read_to_string(&file).unwrap();
        for (at, _) in src.match_indices(".route(") {
            let args = group(&src, at + ".route".len());
            let (path_expr, handler) = args.split_once(',').expect("two arguments");
            let path_expr = path_expr.trim();
            let path = if let Some(lit) = path_expr.strip_prefix('"') {
                lit.trim_end_matches('"').to_owned()
            } else {
                let name = path_expr.rsplit("::").next().unwrap();
                consts
                    .get(name)
                    .unwrap_or_else(|| panic!("{}: unknown path {path_expr}", file.display()))
                    .clone()
            };
            let calls = top_level_calls(handler.trim());
            if calls == ["any"] && handler.contains("api_not_found") {
                assert!(
                    ["/api", "/api/", "/api/{*rest}"].contains(&path.as_str()),
                    "only unknown paths get the JSON 404: {path}"
                );
                continue;
            }
            assert!(!calls.is_empty(), "{path}: no method in {handler}");
            for m in calls {
                assert!(
                    METHODS.contains(&m.as_str()),
                    "{path}: unexpected method router {m}"
                );
                out.insert((m, path.clone()));
            }
        }
    }
    out
}

#[test]
fn every_route_in_the_routers_source_is_listed_and_nothing_else() {
    let routed = routes_in_source();
    assert!(routed.len() >= 30, "found only {} routes", routed.len());
    let listed: BTreeSet<(String, String)> = operations(&document())
        .into_iter()
        .map(|(m, p, _)| (m, p))
        .collect();
    let unlisted: Vec<_> = routed.difference(&listed).collect();
    assert!(unlisted.is_empty(), "routed but not listed: {unlisted:?}");
    let unrouted: Vec<_> = listed.difference(&routed).collect();
    assert!(unrouted.is_empty(), "listed but not routed: {unrouted:?}");
}

// ---------------------------------------------------------------- against the server

async fn the_openapi_description_lists_only_real_routes(backend: Backend) {
    let app = spawn_app(backend).await;
    let served: Value = new_client()
        .get(app.url(paths::OPENAPI))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        served,
        document(),
        "the served document is the generated one"
    );
    assert_eq!(served["openapi"], "3.1.0");
    let anon = new_client();
    let ops = operations(&served);
    assert!(ops.len() >= 40, "only {} operations", ops.len());
    for (method, path, _) in ops {
        let url = app.url(&concrete(&path));
        let req = request(&anon, &method, &url);
        let req = if method == "get" {
            req
        } else {
            req.json(&json!({}))
        };
        let r = req.send().await.unwrap();
        assert_ne!(
            r.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_ne!(
            r.status(),
            StatusCode::NOT_FOUND,
            "{method} {path} is routed"
        );
    }
}

async fn methods_and_paths_not_listed_are_not_routed(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc = document();
    let anon = new_client();
    let send = |method: &'static str, path: String| {
        let req = request(&anon, method, &app.url(&path))
            .header(CSRF_HEADER, "1")
            .json(&json!({}));
        async move { req.send().await.unwrap().status() }
    };
    // A listed path answers 405 to every other method.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method).is_none() {
                assert_eq!(
                    send(method, concrete(path)).await,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is not routed"
                );
            }
        }
    }
    // Every other path of the shared constants is not routed at all.
    for path in path_constants().into_values() {
        if doc["paths"].get(&path).is_none() {
            for method in METHODS {
                assert_eq!(
                    send(method, concrete(&path)).await,
                    StatusCode::NOT_FOUND,
                    "{method} {path} is not routed"
                );
            }
        }
    }
}

/// Sends `method path` with `body` (JSON unless `content_type` says
/// otherwise) and checks the answer's status is listed, and that an error
/// answered in JSON is an `ApiError`.
async fn assert_listed(
    client: &reqwest::Client,
    app: &TestApp,
    (method, path, op): &(String, String, Value),
    body: Option<(&str, Vec<u8>)>,
    what: &str,
) {
    let mut req = request(client, method, &app.url(&concrete(path)));
    if method != "get" {
        req = req.header(CSRF_HEADER, "1");
    }
    if let Some((content_type, bytes)) = body {
        if bytes.len() > latchkey_server::MAX_BODY_BYTES {
            // The server answers before reading it all and drops the
            // connection: do not let the next request reuse it.
            req = req.header(reqwest::header::CONNECTION, "close");
        }
        req = req
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(bytes);
    }
    // A connection the server closed after an unread body may still fail
    // once; that is the transport, not the answer under test.
    let mut attempt = 0;
    let r = loop {
        attempt += 1;
        match req.try_clone().expect("a clonable request").send().await {
            Ok(r) => break r,
            Err(e) if attempt < 3 => eprintln!("{what}: {method} {path}: retrying after {e}"),
            Err(e) => panic!("{what}: {method} {path}: {e}"),
        }
    };
    let status = r.status().as_u16();
    let json_answer = r
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let text = r.text().await.unwrap();
    assert!(
        listed_statuses(op).contains(&status),
        "{what}: {method} {path} answered {status}, which it does not list: {text}"
    );
    if status >= 400 && json_answer {
        serde_json::from_str::<ApiError>(&text)
            .unwrap_or_else(|e| panic!("{what}: {method} {path}: not an ApiError ({e}): {text}"));
    }
}

async fn anonymous_and_administrator_requests_get_only_listed_statuses(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, admin) = administrator(&app).await;
    let anon = new_client();
    let ops = operations(&document());
    let empty = || Some(("application/json", b"{}".to_vec()));
    let too_large = || {
        let filler = "x".repeat(latchkey_server::MAX_BODY_BYTES + 1);
        Some((
            "application/json",
            serde_json::to_vec(&json!({ "filler": filler })).unwrap(),
        ))
    };
    for op in &ops {
        let has_body = op.2.get("requestBody").is_some();
        let body = if has_body { empty() } else { None };
        assert_listed(&anon, &app, op, body.clone(), "anonymous").await;
        if has_body {
            let text = Some(("text/plain", b"{}".to_vec()));
            assert_listed(&anon, &app, op, text, "not JSON").await;
            assert_listed(&anon, &app, op, too_large(), "too large").await;
            let broken = Some(("application/json", b"{\"".to_vec()));
            assert_listed(&anon, &app, op, broken, "broken JSON").await;
        }
        // Signing out would end the administrator's session for the rest.
        if op.0 != "delete" || op.1 != latchkey_shared::api::paths::SESSION {
            assert_listed(&admin, &app, op, body, "administrator").await;
            if has_body {
                assert_listed(&admin, &app, op, too_large(), "administrator, too large").await;
            }
        }
    }
}
