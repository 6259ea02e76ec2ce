//! Posting a signed webhook to an API client's endpoint, without letting the endpoint make
//! the back office reach inside its own network (server-side request forgery):
//!
//! - an endpoint is `https://`; `http://` only to a loopback address, and only when private
//!   addresses are allowed (`BACKOFFICE_WEBHOOK_ALLOW_PRIVATE`, for tests and local setups);
//! - an https endpoint on a private, loopback, link-local, shared or unspecified address is
//!   refused unless allowed: when it is set (`check_endpoint`, the name resolved then), and at
//!   every delivery, where the name is resolved by [`GuardedResolver`], which hands the
//!   connection only the addresses that pass (a name that now points inside is refused: DNS
//!   rebinding);
//! - no redirect is followed, no proxy is used, the whole request has a time limit, and of the
//!   answer only the first [`BODY_HEAD_BYTES`] bytes are read.

use crate::config::webhook::WebhookSettings;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

/// The answer's bytes kept with an attempt (the rest is not read).
pub const BODY_HEAD_BYTES: usize = 512;

/// The longest endpoint URL accepted.
const URL_MAX: usize = 2000;

/// Whether an address is one an outside endpoint must not have: loopback, private, link-local,
/// shared (100.64/10), unspecified, multicast, broadcast, documentation, benchmarking, unique
/// local (fc00::/7), and IPv4 inside IPv6 (mapped or NAT64-less compatible) judged as IPv4.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return internal_v4(v4);
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || (s[0..6] == [0, 0, 0, 0, 0, 0])
        }
    }
}

fn internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240
}

fn host_ip(url: &url::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(_) => None,
    }
}

/// The endpoint's form, and its host if it is an address: what can be judged without DNS.
/// The message says what is wrong (shown to the administrator, kept with a refused attempt).
pub fn check_url(raw: &str, allow_private: bool) -> Result<url::Url, String> {
    let raw = raw.trim();
    if raw.len() > URL_MAX {
        return Err(format!("the URL is longer than {URL_MAX} characters"));
    }
    let url = url::Url::parse(raw).map_err(|e| format!("not a URL: {e}"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the URL must not carry a user name or password".into());
    }
    let ip = host_ip(&url);
    match url.scheme() {
        "https" => {}
        "http" if ip.is_some_and(|ip| ip.is_loopback()) => {
            if !allow_private {
                return Err(
                    "http:// is accepted only on loopback with BACKOFFICE_WEBHOOK_ALLOW_PRIVATE on"
                        .into(),
                );
            }
        }
        _ => return Err("the endpoint must be https:// (http:// only on loopback)".into()),
    }
    let Some(host) = url.host_str() else {
        return Err("the URL names no host".into());
    };
    let named_local = {
        let h = host.trim_end_matches('.').to_ascii_lowercase();
        h == "localhost" || h.ends_with(".localhost")
    };
    if !allow_private && (ip.is_some_and(is_internal) || named_local) {
        return Err(format!(
            "{host} is a private, loopback or link-local address (BACKOFFICE_WEBHOOK_ALLOW_PRIVATE is off)"
        ));
    }
    Ok(url)
}

/// `check_url`, and the name resolved now: every address it has must pass (a name that does
/// not resolve is refused too: most likely a typing error).
pub async fn check_endpoint(raw: &str, allow_private: bool) -> Result<url::Url, String> {
    let url = check_url(raw, allow_private)?;
    if allow_private || host_ip(&url).is_some() {
        return Ok(url);
    }
    let host = url.host_str().unwrap_or_default().to_owned();
    let addrs = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::lookup_host((host.as_str(), 443)),
    )
    .await
    .map_err(|_| format!("{host} did not resolve within 5 s"))?
    .map_err(|e| format!("{host} does not resolve: {e}"))?
    .collect::<Vec<_>>();
    if addrs.is_empty() {
        return Err(format!("{host} has no address"));
    }
    if let Some(bad) = addrs.iter().find(|a| is_internal(a.ip())) {
        return Err(format!(
            "{host} resolves to {}, a private, loopback or link-local address",
            bad.ip()
        ));
    }
    Ok(url)
}

