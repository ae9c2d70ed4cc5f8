use crate::helpers::*;
use reqwest::StatusCode;

#[tokio::test]
async fn site_files_are_served_compressed_with_revalidation() {
    let site = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(site.path().join("pkg")).unwrap();
    let script = "console.log('hello');\n".repeat(200);
    std::fs::write(site.path().join("pkg/app.js"), &script).unwrap();
    let app = spawn_app_with(&[("LEPTOS_SITE_ROOT", site.path().to_str().unwrap())]).await;

    let res = browser().get(app.url("/pkg/app.js")).header("accept-encoding", "gzip, br").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-encoding"], "br");
    assert_eq!(res.headers()["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(res.headers()["vary"], "accept-encoding");
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let body = res.bytes().await.unwrap();
    assert!(body.len() < script.len() / 10, "compressed: {} of {}", body.len(), script.len());
    let mut plain = Vec::new();
    brotli::BrotliDecompress(&mut &body[..], &mut plain).unwrap();
    assert_eq!(plain, script.as_bytes());

    let again = browser()
        .get(app.url("/pkg/app.js"))
        .header("accept-encoding", "br")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let plain = browser().get(app.url("/pkg/app.js")).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.text().await.unwrap(), script);

    // A rebuilt file is compressed again.
    std::fs::write(site.path().join("pkg/app.js"), "console.log('rebuilt');").unwrap();
    let res = browser().get(app.url("/pkg/app.js")).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(res.headers()["content-encoding"], "gzip");
    for bad in ["/pkg/..%2Fapp.db", "/pkg/.hidden", "/pkg/missing.js"] {
        assert_eq!(browser().get(app.url(bad)).send().await.unwrap().status(), StatusCode::NOT_FOUND, "{bad}");
    }
}
