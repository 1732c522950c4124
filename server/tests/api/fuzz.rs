//! Every operation of the OpenAPI document, sent hostile values: NUL and
//! other control characters, very long strings, invalid UTF-8, wrong types,
//! huge and negative numbers, wrong content types, empty and oversized
//! bodies; anonymously and with a staff session. No answer may be a 5xx.
//!
//! The bodies are built from the document's own schemas (a valid sample,
//! then each field replaced in turn), so an operation the document
//! describes loosely is fuzzed loosely: the document's completeness is
//! tested in `openapi`.

use std::collections::BTreeMap;

use latchkey_shared::admin::{paths, Role};
use latchkey_shared::api::{paths as api_paths, SessionInfo, CSRF_HEADER};
use latchkey_shared::self_service::{paths as ss_paths, FlowStarted};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{new_client, spawn_app_with, Backend, TestApp, STRONG, STRONG_3};

both_backends!(no_hostile_request_to_any_documented_operation_gets_a_5xx);

const STAFF_DOMAIN: &str = "hrcc";
const STAFF_NAME: &str = "fuzzadmin";

/// Strings no field should choke on.
fn hostile_strings() -> Vec<Value> {
    vec![
        json!(""),
        json!("\u{0}"),
        json!("a\u{0}b"),
        json!("\u{1}\u{7}\u{1b}[2J\u{7f}\u{85}"),
        json!("line\nbreak\r\n\ttab"),
        json!("x".repeat(5_000)),
        json!("é".repeat(2_000)),
        json!("\u{202e}\u{200b}\u{feff}\u{fffd}😀"),
        json!("'; DROP TABLE users; --"),
        json!("%00%2e%2e%2f"),
        json!("../../../../etc/passwd"),
    ]
}

fn hostile_numbers() -> Vec<Value> {
    vec![
        json!(-1),
        json!(0),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(1e300),
        json!(-1e300),
        json!(1.5),
    ]
}

fn wrong_types() -> Vec<Value> {
    vec![
        json!(null),
        json!(true),
        json!([]),
        json!({}),
        json!("7"),
        json!(7),
    ]
}

struct Spec<'a> {
    doc: &'a Value,
}

impl<'a> Spec<'a> {
    fn resolve(&self, schema: &'a Value) -> &'a Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let pointer = r.trim_start_matches('#');
                self.resolve(self.doc.pointer(pointer).unwrap_or(&Value::Null))
            }
            None => schema,
        }
    }

    /// A value the schema accepts (as far as its types go).
    fn sample(&self, schema: &'a Value, depth: usize) -> Value {
        let schema = self.resolve(schema);
        if depth > 8 {
            return Value::Null;
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            return values.first().cloned().unwrap_or(Value::Null);
        }
        if let Some(c) = schema.get("const") {
            return c.clone();
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(options) = schema.get(key).and_then(Value::as_array) {
                let option = options
                    .iter()
                    .find(|o| self.resolve(o).get("type") != Some(&json!("null")))
                    .or_else(|| options.first());
                return option.map_or(Value::Null, |o| self.sample(o, depth + 1));
            }
        }
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
            let mut merged = serde_json::Map::new();
            for p in parts {
                if let Value::Object(m) = self.sample(p, depth + 1) {
                    merged.extend(m);
                }
            }
            return Value::Object(merged);
        }
        let ty = match schema.get("type") {
            Some(Value::Array(types)) => types
                .iter()
                .find(|t| *t != "null")
                .and_then(Value::as_str)
                .unwrap_or("null"),
            Some(Value::String(t)) => t.as_str(),
            _ if schema.get("properties").is_some() => "object",
            _ => "string",
        };
        match ty {
            "object" => {
                let mut out = serde_json::Map::new();
                if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                    for (name, prop) in props {
                        out.insert(name.clone(), self.sample(prop, depth + 1));
                    }
                }
                Value::Object(out)
            }
            "array" => match schema.get("items") {
                Some(items) => json!([self.sample(items, depth + 1)]),
                None => json!([]),
            },
            "integer" => json!(1),
            "number" => json!(1.0),
            "boolean" => json!(false),
            "null" => Value::Null,
            _ => json!("x"),
        }
    }
}

