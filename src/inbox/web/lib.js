// Shared by every view: Preact + htm, the API client (session cookie, CSRF header, 401 → sign-in), live updates
// (the /v1/events stream, or polling every second when the stream is unavailable) and small formatting helpers.
import { h, render } from '/inbox/vendor/preact.js';
import { useCallback, useEffect, useRef, useState } from '/inbox/vendor/hooks.js';
import htm from '/inbox/vendor/htm.js';

export const html = htm.bind(h);
export { render, useCallback, useEffect, useRef, useState };

let csrf = '';
let onSignedOut = () => {};
export const session = { me: null };

export function setSession(me, signedOut) {
  session.me = me;
  csrf = me?.csrf ?? '';
  onSignedOut = signedOut;
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** A call to the API (or the inbox's own endpoints) as the signed-in person; errors carry the server's message. */
export async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  const res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (res.status === 401) {
    onSignedOut(data?.error?.message ?? 'Your session has ended. Sign in again.');
    throw new ApiError(401, 'unauthorized', data?.error?.message ?? 'not signed in');
  }
  if (!res.ok) throw new ApiError(res.status, data?.error?.code ?? 'error', data?.error?.message ?? `HTTP ${res.status}`);
  return data;
}

export const hasRole = (...roles) => roles.some((r) => session.me?.principal?.roles.includes(r));
export const me = () => session.me?.principal?.subject;

// Live updates: one EventSource for the page (GET /v1/events, with the session cookie). While it is down (an
// error, or an API without the stream) the page polls every second instead, and tries the stream again later.
const EVENT_TYPES = ['run.status', 'approval.requested', 'approval.voted', 'approval.decided', 'approval.escalated', 'approval.expired', 'input.requested', 'input.answered', 'message'];
const RETRY_STREAM_MS = 15_000;
/** Even with the stream up, a slow re-read: the stream shows each person only events about what they may see. */
const SAFETY_POLL_MS = 5_000;
let safety;
const listeners = new Set();
let source;
let poller;
let retry;
let live = false;
const notify = () => listeners.forEach((f) => f());

function openStream() {
  if (!live || source) return;
  if (typeof EventSource === 'undefined') return void (poller ??= setInterval(notify, 1000));
  source = new EventSource('/v1/events');
  for (const t of EVENT_TYPES) source.addEventListener(t, notify);
  source.addEventListener('open', () => {
    clearInterval(poller);
    poller = undefined;
    notify(); // what happened while it was down
  });
  source.addEventListener('error', () => {
    source?.close();
    source = undefined;
    poller ??= setInterval(notify, 1000);
    clearTimeout(retry);
    retry = setTimeout(openStream, RETRY_STREAM_MS);
  });
}

function startLive() {
  live = true;
  safety ??= setInterval(notify, SAFETY_POLL_MS);
  openStream();
}

export function stopLive() {
  live = false;
  source?.close();
  source = undefined;
  clearInterval(poller);
  poller = undefined;
  clearTimeout(retry);
  clearInterval(safety);
  safety = undefined;
}

/** Data from `load()`, reloaded on live updates (at most every `everyMs`) and when `deps` change. */
export function useLive(load, deps, everyMs = 0) {
  const [state, setState] = useState({ data: undefined, error: undefined });
  const seq = useRef(0);
  const reload = useCallback(async () => {
    const n = ++seq.current;
    try {
      const data = await load();
      if (n === seq.current) setState({ data, error: undefined });
    } catch (error) {
      if (n === seq.current && error.status !== 401) setState((s) => ({ data: s.data, error }));
    }
  }, deps);
  useEffect(() => {
    setState({ data: undefined, error: undefined });
    void reload();
    startLive();
    let busy = false;
    let last = Date.now();
    const f = async () => {
      if (busy || Date.now() - last < everyMs) return;
      busy = true;
      last = Date.now();
      await reload();
      busy = false;
    };
    listeners.add(f);
    return () => listeners.delete(f);
  }, [reload]);
  return { ...state, reload };
}

/** The current time, re-rendered every second (countdowns). */
export function useNow() {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  return now;
}

export function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  if (d > 0) return `${d}d ${hh}h ${mm}m`;
  if (hh > 0) return `${hh}h ${mm}m ${ss}s`;
  return mm > 0 ? `${mm}m ${ss}s` : `${ss}s`;
}

export const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');
export const runIdOf = (approvalId) => approvalId.replace(/\.a\d+$/, '');
export const splitTool = (tool) => {
  const i = tool.indexOf('.');
  return i < 0 ? { server: '', name: tool } : { server: tool.slice(0, i), name: tool.slice(i + 1) };
};
export const money = (amount, currency) =>
  typeof amount === 'number' ? `${amount.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}${currency ? ` ${currency}` : ''}` : String(amount);
export const json = (v) => JSON.stringify(v, null, 2);
