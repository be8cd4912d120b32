//! Integer model ≈ float model: the committed ONNX run in float by tract against the integer
//! inference, over 64 latents as mints derive them (8 named prompts × 8 seeds; the prompt's
//! words fill the condition). Target (README): mean PSNR ≥ 30 dB at peak 255.

mod common;

use section9::prompt::Seed;
use tract_onnx::prelude::*;

#[test]
fn integer_pixels_are_within_30_db_of_the_float_model() {
    let model = common::gan();
    let float = tract_onnx::onnx()
        .model_for_read(&mut &common::gan_bytes()[..])
        .unwrap()
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap();
    let mut psnrs = Vec::new();
    let prompts = ["a smiling face", "a waving hand", "a dog", "a pizza slice", "a red car", "a soccer ball", "a guitar", "a flag"];
    for i in 0..64 {
        let latent = model.latent(&Seed([i as u8; 32]), prompts[i / 8]);
        let z: Vec<f32> = latent.iter().map(|&q| f32::from(q) / 128.0).collect();
        let input = tract_ndarray::Array2::from_shape_vec((1, 32), z).unwrap();
        let out = float.run(tvec!(Tensor::from(input).into())).unwrap();
        let y = out[0].to_plain_array_view::<f32>().unwrap();
        let picture = model.picture(&latent).unwrap();
        let mut se = 0.0f64;
        for c in 0..3 {
            for py in 0..32 {
                for px in 0..32 {
                    let f = (f64::from(y[[0, c, py, px]]) * 128.0 + 128.0).clamp(0.0, 255.0);
                    let q = f64::from(picture.rgb[(py * 32 + px) * 3 + c]);
                    se += (f - q).powi(2);
                }
            }
        }
        let mse = se / 3072.0;
        psnrs.push(10.0 * (255.0f64.powi(2) / mse.max(1e-12)).log10());
    }
    let mean = psnrs.iter().sum::<f64>() / psnrs.len() as f64;
    let min = psnrs.iter().cloned().fold(f64::INFINITY, f64::min);
    println!("PSNR integer vs float over 64 prompts: mean {mean:.2} dB, min {min:.2} dB");
    assert!(mean >= 30.0, "mean PSNR {mean:.2} dB is below the 30 dB target");
}
