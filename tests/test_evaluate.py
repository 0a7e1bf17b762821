import json
import math

import pandas as pd
import pytest

from matcher.errors import InputFileError
from matcher.evaluate import EvalError, evaluate, read_qrels, read_run, results_table, run_from_matches

QRELS = "brand_id,creator_id,grade\nb1,c1,2\nb1,c2,1\nb1,c3,0\nb1,c4,0\nb2,c3,1\nb2,c1,0\n"


def _frame(rows, cols=("brand_id", "creator_id", "rank")):
    return pd.DataFrame(rows, columns=list(cols))


@pytest.fixture()
def qrels(tmp_path):
    p = tmp_path / "qrels.csv"
    p.write_text(QRELS)
    return read_qrels(p)


def test_perfect_ranking_scores_one(qrels):
    run = _frame([("b1", "c1", 1), ("b1", "c2", 2), ("b1", "c3", 3), ("b1", "c4", 4), ("b2", "c3", 1), ("b2", "c1", 2)])
    r = evaluate(run, qrels)
    assert r.n_queries == 2
    for m in ("nDCG@10", "R@50", "RR", "AUC"):
        assert r[m] == pytest.approx(1.0)
    assert r["MedR"] == 1.0


def test_values_match_hand_computation(qrels):
    # b1: c3 (0), c2 (1), c1 (2), c4 (0); b2: c1 (0), c3 (1)
    run = _frame([("b1", "c3", 1), ("b1", "c2", 2), ("b1", "c1", 3), ("b1", "c4", 4), ("b2", "c1", 1), ("b2", "c3", 2)])
    r = evaluate(run, qrels)
    per = r.per_query.set_index("brand_id")
    # trec_eval's nDCG: the gain is the grade itself, discounted by log2(rank + 1).
    dcg = 1 / math.log2(3) + 2 / math.log2(4)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert per.loc["b1", "nDCG@10"] == pytest.approx(dcg / idcg, abs=1e-6)
    assert per.loc["b1", "RR"] == pytest.approx(0.5)
    assert per.loc["b2", "RR"] == pytest.approx(0.5)
    # b1: relevant c2 beats c4 only, c1 beats c4 only: 2 of 4 pairs.
    assert per.loc["b1", "AUC"] == pytest.approx(0.5)
    # b2: c3 loses to c1 but beats c2 and c4, which are unjudged for b2 (grade 0) and unranked.
    assert per.loc["b2", "AUC"] == pytest.approx(2 / 3)
    assert per.loc["b1", "MedR"] == 2 and per.loc["b2", "MedR"] == 2
    assert r["RR"] == pytest.approx(0.5)


def test_unranked_creators_tie_below_and_missing_brand_scores_zero(qrels):
    run = _frame([("b1", "c4", 1)])  # b2 not ranked at all
    r = evaluate(run, qrels, universe=["c1", "c2", "c3", "c4", "c5"])
    per = r.per_query.set_index("brand_id")
    assert per.loc["b2", "nDCG@10"] == 0.0 and per.loc["b2", "RR"] == 0.0
    # b2: universe of 5, one relevant, none ranked: AUC one half, expected first rank (5 + 1) / 2.
    assert per.loc["b2", "AUC"] == pytest.approx(0.5)
    assert per.loc["b2", "MedR"] == pytest.approx(3.0)
    # b1: c4 (non-relevant) ranked first; the 2 relevant tie with the 2 unranked non-relevant ones.
    assert per.loc["b1", "AUC"] == pytest.approx((0.5 * 2 * 2) / (2 * 3))
    assert per.loc["b1", "MedR"] == pytest.approx(1 + (4 + 1) / (2 + 1))


def test_a_better_ranking_scores_higher(qrels):
    good = _frame([("b1", "c1", 1), ("b1", "c3", 2), ("b2", "c3", 1)])
    bad = _frame([("b1", "c3", 1), ("b1", "c4", 2), ("b1", "c1", 3), ("b2", "c1", 1), ("b2", "c3", 2)])
    g, b = evaluate(good, qrels), evaluate(bad, qrels)
    for m in ("nDCG@10", "RR", "AUC"):
        assert g[m] > b[m]
    assert g["MedR"] < b["MedR"]


def test_rel_threshold_changes_what_counts(qrels):
    run = _frame([("b1", "c2", 1), ("b1", "c1", 2)])
    # b2 is not ranked: it counts as 0 in the mean.
    assert evaluate(run, qrels)["RR"] == pytest.approx(0.5)
    strict = evaluate(run, qrels, rel=2)
    assert strict.n_queries == 1 and strict["RR"] == pytest.approx(0.5)


def test_no_relevant_labels_is_an_error(tmp_path):
    p = tmp_path / "q.csv"
    p.write_text("brand_id,creator_id,grade\nb1,c1,0\n")
    with pytest.raises(EvalError, match="grade >= 1"):
        evaluate(_frame([("b1", "c1", 1)]), read_qrels(p))


