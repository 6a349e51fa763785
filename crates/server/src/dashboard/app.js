// plumb's dashboard: a token login, the list of applications and one application's page,
// kept current by the server's event stream. Everything shown comes from /api/v1 with the
// user's token, and everything done is a POST the API authorizes; nothing here decides
// what a user may do. Text from the cluster or Git is only ever set as text, never as HTML.

const TOKEN_KEY = 'plumb-token';
const SYNC_STATES = ['Synced', 'OutOfSync', 'Unknown'];
const HEALTH_STATES = ['Healthy', 'Progressing', 'Degraded', 'Suspended', 'Missing', 'Unknown'];
const KIND_ABBREVIATIONS = {
  Deployment: 'deploy', ReplicaSet: 'rs', Pod: 'pod', StatefulSet: 'sts', DaemonSet: 'ds',
  Job: 'job', CronJob: 'cron', Service: 'svc', ConfigMap: 'cm', Secret: 'secret',
  Ingress: 'ing', ServiceAccount: 'sa', Namespace: 'ns', PersistentVolumeClaim: 'pvc',
  Role: 'role', RoleBinding: 'rb', ClusterRole: 'crole', ClusterRoleBinding: 'crb',
  CustomResourceDefinition: 'crd', HorizontalPodAutoscaler: 'hpa',
};

const state = {
  filters: { text: '', sync: '', health: '', cluster: '' },
  open: new Set(), // drift diffs the user opened, kept open across live refreshes
  view: null, // the view on screen: { name: 'list' } or { name: 'app', namespace, name }
  stream: null,
  refreshTimer: null,
};

// ---- tiny DOM helpers ----------------------------------------------------------------

function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else if (key === 'class') element.className = value;
    else if (key === 'dataset') Object.assign(element.dataset, value);
    else element.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

function badge(kind, value) {
  const text = value || 'Unknown';
  return h('span', { class: `badge ${kind}-${text}`, dataset: { [kind]: text } }, text);
}

function short(revision) {
  return revision ? revision.slice(0, 7) : '—';
}

// A branch, tag or range as written; a pinned commit id shortened.
function target(revision) {
  if (!revision) return 'default branch';
  return /^[0-9a-f]{40}$/.test(revision) ? short(revision) : revision;
}

function ago(time) {
  if (!time) return '—';
  const seconds = Math.max(0, (Date.now() - Date.parse(time)) / 1000);
  const text = seconds < 60 ? `${Math.round(seconds)}s ago`
    : seconds < 3600 ? `${Math.round(seconds / 60)} min ago`
      : seconds < 86400 ? `${Math.round(seconds / 3600)} h ago`
        : `${Math.round(seconds / 86400)} d ago`;
  return h('time', { datetime: time, title: new Date(time).toLocaleString() }, text);
}

function notice(kind, text) {
  const box = document.getElementById('notice');
  box.className = kind;
  box.dataset.kind = kind;
  document.getElementById('notice-text').textContent = text;
  box.hidden = false;
  clearTimeout(notice.timer);
  if (kind === 'info') notice.timer = setTimeout(() => { box.hidden = true; }, 4000);
}

// ---- the API ---------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function token() {
  return localStorage.getItem(TOKEN_KEY) || '';
}

// The event stream cannot send headers, so the token also goes in a cookie that the server
// accepts for reads only (changes need the header, which other sites cannot make a browser send).
function setCookie(value) {
  const secure = location.protocol === 'https:' ? '; Secure' : '';
  const expiry = value ? '' : '; Max-Age=0';
  document.cookie = `plumb_token=${encodeURIComponent(value)}; Path=/api/v1; SameSite=Strict${secure}${expiry}`;
}

