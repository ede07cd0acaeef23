// The Config module: see ../../shared/STYLE.md (placeholder until its issue lands).
