//! The listener: accepts connections up to a cap and serves each with HTTP/1.1 under three
//! clocks, so no client can hold the hub's sockets or memory by being slow or silent.
//!
//! - Headers must arrive within `header_timeout_ms` (hyper's header read timeout).
//! - A body must arrive within `body_timeout_ms` (the JSON extractor answers 408).
//! - A connection with no byte either way for `idle_timeout_ms` is closed ([`IdleIo`]).
//! - Past `max_connections`, a new connection is answered 503 and closed at once.
//!
//! On shutdown it stops accepting, lets each connection finish the request it is serving,
//! and returns when all are closed (or after the drain limit).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use crossdock_engine::Shutdown;
use crossdock_engine::config::ServerConfig;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};
use tokio_rustls::TlsAcceptor;
use tower::Service;

use crate::gate::Peer;

/// How long shutdown waits for open connections to finish their requests.
const DRAIN: Duration = Duration::from_secs(10);

/// The body of the answer to a connection past the cap.
const BUSY: &str = "{\"type\":\"urn:crossdock:problem:server-busy\",\"title\":\"Server busy\",\
\"status\":503,\"code\":\"SERVER_BUSY\",\"detail\":\"too many open connections; retry shortly\"}";

/// The whole answer to a connection past the cap.
fn busy() -> String {
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{BUSY}",
        BUSY.len()
    )
}

/// The body timeout, handed to the JSON extractor with each request.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub Duration);

/// Serves `app` on `listener` until `shutdown`, within `limits`, over TLS when `tls` is
/// given.
pub async fn run(
    listener: TcpListener,
    app: Router,
    limits: &ServerConfig,
    tls: Option<TlsAcceptor>,
    shutdown: Shutdown,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let header = Duration::from_millis(limits.header_timeout_ms);
    let idle = Duration::from_millis(limits.idle_timeout_ms);
    let app = app.layer(axum::Extension(BodyTimeout(Duration::from_millis(
        limits.body_timeout_ms,
    ))));
    loop {
        let accepted = tokio::select! {
            _ = shutdown.wait() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors, or a connection reset before it was taken: wait a
                // moment rather than spin, and go on.
                tracing::warn!(error = %e, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tokio::spawn(refuse(stream));
            continue;
        };
        let (app, shutdown, tls) = (app.clone(), shutdown.clone(), tls.clone());
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            match tls {
                None => serve(IdleIo::new(stream, idle), app, peer, header, shutdown).await,
                // The handshake runs on the header clock: a client that never finishes it
                // is dropped.
                Some(acceptor) => match tokio::time::timeout(header, acceptor.accept(stream)).await
                {
                    Ok(Ok(tls)) => serve(IdleIo::new(tls, idle), app, peer, header, shutdown).await,
                    Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!(%peer, "TLS handshake too slow"),
                },
            }
            drop(slot);
        });
    }
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(DRAIN, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the drain limit; closing them");
    }
    Ok(())
}

/// Serves HTTP/1.1 on one connection until it closes, or until `shutdown` (then the request
/// in flight is finished first). Each request carries the [`Peer`] it came from.
async fn serve<I>(io: I, app: Router, peer: SocketAddr, header: Duration, shutdown: Shutdown)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut req| {
        req.extensions_mut().insert(Peer(peer));
        app.clone().call(req)
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header)
        .serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = shutdown.wait() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// The TLS acceptor `server.tls_cert` and `server.tls_key` make; none when they are unset.
pub fn tls(limits: &ServerConfig) -> Result<Option<TlsAcceptor>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let (Some(cert), Some(key)) = (&limits.tls_cert, &limits.tls_key) else {
        return Ok(None);
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect())
        .map_err(|e| format!("server.tls_cert {}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "server.tls_cert {}: holds no certificate",
            cert.display()
        ));
    }
    let private = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("server.tls_key {}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, private))
        .map_err(|e| format!("server.tls_cert and server.tls_key do not make a TLS server: {e}"))?;
    Ok(Some(TlsAcceptor::from(Arc::new(config))))
}

/// Answers a connection past the cap and closes it.
async fn refuse(mut stream: TcpStream) {
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(busy().as_bytes())).await;
    let _ = stream.shutdown().await;
}

/// A stream that fails with `TimedOut` once neither side has moved a byte for `idle`:
/// an idle keep-alive connection, or a client that stopped sending, is closed.
pub struct IdleIo<T> {
    inner: T,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl<T> IdleIo<T> {
    /// Wraps `inner`.
    pub fn new(inner: T, idle: Duration) -> Self {
        Self {
            inner,
            idle,
            deadline: Box::pin(tokio::time::sleep(idle)),
        }
    }

    fn moved(&mut self) {
        let at = Instant::now() + self.idle;
        self.deadline.as_mut().reset(at);
    }

    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        self.deadline.as_mut().poll(cx).is_ready()
    }
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "connection idle too long")
}

impl<T: AsyncRead + Unpin> AsyncRead for IdleIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    self.moved();
                }
                Poll::Ready(r)
            }
            Poll::Pending if self.expired(cx) => Poll::Ready(Err(timed_out())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for IdleIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, data) {
            Poll::Ready(r) => {
                if matches!(r, Ok(n) if n > 0) {
                    self.moved();
                }
                Poll::Ready(r)
            }
            Poll::Pending if self.expired(cx) => Poll::Ready(Err(timed_out())),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_busy_answer_is_well_formed() {
        let text = busy();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(length, body.len());
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            (v["status"].as_u64(), v["code"].as_str()),
            (Some(503), Some("SERVER_BUSY"))
        );
    }
}
