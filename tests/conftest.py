"""Shared fixtures: one real encoder and one sample dataset and store per test session."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# Smaller than the demo's 2,000 creators so the suite stays quick, but the same generator and niches.
SAMPLE_CREATORS = 700
SAMPLE_POSTS = (4, 10)


@pytest.fixture(scope="session")
def encoder():
    """The real all-MiniLM-L6-v2 encoder, loaded once."""
    from matcher.embed import Encoder

    return Encoder().load()


@pytest.fixture(scope="session")
def sample(tmp_path_factory):
    """A seeded sample dataset (CSV) with ground-truth labels."""
    from matcher.sample import generate

    return generate(tmp_path_factory.mktemp("sample"), seed=11, n_creators=SAMPLE_CREATORS, posts_per_creator=SAMPLE_POSTS)


@pytest.fixture(scope="session")
def built(sample, encoder, tmp_path_factory):
    """The sample run once through the nightly batch into a fresh store."""
    from matcher.batch import run_batch

    store = tmp_path_factory.mktemp("store")
    result = run_batch(sample.creators, sample.posts, sample.brands, store, comments=sample.comments, encoder=encoder, progress=False)
    return result


@pytest.fixture(scope="session")
def matcher_(built, encoder):
    """A Matcher serving the sample store."""
    from matcher.engine import Matcher

    return Matcher(built.store, encoder=encoder).load()


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server (initdb + pg_ctl in a temporary directory) for the whole session.

    Skips when PostgreSQL is not installed, fails instead under CI (tests/pgserver.py).
    """
    from pgserver import start_server

    server = start_server()
    yield server
    server.stop()


@pytest.fixture
def pg_url(postgres):
    """The URL of a fresh, empty database on the session's PostgreSQL server."""
    return postgres.new_database()


@pytest.fixture(scope="session")
def ray_session():
    """Ray in local mode on this machine, started once for the session (skips without 'matcher[ray]')."""
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    started = not ray.is_initialized()
    if started:
        # Two CPUs as on CI; a small object store: the sample's blocks are kilobytes.
        ray.init(num_cpus=2, include_dashboard=False, object_store_memory=128 * 1024 * 1024, configure_logging=False, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()


#: Budgets given to the sample's brands in turn: a blank and an unreadable one get no shortlist.
SAMPLE_BUDGETS = ("5000", "", "1500", "not a number", "20000")


@pytest.fixture(scope="session")
def budgeted(sample, built, encoder, tmp_path_factory):
    """The sample with a ``budget`` column in its brands file, run through the batch into a copy of
    the sample store (its embedding cache makes the run quick)."""
    import shutil

    import pandas as pd

    from matcher.batch import run_batch

    root = tmp_path_factory.mktemp("budgeted")
    store = root / "store"
    shutil.copytree(built.store, store)
    brands = pd.read_csv(sample.brands, dtype=str, keep_default_na=False)
    brands["budget"] = [SAMPLE_BUDGETS[i % len(SAMPLE_BUDGETS)] for i in range(len(brands))]
    path = root / "brands.csv"
    brands.to_csv(path, index=False)
    return run_batch(sample.creators, sample.posts, path, store, comments=sample.comments, encoder=encoder, progress=False)
