"""Deploying: train the digits network, then ship it three ways that need no edgenet where
they run: a plain-torch module (pickled), a torch.export program, and an ONNX graph for
ONNX Runtime; and run the plain module in bfloat16.

    python examples/deploy.py [folder]

Writes ``digits_plain.pt``, ``digits.pt2`` and ``digits.onnx`` into ``folder`` (default
``edgenet-deploy``); ``EDGENET_FAST=1`` trains for one epoch only.
"""

import importlib.util
import os
import sys
from pathlib import Path

import torch

import edgenet as en
from edgenet.shell.demo import build, load

folder = Path(sys.argv[1] if len(sys.argv) > 1 else "edgenet-deploy")
folder.mkdir(parents=True, exist_ok=True)
epochs = 1 if os.environ.get("EDGENET_FAST") == "1" else 20

# Train the demo's network: 8x8 digit images -> 10 classes.
x_train, y_train, x_test, y_test = load()
model = build(seed=0).compile(seed=0)
opt = torch.optim.Adam(model.parameters(), lr=0.01)
for _ in range(epochs):
    for i in range(0, len(x_train), 64):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x_train[i:i + 64]), y_train[i:i + 64]).backward()
        opt.step()
with torch.no_grad():
    want = model(x_test)
print(f"edgenet: test accuracy {(want.argmax(1) == y_test).float().mean():.2%}")

# 1. A plain torch.nn.Module: torch.load needs only torch (weights_only=False: it holds code).
torch.save(en.to_torch(model), folder / "digits_plain.pt")
plain = torch.load(folder / "digits_plain.pt", weights_only=False)
with torch.no_grad():
    print(f"plain torch: max difference {(plain(x_test) - want).abs().max():.2e}")

# 2. torch.export: a program of torch operators, any batch size.
batch = torch.export.Dim("batch")
program = torch.export.export(model, (x_test[:8],), dynamic_shapes={"x": {0: batch}})
torch.export.save(program, folder / "digits.pt2")
loaded = torch.export.load(folder / "digits.pt2").module()
with torch.no_grad():
    print(f"torch.export: max difference {(loaded(x_test) - want).abs().max():.2e}")

# 3. ONNX, for ONNX Runtime (pip install "edgenet[onnx]").
if importlib.util.find_spec("onnx") and importlib.util.find_spec("onnxruntime"):
    import onnxruntime as ort

    en.export_onnx(model, folder / "digits.onnx")
    session = ort.InferenceSession(str(folder / "digits.onnx"),
                                   providers=["CPUExecutionProvider"])
    (y,) = session.run(None, {"x": x_test.numpy()})
    print(f"ONNX Runtime: max difference {abs(y - want.numpy()).max():.2e}")
else:
    print("ONNX Runtime: skipped (pip install 'edgenet[onnx]')")

# Half precision: the plain module converts like any torch module.
half = en.to_torch(model).to(torch.bfloat16)
with torch.no_grad():
    y16 = half(x_test.to(torch.bfloat16)).float()
agree = (y16.argmax(1) == want.argmax(1)).float().mean()
print(f"bfloat16: max difference {(y16 - want).abs().max():.2e}, same class for {agree:.1%}")
