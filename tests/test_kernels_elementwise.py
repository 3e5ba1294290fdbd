"""Element-wise arithmetic, comparison, logical, SELECT, CAST, ZEROS_LIKE and ADD_N kernels against LiteRT."""
import numpy as np
import pytest

from oracle import assert_close, assert_same_as_litert, run_litert, run_ours
from tfl_gpu.writer import _type_of, single_op_model

F32 = np.float32
NOT_IN_LITERT_REF = {"CEIL", "ROUND", "ELU"}     # LiteRT's BUILTIN_REF resolver has no kernel for these
ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1", "TANH", "SIGN_BIT"]

# (shape a, shape b): equal shapes, broadcasting at every rank up to 6, rank 0, odd sizes, empty tensors
SHAPES = [
    ((), ()), ((), (5,)), ((7,), ()), ((3,), (3,)), ((2, 3), (3,)), ((1, 3), (2, 1)), ((4, 1, 5), (3, 1)),
    ((2, 3, 4, 5), (2, 3, 4, 5)), ((2, 1, 4, 1), (1, 3, 1, 5)), ((1, 2, 3, 1, 5), (2, 1, 3, 4, 1)),
    ((2, 1, 3, 1, 2, 3), (1, 2, 1, 4, 2, 1)), ((3, 2, 1, 2, 2, 3), (3,)), ((0, 3), (3,)), ((2, 0, 3), (1, 3)),
]


def _model(op, inputs, out_type=None, const=(), **opts):
    if out_type is None:
        out_type = _type_of(np.asarray(inputs[0]).dtype)
    return single_op_model(op, list(inputs), output_types=(out_type,), const_inputs=tuple(const), **opts)


def check(op, inputs, out_type=None, const=(), exact=False, resolver="BUILTIN", **opts):
    content = _model(op, inputs, out_type, const, **opts)
    feed = [a for k, a in enumerate(inputs) if k not in const]
    return assert_same_as_litert(content, feed, exact=exact, resolver=resolver)


def rand(rng, shape, dtype=F32, lo=-3.0, hi=3.0):
    if np.dtype(dtype).kind == "f":
        return rng.uniform(lo, hi, size=shape).astype(dtype)
    if np.dtype(dtype) == np.bool_:
        return rng.random(shape) < 0.5
    return rng.integers(int(lo), int(hi) + 1, size=shape).astype(dtype)


def both_fail(op, inputs, out_type=None, **opts):
    """LiteRT and tfl_gpu both refuse the model (at allocate or invoke), ours with a clear error."""
    content = _model(op, inputs, out_type, **opts)
    with pytest.raises(Exception):
        run_litert(content, list(inputs))
    with pytest.raises((ValueError, RuntimeError)) as e:
        run_ours(content, list(inputs))
    return str(e.value)


# ------------------------------------------------------------------------------------------- binary

@pytest.mark.parametrize("resolver", ["BUILTIN", "BUILTIN_REF"])
@pytest.mark.parametrize("sa,sb", SHAPES)
@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL", "DIV", "SQUARED_DIFFERENCE", "MAXIMUM", "MINIMUM"])
def test_binary_float_broadcast(op, sa, sb, resolver, rng):
    a, b = rand(rng, sa), rand(rng, sb)
    if op == "DIV":
        b = np.where(np.abs(b) < 0.1, F32(0.5), b).astype(F32)
    check(op, [a, b], resolver=resolver)


@pytest.mark.parametrize("sa,sb", [((2, 3, 4), (3, 1)), ((5,), ()), ((1, 2, 1, 3, 1, 2), (2, 1, 1, 1, 2))])
@pytest.mark.parametrize("op", ["FLOOR_DIV", "FLOOR_MOD", "POW"])
def test_binary_float_broadcast_nonlinear(op, sa, sb, rng):
    a, b = rand(rng, sa, lo=-10, hi=10), rand(rng, sb, lo=-4, hi=4)
    if op == "POW":
        a = np.abs(a) + F32(0.1)
    else:
        b = np.where(np.abs(b) < 0.25, F32(1.5), b).astype(F32)
    check(op, [a, b])


@pytest.mark.parametrize("resolver", ["BUILTIN", "BUILTIN_REF"])
@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL", "DIV"])
def test_fused_activation_float(op, act, resolver, rng):
    """Every fused activation; TANH and SIGN_BIT are ignored by the float kernels (runtime, not name)."""
    a, b = rand(rng, (3, 4, 5), lo=-8, hi=8), rand(rng, (4, 1), lo=-8, hi=8)
    b = np.where(np.abs(b) < 0.1, F32(0.3), b).astype(F32)
    _, ref = check(op, [a, b], fused_activation_function=act, resolver=resolver)
    if act in ("TANH", "SIGN_BIT"):
        plain = {"ADD": a + b, "SUB": a - b, "MUL": a * b, "DIV": a / b}[op]
        np.testing.assert_allclose(ref[0], plain, rtol=1e-6)     # LiteRT really ignores it


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("op,dtype", [("ADD", np.int32), ("SUB", np.int32), ("MUL", np.int32), ("DIV", np.int32),
                                      ("ADD", np.int64), ("SUB", np.int64), ("MUL", np.int64)])
def test_fused_activation_int(op, dtype, act, rng):
    a, b = rand(rng, (2, 3, 5), dtype, -20, 20), rand(rng, (3, 1), dtype, 1, 9)
    check(op, [a, b], fused_activation_function=act, exact=True)


