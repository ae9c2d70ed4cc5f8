//! Password hashing with argon2id (m = 19456 KiB, t = 2, p = 1: OWASP's baseline).
//!
//! Each hash takes tens of milliseconds of CPU and 19 MiB of memory, so it runs on the CPU work threads,
//! one per core (`cpu_work`), never on the async executor: at most one hash per core runs at a time, and
//! a storm of sign-ins queues instead of starving page requests or exhausting memory. Estimating a new
//! password's strength runs there too, on a bounded part of it.

use crate::domain::{Field, InputError, Password};
use crate::server::platform::cpu_work::{Admission, CpuWork};
use crate::server::platform::error::Error;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::{engine::general_purpose::STANDARD_NO_PAD, Engine as _};
use rand_core::{OsRng, RngCore as _};
use std::sync::Arc;

pub const MEMORY_KIB: u32 = 19456;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;

/// zxcvbn's score runs 0 to 4; 3 means "safely unguessable" (more than 10^8 guesses), which a long
/// passphrase reaches easily and a common password, a keyboard walk or a repeat never does.
const MIN_SCORE: zxcvbn::Score = zxcvbn::Score::Three;

/// zxcvbn's time grows much faster than the length of what it scores (symbols it tries substitutions
/// for are the worst case). So it scores the first `SCORED_CHARS`
/// characters, and the rest in pieces of `TAIL_PIECE_CHARS` (`estimate`), which bounds every request.
const SCORED_CHARS: usize = 32;
const TAIL_PIECE_CHARS: usize = 16;

/// How guessable `password` is, as zxcvbn's estimate of its first `SCORED_CHARS` characters and the base-10
/// logarithm of the guesses the whole needs: the start's, plus each piece of the rest scored on its own
/// (a piece equal to one before adds nothing), unless the whole password repeats a shorter pattern
/// ("aaaa…", "password" five times), which is guessed as quickly as what it repeats.
fn estimate(password: &str, user_inputs: &[&str]) -> (zxcvbn::Entropy, f64) {
    let chars: Vec<char> = password.chars().collect();
    let scored: String = chars.iter().take(SCORED_CHARS).collect();
    let estimate = zxcvbn::zxcvbn(&scored, user_inputs);
    let mut log10 = estimate.guesses_log10();
    if chars.len() > SCORED_CHARS && !repeats_a_shorter_pattern(&chars) {
        let mut seen: Vec<&[char]> = Vec::new();
        for piece in chars[SCORED_CHARS..].chunks(TAIL_PIECE_CHARS) {
            if !seen.contains(&piece) {
                seen.push(piece);
                log10 += zxcvbn::zxcvbn(&piece.iter().collect::<String>(), user_inputs).guesses_log10();
            }
        }
    }
    (estimate, log10)
}

/// True when some shift shorter than half the password maps it onto itself ("abcabcab" by 3).
fn repeats_a_shorter_pattern(chars: &[char]) -> bool {
    (1..=chars.len() / 2).any(|shift| chars.iter().zip(&chars[shift..]).all(|(a, b)| a == b))
}

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
    let (estimate, log10) = estimate(password.expose(), &inputs);
    // zxcvbn's score 3 is 10^8 guesses or more.
    if estimate.score() >= MIN_SCORE || log10 >= 8.0 {
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
    /// The threads that hash, one per core, shared with other CPU work.
    cpu: CpuWork,
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

impl Passwords {
    pub fn new(cpu: CpuWork) -> Result<Self, Error> {
        Ok(Self { cpu, dummy_hash: hash_blocking("a password nobody has, for timing only")?.into() })
    }

    /// Returns the PHC string to store.
    pub async fn hash(&self, password: &Password) -> Result<String, Error> {
        let password = password.expose().to_owned();
        self.cpu.run(Admission::Hash, move || hash_blocking(&password)).await?
    }

    /// Checks a password against a stored hash; with no stored hash (unknown user) it checks against a
    /// dummy and returns false, taking the same time.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, Error> {
        let known = stored.is_some();
        let phc = stored.map(str::to_owned).unwrap_or_else(|| self.dummy_hash.to_string());
        let password = password.to_owned();
        let matches = self
            .cpu
            .run(Admission::Hash, move || match PasswordHash::new(&phc) {
                // The parameters come from the stored string, so older hashes keep verifying after a change.
                Ok(parsed) => Ok(argon2().verify_password(password.as_bytes(), &parsed).is_ok()),
                Err(e) => Err(Error::Internal(format!("stored password hash is malformed: {e}"))),
            })
            .await??;
        Ok(known && matches)
    }

    /// `check_strength` on the CPU work threads, admitted as `admission` (a sign-up's check queues like its
    /// hash; the live hint is refused when the queue is long).
    pub async fn check_strength(
        &self,
        admission: Admission,
        password: &Password,
        user_inputs: &[&str],
    ) -> Result<Result<(), InputError>, Error> {
        let password = password.clone();
        let inputs: Vec<String> = user_inputs.iter().map(|s| s.to_string()).collect();
        self.cpu
            .run(admission, move || {
                let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
                check_strength(&password, &inputs)
            })
            .await
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

    #[test]
    fn long_passwords_are_scored_on_their_start_and_count_the_rest_as_length() {
        let strong = |p: &str| check_strength(&Password::parse(p).unwrap(), &[]).is_ok();
        // The worst case found by an audit: substitutable symbols, 100 characters. Scored whole it took
        // seconds; now only its start is, and it is strong anyway.
        let started = std::time::Instant::now();
        assert!(strong(&"4@8({[<3691!|70$5+%2".repeat(5)));
        assert!(started.elapsed() < std::time::Duration::from_secs(1), "{:?}", started.elapsed());
        // Repeats stay weak however long.
        assert!(!strong(&"a".repeat(200)));
        assert!(!strong(&"password".repeat(20)));
        assert!(!strong(&"1234567".repeat(30)));
        // A weak start followed by a weak end stays weak; followed by plenty of something else, strong.
        assert!(!strong(&format!("{}b", "a".repeat(39))));
        assert!(!strong(&format!("{}1", "password".repeat(5))));
        assert!(strong(&format!("{}{}", "a".repeat(32), "kd8w-qpz3 7 vn2ufh mq4")));
    }

    #[test]
    fn repeats_are_recognised_whatever_their_period() {
        let repeats = |s: &str| repeats_a_shorter_pattern(&s.chars().collect::<Vec<_>>());
        assert!(repeats("aaaa"));
        assert!(repeats("abcabcab"));
        assert!(!repeats("abcabd"));
        assert!(!repeats("a"));
        assert!(!repeats("correct horse battery staple"));
    }

    #[tokio::test]
    async fn hashes_are_argon2id_with_the_required_cost_and_verify() {
        let passwords = Passwords::new(CpuWork::start().unwrap()).unwrap();
        let password = Password::parse("correct horse battery staple").unwrap();
        let phc = passwords.hash(&password).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(passwords.verify("correct horse battery staple", Some(&phc)).await.unwrap());
        assert!(!passwords.verify("correct horse battery stapl", Some(&phc)).await.unwrap());
        assert!(!passwords.verify("correct horse battery staple", None).await.unwrap());
    }

    #[tokio::test]
    async fn an_unusable_hash_is_well_formed_unique_and_matches_nothing() {
        let passwords = Passwords::new(CpuWork::start().unwrap()).unwrap();
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
