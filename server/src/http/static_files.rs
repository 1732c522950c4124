//! The built PWA at `/`: files from `static_dir` with their MIME types,
//! precompressed `.br`/`.gz` siblings chosen by `Accept-Encoding`, long-lived
//! caching for content-hashed assets, `no-cache` for everything else (notably
//! `index.html` and `sw.js`), and `index.html` for any other page path so the
//! client-side router can take it (`/m`, `/account`, `/manage/partners`).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use crate::state::AppState;

pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
pub const NO_CACHE: &str = "no-cache";

/// Extensions of files the browser asks for by name: a missing one is a 404,
/// never the SPA page.
const ASSET_EXTENSIONS: &[&str] = &[
    "js",
    "mjs",
    "wasm",
    "css",
    "map",
    "png",
    "jpg",
    "jpeg",
    "gif",
    "svg",
    "ico",
    "webp",
    "json",
    "webmanifest",
    "woff",
    "woff2",
    "ttf",
    "txt",
    "xml",
    "br",
    "gz",
];

fn last_segment(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or("")
}

/// `name-<16+ hex>.ext` (trunk also writes `name-<hash>_bg.wasm`).
pub fn is_hashed_asset(path: &str) -> bool {
    let file = last_segment(path);
    let Some((stem, ext)) = file.split_once('.') else {
        return false;
    };
    if ext.is_empty() {
        return false;
    }
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    let Some((_, hash)) = stem.rsplit_once('-') else {
        return false;
    };
    hash.len() >= 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())
}

fn looks_like_asset(path: &str) -> bool {
    let file = last_segment(path);
    match file.rsplit_once('.') {
        Some((_, ext)) => ASSET_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()),
        None => false,
    }
}

/// The longest file name the server's file systems take (bytes).
const MAX_SEGMENT_BYTES: usize = 255;

/// Whether every segment of the (percent-encoded) `path`, decoded, is a
/// name a file could have: no longer than [`MAX_SEGMENT_BYTES`] and without
/// control characters. Anything else is answered 404 before the file system
/// is asked, which would fail on it (`ENAMETOOLONG`, an embedded NUL) with
/// an error rather than "not found".
fn plausible_file_path(path: &str) -> bool {
    path.split('/').all(|segment| {
        let bytes = segment.as_bytes();
        let mut len = 0usize;
        let mut i = 0;
        while i < bytes.len() {
            let byte = if bytes[i] == b'%' && i + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        i += 3;
                        b
                    }
                    None => {
                        i += 1;
                        b'%'
                    }
                }
            } else {
                i += 1;
                bytes[i - 1]
            };
            if byte < 0x20 || byte == 0x7f {
                return false;
            }
            len += 1;
        }
        len <= MAX_SEGMENT_BYTES
    })
}

pub async fn serve(State(state): State<AppState>, req: Request) -> Response {
    let dir = state.config.static_dir.clone();
    let path = req.uri().path().to_owned();
    if !plausible_file_path(&path) {
        return (StatusCode::NOT_FOUND, "There is nothing at this address.").into_response();
    }
    let method = req.method().clone();
    let page_request = matches!(method, Method::GET | Method::HEAD);
    let headers = req.headers().clone();

    let served = ServeDir::new(&dir)
        .precompressed_br()
        .precompressed_gzip()
        .oneshot(req)
        .await;
    let mut response = match served {
        Ok(r) => r.map(Body::new),
        Err(never) => match never {},
    };
    let mut spa_page = false;
    if response.status() == StatusCode::NOT_FOUND && page_request && !looks_like_asset(&path) {
        let mut index_req = Request::new(Body::empty());
        *index_req.method_mut() = method;
        *index_req.headers_mut() = headers;
        let served = ServeFile::new(dir.join("index.html"))
            .precompressed_br()
            .precompressed_gzip()
            .oneshot(index_req)
            .await;
        response = match served {
            Ok(r) => r.map(Body::new),
            Err(never) => match never {},
        };
        spa_page = true;
        if response.status() == StatusCode::NOT_FOUND {
            return (
                StatusCode::NOT_FOUND,
                "Latchkey's web app is not built here: run `trunk build` in client/ \
                 or set static_dir.",
            )
                .into_response();
        }
    }

    let status = response.status();
    if status.is_success() || status == StatusCode::NOT_MODIFIED {
        let cache = if !spa_page && is_hashed_asset(&path) {
            IMMUTABLE
        } else {
            NO_CACHE
        };
        let h = response.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_asset_names_are_recognised() {
        assert!(is_hashed_asset("/latchkey-client-5f3b2a1c9d8e7f60.js"));
        assert!(is_hashed_asset("/latchkey-client-5f3b2a1c9d8e7f60_bg.wasm"));
        assert!(is_hashed_asset("/assets/style-0123456789abcdef0123.css"));
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset("/sw.js"));
        assert!(!is_hashed_asset("/app-1234.js"));
        assert!(!is_hashed_asset("/manage/partners"));
    }

    #[test]
    fn names_no_file_can_have_are_not_looked_up() {
        assert!(plausible_file_path("/index.html"));
        assert!(plausible_file_path("/manage/partners"));
        assert!(plausible_file_path(&format!("/{}", "a".repeat(255))));
        assert!(!plausible_file_path(&format!("/{}", "a".repeat(256))));
        assert!(!plausible_file_path("/a%00b"));
        assert!(!plausible_file_path("/a%0Ab"));
        assert!(plausible_file_path("/100%25"));
        assert!(plausible_file_path("/odd%"));
        assert!(plausible_file_path("/odd%zz"));
        // Encoded, a long name is still long.
        assert!(!plausible_file_path(&format!("/{}", "%41".repeat(256))));
    }

    #[test]
    fn page_paths_are_not_assets() {
        assert!(!looks_like_asset("/m"));
        assert!(!looks_like_asset("/manage/partners"));
        assert!(looks_like_asset("/missing-0123456789abcdef.js"));
    }
}
