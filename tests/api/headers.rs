use crate::helpers::*;

#[tokio::test]
async fn pages_carry_a_nonce_based_content_security_policy_and_no_store() {
    let app = spawn_app().await;
    let res = app.get(&browser(), "/login").await;
    let h = res.headers().clone();
    let csp = h["content-security-policy"].to_str().unwrap().to_owned();
    for directive in ["object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "'wasm-unsafe-eval'"] {
        assert!(csp.contains(directive), "{csp}");
    }
    let nonce = csp.split("'nonce-").nth(1).and_then(|s| s.split('\'').next()).expect("nonce in CSP").to_owned();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "same-origin");
    assert_eq!(h["cache-control"], "no-store");
    let page = res.text().await.unwrap();
    assert!(page.contains(&format!("nonce=\"{nonce}\"")), "inline scripts carry the nonce");

    let again = app.get(&browser(), "/login").await;
    assert!(
        !again.headers()["content-security-policy"].to_str().unwrap().contains(&nonce),
        "a fresh nonce per response"
    );
}