@pytest.mark.parametrize("sa,sb", [((), ()), ((7,), (7,)), ((2, 3, 4), (4,)), ((1, 2, 1, 3), (2, 1, 3, 1)),
                                   ((2, 1, 2, 1, 3), (2, 1, 3, 1)), ((2, 1, 3, 1, 2, 2), (1, 1, 1, 2, 1)),
                                   ((0, 4), (4,))])
@pytest.mark.parametrize("op,dtype", [(op, dt) for op in ("ADD", "SUB", "MUL", "MAXIMUM", "MINIMUM", "FLOOR_MOD")
                                      for dt in (np.int32, np.int64)]
                         + [("DIV", np.int32), ("FLOOR_DIV", np.int32), ("SQUARED_DIFFERENCE", np.int32),
                            ("POW", np.int32)])
def test_binary_int(op, dtype, sa, sb, rng):
    a = rand(rng, sa, dtype, -50, 50)
    b = rand(rng, sb, dtype, -9, 9)
    if op in ("DIV", "FLOOR_DIV", "FLOOR_MOD"):
        b = np.where(b == 0, dtype(3), b).astype(dtype)
    if op == "POW":
        a, b = rand(rng, sa, dtype, -6, 6), rand(rng, sb, dtype, 0, 5)
    check(op, [a, b], exact=True)
    check(op, [a, b], exact=True, resolver="BUILTIN_REF")


@pytest.mark.parametrize("op,act", [("ADD", "NONE"), ("ADD", "RELU"), ("ADD", "RELU6"), ("MUL", "NONE"),
                                    ("MUL", "RELU_N1_TO_1"), ("MAXIMUM", "NONE"), ("EQUAL", "NONE"),
                                    ("LESS", "NONE")])
def test_float16_binary(op, act, rng):
    """LiteRT defines float16 ADD, MUL, MAXIMUM and comparisons (clamped to the float16 range like float32)."""
    h = np.float16
    a = np.concatenate([rand(rng, (50,), h, -300, 300), np.array([60000, -60000, np.inf, 0.1], h)])
    b = np.concatenate([rand(rng, (50,), h, -300, 300), np.array([60000, -60000, 1, 0.2], h)])
    out = "BOOL" if op in ("EQUAL", "LESS") else "FLOAT16"
    kw = {"fused_activation_function": act} if op in ("ADD", "MUL") else {}
    check(op, [a, b], out_type=out, exact=True, **kw)


def test_complex_mul_and_select(rng):
    a = (rand(rng, (3, 4)) + 1j * rand(rng, (3, 4))).astype(np.complex64)
    b = (rand(rng, (4,)) + 1j * rand(rng, (4,))).astype(np.complex64)
    check("MUL", [a, b])
    c = rand(rng, (3, 4), np.bool_)
    check("SELECT_V2", [c, a, np.broadcast_to(b, (3, 4)).copy()], "COMPLEX64", exact=True)
    check("SELECT_V2", [c, rand(rng, (3, 4), np.float64), rand(rng, (4,), np.float64)], "FLOAT64", exact=True)


@pytest.mark.parametrize("op", ["ADD", "MUL", "DIV", "MAXIMUM", "FLOOR_MOD", "POW", "LESS"])
def test_non_broadcastable_shapes_fail(op):
    a, b = np.ones((2, 3), F32), np.ones((4,), F32)
    msg = both_fail(op, [a, b], "BOOL" if op == "LESS" else "FLOAT32")
    assert "[2, 3]" in msg and "[4]" in msg


@pytest.mark.parametrize("op", ["FLOOR_DIV", "FLOOR_MOD", "MAXIMUM", "MINIMUM"])
@pytest.mark.parametrize("dtype", [np.int8, np.int16])
def test_binary_narrow_int_unquantized(op, dtype, rng):
    """LiteRT's FLOOR_DIV/FLOOR_MOD/MAXIMUM/MINIMUM also take int8/int16 tensors without quantization."""
    a = rand(rng, (2, 3, 4), dtype, -100, 100)
    b = rand(rng, (3, 1), dtype, -9, 9)
    b[b == 0] = 7
    check(op, [a, b], exact=True)


def test_int_division_semantics():
    """DIV truncates toward zero, FLOOR_DIV floors, FLOOR_MOD takes the divisor's sign."""
    a = np.array([7, -7, 7, -7, 0, 6, -6], np.int32)
    b = np.array([2, 2, -2, -2, 3, -4, 4], np.int32)
    _, ref = check("DIV", [a, b], exact=True)
    np.testing.assert_array_equal(ref[0], [3, -3, -3, 3, 0, -1, -1])
    _, ref = check("FLOOR_DIV", [a, b], exact=True)
    np.testing.assert_array_equal(ref[0], [3, -4, -4, 3, 0, -2, -2])
    _, ref = check("FLOOR_MOD", [a, b], exact=True)
    np.testing.assert_array_equal(ref[0], [1, 1, -1, -1, 0, -2, 2])


