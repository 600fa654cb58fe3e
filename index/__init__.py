"""The indexing side of searcher: files -> passages -> analysis -> whoosh index.

The source tree keeps it in the top-level folder ``index/``; it is installed as
``searcher.index`` (setup.cfg's package_dir). Indexes written before that move name
their analysis classes ``index.analysis.*`` in their pickles: index/storage/safepickle.py
maps those names, so the classes in ``searcher.index.text.analysis`` keep their names.
"""
