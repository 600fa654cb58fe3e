from searcher.cli import main

if __name__ == "__main__":  # not when a spawned indexing worker re-imports it (index/runs/writer.py)
    main()
