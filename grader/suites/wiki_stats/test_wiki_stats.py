"""[test process] Hidden tests for wiki_stats (30 points).

A fake Wikimedia (the trusted FakeWeb) answers the pageviews endpoint as the
real one does: only the day written YYYY/MM/DD is served (any other path gets
a 404), a request without a proper User-Agent (none, or aiohttp's default)
gets Wikimedia's 403, and a day's answer lists up to 1000 articles by rank.
Each answer's view counts (every one of them, and a few titles) are drawn from
a secret of the test, so any slice of an answer in a returned value shows which
request it came from, whichever articles were picked: the suite sees on
the wire which days were in flight together, and in the value which of those
answers reached the result. That is the lesson (15 points): a sequential
get_stats, or one that overlaps decoy requests only, scores at most half.

Guard clauses (error days, start after end, sessions closed, no blocking) pay
only when the call actually fetched data. get_stats may take `async_timeit`
from timing.py: the runner puts a correct timing.py in the copy wiki_stats is
graded on (error carried forward), so only a decorator written in
wiki_stats.py itself is judged here.
"""

from __future__ import annotations

import json
import random
import re
import secrets
from collections.abc import Mapping
from datetime import date
from typing import Any

import pytest

from grader.i18n import N_, _, ngettext
from grader.suites.checks import printed_seconds, seconds_fit, short, type_name
from grader.suites.feedback import Feedback, expect
from grader.suites.harness import Run, StudentCode
from grader.suites.web import FakeWeb, Reply, Request
from grader.worker.codec import Opaque

API = "https://wikimedia.org/api/rest_v1/metrics/pageviews/top/ru.wikipedia/all-access/{day}"
TOP = 10

DAY_URL = re.compile(
    r"^https://wikimedia\.org/api/rest_v1/metrics/pageviews/top/ru\.wikipedia/all-access/"
    r"(\d{4})/(\d{2})/(\d{2})(\?.*)?$"
)

TITLES = [
    "Россия", "Москва", "Санкт-Петербург", "Пушкин,_Александр_Сергеевич",
    "Великая_Отечественная_война", "Толстой,_Лев_Николаевич", "Достоевский,_Фёдор_Михайлович",
    "Гагарин,_Юрий_Алексеевич", "Мастер_и_Маргарита", "Чехов,_Антон_Павлович",
    "Лермонтов,_Михаил_Юрьевич", "Менделеев,_Дмитрий_Иванович", "Байкал", "Эрмитаж",
    "Первая_мировая_война", "Вторая_мировая_война", "Соединённые_Штаты_Америки",
    "Украина", "Казахстан", "Белоруссия", "Список_стран_по_населению", "ChatGPT",
    "Слово_пацана", "Сталин,_Иосиф_Виссарионович", "Ленин,_Владимир_Ильич", "Пётр_I",
    "Екатерина_II", "Есенин,_Сергей_Александрович", "Маяковский,_Владимир_Владимирович",
    "Булгаков,_Михаил_Афанасьевич", "Гоголь,_Николай_Васильевич", "Солнечная_система",
    "Python", "Википедия", "YouTube", "Telegram", "Новый_год", "День_знаний", "Масленица",
    "Пасха", "Чернобыльская_авария",
]
# Titles with a year in them, as news makes them (a few per day, different every answer).
EVENTS = [
    "Чемпионат_мира_по_хоккею_с_шайбой", "Чемпионат_Европы_по_футболу", "Евровидение",
    "Летние_Олимпийские_игры", "Зимние_Олимпийские_игры", "Список_фильмов",
    "Чемпионат_России_по_футболу", "Кубок_Гагарина", "Выборы_президента_России",
    "Список_умерших_в", "Нобелевская_премия_по_литературе", "Оскар",
]

# Wikimedia's answers, as the real API sends them.
JSON_HEADERS = {
    "Content-Type": 'application/json; charset=utf-8; '
                    'profile="https://www.mediawiki.org/wiki/Specs/Pageviews/1.0.0"',
    "Cache-Control": "s-maxage=86400, max-age=86400",
    "Access-Control-Allow-Origin": "*",
    "X-Content-Type-Options": "nosniff",
}
PROBLEM_HEADERS = {"Content-Type": "application/problem+json",
                   "Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"}
REFUSED_BODY = ("Please set a user-agent and respect our robot policy https://w.wiki/4wJS. "
                "See also T400119.\n")
# What libraries put on the wire when the code sets no User-Agent: Wikimedia refuses them.
LIBRARY_AGENTS = re.compile(r"^(Python/\d+\.\d+ aiohttp/\S+|python-requests/\S+|"
                            r"Python-urllib/\S+|python-httpx/\S+)$")
# A scrambled order (neither ascending nor descending) in which days get their answers.
SCRAMBLE = [3, 6, 0, 5, 1, 4, 2]


# View counts: at least MIN_VIEWS (above any year or date in a returned value), and all of a
# day's counts in one class modulo VIEW_CLASSES chosen by the day, so that answers for days less
# than VIEW_CLASSES apart share no count: any slice of an answer marks that answer only.
MIN_VIEWS = 2_100
VIEW_CLASSES = 13
MARKS = 3  # marks of one answer that show it reached a returned value


