//! The security headers of every response, in one layer: a strict
//! Content-Security-Policy, `Permissions-Policy`, `Strict-Transport-Security`
//! when the request came over https ([`crate::http::extract::OverHttps`]:
//! TLS served here, an https public address, or a trusted proxy's word),
//! and the old guards (`nosniff`, `DENY`,
//! `same-origin`).
//!
//! The PWA's full policy and `Permissions-Policy` go with its pages (HTML).
//! A script gets [`WORKER_CSP`]: a worker takes the policy of its own
//! script (the strength estimator compiles wasm, the service worker
//! fetches), while a script the page imports runs under the page's.
//! Everything else (the API's JSON, wasm, styles, images, the manifest)
//! gets [`RESOURCE_CSP`], under which nothing runs if such a URL is opened
//! as a page. `X-Frame-Options` and `Permissions-Policy` are read only on
//! documents. Each header left off a resource is bytes on the wire that
//! the sign-in page's first-load budget counts (about 700 per response).
//!
//! The CSP allows scripts from this origin only, plus the inline scripts of
//! the served `index.html` (trunk writes its loader inline) by their SHA-256,
//! and `'wasm-unsafe-eval'` to compile the PWA's WebAssembly; never
//! `'unsafe-inline'` or `'unsafe-eval'`. The hashes are read from the file
//! itself, so a rebuilt PWA is allowed without a restart: the file is
//! looked at again at most once a second.

use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::{Duration, Instant, SystemTime};

use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::http::extract::OverHttps;
use crate::state::AppState;

/// Features the PWA never uses, switched off for it and anything it embeds.
pub const PERMISSIONS_POLICY: &str = "accelerometer=(), autoplay=(), camera=(), \
     display-capture=(), encrypted-media=(), fullscreen=(), geolocation=(), gyroscope=(), \
     magnetometer=(), microphone=(), midi=(), payment=(), picture-in-picture=(), \
     publickey-credentials-get=(), screen-wake-lock=(), serial=(), usb=(), xr-spatial-tracking=()";

/// Two years, with subdomains: the value the HSTS preload list asks for.
pub const HSTS: &str = "max-age=63072000; includeSubDomains";

/// The policy of a response that is not a page or a script.
pub const RESOURCE_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// The policy of a script, for when it runs as a worker: its own origin,
/// and compiling WebAssembly.
pub const WORKER_CSP: &str =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'";

const RECHECK_EVERY: Duration = Duration::from_secs(1);

/// What a response is, for its headers.
#[derive(PartialEq)]
enum Kind {
    Page,
    Script,
    Resource,
}

fn kind_of(response: &Response) -> Option<Kind> {
    // A 304 has no type of its own, and the headers it carries replace the
    // cached response's: it keeps the policy the full answer had.
    if response.status() == axum::http::StatusCode::NOT_MODIFIED {
        return None;
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|t| t.trim().to_ascii_lowercase())
        .unwrap_or_default();
    Some(if content_type.starts_with("text/html") {
        Kind::Page
    } else if content_type.starts_with("text/javascript")
        || content_type.starts_with("application/javascript")
    {
        Kind::Script
    } else {
        Kind::Resource
    })
}

/// The policy for the inline scripts with these hashes (`sha256-…`).
pub fn content_security_policy(script_hashes: &[String]) -> String {
    let mut script_src = String::from("'self' 'wasm-unsafe-eval'");
    for h in script_hashes {
        script_src.push_str(&format!(" '{h}'"));
    }
    format!(
        "default-src 'self'; script-src {script_src}; style-src 'self'; \
         img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self'; \
         manifest-src 'self'; form-action 'self'; frame-ancestors 'none'; object-src 'none'; \
         base-uri 'none'"
    )
}

