// 5. Where tool calls are validated, logged and monitored: the control path's steps (as the core lists
// them), the policy set in force, the audit store and the monitoring the config turns on.
import { auditPaths } from '../../audit/index.js';
import { redactUrl } from '../../audit/postgres.js';
import { CONTROL_MODULE, CONTROL_STEPS } from '../../core/controlSteps.js';
import { PolicyError } from '../../policy/engine.js';
import { gap, plural, type Model } from '../model.js';
import { QUESTIONS, type ReadinessAnswer, type ReadinessGap } from '../types.js';

export function controls(m: Model): ReadinessAnswer {
  const { config, engine } = m;
  const gaps: ReadinessGap[] = [];
  if (engine instanceof Error) {
    const link = engine instanceof PolicyError ? { file: engine.file, ...(engine.line !== undefined ? { line: engine.line } : {}), path: 'policy.dir' } : m.cfg.link(['policy', 'dir']);
    gaps.push(gap('error', 'policy-load-failed', `the policy set does not load, so every tool call is denied: ${engine.message}`, link));
  } else {
    for (const w of engine.warnings) gaps.push(gap('warning', 'policy-warning', w, m.cfg.link(['policy', 'dir'])));
  }

  const audit = config.audit;
  const paths = auditPaths(config);
  const store = audit.databaseUrl ? { kind: 'postgresql', url: redactUrl(audit.databaseUrl), schema: audit.schema } : { kind: 'sqlite', file: paths.file };
  const anchors = { file: paths.anchorFile, everyMs: audit.anchorEvery };
  const obs = config.observability;
  const metricsOn = obs.metrics.enabled;
  const metricsUrl = `http://${config.api.host}:${config.api.port}/metrics`;
  const otlp = obs.otlp?.endpoint ?? config.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? config.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? null;
  if (!metricsOn && !otlp)
    gaps.push(
      gap('warning', 'monitoring-off', 'observability.metrics is disabled and no OTLP endpoint is set: nothing monitors tool calls outside the logs', m.cfg.link(['observability', 'metrics'])),
    );

  const steps = CONTROL_STEPS.map((s) => s.check);
  const policyDesc =
    engine instanceof Error
      ? 'the Cedar policy set, which currently fails to load: every call is denied'
      : `the Cedar policy set version ${engine.version} (${plural(engine.policyIds.length, 'policy', 'policies')} over ${plural(engine.toolActions.size, 'declared tool')})`;
  const pins = config.registry.requirePins
    ? `tool definitions must match their pins in ${config.registry.lockFile}`
    : `registry.requirePins is off, so unpinned servers are called without their definitions being checked`;
  const redactRules = Object.keys(audit.redact).length;
  const answer =
    `Validated in ${CONTROL_MODULE} before every call, in ${plural(steps.length, 'step')}: ${steps.join(', ')}; the decision comes from ${policyDesc}, ${pins}, and any failure denies. ` +
    `Logged in the hash-chained audit store (${store.kind === 'postgresql' ? `PostgreSQL ${store.url}` : `SQLite ${store.file}`}` +
    `${redactRules ? `, ${plural(redactRules, 'redaction rule')}` : ', no redaction rules'}) and in each run's Temporal history (namespace ${config.temporal.namespace}). ` +
    `Monitored via ${metricsOn ? `${metricsUrl} (Prometheus)` : 'no /metrics (disabled)'} and ${otlp ? `OpenTelemetry traces to ${otlp}` : 'no OpenTelemetry traces (no OTLP endpoint is configured)'}.`;
  const links = [
    m.cfg.link(['policy', 'dir']),
    m.cfg.link(['registry', 'lockFile']),
    m.cfg.link(['registry', 'requirePins']),
    m.cfg.link(audit.databaseUrl ? ['audit', 'databaseUrl'] : ['audit', 'file']),
    m.cfg.link(['audit', 'redact']),
    m.cfg.link(['observability', 'metrics']),
    m.cfg.link(['observability', 'otlp']),
  ];
  return {
    id: 'controls',
    question: QUESTIONS.controls,
    answer,
    details: {
      validation: {
        where: CONTROL_MODULE,
        steps,
        policyDir: config.policy.dir,
        policyVersion: engine instanceof Error ? null : engine.version,
        policies: engine instanceof Error ? [] : engine.policyIds,
        lockFile: config.registry.lockFile,
        requirePins: config.registry.requirePins,
      },
      logging: { auditStore: store, redact: audit.redact, anchors, temporal: { namespace: config.temporal.namespace } },
      monitoring: { metrics: metricsOn ? metricsUrl : null, openTelemetry: otlp },
    },
    links,
    gaps,
  };
}
