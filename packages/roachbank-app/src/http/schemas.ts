// JSON schemas of the API: they validate requests and are the OpenAPI document.
// A `title` is the phrase a validation error names ("… must be <title>").
import { maxHoldMs, maxMetadataBytes, maxMoney, maxReferenceLength, momentPattern } from 'roachbank';
import { decimalPattern } from './decimal-pattern.js';

const uuid = {
  type: 'string',
  title: 'a UUID',
  pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
} as const;
const money = {
  type: 'string',
  title: `a whole amount from 1 to ${maxMoney}, as a decimal string`,
  pattern: decimalPattern(1n, maxMoney),
} as const;
const balance = {
  type: 'string',
  title: `a whole amount from 0 to ${maxMoney}, as a decimal string`,
  pattern: decimalPattern(0n, maxMoney),
} as const;
/** A balance that a credit limit may take below 0, down to −(2^63 − 1). */
const signedBalance = {
  type: 'string',
  title: `a whole amount from -${maxMoney} to ${maxMoney}, as a decimal string`,
  pattern: `^(?:-${decimalPattern(1n, maxMoney).slice(1, -1)}|${decimalPattern(0n, maxMoney).slice(1, -1)})$`,
} as const;
/** A sum over the whole bank: not bounded by one INT8, and below 0 when credit lines are drawn. */
const total = { type: 'string', pattern: '^-?(?:0|[1-9][0-9]*)$', description: 'a whole amount as a decimal string' } as const;
const currency = {
  type: 'string',
  title: 'a currency code of 3 to 16 upper-case letters, digits or _, starting with a letter',
  pattern: '^[A-Z][A-Z0-9_]{2,15}$',
} as const;
const time = { type: 'string', format: 'date-time' } as const;
const reference = {
  type: 'string',
  // 1 to 128 characters as the database's CHECK counts them (code points: a `u` pattern
  // counts those), none of them a control character. The length is in the pattern rather
  // than in minLength and maxLength: beside a pattern, Schemathesis drew strings that kept
  // the pattern and broke the lengths. An unpaired surrogate is refused by the bank, not
  // here: with a range of surrogates in the pattern, Schemathesis drew strings outside it.
  pattern: `^[^\\u0000-\\u001f\\u007f-\\u009f]{1,${maxReferenceLength}}$`,
  title: `1 to ${maxReferenceLength} characters, none of them a control character`,
} as const;
/** Metadata in an answer: the object as it was sent, or null. */
const metadata = {
  type: ['object', 'null'],
  additionalProperties: true,
  description: 'the JSON object it was written with, keys in the order sent; null: none',
} as const;
/**
 * What the body parser lets through anywhere in a body (strict-json-body.ts): a key named
 * `__proto__`, or a `constructor` whose value has a `prototype`, refuses the whole
 * request (prototype poisoning). The same rule for an object at any depth.
 */
const noPrototypeKeys = {
  propertyNames: { not: { const: '__proto__' } },
  properties: { constructor: { allOf: [{ $ref: 'JsonValue#' }, { not: { type: 'object', required: ['prototype'] } }] } },
} as const;

/** Any JSON value the body parser takes, at any depth; registered once (`addSchema`), named JsonValue in the document. */
export const jsonValue = {
  $id: 'JsonValue',
  type: ['string', 'number', 'boolean', 'null', 'array', 'object'],
  items: { $ref: 'JsonValue#' },
  additionalProperties: { $ref: 'JsonValue#' },
  ...noPrototypeKeys,
} as const;

/** Metadata in a request: any JSON object whose JSON text is at most 4 KiB (a larger one is 400). */
const metadataInput = {
  type: 'object',
  additionalProperties: { $ref: 'JsonValue#' },
  ...noPrototypeKeys,
  description: `a JSON object of at most ${maxMetadataBytes} bytes as JSON text, stored as sent; part of the body an Idempotency-Key compares (by value: the order of keys does not count)`,
} as const;
/** What a request may attach: a reference (indexed, not unique) and metadata, both optional. */
const annotationInput = {
  reference: {
    ...reference,
    description: 'what it belongs to outside the bank (an order, an invoice, a payout batch): indexed, not unique',
  },
  metadata: metadataInput,
} as const;
/** The same in an answer: both always present, null when none. */
const annotationOutput = { reference: { ...reference, type: ['string', 'null'] }, metadata } as const;

const nullableUuid = { ...uuid, type: ['string', 'null'] } as const;
const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;

