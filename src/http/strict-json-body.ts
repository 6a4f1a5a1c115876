import type { FastifyInstance } from 'fastify';
import { visit } from 'jsonc-parser';
import secureJson from 'secure-json-parse';
import { RoachbankError } from '../errors/roachbank-error.js';

/**
 * Parses JSON bodies strictly: a body that names a key twice in one object is
 * refused (`INVALID_ARGUMENT` naming the key), because a proxy, a log or an
 * audit that reads the first `amount` would disagree with what moved; a body
 * with `__proto__` or `constructor.prototype` keys is refused saying so. The
 * value comes from secure-json-parse (the parser Fastify itself uses, called
 * directly so its reason reaches the client); the duplicate scan is
 * jsonc-parser's visitor over the same text.
 *
 * @example
 * useStrictJsonBodies(app); // before the routes
 */
export function useStrictJsonBodies(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body.toString();
    if (text.trim() === '') return done(invalid('the JSON body is empty'), undefined);
    let value: unknown;
    try {
      value = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
    } catch (error) {
      if (/forbidden prototype property/.test((error as Error).message)) {
        return done(
          invalid('the JSON body has a "__proto__" or "constructor.prototype" key, which is refused (prototype poisoning)'),
          undefined,
        );
      }
      return done(invalid(`the body is not valid JSON (${(error as Error).message})`), undefined);
    }
    const repeated = firstRepeatedKey(text);
    if (repeated !== undefined) {
      return done(invalid(`the JSON body names the key "${repeated}" more than once in one object`), undefined);
    }
    done(null, value);
  });
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
  return Object.assign(new RoachbankError('INVALID_ARGUMENT', message), { statusCode: 400 });
}
