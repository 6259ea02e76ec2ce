//! Sign-in and the connection loop under attack: parallel guesses are counted atomically (at
//! most five tries, then the lock; the hotline's three failed checks likewise), a huge username
//! is refused before anything is written, clients stalled in their bodies are cut off after the
//! body time-out, and the connection cap holds new connections until one closes.

use crate::both;
use crate::helpers::*;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WRONG: &str = "用户名或密码不正确";
const LOCKED: &str = "登录失败次数过多";

async fn failed_sign_ins_audited(app: &TestApp, username: &str) -> usize {
    app.storage
        .audit_recent(10_000)
        .await
        .unwrap()
        .iter()
        .filter(|a| a.action == "staff.sign_in_failed" && a.subject_id == username)
        .count()
}

/// 30 wrong passwords sent at once: at most five are evaluated (the rest see the lock), and
/// the account is then locked even for the right password.
async fn parallel_wrong_passwords_count_five_tries_at_most(b: Backend) {
    let app = TestApp::spawn(b).await;
    app.create_staff("li.jing", "reviewer", STAFF_PASSWORD)
        .await;
    // Each guesser opens the sign-in page first (its own CSRF cookie), then all send at once.
    let mut guessers = Vec::new();
    for _ in 0..30 {
        let g = app.browser();
        g.get_page("/login").await;
        guessers.push(g);
    }
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(30));
    let mut set = tokio::task::JoinSet::new();
    for (i, g) in guessers.into_iter().enumerate() {
        let start = start.clone();
        set.spawn(async move {
            let pw = format!("wrong guess {i}");
            start.wait().await;
            let r = g
                .post_form(
                    "/login",
                    &[("username", "li.jing"), ("password", &pw), ("next", "/")],
                )
                .await;
            assert_eq!(r.status(), 200);
            r.text().await.unwrap()
        });
    }
    let (mut wrong, mut locked) = (0, 0);
    while let Some(page) = set.join_next().await {
        let page = page.unwrap();
        match (page.contains(WRONG), page.contains(LOCKED)) {
            (true, false) => wrong += 1,
            (false, true) => locked += 1,
            _ => panic!("neither refusal: {page}"),
        }
    }
    assert_eq!((wrong, locked), (5, 25));
    assert_eq!(failed_sign_ins_audited(&app, "li.jing").await, 5);
    let r = app.browser().try_sign_in("li.jing", STAFF_PASSWORD).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains(LOCKED));
}

/// 30 wrong verifications of one application sent at once by hotline agents: three are
/// recorded, the others (and a right one after them) are refused for the hour.
async fn parallel_hotline_verifications_count_three_at_most(b: Backend) {
    let app = TestApp::spawn_with(b, |s| s.hotline_lookups_per_hour = 0).await;
    let id = app.submit_example().await;
    let mut agents = Vec::new();
    for i in 0..3 {
        let a = app.signed_in_staff(&format!("agent.{i}"), "hotline").await;
        a.get_page(&format!("/hotline/{id}")).await;
        agents.push(std::sync::Arc::new(a));
    }
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(30));
    let mut set = tokio::task::JoinSet::new();
    for i in 0..30 {
        let (a, start, id) = (agents[i % 3].clone(), start.clone(), id.clone());
        set.spawn(async move {
            let guess = format!("{:06}", 100_000 + i);
            start.wait().await;
            let r = a
                .post_form(
                    &format!("/hotline/{id}/verify"),
                    &[("method", "id_last6"), ("value", &guess)],
                )
                .await;
            location(&r)
        });
    }
    let (mut no, mut limited) = (0, 0);
    while let Some(to) = set.join_next().await {
        let to = to.unwrap();
        if to.ends_with("msg=verified_no") {
            no += 1;
        } else if to.ends_with("msg=verify_limit") {
            limited += 1;
        } else {
            panic!("{to}");
        }
    }
    assert_eq!((no, limited), (3, 27));
    assert_eq!(
        app.storage
            .failed_verifications_since(&aid(&id), 0)
            .await
            .unwrap(),
        3
    );
    // The right answer is refused too until the hour has passed.
    let r = agents[0]
        .post_form(
            &format!("/hotline/{id}/verify"),
            &[("method", "id_last6"), ("value", "31002X")],
        )
        .await;
    assert!(
        location(&r).ends_with("msg=verify_limit"),
        "{}",
        location(&r)
    );
}

