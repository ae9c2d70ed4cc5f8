//! Turning an uploaded picture into an avatar: check what it really is, refuse pixel floods before
//! decoding, then centre-crop, resize and re-encode. Re-encoding also drops everything but the pixels
//! (EXIF, GPS position, comments, any script smuggled into a polyglot file).

use image::{DynamicImage, ImageDecoder as _, ImageFormat, ImageReader, Limits, Rgb, RgbImage};
use std::io::Cursor;

/// Avatars are stored as squares of this many pixels a side.
pub const AVATAR_SIZE: u32 = 256;
/// Larger pictures are refused from their header, before any pixel is decoded: a small file can declare
/// billions of pixels ("decompression bomb").
pub const MAX_SIDE: u32 = 10_000;
pub const MAX_PIXELS: u64 = 50_000_000;

#[derive(Debug, PartialEq, Eq)]
pub enum ImageError {
    /// Not a PNG, JPEG, WebP or GIF, whatever its name or declared type.
    NotAnImage,
    TooManyPixels {
        width: u32,
        height: u32,
    },
    /// Looks like an image but cannot be decoded (truncated, damaged).
    Unreadable,
}

/// What decoding an upload will take, read from its header alone.
#[derive(Clone, Copy, Debug)]
pub struct Inspected {
    format: ImageFormat,
    /// The most memory its decoding and resizing may take: `avatar_from_upload` is refused more.
    pub memory_needed: u64,
}

/// Checks what the bytes really are and how large they declare the picture to be, before any pixel is
/// decoded: PNG, JPEG, WebP and GIF, judged by their bytes, of at most `MAX_SIDE` a side and `MAX_PIXELS`.
pub fn inspect(bytes: &[u8]) -> Result<Inspected, ImageError> {
    let reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|_| ImageError::NotAnImage)?;
    let format = reader.format().ok_or(ImageError::NotAnImage)?;
    if !matches!(format, ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP | ImageFormat::Gif) {
        return Err(ImageError::NotAnImage);
    }
    let decoder =
        ImageReader::with_format(Cursor::new(bytes), format).into_decoder().map_err(|_| ImageError::Unreadable)?;
    let (width, height) = decoder.dimensions();
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ImageError::TooManyPixels { width, height });
    }
    // The decoded pixels, plus what resizing them takes: a working copy of a strip (the first pass of a
    // two-pass resize: 256 columns of 4 floats, as tall as the picture) and the small results. A
    // progressive JPEG is decoded from all its coefficients at once: 2 bytes for each of 3 components'
    // values per pixel, beside the pixels.
    let strip = u64::from(AVATAR_SIZE) * u64::from(width.max(height)) * 16;
    let coefficients = if format == ImageFormat::Jpeg { u64::from(width) * u64::from(height) * 6 } else { 0 };
    let memory_needed =
        decoder.total_bytes().saturating_add(strip).saturating_add(coefficients).saturating_add(8 * 1024 * 1024);
    Ok(Inspected { format, memory_needed })
}

/// Decodes an upload `inspect` accepted and returns a 256×256 JPEG.
pub fn avatar_from_upload(bytes: &[u8], inspected: Inspected) -> Result<Vec<u8>, ImageError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), inspected.format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(inspected.memory_needed);
    reader.limits(limits);
    let decoded = reader.decode().map_err(|_| ImageError::Unreadable)?;
    let square = decoded.resize_to_fill(AVATAR_SIZE, AVATAR_SIZE, image::imageops::FilterType::Lanczos3);
    let mut out = Vec::new();
    flatten_on_white(&square)
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Jpeg)
        .map_err(|_| ImageError::Unreadable)?;
    Ok(out)
}

/// The memory all decodes at once may take. A 48-megapixel phone photo (8000×6000, 8-bit RGB) needs about
/// 150 MiB; at most this much is decoding at any moment, and uploads that would need more wait their
/// turn, a few at most (`MAX_WAITING_FOR_MEMORY`); beyond, they are refused at once (503).
pub const DECODE_MEMORY_BUDGET: u64 = 640 * 1024 * 1024;
const MAX_WAITING_FOR_MEMORY: usize = 8;

