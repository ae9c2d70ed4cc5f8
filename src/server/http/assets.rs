//! `/pkg/*`: the compiled site (WASM, JS, CSS). Each file is compressed once — brotli for browsers that
//! take it, else gzip — and served from memory afterwards, with an ETag so a returning browser gets a
//! 304. A rebuilt file (new size or time) is compressed again.

use crate::server::platform::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

impl Encoding {
    fn preferred(headers: &HeaderMap) -> Self {
        let accepted = headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let offers = |name: &str| accepted.split(',').any(|part| part.trim().split(';').next() == Some(name));
        if offers("br") {
            Encoding::Brotli
        } else if offers("gzip") {
            Encoding::Gzip
        } else {
            Encoding::Identity
        }
    }

    fn header(self) -> Option<&'static str> {
        match self {
            Encoding::Brotli => Some("br"),
            Encoding::Gzip => Some("gzip"),
            Encoding::Identity => None,
        }
    }

    fn encode(self, data: &[u8]) -> std::io::Result<Vec<u8>> {
        match self {
            Encoding::Brotli => {
                let mut out = Vec::with_capacity(data.len() / 3);
                // The best compression for release builds, compressed once. A debug build's WASM is
                // megabytes and changes on every rebuild: best quality there took 40 s a file, holding up
                // the page's hydration in `make dev`; quality 5 takes a moment.
                let quality = if cfg!(debug_assertions) { 5 } else { 11 };
                let params = brotli::enc::BrotliEncoderParams { quality, lgwin: 22, ..Default::default() };
                brotli::BrotliCompress(&mut &data[..], &mut out, &params)?;
                Ok(out)
            }
            Encoding::Gzip => {
                let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
                encoder.write_all(data)?;
                encoder.finish()
            }
            Encoding::Identity => Ok(data.to_vec()),
        }
    }
}

#[derive(Clone)]
struct Compressed {
    modified: SystemTime,
    len: u64,
    etag: String,
    body: Bytes,
}

/// The compressed files, by name and encoding.
#[derive(Clone, Default)]
pub struct Assets {
    cache: Arc<Mutex<HashMap<(String, Encoding), Compressed>>>,
}

fn content_type(file: &str) -> &'static str {
    match file.rsplit('.').next() {
        Some("wasm") => "application/wasm",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Only plain file names: no directories, no `..`.
fn is_plain_name(file: &str) -> bool {
    !file.is_empty()
        && !file.starts_with('.')
        && file.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The file in this encoding, from memory when still current.
async fn compressed(app: &AppState, file: &str, encoding: Encoding) -> Option<Compressed> {
    let path: PathBuf = app.settings.site.root.join("pkg").join(file);
    let meta = tokio::fs::metadata(&path).await.ok()?;
    let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let key = (file.to_owned(), encoding);
    let cached = app.assets.cache.lock().ok().and_then(|c| c.get(&key).cloned());
    if let Some(hit) = cached.filter(|c| c.modified == modified && c.len == meta.len()) {
        return Some(hit);
    }
    let data = tokio::fs::read(&path).await.ok()?;
    let encoded = tokio::task::spawn_blocking(move || encoding.encode(&data)).await.ok()?.ok()?;
    let etag = format!(
        "\"{:x}-{:x}-{}\"",
        meta.len(),
        modified.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0),
        encoding.header().unwrap_or("identity")
    );
    let fresh = Compressed { modified, len: meta.len(), etag, body: Bytes::from(encoded) };
    if let Ok(mut cache) = app.assets.cache.lock() {
        cache.insert(key, fresh.clone());
    }
    Some(fresh)
}

/// Compresses every file of the site ahead of the first visitor (brotli at its best takes a few seconds
/// for the WASM). Run by the server binary at start.
pub async fn warm_up(app: AppState) {
    let Ok(mut entries) = tokio::fs::read_dir(app.settings.site.root.join("pkg")).await else { return };
    let mut files = 0;
    while let Ok(Some(entry)) = entries.next_entry().await {
        let file = entry.file_name().to_string_lossy().into_owned();
        if is_plain_name(&file) {
            for encoding in [Encoding::Brotli, Encoding::Gzip] {
                compressed(&app, &file, encoding).await;
            }
            files += 1;
        }
    }
    // The benchmark waits for this line: compressing takes both cores for several seconds after a start.
    tracing::info!(files, "site files compressed");
}

pub async fn serve(State(app): State<AppState>, Path(file): Path<String>, headers: HeaderMap) -> Response {
    if !is_plain_name(&file) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let encoding = Encoding::preferred(&headers);
    let Some(compressed) = compressed(&app, &file, encoding).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(&compressed.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        compressed.body.clone().into_response()
    };
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(&file)));
    // The names do not change between builds: browsers keep the file but ask whether it changed.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Ok(etag) = HeaderValue::from_str(&compressed.etag) {
        h.insert(header::ETAG, etag);
    }
    if let Some(name) = encoding.header() {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(name));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_paths_are_refused() {
        for bad in ["", "../app.db", ".env", "a/b.js", "x%2f..", "pkg\\\\x"] {
            assert!(!is_plain_name(bad), "{bad}");
        }
        assert!(is_plain_name("authkit.wasm") && is_plain_name("authkit_bg.js"));
    }

    #[test]
    fn brotli_is_preferred_then_gzip() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
            Encoding::preferred(&h)
        };
        assert_eq!(with("gzip, deflate, br, zstd"), Encoding::Brotli);
        assert_eq!(with("gzip"), Encoding::Gzip);
        assert_eq!(with("identity"), Encoding::Identity);
        assert_eq!(with("brotli-ish"), Encoding::Identity);
    }
}
