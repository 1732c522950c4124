use std::path::PathBuf;

use reqwest::StatusCode;

use crate::helpers::{spawn_app_with, Backend, TestApp};

both_backends!(
    files_are_served_with_their_mime_types_and_cache_headers,
    page_paths_fall_back_to_index_html,
    precompressed_files_are_chosen_by_accept_encoding,
    a_missing_asset_is_a_404_not_the_page,
);

const INDEX: &str = "<!doctype html><title>Latchkey</title>";
const JS: &str = "latchkey-client-0123456789abcdef.js";
const WASM: &str = "latchkey-client-0123456789abcdef_bg.wasm";
const CSS: &str = "style-fedcba9876543210.css";

fn static_dir() -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("latchkey-static-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), INDEX).unwrap();
    std::fs::write(
        dir.join("sw.js"),
        "self.addEventListener('fetch', () => {});",
    )
    .unwrap();
    std::fs::write(dir.join(JS), "export default function init() {}").unwrap();
    std::fs::write(dir.join(WASM), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dir.join(CSS), "body { margin: 0 }").unwrap();
    std::fs::write(dir.join("manifest.webmanifest"), "{}").unwrap();
    // Stand-ins for precompressed siblings: the content tells which was sent.
    std::fs::write(dir.join(format!("{JS}.br")), "BROTLI").unwrap();
    std::fs::write(dir.join(format!("{JS}.gz")), "GZIP").unwrap();
    dir
}

async fn app_with_static(backend: Backend) -> (TestApp, PathBuf) {
    let dir = static_dir();
    let app = spawn_app_with(backend, |c| c.static_dir = dir.clone()).await;
    (app, dir)
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client.get(app.url(path)).send().await.unwrap()
}

fn header(r: &reqwest::Response, name: reqwest::header::HeaderName) -> String {
    r.headers()
        .get(&name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

async fn files_are_served_with_their_mime_types_and_cache_headers(backend: Backend) {
    let (app, dir) = app_with_static(backend).await;
    use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE};
    let immutable = "public, max-age=31536000, immutable";

    for (path, mime, cache) in [
        ("/", "text/html", "no-cache"),
        ("/index.html", "text/html", "no-cache"),
        ("/sw.js", "javascript", "no-cache"),
        (&format!("/{JS}")[..], "javascript", immutable),
        (&format!("/{WASM}")[..], "application/wasm", immutable),
        (&format!("/{CSS}")[..], "text/css", immutable),
    ] {
        let r = get(&app, path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert!(
            header(&r, CONTENT_TYPE).contains(mime),
            "{path}: {}",
            header(&r, CONTENT_TYPE)
        );
        assert_eq!(header(&r, CACHE_CONTROL), cache, "{path}");
    }
    let index = get(&app, "/").await;
    assert_eq!(index.text().await.unwrap(), INDEX);
    let _ = std::fs::remove_dir_all(dir);
}

async fn page_paths_fall_back_to_index_html(backend: Backend) {
    let (app, dir) = app_with_static(backend).await;
    for path in ["/m", "/account", "/manage/partners", "/manage/hhsc/"] {
        let r = get(&app, path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert!(
            header(&r, reqwest::header::CONTENT_TYPE).contains("text/html"),
            "{path}"
        );
        assert_eq!(
            header(&r, reqwest::header::CACHE_CONTROL),
            "no-cache",
            "{path}"
        );
        assert_eq!(r.text().await.unwrap(), INDEX, "{path}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// A raw HTTP/1.1 GET, so no client library decodes the body behind our back.
/// Returns (lower-cased header block, body).
async fn raw_get(app: &TestApp, path: &str, accept_encoding: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: {accept_encoding}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a header block");
    (head.to_ascii_lowercase(), body.to_owned())
}

async fn precompressed_files_are_chosen_by_accept_encoding(backend: Backend) {
    let (app, dir) = app_with_static(backend).await;
    let path = format!("/{JS}");

    let (head, body) = raw_get(&app, &path, "gzip, deflate, br").await;
    assert!(head.contains("content-encoding: br"), "{head}");
    assert!(
        head.contains("content-type: text/javascript")
            || head.contains("content-type: application/javascript"),
        "{head}"
    );
    assert!(
        head.contains("cache-control: public, max-age=31536000, immutable"),
        "{head}"
    );
    assert_eq!(body, "BROTLI");

    let (head, body) = raw_get(&app, &path, "gzip").await;
    assert!(head.contains("content-encoding: gzip"), "{head}");
    assert_eq!(body, "GZIP");

    let (head, body) = raw_get(&app, &path, "identity").await;
    assert!(!head.contains("content-encoding"), "{head}");
    assert_eq!(body, "export default function init() {}");
    let _ = std::fs::remove_dir_all(dir);
}

async fn a_missing_asset_is_a_404_not_the_page(backend: Backend) {
    let (app, dir) = app_with_static(backend).await;
    let r = get(&app, "/latchkey-client-ffffffffffffffff.js").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_ne!(
        header(&r, reqwest::header::CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    let _ = std::fs::remove_dir_all(dir);
}
