// JSON schemas of the API: they validate requests and are the OpenAPI document.

const uuid = {
  type: 'string',
  pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
} as const;
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
    properties: {
      items: { type: 'array', items: item },
      next: { type: ['string', 'null'], description: 'cursor of the next page' },
    },
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
  properties: {
    balance: { ...money, pattern: '^[0-9]{1,19}$', description: 'opening balance, journaled as a deposit; default 0' },
  },
  additionalProperties: false,
} as const;

export const amountBody = {
  type: 'object',
  properties: { amount: money },
  required: ['amount'],
  additionalProperties: false,
} as const;

export const transferBody = {
  type: 'object',
  properties: { fromId: uuid, toId: uuid, amount: money },
  required: ['fromId', 'toId', 'amount'],
  additionalProperties: false,
} as const;

// An item is checked by the bank, one by one, so that a malformed item fails alone (its own
// 400 problem) instead of the whole request: the schema documents the fields, enforces none.
const batchItem = {
  description:
    'a movement: a transfer (fromId and toId), a deposit (no fromId) or a withdrawal (no toId); checked one by one, so a malformed item gets its own 400 problem and the others still move',
  properties: {
    id: { description: 'a UUID: the idempotency key of this movement (required)' },
    fromId: { description: 'the source account (UUID); absent or null for a deposit' },
    toId: { description: 'the destination account (UUID); absent or null for a withdrawal' },
    amount: { description: 'a whole amount as a decimal string, 1 to 9223372036854775807' },
  },
  examples: [
    {
      id: '6f9619ff-8b86-4011-b42d-00cf4fc964ff',
      fromId: '729ec053-0d3f-4a4b-9d4e-7e0c8f3d1a21',
      toId: 'a99efcbe-5b9a-4f0e-8f3c-2b6d1e4c7a10',
      amount: '100',
    },
  ],
} as const;

export const batchBody = {
  type: 'object',
  properties: {
    items: {
      type: 'array',
      minItems: 1,
      maxItems: 1000,
      description: 'moved as if one after another, in this order: each item sees the effect of every item before it',
      items: batchItem,
    },
  },
  required: ['items'],
  additionalProperties: false,
} as const;

export const batchResult = {
  type: 'object',
  properties: {
    items: {
      type: 'array',
      description: 'one result per item, in the order of the request',
      items: {
        type: 'object',
        properties: {
          status: {
            type: 'integer',
            description: 'the status the item would get alone: 201 moved (or replayed), else the problem status',
          },
          replayed: {
            type: 'boolean',
            description: 'true when the id was already in the journal with the same body: nothing moved again',
          },
          transfer,
          problem,
        },
        required: ['status'],
      },
    },
  },
  required: ['items'],
} as const;

/** Error responses every route may give, for the OpenAPI document. */
export const errors = { '4xx': problem, '5xx': problem } as const;
