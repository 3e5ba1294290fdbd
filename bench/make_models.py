"""Generates the MobileNet-like float benchmark models in bench/models/ with tfl_gpu.writer (no TensorFlow).

    python bench/make_models.py            # writes bench/models/*.tflite (deterministic: seeded weights)

Architecture (MobileNetV2-style, random He-scaled weights): 3x3/2 stem conv + RELU6, inverted-residual blocks
(1x1 expand + fused RELU6, 3x3 depthwise + fused RELU6, 1x1 linear projection, ADD skip when shapes allow),
a 1x1 head conv, a standalone RELU6 op, MEAN over H and W, FULLY_CONNECTED logits.

* mobilenet_like_f32_224.tflite     -- float32 weights, 224x224 input, width 0.35
* mobilenet_like_f16w_160.tflite    -- float16 weights fed through DEQUANTIZE (the MediaPipe layout), 160x160, width 0.35
"""
from __future__ import annotations

import pathlib
import sys

import numpy as np

from tfl_gpu.writer import ModelBuilder

OUT = pathlib.Path(__file__).resolve().parent / "models"

# (expansion t, output channels c, repeats n, first stride s) -- MobileNetV2's table
BLOCKS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
          (6, 320, 1, 1)]


class _Net:
    def __init__(self, size: int, alpha: float, f16_weights: bool, seed: int):
        self.mb = ModelBuilder("tfl_gpu bench/make_models.py")
        self.rng = np.random.default_rng(seed)
        self.f16 = f16_weights
        self.n = 0
        self.size = size
        self.alpha = alpha

    def ch(self, c):
        return max(8, int(c * self.alpha + 4) // 8 * 8)

    def weight(self, name, shape, fan_in):
        w = (self.rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)
        if not self.f16:
            return self.mb.const(name, w)
        w16 = self.mb.const(name + "_f16", w.astype(np.float16))
        wf = self.mb.tensor(name, list(shape), "FLOAT32")
        self.mb.op("DEQUANTIZE", [w16], [wf])
        return wf

    def bias(self, name, c):
        return self.mb.const(name, (self.rng.standard_normal(c) * 0.05).astype(np.float32))

    def tensor(self, shape):
        self.n += 1
        return self.mb.tensor(f"t{self.n}", shape)

    def conv(self, x, shape, cout, k, stride, act):
        n, h, w, cin = shape
        oh, ow = (h + stride - 1) // stride, (w + stride - 1) // stride
        y = self.tensor([n, oh, ow, cout])
        wt = self.weight(f"conv{self.n}_w", (cout, k, k, cin), k * k * cin)
        self.mb.op("CONV_2D", [x, wt, self.bias(f"conv{self.n}_b", cout)], [y], padding="SAME",
                   stride_w=stride, stride_h=stride, fused_activation_function=act)
        return y, [n, oh, ow, cout]

    def dwconv(self, x, shape, stride, act):
        n, h, w, c = shape
        oh, ow = (h + stride - 1) // stride, (w + stride - 1) // stride
        y = self.tensor([n, oh, ow, c])
        wt = self.weight(f"dw{self.n}_w", (1, 3, 3, c), 9)
        self.mb.op("DEPTHWISE_CONV_2D", [x, wt, self.bias(f"dw{self.n}_b", c)], [y], padding="SAME",
                   stride_w=stride, stride_h=stride, depth_multiplier=1, fused_activation_function=act)
        return y, [n, oh, ow, c]

    def build(self) -> bytes:
        mb = self.mb
        x = mb.input("input", [1, self.size, self.size, 3])
        y, shape = self.conv(x, [1, self.size, self.size, 3], self.ch(32), 3, 2, "RELU6")
        for t, c, reps, s in BLOCKS:
            cout = self.ch(c)
            for r in range(reps):
                stride = s if r == 0 else 1
                inp, in_shape = y, shape
                h = y
                if t != 1:
                    h, shape = self.conv(h, shape, in_shape[3] * t, 1, 1, "RELU6")
                h, shape = self.dwconv(h, shape, stride, "RELU6")
                h, shape = self.conv(h, shape, cout, 1, 1, "NONE")
                if stride == 1 and in_shape[3] == cout:
                    s_out = self.tensor(shape)
                    mb.op("ADD", [inp, h], [s_out], fused_activation_function="NONE")
                    h = s_out
                y = h
        y, shape = self.conv(y, shape, max(self.ch(1280), 256), 1, 1, "NONE")
        r6 = self.tensor(shape)
        mb.op("RELU6", [y], [r6])
        pooled = self.tensor([1, shape[3]])
        mb.op("MEAN", [r6, mb.const("mean_axes", np.array([1, 2], np.int32))], [pooled], keep_dims=False)
        logits = mb.tensor("logits", [1, 100])
        fw = self.weight("fc_w", (100, shape[3]), shape[3])
        mb.op("FULLY_CONNECTED", [pooled, fw, self.bias("fc_b", 100)], [logits])
        mb.output(logits)
        mb.signature("serving_default", {"input": x}, {"logits": logits})
        return mb.build()


MODELS = {
    "mobilenet_like_f32_224.tflite": dict(size=224, alpha=0.35, f16_weights=False, seed=0),
    "mobilenet_like_f16w_160.tflite": dict(size=160, alpha=0.35, f16_weights=True, seed=1),
}


def main(argv=None) -> int:
    OUT.mkdir(exist_ok=True)
    for name, kw in MODELS.items():
        content = _Net(**kw).build()
        (OUT / name).write_bytes(content)
        print(f"wrote {OUT / name} ({len(content)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
