"""Face detectors that turn an RGB image into boxes, landmarks and scores."""
