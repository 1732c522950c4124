//! Who the client is behind a reverse proxy. A request's address is its
//! socket peer's, unless that peer is one of the configured
//! `trusted_proxies`: then the proxies' own report is read, `Forwarded`
//! (RFC 7239) when present, else `X-Forwarded-For`, from the right, and the
//! client is the right-most address that is not a trusted proxy. Anyone can
//! write these headers, so the left part of a chain (what the client itself
//! sent) is never believed, and a peer that is not trusted has its headers
//! ignored. An entry that is not an address (`unknown`, an obfuscated
//! `_node`, garbage) ends the walk at the last trusted hop, which is then
//! the address recorded: never a value the client chose.
//!
//! The address is what audit rows, mails and metrics record.
//!
//! The scheme is read the same way ([`forwarded_https`]): only from a
//! trusted peer, from the `proto=` of the `Forwarded` element that named
//! the client, else from the right-most `X-Forwarded-Proto` value (the one
//! the peer itself wrote). It can only say "https": a request is never
//! taken for plain HTTP on a proxy's word when the server knows better.

use std::net::IpAddr;
use std::str::FromStr;

use axum::http::HeaderMap;
use ipnet::IpNet;
use serde::Deserialize;

/// The `trusted_proxies` setting: addresses and CIDR ranges, empty by
/// default. Written in the configuration as a list (`["10.0.0.0/8",
/// "127.0.0.1"]`) or, for an environment variable, as one string with
/// commas (`SSPM_TRUSTED_PROXIES=10.0.0.0/8,127.0.0.1`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses each entry: an address (`192.0.2.1`, `::1`) or a range
    /// (`10.0.0.0/8`, `2001:db8::/32`). The first entry that is neither is
    /// named in the error.
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        entries
            .into_iter()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|entry| {
                IpNet::from_str(entry)
                    .or_else(|_| IpAddr::from_str(entry).map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| {
                        format!(
                            "{entry:?} is not an address or a CIDR range \
                             (e.g. 10.0.0.0/8 or 127.0.0.1)"
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is one of the trusted proxies (an IPv4-mapped IPv6
    /// address counts as its IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }
}

impl<'de> Deserialize<'de> for TrustedProxies {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            List(Vec<String>),
            Text(String),
        }
        let parsed = match Written::deserialize(deserializer)? {
            Written::List(list) => Self::parse(list.iter().map(String::as_str)),
            Written::Text(text) => Self::parse(text.split(',')),
        };
        parsed.map_err(serde::de::Error::custom)
    }
}

/// As a list, each single address without its `/32` or `/128`
/// (`latchkey config check`).
impl serde::Serialize for TrustedProxies {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|net| {
            if net.prefix_len() == net.max_prefix_len() {
                net.addr().to_string()
            } else {
                net.to_string()
            }
        }))
    }
}

/// `::ffff:192.0.2.1` as `192.0.2.1`: a dual-stack listener reports IPv4
/// peers that way.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The client's address for a request from `peer` with `headers`.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let peer = canonical(peer);
    if trusted.is_empty() || !trusted.contains(peer) {
        return peer;
    }
    let hops = forwarded_for(headers).unwrap_or_else(|| x_forwarded_for(headers));
    let mut client = peer;
    for hop in hops.iter().rev() {
        if !trusted.contains(client) {
            break;
        }
        match hop {
            Some(ip) => client = canonical(*ip),
            None => break,
        }
    }
    client
}

/// Whether a trusted proxy reports that the client's request came over
/// https: the `proto=` of the `Forwarded` element the client's address was
/// taken from (see [`client_address`]), else the right-most value of
/// `X-Forwarded-Proto`. From an untrusted peer, always `false`.
pub fn forwarded_https(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> bool {
    let peer = canonical(peer);
    if trusted.is_empty() || !trusted.contains(peer) {
        return false;
    }
    let is_https = |proto: &str| proto.trim().trim_matches('"').eq_ignore_ascii_case("https");
    if let Some(elements) = forwarded_elements(headers) {
        // Walk as `client_address` does; the element that names the client
        // was written by the proxy that took the client's connection.
        let mut client = peer;
        let mut proto = None;
        for (hop, element_proto) in elements.iter().rev() {
            if !trusted.contains(client) {
                break;
            }
            match hop {
                Some(ip) => {
                    client = canonical(*ip);
                    proto = *element_proto;
                }
                None => break,
            }
        }
        return proto.is_some_and(is_https);
    }
    headers
        .get_all("x-forwarded-proto")
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("").split(','))
        .next_back()
        .is_some_and(is_https)
}

