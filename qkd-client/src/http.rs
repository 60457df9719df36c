//! HTTPS transport to one KME: HTTP/1.1 over tokio-rustls, with a bounded pool of connections
//! kept alive for reuse: at most `max_connections` exist at once, busy or idle, and a request
//! beyond them waits for one. Knows nothing of ETSI objects.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{ACCEPT, CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_rustls::TlsConnector;
use tracing::debug;
use zeroize::Zeroizing;

use crate::error::{ProtocolError, QkdError};
use crate::tls::find_tls_error;

/// An HTTP answer; the body may hold keys and is zeroized on drop.
pub(crate) struct Response {
    pub(crate) status: StatusCode,
    pub(crate) body: Zeroizing<Vec<u8>>,
}

/// Connections to one KME.
pub(crate) struct Transport {
    connector: TlsConnector,
    host: String,
    port: u16,
    server_name: ServerName<'static>,
    authority: String,
    base_path: String,
    idle: Mutex<Vec<SendRequest<Full<Bytes>>>>,
    /// One permit per connection that may exist; held by a request while it runs.
    permits: Semaphore,
    max_connections: usize,
}

impl Transport {
    /// A transport for `url` (`https://host[:port][/prefix]`).
    pub(crate) fn new(
        url: &str,
        tls: rustls::ClientConfig,
        max_connections: usize,
    ) -> Result<Self, QkdError> {
        let bad = |why: &str| QkdError::Config(format!("KME URL {url:?}: {why}"));
        let uri: Uri = url.parse().map_err(|_| bad("not a URL"))?;
        if uri.scheme_str() != Some("https") {
            return Err(bad("scheme must be https (ETSI GS QKD 014 §4)"));
        }
        if uri.query().is_some() {
            return Err(bad("no query allowed"));
        }
        let (Some(authority), Some(host)) = (uri.authority(), uri.host()) else {
            return Err(bad("no host"));
        };
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let server_name = match host.parse::<IpAddr>() {
            Ok(ip) => ServerName::IpAddress(ip.into()),
            Err(_) => ServerName::try_from(host.clone()).map_err(|_| bad("invalid host name"))?,
        };
        Ok(Self {
            connector: TlsConnector::from(Arc::new(tls)),
            port: uri.port_u16().unwrap_or(443),
            host,
            server_name,
            authority: authority.as_str().to_owned(),
            base_path: uri.path().trim_end_matches('/').to_owned(),
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(max_connections.max(1)),
            max_connections: max_connections.max(1),
        })
    }

    /// Sends one request and reads the whole answer. A kept-alive connection that turns out
    /// to be closed is replaced once by a fresh one.
    pub(crate) async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Response, QkdError> {
        let body = body.map(Bytes::from);
        // Idle connections never outnumber the permits, so holding one means a connection is
        // free or may be opened.
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| QkdError::Config("the KME transport is closed".into()))?;
        let mut fresh_tries = 0;
        loop {
            let (mut sender, reused) = match self.take_idle() {
                Some(s) => (s, true),
                None => (self.connect().await?, false),
            };
            let request = self.request(&method, path_and_query, body.clone())?;
            let answer = match sender.send_request(request).await {
                Ok(answer) => answer,
                Err(e) if reused && fresh_tries == 0 && (e.is_canceled() || e.is_closed()) => {
                    // The KME closed an idle connection; the other idle ones are likely gone
                    // too, so the retry opens a fresh one.
                    debug!(error = %e, "kept-alive KME connection was closed; reconnecting");
                    self.idle.lock().unwrap_or_else(|p| p.into_inner()).clear();
                    fresh_tries += 1;
                    continue;
                }
                Err(e) => return Err(classify_hyper(&e)),
            };
            let status = answer.status();
            let collected = Limited::new(answer.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(|e| match e.downcast::<hyper::Error>() {
                    Ok(he) => classify_hyper(&he),
                    Err(_) => QkdError::Protocol(ProtocolError::BodyTooLarge(MAX_BODY)),
                })?;
            let body = Zeroizing::new(collected.to_bytes().to_vec());
            self.put_idle(sender);
            return Ok(Response { status, body });
        }
    }

    fn request(
        &self,
        method: &Method,
        path_and_query: &str,
        body: Option<Bytes>,
    ) -> Result<Request<Full<Bytes>>, QkdError> {
        let mut builder = Request::builder()
            .method(method.clone())
            .uri(format!("{}{path_and_query}", self.base_path))
            .header(HOST, &self.authority)
            .header(ACCEPT, "application/json");
        if body.is_some() {
            builder = builder.header(CONTENT_TYPE, "application/json");
        }
        builder
            .body(Full::new(body.unwrap_or_default()))
            .map_err(|e| QkdError::Config(format!("cannot build request: {e}")))
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, QkdError> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(QkdError::Connect)?;
        // Requests are small and latency matters more than segment count.
        let _ = tcp.set_nodelay(true);
        let tls = self
            .connector
            .connect(self.server_name.clone(), tcp)
            .await
            .map_err(|e| match find_tls_error(&e) {
                Some(tls) => QkdError::Tls(tls.to_string()),
                None => QkdError::Connect(e),
            })?;
        let (sender, connection) = http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| classify_hyper(&e))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                debug!(error = %e, "KME connection ended");
            }
        });
        Ok(sender)
    }

    fn take_idle(&self) -> Option<SendRequest<Full<Bytes>>> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(sender) = idle.pop() {
            if sender.is_ready() && !sender.is_closed() {
                return Some(sender);
            }
        }
        None
    }

    fn put_idle(&self, sender: SendRequest<Full<Bytes>>) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < self.max_connections {
            idle.push(sender);
        }
    }
}

/// Maps a hyper failure to TLS (a rustls error in the chain), HTTP syntax, or connection loss.
fn classify_hyper(e: &hyper::Error) -> QkdError {
    if let Some(tls) = find_tls_error(e) {
        return QkdError::Tls(tls.to_string());
    }
    if e.is_parse() || e.is_parse_status() {
        return QkdError::Protocol(ProtocolError::Http(e.to_string()));
    }
    QkdError::Connect(std::io::Error::other(e.to_string()))
}

/// The largest answer accepted. A container of `max_key_per_request` 1024-bit keys is far
/// smaller.
const MAX_BODY: usize = 1 << 20;
