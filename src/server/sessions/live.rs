//! Live news of an account's sessions for its open tabs, over server-sent events (`GET /api/live`): a tab
//! whose session ended (signed out from another device, all others signed out, the password changed or
//! reset, the account secured) leaves for the login page by itself, and the account's other tabs refresh
//! their session list when a session starts or ends.
//!
//! The news itself says only "this account's sessions changed" (`Live::sessions_changed`, called after
//! the change is committed); each stream then asks the database whether its own session still exists, so
//! a message can be late, doubled or lost to a restart without any tab drawing a wrong conclusion (a tab
//! that misses one finds out at its next request, as without JavaScript).
//!
//! Within one server the news goes through a channel per account with open streams. With PostgreSQL it
//! goes through `NOTIFY`, which every app server `LISTEN`s to (`listen`), so a sign-out on one server
//! reaches a tab connected to another.
//!
//! Streams are bounded per session (`STREAMS_PER_SESSION`), per account (`STREAMS_PER_ACCOUNT`: one
//! account signing in again and again cannot take the server's room from everyone else) and per server
//! (`STREAMS_PER_SERVER`), send a
//! comment every `HEARTBEAT` (proxies close quiet connections), and free everything when the browser
//! leaves.

use super::store;
use crate::server::platform::db::Db;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// Open streams one session may hold (its tabs).
pub const STREAMS_PER_SESSION: usize = 16;
/// Open streams one account's sessions may hold together.
pub const STREAMS_PER_ACCOUNT: usize = 64;
/// Open streams one app server holds at most.
pub const STREAMS_PER_SERVER: usize = 20_000;
/// How often a quiet stream sends a comment.
pub const HEARTBEAT: Duration = Duration::from_secs(20);
/// The PostgreSQL channel the news goes through.
const CHANNEL: &str = "authkit_sessions";

/// This server's open streams and the accounts they listen for.
#[derive(Default)]
pub struct Live {
    open: Mutex<Open>,
    /// Flips to true at shutdown: every stream ends, so the server's graceful shutdown is not held up.
    closing: watch::Sender<bool>,
    /// With PostgreSQL: whether news from other app servers is being listened to now (`listen`).
    listening: std::sync::atomic::AtomicBool,
}

#[derive(Default)]
struct Open {
    /// Per account with open streams, its channel (a message is "its sessions changed").
    accounts: HashMap<String, broadcast::Sender<()>>,
    per_session: HashMap<String, usize>,
    streams: usize,
}

/// Why a stream was not opened.
#[derive(Debug, PartialEq, Eq)]
pub enum Full {
    Session,
    Account,
    Server,
}

/// An open stream's place: dropped when the stream ends, it gives the place back.
pub struct Subscription {
    live: Arc<Live>,
    user_id: String,
    session_id: String,
    news: Option<broadcast::Receiver<()>>,
    closing: watch::Receiver<bool>,
}

/// What a stream has to say next.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// The account's sessions changed and this one is still there: refresh the list.
    SessionsChanged,
    /// This session ended: leave.
    Ended,
    /// The server is shutting down.
    Closing,
}

impl Live {
    /// Opens a stream for `session_id` of `user_id`, if there is room.
    pub fn subscribe(self: &Arc<Self>, user_id: &str, session_id: &str) -> Result<Subscription, Full> {
        let mut open = self.open.lock().expect("live streams lock");
        if open.streams >= STREAMS_PER_SERVER {
            return Err(Full::Server);
        }
        // Each stream holds one receiver of its account's channel: their count is the account's streams.
        if open.accounts.get(user_id).is_some_and(|channel| channel.receiver_count() >= STREAMS_PER_ACCOUNT) {
            return Err(Full::Account);
        }
        let tabs = open.per_session.entry(session_id.to_owned()).or_default();
        if *tabs >= STREAMS_PER_SESSION {
            return Err(Full::Session);
        }
        *tabs += 1;
        open.streams += 1;
        let news = open.accounts.entry(user_id.to_owned()).or_insert_with(|| broadcast::channel(4).0).subscribe();
        Ok(Subscription {
            live: self.clone(),
            user_id: user_id.to_owned(),
            session_id: session_id.to_owned(),
            news: Some(news),
            closing: self.closing.subscribe(),
        })
    }

    /// Tells the account's open tabs, on every app server, that its sessions changed. Called after the
    /// change is committed. Never fails the change: a tab that misses the news finds out at its next
    /// request.
    pub async fn sessions_changed(&self, db: &Db, user_id: &str) {
        if db.is_sqlite() {
            self.tell(user_id);
            return;
        }
        // Every server's listener, this one's too, passes it on (`listen`).
        if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(user_id).execute(db.writes()).await {
            tracing::warn!(error = %e, "could not send news of a session change to other app servers");
            self.tell(user_id);
        }
    }

    /// Passes news to this server's streams of the account.
    fn tell(&self, user_id: &str) {
        if let Some(channel) = self.open.lock().expect("live streams lock").accounts.get(user_id) {
            let _ = channel.send(());
        }
    }

    /// Passes news to every stream of this server: after the listener lost its connection, any account
    /// may have changed meanwhile.
    fn tell_everyone(&self) {
        for channel in self.open.lock().expect("live streams lock").accounts.values() {
            let _ = channel.send(());
        }
    }

    /// Ends every stream (at shutdown).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// With PostgreSQL, whether this server hears other servers' news now; with SQLite, always false.
    pub fn is_listening(&self) -> bool {
        self.listening.load(std::sync::atomic::Ordering::Acquire)
    }

