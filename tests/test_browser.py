"""The rendered pages in a real headless Chromium: scores visible, images decoded, student
text inert, links between summary and feedback working, and the page not blank."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import matplotlib.image
import pytest
from result_factory import make_result, passing_checks

from autograder.report import feedback, summary

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="needs Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)",
)

HOSTILE = "<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\">{{ 7*7 }}"


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One headless Chromium for the module, with a fresh profile and no network chatter."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tmp_path_factory.mktemp("chromium-profile")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", f"--user-data-dir={profile}", "--window-size=1200,1600",
    ):
        options.add_argument(flag)
    # An explicit driver path keeps Selenium Manager from looking for one online.
    browser = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)),
                               options=options)
    browser.set_page_load_timeout(60)
    try:
        yield browser
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A graded class: feedback pages for three submissions and the overview."""
    out = tmp_path_factory.mktemp("reports")
    results = [
        make_result("alice", answer={"text": HOSTILE, "comment": None}),
        make_result("bob smith", checks=passing_checks(), manual_score=8.0),
        make_result("carol", sandbox={"layer": "none", "detail": "bwrap missing"}),
    ]
    for result in results:
        feedback.render_feedback(result, out / result["submission"])
    summary.render_summary(results, out)
    return out


def all_images_decoded(driver) -> bool:
    return driver.execute_script(
        "const imgs = Array.from(document.images);"
        "return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0);"
    )


def assert_not_blank(driver, path: Path) -> None:
    png = driver.get_screenshot_as_png()
    path.write_bytes(png)
    pixels = matplotlib.image.imread(io.BytesIO(png), format="png")
    assert pixels.shape[0] > 500 and pixels.shape[1] > 500
    assert pixels[..., :3].std() > 0.02, "the screenshot is (nearly) one flat colour"


def test_feedback_page_in_chromium(driver, site: Path, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    driver.get((site / "alice" / "feedback.html").as_uri())
    assert driver.title == "hw1 feedback: alice"
    assert driver.find_element(By.ID, "total-score").text == "41"
    body = driver.find_element(By.TAG_NAME, "body").text
    assert "Recognised mistake: Adam without bias correction" in body
    assert "How to fix:" in body
    images = driver.find_elements(By.TAG_NAME, "img")
    assert [i.get_attribute("alt") for i in images] == [
        "Forward pass: outputs per sample", "Adam: loss per step"]
    assert all_images_decoded(driver)
    answers = driver.find_element(By.CSS_SELECTOR, ".handed-in.answer").text
    assert answers == HOSTILE  # rendered as Markdown: the HTML in it is text
    assert driver.execute_script("return window.__pwned === undefined")
    assert not driver.find_element(By.TAG_NAME, "details").get_attribute("open")
    assert_not_blank(driver, tmp_path / "feedback.png")


MARKDOWN_ANSWER = (
    "1. Adam converges **faster** than SGD.\n"
    "2. See [the paper](https://arxiv.org/abs/1412.6980) and [this](javascript:window.__pwned=3).\n\n"
    "| optimizer | steps |\n| --- | ---: |\n| Adam | 40 |\n\n"
    "<b>not bold</b> ![tracker](https://example.org/pixel.png)\n"
)


def test_answers_are_rendered_as_markdown_without_html(driver, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    result = make_result("dora", answer={"text": MARKDOWN_ANSWER, "comment": None})
    feedback.render_feedback(result, tmp_path / "dora")
    driver.get((tmp_path / "dora" / "feedback.html").as_uri())
    answer = driver.find_element(By.CSS_SELECTOR, ".handed-in.answer")
    items = answer.find_elements(By.CSS_SELECTOR, "ol > li")
    assert [i.text.split(" ")[0] for i in items] == ["Adam", "See"]
    assert answer.find_element(By.TAG_NAME, "strong").text == "faster"
    assert [c.text for c in answer.find_elements(By.CSS_SELECTOR, "table td")] == ["Adam", "40"]
    links = answer.find_elements(By.TAG_NAME, "a")
    assert [a.get_attribute("href") for a in links] == [
        "https://arxiv.org/abs/1412.6980", "https://example.org/pixel.png"]
    assert "[this](javascript:window.__pwned=3)" in answer.text
    assert "<b>not bold</b>" in answer.text and not answer.find_elements(By.TAG_NAME, "b")
    assert not answer.find_elements(By.TAG_NAME, "img")
    assert driver.execute_script("return window.__pwned === undefined")


def test_unsandboxed_feedback_shows_the_alarm(driver, site: Path) -> None:
    from selenium.webdriver.common.by import By

    driver.get((site / "carol" / "feedback.html").as_uri())
    alarm = driver.find_element(By.CSS_SELECTOR, ".alarm")
    assert alarm.is_displayed() and "WITHOUT a sandbox" in alarm.text
    assert alarm.location["y"] < 400, "the warning must be near the top of the page"


def test_summary_page_in_chromium(driver, site: Path, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    driver.get((site / "summary.html").as_uri())
    body = driver.find_element(By.TAG_NAME, "body").text
    assert "3 submissions" in body
    assert "Adam without bias correction" in body
    assert "1 submission was run WITHOUT a sandbox" in body
    assert all_images_decoded(driver)
    assert_not_blank(driver, tmp_path / "summary.png")
    driver.find_element(By.LINK_TEXT, "bob smith").click()
    assert driver.title == "hw1 feedback: bob smith"
    assert driver.find_element(By.ID, "total-score").text == "98"