def payload(secret: str, day: str, n: int = 0, count: int = 1000) -> dict[str, Any]:
    """Wikimedia's answer for `day`, the n-th time it is asked in one call: by rank, secret.

    Every view count is drawn from the secret (the top falls steeply, the rest are spread
    down to MIN_VIEWS), strictly decreasing by rank as the real API lists them.
    """
    rng = random.Random(f"{secret}/{day}/{n}")
    rest = TITLES[:]
    rng.shuffle(rest)
    top = ["Заглавная_страница", "Служебная:Поиск", *rest[:5]]
    for _event in range(3):
        top.insert(rng.randint(2, len(top)), f"{rng.choice(EVENTS)}_{rng.randint(1950, 2025)}")
    titles = [*top, *rest[5:]]
    titles += [f"Статья_{k}" for k in range(len(titles), count)]
    # Work in units q: views = q * VIEW_CLASSES + cls.
    cls = (date.fromisoformat(day).toordinal() + 5 * n) % VIEW_CLASSES
    floor = MIN_VIEWS // VIEW_CLASSES + 1
    q = rng.randint(300_000, 900_000) // VIEW_CLASSES
    units = []
    for _rank in range(min(count, TOP)):
        units.append(q)
        q = min(q - 1, int(q * rng.uniform(0.93, 0.99)))
    units += sorted(rng.sample(range(floor, units[-1]), count - len(units)), reverse=True) \
        if count > len(units) else []
    articles = [{"article": title, "views": u * VIEW_CLASSES + cls, "rank": rank}
                for rank, (title, u) in enumerate(zip(titles, units, strict=False), start=1)]
    year, month, dd = day.split("-")
    return {"items": [{"project": "ru.wikipedia", "access": "all-access",
                       "year": year, "month": month, "day": dd, "articles": articles}]}


def top_of(answer: dict[str, Any]) -> list[tuple[str, int]]:
    """The contract's top: the 10 best-ranked as (article, views), best first."""
    return [(a["article"], a["views"]) for a in answer["items"][0]["articles"][:TOP]]


def pairs_of(answer: dict[str, Any]) -> set[tuple[str, int]]:
    """What marks an answer in a returned value: ALL its (article, views) pairs.

    Any slice of the articles (the top, the tail, a wrong sort) carries marks, so whether a
    day's data reached a value is judged apart from which articles were chosen. A title goes
    with its own count, drawn from the secret: numbers alone, however many, mark nothing.
    """
    return {(a["article"], a["views"]) for a in answer["items"][0]["articles"]}


SMALL = 6  # a container of at most this many items may hold one article with its views
TEXT_TOKEN = re.compile(r"""'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|(?<![\w.])\d+(?![\w.])""")
BRACKETS = re.compile(r"[()\[\]{}]")
TEXT_GAP = 24  # at most this many characters between a quoted title and its count in a repr


def is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def text_pairs(text: str, out: set[tuple[str, int]]) -> None:
    """(title, count) pairs in a repr: a quoted string and an integer right next to it."""
    tokens: list[tuple[int, int, str | int]] = []
    for found in TEXT_TOKEN.finditer(text):
        token = found.group()
        if token[0] in "'\"":
            token = token[1:-1].replace("\\'", "'").replace('\\"', '"')
            tokens.append((found.start(), found.end(), token))
        else:
            tokens.append((found.start(), found.end(), int(token)))
    for i, (start, end, count) in enumerate(tokens):
        if isinstance(count, str):
            continue
        # the title just before the count (or the one before that: 'article': 'T', 'views': N)
        # or just after it (views first), with no bracket between: one item, not two
        for j in (i - 1, i - 2, i + 1):
            if not 0 <= j < len(tokens):
                continue
            title = tokens[j][2]
            if not isinstance(title, str):
                continue
            gap = text[tokens[j][1]:start] if j < i else text[end:tokens[j][0]]
            if len(gap) <= TEXT_GAP * (i - j if j < i else 1) and not BRACKETS.search(gap):
                out.add((title, count))


def value_pairs(value: Any, out: set[tuple[str, int]], depth: int = 0) -> None:
    """(title, count) pairs in a decoded value: {title: views}, a small tuple, list or dict
    holding a title and a count ((title, views), [views, title], {"article": .., "views": ..}),
    or an Opaque's repr."""
    if depth > 60:
        return
    if isinstance(value, Opaque):
        text_pairs(value.repr, out)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and is_count(item):
                out.add((key, item))
        items: list[Any] = list(value.values())
        inner = [*value.keys(), *items]
    elif isinstance(value, list | tuple):
        items = inner = list(value)
    else:
        return
    if len(items) <= SMALL:
        titles = [v for v in items if isinstance(v, str)]
        counts = [v for v in items if is_count(v)]
        out.update((t, c) for t in titles for c in counts)
    for item in inner:
        if isinstance(item, dict | list | tuple | Opaque):
            value_pairs(item, out, depth + 1)


def problem(status: int, title: str, day: str, detail: str = "") -> Reply:
    """Wikimedia's JSON problem document for an error status."""
    kind = "not_found" if status == 404 else "server_error"
    body = {"type": f"https://mediawiki.org/wiki/HyperSwitch/errors/{kind}", "title": title,
            "method": "get",
            "uri": f"/analytics.wikimedia.org/v1/pageviews/top/ru.wikipedia/all-access/"
                   f"{day.replace('-', '/')}"}
    if detail:
        body["detail"] = detail
    return Reply(status, body=json.dumps(body), headers=PROBLEM_HEADERS)


