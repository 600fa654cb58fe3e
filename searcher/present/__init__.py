"""Results onto the terminal or into JSON: output, snippets, explanations, show, links, progress."""
