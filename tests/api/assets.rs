use crate::helpers::*;
use reqwest::StatusCode;

#[tokio::test]
async fn site_files_are_served_in_the_compression_the_build_wrote_with_revalidation() {
    let site = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(site.path().join("pkg")).unwrap();
    let script = "console.log('hello');\n".repeat(200);
    std::fs::write(site.path().join("pkg/app.js"), &script).unwrap();
    // What `cargo leptos build --precompress` writes beside each file.
    let mut br = Vec::new();
    brotli::BrotliCompress(&mut script.as_bytes(), &mut br, &Default::default()).unwrap();
    std::fs::write(site.path().join("pkg/app.js.br"), &br).unwrap();
    let app = spawn_app_with(&[("LEPTOS_SITE_ROOT", site.path().to_str().unwrap())]).await;

    let res = browser().get(app.url("/pkg/app.js")).header("accept-encoding", "gzip, br").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-encoding"], "br");
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert_eq!(res.headers()["vary"], "accept-encoding");
    assert_eq!(res.headers()["cache-control"], "no-cache", "the same name after a rebuild: ask again");
    let modified = res.headers()["last-modified"].to_str().unwrap().to_owned();
    let body = res.bytes().await.unwrap();
    assert_eq!(body, br);

    let again = browser()
        .get(app.url("/pkg/app.js"))
        .header("accept-encoding", "br")
        .header("if-modified-since", &modified)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    // No gzip file was written: a browser that takes only gzip gets the file as it is.
    let plain = browser().get(app.url("/pkg/app.js")).header("accept-encoding", "gzip").send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.text().await.unwrap(), script);
    for bad in ["/pkg/..%2Fapp.db", "/pkg/missing.js", "/pkg/../Leptos.toml"] {
        assert_eq!(browser().get(app.url(bad)).send().await.unwrap().status(), StatusCode::NOT_FOUND, "{bad}");
    }
}