export const account = {
  type: 'object',
  properties: {
    id: uuid,
    balance: { ...signedBalance, description: 'in minor units of its currency; below 0 only on a credit line' },
    held: { ...balance, description: 'what its pending, unexpired holds reserve' },
    available: {
      ...signedBalance,
      description: 'balance − held: what a transfer, withdrawal or hold may take now, with creditLimit more below 0',
    },
    currency: { ...currency, description: 'fixed when it was opened; XXX: none' },
    decimals: {
      type: 'integer',
      minimum: 0,
      description: "how many of the amounts' digits are decimals, for display (USD 2, JPY 0)",
    },
    creditLimit: { ...balance, description: 'how far below 0 its available balance may go' },
    ...annotationOutput,
    createdAt: time,
    closedAt: nullableTime,
  },
  required: [
    'id',
    'balance',
    'held',
    'available',
    'currency',
    'decimals',
    'creditLimit',
    'reference',
    'metadata',
    'createdAt',
    'closedAt',
  ],
} as const;

export const transfer = {
  type: 'object',
  description: 'a journal row: fromId null is money entering (deposit), toId null is money leaving (withdrawal)',
  properties: {
    id: uuid,
    fromId: nullableUuid,
    toId: nullableUuid,
    amount: money,
    currency: { ...currency, description: 'the currency of its accounts' },
    createdAt: time,
    holdId: { ...nullableUuid, description: 'the hold this row posted' },
    reversalOf: { ...nullableUuid, description: 'the journal row this one reverses' },
    ...annotationOutput,
    fromSequence: {
      type: ['integer', 'null'],
      minimum: 1,
      description:
        "its number in its source's chain (1, 2, 3 … in the order the source's movements were applied); null: no source",
    },
    fromBalanceAfter: { ...signedBalance, type: ['string', 'null'], description: "the source's balance after it" },
    toSequence: {
      type: ['integer', 'null'],
      minimum: 1,
      description: "its number in its destination's chain; null: no destination",
    },
    toBalanceAfter: { ...signedBalance, type: ['string', 'null'], description: "the destination's balance after it" },
  },
  required: [
    'id',
    'fromId',
    'toId',
    'amount',
    'currency',
    'createdAt',
    'holdId',
    'reversalOf',
    'reference',
    'metadata',
    'fromSequence',
    'fromBalanceAfter',
    'toSequence',
    'toBalanceAfter',
  ],
} as const;

export const transferDetail = {
  ...transfer,
  properties: { ...transfer.properties, reversed: { ...balance, description: 'how much of it has been reversed so far' } },
  required: [...transfer.required, 'reversed'],
} as const;

export const hold = {
  type: 'object',
  description:
    'money reserved on fromId for a later post to toId (a withdrawal when null); it counts against the account until posted, voided or expired',
  properties: {
    id: uuid,
    fromId: uuid,
    toId: nullableUuid,
    amount: money,
    status: {
      type: 'string',
      enum: ['pending', 'posted', 'voided', 'expired'],
      description: 'expired from the moment expiresAt passes',
    },
    createdAt: time,
    expiresAt: { ...nullableTime, description: 'when it stops counting; null: never' },
    postedAmount: { ...money, type: ['string', 'null'], description: 'what its post moved (the rest was released)' },
    transferId: { ...nullableUuid, description: 'the journal row its post wrote' },
    ...annotationOutput,
  },
  required: [
    'id',
    'fromId',
    'toId',
    'amount',
    'status',
    'createdAt',
    'expiresAt',
    'postedAmount',
    'transferId',
    'reference',
    'metadata',
  ],
} as const;

const expiresInMs = {
  type: 'integer',
  minimum: 1,
  maximum: maxHoldMs,
  title: `a whole number of milliseconds from 1 to ${maxHoldMs}`,
} as const;

export const holdBody = {
  type: 'object',
  properties: {
    fromId: uuid,
    toId: { ...uuid, description: 'where its post sends the money; absent: the post is a withdrawal' },
    amount: money,
    expiresInMs: { ...expiresInMs, description: 'from now; absent: it never expires' },
    ...annotationInput,
  },
  required: ['fromId', 'amount'],
  additionalProperties: false,
} as const;

