// The Temporal UI's (and `temporal … --codec-endpoint`'s) remote codec: POST /codec/decode and /codec/encode with
// `{ payloads: [{ metadata: { key: base64 }, data: base64 }] }` (proto3 JSON), answered in the same shape, run
// through the payload codec (src/temporal/codec.ts). Only operators and admins: it turns Temporal's ciphertext into
// the runs' data. Mounted before the API's JSON parser, so it has its own CORS, sign-in and body limit.
import express, { Router, type RequestHandler } from 'express';
import type { Payload } from '@temporalio/common';
import type { z } from 'zod';
import { ErrorCode } from '../../core/errors.js';
import { PayloadCodecError, payloadCodec } from '../../temporal/codec.js';
import { authenticate, requireRole } from '../auth.js';
import { logOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, forbidden } from '../errors.js';
import { CodecBodySchema } from '../schemas.js';

/** Histories carry large payloads: the UI sends a page's worth at once. */
const BODY_LIMIT = '4mb';
type WirePayload = z.infer<typeof CodecBodySchema>['payloads'][number];

const fromWire = (p: WirePayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toWire = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

/** The origins allowed to call from a browser: `temporal.uiOrigins`, else the local dev server's UI. */
function allowedOrigins(deps: ApiDeps): Set<string> {
  const t = deps.config.temporal;
  const configured = t.uiOrigins ?? [
    'http://127.0.0.1:8233',
    'http://localhost:8233',
    ...(t.devServer.uiPort ? [`http://${t.devServer.ip}:${t.devServer.uiPort}`, `http://localhost:${t.devServer.uiPort}`] : []),
  ];
  return new Set(configured.map((o) => new URL(o).origin));
}

/** CORS for the Temporal UI: its origin may call with credentials; a preflight is answered here. */
function cors(origins: Set<string>): RequestHandler {
  return (req, res, next) => {
    const origin = req.header('origin');
    res.vary('Origin');
    if (origin !== undefined) {
      if (!origins.has(origin)) throw forbidden(`origin ${origin} may not call the codec endpoint (temporal.uiOrigins)`);
      res.set({
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Credentials': 'true',
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Authorization, Content-Type, X-Namespace',
        'Access-Control-Max-Age': '600',
      });
    }
    if (req.method === 'OPTIONS') return void res.status(204).end();
    next();
  };
}

export function codecRoutes(deps: ApiDeps): Router {
  const r = Router();
  const namespace = deps.config.temporal.namespace;
  // Built on first use: an API that never serves /codec reads no keys for it (the stack already did at start).
  const codec = () => payloadCodec(deps.config);
  r.use('/codec', cors(allowedOrigins(deps)));
  const guard: RequestHandler = (req, _res, next) => {
    requireRole(req, ['operator', 'admin'], 'the codec endpoint needs the operator or admin role');
    const ns = req.header('x-namespace');
    if (ns === undefined) throw new ApiError(ErrorCode.InvalidRequest, 'missing X-Namespace header');
    if (ns !== namespace) throw forbidden(`this codec serves namespace ${namespace}, not ${ns}`);
    next();
  };
  for (const op of ['encode', 'decode'] as const) {
    r.post(`/codec/${op}`, authenticate(deps.verifier), guard, express.json({ limit: BODY_LIMIT }), async (req, res) => {
      const body = CodecBodySchema.parse(req.body);
      let out: Payload[];
      try {
        out = await codec()[op](body.payloads.map(fromWire));
      } catch (err) {
        if (err instanceof PayloadCodecError) throw new ApiError(ErrorCode.InvalidRequest, err.message, undefined, { status: 422, cause: err });
        throw err;
      }
      logOf(req).info({ op, payloads: out.length }, `codec ${op}`);
      res.json({ payloads: out.map(toWire) });
    });
  }
  return r;
}
