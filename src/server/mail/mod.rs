//! Mail: the text of each message (`messages`), how it is sent (`transport`), and the development
//! mailbox page.

pub mod dev_mailbox;
pub mod messages;
pub mod transport;
