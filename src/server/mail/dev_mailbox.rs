//! `/dev/mailbox`: the outbox as a web page, so a developer can open the links the app mailed. Mounted
//! only when asked for (`APP_DEV_MAILBOX=true`, which `make run` sets), in development (`LEPTOS_ENV=DEV`),
//! with mail going to the outbox; and answered only to a browser on the same machine that came through
//! no proxy (a proxy on the same machine would otherwise make every visitor look local).

use crate::server::mail::transport::Mailer;
use crate::server::platform::state::AppState;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use html_escape::encode_quoted_attribute;
use mail_parser::MessageParser;
use std::net::SocketAddr;

pub struct OutboxMessage {
    pub file: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub modified: std::time::SystemTime,
}

/// Every message in the outbox, newest first.
pub fn read_outbox(dir: &std::path::Path) -> std::io::Result<Vec<OutboxMessage>> {
    let mut messages = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "eml") {
            continue;
        }
        let raw = std::fs::read(&path)?;
        let Some(parsed) = MessageParser::default().parse(&raw) else { continue };
        let to = parsed.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_owned();
        messages.push(OutboxMessage {
            file: entry.file_name().to_string_lossy().into_owned(),
            to,
            subject: parsed.subject().unwrap_or_default().to_owned(),
            text: parsed.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
            modified: entry.metadata()?.modified()?,
        });
    }
    messages.sort_by_key(|m| std::cmp::Reverse(m.modified));
    Ok(messages)
}

pub async fn page(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    // The outbox holds live sign-in links: only the machine the server runs on may read it.
    let proxied = ["forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip", "via"]
        .iter()
        .any(|name| headers.contains_key(*name));
    if !peer.ip().is_loopback() || proxied {
        return StatusCode::NOT_FOUND.into_response();
    }
    let dir = Mailer::outbox_dir(&app.settings);
    let messages = tokio::task::spawn_blocking(move || read_outbox(&dir)).await.ok().and_then(Result::ok);
    let mut html = String::from(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Mailbox (development)</title>\
         <link rel=\"stylesheet\" href=\"/pkg/authkit.css\"></head><body><main class=\"page\">\
         <h1>Mailbox</h1><p>Mail the app has written to the outbox, newest first. This page exists only in development.</p>",
    );
    match messages {
        Some(messages) if !messages.is_empty() => {
            for m in messages {
                html.push_str(&format!(
                    "<article class=\"card\"><h2>{}</h2><p>To {} · {}</p><pre>{}</pre>",
                    encode_quoted_attribute(&m.subject),
                    encode_quoted_attribute(&m.to),
                    encode_quoted_attribute(&m.file),
                    encode_quoted_attribute(&m.text)
                ));
                for link in m.text.split_whitespace().filter(|w| w.starts_with("http://") || w.starts_with("https://"))
                {
                    html.push_str(&format!("<p><a href=\"{0}\">{0}</a></p>", encode_quoted_attribute(link)));
                }
                html.push_str("</article>");
            }
        }
        _ => html.push_str("<p>The outbox is empty.</p>"),
    }
    html.push_str("</main></body></html>");
    let policy = "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    ([(axum::http::header::CONTENT_SECURITY_POLICY, policy)], Html(html)).into_response()
}
