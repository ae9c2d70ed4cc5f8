//! Turning an uploaded picture into an avatar: check what it really is, refuse pixel floods before
//! decoding, then centre-crop, resize and re-encode. Re-encoding also drops everything but the pixels
//! (EXIF, GPS position, comments, any script smuggled into a polyglot file).

use image::{DynamicImage, ImageFormat, ImageReader, Limits, Rgb, RgbImage};
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

/// Accepts PNG, JPEG, WebP and GIF, judged by their bytes; returns a 256×256 JPEG.
pub fn avatar_from_upload(bytes: &[u8]) -> Result<Vec<u8>, ImageError> {
    let reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|_| ImageError::NotAnImage)?;
    let format = reader.format().ok_or(ImageError::NotAnImage)?;
    if !matches!(format, ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP | ImageFormat::Gif) {
        return Err(ImageError::NotAnImage);
    }
    let (width, height) =
        ImageReader::with_format(Cursor::new(bytes), format).into_dimensions().map_err(|_| ImageError::Unreadable)?;
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ImageError::TooManyPixels { width, height });
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_PIXELS * 4 + 64 * 1024 * 1024);
    reader.limits(limits);
    let decoded = reader.decode().map_err(|_| ImageError::Unreadable)?;
    let square = decoded.resize_to_fill(AVATAR_SIZE, AVATAR_SIZE, image::imageops::FilterType::Lanczos3);
    let mut out = Vec::new();
    flatten_on_white(&square)
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Jpeg)
        .map_err(|_| ImageError::Unreadable)?;
    Ok(out)
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

    #[test]
    fn pictures_become_256_pixel_jpeg_squares() {
        let jpeg = avatar_from_upload(&png(640, 400)).unwrap();
        let back = image::load_from_memory(&jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (256, 256));
        assert_eq!(image::guess_format(&jpeg).unwrap(), ImageFormat::Jpeg);
    }

    #[test]
    fn the_bytes_decide_not_the_name() {
        assert_eq!(avatar_from_upload(b"<html><script>alert(1)</script></html>"), Err(ImageError::NotAnImage));
        assert_eq!(avatar_from_upload(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"), Err(ImageError::NotAnImage));
        let truncated = png(64, 64)[..60].to_vec();
        assert_eq!(avatar_from_upload(&truncated), Err(ImageError::Unreadable));
    }
}
