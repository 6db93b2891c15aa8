"""Building, saving, loading and searching the FAISS index of canonical queries."""