def not_found(day: str) -> Reply:
    return problem(404, "Not found.", day,
                   "The date(s) you used are valid, but we either do not have data for those "
                   "date(s), or the project you asked for is not loaded yet.")


def server_error(day: str) -> Reply:
    return problem(500, "Internal error", day)


ERRORS = {404: not_found, 500: server_error}


def day_key(request: Request) -> str:
    found = DAY_URL.match(str(request.url))
    return "-".join(found.group(1, 2, 3)) if found else str(request.url)


def proper_agent(agent: str) -> bool:
    return bool(agent.strip()) and not LIBRARY_AGENTS.match(agent.strip())


def scrambled(request: Request) -> int:
    """A day's place in the scrambled order its answer is released in (others go last)."""
    try:
        return SCRAMBLE[date.fromisoformat(str(request.key)).toordinal() % len(SCRAMBLE)]
    except ValueError:
        return len(SCRAMBLE)


class Wikimedia(FakeWeb):
    """The pageviews endpoint: one resource per day, answers drawn from the test's secret.

    `scramble`: answers go one at a time in a scrambled order of the days, so
    code that lists results as they complete gets them out of order.
    """

    def __init__(self, secret: str, expect_in_flight: int = 1, *, errors: Mapping[str, int]
                 | None = None, count: int = 1000, scramble: bool = False, delay: float = 0.0,
                 hold: bool = True) -> None:
        super().__init__(expect_in_flight, order=scrambled if scramble else None, delay=delay,
                         hold=hold)
        self.secret = secret
        self.errors = dict(errors or {})
        self.count = count
        self.given: dict[int, dict[str, Any]] = {}  # request index -> the 200 answer it got
        self.refused = 0  # 403s for a missing or default User-Agent
        self._asked: dict[str, int] = {}
        self.route(DAY_URL, self._answer, key=day_key)

    def _answer(self, request: Request) -> Reply:
        day = day_key(request)
        if not proper_agent(request.headers.get("User-Agent", "")):
            self.refused += 1
            return Reply(403, body=REFUSED_BODY,
                         headers={"Content-Type": "text/plain; charset=utf-8"})
        try:
            date.fromisoformat(day)
        except ValueError:
            return not_found(day)
        if day in self.errors:
            return ERRORS[self.errors[day]](day)
        n = self._asked.get(day, 0)
        self._asked[day] = n + 1
        answer = payload(self.secret, day, n, self.count)
        self.given[request.index] = answer
        return Reply(200, body=json.dumps(answer, ensure_ascii=False), headers=JSON_HEADERS)


    # ------------------------------------------------------------ what reached the result

    def used(self, value: Any) -> list[Request]:
        """The requests whose answer shows in `value`: MARKS+ (title, views) pairs of it.

        A mark is an article together with its own view count, a pair no other answer of
        this web carries, so one answer's data never passes for another's. A title paired
        with more counts (of at least MIN_VIEWS) than the web gave answers is a flood of
        guesses, and none of its pairs count.
        """
        found_pairs: set[tuple[str, int]] = set()
        value_pairs(value, found_pairs)
        guesses: dict[str, int] = {}
        for title, count in found_pairs:
            if count >= MIN_VIEWS:
                guesses[title] = guesses.get(title, 0) + 1
        marks = {r.index: pairs_of(self.given[r.index]) for r in self.served
                 if r.index in self.given}
        limit = max(1, len(marks))
        found_pairs = {p for p in found_pairs if guesses.get(p[0], 0) <= limit}
        seen: dict[tuple[str, int], int] = {}
        for pairs in marks.values():
            for pair in pairs:
                seen[pair] = seen.get(pair, 0) + 1
        found = []
        for request in self.served:
            if request.index not in marks:
                continue
            hits = sum(1 for pair in marks[request.index] & found_pairs if seen[pair] == 1)
            if hits >= MARKS:
                found.append(request)
        return found

    def holds_day(self, value: Any, day: str) -> bool:
        """`value` holds the answer of a request for `day`."""
        return any(r.key == day for r in self.used(value))

    def holds_data(self, value: Any) -> bool:
        return bool(self.used(value))


def explain_no_data(web: Wikimedia, who: str) -> None:
    """When no answer reached the result, say what the fake Wikimedia saw, as the real one would."""
    if not web.requests:
        return
    if not web.served:
        url = str(web.requests[0].url)
        raise Feedback(
            _("{who} asked for {url}, which Wikimedia does not serve: it answered 404 Not Found")
            .format(who=who, url=url),
            _("the day written YYYY/MM/DD in the URL, e.g. {example}").format(
                example=API.format(day="2024/09/01")),
            "API.format(day=day.replace('-', '/'))")
    if web.refused == len(web.served):
        agent = web.served[0].headers.get("User-Agent")
        raise Feedback(
            _("Wikimedia refused every request with 403 Forbidden: the User-Agent was "
              "{agent!r}, a library's default").format(agent=agent) if agent else
            _("Wikimedia refused every request with 403 Forbidden: the User-Agent was missing"),
            _("requests that carry HEADERS (a User-Agent naming your client)"),
            _("session.get(url, headers=HEADERS), or aiohttp.ClientSession(headers=HEADERS)"))


