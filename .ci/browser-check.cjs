// Renders sarlab reports in headless Chromium and fails on what a reader would see
// broken: a console error or uncaught exception, a request that fails (the page must
// be one offline file), an image or figure that does not load or has no size,
// horizontal overflow at 1400 px or 420 px, or a sortable table that does not sort.
//
//   NODE_PATH=<folder with playwright-core> node .ci/browser-check.cjs REPORT.html...
const { chromium } = require("playwright-core");
const path = require("path");

async function check(browser, file, width) {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const problems = [];
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console error: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`uncaught: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url().slice(0, 120)}`));
  page.on("request", (r) => {
    if (!r.url().startsWith("file:") && !r.url().startsWith("data:")) problems.push(`network request: ${r.url()}`);
  });
  await page.goto("file://" + path.resolve(file), { waitUntil: "load" });
  const found = await page.evaluate(() => {
    const out = [];
    for (const img of document.images) {
      if (!img.complete || img.naturalWidth === 0) out.push(`image does not load: ${img.alt || img.src.slice(0, 60)}`);
    }
    for (const fig of document.querySelectorAll("figure")) {
      const drawing = fig.querySelector("svg, img");
      const box = drawing && drawing.getBoundingClientRect();
      if (!drawing || box.width < 50 || box.height < 50) out.push(`figure without a drawing: ${fig.id || fig.textContent.slice(0, 60)}`);
    }
    const overflow = document.documentElement.scrollWidth - window.innerWidth;
    if (overflow > 0) out.push(`horizontal overflow of ${overflow} px at ${window.innerWidth} px`);
    return out;
  });
  problems.push(...found);
  // Sorting a table by its last column twice gives opposite orders.
  const sorted = await page.evaluate(() => {
    const table = document.querySelector("table.sortable");
    if (!table || table.tBodies[0].rows.length < 2) return true;
    const th = table.querySelectorAll("thead th");
    const column = th.length - 1;
    const cells = () => Array.from(table.tBodies[0].rows, (r) => r.cells[column] ? r.cells[column].textContent : "");
    th[column].click();
    const first = cells();
    th[column].click();
    const second = cells();
    return first.join("|") === second.slice().reverse().join("|") || new Set(first).size === 1;
  });
  if (!sorted) problems.push("a sortable table does not sort");
  await page.close();
  return problems;
}

(async () => {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error("no reports to check");
    process.exit(2);
  }
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  let failures = 0;
  for (const file of files) {
    for (const width of [1400, 420]) {
      const problems = await check(browser, file, width);
      for (const p of problems) console.error(`${file} @ ${width} px: ${p}`);
      failures += problems.length;
    }
  }
  await browser.close();
  console.log(`${files.length} report(s) checked at 1400 and 420 px: ${failures} problem(s)`);
  process.exit(failures === 0 ? 0 : 1);
})().catch((e) => { console.error(e); process.exit(1); });