def test_int_overflow_behaviour():
    """ADD/SUB/MUL/SQUARED_DIFFERENCE wrap around; POW saturates to INT_MIN outside the range; INT_MIN / -1
    gives INT_MAX in DIV and INT_MIN in FLOOR_DIV."""
    i32, big = np.int32, 2**31 - 1
    for op in ("ADD", "SUB", "MUL", "SQUARED_DIFFERENCE"):
        check(op, [np.array([big, -big - 1, 65536, 5], i32), np.array([1, 1, 65536, -big], i32)], exact=True)
    check("ADD", [np.array([2**62, 2**63 - 1], np.int64), np.array([2**62, 1], np.int64)], exact=True)
    check("MUL", [np.array([2**62, 2**40], np.int64), np.array([4, 2**30], np.int64)], exact=True)
    _, ref = check("POW", [np.array([3, 3, 3, -3, 7, 2, -2, 0, 0, -1, 2, 10], i32),
                              np.array([19, 20, 15, 19, 11, 30, 31, 0, 3, 7, 32, 40], i32)], exact=True)
    assert ref[0][1] == -2**31           # 3**20 does not wrap
    check("DIV", [np.array([-big - 1, -big - 1, big], i32), np.array([-1, 2, -1], i32)], exact=True)
    check("FLOOR_DIV", [np.array([-big - 1, big], i32), np.array([-1, -1], i32)], exact=True)
    check("NEG", [np.array([-big - 1, big], i32)], exact=True)
    check("ABS", [np.array([-big - 1, big], i32)], exact=True)


@pytest.mark.parametrize("op,dtype", [("DIV", np.int32), ("FLOOR_DIV", np.int32), ("FLOOR_MOD", np.int32),
                                      ("FLOOR_MOD", np.int64), ("FLOOR_DIV", F32)])
def test_division_by_zero_fails(op, dtype):
    msg = both_fail(op, [np.array([4, 5], dtype), np.array([1, 0], dtype)])
    assert "0" in msg


def test_int_pow_negative_exponent_fails():
    msg = both_fail("POW", [np.array([2, 3], np.int32), np.array([1, -1], np.int32)])
    assert "negative" in msg


def test_float_floor_mod_edge_cases():
    a = np.array([7, -7, 7, -7, 5.5, -0.0, 1e-3, 4.0, -4.0], F32)
    b = np.array([3, 3, -3, -3, -2, 3, 7, 2, 2], F32)
    check("FLOOR_MOD", [a, b])
    check("FLOOR_MOD", [np.array([7.0, 1.0], F32), np.array([0.0, 0.0], F32)])   # NaN, no error


@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL", "DIV"])
@pytest.mark.parametrize("act", ["NONE", "RELU", "TANH"])
def test_float_overflow_clamps_to_flt_max(op, act):
    """LiteRT's float ADD/SUB/MUL/DIV clamp to [-FLT_MAX, FLT_MAX] even without an activation."""
    a = np.array([np.inf, -np.inf, np.nan, 3e38, -3e38, 1, -1, 2], F32)
    b = np.array([1, 1, 1, 3e38, 3e38, 0, 0, np.nan], F32)
    _, ref = check(op, [a, b], fused_activation_function=act)
    assert not np.isinf(ref[0]).any()
    check(op, [a, b], fused_activation_function=act, resolver="BUILTIN_REF")


@pytest.mark.parametrize("op", ["MAXIMUM", "MINIMUM", "POW", "SQUARED_DIFFERENCE", "FLOOR_DIV", "FLOOR_MOD"])
def test_float_special_values(op):
    a = np.array([np.inf, -np.inf, np.nan, 1, 3e38, 0, 2, -3e38, 5], F32)
    b = np.array([1, 1, 1, np.nan, 3e38, 0, -np.inf, 1e-30, np.inf], F32)
    if op == "FLOOR_DIV":
        b[5] = 2          # a zero divisor is an error there
    check(op, [a, b])


@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL", "DIV", "MAXIMUM", "SQUARED_DIFFERENCE", "LESS"])
def test_binary_same_tensor_twice(op, rng):
    """x op x: both inputs are one tensor (a kernel writing into an input would corrupt the other)."""
    from tfl_gpu.writer import ModelBuilder
    mb = ModelBuilder()
    x = mb.input("x", [3, 4], "FLOAT32")
    y = mb.tensor("y", [3, 4], "BOOL" if op == "LESS" else "FLOAT32")
    mb.op(op, [x, x], [y])
    mb.output(y)
    v = rand(rng, (3, 4)) + F32(5)
    assert_same_as_litert(mb.build(), [v])


def _sprinkle(rng, x, n):
    flat = x.reshape(-1)
    idx = rng.choice(flat.size, n, replace=False)
    flat[idx] = np.resize(np.array([np.inf, -np.inf, np.nan, 3e38, -3e38, 0.0], F32), n)
    return x


@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL", "DIV", "SQUARED_DIFFERENCE", "MAXIMUM", "MINIMUM", "POW",
                                "FLOOR_MOD", "LESS", "EQUAL", "GREATER_EQUAL"])
def test_binary_sprinkled_non_finite(op, rng):
    a = _sprinkle(rng, rand(rng, (3, 4, 7)), 18)
    b = _sprinkle(rng, rand(rng, (4, 1)), 2)
    out = "BOOL" if op in CMP else "FLOAT32"
    check(op, [a, b], out, exact=out == "BOOL")
    check(op, [a, b], out, exact=out == "BOOL", resolver="BUILTIN_REF")


@pytest.mark.parametrize("op", ["ABS", "NEG", "EXP", "LOG", "SQRT", "RSQRT", "SQUARE", "SIN", "COS", "FLOOR",
                                "CEIL", "ROUND", "SIGN", "TANH", "RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1",
                                "ELU"])
