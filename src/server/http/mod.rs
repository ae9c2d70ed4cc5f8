//! The HTTP side: the router, the layers every request passes through, the cookies, and the context a
//! server function reads its request from.

pub mod cookies;
pub mod guards;
pub mod headers;
pub mod redirects;
pub mod request_context;
pub mod router;