/** A post or a reversal: its amount (default all that is left), and a reference (default the hold's or the reversed row's) and metadata. */
export const optionalAmountBody = {
  type: 'object',
  properties: { amount: money, ...annotationInput },
  additionalProperties: false,
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
    limit: {
      type: 'string',
      title: 'a whole number from 1 to 1000',
      pattern: decimalPattern(1n, 1000n),
      description: 'default 50',
    },
    cursor: {
      type: 'string',
      maxLength: 200,
      description: 'opaque: the `next` of the page before; a cursor this bank did not hand out is 400',
    },
  },
  additionalProperties: false,
} as const;

/**
 * The list of accounts: a page oldest or newest first, or only those opened with a
 * reference (oldest first), or only those whose id starts with a prefix (by id).
 */
export const accountListQuery = {
  ...pageQuery,
  properties: {
    order: { type: 'string', enum: ['oldest', 'newest'], description: 'by when they were opened; default oldest' },
    idPrefix: {
      type: 'string',
      // The start of a canonical UUID: 8 hex digits at least, the dashes where a UUID has them.
      pattern:
        '^[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{0,4}|-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{0,4}|-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{0,4}|-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{0,12})?$',
      title: 'the start of an account id, at least its first 8 hex digits',
      description: 'only the accounts whose id starts with this, by id (one range of the primary key)',
    },
    reference: { ...reference, description: 'only the accounts opened with this reference, oldest first (an index range)' },
    ...pageQuery.properties,
  },
} as const;

/** `pageQuery` with an optional reference: only what was written with it, oldest first. */
export const referencePageQuery = {
  ...pageQuery,
  properties: {
    reference: { ...reference, description: 'only what was written with this reference, oldest first (an index range)' },
    ...pageQuery.properties,
  },
} as const;

// A moment as the bank reads it (moments.ts): RFC 3339 with its offset, to the microsecond.
// A time that keeps the pattern but names no day (month 13) is 400 from the bank.
const moment = {
  type: 'string',
  title: 'an RFC 3339 time with its offset, such as 2026-12-04T09:30:00Z',
  pattern: momentPattern,
} as const;

export const balanceAtQuery = {
  type: 'object',
  properties: { at: { ...moment, description: 'every journal row up to and including this moment counts' } },
  required: ['at'],
  additionalProperties: false,
} as const;

export const statementQuery = {
  type: 'object',
  properties: {
    from: { ...moment, description: 'the period starts here (rows at this moment are in it)' },
    to: { ...moment, description: 'and ends here (rows at this moment are in the next period); from after to is 400' },
    ...pageQuery.properties,
  },
  required: ['from', 'to'],
  additionalProperties: false,
} as const;

const sequence = {
  type: 'integer',
  minimum: 0,
  description: "a number in the account's chain (0: before its first row)",
} as const;
const chainBalance = {
  type: 'object',
  properties: { sequence, balance: { ...signedBalance, description: 'the balance after that row' } },
  required: ['sequence', 'balance'],
} as const;

export const balanceAt = {
  type: 'object',
  description: "an account's balance at a moment, from its journal's running balances",
  properties: {
    accountId: uuid,
    currency,
    decimals: { type: 'integer', minimum: 0, description: 'for display only: amounts are whole minor units' },
    at: { ...moment, description: 'the moment, as asked' },
    ...chainBalance.properties,
  },
  required: ['accountId', 'currency', 'decimals', 'at', 'sequence', 'balance'],
} as const;

const statementLine = {
  type: 'object',
  properties: {
    sequence: { ...sequence, minimum: 1 },
    transferId: uuid,
    kind: { type: 'string', enum: ['deposit', 'withdrawal', 'transfer'] },
    createdAt: time,
    change: { ...signedBalance, description: 'what it did to the account: money in positive, money out negative' },
    balanceAfter: signedBalance,
    counterpartyId: { ...nullableUuid, description: 'the account on the other side; null for a deposit or a withdrawal' },
    reference: { ...reference, type: ['string', 'null'] },
  },
  required: ['sequence', 'transferId', 'kind', 'createdAt', 'change', 'balanceAfter', 'counterpartyId', 'reference'],
} as const;

export const statement = {
  type: 'object',
  description: "an account's statement for [from, to): opening balance, lines oldest first (a page), closing balance",
  properties: {
    accountId: uuid,
    currency,
    decimals: { type: 'integer', minimum: 0 },
    from: moment,
    to: moment,
    opening: { ...chainBalance, description: 'the balance before the period' },
    closing: { ...chainBalance, description: 'the balance at its end: the next period opens with it' },
    movements: { type: 'integer', minimum: 0, description: 'journal rows in the period, whatever the page' },
    lines: page(statementLine),
  },
  required: ['accountId', 'currency', 'decimals', 'from', 'to', 'opening', 'closing', 'movements', 'lines'],
} as const;