def test_unary_sprinkled_non_finite(op, rng):
    x = _sprinkle(rng, rand(rng, (5, 31)), 30)
    check(op, [x])
    if op not in NOT_IN_LITERT_REF:
        check(op, [x], resolver="BUILTIN_REF")


@pytest.mark.parametrize("op", ["ADD", "MUL", "MAXIMUM"])
def test_binary_with_constant_operand(op, rng):
    a, c = rand(rng, (2, 5, 3)), rand(rng, (5, 1))
    check(op, [a, c], const=(1,))
    check(op, [c, a], const=(0,))


@pytest.mark.parametrize("op", ["ADD", "MUL", "MAXIMUM", "FLOOR_MOD", "LESS"])
def test_binary_type_mismatch_is_an_error(op):
    msg = both_fail(op, [np.zeros(3, F32), np.zeros(3, np.int32)], "BOOL" if op == "LESS" else "FLOAT32")
    assert "FLOAT32" in msg and "INT32" in msg


# -------------------------------------------------------------------------------------------- unary

_DOMAIN = {"LOG": (0.01, 20), "SQRT": (0, 20), "RSQRT": (0.01, 20), "EXP": (-20, 20), "SIN": (-20, 20),
           "COS": (-20, 20)}


@pytest.mark.parametrize("shape", [(), (1,), (7,), (3, 5), (2, 3, 4, 5), (1, 2, 1, 3, 2, 3), (0, 3)])
@pytest.mark.parametrize("op", ["ABS", "NEG", "EXP", "LOG", "SQRT", "RSQRT", "SQUARE", "SIN", "COS", "FLOOR",
                                "CEIL", "ROUND", "SIGN"])
def test_unary_float(op, shape, rng):
    lo, hi = _DOMAIN.get(op, (-10, 10))
    x = rand(rng, shape, F32, lo, hi)
    check(op, [x])
    if op not in NOT_IN_LITERT_REF:
        check(op, [x], resolver="BUILTIN_REF")


@pytest.mark.parametrize("op", ["ABS", "NEG", "EXP", "LOG", "SQRT", "RSQRT", "SQUARE", "SIN", "COS", "FLOOR",
                                "CEIL", "ROUND", "SIGN"])
def test_unary_float_special_values(op):
    x = np.array([np.inf, -np.inf, np.nan, -0.0, 0.0, 100, -100, -1, 1e-30, 3e38], F32)
    check(op, [x])


@pytest.mark.parametrize("op,lo,hi", [("EXP", -80, 80), ("LOG", 1e-6, 1e6), ("SIN", -100, 100), ("COS", -100, 100),
                                      ("SQRT", 0, 1e6), ("RSQRT", 1e-6, 1e6)])
def test_unary_dense_sweep(op, lo, hi):
    """Dense sweeps: LiteRT's vectorized math must agree to the float bar everywhere, not just on a few points."""
    x = np.linspace(lo, hi, 20001, dtype=F32)
    check(op, [x])
    check(op, [x], resolver="BUILTIN_REF")


@pytest.mark.parametrize("op", sorted(NOT_IN_LITERT_REF))
def test_ops_missing_from_litert_reference_resolver(op):
    """Under BUILTIN_REF, LiteRT has no kernel for these: tfl_gpu refuses them the same way."""
    x = np.ones((2, 3), F32)
    content = _model(op, [x])
    with pytest.raises(ValueError, match="Didn't find op"):
        run_litert(content, [x], "BUILTIN_REF")
    with pytest.raises((ValueError, RuntimeError), match="Didn't find op"):
        run_ours(content, [x], "BUILTIN_REF")
    check(op, [x])      # and both run it under BUILTIN


def test_round_is_half_to_even():
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 3.5000002, 1e7 + 0.5], F32)
    _, ref = check("ROUND", [x])
    np.testing.assert_array_equal(ref[0], np.array([0, 2, 2, 0, -2, -2, 2, 4, 1e7], F32))


@pytest.mark.parametrize("op,dtype", [("ABS", np.int32), ("NEG", np.int32), ("NEG", np.int64),
                                      ("SIGN", np.int32), ("ABS", np.int16), ("NEG", np.int16)])
def test_unary_int(op, dtype, rng):
    x = rand(rng, (3, 7), dtype, -1000, 1000)
    x[0, :3] = [0, 1, -1]
    check(op, [x], exact=True)
    check(op, [x], exact=True, resolver="BUILTIN_REF")


@pytest.mark.parametrize("op,dtype", [("SIN", np.float16), ("COS", np.float16), ("FLOOR", np.float16),
                                      ("ROUND", np.float16), ("NEG", np.float16), ("SIGN", np.float64)])
def test_unary_other_float_types(op, dtype, rng):
    x = rand(rng, (4, 5), dtype, -5, 5)
    check(op, [x])


@pytest.mark.parametrize("shape", [(), (5,), (2, 3, 4)])
def test_logical_not(shape, rng):
    check("LOGICAL_NOT", [rand(rng, shape, np.bool_)], exact=True)


# -------------------------------------------------------------------------- comparisons and logical

CMP = ["EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL"]
CMP_SHAPES = [((), ()), ((5,), ()), ((2, 3), (3,)), ((2, 1, 4), (3, 1)), ((1, 2, 3, 4), (2, 1, 4)),
              ((0, 3), (3,))]


