"""Benchmark scripts: PressLens measured against plain encoding and against its peers."""
