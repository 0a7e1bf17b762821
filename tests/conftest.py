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


@pytest.fixture(scope="session")
def s3(tmp_path_factory):
    """A moto S3 server on a free loopback port, with the AWS variables s3fs reads pointing at it,
    and the bucket ``matcher-test``; yields an s3fs file system on it. Skips without the ``s3``
    extra (s3fs) or moto's server mode."""
    import logging

    pytest.importorskip("s3fs", reason="the s3 extra is not installed: pip install 'matcher[s3]'")
    moto_server = pytest.importorskip("moto.server", reason="moto's server mode is not installed: pip install 'moto[server]'")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        # moto accepts any key; these name no real account.
        "AWS_ACCESS_KEY_ID": "moto", "AWS_SECRET_ACCESS_KEY": "moto", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        # Stores opened without a work directory put theirs here, not in the user's cache.
        "XDG_CACHE_HOME": str(tmp_path_factory.mktemp("xdg-cache")),
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    import fsspec

    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    fs.mkdir("matcher-test")
    try:
        yield fs
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        server.stop()


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
