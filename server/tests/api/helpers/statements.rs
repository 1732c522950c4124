//! The SQL statements each request ran, read from sqlx's `sqlx::query`
//! events inside tower-http's `request` span (which records the URI). One
//! subscriber for the whole test binary, installed on first use.
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
            .with_target("tower_http", Level::DEBUG);
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
