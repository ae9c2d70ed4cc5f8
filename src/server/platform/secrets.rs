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

/// `N` bytes from the OS CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

/// A 6-digit one-time code, "000000" to "999999", each equally likely: typed by a person, so it is short,
/// and only ever paired with a limit on tries.
pub fn new_code() -> String {
    // The largest multiple of a million below 2^32: values above it would make low codes likelier.
    const ZONE: u32 = u32::MAX - u32::MAX % 1_000_000;
    loop {
        let n = OsRng.next_u32();
        if n < ZONE {
            return format!("{:06}", n % 1_000_000);
        }
    }
}

/// Letters and digits no one misreads for another (no 0/o, 1/l/i): recovery codes are copied by hand.
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// A recovery code, "xxxxx-xxxxx": ten characters of 31, about 50 bits, each equally likely.
pub fn new_recovery_code() -> String {
    // The largest multiple of the alphabet's size below 256: bytes above it would favour some letters.
    let zone = 256 - 256 % RECOVERY_ALPHABET.len();
    let mut code = String::with_capacity(11);
    while code.len() < 11 {
        let mut byte = [0u8; 1];
        OsRng.fill_bytes(&mut byte);
        if usize::from(byte[0]) < zone {
            if code.len() == 5 {
                code.push('-');
            }
            code.push(char::from(RECOVERY_ALPHABET[usize::from(byte[0]) % RECOVERY_ALPHABET.len()]));
        }
    }
    code
}

/// A recovery code as a person typed it ("ABCDE FGHJK", "abcdefghjk"), in the form it was issued in, if
/// it can be one.
pub fn typed_recovery_code(typed: &str) -> Option<String> {
    let letters: String =
        typed.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_lowercase()).collect();
    (letters.len() == 10 && letters.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)))
        .then(|| format!("{}-{}", &letters[..5], &letters[5..]))
}

