//! Password hashing with argon2id (m = 19456 KiB, t = 2, p = 1: OWASP's baseline).
//!
//! Each hash takes tens of milliseconds of CPU and 19 MiB of memory, so it runs on threads of its own, one
//! per core, never on the async executor: at most one hash per core runs at a time, and a storm of
//! sign-ins queues instead of starving page requests or exhausting memory.

use super::error::Error;
use crate::domain::{Field, InputError, Password};
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::{engine::general_purpose::STANDARD_NO_PAD, Engine as _};
use rand_core::{OsRng, RngCore as _};
use std::sync::{mpsc, Arc, Mutex};

pub const MEMORY_KIB: u32 = 19456;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;

/// zxcvbn's score runs 0 to 4; 3 means "safely unguessable" (more than 10^8 guesses), which a long
/// passphrase reaches easily and a common password, a keyboard walk or a repeat never does.
const MIN_SCORE: zxcvbn::Score = zxcvbn::Score::Three;

/// Refuses a new password that is easy to guess, with the reason and what to do instead (NIST SP 800-63B
/// §5.1.1.2: compare against common and breached-looking passwords; no composition rules). The user's own
/// name and address count as easy to guess too.
pub fn check_strength(password: &Password, user_inputs: &[&str]) -> Result<(), InputError> {
    // zxcvbn matches its dictionaries in lower case; the name and address count as words of their own too.
    let owned: Vec<String> = user_inputs
        .iter()
        .flat_map(|s| {
            std::iter::once(s.to_lowercase()).chain(s.split(|c: char| !c.is_alphanumeric()).map(str::to_lowercase))
        })
        .filter(|s| s.chars().count() > 2)
        .collect();
    let inputs: Vec<&str> = owned.iter().map(String::as_str).collect();
    // zxcvbn ranks a name like any dictionary word; a password that is little more than the user's own
    // name or address is refused outright, with its own reason.
    let mut rest = password.expose().to_lowercase();
    for word in &inputs {
        rest = rest.replace(word, "");
    }
    if rest.chars().filter(|c| c.is_alphanumeric()).count() < 6 && rest != password.expose().to_lowercase() {
        return Err(InputError::new(
            Field::Password,
            "This password is mostly your name or email address, which others can guess. Use words of your own.",
        ));
    }
    let estimate = zxcvbn::zxcvbn(password.expose(), &inputs);
    if estimate.score() >= MIN_SCORE {
        return Ok(());
    }
    let mut message = String::from("This password is too easy to guess.");
    if let Some(feedback) = estimate.feedback() {
        if let Some(warning) = feedback.warning() {
            message = format!("This password is too easy to guess: {}", lowercase_first(&warning.to_string()));
        }
        if let Some(suggestion) = feedback.suggestions().first() {
            message.push(' ');
            message.push_str(&suggestion.to_string());
        }
    }
    if !message.contains("word") {
        message.push_str(" Add another word or two that are not your name or email.");
    }
    Err(InputError::new(Field::Password, message))
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|c| c.to_lowercase().chain(chars).collect()).unwrap_or_default()
}

#[derive(Clone)]
pub struct Passwords {
    hashers: Hashers,
    /// Verified when the email is unknown, so that answer takes as long as a wrong password does.
    dummy_hash: Arc<str>,
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &str) -> Result<String, Error> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("argon2 hash failed: {e}")))
}

/// A well-formed argon2id hash that no password matches: its output is 256 random bits, not anyone's
/// password hashed. Stored to retire a password without a special case in the table (every row keeps
/// a hash, checking one takes as long as ever, and nothing matches it). Making it hashes nothing, so
/// retiring a password adds no time a caller could measure.
pub fn unusable_hash() -> String {
    let mut output = [0u8; 32];
    OsRng.fill_bytes(&mut output);
    let salt = SaltString::generate(&mut OsRng);
    format!(
        "$argon2id$v=19$m={MEMORY_KIB},t={ITERATIONS},p={PARALLELISM}${}${}",
        salt.as_str(),
        STANDARD_NO_PAD.encode(output)
    )
}

/// One thread per core, taking hashes from one queue in the order they came.
///
/// Threads of their own rather than the async runtime's blocking pool behind a semaphore: under a storm a
/// thread that finishes a hash takes the next one at once, where the pool put it to sleep and woke
/// another only after the next request had been woken for its permit. Side by side on 2 cores, sign-ins
/// went from 96–105 a second to 110 (BENCHMARKS.md, (e)). The threads end when the last `Passwords` goes.
#[derive(Clone)]
struct Hashers {
    queue: mpsc::Sender<Box<dyn FnOnce() + Send>>,
}