@pytest.mark.parametrize("sa,sb", CMP_SHAPES)
@pytest.mark.parametrize("dtype", [F32, np.int32, np.int64, np.int16])
@pytest.mark.parametrize("op", CMP)
@pytest.mark.parametrize("resolver", ["BUILTIN", "BUILTIN_REF"])
def test_comparisons(op, dtype, sa, sb, resolver, rng):
    if op == "NOT_EQUAL" and dtype == np.int16:
        # LiteRT's NOT_EQUAL has no int16 case: it returns all-True (left-over memory), a runtime bug we do
        # not copy; numpy's answer is checked instead
        a, b = rand(rng, sa, dtype, -3, 3), rand(rng, sb, dtype, -3, 3)
        ours = run_ours(_model(op, [a, b], "BOOL"), [a, b], resolver)[0]
        np.testing.assert_array_equal(ours, np.not_equal(a, b))
        return
    a, b = rand(rng, sa, dtype, -3, 3), rand(rng, sb, dtype, -3, 3)
    if dtype == F32:
        a, b = np.round(a), np.round(b)    # make ties common
    check(op, [a, b], out_type="BOOL", exact=True, resolver=resolver)


@pytest.mark.parametrize("sa,sb", [((2, 1, 3, 1, 2), (1, 2, 1, 2, 1)), ((2, 1, 2, 1, 3, 1), (2, 1, 2, 1, 3))])
@pytest.mark.parametrize("op", ["LESS", "EQUAL"])
def test_comparisons_high_rank(op, sa, sb, rng):
    a, b = np.round(rand(rng, sa)), np.round(rand(rng, sb))
    content = _model(op, [a, b], "BOOL")
    try:
        ref = run_litert(content, [a, b])
    except Exception:       # LiteRT's comparison kernels may limit broadcasting rank
        ref = [np.asarray(getattr(np, {"LESS": "less", "EQUAL": "equal"}[op])(a, b))]
    ours = run_ours(content, [a, b])
    np.testing.assert_array_equal(ours[0], ref[0])


@pytest.mark.parametrize("op", ["EQUAL", "NOT_EQUAL"])
def test_comparisons_bool_and_nan(op, rng):
    check(op, [rand(rng, (3, 4), np.bool_), rand(rng, (4,), np.bool_)], out_type="BOOL", exact=True)
    x = np.array([np.nan, 1, np.inf, -0.0], F32)
    y = np.array([np.nan, 1, np.inf, 0.0], F32)
    check(op, [x, y], out_type="BOOL", exact=True)


@pytest.mark.parametrize("op", CMP)
def test_comparisons_nan(op):
    x = np.array([np.nan, 1, np.nan, -np.inf], F32)
    y = np.array([1, np.nan, np.nan, np.inf], F32)
    check(op, [x, y], out_type="BOOL", exact=True)


@pytest.mark.parametrize("op", ["EQUAL", "NOT_EQUAL"])
def test_comparisons_string(op):
    from tfl_gpu.writer import ModelBuilder
    mb = ModelBuilder()
    x = mb.input("x", [4], "STRING")
    c = mb.const("c", np.array([b"a", b"bc", b"", b"zz"], dtype=object), type_name="STRING")
    y = mb.tensor("y", [4], "BOOL")
    mb.op(op, [x, c], [y])
    mb.output(y)
    content = mb.build()
    feed = [np.array([b"a", b"b", b"", b"zz"], dtype=object)]
    assert_same_as_litert(content, feed, exact=True)


@pytest.mark.parametrize("op", ["LOGICAL_AND", "LOGICAL_OR"])
@pytest.mark.parametrize("sa,sb", [((), ()), ((4,), ()), ((2, 3), (3,)), ((2, 1, 4), (3, 1)),
                                   ((1, 2, 1, 2), (2, 1, 2, 1))])
def test_logical_binary(op, sa, sb, rng):
    check(op, [rand(rng, sa, np.bool_), rand(rng, sb, np.bool_)], exact=True)


@pytest.mark.parametrize("op", ["LOGICAL_AND", "LOGICAL_OR"])
def test_logical_binary_refuses_non_bool(op):
    msg = both_fail(op, [np.ones(3, np.int32), np.ones(3, np.int32)], "BOOL")
    assert "BOOL" in msg


# --------------------------------------------------------------------------------------------- SELECT

@pytest.mark.parametrize("dtype", [F32, np.int32, np.int64, np.bool_, np.int8, np.uint8, np.int16])
@pytest.mark.parametrize("sc,sx", [((2, 3), (2, 3)), ((4,), (4, 2, 3)), ((), (3, 2)), ((5,), (5,)),
                                   ((), ())])
def test_select_v1(dtype, sc, sx, rng):
    c = rand(rng, sc, np.bool_)
    x, y = rand(rng, sx, dtype, -9, 9), rand(rng, sx, dtype, -9, 9)
    if dtype == np.uint8:
        x, y = rand(rng, sx, dtype, 0, 200), rand(rng, sx, dtype, 0, 200)
    check("SELECT", [c, x, y], out_type=_type_of(np.dtype(dtype)), exact=True)


@pytest.mark.parametrize("dtype", [F32, np.int32, np.int64, np.bool_])
@pytest.mark.parametrize("sc,sx,sy", [((2, 3), (2, 3), (2, 3)), ((3,), (2, 3), ()), ((2, 1), (1, 3), (2, 3)),
                                      ((), (4, 2), (2,)), ((1, 2, 1, 2), (2, 1, 3, 1), (3, 2)),
                                      ((2, 1, 1, 2, 1), (1, 2, 1, 1, 3), (2, 1, 2, 3)), ((0, 2), (2,), ())])
