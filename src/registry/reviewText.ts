// Text analysis for the review-grade checks (src/registry/reviewChecks.ts): words of names and
// descriptions (snake/camel-case split, stemmed), the semantic categories a parameter asks for, the
// language and script of a text, and encoded runs (base64, hex, \u escapes, percent-encoding, rot13,
// paths spelled out in words) decoded for a human. Pure functions, no I/O.
import { franc } from 'franc-min';
import { stemmer } from 'stemmer';
import { HIDDEN_INSTRUCTION, SECRET_REQUEST, SENSITIVE_PATH_ONLY } from './scanPatterns.js';

/** Lower-case words of a name or text: `sshKeyContents` → ssh key contents, `note_from_system_prompt` → note from system prompt. */
export function words(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/** Stems of the words, with single letters spelled out ("r s a") joined into one word ("rsa"). */
export function stems(text: string): string[] {
  const out: string[] = [];
  let letters = '';
  const flush = () => {
    if (letters) out.push(letters.length > 1 ? letters : stemmer(letters));
    letters = '';
  };
  for (const w of words(text)) {
    if (/^[a-z]$/.test(w) && w !== 'a') letters += w;
    else {
      flush();
      out.push(stemmer(w));
    }
  }
  flush();
  return out;
}

export type Category = 'credentials' | 'files' | 'environment' | 'conversation' | 'contents';

export const CATEGORY_LABEL: Record<Category, string> = {
  credentials: 'credentials or keys',
  files: 'local files or paths',
  environment: 'the environment',
  conversation: 'the conversation, system prompt or other tools’ output',
  contents: 'the contents of something',
};

/** Phrases (in words) that put a parameter in a category. Stemmed once, matched on stems. */
const ASKS: Record<Category, string[]> = {
  credentials: [
    'password',
    'passwd',
    'passphrase',
    'secret',
    'credential',
    'creds',
    'apikey',
    'api key',
    'api token',
    'access key',
    'access token',
    'auth token',
    'bearer',
    'refresh token',
    'session token',
    'session cookie',
    'cookie',
    'private key',
    'secret key',
    'ssh key',
    'sshkey',
    'signing key',
    'encryption key',
    'gpg key',
    'pgp key',
    'mnemonic',
    'seed phrase',
    'recovery code',
    'otp',
    'totp',
    '2fa',
    'id rsa',
    'idrsa',
    'id ed25519',
    'id dsa',
    'id ecdsa',
    'keychain',
    'private token',
    'github token',
    'aws key',
  ],
  files: [
    'ssh',
    'dot ssh',
    'dotfile',
    'home directory',
    'home folder',
    'file path',
    'filepath',
    'file',
    'files',
    'folder',
    'directory',
    'path',
    'etc passwd',
    'dot env',
    'env file',
    'config file',
    'disk',
  ],
  environment: ['environment', 'env', 'env var', 'envvar', 'environment variable', 'process env', 'shell history', 'bash history', 'hostname'],
  conversation: [
    'system prompt',
    'systemprompt',
    'prompt',
    'conversation',
    'chat history',
    'chat log',
    'transcript',
    'previous message',
    'prior message',
    'earlier message',
    'previous messages',
    'all messages',
    'message history',
    'context window',
    'instructions',
    'other tool',
    'other tools',
    'tool output',
    'tool result',
    'previous result',
    'previous tool',
    'last tool',
    'memory of',
  ],
  contents: ['contents of', 'content of', 'contents', 'text of'],
};

/** Words of a tool's name or description that make a category part of its purpose. */
const PURPOSE: Record<Category, string[]> = {
  credentials: ['password', 'passphrase', 'secret', 'credential', 'key', 'token', 'auth', 'authenticate', 'authentication', 'login', 'sign', 'oauth', 'vault', 'keychain', 'cookie', 'session', 'ssh'],
  files: ['file', 'folder', 'directory', 'path', 'document', 'attachment', 'upload', 'download', 'disk', 'storage', 'filesystem', 'compress', 'gzip', 'zip', 'archive', 'image', 'media', 'ssh'],
  environment: ['environment', 'env', 'config', 'configuration', 'variable', 'debug', 'deploy', 'shell', 'process', 'host'],
  conversation: ['conversation', 'chat', 'message', 'transcript', 'prompt', 'history', 'summary', 'summarize', 'memory', 'context', 'instruction', 'tool'],
  contents: ['file', 'document', 'content', 'page', 'text', 'read', 'write', 'edit', 'note', 'body', 'observation'],
};

const stemPhrase = (p: string) => stems(p);
const ASK_STEMS = Object.fromEntries(Object.entries(ASKS).map(([c, ps]) => [c, ps.map(stemPhrase)])) as Record<Category, string[][]>;
const PURPOSE_STEMS = Object.fromEntries(Object.entries(PURPOSE).map(([c, ps]) => [c, new Set(ps.map((p) => stemmer(p)))])) as Record<Category, Set<string>>;

/** Words before "token"/"key" that make it no secret (pagination, idempotency, sort keys). */
const BENIGN_BEFORE = new Set(['page', 'pagin', 'next', 'continu', 'cursor', 'sync', 'idempot', 'sort', 'partit', 'primari', 'foreign', 'cach', 'dedup', 'map', 'lookup']);

function indexOfPhrase(hay: string[], phrase: string[]): number {
  outer: for (let i = 0; i + phrase.length <= hay.length; i++) {
    for (let j = 0; j < phrase.length; j++) if (hay[i + j] !== phrase[j]) continue outer;
    return i;
  }
  return -1;
}

/** The categories a parameter's name or description asks for, each with the phrase that put it there. */
export function categoriesOf(text: string): Map<Category, string> {
  const s = stems(text);
  const out = new Map<Category, string>();
  for (const [cat, phrases] of Object.entries(ASK_STEMS) as Array<[Category, string[][]]>) {
    for (const p of phrases) {
      const at = indexOfPhrase(s, p);
      if (at < 0) continue;
      if (p.length === 1 && BENIGN_BEFORE.has(s[at - 1] ?? '')) continue;
      // "contents" alone (a note's contents) only counts next to another category.
      if (cat === 'contents' && p.length === 1) continue;
      out.set(cat, p.join(' '));
      break;
    }
  }
  return out;
}

/** Whether the tool's own words (name, title, description) make the category its purpose. */
export function purposeCovers(cat: Category, toolStems: Set<string>): boolean {
  for (const w of PURPOSE_STEMS[cat]) if (toolStems.has(w)) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Language and script
// ---------------------------------------------------------------------------------------------

const LANGUAGES: Record<string, string> = {
  deu: 'German',
  fra: 'French',
  spa: 'Spanish',
  ita: 'Italian',
  por: 'Portuguese',
  nld: 'Dutch',
  pol: 'Polish',
  tur: 'Turkish',
  swe: 'Swedish',
  ces: 'Czech',
  ron: 'Romanian',
  hun: 'Hungarian',
  ind: 'Indonesian',
  vie: 'Vietnamese',
};

const SCRIPTS = ['Han', 'Hiragana', 'Katakana', 'Hangul', 'Cyrillic', 'Greek', 'Arabic', 'Hebrew', 'Devanagari', 'Thai', 'Armenian', 'Georgian', 'Ethiopic', 'Bengali', 'Tamil'];

/** Common English words: a text with enough of them is English whatever a short-text detector says. */
const ENGLISH = new Set(
  'the a an of to and or in on for with is are be by this that it its as at from if not no all any each when then than into only your you can will may must should use used returns return which who what how per but so their these those was were has have had do does one two more most other same such up out'.split(
    ' ',
  ),
);

/** Function words of other languages written in Latin script (none of them English words). */
const FOREIGN = new Set(
  [
    'der die das und ist nicht mit von zu den dem ein eine einen für auf im vor oder sie ihr ihren ihre bitte immer alle diese dieses werkzeug datei',
    'le la les des et est une un du pour dans avec sur pas vous ce cet cette ces au aux votre vos toujours fichier outil',
    'el los las y es por para con una del que se su sus usted siempre antes archivo herramienta',
    'il di che per non della delle gli sempre prima questo questa',
    'het een en van niet voor met op het zijn altijd',
    'nie się jest na że jak ale',
    've bir bu için ile olarak',
    'não uma com os para pelo sempre antes',
  ]
    .join(' ')
    .split(' '),
);

/** The share of common English words among a text's words. */
export function englishRatio(text: string): number {
  const w = words(text).filter((x) => /^\p{L}+$/u.test(x));
  return w.length ? w.filter((x) => ENGLISH.has(x)).length / w.length : 0;
}

/** Why the text is not English (script or detected language), or undefined when it is (or too short to tell). */
export function notEnglish(text: string): string | undefined {
  const foreign = [...text.matchAll(/(?:(?!\p{Script=Latin})\p{L}){2,}/gu)].map((m) => m[0]);
  if (foreign.length) {
    const scripts = SCRIPTS.filter((name) => new RegExp(`\\p{Script=${name}}`, 'u').test(foreign.join('')));
    return `${scripts.join('+') || 'non-Latin'} script: "${foreign.slice(0, 3).join(' ')}"`;
  }
  const latin = words(text.replace(/\b[\w.-]*[_\d][\w.-]*\b/g, ' ')).filter((x) => /^\p{L}{2,}$/u.test(x));
  if (latin.length < 5 || englishRatio(text) >= 0.12) return undefined;
  // Short technical English ("Preview changes using git-style diff format") fools trigram detectors:
  // another language also has to show its own function words.
  const own = latin.filter((w) => FOREIGN.has(w)).length;
  if (own < 2 || own <= latin.filter((w) => ENGLISH.has(w)).length) return undefined;
  const lang = franc(text, { minLength: 20 });
  if (lang === 'und' || lang === 'eng' || lang === 'sco') return undefined;
  return `reads as ${LANGUAGES[lang] ?? lang} (${lang})`;
}

// ---------------------------------------------------------------------------------------------
// Encoded and spelled-out text
// ---------------------------------------------------------------------------------------------

export interface Decoded {
  encoding: string;
  start: number;
  end: number;
  decoded: string;
}

const printable = (s: string) => s.length > 0 && [...s].filter((c) => /[\x20-\x7E\n\t\r]|\p{L}/u.test(c)).length / [...s].length >= 0.9;
const readable = (s: string) => printable(s) && /\p{L}{2,}[\s,.:;!?]+\p{L}{2,}/u.test(s);

function rot13(s: string): string {
  return s.replace(/[A-Za-z]/g, (c) => String.fromCharCode(((c.charCodeAt(0) - (c <= 'Z' ? 65 : 97) + 13) % 26) + (c <= 'Z' ? 65 : 97)));
}

const INSTRUCTION_WORDS =
  /\b(?:ignore|instructions?|previous|password|secret|credentials?|ssh|id_rsa|token|api\s+key|send|read|include|pass|system\s+prompt|conversation|user|tool|file|contents?|do\s+not|must|always)\b/gi;

/** Words spelled out for punctuation ("id underscore r s a in the dot s s h folder") put back together. */
export function despell(text: string): string {
  return text
    .replace(/\b(?:underscore|under\s+score)\b/gi, '_')
    .replace(/\b(?:dot|period)\b/gi, '.')
    .replace(/\b(?:forward\s+)?slash\b/gi, '/')
    .replace(/\btilde\b/gi, '~')
    .replace(/\b(?:dash|hyphen)\b/gi, '-')
    .replace(/\b([a-z])(?:\s+([a-z]))+\b/gi, (m) => (/^(?:a|i)$/i.test(m.trim()) ? m : m.replace(/\s+/g, '')))
    .replace(/\s*([_/~-])\s*/g, '$1')
    .replace(/(^|\s)\.\s+(?=\w)/g, '$1.');
}

/** Encoded runs that decode to readable text, and secret paths spelled out in words. */
export function decodeRuns(text: string): Decoded[] {
  const out: Decoded[] = [];
  const push = (encoding: string, m: RegExpExecArray, decoded: string) => out.push({ encoding, start: m.index, end: m.index + m[0].length, decoded });
  for (const m of text.matchAll(/(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,}={0,2}/g)) {
    if (/^[a-z_-]+$/i.test(m[0]) && /[_-]/.test(m[0])) continue; // snake_case and kebab-case identifiers
    const decoded = Buffer.from(m[0].replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    if (readable(decoded)) push('base64', m as RegExpExecArray, decoded);
  }
  for (const m of text.matchAll(/(?<![0-9A-Fa-f])(?:(?:\\x|0x)?[0-9A-Fa-f]{2}[\s:]?){12,}/g)) {
    const hex = m[0].replace(/\\x|0x|[\s:]/g, '');
    const decoded = Buffer.from(hex, 'hex').toString('utf8');
    if (readable(decoded)) push('hex', m as RegExpExecArray, decoded);
  }
  for (const m of text.matchAll(/(?:\\u\{[0-9A-Fa-f]{1,6}\}|\\u[0-9A-Fa-f]{4}|\\x[0-9A-Fa-f]{2}){3,}/g)) {
    const decoded = m[0].replace(/\\u\{([0-9A-Fa-f]+)\}|\\u([0-9A-Fa-f]{4})|\\x([0-9A-Fa-f]{2})/g, (_, a, b, c) => String.fromCodePoint(parseInt(a ?? b ?? c, 16)));
    push('\\u escapes', m as RegExpExecArray, decoded);
  }
  for (const m of text.matchAll(/(?:%[0-9A-Fa-f]{2}[^\s%]{0,3}){4,}/g)) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(m[0]);
    } catch {
      continue;
    }
    // Letters and digits never need percent-encoding: encoding them hides them.
    if ([...m[0].matchAll(/%([0-9A-Fa-f]{2})/g)].some(([, h]) => /[A-Za-z0-9]/.test(String.fromCharCode(parseInt(h!, 16))))) push('percent-encoding', m as RegExpExecArray, decoded);
  }
  const rot = rot13(text);
  const found = (s: string) => new Set([...s.matchAll(INSTRUCTION_WORDS)].map((m) => m[0].toLowerCase())).size;
  if (englishRatio(rot) >= 0.2 && englishRatio(text) < 0.1 && found(rot) >= 2 && found(rot) > found(text)) {
    out.push({ encoding: 'rot13', start: 0, end: text.length, decoded: rot });
  }
  const spelled = despell(text);
  if (spelled !== text && SENSITIVE_PATH_ONLY.test(spelled) && !SENSITIVE_PATH_ONLY.test(text)) {
    const at = SENSITIVE_PATH_ONLY.exec(spelled)!;
    out.push({ encoding: 'spelled out', start: 0, end: text.length, decoded: spelled.slice(Math.max(0, at.index - 40), at.index + at[0].length + 40) });
  }
  return out;
}

/** Whether decoded text reads as an instruction or a secret request (said in the finding). */
export function decodedIsInstruction(decoded: string): boolean {
  return [...HIDDEN_INSTRUCTION, ...SECRET_REQUEST].some((re) => re.test(decoded)) || SENSITIVE_PATH_ONLY.test(decoded);
}
