"""Issue 15.9 in a real browser: after choosing all six methods and "all" signs, uploading a second image
(which replaces the first) left the controls at their defaults while the figure showed six signed maps."""

import pytest
from PIL import Image

import resnet_core as rc
from conftest import browser_page, serve_app, wait_for_app
from resnet_core.execution.worker import execute_run
from resnet_core.store.run_store import RunStore
from resnet_core.training.train import TrainConfig

pytestmark = pytest.mark.browser
TILES = "() => [...document.querySelectorAll('.js-plotly-plot')].pop().data.filter(t => t.type === 'image').length"


def test_a_second_upload_keeps_the_controls_and_the_figure_in_step(browser, shapes_root, tmp_path):
    store = RunStore(tmp_path / "runs")
    config = TrainConfig(epochs=1, batch_size=100, device="cpu").to_dict()
    config.update(train_size=300, test_size=100, data_dir=str(shapes_root))
    run_id = store.create(rc.NetSpec(depth=8, width=8), config, dataset="shapes", status="queued")
    assert execute_run(store, run_id) == "completed"
    files = []
    for i, color in enumerate([(200, 40, 40), (40, 40, 200), (40, 200, 40)]):
        files.append(tmp_path / f"upload-{i}.png")
        Image.new("RGB", (40, 40), color).save(files[-1])
    with serve_app(tmp_path / "runs", shapes_root, tmp_path / "streamlit.log") as url:
        with browser_page(browser, 180_000, viewport={"width": 1400, "height": 1200}) as page:
            page.goto(f"{url}/explain")
            wait_for_app(page)
            methods = page.locator("[data-testid=stMultiSelect]").first
            for label in ["SmoothGrad", "Guided backprop", "Occlusion"]:
                methods.locator("input").first.click()
                page.keyboard.type(label)
                page.keyboard.press("Enter")
                page.keyboard.press("Escape")
                wait_for_app(page)
            page.get_by_text("all (green raises, magenta lowers)").click()
            wait_for_app(page)
            page.get_by_text("Upload", exact=True).click()
            wait_for_app(page)
            for path in files:  # each replaces the one before
                page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(path))
                wait_for_app(page)
                page.wait_for_timeout(1000)
                wait_for_app(page)
                chosen = methods.inner_text()
                assert all(m in chosen for m in ("SmoothGrad", "Guided backprop", "Occlusion")), chosen
                assert (
                    page.locator("[data-testid=stRadio] input:checked")
                    .evaluate_all("els => els.map(e => e.closest('label').innerText)")[-1]
                    .startswith("all")
                )
                assert page.evaluate(TILES) == 1 + 6  # the input and six maps: as the controls say
