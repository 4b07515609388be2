"""The index format: the SQLite database, the FAISS vectors and their generations."""