def test_select_v2(dtype, sc, sx, sy, rng):
    c = rand(rng, sc, np.bool_)
    x, y = rand(rng, sx, dtype, -9, 9), rand(rng, sy, dtype, -9, 9)
    content = _model("SELECT_V2", [c, x, y], _type_of(np.dtype(dtype)))
    try:
        ref = run_litert(content, [c, x, y])
    except Exception:
        if len(np.broadcast_shapes(sc, sx, sy)) <= 4:
            raise
        ref = [np.where(c, x, y)]      # LiteRT's broadcasting select may stop at rank 4
    ours = run_ours(content, [c, x, y])
    assert ours[0].dtype == ref[0].dtype
    np.testing.assert_array_equal(ours[0], ref[0])


@pytest.mark.parametrize("dtype", [F32, np.int32, np.int64, np.bool_, np.int8, np.int16])
@pytest.mark.parametrize("op,sc,sx,sy", [("SELECT_V2", (64, 100), (64, 100), (64, 100)),
                                         ("SELECT_V2", (64, 1), (1, 100), (64, 100)),
                                         ("SELECT_V2", (3, 1, 50), (1, 40, 1), (40, 50)),
                                         ("SELECT", (70,), (70, 80), (70, 80)),
                                         ("SELECT_V2", (3, 300, 171), (3, 300, 171), (3, 300, 171)),
                                         ("SELECT", (3, 300, 171), (3, 300, 171), (3, 300, 171))])
def test_select_large(op, dtype, sc, sx, sy, rng):
    """Large selects take the branch-free bit path (small ones use np.where), blockwise over 2 * 65536."""
    c = rand(rng, sc, np.bool_)
    x, y = rand(rng, sx, dtype, -100, 100), rand(rng, sy, dtype, -100, 100)
    if dtype == F32:
        x.flat[::7] = np.nan
        y.flat[::5] = -np.inf
    content = _model(op, [c, x, y], _type_of(np.dtype(dtype)))
    ref = run_litert(content, [c, x, y])[0]
    ours = run_ours(content, [c, x, y])[0]
    assert ours.dtype == ref.dtype and ours.shape == ref.shape
    np.testing.assert_array_equal(ours, ref)
    np.testing.assert_array_equal(ours, np.where(c.reshape(sc + (1,) * (len(sx) - len(sc))) if op == "SELECT"
                                                 else c, x, y))


def test_select_v1_rejects_broadcasting():
    c, x, y = np.ones((3,), bool), np.ones((2, 3), F32), np.ones((2, 3), F32)
    both_fail("SELECT", [c, x, y])


# ---------------------------------------------------------------------------------------------- CAST

CAST_TYPES = [F32, np.int32, np.int64, np.uint8, np.int8, np.int16, np.bool_, np.float16, np.float64,
              np.uint16, np.uint32, np.complex64]


def _cast_input(rng, dtype):
    if dtype == np.bool_:
        return rng.random((3, 5)) < 0.5
    if np.dtype(dtype).kind == "u":
        return rng.integers(0, 100, (3, 5)).astype(dtype)
    if np.dtype(dtype).kind == "i":
        return rng.integers(-100, 100, (3, 5)).astype(dtype)
    if np.dtype(dtype).kind == "c":
        return (rng.uniform(0, 100, (3, 5)) + 1j * rng.uniform(-5, 5, (3, 5))).astype(dtype)
    x = rng.uniform(-300, 300, (3, 5)).astype(dtype)
    x[0, :4] = [0.0, 0.5, 99.99, -1.5]
    x[1, :4] = [np.nan, np.inf, -np.inf, 6e4]      # LiteRT saturates float -> int (NaN -> max)
    if dtype != np.float16:
        x[2, :4] = [3e9, -3e9, 1e19, -1e19]
    return x


@pytest.mark.parametrize("src", CAST_TYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("dst", CAST_TYPES, ids=lambda d: np.dtype(d).name)
def test_cast(src, dst, rng):
    x = _cast_input(rng, src)
    content = _model("CAST", [x], _type_of(np.dtype(dst)))
    try:
        ref = run_litert(content, [x])
    except Exception as e:        # a combination LiteRT does not define
        pytest.skip(f"LiteRT has no CAST {np.dtype(src).name} -> {np.dtype(dst).name}: {str(e)[:80]}")
    ours = run_ours(content, [x])
    assert ours[0].dtype == ref[0].dtype
    np.testing.assert_array_equal(ours[0], ref[0])
    ref = run_litert(content, [x], "BUILTIN_REF")
    np.testing.assert_array_equal(run_ours(content, [x], "BUILTIN_REF")[0], ref[0])


def test_cast_signed_float_to_int_truncates(rng):
    x = np.array([-2.7, -0.5, 0.5, 2.7, -100.9, 3e4], F32)
    _, ref = check("CAST", [x], "INT32", exact=True)
    np.testing.assert_array_equal(ref[0], [-2, 0, 0, 2, -100, 30000])
    check("CAST", [x], "INT64", exact=True)
    check("CAST", [x], "BOOL", exact=True)
    check("CAST", [np.array([-1, 300, 255, -129], np.int32)], "UINT8", exact=True)   # wraps
    check("CAST", [np.array([-1, 300, 255, -129], np.int32)], "INT8", exact=True)


@pytest.mark.parametrize("dst", ["UINT8", "INT8", "INT16", "UINT16", "INT32", "UINT32", "INT64"])
def test_cast_float_to_int_saturates(dst):
    info = np.iinfo(np.dtype(dst.lower()))
    x = np.array([np.nan, np.inf, -np.inf, 1e30, -1e30, 2.9, -2.9, 2147483520.0, -2147483648.0, 255.5, -0.9],
                 F32)
    _, ref = check("CAST", [x], dst, exact=True)
    assert ref[0][0] == info.max and ref[0][1] == info.max and ref[0][2] == info.min


@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3)])
@pytest.mark.parametrize("src,dst", [(F32, "INT32"), (F32, "UINT8"), (np.int32, "FLOAT32"), (F32, "BOOL"),
                                     (np.int64, "INT32")])
