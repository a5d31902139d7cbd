"""Model signatures (OMS), SLSA provenance and release evidence, keys in a KeyProvider."""
