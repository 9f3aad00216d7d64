"""Hidden tests for long_func (20 points)."""

import pytest

from grader.suites.feedback import expect
from grader.suites.web import FakeWeb, Reply

URL = "https://www.gosuslugi.ru/"


@pytest.mark.points(5)
def test_all_requests_in_flight(student):
    main = student.function("main", is_async=True)
    with FakeWeb(expect_in_flight=15) as web:
        web.route(URL, Reply(200, body="<html>"))
        run = student.run(main)
    run.value_or_raise()
    expect(web.max_in_flight == 15,
           observed=f"only {web.max_in_flight} of 15 requests were in flight at once",
           expected="all 15 in flight together",
           hint="start them all before awaiting any: asyncio.gather(*(long_func(i) for i in range(15)))")