def test_cast_rank0_and_empty(shape, src, dst, rng):
    check("CAST", [rand(rng, shape, src, -300, 300)], dst, exact=True)


def test_add_n_clamps_like_add():
    a = np.array([3e38, -3e38, np.inf, 1, np.nan], F32)
    _, ref = check("ADD_N", [a, a, a])
    assert not np.isinf(ref[0]).any()


def test_cast_int64_to_int32_wraps():
    check("CAST", [np.array([2**31, -2**31 - 1, 2**40 + 5], np.int64)], "INT32", exact=True)


# ------------------------------------------------------------------------------------ ZEROS_LIKE, ADD_N

@pytest.mark.parametrize("dtype", [F32, np.int32, np.int64])
@pytest.mark.parametrize("shape", [(), (3,), (2, 0), (2, 3, 4)])
def test_zeros_like(dtype, shape, rng):
    check("ZEROS_LIKE", [rand(rng, shape, dtype)], exact=True)


def test_add_n_needs_two_inputs():
    both_fail("ADD_N", [np.ones((2, 3), F32)])


@pytest.mark.parametrize("n", [2, 3, 5])
@pytest.mark.parametrize("dtype,shape", [(F32, (2, 3, 4)), (F32, ()), (np.int32, (5, 3)), (F32, (0, 2))])
def test_add_n(n, dtype, shape, rng):
    xs = [rand(rng, shape, dtype, -50, 50) for _ in range(n)]
    check("ADD_N", xs, exact=dtype != F32)


def test_add_n_does_not_write_into_inputs(rng):
    xs = [rand(rng, (3, 4)) for _ in range(3)]
    keep = [x.copy() for x in xs]
    run_ours(_model("ADD_N", xs), xs)
    for x, k in zip(xs, keep):
        np.testing.assert_array_equal(x, k)


# ------------------------------------------------------- quantized tensors through the raw-integer kernels

def _q_model(op, shapes, dtype, quants, out_type, out_quant):
    from tfl_gpu.writer import ModelBuilder
    mb = ModelBuilder()
    ins = [mb.input(f"in{k}", s, _type_of(np.dtype(dtype)) if q is not None or k else "BOOL", quant=q)
           for k, (s, q) in enumerate(zip(shapes, quants))]
    y = mb.tensor("y", [], out_type, quant=out_quant)
    mb.op(op, ins, [y])
    mb.output(y)
    return mb.build()


@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
@pytest.mark.parametrize("op", ["MAXIMUM", "MINIMUM"])
def test_quantized_max_min_same_scale(op, dtype, rng):
    q = {"scale": [0.05], "zero_point": [3]}
    info = np.iinfo(dtype)
    a = rng.integers(info.min, info.max + 1, (2, 3, 4)).astype(dtype)
    b = rng.integers(info.min, info.max + 1, (3, 1)).astype(dtype)
    content = _q_model(op, [a.shape, b.shape], dtype, [q, q], _type_of(np.dtype(dtype)), q)
    assert_same_as_litert(content, [a, b], exact=True)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16])
@pytest.mark.parametrize("op", CMP)
@pytest.mark.parametrize("same", [True, False])
def test_quantized_comparisons(op, dtype, same, rng):
    """int8/uint8 compare real values (rescaled); int16 compares the raw integers, even across scales."""
    if op == "NOT_EQUAL" and dtype == np.int16:
        return      # LiteRT's NOT_EQUAL has no int16 case (see test_comparisons)
    qa = {"scale": [0.05], "zero_point": [3 if dtype != np.int16 else 0]}
    qb = qa if same else {"scale": [0.1], "zero_point": [7 if dtype == np.uint8 else (-2 if dtype == np.int8 else 0)]}
    info = np.iinfo(dtype)
    a = rng.integers(info.min, info.max + 1, (4, 5)).astype(dtype)
    b = rng.integers(info.min, info.max + 1, (5,)).astype(dtype)
    # make some pairs equal in real value
    content = _q_model(op, [a.shape, b.shape], dtype, [qa, qb], "BOOL", None)
    assert_same_as_litert(content, [a, b], exact=True)


@pytest.mark.parametrize("scales", [(0.0123, 3, 0.0371, -5), (1 / 3, 0, 1 / 7, 1), (1e-4, 0, 1e-4, 0),
                                    (1e-6, 5, 3e-6, 0), (0.00390625, -128, 0.0078125, 0)])
