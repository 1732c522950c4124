//! What the server logs, read back: the SQL statements each request ran
//! (sqlx's `sqlx::query` events inside tower-http's `request` span, which
//! records the URI), and the server's ERROR lines. One subscriber for the
//! whole test binary, installed on first use.
//!
//! Only PostgreSQL's statements run in the request's task; SQLite's run on
//! sqlx's worker thread, outside the span, so they are not seen here.

use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// `(uri, statement)` in the order they ran.
static SEEN: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());
/// Every ERROR event of the server, as its fields.
static ERRORS: Mutex<Vec<ErrorLine>> = Mutex::new(Vec::new());

/// The target of the server's log line for an internal error.
const ERROR_TARGET: &str = "latchkey_server::http::middleware";

/// One ERROR line of the server.
#[derive(Debug, Clone, Default)]
pub struct ErrorLine {
    pub message: String,
    /// Every field but the message, `name=value`.
    pub fields: Vec<(String, String)>,
}

impl ErrorLine {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Visit for ErrorLine {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        self.record_str(field, &text);
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.fields
                .push((field.name().to_owned(), value.to_owned()));
        }
    }
}
static INSTALLED: OnceLock<()> = OnceLock::new();

struct Uri(String);

struct Capture;

#[derive(Default)]
struct Fields {
    uri: Option<String>,
    statement: Option<String>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        self.record_str(field, &text);
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "uri" => self.uri = Some(value.to_owned()),
            "db.statement" => self.statement = Some(value.to_owned()),
            _ => {}
        }
    }
}

impl<S> Layer<S> for Capture
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != "request" {
            return;
        }
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let (Some(uri), Some(span)) = (fields.uri, ctx.span(id)) {
            span.extensions_mut().insert(Uri(uri));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if event.metadata().target() == ERROR_TARGET && *event.metadata().level() == Level::ERROR {
            let mut line = ErrorLine::default();
            event.record(&mut line);
            if let Ok(mut errors) = ERRORS.lock() {
                errors.push(line);
            }
            return;
        }
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let Some(statement) = fields.statement else {
            return;
        };
        let uri = ctx.event_scope(event).and_then(|scope| {
            scope
                .from_root()
                .find_map(|span| span.extensions().get::<Uri>().map(|u| u.0.clone()))
        });
        if let (Some(uri), Ok(mut seen)) = (uri, SEEN.lock()) {
            seen.push((
                uri,
                statement.split_whitespace().collect::<Vec<_>>().join(" "),
            ));
        }
    }
}

/// Starts recording (idempotent).
pub fn record() {
    INSTALLED.get_or_init(|| {
        let filter = Targets::new()
            .with_target("sqlx::query", Level::DEBUG)
            .with_target("tower_http", Level::DEBUG)
            .with_target(ERROR_TARGET, Level::ERROR);
        let subscriber = tracing_subscriber::registry().with(Capture.with_filter(filter));
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global subscriber in the test binary");
    });
}

/// The statements of the requests whose URI contains `needle`.
pub fn of_requests_to(needle: &str) -> Vec<String> {
    SEEN.lock()
        .map(|seen| {
            seen.iter()
                .filter(|(uri, _)| uri.contains(needle))
                .map(|(_, s)| s.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// The server's ERROR lines that have `field` = `value`.
pub fn errors_with(field: &str, value: &str) -> Vec<ErrorLine> {
    ERRORS
        .lock()
        .map(|errors| {
            errors
                .iter()
                .filter(|e| e.field(field) == Some(value))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}
