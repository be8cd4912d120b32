//! Pictures out of the model, encoded for people: PNG, scaled up with nearest-neighbour so
//! the pixels stay crisp.

use crate::generator::Picture;

/// Why a picture could not be encoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PictureError {
    #[error("scale must be between 1 and 64, got {0}")]
    Scale(u32),
    #[error("PNG encoding failed")]
    Png(#[from] image::ImageError),
}

impl Picture {
    /// The picture as PNG bytes, each pixel drawn as a `scale × scale` block.
    pub fn to_png(&self, scale: u32) -> Result<Vec<u8>, PictureError> {
        if !(1..=64).contains(&scale) {
            return Err(PictureError::Scale(scale));
        }
        let s = scale as usize;
        let (w, h) = (self.width * s, self.height * s);
        let mut rgb = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            for x in 0..w {
                let at = ((y / s) * self.width + x / s) * 3;
                rgb.extend_from_slice(&self.rgb[at..at + 3]);
            }
        }
        let mut png = Vec::new();
        image::codecs::png::PngEncoder::new(&mut png).write_image(
            &rgb,
            w as u32,
            h as u32,
            image::ExtendedColorType::Rgb8,
        )?;
        Ok(png)
    }
}

use image::ImageEncoder as _;
