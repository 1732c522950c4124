//! `http_redirect_listen`: a plain-HTTP port that answers every request
//! with a 308 to the same path on https, and nothing else: no API, no
//! files, no cookies. The target is `public_url`'s origin when it is set,
//! else the request's host on the HTTPS port. A `Host` that is not a host
//! name or an address (with an optional port) is answered 400: it would
//! make a malformed `Location`.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;

/// Where the redirect sends people.
#[derive(Debug, Clone)]
pub enum Target {
    /// `https://host[:port]` of `public_url`, without a path.
    Origin(String),
    /// The request's own host, on this port.
    HostOnPort(u16),
}

impl Target {
    /// From `public_url` when it is https, else the HTTPS `port`.
    pub fn new(public_url: Option<&str>, port: u16) -> Self {
        match public_url.and_then(https_origin) {
            Some(origin) => Self::Origin(origin),
            None => Self::HostOnPort(port),
        }
    }

    /// The https address for a request to `host` (its `Host` header) and
    /// `uri`; `None` when the host is not usable.
    pub fn location(&self, host: Option<&str>, uri: &Uri) -> Option<String> {
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        // An absolute-form target (`GET http://x/ HTTP/1.1`) keeps only its path.
        let path = if path.starts_with('/') { path } else { "/" };
        match self {
            Self::Origin(origin) => Some(format!("{origin}{path}")),
            Self::HostOnPort(port) => {
                let host = host_name(host?)?;
                Some(if *port == 443 {
                    format!("https://{host}{path}")
                } else {
                    format!("https://{host}:{port}{path}")
                })
            }
        }
    }
}

/// `https://host[:port]` of an https URL (any path dropped).
fn https_origin(url: &str) -> Option<String> {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://")?;
    if !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    Some(format!("https://{authority}"))
}

/// The host of a `Host` header, without its port: a DNS name, an IPv4
/// address or a bracketed IPv6 one.
fn host_name(host: &str) -> Option<String> {
    let host = host.trim();
    if host.is_empty() || host.len() > 255 {
        return None;
    }
    let name = if let Some(rest) = host.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        inside.parse::<std::net::Ipv6Addr>().ok()?;
        if !(after.is_empty() || port_suffix(after)) {
            return None;
        }
        return Some(format!("[{inside}]"));
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if port_suffix(&format!(":{port}")) => name,
            Some(_) => return None,
            None => host,
        }
    };
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    valid.then(|| name.to_ascii_lowercase())
}

fn port_suffix(s: &str) -> bool {
    s.strip_prefix(':')
        .is_some_and(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The whole application of the redirect port.
pub fn router(target: Target) -> Router {
    Router::new().fallback(redirect).with_state(target)
}

async fn redirect(State(target): State<Target>, headers: HeaderMap, uri: Uri) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()));
    let location = target
        .location(host, &uri)
        .and_then(|l| HeaderValue::from_str(&l).ok());
    match location {
        Some(location) => (
            StatusCode::PERMANENT_REDIRECT,
            [(header::LOCATION, location)],
            "This site is served over https.\n",
        )
            .into_response(),
        None => (
            StatusCode::BAD_REQUEST,
            "This site is served over https; the request's Host is not a host name.\n",
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    #[test]
    fn the_public_url_wins_and_keeps_the_path_and_query() {
        let t = Target::new(Some("https://pm.example.org/ignored/"), 8443);
        assert_eq!(
            t.location(Some("evil.example"), &uri("/api/x?y=1")),
            Some("https://pm.example.org/api/x?y=1".to_owned())
        );
        let t = Target::new(Some("HTTPS://pm.example.org:8443"), 1);
        assert_eq!(
            t.location(None, &uri("/")),
            Some("https://pm.example.org:8443/".to_owned())
        );
        // Not https: the request's host on the port.
        let t = Target::new(Some("http://pm.example.org"), 8443);
        assert_eq!(
            t.location(Some("pm.example.org:80"), &uri("/a")),
            Some("https://pm.example.org:8443/a".to_owned())
        );
    }

    #[test]
    fn the_host_header_is_held_to_a_host_name_and_its_port_replaced() {
        let t = Target::new(None, 443);
        assert_eq!(
            t.location(Some("PM.Example.org:8080"), &uri("/")),
            Some("https://pm.example.org/".to_owned())
        );
        assert_eq!(
            t.location(Some("[::1]:80"), &uri("/x")),
            Some("https://[::1]/x".to_owned())
        );
        let t = Target::new(None, 8443);
        assert_eq!(
            t.location(Some("127.0.0.1"), &uri("http://other/p?q")),
            Some("https://127.0.0.1:8443/p?q".to_owned())
        );
        for bad in [
            "",
            "a b",
            "evil.example/path",
            "user@host",
            "host:port",
            "[::1",
            "[nope]:80",
            "host:123456",
        ] {
            assert_eq!(t.location(Some(bad), &uri("/")), None, "{bad:?}");
        }
        assert_eq!(t.location(None, &uri("/")), None);
    }
}
