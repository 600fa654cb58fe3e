"""An indexing run: walking folders, ignore files, the writer, the builder, the run lock, files left out."""