/// A code as a person typed it ("123 456", "123-456"), if it is one: six digits and nothing else.
pub fn typed_code(typed: &str) -> Option<String> {
    let digits: String = typed.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// Anything that is not shaped like one of our tokens is refused before it reaches the database.
pub fn is_well_formed(token: &str) -> bool {
    token.len() == TOKEN_LEN && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The token's SHA-256 in lower-case hex, as stored.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The server's own key (`APP_SECRET_KEY`, or on the embedded default a key generated once into the
/// data folder). It signs what the server hands a browser to bring back unchanged, such as a form's
/// error carried in an address, so that words a third party put in a link never pass for the server's.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

/// The file the embedded default keeps its key in, inside the data folder.
pub const SECRET_KEY_FILE: &str = "secret.key";

impl SecretKey {
    /// The key from `APP_SECRET_KEY`'s text (any text of 32 characters or more; hashed to 256 bits).
    pub fn from_text(text: &str) -> Self {
        Self(Sha256::digest(text.as_bytes()).into())
    }

    /// The key kept in `dir`, made on first use: 256 random bits, readable by the server's user only.
    pub fn load_or_create(dir: &std::path::Path) -> Result<Self, String> {
        use std::io::Write as _;
        let path = dir.join(SECRET_KEY_FILE);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&path) {
            Ok(mut file) => {
                let text = new_token();
                file.write_all(text.as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(|e| format!("cannot write the secret key {}: {e}", path.display()))?;
                Ok(Self::from_text(&text))
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read the secret key {}: {e}", path.display()))?;
                if text.trim().len() < 32 {
                    return Err(format!("the secret key {} is damaged: delete it to make a new one", path.display()));
                }
                Ok(Self::from_text(text.trim()))
            }
            Err(e) => Err(format!("cannot create the secret key {}: {e}", path.display())),
        }
    }

    /// The signature of `message` for `purpose` (keys for different purposes never sign each other's
    /// messages), in unpadded base64url.
    pub fn sign(&self, purpose: &str, message: &str) -> String {
        use hmac::Mac as _;
        URL_SAFE_NO_PAD.encode(self.mac(purpose, message).finalize().into_bytes())
    }

    /// Whether `signature` is `sign(purpose, message)`, compared in constant time.
    pub fn verify(&self, purpose: &str, message: &str, signature: &str) -> bool {
        use hmac::Mac as _;
        URL_SAFE_NO_PAD.decode(signature).is_ok_and(|bytes| self.mac(purpose, message).verify_slice(&bytes).is_ok())
    }

    /// `plaintext` encrypted and authenticated (XChaCha20-Poly1305, a random nonce) under a key for
    /// `purpose` alone, and bound to `context`: it opens only with the same purpose and context, so a
    /// sealed value copied to another account's row (context: the account id) opens nowhere.
    pub fn seal(&self, purpose: &str, context: &str, plaintext: &[u8]) -> String {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        use chacha20poly1305::{XChaCha20Poly1305, XNonce};
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut nonce);
        let cipher = XChaCha20Poly1305::new(&self.derived_key(purpose).into());
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: context.as_bytes() })
            .expect("encrypting in memory cannot fail");
        URL_SAFE_NO_PAD.encode([nonce.as_slice(), &sealed].concat())
    }

    /// What `seal(purpose, context, …)` sealed, or `None` if `sealed` is anything else (tampered with,
    /// sealed for another purpose or context, or under another key).
    pub fn open(&self, purpose: &str, context: &str, sealed: &str) -> Option<Vec<u8>> {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        use chacha20poly1305::{XChaCha20Poly1305, XNonce};
        let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if bytes.len() < 24 {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(24);
        let cipher = XChaCha20Poly1305::new(&self.derived_key(purpose).into());
        cipher.decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: context.as_bytes() }).ok()
    }

    /// A key of its own for each purpose of sealing, so the signing key never encrypts anything.
    fn derived_key(&self, purpose: &str) -> [u8; 32] {
        use hmac::Mac as _;
        self.mac("sealing key", purpose).finalize().into_bytes().into()
    }

    fn mac(&self, purpose: &str, message: &str) -> hmac::Hmac<Sha256> {
        use hmac::Mac as _;
        let mut mac = hmac::Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(message.as_bytes());
        mac
    }
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
    fn codes_are_six_digits_and_typed_codes_forgive_spaces_and_dashes() {
        for _ in 0..1000 {
            let code = new_code();
            assert_eq!(typed_code(&code).as_deref(), Some(code.as_str()));
        }
        assert_eq!(typed_code(" 123 456 ").as_deref(), Some("123456"));
        assert_eq!(typed_code("123-456").as_deref(), Some("123456"));
        for bad in ["", "12345", "1234567", "12345a", "١٢٣٤٥٦", "123\u{0}456"] {
            assert_eq!(typed_code(bad), None, "{bad}");
        }
    }

    #[test]
    fn recovery_codes_are_ten_unambiguous_characters_and_typed_ones_forgive_case_and_spacing() {
        for _ in 0..1000 {
            let code = new_recovery_code();
            assert_eq!(code.len(), 11);
            assert_eq!(typed_recovery_code(&code).as_deref(), Some(code.as_str()));
            assert_eq!(typed_recovery_code(&code.to_uppercase().replace('-', " ")).as_deref(), Some(code.as_str()));
        }
        assert_ne!(new_recovery_code(), new_recovery_code());
        for bad in ["", "abcde-fghj", "abcde-fghjkm", "abcde-fghj0", "abcde-fghjl", "123456"] {
            assert_eq!(typed_recovery_code(bad), None, "{bad}");
        }
    }

    #[test]
    fn sealed_values_open_only_with_their_key_purpose_and_context() {
        let key = SecretKey::from_text("a test key of at least thirty-two characters");
        let sealed = key.seal("totp secret", "user-1", b"the secret");
        assert_eq!(key.open("totp secret", "user-1", &sealed).as_deref(), Some(&b"the secret"[..]));
        assert_ne!(sealed, key.seal("totp secret", "user-1", b"the secret"), "a fresh nonce each time");
        assert_eq!(key.open("totp secret", "user-2", &sealed), None);
        assert_eq!(key.open("other", "user-1", &sealed), None);
        let other = SecretKey::from_text("another test key of at least thirty-two characters");
        assert_eq!(other.open("totp secret", "user-1", &sealed), None);
        let mut tampered = sealed.into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(key.open("totp secret", "user-1", &String::from_utf8(tampered).unwrap()), None);
        assert_eq!(key.open("totp secret", "user-1", "short"), None);
    }

    #[test]
    fn malformed_tokens_are_recognised() {
        for bad in ["", "short", &"a".repeat(44), &format!("{}=", "a".repeat(42)), &format!("{}/", "a".repeat(42))] {
            assert!(!is_well_formed(bad), "{bad}");
        }
    }

    #[test]
    fn signatures_hold_for_their_purpose_and_message_only() {
        let key = SecretKey::from_text("a test key of at least thirty-two characters");
        let signature = key.sign("form error", "/api/login\nIncorrect");
        assert!(key.verify("form error", "/api/login\nIncorrect", &signature));
        assert!(!key.verify("form error", "/api/login\nIncorrecT", &signature));
        assert!(!key.verify("other", "/api/login\nIncorrect", &signature));
        assert!(!key.verify("form error", "/api/login\nIncorrect", "not base64!"));
        let other = SecretKey::from_text("another test key of at least thirty-two characters");
        assert!(!other.verify("form error", "/api/login\nIncorrect", &signature));
    }

    #[test]
    fn the_data_folder_key_is_made_once_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = SecretKey::load_or_create(dir.path()).unwrap();
        let again = SecretKey::load_or_create(dir.path()).unwrap();
        assert_eq!(first.0, again.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(SECRET_KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn the_hash_is_sha256_hex() {
        assert_eq!(hash_token("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
