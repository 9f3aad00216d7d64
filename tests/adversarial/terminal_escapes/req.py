# ruff: noqa
# The import error's message sets the window title, writes the clipboard (OSC 52),
# returns the carriage, flips the text right to left and clears the screen.
raise RuntimeError(
    "\x1b]0;pwned-title\x07\x1b]52;c;Y2xpcGJvYXJk\x07\rall tests passed 100/100"
    "\u202eevil\u202c\x1b[2J\x9b31mred\x7f"
)
