//! Benchmark helpers, built in the same run as the app (`bench/run.sh`):
//!
//! - `bench-baseline serve ADDR`: a bare axum handler returning a fixed body — the HTTP ceiling of this
//!   machine, to compare the app's pages against.
//! - `bench-baseline serve-leptos ADDR`: the smallest page Leptos serves the way the app serves its pages,
//!   through `leptos_axum` and the router — the cost per page of that integration.
//! - `bench-baseline serve-leptos-direct ADDR`: the same page rendered by Leptos' own renderer in a plain axum
//!   handler, without `leptos_axum` — the cost per page of rendering it.
//! - `bench-baseline render-profile N`: the time to render `/profile`'s content (its two islands, with a
//!   seeded user's data) to HTML, on one thread, without HTTP or a database; prints the mean in µs, the
//!   HTML's size in bytes, then N.
//! - `bench-baseline argon2 N`: the time of one password hash with the app's own parameters (mean of N),
//!   alone and while every core hashes at once, for the sign-in ceiling (cores ÷ time of one hash); prints
//!   the two times in ms, then N.
//! - `bench-baseline hash PASSWORD`: the PHC string to seed benchmark users with.

use authkit::domain::Password;
use authkit::server::accounts::passwords::Passwords;
use authkit::server::platform::cpu_work::CpuWork;
use leptos::prelude::*;
use std::time::Instant;

// The server's allocator, so a hash here costs what it costs there: with the system allocator each hash
// maps its 19 MiB afresh and faults every page in: 24.3 ms against 17.3, a "limit" 30% too low.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("serve") => {
            let addr = args.get(2).cloned().unwrap_or_else(|| "127.0.0.1:3900".into());
            let app = axum::Router::new().route("/", axum::routing::get(|| async { "Hello, world!" }));
            let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
            axum::serve(listener, app).await.expect("serve");
        }
        Some("serve-leptos") => {
            let addr = args.get(2).cloned().unwrap_or_else(|| "127.0.0.1:3901".into());
            let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
            axum::serve(listener, smallest_leptos_page(&addr)).await.expect("serve");
        }
        Some("serve-leptos-direct") => {
            let addr = args.get(2).cloned().unwrap_or_else(|| "127.0.0.1:3902".into());
            let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
            let app =
                axum::Router::new().route("/", axum::routing::get(|| async { smallest_page_rendered_directly() }));
            axum::serve(listener, app).await.expect("serve");
        }
        Some("render-profile") => {
            let n: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(2000);
            let (mean_us, bytes) = mean_profile_render_us(n);
            println!("{mean_us:.1} {bytes} {n}");
        }
        Some("argon2") => {
            let n: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(20);
            let passwords = Passwords::new(CpuWork::start().expect("threads")).expect("argon2");
            let password = Password::parse("correct horse battery staple").expect("valid");
            let hash = passwords.hash(&password).await.expect("hash");
            let alone = mean_hash_ms(&passwords, &hash, n, 1).await;
            let cores = authkit::server::platform::cpu_work::cores();
            let all_cores = mean_hash_ms(&passwords, &hash, n, cores).await;
            println!("{alone:.2} {all_cores:.2} {n}");
        }
        Some("hash") => {
            let password =
                Password::parse(args.get(2).map(String::as_str).unwrap_or_default()).expect("12+ characters");
            let passwords = Passwords::new(CpuWork::start().expect("threads")).expect("argon2");
            println!("{}", passwords.hash(&password).await.expect("hash"));
        }
        _ => eprintln!(
            "usage: bench-baseline serve ADDR | serve-leptos ADDR | serve-leptos-direct ADDR | render-profile N \
             | argon2 N | hash PASSWORD"
        ),
    }
}

/// The smallest page Leptos can serve the way the app serves its pages (through `leptos_axum` and its router;
/// no middleware, no database): what that integration costs per page, between (a) and the app's pages.
fn smallest_leptos_page(addr: &str) -> axum::Router {
    use leptos_axum::{generate_route_list, LeptosRoutes};
    use leptos_router::components::{Route, Router, Routes};
    use leptos_router::{path, SsrMode};

    #[component]
    fn Hello() -> impl IntoView {
        view! {
            <Router>
                <Routes fallback=|| ()>
                    <Route path=path!("/") ssr=SsrMode::Async view=hello/>
                </Routes>
            </Router>
        }
    }
    let options = LeptosOptions::builder()
        .output_name("hello")
        .site_addr(addr.parse::<std::net::SocketAddr>().expect("address"))
        .build();
    let routes = generate_route_list(Hello);
    axum::Router::new().leptos_routes(&options, routes, || smallest_document(Hello)).with_state(options)
}

