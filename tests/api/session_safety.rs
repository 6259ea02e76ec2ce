//! Sign-in redirects stay on the site; only the claimant (or a supervisor) decides.

use crate::both;
use crate::helpers::*;
use backoffice::domain::status::Action;

async fn sign_in_never_redirects_off_the_site(b: Backend) {
    let app = TestApp::spawn(b).await;
    app.create_staff("li.jing", "reviewer", STAFF_PASSWORD)
        .await;
    // Each `next` with the one place it may lead: off-site ones to the start page.
    for (next, expected) in [
        ("/\t/evil.example", "/"),
        ("//evil.example", "/"),
        ("https://evil.example", "/"),
        ("/\\evil.example", "/"),
        ("/review?x=1", "/review?x=1"),
        ("/review", "/review"),
    ] {
        let br = app.browser();
        br.get_page("/login").await;
        let r = br
            .post_form(
                "/login",
                &[
                    ("username", "li.jing"),
                    ("password", STAFF_PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(location(&r), expected, "{next:?}");
    }
}

async fn only_the_claimant_decides(b: Backend) {
    let app = TestApp::spawn(b).await;
    let id = app.submit_example().await;
    app.staff_act(&id, Action::Claim, &[]).await; // held by staff:reviewer
    let other = app.signed_in_staff("wang.lei", "reviewer").await;
    let page = other.get_page(&format!("/review/{id}")).await;
    let rv = hidden_field(&page, "row_version").unwrap_or_else(|| "2".into());
    let r = other
        .post_form(&format!("/review/{id}/accept"), &[("row_version", &rv)])
        .await;
    assert!(location(&r).ends_with("msg=not_yours"), "{}", location(&r));
    assert_eq!(
        app.get_json(&format!("/api/v1/applications/{id}")).await["status"],
        "in_review"
    );
}

both!(
    sign_in_never_redirects_off_the_site,
    only_the_claimant_decides
);
