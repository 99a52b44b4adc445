//! What every view of a reader (`limited`, `chunked`) shares: it
//! dereferences to the reader, so every read operation works through it,
//! and its `AsyncRead` / `AsyncBufRead` are the reader's, within the view.
//! The view's own part (where it ends, what its drop restores) is in its
//! module.

/// Implements `Deref`/`DerefMut` to the `StreamReader` a view borrows (its
/// field `reader`), and futures-io's `AsyncRead` / `AsyncBufRead` through
/// it.
macro_rules! reader_view {
    ($view:ident) => {
        impl<R> ::std::ops::Deref for $view<'_, R> {
            type Target = $crate::StreamReader<R>;

            fn deref(&self) -> &$crate::StreamReader<R> {
                self.reader
            }
        }

        impl<R> ::std::ops::DerefMut for $view<'_, R> {
            fn deref_mut(&mut self) -> &mut $crate::StreamReader<R> {
                self.reader
            }
        }

        impl<R: $crate::io::Source + Unpin> ::futures_io::AsyncRead for $view<'_, R> {
            fn poll_read(
                mut self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                ::std::pin::Pin::new(&mut **self).poll_read(cx, buf)
            }
        }

        impl<R: $crate::io::Source + Unpin> ::futures_io::AsyncBufRead for $view<'_, R> {
            fn poll_fill_buf(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<&[u8]>> {
                ::std::pin::Pin::new(&mut **self.get_mut()).poll_fill_buf(cx)
            }

            fn consume(mut self: ::std::pin::Pin<&mut Self>, amt: usize) {
                ::std::pin::Pin::new(&mut **self).consume(amt);
            }
        }
    };
}

pub(super) use reader_view;
