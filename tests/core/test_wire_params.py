"""stop, request_seed, top_p and json_output as each wire format names them."""

from infertui.core.targets import Api, ProbeParams, Provider, Target
from infertui.core.wire import wire_format

ASKED = ProbeParams("hi", max_tokens=40, temperature=0.0, stop=("END", "\n\n"), request_seed=7,
                    top_p=0.9, json_output=True)


def _body(api: Api, params: ProbeParams = ASKED) -> dict:
    target = Target(Provider(name="p", api=api, base_url="https://example.test/v1"), "m")
    return wire_format(api).build_request(target, params, None, params.prompt).body


def test_openai_maps_every_parameter():
    body = _body(Api.OPENAI)
    assert body["stop"] == ["END", "\n\n"]
    assert body["seed"] == 7
    assert body["top_p"] == 0.9
    assert body["response_format"] == {"type": "json_object"}


def test_anthropic_has_stop_sequences_and_top_p_but_no_seed_or_json_switch():
    body = _body(Api.ANTHROPIC)
    assert body["stop_sequences"] == ["END", "\n\n"]
    assert body["top_p"] == 0.9
    assert "seed" not in body and "response_format" not in body and "stop" not in body


def test_gemini_maps_into_generation_config():
    config = _body(Api.GEMINI)["generationConfig"]
    assert config["stopSequences"] == ["END", "\n\n"]
    assert config["seed"] == 7
    assert config["topP"] == 0.9
    assert config["responseMimeType"] == "application/json"


def test_nothing_is_sent_for_parameters_left_unset():
    plain = ProbeParams("hi", max_tokens=40)
    assert set(_body(Api.OPENAI, plain)) == {"model", "messages", "stream", "stream_options",
                                             "max_tokens"}
    assert set(_body(Api.ANTHROPIC, plain)) == {"model", "max_tokens", "messages", "stream"}
    assert _body(Api.GEMINI, plain)["generationConfig"] == {"maxOutputTokens": 40}


def test_params_round_trip_through_json_and_take_a_list_or_one_string():
    again = ProbeParams.from_json(ASKED.to_json())
    assert again == ASKED
    assert ProbeParams("x", stop=["a", "b"]).stop == ("a", "b")
    assert ProbeParams("x", stop="END").stop == ("END",)
    # An older document without the new fields reads as their defaults.
    old = ProbeParams.from_json({"prompt": "x", "max_tokens": 5})
    assert old.stop == () and old.request_seed is None and old.json_output is False