/** The journal rows of one reference (required), a page at a time. */
export const requiredReferencePageQuery = { ...referencePageQuery, required: ['reference'] } as const;

export const idempotencyHeaders = {
  type: 'object',
  properties: {
    'idempotency-key': {
      type: 'string',
      minLength: 1,
      maxLength: 255,
      title: '1 to 255 printable ASCII characters, no spaces',
      pattern: '^[\\x21-\\x7e]+$',
      description: 'retry safely: the same key and body answer the same again and move money once',
    },
  },
} as const;

export const createAccountBody = {
  type: 'object',
  properties: {
    balance: { ...balance, description: 'opening balance, journaled as a deposit; default 0' },
    currency: { ...currency, description: 'its currency, for good; default XXX (none)' },
    creditLimit: { ...balance, description: 'how far below 0 its available balance may go; default 0' },
    ...annotationInput,
  },
  additionalProperties: false,
} as const;

export const creditLimitBody = {
  type: 'object',
  properties: { creditLimit: balance },
  required: ['creditLimit'],
  additionalProperties: false,
} as const;

export const amountBody = {
  type: 'object',
  properties: { amount: money, ...annotationInput },
  required: ['amount'],
  additionalProperties: false,
} as const;

export const transferBody = {
  type: 'object',
  properties: { fromId: uuid, toId: uuid, amount: money, ...annotationInput },
  required: ['fromId', 'toId', 'amount'],
  additionalProperties: false,
} as const;

// An item is checked by the bank, one by one, so that a malformed item fails alone (its own
// 400 problem) instead of the whole request: the schema documents the fields and enforces only
// their shape. A field is one JSON scalar (but metadata, an object), and no key is `__proto__`:
// the body parser refuses prototype keys anywhere, for the whole request (strict-json-body.ts),
// and the document says so.
const scalar = { type: ['string', 'number', 'boolean', 'null'] } as const;
const batchItem = {
  description:
    'a movement: a transfer (fromId and toId), a deposit (no fromId), a withdrawal (no toId) or, with kind "hold", a hold; checked one by one, so a malformed item gets its own 400 problem and the others still move. Its fields are JSON scalars but metadata (an object); any other object or array inside an item, or a `__proto__` key, fails the whole request',
  properties: {
    id: { ...scalar, description: 'a UUID: the idempotency key of this movement (required)' },
    fromId: { ...scalar, description: 'the source account (UUID); absent or null for a deposit' },
    toId: { ...scalar, description: 'the destination account (UUID); absent or null for a withdrawal' },
    amount: { ...scalar, description: `a whole amount as a decimal string, 1 to ${maxMoney}` },
    kind: { ...scalar, description: '"hold" for a hold (its id is the hold id); absent for a movement' },
    expiresInMs: { ...scalar, description: `a hold's expiry in milliseconds, 1 to ${maxHoldMs}; absent: never` },
    reference: { ...scalar, description: `what it belongs to outside the bank: 1 to ${maxReferenceLength} characters` },
    metadata: { ...metadataInput, type: ['object', 'null'] },
  },
  additionalProperties: scalar,
  propertyNames: { not: { const: '__proto__' } },
  items: scalar,
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
    atomic: {
      type: 'boolean',
      description:
        'every item or none, in one commit: when one item fails it carries its problem and every other item fails with GROUP_FAILED (409), and nothing moved',
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
          hold,
          problem,
        },
        required: ['status'],
      },
    },
  },
  required: ['items'],
} as const;

