//! The profile's avatar and name.

use crate::helpers::*;
use image::{DynamicImage, ImageFormat, Rgba, RgbaImage};
use reqwest::multipart::{Form, Part};
use reqwest::{Client, StatusCode};
use std::io::Cursor;

pub fn picture(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let img = RgbaImage::from_fn(width, height, |x, y| Rgba([(x % 255) as u8, (y % 255) as u8, 90, 255]));
    let img = if format == ImageFormat::Jpeg {
        DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(img).to_rgb8())
    } else {
        DynamicImage::ImageRgba8(img)
    };
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), format).unwrap();
    out
}

/// A PNG whose header declares `width`×`height` pixels, with almost no pixel data behind it.
fn declared_png(width: u32, height: u32) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(&mut png, b"IEND", &[]);
    png
}

async fn upload(
    app: &TestApp,
    client: &Client,
    file_name: &str,
    mime: &str,
    bytes: Vec<u8>,
    accept: &str,
) -> reqwest::Response {
    let part = Part::bytes(bytes).file_name(file_name.to_owned()).mime_str(mime).unwrap();
    client
        .post(app.url("/api/avatar"))
        .header("accept", accept)
        .multipart(Form::new().part("avatar", part))
        .send()
        .await
        .unwrap()
}

/// As the hydrated page uploads: the answer is the new URL or the message, as text.
pub async fn upload_js(
    app: &TestApp,
    client: &Client,
    file_name: &str,
    mime: &str,
    bytes: Vec<u8>,
) -> (StatusCode, String) {
    text(upload(app, client, file_name, mime, bytes, "text/plain").await).await
}

fn stored_files(app: &TestApp) -> Vec<String> {
    match std::fs::read_dir(app.data_dir.path().join("uploads/avatars")) {
        Ok(entries) => entries.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => Vec::new(),
    }
}

