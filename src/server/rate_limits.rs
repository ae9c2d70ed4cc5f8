//! Throttling of the requests that guess passwords or send mail: per client address and per account, in
//! memory, with `governor`. Several app servers divide each limit among themselves
//! (`limits.app_servers`), so the total a client gets across all of them stays within the limit without
//! a shared store on the hot path.
//!
//! The clock is the app's own, so tests move time instead of sleeping.

use super::clock::Clock;
use super::settings::LimitSettings;
use governor::clock::Clock as GovernorClock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
struct AppClock(Arc<dyn Clock>);

impl GovernorClock for AppClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        Nanos::from(Duration::from_secs(u64::try_from(self.0.now()).unwrap_or(0)))
    }
}

type Keyed<K> = RateLimiter<K, DashMapStateStore<K>, AppClock, NoOpMiddleware<Nanos>>;

/// A limiter allowing this server's share of `per_hour`.
fn keyed<K: std::hash::Hash + Eq + Clone>(per_hour: NonZeroU32, limits: &LimitSettings, clock: &AppClock) -> Keyed<K> {
    let share = NonZeroU32::new(per_hour.get() / limits.app_servers.get()).unwrap_or(NonZeroU32::MIN);
    RateLimiter::dashmap_with_clock(Quota::per_hour(share), clock.clone())
}

/// What a request is about to do.
#[derive(Clone, Copy, Debug)]
pub enum Attempt {
    /// A password sign-in (right or wrong: a throttled account answers the same either way).
    SignIn,
    /// A sign-up. It mails the address (a link, or a note that the account exists), so per address it
    /// counts against the same allowance as `Mail`: nobody can flood someone's inbox by signing them up.
    SignUp,
    /// Anything that mails a link: magic link, password reset, resend verification.
    Mail,
}

pub struct RateLimits {
    clock: AppClock,
    sign_in_per_ip: Keyed<IpAddr>,
    sign_in_per_account: Keyed<String>,
    sign_up_per_ip: Keyed<IpAddr>,
    mail_per_ip: Keyed<IpAddr>,
    mail_per_account: Keyed<String>,
}

impl RateLimits {
    pub fn new(limits: &LimitSettings, clock: Arc<dyn Clock>) -> Self {
        let clock = AppClock(clock);
        Self {
            sign_in_per_ip: keyed(limits.sign_in_per_ip, limits, &clock),
            sign_in_per_account: keyed(limits.sign_in_per_account, limits, &clock),
            sign_up_per_ip: keyed(limits.sign_up_per_ip, limits, &clock),
            mail_per_ip: keyed(limits.mail_per_ip, limits, &clock),
            mail_per_account: keyed(limits.mail_per_account, limits, &clock),
            clock,
        }
    }

    /// Counts the attempt; `Err` says how long until one more is allowed. `account` is the normalised
    /// email as typed, whether or not such an account exists, so the answer reveals nothing.
    pub fn check(&self, attempt: Attempt, ip: Option<IpAddr>, account: Option<&str>) -> Result<(), Duration> {
        let (by_ip, by_account) = match attempt {
            Attempt::SignIn => (&self.sign_in_per_ip, Some(&self.sign_in_per_account)),
            Attempt::SignUp => (&self.sign_up_per_ip, Some(&self.mail_per_account)),
            Attempt::Mail => (&self.mail_per_ip, Some(&self.mail_per_account)),
        };
        let now = self.clock.now();
        if let Some(ip) = ip {
            by_ip.check_key(&ip).map_err(|not_until| not_until.wait_time_from(now))?;
        }
        if let (Some(limiter), Some(account)) = (by_account, account) {
            let key = account.trim().to_lowercase();
            limiter.check_key(&key).map_err(|not_until| not_until.wait_time_from(now))?;
        }
        Ok(())
    }

    /// Forgets keys whose limits have fully recovered, so memory does not grow with every address seen.
    pub fn forget_recovered(&self) {
        self.sign_in_per_ip.retain_recent();
        self.sign_in_per_account.retain_recent();
        self.sign_up_per_ip.retain_recent();
        self.mail_per_ip.retain_recent();
        self.mail_per_account.retain_recent();
    }
}
