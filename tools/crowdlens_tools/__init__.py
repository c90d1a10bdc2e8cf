"""CrowdLens model tools: train, export, evaluate the ResNet50 gender classifier.

Run with the project's venv (scripts/python-env.sh) and ``tools/`` on the path::

    tools/crowdlens-tools train --data /data/celeba --subset 5000 --out models/resnet50.pth
    tools/crowdlens-tools export --checkpoint models/resnet50.pth --out models/resnet50.onnx
    tools/crowdlens-tools evaluate --model models/resnet50.onnx --data /data/celeba
"""

__version__ = "0.1.0"
