"""A smoke run of the benchmark's code path (`--quick`): structure only, nothing timed is asserted."""

import json

import pytest

from resnet_core.bench import trainer as bench
from resnet_core.cli import main as cli


@pytest.fixture(scope="module")
def quick_report():
    lines = []
    report = bench.run_benchmark(bench.BenchConfig.quick(device="cpu"), log=lines.append)
    return report, lines


def test_quick_run_measures_every_variant(quick_report):
    report, lines = quick_report
    assert report.steps == 2 and len(report.results) == 1
    result = report.results[0]
    assert result.model == "ResNet-20" and result.params > 0
    assert list(result.rates) == list(bench.VARIANTS) == ["trainer", "probes", "raw", "textbook"]
    assert all(len(rates) == 1 and rates[0] > 0 for rates in result.rates.values())
    assert len(result.responses_seconds) == 1 and result.responses_seconds[0] > 0
    assert len(result.grad_norm_seconds) == 1 and result.grad_norm_seconds[0] > 0
    assert set(result.summary) == {
        "trainer_vs_raw",
        "trainer_vs_textbook",
        "probes_measured_pct",
        "grad_norms_pct",
        "responses_pct",
        "probe_overhead_pct",
        "epoch_seconds_50k",
    }
    assert any("repeat 1/1" in line for line in lines)


def test_report_is_json_and_a_table(quick_report):
    report, _ = quick_report
    data = json.loads(json.dumps(report.to_dict()))
    assert data["machine"]["cores"] >= 1 and data["machine"]["torch"]
    assert data["results"][0]["medians"].keys() == set(bench.VARIANTS)
    table = bench.format_report(report)
    assert "ResNet-20" in table and "trainer" in table and "textbook" in table and "tr/raw" in table


def test_cli_bench_prints_the_table_or_json(quick_report, monkeypatch, capsys):
    seen = {}

    def fake_run(config, log=print):
        seen["config"] = config
        return quick_report[0]

    monkeypatch.setattr(bench, "run_benchmark", fake_run)
    assert cli.main(["bench", "--quick", "--device", "cpu", "--models", "20,56", "--steps", "3"]) == 0
    assert seen["config"].models == (20, 56) and seen["config"].steps == 3 and seen["config"].repeats == 1
    assert "tr/text" in capsys.readouterr().out
    assert cli.main(["bench", "--json"]) == 0
    assert seen["config"] == bench.BenchConfig()
    assert json.loads(capsys.readouterr().out)["steps"] == 2


def test_cli_needs_a_command():
    with pytest.raises(SystemExit):
        cli.main([])
