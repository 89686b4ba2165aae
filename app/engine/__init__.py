"""The request path below the API: runtime (ONNX Runtime), batcher, pipeline."""
