"""Reading files into text: formats, containers, markup, outlines, extraction in a child process."""
