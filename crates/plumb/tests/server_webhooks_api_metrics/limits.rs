//! Floods of random tokens, clients that never finish their headers and oversized bodies are turned away while normal use goes on.

use super::*;

#[tokio::test]
async fn a_flood_of_random_tokens_is_throttled_while_known_tokens_keep_working() {
    let (world, address) = serving_world("flood").await;
    let operator = world.token_for("operator", "get,list,watch,patch").await;
    let viewer = world.token_for("viewer", "get,list,watch").await;
    let warmed = Instant::now();
    assert_eq!(
        get(address, "/api/v1/applications", Some(&operator)).status,
        200
    );

    // Random tokens: each unknown one would cost a TokenReview. After a small budget they
    // are refused with 429 before any is made.
    let started = Instant::now();
    let (mut reviewed, mut throttled) = (0u32, 0u32);
    for i in 0..2000 {
        let answer = get(
            address,
            "/api/v1/applications",
            Some(&format!(
                "random-token-{i}-{}",
                started.elapsed().as_nanos()
            )),
        );
        match answer.status {
            401 => reviewed += 1,
            429 => throttled += 1,
            other => panic!("a random token got {other}: {}", answer.body),
        }
        if throttled >= 20 {
            break;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    assert!(throttled > 0, "{reviewed} random tokens were all reviewed");
    // The budget: a burst of 20, then 2 a second (bounds as generous as the time taken).
    assert!(
        f64::from(reviewed) <= 20.0 + 2.0 * elapsed + 1.0,
        "{reviewed} reviews in {elapsed:.1} s"
    );

    // A token the server knows is answered from its cache, flood or not (it is known for
    // ten seconds after its review; a machine too loaded to flood within that is not a
    // failure of plumb's).
    let known = get(address, "/api/v1/applications", Some(&operator));
    if warmed.elapsed() < Duration::from_secs(8) {
        assert_eq!(known.status, 200, "{}", known.body);
    } else {
        println!(
            "the flood took {:?}: the known token's check skipped",
            warmed.elapsed()
        );
    }
    // When the flood stops, a token not seen before is reviewed again.
    plumb_testkit::eventually(
        "a new token to be served after the flood",
        PATIENCE,
        || async {
            (get(address, "/api/v1/applications", Some(&viewer)).status == 200).then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_or_sends_too_much_is_turned_away() {
    let (_world, address) = serving_world("slowloris").await;

    // Slowloris: a request whose headers never end holds its connection only briefly.
    let mut slow = TcpStream::connect(address).unwrap();
    slow.write_all(b"GET /api/v1/applications HTTP/1.1\r\nHost: plumb\r\nX-Slow: 1")
        .unwrap();
    // Generous: the server closes it after ten seconds.
    slow.set_read_timeout(Some(PATIENCE * 2)).unwrap();
    let mut answer = Vec::new();
    match slow.read_to_end(&mut answer) {
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(err) => panic!("the unfinished request's connection stayed open: {err}"),
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(!answer.contains(" 200 "), "{answer}");

    // Bodies larger than any the API or a Git host sends are refused before they are read.
    for (path, bytes) in [
        ("/api/v1/trigger", 1024 * 1024),
        ("/api/v1/webhooks/github", 64 * 1024 * 1024),
    ] {
        let status = declare_body(address, path, bytes);
        assert!(status.starts_with("HTTP/1.1 413"), "{path}: {status}");
    }

    // Meanwhile the server goes on answering.
    assert_eq!(get(address, "/healthz", None).status, 200);
    let trigger = json!({"repoURL": "git://example.com/nothing.git"}).to_string();
    let small = post(
        address,
        "/api/v1/trigger",
        &[("Content-Type".into(), "application/json".into())],
        trigger.as_bytes(),
    );
    assert_eq!(
        small.status, 401,
        "a small body reaches the handler: {}",
        small.body
    );
}

/// Sends only the head of a POST declaring a body of `bytes`; returns the answer's head.
fn declare_body(address: SocketAddr, path: &str, bytes: usize) -> String {
    let mut socket = TcpStream::connect(address).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: plumb\r\nContent-Type: application/json\r\nContent-Length: {bytes}\r\nConnection: close\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).unwrap();
    socket.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut answer = Vec::new();
    let _ = socket.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}