/// The HTTP client's resolver: the system's answer, without the addresses that may not be
/// reached (all of them internal: an error, nothing is connected to).
#[derive(Clone, Copy)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl GuardedResolver {
    pub fn keep(&self, addrs: impl Iterator<Item = SocketAddr>) -> Vec<SocketAddr> {
        addrs
            .filter(|a| self.allow_private || !is_internal(a.ip()))
            .collect()
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let me = *self;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept = me.keep(found.into_iter());
            if kept.is_empty() {
                return Err(format!(
                    "{host} resolves to no address an endpoint may have (private, loopback or link-local)"
                )
                .into());
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

/// What one attempt came to.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    pub status: Option<u16>,
    pub body_head: Option<String>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

impl Answer {
    /// A 2xx answer: delivered (Standard Webhooks: anything else is retried).
    pub fn delivered(&self) -> bool {
        self.error.is_none() && self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// One signed request, as it is sent.
pub struct Signed<'a> {
    pub url: &'a str,
    pub id: &'a str,
    pub timestamp: i64,
    pub signature: &'a str,
    pub body: &'a str,
}

#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    allow_private: bool,
}

impl Sender {
    pub fn new(s: &WebhookSettings) -> anyhow::Result<Sender> {
        let timeout = Duration::from_secs(s.timeout_secs);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .dns_resolver(GuardedResolver {
                allow_private: s.allow_private,
            })
            .user_agent(concat!("backoffice-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Sender {
            client,
            allow_private: s.allow_private,
        })
    }

    /// Posts the body with its three headers; never fails: an error is part of the answer.
    pub async fn post(&self, r: &Signed<'_>) -> Answer {
        let started = Instant::now();
        let mut answer = match check_url(r.url, self.allow_private) {
            Err(e) => Answer {
                error: Some(format!("refused: {e}")),
                ..Default::default()
            },
            Ok(url) => self.send(url, r).await,
        };
        answer.duration_ms = started.elapsed().as_millis() as i64;
        answer
    }

    async fn send(&self, url: url::Url, r: &Signed<'_>) -> Answer {
        let sent = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", r.id)
            .header("webhook-timestamp", r.timestamp.to_string())
            .header("webhook-signature", r.signature)
            .body(r.body.to_owned())
            .send()
            .await;
        let mut resp = match sent {
            Ok(resp) => resp,
            Err(e) => {
                return Answer {
                    error: Some(error_chain(&e)),
                    ..Default::default()
                };
            }
        };
        let status = resp.status().as_u16();
        let mut head = Vec::new();
        let mut error = None;
        while head.len() < BODY_HEAD_BYTES {
            match resp.chunk().await {
                Ok(Some(c)) => {
                    head.extend_from_slice(&c[..c.len().min(BODY_HEAD_BYTES - head.len())])
                }
                Ok(None) => break,
                Err(e) => {
                    // A 2xx whose body breaks off still counts as received by the endpoint.
                    if !(200..300).contains(&status) {
                        error = Some(error_chain(&e));
                    }
                    break;
                }
            }
        }
        // The rest is not read: dropping the answer closes the connection.
        drop(resp);
        Answer {
            status: Some(status),
            body_head: (!head.is_empty()).then(|| String::from_utf8_lossy(&head).into_owned()),
            error,
            duration_ms: 0,
        }
    }
}

/// The error and its causes, one line ("connection refused" is deep down in reqwest's).
fn error_chain(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s.chars().take(500).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses() {
        for a in [
            "10.1.2.3",
            "127.0.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_internal(a.parse().unwrap()), "{a}");
        }
        for a in ["8.8.8.8", "203.119.1.1", "2400:3200::1", "::ffff:8.8.8.8"] {
            assert!(!is_internal(a.parse().unwrap()), "{a}");
        }
    }

    #[test]
    fn endpoint_forms() {
        let ok = |u: &str, p| check_url(u, p).is_ok();
        assert!(ok("https://hall.example.cn/hooks", false));
        assert!(!ok("https://10.0.0.5/hooks", false));
        assert!(!ok("https://127.0.0.1/hooks", false));
        assert!(!ok("https://169.254.169.254/latest", false));
        assert!(!ok("https://[::1]/hooks", false));
        assert!(!ok("https://localhost/hooks", false));
        assert!(ok("https://10.0.0.5/hooks", true));
        assert!(!ok("http://hall.example.cn/hooks", true));
        assert!(!ok("http://10.0.0.5/hooks", true));
        assert!(!ok("http://127.0.0.1:8080/hooks", false));
        assert!(ok("http://127.0.0.1:8080/hooks", true));
        assert!(!ok("ftp://hall.example.cn/", true));
        assert!(!ok("https://user:pw@hall.example.cn/", false));
    }

    #[test]
    fn the_resolver_drops_internal_answers() {
        let addrs = ["10.0.0.1:0", "93.184.216.34:0", "127.0.0.1:0"]
            .map(|a| a.parse::<SocketAddr>().unwrap());
        let strict = GuardedResolver {
            allow_private: false,
        };
        assert_eq!(
            strict.keep(addrs.into_iter()),
            ["93.184.216.34:0".parse().unwrap()]
        );
        let lax = GuardedResolver {
            allow_private: true,
        };
        assert_eq!(lax.keep(addrs.into_iter()).len(), 3);
    }
}