impl Hashers {
    fn start() -> Result<Self, Error> {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let (queue, jobs) = mpsc::channel::<Box<dyn FnOnce() + Send>>();
        let jobs = Arc::new(Mutex::new(jobs));
        for n in 0..cores {
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || loop {
                    // The lock is held only while waiting for a job, never while hashing.
                    let job = match jobs.lock() {
                        Ok(jobs) => jobs.recv(),
                        Err(poisoned) => poisoned.into_inner().recv(),
                    };
                    let Ok(job) = job else { break };
                    // A job that panics drops its answer (the caller gets an error), not the thread.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                })
                .map_err(|e| Error::Internal(format!("cannot start a hashing thread: {e}")))?;
        }
        Ok(Self { queue })
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, Error> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job = move || {
            // A request whose client hung up while it waited in the queue is not worth a hash.
            if !answer.is_closed() {
                let _ = answer.send(work());
            }
        };
        self.queue.send(Box::new(job)).map_err(|_| Error::Internal("the hashing threads have stopped".into()))?;
        answered.await.map_err(|_| Error::Internal("a hash failed without an answer".into()))
    }
}

impl Passwords {
    pub fn new() -> Result<Self, Error> {
        Ok(Self {
            hashers: Hashers::start()?,
            dummy_hash: hash_blocking("a password nobody has, for timing only")?.into(),
        })
    }

    /// Returns the PHC string to store.
    pub async fn hash(&self, password: &Password) -> Result<String, Error> {
        let password = password.expose().to_owned();
        self.hashers.run(move || hash_blocking(&password)).await?
    }

    /// Checks a password against a stored hash; with no stored hash (unknown user) it checks against a
    /// dummy and returns false, taking the same time.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, Error> {
        let known = stored.is_some();
        let phc = stored.map(str::to_owned).unwrap_or_else(|| self.dummy_hash.to_string());
        let password = password.to_owned();
        let matches = self
            .hashers
            .run(move || match PasswordHash::new(&phc) {
                // The parameters come from the stored string, so older hashes keep verifying after a change.
                Ok(parsed) => Ok(argon2().verify_password(password.as_bytes(), &parsed).is_ok()),
                Err(e) => Err(Error::Internal(format!("stored password hash is malformed: {e}"))),
            })
            .await??;
        Ok(known && matches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_and_personal_passwords_are_refused_with_a_reason() {
        let weak = |p: &str, inputs: &[&str]| check_strength(&Password::parse(p).unwrap(), inputs).err();
        let e = weak("password1234", &[]).expect("a common password");
        assert!(e.message.contains("common"), "{}", e.message);
        assert!(weak("qwertyuiopasdf", &[]).is_some());
        assert!(weak("aaaaaaaaaaaa", &[]).is_some());
        assert!(weak("adalovelace1", &["Ada Lovelace", "ada@example.com"]).is_some());
        assert!(weak("correct horse battery staple", &[]).is_none());
        assert!(weak("il pleut des cordes 🌧 sur la ville de Nantes ce soir, dit-elle", &[]).is_none());
    }

    #[tokio::test]
    async fn hashes_are_argon2id_with_the_required_cost_and_verify() {
        let passwords = Passwords::new().unwrap();
        let password = Password::parse("correct horse battery staple").unwrap();
        let phc = passwords.hash(&password).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(passwords.verify("correct horse battery staple", Some(&phc)).await.unwrap());
        assert!(!passwords.verify("correct horse battery stapl", Some(&phc)).await.unwrap());
        assert!(!passwords.verify("correct horse battery staple", None).await.unwrap());
    }

    #[tokio::test]
    async fn hashes_run_one_per_core_and_one_abandoned_in_the_queue_never_runs() {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
        use std::time::Duration;

        let hashers = Hashers::start().unwrap();
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let storm: Vec<_> = (0..cores * 3)
            .map(|_| {
                let (hashers, running, most) = (hashers.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    hashers
                        .run(move || {
                            most.fetch_max(running.fetch_add(1, SeqCst) + 1, SeqCst);
                            std::thread::sleep(Duration::from_millis(100));
                            running.fetch_sub(1, SeqCst);
                        })
                        .await
                })
            })
            .collect();
        // The storm's jobs are queued while this test's task sleeps; the next one waits behind them, and
        // its caller gives up.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let ran = Arc::new(AtomicBool::new(false));
        let abandoned = hashers.run({
            let ran = ran.clone();
            move || ran.store(true, SeqCst)
        });
        assert!(tokio::time::timeout(Duration::from_millis(20), abandoned).await.is_err());
        for job in storm {
            job.await.unwrap().unwrap();
        }
        // Queued after the abandoned job, so taken after it; the pause lets the thread that took it finish.
        hashers.run(|| ()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!ran.load(SeqCst), "a hash nobody waits for any more was computed");
        assert_eq!(most.load(SeqCst), cores, "hashes at once");
    }

    #[tokio::test]
    async fn an_unusable_hash_is_well_formed_unique_and_matches_nothing() {
        let passwords = Passwords::new().unwrap();
        let (a, b) = (unusable_hash(), unusable_hash());
        assert_ne!(a, b);
        let parsed = PasswordHash::new(&a).expect("a PHC string");
        assert_eq!(parsed.algorithm, Algorithm::Argon2id.ident());
        assert_eq!(parsed.hash.map(|h| h.len()), Some(32));
        for guess in ["", "correct horse battery staple", &a] {
            assert!(!passwords.verify(guess, Some(&a)).await.unwrap(), "{guess:?}");
        }
    }
}