/// Every JSON pointer to a leaf (or a container) of `value`.
fn pointers(value: &Value, at: String, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                pointers(v, format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    if !at.is_empty() {
        out.push((at, value.clone()));
    }
}

fn replaced(sample: &Value, pointer: &str, with: Value) -> Value {
    let mut v = sample.clone();
    if let Some(slot) = v.pointer_mut(pointer) {
        *slot = with;
    }
    v
}

/// A raw body and its content type.
struct Body {
    bytes: Vec<u8>,
    content_type: Option<&'static str>,
}

fn json_body(v: &Value) -> Body {
    Body {
        bytes: serde_json::to_vec(v).expect("json"),
        content_type: Some("application/json"),
    }
}

/// The hostile bodies for a request schema's valid `sample`.
fn hostile_bodies(sample: &Value) -> Vec<Body> {
    let mut bodies = vec![json_body(sample)];
    let mut leaves = Vec::new();
    pointers(sample, String::new(), &mut leaves);
    for (pointer, value) in &leaves {
        let variants: Vec<Value> = match value {
            Value::String(_) => hostile_strings(),
            Value::Number(_) => hostile_numbers(),
            _ => Vec::new(),
        };
        for v in variants.into_iter().chain(wrong_types()) {
            bodies.push(json_body(&replaced(sample, pointer, v)));
        }
        if let Some(obj_pointer) = pointer.rsplit_once('/').map(|(p, _)| p) {
            // The field left out.
            let mut v = sample.clone();
            let key = pointer.rsplit('/').next().unwrap_or_default();
            let parent = if obj_pointer.is_empty() {
                Some(&mut v)
            } else {
                v.pointer_mut(obj_pointer)
            };
            if let Some(Value::Object(m)) = parent {
                m.remove(key);
                bodies.push(json_body(&v));
            }
        }
    }
    // Whole bodies.
    let text = serde_json::to_string(sample).unwrap_or_default();
    let raw = |bytes: Vec<u8>, content_type| Body {
        bytes,
        content_type,
    };
    bodies.extend([
        raw(Vec::new(), Some("application/json")),
        raw(b"null".to_vec(), Some("application/json")),
        raw(b"[]".to_vec(), Some("application/json")),
        raw(b"{".to_vec(), Some("application/json")),
        raw(b"{\"a\":\"\\ud800\"}".to_vec(), Some("application/json")),
        raw(
            vec![b'{', b'"', 0xff, 0xfe, b'"', b':', b'1', b'}'],
            Some("application/json"),
        ),
        raw(
            text.replacen("\"x\"", "\"\\u0000\"", usize::MAX)
                .into_bytes(),
            Some("application/json"),
        ),
        raw(text.clone().into_bytes(), Some("text/plain")),
        raw(text.clone().into_bytes(), None),
        raw(text.into_bytes(), Some("application/json; charset=latin1")),
        raw(
            format!("{{\"pad\":\"{}\"}}", "p".repeat(70 * 1024)).into_bytes(),
            Some("application/json"),
        ),
        raw(
            format!("{}1{}", "[".repeat(5_000), "]".repeat(5_000)).into_bytes(),
            Some("application/json"),
        ),
    ]);
    bodies
}

/// Hostile values for a path or query parameter (already encoded).
fn hostile_params() -> Vec<String> {
    vec![
        "%00".into(),
        "a%00b".into(),
        "%0a%0d".into(),
        "%ff%fe".into(),
        "x".repeat(5_000),
        "-1".into(),
        "0".into(),
        "9223372036854775807".into(),
        "99999999999999999999999999".into(),
        "1.5".into(),
        "%2e%2e%2f%2e%2e".into(),
        "%F0%9F%98%80".into(),
    ]
}

#[derive(Default)]
struct Tally {
    by_class: BTreeMap<u16, u64>,
    failures: Vec<String>,
}

impl Tally {
    fn count(&mut self, status: StatusCode, what: impl FnOnce() -> String) {
        *self.by_class.entry(status.as_u16() / 100).or_default() += 1;
        if status.is_server_error() {
            self.failures.push(format!("{status}: {}", what()));
        }
    }
}

/// A browser-like client that never reuses a connection: the server closes
/// the ones it answered an oversized body on, and a pooled connection
/// closed under the client would read as "no answer".
fn fuzz_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .pool_max_idle_per_host(0)
        .build()
        .expect("http client")
}

struct Fuzzer<'a> {
    app: &'a TestApp,
    staff: reqwest::Client,
    anonymous: reqwest::Client,
    user_id: i64,
    tally: Tally,
}

