// JSON schemas of the API: they validate requests and are the OpenAPI document.

const uuid = { type: 'string', pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' } as const;
const money = {
  type: 'string',
  pattern: '^[0-9]{1,19}$',
  description: 'a whole amount as a decimal string, 1 to 9223372036854775807',
} as const;
const time = { type: 'string', format: 'date-time' } as const;

export const account = {
  type: 'object',
  properties: { id: uuid, balance: money, createdAt: time, closedAt: { type: ['string', 'null'], format: 'date-time' } },
  required: ['id', 'balance', 'createdAt', 'closedAt'],
} as const;

export const transfer = {
  type: 'object',
  description: 'a journal row: fromId null is money entering (deposit), toId null is money leaving (withdrawal)',
  properties: {
    id: uuid,
    fromId: { ...uuid, type: ['string', 'null'] },
    toId: { ...uuid, type: ['string', 'null'] },
    amount: money,
    createdAt: time,
  },
  required: ['id', 'fromId', 'toId', 'amount', 'createdAt'],
} as const;

export const page = (item: object) =>
  ({
    type: 'object',
    properties: { items: { type: 'array', items: item }, next: { type: ['string', 'null'], description: 'cursor of the next page' } },
    required: ['items', 'next'],
  }) as const;

export const problem = {
  type: 'object',
  description: 'RFC 9457 problem details, with the roachbank error code',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string' },
    instance: { type: 'string' },
  },
  required: ['type', 'title', 'status', 'detail', 'code'],
} as const;

export const idParams = { type: 'object', properties: { id: uuid }, required: ['id'], additionalProperties: false } as const;

export const pageQuery = {
  type: 'object',
  properties: {
    limit: { type: 'string', pattern: '^[0-9]{1,4}$', description: '1 to 1000, default 50' },
    cursor: { type: 'string', maxLength: 200 },
  },
  additionalProperties: false,
} as const;

export const idempotencyHeaders = {
  type: 'object',
  properties: {
    'idempotency-key': {
      type: 'string',
      minLength: 1,
      maxLength: 255,
      pattern: '^[\\x21-\\x7e]+$',
      description: 'retry safely: the same key and body answer the same again and move money once',
    },
  },
} as const;

export const createAccountBody = {
  type: 'object',
  properties: { balance: { ...money, pattern: '^[0-9]{1,19}$', description: 'opening balance, journaled as a deposit; default 0' } },
  additionalProperties: false,
} as const;

export const amountBody = { type: 'object', properties: { amount: money }, required: ['amount'], additionalProperties: false } as const;

export const transferBody = {
  type: 'object',
  properties: { fromId: uuid, toId: uuid, amount: money },
  required: ['fromId', 'toId', 'amount'],
  additionalProperties: false,
} as const;

/** Error responses every route may give, for the OpenAPI document. */
export const errors = { '4xx': problem, '5xx': problem } as const;