def canon(value: Any) -> Any:
    """A comparable form: lists and tuples alike, so pairs may be either."""
    if isinstance(value, list | tuple):
        return tuple(canon(v) for v in value)
    if isinstance(value, dict):
        return ("dict", tuple(sorted((repr(k), canon(v)) for k, v in value.items())))
    return value


def new_secret() -> str:
    return secrets.token_hex(8)


def days_from(first: str, count: int) -> list[str]:
    start = date.fromisoformat(first).toordinal()
    return [date.fromordinal(start + k).isoformat() for k in range(count)]


def run_top(student: StudentCode, day: str, web: FakeWeb) -> Run:
    student.function("get_top", is_async=True)
    return student.call("get_top", day, web=web)


def run_stats(student: StudentCode, web: FakeWeb, start: str, end: str) -> Run:
    # Not is_async=True: a decorator may hand back a plain function returning a coroutine;
    # that is judged by what a call does, not by its kind.
    student.function("get_stats")
    return student.call("get_stats", start, end, web=web)


OWN_TOP_TIMEOUT = 5.0  # seconds for one reference call of the student's get_top


def own_tops(student: StudentCode, secret: str, days: list[str]) -> dict[str, Any]:
    """What the student's get_top returns for each day on its own (failures left out).

    A day in get_stats may be exactly what get_top gives: a wrong pair format is
    charged in the get_top tests only. Only a top that holds the day's data counts.
    """
    try:
        student.function("get_top", is_async=True)
    except Feedback:
        return {}
    tops = {}
    for day in days:
        web = Wikimedia(secret)
        run = student.call("get_top", day, web=web, timeout=OWN_TOP_TIMEOUT)
        if run.timed_out or run.crashed:
            break
        if run.error is None and web.holds_day(run.value, day):
            tops[day] = run.value
    return tops


def reason_of(message: str) -> str:
    found = re.search(r"message=(['\"])(.*?)\1", message)
    return found.group(2) if found else short(message, 80)


def stats_dict(run: Run, what: str = "") -> dict[Any, Any]:
    """The returned dict, or feedback naming what came back instead."""
    error = run.error
    if error is not None and not run.timed_out and what and not error.is_a("NotImplementedError"):
        said = (f"{error.type} ({error.status}, {reason_of(error.message)})"
                if error.is_a("ClientResponseError") else
                f"{error.type}: {short(error.message, 200)}")
        raise Feedback(_("get_stats raised {error} when {situation}").format(
                           error=said, situation=what),
                       _("that day to map to [] and every other day to be returned as usual"),
                       _("catch aiohttp.ClientError for each day separately (a small wrapper "
                         "around get_top), or use asyncio.gather(..., return_exceptions=True) "
                         "and turn each exception into []"))
    stats = run.value_or_raise()
    expect(isinstance(stats, dict),
           observed=_("get_stats returned {type} {value}").format(
               type=type_name(stats), value=short(stats)),
           expected=_("a dict mapping each 'YYYY-MM-DD' day to its list of pairs"),
           hint=_("build the result as {day: top for day, top in ...}"))
    return stats


def require_data(web: Wikimedia, run: Run, value: Any, who: str) -> None:
    """The gate of a guard clause: the call fetched data and returned it."""
    if web.holds_data(value):
        return
    explain_no_data(web, who)
    run.value_or_raise()
    raise Feedback(_("{who} returned {value}, with none of the data Wikimedia sent").format(
                       who=who, value=short(value)),
                   _("the days' tops fetched from the API"),
                   _("get_stats must call get_top for every day and return what it got"))


# ---------------------------------------------------------------- get_top


@pytest.mark.points(1)
def test_top_one_get_to_day_url(student):
    """get_top(day) sends one GET to the API with the day written YYYY/MM/DD"""
    web = Wikimedia(new_secret())
    run = run_top(student, "2024-03-05", web)
    want = API.format(day="2024/03/05")
    if not web.requests:
        run.value_or_raise()
    expect(web.requests, observed=_("get_top('2024-03-05') sent no request"),
           expected=_("one GET to {url}").format(url=want))
    sent = len(web.requests)
    expect(sent == 1 and web.requests[0].method == "GET",
           observed=ngettext("get_top('2024-03-05') sent {n} request: {requests}",
                             "get_top('2024-03-05') sent {n} requests: {requests}", sent).format(
               n=sent, requests=", ".join(f"{r.method} {r.url}" for r in web.requests[:3])),
           expected=_("exactly one GET to {url}").format(url=want),
           hint=_("send one session.get(API.format(day=...)) per call"))
    url = str(web.requests[0].url).split("?")[0]
    expect(url == want,
           observed=(_("get_top('2024-03-05') asked for {url}") if web.served else
                     _("get_top('2024-03-05') asked for {url}, which Wikimedia answers with 404 "
                       "Not Found")).format(url=url),
           expected=_("{url} (the day written YYYY/MM/DD)").format(url=want),
           hint="API.format(day=day.replace('-', '/'))")


