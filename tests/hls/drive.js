// tests/hls/drive.js — drives headless Chromium (playwright-core) through
// player.html and keeps a screenshot.
//   node drive.js PAGE_URL SCREENSHOT_PNG TIMEOUT_S
// Prints the page's log and its verdict; exit 0 on PASS, 3 on NODECODE
// (probe.html: parsed, but this browser cannot decode the codec), 1 on
// FAIL or timeout, 77 when Chromium cannot start.
const { chromium } = require('playwright-core');

const [pageUrl, shot, timeoutS] = process.argv.slice(2);
const exe = process.env.CHROMIUM || '/usr/bin/chromium';

(async () => {
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: exe,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
             '--disable-quic', '--no-first-run', '--disable-component-update',
             '--disable-sync', '--autoplay-policy=no-user-gesture-required',
             '--mute-audio'],
    });
  } catch (e) {
    console.log('SKIP: chromium did not start: ' + String(e.message).split('\n')[0]);
    process.exit(77);
  }
  let rc = 1;
  try {
    const page = await browser.newPage({ viewport: { width: 640, height: 600 } });
    page.on('console', (m) => console.log('# page: ' + m.text()));
    page.on('pageerror', (e) => console.log('# page error: ' + e.message));
    await page.goto(pageUrl);
    try {
      await page.waitForFunction(() => window.verdict, null,
                                 { timeout: Number(timeoutS) * 1000, polling: 200 });
    } catch (e) {
      console.log('# timed out waiting for the verdict');
    }
    const verdict = await page.evaluate(() => window.verdict ||
      'FAIL timeout at currentTime ' + document.querySelector('video').currentTime);
    await page.screenshot({ path: shot });
    console.log(verdict);
    rc = verdict.startsWith('PASS') ? 0 : verdict.startsWith('NODECODE') ? 3 : 1;
  } catch (e) {
    console.log('FAIL driver: ' + e.message);
  }
  await browser.close();
  process.exit(rc);
})();
