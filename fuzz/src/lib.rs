//! Shared by the fuzz targets: an input that scripts both the bytes and the
//! I/O (chunk sizes, `Pending`, errors), and a reader and writer that play it.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

/// Splits fuzz input into a control stream and a data stream: the first
/// byte says how long the control part is.
pub fn split(input: &[u8]) -> (&[u8], &[u8]) {
    match input.split_first() {
        Some((&n, rest)) => rest.split_at((n as usize).min(rest.len())),
        None => (&[], &[]),
    }
}

/// Cycles through control bytes, with a default when there are none.
pub struct Control<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Control<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Control { bytes, at: 0 }
    }
    pub fn next(&mut self) -> u8 {
        if self.bytes.is_empty() {
            return 200;
        }
        let b = self.bytes[self.at % self.bytes.len()];
        self.at += 1;
        b
    }
}

/// What a scripted step did, as the oracle needs to know.
pub const ERR_KIND: io::ErrorKind = io::ErrorKind::ConnectionReset;

/// A reader delivering `data` in chunks chosen by the control stream, with
/// `Pending` (self-waking), `Interrupted` and a few `ConnectionReset`
/// errors in between. Panics if handed an empty slice. After its data it
/// answers every read with end of stream, as a socket does: the reader asks
/// again on each call that needs bytes (`reads_after_end` counts them).
pub struct ScriptedReader<'a> {
    data: &'a [u8],
    control: Control<'a>,
    errors_left: u32,
    /// Reads answered with end of stream.
    pub reads_after_end: u64,
    /// Non-data steps in a row; capped so the script always progresses.
    stalls: u32,
    /// How many times `poll_read` was called: an operation whose answer is
    /// already buffered must not call it.
    pub polls: u64,
}

impl<'a> ScriptedReader<'a> {
    pub fn new(data: &'a [u8], control: &'a [u8]) -> Self {
        ScriptedReader {
            data,
            control: Control::new(control),
            errors_left: 4,
            reads_after_end: 0,
            stalls: 0,
            polls: 0,
        }
    }

    /// Bytes not delivered yet: `data.len() - remaining()` bytes went to the
    /// reader, so they are either consumed or still buffered there.
    pub fn remaining(&self) -> usize {
        self.data.len()
    }
}

impl AsyncRead for ScriptedReader<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        assert!(!buf.is_empty(), "handed an empty slice");
        self.polls += 1;
        let c = self.control.next();
        let this = &mut *self;
        if let Some(stop) = script_step(c, &mut this.stalls, &mut this.errors_left, cx) {
            return stop;
        }
        let n = (c as usize / 16 + 1).min(buf.len()).min(self.data.len());
        if n == 0 {
            self.reads_after_end += 1;
            return Poll::Ready(Ok(0));
        }
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Poll::Ready(Ok(n))
    }
}

/// What one scripted read does before it delivers bytes: `Some` to answer
/// `Pending` (self-waking), `Interrupted` or an error instead; `None` to
/// deliver up to `c / 16 + 1` bytes. At most four stalls in a row, so the
/// script always progresses.
fn script_step<T>(
    c: u8,
    stalls: &mut u32,
    errors_left: &mut u32,
    cx: &mut Context<'_>,
) -> Option<Poll<io::Result<T>>> {
    let stalled = *stalls >= 4;
    *stalls = if stalled { 0 } else { *stalls + 1 };
    match c % 16 {
        _ if stalled => {}
        0 | 1 => {
            cx.waker().wake_by_ref();
            return Some(Poll::Pending);
        }
        2 => return Some(Poll::Ready(Err(io::ErrorKind::Interrupted.into()))),
        3 if *errors_left > 0 => {
            *errors_left -= 1;
            return Some(Poll::Ready(Err(ERR_KIND.into())));
        }
        _ => {}
    }
    *stalls = 0;
    None
}

