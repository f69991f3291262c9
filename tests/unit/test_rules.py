"""Line rules TL2xx–TL6xx: table-driven positive and negative cases.

Each positive case asserts the rule id, the substance of the message and the exact text the
finding underlines (the line sliced by col/end_col); each negative case asserts silence.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tuneline.lint import check
from tuneline.lint.config import Config
from tuneline.lint.context import LintContext

SCHEMA = str(Path(__file__).parents[1] / "fixtures" / "rules" / "ticket_schema.json")
Q = "How do I reset my password?"
ANSWER = "Open Settings, choose Security and click Reset password."


def lint(record: Any, ascii: bool = False, **config: Any) -> list[tuple[str, str, str, Any]]:
    """(rule, message, underlined text, data) for every finding on the record's line."""
    line = record if isinstance(record, str) else json.dumps(record, ensure_ascii=ascii)
    result = check.check_line(line, LintContext(Config(**config)))
    return [(f.rule, f.message, line[f.col:f.end_col], f.data) for f in result.findings]


def hits(record: Any, rule: str, ascii: bool = False, **config: Any) -> list[tuple[str, str, Any]]:
    return [(m, u, d) for r, m, u, d in lint(record, ascii, **config) if r == rule]


def msg(role: str, content: Any, **extra: Any) -> dict[str, Any]:
    return {"role": role, "content": content, **extra}


def U(text: Any) -> dict[str, Any]:
    return msg("user", text)


def A(text: Any, **extra: Any) -> dict[str, Any]:
    return msg("assistant", text, **extra)


def S(text: str) -> dict[str, Any]:
    return msg("system", text)


def chat(*messages: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"messages": list(messages), **extra}


def call(call_id: str, name: str, arguments: Any) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def calls(*tool_calls: dict[str, Any]) -> dict[str, Any]:
    return {"role": "assistant", "content": None, "tool_calls": list(tool_calls)}


def tool(call_id: str, content: str = '{"temp": 21}') -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": content}


