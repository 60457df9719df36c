//! A blocking client of the control socket, used by `ikectl` and the tests.

use std::fmt;
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::proto::{Command, ErrorBody, EventLine, PROTOCOL_VERSION, Request, Response};

/// A connection to the daemon.
#[derive(Debug)]
pub struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

/// Why a call failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientError {
    /// The socket could not be reached or broke.
    Io(io::Error),
    /// The daemon answered something that is not the protocol.
    Protocol(String),
    /// The daemon refused or failed the request.
    Daemon(ErrorBody),
}

impl Client {
    /// Connects to the socket at `path`.
    ///
    /// # Errors
    /// When the socket does not exist, refuses, or we lack permission.
    pub fn connect(path: &Path) -> io::Result<Self> {
        let writer = UnixStream::connect(path)?;
        let reader = BufReader::new(writer.try_clone()?);
        Ok(Self { reader, writer })
    }

    /// Sends a command and returns its `result`.
    ///
    /// # Errors
    /// I/O, protocol or daemon errors.
    pub fn call(
        &mut self,
        command: Command,
        timeout: Option<Duration>,
    ) -> Result<serde_json::Value, ClientError> {
        self.writer
            .set_read_timeout(timeout)
            .map_err(ClientError::Io)?;
        if let Err(e) = self.send(&Request::new(command)) {
            // The daemon may have refused us and hung up before reading: its reason is waiting.
            return match self.receive::<Response>() {
                Ok(Some(Response {
                    error: Some(body), ..
                })) => Err(ClientError::Daemon(body)),
                _ => Err(e),
            };
        }
        let response: Response = self
            .receive()?
            .ok_or_else(|| ClientError::Protocol("the daemon closed the connection".into()))?;
        if response.version != PROTOCOL_VERSION {
            return Err(ClientError::Protocol(format!(
                "the daemon speaks protocol version {}, this client {PROTOCOL_VERSION}",
                response.version
            )));
        }
        match (response.ok, response.result, response.error) {
            (true, result, _) => Ok(result.unwrap_or(serde_json::Value::Null)),
            (false, _, Some(e)) => Err(ClientError::Daemon(e)),
            (false, _, None) => Err(ClientError::Protocol(
                "error response without an error".into(),
            )),
        }
    }

    /// Sends a command and decodes its `result` as `T`.
    ///
    /// # Errors
    /// I/O, protocol or daemon errors.
    pub fn call_as<T: DeserializeOwned>(
        &mut self,
        command: Command,
        timeout: Option<Duration>,
    ) -> Result<T, ClientError> {
        let value = self.call(command, timeout)?;
        serde_json::from_value(value)
            .map_err(|e| ClientError::Protocol(format!("unexpected result: {e}")))
    }

    /// The next `monitor` event, or `None` when the daemon closed the stream.
    ///
    /// # Errors
    /// I/O or protocol errors.
    pub fn next_event(
        &mut self,
        timeout: Option<Duration>,
    ) -> Result<Option<EventLine>, ClientError> {
        self.writer
            .set_read_timeout(timeout)
            .map_err(ClientError::Io)?;
        self.receive()
    }

    /// Sends one raw line (tests use it to send malformed requests).
    ///
    /// # Errors
    /// I/O errors.
    pub fn send_raw(&mut self, line: &str) -> Result<Option<Response>, ClientError> {
        self.writer
            .write_all(line.as_bytes())
            .and_then(|()| self.writer.write_all(b"\n"))
            .map_err(ClientError::Io)?;
        self.receive()
    }

    fn send(&mut self, request: &Request) -> Result<(), ClientError> {
        let mut line =
            serde_json::to_vec(request).map_err(|e| ClientError::Protocol(e.to_string()))?;
        line.push(b'\n');
        self.writer.write_all(&line).map_err(ClientError::Io)
    }

    fn receive<T: DeserializeOwned>(&mut self) -> Result<Option<T>, ClientError> {
        let mut line = String::new();
        if self.reader.read_line(&mut line).map_err(ClientError::Io)? == 0 {
            return Ok(None);
        }
        serde_json::from_str(&line)
            .map(Some)
            .map_err(|e| ClientError::Protocol(format!("bad line from the daemon: {e}")))
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e}"),
            Self::Protocol(m) => write!(f, "protocol error: {m}"),
            Self::Daemon(e) => f.write_str(&e.message),
        }
    }
}

impl std::error::Error for ClientError {}
