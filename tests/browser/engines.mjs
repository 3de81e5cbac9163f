// One driver layer over the three browser engines, so that the same test
// bodies run in each (tests/browser/*.test.mjs):
//
//   chromium    Debian's chromium (V8, Blink)        playwright-core (CDP)
//   firefox     Debian's firefox-esr (SpiderMonkey)  puppeteer-core (WebDriver BiDi)
//   webkit      Debian's WebKitGTK MiniBrowser (JavaScriptCore), by WebKitWebDriver
//               under Xvfb, over plain WebDriver HTTP (no client library)
//   webkit-sab  the same with JSC_useSharedArrayBuffer=1 in the driver's environment
//
// Every engine is headless (Xvfb is WebKitGTK's display: it has no headless
// mode). BROWSER_ENGINES=firefox,webkit (comma-separated) picks some; the
// default is all four. Each launch() resolves to an Engine:
//   { name, label, version, newPage(), close() }
// and newPage() to a Page with the same methods whatever drives it:
//   goto(url), evaluate(fn, arg), waitFor(fn, arg, { timeout }), click(css),
//   fill(css, value), setInputFiles(css, { name, mimeType, buffer }),
//   screenshot(path), close().
// evaluate() sends fn's source text to the page: fn may be async, must not
// use variables from Node's side, takes one JSON argument and returns JSON.
// A failure says which engine it came from.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// The flags TOOLCHAIN.md lists: without the networking ones Chromium keeps
// trying hosts this machine cannot reach.
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const VIEWPORT = { width: 1360, height: 1000 };
const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

function firstExisting(what, candidates, install) {
  const found = candidates.filter(Boolean).find((p) => existsSync(p));
  if (!found) throw new Error(`no ${what} (looked at ${candidates.filter(Boolean).join(', ')}): ${install}`);
  return found;
}

/**
 * What each engine should do with this library, stated once for the tests:
 * threadsWhenIsolated - a cross-origin isolated page gets SharedArrayBuffer,
 *   so init() picks the threaded build;
 * sabWithoutIsolation - SharedArrayBuffer exists even on a page that is not
 *   isolated (init() must still pick the single-thread build there);
 * relaxedSimd - the engine validates relaxed SIMD, so the threaded build it
 *   gets is the relaxed-SIMD one (WebKitGTK has it only with
 *   JSC_useWasmRelaxedSIMD=1, which these tests do not set).
 */
export const ENGINES = {
  chromium: { label: 'Chromium', threadsWhenIsolated: true, sabWithoutIsolation: false, relaxedSimd: true, launch: launchChromium },
  firefox: { label: 'Firefox', threadsWhenIsolated: true, sabWithoutIsolation: false, relaxedSimd: true, launch: launchFirefox },
  // WebKitGTK by default reports crossOriginIsolated === true on an isolated
  // page but has no SharedArrayBuffer: init() must fall back to one thread.
  webkit: { label: 'WebKit', threadsWhenIsolated: false, sabWithoutIsolation: false, relaxedSimd: false, launch: () => launchWebKit(false) },
  // JSC_useSharedArrayBuffer=1 is a JavaScriptCore option that WebKitGTK
  // needs to expose SharedArrayBuffer at all (and it then exposes it on every
  // page). It is a property of this port: Safari exposes SharedArrayBuffer
  // to cross-origin isolated pages without any setting.
  'webkit-sab': {
    label: 'WebKit (JSC_useSharedArrayBuffer=1)',
    threadsWhenIsolated: true,
    sabWithoutIsolation: true,
    relaxedSimd: false,
    launch: () => launchWebKit(true),
  },
};

/** The threaded build init() should choose in an engine with SharedArrayBuffer. */
export function threadedBackend(engine) {
  return engine.relaxedSimd ? 'wasm-relaxed-simd-threads' : 'wasm-simd-threads';
}

/** The engines to test: BROWSER_ENGINES, or all. */
export function selectedEngines() {
  const names = (process.env.BROWSER_ENGINES || Object.keys(ENGINES).join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names) {
    if (!ENGINES[n]) throw new Error(`BROWSER_ENGINES: unknown engine '${n}' (known: ${Object.keys(ENGINES).join(', ')})`);
  }
  return names;
}

/** Starts an engine by name; errors say which. */
export async function launchEngine(name) {
  const spec = ENGINES[name];
  try {
    const engine = await spec.launch();
    return { name, label: spec.label, ...spec, ...engine };
  } catch (e) {
    throw new Error(`${spec.label}: could not start: ${e.message}`, { cause: e });
  }
}

const withTimeout = (promise, ms) =>
  Promise.race([promise, new Promise((resolve) => setTimeout(resolve, ms).unref())]);

