// The dashboard in a real headless Chromium (Debian's), against a real `plumb controller`.
//
// Run by crates/plumb/tests/dashboard_in_a_browser.rs, which sets up the world (a control
// plane, a git server, two Applications, two ServiceAccount tokens, the controller) and
// passes it here in environment variables. When a step needs the world to change while the
// page stays open — a `kubectl` edit, a commit — this script prints `@@ <request>` and waits
// for the Rust side to answer in the file $PLUMB_ANSWERS/<n> (`ok [value]`).
//
// Exit code 0 when every step passed; screenshots of each step go to $PLUMB_ARTIFACTS.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this through cargo test --test dashboard_in_a_browser`);
  return value;
};
const URL = env('PLUMB_URL');
const NAMESPACE = env('PLUMB_NAMESPACE');
const OPERATOR = env('PLUMB_OPERATOR_TOKEN');
const VIEWER = env('PLUMB_VIEWER_TOKEN');
const FIRST_COMMIT = env('PLUMB_FIRST_COMMIT');
const ARTIFACTS = env('PLUMB_ARTIFACTS');
const ANSWERS = env('PLUMB_ANSWERS');
const CHROMIUM = process.env.PLUMB_CHROMIUM || '/usr/bin/chromium';
const PATIENCE = 60_000;

mkdirSync(ARTIFACTS, { recursive: true });

// ---- talking to the Rust side ----------------------------------------------------------

let requests = 0;
async function ask(request) {
  requests += 1;
  const file = join(ANSWERS, String(requests));
  console.log(`@@ ${requests} ${request}`);
  const deadline = Date.now() + PATIENCE;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`no answer to ${request} in ${file}`);
    await sleep(50);
  }
  const answer = readFileSync(file, 'utf8').trim();
  const [status, ...rest] = answer.split(' ');
  if (status !== 'ok') throw new Error(`the test could not ${request}: ${answer}`);
  return rest.join(' ');
}

// ---- steps -----------------------------------------------------------------------------

let page;
let shots = 0;
async function shot(name, target = page) {
  shots += 1;
  const file = join(ARTIFACTS, `${String(shots).padStart(2, '0')}-${name}.png`);
  await target.screenshot({ path: file, fullPage: true });
  console.log(`   screenshot ${file}`);
}

async function step(name, work) {
  const started = Date.now();
  try {
    await work();
    console.log(`ok - ${name} (${Date.now() - started} ms)`);
  } catch (err) {
    console.log(`not ok - ${name}`);
    if (page) await shot(`FAILED-${name.replace(/\W+/g, '-')}`).catch(() => {});
    throw err;
  }
}

const row = (app) => page.locator(`tr.app[data-app="${NAMESPACE}/${app}"]`);
const node = (kind, name) => page.locator(`#tree .node[data-kind="${kind}"][data-name="${name}"]`);
const waitFor = (what, predicate, arg) => page.waitForFunction(predicate, arg, { timeout: PATIENCE })
  .catch((err) => { throw new Error(`waiting for ${what}: ${err.message}`); });

async function login(token) {
  await page.goto(URL);
  await page.locator('#token').fill(token);
  await page.locator('#login button[type=submit]').click();
}

// Set on a page once; still there later means the page never reloaded.
async function markPage() {
  await page.evaluate(() => { window.plumbNoReload = 'same page'; });
}
async function assertSamePage() {
  assert.equal(await page.evaluate(() => window.plumbNoReload), 'same page', 'the page reloaded');
}

