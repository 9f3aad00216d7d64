# ruff: noqa
# The import error's message carries workflow commands, on lines of their own, after
# white space, after a bare CR, and in the runner's legacy ##[...] form.
raise RuntimeError(
    "boom\n::add-mask::from-the-message\n   ::stop-commands::guessed-token\n"
    "##[set-output name=leak;]from-the-message\r::notice title=cr::after-a-carriage-return\n"
    "::warning::%0A::error::percent-encoded"
)
