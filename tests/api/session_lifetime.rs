//! Sessions end after 30 minutes unused and, however busy, after their lifetime (12 hours by
//! default); the hourly purge deletes ended sessions and sign-in attempts past the lockout
//! window, on exactly one of several instances.

use crate::both;
use crate::helpers::*;
use backoffice::jobs::session_purge;
use chrono::Duration;

/// A member busy all day (a page every 25 minutes) is signed out at the twelfth hour.
async fn a_busy_session_ends_after_its_lifetime(b: Backend) {
    let app = TestApp::spawn(b).await;
    let start = app.clock.now();
    let member = app.signed_in_staff("li.jing", "reviewer").await;
    let mut t = start;
    while t + Duration::minutes(25) < start + Duration::hours(12) {
        t += Duration::minutes(25);
        app.clock.set(t);
        member.get_page("/review").await;
    }
    app.clock
        .set(start + Duration::hours(12) + Duration::minutes(1));
    let r = member.get("/review").await;
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/login?next=%2Freview".into())
    );
    // Signing in again starts a new session.
    member.sign_in("li.jing", STAFF_PASSWORD).await;
    member.get_page("/review").await;
}

/// The lifetime is a setting.
async fn the_session_lifetime_is_a_setting(b: Backend) {
    let app = TestApp::spawn_with(b, |s| s.web.session_lifetime_hours = 1).await;
    let start = app.clock.now();
    let member = app.signed_in_staff("li.jing", "reviewer").await;
    app.clock.set(start + Duration::minutes(25));
    member.get_page("/review").await;
    app.clock.set(start + Duration::minutes(50));
    member.get_page("/review").await;
    app.clock.set(start + Duration::minutes(61));
    assert_eq!(member.get("/review").await.status(), 303);
}

/// Ended sessions (idle, or past the lifetime) and old sign-in attempts are purged once per
/// hour by one of two instances; live ones stay.
async fn the_purge_runs_once_across_instances(b: Backend) {
    let a = TestApp::spawn(b).await;
    let other = TestApp::spawn_on(&a.database_url).await;
    a.create_staff("li.jing", "reviewer", STAFF_PASSWORD).await;
    let staff = a
        .storage
        .staff_by_username("li.jing")
        .await
        .unwrap()
        .unwrap();
    let now = a.clock.now().timestamp_millis();
    let (min, hour) = (60_000, 3_600_000);
    let s = &a.storage;
    // Idle for 31 minutes: ended.
    s.create_session("idle", &staff, "c1", now - 31 * min)
        .await
        .unwrap();
    // Used a minute ago but made 13 hours ago: ended.
    s.create_session("old", &staff, "c2", now - 13 * hour)
        .await
        .unwrap();
    s.touch_session("old", now - min).await.unwrap();
    // Made two hours ago, used a minute ago: live.
    s.create_session("live", &staff, "c3", now - 2 * hour)
        .await
        .unwrap();
    s.touch_session("live", now - min).await.unwrap();
    // A sign-in attempt 20 minutes ago counts for nothing now; one a minute ago still counts.
    assert!(
        s.count_login_attempt("wang.fang", now - 20 * min, 0, 5)
            .await
            .unwrap()
    );
    assert!(
        s.count_login_attempt("wang.fang", now - min, 0, 5)
            .await
            .unwrap()
    );
    assert_eq!(s.session_counts().await.unwrap(), (3, 2));

    let (ra, rb) = tokio::join!(
        session_purge::run_once(&a.state),
        session_purge::run_once(&other.state)
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert!(ra.is_some() != rb.is_some(), "{ra:?} / {rb:?}");
    let p = ra.or(rb).unwrap();
    assert_eq!((p.sessions, p.sign_in_attempts), (2, 1));
    assert_eq!(s.session_counts().await.unwrap(), (1, 1));
    assert!(s.session("live").await.unwrap().is_some());
    // The same hour again: nobody runs it. The next hour: one instance does.
    assert!(session_purge::run_once(&a.state).await.unwrap().is_none());
    assert!(
        session_purge::run_once(&other.state)
            .await
            .unwrap()
            .is_none()
    );
    let later = a.clock.now() + Duration::hours(1);
    a.clock.set(later);
    other.clock.set(later);
    let p = session_purge::run_once(&other.state)
        .await
        .unwrap()
        .expect("the next hour's run");
    // By then the live session has been idle an hour and the last attempt is old.
    assert_eq!((p.sessions, p.sign_in_attempts), (1, 1));
    assert_eq!(s.session_counts().await.unwrap(), (0, 0));
}

both!(
    a_busy_session_ends_after_its_lifetime,
    the_session_lifetime_is_a_setting,
    the_purge_runs_once_across_instances,
);
