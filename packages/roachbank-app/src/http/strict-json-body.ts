import type { FastifyInstance } from 'fastify';
import { RoachbankError } from 'roachbank';
import { parseStrictJson } from '../input/strict-json.js';

/**
 * Parses JSON bodies with `parseStrictJson`, the rule `transfer --file` reads its
 * lines by too: a key named twice in one object, `__proto__` or
 * `constructor.prototype` keys are refused with a 400 INVALID_ARGUMENT saying why.
 *
 * @example
 * useStrictJsonBodies(app); // before the routes
 */
export function useStrictJsonBodies(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body.toString();
    if (text.trim() === '')
      return done(
        Object.assign(new RoachbankError('INVALID_ARGUMENT', 'the JSON body is empty'), { statusCode: 400 }),
        undefined,
      );
    let value: unknown;
    try {
      value = parseStrictJson(text, 'the body');
    } catch (error) {
      return done(error instanceof RoachbankError ? Object.assign(error, { statusCode: 400 }) : (error as Error), undefined);
    }
    // Outside the try: an error thrown further down Fastify's chain is not a parse error.
    done(null, value);
  });
}
