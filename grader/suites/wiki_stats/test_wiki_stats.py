"""Hidden tests for wiki_stats (30 points).

A fake Wikimedia answers the pageviews endpoint with payloads shaped like the
real ones (up to 1000 articles by rank, Cyrillic titles). It recognises the day
whichever way the URL writes it (YYYY/MM/DD or YYYY-MM-DD) and answers even
without a User-Agent: the URL format and the header are each judged by one
test, so one mistake costs the points of one behaviour. For the same reason the
get_stats tests accept, for a day, either the contract's top-10 or exactly what
the student's own get_top returns for that day: a wrong pair format is lost in
the get_top tests only.

The student's module runs in the sandboxed worker: every call goes through
`student.call`, the fake Wikimedia is the trusted FakeWeb that sees each
request on the wire (URL, headers, overlap), and what the code returned or
raised comes back as data (exceptions as `ErrorInfo`).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from grader.suites.feedback import Feedback, expect
from grader.suites.harness import Run, StudentCode
from grader.suites.printed import CLOCK_SLACK, half_unit
from grader.suites.web import FakeWeb, Reply, Request
from grader.worker.codec import ErrorInfo, Opaque

API = "https://wikimedia.org/api/rest_v1/metrics/pageviews/top/ru.wikipedia/all-access/{day}"
TOP = 10

DAY_URL = re.compile(
    r"^https://wikimedia\.org/api/rest_v1/metrics/pageviews/top/ru\.wikipedia/all-access/"
    r"(\d{4})[/-](\d{1,2})[/-](\d{1,2})/?(\?.*)?$"
)

TITLES = [
    "Россия", "Москва", "Санкт-Петербург", "Пушкин,_Александр_Сергеевич",
    "Великая_Отечественная_война", "Толстой,_Лев_Николаевич", "Достоевский,_Фёдор_Михайлович",
    "Гагарин,_Юрий_Алексеевич", "Мастер_и_Маргарита", "Чехов,_Антон_Павлович",
    "Лермонтов,_Михаил_Юрьевич", "Менделеев,_Дмитрий_Иванович", "Байкал", "Эрмитаж",
    "Первая_мировая_война", "Вторая_мировая_война", "Соединённые_Штаты_Америки",
    "Украина", "Казахстан", "Белоруссия", "Список_стран_по_населению", "ChatGPT",
    "Летние_Олимпийские_игры_2024", "Чемпионат_мира_по_футболу_2026", "Слово_пацана",
    "Сталин,_Иосиф_Виссарионович", "Ленин,_Владимир_Ильич", "Пётр_I", "Екатерина_II",
    "Есенин,_Сергей_Александрович", "Маяковский,_Владимир_Владимирович",
    "Булгаков,_Михаил_Афанасьевич", "Гоголь,_Николай_Васильевич", "Солнечная_система",
    "Python", "Список_эпизодов_телесериала_«Универ»", "Википедия", "YouTube", "Telegram",
    "Новый_год", "День_знаний", "Масленица", "Пасха", "Чернобыльская_авария",
]


def wikimedia_payload(day: str, count: int = 1000) -> dict[str, Any]:
    """What Wikimedia answers for `day`: `count` articles by rank, different every day."""
    rng = random.Random(day)
    rest = TITLES[:]
    rng.shuffle(rest)
    titles = ["Заглавная_страница", "Служебная:Поиск", *rest]
    titles += [f"Статья_{n}" for n in range(len(titles), count)]
    views = rng.randint(250_000, 400_000)
    articles = []
    for rank, title in enumerate(titles[:count], start=1):
        articles.append({"article": title, "views": views, "rank": rank})
        views = max(100 + count - rank, min(views - 1, int(views * rng.uniform(0.80, 0.995))))
    year, month, dd = day.split("-")
    return {"items": [{"project": "ru.wikipedia", "access": "all-access",
                       "year": year, "month": month, "day": dd, "articles": articles}]}


def expected_top(day: str, count: int = 1000) -> list[tuple[str, int]]:
    articles = wikimedia_payload(day, count)["items"][0]["articles"]
    return [(a["article"], a["views"]) for a in articles[:TOP]]


def not_found(day: str) -> Reply:
    """Wikimedia's own 404 for a day without data (a JSON problem document)."""
    return Reply(404, json={
        "type": "https://mediawiki.org/wiki/HyperSwitch/errors/not_found",
        "title": "Not found.", "method": "get",
        "detail": "The date(s) you used are valid, but we either do not have data for those "
                  "date(s), or the project you asked for is not loaded yet.",
        "uri": f"/analytics.wikimedia.org/v1/pageviews/top/ru.wikipedia/all-access/"
               f"{day.replace('-', '/')}",
    })


