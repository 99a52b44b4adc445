//! Long reads give the executor its thread back: a 256 MiB read over
//! loopback TCP from a sender that never lets the socket run dry, in one
//! task beside a "ticker" that is polled only when the read yields. Without
//! a budget the read holds the thread for its whole length (the ticker is
//! not polled for 100 ms and more). The bound here is generous (50 ms) so
//! that a busy CI machine cannot fail it; `benches/fairness.rs` measures a
//! 1 ms timer beside the read, and the README gives its figures.
#![cfg(not(miri))] // sockets and timers
mod common;

use common::on_both_runtimes;
use std::cell::Cell;
use std::io::Write;
use std::time::{Duration, Instant};

use intake::StreamReader;

const SIZE: usize = 256 << 20;
const BOUND: Duration = Duration::from_millis(50);

/// A listener on 127.0.0.1 whose one connection gets a 4-byte length and
/// `SIZE` bytes as fast as the socket takes them; and its address.
fn sender() -> (std::thread::JoinHandle<()>, std::net::SocketAddr) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        let (mut sock, _) = listener.accept().unwrap();
        let chunk = vec![0x5Au8; 1 << 20];
        sock.write_all(&(SIZE as u32).to_be_bytes()).unwrap();
        for _ in 0..SIZE / chunk.len() {
            sock.write_all(&chunk).unwrap();
        }
    });
    (handle, addr)
}

/// Polls `read` beside a "ticker" in one task (`zip`), on whatever executor
/// runs it: the ticker is polled only when `read` returns `Pending`, and it
/// notes the longest time between two of its polls. That is how long the
/// read held the thread at a stretch, whatever timers do on a busy machine.
async fn longest_stretch<T, F: std::future::Future<Output = T>>(read: F) -> (Duration, T) {
    let done = Cell::new(false);
    let longest = Cell::new(Duration::ZERO);
    let last = Cell::new(Instant::now());
    let ticker = futures_lite::future::poll_fn(|cx| {
        let now = Instant::now();
        longest.set(longest.get().max(now - last.get()));
        last.set(now);
        if done.get() {
            return std::task::Poll::Ready(());
        }
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    });
    let read = async {
        let n = read.await;
        done.set(true);
        n
    };
    let ((), n) = futures_lite::future::zip(ticker, read).await;
    (longest.get(), n)
}

#[test]
fn long_reads_give_the_thread_back_on_every_runtime() {
    on_both_runtimes(|| async {
        // A frame into the buffer (mapped memory growing with arrival).
        let (sender_a, addr) = sender();
        let (stretch, n) = longest_stretch(async {
            let sock = smol::net::TcpStream::connect(addr).await.unwrap();
            let prefix = intake::LengthPrefix::new(4).max_frame_len(usize::MAX >> 1);
            let mut r = StreamReader::new(sock);
            // Handed out whole; dropped (unmapped) after the measurement.
            r.read_frame(&prefix).await.unwrap().unwrap()
        })
        .await;
        sender_a.join().unwrap();
        assert_eq!(n.len(), SIZE);
        eprintln!("read_frame of 256 MiB: longest stretch without a yield {stretch:?}");
        assert!(stretch < BOUND, "read_frame held the thread {stretch:?}");
        // Reads into caller memory bypass the buffer: they count too.
        let (sender_b, addr) = sender();
        let mut body = vec![0u8; SIZE];
        let (stretch, n) = longest_stretch(async {
            let sock = smol::net::TcpStream::connect(addr).await.unwrap();
            let mut r = StreamReader::new(sock);
            let header = r.read_exactly(4).await.unwrap();
            assert_eq!(
                u32::from_be_bytes(header[..].try_into().unwrap()) as usize,
                SIZE
            );
            r.read_exact_into(&mut body).await.unwrap();
            SIZE
        })
        .await;
        sender_b.join().unwrap();
        assert_eq!(n, SIZE);
        eprintln!("read_exact_into of 256 MiB: longest stretch without a yield {stretch:?}");
        assert!(
            stretch < BOUND,
            "read_exact_into held the thread {stretch:?}"
        );
    });
}