export const verifyReport = {
  type: 'object',
  description:
    "the bank's invariants: ok when every balance matches its journal, none is negative, held is the sum of pending holds, none is overheld and no journal row, hold or reversal is malformed",
  properties: {
    ok: { type: 'boolean' },
    accounts: { type: 'integer' },
    transfers: { type: 'integer' },
    totalBalance: total,
    moneyIn: total,
    moneyOut: total,
    mismatched: {
      type: 'array',
      description: 'accounts whose balance is not the sum of their journal (at most 10 listed)',
      items: {
        type: 'object',
        properties: {
          id: uuid,
          balance: { type: 'string', pattern: '^-?(?:0|[1-9][0-9]*)$' },
          journal: { type: 'string', pattern: '^-?(?:0|[1-9][0-9]*)$' },
        },
        required: ['id', 'balance', 'journal'],
      },
    },
    mismatchedCount: { type: 'integer' },
    negativeCount: {
      type: 'integer',
      description: 'accounts whose balance is below −creditLimit (below 0 without a credit line)',
    },
    malformedTransfers: { type: 'integer', description: 'journal rows with neither side, or one account on both sides' },
    heldTotal: total,
    heldMismatchedCount: { type: 'integer', description: 'accounts whose held is not the sum of their pending holds' },
    overheldCount: { type: 'integer', description: 'accounts whose available balance is below −creditLimit' },
    malformedHolds: { type: 'integer', description: 'holds whose fields contradict their status, and posts that match no hold' },
    badReversals: {
      type: 'integer',
      description: 'reversals that go the wrong way or add up to more than what they reverse',
    },
    currencyMismatchedLegs: { type: 'integer', description: "journal legs in a currency other than their account's" },
    brokenChainCount: {
      type: 'integer',
      description:
        'accounts whose running balances do not chain: a gap or repeat in their numbers, or a balance after that does not follow',
    },
    currencies: {
      type: 'array',
      description: 'conservation per currency: totalBalance must equal moneyIn − moneyOut in each',
      items: {
        type: 'object',
        properties: { currency, accounts: { type: 'integer' }, totalBalance: total, moneyIn: total, moneyOut: total },
        required: ['currency', 'accounts', 'totalBalance', 'moneyIn', 'moneyOut'],
      },
    },
    elapsedMs: { type: 'number' },
  },
  required: [
    'ok',
    'accounts',
    'transfers',
    'totalBalance',
    'moneyIn',
    'moneyOut',
    'mismatched',
    'mismatchedCount',
    'negativeCount',
    'malformedTransfers',
    'heldTotal',
    'heldMismatchedCount',
    'overheldCount',
    'malformedHolds',
    'badReversals',
    'currencyMismatchedLegs',
    'brokenChainCount',
    'currencies',
    'elapsedMs',
  ],
} as const;

// Errors are sent as application/problem+json (problem.ts), and documented so.
const problemResponse = {
  description: 'a problem: the roachbank error code and what went wrong',
  content: { 'application/problem+json': { schema: problem } },
} as const;

/** Error responses every route may give, for the OpenAPI document. */
export const errors = { '4xx': problemResponse, '5xx': problemResponse } as const;

const perInterval = (description: string, nullable = false) =>
  ({ type: nullable ? ['number', 'null'] : 'number', minimum: 0, description }) as const;

/** The server's activity over the last minutes, sampled in memory (GET /system/activity). */
export const systemActivity = {
  type: 'object',
  description:
    'what this server did in each of its last intervals (about 5 minutes), oldest first, and the last verify it ran; read from memory, so it answers while the database is down',
  properties: {
    intervalSeconds: { type: 'number', description: 'the length of one interval' },
    samples: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          at: { type: 'string', format: 'date-time', description: 'when the interval ended' },
          movementsPerSecond: perInterval('movements that moved money (not replays or refusals), per second'),
          p50Ms: perInterval('median latency of the requests that move money, in ms; null without any', true),
          p99Ms: perInterval('99th percentile of the same, in ms; null without any', true),
          retries: perInterval('transactions the retry core ran again'),
          ambiguousResolved: perInterval('commits of unknown outcome, each resolved from the journal'),
          meanBatchSize: perInterval('movements per batch statement; null when no batch ran', true),
          poolTotal: perInterval('database connections open at the end'),
          poolIdle: perInterval('of them idle'),
          poolWaiting: perInterval('requests waiting for a connection'),
        },
        required: [
          'at',
          'movementsPerSecond',
          'p50Ms',
          'p99Ms',
          'retries',
          'ambiguousResolved',
          'meanBatchSize',
          'poolTotal',
          'poolIdle',
          'poolWaiting',
        ],
        additionalProperties: false,
      },
    },
    lastVerify: {
      type: ['object', 'null'],
      description: 'the last GET /verify this server answered, and when; null before the first',
      properties: { at: { type: 'string', format: 'date-time' }, report: verifyReport },
      required: ['at', 'report'],
      additionalProperties: false,
    },
  },
  required: ['intervalSeconds', 'samples', 'lastVerify'],
  additionalProperties: false,
} as const;