def server_error(day: str) -> Reply:
    return Reply(500, json={"type": "https://mediawiki.org/wiki/HyperSwitch/errors/server_error",
                            "title": "Internal error", "method": "get"})


def day_of(request: Request) -> str | None:
    """The day a request asks for, however the URL writes it; None if it is not the API."""
    found = DAY_URL.match(str(request.url))
    if not found:
        return None
    year, month, dd = found.group(1, 2, 3)
    return f"{year}-{int(month):02d}-{int(dd):02d}"


def fake_wikimedia(
    expect_in_flight: int = 1,
    *,
    errors: Mapping[str, Callable[[str], Reply]] | None = None,
    payloads: Mapping[str, dict[str, Any]] | None = None,
) -> FakeWeb:
    """A FakeWeb playing the pageviews endpoint; `errors` maps a day to its error reply."""
    web = FakeWeb(expect_in_flight=expect_in_flight)

    def answer(request: Request) -> Reply:
        day = day_of(request)
        assert day is not None  # the route only matches API URLs
        if errors and day in errors:
            return errors[day](day)
        if payloads and day in payloads:
            return Reply(200, json=payloads[day])
        return Reply(200, json=wikimedia_payload(day))

    web.route(DAY_URL, answer)
    return web


def canon(value: Any) -> Any:
    """A comparable form: lists and tuples alike, so pairs may be either."""
    if isinstance(value, list | tuple):
        return tuple(canon(v) for v in value)
    if isinstance(value, dict):
        return ("dict", tuple(sorted((repr(k), canon(v)) for k, v in value.items())))
    return value


def type_name(value: Any) -> str:
    """The type the student's value had (an object without a data form travels as Opaque)."""
    return value.type if isinstance(value, Opaque) else type(value).__name__


def user_agent_of(headers: Any) -> Any:
    """The User-Agent a HEADERS value holds ('' if none), whatever the key's case."""
    if isinstance(headers, Mapping):
        return next((v for k, v in headers.items() if str(k).lower() == "user-agent"), "")
    if isinstance(headers, Opaque):  # a mapping that is not a dict (CIMultiDict): its repr
        found = re.search(r"""['"]user-agent['"]\s*:\s*(['"])(.*?)\1""", headers.repr, re.I)
        return found.group(2) if found else ""
    return ""


def short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def run_stats(student: StudentCode, web: FakeWeb, start: str, end: str) -> Run:
    # Not is_async=True: a decorator may hand back a plain function returning a coroutine;
    # that is judged (if at all) by what a call does, not by its kind.
    student.function("get_stats")
    return student.call("get_stats", start, end, web=web)


OWN_TOP_TIMEOUT = 5.0  # seconds for one reference call of the student's get_top


def own_tops(student: StudentCode, days: list[str]) -> dict[str, Any]:
    """What the student's get_top returns for each day on its own (failures left out)."""
    try:
        student.function("get_top", is_async=True)
    except Feedback:
        return {}
    tops = {}
    for day in days:
        run = student.call("get_top", day, web=fake_wikimedia(), timeout=OWN_TOP_TIMEOUT)
        if run.timed_out or run.crashed:
            break  # the test's own call will say what went wrong
        if run.error is None:  # a day that raised just has no reference
            tops[day] = run.value
    return tops


def stats_dict(run: Run, what: str) -> dict[Any, Any]:
    """The returned dict, or feedback naming what came back instead."""
    if run.error is not None and not run.timed_out:
        raise_with_context(run, what)
    stats = run.value_or_raise()
    expect(isinstance(stats, dict),
           observed=f"get_stats returned {type_name(stats)} {short(stats)}",
           expected="a dict mapping each 'YYYY-MM-DD' day to its list of pairs",
           hint="build the result as {day: top for day, top in ...}")
    return stats


def reason_of(error: ErrorInfo) -> str:
    """The reason phrase of a ClientResponseError ("Not Found"), as its message holds it."""
    found = re.search(r"message=(['\"])(.*?)\1", error.message)
    return found.group(2) if found else short(error.message, 80)


