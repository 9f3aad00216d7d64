"""[test process] The hidden suites, one folder per assignment, and their layer to student code.

Suites never import a student's module themselves: they get it through the
`student` fixture (harness.StudentCode) and fake the web with harness.FakeWeb
or harness.LoopbackServer. Only harness.py and plugin.py know how student
code is loaded, so moving it into another process touches those two files.
"""
