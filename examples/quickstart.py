"""Runs a small model shipped in the repo end to end and prints its outputs."""
import pathlib

import numpy as np

from tfl_gpu import Interpreter

model = pathlib.Path(__file__).parent / "models" / "sine_float.tflite"
interpreter = Interpreter(model_path=model)
interpreter.allocate_tensors()
inp = interpreter.get_input_details()[0]
out = interpreter.get_output_details()[0]
xs = np.linspace(0, 2 * np.pi, 5, dtype=np.float32)
for x in xs:
    interpreter.set_tensor(inp["index"], np.array([[x]], dtype=np.float32))
    interpreter.invoke()
    y = interpreter.get_tensor(out["index"])[0, 0]
    print(f"sin({x:.3f}) ~ {y:+.4f}   (numpy: {np.sin(x):+.4f})")
