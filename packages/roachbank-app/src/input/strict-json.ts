import { visit } from 'jsonc-parser';
import { RoachbankError } from 'roachbank';
import secureJson from 'secure-json-parse';

/**
 * Parses JSON strictly, the one rule for every input that carries movements (an
 * HTTP body, a line of `transfer --file`): a key named twice in one object is
 * refused, because a proxy, a log or an audit that reads the first `amount` would
 * disagree with what moved; `__proto__` or `constructor.prototype` keys are refused
 * (prototype poisoning). Anything refused is INVALID_ARGUMENT saying why, about
 * `what` ("the JSON body", "line 3"). The value comes from secure-json-parse (the
 * parser Fastify itself uses); the duplicate scan is jsonc-parser's visitor over
 * the same text.
 *
 * @example
 * parseStrictJson('{"amount":"1","amount":"400"}', 'line 1') // throws: line 1 names the key "amount" more than once
 */
export function parseStrictJson(text: string, what: string): unknown {
  let value: unknown;
  try {
    value = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (error) {
    if (/forbidden prototype property/.test((error as Error).message)) {
      throw invalid(`${what} has a "__proto__" or "constructor.prototype" key, which is refused (prototype poisoning)`);
    }
    throw invalid(`${what} is not valid JSON (${(error as Error).message})`);
  }
  const repeated = firstRepeatedKey(text);
  if (repeated !== undefined) throw invalid(`${what} names the key "${repeated}" more than once in one object`);
  return value;
}

/** The first key that appears twice in the same object, anywhere in the document. */
function firstRepeatedKey(text: string): string | undefined {
  const open: Set<string>[] = [];
  let repeated: string | undefined;
  visit(text, {
    onObjectBegin: () => {
      open.push(new Set());
      return repeated === undefined;
    },
    onObjectEnd: () => {
      open.pop();
    },
    onObjectProperty: (name) => {
      const keys = open.at(-1);
      if (!keys || repeated !== undefined) return;
      if (keys.has(name)) repeated = name;
      keys.add(name);
    },
  });
  return repeated;
}

function invalid(message: string): RoachbankError {
  return new RoachbankError('INVALID_ARGUMENT', message);
}
