#!/usr/bin/env node
// flame_browser.js - drives Debian's Chromium, headless, through
// playwright-core, for tests/integration/test_flamegraph.py. It only
// observes: it prints one JSON object of what the page showed, and the
// Python test asserts on it.
//
//   flame_browser.js svg FILE.svg SCREENSHOT.png FUNCTION [DEPTH]
//     loads memleakd's SVG, screenshots it, then on the frame of FUNCTION
//     (the one at DEPTH, when the function is in several rows):
//     hovers (the details line), clicks (zoom), resets the zoom, and searches
//     for FUNCTION through the Search button's prompt.
//   flame_browser.js speedscope URL SCREENSHOT.png
//     loads speedscope's page at URL (its index.html#profileURL=...), opens
//     the Sandwich view and reads the functions of its table.
//   flame_browser.js page URL SCREENSHOT.png
//     loads memleakd's live page (--listen) at URL, waits for its charts
//     and its flame graph, reads them, screenshots the page and counts the
//     screenshot's colours, then waits for the page to show a later report.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const FLAGS = ['--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking'];

async function withPage(fn) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'memleakd-chromium-'));
  // A user data directory is launchPersistentContext's argument, not a flag.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium', headless: true, args: FLAGS,
    viewport: { width: 1280, height: 800 },
  });
  try {
    const page = context.pages()[0] || await context.newPage();
    const errors = [], console = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => console.push(m.text()));
    const result = await fn(page);
    result.page_errors = errors;
    result.console = console;
    return result;
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

// The state of every drawn frame: name, depth, rect and classes.
function frames(page) {
  return page.$$eval('g.f', (gs) => gs.map((g) => {
    const r = g.querySelector('rect');
    return {
      name: g.querySelector('title').textContent.split('\n')[0],
      title: g.querySelector('title').textContent,
      depth: +g.dataset.d, x: +r.getAttribute('x'), width: +r.getAttribute('width'),
      y: +r.getAttribute('y'), fill: getComputedStyle(r).fill,
      visible: getComputedStyle(g).display !== 'none',
      classes: g.getAttribute('class'), text: g.querySelector('text').textContent,
    };
  }));
}

async function svg(file, screenshot, fn, depth) {
  return withPage(async (page) => {
    await page.goto('file://' + path.resolve(file));
    // A full-page screenshot of an SVG document never finishes: size the
    // viewport to the graph instead.
    const height = await page.evaluate(() => +document.documentElement.getAttribute('height'));
    await page.setViewportSize({ width: 1200, height: Math.min(height, 4000) });
    await page.screenshot({ path: screenshot });
    const selector = depth === undefined ? 'g.f' : `g.f[data-d="${depth}"]`;
    const name = new RegExp('^' + fn.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '\n');
    const frame = page.locator(selector, { has: page.locator('title', { hasText: name }) });
    const count = await frame.count();
    const out = { frame_count: count, initial: await frames(page) };
    if (count !== 1)
      return out;
    await frame.locator('rect').hover({ force: true });
    out.details = await page.textContent('#details');
    await frame.locator('rect').click({ force: true });
    out.zoomed = await frames(page);
    out.unzoom_visible = await page.isVisible('#unzoom');
    await page.screenshot({ path: screenshot.replace(/\.png$/, '-zoomed.png') });
    await page.click('#unzoom');
    out.reset = await frames(page);
    page.once('dialog', (d) => d.accept(fn));
    await page.click('#search');
    out.matched = await page.textContent('#matched');
    out.searched = await frames(page);
    return out;
  });
}

async function speedscope(url, screenshot) {
  return withPage(async (page) => {
    await page.goto(url);
    // The toolbar's view tabs ("🥪Sandwich") appear once a profile is loaded.
    await page.getByText('Sandwich').first().click({ timeout: 15000 });
    await page.waitForSelector('table tr:has(td)', { timeout: 15000 });
    await page.screenshot({ path: screenshot });
    return {
      title: await page.title(),
      rows: await page.$$eval('table tr:has(td)', (trs) => trs.map((tr) =>
        Array.from(tr.querySelectorAll('td'), (td) => td.textContent.trim()))),
    };
  });
}

// The distinct colours of a PNG, counted in a blank page of their own: the
// live page's policy admits no data: image.
async function colours(context, png) {
  const blank = await context.newPage();
  try {
    return await blank.evaluate((b64) => new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => {
        const c = document.createElement('canvas');
        c.width = img.width;
        c.height = img.height;
        const g = c.getContext('2d');
        g.drawImage(img, 0, 0);
        const data = g.getImageData(0, 0, c.width, c.height).data;
        const seen = new Set();
        for (let i = 0; i < data.length; i += 4)
          seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
        resolve(seen.size);
      };
      img.onerror = reject;
      img.src = 'data:image/png;base64,' + b64;
    }), png.toString('base64'));
  } finally {
    await blank.close();
  }
}

// What one process's panel shows: its charts' lines and legends, and the
// frames of its flame graph (in the frame's own document).
async function panel(page) {
  const chart = (name) => page.$eval(`figure.${name}`, (f) => ({
    lines: Array.from(f.querySelectorAll('polyline'), (l) => ({
      name: l.getAttribute('data-name'), points: l.getAttribute('points').split(' ').length,
    })),
    legend: Array.from(f.querySelectorAll('li'), (li) => li.textContent),
  }));
  const frame = page.frame({ url: /flame\.svg/ });
  return {
    title: await page.textContent('section.process h2 > span'),
    verdict: await page.textContent('section.process h2 > span.verdict'),
    report: +await page.textContent('#report'),
    flame_src: await page.getAttribute('iframe.flame', 'src'),
    stacks: await chart('stacks'),
    memory: await chart('memory'),
    flame: frame ? await frame.$$eval('g.f title', (ts) => ts.map((t) => t.textContent)) : [],
  };
}

async function livePage(url, screenshot) {
  return withPage(async (page) => {
    await page.goto(url);
    await page.waitForSelector('figure.stacks polyline', { state: 'attached', timeout: 15000 });
    await page.waitForFunction(() => {
      const f = document.querySelector('iframe.flame');
      const doc = f && f.contentDocument;
      return doc && doc.querySelectorAll('g.f').length > 1;
    }, null, { timeout: 15000 });
    const first = await panel(page);
    const png = await page.screenshot({ path: screenshot, fullPage: true });
    const colourCount = await colours(page.context(), png);
    await page.waitForFunction((n) => +document.getElementById('report').textContent > n,
      first.report, { timeout: 15000 });
    await page.waitForFunction(() => {
      const f = document.querySelector('iframe.flame');
      const doc = f && f.contentDocument;
      return doc && doc.readyState === 'complete' && doc.querySelectorAll('g.f').length > 1;
    }, null, { timeout: 15000 });
    return { first, colours: colourCount, later: await panel(page) };
  });
}

async function main(argv) {
  const [mode, ...args] = argv;
  const result = mode === 'svg' ? await svg(...args)
    : mode === 'speedscope' ? await speedscope(...args)
      : mode === 'page' ? await livePage(...args) : null;
  if (!result)
    throw new Error(`usage: flame_browser.js svg|speedscope|page ...`);
  process.stdout.write(JSON.stringify(result) + '\n');
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(1);
});
