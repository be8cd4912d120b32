//! Hostile ONNX files: both importers answer with an error naming the node and what is wrong,
//! never a panic, an overflow or an allocation the size of an attacker's number.

mod common;

use common::onnx::{ai, ais, Builder};
use section9::graph::import::{import, ImportError, MAX_ELEMENTS};

/// The importer's error message for a model that must be refused.
fn refused(bytes: Vec<u8>) -> String {
    match import(&bytes) {
        Ok(_) => panic!("the hostile model was accepted"),
        Err(e) => e.to_string(),
    }
}

fn assert_refused(bytes: Vec<u8>, expected: &str) {
    let message = refused(bytes);
    assert!(message.contains(expected), "expected `{expected}` in: {message}");
}

/// `x: [1, 1, 4, 4]` into one node of `op` with a constant weight `[1, 1, 2, 2]`.
fn window(op: &str, attrs: Vec<tract_onnx::pb::AttributeProto>) -> Vec<u8> {
    let mut b = Builder::new(1);
    let x = b.input("x", &[1, 1, 4, 4]);
    let w = b.random(&[1, 1, 2, 2], 0.5);
    let inputs: Vec<&str> = if op.contains("Pool") { vec![&x] } else { vec![&x, &w] };
    let y = b.node(op, &inputs, attrs);
    b.finish(&[&y])
}

#[test]
fn concat_without_inputs_is_refused() {
    let mut b = Builder::new(1);
    let x = b.input("x", &[1, 4]);
    let r = b.node("Relu", &[&x], vec![]);
    let y = b.node("Concat", &[], vec![ai("axis", 0)]);
    assert_refused(b.finish(&[&r, &y]), "node `Concat_2` (Concat): has no inputs");
}

#[test]
fn concat_on_an_axis_outside_the_rank_is_refused() {
    for axis in [2, 5, -3, i64::MIN, i64::MAX] {
        let mut b = Builder::new(1);
        let x = b.input("x", &[1, 4]);
        let y = b.node("Concat", &[&x, &x], vec![ai("axis", axis)]);
        assert_refused(b.finish(&[&y]), &format!("(Concat): axis {axis} is outside rank 2"));
    }
}

#[test]
fn pad_axes_outside_the_rank_are_refused() {
    let mut b = Builder::new(1);
    let x = b.input("x", &[1, 4]);
    let pads = b.ints(&[2], vec![1, 1]);
    let axes = b.ints(&[1], vec![2]);
    let y = b.node("Pad", &[&x, &pads, "", &axes], vec![]);
    assert_refused(b.finish(&[&y]), "(Pad): axes [2] are outside rank 2");
}

#[test]
fn pads_that_overflow_or_explode_the_size_are_refused() {
    let mut b = Builder::new(1);
    let x = b.input("x", &[1, 4]);
    let pads = b.ints(&[4], vec![0, i64::MAX, 0, i64::MAX]);
    let y = b.node("Pad", &[&x, &pads], vec![]);
    assert_refused(b.finish(&[&y]), "(Pad): pads [0, 9223372036854775807, 0, 9223372036854775807] overflow");
    let mut b = Builder::new(1);
    let x = b.input("x", &[1, 4]);
    let pads = b.ints(&[4], vec![0, 1 << 40, 0, 0]);
    let y = b.node("Pad", &[&x, &pads], vec![]);
    assert_refused(b.finish(&[&y]), &format!("has more than {MAX_ELEMENTS} values"));
}

#[test]
fn zero_strides_dilations_and_kernels_are_refused() {
    let bound = format!("each in [1, {MAX_ELEMENTS}]");
    for op in ["Conv", "MaxPool", "AveragePool"] {
        let kernel = || ais("kernel_shape", &[2, 2]);
        assert_refused(window(op, vec![kernel(), ais("strides", &[0, 1])]), &format!("({op}): `strides` needs 2 value(s), {bound}"));
        assert_refused(window(op, vec![kernel(), ais("dilations", &[1, 0])]), &format!("({op}): `dilations` needs 2 value(s), {bound}"));
        assert_refused(window(op, vec![kernel(), ais("strides", &[-1, 1])]), &format!("({op}): `strides` needs"));
        assert_refused(window(op, vec![kernel(), ais("strides", &[1 << 40, 1])]), &format!("({op}): `strides` needs"));
    }
    assert_refused(window("MaxPool", vec![ais("kernel_shape", &[0, 2])]), "(MaxPool): `kernel_shape` needs 2 value(s)");
    assert_refused(window("MaxPool", vec![ais("kernel_shape", &[2])]), "(MaxPool): `kernel_shape` needs 2 value(s)");
    assert_refused(window("Conv", vec![ais("strides", &[0, 1])]), "(Conv): `strides` needs");
    assert_refused(window("Conv", vec![ai("group", 0)]), "(Conv): group must be in [1,");
}

