//! The clock of one caller connection, and how the gateway takes connections back.
//!
//! A caller connection is, at any moment, either **in a request** (its head was read and
//! the gateway is answering it) or **waiting** for the next request head. Waiting is bounded
//! the way nginx and HAProxy bound it:
//!
//! * a connection that has sent none of the next request is **idle**: it is closed quietly
//!   after the keep-alive timeout (the first request of a new connection gets the
//!   header-read timeout instead, as nginx's `client_header_timeout`);
//! * a connection that has sent part of a request head must finish it within the
//!   **header-read timeout** from its first byte, or it is answered `408 Request Timeout`
//!   and closed.
//!
//! The request *body* has its own timeout between two reads (see [`crate::body::CallerBody`]):
//! waiting for a backend is not the caller's fault and is bounded by the backend timeout.
//!
//! [`GuardedIo`] wraps the socket and enforces the two waiting timeouts in its reads (hyper
//! reads the socket exactly when it waits for a head). The service tells it when a request
//! starts ([`ConnectionState::enter_request`]) and the response body's drop tells it when the
//! request ended ([`Tracked`]).
//!
//! **HTTP/2.** A multiplexed connection has no "next head": between streams the caller may
//! send control frames (window updates, pings, settings) at any time. Once the connection is
//! known to speak HTTP/2 ([`ConnectionState::serve_multiplexed`]), bytes no longer start the
//! header-read clock: a connection with no open stream is idle until the keep-alive timeout,
//! whatever control frames it sends, and then closed (a stream whose headers dribble in
//! is bounded by the same deadline, since it is not in a request until they are whole).
//!
//! **At `max_connections`.** A new connection is accepted and then needs a slot. If none is
//! free, the [`ConnectionRegistry`] takes one back from the connection that has been waiting
//! longest (idle keep-alive or a head still arriving; never one in a request), as nginx reuses
//! idle keep-alive connections when its worker connections run out. So a flood of slow or
//! idle connections cannot lock normal callers out: each new caller displaces the stalest
//! waiter. Only when every connection is in a request does a new one wait for a slot.

use crate::body::BodyError;
use atomic_waker::AtomicWaker;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// What a connection that timed out mid-head is told before it is closed.
const REQUEST_TIMEOUT_RESPONSE: &[u8] =
    b"HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";

/// How long a caller connection may wait in each state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionTimeouts {
    /// From a request head's first byte (or from accept, for the first request) to its end.
    pub header_read: Duration,
    /// An open connection between requests that sends nothing.
    pub keep_alive: Duration,
    /// Between two reads of a request body the gateway is waiting for.
    pub body_read: Duration,
}

impl Default for ConnectionTimeouts {
    /// nginx's defaults are 60 s (header, body) and 75 s (keep-alive); HAProxy's examples
    /// use 10 s for the head. These sit between: a slow mobile caller still gets through,
    /// a stalled one is gone within half a minute.
    fn default() -> Self {
        Self {
            header_read: Duration::from_secs(30),
            keep_alive: Duration::from_secs(75),
            body_read: Duration::from_secs(60),
        }
    }
}

/// What the serving side and the socket reader of one connection share.
///
/// The request path touches it with a few relaxed atomic stores and no wake-up: the reader
/// learns that a request ended from `requests_ended` the next time it reads, and its timer
/// (armed at or before the keep-alive deadline, see `armed_until`) makes sure it reads.
#[derive(Debug)]
pub struct ConnectionState {
    /// The registry's origin, against which the millisecond stamps below count.
    origin: Instant,
    /// Requests being answered: 0 or 1 on HTTP/1.1, up to the stream limit on HTTP/2.
    in_flight: AtomicUsize,
    /// How many requests ended on this connection: the reader compares it with the count it
    /// saw last, so a request answered within one poll (never seen as in flight) still counts.
    requests_ended: AtomicU64,
    /// Set by the registry: close as soon as the connection is waiting.
    reclaim: AtomicBool,
    /// The connection speaks HTTP/2: bytes between requests are control frames, not a head.
    multiplexed: AtomicBool,
    /// Milliseconds since `origin` at which the connection started waiting, plus one; only
    /// meaningful while no request is in flight.
    waiting_since: AtomicU64,
    /// Milliseconds since `origin`, plus one, at which the reader's timer fires next.
    armed_until: AtomicU64,
    /// The reader's task, woken to act on `reclaim` (or on a request's end when no timer
    /// would wake it).
    waker: AtomicWaker,
}

