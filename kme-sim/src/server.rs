//! The HTTPS front of the simulated KME pair: mutual TLS, SAE ID from the client certificate,
//! ETSI GS QKD 014 V1.1.1 routing onto [`KmeCore`].

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{ALLOW, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use qkd_client::api::{ErrorBody, KeyContainer, KeyIdsRequest, KeyRequest};
use qkd_client::{EtsiV1, KeyDeliveryApi, KeyId, Operation, percent_decode, tls};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;
use tracing::{debug, info, warn};

use crate::certs::KmeTls;
use crate::engine::{CoreConfig, KmeCore, KmeSide, SimError};
use crate::sae_id::SaeIdSource;

/// How to run the simulated KME pair.
pub struct SimConfig {
    /// KME A's listening address (port 0 picks a free port).
    pub listen_a: SocketAddr,
    /// KME B's listening address.
    pub listen_b: SocketAddr,
    /// Certificates and the client CA.
    pub tls: KmeTls,
    /// How the SAE ID is read from a client certificate.
    pub sae_id_from: SaeIdSource,
    /// KME IDs and pool settings.
    pub core: CoreConfig,
    /// Concurrent connections per KME; further clients wait in the listen queue.
    pub max_connections: usize,
}

impl SimConfig {
    /// Both KMEs on `127.0.0.1` with free ports, SAE ID from the CN, default pools.
    pub fn new(tls: KmeTls) -> Self {
        let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
        Self {
            listen_a: any_port,
            listen_b: any_port,
            tls,
            sae_id_from: SaeIdSource::CommonName,
            core: CoreConfig::default(),
            max_connections: 64,
        }
    }
}

/// The running KME pair. Dropping it stops both KMEs.
pub struct KmeSimHandle {
    addr_a: SocketAddr,
    addr_b: SocketAddr,
    core: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
}

impl KmeSimHandle {
    /// KME A's bound address.
    pub fn addr_a(&self) -> SocketAddr {
        self.addr_a
    }

    /// KME B's bound address.
    pub fn addr_b(&self) -> SocketAddr {
        self.addr_b
    }

    /// `https://…` URL of KME A.
    pub fn url_a(&self) -> String {
        format!("https://{}", self.addr_a)
    }

    /// `https://…` URL of KME B.
    pub fn url_b(&self) -> String {
        format!("https://{}", self.addr_b)
    }

    /// Keys handed to a master and not yet retrieved by the slave.
    pub fn waiting_key_count(&self) -> usize {
        self.core.lock().waiting_key_count()
    }

    /// Stops both KMEs and every open connection.
    pub fn shutdown(self) {
        drop(self);
    }

    /// Stops both KMEs and returns once their listening sockets and every open connection are
    /// closed: the same addresses can be bound again at once (a KME restart), and a client's
    /// kept-alive connection gets no more answers (a KME that went away).
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }
}