def test_reads_trec_formats_and_scores(tmp_path):
    q = tmp_path / "qrels.txt"
    q.write_text("b1 0 c1 1\nb1 0 c2 0\n")
    r = tmp_path / "run.txt"
    r.write_text("b1 Q0 c2 1 9.5 sys\nb1 Q0 c1 2 3.0 sys\n")
    run = read_run(r)
    assert run.to_dict("list") == {"brand_id": ["b1", "b1"], "creator_id": ["c2", "c1"], "rank": [1, 2]}
    assert evaluate(run, read_qrels(q))["RR"] == pytest.approx(0.5)


def test_run_by_score_breaks_ties_on_creator_id(tmp_path):
    p = tmp_path / "run.tsv"
    p.write_text("brand_id\tcreator_id\tscore\nb1\tz\t0.5\nb1\ta\t0.5\nb1\tm\t0.9\n")
    assert read_run(p)["creator_id"].tolist() == ["m", "a", "z"]


def test_bad_files_say_what_to_fix(tmp_path):
    with pytest.raises(InputFileError, match="not found"):
        read_qrels(tmp_path / "missing.csv")
    p = tmp_path / "q.csv"
    p.write_text("brand_id,creator_id,relevance\nb1,c1,1\n")
    with pytest.raises(InputFileError, match="grade"):
        read_qrels(p)
    p.write_text("brand_id,creator_id,grade\nb1,c1,high\n")
    with pytest.raises(InputFileError, match="row 1: 'grade'"):
        read_qrels(p)
    r = tmp_path / "r.csv"
    r.write_text("brand_id,creator_id\nb1,c1\n")
    with pytest.raises(InputFileError, match="rank or score"):
        read_run(r)


def test_duplicate_labels_keep_the_highest_grade(tmp_path):
    p = tmp_path / "q.csv"
    p.write_text("brand_id,creator_id,grade\nb1,c1,0\nb1,c1,2\n")
    assert read_qrels(p)["grade"].tolist() == [2]


def test_run_from_stored_matches_and_table(qrels):
    matches = pd.DataFrame({"brand_id": ["b1", "b1"], "rank": [2, 1], "creator_id": ["c2", "c1"], "score": [0.5, 0.9], "why": ["", ""]})
    run = run_from_matches(matches)
    assert run["creator_id"].tolist() == ["c1", "c2"]
    table = results_table({"sys": evaluate(run, qrels)})
    assert table.splitlines()[0] == "| system | nDCG@10 | R@50 | MRR | AUC | MedR |"
    assert "| sys |" in table


def test_cli_eval_json_names_measures_as_the_table_does(tmp_path, capsys):
    from matcher.cli import main

    q = tmp_path / "qrels.csv"
    q.write_text(QRELS)
    run = tmp_path / "run.csv"
    _frame([("b1", "c2", 1), ("b1", "c1", 2), ("b2", "c1", 1), ("b2", "c3", 2)]).to_csv(run, index=False)
    assert main(["eval", "--qrels", str(q), "--run", str(run)]) == 0
    header = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("| system"))
    assert main(["eval", "--qrels", str(q), "--run", str(run), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)[str(run)]
    assert [c.strip() for c in header.strip("|").split("|")][1:] == [k for k in scores if k != "queries"]
    assert scores["MRR"] == pytest.approx(0.75) and "RR" not in scores  # b1: 1/1, b2: 1/2


@pytest.mark.slow
def test_cli_eval_scores_the_stored_batch(built, sample, tmp_path, capsys):
    from matcher.cli import main
    from matcher.store import Store

    # Labels from the sample's ground truth: a creator is relevant to a brand of its niche.
    labels = pd.read_csv(sample.labels)
    brand_labels = pd.read_csv(sample.brand_labels)
    niche_col = next(c for c in ("niche", "primary_niche") if c in labels.columns)
    bniche = next(c for c in ("niche", "primary_niche") if c in brand_labels.columns)
    pairs = brand_labels[["brand_id", bniche]].merge(labels[["creator_id", niche_col]], left_on=bniche, right_on=niche_col)
    qrels = pairs.assign(grade=1)[["brand_id", "creator_id", "grade"]]
    qpath = tmp_path / "qrels.csv"
    qrels.to_csv(qpath, index=False)
    export = tmp_path / "run.csv"
    Store(built.store).read_matches().to_csv(export, index=False)
    assert main(["eval", "--store", str(built.store), "--qrels", str(qpath), "--run", str(export), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    stored, from_file = out.values()
    # The exported file holds the same ranking, so it scores the same.
    assert stored["nDCG@10"] == pytest.approx(from_file["nDCG@10"])
    # The sample's niches are easy: matcher's stored matches are mostly on-niche.
    assert stored["nDCG@10"] > 0.8 and stored["MedR"] == 1
    # Only the top 50 per brand are stored; the rest tie below them, which caps AUC.
    assert stored["AUC"] > 0.75
    assert main(["eval", "--qrels", str(qpath)]) == 2
