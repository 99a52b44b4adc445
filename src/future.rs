//! The scaffolding every named future shares, written once.
//!
//! `named_future!` declares a public future struct from its fields and
//! the call into its `poll_*` core. It adds what every one of them has: the
//! `#[must_use]` and `Debug` attributes, a `done` flag, a private `new`
//! taking the fields in order, `Future` (which sets
//! `done` once the core returns `Ready`) and `FusedFuture` (which reports
//! it). The futures are `Unpin` (they hold `&mut` borrows and plain
//! values), so the core is handed `&mut Self`.

/// Declares a named future:
///
/// ```text
/// named_future! {
///     /// Docs.
///     pub struct ReadExactly<'a, R> {
///         reader: &'a mut StreamReader<R>,
///         n: usize,
///     }
///     impl[R: Source + Unpin] -> Result<Bytes, Error>;
///     poll(|this, cx| Pin::new(&mut *this.reader).poll_read_exactly(cx, this.n))
/// }
/// ```
///
/// It is built with `ReadExactly::new(reader, n)`, the fields in order.
/// `impl[..]` lists the bounds of the type parameters for `Future` and
/// `FusedFuture` (the struct's own lifetime comes first by itself); `->`
/// names `Future::Output`; `poll` is an expression of type
/// `Poll<Output>` in which `this` is `&mut Self` and `cx` the context.
/// Polled again after `Ready`, the future calls its core again, as before.
macro_rules! named_future {
    (
        $(#[$attr:meta])*
        pub struct $name:ident<$lt:lifetime $(, $param:ident $(: ?$unsized:ident)?)*> {
            $($(#[$field_attr:meta])* $field:ident: $field_ty:ty,)*
        }
        impl[$($bounds:tt)*] -> $output:ty;
        poll(|$this:ident, $cx:ident| $poll:expr)
    ) => {
        $(#[$attr])*
        #[must_use = "futures do nothing unless you `.await` or poll them"]
        #[derive(Debug)]
        pub struct $name<$lt $(, $param $(: ?$unsized)?)*> {
            $($(#[$field_attr])* $field: $field_ty,)*
            /// Set once the future has returned `Ready` (`FusedFuture`).
            done: bool,
        }

        impl<$lt $(, $param $(: ?$unsized)?)*> $name<$lt $(, $param)*> {
            /// The future with its fields, not yet polled.
            #[inline]
            fn new($($field: $field_ty),*) -> Self {
                Self { $($field,)* done: false }
            }
        }

        impl<$lt, $($bounds)*> ::core::future::Future for $name<$lt $(, $param)*> {
            type Output = $output;

            #[inline(always)]
            fn poll(
                self: ::core::pin::Pin<&mut Self>,
                $cx: &mut ::core::task::Context<'_>,
            ) -> ::core::task::Poll<$output> {
                let $this = self.get_mut();
                let out = ::core::task::ready!($poll);
                $this.done = true;
                ::core::task::Poll::Ready(out)
            }
        }

        impl<$lt, $($bounds)*> ::futures_core::FusedFuture for $name<$lt $(, $param)*> {
            fn is_terminated(&self) -> bool {
                self.done
            }
        }
    };
}

pub(crate) use named_future;