impl Drop for KmeSimHandle {
    fn drop(&mut self) {
        // Without `stop`, connections end shortly after, not by the time this returns.
        let _ = self.stop.send(true);
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Binds both KMEs and serves them on the current tokio runtime.
///
/// # Errors
/// When an address cannot be bound or the TLS material is unusable.
pub async fn spawn(config: SimConfig) -> io::Result<KmeSimHandle> {
    let shared = Arc::new(Shared {
        core: Mutex::new(KmeCore::new(config.core)),
        start: Instant::now(),
        sae_id_from: config.sae_id_from,
    });
    let mut tasks = Vec::with_capacity(2);
    let mut addrs = Vec::with_capacity(2);
    let (stop, stopped) = watch::channel(false);
    for (side, listen, (chain, key)) in [
        (KmeSide::A, config.listen_a, &config.tls.kme_a),
        (KmeSide::B, config.listen_b, &config.tls.kme_b),
    ] {
        let server =
            tls::server_config(chain, key, &config.tls.client_ca_pem).map_err(io::Error::other)?;
        let acceptor = TlsAcceptor::from(Arc::new(server));
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        info!(kme = ?side, %addr, "KME listening");
        addrs.push(addr);
        let limit = Arc::new(Semaphore::new(config.max_connections.max(1)));
        tasks.push(tokio::spawn(accept_loop(
            listener,
            acceptor,
            side,
            shared.clone(),
            limit,
            stopped.clone(),
        )));
    }
    Ok(KmeSimHandle {
        addr_a: addrs[0],
        addr_b: addrs[1],
        core: shared,
        tasks,
        stop,
    })
}

/// State shared by both KMEs' connections.
struct Shared {
    core: Mutex<KmeCore>,
    start: Instant,
    sae_id_from: SaeIdSource,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, KmeCore> {
        self.core.lock().unwrap_or_else(|p| p.into_inner())
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    side: KmeSide,
    shared: Arc<Shared>,
    limit: Arc<Semaphore>,
    mut stopped: watch::Receiver<bool>,
) {
    // Connection tasks live in this set, so aborting the loop's task ends them too.
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let accepted = tokio::select! {
            _ = stopped.changed() => {
                connections.shutdown().await;
                return;
            }
            accepted = accept(&listener, &limit) => accepted,
        };
        let Some((accepted, permit)) = accepted else {
            return;
        };
        match accepted {
            Ok((tcp, peer)) => {
                let task = connection(tcp, peer, acceptor.clone(), side, shared.clone(), permit);
                connections.spawn(task);
            }
            Err(e) => {
                warn!(kme = ?side, error = %e, "accept failed");
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
            }
        }
    }
}

/// The next connection, once a connection slot is free; `None` when the limit is closed.
async fn accept(
    listener: &TcpListener,
    limit: &Arc<Semaphore>,
) -> Option<(io::Result<(TcpStream, SocketAddr)>, OwnedSemaphorePermit)> {
    let permit = limit.clone().acquire_owned().await.ok()?;
    Some((listener.accept().await, permit))
}

async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    side: KmeSide,
    shared: Arc<Shared>,
    _permit: OwnedSemaphorePermit,
) {
    let _ = tcp.set_nodelay(true);
    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            info!(kme = ?side, %peer, error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => {
            info!(kme = ?side, %peer, "TLS handshake timed out");
            return;
        }
    };
    let sae: Option<Arc<str>> = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .and_then(|leaf| shared.sae_id_from.sae_id(leaf))
        .map(Arc::from);
    debug!(kme = ?side, %peer, sae = ?sae, "SAE connected");
    let service = service_fn(move |req| {
        let shared = shared.clone();
        let sae = sae.clone();
        async move { Ok::<_, Infallible>(handle(req, side, sae.as_deref(), &shared).await) }
    });
    let served = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(IDLE_TIMEOUT)
        .serve_connection(TokioIo::new(tls), service)
        .await;
    if let Err(e) = served {
        debug!(kme = ?side, %peer, error = %e, "connection ended");
    }
}

async fn handle(
    req: Request<Incoming>,
    side: KmeSide,
    sae: Option<&str>,
    shared: &Shared,
) -> Response<Full<Bytes>> {
    let Some((op, path_sae)) = EtsiV1.parse_path(req.uri().path()) else {
        return error_response(
            StatusCode::NOT_FOUND,
            Some(ErrorBody::new("no such method")),
        );
    };
    // §4: the SAE ID comes from the certificate; a certificate without one is refused.
    let Some(caller) = sae else {
        return unauthorized();
    };
    let method = req.method().clone();
    let query = req.uri().query().map(str::to_owned);
    let body = match Limited::new(req.into_body(), MAX_REQUEST_BODY)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return sim_error(&SimError::BadRequest(
                "request body unreadable or too large".into(),
            ));
        }
    };
    let now = shared.start.elapsed();
    let answer = match (op, &method) {
        (Operation::Status, &Method::GET) => {
            let status = shared.lock().status(now, side, caller, &path_sae);
            status.map(|s| serde_json::to_vec(&s).unwrap_or_default())
        }
        (Operation::EncKeys, &Method::GET | &Method::POST) => {
            let request = if method == Method::GET {
                enc_query(query.as_deref())
            } else {
                json_body::<KeyRequest>(&body)
            };
            request.and_then(|r| {
                let container = shared.lock().enc_keys(now, side, caller, &path_sae, &r)?;
                info!(kme = ?side, master = caller, slave = %path_sae,
                    key_ids = %id_list(&container), "enc_keys delivered");
                Ok(container.to_json())
            })
        }
        (Operation::DecKeys, &Method::GET | &Method::POST) => {
            let ids = if method == Method::GET {
                dec_query(query.as_deref())
            } else {
                json_body::<KeyIdsRequest>(&body)
                    .map(|r| r.key_ids.into_iter().map(|e| e.key_id).collect())
            };
            ids.and_then(|ids| {
                let container = shared.lock().dec_keys(side, caller, &path_sae, &ids)?;
                info!(kme = ?side, slave = caller, master = %path_sae,
                    key_ids = %id_list(&container), "dec_keys delivered");
                Ok(container.to_json())
            })
        }
        _ => {
            let allow = if op == Operation::Status {
                "GET"
            } else {
                "GET, POST"
            };
            let mut resp = error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                Some(ErrorBody::new(format!("use {allow}"))),
            );
            resp.headers_mut()
                .insert(ALLOW, hyper::header::HeaderValue::from_static(allow));
            return resp;
        }
    };
    match answer {
        Ok(json) => json_response(StatusCode::OK, json),
        Err(e) => {
            info!(kme = ?side, sae = caller, ?op, error = %e, "request refused");
            sim_error(&e)
        }
    }
}

