//! Why an avatar upload was refused, shared by the server (which decides) and the page (which shows it,
//! including after a form post without JavaScript, as `?avatar_error=…`).

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AvatarProblem {
    SignInRequired,
    Missing,
    TooLarge,
    NotAnImage,
    TooManyPixels,
    Unreadable,
    /// Too many uploads from this account within the hour.
    TooMany,
    /// The server is decoding as many pictures as it can hold right now.
    Busy,
    Failed,
}

impl AvatarProblem {
    const ALL: [AvatarProblem; 9] = [
        AvatarProblem::SignInRequired,
        AvatarProblem::Missing,
        AvatarProblem::TooLarge,
        AvatarProblem::NotAnImage,
        AvatarProblem::TooManyPixels,
        AvatarProblem::Unreadable,
        AvatarProblem::TooMany,
        AvatarProblem::Busy,
        AvatarProblem::Failed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AvatarProblem::SignInRequired => "sign_in",
            AvatarProblem::Missing => "missing",
            AvatarProblem::TooLarge => "too_large",
            AvatarProblem::NotAnImage => "not_image",
            AvatarProblem::TooManyPixels => "dimensions",
            AvatarProblem::Unreadable => "unreadable",
            AvatarProblem::TooMany => "too_many",
            AvatarProblem::Busy => "busy",
            AvatarProblem::Failed => "failed",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.code() == code)
    }

    pub fn message(self) -> &'static str {
        match self {
            AvatarProblem::SignInRequired => "Please log in to continue.",
            AvatarProblem::Missing => "Choose a picture to upload.",
            AvatarProblem::TooLarge => "That file is too large. Choose a smaller picture.",
            AvatarProblem::NotAnImage => {
                "That file is not a picture we can use. Choose a PNG, JPEG, WebP or GIF image."
            }
            AvatarProblem::TooManyPixels => {
                "That picture has too many pixels. Use one at most 10,000 pixels wide and high."
            }
            AvatarProblem::Unreadable => "That picture could not be read; it may be damaged. Try another one.",
            AvatarProblem::TooMany => "You have changed your picture many times in the last hour. Try again later.",
            AvatarProblem::Busy => "We are processing many pictures right now. Please try again in a moment.",
            AvatarProblem::Failed => "Something went wrong on our side. Please try again in a moment.",
        }
    }
}

/// "5 MB", for the hint under the file input.
pub fn describe_size(bytes: u64) -> String {
    const MB: u64 = 1024 * 1024;
    if bytes >= MB && bytes.is_multiple_of(MB) {
        format!("{} MB", bytes / MB)
    } else if bytes >= 1024 {
        format!("{} KB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}