def raise_with_context(run: Run, what: str) -> None:
    """Name the student's exception together with the situation that provoked it."""
    error = run.error
    assert error is not None
    if error.is_a("ClientResponseError") and what:
        raise Feedback(
            f"get_stats raised {error.type} ({error.status}, {reason_of(error)}) "
            f"when {what}",
            "that day to map to [] and every other day to be returned as usual",
            "catch aiohttp.ClientError for each day separately (a small wrapper around "
            "get_top), or use asyncio.gather(..., return_exceptions=True) and turn each "
            "exception into []",
        )
    if what and not error.is_a("NotImplementedError"):
        raise Feedback(
            f"get_stats raised {error.type}: {short(error.message, 200)} when {what}",
            "that day to map to [] and every other day to be returned as usual",
            "check the status (or call raise_for_status()) before reading the body, and catch "
            "aiohttp.ClientError for each day separately",
        )
    run.value_or_raise()


def check_days(stats: dict[Any, Any], days: list[str], own: dict[str, Any],
               *, empty: tuple[str, ...] = ()) -> None:
    """Each good day maps to its top (the contract's, or the student's own get_top's)."""
    for day in days:
        got = stats.get(day)
        if day in empty:
            expect(got is not None and canon(got) == (),
                   observed=f"get_stats gave {short(got)} for {day}, whose request failed",
                   expected="[] for a day whose request failed",
                   hint="turn a failed day into [] (catch aiohttp.ClientError around get_top "
                        "for that day)")
            continue
        accepted = [canon(expected_top(day))]
        if day in own:
            accepted.append(canon(own[day]))
        expect(canon(got) in accepted,
               observed=f"for {day} get_stats gave {short(got)}",
               expected=f"the day's top-10 as get_top('{day}') returns it: "
                        f"{short(own.get(day, expected_top(day)))}",
               hint="map each day to the result of get_top for that very day "
                    "(zip the days with the results of gather, in the same order)")


# ---------------------------------------------------------------- module-level names


def require_started(student: StudentCode) -> None:
    """The stub ships API, HEADERS and get_date_range ready: they earn points only
    once get_top is the student's own (no longer the stub's NotImplementedError)."""
    run = run_top(student, "2024-09-01", fake_wikimedia())
    if run.error is not None and run.error.is_a("NotImplementedError"):
        run.value_or_raise()


@pytest.mark.points(1)
def test_api_and_headers(student):
    require_started(student)
    api = student.value("API")
    expect(api == API,
           observed=f"API is {short(api, 200)}",
           expected=f"API = {API!r} (with the placeholder {{day}})",
           hint="keep the stub's API line: get_top fills it with API.format(day=...)")
    headers = student.value("HEADERS")
    agent = user_agent_of(headers)
    expect(isinstance(agent, str) and agent.strip(),
           observed=f"HEADERS is {short(headers, 200)}",
           expected='a dict with a non-empty "User-Agent", e.g. '
                    '{"User-Agent": "MyHomework/1.0 (me@example.com)"}',
           hint="Wikimedia refuses requests whose User-Agent does not name the client")


# ---------------------------------------------------------------- get_date_range


DATE_RANGES = [
    ("2024-09-01", "2024-09-01", ["2024-09-01"]),
    ("2023-12-30", "2024-01-02", ["2023-12-30", "2023-12-31", "2024-01-01", "2024-01-02"]),
    ("2024-02-28", "2024-03-01", ["2024-02-28", "2024-02-29", "2024-03-01"]),
    ("2023-02-27", "2023-03-01", ["2023-02-27", "2023-02-28", "2023-03-01"]),
    ("2024-04-29", "2024-05-02", ["2024-04-29", "2024-04-30", "2024-05-01", "2024-05-02"]),
]


@pytest.mark.points(1)
def test_date_range_inclusive(student):
    require_started(student)
    student.function("get_date_range")
    # A plain function: the worker calls it, and awaits only what is awaitable.
    results = student.call("get_date_range", together=[
        ((start, end), {}) for start, end, _ in DATE_RANGES]).value_or_raise()
    for (start, end, days), got in zip(DATE_RANGES, results, strict=True):
        got_list = list(got) if isinstance(got, list | tuple) else got
        if isinstance(got_list, list) and sorted(map(str, got_list)) == days and got_list != days:
            raise Feedback(f"get_date_range({start!r}, {end!r}) returned {short(got)}",
                           f"the days in order: {days}",
                           "walk from start to end adding timedelta(days=1)")
        expect(got_list == days,
               observed=f"get_date_range({start!r}, {end!r}) returned {short(got, 200)}",
               expected=f"{days} (both ends included, as 'YYYY-MM-DD' strings)",
               hint="loop while current <= last (not <), format each day with "
                    "strftime('%Y-%m-%d'); timedelta handles month ends and leap days")


