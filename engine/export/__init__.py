"""Export: BN-folded, QDQ ONNX that keeps sparsity; verification and benchmarking with onnxruntime."""
