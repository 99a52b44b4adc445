//! Connected loopback socket pairs for each runtime, shared by the test kit
//! (`tests/common`) and the benches (`benches/common`).

/// A connected (client, server) pair of smol TCP sockets on 127.0.0.1.
pub async fn smol_pair() -> (smol::net::TcpStream, smol::net::TcpStream) {
    let l = smol::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let (c, s) = futures_lite::future::zip(smol::net::TcpStream::connect(addr), l.accept()).await;
    (c.unwrap(), s.unwrap().0)
}

/// A connected (client, server) pair of async-std TCP sockets on 127.0.0.1.
pub async fn async_std_pair() -> (async_std::net::TcpStream, async_std::net::TcpStream) {
    let l = async_std::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap();
    let addr = l.local_addr().unwrap();
    let (c, s) =
        futures_lite::future::zip(async_std::net::TcpStream::connect(addr), l.accept()).await;
    (c.unwrap(), s.unwrap().0)
}
