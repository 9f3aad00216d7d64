"""[parent] Reports built from grading results: the results files, student feedback, CI output."""