@pytest.mark.parametrize("op", ["LESS", "EQUAL", "GREATER_EQUAL", "NOT_EQUAL"])
@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
def test_quantized_comparisons_exhaustive(op, dtype, scales):
    """Every pair of quantized values, with scales whose ratio is irrational or tiny: LiteRT compares on a
    fixed-point grid (tiny scales merge neighbouring values), which must be reproduced bit for bit."""
    sa, za, sb, zb = scales
    if dtype == np.uint8:
        za, zb = abs(za) % 128 + 100, abs(zb) % 128 + 100
    info = np.iinfo(dtype)
    a = np.arange(info.min, info.max + 1).astype(dtype).reshape(-1, 1)
    b = np.arange(info.min, info.max + 1).astype(dtype).reshape(1, -1)
    content = _q_model(op, [a.shape, b.shape], dtype, [{"scale": [sa], "zero_point": [za]},
                                                       {"scale": [sb], "zero_point": [zb]}], "BOOL", None)
    assert_same_as_litert(content, [a, b], exact=True)
    assert_same_as_litert(content, [a, b], exact=True, resolver="BUILTIN_REF")


def test_quantized_comparison_scale_above_one():
    """LiteRT's kernel assumes scales below 1 (it aborts at exactly 1.0 and computes garbage above); we
    compare the real values there."""
    a = np.arange(-128, 128).astype(np.int8).reshape(-1, 1)
    b = np.arange(-128, 128).astype(np.int8).reshape(1, -1)
    content = _q_model("LESS", [a.shape, b.shape], np.int8, [{"scale": [2.5], "zero_point": [1]},
                                                             {"scale": [0.7], "zero_point": [0]}], "BOOL", None)
    ours = run_ours(content, [a, b])[0]
    scale_b = float(np.float32(0.7))          # scales are stored as float32
    np.testing.assert_array_equal(ours, (a.astype(np.float64) - 1) * 2.5 < b.astype(np.float64) * scale_b)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
@pytest.mark.parametrize("op", ["SELECT", "SELECT_V2"])
def test_quantized_select(op, dtype, rng):
    q = {"scale": [0.05], "zero_point": [3]}
    info = np.iinfo(dtype)
    c = rng.random((3, 4)) < 0.5
    a = rng.integers(info.min, info.max + 1, (3, 4)).astype(dtype)
    b = rng.integers(info.min, info.max + 1, (3, 4)).astype(dtype)
    content = _q_model(op, [c.shape, a.shape, b.shape], dtype, [None, q, q], _type_of(np.dtype(dtype)), q)
    assert_same_as_litert(content, [c, a, b], exact=True)


# ------------------------------------------------------------------- strided (non-contiguous) inputs

def _kernel_for(content, resolver="BUILTIN"):
    from tfl_gpu.kernels.registry import Node, find
    from tfl_gpu.model import read_model
    sg = read_model(content).subgraphs[0]
    node = Node(sg.operators[0], sg.tensors, resolver)
    return find(node).factory(node)


@pytest.mark.parametrize("op,n_in,out,opts", [
    ("ADD", 2, "FLOAT32", {"fused_activation_function": "RELU6"}), ("MAXIMUM", 2, "FLOAT32", {}),
    ("FLOOR_MOD", 2, "FLOAT32", {}), ("LESS", 2, "BOOL", {}), ("SELECT_V2", 3, "FLOAT32", {}),
    ("CAST", 1, "INT32", {}), ("LOGISTIC", 1, "FLOAT32", {}), ("GELU", 1, "FLOAT32", {}),
    ("SOFTMAX", 1, "FLOAT32", {"beta": 1.0}), ("L2_NORMALIZATION", 1, "FLOAT32", {}),
    ("LOCAL_RESPONSE_NORMALIZATION", 1, "FLOAT32", dict(radius=2, bias=1.0, alpha=0.5, beta=0.5)),
    ("LEAKY_RELU", 1, "FLOAT32", {"alpha": 0.3}), ("PRELU", 2, "FLOAT32", {}), ("ABS", 1, "FLOAT32", {})])
def test_strided_inputs(op, n_in, out, opts, rng):
    """Kernels get views (slices, transposes) from other kernels: strided inputs give the same results as
    LiteRT on contiguous copies, and are left untouched. Sizes cross the 2 * 65536 blocking threshold."""
    base = [rand(rng, (2, 400, 2, 500), F32, -20, 20) for _ in range(n_in)]
    views = [b.transpose(1, 0, 3, 2)[::2, :, ::3] for b in base]          # (200, 2, 167, 2), strided
    if op == "SELECT_V2":
        views[0] = views[0] > 0
    if op == "PRELU":
        views[1] = views[1][:1, :1, :1, :]                               # per-channel alpha
    if op == "LOCAL_RESPONSE_NORMALIZATION":
        views = [views[0].transpose(0, 2, 1, 3)]
    keep = [v.copy() for v in views]
    contiguous = [np.ascontiguousarray(v) for v in views]
    content = _model(op, contiguous, out, **opts)
    ref = run_litert(content, contiguous)[0]
    ours = np.asarray(_kernel_for(content)(*views))
    if ref.dtype == np.bool_ or out == "INT32":
        np.testing.assert_array_equal(ours, ref)
    else:
        assert_close(ours.astype(ref.dtype), ref)
    for v, k in zip(views, keep):
        np.testing.assert_array_equal(v, k)
