//! `decode`: one item of any protocol, through a [`Decoder`].

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::io::Source;

use super::{poll_fill, StreamReader};
use crate::buffer::{DecodeSession, Fill};
use crate::codec::{DecodeBuf, Decoder};
use crate::future::named_future;
use crate::Error;

impl<R: Source> StreamReader<R> {
    /// The polling core of [`decode`](StreamReader::decode).
    ///
    /// Decodes what is already buffered before polling the inner reader; a
    /// decoder that asked for `n` bytes is not called again before `n` are
    /// buffered. `Ok(None)` means the stream ended cleanly.
    ///
    /// Scan progress and the need hint carry over from the last decoding
    /// run on this reader: a [`decode`](StreamReader::decode) call or a
    /// [`FramedRead`](crate::frame::FramedRead) each start a run of their
    /// own, so call this with the decoder of the run under way.
    #[inline(always)]
    pub fn poll_decode<D: Decoder>(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        decoder: &mut D,
    ) -> Poll<Result<Option<D::Item>, Error>> {
        let mut this = self.project();
        loop {
            if this.buf.len() >= this.buf.decode_need() {
                let mut window = DecodeBuf::new(this.buf.decode_view());
                let item = decoder.decode(&mut window)?;
                let hint = window.needed();
                if let Some(item) = item {
                    this.buf.set_decode_need(0);
                    return Poll::Ready(Ok(Some(item)));
                }
                // Not before at least one more byte, or the decoder's hint.
                let need = hint.unwrap_or(0).max(this.buf.len() + 1);
                this.buf.set_decode_need(need);
            }
            let need = this.buf.decode_need();
            match ready!(poll_fill(
                this.buf,
                this.inner.as_mut(),
                cx,
                Fill::Untrusted { need }
            )) {
                Ok(0) => {
                    this.buf.set_decode_need(0);
                    if this.buf.len() == 0 {
                        return Poll::Ready(Ok(None));
                    }
                    let mut window = DecodeBuf::new(this.buf.decode_view());
                    return Poll::Ready(decoder.decode_eof(&mut window));
                }
                Ok(_) => {}
                Err(e) => return Poll::Ready(Err(Error::Io(e))),
            }
        }
    }

    /// [`poll_decode`](Self::poll_decode) within `session`: if another run
    /// recorded progress since, this one starts again without it.
    #[inline(always)]
    pub(crate) fn poll_decode_in<D: Decoder>(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        session: DecodeSession,
        decoder: &mut D,
    ) -> Poll<Result<Option<D::Item>, Error>> {
        let mut this = self;
        this.as_mut().project().buf.resume_decode(session);
        this.poll_decode(cx, decoder)
    }
}

impl<R> StreamReader<R> {
    /// Starts a decoding run: scan progress and the need hint recorded by
    /// an earlier run (another decoder, perhaps at the same address) do not
    /// carry over.
    #[inline]
    pub(crate) fn begin_decode(&mut self) -> DecodeSession {
        self.buf.begin_decode()
    }
}

impl<R: Source + Unpin> StreamReader<R> {
    /// Decodes one item with `decoder`, any protocol (see [`Decoder`]).
    /// `Ok(None)` means the stream ended cleanly between items.
    ///
    /// # Errors
    ///
    /// Whatever the decoder returns; [`Error::UnexpectedEof`] (from the
    /// default [`Decoder::decode_eof`]) carrying leftover bytes if the
    /// stream ends inside an item; [`Error::Io`] if the inner reader fails
    /// (bytes stay buffered).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe as long as the decoder consumes bytes only when it
    /// returns an item (as `LengthPrefix` and `Delimited` do): nothing is
    /// consumed before an item is complete. A call made again after a drop
    /// starts its search afresh: it scans the buffered bytes once more.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// use intake::{frame::Delimited, StreamReader};
    ///
    /// let mut reader = StreamReader::new(&b"one;two;"[..]);
    /// let mut semis = Delimited::new(b";");
    /// assert_eq!(&reader.decode(&mut semis).await?.unwrap()[..], b"one;");
    /// assert_eq!(&reader.decode(&mut semis).await?.unwrap()[..], b"two;");
    /// assert!(reader.decode(&mut semis).await?.is_none());
    /// # Ok::<(), intake::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn decode<'a, D: Decoder>(&'a mut self, decoder: &'a mut D) -> Decode<'a, R, D> {
        // A new call is a new run: the scan progress and need hint of an
        // earlier call may belong to another decoder.
        let session = self.begin_decode();
        Decode::new(self, decoder, session)
    }
}

named_future! {
    /// Future of [`StreamReader::decode`].
    pub struct Decode<'a, R, D> {
        reader: &'a mut StreamReader<R>,
        decoder: &'a mut D,
        session: DecodeSession,
    }
    impl[R: Source + Unpin, D: Decoder] -> Result<Option<D::Item>, Error>;
    poll(|this, cx| Pin::new(&mut *this.reader).poll_decode_in(cx, this.session, this.decoder))
}