/// Admission of decodes by the memory they need (`Inspected::memory_needed`), counted in MiB.
pub struct DecodeMemory {
    mib: tokio::sync::Semaphore,
    total_mib: usize,
    waiting: std::sync::atomic::AtomicUsize,
}

/// Memory held for one decode until dropped.
pub struct MemoryHeld<'a>(#[allow(dead_code)] tokio::sync::SemaphorePermit<'a>);

#[derive(Debug, PartialEq, Eq)]
pub enum NoMemory {
    /// More than the whole budget: this picture can never be decoded here.
    TooLarge,
    /// Too many uploads are waiting already.
    Busy,
}

impl Default for DecodeMemory {
    fn default() -> Self {
        Self::new(DECODE_MEMORY_BUDGET)
    }
}

impl DecodeMemory {
    pub fn new(budget: u64) -> Self {
        let total_mib = usize::try_from(budget / (1024 * 1024)).unwrap_or(usize::MAX);
        Self { mib: tokio::sync::Semaphore::new(total_mib), total_mib, waiting: Default::default() }
    }

    /// Waits until `bytes` of the budget are free and holds them.
    pub async fn hold(&self, bytes: u64) -> Result<MemoryHeld<'_>, NoMemory> {
        use std::sync::atomic::Ordering::AcqRel;
        let mib = bytes.div_ceil(1024 * 1024);
        let mib = u32::try_from(mib).ok().filter(|m| *m as usize <= self.total_mib).ok_or(NoMemory::TooLarge)?;
        if let Ok(permit) = self.mib.try_acquire_many(mib) {
            return Ok(MemoryHeld(permit));
        }
        // Counted while waiting, and no longer once done or given up (the client hung up).
        struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, AcqRel);
            }
        }
        let _waiting = Waiting(&self.waiting);
        if self.waiting.fetch_add(1, AcqRel) >= MAX_WAITING_FOR_MEMORY {
            return Err(NoMemory::Busy);
        }
        self.mib.acquire_many(mib).await.map(MemoryHeld).map_err(|_| NoMemory::Busy)
    }

    /// MiB held by decodes now.
    pub fn held_mib(&self) -> usize {
        self.total_mib - self.mib.available_permits()
    }
}

/// JPEG has no transparency: transparent pixels become white instead of black.
fn flatten_on_white(image: &DynamicImage) -> DynamicImage {
    let rgba = image.to_rgba8();
    let mut rgb = RgbImage::new(rgba.width(), rgba.height());
    for (x, y, p) in rgba.enumerate_pixels() {
        let alpha = u32::from(p[3]);
        let blend = |c: u8| ((u32::from(c) * alpha + 255 * (255 - alpha)) / 255) as u8;
        rgb.put_pixel(x, y, Rgb([blend(p[0]), blend(p[1]), blend(p[2])]));
    }
    DynamicImage::ImageRgb8(rgb)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Rgba};

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = ImageBuffer::from_fn(width, height, |x, y| Rgba([(x % 256) as u8, (y % 256) as u8, 128, 255]));
        let mut out = Vec::new();
        DynamicImage::ImageRgba8(img).write_to(&mut Cursor::new(&mut out), ImageFormat::Png).unwrap();
        out
    }

    fn avatar(bytes: &[u8]) -> Result<Vec<u8>, ImageError> {
        avatar_from_upload(bytes, inspect(bytes)?)
    }

    #[test]
    fn pictures_become_256_pixel_jpeg_squares() {
        let jpeg = avatar(&png(640, 400)).unwrap();
        let back = image::load_from_memory(&jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (256, 256));
        assert_eq!(image::guess_format(&jpeg).unwrap(), ImageFormat::Jpeg);
    }

    #[test]
    fn the_bytes_decide_not_the_name() {
        assert_eq!(avatar(b"<html><script>alert(1)</script></html>"), Err(ImageError::NotAnImage));
        assert_eq!(avatar(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"), Err(ImageError::NotAnImage));
        let truncated = png(64, 64)[..60].to_vec();
        assert_eq!(avatar(&truncated), Err(ImageError::Unreadable));
    }
}