#[test]
fn a_2d_conv_transpose_output_shape_needs_two_sizes() {
    assert_refused(window("ConvTranspose", vec![ais("output_shape", &[5])]), "(ConvTranspose): output_shape [5] needs 2 spatial size(s)");
    assert_refused(window("ConvTranspose", vec![ais("output_shape", &[])]), "(ConvTranspose): output_shape [] needs 2 spatial size(s)");
    assert_refused(window("ConvTranspose", vec![ais("output_shape", &[-1, 5])]), "(ConvTranspose): output_shape [-1, 5] has a size outside");
    // The good spelling still imports.
    assert!(import(&window("ConvTranspose", vec![ais("output_shape", &[5, 5])])).is_ok());
}

#[test]
fn negative_or_repeated_axes_and_perms_are_refused() {
    let one = |op: &str, attrs| {
        let mut b = Builder::new(1);
        let x = b.input("x", &[1, 4]);
        let y = b.node(op, &[&x], attrs);
        b.finish(&[&y])
    };
    assert_refused(one("Transpose", vec![ais("perm", &[-1, 0])]), "(Transpose): perm is not a permutation");
    assert_refused(one("Transpose", vec![ais("perm", &[1, 1])]), "(Transpose): perm is not a permutation");
    assert_refused(one("Squeeze", vec![ais("axes", &[1])]), "(Squeeze): axes [1] name a dimension of [1, 4] that is missing or not 1");
    assert_refused(one("Squeeze", vec![ais("axes", &[7])]), "(Squeeze): axes [7]");
    assert_refused(one("Unsqueeze", vec![ais("axes", &[9])]), "(Unsqueeze): axes [9] are outside the output rank 3");
    assert_refused(one("Flatten", vec![ai("axis", 9)]), "(Flatten): axis is outside rank 2");
}

#[test]
fn shapes_past_the_element_cap_are_refused_before_allocation() {
    // Resize to 2^20 × 2^20: refused by size, not by running out of memory.
    let mut b = Builder::new(1);
    let x = b.input("x", &[1, 1, 2, 2]);
    let sizes = b.ints(&[4], vec![1, 1, 1 << 20, 1 << 20]);
    let y = b.node("Resize", &[&x, "", "", &sizes], vec![]);
    assert_refused(b.finish(&[&y]), &format!("(Resize): output shape [1, 1, 1048576, 1048576] has more than {MAX_ELEMENTS} values"));
    // A negative size.
    let mut b = Builder::new(1);
    let x = b.input("x", &[1, 1, 2, 2]);
    let sizes = b.ints(&[4], vec![1, 1, -4, 4]);
    let y = b.node("Resize", &[&x, "", "", &sizes], vec![]);
    assert_refused(b.finish(&[&y]), "(Resize): negative size -4");
    // An input of 2^62 values.
    let mut b = Builder::new(1);
    let x = b.input("x", &[1 << 31, 1 << 31]);
    let y = b.node("Relu", &[&x], vec![]);
    let message = refused(b.finish(&[&y]));
    assert!(message.contains(&format!("graph input `x`: shape [2147483648, 2147483648] has more than {MAX_ELEMENTS} values")), "{message}");
}

#[test]
fn initializers_with_negative_or_inconsistent_dims_are_refused() {
    let mut b = Builder::new(1);
    let x = b.input("x", &[1, 4]);
    let w = b.floats(&[4, -1], vec![]);
    let y = b.node("MatMul", &[&x, &w], vec![]);
    let message = refused(b.finish(&[&y]));
    assert!(message.contains("initializer has a negative dimension in [4, -1]"), "{message}");
    assert!(matches!(import(&{
        let mut b = Builder::new(1);
        let x = b.input("x", &[1, 4]);
        let w = b.floats(&[4, 2], vec![0.5; 3]);
        let y = b.node("MatMul", &[&x, &w], vec![]);
        b.finish(&[&y])
    }), Err(ImportError::Input { ref what, .. }) if what == "initializer holds 3 values for shape [4, 2]"));
}

#[test]
fn a_matmul_with_an_empty_right_side_is_refused() {
    let mut b = Builder::new(1);
    let x = b.input("x", &[1, 4]);
    let w = b.floats(&[4, 0], vec![]);
    let y = b.node("MatMul", &[&x, &w], vec![]);
    assert_refused(b.finish(&[&y]), "(MatMul): output shape [1, 0] has no elements");
}