# ---------------------------------------------------------------- get_top


def run_top(student: StudentCode, day: str, web: FakeWeb) -> Run:
    student.function("get_top", is_async=True)
    return student.call("get_top", day, web=web)


@pytest.mark.points(3)
def test_top_one_get_to_day_url(student):
    web = fake_wikimedia()
    run = run_top(student, "2024-03-05", web)
    want = API.format(day="2024/03/05")
    urls = web.urls()
    if not urls:
        run.value_or_raise()
    expect(len(urls) == 1 and all(r.method == "GET" for r in web.requests),
           observed=f"get_top('2024-03-05') sent {len(urls)} requests: "
                    f"{', '.join(f'{r.method} {r.url}' for r in web.requests[:3])}",
           expected=f"exactly one GET to {want}",
           hint="send one session.get(API.format(day=...)) per call")
    expect(urls[0].split("?")[0] == want,
           observed=f"get_top('2024-03-05') asked for {urls[0]}",
           expected=f"{want} (the day written YYYY/MM/DD)",
           hint="API.format(day=day.replace('-', '/'))")


# What aiohttp puts on the wire when the code sets no User-Agent of its own.
AIOHTTP_AGENT = re.compile(r"^Python/\d+\.\d+ aiohttp/\S+$")


@pytest.mark.points(2)
def test_top_sends_user_agent(student):
    mine = user_agent_of(student.value("HEADERS"))
    web = fake_wikimedia()
    run = run_top(student, "2024-09-01", web)
    if not web.requests:
        run.value_or_raise()
    expect(web.requests, observed="get_top sent no request", expected="one GET to the API")
    sent = web.requests[0].headers.get("User-Agent", "")
    default = bool(AIOHTTP_AGENT.match(sent)) and sent != mine
    expect(sent and not default and (not mine or sent == mine),
           observed=f"the request carried only aiohttp's default User-Agent {sent!r}"
           if default else f"the request carried User-Agent {sent!r}" if sent
           else "the request carried no User-Agent header",
           expected=f"the User-Agent of HEADERS ({mine!r})" if mine
           else "a non-empty User-Agent naming your client",
           hint="pass the headers: session.get(url, headers=HEADERS), or "
                "aiohttp.ClientSession(headers=HEADERS)")


def describe_pairs(got: Any, want: list[tuple[str, int]]) -> str:
    """Say in words how a returned top differs from the wanted pairs."""
    if not isinstance(got, list | tuple):
        return f"get_top returned {type_name(got)} {short(got)}"
    if len(got) != len(want):
        return f"get_top returned {len(got)} items: {short(list(got)[:3])}"
    for i, (item, pair) in enumerate(zip(got, want, strict=True)):
        if canon(item) == canon(pair):
            continue
        if isinstance(item, dict):
            return f"item {i} is a dict {short(item)}, not an (article, views) pair"
        if isinstance(item, list | tuple) and len(item) != 2:
            return f"item {i} holds {len(item)} values {short(item)}, not an (article, views) pair"
        if isinstance(item, list | tuple) and canon(item) == canon(pair[::-1]):
            return f"item {i} is {short(item)}: views come before the article"
        return f"item {i} is {short(item)} where {pair!r} was expected"
    return f"get_top returned {short(got)}"


@pytest.mark.points(4)
def test_top_ten_pairs_best_first(student):
    run = run_top(student, "2024-09-01", fake_wikimedia())
    got = run.value_or_raise()
    want = expected_top("2024-09-01")
    expect(canon(got) == canon(want),
           observed=describe_pairs(got, want) + " (the day had 1000 articles)",
           expected=f"the 10 best-ranked as (article, views) pairs, best first: "
                    f"{short(want[:2], 200)[:-1]}, ...]",
           hint="take the articles of data['items'][0]['articles'] with the smallest 'rank', "
                "10 of them, as (a['article'], a['views'])")