impl ConnectionState {
    fn new(origin: Instant, now: Instant) -> Self {
        Self {
            origin,
            in_flight: AtomicUsize::new(0),
            requests_ended: AtomicU64::new(0),
            reclaim: AtomicBool::new(false),
            multiplexed: AtomicBool::new(false),
            waiting_since: AtomicU64::new(millis_since(origin, now)),
            armed_until: AtomicU64::new(0),
            waker: AtomicWaker::new(),
        }
    }

    /// The connection is about to be served as HTTP/2 (see the module's doc).
    pub fn serve_multiplexed(&self) {
        self.multiplexed.store(true, Ordering::Relaxed);
    }

    /// The service saw a complete request head.
    pub fn enter_request(&self) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
    }

    fn leave_request(&self) {
        let now = millis_since(self.origin, Instant::now());
        self.waiting_since.store(now, Ordering::Relaxed);
        self.requests_ended.fetch_add(1, Ordering::Release);
        let was_last = self.in_flight.fetch_sub(1, Ordering::AcqRel) == 1;
        // hyper may not read again on its own after the response (its last read, a check
        // for a closed connection, is parked on the socket). The reader's timer is armed at
        // or before the keep-alive deadline and wakes it; only when that timer has already
        // fired is a wake-up needed here, so the keep-alive clock starts.
        if was_last && self.armed_until.load(Ordering::Relaxed) <= now {
            self.waker.wake();
        }
    }

    /// When the connection started waiting (the end of its last request, or its accept).
    fn waiting_since(&self) -> Instant {
        let millis = self.waiting_since.load(Ordering::Relaxed).saturating_sub(1);
        self.origin + Duration::from_millis(millis)
    }
}

/// `at` as milliseconds since `origin`, plus one (so 0 can mean "never").
fn millis_since(origin: Instant, at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(origin).as_millis())
        .unwrap_or(u64::MAX - 1)
        .saturating_add(1)
}

/// Shards of the registry: a connection's id picks one, so workers accepting at once rarely
/// meet on a lock (and a lock is taken per connection, never per request).
const SHARDS: usize = 16;

/// Every open caller connection of the gateway (all workers), and the slots they hold.
#[derive(Debug)]
pub struct ConnectionRegistry {
    origin: Instant,
    next_id: AtomicU64,
    live: [Mutex<HashMap<u64, Arc<ConnectionState>>>; SHARDS],
}

impl Default for ConnectionRegistry {
    fn default() -> Self {
        Self {
            origin: Instant::now(),
            next_id: AtomicU64::new(0),
            live: std::array::from_fn(|_| Mutex::new(HashMap::new())),
        }
    }
}

fn shard_of(id: u64) -> usize {
    // `SHARDS` is small: the remainder always fits.
    usize::try_from(id % SHARDS as u64).unwrap_or(0)
}

/// A connection's place in the registry; leaving it (drop) removes the connection.
#[derive(Debug)]
pub struct Registration {
    registry: Arc<ConnectionRegistry>,
    id: u64,
    pub state: Arc<ConnectionState>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(Ok(mut live)) = self.registry.live.get(shard_of(self.id)).map(Mutex::lock) {
            live.remove(&self.id);
        }
    }
}

impl ConnectionRegistry {
    pub fn register(self: &Arc<Self>) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let state = Arc::new(ConnectionState::new(self.origin, Instant::now()));
        if let Some(Ok(mut live)) = self.live.get(shard_of(id)).map(Mutex::lock) {
            live.insert(id, state.clone());
        }
        Registration {
            registry: self.clone(),
            id,
            state,
        }
    }

    /// Asks the connection that has been waiting longest to close, to free its slot for a
    /// new caller. Returns false when every connection is in a request.
    pub fn reclaim_one(&self) -> bool {
        // Two workers may pick the same connection at once: the one whose swap sets the
        // flag has it, the other looks again (each reclaim must free its own slot).
        loop {
            let Some(state) = self.stalest_waiting() else {
                return false;
            };
            if !state.reclaim.swap(true, Ordering::AcqRel) {
                state.waker.wake();
                return true;
            }
        }
    }

    /// The connection that has waited longest for a request and is not being reclaimed.
    /// Waits are kept in milliseconds, so many connections opened in a burst wait "as long"
    /// as each other: among them the one registered first goes (ids grow with registration),
    /// never one just accepted whose head is still on its way.
    fn stalest_waiting(&self) -> Option<Arc<ConnectionState>> {
        let mut stalest: Option<((u64, u64), Arc<ConnectionState>)> = None;
        for shard in &self.live {
            let Ok(live) = shard.lock() else { continue };
            for (&id, state) in live.iter() {
                let since = state.waiting_since.load(Ordering::Relaxed);
                let waiting = since != 0
                    && state.in_flight.load(Ordering::Relaxed) == 0
                    && !state.reclaim.load(Ordering::Acquire);
                let age = (since, id);
                if waiting && stalest.as_ref().is_none_or(|(oldest, _)| age < *oldest) {
                    stalest = Some((age, state.clone()));
                }
            }
        }
        stalest.map(|(_, state)| state)
    }
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Waiting {
        deadline: Instant,
        /// Part of a request head has arrived.
        started: bool,
    },
    InRequest,
    /// Timed out or reclaimed: every further read is the end of the stream.
    Closed,
}