@pytest.mark.points(1)
def test_top_sends_user_agent(student):
    """get_top sends a User-Agent that names the client (Wikimedia refuses others)"""
    web = Wikimedia(new_secret())
    run = run_top(student, "2024-09-01", web)
    if not web.requests:
        run.value_or_raise()
    expect(web.requests, observed=_("get_top sent no request"),
           expected=_("one GET to the API"))
    sent = web.requests[0].headers.get("User-Agent")
    expect(sent is not None and proper_agent(sent),
           observed=(_("the request carried no User-Agent header: Wikimedia answers such "
                       "requests with 403 Forbidden") if sent is None else
                     _("the request carried only the library's default User-Agent {agent!r}: "
                       "Wikimedia answers such requests with 403 Forbidden").format(agent=sent)
                     if sent.strip() else
                     _("the request carried an empty User-Agent: Wikimedia answers such "
                       "requests with 403 Forbidden")),
           expected=_("the User-Agent of HEADERS, naming your client"),
           hint=_("pass the headers: session.get(url, headers=HEADERS), or "
                  "aiohttp.ClientSession(headers=HEADERS)"))


def describe_pairs(got: Any, want: list[tuple[str, int]]) -> str:
    """Say in words how a returned top differs from the wanted pairs."""
    if not isinstance(got, list | tuple):
        return _("get_top returned {type} {value}").format(type=type_name(got), value=short(got))
    if len(got) != len(want):
        return ngettext("get_top returned {n} item: {first}", "get_top returned {n} items: {first}",
                        len(got)).format(n=len(got), first=short(list(got)[:3]))
    for i, (item, pair) in enumerate(zip(got, want, strict=True)):
        if canon(item) == canon(pair):
            continue
        if isinstance(item, dict):
            return _("item {i} is a dict {item}, not an (article, views) pair").format(
                i=i, item=short(item))
        if isinstance(item, list | tuple) and len(item) != 2:
            return ngettext("item {i} holds {n} value {item}, not an (article, views) pair",
                            "item {i} holds {n} values {item}, not an (article, views) pair",
                            len(item)).format(i=i, n=len(item), item=short(item))
        if isinstance(item, list | tuple) and canon(item) == canon(pair[::-1]):
            return _("item {i} is {item}: views come before the article").format(
                i=i, item=short(item))
        return _("item {i} is {item} where {pair!r} was expected").format(
            i=i, item=short(item), pair=pair)
    return _("get_top returned {value}").format(value=short(got))


@pytest.mark.points(3)
def test_top_ten_pairs_best_first(student):
    """get_top returns the day's 10 best-ranked articles as (article, views) pairs, best first"""
    secret, day = new_secret(), "2024-09-01"
    web = Wikimedia(secret)
    run = run_top(student, day, web)
    want = top_of(payload(secret, day))
    if run.error is not None or canon(run.value) != canon(want):
        explain_no_data(web, f"get_top('{day}')")
    got = run.value_or_raise()
    expect(canon(got) == canon(want),
           observed=_("{difference} (the day had 1000 articles)").format(
               difference=describe_pairs(got, want)),
           expected=_("the 10 best-ranked as (article, views) pairs, best first: {first}").format(
               first=f"{short(want[:2], 200)[:-1]}, ...]"),
           hint=_("take the first 10 of data['items'][0]['articles'] (listed by rank) as "
                  "(a['article'], a['views'])"))


SLICE_HINT = N_("slice (articles[:10]) instead of indexing 0..9: a slice stops at the end")


@pytest.mark.points(1)
def test_top_fewer_than_ten(student):
    """get_top returns all the articles of a day that has fewer than 10"""
    secret, day = new_secret(), "2024-09-03"
    web = Wikimedia(secret, count=4)
    run = run_top(student, day, web)
    titles = [a["article"] for a in payload(secret, day, count=4)["items"][0]["articles"]]
    if run.error is not None and web.given and not run.error.is_a("NotImplementedError"):
        raise Feedback(
            _("with only 4 articles that day get_top raised {error}: {message}").format(
                error=run.error.type, message=short(run.error.message)),
            _("the 4 articles, best first (all of them, since there are fewer than 10)"),
            _(SLICE_HINT))
    if run.error is not None:
        explain_no_data(web, f"get_top('{day}')")
    got = run.value_or_raise()
    ok = isinstance(got, list | tuple) and len(got) == len(titles) and all(
        title in repr(item) for title, item in zip(titles, got, strict=True))
    expect(ok,
           observed=_("with only 4 articles that day get_top returned {value}").format(
               value=short(got, 200)),
           expected=_("all 4, best first: {titles}").format(titles=titles),
           hint=_(SLICE_HINT))


# ---------------------------------------------------------------- get_stats: the lesson


def overlaps(a: Request, b: Request) -> bool:
    """Both were waiting for their answers at one moment (trusted clock of the fake web)."""
    end_a, end_b = a.answered_at or a.arrived_at, b.answered_at or b.arrived_at
    return a.arrived_at < end_b and b.arrived_at < end_a


CONCURRENT_DAYS = days_from("2024-09-03", 12)


