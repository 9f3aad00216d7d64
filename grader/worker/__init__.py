"""[worker] The untrusted side: the process that imports and runs student code, inside the sandbox.

Only this folder is copied into the sandbox; it must not import `grader`.
"""