/// The GET query parsers, for the fuzz targets (compiled only with `--cfg fuzzing`).
#[cfg(fuzzing)]
pub mod fuzzing {
    use super::{KeyId, KeyRequest, SimError};

    /// The `number` and `size` of a GET enc_keys query.
    ///
    /// # Errors
    /// The 400 answer to a malformed query.
    pub fn enc_query(query: Option<&str>) -> Result<KeyRequest, SimError> {
        super::enc_query(query)
    }

    /// The `key_ID` of a GET dec_keys query.
    ///
    /// # Errors
    /// The 400 answer to a malformed query.
    pub fn dec_query(query: Option<&str>) -> Result<Vec<KeyId>, SimError> {
        super::dec_query(query)
    }
}

/// §5.2: GET carries only `number` and `size`.
fn enc_query(query: Option<&str>) -> Result<KeyRequest, SimError> {
    let mut request = KeyRequest::default();
    for pair in query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .take(MAX_QUERY_PARAMS + 1)
    {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value: Option<u32> = percent_decode(value).and_then(|v| v.parse().ok());
        let slot = match name {
            "number" => &mut request.number,
            "size" => &mut request.size,
            _ => {
                return Err(SimError::BadRequest(
                    "GET enc_keys accepts only number and size; send other parameters by POST"
                        .into(),
                ));
            }
        };
        if slot.is_some() || value.is_none() {
            return Err(SimError::BadRequest(format!(
                "{name} shall be given once, as an integer"
            )));
        }
        *slot = value;
    }
    Ok(request)
}

/// §5.3: GET carries exactly one `key_ID`.
fn dec_query(query: Option<&str>) -> Result<Vec<KeyId>, SimError> {
    let bad = || SimError::BadRequest("GET dec_keys takes exactly one key_ID".into());
    let q = query.ok_or_else(bad)?;
    let value = q
        .strip_prefix("key_ID=")
        .filter(|v| !v.contains('&'))
        .ok_or_else(bad)?;
    let text = percent_decode(value).ok_or_else(bad)?;
    // An ID that is not a UUID cannot be on the KME.
    let id = text
        .parse::<KeyId>()
        .map_err(|_| SimError::BadRequest(crate::messages::KEYS_NOT_FOUND.into()))?;
    Ok(vec![id])
}

/// An empty body is the empty object (every Key request field is optional).
fn json_body<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, SimError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| SimError::BadRequest(format!("request body is not a valid object: {e}")))
}

fn id_list(container: &KeyContainer) -> String {
    let ids: Vec<String> = container
        .keys
        .iter()
        .map(|k| k.key_id().to_string())
        .collect();
    ids.join(",")
}

fn sim_error(e: &SimError) -> Response<Full<Bytes>> {
    match e {
        SimError::Unauthorized => unauthorized(),
        other => {
            let status = StatusCode::from_u16(other.http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            error_response(status, other.body())
        }
    }
}

/// §5: 401 carries no body.
fn unauthorized() -> Response<Full<Bytes>> {
    error_response(StatusCode::UNAUTHORIZED, None)
}

fn error_response(status: StatusCode, body: Option<ErrorBody>) -> Response<Full<Bytes>> {
    match body {
        Some(b) => json_response(status, serde_json::to_vec(&b).unwrap_or_default()),
        None => {
            let mut resp = Response::new(Full::new(Bytes::new()));
            *resp.status_mut() = status;
            resp
        }
    }
}

fn json_response(status: StatusCode, json: Vec<u8>) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(json)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    resp
}

const MAX_REQUEST_BODY: usize = 64 * 1024;
const MAX_QUERY_PARAMS: usize = 2;
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enc_query_accepts_number_and_size_only() {
        assert_eq!(enc_query(None).unwrap(), KeyRequest::default());
        assert_eq!(
            enc_query(Some("number=3&size=1024")).unwrap(),
            KeyRequest::new(3, 1024)
        );
        for bad in [
            "number=3&number=4",
            "size=x",
            "number=",
            "foo=1",
            "number=-1",
        ] {
            assert!(enc_query(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn dec_query_takes_one_uuid() {
        let id = KeyId::random();
        assert_eq!(dec_query(Some(&format!("key_ID={id}"))).unwrap(), vec![id]);
        for bad in [
            String::new(),
            format!("key_ID={id}&key_ID={id}"),
            "key_id=1".into(),
        ] {
            assert!(dec_query(Some(&bad)).is_err(), "{bad}");
        }
        assert_eq!(
            dec_query(Some("key_ID=nope")),
            Err(SimError::BadRequest(crate::messages::KEYS_NOT_FOUND.into()))
        );
    }
}