@pytest.mark.points(15)
def test_stats_days_in_flight_together(student, timeline):
    """get_stats fetches the days of the range concurrently, not one after another"""
    # Answers go one at a time, in a scrambled order of the days, once all 12 days are in
    # flight or the student's loop is quiet: a bound such as Semaphore(2) keeps its 2 in
    # flight all along. Only answers that reached the returned value count, so decoy or
    # duplicate requests add nothing.
    days = CONCURRENT_DAYS
    web = Wikimedia(new_secret(), len(days), scramble=True)
    run = run_stats(student, web, days[0], days[-1])
    timeline.keep(web)
    used = web.used(run.value)
    if not used:
        explain_no_data(web, f"get_stats('{days[0]}', '{days[-1]}')")
        run.value_or_raise()
        sent = len(web.requests)
        raise Feedback(
            ngettext("get_stats('{first}', '{last}') sent {n} request and returned {value}, "
                     "with none of the days' data in it",
                     "get_stats('{first}', '{last}') sent {n} requests and returned {value}, "
                     "with none of the days' data in it", sent).format(
                first=days[0], last=days[-1], n=sent, value=short(run.value)),
            _("every day of the range fetched, concurrently, and returned"),
            _("await asyncio.gather(*(get_top(day) for day in days)) and return the results"))
    by_day: dict[str, list[Request]] = {}
    for request in used:
        by_day.setdefault(str(request.key), []).append(request)
    alone = sorted(day for day, mine in by_day.items()
                   if not any(overlaps(r, other) for r in mine
                              for d, theirs in by_day.items() if d != day for other in theirs))
    together = len(by_day) - len(alone)
    # together is 0 or at least 2 (overlaps come in pairs), so this fails with 2+ days alone
    listed = ", ".join(alone[:4]) + (", ..." if len(alone) > 4 else "")
    expect(together >= 2 and len(alone) <= 1,
           observed=ngettext(
               "of the {total} days whose data get_stats returned, {n} was fetched one after "
               "another (each request sent only after the previous answer had arrived)",
               "of the {total} days whose data get_stats returned, {n} were fetched one after "
               "another (each request sent only after the previous answer had arrived)",
               len(alone)).format(total=len(by_day), n=len(alone)) if together == 0 else
           _("of the {total} days whose data get_stats returned, only {together} were in "
             "flight together with another day's request; {n} were fetched alone ({days})").format(
               total=len(by_day), together=together, n=len(alone), days=listed),
           expected=ngettext("the requests for the {n} day in flight together "
                             "(a bound such as Semaphore(5) is fine, but at least 2)",
                             "the requests for the {n} days in flight together "
                             "(a bound such as Semaphore(5) is fine, but at least 2)",
                             len(days)).format(n=len(days)),
           hint=_("create all the get_top coroutines first and await them together: "
                  "await asyncio.gather(*(get_top(day) for day in days)); "
                  "`await` inside a for loop waits for each day before starting the next"))


@pytest.mark.points(2)
def test_stats_each_day_its_top(student):
    """get_stats maps every day it fetched to that day's top-10"""
    secret = new_secret()
    days = days_from("2024-09-16", 6)
    own = own_tops(student, secret, days)
    web = Wikimedia(secret, len(days), scramble=True)
    run = run_stats(student, web, days[0], days[-1])
    stats = stats_dict(run)
    fetched: dict[str, list[dict[str, Any]]] = {}
    for request in web.served:
        if request.index in web.given:
            fetched.setdefault(str(request.key), []).append(web.given[request.index])
    if not fetched:
        explain_no_data(web, "get_stats")
    expect(fetched, observed=_("get_stats('{first}', '{last}') fetched no day's data").format(
               first=days[0], last=days[-1]),
           expected=_("one GET per day of the range"),
           hint=_("call get_top for every day of get_date_range(start, end)"))
    for day in sorted(fetched):
        got = stats.get(day)
        accepted = [canon(top_of(answer)) for answer in fetched[day]]
        if day in own:
            accepted.append(canon(own[day]))
        wrong_day = [d for d, answers in fetched.items() if d != day
                     and any(canon(got) == canon(top_of(a)) for a in answers)]
        expect(day in stats,
               observed=_("get_stats fetched {day} but left it out of the result: keys "
                          "{keys}").format(day=day, keys=short(list(stats))),
               expected=_("{day} mapped to its top-10").format(day=day),
               hint=_("build the dict from the days and the results of gather, in the same "
                      "order"))
        expect(canon(got) in accepted,
               observed=_("for {day} get_stats gave the top of {other}: the answers came back "
                          "in another order than the days were asked").format(
                   day=day, other=wrong_day[0]) if wrong_day else
               _("for {day} get_stats gave {value}").format(day=day, value=short(got)),
               expected=_("the day's top-10 as get_top('{day}') returns it: {top}").format(
                   day=day, top=short(own.get(day, top_of(fetched[day][0])))),
               hint=_("map each day to the result of get_top for that very day: gather returns "
                      "results in the order of its arguments (zip them with the days); "
                      "as_completed yields them in the order they finish"))


# ---------------------------------------------------------------- get_stats: inputs


RANGES = [
    ("2023-12-30", "2024-01-02", ["2023-12-30", "2023-12-31", "2024-01-01", "2024-01-02"]),
    ("2024-02-28", "2024-03-01", ["2024-02-28", "2024-02-29", "2024-03-01"]),
]


