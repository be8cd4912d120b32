#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| section9_fuzz::model_onnx(data));
