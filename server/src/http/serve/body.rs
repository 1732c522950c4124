//! The request body's deadline: the whole body must arrive within
//! `body_timeout_secs` of the request's head. Counted as a total, not
//! between chunks, so a client that trickles a byte at a time cannot keep a
//! request (and its connection) open for the hours the 64 KiB limit would
//! otherwise allow. A body that ends in time costs no timer at all unless
//! it had to be waited for.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// The error a handler reading a late body gets (its status: 408,
/// [`crate::AppError::RequestTimeout`]).
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0} seconds")]
pub struct BodyTimeout(pub u64);

/// A body that fails with [`BodyTimeout`] once its deadline passes.
pub(super) struct DeadlineBody<B> {
    inner: B,
    deadline: Instant,
    limit: Duration,
    /// Made the first time the body has to be waited for.
    sleep: Option<Pin<Box<Sleep>>>,
    timed_out: bool,
}

impl<B> DeadlineBody<B> {
    pub(super) fn new(inner: B, limit: Duration) -> Self {
        Self {
            inner,
            deadline: Instant::now() + limit,
            limit,
            sleep: None,
            timed_out: false,
        }
    }
}

impl<B> Body for DeadlineBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<crate::error::BoxError>,
{
    type Data = Bytes;
    type Error = crate::error::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if this.timed_out {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(Into::into))),
            Poll::Pending => {
                let deadline = this.deadline;
                let sleep = this
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        this.timed_out = true;
                        Poll::Ready(Some(Err(BodyTimeout(this.limit.as_secs()).into())))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.timed_out || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Whether `error` (or one of its sources) is a [`BodyTimeout`]: how a
/// rejection that wraps it is told from a broken body.
pub fn is_body_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if e.is::<BodyTimeout>() {
            return true;
        }
        current = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    #[tokio::test]
    async fn a_body_that_stops_arriving_fails_at_its_deadline_and_a_whole_one_passes() {
        let whole = DeadlineBody::new(
            http_body_util::Full::new(Bytes::from_static(b"{}")),
            Duration::from_secs(5),
        );
        assert_eq!(whole.collect().await.unwrap().to_bytes(), "{}");

        let (mut sender, body) =
            http_body_util::channel::Channel::<Bytes, std::convert::Infallible>::new(1);
        sender
            .send_data(Bytes::from_static(b"{\"a\":"))
            .await
            .unwrap();
        let late = DeadlineBody::new(body, Duration::from_millis(50));
        let error = late
            .collect()
            .await
            .map(|_| ())
            .expect_err("the deadline passed");
        assert!(is_body_timeout(error.as_ref()), "{error}");
        drop(sender);
        assert_eq!(
            BodyTimeout(5).to_string(),
            "the request body did not arrive within 5 seconds"
        );
    }
}
