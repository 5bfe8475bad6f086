//! Serving the app over HTTP: binds with a deep backlog, accepts connections up to a limit,
//! lets go of silent, slow and idle clients, and stops gracefully. The only module that knows
//! both the app and its web surface.

use crate::app::App;
use crate::config::Config;
use anyhow::Context as _;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// A running server: where it listens, and how to stop it.
pub struct Running {
    pub addr: std::net::SocketAddr,
    pub app: Arc<App>,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    pub async fn stop(self) -> std::io::Result<()> {
        self.app.stopping.send_replace(true);
        let _ = self.shutdown.send(());
        let served = self.task.await.unwrap_or(Ok(()));
        self.app.stop().await;
        served
    }
}

/// Builds the app, binds (`server.bind`, port 0 allowed) and serves in the background.
pub async fn start(config: Config) -> anyhow::Result<Running> {
    let listener = listen(config.server.bind)
        .with_context(|| format!("server.bind: cannot listen on {}", config.server.bind))?;
    let addr = listener.local_addr()?;
    let app = App::build(config).await?;
    app.spawn_workers();
    let router = crate::web::router(Arc::clone(&app), addr);
    let (shutdown, rx) = tokio::sync::oneshot::channel::<()>();
    let limits = Limits {
        header_timeout: Duration::from_secs(app.config.server.header_timeout_secs.max(1)),
        idle_timeout: Duration::from_secs(app.config.server.idle_timeout_secs.max(20)),
        max_connections: app.config.server.max_connections.max(1),
    };
    let task = tokio::spawn(serve(listener, router, limits, async {
        let _ = rx.await;
    }));
    Ok(Running {
        addr,
        app,
        shutdown,
        task,
    })
}

/// Pending connections the kernel holds while every served one is busy.
const BACKLOG: u32 = 4096;

/// Binds with a deep listen backlog, so a burst of connections waits instead of being refused.
fn listen(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

struct Limits {
    header_timeout: Duration,
    /// How long a connection may go without a byte either way (keep-alive, a stuck client).
    idle_timeout: Duration,
    max_connections: usize,
}

/// A connection that fails once nothing was read or written for `idle`: idle keep-alive
/// connections and stuck clients give their descriptor back. Event streams write a keep-alive
/// comment every 15 s, so they stay open.
struct IdleTimeout<T> {
    inner: T,
    idle: Duration,
    deadline: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl<T> IdleTimeout<T> {
    fn new(inner: T, idle: Duration) -> Self {
        Self {
            inner,
            idle,
            deadline: Box::pin(tokio::time::sleep(idle)),
        }
    }

    fn touch(&mut self) {
        let at = tokio::time::Instant::now() + self.idle;
        self.deadline.as_mut().reset(at);
    }

    fn expired(&mut self, cx: &mut std::task::Context<'_>) -> bool {
        self.deadline.as_mut().poll(cx).is_ready()
    }
}

impl<T: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for IdleTimeout<T> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::task::Poll;
        match std::pin::Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                self.touch();
                Poll::Ready(r)
            }
            Poll::Pending if self.expired(cx) => Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "connection idle",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for IdleTimeout<T> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let result = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        if result.is_ready() {
            self.touch();
        }
        result
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Accepts connections up to the limit and serves each with HTTP/1.1 or HTTP/2. A client gets
/// `header_timeout` to send each request's headers (an idle keep-alive connection is closed
/// after it), so slow or silent clients cannot exhaust the file descriptors. On shutdown, stops
/// accepting and lets the requests in flight finish.
async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: Limits,
    signal: impl Future<Output = ()>,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(20)));
    let builder = Arc::new(builder);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut signal = std::pin::pin!(signal);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut signal => break,
        };
        let (tcp, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, say: wait rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut signal => break,
        };
        // Event streams write small frames: send each at once rather than wait for an ACK.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        let builder = Arc::clone(&builder);
        let (first_byte, idle) = (limits.header_timeout, limits.idle_timeout);
        let watcher = graceful.watcher();
        let mut stopping = stop_rx.clone();
        tokio::spawn(async move {
            // A client that connects and says nothing is let go after the header timeout (or
            // at once when the server stops).
            let mut first = [0u8; 1];
            let spoke = tokio::select! {
                peeked = tokio::time::timeout(first_byte, tcp.peek(&mut first)) => matches!(peeked, Ok(Ok(n)) if n > 0),
                _ = stopping.changed() => false,
            };
            if !spoke {
                drop(permit);
                return;
            }
            let io = TokioIo::new(IdleTimeout::new(tcp, idle));
            let connection = builder
                .serve_connection_with_upgrades(io, service)
                .into_owned();
            let _ = watcher.watch(connection).await;
            drop(permit);
        });
    }
    drop(listener);
    stop_tx.send_replace(true);
    graceful.shutdown().await;
    Ok(())
}