#[tokio::test]
async fn an_uploaded_picture_is_resized_served_safely_and_replaces_the_previous_one() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada Lovelace", "ada@example.com").await;
    let (_, page) = text(app.get(&ada, "/profile").await).await;
    assert!(page.contains(r#"alt="Ada Lovelace""#) && page.contains("data:image/svg+xml,"), "a drawn default first");

    let (status, first) = upload_js(&app, &ada, "me.png", "image/png", picture(640, 480, ImageFormat::Png)).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert!(first.starts_with("/avatars/") && first.ends_with(".jpg"), "{first}");
    let res = ada.get(app.url(&first)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.headers().clone();
    assert_eq!(h["content-type"], "image/jpeg");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-security-policy"], "default-src 'none'; sandbox");
    assert!(h["cache-control"].to_str().unwrap().contains("immutable"));
    let served = image::load_from_memory(&res.bytes().await.unwrap()).unwrap();
    assert_eq!((served.width(), served.height()), (256, 256));
    let (_, page) = text(app.get(&ada, "/profile").await).await;
    assert!(page.contains(&format!(r#"src="{first}""#)), "{page}");

    // Without JavaScript: a form post that comes back to the profile.
    let res = upload(&app, &ada, "photo.jpg", "image/jpeg", picture(300, 900, ImageFormat::Jpeg), "text/html").await;
    assert_redirect(&res, "/profile");
    let (_, page) = text(app.get(&ada, "/profile").await).await;
    assert!(!page.contains(&first), "the page shows the new picture");
    assert_eq!(ada.get(app.url(&first)).send().await.unwrap().status(), StatusCode::NOT_FOUND, "old file gone");
    assert_eq!(stored_files(&app).len(), 1);
}

#[tokio::test]
async fn files_that_are_not_usable_pictures_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", "ada@example.com").await;
    let truncated = picture(64, 64, ImageFormat::Png)[..100].to_vec();
    let cases: Vec<(&str, &str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "page.png",
            "image/png",
            b"<!DOCTYPE html><script>alert(1)</script>".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not a picture we can use",
        ),
        (
            "logo.svg",
            "image/svg+xml",
            br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#.to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not a picture we can use",
        ),
        ("cut.png", "image/png", truncated, StatusCode::UNPROCESSABLE_ENTITY, "could not be read"),
        ("huge.png", "image/png", declared_png(20_000, 20_000), StatusCode::UNPROCESSABLE_ENTITY, "too many pixels"),
        ("empty.png", "image/png", Vec::new(), StatusCode::BAD_REQUEST, "Choose a picture"),
    ];
    for (name, mime, bytes, status, message) in cases {
        let (got, body) = upload_js(&app, &ada, name, mime, bytes).await;
        assert_eq!(got, status, "{name}: {body}");
        assert!(body.contains(message), "{name}: {body}");
    }
    assert!(stored_files(&app).is_empty());
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE avatar_key IS NOT NULL").await, 0);

    // A polyglot (a real picture with a script behind it) is re-encoded: only the pixels survive, under a
    // name the server chose, whatever the upload was called.
    let mut polyglot = picture(32, 32, ImageFormat::Png);
    polyglot.extend_from_slice(b"<script>alert(1)</script>");
    let (status, url) = upload_js(&app, &ada, "../../evil.html", "text/html", polyglot).await;
    assert_eq!(status, StatusCode::OK, "{url}");
    let stored = ada.get(app.url(&url)).send().await.unwrap().bytes().await.unwrap();
    assert!(!stored.windows(7).any(|w| w == b"<script"));
    assert_eq!(stored_files(&app).len(), 1);
    assert!(!app.data_dir.path().join("evil.html").exists() && !stored_files(&app)[0].contains("evil"));

    // Without JavaScript the profile shows why, and nothing changes.
    let res = upload(&app, &ada, "page.png", "image/png", b"<html></html>".to_vec(), "text/html").await;
    assert_redirect(&res, "/profile?avatar_error=not_image");
    let (_, page) = text(app.get(&ada, &location(&res)).await).await;
    assert!(page.contains(r#"role="alert""#) && page.contains("not a picture we can use"), "{page}");
}

#[tokio::test]
async fn an_oversized_upload_is_refused_with_413_whether_or_not_it_declares_its_length() {
    let app = spawn_app_with(&[("APP_AVATAR_MAX_BYTES", "1MB")]).await;
    let ada = app.signed_in_user("Ada", "ada@example.com").await;
    let big = vec![0u8; 2 * 1024 * 1024];

    let (status, body) = upload_js(&app, &ada, "big.png", "image/png", big.clone()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");

    // A form posted without JavaScript goes back to the profile, which says why (the browser test sends
    // it the way a browser does, and sees that page rather than a connection error).
    let res = upload(&app, &ada, "big.png", "image/png", big.clone(), "text/html").await;
    assert_redirect(&res, "/profile?avatar_error=too_large");

    // Streamed without a Content-Length: refused once the limit is passed.
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> =
        big.chunks(64 * 1024).map(|c| Ok(bytes::Bytes::copy_from_slice(c))).collect();
    let part = Part::stream(reqwest::Body::wrap_stream(futures_util::stream::iter(chunks))).file_name("big.png");
    let res = ada
        .post(app.url("/api/avatar"))
        .header("accept", "text/plain")
        .multipart(Form::new().part("avatar", part))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(stored_files(&app).is_empty());
}

#[tokio::test]
async fn guests_and_other_sites_cannot_upload() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", "ada@example.com").await;
    let (status, _) = upload_js(&app, &browser(), "me.png", "image/png", picture(10, 10, ImageFormat::Png)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let part = Part::bytes(picture(10, 10, ImageFormat::Png)).file_name("me.png");
    let res = ada
        .post(app.url("/api/avatar"))
        .header("origin", "https://evil.test")
        .multipart(Form::new().part("avatar", part))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(stored_files(&app).is_empty());
}

#[tokio::test]
async fn names_are_trimmed_checked_and_shown_as_text() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", "ada@example.com").await;
    let (status, body) =
        text(app.call(&ada, "/api/update_name", &[("name", "  <script>alert(1)</script>  ")]).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(r#""name":"<script>alert(1)</script>""#), "{body}");
    let (_, page) = text(app.get(&ada, "/profile").await).await;
    assert!(
        page.contains("Hello, &lt;script&gt;alert(1)&lt;/script&gt;") && !page.contains("<script>alert(1)"),
        "{page}"
    );

    for (bad, message) in [
        ("   ", "Enter your name."),
        (&"é".repeat(81) as &str, "at most 80 characters"),
        ("Ada\u{202E}", "control characters"),
    ] {
        let (status, body) = text(app.call(&ada, "/api/update_name", &[("name", bad)]).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body.contains(message) && body.contains("\"field\":\"Name\""), "{body}");
    }
    assert!(text(app.get(&ada, "/profile").await).await.1.contains("Hello, &lt;script&gt;"), "refusals change nothing");
}

#[tokio::test]
async fn without_javascript_the_name_editor_is_a_page_and_a_form() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", "ada@example.com").await;
    let (_, page) = text(app.get(&ada, "/profile?edit=name").await).await;
    assert!(page.contains(r#"<label for="change-name-field-name">Name</label>"#) && page.contains(">Save<"), "{page}");

    let res = app.post_form(&ada, "/api/update_name", "/profile?edit=name", &[("name", "")]).await;
    assert_redirect(&res, "/profile?edit=name&name=&__path=");
    let (_, page) = text(app.get(&ada, &location(&res)).await).await;
    assert!(page.contains("Enter your name."), "{page}");

    let res = app.post_form(&ada, "/api/update_name", "/profile?edit=name", &[("name", "Augusta Ada King")]).await;
    assert_redirect(&res, "/profile");
    assert!(text(app.get(&ada, "/profile").await).await.1.contains("Hello, Augusta Ada King"));
}

#[tokio::test]
async fn nobody_can_change_another_users_name_or_avatar() {
    let app = spawn_app().await;
    let ada = app.signed_in_user("Ada", "ada@example.com").await;
    let bob = app.signed_in_user("Bob", "bob@example.com").await;
    let bob_id: String = sqlx::query_scalar("SELECT id FROM users WHERE email = 'bob@example.com'")
        .fetch_one(app.state.db.reads())
        .await
        .unwrap();
    // Ids are never read from the client: extra ones are ignored, and the change lands on the caller.
    app.call(&ada, "/api/update_name", &[("name", "Mallory"), ("id", &bob_id), ("user_id", &bob_id)]).await;
    let part = Part::bytes(picture(20, 20, ImageFormat::Png)).file_name("x.png");
    ada.post(app.url(&format!("/api/avatar?user_id={bob_id}")))
        .header("accept", "text/plain")
        .multipart(Form::new().part("avatar", part).text("user_id", bob_id.clone()))
        .send()
        .await
        .unwrap();
    assert!(text(app.get(&bob, "/profile").await).await.1.contains("Hello, Bob"));
    let bob_avatar: Option<String> = sqlx::query_scalar("SELECT avatar_key FROM users WHERE id = $1")
        .bind(&bob_id)
        .fetch_one(app.state.db.reads())
        .await
        .unwrap();
    assert_eq!(bob_avatar, None);
}
