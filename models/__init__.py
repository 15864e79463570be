"""Model zoo: pack manifests, builders and converters, ONNX sessions and the face engine."""
