//! One body type for everything the gateway sends: a streamed body passed through from the
//! other side (the caller's, under the body-read timeout), a small body it made itself, or
//! nothing.

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;
use hyper::body::Incoming;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

pub type BodyError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug)]
pub enum GatewayBody {
    /// Streamed through frame by frame, never buffered whole.
    Streaming(Incoming),
    /// The caller's request body on its way to the backend.
    Caller(CallerBody),
    /// Produced by the gateway (error bodies, status answers).
    Full(Full<Bytes>),
    Empty,
    /// Another body whose bytes are counted on the way out (bandwidth quotas).
    Counted(Box<CountedBody>),
}

impl GatewayBody {
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        Self::Full(Full::new(bytes.into()))
    }

    /// This body, counted: `done` gets the number of bytes sent once the body is over —
    /// sent whole, failed, or dropped because the caller went away.
    pub fn counted(self, done: impl FnOnce(u64) + Send + 'static) -> Self {
        Self::Counted(Box::new(CountedBody {
            inner: self,
            sent: 0,
            done: Some(Box::new(done)),
        }))
    }
}

/// See [`GatewayBody::counted`].
pub struct CountedBody {
    inner: GatewayBody,
    sent: u64,
    done: Option<Box<dyn FnOnce(u64) + Send>>,
}

impl fmt::Debug for CountedBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CountedBody")
            .field("inner", &self.inner)
            .field("sent", &self.sent)
            .finish_non_exhaustive()
    }
}

impl CountedBody {
    fn finish(&mut self) {
        if let Some(done) = self.done.take() {
            done(self.sent);
        }
    }
}

impl Drop for CountedBody {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Body for GatewayBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        // Every variant is Unpin, so the enum is too and plain re-borrowing is sound.
        match self.get_mut() {
            Self::Streaming(body) => Pin::new(body).poll_frame(cx).map_err(Into::into),
            Self::Caller(body) => Pin::new(body).poll_frame(cx),
            Self::Full(body) => Pin::new(body)
                .poll_frame(cx)
                .map_err(|never| match never {}),
            Self::Empty => Poll::Ready(None),
            Self::Counted(counted) => {
                let polled = Pin::new(&mut counted.inner).poll_frame(cx);
                match &polled {
                    Poll::Ready(Some(Ok(frame))) => {
                        if let Some(data) = frame.data_ref() {
                            counted.sent = counted.sent.saturating_add(data.len() as u64);
                        }
                    }
                    Poll::Ready(None | Some(Err(_))) => counted.finish(),
                    Poll::Pending => {}
                }
                polled
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Streaming(body) => body.is_end_stream(),
            Self::Caller(body) => body.inner.is_end_stream(),
            Self::Full(body) => body.is_end_stream(),
            Self::Empty => true,
            Self::Counted(counted) => counted.inner.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Streaming(body) => body.size_hint(),
            Self::Caller(body) => body.inner.size_hint(),
            Self::Full(body) => body.size_hint(),
            Self::Empty => SizeHint::with_exact(0),
            Self::Counted(counted) => counted.inner.size_hint(),
        }
    }
}

/// The caller stopped sending its request body: nothing arrived for the body-read timeout
/// while the gateway was waiting for more (nginx's `client_body_timeout`, answered 408).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallerBodyTimeout(pub Duration);

impl fmt::Display for CallerBodyTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the caller sent nothing of its request body for {} s",
            self.0.as_secs_f64()
        )
    }
}

impl std::error::Error for CallerBodyTimeout {}

/// True when `error`, or any error it was caused by, is a [`CallerBodyTimeout`].
pub fn is_caller_body_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<CallerBodyTimeout>() {
            return true;
        }
        current = error.source();
    }
    false
}

/// The caller's request body, with a timeout between two reads. The clock runs only while
/// the gateway waits for the caller (a read that found nothing yet); a backend that is slow
/// to take the body does not count against the caller.
#[derive(Debug)]
pub struct CallerBody {
    inner: Incoming,
    timeout: Duration,
    /// Allocated at the first read that has to wait; most bodies arrive with their head.
    timer: Option<Pin<Box<Sleep>>>,
    waiting: bool,
}

impl CallerBody {
    pub fn new(inner: Incoming, timeout: Duration) -> Self {
        Self {
            inner,
            timeout,
            timer: None,
            waiting: false,
        }
    }
}

impl Body for CallerBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.waiting = false;
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => {
                let deadline = Instant::now() + this.timeout;
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if !this.waiting {
                    timer.as_mut().reset(deadline);
                    this.waiting = true;
                }
                if timer.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Some(Err(Box::new(CallerBodyTimeout(this.timeout)))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
