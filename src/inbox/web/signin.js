// Sign-in: the demo users of the development issuer, or the organisation's OpenID provider.
import { html, useState } from './lib.js';
import { ErrorNote } from './ui.js';

export function SignIn({ me, reason, onSignedIn }) {
  const [problem, setProblem] = useState(undefined);
  const devSignIn = async (user) => {
    setProblem(undefined);
    const res = await fetch('/inbox/auth/dev', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user }) });
    if (!res.ok) return setProblem({ message: (await res.json().catch(() => undefined))?.error?.message ?? `sign-in failed (HTTP ${res.status})` });
    onSignedIn();
  };
  const s = me.signin;
  return html`<section class="signin">
    <h1 tabindex="-1">Sign in to the Airlock inbox</h1>
    ${reason ? html`<p class="notice" role="status">${reason}</p>` : null}
    <${ErrorNote} error=${problem} />
    ${
      s.kind === 'dev'
        ? html`<div class="card dev">
            <h2>Development sign-in</h2>
            <p class="warning">Development only: the embedded dev issuer signs anyone in as a demo user, without a password. Configure OIDC for real use.</p>
            <ul class="users">
              ${s.users.map(
                (u) =>
                  html`<li key=${u.subject}>
                    <button type="button" onClick=${() => devSignIn(u.subject)}>Sign in as ${u.subject}</button>
                    <span class="muted">${u.roles.join(', ')} · ${u.groups.join(', ')}${u.kind === 'service' ? ' · service account' : ''}</span>
                  </li>`,
              )}
            </ul>
          </div>`
        : s.configured
          ? html`<p><a class="button" href="/inbox/auth/login">Sign in with ${new URL(s.issuer).host}</a></p>`
          : html`<p class="error">OIDC is the identity issuer, but the inbox has no OIDC client: set inbox.oidc.clientId (and clientSecret).</p>`
    }
  </section>`;
}