/// The `for=` address and the `proto=` of every element of the
/// `Forwarded` headers, in order; `None` without the header.
fn forwarded_elements(headers: &HeaderMap) -> Option<Vec<(Option<IpAddr>, Option<&str>)>> {
    let values: Vec<&str> = headers
        .get_all("forwarded")
        .iter()
        .map(|v| v.to_str().unwrap_or(""))
        .collect();
    if values.is_empty() {
        return None;
    }
    let mut elements = Vec::new();
    for value in values {
        for element in value.split(',') {
            let param = |wanted: &str| {
                element.split(';').find_map(|pair| {
                    let (name, value) = pair.split_once('=')?;
                    name.trim()
                        .eq_ignore_ascii_case(wanted)
                        .then(|| value.trim().trim_matches('"'))
                })
            };
            elements.push((param("for").and_then(node_address), param("proto")));
        }
    }
    Some(elements)
}

/// The `for=` of every element of the `Forwarded` headers, in order
/// (`None` for one that is not an address); `None` without the header.
fn forwarded_for(headers: &HeaderMap) -> Option<Vec<Option<IpAddr>>> {
    let values: Vec<&str> = headers
        .get_all("forwarded")
        .iter()
        .map(|v| v.to_str().unwrap_or(""))
        .collect();
    if values.is_empty() {
        return None;
    }
    let mut hops = Vec::new();
    for value in values {
        for element in value.split(',') {
            let node = element.split(';').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| value.trim().trim_matches('"'))
            });
            hops.push(node.and_then(node_address));
        }
    }
    Some(hops)
}

/// Every address of the `X-Forwarded-For` headers, in order.
fn x_forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("").split(','))
        .map(|hop| node_address(hop.trim()))
        .collect()
}