impl Fuzzer<'_> {
    /// Keeps the staff session usable: the fuzz signs out, changes roles and
    /// asks for password changes like anyone else could.
    async fn ensure_staff(&mut self) {
        let ok = match self
            .staff
            .get(self.app.url(api_paths::SESSION))
            .send()
            .await
        {
            Ok(r) if r.status() == StatusCode::OK => r
                .json::<SessionInfo>()
                .await
                .is_ok_and(|s| !s.must_change_password && s.role == Role::Admin),
            _ => false,
        };
        if ok {
            return;
        }
        sqlx::query(
            "UPDATE users SET must_change = $1, disabled = $2, role = 'admin' WHERE username_key = $3",
        )
        .bind(false)
        .bind(false)
        .bind(STAFF_NAME)
        .execute(&self.app.state.db.pool)
        .await
        .expect("staff account restored");
        self.staff = fuzz_client();
        let r = self
            .app
            .sign_in_with(&self.staff, STAFF_DOMAIN, STAFF_NAME, STRONG_3)
            .await;
        assert_eq!(r.status(), StatusCode::OK, "the staff user signs in again");
        let r = self
            .staff
            .post(self.app.url(paths::STAFF_REAUTH))
            .json(&json!({ "password": STRONG_3 }))
            .send()
            .await
            .expect("reauth");
        assert_eq!(r.status(), StatusCode::OK);
    }

    async fn fresh_flow_id(&self) -> String {
        let r = new_client()
            .post(self.app.url(ss_paths::FLOWS))
            .json(&json!({"kind": "unlock", "domain": "partners"}))
            .send()
            .await
            .expect("flow");
        r.json::<FlowStarted>()
            .await
            .map(|f| f.flow_id)
            .unwrap_or_else(|_| "no-flow".into())
    }

    /// A plausible value for a path parameter.
    async fn valid_param(&self, path: &str, name: &str) -> String {
        if path.contains("/self-service/flows/") {
            return self.fresh_flow_id().await;
        }
        match name {
            "slug" | "domain" => "partners".into(),
            _ => self.user_id.to_string(),
        }
    }

    async fn send(&mut self, staff: bool, method: &str, url: &str, body: Option<&Body>) {
        if staff {
            self.ensure_staff().await;
        }
        let client = if staff { &self.staff } else { &self.anonymous };
        let method =
            reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes()).expect("method");
        let mut req = client.request(method.clone(), url);
        if let Some(b) = body {
            req = req.body(b.bytes.clone());
            if let Some(ct) = b.content_type {
                req = req.header(reqwest::header::CONTENT_TYPE, ct);
            } else {
                req = req.header(CSRF_HEADER, "1");
            }
        } else {
            req = req.header(CSRF_HEADER, "1");
        }
        let status = match req.send().await {
            Ok(r) => r.status(),
            // A body past the limit is answered before it is read, and the
            // connection closed: the client may fail while still writing.
            // Read the answer the server gave on a socket of our own.
            Err(_) if body.is_some_and(|b| b.bytes.len() > latchkey_server::MAX_BODY_BYTES) => {
                raw_status(self.app.port, method.as_str(), url, body.expect("body")).await
            }
            Err(e) => panic!("{method} {url}: no answer: {e}"),
        };
        self.tally.count(status, || {
            let shown: String = body
                .map(|b| {
                    String::from_utf8_lossy(&b.bytes)
                        .chars()
                        .take(200)
                        .collect()
                })
                .unwrap_or_default();
            format!(
                "{} {method} {} {shown}",
                if staff { "staff" } else { "anonymous" },
                url.chars().take(200).collect::<String>()
            )
        });
    }
}

/// The status line of a request written on a plain socket, whatever happens
/// to the rest of the write.
async fn raw_status(port: u16, method: &str, url: &str, body: &Body) -> StatusCode {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let path = url.split_once(&format!(":{port}")).map_or("/", |(_, p)| p);
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.content_type.unwrap_or("application/json"),
        body.bytes.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(&body.bytes).await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer);
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok())
        .unwrap_or_else(|| panic!("{method} {url}: no status line in {text:?}"));
    StatusCode::from_u16(code).expect("status")
}

