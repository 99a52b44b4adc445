//! Does a long read let other tasks run? One 256 MiB frame over loopback
//! TCP, read on a single-threaded smol executor (`LocalExecutor`) while a
//! task beside it sleeps 1 ms in a loop: the ticker's longest gap while the
//! read runs, and the read's time. intake's reader yields about every
//! 500 µs of one long operation on a source that never runs dry (see the
//! README); futures-lite's `read_exact` (like tokio's without its budget)
//! keeps the thread until the read is done.
//!
//! The gaps are counted up to the moment the read returns. Dropping the
//! 256 MiB that were read (unmapping them: about 1 ms for intake's frame,
//! on huge pages, and 13-17 ms for futures-lite's `Vec`) is timed on its
//! own: that stall is the caller's, wherever it drops the frame.
//!
//! The third candidate is the floor of any reader that yields: a raw read
//! loop into one reused 1 MiB buffer that yields after every read.
//!
//! The sender thread and the executor thread are pinned to different CPUs
//! (`PIN=0` turns that off): the question is whether the reader keeps its
//! executor, not how the OS shares one core between two busy threads.
//!
//! `cargo bench --bench fairness`; `ROUNDS=n` (7 by default).

use std::cell::Cell;
use std::io::Write as _;
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_lite::AsyncReadExt as _;
use intake::{LengthPrefix, StreamReader};

const SIZE: usize = 256 << 20;

/// Pins the calling thread to CPU `cpu` (of those this process may use),
/// so that the sender and the executor do not take turns on one core: on
/// a 2-core machine the scheduler otherwise sometimes puts them together,
/// and then preempts the reader mid-read for 13-16 ms at a time, a stall
/// no yield can shorten (measured: reads of 1 MiB taking that long, with
/// no mapping grown in them). `PIN=0` leaves placement to the scheduler.
fn pin_to(cpu: usize) {
    if std::env::var("PIN").is_ok_and(|p| p == "0") {
        return;
    }
    // SAFETY: `set` is a plain bit set on the stack, zeroed then filled by
    // the libc macros; `sched_setaffinity(0, ..)` changes only this
    // thread's placement.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// The CPUs the sender and the executor are pinned to.
fn cpus() -> (usize, usize) {
    let n = std::thread::available_parallelism().map_or(1, |n| n.get());
    (0, n.saturating_sub(1))
}

fn sender() -> (std::thread::JoinHandle<()>, std::net::SocketAddr) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        pin_to(cpus().1);
        let (mut sock, _) = listener.accept().unwrap();
        let chunk = vec![0x5Au8; 1 << 20];
        sock.write_all(&(SIZE as u32).to_be_bytes()).unwrap();
        for _ in 0..SIZE / chunk.len() {
            sock.write_all(&chunk).unwrap();
        }
    });
    (handle, addr)
}

/// (longest ticker gap during the read, read time, time to drop what was
/// read) for one read by candidate `which`.
fn once(which: usize) -> (Duration, Duration, Duration) {
    let (sender, addr) = sender();
    let ex = smol::LocalExecutor::new();
    // When the read returned; the ticker's gaps are counted up to then.
    let done: Rc<Cell<Option<Instant>>> = Rc::new(Cell::new(None));
    let longest = Rc::new(Cell::new(Duration::ZERO));
    let ticker = {
        let (done, longest) = (done.clone(), longest.clone());
        ex.spawn(async move {
            let mut last = Instant::now();
            loop {
                smol::Timer::after(Duration::from_millis(1)).await;
                let now = Instant::now();
                let end = done.get().map_or(now, |end| end.min(now));
                longest.set(longest.get().max(end.saturating_duration_since(last)));
                if done.get().is_some() {
                    break;
                }
                last = now;
            }
        })
    };
    let dropped = Cell::new(Duration::ZERO);
    let took = smol::block_on(ex.run(async {
        smol::Timer::after(Duration::from_millis(5)).await;
        let sock = smol::net::TcpStream::connect(addr).await.unwrap();
        let start = Instant::now();
        let len = if which == 0 {
            let prefix = LengthPrefix::new(4).max_frame_len(usize::MAX >> 1);
            let mut r = StreamReader::new(sock);
            let frame = r.read_frame(&prefix).await.unwrap().unwrap();
            let len = frame.len();
            done.set(Some(Instant::now()));
            let unmap = Instant::now();
            drop((frame, r));
            dropped.set(unmap.elapsed());
            len
        } else if which == 2 {
            // The floor of any reader that yields: a raw read loop into a
            // 1 MiB buffer that yields to the executor after every read.
            let mut sock = sock;
            let mut buf = vec![0u8; 1 << 20];
            let mut total = 0;
            loop {
                let n = sock.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                total += n;
                futures_lite::future::yield_now().await;
            }
            done.set(Some(Instant::now()));
            total - 4
        } else {
            let mut r = futures_lite::io::BufReader::new(sock);
            let mut header = [0u8; 4];
            r.read_exact(&mut header).await.unwrap();
            let mut body = vec![0u8; u32::from_be_bytes(header) as usize];
            r.read_exact(&mut body).await.unwrap();
            done.set(Some(Instant::now()));
            let len = body.len();
            let unmap = Instant::now();
            drop((body, r));
            dropped.set(unmap.elapsed());
            len
        };
        let took = done.get().unwrap() - start;
        assert_eq!(len, SIZE);
        ticker.await;
        took
    }));
    sender.join().unwrap();
    (longest.get(), took, dropped.get())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    pin_to(cpus().0);
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7);
    let names = [
        "intake read_frame",
        "futures-lite BufReader + read_exact",
        "raw read loop, yield after each read",
    ];
    let mut gaps = vec![Vec::new(); names.len()];
    let mut times = vec![Vec::new(); names.len()];
    let mut drops = vec![Vec::new(); names.len()];
    for round in 0..rounds {
        for k in 0..names.len() {
            let i = (round + k) % names.len();
            let (gap, took, dropped) = once(i);
            gaps[i].push(gap);
            times[i].push(took);
            drops[i].push(dropped);
        }
    }
    println!("\none 256 MiB frame over loopback TCP on a single-threaded smol executor, a 1 ms ticker beside it ({rounds} interleaved rounds)");
    for (i, name) in names.iter().enumerate() {
        let mut g = gaps[i].clone();
        g.sort();
        println!(
            "  {name:<38} longest ticker gap: median {:>6.1} ms (min {:.1}, max {:.1}); read {:>5.0} ms; dropping the frame {:>4.1} ms",
            median(gaps[i].clone()).as_secs_f64() * 1e3,
            g[0].as_secs_f64() * 1e3,
            g[g.len() - 1].as_secs_f64() * 1e3,
            median(times[i].clone()).as_secs_f64() * 1e3,
            median(drops[i].clone()).as_secs_f64() * 1e3,
        );
    }
}