/// The caller's socket with the waiting timeouts of [`ConnectionTimeouts`] applied to its
/// reads.
///
/// **One timer, rarely moved.** Deadlines mostly move later (each answered request pushes
/// the keep-alive deadline on), and moving a tokio timer costs a trip to the timer wheel. So
/// the timer stays where it is while it is at or before the deadline; when it fires early,
/// it is moved to the deadline then. It is moved earlier at once only when a head starts
/// arriving in pieces (the header-read deadline is the nearer one). Under load this is one
/// timer move per connection per keep-alive period instead of one per request.
pub struct GuardedIo<S> {
    inner: S,
    registration: Registration,
    timeouts: ConnectionTimeouts,
    phase: Phase,
    timer: Pin<Box<Sleep>>,
    armed_for: Instant,
    /// `requests_ended` of the state when the reader last looked.
    ended_seen: u64,
    /// A request was answered on this connection already.
    served_one: bool,
    /// Tell a caller whose head timed out `408` (not on TLS: the bytes would not be TLS).
    answer_408: bool,
}

impl<S> GuardedIo<S> {
    /// A connection accepted just now: its first head must arrive within the header-read
    /// timeout.
    pub fn new(inner: S, registration: Registration, timeouts: ConnectionTimeouts) -> Self {
        let deadline = Instant::now() + timeouts.header_read;
        let io = Self {
            inner,
            registration,
            timeouts,
            phase: Phase::Waiting {
                deadline,
                started: false,
            },
            timer: Box::pin(tokio::time::sleep_until(deadline.into())),
            armed_for: deadline,
            ended_seen: 0,
            served_one: false,
            answer_408: true,
        };
        io.publish_armed();
        io
    }

    pub fn state(&self) -> &Arc<ConnectionState> {
        &self.registration.state
    }

    /// For a socket that carries TLS: a timed-out head closes the connection without the
    /// plain-text `408`.
    pub fn without_408(mut self) -> Self {
        self.answer_408 = false;
        self
    }

    /// Moves the timer to `at` and registers this task with it.
    fn arm(&mut self, at: Instant, cx: &mut Context<'_>) -> Poll<()> {
        self.timer.as_mut().reset(at.into());
        self.armed_for = at;
        self.publish_armed();
        self.timer.as_mut().poll(cx)
    }

    /// Tells `leave_request` when the timer fires next.
    fn publish_armed(&self) {
        let state = &self.registration.state;
        state.armed_until.store(
            millis_since(state.origin, self.armed_for),
            Ordering::Relaxed,
        );
    }

    /// Follows the service's view: a request began, or one ended since the last look.
    fn sync_phase(&mut self) {
        let state = &self.registration.state;
        if state.in_flight.load(Ordering::Acquire) > 0 {
            self.phase = Phase::InRequest;
            return;
        }
        let ended = state.requests_ended.load(Ordering::Acquire);
        if ended != self.ended_seen || matches!(self.phase, Phase::InRequest) {
            // A request ended (perhaps one answered before the reader ever saw it start):
            // the connection is idle from that moment on.
            self.ended_seen = ended;
            self.served_one = true;
            self.phase = Phase::Waiting {
                deadline: state.waiting_since() + self.timeouts.keep_alive,
                started: false,
            };
        }
    }
}