/// A username beyond 64 characters is refused before anything is written or hashed.
async fn a_huge_username_is_refused_before_any_write(b: Backend) {
    let app = TestApp::spawn(b).await;
    let g = app.browser();
    g.get_page("/login").await;
    let huge = "a".repeat(200 * 1024);
    let r = g
        .post_form(
            "/login",
            &[("username", &huge), ("password", "whatever"), ("next", "/")],
        )
        .await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("用户名过长（最多 64 个字符）"), "{page}");
    assert!(page.len() < 20_000, "the name is not echoed back");
    assert_eq!(app.storage.session_counts().await.unwrap(), (0, 0));
    assert!(
        app.storage
            .audit_recent(10_000)
            .await
            .unwrap()
            .iter()
            .all(|a| a.subject_id.len() <= 64),
        "no audit record carries the name"
    );
    // One over the page's form limit (1 MiB) is refused by the form limit.
    let bigger = "a".repeat(1024 * 1024 + 1);
    let r = g
        .post_form(
            "/login",
            &[("username", &bigger), ("password", "x"), ("next", "/")],
        )
        .await;
    assert_eq!(r.status(), 413);
    assert_eq!(app.storage.session_counts().await.unwrap(), (0, 0));
}

/// Reads what the server sends until it closes the connection (or `secs` pass: `None`).
async fn until_closed(s: &mut tokio::net::TcpStream, secs: u64) -> Option<String> {
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(secs), s.read_to_end(&mut got))
        .await
        .ok()?
        .ok()?;
    Some(String::from_utf8_lossy(&got).to_string())
}

/// A sign-in whose body stops half-way, on a kept-alive connection, with a real CSRF cookie.
async fn stalled_sign_in(addr: &str, csrf_cookie: &str) -> tokio::net::TcpStream {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(
        format!(
            "POST /login HTTP/1.1\r\nHost: {addr}\r\nCookie: bo_csrf={csrf_cookie}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n\
             _csrf={csrf_cookie}&username=li.jing&pass"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    s
}

/// 40 clients stalled in their sign-in bodies are answered and disconnected after the body
/// time-out (1 s here; 30 s by default), while others are served meanwhile.
async fn clients_stalled_in_sign_in_bodies_are_disconnected(b: Backend) {
    let app = TestApp::spawn_with(b, |s| s.body_read_timeout_secs = 1).await;
    let addr = app.addr.trim_start_matches("http://").to_owned();
    let g = app.browser();
    g.get_page("/login").await;
    let cookie = g.cookie("bo_csrf").unwrap();
    let mut stalled = Vec::new();
    for _ in 0..40 {
        stalled.push(stalled_sign_in(&addr, &cookie).await);
    }
    let healthz = reqwest::Client::new()
        .get(app.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(healthz.status(), 200);
    let mut set = tokio::task::JoinSet::new();
    for mut s in stalled {
        set.spawn(async move { until_closed(&mut s, 20).await });
    }
    while let Some(text) = set.join_next().await {
        let text = text
            .unwrap()
            .expect("a client stalled in its body is disconnected");
        assert!(text.starts_with("HTTP/1.1 408"), "{text}");
        assert!(text.contains("表单未能读完"), "{text}");
    }
    assert_eq!(app.storage.session_counts().await.unwrap(), (0, 0));
}

/// With a cap of four connections, four stalled clients hold every slot: a fifth connection is
/// served only once the body time-out has closed them.
async fn the_connection_cap_holds_new_connections_until_one_closes(b: Backend) {
    let app = TestApp::spawn_with(b, |s| {
        s.body_read_timeout_secs = 2;
        s.web.max_connections = 4;
    })
    .await;
    let addr = app.addr.trim_start_matches("http://").to_owned();
    let g = app.browser();
    g.get_page("/login").await; // its connection closes with the client below
    let cookie = g.cookie("bo_csrf").unwrap();
    drop(g);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut stalled = Vec::new();
    for _ in 0..4 {
        stalled.push(stalled_sign_in(&addr, &cookie).await);
    }
    let mut fifth = tokio::net::TcpStream::connect(&addr).await.unwrap();
    fifth
        .write_all(
            format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let text = until_closed(&mut fifth, 30)
        .await
        .expect("the fifth connection is served once a slot is free");
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    // By then every stalled client had been answered and let go.
    for mut s in stalled {
        let t = until_closed(&mut s, 1)
            .await
            .expect("closed before the fifth was served");
        assert!(t.starts_with("HTTP/1.1 408"), "{t}");
    }
}

both!(
    parallel_wrong_passwords_count_five_tries_at_most,
    parallel_hotline_verifications_count_three_at_most,
    a_huge_username_is_refused_before_any_write,
    clients_stalled_in_sign_in_bodies_are_disconnected,
    the_connection_cap_holds_new_connections_until_one_closes,
);
