// The Proto module: see ../../shared/STYLE.md (placeholder until its issue lands).