/** Polls fn in the page until it returns something truthy; returns that. */
async function pollFor(page, label, fn, arg, { timeout = 60000, interval = 100 } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await page.evaluate(fn, arg);
    if (v) return v;
    if (Date.now() > end) throw new Error(`${label}: timed out after ${timeout} ms waiting for ${String(fn).slice(0, 160)}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

// Sets a form control's value as a user's input would (input and change
// events), the same way in every engine.
function fillInPage({ selector, value }) {
  const el = document.querySelector(selector);
  if (!el) throw new Error(`no element ${selector}`);
  el.value = String(value);
  el.dispatchEvent(new Event('input', { bubbles: true }));
  el.dispatchEvent(new Event('change', { bubbles: true }));
  return true;
}

function tempFile(name, buffer) {
  const dir = mkdtempSync(join(tmpdir(), 'ctw-upload-'));
  const path = join(dir, name);
  writeFileSync(path, buffer);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function reportPageErrors(label, page) {
  page.on('pageerror', (e) => console.error(`[${label} page error] ${e.message}`));
  page.on('console', (m) => {
    const type = typeof m.type === 'function' ? m.type() : m.type;
    if (type === 'error') console.error(`[${label} console.error] ${m.text()}`);
  });
}

/** A Playwright or Puppeteer page (they are called the same way here) as a Page. */
function commonPage(page, label, own) {
  const p = {
    goto: (url) => page.goto(url).then(() => undefined),
    evaluate: (fn, arg) => page.evaluate(fn, arg),
    waitFor: (fn, arg, opts) => pollFor(p, label, fn, arg, opts),
    click: (selector) => page.click(selector),
    fill: (selector, value) => page.evaluate(fillInPage, { selector, value }),
    screenshot: (path) => page.screenshot({ path, fullPage: true }),
    close: () => page.close(),
    ...own,
  };
  return p;
}

// ------------------------------------------------------------- Chromium

export function chromiumPath() {
  return firstExisting(
    'Chromium',
    [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'],
    'apt-get install -y chromium (or set CHROMIUM_PATH)'
  );
}

async function launchChromium() {
  const executablePath = chromiumPath();
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: VIEWPORT });
  const label = 'Chromium';
  return {
    version: `Chromium ${browser.version()}`,
    async newPage() {
      const page = await context.newPage();
      reportPageErrors(label, page);
      return commonPage(page, label, { setInputFiles: (selector, file) => page.setInputFiles(selector, file) });
    },
    async close() {
      await withTimeout(context.close().catch(() => {}), 10000);
      await withTimeout(browser.close().catch(() => {}), 10000);
    },
  };
}

// -------------------------------------------------------------- Firefox

async function launchFirefox() {
  const executablePath = firstExisting(
    'Firefox',
    [process.env.FIREFOX_PATH, '/usr/bin/firefox-esr', '/usr/bin/firefox'],
    'apt-get install -y firefox-esr (or set FIREFOX_PATH)'
  );
  const puppeteer = require('puppeteer-core');
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath,
    headless: true,
    // No updates, telemetry or other traffic to hosts this machine cannot reach.
    extraPrefsFirefox: {
      'app.update.enabled': false,
      'browser.safebrowsing.malware.enabled': false,
      'browser.safebrowsing.phishing.enabled': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      'network.captive-portal-service.enabled': false,
      'network.connectivity-service.enabled': false,
    },
  });
  const label = 'Firefox';
  return {
    version: `Firefox ${(await browser.version()).replace(/^firefox\//, '')}`,
    async newPage() {
      const page = await browser.newPage();
      await page.setViewport(VIEWPORT);
      reportPageErrors(label, page);
      // Files given to the page stay until it closes: the page reads them later.
      const uploads = [];
      return commonPage(page, label, {
        async setInputFiles(selector, { name, buffer }) {
          const f = tempFile(name, buffer);
          uploads.push(f);
          const handle = await page.$(selector);
          if (!handle) throw new Error(`no element ${selector}`);
          await handle.uploadFile(f.path);
        },
        async close() {
          await page.close();
          uploads.splice(0).forEach((f) => f.remove());
        },
      });
    },
    async close() {
      await withTimeout(browser.close().catch(() => {}), 15000);
    },
  };
}

// --------------------------------------------------------------- WebKit

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

async function launchWebKit(sharedArrayBuffer) {
  const label = sharedArrayBuffer ? 'WebKit (JSC_useSharedArrayBuffer=1)' : 'WebKit';
  const driverPath = firstExisting('WebKitWebDriver', ['/usr/bin/WebKitWebDriver'], 'apt-get install -y webkit2gtk-driver');
  firstExisting('xvfb-run', ['/usr/bin/xvfb-run'], 'apt-get install -y xvfb xauth');
  const binary = firstExisting('MiniBrowser', [process.env.MINIBROWSER_PATH, MINIBROWSER], 'apt-get install -y webkit2gtk-driver');
  const env = { ...process.env };
  // Xvfb has no GPU: WebKitGTK's DMA-BUF renderer then paints the example
  // page at about 10 frames a second (a blank page at 60); its other
  // renderer keeps up. Painting only: the page's JavaScript is the same.
  env.WEBKIT_DISABLE_DMABUF_RENDERER = '1';
  delete env.JSC_useSharedArrayBuffer;
  // See ENGINES['webkit-sab']: a property of WebKitGTK, not of Safari.
  if (sharedArrayBuffer) env.JSC_useSharedArrayBuffer = '1';
  const port = await freePort();
  // Its own process group, so that close() ends xvfb-run, Xvfb, the driver
  // and the browser it started together (and nothing else).
  const driver = spawn(
    'xvfb-run',
    ['-a', '-s', '-screen 0 1400x1100x24', driverPath, `--port=${port}`, '--host=127.0.0.1'],
    { env, detached: true, stdio: ['ignore', 'ignore', 'pipe'] }
  );
  let driverLog = '';
  driver.stderr.on('data', (d) => (driverLog = (driverLog + d).slice(-4000)));
  // Ends the group when this process ends too, also when it is stopped by a
  // signal (scripts/test-browser.sh's time limit): the group would outlive it.
  const onSignal = (signal) => {
    stopDriver();
    process.kill(process.pid, signal);
  };
  const stopDriver = () => {
    process.off('exit', stopDriver);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    try {
      process.kill(-driver.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  };
  process.once('exit', stopDriver);
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const base = `http://127.0.0.1:${port}`;

  async function call(method, path, body) {
    let res;
    try {
      res = await fetch(base + path, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new Error(`${label}: WebDriver ${method} ${path}: ${e.message}${driverLog ? `\n${driverLog}` : ''}`);
    }
    const json = await res.json().catch(() => ({}));
    if (!res.ok) {
      const v = json.value || {};
      throw new Error(`${label}: WebDriver ${method} ${path}: ${v.error || res.status}: ${v.message || JSON.stringify(json)}`);
    }
    return json.value;
  }

  try {
    for (let i = 0; ; i++) {
      try {
        const s = await fetch(base + '/status');
        if (s.ok) break;
      } catch {
        /* not up yet */
      }
      if (driver.exitCode !== null || i > 150) throw new Error(`WebKitWebDriver did not start: ${driverLog}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const session = await call('POST', '/session', {
      capabilities: {
        alwaysMatch: {
          browserName: 'MiniBrowser',
          'webkitgtk:browserOptions': { binary, args: ['--automation'] },
        },
      },
    });
    const sid = `/session/${session.sessionId}`;
    await call('POST', `${sid}/timeouts`, { script: 600000, pageLoad: 120000, implicit: 0 });
    await call('POST', `${sid}/window/rect`, VIEWPORT).catch(() => {});
    const version = `WebKitGTK ${session.capabilities.browserVersion}`;
    let pageOpen = false;

    const find = async (selector) => {
      const el = await call('POST', `${sid}/element`, { using: 'css selector', value: selector });
      return el[ELEMENT];
    };

    return {
      version,
      // WebDriver drives one window: one page at a time, reused.
      async newPage() {
        if (pageOpen) throw new Error(`${label}: one page at a time`);
        pageOpen = true;
        const uploads = [];
        const p = {
          goto: (url) => call('POST', `${sid}/url`, { url }).then(() => undefined),
          async evaluate(fn, arg) {
            const script =
              'const arg = arguments[0]; const done = arguments[arguments.length - 1];' +
              `Promise.resolve().then(() => (${fn})(arg)).then(` +
              '(v) => done({ ok: true, v: v === undefined ? null : v }),' +
              '(e) => done({ ok: false, e: String((e && e.stack) || e) }));';
            const r = await call('POST', `${sid}/execute/async`, { script, args: [arg === undefined ? null : arg] });
            if (!r.ok) throw new Error(`${label}: in the page: ${r.e}`);
            return r.v;
          },
          waitFor: (fn, arg, opts) => pollFor(p, label, fn, arg, opts),
          async click(selector) {
            await call('POST', `${sid}/element/${await find(selector)}/click`, {});
          },
          fill: (selector, value) => p.evaluate(fillInPage, { selector, value }),
          async setInputFiles(selector, { name, buffer }) {
            const f = tempFile(name, buffer);
            uploads.push(f);
            await call('POST', `${sid}/element/${await find(selector)}/value`, { text: f.path });
          },
          async screenshot(path) {
            writeFileSync(path, Buffer.from(await call('GET', `${sid}/screenshot`), 'base64'));
          },
          async close() {
            pageOpen = false;
            await call('POST', `${sid}/url`, { url: 'about:blank' }).catch(() => {});
            uploads.splice(0).forEach((f) => f.remove());
          },
        };
        return p;
      },
      async close() {
        await withTimeout(call('DELETE', sid).catch(() => {}), 10000);
        stopDriver();
      },
    };
  } catch (e) {
    stopDriver();
    throw e;
  }
}