@pytest.mark.points(1)
def test_top_chosen_by_rank(student):
    """The same articles in shuffled order must give the same answer as in rank order."""
    day = "2024-09-02"
    ordered = wikimedia_payload(day)
    shuffled = wikimedia_payload(day)
    random.Random(7).shuffle(shuffled["items"][0]["articles"])
    first = run_top(student, day, fake_wikimedia(payloads={day: ordered})).value_or_raise()
    second = run_top(student, day, fake_wikimedia(payloads={day: shuffled})).value_or_raise()
    expect(canon(first) == canon(second) and canon(first) != (),
           observed=f"with the articles in rank order get_top gave {short(first, 90)}, "
                    f"with the same articles in another order {short(second, 90)}",
           expected="the same 10 best-ranked articles whatever order the API lists them in",
           hint="sort by rank before taking 10: sorted(articles, key=lambda a: a['rank'])[:10]")


@pytest.mark.points(1)
def test_top_fewer_than_ten(student):
    day = "2024-09-03"
    payload = wikimedia_payload(day, count=4)
    run = run_top(student, day, fake_wikimedia(payloads={day: payload}))
    if run.error is not None and not run.error.is_a("NotImplementedError"):
        raise Feedback(
            f"with only 4 articles that day get_top raised {run.error.type}: "
            f"{short(run.error.message)}",
            "the 4 articles, best first (all of them, since there are fewer than 10)",
            "slice (articles[:10]) instead of indexing 0..9: a slice stops at the end")
    got = run.value_or_raise()
    titles = [a["article"] for a in payload["items"][0]["articles"]]
    ok = isinstance(got, list | tuple) and len(got) == len(titles) and all(
        title in repr(item) for title, item in zip(titles, got, strict=True))
    expect(ok,
           observed=f"with only 4 articles that day get_top returned {short(got, 200)}",
           expected=f"all 4, best first: {titles}",
           hint="slice (articles[:10]) instead of indexing 0..9: a slice stops at the end")


# ---------------------------------------------------------------- get_stats


@pytest.mark.points(3)
def test_stats_every_day(student):
    days = ["2023-12-30", "2023-12-31", "2024-01-01", "2024-01-02"]
    own = own_tops(student, days)
    run = run_stats(student, fake_wikimedia(), days[0], days[-1])
    stats = stats_dict(run, "")
    missing = [d for d in days if d not in stats]
    extra = [k for k in stats if k not in days]
    expect(not missing and not extra,
           observed=f"get_stats('{days[0]}', '{days[-1]}') returned the keys "
                    f"{short(list(stats), 200)}"
                    + (f"; missing {missing}" if missing else "")
                    + (f"; unexpected {short(extra)}" if extra else ""),
           expected=f"exactly the days {days} as 'YYYY-MM-DD' strings (both ends included)",
           hint="use the days of get_date_range(start, end) as keys, end day included")
    check_days(stats, days, own)


@pytest.mark.points(5)
def test_stats_concurrent(student):
    # expect_in_flight=2: answers are held until two requests wait together, so a
    # solution bounded at 2 (Semaphore(2)) is never slowed down; one at a time waits out
    # every hold and shows max_in_flight == 1.
    days = [f"2024-09-{d:02d}" for d in range(1, 7)]
    web = fake_wikimedia(expect_in_flight=2)
    run = run_stats(student, web, days[0], days[-1])
    if web.max_in_flight < 2 and run.error is not None:
        run.value_or_raise()
    expect(len(web.requests) >= 2,
           observed=f"get_stats over {len(days)} days sent {len(web.requests)} request(s)",
           expected="one request per day")
    expect(web.max_in_flight >= 2,
           observed=f"only {web.max_in_flight} of {len(web.requests)} requests were in flight "
                    "at once: the days were fetched one after another",
           expected=f"the requests for the {len(days)} days in flight together "
                    "(a bound such as Semaphore(5) is fine, but at least 2)",
           hint="create all the get_top coroutines first and await them together: "
                "await asyncio.gather(*(get_top(day) for day in days)); "
                "`await` inside a for loop waits for each day before starting the next")


