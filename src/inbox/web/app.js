// The inbox: sign-in, then a small hash-routed app over the /v1 API (Preact + htm, no build step).
import { api, hasRole, html, render, session, setSession, stopLive, useEffect, useState } from './lib.js';
import { ApprovalPage } from './approval.js';
import { AttentionPage } from './attention.js';
import { HistoryPage } from './history.js';
import { Pending } from './pending.js';
import { RunPage } from './run.js';
import { SignIn } from './signin.js';
import { StartPage } from './start.js';

const route = () => {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  return { page: parts[0] || 'pending', id: parts[1] };
};

function App() {
  const [me, setMe] = useState(undefined);
  const [reason, setReason] = useState(undefined);
  const [where, setWhere] = useState(route());
  const [settings, setSettings] = useState(undefined);

  const signedOut = (why) => {
    stopLive();
    setReason(why);
    setMe((m) => (m ? { ...m, signedIn: false } : m));
  };
  const refresh = async () => {
    const res = await fetch('/inbox/api/me', { credentials: 'same-origin' });
    const body = await res.json();
    setSession(body.signedIn ? body : null, signedOut);
    if (!body.signedIn && body.reason !== 'not signed in') setReason(body.reason);
    setMe(body);
    if (body.signedIn) setSettings(await api('GET', '/inbox/api/settings').catch(() => undefined));
  };
  // Is the session still good? On every page change and every 15 s: a revoked token or an expired session
  // takes the page to sign-in even while the event stream has nothing to say.
  const check = async () => {
    if (!session.me) return;
    const body = await fetch('/inbox/api/me', { credentials: 'same-origin' })
      .then((r) => r.json())
      .catch(() => undefined);
    if (body && !body.signedIn && session.me) {
      setSession(null, signedOut);
      signedOut(body.reason);
    }
  };
  useEffect(() => {
    void refresh();
    const onHash = () => {
      setWhere(route());
      void check();
    };
    addEventListener('hashchange', onHash);
    const timer = setInterval(check, 15_000);
    return () => {
      removeEventListener('hashchange', onHash);
      clearInterval(timer);
    };
  }, []);
  // Move focus to the new page's heading, so keyboard and screen-reader users land on it.
  useEffect(() => {
    requestAnimationFrame(() => document.querySelector('main h1')?.focus());
  }, [where.page, where.id, me?.signedIn]);

  if (!me) return html`<p class="page" aria-busy="true">Loading…</p>`;
  if (!me.signedIn) return html`<main class="page"><${SignIn} me=${me} reason=${reason} onSignedIn=${() => (setReason(undefined), refresh())} /></main>`;

  const signOut = async () => {
    stopLive();
    await api('POST', '/inbox/auth/logout').catch(() => undefined);
    location.hash = '';
    setReason(undefined);
    await refresh();
  };
  const p = me.principal;
  const nav = [
    ['pending', hasRole('approver', 'operator', 'admin') ? 'Pending' : 'My runs', true],
    ['start', 'Start a run', hasRole('requester')],
    ['history', 'History', hasRole('approver', 'operator', 'admin')],
    ['attention', 'Needs attention', hasRole('operator', 'admin')],
  ].filter(([, , show]) => show);
  let page;
  if (where.page === 'approvals' && where.id) page = html`<${ApprovalPage} approvalId=${where.id} />`;
  else if (where.page === 'runs' && where.id) page = html`<${RunPage} runId=${where.id} settings=${settings} />`;
  else if (where.page === 'start') page = html`<${StartPage} />`;
  else if (where.page === 'history') page = html`<${HistoryPage} />`;
  else if (where.page === 'attention') page = html`<${AttentionPage} />`;
  else page = html`<${Pending} />`;
  return html`<header class="top">
      <a class="brand" href="#/">Airlock inbox</a>
      <nav aria-label="Inbox">${nav.map(([id, label]) => html`<a href=${`#/${id}`} aria-current=${where.page === id ? 'page' : undefined}>${label}</a>`)}</nav>
      <div class="who">
        <span data-testid="signed-in-as"><strong>${p.subject}</strong> <span class="muted">${p.roles.join(', ')} · ${p.groups.join(', ')}</span></span>
        <button type="button" class="secondary" onClick=${signOut}>Sign out</button>
      </div>
    </header>
    <main class="page">${page}</main>`;
}

render(html`<${App} />`, document.getElementById('app'));
