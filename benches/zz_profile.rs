mod common;
use futures_lite::future::zip;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
const FRAME: usize = 1 << 20;
const FRAMES: usize = 1024 * 4;
fn main() {
    let which = std::env::var("CAND").unwrap();
    smol::block_on(async {
        let (mut w, r) = common::smol_pair().await;
        let send = async move {
            let mut frame = (FRAME as u32).to_be_bytes().to_vec();
            frame.resize(4 + FRAME, 0xAB);
            for _ in 0..FRAMES {
                w.write_all(&frame).await.unwrap();
            }
            w.close().await.unwrap();
        };
        let recv = async move {
            let t = std::time::Instant::now();
            let mut total = 0u64;
            if which == "intake" {
                let prefix = intake::LengthPrefix::new(4).max_frame_len(FRAME);
                let mut r = intake::StreamReader::with_capacity(64 * 1024, r);
                while let Some(f) = r.read_frame(&prefix).await.unwrap() {
                    total += f.len() as u64;
                }
            } else {
                let mut r = futures_lite::io::BufReader::new(r);
                let mut header = [0u8; 4];
                while r.read_exact(&mut header).await.is_ok() {
                    let mut f = vec![0u8; u32::from_be_bytes(header) as usize];
                    r.read_exact(&mut f).await.unwrap();
                    total += f.len() as u64;
                }
            }
            let mut ru: libc_rusage = unsafe { std::mem::zeroed() };
            unsafe { getrusage(0, &mut ru) };
            let cpu =
                ru.0[0] as f64 + ru.0[1] as f64 * 1e-6 + ru.0[2] as f64 + ru.0[3] as f64 * 1e-6;
            println!(
                "{which}: {:.2} GiB/s wall, {:.2} GiB/s cpu",
                total as f64 / t.elapsed().as_secs_f64() / (1u64 << 30) as f64,
                total as f64 / cpu / (1u64 << 30) as f64
            );
        };
        zip(send, recv).await;
    });
}

#[repr(C)]
struct libc_rusage([i64; 18]);
extern "C" {
    fn getrusage(who: i32, r: *mut libc_rusage) -> i32;
}
