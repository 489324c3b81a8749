#!/usr/bin/env python3
"""The dashboard in a real headless browser (Debian's chromium + chromedriver, selenium from PyPI).

Starts a real prostudio-daemon with the API on a loopback port, submits a job through the dashboard's form, waits
for the job table (live from /v1/events) to show it `done`, opens the job page and checks that the player's video
loads (metadata read by the browser, a Range request answered 206). Keeps a screenshot of each page.

    .venv-api/bin/python Tests/Browser/dashboard_test.py --bin .build/debug --screenshot .build/artifacts/dashboard.png

Without chromium the test fails when CI=true and says it was skipped otherwise.
"""
import argparse, os, shutil, socket, subprocess, sys, tempfile, time

MANIFEST = """title: Browser
seed: 5
output: {aspect: "16:9", height: 240, fps: 15, quality: draft}
voice: {engine: espeak, voice: en-us}
visuals: {engine: procedural}
music: {engine: procedural, mood: calm}
scenes:
  - narration: Submitted from a headless browser.
"""


def unavailable(why):
    if os.environ.get("CI") == "true":
        sys.exit(f"dashboard test: FAILED: {why}")
    print(f"dashboard test: skipped: {why}")
    sys.exit(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=".build/debug")
    ap.add_argument("--screenshot", default=".build/artifacts/dashboard.png")
    args = ap.parse_args()
    chromium = shutil.which("chromium")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        unavailable("chromium and chromedriver are needed (apt-get install chromium chromium-driver; scripts/setup does)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait
    except ImportError:
        unavailable("selenium is needed (scripts/setup installs it into .venv-api)")

    root = tempfile.mkdtemp(prefix="prostudio-dashboard-")
    for d in ("inbox", "outbox", "state"):
        os.makedirs(os.path.join(root, d))
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    log = open(os.path.join(root, "daemon.log"), "w")
    daemon = subprocess.Popen([os.path.join(args.bin, "prostudio-daemon"), "--inbox", f"{root}/inbox", "--outbox", f"{root}/outbox",
                               "--state", f"{root}/state", "--worker", os.path.abspath(os.path.join(args.bin, "prostudio")),
                               "--api", f"127.0.0.1:{port}"], stderr=log)
    base = f"http://127.0.0.1:{port}"
    browser = None
    ok = False
    try:
        import urllib.request
        for _ in range(200):
            try:
                if urllib.request.urlopen(base + "/readyz").status == 200:
                    break
            except Exception:
                time.sleep(0.1)
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900",
                     "--autoplay-policy=no-user-gesture-required"):
            options.add_argument(flag)
        browser = webdriver.Chrome(service=Service(driver), options=options)
        browser.set_page_load_timeout(60)
        browser.get(base + "/")
        assert "ProStudio" in browser.title, browser.title
        browser.find_element(By.ID, "name").send_keys("browser")
        browser.find_element(By.ID, "manifest-text").send_keys(MANIFEST)
        browser.find_element(By.ID, "submit-button").click()
        errors = browser.find_element(By.ID, "errors")
        WebDriverWait(browser, 30).until(lambda b: errors.get_attribute("data-job") or "problem" in errors.text)
        job = errors.get_attribute("data-job")
        assert job, f"the form was refused: {errors.text}"
        print(f"dashboard test: submitted job {job}")
        # The table follows /v1/events: the row appears and reaches done without a reload.
        row = f'tr[data-id="{job}"]'
        WebDriverWait(browser, 240, poll_frequency=0.5).until(
            lambda b: b.find_elements(By.CSS_SELECTOR, row) and b.find_element(By.CSS_SELECTOR, row + " td.state").text in ("done", "failed", "rejected"))
        state = browser.find_element(By.CSS_SELECTOR, row + " td.state").text
        assert state == "done", f"the job ended {state}; daemon log: {open(log.name).read()[-2000:]}"
        os.makedirs(os.path.dirname(os.path.abspath(args.screenshot)), exist_ok=True)
        browser.save_screenshot(args.screenshot.replace(".png", "-table.png"))

        browser.get(f"{base}/jobs/{job}")
        video = browser.find_element(By.ID, "player")
        assert video.get_attribute("src").endswith(f"/v1/jobs/{job}/video")
        # The browser itself loads the source: metadata read means the MP4 was fetched and parsed.
        WebDriverWait(browser, 30).until(lambda b: b.execute_script("return document.getElementById('player').readyState") >= 1)
        duration = browser.execute_script("return document.getElementById('player').duration")
        assert duration and duration > 0.5, f"video duration {duration}"
        status = browser.execute_script(
            "return fetch(document.getElementById('player').src, {headers: {Range: 'bytes=0-15'}}).then(r => r.status)")
        assert status == 206, f"Range request answered {status}"
        tracks = browser.execute_script("return document.querySelectorAll('#player track').length")
        assert tracks == 1, "no captions track"
        browser.execute_script("document.getElementById('player').currentTime = 0.8")
        time.sleep(1.0)
        browser.save_screenshot(args.screenshot)
        print(f"dashboard test: passed (video {duration:.2f} s); screenshots {args.screenshot}")
        ok = True
    finally:
        if browser:
            browser.quit()
        daemon.terminate()
        daemon.wait(timeout=30)
        if ok:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"dashboard test: FAILED; daemon folders kept in {root}", file=sys.stderr)


if __name__ == "__main__":
    main()