@pytest.mark.points(1)
def test_stats_range_across_month_and_year_end(student):
    """get_stats returns every day from start to end inclusive, across a month and a year end"""
    secret = new_secret()
    for start, end, days in RANGES:
        web = Wikimedia(secret, len(days), scramble=True)
        run = run_stats(student, web, start, end)
        stats = stats_dict(run)
        if not stats:
            explain_no_data(web, f"get_stats('{start}', '{end}')")
        missing = [d for d in days if d not in stats]
        extra = [k for k in stats if k not in days]
        expect(not missing and not extra,
               observed=_("get_stats('{start}', '{end}') returned the keys {keys}").format(
                   start=start, end=end, keys=short(list(stats), 200))
                        + (_("; missing {days}").format(days=missing) if missing else "")
                        + (_("; unexpected {keys}").format(keys=short(extra)) if extra else ""),
               expected=_("exactly the days {days} as 'YYYY-MM-DD' strings (both ends "
                          "included)").format(days=days),
               hint=_("use the days of get_date_range(start, end) as keys: datetime + "
                      "timedelta(days=1) handle month ends and leap days; loop while current "
                      "<= last"))
        require_data(web, run, stats, f"get_stats('{start}', '{end}')")


@pytest.mark.points(1)
def test_stats_start_after_end_is_empty(student):
    """get_stats with start after end returns {} without sending a request"""
    secret = new_secret()
    web = Wikimedia(secret, 2)
    normal = run_stats(student, web, "2024-09-22", "2024-09-23")
    require_data(web, normal, normal.value, "get_stats('2024-09-22', '2024-09-23')")
    web = Wikimedia(secret)
    run = run_stats(student, web, "2024-09-05", "2024-09-01")
    got = run.value_or_raise()
    sent = len(web.requests)
    expect(isinstance(got, dict) and not got and not web.requests,
           observed=ngettext("get_stats('2024-09-05', '2024-09-01') returned {value} after {n} "
                             "request",
                             "get_stats('2024-09-05', '2024-09-01') returned {value} after {n} "
                             "requests", sent).format(value=short(got), n=sent) if sent else
           _("get_stats('2024-09-05', '2024-09-01') returned {value}").format(value=short(got)),
           expected=_("{} and no request: there are no days from 2024-09-05 to 2024-09-01"),
           hint=_("get_date_range returns [] when start is after end; build the dict from it"))


def check_failed_day(student: StudentCode, days: list[str], status: int, answered: str) -> None:
    """The middle day fails with `status`: it maps to [], every day fetched keeps its data."""
    bad = days[1]
    web = Wikimedia(new_secret(), len(days), errors={bad: status}, scramble=True)
    run = run_stats(student, web, days[0], days[-1])
    stats = stats_dict(run, _("the API answered {status} for {day}").format(
        status=answered, day=bad))
    require_data(web, run, stats, f"get_stats('{days[0]}', '{days[-1]}')")
    got = stats.get(bad, "missing")
    expect(bad in stats and canon(got) == (),
           observed=_("{day} (answered {status}) is missing from the result: keys {keys}").format(
               day=bad, status=answered, keys=short(list(stats))) if bad not in stats else
           _("get_stats gave {value} for {day}, whose request failed").format(
               value=short(got), day=bad),
           expected=_("{day} mapped to []").format(day=bad),
           hint=_("keep every day of the range in the dict; a failed day maps to []"))
    good = sorted({str(r.key) for r in web.served if r.index in web.given})
    lost = [d for d in good if not web.holds_day(stats.get(d), d)] or [""]
    expect(not lost[0],
           observed=_("after {failed} failed, get_stats gave {value} for {day}, whose request "
                      "succeeded").format(failed=bad, value=short(stats.get(lost[0])),
                                          day=lost[0]),
           expected=_("every other day returned with its top-10"),
           hint=_("catch the failure per day, not around the whole gather"))


@pytest.mark.points(1)
def test_stats_404_day_is_empty(student):
    """A day the API answers with 404 maps to [] and the other days are still returned"""
    check_failed_day(student, days_from("2024-09-24", 3), 404, "404 Not Found")


@pytest.mark.points(1)
def test_stats_500_day_is_empty(student):
    """A day the API answers with 500 maps to [] and the other days are still returned"""
    check_failed_day(student, days_from("2024-10-14", 3), 500, "500 Internal Server Error")


# ---------------------------------------------------------------- get_stats: the decorator


PRINT_DELAYS = (0.3, 0.7)  # s each answer is held: two calls, so no fixed number fits both


def line_starts(stdout: str) -> list[tuple[int, str]]:
    """Each printed line with the byte offset where it starts."""
    result, offset = [], 0
    for raw in stdout.encode().splitlines(keepends=True):
        result.append((offset, raw.decode(errors="replace").rstrip("\r\n")))
        offset += len(raw)
    return result


