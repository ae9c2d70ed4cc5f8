//! Password hashing with argon2id (m = 19456 KiB, t = 2, p = 1: OWASP's baseline).
//!
//! Each hash takes tens of milliseconds of CPU and 19 MiB of memory, so it runs on the blocking pool, never
//! on the async executor, and at most one hash per core runs at a time: a storm of sign-ins then queues
//! instead of starving page requests or exhausting memory.

use super::error::Error;
use crate::domain::Password;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand_core::OsRng;
use std::sync::Arc;
use tokio::sync::Semaphore;

pub const MEMORY_KIB: u32 = 19456;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;

#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
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

impl Passwords {
    pub fn new() -> Result<Self, Error> {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        Ok(Self {
            permits: Arc::new(Semaphore::new(cores)),
            dummy_hash: hash_blocking("a password nobody has, for timing only")?.into(),
        })
    }

    /// Returns the PHC string to store.
    pub async fn hash(&self, password: &Password) -> Result<String, Error> {
        let password = password.expose().to_owned();
        self.run(move || hash_blocking(&password)).await?
    }

    /// A hash of 256 random bits nobody knows: stored to retire a password without a special case in the
    /// table (every row keeps a well-formed hash, and nothing verifies against it).
    pub async fn hash_unguessable(&self) -> Result<String, Error> {
        let secret = super::secrets::new_token();
        self.run(move || hash_blocking(&secret)).await?
    }

    /// Checks a password against a stored hash; with no stored hash (unknown user) it checks against a
    /// dummy and returns false, taking the same time.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, Error> {
        let known = stored.is_some();
        let phc = stored.map(str::to_owned).unwrap_or_else(|| self.dummy_hash.to_string());
        let password = password.to_owned();
        let matches = self
            .run(move || match PasswordHash::new(&phc) {
                // The parameters come from the stored string, so older hashes keep verifying after a change.
                Ok(parsed) => Ok(argon2().verify_password(password.as_bytes(), &parsed).is_ok()),
                Err(e) => Err(Error::Internal(format!("stored password hash is malformed: {e}"))),
            })
            .await??;
        Ok(known && matches)
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, Error> {
        let permit = self.permits.clone().acquire_owned().await.map_err(|e| Error::Internal(e.to_string()))?;
        // The permit goes with the work: if the client hangs up, the request's future is dropped but the
        // hash still runs to the end, and must keep its place in the limit until then.
        tokio::task::spawn_blocking(move || {
            let result = work();
            drop(permit);
            result
        })
        .await
        .map_err(|e| Error::Internal(format!("hashing task failed: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
