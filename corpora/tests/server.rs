//! A tiny HTTP/1.1 file server on 127.0.0.1 for the fetch tests: one request per connection,
//! `Range: bytes=N-` support (switchable), and the ability to cut the first responses short to
//! simulate a dropped connection. It stops when dropped, or by itself after 30 seconds.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One request as the server saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub path: String,
    pub range: Option<String>,
    pub status: u16,
}

/// How the server behaves.
#[derive(Clone, Debug)]
pub struct Behaviour {
    /// Answer `Range` requests with 206 (otherwise ignore them and send 200 with everything).
    pub honour_range: bool,
    /// Cut this many of the first responses short after this many body bytes.
    pub drop_first: usize,
    pub drop_after: usize,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            honour_range: true,
            drop_first: 0,
            drop_after: 0,
        }
    }
}

pub struct TestServer {
    pub base: String,
    pub log: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl TestServer {
    pub fn start(files: HashMap<String, Vec<u8>>, behaviour: Behaviour) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let drops = Arc::new(AtomicUsize::new(behaviour.drop_first));
        let (log2, stop2) = (log.clone(), stop.clone());
        let handle = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(30);
            while !stop2.load(Ordering::SeqCst) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => serve(stream, &files, &behaviour, &drops, &log2),
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        TestServer {
            base,
            log,
            stop,
            handle: Some(handle),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn serve(
    mut stream: TcpStream,
    files: &HashMap<String, Vec<u8>>,
    b: &Behaviour,
    drops: &AtomicUsize,
    log: &Mutex<Vec<Seen>>,
) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut first = String::new();
    if reader.read_line(&mut first).is_err() {
        return;
    }
    let path = first
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .trim_start_matches('/')
        .to_string();
    let mut range = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.trim().eq_ignore_ascii_case("range") {
                range = Some(v.trim().to_string());
            }
        }
    }
    let Some(body) = files.get(&path) else {
        log.lock().unwrap().push(Seen {
            path,
            range,
            status: 404,
        });
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
    let len = body.len();
    let start = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|_| b.honour_range);
    let (status, head, slice) = match start {
        Some(s) if s >= len => (416, format!("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{len}\r\nContent-Length: 0\r\n"), &body[..0]),
        Some(s) => (
            206,
            format!("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {s}-{}/{len}\r\nContent-Length: {}\r\n", len - 1, len - s),
            &body[s..],
        ),
        None => (200, format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n"), &body[..]),
    };
    log.lock().unwrap().push(Seen {
        path,
        range,
        status,
    });
    let _ = stream.write_all(format!("{head}Connection: close\r\n\r\n").as_bytes());
    let cut = drops
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |d| d.checked_sub(1))
        .is_ok();
    let n = if cut {
        b.drop_after.min(slice.len())
    } else {
        slice.len()
    };
    let _ = stream.write_all(&slice[..n]);
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Both);
}