@pytest.mark.points(1)
def test_stats_prints_run_time(student):
    """A call of get_stats prints one line with its name and how many seconds it took"""
    secret = new_secret()
    for delay, (first, last) in zip(PRINT_DELAYS, (("2024-11-04", "2024-11-05"),
                                                   ("2024-11-11", "2024-11-12")), strict=True):
        web = Wikimedia(secret, 2, delay=delay)
        run = run_stats(student, web, first, last)
        if not web.answered:
            explain_no_data(web, "get_stats")
            run.value_or_raise()
        expect(web.answered, observed=_("get_stats sent no request to the API"),
               expected=_("one request per day, timed by async_timeit"))
        named = [(at, line) for at, line in line_starts(run.stdout) if "get_stats" in line]
        timed = [(at, line) for at, line in named if printed_seconds(line, "get_stats")]
        expect(len(timed) == 1 and len(named) == 1,
               observed=ngettext("a call of get_stats printed {n} line naming get_stats: {lines}",
                                 "a call of get_stats printed {n} lines naming get_stats: "
                                 "{lines}", len(named)).format(
                   n=len(named), lines=short([text for _at, text in named[:3]], 200))
               if named else
               _("a call of get_stats printed 0 lines naming get_stats (all it printed: "
                 "{printed})").format(printed=short(run.lines[:3], 200)),
               expected=_("exactly one line with the name get_stats and its run time in seconds, "
                          "e.g. 'Время выполнения get_stats: 0.0123 секунд'"),
               hint=_("decorate get_stats with @async_timeit (from timing import async_timeit, "
                      "or the decorator written again in this file) and print func.__name__ in "
                      "it"))
        at, line = timed[0]
        released = max(r.printed_before_answer or 0 for r in web.answered)
        expect(at >= released,
               observed=_("get_stats printed {line!r} before Wikimedia had answered every "
                          "day").format(line=line),
               expected=_("the time printed after the awaited call has finished"),
               hint=_("await func(*args, **kwargs) inside an async wrapper, then print"))
        low, high = web.busy_seconds, run.seconds
        expect(any(seconds_fit(n, low, high) for n in printed_seconds(line, "get_stats")),
               observed=_("the line was {line!r}, but the call took between {low:.4f} s "
                          "and {high:.4f} s").format(line=line, low=low, high=high),
               expected=_("the number of seconds that call took"),
               hint=_("print time.perf_counter() after the await minus the value taken before "
                      "it"))


# ---------------------------------------------------------------- get_stats: hygiene


BLOCKING_DAYS = days_from("2024-10-01", 8)
# With no hold, each answer goes FREE_DELAY s after its request arrived: code that spreads its
# requests on purpose over less than about a second still has every day in flight together,
# while a loop blocked between the days (time.sleep, requests.get) loses the overlap.
FREE_DELAY = 1.5
# A run that overlaps is done in about FREE_DELAY (plus any spread); one that cannot is cut off
# here: its verdict is the in-flight count already seen, so cutting it changes nothing but time.
FREE_TIMEOUT = FREE_DELAY + 3.5


@pytest.mark.points(1)
def test_stats_no_blocking(student):
    """get_stats keeps the event loop free: its requests overlap without being held"""
    secret, days = new_secret(), BLOCKING_DAYS
    held = Wikimedia(secret, len(days))
    run = run_stats(student, held, days[0], days[-1])
    require_data(held, run, run.value, f"get_stats('{days[0]}', '{days[-1]}')")
    expect(held.max_in_flight >= 2,
           observed=_("get_stats fetched the days one at a time, so there is no overlap a "
                      "blocked loop could lose"),
           expected=_("the days in flight together (see the concurrency test)"),
           hint=_("await the days together with asyncio.gather"))
    free = Wikimedia(secret, len(days), hold=False, delay=FREE_DELAY)
    student.function("get_stats")
    again = student.call("get_stats", days[0], days[-1], web=free, timeout=FREE_TIMEOUT)
    blocked = again.reported.blocking or run.reported.blocking
    expect(free.max_in_flight >= held.max_in_flight,
           observed=_("with answers held, {held} days were in flight together; with each answer "
                      "sent {delay} s after its request, only {free}: the loop stopped between "
                      "requests").format(held=held.max_in_flight, delay=FREE_DELAY,
                                         free=free.max_in_flight)
                    + (_(" (it looked like {calls})").format(calls=", ".join(blocked))
                       if blocked else "")
                    + (_("; the call did not finish within {seconds:.1f} s").format(
                        seconds=FREE_TIMEOUT) if again.timed_out else ""),
           expected=_("no blocking call inside async code"),
           hint=_("time.sleep stops every coroutine at once: use await asyncio.sleep; "
                  "make HTTP requests with aiohttp, not requests/urllib"))


@pytest.mark.points(1)
def test_sessions_closed(student):
    """get_stats and get_top close every aiohttp session they open"""
    secret = new_secret()
    web = Wikimedia(secret, 3)
    run = run_stats(student, web, "2024-09-01", "2024-09-03")
    require_data(web, run, run.value, "get_stats('2024-09-01', '2024-09-03')")
    top_web = Wikimedia(secret)
    top = run_top(student, "2024-09-01", top_web)
    top.value_or_raise()
    still = run.open_connections, top.open_connections
    expect(still == (0, 0),
           observed=_("when get_stats returned, {stats} connection(s) to Wikimedia were still "
                      "open, and {top} after get_top alone: a ClientSession was not "
                      "closed").format(stats=still[0], top=still[1]),
           expected=_("every session closed before the call returns"),
           hint=_("open sessions with `async with aiohttp.ClientSession() as session:` so they "
                  "close even when a request fails"))
