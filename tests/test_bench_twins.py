"""A smoke run of the twins benchmark (`bench --twins --quick`): its processes start, train and report;
nothing timed is asserted."""

import json

import pytest

from resnet_core.bench.twins import BASELINE, TwinsConfig, format_twins_report, run_twins_benchmark
from resnet_core.cli import main as cli


def test_a_quick_run_measures_the_pair_both_ways():
    lines = []
    report = run_twins_benchmark(TwinsConfig.quick(), ways=("side by side",), log=lines.append)
    assert list(report.rates) == [BASELINE, "side by side"]
    assert all(len(rates) == 1 and rates[0] > 0 for rates in report.rates.values())
    assert report.ratio(BASELINE) == 1.0
    data = json.loads(json.dumps(report.to_dict()))
    assert data["machine"]["cores"] >= 1 and set(data["ratios"]) == {BASELINE, "side by side"}
    table = format_twins_report(report)
    assert "ResNet-8" in table and "side by side" in table and "vs one after another" in table
    assert any("repeat 1/1" in line for line in lines)


def test_an_unknown_way_is_refused():
    with pytest.raises(ValueError, match="unknown way"):
        run_twins_benchmark(TwinsConfig.quick(), ways=("sideways",))


def test_the_cli_takes_one_depth(capsys):
    assert cli.main(["bench", "--twins", "--models", "20,56"]) == 2
    assert "one depth" in capsys.readouterr().err
