"""[every side] grader: an automated grader for the asyncio lecture's four exercises."""

__version__ = "0.1.0"