    /// How many streams are open on this server.
    pub fn open_streams(&self) -> usize {
        self.open.lock().expect("live streams lock").streams
    }
}

impl Subscription {
    /// Waits for what the stream says next (`HEARTBEAT` comments are the caller's: axum's `KeepAlive`).
    pub async fn next(&mut self, db: &Db) -> Next {
        loop {
            let Some(news) = self.news.as_mut() else { return Next::Closing };
            tokio::select! {
                _ = self.closing.wait_for(|closing| *closing) => return Next::Closing,
                received = news.recv() => match received {
                    // Lagged: news was missed, which is news too.
                    Ok(()) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return Next::Closing,
                },
            }
            match store::exists(db.reads(), &self.session_id).await {
                Ok(true) => return Next::SessionsChanged,
                Ok(false) => return Next::Ended,
                // The database is away: wait for more news rather than send a tab away wrongly.
                Err(e) => tracing::warn!(error = %e, "a live stream could not check its session"),
            }
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // The receiver goes first, so an account whose last stream this was is seen to have none.
        self.news = None;
        let mut open = self.live.open.lock().expect("live streams lock");
        open.streams -= 1;
        if let Some(tabs) = open.per_session.get_mut(&self.session_id) {
            *tabs -= 1;
            if *tabs == 0 {
                open.per_session.remove(&self.session_id);
            }
        }
        if open.accounts.get(&self.user_id).is_some_and(|channel| channel.receiver_count() == 0) {
            open.accounts.remove(&self.user_id);
        }
    }
}

/// `GET /api/live`: the event stream of the session making the request. Events: `sessions` (the account's
/// sessions changed; this one is still there) and `ended` (this one ended: leave), then the stream
/// closes. A cookie of a session that has already ended gets `ended` at once; no session cookie, 401.
pub async fn events(
    axum::extract::State(app): axum::extract::State<crate::server::AppState>,
    axum::Extension(lookup): axum::Extension<store::Lookup>,
) -> axum::response::Response {
    use axum::http::{header, StatusCode};
    use axum::response::sse::{Event, KeepAlive, Sse};
    use axum::response::IntoResponse;
    use std::convert::Infallible;

    let ended = || Ok::<_, Infallible>(Event::default().event("ended").data("ended"));
    let subscription = match &lookup {
        store::Lookup::Guest => return StatusCode::UNAUTHORIZED.into_response(),
        store::Lookup::Ended => {
            return Sse::new(futures_util::stream::once(async move { ended() })).into_response();
        }
        store::Lookup::Active(session) => match app.live.subscribe(&session.user_id, &session.session_id) {
            Ok(subscription) => subscription,
            // The browser tries again by itself, later; meanwhile the page works as without JavaScript.
            Err(_) => return (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "60")]).into_response(),
        },
    };
    let db = app.db.clone();
    let events = futures_util::stream::unfold(Some(subscription), move |subscription| {
        let db = db.clone();
        async move {
            let mut subscription = subscription?;
            match subscription.next(&db).await {
                Next::SessionsChanged => {
                    Some((Ok(Event::default().event("sessions").data("changed")), Some(subscription)))
                }
                Next::Ended => Some((ended(), None)),
                Next::Closing => None,
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(HEARTBEAT)).into_response()
}

/// With PostgreSQL: listens for news from every app server and passes it on to this one's streams, for
/// as long as the server runs, connecting again after a failure.
pub async fn listen(live: Arc<Live>, url: String) {
    let mut wait = Duration::from_millis(250);
    loop {
        match sqlx::postgres::PgListener::connect(&url).await {
            Ok(mut listener) => match listener.listen(CHANNEL).await {
                Ok(()) => {
                    wait = Duration::from_millis(250);
                    live.listening.store(true, std::sync::atomic::Ordering::Release);
                    // Whatever happened while not listening is news to everyone.
                    live.tell_everyone();
                    loop {
                        match listener.recv().await {
                            Ok(notification) => live.tell(notification.payload()),
                            Err(e) => {
                                live.listening.store(false, std::sync::atomic::Ordering::Release);
                                tracing::warn!(error = %e, "lost the session news connection; connecting again");
                                break;
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not listen for session news"),
            },
            Err(e) => tracing::warn!(error = %e, "could not connect to listen for session news"),
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_bounded_per_session_and_give_their_place_back() {
        let live = Arc::new(Live::default());
        let held: Vec<_> = (0..STREAMS_PER_SESSION).map(|_| live.subscribe("ada", "laptop").unwrap()).collect();
        assert_eq!(live.subscribe("ada", "laptop").err(), Some(Full::Session));
        assert!(live.subscribe("ada", "phone").is_ok(), "another session has room of its own");
        assert_eq!(live.open_streams(), STREAMS_PER_SESSION);
        drop(held);
        assert_eq!(live.open_streams(), 0);
        let open = live.open.lock().unwrap();
        assert!(open.accounts.is_empty() && open.per_session.is_empty(), "nothing left behind");
    }

    #[test]
    fn one_account_cannot_hold_more_than_its_share_whatever_its_sessions() {
        let live = Arc::new(Live::default());
        let held: Vec<_> = (0..STREAMS_PER_ACCOUNT)
            .map(|n| live.subscribe("mallory", &format!("session {}", n / STREAMS_PER_SESSION)).unwrap())
            .collect();
        assert_eq!(live.subscribe("mallory", "one more session").err(), Some(Full::Account));
        assert!(live.subscribe("ada", "laptop").is_ok(), "other accounts still get in");
        drop(held);
        assert!(live.subscribe("mallory", "one more session").is_ok(), "the places came back");
    }
}
