//! A TCP relay that can turn into a black hole: after [`Blackhole::cut`], every connection
//! open at that moment stays open and carries nothing more, either way, while new
//! connections pass — what a client sees when the API server behind a load balancer dies
//! without closing anything. Only a client with a read timeout notices.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;

use crate::Error;

/// A relay on a loopback port in front of one address. Dropping it stops accepting;
/// connections end when their peers close them.
#[derive(Debug)]
pub struct Blackhole {
    address: SocketAddr,
    /// How many connections were accepted: the next one's number.
    accepted: Arc<AtomicU64>,
    /// Connections numbered below this carry nothing.
    cut_below: Arc<AtomicU64>,
    stopped: Arc<AtomicBool>,
}

impl Blackhole {
    /// Starts relaying a free loopback port to `target`.
    pub fn start(target: SocketAddr) -> Result<Blackhole, Error> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(Error::io("bind the relay"))?;
        let address = listener
            .local_addr()
            .map_err(Error::io("read the relay's address"))?;
        let accepted = Arc::new(AtomicU64::new(0));
        let cut_below = Arc::new(AtomicU64::new(0));
        let stopped = Arc::new(AtomicBool::new(false));
        let (count, cut, stop) = (
            Arc::clone(&accepted),
            Arc::clone(&cut_below),
            Arc::clone(&stopped),
        );
        thread::spawn(move || {
            for client in listener.incoming() {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                let Ok(client) = client else { continue };
                let number = count.fetch_add(1, Ordering::SeqCst);
                let Ok(server) = TcpStream::connect(target) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                relay(client, server, number, &cut);
            }
        });
        Ok(Blackhole {
            address,
            accepted,
            cut_below,
            stopped,
        })
    }

    /// Where clients connect.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Every connection open now carries nothing from here on, and is never closed by
    /// the relay; later connections pass.
    pub fn cut(&self) {
        let accepted = self.accepted.load(Ordering::SeqCst);
        self.cut_below.store(accepted, Ordering::SeqCst);
    }

    /// How many connections were accepted so far (a client that reconnects makes more).
    pub fn connections(&self) -> u64 {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Blackhole {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::Relaxed);
        // Wakes the accept loop so it sees the stop.
        let _ = TcpStream::connect(self.address);
    }
}

/// Copies both ways until either side closes, or forever silent once `number` is cut.
fn relay(client: TcpStream, server: TcpStream, number: u64, cut: &Arc<AtomicU64>) {
    for (from, to) in [
        (client.try_clone(), server.try_clone()),
        (server.try_clone(), client.try_clone()),
    ] {
        let (Ok(mut from), Ok(mut to)) = (from, to) else {
            return;
        };
        let cut = Arc::clone(cut);
        thread::spawn(move || {
            let mut buffer = [0u8; 16 * 1024];
            loop {
                let read = match from.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(read) => read,
                };
                if number < cut.load(Ordering::SeqCst) {
                    // Swallowed: the peer behind the relay is gone.
                    continue;
                }
                if to.write_all(&buffer[..read]).is_err() {
                    break;
                }
            }
            if number >= cut.load(Ordering::SeqCst) {
                let _ = to.shutdown(Shutdown::Write);
            }
        });
    }
}
