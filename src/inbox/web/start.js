// Start a run: pick an agent, fill a form generated from its input schema (JSON Schema), and go to the run.
import { api, html, useLive, useState } from './lib.js';
import { ErrorNote } from './ui.js';

function Field({ name, schema, required, value, onChange }) {
  const id = `field-${name}`;
  const label = html`<label for=${id}>${name}${required ? ' (required)' : ''}${schema.description ? html` <span class="muted">${schema.description}</span>` : null}</label>`;
  const set = (e) => onChange(e.currentTarget.type === 'checkbox' ? e.currentTarget.checked : e.currentTarget.value);
  if (Array.isArray(schema.enum))
    return html`${label}<select id=${id} required=${required} value=${value ?? ''} onChange=${set}>
        <option value="">—</option>
        ${schema.enum.map((v) => html`<option value=${String(v)}>${String(v)}</option>`)}
      </select>`;
  if (schema.type === 'boolean') return html`<div class="check"><input id=${id} type="checkbox" checked=${Boolean(value)} onChange=${set} />${label}</div>`;
  if (schema.type === 'number' || schema.type === 'integer') {
    const min = schema.minimum ?? schema.exclusiveMinimum;
    return html`${label}<input
        id=${id}
        type="number"
        inputmode="decimal"
        step=${schema.type === 'integer' ? '1' : 'any'}
        min=${min}
        max=${schema.maximum}
        required=${required}
        value=${value ?? ''}
        onInput=${set}
      />`;
  }
  if (schema.type === 'string' && (schema.maxLength ?? 0) > 200)
    return html`${label}<textarea id=${id} rows="3" required=${required} minlength=${schema.minLength} maxlength=${schema.maxLength} value=${value ?? ''} onInput=${set}></textarea>`;
  if (schema.type === 'string')
    return html`${label}<input id=${id} type="text" required=${required} pattern=${schema.pattern} minlength=${schema.minLength} maxlength=${schema.maxLength} value=${value ?? ''} onInput=${set} />`;
  return html`${label}<textarea id=${id} class="code" rows="3" required=${required} placeholder="JSON" value=${value ?? ''} onInput=${set}></textarea>`;
}

/** The form's values as the agent's input: numbers as numbers, JSON fields parsed, empty optional fields left out. */
function inputOf(schema, values) {
  const out = {};
  for (const [k, s] of Object.entries(schema.properties ?? {})) {
    const v = values[k];
    if (v === undefined || v === '') continue;
    if (s.type === 'number' || s.type === 'integer') out[k] = Number(v);
    else if (s.type === 'boolean' || s.type === 'string' || Array.isArray(s.enum)) out[k] = v;
    else out[k] = JSON.parse(v);
  }
  return out;
}

export function StartPage() {
  const { data, error } = useLive(() => api('GET', '/inbox/api/agents'), []);
  const [agent, setAgent] = useState('');
  const [values, setValues] = useState({});
  const [problem, setProblem] = useState(undefined);
  const [busy, setBusy] = useState(false);
  const chosen = data?.agents.find((a) => a.name === agent);
  const submit = async (e) => {
    e.preventDefault();
    setProblem(undefined);
    let input;
    try {
      input = inputOf(chosen.inputSchema, values);
    } catch (err) {
      return setProblem({ message: `A JSON field is not valid JSON: ${err.message}` });
    }
    setBusy(true);
    try {
      const { runId } = await api('POST', '/v1/runs', { agent, input });
      location.hash = `#/runs/${encodeURIComponent(runId)}`;
    } catch (err) {
      setProblem(err);
    } finally {
      setBusy(false);
    }
  };
  const schema = chosen?.inputSchema ?? {};
  const required = new Set(schema.required ?? []);
  return html`<section>
    <h1 tabindex="-1">Start a run</h1>
    <${ErrorNote} error=${error} />
    <form class="card start" onSubmit=${submit}>
      <label for="agent">Agent</label>
      <select id="agent" required value=${agent} onChange=${(e) => (setAgent(e.currentTarget.value), setValues({}))}>
        <option value="">Choose an agent…</option>
        ${(data?.agents ?? []).map((a) => html`<option value=${a.name}>${a.name}${a.description ? ` — ${a.description}` : ''}</option>`)}
      </select>
      ${
        chosen
          ? Object.entries(schema.properties ?? {}).map(
              ([name, s]) =>
                html`<${Field} key=${`${agent}/${name}`} name=${name} schema=${s} required=${required.has(name)} value=${values[name]} onChange=${(v) => setValues({ ...values, [name]: v })} />`,
            )
          : null
      }
      <${ErrorNote} error=${problem} />
      <button type="submit" disabled=${!chosen || busy}>Start the run</button>
    </form>
  </section>`;
}