/// [`ScriptedReader`]'s script, owning its bytes, as compio's owned-buffer
/// `AsyncRead` (a completion source: `intake::CompioIo` needs a `'static`
/// one). Reads write at the start of the buffer they are given, into memory
/// that may be uninitialized, and set its length, as the kernel's do.
pub struct OwnedScriptedReader {
    data: Vec<u8>,
    at: usize,
    control: Vec<u8>,
    control_at: usize,
    errors_left: u32,
    stalls: u32,
}

impl OwnedScriptedReader {
    pub fn new(data: &[u8], control: &[u8]) -> Self {
        OwnedScriptedReader {
            data: data.to_vec(),
            at: 0,
            control: control.to_vec(),
            control_at: 0,
            errors_left: 4,
            stalls: 0,
        }
    }

    fn poll_into(
        &mut self,
        cx: &mut Context<'_>,
        dst: &mut [std::mem::MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        assert!(!dst.is_empty(), "handed an empty buffer");
        let c = Control {
            bytes: &self.control,
            at: self.control_at,
        }
        .next();
        self.control_at += 1;
        if let Some(stop) = script_step(c, &mut self.stalls, &mut self.errors_left, cx) {
            return stop;
        }
        let rest = &self.data[self.at..];
        let n = (c as usize / 16 + 1).min(dst.len()).min(rest.len());
        for (d, s) in dst.iter_mut().zip(&rest[..n]) {
            d.write(*s);
        }
        self.at += n;
        Poll::Ready(Ok(n))
    }
}

impl compio_io::AsyncRead for OwnedScriptedReader {
    async fn read<B: compio_buf::IoBufMut>(
        &mut self,
        mut buf: B,
    ) -> compio_buf::BufResult<usize, B> {
        let got = std::future::poll_fn(|cx| self.poll_into(cx, buf.as_uninit())).await;
        if let Ok(n) = got {
            // SAFETY: `poll_into` initialized the buffer's first `n` bytes.
            unsafe { compio_buf::SetLen::set_len(&mut buf, n) };
        }
        compio_buf::BufResult(got, buf)
    }
}

/// A writer accepting chunk sizes chosen by the control stream, with
/// `Pending` and a few errors; records what it accepted.
pub struct ScriptedWriter<'a> {
    pub out: Vec<u8>,
    control: Control<'a>,
    errors_left: u32,
    pub closes: u32,
    stalls: u32,
}

impl<'a> ScriptedWriter<'a> {
    pub fn new(control: &'a [u8]) -> Self {
        ScriptedWriter {
            out: Vec::new(),
            control: Control::new(control),
            errors_left: 4,
            closes: 0,
            stalls: 0,
        }
    }
}

impl AsyncWrite for ScriptedWriter<'_> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let c = self.control.next();
        let stalled = self.stalls >= 4;
        self.stalls = if stalled { 0 } else { self.stalls + 1 };
        match c % 16 {
            _ if stalled => {}
            0 => {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            1 if self.errors_left > 0 => {
                self.errors_left -= 1;
                return Poll::Ready(Err(ERR_KIND.into()));
            }
            _ => {}
        }
        self.stalls = 0;
        let n = (c as usize * 3 + 1).min(buf.len());
        self.out.extend_from_slice(&buf[..n]);
        Poll::Ready(Ok(n))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.closes += 1;
        Poll::Ready(Ok(()))
    }
}

/// Retries `op` while it fails with the scripted error: errors must never
/// lose bytes, so a retry continues where the failed call stopped.
#[macro_export]
macro_rules! retry {
    ($op:expr) => {
        loop {
            match $op {
                Err(intake::Error::Io(e)) if e.kind() == $crate::ERR_KIND => continue,
                other => break other,
            }
        }
    };
}

/// Polls `fut` with a no-op waker until it is ready, or at most `budget`
/// times (then drops it: cancellation). The scripted readers and writers
/// wake themselves, so an unlimited run always ends; a future that stays
/// pending for 100,000 polls is a liveness bug.
pub fn drive<F: std::future::Future>(fut: F, budget: Option<u32>) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    for _ in 0..budget.unwrap_or(100_000) {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return Some(out);
        }
    }
    assert!(budget.is_some(), "still pending after 100,000 polls");
    None
}
