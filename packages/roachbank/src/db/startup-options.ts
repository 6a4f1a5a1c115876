import { RoachbankError } from '../errors/roachbank-error.js';

/** Session settings sent in the startup packet's `options`, in order, one per name. */
export type StartupSettings = ReadonlyMap<string, string>;

/**
 * Reads libpq's `options` text: arguments split on unescaped spaces (`\ ` is a
 * space inside a value, `\\` a backslash), each `-c name=value`, `-cname=value`
 * or `--name=value`. Those are the forms PostgreSQL and CockroachDB both take
 * (CockroachDB docs, "Client Connection Parameters": `options`); a name's `-`
 * reads as `_`, as PostgreSQL reads it. Anything else throws `INVALID_ARGUMENT`,
 * since merging it with roachbank's own settings would be a guess.
 *
 * @example
 * parseStartupOptions('-c statement_timeout=5s') // Map { 'statement_timeout' => '5s' }
 */
export function parseStartupOptions(text: string, where = 'options in DATABASE_URL'): Map<string, string> {
  const settings = new Map<string, string>();
  const words = wordsOf(text);
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    let pair: string | undefined;
    if (word === '-c') pair = words[++i];
    else if (word.startsWith('-c')) pair = word.slice(2);
    else if (word.startsWith('--')) pair = word.slice(2);
    const equals = pair?.indexOf('=') ?? -1;
    if (pair === undefined || equals < 1) {
      throw new RoachbankError(
        'INVALID_ARGUMENT',
        `${where} must be session settings such as "-c statement_timeout=5s", got "${word}"`,
      );
    }
    const name = pair.slice(0, equals).toLowerCase().replaceAll('-', '_');
    settings.delete(name); // a later value wins and takes the later place
    settings.set(name, pair.slice(equals + 1));
  }
  return settings;
}

/**
 * roachbank's settings joined with the caller's: every name once, the caller's
 * value winning where both name it, in libpq's `options` form.
 *
 * @example
 * mergeStartupOptions(new Map([['default_transaction_isolation', 'read committed']]), '-c statement_timeout=5s')
 * // '-c default_transaction_isolation=read\\ committed -c statement_timeout=5s'
 */
export function mergeStartupOptions(own: StartupSettings, theirs: string | undefined): string {
  const merged = new Map(own);
  for (const [name, value] of parseStartupOptions(theirs ?? '')) {
    merged.delete(name);
    merged.set(name, value);
  }
  return [...merged].map(([name, value]) => `-c ${name}=${escapeWord(value)}`).join(' ');
}

function wordsOf(text: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === '\\' && i + 1 < text.length) {
      current += text[++i];
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += char;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}

function escapeWord(value: string): string {
  return value.replace(/[\\\s]/g, (char) => `\\${char}`);
}