/// The same page rendered by Leptos' renderer alone: no `leptos_axum`, no router, no streamed response.
fn smallest_page_rendered_directly() -> axum::response::Html<String> {
    axum::response::Html(render_to_html(|| smallest_document(hello)))
}

/// The smallest page's one paragraph.
fn hello() -> impl IntoView {
    view! { <p>"Hello, world!"</p> }
}

/// The smallest page's document around `body`: the same both ways the page is served.
fn smallest_document<V: IntoView + 'static>(body: impl Fn() -> V + Send + 'static) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head><meta charset="utf-8"/></head>
            <body>{body()}</body>
        </html>
    }
}

/// Renders a view to HTML with Leptos' renderer alone, inside a reactive owner of its own (components make
/// their signals and contexts in one), dropped afterwards as `leptos_axum` drops a request's.
fn render_to_html<V: IntoView>(view: impl FnOnce() -> V) -> String {
    // As the server renders: with a server's shared context, so that code meant for the browser only
    // (a window's event listener, say) knows it is not there.
    let owner = Owner::new_root(Some(std::sync::Arc::new(hydration_context::SsrSharedContext::new_islands())));
    let html = owner.with(|| view().to_html());
    owner.unset_with_forced_cleanup();
    html
}

/// The mean time, in µs, to render `/profile`'s content for a user seeded as `bench/seed.py` seeds them (5
/// sessions, the default avatar, the default settings), and the HTML's size. One thread, after 100 renders
/// not timed.
fn mean_profile_render_us(n: usize) -> (f64, usize) {
    use authkit::api::account::Profile;
    use authkit::api::sessions::{DeviceList, DeviceSession};
    use authkit::api::sign_in_methods::SignInMethods;
    use authkit::pages::profile::{AddressState, ProfileContent};
    use authkit::server::platform::settings::Settings;
    use authkit::server::sessions::user_agents;
    use authkit::server::storage::avatars;

    let settings = Settings::from_sources("", |_| None).expect("the default settings");
    let now = 1_800_000_000;
    let (name, user_id) = ("Bench User 0", format!("{:032x}", 0));
    let profile = Profile {
        name: name.into(),
        email: "bench-0@example.com".into(),
        avatar_url: avatars::default_avatar(name, &user_id),
        avatar_max_bytes: settings.storage.avatar_max_bytes(),
        deletion_grace: authkit::time_format::exact_length(settings.app.deletion_grace),
    };
    let sessions = DeviceList {
        now,
        sessions: (0..5)
            .map(|k| DeviceSession {
                id: format!("{:024x}{k:08x}", 0),
                device: user_agents::describe(Some("bench")),
                ip: Some("127.0.0.1".into()),
                started_at: now,
                last_active_at: now,
                current: k == 0,
            })
            .collect(),
    };
    let render = || {
        render_to_html(|| {
            let (profile, sessions) = (profile.clone(), Ok(sessions.clone()));
            let methods = Ok(SignInMethods { now, passkeys: Vec::new(), two_factor: None });
            view! { <ProfileContent profile sessions methods address=AddressState::default()/> }
        })
    };
    for _ in 0..100 {
        render();
    }
    let started = Instant::now();
    let mut bytes = 0;
    for _ in 0..n {
        bytes = render().len();
    }
    (started.elapsed().as_secs_f64() * 1e6 / n as f64, bytes)
}

/// The mean time of one hash (a sign-in's password check) while `parallel` of them run at once, `n` each.
/// Hashes running side by side share the memory bus and caches, so each takes longer than one alone.
///
/// The mean, not the median: the limit is a rate, and a rate pays for every hash, the slow ones too (side
/// by side, most take 18 to 25 ms here, one in ten 30 to 40, and now and then one 140).
async fn mean_hash_ms(passwords: &Passwords, hash: &str, n: usize, parallel: usize) -> f64 {
    let mut runs = tokio::task::JoinSet::new();
    for _ in 0..parallel {
        let (passwords, hash) = (passwords.clone(), hash.to_owned());
        runs.spawn(async move {
            // Not timed: the first hash on a thread took up to 245 ms in runs here, a start-up cost that a
            // running server paid long ago.
            passwords.verify("correct horse battery staple", Some(&hash)).await.expect("verify");
            let mut times = Vec::with_capacity(n);
            for _ in 0..n {
                let started = Instant::now();
                passwords.verify("correct horse battery staple", Some(&hash)).await.expect("verify");
                times.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            times
        });
    }
    let times: Vec<f64> = runs.join_all().await.into_iter().flatten().collect();
    times.iter().sum::<f64>() / times.len() as f64
}
