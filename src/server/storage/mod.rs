//! Uploaded pictures: where the files live (`files`), turning an upload into an avatar (`images`), and
//! the upload and serving routes (`avatars`).

pub mod avatars;
pub mod files;
pub mod images;