// ---- the stories -----------------------------------------------------------------------

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
try {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));

  await step('a token the API server does not accept is refused at login', async () => {
    await login('not-a-real-token');
    const error = page.locator('#login-error');
    await error.waitFor({ state: 'visible' });
    assert.match(await error.textContent(), /not accepted/);
    await shot('login-refused');
  });

  await step('the list shows each application with its sync status, health, revision and last sync', async () => {
    await login(OPERATOR);
    await row('shop').waitFor();
    await waitFor('shop Synced and Healthy', (app) => {
      const r = document.querySelector(`tr.app[data-app="${app}"]`);
      return r && r.querySelector('[data-sync="Synced"]') && r.querySelector('[data-health="Healthy"]');
    }, `${NAMESPACE}/shop`);
    assert.equal(await row('shop').locator('.revision code').textContent(), FIRST_COMMIT.slice(0, 7));
    assert.match(await row('shop').locator('.last-sync').textContent(), /Succeeded.*first version/s);
    assert.equal(await row('manual').locator('[data-sync]').textContent(), 'OutOfSync');
    assert.equal(await row('manual').locator('[data-health]').textContent(), 'Missing');
    assert.match(await row('manual').locator('.last-sync').textContent(), /never/);
    await shot('list');
  });

  await step('the list filters by text, sync status and health', async () => {
    await page.locator('#filter-text').fill('manu');
    assert.deepEqual(await page.locator('tr.app').evaluateAll((rows) => rows.map((r) => r.dataset.app)), [`${NAMESPACE}/manual`]);
    await page.locator('#filter-text').fill('');
    await page.locator('#filter-sync').selectOption('Synced');
    assert.deepEqual(await page.locator('tr.app').evaluateAll((rows) => rows.map((r) => r.dataset.app)), [`${NAMESPACE}/shop`]);
    await page.locator('#filter-sync').selectOption('');
    await page.locator('#filter-health').selectOption('Missing');
    assert.deepEqual(await page.locator('tr.app').evaluateAll((rows) => rows.map((r) => r.dataset.app)), [`${NAMESPACE}/manual`]);
    await page.locator('#filter-health').selectOption('Degraded');
    await page.locator('.empty').waitFor();
    await shot('list-filtered-to-nothing');
    await page.locator('#filter-health').selectOption('');
  });

  await step('an application page shows its resource tree down to the Pods', async () => {
    await row('shop').locator('a.app-name').click();
    await page.locator('#tree .node[data-kind="Pod"]').first().waitFor({ timeout: PATIENCE });
    await waitFor('two Pods under the ReplicaSet under the Deployment', () => {
      const pods = document.querySelectorAll('#tree .node[data-kind="Deployment"] + ul .node[data-kind="ReplicaSet"] + ul .node[data-kind="Pod"]');
      return pods.length === 2;
    });
    for (const [kind, name] of [['Deployment', 'web'], ['Service', 'web'], ['ConfigMap', 'settings']]) {
      const n = node(kind, name);
      await n.waitFor();
      assert.equal(await n.getAttribute('data-sync'), 'Synced', `${kind} ${name}`);
    }
    await page.locator('#no-drift').waitFor();
    await shot('app-tree');
  });

  await step('a kubectl edit shows as drift with its diff and field manager, without a reload', async () => {
    await markPage();
    await ask('drift settings with kubectl');
    await waitFor('the ConfigMap to show drift', () => document.querySelector('#tree .node[data-kind="ConfigMap"].drifted'));
    const drift = page.locator('details.drift', { hasText: 'settings' });
    await drift.waitFor();
    assert.match(await drift.locator('.changed-by').textContent(), /kubectl/);
    const diff = await drift.locator('pre.diff').textContent();
    assert.match(diff, /-\s+color: red/);
    assert.match(diff, /\+\s+color: blue/);
    assert.equal(await drift.locator('.line.del').count() > 0, true);
    assert.equal(await node('ConfigMap', 'settings').getAttribute('data-sync'), 'OutOfSync');
    await assertSamePage();
    await shot('app-drift');
  });

  await step('a commit synced while the page is open appears live: revision, history, drift gone', async () => {
    await markPage();
    const commit = await ask('commit settings green and push');
    await waitFor('the new revision', (short) => document.getElementById('revision')?.textContent === short, commit.slice(0, 7));
    const newest = page.locator('table.history tbody tr').first();
    await waitFor('the sync in the history', () => /Bob Example/.test(document.querySelector('table.history tbody tr')?.textContent || ''));
    assert.match(await newest.textContent(), /settings: green/);
    assert.match(await newest.locator('.author').textContent(), /Bob Example <bob@example\.com>/);
    await page.locator('#no-drift').waitFor({ timeout: PATIENCE });
    await assertSamePage();
    await shot('app-live-commit');
  });

  await step('the sync button of an authorized token syncs a manual application', async () => {
    await page.goto(`${URL}/#/apps/${NAMESPACE}/manual`);
    const sync = page.locator('button[data-operation="sync"]');
    await sync.waitFor();
    await shot('manual-before-sync');
    await markPage();
    await sync.click();
    await page.locator('#notice[data-kind="info"]').waitFor();
    await waitFor('manual Synced and Healthy', () => document.querySelector('.title-row [data-sync="Synced"]')
      && document.querySelector('.title-row [data-health="Healthy"]'));
    await node('ConfigMap', 'manual-settings').waitFor();
    await assertSamePage();
    await shot('manual-synced');
  });

  await step('suspend and resume', async () => {
    await page.locator('button[data-operation="suspend"]').click();
    await page.locator('.title-row .flag', { hasText: 'suspended' }).waitFor({ timeout: PATIENCE });
    await shot('manual-suspended');
    await page.locator('button[data-operation="resume"]').click();
    await page.locator('.title-row .flag', { hasText: 'suspended' }).waitFor({ state: 'detached', timeout: PATIENCE });
  });

  await step('rollback to an earlier sync pins it, unpin returns to the branch', async () => {
    await page.goto(`${URL}/#/apps/${NAMESPACE}/shop`);
    const back = page.locator(`button[data-operation="rollback"][data-revision="${FIRST_COMMIT}"]`);
    await back.waitFor();
    page.once('dialog', (dialog) => dialog.accept());
    await back.click();
    await page.locator('.title-row .flag', { hasText: 'pinned' }).waitFor({ timeout: PATIENCE });
    await waitFor('the first commit applied again', (short) => document.getElementById('revision')?.textContent === short
      && document.querySelector('table.history tbody tr td:nth-child(6)')?.textContent === 'Rollback', FIRST_COMMIT.slice(0, 7));
    await shot('shop-rolled-back');
    await page.locator('button[data-operation="unpin"]').click();
    await page.locator('.title-row .flag', { hasText: 'pinned' }).waitFor({ state: 'detached', timeout: PATIENCE });
  });

  await step('a sync clicked after RBAC took patch away is refused, and the refusal shown', async () => {
    await page.goto(`${URL}/#/apps/${NAMESPACE}/manual`);
    const sync = page.locator('button[data-operation="sync"]');
    await sync.waitFor();
    await ask('make the operator read-only');
    await ask('remember manual');
    // The server reuses RBAC's answers for 10 s.
    await sleep(11_000);
    await sync.click();
    const refusal = page.locator('#notice[data-kind="error"]');
    await refusal.waitFor();
    assert.match(await refusal.textContent(), /Refused by Kubernetes RBAC: .*:operator may not patch applications\.plumb\.dev/);
    await shot('operator-refused-after-rbac-change');
    await ask('check manual was not changed');
  });

  await step('apps on other clusters are grouped by cluster, with a cluster filter and an unreachable flag', async () => {
    const [edge, gone] = (await ask('register two clusters with an app each')).split(' ');
    const groups = ['in-cluster', edge, gone];
    // The fleet's state is written by the controller every few seconds: look again until
    // the cluster that cannot be reached is flagged.
    const deadline = Date.now() + PATIENCE;
    for (;;) {
      await page.goto(URL);
      await row('edge').waitFor();
      const flagged = await page.locator(`tr.cluster-group[data-cluster="${gone}"] .flag.unreachable`).count();
      if (flagged) break;
      if (Date.now() > deadline) throw new Error(`${gone} was never flagged unreachable`);
      await sleep(2_000);
    }
    assert.deepEqual(await page.locator('tr.cluster-group').evaluateAll((rows) => rows.map((r) => r.dataset.cluster)), groups);
    const inGroup = (name) => page.locator(`tbody:has(tr.cluster-group[data-cluster="${name}"]) tr.app`)
      .evaluateAll((rows) => rows.map((r) => r.dataset.app));
    assert.deepEqual(await inGroup(edge), [`${NAMESPACE}/edge`]);
    assert.deepEqual(await inGroup(gone), [`${NAMESPACE}/far`]);
    assert.deepEqual((await inGroup('in-cluster')).sort(), [`${NAMESPACE}/manual`, `${NAMESPACE}/shop`]);
    assert.match(await page.locator(`tr.cluster-group[data-cluster="${gone}"] .flag.unreachable`).getAttribute('title'), /not connected/);
    await waitFor('edge Synced', (app) => document.querySelector(`tr.app[data-app="${app}"] [data-sync="Synced"]`), `${NAMESPACE}/edge`);
    await shot('list-grouped-by-cluster');
    await page.locator('#filter-cluster').selectOption(edge);
    assert.deepEqual(await page.locator('tr.app').evaluateAll((rows) => rows.map((r) => r.dataset.app)), [`${NAMESPACE}/edge`]);
    await shot('list-filtered-by-cluster');
    await page.locator('#filter-cluster').selectOption('');
  });

  assert.deepEqual(errors, [], 'no script error in the page');
  await context.close();

  const viewer = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  page = await viewer.newPage();

  await step('a read-only token sees the applications but no action buttons', async () => {
    await login(VIEWER);
    await row('manual').waitFor();
    await row('manual').locator('a.app-name').click();
    await page.locator('.read-only').waitFor();
    assert.equal(await page.locator('button[data-operation]').count(), 0, 'no sync, suspend, resume or rollback buttons');
  });

  await step('an action of a read-only token is refused by the API and the refusal shown', async () => {
    await ask('remember manual');
    // What the Sync button would do, had the page shown it.
    await page.evaluate(([namespace]) => window.plumb.operate(namespace, 'manual', 'sync'), [NAMESPACE]);
    const refusal = page.locator('#notice[data-kind="error"]');
    await refusal.waitFor();
    assert.match(await refusal.textContent(), /Refused by Kubernetes RBAC: .*may not patch applications\.plumb\.dev/);
    await shot('viewer-refused');
    await ask('check manual was not changed');
  });
  await viewer.close();
} finally {
  await browser.close();
}
console.log(`${shots} screenshots in ${ARTIFACTS}`);