/// An address as a proxy writes it: `192.0.2.1`, `192.0.2.1:4711`,
/// `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:4711`.
fn node_address(node: &str) -> Option<IpAddr> {
    if let Some(rest) = node.strip_prefix('[') {
        let (inside, _) = rest.split_once(']')?;
        return IpAddr::from_str(inside).ok();
    }
    if let Ok(ip) = IpAddr::from_str(node) {
        return Some(ip);
    }
    let (host, port) = node.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, HeaderValue::from_str(value).unwrap());
        }
        h
    }

    fn trusted(entries: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(entries.iter().copied()).unwrap()
    }

    #[test]
    fn entries_are_addresses_or_ranges_and_a_bad_one_is_named() {
        let t = trusted(&["10.0.0.0/8", " 127.0.0.1 ", "2001:db8::/32", ""]);
        assert!(t.contains(ip("10.1.2.3")));
        assert!(t.contains(ip("127.0.0.1")));
        assert!(!t.contains(ip("127.0.0.2")));
        assert!(t.contains(ip("2001:db8::5")));
        assert!(t.contains(ip("::ffff:10.0.0.1")));
        let e = TrustedProxies::parse(["10.0.0.0/8", "proxy.example.org"]).unwrap_err();
        assert!(e.contains("proxy.example.org"), "{e}");
        assert!(TrustedProxies::parse(["10.0.0.0/33"]).is_err());
    }

    #[test]
    fn the_setting_reads_a_list_or_a_comma_separated_string() {
        let list: TrustedProxies = serde_json::from_str(r#"["127.0.0.1", "10.0.0.0/8"]"#).unwrap();
        let text: TrustedProxies = serde_json::from_str(r#""127.0.0.1, 10.0.0.0/8""#).unwrap();
        assert_eq!(list, text);
        assert!(serde_json::from_str::<TrustedProxies>(r#"["nope"]"#).is_err());
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_sends() {
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.7"),
            ("forwarded", "for=203.0.113.8"),
        ]);
        assert_eq!(
            client_address(ip("198.51.100.9"), &h, &trusted(&["127.0.0.1"])),
            ip("198.51.100.9")
        );
        assert_eq!(
            client_address(ip("127.0.0.1"), &h, &TrustedProxies::default()),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_right_most_untrusted_address_is_the_client() {
        let t = trusted(&["127.0.0.1", "10.0.0.0/8"]);
        // The client wrote the first one itself: never believed.
        let h = headers(&[("x-forwarded-for", "192.0.2.66, 203.0.113.7, 10.0.0.2")]);
        assert_eq!(client_address(ip("127.0.0.1"), &h, &t), ip("203.0.113.7"));
        // Several headers are one list, in order.
        let h = headers(&[
            ("x-forwarded-for", "192.0.2.66"),
            ("x-forwarded-for", "203.0.113.7"),
        ]);
        assert_eq!(client_address(ip("127.0.0.1"), &h, &t), ip("203.0.113.7"));
        // Only trusted hops: the left-most of them.
        let h = headers(&[("x-forwarded-for", "10.0.0.3, 10.0.0.2")]);
        assert_eq!(client_address(ip("127.0.0.1"), &h, &t), ip("10.0.0.3"));
        // No header: the proxy itself.
        assert_eq!(
            client_address(ip("127.0.0.1"), &HeaderMap::new(), &t),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn forwarded_wins_over_x_forwarded_for_and_reads_every_form() {
        let t = trusted(&["127.0.0.1"]);
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.99"),
            (
                "forwarded",
                r#"for=192.0.2.66;proto=https, For="[2001:db8::7]:4711";by=127.0.0.1"#,
            ),
        ]);
        assert_eq!(client_address(ip("127.0.0.1"), &h, &t), ip("2001:db8::7"));
        let h = headers(&[("forwarded", "for=203.0.113.7:8080")]);
        assert_eq!(client_address(ip("127.0.0.1"), &h, &t), ip("203.0.113.7"));
    }

    #[test]
    fn a_hop_that_is_not_an_address_stops_at_the_last_trusted_one() {
        let t = trusted(&["127.0.0.1", "10.0.0.2"]);
        for value in ["unknown", "_hidden", "not an address", ""] {
            let h = headers(&[(
                "forwarded",
                &format!("for=203.0.113.7, for={value}, for=10.0.0.2"),
            )]);
            assert_eq!(
                client_address(ip("127.0.0.1"), &h, &t),
                ip("10.0.0.2"),
                "{value:?}"
            );
        }
        let h = headers(&[("x-forwarded-for", "203.0.113.7, garbage")]);
        assert_eq!(client_address(ip("127.0.0.1"), &h, &t), ip("127.0.0.1"));
    }

    #[test]
    fn the_scheme_is_believed_only_from_a_trusted_peer_and_only_as_https() {
        let t = trusted(&["127.0.0.1"]);
        let h = headers(&[("x-forwarded-proto", "https")]);
        assert!(forwarded_https(ip("127.0.0.1"), &h, &t));
        assert!(forwarded_https(ip("::ffff:127.0.0.1"), &h, &t));
        assert!(!forwarded_https(ip("198.51.100.9"), &h, &t), "untrusted");
        assert!(!forwarded_https(
            ip("127.0.0.1"),
            &h,
            &TrustedProxies::default()
        ));
        for (value, https) in [
            ("HTTPS", true),
            ("http", false),
            ("", false),
            ("https, http", false),
            ("http, https", true),
            ("wss", false),
        ] {
            let h = headers(&[("x-forwarded-proto", value)]);
            assert_eq!(forwarded_https(ip("127.0.0.1"), &h, &t), https, "{value:?}");
        }
        assert!(!forwarded_https(ip("127.0.0.1"), &HeaderMap::new(), &t));
    }

    #[test]
    fn forwarded_proto_is_the_one_of_the_element_that_names_the_client() {
        let t = trusted(&["127.0.0.1", "10.0.0.2"]);
        // The client's own element (forged) says https; the proxy that
        // took its connection says http.
        let h = headers(&[(
            "forwarded",
            "for=192.0.2.66;proto=https, for=203.0.113.7;proto=http, for=10.0.0.2;proto=https",
        )]);
        assert!(!forwarded_https(ip("127.0.0.1"), &h, &t));
        let h = headers(&[(
            "forwarded",
            r#"for=203.0.113.7;proto="https", for=10.0.0.2;proto=http"#,
        )]);
        assert!(forwarded_https(ip("127.0.0.1"), &h, &t));
        // `Forwarded` wins over X-Forwarded-Proto, as for the address.
        let h = headers(&[
            ("forwarded", "for=203.0.113.7"),
            ("x-forwarded-proto", "https"),
        ]);
        assert!(!forwarded_https(ip("127.0.0.1"), &h, &t));
    }

    #[test]
    fn a_mapped_ipv4_peer_is_its_ipv4_address() {
        let t = trusted(&["127.0.0.1"]);
        let h = headers(&[("x-forwarded-for", "203.0.113.7")]);
        assert_eq!(
            client_address(ip("::ffff:127.0.0.1"), &h, &t),
            ip("203.0.113.7")
        );
        assert_eq!(
            client_address(ip("::ffff:198.51.100.9"), &HeaderMap::new(), &t),
            ip("198.51.100.9")
        );
    }
}
