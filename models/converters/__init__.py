"""Converters that turn upstream model files into the ONNX files a pack ships."""