/// `sha256-<base64>` of the content of every `<script>` without `src`.
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut hashes = Vec::new();
    let mut from = 0;
    while let Some(start) = lower[from..].find("<script").map(|i| i + from) {
        let Some(open_end) = lower[start..].find('>').map(|i| i + start + 1) else {
            break;
        };
        let Some(close) = lower[open_end..].find("</script").map(|i| i + open_end) else {
            break;
        };
        let tag = &lower[start..open_end];
        if !tag.contains(" src=") {
            let digest = Sha256::digest(&html.as_bytes()[open_end..close]);
            hashes.push(format!(
                "sha256-{}",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        from = close;
    }
    hashes
}

struct Cached {
    checked: Instant,
    modified: Option<SystemTime>,
    csp: HeaderValue,
}

/// The headers, with the CSP kept in step with `index.html`.
pub struct SecurityHeaders {
    index: PathBuf,
    cached: RwLock<Cached>,
}

impl SecurityHeaders {
    pub fn new(static_dir: &Path) -> Self {
        let index = static_dir.join("index.html");
        let (modified, csp) = read_policy(&index);
        Self {
            index,
            cached: RwLock::new(Cached {
                checked: Instant::now(),
                modified,
                csp,
            }),
        }
    }

    /// The current CSP, read again if `index.html` changed.
    pub fn csp(&self) -> HeaderValue {
        if let Ok(c) = self.cached.read() {
            if c.checked.elapsed() < RECHECK_EVERY {
                return c.csp.clone();
            }
        }
        let modified = std::fs::metadata(&self.index)
            .and_then(|m| m.modified())
            .ok();
        let Ok(mut c) = self.cached.write() else {
            return read_policy(&self.index).1;
        };
        c.checked = Instant::now();
        if c.modified != modified {
            let (modified, csp) = read_policy(&self.index);
            c.modified = modified;
            c.csp = csp;
        }
        c.csp.clone()
    }

    fn apply(&self, response: &mut Response, https: bool) {
        let kind = kind_of(response);
        let h = response.headers_mut();
        match kind {
            None => {}
            Some(Kind::Page) => {
                h.insert(header::CONTENT_SECURITY_POLICY, self.csp());
                h.insert(
                    HeaderName::from_static("permissions-policy"),
                    HeaderValue::from_static(PERMISSIONS_POLICY),
                );
                h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            }
            Some(Kind::Script) => {
                h.insert(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(WORKER_CSP),
                );
            }
            Some(Kind::Resource) => {
                h.insert(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(RESOURCE_CSP),
                );
            }
        }
        if https {
            h.insert(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static(HSTS),
            );
        }
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
    }
}

fn read_policy(index: &Path) -> (Option<SystemTime>, HeaderValue) {
    let modified = std::fs::metadata(index).and_then(|m| m.modified()).ok();
    // Without a built PWA there is no inline script to allow.
    let hashes = std::fs::read_to_string(index)
        .map(|html| inline_script_hashes(&html))
        .unwrap_or_default();
    let csp = HeaderValue::from_str(&content_security_policy(&hashes))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
    (modified, csp)
}

/// The layer: every response, API, files and errors alike.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let OverHttps(https) = OverHttps::of(req.extensions(), req.headers(), &state);
    let mut response = next.run(req).await;
    state.security_headers.apply(&mut response, https);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_hashed_and_external_ones_are_not() {
        let html = r#"<head><script src="/a.js"></script><SCRIPT type="module">import x from '/x.js';</SCRIPT></head>"#;
        let hashes = inline_script_hashes(html);
        assert_eq!(hashes.len(), 1);
        let expected = base64::engine::general_purpose::STANDARD
            .encode(Sha256::digest(b"import x from '/x.js';"));
        assert_eq!(hashes[0], format!("sha256-{expected}"));
    }

    #[test]
    fn the_policy_never_allows_inline_or_eval() {
        let csp = content_security_policy(&["sha256-abc".to_owned()]);
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-abc';"));
        assert!(!csp.contains("unsafe-inline"));
        assert!(!csp.contains("'unsafe-eval'"));
        for directive in [
            "frame-ancestors 'none'",
            "object-src 'none'",
            "base-uri 'none'",
            "worker-src 'self'",
            "connect-src 'self'",
        ] {
            assert!(csp.contains(directive), "{directive} in {csp}");
        }
    }
}