WEATHER = [{"type": "function", "function": {
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string"}, "unit": {"enum": ["c", "f"]}}, "required": ["city"]}}}]


def weather(arguments: Any, name: str = "get_weather", tools: Any = WEATHER) -> dict[str, Any]:
    record = chat(U("Weather in Paris?"), calls(call("c1", name, arguments)), tool("c1"),
                  A("It is 21 degrees in Paris right now."))
    return {**record, "tools": tools} if tools is not None else record


GOOD = chat(S("You are a helpful support agent."), U(Q), A(ANSWER))
TOOL_FLOW = weather('{"city": "Paris", "unit": "c"}')

# (record, config, rule, message substring, underlined text)
POSITIVE = [
    # TL201 too-few-messages
    pytest.param(chat(A(ANSWER)), {}, "TL201", "only 1 message; a training example needs at "
                 "least 2", '"messages"', id="TL201-one-message"),
    pytest.param(chat(), {}, "TL201", "only 0 messages", '"messages"', id="TL201-empty-list"),
    pytest.param(chat(U(Q), A(ANSWER)), {"min_messages": 3}, "TL201", "needs at least 3",
                 '"messages"', id="TL201-config-threshold"),
    # TL202 no-assistant
    pytest.param(chat(S("Be brief."), U(Q)), {}, "TL202", "no assistant message", '"messages"',
                 id="TL202-no-assistant"),
    pytest.param({"conversations": [{"from": "human", "value": Q}]}, {}, "TL202",
                 "no assistant message", '"conversations"', id="TL202-sharegpt"),
    # TL203 last-not-assistant
    pytest.param(chat(U(Q), A(ANSWER), U("Thanks!")), {}, "TL203",
                 "the last message is from 'user', not the assistant", '"user"',
                 id="TL203-trailing-user"),
    # TL204 answer-too-short
    pytest.param(chat(U(Q), A("Ok.")), {}, "TL204",
                 "answer is 3 characters long ('Ok.'), under min_answer_chars = 10", '"Ok."',
                 id="TL204-short"),
    pytest.param(chat(U(Q), A("Sure"), U("And then?"), A(ANSWER)), {}, "TL204",
                 "4 characters", '"Sure"', id="TL204-earlier-turn"),
    pytest.param({"instruction": "Classify the sentiment.", "output": "pos"}, {}, "TL204",
                 "3 characters", '"pos"', id="TL204-alpaca"),
    # TL205 answer-too-long
    pytest.param(chat(U(Q), A("word " * 20)), {"max_answer_chars": 50}, "TL205",
                 "answer is 100 characters long, over max_answer_chars = 50",
                 json.dumps("word " * 20), id="TL205-long"),
    # TL206 empty-content
    pytest.param(chat(U(""), A(ANSWER)), {}, "TL206", "the user message's content is empty", '""',
                 id="TL206-empty"),
    pytest.param(chat(U(Q), A(" \n\t")), {}, "TL206", "is whitespace only", '" \\n\\t"',
                 id="TL206-whitespace"),
    pytest.param(chat(U(None), A(ANSWER)), {}, "TL206", "content is null", "null",
                 id="TL206-null"),
    pytest.param(chat(U([{"type": "text", "text": " "}]), A(ANSWER)), {}, "TL206",
                 "has only empty text parts", '[{"type": "text", "text": " "}]', id="TL206-parts"),
    pytest.param({"prompt": Q, "completion": "  "}, {}, "TL206", "is whitespace only", '"  "',
                 id="TL206-prompt-completion"),
    pytest.param({"input": {"messages": [U(Q)]}, "preferred_output": [A(ANSWER)],
                  "non_preferred_output": [A("")]}, {}, "TL206",
                 "the assistant message's content is empty", '""', id="TL206-dpo-rejected"),
    # TL207 role-order
    pytest.param(chat(A("Hello! How can I help you today?"), U(Q), A(ANSWER)), {}, "TL207",
                 "the assistant speaks before any user turn (messages[0])", '"assistant"',
                 id="TL207-assistant-first"),
    pytest.param(chat(U(Q), S("Be brief."), A(ANSWER)), {}, "TL207",
                 "the system prompt is message 2, not the first", '"system"',
                 id="TL207-system-late"),
    pytest.param(chat(U(Q), U("Hello?"), A(ANSWER)), {}, "TL207",
                 "two user turns in a row (messages[0] and messages[1])", '"user"',
                 id="TL207-two-users"),
    pytest.param(chat(U(Q), A(ANSWER), A("Anything else I can do?")), {}, "TL207",
                 "two assistant turns in a row (messages[1] and messages[2]) with no tool result",
                 '"assistant"', id="TL207-two-assistants"),
    pytest.param(chat(U(Q), calls(call("c1", "lookup", "{}")), A(ANSWER)), {}, "TL207",
                 "messages[1] calls a tool but no tool result follows", '"assistant"',
                 id="TL207-call-without-result"),
    pytest.param({"conversations": [{"from": "human", "value": Q}, {"from": "gpt", "value": ANSWER},
                                    {"from": "gpt", "value": ANSWER}]}, {}, "TL207",
                 "(conversations[1] and conversations[2])", '"gpt"', id="TL207-sharegpt"),
    # TL210 unknown-tool-call-id
    pytest.param(chat(U("Weather?"), calls(call("c1", "get_weather", '{"city": "Oslo"}')),
                      tool("c9"), A(ANSWER)), {}, "TL210",
                 "tool_call_id 'c9' matches no earlier assistant tool call (earlier ids: 'c1')",
                 '"c9"', id="TL210-wrong-id"),
    pytest.param(chat(U("Weather?"), tool("c1"), A(ANSWER)), {}, "TL210",
                 "no earlier assistant message calls a tool", '"c1"', id="TL210-no-call"),
    # TL211 tool-arguments-not-json
    pytest.param(weather({"city": "Paris"}), {}, "TL211",
                 "arguments must be a JSON-encoded string, not an object", '{"city": "Paris"}',
                 id="TL211-object"),
    pytest.param(weather("{'city': 'Paris'}"), {}, "TL211",
                 "arguments are not valid JSON: Expecting property name enclosed in double quotes "
                 "(column 2)", "'", id="TL211-single-quotes"),
    pytest.param(weather('{"city": "Paris"'), {}, "TL211", "Expecting ',' delimiter", '\\"',
                 id="TL211-truncated"),
    pytest.param(weather('["Paris"]'), {}, "TL211", "must encode a JSON object, not an array",
                 '"[\\"Paris\\"]"', id="TL211-array"),
    pytest.param(chat(U("Weather?"), {"role": "assistant", "content": None, "function_call": {
        "name": "get_weather", "arguments": "{city: Paris}"}}, msg("function", '{"temp": 21}',
                                                                   name="get_weather"),
        A(ANSWER), functions=[WEATHER[0]["function"]]), {}, "TL211",
        "arguments are not valid JSON", "c", id="TL211-legacy-function-call"),
    # TL212 tool-arguments-schema
    pytest.param(weather('{"city": "Paris", "unit": "kelvin"}'), {}, "TL212",
                 "arguments of 'get_weather' do not match its parameters schema: $.unit: "
                 "'kelvin' is not one of ['c', 'f']", '\\"kelvin\\"', id="TL212-enum"),
    pytest.param(weather('{"unit": "c"}'), {}, "TL212", "$: 'city' is a required property",
                 '"{\\"unit\\": \\"c\\"}"', id="TL212-required"),
    # TL213 unknown-tool
    pytest.param(weather('{"city": "Paris"}', name="get_wether"), {}, "TL213",
                 "call to 'get_wether', which is not declared in tools; did you mean "
                 "'get_weather'?", '"get_wether"', id="TL213-typo"),
    pytest.param(weather('{"city": "Paris"}', name="send_fax"), {}, "TL213",
                 "(declared: get_weather)", '"send_fax"', id="TL213-unknown"),
    # TL301 assistant-schema
    pytest.param(chat(U("Triage: printer on fire"),
                      A('{"priority": "urgent", "summary": "Printer fire"}')),
                 {"assistant_schema": SCHEMA}, "TL301",
                 "answer does not match assistant_schema: $.priority: 'urgent' is not one of "
                 "['low', 'medium', 'high']", '\\"urgent\\"', id="TL301-enum"),
    pytest.param(chat(U("Triage: printer on fire"), A('{"priority": "high"}')),
                 {"assistant_schema": SCHEMA}, "TL301", "$: 'summary' is a required property",
                 '"{\\"priority\\": \\"high\\"}"', id="TL301-required"),
    pytest.param(chat(U("Triage: printer on fire"), A("Priority: high, printer fire")),
                 {"assistant_schema": SCHEMA}, "TL301", "answer is not JSON (Expecting value at "
                 "column 1)", '"Priority: high, printer fire"', id="TL301-not-json"),
    pytest.param(chat(U("Triage"), A('```json\n{"priority": "high", "summary": "x"}\n```')),
                 {"assistant_schema": SCHEMA}, "TL301", "remove the ``` code fence",
                 json.dumps('```json\n{"priority": "high", "summary": "x"}\n```'),
                 id="TL301-fenced"),
    # TL401 too-many-tokens
    pytest.param(chat(U(Q), A("word " * 100)), {"max_tokens": 50}, "TL401",
                 "tokens, over the max_tokens limit of 50; it will be truncated or rejected",
                 '"messages"', id="TL401-max-tokens"),
    pytest.param(chat(U(Q), A("lorem ipsum " * 9000)), {"model": "gpt-3.5-turbo-0125"}, "TL401",
                 "example has 18,", '"messages"', id="TL401-model-limit"),
]


@pytest.mark.parametrize(("record", "config", "rule", "message", "underlined"), POSITIVE)
def test_rule_reports(record: Any, config: dict[str, Any], rule: str, message: str,
                      underlined: str) -> None:
    found = hits(record, rule, **config)
    assert any(message in m and u == underlined for m, u, _ in found), found


def test_token_message_names_model_and_limit() -> None:
    found = hits(chat(U(Q), A("lorem ipsum " * 9000)), "TL401", model="gpt-3.5-turbo-0125")
    assert len(found) == 1
    message, _, data = found[0]
    assert message == (f"example has {data['tokens']:,} tokens, over the 16,385 limit of "
                       "gpt-3.5-turbo-0125; it will be truncated or rejected")
    assert data["tokens"] > 16_385


# (record, config, rule that must stay silent)
NEGATIVE = [
    pytest.param(GOOD, {}, "TL201", id="TL201-good"),
    pytest.param(chat(U(Q)), {"min_messages": 1}, "TL201", id="TL201-threshold-1"),
    pytest.param(GOOD, {}, "TL202", id="TL202-good"),
    pytest.param(GOOD, {}, "TL203", id="TL203-good"),
    pytest.param(chat(S("Grade the answer."), U("What is 6 x 7?"), reference_answer="42"), {},
                 "TL203", id="TL203-rft-ends-with-user"),
    pytest.param(chat(U(Q), A(ANSWER), U("Thanks!")), {"ignore": ("TL203",)}, "TL203",
                 id="TL203-ignored"),
    pytest.param(GOOD, {}, "TL204", id="TL204-good"),
    pytest.param(chat(U(Q), A("0123456789")), {}, "TL204", id="TL204-exactly-10"),
    pytest.param(chat(U(Q), A("Ok.", weight=0), U("And?"), A(ANSWER)), {}, "TL204",
                 id="TL204-weight-0"),
    pytest.param(TOOL_FLOW, {}, "TL204", id="TL204-tool-call-turn"),
    pytest.param(chat(U(Q), A("pos")), {"min_answer_chars": 0}, "TL204", id="TL204-threshold-0"),
    pytest.param({"prompt": "2+2?", "completions": ["2+2", "=4"], "labels": [True, True]}, {},
                 "TL204", id="TL204-stepwise-steps"),
    pytest.param(chat(U(Q), A("x" * 50)), {"max_answer_chars": 50}, "TL205", id="TL205-exact"),
    pytest.param(GOOD, {}, "TL206", id="TL206-good"),
    pytest.param(TOOL_FLOW, {}, "TL206", id="TL206-tool-call-null-content"),
    pytest.param(chat(U([{"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}]),
                      A(ANSWER)), {}, "TL206", id="TL206-image-only"),
    pytest.param(GOOD, {}, "TL207", id="TL207-good"),
    pytest.param(TOOL_FLOW, {}, "TL207", id="TL207-tool-flow"),
    pytest.param(chat(S("a"), msg("developer", "b"), U(Q), A(ANSWER)), {}, "TL207",
                 id="TL207-system-then-developer"),
    pytest.param({"prompt": "2+2?", "completions": ["2+2", "=4"], "labels": [True, True]}, {},
                 "TL207", id="TL207-stepwise-steps"),
    pytest.param({"chosen": "The sky is blue.", "rejected": "The sky is green."}, {}, "TL207",
                 id="TL207-implicit-prompt-strings"),
    pytest.param(TOOL_FLOW, {}, "TL210", id="TL210-good"),
    pytest.param(TOOL_FLOW, {}, "TL211", id="TL211-good"),
    pytest.param(TOOL_FLOW, {}, "TL212", id="TL212-good"),
    pytest.param(weather('{"city": "Paris"}', tools=[{"type": "function", "function": {
        "name": "get_weather"}}]), {}, "TL212", id="TL212-no-parameters"),
    pytest.param(TOOL_FLOW, {}, "TL213", id="TL213-good"),
    pytest.param(weather('{"city": "Paris"}', name="anything", tools=None), {}, "TL213",
                 id="TL213-no-tools-declared"),
    pytest.param(chat(U("Triage"), A('{"priority": "low", "summary": "Paper jam"}')),
                 {"assistant_schema": SCHEMA}, "TL301", id="TL301-valid"),
    pytest.param(chat(U("Triage"), A("not json at all")), {}, "TL301", id="TL301-no-schema"),
    pytest.param(chat(U("Triage"), calls(call("c1", "lookup", "{}")), tool("c1"),
                      A('{"priority": "low", "summary": "ok"}')), {"assistant_schema": SCHEMA},
                 "TL301", id="TL301-tool-call-turn"),
    pytest.param(GOOD, {}, "TL401", id="TL401-good"),
    pytest.param(chat(U(Q), A("word " * 900)), {"max_tokens": 1000}, "TL401",
                 id="TL401-bytes-over-tokens-under"),
]


@pytest.mark.parametrize(("record", "config", "rule"), NEGATIVE)
def test_rule_silent(record: Any, config: dict[str, Any], rule: str) -> None:
    assert hits(record, rule, **config) == []


def test_clean_example_has_no_findings() -> None:
    assert lint(GOOD) == []
    assert lint(TOOL_FLOW) == []


# ----------------------------------------------------------------------------- quick-fix data

def test_empty_message_offers_delete() -> None:
    [(_, _, data)] = hits(chat(U(Q), A(""), U("Hello?"), A(ANSWER)), "TL206")
    assert data == {"fix": "delete-message", "index": 1, "path": ["messages", 1]}


def test_empty_final_answer_offers_no_delete() -> None:
    [(_, _, data)] = hits(chat(U(Q), A("")), "TL206")
    assert data is None


def test_empty_text_part_offers_trim() -> None:
    record = chat(U([{"type": "text", "text": "What is this?"}, {"type": "text", "text": ""},
                     {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}]),
                  A(ANSWER))
    [(message, underlined, data)] = hits(record, "TL206")
    assert "empty text part in messages[0].content" in message
    assert underlined == '""' and data == {"fix": "trim"}


def test_late_system_prompt_offers_move() -> None:
    found = hits(chat(U(Q), A(ANSWER), S("Be brief.")), "TL207")
    assert [d for _, _, d in found] == [
        {"fix": "move-system-first", "from": 2, "path": ["messages", 2]}]


# ----------------------------------------------------------------------------- token counting

def test_tokens_counted_only_when_the_byte_bound_exceeds_the_limit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    line = json.dumps(GOOD)
    for limit, expected_calls in ((None, 0), (20, 1)):
        ctx = LintContext(Config(max_tokens=limit))
        counted: list[Any] = []
        monkeypatch.setattr(ctx.tokens, "count_example", lambda ex, c=counted: c.append(ex) or 5)
        assert check.check_line(line, ctx).findings == ()
        assert len(counted) == expected_calls


# ----------------------------------------------------------------------------- PII and secrets

CARD = "4111 1111 1111 1111"
AMEX = "378282246310005"
JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N"

# (text inside a user message, rule, underlined substring)
PII_POSITIVE = [
    pytest.param("Mail jane.doe+news@mail.co.uk today.", "TL601", "jane.doe+news@mail.co.uk",
                 id="email"),
    pytest.param("Contact: Bob <bob_smith@corp-mail.com>", "TL601", "bob_smith@corp-mail.com",
                 id="email-angle"),
    pytest.param("Call +44 20 7946 0958 after six.", "TL602", "+44 20 7946 0958", id="phone-uk"),
    pytest.param("Ring +33 1 23 45 67 89.", "TL602", "+33 1 23 45 67 89", id="phone-fr"),
    pytest.param("Phone: +1 (415) 555-2671", "TL602", "+1 (415) 555-2671", id="phone-us-intl"),
    pytest.param("Call (212) 555-0147 now", "TL602", "(212) 555-0147", id="phone-us-parens"),
    pytest.param("my cell is 415-555-2671.", "TL602", "415-555-2671", id="phone-us-dashes"),
    pytest.param("or 415.555.2671", "TL602", "415.555.2671", id="phone-us-dots"),
    pytest.param("(office: 1-800-555-0199)", "TL602", "1-800-555-0199", id="phone-us-1-800"),
    pytest.param("(415-555-2671)", "TL602", "415-555-2671", id="phone-in-parentheses"),
    pytest.param(f"Card {CARD}, exp 12/27", "TL603", CARD, id="card-visa"),
    pytest.param("pay with 5500-0000-0000-0004 please", "TL603", "5500-0000-0000-0004",
                 id="card-mastercard-dashes"),
    pytest.param(f"amex {AMEX}", "TL603", AMEX, id="card-amex"),
    pytest.param("card no. 4111111111111111.", "TL603", "4111111111111111", id="card-unseparated"),
    pytest.param("key=sk-proj-Ab3dEf9hIjK2mNoP7qRsT1uVwXyZ0aB", "TL604",
                 "sk-proj-Ab3dEf9hIjK2mNoP7qRsT1uVwXyZ0aB", id="secret-openai"),
    pytest.param("aws AKIAIOSFODNN7EXAMPLE ok", "TL604", "AKIAIOSFODNN7EXAMPLE", id="secret-aws"),
    pytest.param("token ghp_16C7e42F292c6912E7710c838347Ae178B4a!", "TL604",
                 "ghp_16C7e42F292c6912E7710c838347Ae178B4a", id="secret-github"),
    pytest.param("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "TL604",
                 "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", id="secret-github-pat"),
    pytest.param("slack xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "TL604",
                 "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", id="secret-slack"),
    pytest.param("maps AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY", "TL604",
                 "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY", id="secret-google"),
    pytest.param("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
                 "TL604", "-----BEGIN RSA PRIVATE KEY-----", id="secret-pem"),
    pytest.param(f"Authorization: Bearer {JWT}", "TL604", JWT, id="secret-bearer"),
]


@pytest.mark.parametrize(("text", "rule", "underlined"), PII_POSITIVE)
def test_pii_reports_exact_substring(text: str, rule: str, underlined: str) -> None:
    found = hits(chat(U(text), A(ANSWER)), rule)
    assert [u for _, u, _ in found] == [underlined]


# (text, rules that must stay silent)
PII_NEGATIVE = [
    pytest.param("Write to user@example.com or ops@mail.example.org", "TL601",
                 id="email-reserved-domains"),
    pytest.param("use icon@2x.png for retina", "TL601", id="email-image-name"),
    pytest.param("ping @maintainers or foo@localhost", "TL601", id="email-handles"),
    pytest.param("Released 2024-01-15, updated 15.01.2024 and 01/15/2024.", "TL602", id="dates"),
    pytest.param("Upgrade to v10.0.19045.3803 or 1.2.3", "TL602", id="versions"),
    pytest.param("order #555-123-4567 and ORD-555-123-4567", "TL602", id="order-ids"),
    pytest.param("Your order 12345678901 shipped; ts 1718000000", "TL602", id="bare-digit-runs"),
    pytest.param("server 192.168.100.200 at 10:30:45", "TL602", id="ip-and-time"),
    pytest.param("you scored +5 points, +100 total", "TL602", id="plus-scores"),
    pytest.param("rows 100 200 3000", "TL602", id="non-nanp-area-code"),
    pytest.param("In 2023 1234 people came, 24-48 hours, step 3 of 4", "TL602", id="counts"),
    pytest.param("ISBN 978-3-16-148410-0", "TL602", id="isbn"),
    pytest.param("Card 4111 1111 1111 1112 is invalid", "TL603", id="card-luhn-fails"),
    pytest.param("event at 1718000000000 ms", "TL603", id="ms-timestamp"),
    pytest.param("ref 0000 0000 0000 0000", "TL603", id="zeros"),
    pytest.param("install sk-learn and scikit-learn; task-force-meeting-notes-2024", "TL604",
                 id="sk-words"),
    pytest.param("key = sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "TL604", id="sk-placeholder"),
    pytest.param("Authorization: Bearer YOUR_ACCESS_TOKEN_GOES_HERE", "TL604",
                 id="bearer-placeholder"),
    pytest.param("the bearer of this letter", "TL604", id="bearer-word"),
    pytest.param("-----BEGIN PUBLIC KEY-----", "TL604", id="public-key"),
]


@pytest.mark.parametrize(("text", "rule"), PII_NEGATIVE)
def test_pii_silent(text: str, rule: str) -> None:
    assert hits(chat(U(text), A(ANSWER)), rule) == []


def test_pii_messages_say_what_and_what_to_do() -> None:
    text = "jane@mailbox.org, +44 20 7946 0958, " + CARD + ", AKIAIOSFODNN7EXAMPLE"
    by_rule = {r: m for r, m, _, _ in lint(chat(U(text), A(ANSWER)))}
    assert "email address" in by_rule["TL601"] and "user@example.com" in by_rule["TL601"]
    assert "phone number" in by_rule["TL602"]
    assert "16 digits, passes the Luhn check" in by_rule["TL603"]
    assert by_rule["TL604"].startswith("AWS access key id (AKIAIO…)")
    assert "AKIAIOSFODNN7EXAMPLE" not in by_rule["TL604"]  # the secret is not echoed


@pytest.mark.parametrize("ascii", [False, True], ids=["utf8", "escaped"])
def test_pii_underline_survives_escapes(ascii: bool) -> None:
    text = 'Line one\n"quoted" café 😀\tcall +33 1 23 45 67 89 or mail zoë.x@mailbox.org'
    found = {r: u for r, _, u, _ in lint(chat(U(text), A(ANSWER)), ascii=ascii)}
    assert found["TL602"] == "+33 1 23 45 67 89"
    assert found["TL601"] == json.dumps("zoë.x@mailbox.org", ensure_ascii=ascii)[1:-1]


def test_pii_in_tool_arguments_and_other_fields() -> None:
    record = chat(U("Email the report"),
                  calls(call("c1", "send", json.dumps({"to": "jane.roe@mailbox.org"}))),
                  tool("c1", "sent"), A(ANSWER))
    assert [u for _, u, _ in hits(record, "TL601")] == ["jane.roe@mailbox.org"]
    alpaca = {"instruction": "Summarise the note.", "input": "Call +1 (415) 555-2671 now",
              "output": "The customer asks for a call back."}
    assert [u for _, u, _ in hits(alpaca, "TL602")] == ["+1 (415) 555-2671"]


def test_pii_skips_inline_base64_files() -> None:
    image = {"type": "image_url", "image_url": {
        "url": "data:image/png;base64,iVBORw0KGgo+12025550123/4111111111111111+AKIA" + "A" * 16}}
    record = chat(U([{"type": "text", "text": "From jane@mailbox.org:"}, image]), A(ANSWER))
    assert [(r, u) for r, _, u, _ in lint(record)] == [("TL601", "jane@mailbox.org")]


def test_pii_rules_switch_off_individually() -> None:
    record = chat(U("jane@mailbox.org " + CARD), A(ANSWER))
    assert {r for r, *_ in lint(record, ignore=("TL601",))} == {"TL603"}
    assert {r for r, *_ in lint(record, select=("TL6",), ignore=("pii-card-number",))} == {"TL601"}
