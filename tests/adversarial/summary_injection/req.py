# ruff: noqa
# The import error's message closes the details block and starts a heading and a table.
raise RuntimeError("</details>\n\n# Fake heading\n\n| a | b |\n|---|---|\n| [x](http://e.vil) | <img src=x> |")
