"""Ingestion: files → documents → chunks → embedded and stored in Chroma, kept in sync incrementally."""
