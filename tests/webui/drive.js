// tests/webui/drive.js — drives reelgate's web UI in headless Chromium
// (playwright-core) like a person would: sign in with the keyboard, add a
// torrent through the form, see it listed, play it, change a live setting.
//   node drive.js BASE_URL API_KEY MAGNET TITLE SHOT_DIR
// Prints "ok - …" / "not ok - …" lines, "shot: PATH" for each screenshot
// and "console error: …" for every console error or page error (the shell
// test fails on any). Exit 77 when Chromium cannot start.
const { chromium } = require('playwright-core');

const [base, key, magnet, title, shotDir] = process.argv.slice(2);
const exe = process.env.CHROMIUM || '/usr/bin/chromium';
const results = [];
const say = (ok, what) => { results.push(ok); console.log((ok ? 'ok - ' : 'not ok - ') + what); };

async function step(what, fn) {
  try {
    const extra = await fn();
    say(true, what + (extra ? ' (' + extra + ')' : ''));
    return true;
  } catch (e) {
    say(false, what + ': ' + String(e.message).split('\n')[0]);
    return false;
  }
}

(async () => {
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: exe, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
             '--disable-quic', '--no-first-run', '--disable-component-update',
             '--disable-sync', '--autoplay-policy=no-user-gesture-required', '--mute-audio'],
    });
  } catch (e) {
    console.log('SKIP: chromium did not start: ' + String(e.message).split('\n')[0]);
    process.exit(77);
  }
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await ctx.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.log('console error: ' + m.text()); });
  page.on('pageerror', (e) => console.log('console error: page error: ' + e.message));
  const shot = async (name) => {
    const p = shotDir + '/webui-' + name + '.png';
    await page.screenshot({ path: p, fullPage: !name.startsWith('settings') });
    console.log('shot: ' + p);
  };
  const noHScroll = async (view) => {
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    if (w > 375) {
      const culprit = await page.evaluate(() => {
        const wide = Array.from(document.querySelectorAll('body *'))
          .filter((e) => e.getBoundingClientRect().right > 376 && e.offsetParent !== null);
        const e = wide[wide.length - 1];
        return e ? e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + e.className : '?';
      });
      throw new Error(view + ' is ' + w + ' px wide at 375 px (widest: ' + culprit + ')');
    }
  };
  const visible = (sel) => page.waitForSelector(sel, { state: 'visible', timeout: 15000 });

  await step('the page loads without the key and asks for it', async () => {
    await page.goto(base + '/');
    await visible('#login-key');
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
    if (focused !== 'login-key') throw new Error('focus is on ' + focused);
  });
  await step('sign in with the keyboard alone (type the key, Enter)', async () => {
    await page.keyboard.type(key);
    await page.keyboard.press('Enter');
    await visible('#view-dashboard');
    await page.waitForFunction(() => document.querySelectorAll('#tiles .tile').length >= 8, null, { timeout: 10000 });
  });
  await step('after a reload the key is kept for the tab, and the skip link is the first Tab stop', async () => {
    await page.reload();
    await visible('#view-dashboard');
    await page.keyboard.press('Tab');
    const t = await page.evaluate(() => document.activeElement.className);
    if (t !== 'skip') throw new Error('first Tab stop: ' + t);
  });
  let hash = '';
  await step('add a torrent through the form (magnet and title)', async () => {
    await page.click('#nav a[data-view=torrents]');
    await visible('#add-link');
    await page.fill('#add-link', magnet);
    await page.fill('#add-title', title);
    await page.focus('#add-title');
    await page.keyboard.press('Enter');
    const li = await page.waitForSelector('#torrents li[data-hash]', { timeout: 15000 });
    hash = await li.getAttribute('data-hash');
    return hash;
  });
  await step('it is listed with its title, and its file once metadata arrives', async () => {
    await page.waitForFunction((t) => Array.from(document.querySelectorAll('#torrents li[data-hash] .title'))
      .some((e) => e.textContent === t), title, { timeout: 10000 });
    await page.waitForSelector('#torrents li[data-hash] .files li', { timeout: 30000 });
  });
  let mode = '';
  await step('the player plays it and playback advances past 2 s', async () => {
    await page.click('#torrents li[data-hash] .files li button:has-text("Play")');
    await visible('#view-play');
    await page.waitForFunction(() => document.querySelector('#video').currentTime > 2, null,
      { timeout: 45000, polling: 250 });
    mode = await page.evaluate(() => document.querySelector('#video').dataset.mode);
    const t = await page.evaluate(() => document.querySelector('#video').currentTime.toFixed(1));
    return 'through ' + mode + ', currentTime ' + t + ' s';
  });
  console.log('player mode: ' + mode);
  await shot('player-1440');
  await step('change a live setting (download_limit_kbps = 4321) in the control panel', async () => {
    await page.click('#nav a[data-view=settings]');
    await visible('#set-download_limit_kbps');
    await page.fill('#set-filter', 'download_limit');
    await page.fill('#set-download_limit_kbps', '4321');
    await page.click('#set-save');
    await page.waitForFunction(() => /Applied now: .*download_limit_kbps/.test(document.querySelector('#set-status').textContent),
      null, { timeout: 10000 });
  });
  await step('an out-of-range value is refused next to its field', async () => {
    await page.fill('#set-filter', 'upload_limit');
    await page.fill('#set-upload_limit_kbps', '-5');
    await page.click('#set-save');
    await page.waitForFunction(() => document.querySelector('#set-upload_limit_kbps').getAttribute('aria-invalid') === 'true' &&
      document.querySelector('#set-upload_limit_kbps-err').textContent.length > 0, null, { timeout: 5000 });
    await page.fill('#set-upload_limit_kbps', '0');
    await page.fill('#set-filter', '');
  });
  await shot('settings-1440');
  await step('the dashboard shows the torrent, the graph and the system panel at 1440 px', async () => {
    await page.click('#nav a[data-view=dashboard]');
    await page.waitForFunction((t) => document.querySelector('#dash-torrents').textContent.includes(t) &&
      document.querySelector('#system').textContent.includes('%'), title, { timeout: 15000 });
  });
  await shot('dashboard-1440');
  await page.setViewportSize({ width: 375, height: 812 });
  await page.waitForTimeout(300);
  for (const v of ['dashboard', 'torrents', 'settings']) {
    await step('usable at 375 px: ' + v + ' has no horizontal scroll', async () => {
      await page.evaluate((x) => { location.hash = '#/' + x; }, v);
      await visible('#view-' + v);
      await page.waitForTimeout(v === 'settings' ? 800 : 400);
      await noHScroll(v);
      await shot(v + '-375');
    });
  }
  await browser.close();
  process.exit(results.every(Boolean) ? 0 : 1);
})().catch((e) => { console.log('not ok - driver: ' + e.message); process.exit(1); });
