import pytest

from matcher.config import Config, Weights
from matcher.errors import ConfigError


def test_defaults_are_valid_and_weights_sum_to_one():
    cfg = Config()
    assert abs(sum(cfg.weights.normalized().values()) - 1) < 1e-12


def test_toml_then_environment_override(tmp_path):
    p = tmp_path / "m.toml"
    p.write_text("top_k = 20\n[weights]\ntopic = 0.5\nengagement = 0.25\ntrust = 0.25\n[index]\ncandidates = 300\n")
    cfg = Config.load(p, env={"MATCHER_WEIGHTS__TOPIC": "0.9", "OTHER": "x"})
    assert cfg.top_k == 20
    assert cfg.weights.topic == 0.9 and cfg.weights.engagement == 0.25
    assert cfg.index.candidates == 300


def test_bad_values_and_unknown_keys_fail_with_the_setting_named(tmp_path):
    with pytest.raises(ConfigError, match="weights.topic"):
        Weights(topic=1.5)
    with pytest.raises(ConfigError, match="unknown setting.*weights.topik"):
        Config.from_dict({"weights": {"topik": 0.5}})
    with pytest.raises(ConfigError, match="top_k"):
        Config.load(env={"MATCHER_TOP_K": "0"})
    bad = tmp_path / "bad.toml"
    bad.write_text("top_k = = 3")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Config.load(bad)
    with pytest.raises(ConfigError, match="not found"):
        Config.load(tmp_path / "missing.toml")


def test_fingerprint_changes_with_any_setting():
    assert Config().fingerprint() == Config().fingerprint()
    assert Config().fingerprint() != Config(top_k=49).fingerprint()


def test_fingerprint_leaves_out_when_the_index_is_rebuilt():
    from matcher.config import IndexConfig

    assert Config().fingerprint() == Config(index=IndexConfig(max_dead_fraction=0.0)).fingerprint()
    assert Config().fingerprint() != Config(index=IndexConfig(ef_search=64)).fingerprint()
    with pytest.raises(ConfigError, match="max_dead_fraction"):
        IndexConfig(max_dead_fraction=1.5)
