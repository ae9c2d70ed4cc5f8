//! Secrets that leave the server (session cookies, emailed tokens): 256 bits from the OS CSPRNG, sent as
//! base64url, stored only as their SHA-256. A leaked database therefore holds nothing that signs anyone in.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

/// 32 random bytes in unpadded base64url.
const TOKEN_LEN: usize = 43;

pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Anything that is not shaped like one of our tokens is refused before it reaches the database.
pub fn is_well_formed(token: &str) -> bool {
    token.len() == TOKEN_LEN && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The token's SHA-256 in lower-case hex, as stored. Every signed-in request computes one, so it is
/// written into one buffer: a string per byte (`format!`) was 3.6% of a kept `/profile` view's CPU.
pub fn hash_token(token: &str) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(token.as_bytes());
    let mut hex = String::with_capacity(digest.len() * 2);
    for b in digest {
        hex.push(char::from(DIGITS[usize::from(b >> 4)]));
        hex.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    hex
}

/// Row ids: random, so they reveal neither counts nor order.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Tokens and cookie values come from the client: whatever they are, the checks never panic and
        /// only the exact shape of our tokens gets through to the database.
        #[test]
        fn token_checks_take_anything(input in "\\PC{0,100}|[A-Za-z0-9_=/+-]{40,46}") {
            let accepted = is_well_formed(&input);
            prop_assert_eq!(accepted, input.len() == 43 && input.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            let hash = hash_token(&input);
            prop_assert_eq!(hash.len(), 64);
            prop_assert_eq!(hash, hash_token(&input));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_and_distinct() {
        let a = new_token();
        assert!(is_well_formed(&a));
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert_ne!(a, new_token());
    }

    #[test]
    fn malformed_tokens_are_recognised() {
        for bad in ["", "short", &"a".repeat(44), &format!("{}=", "a".repeat(42)), &format!("{}/", "a".repeat(42))] {
            assert!(!is_well_formed(bad), "{bad}");
        }
    }

    #[test]
    fn the_hash_is_sha256_hex() {
        assert_eq!(hash_token("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