impl<S: AsyncWrite + Unpin> GuardedIo<S> {
    /// Ends a waiting connection: a caller that had started a head is told 408 (best effort,
    /// without waiting for the socket), an idle one is closed quietly.
    fn expire(&mut self, cx: &mut Context<'_>, started: bool) -> Poll<io::Result<()>> {
        self.phase = Phase::Closed;
        if started {
            if self.answer_408 {
                let _ = Pin::new(&mut self.inner).poll_write(cx, REQUEST_TIMEOUT_RESPONSE);
                let _ = Pin::new(&mut self.inner).poll_flush(cx);
            }
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the request head did not arrive in time",
            )));
        }
        Poll::Ready(Ok(()))
    }

    /// The socket has nothing for a waiting connection: sleep until the deadline (see the
    /// type's doc for why the timer lags behind it) or expire now.
    fn wait_for_deadline(
        &mut self,
        cx: &mut Context<'_>,
        deadline: Instant,
        started: bool,
    ) -> Poll<io::Result<()>> {
        if deadline < self.armed_for {
            if self.arm(deadline, cx).is_ready() {
                return self.expire(cx, started);
            }
            return Poll::Pending;
        }
        if self.timer.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        // The timer fired: at the deadline, or early because the deadline moved on since.
        if Instant::now() >= deadline || self.arm(deadline, cx).is_ready() {
            return self.expire(cx, started);
        }
        Poll::Pending
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for GuardedIo<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.sync_phase();
        let (deadline, started) = match this.phase {
            Phase::Closed => return Poll::Ready(Ok(())),
            Phase::InRequest => {
                let read = Pin::new(&mut this.inner).poll_read(cx, buf);
                if read.is_pending() {
                    // Woken to act on a reclaim once the request is over.
                    this.registration.state.waker.register(cx.waker());
                    // Keep a wake-up scheduled no later than the keep-alive deadline of a
                    // request that ends now, so the reader looks again after it. (Polling
                    // the timer also registers it the first time.)
                    if this.timer.as_mut().poll(cx).is_ready() {
                        let _ = this.arm(Instant::now() + this.timeouts.keep_alive, cx);
                    }
                }
                return read;
            }
            Phase::Waiting { deadline, started } => (deadline, started),
        };
        let before = buf.filled().len();
        if this.registration.state.reclaim.load(Ordering::Relaxed) {
            // Taken back before the gateway read what the caller sent: whatever has arrived
            // says whether a head had started (then 408) or the connection was idle.
            let arrived = matches!(
                Pin::new(&mut this.inner).poll_read(cx, buf),
                Poll::Ready(Ok(()))
            ) && buf.filled().len() > before;
            return this.expire(cx, started || arrived);
        }
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let multiplexed = this.registration.state.multiplexed.load(Ordering::Relaxed);
                if !started && !multiplexed && buf.filled().len() > before {
                    // The first byte of a head: from now on it must arrive whole in time. (A
                    // new connection's clock has run since accept and keeps running.)
                    let deadline = if this.served_one {
                        Instant::now() + this.timeouts.header_read
                    } else {
                        deadline
                    };
                    this.phase = Phase::Waiting {
                        deadline,
                        started: true,
                    };
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => {
                let state = &this.registration.state;
                state.waker.register(cx.waker());
                if state.reclaim.load(Ordering::Relaxed) {
                    return this.expire(cx, started);
                }
                this.wait_for_deadline(cx, deadline, started)
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for GuardedIo<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// A response body that tells its connection, when hyper is done with it (written or
/// abandoned), that the request is over and the connection waits again.
pub struct Tracked<B> {
    inner: B,
    state: Arc<ConnectionState>,
}

impl<B> Tracked<B> {
    pub fn new(inner: B, state: Arc<ConnectionState>) -> Self {
        Self { inner, state }
    }
}

impl<B> Drop for Tracked<B> {
    fn drop(&mut self) {
        self.state.leave_request();
    }
}

impl<B: Body<Data = Bytes, Error = BodyError> + Unpin> Body for Tracked<B> {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_connections_gives_up_the_first_registered_not_the_newest() {
        let registry = Arc::new(ConnectionRegistry::default());
        let older: Vec<Registration> = (0..40).map(|_| registry.register()).collect();
        let newest = registry.register();
        // All within the same few milliseconds: the waits tie, the order of registration
        // decides — whatever order the shards are walked in.
        for expected in &older {
            assert!(registry.reclaim_one());
            assert!(expected.state.reclaim.load(Ordering::Acquire));
            assert!(!newest.state.reclaim.load(Ordering::Acquire));
        }
        assert!(registry.reclaim_one());
        assert!(newest.state.reclaim.load(Ordering::Acquire));
        assert!(!registry.reclaim_one(), "nothing is left waiting");
    }
}
