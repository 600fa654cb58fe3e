"""The indexing side of searcher: files -> passages -> analysis -> whoosh index.

Module paths and class names in ``index.analysis`` are part of the on-disk
format (whoosh pickles the schema with its analyzers), so they never change.
"""
