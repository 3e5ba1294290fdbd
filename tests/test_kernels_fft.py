"""RFFT2D, COMPLEX_ABS, REAL, IMAG against LiteRT."""
import numpy as np
import pytest

from oracle import assert_same_as_litert, run_ours
from tfl_gpu.writer import ModelBuilder, single_op_model


def _rfft_model(shape, fft, const=True, tail=None):
    mb = ModelBuilder()
    x = mb.input("x", list(shape), "FLOAT32")
    f = mb.const("f", np.array(fft, np.int32)) if const else mb.input("f", [2], "INT32")
    y = mb.tensor("y", [], "COMPLEX64")
    mb.op("RFFT2D", [x, f], [y])
    outs = [y]
    for op in tail or ():
        z = mb.tensor(op.lower(), [], "FLOAT32")
        mb.op(op, [y], [z])
        outs.append(z)
    mb.output(*outs)
    return mb.build()


@pytest.mark.parametrize("shape,fft", [((4, 8), (4, 8)), ((1, 5, 6), (8, 8)), ((2, 3, 16, 16), (8, 4)),
                                       ((7, 9), (16, 2)), ((8, 1), (2, 2)), ((1, 8), (1, 8)), ((3, 5), (1, 4)), ((3, 32, 32), (32, 32))])
def test_rfft2d(rng, shape, fft):
    x = rng.standard_normal(shape).astype(np.float32)
    ours, ref = assert_same_as_litert(_rfft_model(shape, fft), [x], tol=1e-5)
    np.testing.assert_allclose(ours[0], np.fft.rfft2(x.astype(np.float64), s=fft), rtol=1e-4, atol=1e-4)


def test_rfft2d_width_one_is_a_real_fft(rng):
    """fft_length[1] == 1: LiteRT's Ooura-based kernel returns values that are not an FFT there
    (e.g. [[1-1j]] for the input [[1]]); we return the transform itself."""
    x = rng.standard_normal((4, 3)).astype(np.float32)
    ours = run_ours(_rfft_model(x.shape, (4, 1)), [x])[0]
    np.testing.assert_allclose(ours, np.fft.rfft2(x.astype(np.float64), s=(4, 1)), rtol=1e-5, atol=1e-5)


def test_rfft2d_dynamic_length(rng):
    x = rng.standard_normal((2, 6, 10)).astype(np.float32)
    assert_same_as_litert(_rfft_model(x.shape, (4, 16), const=False), [x, np.array([4, 16], np.int32)], tol=1e-5)


def test_rfft2d_then_complex_ops(rng):
    x = rng.standard_normal((2, 8, 8)).astype(np.float32)
    ours, ref = assert_same_as_litert(_rfft_model(x.shape, (8, 8), tail=("COMPLEX_ABS", "REAL", "IMAG")), [x],
                                      tol=1e-5)
    assert [o.dtype for o in ours] == [np.complex64, np.float32, np.float32, np.float32]


@pytest.mark.parametrize("op", ["COMPLEX_ABS", "REAL", "IMAG"])
def test_complex_unary(rng, op):
    x = (rng.standard_normal((3, 7)) + 1j * rng.standard_normal((3, 7))).astype(np.complex64)
    c = single_op_model(op, [x], output_types=("FLOAT32",))
    ours, ref = assert_same_as_litert(c, [x], tol=1e-6)
    expect = {"COMPLEX_ABS": np.abs, "REAL": np.real, "IMAG": np.imag}[op](x)
    np.testing.assert_allclose(ours[0], expect, rtol=1e-6)


def test_rfft2d_bad_length(rng):
    x = rng.standard_normal((4, 6)).astype(np.float32)
    with pytest.raises((ValueError, RuntimeError)):
        run_ours(_rfft_model(x.shape, (4, 6)), [x])
