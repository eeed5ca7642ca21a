// The scanner's text patterns: what tool-poisoning text looks like in English. Data, no logic; src/registry/scanner.ts applies them.

const W = '[\\s\\S]{0,60}?'; // a short gap within the same passage

/** Text aimed at the model that a user would not expect in a tool definition. */
export const HIDDEN_INSTRUCTION: RegExp[] = [
  // "ignore all previous instructions", "disregard the above rules", "forget your prior guidelines"
  new RegExp(
    `\\b(?:ignore|disregard|forget|override|bypass|skip)\\b${W}\\b(?:previous|prior|above|earlier|preceding|all|any|other|your|system|original|existing|safety)\\b${W}\\b(?:instructions?|prompts?|rules|directives?|guidelines|guardrails|messages|constraints|polic(?:y|ies)|restrictions)\\b`,
    'i',
  ),
  // <IMPORTANT>, </SYSTEM>, <instructions>, <admin>, <hidden>, …
  /<\s*\/?\s*(?:important|system|sys|instructions?|admin|assistant|prompt|secret|hidden|critical|urgent|override|directive|rules|context|ai|llm|model|note[-_ ]?to[-_ ]?(?:ai|model|assistant))\b[^>]{0,40}>/i,
  // chat-template and role markers
  /<\|\s*(?:im_start|im_end|system|endoftext)\s*\|>|\[\/?INST\]|<<\/?SYS>>|(?:^|\n)\s*#{1,4}\s*(?:system|instructions?)\b|(?:^|\n)\s*(?:system|assistant)\s*:/i,
  // HTML comments are invisible in rendered markdown
  /<!--[\s\S]*?[A-Za-z][\s\S]*?-->/,
  // keeping the user out of the loop
  /\b(?:do\s+not|don'?t|never|must\s+not|should\s+not|shouldn'?t)\s+(?:tell|mention|inform|reveal|disclose|notify|alert|warn|show|let)\b[\s\S]{0,40}?\b(?:user|human|anyone|them|operator)\b/i,
  /\bwithout\s+(?:telling|informing|notifying|alerting|asking|warning\s+(?:the\s+)?user|the\s+user(?:'s)?\s+(?:knowledge|consent|noticing)|user\s+(?:knowledge|consent))\b/i,
  /\b(?:do\s+not|don'?t|never)\s+(?:ask|seek|request|wait)\s+(?:the\s+user\s+)?(?:for\s+)?(?:confirmation|permission|approval|consent)\b/i,
  /\b(?:secretly|covertly|surreptitiously|behind\s+the\s+user'?s\s+back)\b/i,
  /\b(?:keep|leave)\s+(?:this|it|these\s+instructions)\s+(?:secret|hidden|confidential|between\s+us)\b/i,
  /\bthe\s+user\s+(?:must|should|need)\s+not\s+(?:know|see|be\s+told|find\s+out|notice)\b/i,
  /\b(?:regardless\s+of|even\s+if)\s+(?:what\s+)?the\s+user\s+(?:says|asks|wants|requests|instructs)\b/i,
  // urgency markers used to make the model comply
  /\b(?:this\s+is|it\s+is|it'?s)\s+(?:very|extremely|critically|really|super|vitally)\s+important\b/i,
  /\b(?:very|extremely|critically)\s+important\s*(?::|!|that\b|to\b)/i,
  // system-prompt-like imperatives aimed at the model
  /\b(?:you\s+are\s+now|from\s+now\s+on|new\s+instructions?\s*:|your\s+(?:new|real|true|actual)\s+(?:instructions?|task|goal|objective|purpose)|developer\s+mode|jailbreak|act\s+as\s+(?:if|an?|the)\b|pretend\s+(?:to\s+be|you\s+are|that))/i,
  /\b(?:reveal|print|output|repeat|show|leak|dump)\s+(?:your|the)\s+(?:system\s+prompt|instructions|initial\s+prompt|hidden\s+prompt)/i,
  /\b(?:do\s+not|don'?t|never)\s+(?:follow|obey|trust|use|call)\s+(?:any\s+)?(?:other|the\s+other|instructions|previous|prior)\b/i,
];

/** "before using this tool, (first) read/call …" — steering the model into a preliminary action. */
export const BEFORE_USING =
  /\b(?:before|prior\s+to)\s+(?:using|calling|invoking|running|executing|you\s+(?:use|call|invoke|run))\s+(?:this|the|any|these|other)\s+tools?\b[\s\S]{0,40}?\b(read|cat|open|load|fetch|send|upload|include|pass|provide|attach|execute|run|call|invoke|use)\b([\s\S]{0,60})/i;

const IMPERATIVE =
  '(?:read|cat|open|load|send|include|pass|provide|attach|append|upload|share|copy|paste|output|print|fetch|retrieve|extract|collect|put|insert|forward|give|supply|enter|add|embed|dump|list|post|transmit|submit|encode|summari[sz]e)';

/** Files and places that hold secrets: naming one next to an imperative is a request to read it. */
const SENSITIVE_PATH =
  '(?:~?/?\\.ssh\\b/?[\\w.-]*|\\bid_(?:rsa|dsa|ecdsa|ed25519)\\b(?:\\.pub)?|(?:^|(?<=[\\s"\'`(/~:,]))\\.env(?:\\.[\\w-]+)?\\b|/etc/(?:passwd|shadow|sudoers)\\b|\\b(?:mcp|claude_desktop_config|mcp_config|settings)\\.json\\b|\\.aws/credentials\\b|\\.npmrc\\b|\\.netrc\\b|\\.pgpass\\b|\\.git-credentials\\b|\\.kube/config\\b|\\.docker/config\\.json\\b|\\bauthorized_keys\\b|\\bknown_hosts\\b|\\.bash_history\\b|\\.zsh_history\\b|\\bkeychain\\b|\\bwallet\\.dat\\b)';
/** Secrets named generically: flagged only with an imperative and a pointer to existing ones (your, any, the user's, stored …). */
const SECRET_WORD =
  '(?:api[\\s_-]?keys?|apikeys?|(?:access|auth|bearer|session|refresh|oauth|github|slack|secret|api)[\\s_-]?tokens?|passwords?|passphrases?|credentials?|private[\\s_-]?keys?|secret[\\s_-]?keys?|secrets|ssh[\\s_-]?keys?|session\\s+cookies?|cookies|seed\\s+phrases?|mnemonics?|recovery\\s+codes?|one[\\s-]time\\s+codes?|2fa\\s+codes?|otp\\s+codes?|environment\\s+variables?|env\\s+vars?)';
const SECRET_OWNER = "(?:your|the\\s+user'?s|user'?s|their|any|all|every|stored|saved|existing|local|available|current|environment|system|these|those)";

export const SECRET_REQUEST: RegExp[] = [
  new RegExp(`\\b${IMPERATIVE}\\b[\\s\\S]{0,80}?${SENSITIVE_PATH}`, 'i'),
  new RegExp(`${SENSITIVE_PATH}[\\s\\S]{0,80}?\\b${IMPERATIVE}\\b`, 'i'),
  new RegExp(`\\b(?:contents?|content)\\s+of\\s+[\\s\\S]{0,30}?${SENSITIVE_PATH}`, 'i'),
  new RegExp(`\\b${IMPERATIVE}\\b[\\s\\S]{0,40}?\\b${SECRET_OWNER}\\b[\\s\\S]{0,30}?\\b${SECRET_WORD}\\b`, 'i'),
  new RegExp(`\\b${SECRET_OWNER}\\s+${SECRET_WORD}\\b[\\s\\S]{0,40}?\\b(?:here|into\\s+this|in\\s+this\\s+(?:field|parameter|argument))\\b`, 'i'),
];
export const SENSITIVE_PATH_ONLY = new RegExp(SENSITIVE_PATH, 'i');

/** A property described as a place for the conversation, context, secrets or file contents. */
export const EXFIL_DESCRIPTION: RegExp[] = [
  /\b(?:pass|put|include|provide|paste|insert|add|send|copy|fill|append|dump|attach|write|place|store|record|enter|supply|give|summari[sz]e|list)\b[\s\S]{0,40}?\b(?:contents?\s+of|full|entire|whole|complete|all|every|any|verbatim|raw|your|the\s+(?:current|previous|prior|whole|full))\b[\s\S]{0,30}?\b(?:conversation|chat|transcript|context(?!\s+of\b)|context\s+window|system\s+prompt|(?:previous|prior|earlier)\s+(?:messages|turns|results|instructions)|messages\s+so\s+far|tool\s+(?:results|outputs|calls)|other\s+tools|credentials?|secrets?|api\s+keys?|private\s+keys?|ssh\s+keys?|passwords?|(?:access|auth|api)\s+tokens?|environment\s+variables|env\s+vars)\b/i,
  /\b(?:contents?|text)\s+of\s+(?:the\s+|any\s+|all\s+|your\s+|every\s+)?(?:local\s+)?(?:files?\b|documents?\b|~|\/|\.\w)/i,
  /\b(?:conversation|chat)\s+(?:so\s+far|history|transcript|context|log)\b/i,
  /\b(?:everything|all)\s+(?:the\s+user|you)\s+(?:said|wrote|know|have\s+seen|were\s+told)\b/i,
  /\b(?:credentials?|secrets?|api\s+keys?|passwords?|tokens?)\s+(?:go\s+)?here\b/i,
  /\b(?:your\s+(?:system\s+prompt|instructions)|the\s+system\s+prompt)\b/i,
];

/** Property names that only make sense as exfiltration channels. */
export const EXFIL_NAME =
  /^(?:sidenote|sidenotes|conversation|conversationhistory|chathistory|chatlog|transcript|previousmessages|allmessages|systemprompt|fullcontext|contextwindow|secrets?|credentials?|apikeys?|privatekeys?|sshkeys?|filecontents?|envvars|environmentvariables|passwords?|accesstoken|authtoken)$/;

export const URL_RE = /\b(?:(?:https?|ftp):\/\/|www\.)[^\s"'<>`)\]}]+/gi;