async fn no_hostile_request_to_any_documented_operation_gets_a_5xx(backend: Backend) {
    // No lock may stop the fuzz from reaching the code behind it.
    let app = spawn_app_with(backend, |c| {
        c.lockout_threshold = 1_000_000;
        c.hash_queue = Some(10_000);
    })
    .await;
    let user = app.add_user("jsmith", "Jane Smith", STRONG).await;
    app.add_user_in(STAFF_DOMAIN, STAFF_NAME, "Fuzz Admin", STRONG_3, false)
        .await;
    latchkey_server::cli::staff::set_user_role(
        &app.state,
        STAFF_DOMAIN,
        STAFF_NAME,
        Role::Admin,
        &[],
    )
    .await
    .expect("role set");
    let doc: Value = new_client()
        .get(app.url(paths::OPENAPI))
        .send()
        .await
        .expect("document")
        .json()
        .await
        .expect("json");
    let spec = Spec { doc: &doc };
    let mut fuzzer = Fuzzer {
        app: &app,
        staff: fuzz_client(),
        anonymous: fuzz_client(),
        user_id: user.id,
        tally: Tally::default(),
    };
    let operations: Vec<(String, String, Value)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flatten()
                .filter(|(m, _)| ["get", "post", "put", "delete", "patch"].contains(&m.as_str()))
                .map(|(m, op)| (path.clone(), m.clone(), op.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(operations.len() >= 30, "the document lists the API");

    for (path, method, op) in &operations {
        let params: Vec<(String, String)> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| {
                let p = spec.resolve(p);
                Some((p["name"].as_str()?.to_owned(), p["in"].as_str()?.to_owned()))
            })
            .collect();
        let path_params: Vec<&String> = params
            .iter()
            .filter(|(_, at)| at == "path")
            .map(|(n, _)| n)
            .collect();
        let query_params: Vec<&String> = params
            .iter()
            .filter(|(_, at)| at == "query")
            .map(|(n, _)| n)
            .collect();
        let body_schema = op
            .pointer("/requestBody/content/application~1json/schema")
            .cloned();
        let sample = body_schema.as_ref().map(|s| spec.sample(s, 0));
        let bodies: Vec<Body> = sample.as_ref().map(hostile_bodies).unwrap_or_default();

        for staff in [false, true] {
            // The path with plausible parameters, then each hostile one.
            let mut valid = path.clone();
            for name in &path_params {
                let value = fuzzer.valid_param(path, name).await;
                valid = valid.replace(&format!("{{{name}}}"), &value);
            }
            let mut urls = vec![app.url(&valid)];
            for name in &path_params {
                for hostile in hostile_params() {
                    let mut p = path.clone();
                    for other in &path_params {
                        let v = if other == name {
                            hostile.clone()
                        } else {
                            fuzzer.valid_param(path, other).await
                        };
                        p = p.replace(&format!("{{{other}}}"), &v);
                    }
                    urls.push(app.url(&p));
                }
            }
            for name in &query_params {
                for hostile in hostile_params() {
                    urls.push(app.url(&format!("{valid}?{name}={hostile}")));
                }
            }
            for url in &urls {
                match bodies.first() {
                    Some(b) => fuzzer.send(staff, method, url, Some(b)).await,
                    None => fuzzer.send(staff, method, url, None).await,
                }
            }
            // Every hostile body at the plausible address (a fresh flow for
            // each, so a used-up flow does not hide the later steps).
            for body in &bodies {
                let url = if path.contains("/self-service/flows/") {
                    let mut p = path.clone();
                    for name in &path_params {
                        let value = fuzzer.valid_param(path, name).await;
                        p = p.replace(&format!("{{{name}}}"), &value);
                    }
                    app.url(&p)
                } else {
                    app.url(&valid)
                };
                fuzzer.send(staff, method, &url, Some(body)).await;
            }
        }
    }
    let total: u64 = fuzzer.tally.by_class.values().sum();
    eprintln!(
        "fuzz on {backend:?}: {total} requests over {} operations; by status class: {}",
        operations.len(),
        fuzzer
            .tally
            .by_class
            .iter()
            .map(|(class, n)| format!("{class}xx={n}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    assert!(total > 1_000, "the fuzz sent what it should");
    assert!(
        fuzzer.tally.by_class.get(&2).copied().unwrap_or(0) > 0,
        "some plausible requests succeed, so the fuzz reaches the handlers"
    );
    assert!(
        fuzzer.tally.failures.is_empty(),
        "{} answers were 5xx:\n{}",
        fuzzer.tally.failures.len(),
        fuzzer
            .tally
            .failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
