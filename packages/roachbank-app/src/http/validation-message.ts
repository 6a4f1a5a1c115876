import type { FastifySchemaValidationError } from 'fastify/types/schema.js';

/**
 * The message of a request that fails its JSON schema, as Fastify words it
 * (`body/amount must …`), except that a pattern is named by its schema's
 * `title`: "body/amount must be a whole amount from 1 to 9223372036854775807,
 * as a decimal string", not a 300-character regular expression. Needs Ajv's
 * `verbose` option, which puts the failing schema on each error.
 *
 * @example
 * Fastify({ schemaErrorFormatter: validationMessage, ajv: { customOptions: { verbose: true } } });
 */
export function validationMessage(errors: readonly FastifySchemaValidationError[], dataVar: string): Error {
  const parts = errors.map((error) => {
    const title = (error as { parentSchema?: { title?: unknown } }).parentSchema?.title;
    const message = error.keyword === 'pattern' && typeof title === 'string' ? `must be ${title}` : error.message;
    return `${dataVar}${error.instancePath} ${message}`;
  });
  return new Error(parts.join(', '));
}