def check_failed_day(
    student: StudentCode, days: list[str], error: Callable[[str], Reply], answered: str
) -> tuple[dict[Any, Any], list[str]]:
    """The middle day fails with `error`: it must map to [], the others as usual."""
    bad = days[1]
    own = own_tops(student, [days[0], days[2]])
    web = fake_wikimedia(errors={bad: error})
    run = run_stats(student, web, days[0], days[-1])
    stats = stats_dict(run, f"the API answered {answered} for {bad}")
    asked = [d for d in days if any(day_of(r) == d for r in web.requests)]
    expect(bad in stats,
           observed=f"{bad} (answered {answered.split()[0]}) is missing from the result: "
                    f"keys {short(list(stats))}",
           expected=f"{bad} mapped to []",
           hint="keep every day of the range in the dict; a failed day maps to []")
    check_days(stats, asked, own, empty=(bad,))
    return stats, asked


@pytest.mark.points(3)
def test_stats_404_day_is_empty(student):
    stats, asked = check_failed_day(student, ["2024-09-01", "2024-09-02", "2024-09-03"],
                                    not_found, "404 Not Found")
    expect(all(d in stats for d in asked),
           observed=f"get_stats returned only {short(list(stats))} after one day failed",
           expected=f"every other day still returned: {asked}",
           hint="catch the failure per day, not around the whole gather")


@pytest.mark.points(1)
def test_stats_500_day_is_empty(student):
    check_failed_day(student, ["2024-10-30", "2024-10-31", "2024-11-01"], server_error,
                     "500 Internal Server Error")


NUMBER = re.compile(r"\d+(?:[.,]\d+)?(?:[eE]-?\d+)?")


def covers(number: str, low: float, high: float) -> bool:
    """The printed number lies in [low, high], allowing for its rounding and the clocks."""
    slack = half_unit(number) + CLOCK_SLACK
    return low - slack <= float(number.replace(",", ".")) <= high + slack


@pytest.mark.points(2)
def test_stats_prints_run_time(student):
    # Answers are held (>= HOLD_MIN_SECONDS each) so the call takes measurably long:
    # the printed time must cover what the fake web saw, and not exceed the whole call.
    web = fake_wikimedia(expect_in_flight=99)
    run = run_stats(student, web, "2024-09-01", "2024-09-02")
    run.value_or_raise()
    named = [line for line in run.lines if "get_stats" in line]
    timed = [line for line in named if NUMBER.search(line)]
    expect(len(timed) == 1 and len(named) == 1,
           observed=(f"a call of get_stats printed {len(named)} lines naming get_stats"
                     + (f": {short(named[:3], 200)}" if named else "")
                     + (f" (all it printed: {short(run.lines[:3], 200)})" if not named else "")),
           expected="exactly one line with the name get_stats and its run time in seconds, "
                    "e.g. 'Время выполнения get_stats: 0.0123 секунд'",
           hint="decorate get_stats with @async_timeit (from timing import async_timeit, or "
                "the decorator written again in this file) and print func.__name__ in it")
    lowest = web.busy_seconds
    highest = run.call_seconds
    expect(any(covers(n, lowest, highest) for n in NUMBER.findall(timed[0])),
           observed=f"the line was {timed[0]!r}, but the call took between {lowest:.4f} s "
                    f"and {highest:.4f} s",
           expected="the number of seconds that call took",
           hint="print time.perf_counter() after the await minus the value taken before it")


@pytest.mark.points(2)
def test_no_blocking(student):
    run = run_stats(student, fake_wikimedia(), "2024-09-01", "2024-09-03")
    expect(not run.blocking,
           observed=f"get_stats blocked the event loop: {', '.join(run.blocking)}",
           expected="no blocking call inside async code",
           hint="time.sleep stops every coroutine at once: use await asyncio.sleep; "
                "make HTTP requests with aiohttp, not requests/urllib")
    run.value_or_raise()


@pytest.mark.points(1)
def test_sessions_closed(student):
    run = run_stats(student, fake_wikimedia(), "2024-09-01", "2024-09-03")
    run.value_or_raise()
    top = run_top(student, "2024-09-01", fake_wikimedia())
    top.value_or_raise()
    expect(run.unclosed_sessions == 0 and top.unclosed_sessions == 0,
           observed=f"get_stats left {run.unclosed_sessions} and get_top alone left "
                    f"{top.unclosed_sessions} aiohttp.ClientSession(s) open",
           expected="every session closed before the call returns",
           hint="open sessions with `async with aiohttp.ClientSession() as session:` so they "
                "close even when a request fails")