async function api(path, { method = 'GET', body } = {}) {
  const headers = { Authorization: `Bearer ${token()}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, `cannot reach the plumb server: ${err.message}`);
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) {
    throw new ApiError(response.status, (data && data.error) || text || response.statusText);
  }
  return data;
}

// ---- login -----------------------------------------------------------------------------

function renderLogin(message) {
  stopStream();
  document.getElementById('logout').hidden = true;
  const input = h('textarea', {
    id: 'token', name: 'token', rows: 4, required: true, spellcheck: 'false',
    autocomplete: 'off', placeholder: 'eyJhbGciOi…',
  });
  const error = h('p', { id: 'login-error', class: 'error', hidden: !message }, message || '');
  const form = h('form', { class: 'login card', id: 'login' },
    h('h1', {}, 'Log in to plumb'),
    h('p', { class: 'muted' },
      'Paste a Kubernetes bearer token. What you may see and do is what RBAC allows that token on ',
      h('code', {}, 'applications.plumb.dev'), ': get to view, patch to sync, suspend or roll back.'),
    h('label', { for: 'token' }, 'Token'),
    input,
    h('p', { class: 'muted small' }, 'For a ServiceAccount: ', h('code', {}, 'kubectl create token NAME -n NAMESPACE --audience plumb'),
      '. The token stays in this browser (local storage) until you log out.'),
    error,
    h('button', { type: 'submit', class: 'primary' }, 'Log in'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (!value) return;
    localStorage.setItem(TOKEN_KEY, value);
    setCookie(value);
    try {
      await api('/applications');
      const target = sessionStorage.getItem('plumb-after-login') || '#/';
      sessionStorage.removeItem('plumb-after-login');
      if (location.hash === target) route();
      else location.hash = target; // hashchange routes
    } catch (err) {
      localStorage.removeItem(TOKEN_KEY);
      setCookie('');
      error.textContent = err.message;
      error.hidden = false;
    }
  });
  show(form);
  input.focus();
}

function logout(message) {
  localStorage.removeItem(TOKEN_KEY);
  setCookie('');
  if (location.hash && !location.hash.startsWith('#/login')) {
    sessionStorage.setItem('plumb-after-login', location.hash);
  }
  state.view = null;
  history.replaceState(null, '', '#/login'); // no hashchange: the message stays
  renderLogin(message);
}

// ---- live updates ----------------------------------------------------------------------

function startStream() {
  if (state.stream) return;
  const live = document.getElementById('live');
  live.hidden = false;
  const stream = new EventSource('/api/v1/stream');
  stream.addEventListener('open', () => { live.classList.add('on'); live.title = 'Live: changes appear as they happen'; });
  stream.addEventListener('error', () => { live.classList.remove('on'); live.title = 'Reconnecting to the live stream…'; });
  stream.addEventListener('changed', (event) => {
    const view = state.view;
    if (!view) return;
    if (view.name === 'list' || event.data === '*' || event.data === `${view.namespace}/${view.app}`) {
      scheduleRefresh();
    }
  });
  state.stream = stream;
}

function stopStream() {
  if (state.stream) state.stream.close();
  state.stream = null;
  document.getElementById('live').hidden = true;
}

// Several changes in a burst (a sync writes status a few times) make one refresh.
function scheduleRefresh() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(() => refresh(), 150);
}

async function refresh() {
  const view = state.view;
  if (!view) return;
  try {
    if (view.name === 'list') await loadList();
    else await loadApp(view.namespace, view.app);
  } catch (err) {
    if (err.status === 401) logout(err.message);
    else notice('error', err.message);
  }
}

// ---- the list --------------------------------------------------------------------------

function renderListFrame() {
  const filter = (key) => (event) => { state.filters[key] = event.target.value; drawList(); };
  const select = (key, values, label) => h('select', { id: `filter-${key}`, 'aria-label': label, onchange: filter(key) },
    h('option', { value: '' }, `${label}: all`),
    values.map((v) => h('option', { value: v, selected: state.filters[key] === v }, v)));
  show(h('section', { class: 'list' },
    h('div', { class: 'title-row' }, h('h1', {}, 'Applications'), h('div', { id: 'totals', class: 'totals' })),
    h('div', { class: 'filters' },
      h('input', {
        id: 'filter-text', type: 'search', placeholder: 'Filter by name, namespace, repository or path',
        value: state.filters.text, oninput: filter('text'), 'aria-label': 'Filter',
      }),
      select('sync', SYNC_STATES, 'Sync'),
      select('health', HEALTH_STATES, 'Health'),
      h('span', { id: 'cluster-filter' })),
    h('div', { id: 'apps' }, h('p', { class: 'muted' }, 'Loading…'))));
}

async function loadList() {
  const [data, clusters] = await Promise.all([
    api('/applications'), api('/clusters').catch(() => ({ items: [] }))]);
  state.apps = data.items || [];
  state.clusters = clusters.items || [];
  drawList();
}

// The clusters the apps apply to, in-cluster first: a filter, and a group each in the
// table, once the apps span more than one.
function clusterNames(apps) {
  const names = [...new Set(apps.map((a) => a.cluster || 'in-cluster'))];
  return names.sort((a, b) => (a === 'in-cluster' ? -1 : b === 'in-cluster' ? 1 : a.localeCompare(b)));
}

function drawClusterFilter(names) {
  const holder = document.getElementById('cluster-filter');
  if (!holder) return;
  if (names.length < 2) { holder.replaceChildren(); return; }
  holder.replaceChildren(h('select', {
    id: 'filter-cluster', 'aria-label': 'Cluster',
    onchange: (event) => { state.filters.cluster = event.target.value; drawList(); },
  }, h('option', { value: '' }, 'Cluster: all'),
  names.map((n) => h('option', { value: n, selected: state.filters.cluster === n }, n))));
}

function clusterHeading(name, count) {
  const known = (state.clusters || []).find((c) => c.name === name) || {};
  const reach = known.reachable === false
    ? h('span', { class: 'flag unreachable', title: known.message || '' }, 'unreachable')
    : null;
  return h('tr', { class: 'cluster-group', dataset: { cluster: name } },
    h('th', { colspan: 6 }, name, ' ', h('span', { class: 'muted small' },
      `${count} application${count === 1 ? '' : 's'}${known.version ? ` · ${known.version}` : ''}`), ' ', reach));
}

function matches(app) {
  const { text, sync, health, cluster } = state.filters;
  if (cluster && (app.cluster || 'in-cluster') !== cluster) return false;
  if (sync && app.sync !== sync) return false;
  if (health && app.health !== health) return false;
  if (!text) return true;
  const haystack = [app.namespace, app.name, `${app.namespace}/${app.name}`, app.repoURL, app.path]
    .join(' ').toLowerCase();
  return text.toLowerCase().split(/\s+/).every((word) => haystack.includes(word));
}

function drawList() {
  const apps = state.apps || [];
  const totals = document.getElementById('totals');
  if (!totals) return;
  const count = (key, value) => apps.filter((a) => a[key] === value).length;
  const tile = (key, value) => {
    const n = count(key, value);
    if (!n) return null;
    const active = state.filters[key] === value;
    return h('button', {
      type: 'button', class: `tile ${key}-${value}${active ? ' active' : ''}`, title: `Show only ${value}`,
      onclick: () => {
        state.filters[key] = active ? '' : value;
        document.getElementById(`filter-${key}`).value = state.filters[key];
        drawList();
      },
    }, h('strong', {}, n), ` ${value}`);
  };
  const tiles = [...SYNC_STATES.map((s) => tile('sync', s)), ...HEALTH_STATES.map((s) => tile('health', s))];
  totals.replaceChildren(h('span', { class: 'muted' }, `${apps.length} total`), ...tiles.filter(Boolean));

  const shown = apps.filter(matches);
  const container = document.getElementById('apps');
  if (!apps.length) {
    container.replaceChildren(h('p', { class: 'empty' }, 'No applications that this token may see.'));
    return;
  }
  if (!shown.length) {
    container.replaceChildren(h('p', { class: 'empty' }, 'No application matches the filters.'));
    return;
  }
  const names = clusterNames(apps);
  drawClusterFilter(names);
  const head = h('thead', {}, h('tr', {}, ['Application', 'Sync', 'Health', 'Revision', 'Last sync', 'Source'].map((t) => h('th', {}, t))));
  const groups = names.length < 2 ? [h('tbody', {}, shown.map(appRow))]
    : names.map((name) => {
      const inCluster = shown.filter((a) => (a.cluster || 'in-cluster') === name);
      return inCluster.length ? h('tbody', {}, clusterHeading(name, inCluster.length), inCluster.map(appRow)) : null;
    }).filter(Boolean);
  container.replaceChildren(h('table', { class: 'apps' }, head, ...groups));
}

function appRow(app) {
  const href = `#/apps/${encodeURIComponent(app.namespace)}/${encodeURIComponent(app.name)}`;
  const last = app.lastSync;
  return h('tr', { class: 'app', dataset: { app: `${app.namespace}/${app.name}` } },
    h('td', {}, h('a', { href, class: 'app-name' }, app.name), h('div', { class: 'muted small' }, app.namespace)),
    h('td', {}, badge('sync', app.sync)),
    h('td', {}, badge('health', app.health), app.suspended ? h('span', { class: 'flag' }, 'suspended') : null),
    h('td', { class: 'revision' }, h('code', { title: app.revision || '' }, short(app.revision)),
      h('div', { class: 'muted small' }, target(app.targetRevision),
        app.pinned ? h('span', { class: 'flag' }, 'pinned') : null)),
    h('td', { class: 'last-sync' }, last
      ? [h('span', { class: `result result-${last.result}` }, last.result), ' ', ago(last.finishedAt),
        h('div', { class: 'muted small ellipsis', title: last.message || '' }, last.message || '')]
      : h('span', { class: 'muted' }, 'never')),
    h('td', { class: 'source' }, h('div', { class: 'ellipsis', title: app.repoURL }, app.repoURL),
      h('div', { class: 'muted small' }, app.path)));
}

// ---- one application -------------------------------------------------------------------

async function loadApp(namespace, name) {
  const path = `/applications/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
  const [app, tree] = await Promise.all([api(path), api(`${path}/tree`).catch((err) => ({ error: err }))]);
  drawApp(app, tree);
}

function drawApp(app, tree) {
  const s = app.summary;
  const status = app.status || {};
  const conditions = status.conditions || [];
  const trouble = conditions.filter((c) => (c.type === 'Stalled' || c.type === 'SyncLoop') && c.status === 'True');
  const ready = conditions.find((c) => c.type === 'Ready');
  show(h('section', { class: 'app-page', dataset: { app: `${s.namespace}/${s.name}` } },
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, 'Applications'), ' / ', s.namespace, ' / ', h('strong', {}, s.name)),
    h('div', { class: 'title-row' },
      h('h1', {}, s.name),
      badge('sync', s.sync), badge('health', s.health),
      s.suspended ? h('span', { class: 'flag' }, 'suspended') : null,
      s.pinned ? h('span', { class: 'flag' }, `pinned to ${short(status.pinned && status.pinned.revision)}`) : null,
      h('span', { class: 'spacer' }),
      actions(app)),
    h('dl', { class: 'facts' },
      fact('Repository', h('span', { class: 'ellipsis' }, s.repoURL)),
      fact('Path', h('code', {}, s.path)),
      fact('Target', target(s.targetRevision)),
      fact('Revision', h('code', { id: 'revision', title: s.revision || '' }, short(s.revision))),
      fact('Last sync', s.lastSync ? [h('span', { class: `result result-${s.lastSync.result}` }, s.lastSync.result), ' ', ago(s.lastSync.finishedAt)] : 'never'),
      fact('Status', ready ? (ready.message || ready.reason) : '—')),
    trouble.map((c) => h('p', { class: 'callout error' }, h('strong', {}, `${c.type}: `), c.message || c.reason)),
    h('h2', {}, 'Resources'),
    resourceTree(s, tree),
    h('h2', {}, 'Drift'),
    driftList(status.resources || []),
    h('h2', {}, 'Sync history'),
    history(app)));
}

function fact(label, value) {
  return [h('dt', {}, label), h('dd', {}, value)];
}

function actions(app) {
  const s = app.summary;
  if (!app.permissions || !app.permissions.operate) {
    return h('span', { class: 'muted small read-only', title: 'RBAC does not allow this token to patch the Application' }, 'read-only');
  }
  const button = (label, operation, extra = {}) => h('button', {
    type: 'button', class: extra.primary ? 'primary' : '', dataset: { operation },
    onclick: (event) => operate(s, operation, extra.body, event.currentTarget),
  }, label);
  return h('div', { class: 'actions' },
    button('Sync', 'sync', { primary: true }),
    s.suspended ? button('Resume', 'resume') : button('Suspend', 'suspend'),
    s.pinned ? button('Unpin', 'unpin') : null);
}

// What every action button does; also window.plumb.operate for the console.
async function operate(summary, operation, body, button) {
  const path = `/applications/${encodeURIComponent(summary.namespace)}/${encodeURIComponent(summary.name)}/${operation}`;
  if (button) button.disabled = true;
  try {
    await api(path, { method: 'POST', body });
    notice('info', `${operation} of ${summary.namespace}/${summary.name} requested`);
  } catch (err) {
    if (err.status === 401) {
      logout(err.message);
      return;
    }
    const refused = err.status === 403 ? 'Refused by Kubernetes RBAC: ' : `${operation} failed: `;
    notice('error', refused + err.message);
  } finally {
    if (button) button.disabled = false;
  }
}

function resourceTree(summary, tree) {
  if (tree && tree.error) return h('p', { class: 'callout error' }, `The resource tree cannot be shown: ${tree.error.message}`);
  const resources = (tree && tree.resources) || [];
  const root = h('div', { class: 'node app-node' },
    h('span', { class: 'kind' }, 'app'),
    h('span', { class: 'name' }, summary.name),
    dot('health', summary.health), dot('sync', summary.sync));
  return h('div', { class: 'tree', id: 'tree' },
    h('ul', {}, h('li', {}, root,
      resources.length
        ? h('ul', {}, resources.map(treeNode))
        : h('p', { class: 'muted small' }, 'No objects yet.'))),
    ((tree && tree.warnings) || []).map((w) => h('p', { class: 'muted small' }, w)));
}

function treeNode(node) {
  const kind = KIND_ABBREVIATIONS[node.kind] || node.kind.toLowerCase();
  const label = h('div', {
    class: `node${node.drifted ? ' drifted' : ''}`,
    title: [`${node.kind} ${node.namespace ? `${node.namespace}/` : ''}${node.name}`, node.healthMessage].filter(Boolean).join('\n'),
    dataset: { kind: node.kind, name: node.name, health: node.health || 'Unknown', sync: node.sync || '' },
  },
  h('span', { class: 'kind', title: node.kind }, kind),
  h('span', { class: 'name' }, node.name),
  dot('health', node.health),
  node.sync ? dot('sync', node.sync) : null,
  node.info ? h('span', { class: 'info' }, node.info) : null,
  node.drifted ? h('a', { class: 'drift-link', href: `#drift-${node.kind}-${node.name}`, onclick: jumpToDrift(node) }, 'drift') : null);
  const children = node.children || [];
  return h('li', {}, label, children.length ? h('ul', {}, children.map(treeNode)) : null);
}

function jumpToDrift(node) {
  return (event) => {
    event.preventDefault();
    state.open.add(`${node.kind}/${node.namespace}/${node.name}`);
    const target = document.getElementById(`drift-${node.kind}-${node.name}`);
    if (target) { target.open = true; target.scrollIntoView({ behavior: 'smooth', block: 'start' }); }
  };
}

function dot(kind, value) {
  const text = value || 'Unknown';
  return h('span', { class: `dot ${kind}-${text}`, title: `${kind === 'sync' ? 'Sync' : 'Health'}: ${text}` }, text);
}

function driftList(resources) {
  const drifted = resources.filter((r) => r.drift);
  if (!drifted.length) return h('p', { class: 'muted', id: 'no-drift' }, 'The live objects match Git.');
  return h('div', { class: 'drifts' }, drifted.map((r) => {
    const key = `${r.kind}/${r.namespace}/${r.name}`;
    const drift = r.drift;
    const details = h('details', { class: 'drift', id: `drift-${r.kind}-${r.name}`, open: state.open.has(key) || drifted.length === 1, dataset: { resource: key } },
      h('summary', {},
        h('span', { class: 'kind' }, KIND_ABBREVIATIONS[r.kind] || r.kind), ' ',
        h('strong', {}, r.name), ' ',
        h('span', { class: 'muted small' }, r.namespace || ''), ' ',
        (drift.changedBy || []).length
          ? h('span', { class: 'changed-by' }, 'changed by ', drift.changedBy.map((m) => h('code', { class: 'manager' }, m)))
          : h('span', { class: 'muted small' }, 'changed by an unknown manager'),
        ' ', ago(drift.detectedAt)),
      h('p', { class: 'small' }, 'Fields: ', (drift.fields || []).map((f) => h('code', { class: 'field' }, f))),
      diffView(drift.diff));
    details.addEventListener('toggle', () => { if (details.open) state.open.add(key); else state.open.delete(key); });
    return details;
  }));
}

function diffView(diff) {
  if (!diff) return h('p', { class: 'muted small' }, 'No diff recorded.');
  return h('pre', { class: 'diff' }, diff.replace(/\n$/, '').split('\n').map((line) => {
    const kind = line.startsWith('+++') || line.startsWith('---') ? 'file'
      : line.startsWith('@@') ? 'hunk' : line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : 'same';
    return h('span', { class: `line ${kind}` }, `${line}\n`);
  }));
}

function history(app) {
  const records = (app.status && app.status.history) || [];
  if (!records.length) return h('p', { class: 'muted' }, 'No sync yet.');
  const canOperate = app.permissions && app.permissions.operate;
  const current = app.summary.revision;
  return h('table', { class: 'history' },
    h('thead', {}, h('tr', {}, ['#', 'Result', 'Revision', 'Author', 'Message', 'Trigger', 'Finished', canOperate ? '' : null].filter((t) => t !== null).map((t) => h('th', {}, t)))),
    h('tbody', {}, records.map((r) => h('tr', { dataset: { id: r.id } },
      h('td', {}, r.id),
      h('td', {}, h('span', { class: `result result-${r.result}`, title: r.summary || '' }, r.result)),
      h('td', {}, h('code', { title: r.revision }, short(r.revision))),
      h('td', { class: 'author' }, r.author || '—'),
      h('td', { class: 'message' }, r.message || '', r.summary ? h('div', { class: 'muted small' }, r.summary) : null),
      h('td', {}, r.trigger),
      h('td', {}, ago(r.finishedAt)),
      canOperate ? h('td', {}, r.revision !== current && r.result === 'Succeeded'
        ? h('button', {
          type: 'button', class: 'small', dataset: { operation: 'rollback', revision: r.revision },
          onclick: (event) => {
            if (confirm(`Roll ${app.summary.name} back to sync #${r.id} (${short(r.revision)})? Automated syncs stop until you unpin.`)) {
              operate(app.summary, 'rollback', { revision: String(r.id) }, event.currentTarget);
            }
          },
        }, 'Roll back')
        : null) : null))));
}

// ---- routing ---------------------------------------------------------------------------

function show(element) {
  document.getElementById('view').replaceChildren(element);
}

async function route() {
  const hash = location.hash || '#/';
  if (hash.startsWith('#/login') || !token()) {
    state.view = null;
    if (!hash.startsWith('#/login')) sessionStorage.setItem('plumb-after-login', hash);
    renderLogin();
    return;
  }
  setCookie(token());
  document.getElementById('logout').hidden = false;
  startStream();
  const app = hash.match(/^#\/apps\/([^/]+)\/([^/?]+)/);
  try {
    if (app) {
      state.view = { name: 'app', namespace: decodeURIComponent(app[1]), app: decodeURIComponent(app[2]) };
      state.open.clear();
      show(h('p', { class: 'muted' }, 'Loading…'));
      await loadApp(state.view.namespace, state.view.app);
    } else {
      state.view = { name: 'list' };
      renderListFrame();
      await loadList();
    }
  } catch (err) {
    if (err.status === 401) {
      logout(err.message);
      return;
    }
    show(h('p', { class: 'callout error', id: 'page-error' },
      err.status === 403 ? `Refused by Kubernetes RBAC: ${err.message}` : err.message));
  }
}

window.addEventListener('hashchange', route);
window.addEventListener('DOMContentLoaded', () => {
  document.getElementById('logout').addEventListener('click', () => logout());
  document.getElementById('notice-close').addEventListener('click', () => { document.getElementById('notice').hidden = true; });
  route();
});
window.plumb = { operate: (namespace, name, operation, body) => operate({ namespace, name }, operation, body) };
